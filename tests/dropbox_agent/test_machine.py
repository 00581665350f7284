"""The box's state machine, behaviour by behaviour, on a hand-held clock (no sleeping)."""

from __future__ import annotations

import re

import pytest

from dropbox_agent.domain.model import (
    BookingScanned,
    BoxCounters,
    CountEntered,
    FaultReport,
    Input,
    OpenCollection,
    Output,
    OutputMode,
    PrintReceipt,
    Pulse,
    Record,
    SaveCounters,
)
from tests.dropbox_agent.machine_rig import MachineRig

CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}$")


# -- deposits and jams ----------------------------------------------------------------------------


def test_one_chattering_envelope_is_one_numbered_deposit_recorded_before_feedback() -> None:
    box = MachineRig()
    box.clear()
    box.deposit(hold_s=0.3)

    [deposit] = box.records("dropbox.deposit")
    assert deposit["deposit_no"] == 1
    assert deposit["pending_collection"] == 1
    assert CODE.match(deposit["code"])
    assert 299 <= deposit["blocked_ms"] <= 302
    kinds = [type(e) for e in box.effects if not isinstance(e, type(box.set_outputs()))]
    # The event is recorded first, then the counters are saved, then the beep and the slip.
    order = [k for k in kinds if k in (Record, SaveCounters, Pulse, PrintReceipt)]
    assert order == [Record, SaveCounters, Pulse, PrintReceipt]
    assert box.machine.counters.last_deposit_no == 1
    assert box.machine.counters.pending_first_no == 1


def test_beam_glitch_shorter_than_the_debounce_is_not_a_deposit() -> None:
    box = MachineRig()
    box.edge(Input.BEAM, True)
    box.edge(Input.BEAM, False, dt=0.002)
    box.at(5.0)
    assert box.records("dropbox.deposit") == []


def test_consecutive_deposits_number_up_and_the_slip_carries_the_code() -> None:
    box = MachineRig()
    for _ in range(5):
        box.deposit()
        box.at(1.0)
    numbers = [d["deposit_no"] for d in box.records("dropbox.deposit")]
    assert numbers == [1, 2, 3, 4, 5]
    slips = [e for e in box.effects if isinstance(e, PrintReceipt)]
    assert [s.deposit_no for s in slips] == numbers
    assert [s.code for s in slips] == [d["code"] for d in box.records("dropbox.deposit")]


def test_a_jam_is_reported_once_and_cleared_when_the_beam_clears() -> None:
    box = MachineRig(jam_after_s=8.0)
    box.edge(Input.BEAM, True)
    box.at(7.9)
    assert box.records("dropbox.jam") == []
    box.at(0.2)
    box.at(30.0)
    assert box.records("dropbox.jam") == [{"box_id": "box-1", "active": True, "blocked_s": 8.0}]
    assert box.output(Output.READY_LED) is OutputMode.OFF
    assert box.output(Output.ALARM_LED) is OutputMode.BLINK
    assert "SLOT MACET / slot jammed" in box.machine.state()["alerts"]

    box.set(Input.BEAM, False)
    jams = box.records("dropbox.jam")
    assert [j["active"] for j in jams] == [True, False]
    assert jams[1]["blocked_s"] == pytest.approx(38.1, abs=0.01)
    [deposit] = box.records("dropbox.deposit")
    assert deposit["after_jam"] is True
    assert box.output(Output.READY_LED) is OutputMode.ON
    assert box.machine.state()["alerts"] == []


# -- collections ----------------------------------------------------------------------------------


def _collect(box: MachineRig, counted: int | None, *, officer: str = "ofc-1") -> None:
    box.auth(officer)
    box.set(Input.DOOR, True)
    if counted is not None:
        box.count(counted)
    box.set(Input.DOOR, False)


