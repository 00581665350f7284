"""The booking API the kiosks sync from (stdlib ThreadingHTTPServer, JSON, strong ETags).

Routes (all GET)::

    /v1/trust-list                                   the signed trust list
    /v1/branches/{branch}/cancellations[?from=D]     cancelled bookings, D .. D + horizon
    /v1/branches/{branch}/bookings?date=D            the day list: tokens, cancellations, check-ins
    /v1/bookings/{code}                              a typed code's token, cancellation and
                                                     check-ins (404 when unknown)
    /v1/branches                                     the branch ids booked here (provision check)
    /healthz                                         "ok" (a warning line while the client
                                                     CRL is due; 503 once it has run out)

Every document answers If-None-Match with 304. Put TLS (the fleet PKI) in front in production.

With mutual TLS (`api.client_ca_file`) a client is its certificate's CN: a branch's lists (day
list, cancellations) are answered only to a kiosk of that branch in the device registry; any
other client certificate gets 403 there (the trust list and the branch list are the fleet's).
With `api.client_crl_file` a revoked certificate gets no connection at all (`bookings.tls`), and
the CRL running out while the API serves is logged, put in systemd's status and at /healthz
(`bookings.crl_watch`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import ssl
import sys
import threading
from collections.abc import Callable
from datetime import date, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from backoffice.bookings.checkins import CheckinImporter
from backoffice.bookings.config import BookingsConfig
from backoffice.bookings.crl_watch import CrlWatch
from backoffice.bookings.issuer import IssueError, Issuer, cancellations_document, day_document
from backoffice.bookings.tls import ServerTls, crl_alert
from backoffice.errors import BackofficeError
from backoffice.rejects import RejectGate
from configkit.expiry import Due
from uplink.booking import codes
from uplink.clock import Clock, utc_iso
from uplink.registry import DeviceRegistry

logger = logging.getLogger(__name__)

LOOKUP_PREFIX = "/v1/bookings/"
_LOOKUP_CODE = re.compile(re.escape(LOOKUP_PREFIX) + r"[^\s?#\"]*")
# Dates a query may name: far enough for any booking, near enough that date arithmetic holds.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
# Per client address: a kiosk or an app user types a few codes a minute.
LOOKUP_BURST, LOOKUP_PER_MINUTE = 20, 30.0

_BRANCH = r"(?P<branch>[a-z0-9-]{1,40})"
_ROUTES = (
    ("trust_list", re.compile(r"/v1/trust-list")),
    ("cancellations", re.compile(rf"/v1/branches/{_BRANCH}/cancellations")),
    ("bookings", re.compile(rf"/v1/branches/{_BRANCH}/bookings")),
    ("lookup", re.compile(r"/v1/bookings/(?P<code>[0-9A-Za-z-]{1,20})")),
    ("branches", re.compile(r"/v1/branches")),
    ("health", re.compile(r"/healthz")),
)


# Routes that hold one branch's data: only that branch's kiosks read them under mutual TLS.
_BRANCH_ROUTES = frozenset({"cancellations", "bookings"})


class _Problem(BackofficeError):
    """A request answered with an HTTP error status and a JSON message."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        self.status = status
        super().__init__(message)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tls: ServerTls | None = None
    crl_watch: CrlWatch | None = None
    alive: Callable[[], object] | None = None

    def service_actions(self) -> None:
        # Called by serve_forever on every poll: a CRL that runs out while no kiosk connects
        # (or copied in renewed) is said all the same, and the loop says it is alive.
        if self.crl_watch is not None:
            self.crl_watch.look()
        if self.alive is not None:
            self.alive()

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is None:
            return sock, address
        try:
            # The context of now: a CRL copied in since the last connection is in force. The
            # handshake runs in the connection's own thread (on its first read), so a client
            # that connects and stalls cannot hold up the accept loop.
            wrapped = self.tls.context().wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        except OSError:
            sock.close()
            raise
        return wrapped, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A refused TLS handshake or a dropped connection is the client's problem: one log line,
        # not a traceback on stderr.
        logger.info("connection from %s failed: %s", client_address[0], sys.exc_info()[1])


