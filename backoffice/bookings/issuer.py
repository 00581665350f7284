"""Issuing bookings: signing tokens, rotating and withdrawing keys, publishing the trust list."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from backoffice.bookings.config import BookingsConfig
from backoffice.bookings.keys import KeyStore
from backoffice.bookings.store import BookingStore, KeyRow
from backoffice.errors import BackofficeError
from uplink import messages
from uplink.booking import codes, token, trustlist
from uplink.booking.model import Booking, parse_channel, parse_service
from uplink.clock import Clock, SystemClock, utc_iso

logger = logging.getLogger(__name__)

_MAX_NAME_BYTES = 48


class IssueError(BackofficeError, ValueError):
    """A booking cannot be issued as asked (the message says which field and why)."""


@dataclass(frozen=True)
class KeyInfo:
    """A new signing key and what the kiosks need to trust it."""

    kid: str
    root_public_key: str
    trust_list_sequence: int


@dataclass(frozen=True)
class Rotation:
    """A switch to the next signing key."""

    kid: str
    signs_from: datetime
    published_at: datetime
    retired: tuple[str, ...]
    trust_list_sequence: int


@dataclass(frozen=True)
class KeyState:
    """A signing key as `backoffice booking keys` shows it.

    `state` is "next" (published, not signing), "scheduled" (signs from `signs_from`),
    "signing", "retired" (its tokens still verify) or "withdrawn" (its tokens are refused).
    """

    kid: str
    state: str
    listed_from: datetime
    signs_from: datetime | None
    signs_until: datetime
    withdrawn_at: datetime | None
    listed_until: datetime
    listed_in: int | None = None
    """The first trust-list sequence that lists it (None: a key from before this was kept)."""


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing a key did."""

    kid: str
    trust_list_sequence: int
    reissued: int
    new_kid: str | None
    signing_kid: str


@dataclass(frozen=True)
class IssuedBooking:
    """A booking just issued."""

    booking: Booking
    token: str

    @property
    def code(self) -> str:
        """The code to type, grouped for reading: "7K3-QX9-M2A"."""
        return codes.display(self.booking.booking_id)


def slot_bounds(day: date, start: time, end: time, zone: tzinfo) -> tuple[datetime, datetime]:
    """The slot's start and end instants on branch-local `day`; an end of 00:00 is the next
    day's midnight (a slot `23:00-00:00` runs until the day turns)."""
    slot_start = datetime.combine(day, start, zone)
    end_day = day + timedelta(days=1) if end == time(0, 0) and start != end else day
    return slot_start, datetime.combine(end_day, end, zone)


def mask_name(full_name: str) -> str:
    """ "Budi Santoso" → "B*** S******": the first letter of each word (at most 48 bytes)."""
    words = [w for w in full_name.split() if w.isprintable()]
    masked = " ".join(word[0] + "*" * (len(word) - 1) for word in words)
    while len(masked.encode()) > _MAX_NAME_BYTES:
        masked = masked[:-1]
    return masked.rstrip()