def test_authorized_collection_hands_over_the_pending_deposits_and_matches_the_count() -> None:
    box = MachineRig()
    for _ in range(3):
        box.deposit()
    _collect(box, 3)

    [started] = box.records("dropbox.collection_started")
    assert started == {
        "box_id": "box-1",
        "collection_id": "box-1-c1",
        "officer_id": "ofc-1",
        "method": "pin",
        "deposits_logged": 3,
        "first_deposit_no": 1,
        "last_deposit_no": 3,
    }
    [confirmed] = box.records("dropbox.collection_confirmed")
    assert (confirmed["deposits_logged"], confirmed["counted"]) == (3, 3)
    doors = box.records("dropbox.door")
    assert [(d["open"], d["authorized"], d.get("collection_id")) for d in doors] == [
        (True, True, "box-1-c1"),
        (False, True, "box-1-c1"),
    ]
    assert box.records("dropbox.tamper") == []
    counters = box.machine.counters
    assert (counters.pending_count, counters.collection_no, counters.open_collection) == (
        0,
        1,
        None,
    )
    assert box.machine.state()["alerts"] == []

    box.deposit()
    _collect(box, 1)
    second = box.records("dropbox.collection_started")[1]
    assert (second["collection_id"], second["deposits_logged"], second["first_deposit_no"]) == (
        "box-1-c2",
        1,
        4,
    )


def test_a_count_that_differs_is_a_mismatch_alert_until_the_next_collection() -> None:
    box = MachineRig()
    for _ in range(4):
        box.deposit()
    _collect(box, 3)
    [mismatch] = box.records("dropbox.collection_mismatch")
    assert (mismatch["deposits_logged"], mismatch["counted"], mismatch["difference"]) == (4, 3, -1)
    assert box.records("dropbox.collection_confirmed") == []
    assert "SELISIH HITUNG 4≠3 / count mismatch" in box.machine.state()["alerts"]
    assert box.output(Output.ALARM_LED) is OutputMode.BLINK

    _collect(box, 0)
    assert not any("SELISIH" in a for a in box.machine.state()["alerts"])


def test_count_entered_after_the_door_closed_still_settles_the_collection() -> None:
    box = MachineRig()
    box.deposit()
    _collect(box, None)
    assert box.machine.state()["collection"]["collection_id"] == "box-1-c1"
    box.count(1)
    assert box.machine.state()["collection"] is None
    assert len(box.records("dropbox.collection_confirmed")) == 1


def test_an_unconfirmed_count_becomes_an_alert_after_the_timeout() -> None:
    box = MachineRig(count_confirm_timeout_s=900.0)
    box.deposit()
    _collect(box, None)  # the door closed 1 s ago
    box.at(898.0)
    assert box.machine.state()["alerts"] == []
    box.at(2.0)
    assert "HITUNGAN BELUM DIKONFIRMASI / count not confirmed" in box.machine.state()["alerts"]
    box.count(1)
    assert box.machine.state()["alerts"] == []


def test_a_count_with_no_collection_open_is_ignored() -> None:
    box = MachineRig()
    box.clear()
    box.count(5)
    assert box.records() == []


def test_deposits_made_while_the_door_is_open_count_toward_the_next_collection() -> None:
    box = MachineRig()
    box.deposit()
    box.auth()
    box.set(Input.DOOR, True)
    box.deposit()
    [late] = [d for d in box.records("dropbox.deposit") if d["deposit_no"] == 2]
    assert late["during_collection"] is True
    assert late["pending_collection"] == 1
    box.count(1)
    box.set(Input.DOOR, False)
    assert box.machine.counters.pending_count == 1


