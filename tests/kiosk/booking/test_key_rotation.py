"""Kiosks through a key rotation and an emergency withdrawal, against the real booking API.

The kiosk's view of the keys is only as fresh as its last sync. These tests put a kiosk at each
point of the procedures in docs/booking-tokens.md: synced before the next key was published,
synced after, offline, and meeting the participant's re-issued QR before it synced.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from backoffice.bookings import BookingApi
from kiosk.booking import build_verifier, open_booking
from kiosk.booking.factory import BookingServices
from kiosk.booking.model import Verdict
from kiosk.booking.reasons import verdict as reason_verdict
from kiosk.domain import events
from kiosk.domain.screens import Phase
from kiosk.sim.driver import drive
from tests.backoffice.bookings.helpers import BackOffice, kiosk_config
from tests.kiosk.booking.scripted import closed_port_url
from tests.kiosk.booking.testkeys import KEY_UNKNOWN, make_token
from tests.kiosk.rig import Rig
from uplink.booking import token
from uplink.clock import ManualClock

# 09:10 WIB on the day of the bookings (a 09:00-10:00 slot is open).
AT_DOOR = datetime(2020, 6, 15, 2, 10, tzinfo=UTC)


def _kiosk(tmp_path: Path, office: BackOffice, url: str, name: str = "kiosk-1") -> BookingServices:
    """A kiosk holding the office's current trust list, synced once if it can reach `url`."""
    config = kiosk_config(tmp_path, office, kiosk_id=name, api_base_url=url)
    kiosk = open_booking(config, clock=ManualClock(AT_DOOR))
    kiosk.sync.sync_once()
    return kiosk


