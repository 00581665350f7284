"""docs/booking-tokens.md's rotation and emergency procedures, run as printed, with kiosks watching.

The commands of each ```sh block run through the tools' own `main` (the config paths swapped for
this test's files); two kiosks sync from the real booking API over the same database: one online,
one cut off. Tokens are for a slot in 2099 and checked at its time, so the hour of the run does not
matter; the keys' periods come from the back office's clock, as in production.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backoffice.__main__ import main as backoffice
from backoffice.bookings import BookingApi, BookingsConfig, BookingStore, Issuer
from configkit import load
from kiosk.__main__ import main as kiosk_main
from kiosk.booking import BookingConfig, open_booking
from kiosk.booking.factory import BookingServices
from tests.kiosk.booking.scripted import closed_port_url
from uplink.booking import token
from uplink.clock import ManualClock

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "booking-tokens.md"
WIB = timezone(timedelta(hours=7))
SLOT_DAY = "2099-01-02"
AT_DOOR = datetime(2099, 1, 2, 9, 10, tzinfo=WIB)  # inside the 09:00-10:00 slot


def _block(marker: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"<!-- {marker}")
    block = re.search(r"```sh\n(.*?)```", text[start:], re.DOTALL)
    assert block, f"no ```sh block after {marker!r} in {DOC}"
    return [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]


class Operator:
    """Runs documented commands with this test's files in place of /etc/lapak's."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp_path = tmp_path
        self.capsys = capsys
        self.booking_toml = tmp_path / "booking.toml"
        self.booking_toml.write_text(
            f'database_path = "{tmp_path / "bookings.db"}"\n'
            f'keys_dir = "{tmp_path / "keys"}"\n'
            "[api]\nport = 0\n",
            encoding="utf-8",
        )
        self.kiosk_toml = tmp_path / "kiosk.toml"
        self.kid = ""

    def run(self, argv: list[str]) -> tuple[int, str, str]:
        """One command as printed; returns (exit code, stdout, stderr)."""
        swaps = {
            "/etc/lapak/booking.toml": str(self.booking_toml),
            "/etc/lapak/kiosk.toml": str(self.kiosk_toml),
            "trust-list.json": str(self.tmp_path / "trust-list.json"),
            "KID": self.kid,
        }
        args = [swaps.get(word, word) for word in argv]
        tool = {"backoffice": backoffice, "kiosk": kiosk_main}[args[0]]
        code = tool(args[1:])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, argv: list[str]) -> Any:
        """A command that must succeed and print JSON: what it printed."""
        code, out, err = self.run(argv)
        assert code == 0, err
        return json.loads(out)

    def issue(self, name: str) -> tuple[str, str]:
        """A booking for 09:00-10:00 on SLOT_DAY: (booking id, token)."""
        code, out, err = self.run(
            ["backoffice", "booking", "issue", "--config", "/etc/lapak/booking.toml", "--branch",
             "jakarta-salemba", "--service", "JHT", "--date", SLOT_DAY, "--slot", "09:00-10:00",
             "--name", name]
        )  # fmt: skip
        assert code == 0, err
        text = out.strip()
        return token.parse_claims(token.split(text).signed).booking.booking_id, text


@pytest.fixture
def operator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Operator:
    return Operator(tmp_path, capsys)


@pytest.fixture
def api(operator: Operator) -> Iterator[BookingApi]:
    """The booking API over the database the commands write (it reads the trust list live)."""
    operator.json(["backoffice", "booking", "keygen", "--config", "/etc/lapak/booking.toml"])
    config = load(BookingsConfig, operator.booking_toml)
    store = BookingStore(config.database_path)
    running = BookingApi(config, Issuer(config, store))
    running.start()
    try:
        yield running
    finally:
        running.stop()
        store.close()


def _kiosk_config(operator: Operator, name: str, url: str) -> BookingConfig:
    """A kiosk provisioned with the trust list of now (its own copy of the file)."""
    where = operator.tmp_path / name
    where.mkdir(exist_ok=True)
    trust = where / "trust-list.json"
    code, _, err = operator.run(
        ["backoffice", "booking", "trust-list", "--out", str(trust), "--config",
         "/etc/lapak/booking.toml"]
    )  # fmt: skip
    assert code == 0, err
    config = load(BookingsConfig, operator.booking_toml)
    store = BookingStore(config.database_path)
    root = Issuer(config, store).root_public_key()
    store.close()
    return BookingConfig(
        kiosk_id=name,
        branch="jakarta-salemba",
        trust_anchors=[root],
        trust_list_path=trust,
        cache_dir=where / "cache",
        ledger_path=where / "ledger.db",
        api_base_url=url,
        retry_backoff_s=0,
        connect_timeout_s=2,
        read_timeout_s=2,
    )


def _open(config: BookingConfig) -> BookingServices:
    services = open_booking(config, clock=ManualClock(AT_DOOR))
    services.sync.sync_once()
    return services


