"""`backoffice watch`: device text is shown as text, any shape is tolerated, times are local."""

from __future__ import annotations

import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from backoffice.__main__ import main
from backoffice.store import SqliteEventStore
from backoffice.watch import plain, snapshot
from uplink.messages import Envelope

WITA = ZoneInfo("Asia/Makassar")
COLLECTION = "jkt-01-dropbox-1-c12"


def render(store: SqliteEventStore, zone: ZoneInfo = WITA, width: int = 120) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(snapshot(store, zone))
    return out.getvalue()


def event(device: str, seq: int, type_: str, payload: dict[str, object]) -> Envelope:
    event_id = f"01JDX0000000000000000000{seq:02d}"
    return Envelope(event_id, device, seq, type_, 1, "2026-11-30T16:30:05.000Z", True, payload)


@pytest.fixture
def store(tmp_path: Path) -> SqliteEventStore:
    return SqliteEventStore(tmp_path / "events.db")


def test_device_text_is_never_markup_and_any_shape_is_shown(store: SqliteEventStore) -> None:
    """GIVEN retained states with Rich markup, `alerts = 5`, a list, a bare number, and a stored
    state that is not JSON at all
    WHEN watch renders
    THEN it does not crash and shows the text as sent (markup included, not applied)."""
    store.set_status("kiosk-a", {"online": True, "software": "0.1.0"})
    store.set_state("kiosk-a", {"summary": "[/]", "alerts": ["[reverse]ALL CLEAR[/]"]})
    store.set_state("kiosk-b", {"summary": {"nested": [1, 2]}, "alerts": 5})
    store.set_state("kiosk-c", {"summary": "ok\x1b[31mRED\x07", "alerts": "one alert"})
    store.set_state("kiosk-d", {"alerts": None})
    store.store_events([event("kiosk-e", 1, "[bold]x[/]", {"[/]": "[/]"})], "2026-11-30")
    with store._lock:  # a row written by an older or broken receiver
        store._db.execute("INSERT INTO devices (device_id, state) VALUES ('kiosk-f', '{oops')")
        store._db.execute("INSERT INTO devices (device_id, state) VALUES ('kiosk-g', '[1,2]')")
    text = render(store)
    assert "[/]" in text
    assert "[reverse]ALL CLEAR[/]" in text
    assert '{"nested":[1,2]}' in text
    assert "[bold]x[/]" in text
    assert "\x1b" not in text and "\x07" not in text  # no terminal control from a device
    assert "okRED" not in text and "ok [31mRED" in text
    assert "one alert" in text
    for device in "abcdefg":
        assert f"kiosk-{device}" in text
    kiosk_b = next(line for line in text.splitlines() if "kiosk-b" in line)
    assert " 5 " in kiosk_b


@settings(max_examples=60, deadline=None)
@given(
    state=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    ),
    summary=st.text(),
)
def test_any_json_state_renders(state: object, summary: str, tmp_path_factory: object) -> None:
    store = SqliteEventStore(":memory:")
    store.set_state("dev-1", {"summary": summary, "alerts": state})
    store.set_state("dev-2", {"summary": state, "alerts": [summary]})
    with store._lock:
        store._db.execute(
            "INSERT INTO devices (device_id, state) VALUES ('dev-3', ?)",
            (json.dumps(state, ensure_ascii=False),),
        )
    assert "dev-3" in render(store)


def test_times_are_the_branchs_ids_whole_versions_shown_idle_is_online(
    store: SqliteEventStore,
) -> None:
    """GIVEN a dropbox done with its day but still connected, a kiosk whose last will fired
    WHEN watch renders in WITA on a narrow terminal
    THEN times are WITA (16:30 UTC = 00:30 next day), ids and collection ids are whole, the
    idle dropbox is online with its version, and only the kiosk whose will fired is OFFLINE."""
    device = "jkt-01-dropbox-1"
    store.set_status(device, {"online": True, "software": "0.1.0", "at": "2026-11-30T08:00:00Z"})
    store.store_events(
        [
            event(
                device,
                1,
                "dropbox.collection_started",
                {"box_id": device, "collection_id": COLLECTION, "priority_claims": 3},
            )
        ],
        "2026-11-30",
    )
    store.set_status("jkt-01-kiosk-2", {"online": True, "software": "0.2.0"})
    store.set_status("jkt-01-kiosk-2", {"online": False})  # the broker's last will: no version
    text = render(store, width=100)
    assert "(WITA)" in text
    assert "01-12 00:30:05" in text
    assert COLLECTION in text and "priority_claims: 3" in text
    row = next(line for line in text.splitlines() if f"│ {device}" in line)
    assert "online" in row and "0.1.0" in row
    kiosk = next(line for line in text.splitlines() if "jkt-01-kiosk-2" in line)
    assert "OFFLINE" in kiosk and "0.2.0" in kiosk  # the version it last announced


def test_plain_keeps_text_and_cuts_only_long_values() -> None:
    assert plain("[/]") == "[/]"
    assert plain({"a": [1]}) == '{"a":[1]}'
    assert plain("x" * 300, 10) == "x" * 9 + "…"
    assert plain("a\u202eb\nc") == "ab c"  # bidi override removed, line break flattened


def test_watch_once_in_a_chosen_zone(
    store: SqliteEventStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.set_status("kiosk-z", {"online": True, "software": "9.9"})
    assert main(["watch", "--db", str(store.path), "--once", "--timezone", "Asia/Jayapura"]) == 0
    out = capsys.readouterr().out
    assert "(WIT)" in out and "kiosk-z" in out
    assert main(["watch", "--db", str(store.path), "--once", "--timezone", "Mars/Base"]) == 2
    said = capsys.readouterr()
    assert said.out == ""  # an error goes to stderr, in one line, like every tool's
    assert said.err.startswith("backoffice watch: --timezone Mars/Base: unknown; use")
    assert "Asia/Jayapura" in said.err and len(said.err.splitlines()) == 1


def test_watch_without_an_event_store_says_so_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "events.db"
    assert main(["watch", "--db", str(missing), "--once"]) == 1
    said = capsys.readouterr()
    assert said.out == ""
    assert (
        said.err
        == f"backoffice watch: {missing}: no event store yet; start `backoffice receive` first\n"
    )
    missing.touch()  # an empty file (a wrong path): watch wrote a store's tables into it
    assert main(["watch", "--db", str(missing), "--once"]) == 1
    assert "no event store yet" in capsys.readouterr().err
    assert missing.stat().st_size == 0


def test_an_80_column_terminal_still_shows_the_payload_as_lines_to_read(
    store: SqliteEventStore,
) -> None:
    """GIVEN a dropbox event with a long device id and type
    WHEN watch renders on an 80-column terminal (or a log: not a terminal at all)
    THEN the payload keeps room for its key and value on one line (it was squeezed to one
    character a line), and the device id wraps instead."""
    device = "jakarta-salemba-dropbox-1"
    payload = {"box_id": device, "deposits_total": 9, "fill_percent": 8}
    store.store_events([event(device, 1, "dropbox.collection_mismatch", payload)], "2026-11-30")
    text = render(store, width=80)
    assert "deposits_total: 9" in text and "fill_percent: 8" in text
    assert max(len(line) for line in text.splitlines()) <= 80
