"""The serving booking API's eye on its client CRL: never silent once it is due.

Past its next update OpenSSL refuses every client certificate at the handshake (as mosquitto
does), so every kiosk is locked out of its booking lists, and over mutual TLS not even a
monitor's `/healthz` gets through. `config check` and the API's start refuse such a CRL; this
watch covers the one that runs out while the API serves (a CRL is re-signed yearly, an API may
run as long). From 30 days ahead it says so:

- in the log: a WARNING (repeated daily) while it is due, an ERROR (repeated hourly) once it
  has run out, each with the fix, and one INFO line when a renewed CRL ends it;
- in systemd's status line (`systemctl status`: "STATUS="), said with each of those lines and
  back to "serving" when it is in force again;
- at `/healthz`: "ok" plus a warning line while due, 503 with the reason once run out (for a
  client that still reaches it, e.g. the API without mutual TLS in a test).

The time is the API's injected clock; OpenSSL itself reads the wall clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from backoffice.bookings.tls import crl_alert, crl_due
from configkit.expiry import Due
from uplink import systemd
from uplink.clock import Clock

logger = logging.getLogger(__name__)

LOOK_EVERY_S = 1.0
"""Seconds between two looks (the serve loop calls `look` several times a second)."""
REPEAT = {"warn": dt.timedelta(days=1), "fail": dt.timedelta(hours=1)}
"""How often a due (warn) or run-out (fail) CRL is said again in the log."""


class CrlWatch:
    """Says when the API's client CRL is due or past due; `look()` from the serve loop.

    Args:
        next_update: The CRL's next update as the API holds it now (None: no CRL, or none
            read); may read the file again first (`ServerTls.crl_next_update`).
        clock: The API's clock.
        status: Where the one-line standing goes besides the log (systemd's STATUS=).
    """

    def __init__(
        self,
        next_update: Callable[[], dt.datetime | None],
        clock: Clock,
        *,
        status: Callable[[str], object] = systemd.notify_status,
    ) -> None:
        self._next_update = next_update
        self._clock = clock
        self._status = status
        self._looked_at: float | None = None
        self._said: tuple[str, dt.datetime] | None = None  # (status, next update) last said
        self._logged_at: dt.datetime | None = None
        self.due: Due | None = None
        """The standing at the last look (None: no CRL, or not looked yet)."""

    def look(self) -> Due | None:
        """Look again (at most once a `LOOK_EVERY_S`) and say what changed or is still due.

        Returns:
            The CRL's standing now (None: no CRL read).
        """
        mono = self._clock.monotonic()
        if self._looked_at is not None and mono - self._looked_at < LOOK_EVERY_S:
            return self.due
        self._looked_at = mono
        next_update, now = self._next_update(), self._clock.now()
        self.due = due = None if next_update is None else crl_due(next_update, now)
        if due is None or next_update is None:
            return None
        before, self._said = self._said, (due.status, next_update)
        changed = before != self._said
        if due.status == "pass":
            if changed:
                self._status("serving")
            if before is not None and before[0] != "pass":
                logger.info("the client CRL is in force again: %s", due.detail)
            return due
        if changed or self._logged_at is None or now - self._logged_at >= REPEAT[due.status]:
            # The status line is said again with the log, so its "in N days" stays true.
            level = logging.ERROR if due.status == "fail" else logging.WARNING
            logger.log(level, "%s", crl_alert(due))
            self._status(f"serving; {crl_alert(due)}")
            self._logged_at = now
        return due
