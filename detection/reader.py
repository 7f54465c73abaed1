"""The thin reader: the platform graph as plain frames with the input format's columns.

Detectors never see the driver. Each kind of record is read as columns, in
slices: one statement per slice of its anchor's key range (accounts by
``account_id``, comments by ``comment_id``, notes by ``note_id``; the unique
constraints give range indexes on those keys, so a slice is an index seek)
returns one row of ``collect()``ed lists, which the driver decodes far faster
than a record per row; slices are read on ``THREADS`` threads and joined in
key order. The slice bounds come from one ordered index scan of the anchor's
keys (every ``SLICE``-th key). ``collect()`` drops nulls, so every value is
collected as ``coalesce(value, $null)`` with a marker string that no data
holds and turned back into ``None`` here. Small kinds (orders, sanctions,
intermediary links) are one slice.

Timestamps come out of Neo4j as epoch milliseconds (cheap to transfer) and
become ``datetime64[ns, UTC]`` columns. ``GroundTruth`` is never read here.
A run as of a time (``detect --as-of``) reads everything, as any run, and then cuts the frames by their
timestamps to what had happened by then (``detection/as_of.py``), from the graph and the snapshot alike.
Nodes that lack their key (never written by ``ringscope ingest``) are not read.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq

from ringscope.detection.frames import PlatformFrames
from ringscope.graph.database import Graph
from ringscope.graph.model import SANCTION_TARGETS
from ringscope.graph.snapshot import Snapshot

THREADS = 2
SLICE = {"account": 50_000, "comment": 150_000, "note": 100_000}
# Stands for null inside collect()ed lists (collect() drops nulls, which would shift the columns).
NULL = "\x00ringscope:null\x00"


@dataclass(frozen=True)
class Kind:
    """One kind of record: its statement (``{where}`` is the slice's key range), anchor and columns."""

    name: str
    match: str                        # MATCH ... WHERE {where} ... (everything before RETURN)
    columns: tuple[tuple[str, str], ...]  # (column, Cypher expression)
    anchor: str | None                # "account", "comment", "note", or None: one statement
    anchor_var: str = ""              # the variable bound to the anchor node in ``match``

    def statement(self, bounded_above: bool) -> str:
        returns = ", ".join(f"collect(coalesce({expr}, $null)) AS {column}" for column, expr in self.columns)
        key = f"{self.anchor_var}.{self.anchor}_id"
        where = f"{key} >= $lo" + (f" AND {key} < $hi" if bounded_above else "") if self.anchor else "true"
        return f"{self.match.format(where=where)}\nRETURN {returns}"


ACCOUNTS = Kind("accounts", """
MATCH (a:Account) WHERE {where}
OPTIONAL MATCH (a)-[:REGISTERED_FROM]->(ip:IP)
OPTIONAL MATCH (a)-[:IN_PHONE_SEGMENT]->(seg:PhoneSegment)
OPTIONAL MATCH (a)-[:HAS_PHONE]->(ph:Phone)""", (
    ("account_id", "a.account_id"), ("nickname", "a.nickname"),
    ("registered_at", "a.registered_at.epochMillis"), ("registration_ip", "ip.ip"),
    ("phone_segment", "seg.segment"), ("phone_hash", "ph.phone_hash"),
    ("followers", "a.followers"), ("following", "a.following"),
    ("default_profile", "a.default_profile"), ("is_professional", "a.is_professional"),
    ("bio", "a.bio"), ("status", "a.status"), ("stub", "coalesce(a.stub, false)"),
), "account", "a")

ACCOUNT_DEVICES = Kind("account_devices", """
MATCH (a:Account) WHERE {where}
MATCH (a)-[u:USED_DEVICE]->(d:Device)""", (
    ("account_id", "a.account_id"), ("device_id", "d.device_id"),
    ("first_seen", "u.first_seen.epochMillis"), ("last_seen", "u.last_seen.epochMillis"),
    ("is_emulator", "d.is_emulator"),
), "account", "a")

ACCOUNT_IPS = Kind("account_ips", """
MATCH (a:Account) WHERE {where}
MATCH (a)-[l:LOGGED_IN_FROM]->(ip:IP)""", (
    ("account_id", "a.account_id"), ("ip", "ip.ip"),
    ("first_seen", "l.first_seen.epochMillis"), ("last_seen", "l.last_seen.epochMillis"),
), "account", "a")

NOTES = Kind("notes", """
MATCH (n:Note) WHERE {where}""", (
    ("note_id", "n.note_id"), ("account_id", "n.account_id"), ("posted_at", "n.posted_at.epochMillis"),
    ("brand_id", "n.brand_id"), ("declared_commercial", "n.declared_commercial"), ("text", "n.text"),
    ("topics", "n.topics"), ("client", "n.client"), ("posted_via", "n.posted_via"),
), "note", "n")

COMMENTS = Kind("comments", """
MATCH (c:Comment) WHERE {where} AND c.created_at IS NOT NULL""", (
    ("comment_id", "c.comment_id"), ("account_id", "c.account_id"), ("note_id", "c.note_id"),
    ("created_at", "c.created_at.epochMillis"), ("text", "c.text"), ("reply_to", "c.reply_to"),
    ("device_id", "c.device_id"), ("ip", "c.ip"), ("client", "c.client"), ("posted_via", "c.posted_via"),
), "comment", "c")

ORDERS = Kind("orders", """
MATCH (o:Order)""", (
    ("order_id", "o.order_id"), ("brand_id", "o.brand_id"), ("intermediary_id", "o.intermediary_id"),
    ("account_id", "o.account_id"), ("note_id", "o.note_id"), ("placed_at", "o.placed_at.epochMillis"),
    ("declared", "o.declared"),
), None)

INTERMEDIARY_ACCOUNTS = Kind("intermediary_accounts", """
MATCH (i:Intermediary)-[m:MANAGES]->(a:Account)""", (
    ("intermediary_id", "i.intermediary_id"), ("account_id", "a.account_id"), ("since", "m.since.epochMillis"),
), None)

LIKES = Kind("likes", """
MATCH (a:Account) WHERE {where}
MATCH (a)-[l:LIKED]->(n:Note)""", (
    ("account_id", "a.account_id"), ("note_id", "n.note_id"), ("created_at", "l.created_at.epochMillis"),
), "account", "a")

FOLLOWS = Kind("follows", """
MATCH (a:Account) WHERE {where}
MATCH (a)-[f:FOLLOWS]->(t:Account)""", (
    ("account_id", "a.account_id"), ("target_account_id", "t.account_id"),
    ("created_at", "f.created_at.epochMillis"),
), "account", "a")

# Sanctions in force: imported ones, and ringscope's own while active (not pending
# approval, expired or revoked).
SANCTIONS = Kind("sanctions", """
MATCH (s:Sanction)-[:TARGETS]->(x)
WHERE coalesce(s.state, 'active') = 'active'""", (
    ("sanction_id", "s.sanction_id"), ("target_type", "toLower(labels(x)[0])"),
    # The target's own key (a note also holds its author's account_id, so no coalesce over keys).
    ("target_id", "CASE labels(x)[0] " + " ".join(f"WHEN '{label}' THEN x.{kind}_id"
                                                  for kind, label in SANCTION_TARGETS.items()) + " END"),
    ("action", "s.action"), ("reason", "s.reason"),
    ("issued_at", "s.issued_at.epochMillis"), ("expires_at", "s.expires_at.epochMillis"),
), None)

# The trending list (an extension); in key order, as the snapshot writes it.
TRENDING = Kind("trending", """
MATCH (e:TrendingEntry) WHERE e.captured_at IS NOT NULL
WITH e ORDER BY e.entry_id""", (
    ("captured_at", "e.captured_at.epochMillis"), ("rank", "e.rank"), ("topic", "e.topic"), ("score", "e.score"),
), None)

KINDS = (ACCOUNTS, ACCOUNT_DEVICES, ACCOUNT_IPS, NOTES, COMMENTS, ORDERS, INTERMEDIARY_ACCOUNTS, LIKES,
         FOLLOWS, SANCTIONS, TRENDING)
# Columns holding a list (a note's topics): Arrow gives arrays, the graph lists; frames hold lists.
LIST_COLUMNS = {"topics"}

# Every SLICE-th key of an anchor, in key order: the lower bounds of its slices.
SLICE_STARTS = {
    anchor: f"""
MATCH (x:{anchor.capitalize()}) WHERE x.{anchor}_id IS NOT NULL
WITH x.{anchor}_id AS id ORDER BY id
WITH collect(id) AS ids
RETURN [i IN range(0, size(ids) - 1, $step) | ids[i]] AS starts"""
    for anchor in SLICE
}

WATERMARK = """
CALL () { MATCH (a:Account) RETURN count(a) AS accounts, max(a.registered_at) AS last_registration }
CALL () { MATCH (c:Comment) RETURN count(c) AS comments, max(c.created_at) AS last_comment }
CALL () { MATCH ()-[l:LIKED]->() RETURN count(l) AS likes }
RETURN accounts, toString(last_registration) AS last_registration, comments,
       toString(last_comment) AS last_comment, likes
"""

TIME_COLUMNS = {"registered_at", "first_seen", "last_seen", "posted_at", "created_at", "placed_at",
                "since", "issued_at", "expires_at", "captured_at"}


def slices(starts: list[str]) -> list[tuple[str, str | None]]:
    """``(lo, hi)`` key ranges from sorted slice starts; the last is open above (``hi`` None). O(n)."""
    return [(lo, starts[i + 1] if i + 1 < len(starts) else None) for i, lo in enumerate(starts)]


def restore_nulls(values: list) -> list:
    """A collected column with the ``NULL`` marker turned back into ``None`` (a copy only when it holds one). O(n)."""
    if NULL not in values:
        return values
    return [None if isinstance(v, str) and v == NULL else v for v in values]


def utc_datetimes(epoch_ms: pd.Series) -> pd.Series:
    """Epoch milliseconds (int, float with NaN, or object with ``None``) as ``datetime64[ns, UTC]``: one
    resolution whatever the values (pandas infers one from them otherwise). O(n)."""
    return pd.to_datetime(epoch_ms, unit="ms", utc=True).astype("datetime64[ns, UTC]")


def assemble(columns: list[str], parts: list[dict[str, list]]) -> pd.DataFrame:
    """The slices of one kind (``{column: list}`` each, in key order) as one frame.

    The frame is built as the row-wise reader built it (the same dtype inference
    from Python values); epoch-ms columns become UTC datetimes. O(rows).
    """
    data: dict[str, list] = {}
    for column in columns:
        joined: list = []
        for part in parts:
            joined.extend(part.get(column, ()))
        data[column] = restore_nulls(joined)
    # no rows: the row-wise constructor's object columns (a dict of empty lists would give float64)
    df = pd.DataFrame(data, columns=columns) if any(map(len, data.values())) else pd.DataFrame([], columns=columns)
    for column in columns:
        if column in TIME_COLUMNS:
            df[column] = utc_datetimes(df[column])
    return df


def _slice_starts(graph: Graph, anchor: str) -> list[str]:
    rows = graph.read(SLICE_STARTS[anchor], step=SLICE[anchor])
    return rows[0]["starts"] if rows else []


def read_platform(graph: Graph) -> PlatformFrames:
    """Everything the detectors look at: every kind in key-range slices, ``THREADS`` at a time."""
    starts = {anchor: _slice_starts(graph, anchor) for anchor in SLICE}
    statements = {kind.name: (kind.statement(True), kind.statement(False)) for kind in KINDS}
    jobs: list[tuple[str, str, dict]] = []
    for kind in KINDS:
        bounded, open_above = statements[kind.name]
        if kind.anchor is None:
            jobs.append((kind.name, open_above, {}))
            continue
        for lo, hi in slices(starts[kind.anchor]):
            jobs.append((kind.name, bounded if hi is not None else open_above,
                         {"lo": lo} if hi is None else {"lo": lo, "hi": hi}))
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="read") as pool:
        results = list(pool.map(lambda job: graph.column_lists(job[1], null=NULL, **job[2]), jobs))
    parts: dict[str, list[dict[str, list]]] = {kind.name: [] for kind in KINDS}
    for (name, _, _), result in zip(jobs, results):
        parts[name].append(result)
    return PlatformFrames(**{kind.name: assemble([c for c, _ in kind.columns], parts[kind.name])
                             for kind in KINDS})


