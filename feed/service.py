"""The outbound feed's API: read a page of events after a cursor, or push them to a webhook.

``ringscope sanction feed`` calls these. Both first end the sanctions whose time is up (``expire_due``, audited as
``system``, exactly what ``ringscope sanction expire`` does), so an expiry reaches the feed as a
``sanction.expired`` event, once, at its place in the order, without a separate cron job; a second reader or a
concurrent ``expire`` finds nothing left to end. Then they read the audit log after the cursor
(``audit.log.entries_after``) and map each entry (``feed/events.py``).

* Pull (``read``): exactly once and in order for a consumer that stores the ``cursor`` of the last event it
  processed, with the effect of that event, and passes it back.
* Push (``deliver``): batches of ``batch`` events, each signed and retried (``feed/webhook.py``); the state file's
  cursor moves only after a 2xx (``feed/cursor.py``). At least once: a crash between the answer and the write
  sends that batch again, so receivers deduplicate by ``event_id`` (or ignore cursors they have seen).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from ringscope.audit import log as audit
from ringscope.auth.roles import Actor
from ringscope.common.errors import SettingError
from ringscope.feed import webhook
from ringscope.feed.cursor import CursorFile
from ringscope.feed.events import ACTIONS, FeedEvent, events_of
from ringscope.graph.database import Graph
from ringscope.sanctions import service as sanctions

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class FeedPage:
    since: int  # the cursor asked for
    cursor: int  # resume from here: the last event's cursor, or ``since`` when there is none
    events: tuple[FeedEvent, ...]
    more: bool  # the page is full: more may follow at once
    head: int  # the audit log's last entry when the page was read
    expired: tuple[str, ...] = ()  # sanctions this call ended first (their events are in this page or a later one)


@dataclass(frozen=True)
class DeliveryReport:
    since: int  # the cursor the delivery started from
    cursor: int  # the cursor now saved: everything up to it was taken with a 2xx
    batches: int
    events: int
    attempts: int  # POSTs made, retries included
    expired: tuple[str, ...] = ()


def _check_limit(limit: int, setting: str) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise SettingError(f"{setting} must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    return limit


def read(graph: Graph, since: int, *, reader: Actor | None = None, limit: int = 1000, now: datetime | None = None,
         expire: bool = True, setting: str = "--since") -> FeedPage:
    """At most ``limit`` events after cursor ``since``, oldest first; free text masked unless ``reader`` may
    see personal data. With ``expire`` (the default) sanctions whose time is up are ended first. ``setting``
    names where ``since`` came from in a refusal."""
    _check_limit(limit, "--limit")
    expired = sanctions.expire_due(graph, now=now).expired if expire else ()
    head = audit.head(graph)["seq"]
    if since < 0 or since > head:
        raise SettingError(f"{setting}: {since} is not a cursor of this audit log (its last entry is {head}): a cursor "
                           "comes from an event this feed gave; after `ringscope reset` the log starts again, "
                           "so read it again from 0")
    entries = audit.entries_after(graph, since, list(ACTIONS), limit)
    return FeedPage(since, entries[-1].seq if entries else since, tuple(events_of(entries, reader)),
                    len(entries) == limit, max(head, entries[-1].seq if entries else 0), tuple(expired))


def deliver(graph: Graph, endpoint: webhook.Endpoint, state: CursorFile, *, since: int = 0,
            reader: Actor | None = None, batch: int = 100, now: datetime | None = None,
            sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    """Push every event after the state file's cursor (``since`` when the file does not exist yet) to
    ``endpoint``, ``batch`` events per POST, saving the cursor after each 2xx. Raises
    ``webhook.DeliveryFailed`` when a batch is refused or not taken in the attempts (the cursor then stays at
    the last batch taken). ``state`` must be entered (locked) by the caller."""
    _check_limit(batch, "--batch")
    saved = state.load(default=None)
    start = cursor = since if saved is None else saved
    origin = "--since" if saved is None else state.setting  # where the cursor came from, for a refusal
    batches = events = attempts = 0
    expired: tuple[str, ...] = ()
    while True:
        page = read(graph, cursor, reader=reader, limit=batch, now=now, expire=batches == 0, setting=origin)
        expired = expired or page.expired
        if not page.events:
            break
        body = webhook.batch_body(page.since, page.cursor, page.events)
        done = webhook.post(endpoint, body, f"{page.since}-{page.cursor}", sleep=sleep)
        state.save(page.cursor)
        cursor = page.cursor
        batches, events, attempts = batches + 1, events + len(page.events), attempts + len(done.attempts)
        if not page.more:
            break
    return DeliveryReport(start, cursor, batches, events, attempts, expired)