class Issuer:
    """Signs bookings with the current key and keeps the trust list published."""

    def __init__(
        self,
        config: BookingsConfig,
        store: BookingStore,
        keys: KeyStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.keys = keys or KeyStore(config.keys_dir)
        self.clock = clock or SystemClock()

    # -- keys ------------------------------------------------------------------------------

    def root_public_key(self) -> str:
        """The trust anchor (base64 raw Ed25519 public key) to put in each kiosk's config."""
        raw = trustlist.raw_public(self.keys.root(create=True).public_key())
        return base64.b64encode(raw).decode()

    def keygen(self) -> KeyInfo:
        """Create a signing key (and the root on first use) that signs from now: older keys
        stop signing now (an immediate rotation: `publish_next_key` then `rotate`).

        Tokens signed by older keys keep verifying until they expire: those keys stay in the
        trust list for `key_retention_days`. Kiosks that have not synced since get the new key
        when they first meet one of its tokens (online); prefer publishing the next key ahead.

        Raises:
            IssueError: a next key is already published (rotate to it instead).
        """
        kid = self._new_key(signing=True)
        sequence = self.publish_trust_list()
        self.store.set_meta(f"key_listed_in:{kid}", str(sequence))
        logger.info("signing key %s created and signing; trust list %d published", kid, sequence)
        return KeyInfo(
            kid=kid, root_public_key=self.root_public_key(), trust_list_sequence=sequence
        )

    def publish_next_key(self) -> KeyInfo:
        """Create the next signing key and publish it in the trust list, not signing yet.

        Kiosks that sync the list before `rotate` accept its tokens from the first one.

        Raises:
            IssueError: a next key is already published and not signing yet.
        """
        kid = self._new_key(signing=False)
        sequence = self.publish_trust_list()
        self.store.set_meta(f"key_listed_in:{kid}", str(sequence))
        logger.info("next signing key %s published; trust list %d", kid, sequence)
        return KeyInfo(
            kid=kid, root_public_key=self.root_public_key(), trust_list_sequence=sequence
        )

    def _new_key(self, *, signing: bool) -> str:
        now = self.clock.now()
        waiting = self._next_key(now)
        if waiting is not None:
            raise IssueError(
                f"key {waiting.kid} is already published as the next key; start signing with "
                "it: `backoffice booking rotate`"
            )
        self.root_public_key()  # the root is made on first use
        kid, key = self.keys.new_signing_key()
        self.store.add_key(
            KeyRow(
                kid=kid.hex(),
                public_key=base64.b64encode(trustlist.raw_public(key.public_key())).decode(),
                valid_from=now,
                valid_until=now + timedelta(days=self.config.key_validity_days),
                withdrawn_at=None,
                signs_from=None,
            )
        )
        if signing:
            self.store.start_signing(kid.hex(), now)
        return kid.hex()

    def rotate(self, at: datetime | None = None) -> Rotation:
        """Start signing with the published next key at `at` (default now).

        Every key signing until then stops signing at `at` (its signing period ends then, in
        the trust list published now, so kiosks know the switch time in advance); tokens it
        signed keep verifying until they expire.

        Raises:
            IssueError: no next key is published, or `at` is in the past or after the next
                key's period.
        """
        now = self.clock.now()
        start = now if at is None else at
        if start.tzinfo is None:
            raise IssueError("the rotation time needs a UTC offset, e.g. 2026-12-01T02:00:00+07:00")
        waiting = self._next_key(now)
        if waiting is None:
            raise IssueError(
                "no next key is published; run `backoffice booking keygen --next` first"
            )
        if start < now - timedelta(seconds=1) or start >= waiting.valid_until:
            raise IssueError(
                f"rotation time {utc_iso(start)} must be from now until the next key's period "
                f"ends ({utc_iso(waiting.valid_until)})"
            )
        retired = [
            row.kid
            for row in self.store.keys()
            if row.signs_from is not None and row.kid != waiting.kid and row.valid_until > start
        ]
        self.store.start_signing(waiting.kid, start)
        sequence = self.publish_trust_list()
        logger.info(
            "signing key %s signs from %s (published %s); %d key(s) retired then",
            waiting.kid,
            utc_iso(start),
            utc_iso(waiting.valid_from),
            len(retired),
        )
        return Rotation(
            kid=waiting.kid,
            signs_from=start,
            published_at=waiting.valid_from,
            retired=tuple(retired),
            trust_list_sequence=sequence,
        )

    def key_states(self) -> list[KeyState]:
        """Every signing key the back office holds, with its state now (`backoffice booking
        keys`)."""
        now = self.clock.now()
        horizon = timedelta(days=self.config.key_retention_days)
        states = []
        for row in self.store.keys():
            if row.withdrawn_at is not None:
                state = "withdrawn"
            elif row.signs_from is None:
                state = "next"
            elif now < row.signs_from:
                state = "scheduled"
            elif now < row.valid_until:
                state = "signing"
            else:
                state = "retired"
            states.append(
                KeyState(
                    kid=row.kid,
                    state=state,
                    listed_from=row.valid_from,
                    signs_from=row.signs_from,
                    signs_until=row.valid_until,
                    withdrawn_at=row.withdrawn_at,
                    listed_until=row.valid_until + horizon,
                    listed_in=_int_or_none(self.store.meta(f"key_listed_in:{row.kid}")),
                )
            )
        return states

    def withdraw(self, kid: str) -> Withdrawal:
        """Withdraw a key (compromised): every token it signed is refused once kiosks sync.

        When it was the key signing now, the issuer switches to the published next key (every
        kiosk that synced since its publication already holds it), else to a new key. Bookings
        the withdrawn key signed whose slot has not ended are re-signed with the key signing
        now, so participants get a fresh QR in the app, typed codes keep working, and the
        kiosks' day lists carry the new tokens.

        Raises:
            IssueError: no such key, or already withdrawn.
        """
        now = self.clock.now()
        try:
            raw_kid = bytes.fromhex(kid)
        except ValueError:
            raise IssueError(f"key id {kid!r} is not 8 hex digits") from None
        if not self.store.withdraw_key(raw_kid.hex(), now):
            raise IssueError(
                f"key {kid} is unknown or already withdrawn; see `backoffice booking keys`"
            )
        logger.warning("signing key %s withdrawn", raw_kid.hex())
        new_kid = None
        try:
            current = self._current_kid(now)
        except IssueError:
            if self._next_key(now) is not None:
                new_kid = self.rotate(now).kid
            else:
                new_kid = self.keygen().kid
            current = bytes.fromhex(new_kid)
        key = self.keys.signing_key(current)
        affected = self.store.signed_by(raw_kid, now)
        for stored in affected:
            text = token.encode(
                stored.booking,
                kid=current,
                issued_at=now,
                expires_at=stored.booking.slot_end + timedelta(hours=self.config.token_grace_h),
                sign=key.sign,
            )
            self.store.replace_token(stored.booking.booking_id, text, current, now)
        if affected:
            logger.warning("%d booking(s) re-signed with key %s", len(affected), current.hex())
        return Withdrawal(
            kid=raw_kid.hex(),
            trust_list_sequence=self.publish_trust_list(),
            reissued=len(affected),
            new_kid=new_kid,
            signing_kid=current.hex(),
        )

    def publish_trust_list(self) -> int:
        """Sign and store a new trust list from the key table; returns its sequence."""
        now = self.clock.now()
        sequence = int(self.store.meta("trust_list_sequence") or 0) + 1
        horizon = now - timedelta(days=self.config.key_retention_days)
        body = {
            "sequence": sequence,
            "issued_at": utc_iso(now),
            "keys": [
                {
                    "kid": row.kid,
                    "public_key": row.public_key,
                    "valid_from": utc_iso(row.valid_from),
                    "valid_until": utc_iso(row.valid_until),
                    "withdrawn_at": None if row.withdrawn_at is None else utc_iso(row.withdrawn_at),
                }
                for row in self.store.keys()
                if row.valid_until >= horizon
            ],
        }
        document = trustlist.sign(body, self.keys.root(create=True))
        self.store.set_meta("trust_list", document.decode())
        self.store.set_meta("trust_list_sequence", str(sequence))
        return sequence

    def trust_list(self) -> bytes:
        """The published trust-list document.

        Raises:
            IssueError: no key was ever generated.
        """
        document = self.store.meta("trust_list")
        if document is None:
            raise IssueError("no trust list yet; run `backoffice booking keygen` first")
        return document.encode()

    # -- bookings --------------------------------------------------------------------------

    def issue(
        self,
        *,
        branch: str,
        service: str,
        day: date,
        start: time,
        end: time,
        name: str,
        party_size: int = 1,
        channel: str = "online",
        booking_id: str | None = None,
    ) -> IssuedBooking:
        """Sign and store a booking.

        Args:
            branch: Branch id.
            service: JHT, JKK, JKM or JP.
            day: The branch-local day of the slot.
            start: Slot start, branch-local time.
            end: Slot end, branch-local time.
            name: The participant's full name (only the masked form is stored and signed).
            party_size: People covered (collective bookings: many).
            channel: "online" or "collective".
            booking_id: A given booking code (default: a fresh random one).

        Raises:
            IssueError: a field is invalid, or no signing key is usable.
        """
        try:
            svc = parse_service(service.upper())
            chan = parse_channel(channel.lower())
        except ValueError as exc:
            raise IssueError(str(exc)) from None
        zone = self.config.zone_of(branch)
        slot_start, slot_end = slot_bounds(day, start, end, zone)
        now = self.clock.now()
        expires_at = slot_end + timedelta(hours=self.config.token_grace_h)
        if slot_end <= slot_start or expires_at <= now:
            raise IssueError(
                f"slot {start:%H:%M}-{end:%H:%M} on {day} has ended or ends before it starts; "
                "pick a future slot"
            )
        masked = mask_name(name)
        if not masked:  # a ticket and a welcome screen would greet nobody
            raise IssueError("the name has no printable word; give the participant's full name")
        kid = self._current_kid(now)
        booking = Booking(
            booking_id=booking_id or codes.new_code(),
            branch=branch,
            service=svc,
            channel=chan,
            party_size=party_size,
            slot_start=_fixed_offset(slot_start),
            slot_end=_fixed_offset(slot_end),
            masked_name=masked,
        )
        key = self.keys.signing_key(kid)
        try:
            text = token.encode(
                booking,
                kid=kid,
                issued_at=now,
                expires_at=expires_at,
                sign=key.sign,
            )
        except ValueError as exc:
            raise IssueError(f"cannot issue this booking: {exc}") from None
        try:
            self.store.add_booking(booking, day, text, kid, now)
        except sqlite3.IntegrityError:
            raise IssueError(f"booking code {booking.booking_id} is already taken") from None
        # Never the booking id: typed as a code, it fetches the participant's token.
        logger.info("a booking issued for %s on %s", branch, day)
        return IssuedBooking(booking=booking, token=text)

    def cancel(self, booking_id: str) -> bool:
        """Cancel a booking; False if it is unknown or already cancelled."""
        code = codes.normalize(booking_id)
        return self.store.cancel(code, self.clock.now())

    def _current_kid(self, now: datetime) -> bytes:
        usable = [
            row
            for row in self.store.keys()
            if row.withdrawn_at is None
            and row.signs_from is not None
            and row.signs_from <= now < row.valid_until
        ]
        if not usable:
            raise IssueError("no signing key valid now; run `backoffice booking keygen`")
        return bytes.fromhex(max(usable, key=lambda row: (row.signs_from, row.kid)).kid)

    def _next_key(self, now: datetime) -> KeyRow | None:
        """The key published as the next one and not signing yet (or scheduled to), if any."""
        waiting = [
            row
            for row in self.store.keys()
            if row.withdrawn_at is None
            and now < row.valid_until
            and (row.signs_from is None or row.signs_from > now)
        ]
        return waiting[-1] if waiting else None


def day_document(store: BookingStore, branch: str, day: date) -> bytes:
    """The day list the kiosks sync: tokens, cancellations and check-ins, stable for ETags."""
    bookings = store.day(branch, day)
    checkins = store.checkins(b.booking.booking_id for b in bookings)
    body = {
        "branch": branch,
        "date": day.isoformat(),
        "bookings": [
            {
                "booking_id": b.booking.booking_id,
                "token": b.token,
                "cancelled_at": None if b.cancelled_at is None else utc_iso(b.cancelled_at),
                "checkins": [
                    {"kiosk_id": kiosk, "at": utc_iso(at)}
                    for kiosk, at in checkins.get(b.booking.booking_id, [])
                ],
            }
            for b in bookings
        ],
    }
    # The kiosks parse it against this schema: what they would refuse is never served.
    messages.validate("daylist.v1.json", body)
    return json.dumps(body, separators=(",", ":")).encode()


def cancellations_document(store: BookingStore, branch: str, first: date, days: int) -> bytes:
    """The cancellations list for a branch, from `first` for `days` days."""
    rows = store.cancellations(branch, first, first + timedelta(days=days))
    body = {
        "branch": branch,
        "from": first.isoformat(),
        "cancelled": [{"booking_id": b, "cancelled_at": utc_iso(at)} for b, at in rows],
    }
    messages.validate("cancellations.v1.json", body)
    return json.dumps(body, separators=(",", ":")).encode()


def _int_or_none(text: str | None) -> int | None:
    return None if text is None else int(text)


def _fixed_offset(moment: datetime) -> datetime:
    """Indonesia has no DST: keep the slot at its fixed UTC offset (as the token stores it)."""
    return moment.astimezone(timezone(moment.utcoffset() or timedelta(0)))