def read_snapshot(snapshot: Snapshot) -> PlatformFrames:
    """The frames from a bulk load's snapshot (``graph/snapshot.py``; the caller checked it is current),
    typed as ``assemble`` types what the graph gives: the same dtypes from the same values. A column the
    snapshot lacks (one the reader learned to read after the snapshot was written, e.g. ``notes.text``) is
    read as missing everywhere, as the graph gives a property no node has. O(rows)."""
    frames = {}
    for kind in KINDS:
        columns = [c for c, _ in kind.columns]
        path = snapshot.path(kind.name)
        if not path.is_file():  # a frame the reader learned after the snapshot was written (trending)
            frames[kind.name] = pd.DataFrame([], columns=columns)
            continue
        present = set(pq.read_schema(path).names)
        df = pq.read_table(path, columns=[c for c in columns if c in present]).to_pandas()
        for column in columns:
            if column not in present:
                df[column] = pd.Series([None] * len(df), index=df.index, dtype=object)
        frames[kind.name] = typed_like_graph(df[columns], columns)
    return PlatformFrames(**frames)


def typed_like_graph(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A frame from Arrow with the dtypes ``assemble`` gives the same values read from the graph.

    Arrow and pandas' list inference agree (int64, or float64 with nulls; bool, or object with nulls;
    strings as object) except for a column with no value at all, which pandas keeps as object ``None``s
    and Arrow types; and epoch milliseconds become UTC datetimes in both. O(rows)."""
    if df.empty:
        df = pd.DataFrame([], columns=columns)
    for column in columns:
        if column not in TIME_COLUMNS and len(df) and df[column].dtype != object and df[column].isna().all():
            df[column] = pd.Series([None] * len(df), index=df.index, dtype=object)
        if column in TIME_COLUMNS:
            df[column] = utc_datetimes(df[column])
        if column in LIST_COLUMNS and len(df):
            df[column] = [v if v is None else list(v) for v in df[column]]
    return df


def data_watermark(graph: Graph) -> dict:
    """What the run saw: counts and the newest timestamps."""
    return dict(graph.read(WATERMARK)[0])
