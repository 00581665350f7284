"""The dropbox agent's exceptions.

DropboxError                       root of everything the agent raises
├── HardwareUnavailable (OSError)  a real device cannot be used here (not a Pi, no printer)
├── PrinterError (OSError)         a slip could not be printed; `code` names the fault
├── SetupError (OSError)           the uplink or the local store cannot be opened
└── ScenarioError (ValueError)     a simulation scenario file is not valid
"""


class DropboxError(Exception):
    """Root of the dropbox agent's exceptions."""


class HardwareUnavailable(DropboxError, OSError):
    """A real device cannot be used here; the message says what to install or plug in."""


class PrinterError(DropboxError, OSError):
    """A slip could not be printed."""

    def __init__(self, message: str, code: str = "offline") -> None:
        super().__init__(message)
        self.code = code


class SetupError(DropboxError, OSError):
    """The agent cannot start: its certificates, outbox or local database cannot be opened."""


class ScenarioError(DropboxError, ValueError):
    """A scenario file is not valid; the message names the step and the fix."""