def test_door_opened_without_authorization_is_an_alarm_with_buzzer_and_led() -> None:
    box = MachineRig(alarm_buzzer_s=30.0)
    box.deposit()
    box.set(Input.DOOR, True)
    door = box.records("dropbox.door")[-1]
    assert (door["open"], door["authorized"]) == (True, False)
    assert box.records("dropbox.tamper") == [
        {"box_id": "box-1", "cause": "door_forced", "active": True}
    ]
    assert box.records("dropbox.collection_started") == []
    assert box.machine.counters.pending_count == 1  # a forced opening is not a collection
    assert box.output(Output.BUZZER) is OutputMode.ON
    assert box.output(Output.ALARM_LED) is OutputMode.ON
    assert box.machine.state()["alerts"][0] == "PINTU DIBUKA PAKSA / door forced"
    box.at(30.0)
    assert box.output(Output.BUZZER) is OutputMode.OFF  # the buzzer stops, the LED stays
    assert box.output(Output.ALARM_LED) is OutputMode.ON
    box.set(Input.DOOR, False)
    assert box.records("dropbox.tamper")[-1]["active"] is False
    assert box.records("dropbox.door")[-1] == {
        "box_id": "box-1",
        "open": False,
        "authorized": False,
    }
    assert box.output(Output.ALARM_LED) is OutputMode.OFF


def test_an_authorization_expires_and_serves_one_opening_only() -> None:
    box = MachineRig(authorization_window_s=120.0)
    box.auth()
    box.at(121.0)
    box.set(Input.DOOR, True)
    assert box.records("dropbox.door")[-1]["authorized"] is False
    box.set(Input.DOOR, False)

    box.auth()
    box.set(Input.DOOR, True)
    box.count(0)
    box.set(Input.DOOR, False)
    box.set(Input.DOOR, True)  # the same PIN does not open twice
    assert box.records("dropbox.door")[-1]["authorized"] is False


def test_the_key_switch_authorizes_while_it_is_turned() -> None:
    box = MachineRig(key_officer_id="pemegang-kunci")
    box.deposit()
    box.set(Input.KEY, True)
    assert box.records("dropbox.authorization")[-1] == {
        "box_id": "box-1",
        "method": "key",
        "granted": True,
        "officer_id": "pemegang-kunci",
    }
    box.set(Input.DOOR, True)
    started = box.records("dropbox.collection_started")[-1]
    assert (started["method"], started["officer_id"]) == ("key", "pemegang-kunci")
    box.count(1)
    box.set(Input.DOOR, False)
    box.set(Input.KEY, False)
    box.set(Input.DOOR, True)
    assert box.records("dropbox.door")[-1]["authorized"] is False


def test_repeated_wrong_credentials_lock_out_and_raise_an_alarm() -> None:
    box = MachineRig(max_auth_failures=3, auth_lockout_s=300.0)
    for _ in range(3):
        box.auth(None)
    auths = box.records("dropbox.authorization")
    assert [a["granted"] for a in auths] == [False, False, False]
    assert box.records("dropbox.tamper") == [
        {"box_id": "box-1", "cause": "auth_failures", "active": True}
    ]
    assert "PIN SALAH BERULANG / PIN lockout" in box.machine.state()["alerts"]
    box.auth("ofc-1")  # even the right PIN is refused while locked out
    assert box.records("dropbox.authorization")[-1]["locked_out"] is True
    box.set(Input.DOOR, True)
    assert box.records("dropbox.door")[-1]["authorized"] is False
    box.set(Input.DOOR, False)
    box.at(300.0)
    assert not box.machine.locked_out
    assert box.records("dropbox.tamper")[-1] == {
        "box_id": "box-1",
        "cause": "auth_failures",
        "active": False,
    }
    box.auth("ofc-1")
    assert box.records("dropbox.authorization")[-1]["granted"] is True


def test_a_correct_credential_resets_the_failure_count() -> None:
    box = MachineRig(max_auth_failures=3)
    box.auth(None)
    box.auth(None)
    box.auth("ofc-1")
    box.auth(None)
    assert not box.machine.locked_out


