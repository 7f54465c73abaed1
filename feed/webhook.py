"""Pushing the feed to a platform's webhook: signed JSON batches, retries with backoff, no redirects.

Standard library only (``urllib``). A batch is one ``POST`` of ``{"feed_version", "since", "cursor", "events"}``
with the headers

* ``X-Ringscope-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body, keyed by the shared secret>``
  (the scheme Stripe uses: the timestamp is signed with the body, so a receiver that refuses timestamps older
  than a few minutes refuses a replayed request; ``verify_signature`` is the receiver's check);
* ``X-Ringscope-Delivery: <since>-<cursor>``, the batch's cursor range.

A 2xx answer is delivery. Connection errors, timeouts, 5xx, 408 and 429 are retried, up to ``attempts`` in all,
after a wait drawn at random between 0 and ``backoff * 2**(n-1)`` seconds (capped at ``max_backoff``; "full
jitter", so many senders do not retry in step); a ``Retry-After`` in seconds is honoured up to the cap. Any other
answer (4xx, and 3xx: redirects are not followed, a signed body is not sent on to another address) stops at once.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable, Sequence

from ringscope.common.errors import RingscopeError, SettingError
from ringscope.feed.events import FEED_VERSION, FeedEvent

SIGNATURE_HEADER = "X-Ringscope-Signature"
DELIVERY_HEADER = "X-Ringscope-Delivery"
TOLERANCE_SECONDS = 300  # what a receiver should accept between the signed timestamp and its clock
RETRY_STATUSES = frozenset({408, 429})
MIN_SECRET_BYTES = 16


class DeliveryFailed(RingscopeError):
    """The webhook did not take a batch: refused it, or could not be reached within the attempts."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret: bytes
    timeout: float = 10.0  # seconds per attempt
    attempts: int = 6  # in all, the first included
    backoff: float = 1.0  # seconds: the first retry waits up to this, each next one up to twice as long
    max_backoff: float = 60.0

    @property
    def shown(self) -> str:
        """The URL for messages: no user, password or query (they may hold a token)."""
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class Attempt:
    number: int
    status: int | None  # the HTTP status, or None when no answer came
    error: str  # what went wrong, in words ("" on success)
    waited: float  # seconds slept before this attempt


@dataclass(frozen=True)
class Delivered:
    status: int
    attempts: tuple[Attempt, ...]


def endpoint(url: str, secret: str | None, secret_setting: str, *, timeout: float = 10.0, attempts: int = 6,
             backoff: float = 1.0, max_backoff: float = 60.0) -> Endpoint:
    """A checked endpoint; a bad value stops with the setting's name (``--webhook``, the secret's variable, ...)."""
    parts = urllib.parse.urlsplit(url or "")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingError(f"--webhook must be an http:// or https:// URL with a host (and a valid port), not "
                           f"{url[:200]!r}")
    if not secret:
        raise SettingError(f"{secret_setting} is not set: the webhook's shared secret signs every batch "
                           f"(set {secret_setting}, or name another variable with --secret-env)")
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise SettingError(f"{secret_setting} is too short for an HMAC key: at least {MIN_SECRET_BYTES} bytes")
    if not 1 <= attempts <= 100:
        raise SettingError(f"--attempts must be from 1 to 100, not {attempts}")
    if not 0 < timeout <= 600:
        raise SettingError(f"--timeout must be more than 0 and at most 600 seconds, not {timeout}")
    if not 0 <= backoff <= max_backoff:
        raise SettingError(f"--backoff must be from 0 to {max_backoff:g} seconds, not {backoff}")
    return Endpoint(url, secret.encode("utf-8"), timeout, attempts, backoff, max_backoff)


# --------------------------------------------------------------------------- the signature (pure)

