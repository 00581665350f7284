"""The dropbox agent's exceptions.

DropboxError                       root of everything the agent raises
├── HardwareUnavailable (OSError)  a real device cannot be used here (not a Pi, no printer)
├── SetupError (OSError)           the uplink or the box store cannot be opened
├── ScenarioError (ValueError)     a simulation scenario file is not valid
└── adapters.held_journal.HeldJournalError (OSError)
                                   the journal of events held while the disk is full cannot
                                   be allocated, or has no free slot

Each keeps its builtin base, so code that catches `OSError` or `ValueError` still catches it.

Printing raises `receipts.PrinterError` (re-exported here; `code` names the fault): one class
for the kiosk's tickets and the dropbox's slips.
"""

from receipts import PrinterError as PrinterError


class DropboxError(Exception):
    """Root of the dropbox agent's exceptions."""


class HardwareUnavailable(DropboxError, OSError):
    """A real device cannot be used here; the message says what to install or plug in."""


class SetupError(DropboxError, OSError):
    """The agent cannot start: its certificates, outbox or box store cannot be opened."""


class ScenarioError(DropboxError, ValueError):
    """A scenario file is not valid; the message names the step and the fix."""
