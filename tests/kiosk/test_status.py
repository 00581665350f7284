"""The kiosk's retained state in words: the summary line and the alerts `backoffice watch` shows."""

from __future__ import annotations

import pytest

from kiosk.domain import status
from kiosk.domain.screens import Phase


@pytest.mark.parametrize("phase", list(Phase), ids=str)
def test_every_phase_has_its_summary_words(phase: Phase) -> None:
    line = status.summary(7, phase)

    assert line == f"7 tiket hari ini · {status.PHASE_SUMMARY_ID[phase]} / 7 tickets today"


def test_the_summary_says_when_the_kiosk_is_out_of_service() -> None:
    assert "TIDAK BEROPERASI" in status.summary(0, Phase.OUT_OF_SERVICE)


def test_alerts_list_each_fault_by_component_then_why_the_kiosk_is_out_of_service() -> None:
    faults = {"printer": "paper_out", "camera": "no_frames"}

    assert status.alerts(faults, "storage: disk full") == [
        "camera: no_frames",
        "printer: paper_out",
        "out of service: storage: disk full",
    ]
    assert status.alerts({}) == []