def test_tamper_switch_raises_and_clears_an_alarm() -> None:
    box = MachineRig()
    box.set(Input.TAMPER, True)
    assert box.records("dropbox.tamper") == [{"box_id": "box-1", "cause": "switch", "active": True}]
    assert box.output(Output.BUZZER) is OutputMode.ON
    assert "SABOTASE KOTAK / tamper" in box.machine.state()["alerts"]
    box.set(Input.TAMPER, False)
    assert box.records("dropbox.tamper")[-1]["active"] is False
    assert box.output(Output.ALARM_LED) is OutputMode.OFF


# -- fill level -----------------------------------------------------------------------------------


def test_fill_levels_are_reported_on_crossings_with_hysteresis() -> None:
    box = MachineRig(empty_distance_cm=60.0, full_distance_cm=8.0)  # 80 % / 95 % / 5 %
    box.fill(50.0)
    assert box.records("dropbox.fill") == []
    assert box.machine.fill_percent == 19
    box.fill(18.0)  # 81 %
    box.fill(17.0)
    box.fill(12.0)  # 92 %
    box.fill(10.0)  # 96 %
    box.fill(11.0)  # 94 %: still full (hysteresis)
    box.fill(20.0)  # 77 %: back to nearly full
    box.fill(24.0)  # 69 %: ok
    levels = [(f["level"], f["fill_percent"]) for f in box.records("dropbox.fill")]
    assert levels == [("nearly_full", 81), ("full", 96), ("nearly_full", 77), ("ok", 69)]


def test_a_full_box_turns_ready_off_lights_full_and_tells_the_depositor_on_the_slip() -> None:
    box = MachineRig()
    box.fill(9.0)
    assert box.output(Output.FULL_LED) is OutputMode.ON
    assert box.output(Output.READY_LED) is OutputMode.OFF
    assert "KOTAK PENUH / box full" in box.machine.state()["alerts"]
    box.deposit()
    [slip] = [e for e in box.effects if isinstance(e, PrintReceipt)]
    assert slip.box_full is True


def test_missing_echoes_become_a_fault_that_a_good_reading_clears() -> None:
    box = MachineRig(fill_failures_for_fault=3)
    box.fill(None)
    box.fill(None)
    assert box.records("device.fault") == []
    box.fill(None)
    box.fill(None)
    assert box.records("device.fault") == [
        {"component": "fill_sensor", "code": "no_echo", "active": True}
    ]
    assert "SENSOR ISI GAGAL / fill sensor fault" in box.machine.state()["alerts"]
    box.fill(40.0)
    assert box.records("device.fault")[-1]["active"] is False


def test_fill_readings_are_ignored_when_no_sensor_is_configured() -> None:
    box = MachineRig(fill_enabled=False)
    box.fill(5.0)
    assert box.records("dropbox.fill") == []
    assert box.machine.fill_percent is None


# -- UV-C -----------------------------------------------------------------------------------------


def test_uv_runs_a_cycle_after_a_collection_once_the_door_has_been_shut_a_while() -> None:
    box = MachineRig(uv_start_delay_s=5.0, uv_cycle_s=60.0)
    _collect(box, 0)
    assert box.output(Output.UV_RELAY) is OutputMode.OFF
    box.at(4.5)
    assert box.output(Output.UV_RELAY) is OutputMode.ON
    assert box.machine.state()["uv"] == "running"
    box.at(60.0)
    assert box.output(Output.UV_RELAY) is OutputMode.OFF
    assert box.records("dropbox.disinfection") == [
        {
            "box_id": "box-1",
            "outcome": "completed",
            "trigger": "after_collection",
            "duration_s": 60.0,
        }
    ]


