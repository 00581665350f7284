#!/usr/bin/env bash
# The whole test suite, set-up included: lint, format, types, then pytest (real mosquitto,
# real SQLite, Kivy offscreen). Extra arguments go to pytest, e.g. `scripts/test.sh -k uplink`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (strict)"
.venv/bin/mypy
echo "== pytest"
export SDL_VIDEODRIVER=offscreen KIVY_NO_ARGS=1 KIVY_NO_CONSOLELOG=1
.venv/bin/python -m pytest "$@"
if [[ $# -eq 0 ]]; then
    # No test may depend on the hour: the slow end-to-end tests again, the wall clock at 23:50 WIB.
    echo "== pytest -m slow, wall clock near WIB midnight"
    .venv/bin/python -m pytest -m slow --clock-at near-wib-midnight -q
fi
