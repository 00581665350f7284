"""Hypothesis drives the box through random days; the counts and the interlocks always hold."""

from __future__ import annotations

import itertools

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dropbox_agent.domain.model import Input, Output, OutputMode
from tests.dropbox_agent.machine_rig import MachineRig

SETTLE = {Input.BEAM: 0.005, Input.DOOR: 0.03, Input.TAMPER: 0.05, Input.KEY: 0.05}


def bounces(name: Input) -> st.SearchStrategy[list[float]]:
    """An even number of gaps, each shorter than the input's settle time."""
    gap = st.floats(min_value=1e-5, max_value=SETTLE[name] * 0.95)
    return st.lists(gap, max_size=8).map(lambda g: g[: len(g) - len(g) % 2])


class BoxDay(RuleBasedStateMachine):
    """A model of what physically happened, checked against what the machine recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.box = MachineRig(
            jam_after_s=8.0, max_auth_failures=3, auth_lockout_s=60.0, alarm_buzzer_s=10.0
        )
        self.envelopes = 0
        self.door_open = False
        self.tamper = False
        self.key_on = False

    def _move(self, name: Input, active: bool, train: list[float]) -> None:
        self.box.edge(name, active)
        level = active
        for gap in train:
            level = not level
            self.box.edge(name, level, dt=gap)
        self.box.at(SETTLE[name] * 2)

    @rule(
        hold=st.floats(min_value=0.02, max_value=20.0),
        on=bounces(Input.BEAM),
        off=bounces(Input.BEAM),
    )
    def envelope(self, hold: float, on: list[float], off: list[float]) -> None:
        self._move(Input.BEAM, True, on)
        self.box.at(hold)
        self._move(Input.BEAM, False, off)
        self.envelopes += 1

    @rule(right=st.booleans(), method=st.sampled_from(["pin", "badge"]))
    def credential(self, right: bool, method: str) -> None:
        self.box.auth("ofc-1" if right else None, method)  # type: ignore[arg-type]

    @precondition(lambda self: not self.door_open)
    @rule(train=bounces(Input.DOOR))
    def open_door(self, train: list[float]) -> None:
        self._move(Input.DOOR, True, train)
        self.door_open = True

    @precondition(lambda self: self.door_open)
    @rule(train=bounces(Input.DOOR))
    def close_door(self, train: list[float]) -> None:
        self._move(Input.DOOR, False, train)
        self.door_open = False

    @rule(exact=st.booleans(), off_by=st.integers(min_value=1, max_value=3))
    def count(self, exact: bool, off_by: int) -> None:
        oc = self.box.machine.counters.open_collection
        expected = oc.expected if oc is not None else 0
        self.box.count(expected if exact else expected + off_by)

    @rule(train=bounces(Input.TAMPER))
    def toggle_tamper(self, train: list[float]) -> None:
        self.tamper = not self.tamper
        self._move(Input.TAMPER, self.tamper, train)

    @rule()
    def turn_key(self) -> None:
        self.key_on = not self.key_on
        self._move(Input.KEY, self.key_on, [])

    @rule(distance=st.one_of(st.none(), st.floats(min_value=0.0, max_value=80.0)))
    def fill_reading(self, distance: float | None) -> None:
        self.box.fill(distance)

    @rule(seconds=st.floats(min_value=0.0, max_value=2000.0))
    def wait(self, seconds: float) -> None:
        self.box.at(seconds)

    # -- what must always hold ---------------------------------------------------------------

    @invariant()
    def every_envelope_is_exactly_one_consecutively_numbered_deposit(self) -> None:
        numbers = [d["deposit_no"] for d in self.box.records("dropbox.deposit")]
        assert numbers == list(range(1, self.envelopes + 1))
        assert self.box.machine.counters.last_deposit_no == self.envelopes

    @invariant()
    def collections_hand_over_every_deposit_once(self) -> None:
        handed = sum(c["deposits_logged"] for c in self.box.records("dropbox.collection_started"))
        assert handed + self.box.machine.counters.pending_count == self.envelopes

    @invariant()
    def counts_are_reported_with_the_right_difference(self) -> None:
        for m in self.box.records("dropbox.collection_mismatch"):
            assert m["difference"] == m["counted"] - m["deposits_logged"] != 0
        for c in self.box.records("dropbox.collection_confirmed"):
            assert c["counted"] == c["deposits_logged"]

    @invariant()
    def uv_lamp_is_off_whenever_the_door_or_the_tamper_loop_is_open(self) -> None:
        if self.door_open or self.tamper:
            assert self.box.output(Output.UV_RELAY) is OutputMode.OFF

    @invariant()
    def buzzer_sounds_only_for_an_alarm(self) -> None:
        if self.box.output(Output.BUZZER) is OutputMode.ON:
            assert self.box.machine.alarm_active

    @invariant()
    def door_and_jam_events_alternate(self) -> None:
        doors = [d["open"] for d in self.box.records("dropbox.door")]
        assert all(a != b for a, b in itertools.pairwise(doors))
        jams = [j["active"] for j in self.box.records("dropbox.jam")]
        assert all(a != b for a, b in itertools.pairwise(jams))
        assert self.box.machine.door_open == self.door_open

    @invariant()
    def an_unauthorized_opening_is_an_alarm(self) -> None:
        for door in self.box.records("dropbox.door"):
            if door["open"] and not door["authorized"]:
                assert any(
                    t["cause"] == "door_forced" and t["active"]
                    for t in self.box.records("dropbox.tamper")
                )


BoxDay.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestBoxDay = BoxDay.TestCase