@pytest.mark.parametrize("opener", [Input.DOOR, Input.TAMPER])
def test_uv_interlock_switches_the_lamp_off_on_the_first_raw_edge(opener: Input) -> None:
    """GIVEN a running UV-C cycle WHEN the door (or tamper loop) opens, even for a bounce
    THEN the relay is off in that same step, and the cycle reruns in full once closed."""
    box = MachineRig(uv_start_delay_s=5.0, uv_cycle_s=60.0)
    _collect(box, 0)
    box.at(10.0)
    assert box.output(Output.UV_RELAY) is OutputMode.ON
    box.clear()
    box.edge(opener, True)  # raw edge, not yet debounced
    assert box.output(Output.UV_RELAY) is OutputMode.OFF
    aborted = box.records("dropbox.disinfection")
    assert aborted[0]["outcome"] == "aborted"
    assert aborted[0]["reason"] == ("door_open" if opener is Input.DOOR else "tamper")
    box.edge(opener, False, dt=0.001)  # it was only a bounce
    box.at(1.0)
    assert box.output(Output.UV_RELAY) is OutputMode.OFF  # waits for a fresh start delay
    box.at(5.0)
    assert box.output(Output.UV_RELAY) is OutputMode.ON
    box.at(60.0)
    assert box.records("dropbox.disinfection")[-1]["outcome"] == "completed"


def test_uv_never_starts_while_the_door_is_open() -> None:
    box = MachineRig(uv_start_delay_s=5.0, uv_schedule_interval_s=100.0)
    box.auth()
    box.set(Input.DOOR, True)
    box.at(200.0)
    assert box.output(Output.UV_RELAY) is OutputMode.OFF
    box.count(0)
    box.set(Input.DOOR, False)
    box.at(5.0)
    assert box.output(Output.UV_RELAY) is OutputMode.ON


def test_uv_runs_on_its_schedule_too() -> None:
    box = MachineRig(uv_schedule_interval_s=3600.0, uv_cycle_s=60.0)
    box.at(3600.0)
    assert box.output(Output.UV_RELAY) is OutputMode.ON
    box.at(60.0)
    assert box.records("dropbox.disinfection")[-1]["trigger"] == "schedule"


# -- bookings, faults, heartbeat, start-up, raw log ------------------------------------------------


def test_a_scanned_booking_links_to_the_next_deposit_within_the_window_only() -> None:
    box = MachineRig(booking_link_window_s=120.0)
    box.machine.feed(BookingScanned(box.t, "BK-7QX2M9"))
    box.deposit()
    box.deposit()
    first, second = box.records("dropbox.deposit")
    assert first["booking_ref"] == "BK-7QX2M9"
    assert "booking_ref" not in second
    box.machine.feed(BookingScanned(box.t, "BK-AAAA"))
    box.at(121.0)
    box.deposit()
    assert "booking_ref" not in box.records("dropbox.deposit")[-1]


def test_adapter_faults_are_recorded_once_per_change() -> None:
    box = MachineRig()
    for active in (True, True, False, False):
        box._take(box.machine.feed(FaultReport(box.t, "printer", "paper_out", active)))
    assert [f["active"] for f in box.records("device.fault")] == [True, False]


def test_heartbeats_come_at_their_interval_with_the_counters() -> None:
    box = MachineRig(heartbeat_interval_s=300.0)
    box.deposit()
    box.at(300.0)
    box.at(300.0)
    beats = box.records("dropbox.heartbeat")
    assert len(beats) == 2
    assert beats[0]["deposits_pending_collection"] == 1
    assert beats[0]["door"] == "closed"


def test_an_idle_box_has_no_deadline_so_the_agent_can_sleep() -> None:
    box = MachineRig()
    box.deposit()
    box.at(10.0)
    assert box.machine.next_deadline() is None


def test_a_door_found_open_at_start_without_a_collection_is_an_alarm() -> None:
    box = MachineRig(initial={Input.DOOR: True})
    assert box.records("dropbox.tamper") == [
        {"box_id": "box-1", "cause": "door_forced", "active": True}
    ]


