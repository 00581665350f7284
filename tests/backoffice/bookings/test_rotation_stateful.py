"""Any sequence of key operations keeps every participant's current QR good and no leaked key's.

A Hypothesis state machine over the issuer: publish a next key, rotate now or at a set time,
withdraw the signing key or the next one, issue bookings, let time pass. After every step a kiosk
holding the newest trust list must accept the token each booking has now (the app's QR), refuse
every token a withdrawn key signed, and the list's sequence must only grow.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from backoffice.bookings.issuer import IssueError
from kiosk.booking.verifier import BookingVerifier, Rules
from tests.backoffice.bookings.helpers import BRANCH, make_backoffice
from tests.kiosk.booking.testkeys import MemoryCheckins, StaticFacts
from uplink.booking import token, trustlist

JAKARTA = ZoneInfo("Asia/Jakarta")


class KeyOperations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="keys-"))
        self.office = make_backoffice(self.directory)
        self.anchor = trustlist.load_anchor(self.office.issuer.root_public_key())
        self.sequence = trustlist.parse(self.office.issuer.trust_list(), [self.anchor]).sequence
        self.bookings: dict[str, datetime] = {}  # booking id -> slot start
        self.screenshots: list[str] = []  # tokens signed by keys withdrawn since

    def teardown(self) -> None:
        self.office.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _states(self) -> dict[str, str]:
        return {k.kid: k.state for k in self.office.issuer.key_states()}

    @rule()
    def publish_next(self) -> None:
        waiting = [kid for kid, s in self._states().items() if s in ("next", "scheduled")]
        try:
            self.office.issuer.publish_next_key()
        except IssueError:
            assert waiting, "publishing was refused with no next key waiting"
        else:
            assert not waiting, "a second next key was published"

    @rule(hours=st.sampled_from([None, 1, 6, 30]))
    def rotate(self, hours: int | None) -> None:
        waiting = [kid for kid, s in self._states().items() if s in ("next", "scheduled")]
        at = None if hours is None else self.office.clock.now() + timedelta(hours=hours)
        try:
            done = self.office.issuer.rotate(at)
        except IssueError:
            assert not waiting
        else:
            assert done.kid in waiting

    @rule(minutes=st.integers(1, 24 * 60))
    def time_passes(self, minutes: int) -> None:
        self.office.clock.advance(minutes * 60)

    @rule(name=st.sampled_from(["Budi Santoso", "Dewi Kusuma", "Siti Aminah"]))
    def issue(self, name: str) -> None:
        day = (self.office.clock.now() + timedelta(days=20)).astimezone(JAKARTA).date()
        issued = self.office.issuer.issue(
            branch=BRANCH, service="JHT", day=day, start=time(9), end=time(10), name=name
        )
        self.bookings[issued.booking.booking_id] = issued.booking.slot_start

    @rule(which=st.sampled_from(["signing", "next"]))
    def withdraw(self, which: str) -> None:
        states = self._states()
        wanted = "signing" if which == "signing" else "next"
        kids = [kid for kid, s in states.items() if s == wanted]
        if not kids:
            return
        kid = kids[-1]
        self.screenshots += [
            stored.token
            for booking_id in self.bookings
            if (stored := self.office.store.booking(booking_id)) is not None
            and token.split(stored.token).kid.hex() == kid
        ]
        self.office.issuer.withdraw(kid)
        assert "signing" in self._states().values(), "no key signs after a withdrawal"

    @invariant()
    def the_list_only_moves_forward(self) -> None:
        held = trustlist.parse(self.office.issuer.trust_list(), [self.anchor])
        assert held.sequence >= self.sequence
        self.sequence = held.sequence

    @invariant()
    def every_current_qr_is_good_and_no_withdrawn_one(self) -> None:
        held = trustlist.parse(self.office.issuer.trust_list(), [self.anchor])
        kiosk = BookingVerifier(
            Rules(branch=BRANCH, zone=JAKARTA), StaticFacts(held), MemoryCheckins()
        )
        for booking_id, slot_start in self.bookings.items():
            stored = self.office.store.booking(booking_id)
            assert stored is not None
            verdict = kiosk.verify(stored.token, slot_start + timedelta(minutes=10))
            assert verdict.reason == "ok", (booking_id, verdict.reason)
        for screenshot in self.screenshots:
            slot = token.parse_claims(token.split(screenshot).signed).booking.slot_start
            verdict = kiosk.verify(screenshot, slot + timedelta(minutes=10))
            assert verdict.reason == "key_withdrawn"


KeyOperations.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_key_operations = KeyOperations.TestCase
