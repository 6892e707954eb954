"""One careful HTTP client for every connector: timeouts, backoff with jitter, rate limits, plain errors."""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import requests

from .base import CredentialsRefused, Offline, PermanentError, RemoteError

log = logging.getLogger(__name__)

# Statuses where the remote did not act on the request or failed in a way that may pass.
_RETRY_STATUSES = {408, 409, 500, 502, 503, 504, 520, 522, 524}
_IDEMPOTENT_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
_CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"


_REQUEST_LINE = re.compile(r"^[A-Z]+ /\S*: ")


def plain_error(error: str) -> str:
    """An error as a person reads it on a screen: without the request it came from ('GET /admin/api/…: '),
    which stays in the log and the tooltip. The Python exception's name goes too."""
    text = _REQUEST_LINE.sub("", error or "")
    return re.sub(r" \((?:[A-Z][A-Za-z]+Error|Timeout|ConnectTimeout|ReadTimeout)\)$", "", text)


@dataclass(frozen=True)
class Reply:
    """What the remote answered: status, headers, parsed JSON (or None) and the raw bytes."""

    status: int
    headers: Mapping[str, str]
    data: Any
    content: bytes
    links: dict[str, str] = field(default_factory=dict)  # rel -> URL, from the Link header


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


_LINK_RE = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]+)*)')


def parse_link_header(value: str | None) -> dict[str, str]:
    """RFC 8288 Link header -> {rel: url}; Shopify uses it for cursor pagination."""
    links: dict[str, str] = {}
    for m in _LINK_RE.finditer(value or ""):
        url, params = m.group(1), m.group(2)
        rel = re.search(r'rel\s*=\s*"?([^";,]+)"?', params)
        if rel:
            for name in rel.group(1).split():
                links[name] = url
    return links


def remote_message(data: Any) -> str:
    """The remote's own words from an error body (Shopify ``errors``/``error``, EasyPost ``error``)."""
    if not isinstance(data, dict):
        return ""
    err = data.get("error")
    if isinstance(err, dict):  # EasyPost: {"error": {"code", "message", "errors": [{"field", "message"}]}}
        parts = [str(err.get("message") or err.get("code") or "").strip()]
        details = err.get("errors") or []
        if isinstance(details, list):
            for d in details:
                if isinstance(d, dict):
                    text = ": ".join(str(d[k]) for k in ("field", "message") if d.get(k))
                    if text:
                        parts.append(text)
                elif d:
                    parts.append(str(d))
        return "; ".join(p for p in parts if p)
    if isinstance(err, str) and err:
        desc = data.get("error_description")
        return f"{err}: {desc}" if desc else err
    errors = data.get("errors")  # Shopify: a string, a list, or {field: [messages]}
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):  # Amazon SP-API: [{"code", "message", "details"}]
        return "; ".join(": ".join(str(e[k]) for k in ("code", "message", "details") if e.get(k)) if isinstance(e, dict)
                         else str(e) for e in errors)
    if isinstance(errors, dict):
        parts = []
        for key, value in errors.items():
            msgs = value if isinstance(value, list) else [value]
            text = ", ".join(str(m) for m in msgs)
            parts.append(text if key == "base" else f"{key}: {text}")
        return "; ".join(parts)
    if isinstance(data.get("message"), str):
        return data["message"]
    return ""


def _was_not_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the remote (so even a POST may be repeated)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return any(s in text for s in ("NewConnectionError", "Connection refused", "NameResolutionError", "Failed to resolve"))


