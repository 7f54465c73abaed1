"""A detection run's accounts and their k-hop neighbourhood in the lake, selected on Spark (#16).

``ringscope ingest --subgraph RUN --source LAKE`` loads into Neo4j only what
an investigation of a run opens. The seeds (the run's cluster members and
flagged accounts) are read from the graph by the caller; everything here runs
on Spark over the platform's lake (the input format as Parquet), whose size
is the platform's, and gives back one DataFrame of rows to keep per kind plus
counts. Nothing but counts comes to the driver, so a selection of millions of
rows costs the driver no memory.

**The hop graph** (``HOP_LINKS``, plain data): an account reaches the
devices it used (``account_devices``), its IPs (``account_ips`` and its
registration IP), its phone (``phone_hash``), the notes it wrote, commented on
or liked, the intermediaries managing it (``intermediary_accounts``) and the
accounts it follows or that follow it. Every link leads back the other way,
except likes: a device, IP, phone or intermediary reaches its accounts, a note
its author and commenters, never its likers (a popular note's likers are the
platform's readers, not its operators). A hop is one step along a link, so
hops=1 is the seeds' own links and hops=2 adds, among others, the accounts
sharing a device, IP, phone, note or agency with a seed, and the devices,
notes, ... of the accounts they follow.

**The cap** (``max_per_entity``): at each hop a node brings in at most that
many nodes of each kind not already selected: those with the smallest
``xxhash64`` of their id (Spark's, seed 42; ties by the id), a sample that is
the same on every run and unbiased by how ids are allocated. A node whose
candidates were cut is counted as capped. Nodes already selected (the seeds
above all) never count against it.

**The rows** (``subgraph_rows``), all columns of the lake's rows as they are:

- link rows between selected nodes: ``account_devices``, ``account_ips``,
  ``intermediary_accounts``, ``likes``, ``follows`` and ``comments`` (a
  comment by a selected account on a selected note), plus the comments
  those reply to, transitively;
- orders naming a selected account, note or intermediary (an agency's orders
  are its evidence in ``underwater``);
- the defining row of every node selected or named by a kept row (the notes
  of kept comments and orders, their authors, the brands they promote, the
  devices comments were made from, ...), so the load leaves no stub where
  the lake has the row; such a node is named, not selected: nothing more of it
  is kept;
- the sanctions on any account, device, note, intermediary or brand kept, the
  reports against any account, note or comment kept (with their reporters'
  rows), and the labels of the accounts kept;
- with a run's neighbourhood (``with_trending``), the trending list whole
  (``trending``: it names no node, and its size is the captures' times the
  list's length, not the platform's).

hops=0 is the seeds' own rows (an account's, a device's, a note's, an
intermediary's; an IP or a phone has none), the follows among seed accounts,
the orders naming a seed and the sanctions on the seeds (with the rows those
name).

**The seeds** are nodes of any kind of ``NODE_KINDS`` (``(kind, id)``): a
run's accounts for ``ingest --subgraph RUN``, any account, device, IP, phone,
note or intermediary for ``ingest --subgraph-of KIND:ID``. A seed is in the
lake when a place of ``ingest.lake.PLACES`` holds its id (its own row, or for
an IP, a phone or a device and agency without a row, a row naming it): the
same rule the app's lake lookup follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from ringscope.ingest.lake import NODE_KINDS, PLACES
from ringscope.ingest.spec import SPECS
from ringscope.spark.source import PlatformSource, SourceError

# A reply chain longer than this is cut (its further comments load as stubs); real threads are far shorter.
MAX_REPLY_DEPTH = 32
_ID = "_subgraph_id"  # the id column of the id frames joined against (a name no lake column has)
# Id sets up to this size are broadcast to the joins (tens of MB at most) instead of shuffling the lake.
BROADCAST_IDS = 500_000
# Seeds missing from the lake are named when there are at most this many seeds (else only counted).
NAMED_MISSING = 100


@dataclass(frozen=True)
class HopLink:
    """Rows of ``kind`` link the account in column ``account`` to the ``reaches`` node in column ``node``;
    ``back``: the link also leads from that node to the account."""

    kind: str
    account: str
    node: str
    reaches: str
    back: bool = True


HOP_LINKS: tuple[HopLink, ...] = (
    HopLink("account_devices", "account_id", "device_id", "device"),
    HopLink("account_ips", "account_id", "ip", "ip"),
    HopLink("accounts", "account_id", "registration_ip", "ip"),
    HopLink("accounts", "account_id", "phone_hash", "phone"),
    HopLink("notes", "account_id", "note_id", "note"),
    HopLink("comments", "account_id", "note_id", "note"),
    HopLink("likes", "account_id", "note_id", "note", back=False),
    HopLink("intermediary_accounts", "account_id", "intermediary_id", "intermediary"),
    HopLink("follows", "account_id", "target_account_id", "account"),
)


@dataclass(frozen=True)
class Step:
    """One direction of a link: rows of ``kind`` lead from the ``source_kind`` node in column ``source`` to
    the ``target_kind`` node in column ``target``."""

    kind: str
    source: str
    source_kind: str
    target: str
    target_kind: str


def hop_steps(links: Iterable[HopLink] = HOP_LINKS) -> tuple[Step, ...]:
    """Every direction a hop can take along ``links``: account -> node, and node -> account where the link
    leads back (a follow both ways). Pure, O(links)."""
    steps = []
    for link in links:
        steps.append(Step(link.kind, link.account, "account", link.node, link.reaches))
        if link.back:
            steps.append(Step(link.kind, link.node, link.reaches, link.account, "account"))
    return tuple(steps)


@dataclass(frozen=True)
class HopCount:
    """What hop ``hop`` added: nodes first reached there per kind, and the nodes of the hop before whose
    candidates the cap cut, per kind (hop 0: the seeds)."""

    hop: int
    reached: dict[str, int]
    capped: dict[str, int]


@dataclass(frozen=True)
class SeedsInLake:
    """How many of the seeds the lake holds (``ingest.lake.PLACES``), and which it lacks (named when there
    are at most ``NAMED_MISSING`` seeds)."""

    found: int
    missing: tuple[tuple[str, str], ...] = ()


@dataclass
class Neighbourhood:
    """The nodes selected (a Spark frame ``kind, id, hop``: the hop each was first reached at) and the counts
    per hop. ``seeds_in_lake``: how many seeds the lake holds (for a run's accounts: an accounts row)."""

    nodes: object
    hops: list[HopCount]
    seeds_in_lake: int

    def size(self, kind: str) -> int:
        """How many nodes of ``kind`` are selected."""
        return sum(count.reached.get(kind, 0) for count in self.hops)

    def ids(self, kind: str):
        """The selected ids of ``kind`` as a one-column frame (``_subgraph_id``), marked for broadcasting
        when small (a checkpointed frame carries no size Spark could judge that by)."""
        from pyspark.sql import functions as F

        ids = self.nodes.where(F.col("kind") == kind).select(F.col("id").alias(_ID))
        return F.broadcast(ids) if self.size(kind) <= BROADCAST_IDS else ids


def lake_frame(source: PlatformSource, kind: str):
    """``kind``'s rows with every column as the lake has them; None when the lake has no such kind. A
    column the input format requires missing is an error naming the folder and the column (the load would
    refuse the file anyway). Reads the schema only."""
    df = source.frame(kind)
    if df is None:
        return None
    missing = [c for c in SPECS[kind].required if c not in df.columns]
    if missing:
        raise SourceError(f"{source.location(kind)}: required column {missing[0]!r} is missing (found: "
                          f"{', '.join(sorted(df.columns)) or 'none'})")
    return df


def lake_frames(source: PlatformSource) -> dict[str, object]:
    """Every kind's ``lake_frame``: the check a selection runs first, so a lake it cannot use is refused
    before any work. Schemas only, O(kinds)."""
    return {kind: lake_frame(source, kind) for kind in SPECS}


def hop_edges(source: PlatformSource):
    """Every step of ``hop_steps()`` as rows ``source_kind, source, target_kind, target`` (ids as text, rows
    with an empty end left out, repeats kept), over the whole lake. Lazy: a Spark plan, O(link rows) when
    run."""
    from pyspark.sql import functions as F

    parts = []
    for step in hop_steps():
        df = source.frame(step.kind, [step.source, step.target])
        if df is None:
            continue
        src, dst = F.col(step.source).cast("string"), F.col(step.target).cast("string")
        parts.append(df.where(src.isNotNull() & (F.length(src) > 0) & dst.isNotNull() & (F.length(dst) > 0))
                     .select(F.lit(step.source_kind).alias("source_kind"), src.alias("source"),
                             F.lit(step.target_kind).alias("target_kind"), dst.alias("target")))
    edges = parts[0]
    for part in parts[1:]:
        edges = edges.unionByName(part)
    return edges  # repeats (a pair commenting twice) are dropped among a hop's candidates, a far smaller set


def seed_nodes(seeds: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The distinct ``(kind, id)`` seeds, sorted, ids as text; a kind not in ``NODE_KINDS`` is a
    ``ValueError``. O(seeds log seeds)."""
    nodes = sorted({(str(kind), str(node_id)) for kind, node_id in seeds})
    unknown = sorted({kind for kind, _ in nodes if kind not in NODE_KINDS})
    if unknown:
        raise ValueError(f"seeds of unknown kind {', '.join(unknown)} (kinds: {', '.join(NODE_KINDS)})")
    return nodes


def _node_frame(spark, nodes: list[tuple[str, str]]):
    """``nodes`` as a Spark frame ``kind, id`` (strings)."""
    return spark.createDataFrame(pd.DataFrame(nodes, columns=["kind", "id"], dtype=object), "kind string, id string")


def seeds_in_lake(source: PlatformSource, seeds: Iterable[tuple[str, str]]) -> SeedsInLake:
    """How many ``(kind, id)`` seeds the lake holds, by the places of ``ingest.lake.PLACES`` (only those of
    the kinds the seeds have are read), naming the missing ones when there are few seeds. One semi-join per
    place, one count (and one small collect). O(rows of those places)."""
    from pyspark.sql import functions as F

    nodes = seed_nodes(seeds)
    if not nodes:
        return SeedsInLake(0)
    frame = _node_frame(source.spark, nodes)
    found = None
    for kind in sorted({kind for kind, _ in nodes}):
        present = None
        for place in PLACES[kind]:
            df = source.frame(place.kind, [place.column])
            if df is None:
                continue
            ids = df.select(F.col(place.column).cast("string").alias("id"))
            present = ids if present is None else present.unionByName(ids)
        if present is None:
            continue
        part = frame.where(F.col("kind") == kind).join(present, "id", "left_semi").select("kind", "id")
        found = part if found is None else found.unionByName(part)
    if found is None:
        return SeedsInLake(0, tuple(nodes) if len(nodes) <= NAMED_MISSING else ())
    if len(nodes) > NAMED_MISSING:
        return SeedsInLake(found.count())
    present_nodes = {(row["kind"], row["id"]) for row in found.distinct().collect()}
    return SeedsInLake(len(present_nodes), tuple(n for n in nodes if n not in present_nodes))


def account_seeds(account_ids: Iterable[str]) -> list[tuple[str, str]]:
    """Account ids as ``(kind, id)`` seeds (a run's cluster members and flagged accounts)."""
    return [("account", str(a)) for a in account_ids]


def select_neighbourhood(source: PlatformSource, seeds: Iterable[tuple[str, str]], hops: int,
                         max_per_entity: int, in_lake: SeedsInLake | None = None) -> Neighbourhood:
    """The nodes within ``hops`` steps of the ``seeds`` (``(kind, id)`` nodes of ``NODE_KINDS``;
    ``account_seeds(ids)`` for accounts), each node bringing in at most ``max_per_entity`` new nodes per kind
    at each hop (see the module). ``in_lake``: ``seeds_in_lake(source, seeds)``, if counted already. One
    join of the frontier with the lake's links and one window per hop; what each hop reaches is
    checkpointed, so the plan does not grow with the hops. O(link rows x hops), four Spark jobs per hop."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    nodes = seed_nodes(seeds)
    in_lake = seeds_in_lake(source, nodes) if in_lake is None else in_lake
    selected = (_node_frame(source.spark, nodes).select("kind", "id", F.lit(0).alias("hop")).localCheckpoint())
    per_kind = {kind: sum(1 for k, _ in nodes if k == kind) for kind in NODE_KINDS}
    counts = [HopCount(0, {kind: n for kind, n in per_kind.items() if n}, {})]
    if hops == 0 or not nodes:
        return Neighbourhood(selected, counts, in_lake.found)
    edges = hop_edges(source)
    frontier, frontier_size = selected, len(nodes)
    for hop in range(1, hops + 1):
        if frontier_size <= BROADCAST_IDS:
            frontier = F.broadcast(frontier)
        reached, capped = _step(edges, frontier, selected, max_per_entity, Window, F)
        reached = reached.select("kind", "id", F.lit(hop).alias("hop")).localCheckpoint()
        selected = selected.unionByName(reached)  # of checkpointed parts: nothing to recompute
        counts.append(HopCount(hop, _per_kind(reached), capped))
        frontier, frontier_size = reached, sum(counts[-1].reached.values())
    return Neighbourhood(selected, counts, in_lake.found)


def _step(edges, frontier, selected, max_per_entity: int, Window, F):
    """One hop: the nodes ``frontier`` reaches that are not ``selected`` yet, at most ``max_per_entity`` per
    (frontier node, kind reached), the smallest by xxhash64 of the id; and the frontier nodes that had more,
    counted per kind."""
    sources = frontier.select(F.col("kind").alias("source_kind"), F.col("id").alias("source"))
    known = selected.select(F.col("kind").alias("target_kind"), F.col("id").alias("target"))
    candidates = (edges.join(sources, ["source_kind", "source"], "left_semi")
                  .join(known, ["target_kind", "target"], "left_anti")
                  .select("source_kind", "source", "target_kind", "target").distinct())
    order = Window.partitionBy("source_kind", "source", "target_kind").orderBy(F.xxhash64("target"), "target")
    ranked = candidates.withColumn("rank", F.row_number().over(order)).localCheckpoint()
    capped = {row["source_kind"]: row["n"] for row in
              ranked.where(F.col("rank") == max_per_entity + 1).groupBy("source_kind")
              .agg(F.countDistinct("source").alias("n")).collect()}
    reached = (ranked.where(F.col("rank") <= max_per_entity)
               .select(F.col("target_kind").alias("kind"), F.col("target").alias("id")).distinct())
    return reached, capped


def _per_kind(nodes) -> dict[str, int]:
    """How many of ``nodes`` (``kind, id``) there are of each kind, in ``NODE_KINDS`` order. One small job."""
    found = {row["kind"]: row["n"] for row in nodes.groupBy("kind").count().withColumnRenamed("count", "n").collect()}
    return {kind: found[kind] for kind in NODE_KINDS if kind in found}


def _having(df, column: str, ids):
    """The rows of ``df`` whose ``column`` (as text) is one of ``ids`` (a ``_subgraph_id`` frame); none when
    ``df`` lacks the (optional) column."""
    from pyspark.sql import functions as F

    if column not in df.columns:
        return df.where(F.lit(False))
    return df.join(ids, F.col(column).cast("string") == F.col(_ID), "left_semi")


def _ids_in(df, column: str):
    """The distinct non-empty values of ``df``'s ``column`` as text, as a ``_subgraph_id`` frame (empty when
    ``df`` lacks the optional column)."""
    from pyspark.sql import functions as F

    value = F.col(column).cast("string") if column in df.columns else F.lit(None).cast("string")
    return df.where(value.isNotNull() & (F.length(value) > 0)).select(value.alias(_ID)).distinct()


def _union(*frames):
    """The distinct union of ``_subgraph_id`` frames (None ones left out)."""
    present = [f for f in frames if f is not None]
    union = present[0]
    for frame in present[1:]:
        union = union.unionByName(frame)
    return union.distinct()


def subgraph_rows(source: PlatformSource, hood: Neighbourhood, frames: dict[str, object] | None = None, *,
                  with_trending: bool = False) -> dict[str, object]:
    """The lake's rows to load for ``hood``, per kind (Spark frames, every column as the lake has it; kinds
    the lake lacks left out): see the module for which. A few semi-joins per kind; the sets several kinds
    are derived from (kept comments and orders, the notes and accounts they name, ...) are computed here,
    one job each, and one small job per level of replies. ``frames``: ``lake_frames(source)``, if read
    already. O(lake rows)."""
    accounts, devices, ips = hood.ids("account"), hood.ids("device"), hood.ids("ip")
    notes, intermediaries = hood.ids("note"), hood.ids("intermediary")
    frames = lake_frames(source) if frames is None else frames
    rows: dict[str, object] = {}

    def links(kind: str, *ends: tuple[str, object]) -> None:
        if frames[kind] is not None:
            df = frames[kind]
            for column, ids in ends:
                df = _having(df, column, ids)
            rows[kind] = df

    links("account_devices", ("account_id", accounts), ("device_id", devices))
    links("account_ips", ("account_id", accounts), ("ip", ips))
    links("intermediary_accounts", ("account_id", accounts), ("intermediary_id", intermediaries))
    links("likes", ("account_id", accounts), ("note_id", notes))
    links("follows", ("account_id", accounts), ("target_account_id", accounts))
    links("comments", ("account_id", accounts), ("note_id", notes))
    # The rows several kinds are derived from are computed once (checkpointed), not once per kind; the id
    # sets derived from them are cheap to derive again.
    if "comments" in rows:
        rows["comments"] = _with_replied_comments(frames["comments"], rows["comments"].localCheckpoint())
    comments = rows.get("comments")
    if frames["orders"] is not None:
        orders = frames["orders"]
        rows["orders"] = (_having(orders, "account_id", accounts).unionByName(_having(orders, "note_id", notes))
                          .unionByName(_having(orders, "intermediary_id", intermediaries)).distinct()
                          .localCheckpoint())
    orders = rows.get("orders")

    def named(column: str, *among) -> list:
        return [_ids_in(df, column) for df in among if df is not None]

    note_ids = _union(notes, *named("note_id", comments, orders))
    if frames["notes"] is not None:
        rows["notes"] = _having(frames["notes"], "note_id", note_ids).localCheckpoint()
    brand_ids = named("brand_id", rows.get("notes"), orders)
    kept_ids = {
        "account": _union(accounts, *named("account_id", rows.get("notes"), comments, orders)),
        "note": note_ids,
        "device": _union(devices, *named("device_id", comments)),
        "intermediary": _union(intermediaries, *named("intermediary_id", orders)),
        "brand": _union(*brand_ids) if brand_ids else None,
    }
    if frames.get("reports") is not None:
        # Users' reports against a kept account, note or comment (an extension of the input format); their
        # reporters are named, so their accounts' rows come too.
        rows["reports"] = _targets_kept(frames["reports"], {
            "account": kept_ids["account"], "note": note_ids,
            "comment": _ids_in(comments, "comment_id") if comments is not None else None}).localCheckpoint()
        kept_ids["account"] = _union(kept_ids["account"], _ids_in(rows["reports"], "reporter_account_id"))
    for kind, column, ids in (("accounts", "account_id", kept_ids["account"]),
                              ("devices", "device_id", kept_ids["device"]),
                              ("intermediaries", "intermediary_id", kept_ids["intermediary"]),
                              ("brands", "brand_id", kept_ids["brand"]),
                              ("labels", "account_id", kept_ids["account"])):
        if frames[kind] is not None and ids is not None:
            rows[kind] = _having(frames[kind], column, ids)
    if frames["sanctions"] is not None:
        rows["sanctions"] = _targets_kept(frames["sanctions"], kept_ids)
    if with_trending and frames.get("trending") is not None:
        # The platform's trending list, whole, with a run's neighbourhood: what the Trending page lays the run's
        # ratings over. It names no node (a topic is an item of notes' topics) and grows with captures and list
        # length, not users. A node's neighbourhood (``--subgraph-of``) does not need it.
        rows["trending"] = frames["trending"]
    return rows


def _with_replied_comments(every, kept):
    """``kept`` comments (checkpointed) and the comments they reply to, transitively (up to
    ``MAX_REPLY_DEPTH`` levels), so a kept reply never points at a stub. Two small jobs per level."""
    known = _ids_in(kept, "comment_id")
    level = kept
    for _ in range(MAX_REPLY_DEPTH):
        wanted = _ids_in(level, "reply_to").join(known, _ID, "left_anti")
        level = _having(every, "comment_id", wanted).localCheckpoint()
        if level.isEmpty():
            break
        kept = kept.unionByName(level)
        known = known.unionByName(_ids_in(level, "comment_id"))
    return kept


def _targets_kept(targeted, kept_ids: dict[str, object]):
    """The rows (sanctions, reports) whose target (``target_type``, ``target_id``) is kept."""
    from pyspark.sql import functions as F

    targets = None
    for kind, ids in kept_ids.items():
        if ids is None:
            continue
        typed = ids.select(F.lit(kind).alias("_subgraph_type"), _ID)
        targets = typed if targets is None else targets.unionByName(typed)
    return targeted.join(targets, (F.col("target_type").cast("string") == F.col("_subgraph_type"))
                          & (F.col("target_id").cast("string") == F.col(_ID)), "left_semi")