class BookingApi:
    """Serves the booking documents; `start()` runs it in a background thread."""

    def __init__(
        self,
        config: BookingsConfig,
        issuer: Issuer,
        *,
        importer: CheckinImporter | None = None,
        registry: Callable[[], DeviceRegistry] | None = None,
        clock: Clock | None = None,
        alive: Callable[[], object] | None = None,
    ) -> None:
        """Build the API (it serves from `start()` or `serve_forever()`).

        Args:
            config: the booking back office's config (address, TLS).
            issuer: signs and lists the bookings.
            importer: merges kiosks' check-ins from the event store before a list is served.
            registry: the device registry as it is now; needed with mutual TLS (a client's
                branch comes from it).
            clock: "today" for the cancellations list (default: the issuer's).
            alive: called from the serve loop on every poll, while it runs (systemd's
                watchdog: `uplink.systemd.notify_watchdog`).
        """
        if config.api.client_ca_file is not None and registry is None:
            raise ValueError("mutual TLS needs the device registry (device_registry_path)")
        self.config = config
        self.registry = registry
        self.issuer = issuer
        self.store = issuer.store
        self.importer = importer
        self.clock = clock or issuer.clock
        self._server = _Server((config.api.host, config.api.port), self._handler())
        self._server.daemon_threads = True
        self._server.alive = alive
        files = config.api.tls_files()
        self._tls = files is not None
        if files is not None:
            self._server.tls = tls = ServerTls(files)
            if files.client_crl_file is not None:
                self._server.crl_watch = CrlWatch(tls.crl_next_update, self.clock)
        self._thread: threading.Thread | None = None
        self._serving = False
        self._import_lock = threading.Lock()
        self.lookups = RejectGate(burst=LOOKUP_BURST, per_minute=LOOKUP_PER_MINUTE)

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8470 (the kiosks' `api_base_url`)."""
        host, port = self._server.server_address[:2]
        return f"{'https' if self._tls else 'http'}://{host!s}:{port}"

    def start(self) -> None:
        """Serve in a background thread."""
        # A short poll interval makes stop() quick (serve_forever checks for shutdown per poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="booking-api",
            daemon=True,
        )
        self._serving = True
        self._thread.start()
        logger.info("booking API listening on %s", self.url)

    def serve_forever(self) -> None:
        """Serve in this thread until `stop()` (from another thread or a signal handler)."""
        logger.info("booking API listening on %s", self.url)
        self._serving = True
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving (if it was) and close the socket."""
        if self._serving:  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._serving = False
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- routing ---------------------------------------------------------------------------

    def answer(
        self, path: str, query: dict[str, list[str]], client: str | None = None
    ) -> tuple[bytes, str]:
        """The body and content type for a GET (raises _Problem for 4xx).

        Args:
            client: the client certificate's CN under mutual TLS, else None.
        """
        for name, pattern in _ROUTES:
            match = pattern.fullmatch(path)
            if match:
                if name in _BRANCH_ROUTES and self.config.api.client_ca_file is not None:
                    self._check_branch_reader(client, match["branch"])
                result: tuple[bytes, str] = getattr(self, f"_get_{name}")(
                    query, **match.groupdict()
                )
                return result
        raise _Problem(HTTPStatus.NOT_FOUND, f"no route {path}")

    def _check_branch_reader(self, client: str | None, branch: str) -> None:
        """Refuse (403) a client that is not a registered kiosk of `branch`."""
        registry = self.registry() if self.registry is not None else DeviceRegistry()
        own = None if client is None else registry.kiosk_branch(client)
        if own == branch:
            return
        if own is None:
            raise _Problem(
                HTTPStatus.FORBIDDEN,
                f"{(client or 'this client')[:64]} is not a kiosk in the device registry: only a "
                "branch's kiosks read its lists (export the registry again after provisioning)",
            )
        raise _Problem(HTTPStatus.FORBIDDEN, f"a kiosk of {own} reads only its own branch's lists")

    def _get_branches(self, query: dict[str, list[str]]) -> tuple[bytes, str]:
        return json.dumps({"branches": self.config.served_branches()}).encode(), "application/json"

    def _get_health(self, query: dict[str, list[str]]) -> tuple[bytes, str]:
        due = self.crl_standing()
        if due is not None and due.status == "fail":
            raise _Problem(HTTPStatus.SERVICE_UNAVAILABLE, crl_alert(due))
        if due is not None and due.status == "warn":
            return f"ok\nwarning: {crl_alert(due)}\n".encode(), "text/plain"
        return b"ok\n", "text/plain"

    def crl_standing(self) -> Due | None:
        """How the client CRL stands at the serve loop's last look (None: no CRL in use)."""
        watch = self._server.crl_watch
        return None if watch is None else watch.due

    def _get_trust_list(self, query: dict[str, list[str]]) -> tuple[bytes, str]:
        try:
            return self.issuer.trust_list(), "application/json"
        except IssueError as exc:
            raise _Problem(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None

    def _get_cancellations(self, query: dict[str, list[str]], branch: str) -> tuple[bytes, str]:
        first = _date(query, "from") or self._today(branch) - timedelta(days=1)
        body = cancellations_document(
            self.store, branch, first, self.config.cancellation_horizon_days
        )
        return body, "application/json"

    def _get_bookings(self, query: dict[str, list[str]], branch: str) -> tuple[bytes, str]:
        day = _date(query, "date")
        if day is None:
            raise _Problem(HTTPStatus.BAD_REQUEST, "add ?date=YYYY-MM-DD")
        self._import_checkins()
        return day_document(self.store, branch, day), "application/json"

    def _get_lookup(self, query: dict[str, list[str]], code: str) -> tuple[bytes, str]:
        try:
            booking_id = codes.normalize(code)
        except codes.BookingCodeError as exc:
            raise _Problem(HTTPStatus.NOT_FOUND, str(exc)) from None
        stored = self.store.booking(booking_id)
        if stored is None:
            raise _Problem(HTTPStatus.NOT_FOUND, "no such booking")
        self._import_checkins()
        checkins = self.store.checkins([booking_id]).get(booking_id, [])
        body = {
            "booking_id": booking_id,
            "token": stored.token,
            "cancelled_at": None if stored.cancelled_at is None else utc_iso(stored.cancelled_at),
            "checkins": [{"kiosk_id": kiosk, "at": utc_iso(at)} for kiosk, at in checkins],
        }
        return json.dumps(body).encode(), "application/json"

    def _today(self, branch: str) -> date:
        return self.clock.now().astimezone(self.config.zone_of(branch)).date()

    def _import_checkins(self) -> None:
        if self.importer is None:
            return
        with self._import_lock:
            added = self.importer.import_new()
        if added:
            logger.info("%d check-in(s) imported from the event store", added)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "lapak-bookings/1"
            protocol_version = "HTTP/1.1"
            timeout = 30  # seconds a connection may stall (TLS handshake included)
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path.startswith(LOOKUP_PREFIX) and not api.lookups.admit(
                    self.client_address[0]
                ):
                    # A code guessed at 180 a second finds a participant's token: slow it down.
                    body = json.dumps({"error": "too many code lookups; wait a minute"}).encode()
                    self._send(HTTPStatus.TOO_MANY_REQUESTS, body, {"Retry-After": "60"})
                    return
                try:
                    body, content_type = api.answer(
                        parts.path, parse_qs(parts.query), _client_name(self.connection)
                    )
                except _Problem as exc:
                    self._send(exc.status, json.dumps({"error": str(exc)}).encode(), {})
                    return
                except Exception:
                    logger.exception("booking API failed on %s", _redacted(parts.path))
                    self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b'{"error":"internal"}', {})
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                headers = {"ETag": etag, "Cache-Control": "no-cache"}
                if etag in _etags(self.headers.get("If-None-Match", "")):
                    self._send(HTTPStatus.NOT_MODIFIED, b"", headers)
                    return
                self._send(HTTPStatus.OK, body, {**headers, "Content-Type": content_type})

            def _send(self, status: HTTPStatus, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                if status != HTTPStatus.OK and "Content-Type" not in headers and body:
                    headers = {**headers, "Content-Type": "application/json"}
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != HTTPStatus.NOT_MODIFIED:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != HTTPStatus.NOT_MODIFIED:
                    self.wfile.write(body)

            def send_error(
                self, code: int, message: str | None = None, explain: str | None = None
            ) -> None:
                """Every refusal in JSON, a malformed request line's too (not an HTML page)."""
                status = HTTPStatus(code)
                self.close_connection = True
                # A line too garbled to name a version reads as HTTP/0.9, which has no headers.
                if self.request_version == "HTTP/0.9":
                    self.request_version = "HTTP/1.0"
                body = json.dumps({"error": message or status.phrase}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD" and status >= 200:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                # Booking codes fetch a participant's token: never in a log, at any level.
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("%s %s", self.address_string(), _redacted(format % args))

        return Handler


def _client_name(connection: object) -> str | None:
    """The CN of the client certificate on a mutual-TLS connection, else None."""
    if not isinstance(connection, ssl.SSLSocket):
        return None
    peer = connection.getpeercert()
    if not peer:
        return None
    subject = peer.get("subject", ())
    for rdn in subject if isinstance(subject, tuple) else ():
        for pair in rdn:
            if isinstance(pair, tuple) and len(pair) == 2 and pair[0] == "commonName":
                return str(pair[1])
    return None


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}


def _date(query: dict[str, list[str]], name: str) -> date | None:
    values = query.get(name)
    if not values:
        return None
    try:
        value = date.fromisoformat(values[0])
    except ValueError:
        raise _Problem(
            HTTPStatus.BAD_REQUEST, f"{name}={values[0][:40]!r} is not YYYY-MM-DD"
        ) from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise _Problem(
            HTTPStatus.BAD_REQUEST, f"{name}={value} is outside {FIRST_DAY} .. {LAST_DAY}"
        )
    return value


def _redacted(text: str) -> str:
    """`text` with any booking code in a lookup path replaced."""
    return _LOOKUP_CODE.sub(LOOKUP_PREFIX + "<code>", text)
