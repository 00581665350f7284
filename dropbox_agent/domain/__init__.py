"""The dropbox's pure core: debounced inputs, deposits, collections, alarms, fill, UV-C."""

from dropbox_agent.domain.debounce import Debouncer, Settled
from dropbox_agent.domain.ledger import reconcile_ledger
from dropbox_agent.domain.machine import BoxMachine
from dropbox_agent.domain.model import (
    Authorization,
    BookingScanned,
    CountEntered,
    Edge,
    Effect,
    FaultReport,
    FillReading,
    Input,
    Ledger,
    MachineInput,
    MachineSettings,
    Notice,
    OpenCollection,
    Output,
    OutputMode,
    PrintReceipt,
    Pulse,
    Record,
    SaveLedger,
    SetOutput,
)

__all__ = [
    "Authorization",
    "BookingScanned",
    "BoxMachine",
    "CountEntered",
    "Debouncer",
    "Edge",
    "Effect",
    "FaultReport",
    "FillReading",
    "Input",
    "Ledger",
    "MachineInput",
    "MachineSettings",
    "Notice",
    "OpenCollection",
    "Output",
    "OutputMode",
    "PrintReceipt",
    "Pulse",
    "Record",
    "SaveLedger",
    "SetOutput",
    "Settled",
    "reconcile_ledger",
]
