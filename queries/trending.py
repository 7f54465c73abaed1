"""The trending list over time and each entry's integrity, as the latest completed run rated it.

The list is the ``TrendingEntry`` nodes the trending file loaded (one per topic and capture); the ratings are what
``trending_heat`` stored on its run (``DetectionRun.ratings``, JSON: each rise's time, rank, pre-rise volume,
shares by source, integrity and the run's cluster ids behind it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from ringscope.graph.database import Graph

# The captures in a time range, newest first, each with its entries in rank order.
CAPTURES = """
MATCH (e:TrendingEntry) WHERE e.captured_at >= $since AND e.captured_at <= $until
WITH e ORDER BY e.captured_at DESC, e.rank, e.topic
RETURN e.captured_at AS captured_at, collect({rank: e.rank, topic: e.topic, score: e.score}) AS entries
ORDER BY captured_at DESC LIMIT $limit
"""
SPAN = "MATCH (e:TrendingEntry) RETURN min(e.captured_at) AS first, max(e.captured_at) AS last, count(e) AS rows"
RATINGS = """
MATCH (r:DetectionRun {status: 'completed'}) WHERE r.ratings IS NOT NULL
RETURN r.run_id AS run_id, r.ratings AS ratings ORDER BY r.started_at DESC LIMIT 1
"""
TOPIC_HISTORY = """
MATCH (e:TrendingEntry {topic: $topic})
RETURN e.captured_at AS captured_at, e.rank AS rank, e.score AS score ORDER BY captured_at
"""


@dataclass(frozen=True)
class ListSpan:
    first: datetime | None
    last: datetime | None
    rows: int


@dataclass(frozen=True)
class ListedTopic:
    rank: int
    topic: str
    score: int | None


@dataclass(frozen=True)
class Capture:
    captured_at: datetime
    entries: tuple[ListedTopic, ...]


@dataclass(frozen=True)
class EntryRating:
    """One rise of a topic onto the list, as trending_heat rated it."""

    entry_id: str
    topic: str
    rose_at: str
    rank: int
    kind: str  # entered or climbed
    events_before: int
    accounts_before: int
    flagged_share: float | None
    cluster_share: float | None
    young_share: float | None
    integrity: float | None  # None: too little engagement before the rise to rate
    clusters: tuple[str, ...]
    # (detector, share of the pre-rise engagement from flagged accounts it has evidence on), largest first;
    # empty for runs made before it was stored
    flagged_by_detector: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Ratings:
    run_id: str | None
    entries: tuple[EntryRating, ...]


@dataclass(frozen=True)
class RankPoint:
    captured_at: datetime
    rank: int
    score: int | None


def span(graph: Graph) -> ListSpan:
    row = graph.read(SPAN)[0]
    return ListSpan(row["first"], row["last"], row["rows"])


def captures(graph: Graph, since: datetime, until: datetime, limit: int = 500) -> list[Capture]:
    """The list's captures between ``since`` and ``until``, newest first (at most ``limit``)."""
    return [Capture(r["captured_at"], tuple(ListedTopic(e["rank"], e["topic"], e["score"]) for e in r["entries"]))
            for r in graph.read(CAPTURES, since=since, until=until, limit=limit)]


def ratings(graph: Graph) -> Ratings:
    """The rises the latest completed run with ratings rated, newest first."""
    rows = graph.read(RATINGS)
    if not rows:
        return Ratings(None, ())
    stored = json.loads(rows[0]["ratings"] or "{}").get("trending_heat", [])
    fields = EntryRating.__dataclass_fields__
    entries = [EntryRating(**{**{k: v for k, v in x.items() if k in fields}, "clusters": tuple(x.get("clusters", ())),
                              "flagged_by_detector": tuple((str(d), float(v)) for d, v in
                                                           (x.get("flagged_by_detector") or {}).items())})
               for x in stored]
    return Ratings(rows[0]["run_id"], tuple(sorted(entries, key=lambda e: e.rose_at, reverse=True)))


def topic_history(graph: Graph, topic: str) -> list[RankPoint]:
    """Every capture that listed ``topic``, oldest first."""
    return [RankPoint(r["captured_at"], r["rank"], r["score"]) for r in graph.read(TOPIC_HISTORY, topic=topic)]
