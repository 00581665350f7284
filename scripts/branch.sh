#!/usr/bin/env bash
# Run a whole branch office in simulation on this machine: set-up, then a real broker (TLS and
# ACL), the back-office receiver and booking API, a kiosk checking in sample bookings and a
# dropbox taking deposits, with the back office's live view. Options: `--help`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m branchsim "$@"
