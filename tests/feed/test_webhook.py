"""Webhook delivery without the database: the signature, the retry rules and backoff, and real POSTs to a local
receiver that fails the first attempts, refuses, redirects or is not there."""

from __future__ import annotations

import json
import time

import pytest

from ringscope.common.errors import SettingError
from ringscope.feed import webhook
from ringscope.feed.webhook import (DELIVERY_HEADER, SIGNATURE_HEADER, DeliveryFailed, backoff_delay, batch_body,
                                    endpoint, retry_after, retryable, signature, verify_signature)
from tests.feed.conftest import SECRET

KEY = SECRET.encode()
BODY = batch_body(0, 3, [])


def test_the_signature_covers_the_timestamp_and_the_body():
    header = signature(KEY, 1_700_000_000, BODY)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(KEY, header, BODY, now=1_700_000_100)
    assert not verify_signature(KEY, header, BODY + b" ", now=1_700_000_100)  # another body
    assert not verify_signature(b"another-secret-of-16+", header, BODY, now=1_700_000_100)
    assert not verify_signature(KEY, header.replace("t=1700000000", "t=1700000099"), BODY, now=1_700_000_100)
    assert not verify_signature(KEY, header, BODY, now=1_700_000_000 + webhook.TOLERANCE_SECONDS + 1)  # a replay
    assert not verify_signature(KEY, "", BODY, now=0) and not verify_signature(KEY, "t=x,v1=y", BODY, now=0)


def test_what_is_retried_and_how_long_it_waits():
    assert all(retryable(s) for s in (None, 500, 502, 503, 504, 408, 429))
    assert not any(retryable(s) for s in (400, 401, 403, 404, 410, 301, 302, 307))
    # full jitter: uniform below base * 2**(n-1), capped
    assert [backoff_delay(n, 1.0, 60.0, lambda: 0.999) for n in (1, 2, 3, 7, 8)] == pytest.approx(
        [0.999, 1.998, 3.996, 59.94, 59.94])
    assert backoff_delay(5, 1.0, 60.0, lambda: 0.0) == 0.0
    assert retry_after("7", 60) == 7 and retry_after("600", 60) == 60 and retry_after("-3", 60) == 0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60) is None and retry_after("nan", 60) is None


@pytest.mark.parametrize("url,secret,message", [
    ("file:///etc/passwd", SECRET, "--webhook must be an http:// or https:// URL"),
    ("http://", SECRET, "--webhook must be an http:// or https:// URL"),
    ("http://127.0.0.1:99999/hook", SECRET, "--webhook must be an http:// or https:// URL with a host \\(and a "
                                            "valid port\\)"),
    ("https://platform.example/hook", None, "FEED_SECRET is not set"),
    ("https://platform.example/hook", "short", "FEED_SECRET is too short"),
])
def test_bad_settings_are_named(url, secret, message):
    with pytest.raises(SettingError, match=message):
        endpoint(url, secret, "FEED_SECRET")


def test_the_shown_url_never_carries_a_token():
    ep = endpoint("https://user:pw@platform.example:8443/hook?token=abc", SECRET, "V")
    assert ep.shown == "https://platform.example:8443/hook"


def test_server_errors_are_retried_with_backoff_until_taken(receiver):
    receiver.answer(503, 500, (429, {"Retry-After": "2"}))
    waits = []
    done = webhook.post(endpoint(receiver.url, SECRET, "V", attempts=6, backoff=0.5), BODY, "0-3",
                        sleep=waits.append, draw=lambda: 1.0)
    assert done.status == 200 and [a.status for a in done.attempts] == [503, 500, 429, 200]
    assert waits == [0.5, 1.0, 2.0]  # backoff, backoff doubled, then the receiver's Retry-After
    assert all(r.signed and r.body == BODY for r in receiver.received)
    assert {r.headers[DELIVERY_HEADER] for r in receiver.received} == {"0-3"}
    assert receiver.received[0].headers["Content-Type"] == "application/json"


def test_a_client_error_is_not_retried(receiver):
    receiver.answer(400)
    with pytest.raises(DeliveryFailed) as failed:
        webhook.post(endpoint(receiver.url, SECRET, "V"), BODY, "0-3", sleep=lambda s: None)
    assert len(receiver.received) == 1
    message = str(failed.value)
    assert "refused the batch 0-3: HTTP 400: no; not retried" in message
    assert "token" not in message and "/hooks/ringscope" in message


def test_a_wrong_secret_is_refused_by_the_receiver(receiver):
    with pytest.raises(DeliveryFailed, match="HTTP 401"):
        webhook.post(endpoint(receiver.url, "not-the-shared-secret", "V"), BODY, "0-3", sleep=lambda s: None)
    assert [r.signed for r in receiver.received] == [False]


def test_a_redirect_is_not_followed(receiver):
    receiver.answer((307, {"Location": "http://127.0.0.1:9/elsewhere"}))
    with pytest.raises(DeliveryFailed, match="HTTP 307 \\(redirects are not followed\\)"):
        webhook.post(endpoint(receiver.url, SECRET, "V"), BODY, "0-3", sleep=lambda s: None)
    assert len(receiver.received) == 1


def test_an_unreachable_webhook_fails_after_the_attempts(closed_url):
    waits = []
    with pytest.raises(DeliveryFailed) as failed:
        webhook.post(endpoint(closed_url, SECRET, "V", attempts=3, backoff=0.25), BODY, "0-3", sleep=waits.append,
                     draw=lambda: 0.5)
    assert waits == [0.125, 0.25]
    assert f"--webhook {closed_url} did not take the batch 0-3 in 3 attempts (last: " in str(failed.value)
    assert "run again to retry" in str(failed.value)


def test_each_attempt_is_signed_at_its_own_time(receiver):
    receiver.answer(503)
    start = int(time.time())
    clock = iter([float(start), float(start + 60)])
    webhook.post(endpoint(receiver.url, SECRET, "V"), BODY, "0-3", sleep=lambda s: None, clock=lambda: next(clock))
    stamps = [r.headers[SIGNATURE_HEADER].split(",")[0] for r in receiver.received]
    assert stamps == [f"t={start}", f"t={start + 60}"] and [r.status for r in receiver.received] == [503, 200]


def test_the_batch_body_is_plain_json():
    assert json.loads(BODY) == {"feed_version": 1, "since": 0, "cursor": 3, "events": []}


def test_an_answer_that_is_not_http_is_retried_then_named():
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"SMTP ready\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(DeliveryFailed, match="in 2 attempts \\(last: "):
            webhook.post(endpoint(f"http://127.0.0.1:{port}/hook", SECRET, "V", attempts=2), BODY, "0-3",
                         sleep=lambda s: None)
    finally:
        thread.join(timeout=30)
        listener.close()
