"""HTTP to the back-office booking API: one requests session with timeouts and retries."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kiosk.booking.config import BookingConfig
from kiosk.errors import KioskError

RETRY_STATUSES = (429, 502, 503, 504)


class ApiUnavailable(KioskError, ConnectionError):
    """The back office could not be reached or answered with a server error."""


def make_session(config: BookingConfig, retries: int | None = None) -> requests.Session:
    """A session retrying GETs on connection errors and 429/502/503/504, with backoff.

    Args:
        config: Retries and backoff come from here.
        retries: Override of `config.http_retries` (the typed-code lookup uses fewer).
    """
    total = config.http_retries if retries is None else retries
    retry = Retry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=config.retry_backoff_s,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["Accept"] = "application/json"
    if config.tls_ca_file is not None:
        session.verify = str(config.tls_ca_file)
    if config.tls_cert_file is not None and config.tls_key_file is not None:
        session.cert = (str(config.tls_cert_file), str(config.tls_key_file))
    return session


def get(
    session: requests.Session,
    config: BookingConfig,
    path: str,
    *,
    etag: str | None = None,
    params: dict[str, str] | None = None,
) -> requests.Response:
    """GET `path` under the API base URL, conditionally when an ETag is held.

    Returns:
        The response (200, 304, 404, ...).

    Raises:
        ApiUnavailable: no API configured, connection failed or timed out, or a 5xx answer.
    """
    if config.api_base_url is None:
        raise ApiUnavailable("no api_base_url configured")
    headers = {"If-None-Match": etag} if etag else {}
    url = config.api_base_url.rstrip("/") + path
    try:
        response = session.get(
            url,
            headers=headers,
            params=params,
            timeout=(config.connect_timeout_s, config.read_timeout_s),
            # Passed per request: requests lets REQUESTS_CA_BUNDLE override a session's verify.
            verify=str(config.tls_ca_file) if config.tls_ca_file is not None else True,
        )
    except requests.RequestException as exc:
        raise ApiUnavailable(f"{path}: {type(exc).__name__}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise ApiUnavailable(f"{path}: HTTP {response.status_code}")
    return response