def test_restart_during_a_collection_keeps_it_and_a_settled_one_is_closed() -> None:
    waiting = OpenCollection("box-1-c1", "ofc-1", "pin", 3)
    box = MachineRig(counters=BoxCounters(3, 0, None, 1, waiting), initial={Input.DOOR: True})
    assert box.records("dropbox.tamper") == []
    box.count(3)
    assert box.records("dropbox.collection_confirmed")[0]["counted"] == 3

    counted = OpenCollection("box-1-c1", "ofc-1", "pin", 3, counted=3)
    closed = MachineRig(counters=BoxCounters(3, 0, None, 1, counted))
    assert closed.machine.counters.open_collection is None


def test_an_envelope_in_the_slot_at_start_is_counted_when_it_clears() -> None:
    box = MachineRig(initial={Input.BEAM: True})
    box.set(Input.BEAM, False)
    assert len(box.records("dropbox.deposit")) == 1


def test_every_input_is_kept_in_the_raw_log() -> None:
    box = MachineRig(raw_log_size=5)
    box.deposit()  # 6 edges
    assert len(box.machine.raw_log) == 5
    assert box.machine.raw_log[-1].input is Input.BEAM  # type: ignore[union-attr]


def test_an_edge_on_an_input_without_a_pin_is_noted_not_fatal() -> None:
    box = MachineRig(has_key_switch=False)
    box.clear()
    box.edge(Input.KEY, True)
    assert box.records() == []
    assert any("unconfigured" in getattr(e, "text", "") for e in box.effects)


def test_state_message_has_summary_alerts_and_counters() -> None:
    box = MachineRig()
    box.deposit()
    box.deposit()
    box.fill(34.0)
    state = box.machine.state()
    assert state["summary"] == "2 titipan menunggu · pintu tertutup · isi 50%"
    assert state["alerts"] == []
    assert state["deposits_pending_collection"] == 2
    assert state["door"] == "closed"


def test_a_count_for_another_collection_is_ignored() -> None:
    box = MachineRig()
    box.deposit()
    box.auth()
    box.set(Input.DOOR, True)
    box.set(Input.DOOR, False)
    box._take(box.machine.feed(CountEntered(box.t, 1, "backoffice", "box-1-c9")))
    assert box.records("dropbox.collection_confirmed") == []
    assert box.records("dropbox.count_refused") == [
        {
            "box_id": "box-1",
            "collection_id": "box-1-c9",
            "counted": 1,
            "reason": "unknown_collection",
        }
    ]
    box._take(box.machine.feed(CountEntered(box.t, 1, "backoffice", "box-1-c1")))
    assert box.records("dropbox.collection_confirmed")[0]["source"] == "backoffice"


def test_a_count_from_the_back_office_is_answered_once_per_collection() -> None:
    """GIVEN collection c1 counted (and c2 open, counted at the keypad while the door is open)
    WHEN the back office sends counts for them, for a foreign id and for a future number
    THEN each is refused with its reason; the counters and the open collection stay as they were."""
    box = MachineRig()
    box.deposit()
    box.auth()
    box.set(Input.DOOR, True)
    box.set(Input.DOOR, False)
    box.count(1)
    box.deposit()
    box.auth()
    box.set(Input.DOOR, True)
    box.count(1)
    counters = box.machine.counters
    box.clear()
    for collection_id in ("box-1-c1", "box-1-c2", "box-1-c3", "box-1-c01", "box-2-c1", "[/]"):
        box._take(box.machine.feed(CountEntered(box.t, 4, "backoffice", collection_id)))
    reasons = [(r["collection_id"], r["reason"]) for r in box.records("dropbox.count_refused")]
    assert reasons == [
        ("box-1-c1", "already_counted"),
        ("box-1-c2", "already_counted"),
        ("box-1-c3", "unknown_collection"),
        ("box-1-c01", "unknown_collection"),
        ("box-2-c1", "unknown_collection"),
        ("[/]", "unknown_collection"),
    ]
    assert box.types() == ["dropbox.count_refused"] * 6
    assert box.machine.counters == counters
