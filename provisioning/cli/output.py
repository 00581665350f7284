"""What every `provision` command group shares: its consoles and the tool's exit codes."""

from __future__ import annotations

from rich.console import Console

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3

console = Console()
# Messages are not wrapped: a technician may copy a path or a command out of them.
errors = Console(stderr=True, soft_wrap=True)
