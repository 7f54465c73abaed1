"""``farmed_declared`` on Spark: what grows with the platform is reduced on the executors, and the local
functions of ``detection.farmed_declared`` run over what is left on the driver.

The candidates (accounts with a declared order) are few: their ids are broadcast. On the executors:

- **follows** (test (a)): repeats and self-follows dropped (the first time of each follower and target kept),
  each follower's follows into candidates counted, and from them the platform's shares ``q`` (follows into
  candidates) and ``p0`` (co-followers' follows among the follows outside) as two sums; ``follower_rows`` runs
  per candidate on its follows (``applyInPandas``: a popular creator's followers stay on an executor), so one
  row per candidate reaches the driver; ``cofollower_spread`` (a self-join) is counted for the candidates with
  evidence only (only their reasons read it);
  the co-follower edges stay persisted, and only those into the candidates ``evidenced`` keeps, with their
  ``shared_cofollowers`` pairs counted on the executors, reach the driver for the clusters and the reasons;
- **likes, comments, notes, accounts** (test (b)): per author its notes, the likes and comments others left on
  them and its followers (``author_table``' answer): one row per author reaches the driver, where
  ``interaction_fit`` fits the platform's line as locally;
- **notes** (test (c)): the notes' near-duplicate families are ``spark.copied_notes``' (found on the executors,
  once per source and test: ``copied_notes`` and this detector share them); the notes judged per candidate are
  counted there, and only the candidates' notes in families of several authors, the first ``HEADS_KEPT``
  authors' first notes of those families (``family_heads``: a note's earliest copy source is among them) and the
  management rows of the agencies that manage a candidate reach the driver, where ``first_copies`` runs as
  locally (a family's heads are read whole for a note whose candidate's circle holds all of those kept).

So the findings are the local detector's (``tests/spark/test_farmed_declared.py``). On the driver: one row per
candidate, the co-follower edges into the candidates with evidence and their pairs, one row per author, the
candidates' shared notes and their families' heads, the declared orders. O(F + L + N) on the executors, plus
the co-follower self-join (O(sum over co-followers of (candidates followed)^2)), with one shuffle of the
follows by follower and one of the likes and comments by note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ringscope.detection.farmed_declared import (COPY_COLUMNS, FOLLOWER_COLUMNS, HEAD_COLUMNS,
                                                 FarmedDeclaredParams, circles, copy_counts, copy_test,
                                                 declared_orders, evidenced, findings_of, first_copies,
                                                 follower_rows, follower_summary, interaction_fit, shared_cofollowers,
                                                 shares_p0)
from ringscope.detection.findings import ClusterFinding
from ringscope.detection.frames import epoch_seconds
from ringscope.spark.copied_notes import note_families_on_spark
from ringscope.spark.source import PlatformSource, id_frame, to_pandas, typed

ORDER_COLUMNS = ["order_id", "brand_id", "intermediary_id", "account_id", "note_id", "placed_at", "declared"]
MANAGED_COLUMNS = ["intermediary_id", "account_id", "since"]
PAIR_COLUMNS = ["account_id", "note_id"]
FOLLOW_COLUMNS = ["account_id", "target_account_id", "created_at"]
EDGE_COLUMNS = ["src", "dst", "created_at", "co"]


def _declared(source: PlatformSource) -> pd.DataFrame:
    """The declared orders (``declared`` true, 1 or yes, as the local reader takes it) with an account."""
    from pyspark.sql import functions as F

    orders = source.frame("orders", ORDER_COLUMNS)
    if orders is None:
        return declared_orders(None)
    flag = F.lower(F.trim(F.col("declared").cast("string"))).isin("true", "1", "yes")
    return declared_orders(to_pandas(orders.where(flag & F.col("account_id").isNotNull()), ORDER_COLUMNS))


FOLLOWER_SCHEMA = ("account_id string, followers long, cofollowers long, surprise double, others_followed long, "
                   "burst_n long, burst_start double, burst_end double")


@dataclass
class FollowerEvidence:
    """Test (a) on the executors: ``follower_evidence``' per-candidate table, ``q`` and ``p0`` on the driver, and
    the co-follower edges into candidates (``account_id, target_account_id``) kept on the executors (persisted
    until ``release``) for the candidates that turn out to have evidence; ``into``: the follows into
    candidates."""

    per: pd.DataFrame
    q: float
    p0: float
    co: object = None
    into: int = 0

    def _into(self, accounts: set[str]):
        """The co-follower edges into ``accounts`` (broadcast: the candidates with evidence are few)."""
        from pyspark.sql import functions as F

        return self.co.join(F.broadcast(id_frame(self.co.sparkSession, accounts, "target_account_id")),
                            "target_account_id")

    def co_edges(self, accounts: set[str]) -> pd.DataFrame:
        """The co-follower edges into ``accounts``, on the driver."""

        cols = ["account_id", "target_account_id"]
        if self.co is None or not accounts:
            return pd.DataFrame(columns=cols)
        df = to_pandas(self._into(accounts).select(*cols), cols)
        return df.astype(str).sort_values(cols, kind="mergesort").reset_index(drop=True)

    def shared(self, accounts: set[str]) -> pd.DataFrame:
        """``shared_cofollowers`` of ``accounts``, counted on the executors (a pair per two of them a co-follower
        follows: the sum over co-followers of their square, which the driver need not hold)."""
        from pyspark.sql import functions as F

        if self.co is None or not accounts:
            return shared_cofollowers(pd.DataFrame(columns=["account_id", "target_account_id"]), accounts)
        e = self._into(accounts)
        pairs = (e.alias("x").join(e.alias("y"), "account_id")
                 .where(F.col("x.target_account_id") < F.col("y.target_account_id"))
                 .groupBy(F.col("x.target_account_id").alias("a"), F.col("y.target_account_id").alias("b"))
                 .agg(F.count(F.lit(1)).alias("shared")))
        df = to_pandas(pairs, ["a", "b", "shared"])
        return pd.DataFrame({"a": df["a"].astype(str).to_numpy(dtype=object),
                             "b": df["b"].astype(str).to_numpy(dtype=object),
                             "shared": df["shared"].astype("int64").to_numpy()})

    def spread(self, accounts: set[str]) -> pd.Series:
        """``cofollower_spread`` of ``accounts`` (how many other candidates their co-followers follow), by a
        self-join on the executors limited to the edges into ``accounts`` on one side: only the reasons of the
        candidates with evidence read it (at 10 M the unlimited join had not ended after 16 minutes)."""
        from pyspark.sql import functions as F

        if self.co is None or not accounts:
            return pd.Series(dtype="int64")
        x = self._into(accounts)
        spread = (x.alias("x").join(self.co.alias("y"), "account_id")
                  .where(F.col("x.target_account_id") != F.col("y.target_account_id"))
                  .select(F.col("x.target_account_id").alias("account_id"), F.col("y.target_account_id").alias("other"))
                  .distinct().groupBy("account_id").agg(F.count(F.lit(1)).alias("others")))
        df = to_pandas(spread, ["account_id", "others"])
        return pd.Series(df["others"].astype("int64").to_numpy(), index=df["account_id"].astype(str).to_numpy())

    def release(self) -> None:
        if self.co is not None:
            self.co.unpersist()


def follower_evidence_on_spark(source: PlatformSource, candidates: set[str], params: FarmedDeclaredParams
                               ) -> FollowerEvidence:
    """``detection.farmed_declared.follower_evidence`` computed on the executors (see the module): the follows
    deduplicated and flagged, the two shares summed, ``follower_rows`` run per candidate on its follows
    (``applyInPandas``); ``cofollower_spread`` is counted later, for the candidates with evidence only
    (``FollowerEvidence.spread``)."""
    from pyspark.sql import functions as F

    follows = source.frame("follows", FOLLOW_COLUMNS)
    if follows is None:
        return FollowerEvidence(follower_summary(None, 0.0, 0.0, params)[0], 0.0, 0.0)
    f = (follows.select(F.col("account_id").cast("string").alias("src"),
                        F.col("target_account_id").cast("string").alias("dst"),
                        _time(follows, "created_at").alias("created_at"))
         .where(F.col("src") != F.col("dst"))
         .groupBy("src", "dst").agg(F.min("created_at").alias("created_at")))
    wanted = F.broadcast(id_frame(source.spark, candidates, "dst").withColumn("into", F.lit(1)))
    f = f.join(wanted, "dst", "left").withColumn("into", F.coalesce(F.col("into"), F.lit(0)))
    per_follower = f.groupBy("src").agg(F.sum("into").alias("m"))
    f = f.join(per_follower, "src").withColumn("co", (F.col("m") - F.col("into")) >= params.min_cofollows)
    f = f.persist()
    try:
        sums = f.agg(F.count(F.lit(1)).alias("edges"), F.sum("into").alias("into"),
                     F.sum(F.when((F.col("into") == 0) & F.col("co"), 1).otherwise(0)).alias("co_outside")).collect()[0]
        edges = int(sums["edges"] or 0)
        if not edges:
            return FollowerEvidence(follower_summary(None, 0.0, 0.0, params)[0], 0.0, 0.0)
        into = int(sums["into"] or 0)
        q, p0 = into / edges, shares_p0(int(sums["co_outside"] or 0), edges - into)
        mine = f.where(F.col("into") == 1).select(*EDGE_COLUMNS)
        co = (mine.where(F.col("co")).select(F.col("src").alias("account_id"), F.col("dst").alias("target_account_id"))
              .persist())

        def rows_of(g: pd.DataFrame) -> pd.DataFrame:
            t = epoch_seconds(typed(g, ["created_at"])["created_at"])
            return follower_rows(pd.DataFrame({"dst": g["dst"].astype(str), "t": t, "co": g["co"].astype(bool)}),
                                 p0, params)

        per = to_pandas(mine.groupBy("dst").applyInPandas(rows_of, FOLLOWER_SCHEMA), FOLLOWER_COLUMNS)
        co.count()                                   # kept before the follows it is made of are released
    finally:
        f.unpersist()
    per = per.astype({"account_id": str}).sort_values("account_id", kind="mergesort").reset_index(drop=True)
    return FollowerEvidence(per[FOLLOWER_COLUMNS], q, p0, co, into)


def author_table_on_spark(source: PlatformSource) -> pd.DataFrame | None:
    """``detection.farmed_declared.author_table``' answer, computed on the executors: per author its notes, the
    likes and comments by others on them, its followers (the accounts' column, else the follows into it)."""
    from pyspark.sql import functions as F

    notes = source.frame("notes", ["note_id", "account_id"])
    if notes is None:
        return None
    author = (notes.select(F.col("note_id").cast("string").alias("note_id"),
                           F.col("account_id").cast("string").alias("author"))
              .groupBy("note_id").agg(F.min("author").alias("author")))
    n_notes = author.groupBy("author").agg(F.count(F.lit(1)).alias("notes"))
    received = None
    for kind in ("likes", "comments"):
        events = source.frame(kind, PAIR_COLUMNS)
        if events is None:
            continue
        by = (events.select(F.col("account_id").cast("string").alias("actor"),
                            F.col("note_id").cast("string").alias("note_id"))
              .join(author, "note_id").where(~F.col("actor").eqNullSafe(F.col("author")))
              .groupBy("author").agg(F.count(F.lit(1)).alias("received")))
        received = by if received is None else received.unionByName(by)
    table = n_notes
    if received is not None:
        table = table.join(received.groupBy("author").agg(F.sum("received").alias("received")), "author", "left")
    else:
        table = table.withColumn("received", F.lit(0))
    accounts = source.frame("accounts", None)
    if "followers" in accounts.columns:
        followers = (accounts.select(F.col("account_id").cast("string").alias("author"),
                                     F.col("followers").cast("double").alias("followers"))
                     .groupBy("author").agg(F.first("followers", ignorenulls=True).alias("followers")))
    else:
        follows = source.frame("follows", ["target_account_id"])
        if follows is None:
            return None
        followers = (follows.select(F.col("target_account_id").cast("string").alias("author"))
                     .groupBy("author").agg(F.count(F.lit(1)).cast("double").alias("followers")))
    table = table.join(followers, "author", "left")
    df = to_pandas(table, ["author", "notes", "received", "followers"])
    out = pd.DataFrame({"notes": df["notes"].astype("int64").to_numpy(),
                        "received": pd.to_numeric(df["received"]).fillna(0.0).astype(float).to_numpy(),
                        "followers": pd.to_numeric(df["followers"]).fillna(0.0).clip(lower=0.0).astype(float)
                        .to_numpy()},
                       index=pd.Index(df["author"].astype(str).to_numpy(dtype=object), name="account_id"))
    return out


# Heads of each family taken to the driver at first; a family is read again whole only for a candidate whose
# circle holds all of them (an agency's accounts posting first), which is rare.
HEADS_KEPT = 16


def copy_evidence_on_spark(source: PlatformSource, candidates: set[str], params: FarmedDeclaredParams,
                           managed: pd.DataFrame | None, log: Callable[[str], None] = lambda line: None) -> tuple[pd.DataFrame, dict, float, int]:
    """``detection.farmed_declared.copy_evidence``' answer (and how many candidate notes were read on the driver)
    from ``spark.copied_notes``' families (found once per source and test): the notes judged per candidate are
    counted on the executors; the driver reads the candidates' notes in families of several authors and the
    first ``HEADS_KEPT`` authors' first notes of those families (``family_heads`` on the executors), where
    ``first_copies`` runs as locally; the heads of a family are read whole for the few notes that need them."""
    from pyspark.sql import functions as F

    fam = note_families_on_spark(source, copy_test(params), log)
    if fam is None or not fam.judged:
        return pd.DataFrame(columns=COPY_COLUMNS), {}, (fam.lam if fam else 0.0), 0
    notes = fam.notes.withColumn("at", _time(fam.notes, "posted_at"))
    mine_notes = notes.join(F.broadcast(id_frame(source.spark, candidates, "account_id")), "account_id")
    judged = to_pandas(mine_notes.groupBy("account_id").agg(F.count(F.lit(1)).alias("judged")),
                       ["account_id", "judged"])
    judged = pd.Series(judged["judged"].astype(int).to_numpy(), index=judged["account_id"].astype(str).to_numpy())
    shared = mine_notes.where(F.col("authors") >= 2)
    mine = to_pandas(shared.select("note_id", "account_id", "family", "posted_at"),
                     ["note_id", "account_id", "family", "posted_at"])
    mine = mine.assign(t=epoch_seconds(mine["posted_at"]))
    families = shared.select("family").distinct()
    heads = _heads(notes.join(families, "family"), HEADS_KEPT)
    circle = circles(managed, candidates)
    copied, cut = first_copies(mine, heads, circle)
    if cut:
        cut_frame = source.spark.createDataFrame(pd.DataFrame({"family": sorted(int(f) for f in cut)}), "family long")
        whole = _heads(notes.join(F.broadcast(cut_frame), "family"), None)
        heads = pd.concat([heads[~heads["family"].isin(cut)], whole], ignore_index=True)
        copied, _ = first_copies(mine, heads, circle)
    log(f"  farmed_declared on Spark: {len(mine):,} candidate notes in families of several authors, "
        f"{len(heads):,} heads of their families ({len(cut):,} read whole) on the driver")
    return copy_counts(judged, copied, fam.lam), copied, fam.lam, len(mine)


def _time(frame, column: str):
    """``column`` as a timestamp: ISO 8601 text with any offset parsed (unparsable ones missing, as locally)."""
    from pyspark.sql import functions as F

    at = F.col(column)
    return F.to_timestamp(at) if dict(frame.dtypes).get(column) == "string" else at


def _heads(members, limit: int | None) -> pd.DataFrame:
    """``family_heads``' rows of the families of ``members`` (their notes, with ``at``), on the executors: per
    family and author its first note (time, then note id, no time last), then the first ``limit`` authors."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    first = (members.groupBy("family", "account_id")
             .agg(F.min(F.struct(F.col("at").isNull().alias("late"), F.col("at"), F.col("note_id"),
                                 F.col("posted_at"))).alias("h"))
             .select("family", "account_id", "h.late", "h.at", "h.note_id", "h.posted_at"))
    order = Window.partitionBy("family").orderBy("late", "at", "note_id")
    ranked = first.withColumn("rank", F.row_number().over(order)) \
                  .withColumn("authors", F.count(F.lit(1)).over(Window.partitionBy("family")))
    if limit is not None:
        ranked = ranked.where(F.col("rank") <= limit)
    df = to_pandas(ranked.select("family", "note_id", "account_id", "posted_at", "rank", "authors"),
                   ["family", "note_id", "account_id", "posted_at", "rank", "authors"])
    df = df.sort_values(["family", "rank"], kind="mergesort").reset_index(drop=True)
    more = (df["authors"] > limit).to_numpy() if limit is not None else np.zeros(len(df), dtype=bool)
    return pd.DataFrame({"family": df["family"].astype(np.int64).to_numpy(),
                         "note_id": df["note_id"].astype(str).to_numpy(dtype=object),
                         "account_id": df["account_id"].astype(str).to_numpy(dtype=object),
                         "t": epoch_seconds(df["posted_at"]), "more": more})[HEAD_COLUMNS]


def _managed(source: PlatformSource, candidates: set[str]) -> pd.DataFrame | None:
    """The management rows of every agency that manages a candidate."""
    from pyspark.sql import functions as F

    management = source.frame("intermediary_accounts", MANAGED_COLUMNS)
    if management is None:
        return None
    management = management.withColumn("intermediary_id", F.col("intermediary_id").cast("string")) \
                           .withColumn("account_id", F.col("account_id").cast("string"))
    mine = F.broadcast(id_frame(source.spark, candidates, "account_id"))
    agencies = management.join(mine, "account_id").select("intermediary_id").distinct()
    return to_pandas(management.join(F.broadcast(agencies), "intermediary_id").select(*MANAGED_COLUMNS),
                     MANAGED_COLUMNS)


def detect_farmed_declared(source: PlatformSource, params: FarmedDeclaredParams = FarmedDeclaredParams(),
                           log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_farmed_declared`` makes on the same data (see the module)."""
    declared = _declared(source)
    if declared.empty:
        return []
    candidates = set(declared["account_id"])
    fol = follower_evidence_on_spark(source, candidates, params)
    try:
        table = author_table_on_spark(source)
        inter = interaction_fit(table, candidates, params)
        managed = _managed(source, candidates)
        cop, copied, lam, copy_notes = copy_evidence_on_spark(source, candidates, params, managed, log)
        scored = set(evidenced(declared, fol.per, inter, cop))
        fol.per["others_followed"] = fol.per["account_id"].map(fol.spread(scored)).fillna(0).astype(int)
        co_edges, pairs = fol.co_edges(scored), fol.shared(scored)
    finally:
        fol.release()
    log(f"  farmed_declared on Spark: {len(candidates):,} accounts with declared orders, {len(scored):,} with "
        f"evidence; on the driver {len(fol.per):,} rows of their followers (of {fol.into:,} follows into them), "
        f"{len(co_edges):,} co-follower edges and {len(pairs):,} pairs sharing co-followers of those with evidence, "
        f"{0 if table is None else len(table):,} authors, {copy_notes:,} of their notes in families of several "
        f"authors, {0 if managed is None else len(managed):,} management rows")
    return findings_of(declared, fol.per, fol.q, fol.p0, co_edges, inter, cop, copied, lam, managed, params, pairs)