def test_an_unsynced_kiosk_fetches_the_trust_list_once_for_a_new_key(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    """GIVEN a kiosk that synced before an immediate rotation (no next key published)
    WHEN the first booking signed by the new key is shown
    THEN it fetches the trust list once and accepts it: no "not genuine" during the switch."""
    kiosk = _kiosk(tmp_path, office, api.url)
    old = office.issue(9, name="Budi Santoso")
    office.clock.advance(60)
    office.issuer.keygen()  # immediate: the kiosk has never seen this key
    new = office.issue(9, name="Dewi Kusuma")
    assert kiosk.verifier.verify(new, AT_DOOR).reason == "unknown_key"  # without the refresh

    assert kiosk.refresh.verify(new, AT_DOOR).reason == "ok"
    assert kiosk.refresh.fetches == 1
    assert kiosk.refresh.verify(old, AT_DOOR).reason == "ok"  # the old key's tokens still verify
    assert kiosk.refresh.fetches == 1  # a known key asks for nothing


def test_the_refresh_is_rate_limited(tmp_path: Path, office: BackOffice, api: BookingApi) -> None:
    """GIVEN tokens signed by keys nobody published (forgeries) WHEN shown one after another
    THEN the kiosk asks the back office at most once per `unknown_key_refresh_s`."""
    kiosk = _kiosk(tmp_path, office, api.url)
    clock = ManualClock(AT_DOOR)
    kiosk.refresh._clock = clock
    forged = make_token(key=KEY_UNKNOWN)
    assert kiosk.refresh.verify(forged, AT_DOOR).reason == "unknown_key"  # fetched: not genuine
    for _ in range(4):  # no fetch: the kiosk cannot say, and asks to try again in a moment
        retry = kiosk.refresh.verify(forged, AT_DOOR)
        assert retry.reason == "key_unknown_retry" and "30 seconds" in retry.next_step_en
    assert kiosk.refresh.fetches == 1
    clock.advance(kiosk.config.unknown_key_refresh_s)
    assert kiosk.refresh.verify(forged, AT_DOOR).reason == "unknown_key"
    assert kiosk.refresh.fetches == 2


def test_a_rotation_just_after_a_refresh_is_not_called_a_forgery(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    """GIVEN a refresh made a moment ago (for a forged token) WHEN the back office rotates and
    the first new token is shown within `unknown_key_refresh_s` THEN the participant is asked to
    show it again, not told it is not genuine; once the interval passed it is accepted."""
    kiosk = _kiosk(tmp_path, office, api.url)
    clock = ManualClock(AT_DOOR)
    kiosk.refresh._clock = clock
    assert kiosk.refresh.verify(make_token(key=KEY_UNKNOWN), AT_DOOR).reason == "unknown_key"
    office.clock.advance(60)
    office.issuer.keygen()
    new = office.issue(9)
    assert kiosk.refresh.verify(new, AT_DOOR).reason == "key_unknown_retry"
    clock.advance(kiosk.config.unknown_key_refresh_s)
    assert kiosk.refresh.verify(new, AT_DOOR).reason == "ok"


def test_an_offline_kiosk_says_it_cannot_check_a_new_key(
    tmp_path: Path, office: BackOffice
) -> None:
    """GIVEN a kiosk that cannot reach the back office WHEN a token of a key it does not hold is
    shown THEN it says it cannot check it now and sends the participant to the officer, instead of
    calling the QR not genuine."""
    kiosk = _kiosk(tmp_path, office, closed_port_url())
    office.clock.advance(60)
    office.issuer.keygen()
    refused = kiosk.refresh.verify(office.issue(9), AT_DOOR)
    assert refused.reason == "key_unknown_offline" and not refused.accepted
    assert "tidak terhubung ke kantor pusat" in refused.message_id
    assert "cannot reach head office" in refused.message_en
    assert "officer" in refused.next_step_en


def test_withdrawal_reaches_a_kiosk_at_its_next_trust_list_fetch(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    """GIVEN a next key published and synced, and a participant's QR signed by the signing key
    WHEN that key is withdrawn (leaked) THEN at the kiosk's next trust-list fetch (every
    `trust_list_interval_s`) the old screenshot is refused with the reason, and the re-issued QR
    from the app is accepted."""
    office.issuer.publish_next_key()
    kiosk = _kiosk(tmp_path, office, api.url)
    screenshot = office.issue(9)
    booking_id = token.parse_claims(token.split(screenshot).signed).booking.booking_id
    assert kiosk.verifier.verify(screenshot, AT_DOOR).reason == "ok"

    office.clock.advance(60)
    done = office.issuer.withdraw(token.split(screenshot).kid.hex())
    fresh = office.store.booking(booking_id).token  # type: ignore[union-attr]
    assert token.split(fresh).kid.hex() == done.signing_kid
    # Before the fetch: the fresh QR is already accepted (the next key was published ahead).
    assert kiosk.verifier.verify(fresh, AT_DOOR).reason == "ok"

    assert kiosk.sync.sync_trust_list() == "updated"
    refused = kiosk.verifier.verify(screenshot, AT_DOOR)
    assert refused.reason == "key_withdrawn"
    assert refused.message_en == "This booking QR code has been replaced by a new one."
    assert kiosk.verifier.verify(fresh, AT_DOOR).reason == "ok"
    assert kiosk.sync.sync_trust_list() == "not_modified"


def test_the_fresh_qr_teaches_an_unsynced_kiosk_the_withdrawal(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    """GIVEN no next key published, and a kiosk that has not synced since the withdrawal
    WHEN the participant shows the re-issued QR (signed by a key new to the kiosk)
    THEN the kiosk fetches the trust list, accepts the fresh QR, and from then on refuses the
    screenshot: the fresh QR is never refused while the screenshot is accepted."""
    kiosk = _kiosk(tmp_path, office, api.url)
    screenshot = office.issue(9)
    booking_id = token.parse_claims(token.split(screenshot).signed).booking.booking_id
    office.clock.advance(60)
    office.issuer.withdraw(token.split(screenshot).kid.hex())
    fresh = office.store.booking(booking_id).token  # type: ignore[union-attr]

    assert kiosk.refresh.verify(fresh, AT_DOOR).reason == "ok"
    assert kiosk.refresh.verify(screenshot, AT_DOOR).reason == "key_withdrawn"


def test_a_typed_code_for_a_re_signed_booking_fetches_the_new_key(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    """GIVEN a kiosk that has not synced since a withdrawal WHEN the participant types the code
    THEN the lookup's token (signed by the new key) is checked after one trust-list fetch."""
    kiosk = _kiosk(tmp_path, office, api.url)
    issued = office.issuer.issue(
        branch="jakarta-salemba", service="JHT", day=AT_DOOR.date(), start=time(9),
        end=time(10), name="Budi Santoso",
    )  # fmt: skip
    office.clock.advance(60)
    office.issuer.withdraw(token.split(issued.token).kid.hex())
    assert kiosk.lookup.lookup(issued.code, AT_DOOR).reason == "ok"
    assert kiosk.refresh.fetches == 1


# -- the engine: the refresh runs off its thread ------------------------------------------------


def _engine(
    rig: Rig, refresh: Callable[[str, datetime], Verdict], jobs: list[Callable[[], None]]
) -> None:
    class UnknownKey:
        def verify(self, text: str, now: datetime) -> Verdict:
            return reason_verdict("unknown_key")

    rig.engine_with(verifier=UnknownKey(), refresh=refresh, background=jobs.append)


def test_the_engine_checks_a_new_key_off_its_thread_then_checks_in(rig: Rig) -> None:
    """GIVEN a scanned QR whose key the kiosk does not hold WHEN scanned THEN the engine shows
    "checking" and the refresh runs as a background job; its verdict checks the participant in."""
    text = rig.token("B0000090")
    real = build_verifier(rig.config.booking, ledger=rig.ledger)
    jobs: list[Callable[[], None]] = []
    _engine(rig, real.verify, jobs)
    rig.engine.scan(text)
    rig.engine.settle()
    checking = rig.engine.screen
    assert checking.phase is Phase.CHECKING
    (job,) = jobs
    job()
    drive(rig.engine, rig.clock)
    done = rig.engine.screen
    assert done.phase is Phase.TICKET
    assert rig.events.of(events.ACCEPTED)[0]["booking_id"] == "B0000090"


def test_a_failing_refresh_still_answers_the_participant(rig: Rig) -> None:
    def broken(text: str, now: datetime) -> Verdict:
        raise ConnectionError("no route to host")

    jobs: list[Callable[[], None]] = []
    _engine(rig, broken, jobs)
    rig.engine.scan(rig.token("B0000091"))
    rig.engine.settle()
    jobs[0]()
    rig.engine.settle()
    assert rig.engine.screen.phase is Phase.REFUSED
    assert rig.events.of(events.REFUSED)[0]["reason"] == "key_unknown_offline"


def test_between_full_syncs_the_kiosk_fetches_the_trust_list_alone(
    tmp_path: Path, office: BackOffice, api: BookingApi
) -> None:
    """GIVEN sync every 60 s and the trust list every 15 s WHEN the sync loop runs 8 rounds
    THEN rounds 1 and 5 fetch all three documents and the others the trust list only."""
    config = kiosk_config(
        tmp_path, office, api_base_url=api.url, sync_interval_s=60, trust_list_interval_s=15
    )
    kiosk = open_booking(config, clock=ManualClock(AT_DOOR))
    paths: list[str] = []
    kiosk.sync._session.hooks["response"].append(
        lambda response, *args, **kwargs: paths.append(urlsplit(response.url).path)
    )

    waits: list[float] = []

    class EightRounds(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0)
            if len(waits) == 8:
                self.set()
            return self.is_set()

    kiosk.sync.run(EightRounds())
    assert waits == [15] * 8
    rounds = [p.rsplit("/", 1)[-1] for p in paths]
    full = ["trust-list", "cancellations", "bookings"]
    assert rounds == full + ["trust-list"] * 3 + full + ["trust-list"] * 3


def test_kiosk_trust_list_show_and_install(
    tmp_path: Path, office: BackOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk trust-list show` prints the keys held; `install` takes a newer list from a file and
    refuses an unreadable one, a forged one and an older one, changing nothing."""
    from kiosk.__main__ import main as kiosk_main

    config = kiosk_config(tmp_path, office)
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        "[booking]\n" + "".join(
            f"{key} = {json.dumps(str(value) if isinstance(value, Path) else value)}\n"
            for key, value in config.model_dump(exclude_none=True).items()
        ),
        encoding="utf-8",
    )  # fmt: skip

    def run(*argv: str) -> tuple[int, str, str]:
        code = kiosk_main(["trust-list", *argv, "--config", str(toml)])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("show")
    held = json.loads(out)
    assert code == 0 and held["sequence"] == 1 and len(held["keys"]) == 1

    first = tmp_path / "first.json"
    first.write_bytes(office.issuer.trust_list())
    office.clock.advance(60)
    office.issuer.publish_next_key()
    newer = tmp_path / "newer.json"
    newer.write_bytes(office.issuer.trust_list())
    code, out, err = run("install", str(newer))
    assert code == 0 and json.loads(out)["sequence"] == 2 and "restart the kiosk" in err

    code, _, err = run("install", str(first))
    assert code == 1 and "older than held" in err
    code, _, err = run("install", str(tmp_path / "missing.json"))
    assert code == 1 and "cannot read" in err
    forged = tmp_path / "forged.json"
    forged.write_bytes(newer.read_bytes().replace(b'"signature": "', b'"signature": "AA'))
    code, _, err = run("install", str(forged))
    assert code == 1 and "nothing changed" in err
    code, _, err = run("install", "/dev/zero")  # was read until memory ran out
    assert code == 1 and "cannot read /dev/zero: not a file but a device or a socket" in err
    bare = tmp_path / "bare.json"
    bare.write_text('{"format": "lapak-trust-list/1"}', encoding="utf-8")
    code, _, err = run("install", str(bare))
    assert code == 1 and "trust list is malformed: no 'payload' field; nothing changed" in err
    assert json.loads(run("show")[1])["sequence"] == 2
