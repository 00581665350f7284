"""What the kiosk's retained state says to the back office: its summary line and its alerts."""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.domain.screens import Phase

__all__ = ["PHASE_SUMMARY_ID", "alerts", "summary"]

PHASE_SUMMARY_ID: dict[Phase, str] = {
    Phase.IDLE: "siaga",
    Phase.CHOOSE_SERVICE: "memilih layanan",
    Phase.MEASURING: "mengukur suhu",
    Phase.RESTING: "istirahat sebelum ukur ulang",
    Phase.PRINTING: "mencetak tiket",
    Phase.REFUSED: "booking ditolak",
    Phase.REFERRED: "dirujuk",
    Phase.TICKET: "tiket diberikan",
    Phase.CHECKING: "memeriksa kode",
    Phase.OUT_OF_SERVICE: "TIDAK BEROPERASI",
}
"""What an operator reads in `backoffice watch` for each phase (Bahasa Indonesia)."""


def summary(tickets_today: int, phase: Phase) -> str:
    """The one line `backoffice watch` shows for a kiosk: today's tickets and what it is doing,
    in Bahasa Indonesia (the operators' language), then the count in English."""
    doing = PHASE_SUMMARY_ID[phase]
    return f"{tickets_today} tiket hari ini · {doing} / {tickets_today} tickets today"


def alerts(faults: Mapping[str, str], out_of_service_reason: str = "") -> list[str]:
    """The state's alerts: each active fault as "component: code" (sorted by component), then
    why the kiosk is out of service, if it is."""
    said = [f"{component}: {code}" for component, code in sorted(faults.items())]
    if out_of_service_reason:
        said.append(f"out of service: {out_of_service_reason}")
    return said