def _write_toml(path: Path, config: BookingConfig) -> None:
    lines = ["[booking]"]
    for key, value in config.model_dump(exclude_none=True).items():
        lines.append(f"{key} = {json.dumps(str(value) if isinstance(value, Path) else value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_documented_rotation_and_withdrawal_run_as_printed(
    operator: Operator, api: BookingApi
) -> None:
    """GIVEN a back office with one key, an online kiosk, one cut off since provisioning, and one
    that will be cut off before the withdrawal
    WHEN the rotation, withdrawal and offline-kiosk commands run as docs/booking-tokens.md prints
    THEN no booking is refused during the rotation where the doc says so, the leaked key's
    screenshot is refused and the re-issued QR accepted, and the cut-off kiosk behaves as told."""
    online = _open(_kiosk_config(operator, "kiosk-1", api.url))
    first_list = operator.tmp_path / "first-list.json"
    first_list.write_bytes(online.cache.trust_list_path.read_bytes())
    late = _open(_kiosk_config(operator, "kiosk-2", closed_port_url()))  # never reaches it
    cut_config = _kiosk_config(operator, "kiosk-3", api.url)
    cut = _open(cut_config)
    _, old = operator.issue("Budi Santoso")

    # -- the rotation, step by step ---------------------------------------------------------
    publish, keys, rotate, publish_again = _block("rotation commands")
    nxt = operator.json(publish)
    assert nxt["state"] == "next"
    for kiosk in (online, cut):
        assert kiosk.sync.sync_trust_list() == "updated"  # their 15-second poll
    assert [k["state"] for k in operator.json(keys)] == ["signing", "next"]
    code, out, err = operator.run(rotate)
    assert code == 0 and json.loads(out)["signing"] == nxt["kid"]
    assert "min before it signs" in err  # the test does not wait a day
    new_id, new = operator.issue("Dewi Kusuma")
    # The kiosks that hold the published key accept both, without syncing after the switch.
    for kiosk in (online, cut):
        assert [kiosk.refresh.verify(t, AT_DOOR).reason for t in (old, new)] == ["ok", "ok"]
        assert kiosk.refresh.fetches == 0
    # The kiosk cut off since before step 1 cannot check the new key: it says so, as documented.
    unknown = late.refresh.verify(new, AT_DOOR)
    assert unknown.reason == "key_unknown_offline" and "officer" in unknown.next_step_en
    assert late.refresh.verify(old, AT_DOOR).reason == "ok"
    assert operator.json(publish_again)["state"] == "next"
    for kiosk in (online, cut):
        assert kiosk.sync.sync_trust_list() == "updated"
    cut.close()  # its link is cut now
    cut_config = cut_config.model_copy(update={"api_base_url": closed_port_url()})
    _write_toml(operator.kiosk_toml, cut_config)

    # -- the emergency: the signing key leaked --------------------------------------------------
    keys, withdraw, publish = _block("withdrawal commands")
    operator.kid = next(k["kid"] for k in operator.json(keys) if k["state"] == "signing")
    assert operator.kid == token.split(new).kid.hex()
    done = operator.json(withdraw)
    assert done["withdrawn"] == operator.kid and done["reissued"] == 1
    store = BookingStore(load(BookingsConfig, operator.booking_toml).database_path)
    fresh = store.booking(new_id).token  # type: ignore[union-attr]
    store.close()
    assert token.split(fresh).kid.hex() == done["signing"]
    # Online: the fresh QR is accepted at once (its key was published ahead), and from the next
    # trust-list fetch on the screenshot is refused with the reason.
    assert online.verifier.verify(fresh, AT_DOOR).reason == "ok"
    assert online.sync.sync_trust_list() == "updated"
    refused = online.verifier.verify(new, AT_DOOR)
    assert refused.reason == "key_withdrawn"
    assert refused.message_en == "This booking QR code has been replaced by a new one."
    assert online.verifier.verify(old, AT_DOOR).reason == "ok"  # retired, not withdrawn
    assert operator.json(publish)["state"] == "next"

    # -- the kiosk cut off from the back office -------------------------------------------------
    cut_off = _open(cut_config)
    assert cut_off.verifier.verify(new, AT_DOOR).reason == "ok"  # it cannot know: documented
    cut_off.close()
    out_file, install, restart = _block("offline kiosk commands")
    assert operator.run(out_file)[0] == 0
    code, out, err = operator.run(install)
    assert code == 0 and "restart the kiosk" in err
    assert json.loads(out)["sequence"] == done["trust_list_sequence"] + 1  # with the new next key
    assert restart == ["sudo", "systemctl", "restart", "lapak-kiosk"]
    restarted = _open(cut_config)
    assert restarted.verifier.verify(new, AT_DOOR).reason == "key_withdrawn"
    assert restarted.verifier.verify(fresh, AT_DOOR).reason == "ok"
    # An older list (a replay from before the withdrawal) is refused and changes nothing.
    code, _, err = operator.run([str(first_list) if w == "trust-list.json" else w for w in install])
    assert code == 1 and "older than held" in err
    for kiosk in (online, late, restarted):
        kiosk.close()
