"""`provision check`'s hardware probes off a Pi: the QR test card it prints is what the camera
check reads, and the real check reports missing hardware without crashing or writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.provisioning.helpers import failed_titles, init_args, provision

EXIT_OK, EXIT_FAILED = 0, 1


def test_the_printed_test_card_is_what_the_camera_check_looks_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    from PIL import Image

    from kiosk.adapters.qr import QrDecoder
    from provisioning.hardware import TEST_CARD_TEXT

    run = provision(capsys, "test-card", "--out", tmp_path / "card.png")

    assert run.code == EXIT_OK
    image = np.asarray(Image.open(tmp_path / "card.png").convert("L"))
    assert TEST_CARD_TEXT in QrDecoder().decode(image, exhaustive=True).texts


@pytest.mark.parametrize("role", ["kiosk", "dropbox"])
def test_off_a_pi_the_real_check_reports_missing_hardware_without_crashing_or_writing(
    role: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from provisioning.broker import free_port

    ca, root, lp = tmp_path / "ca", tmp_path / "dev", tmp_path / "lp0"
    assert provision(capsys, "ca", "init", "--dir", ca).code == 0
    extra = ["--broker-host", "127.0.0.1", "--broker-port", str(free_port())]
    if role == "kiosk":
        extra += ["--printer", f"file:{lp}"]
    assert provision(capsys, *init_args(role, f"{role}-1", root, ca, *extra)).code == 0

    run = provision(capsys, "check", "--root", root, "--timeout", "2")

    assert run.code == EXIT_FAILED
    failed = failed_titles(run.out)
    assert "broker reachable over TLS with this certificate" in failed
    assert "unexpected error" not in run.out
    if role == "kiosk":
        assert {"printer: adapter usable", "printer test ticket"} <= failed
        assert not lp.exists(), "the check printed into a file where a printer should be"
    else:
        from dropbox_agent.adapters.gpio import is_usable

        if not is_usable()[0]:  # not a Pi: both the adapter and the input probe say so
            assert {"gpio: adapter usable", "GPIO inputs read at rest"} <= failed