class HttpClient:
    """A requests.Session with timeouts, retries and rate-limit manners.

    Requests that may have reached the remote (read timeout, dropped connection, 5xx) are
    repeated here only when they are idempotent: GET/PUT/DELETE, or ``idempotent=True``.
    A POST is otherwise raised at once as retryable, and the outbox tries the whole
    message again later, where the connector reads before it writes.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] = (3.05, 15),
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        auth: tuple[str, str] | None = None,
        bucket_leak_per_second: float = 2.0,
        bucket_headroom: int = 4,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(self.base_url)
        self._headers = dict(headers or {})
        self._auth = auth
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.bucket_leak_per_second = bucket_leak_per_second
        self.bucket_headroom = bucket_headroom
        self.session = session or requests.Session()
        self.session.trust_env = False  # no proxy or .netrc surprises: credentials come only from us

    def close(self) -> None:
        self.session.close()

    # -- public calls ---------------------------------------------------------------------

    def get(self, path: str, *, params: Mapping[str, Any] | None = None, **kw) -> Reply:
        return self.request("GET", path, params=params, **kw)

    def post(self, path: str, *, json_body: Any = None, **kw) -> Reply:
        return self.request("POST", path, json_body=json_body, **kw)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        expect_json: bool = True,
        form: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> Reply:
        """One call; ``form`` sends an HTML form body (an OAuth token grant) instead of ``json_body``, and
        ``content`` these exact bytes (a body that is signed, so it must go as it was signed)."""
        method = method.upper()
        url = self.url(path)
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        send_headers = {"Accept": "application/json", "User-Agent": "Quayside-OMS"}
        auth = None
        if _origin(url) == self._origin:  # never hand our credentials to another host (e.g. a label CDN)
            send_headers.update(self._headers)
            auth = self._auth
        send_headers.update(headers or {})
        what = f"{method} {_safe_path(url)}"
        last_error: RemoteError | None = None
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                resp = self.session.request(method, url, params=params, json=json_body,
                                            data=content if content is not None else form, headers=send_headers,
                                            auth=auth, timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
                last_error = Offline(f"{what}: {kind} ({type(exc).__name__})")
                log.info("%s: %s on attempt %d", what, type(exc).__name__, attempt)
                if last or not (idempotent or _was_not_sent(exc)):
                    raise last_error from None
                self._backoff(attempt)
                continue

            status = resp.status_code
            if status != 429:
                self._respect_bucket(resp.headers)
            log.debug("%s -> %d", what, status)
            if status == 429:
                wait = parse_retry_after(resp.headers.get("Retry-After"))
                message = remote_message(_loads(resp.content)) or "Too many requests"
                last_error = RemoteError(f"{what}: rate limited: {message}", status=429, retryable=True, retry_after=wait)
                # A wait longer than our own ceiling belongs to the outbox scheduler, not a blocked worker.
                if last or (wait is not None and wait > self.backoff_max):
                    raise last_error
                self.sleep(wait if wait is not None else self._jitter(attempt))
                continue
            if status in _RETRY_STATUSES or status >= 500:
                message = remote_message(_loads(resp.content)) or resp.reason or "server error"
                last_error = RemoteError(f"{what}: the server answered {status}: {message}", status=status, retryable=True,
                                         retry_after=parse_retry_after(resp.headers.get("Retry-After")))
                if last or not idempotent:
                    raise last_error
                self._backoff(attempt)
                continue
            if 300 <= status < 400:
                raise RemoteError(f"{what}: unexpected redirect ({status}) to {_safe_path(resp.headers.get('Location', ''))}",
                                  status=status, retryable=False)
            if status >= 400:
                message = remote_message(_loads(resp.content)) or resp.reason or "request refused"
                if status in (401, 403):
                    raise CredentialsRefused(f"{what}: {status} {message}", status=status)
                raise PermanentError(f"{what}: {status} {message}", status=status)

            links = parse_link_header(resp.headers.get("Link"))
            if not expect_json:
                return Reply(status, resp.headers, None, resp.content, links)
            if not resp.content.strip():
                return Reply(status, resp.headers, None, resp.content, links)
            data = _loads(resp.content, strict=True)
            if data is _MALFORMED:
                last_error = RemoteError(f"{what}: the server sent a reply that is not valid JSON", status=status, retryable=True)
                log.info("%s: malformed JSON body on attempt %d", what, attempt)
                if last or not idempotent:
                    raise last_error
                self._backoff(attempt)
                continue
            return Reply(status, resp.headers, data, resp.content, links)
        raise last_error or RemoteError(f"{what}: gave up")  # pragma: no cover - loop always returns or raises

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- pacing -----------------------------------------------------------------------------

    def _jitter(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]."""
        return self.rng.uniform(0, min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1))))

    def _backoff(self, attempt: int) -> None:
        self.sleep(self._jitter(attempt))

    def _respect_bucket(self, headers: Mapping[str, str]) -> None:
        """Shopify's leaky bucket: when only a few calls are left, wait for it to drain a little."""
        value = headers.get(_CALL_LIMIT_HEADER)
        if not value:
            return
        try:
            used, size = (int(x) for x in value.split("/", 1))
        except ValueError:
            return
        over = used - (size - self.bucket_headroom)
        if over >= 0 and self.bucket_leak_per_second > 0:
            self.sleep((over + 1) / self.bucket_leak_per_second)


_MALFORMED = object()


def _loads(content: bytes, *, strict: bool = False) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _MALFORMED if strict else None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _safe_path(url: str) -> str:
    """The path only: query strings can carry cursors or, on some APIs, keys; hosts are noise."""
    return urlsplit(url).path or "/"