def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: bytes, header: str, body: bytes, now: float,
                     tolerance: int = TOLERANCE_SECONDS) -> bool:
    """A receiver's check: the header signs exactly ``body`` with ``secret``, at a time within ``tolerance``
    seconds of ``now``. Compares in constant time."""
    fields: dict[str, list[str]] = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", ()))


def batch_body(since: int, cursor: int, events: Sequence[FeedEvent]) -> bytes:
    return json.dumps({"feed_version": FEED_VERSION, "since": since, "cursor": cursor,
                       "events": [e.as_dict() for e in events]},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- retries (pure)

def retryable(status: int | None) -> bool:
    """No answer, a server error, a timeout or too many requests: try again. Anything else is final."""
    return status is None or status >= 500 or status in RETRY_STATUSES


def backoff_delay(retry: int, base: float, cap: float, draw: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...): uniform in [0, min(cap, base * 2**(retry-1)))."""
    return draw() * min(cap, base * 2 ** (retry - 1))


def retry_after(value: str | None, cap: float) -> float | None:
    """A ``Retry-After`` in seconds, capped; None for a date or anything else (the backoff applies)."""
    try:
        seconds = float((value or "").strip())
    except ValueError:
        return None
    return min(max(seconds, 0.0), cap) if seconds == seconds else None


# --------------------------------------------------------------------------- sending

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)
_MAX_ANSWER = 65_536


def _send(ep: Endpoint, body: bytes, delivery_id: str, clock: Callable[[], float]) -> tuple[int | None, str, str]:
    """One POST: (status, what went wrong or "", Retry-After)."""
    request = urllib.request.Request(ep.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "ringscope-feed/1",
        SIGNATURE_HEADER: signature(ep.secret, int(clock()), body), DELIVERY_HEADER: delivery_id})
    try:
        with _OPENER.open(request, timeout=ep.timeout) as answer:
            answer.read(_MAX_ANSWER)
            return answer.status, "", ""
    except urllib.error.HTTPError as exc:
        text = exc.read(_MAX_ANSWER).decode("utf-8", "replace").strip().splitlines()
        said = f": {text[0][:200]}" if text else ""
        hint = " (redirects are not followed)" if 300 <= exc.code < 400 else ""
        return exc.code, f"HTTP {exc.code}{hint}{said}", exc.headers.get("Retry-After", "")
    except urllib.error.URLError as exc:
        return None, f"{exc.reason}", ""
    except (TimeoutError, OSError, http.client.HTTPException) as exc:  # a timeout reading the answer, a reset
        return None, str(exc) or type(exc).__name__, ""  # connection, an answer that is not HTTP


def post(ep: Endpoint, body: bytes, delivery_id: str, *, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.time, draw: Callable[[], float] = random.random) -> Delivered:
    """POST ``body`` until a 2xx, a final answer or the last attempt; each attempt signed afresh (a late retry
    carries a current timestamp). Raises ``DeliveryFailed`` naming the endpoint and the last answer."""
    attempts: list[Attempt] = []
    waited = 0.0
    for number in range(1, ep.attempts + 1):
        if number > 1:
            sleep(waited)
        status, error, after = _send(ep, body, delivery_id, clock)
        attempts.append(Attempt(number, status, error, waited))
        if status is not None and 200 <= status < 300:
            return Delivered(status, tuple(attempts))
        if not retryable(status):
            raise DeliveryFailed(f"the webhook --webhook {ep.shown} refused the batch {delivery_id}: {error}; "
                                 "not retried (fix the receiver, then run again: nothing after the last delivered "
                                 "cursor was marked delivered)")
        waited = retry_after(after, ep.max_backoff) if after else None
        if waited is None:
            waited = backoff_delay(number, ep.backoff, ep.max_backoff, draw)
    last = attempts[-1].error
    raise DeliveryFailed(f"the webhook --webhook {ep.shown} did not take the batch {delivery_id} in "
                         f"{ep.attempts} attempts (last: {last}); nothing after the last delivered cursor was marked "
                         "delivered: run again to retry")
