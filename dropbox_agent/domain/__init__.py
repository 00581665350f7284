"""The dropbox's pure core: debounced inputs, deposits, collections, alarms, fill, UV-C."""

from dropbox_agent.domain.counters import reconcile_counters
from dropbox_agent.domain.debounce import Debouncer, Settled
from dropbox_agent.domain.machine import BoxMachine
from dropbox_agent.domain.model import (
    Authorization,
    BookingScanned,
    BoxCounters,
    CountEntered,
    Edge,
    Effect,
    FaultReport,
    FillReading,
    Input,
    MachineInput,
    MachineSettings,
    Notice,
    OpenCollection,
    Output,
    OutputMode,
    PrintReceipt,
    Pulse,
    Record,
    SaveCounters,
    SetOutput,
)

__all__ = [
    "Authorization",
    "BookingScanned",
    "BoxCounters",
    "BoxMachine",
    "CountEntered",
    "Debouncer",
    "Edge",
    "Effect",
    "FaultReport",
    "FillReading",
    "Input",
    "MachineInput",
    "MachineSettings",
    "Notice",
    "OpenCollection",
    "Output",
    "OutputMode",
    "PrintReceipt",
    "Pulse",
    "Record",
    "SaveCounters",
    "SetOutput",
    "Settled",
    "reconcile_counters",
]
