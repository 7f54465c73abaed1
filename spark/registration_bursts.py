"""``registration_bursts`` on Spark: every account's attribute rows and their burst statistics are
computed on the executors, one time slice at a time; the significant rows, few, are chained and
clustered on the driver by ``detection.registration_bursts`` itself.

A row (account, attribute value, registration time) is tested, at each of the ``time_scales``, against the
rows registered within ``background`` of it (``burst_background``, one for every scale;
``attribute_burst_stats``), never further, so the platform is cut in time slices of ``background`` (plus a
second): each slice's rows are tested with the rows of the slice and its two
neighbours beside them (``attribute_burst_stats_near``), and get exactly the statistics the local
engine gives them over everything, provided what the statistics read of the whole column comes from the
whole column: each value's share of the column, its integer code (the rank of the value among the
column's sorted values, ``spark.codes.codes_within``, which the local engine folds into the value-time
key) and the column's time extent. Those are aggregates on Spark. Then:

1. the significant rows come to the driver and are chained per value (``burst_chains``);
2. each chain's span is counted on Spark, slice by slice (all the column's rows in it, and those with
   its value), and the sums make the groups (``burst_group``);
3. steps 1 and 2 are one pass; ``censored_passes`` runs the passes, each after the first with the accounts
   found before it left out of the backgrounds (their rows marked ``excluded`` on Spark, the ids joined
   from the driver), as the local engine does;
4. ``registration_burst_findings`` joins and scores the groups, citing the members' registration times
   and nicknames, read for those members only.

The attribute values (stripped text, nickname shapes, profile fingerprints) are made by the local
``attribute_columns`` over batches of accounts, so they are the local engine's. A lake holds each account
once (the input format's accounts file); the local engine's several rows per account (an account the
graph gives several registration IPs) have no Parquet counterpart.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ringscope.detection.findings import ClusterFinding
from ringscope.detection.frames import epoch_seconds
from ringscope.detection.registration_bursts import (
    BurstGroup, RegistrationBurstParams, attribute_burst_stats_near, attribute_columns, attribute_weights,
    burst_background, burst_chains, burst_group, censored_passes, registration_burst_findings, significant_rows,
    tests_per_row, text_column, time_scales, timedelta_seconds, value_time_key, window_counts,
)
from ringscope.spark.codes import codes_within
from ringscope.spark.source import PlatformSource, id_frame, to_pandas, typed

ACCOUNT_COLUMNS = ["account_id", "registered_at", "registration_ip", "phone_segment", "nickname",
                   "default_profile", "bio", "following", "followers"]
ROW_SCHEMA = "attribute string, account_id string, value string, t double"
SIGNIFICANT_SCHEMA = ("attribute string, account_id string, code long, t double, key double, p double, surprise double, "
                      "scale long")
SPAN_SCHEMA = "chain long, total long, observed long"
_NO_ROWS = pd.DataFrame({"attribute": pd.Series([], dtype=object), "account_id": pd.Series([], dtype=object),
                         "code": pd.Series([], dtype=np.int64),
                         **{c: pd.Series([], dtype=float) for c in ("t", "key", "p", "surprise")},
                         "scale": pd.Series([], dtype=np.int64)})


def attribute_rows(accounts, devices):
    """``(attribute, account_id, value, t)``: each account's value of each attribute (``device`` from
    ``devices``, accounts' links only) with its registration time in seconds (null when it has none),
    made by the local ``attribute_columns`` over batches of accounts; each row once. O(R)."""
    from pyspark.sql import functions as F

    def of_accounts(batches):
        for batch in batches:
            batch = typed(batch.reset_index(drop=True), ACCOUNT_COLUMNS)
            ids = batch["account_id"].astype(str).to_numpy(dtype=object)
            t = epoch_seconds(batch["registered_at"])
            for column in attribute_columns(batch):
                yield pd.DataFrame({"attribute": column.name, "account_id": ids[column.account],
                                    "value": column.vocabulary[column.code], "t": t[column.account]})

    def of_links(batches):
        for batch in batches:
            batch = typed(batch.reset_index(drop=True), ["registered_at"])
            column = text_column("device", np.arange(len(batch)), batch["device_id"])
            yield pd.DataFrame({"attribute": "device", "account_id": batch["account_id"].astype(str).to_numpy(
                dtype=object)[column.account], "value": column.vocabulary[column.code],
                "t": epoch_seconds(batch["registered_at"])[column.account]})

    rows = accounts.mapInPandas(of_accounts, ROW_SCHEMA)
    if devices is not None:
        linked = (devices.select(F.col("account_id").cast("string"), "device_id")
                  .join(accounts.select(F.col("account_id").cast("string"), "registered_at"), "account_id"))
        rows = rows.unionByName(linked.mapInPandas(of_links, ROW_SCHEMA))
    return rows.distinct()


def detect_registration_bursts(source: PlatformSource, params: RegistrationBurstParams = RegistrationBurstParams(),
                               log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings the local ``detect_registration_bursts`` makes on the same data (see the module)."""
    from pyspark.sql import functions as F

    spark = source.spark
    scales = time_scales(params)
    background = burst_background(params)
    accounts = source.frame("accounts", ACCOUNT_COLUMNS)
    rows = attribute_rows(accounts, source.frame("account_devices", ["account_id", "device_id"])).persist()
    try:
        timed = F.col("t").isNotNull() & ~F.isnan("t")
        # every value of the column is numbered (those of accounts without a time too, as locally), and
        # counted over the rows with a time (its share)
        values = codes_within(rows.groupBy("attribute", "value").agg(F.count(F.when(timed, 1)).alias("with_value")),
                              "attribute", "value", keep=("with_value",)).persist()
        coded = rows.where(timed).join(values, ["attribute", "value"])
        extent = {r["attribute"]: r for r in coded.groupBy("attribute").agg(
            F.count(F.lit(1)).alias("rows"), F.min("t").alias("t_min"), F.max("t").alias("t_max")).collect()}
        if not extent:
            values.unpersist()
            return []
        # per attribute: its timed rows and the (t0, band) of the local value-time key, from the whole column
        bands = {a: (int(r["rows"]), float(r["t_min"]), float(r["t_max"] - r["t_min"]) + 2 * background + 1.0)
                 for a, r in extent.items()}
        origins = spark.createDataFrame(pd.DataFrame({"attribute": list(bands), "t0": [b[1] for b in bands.values()]}),
                                        "attribute string, t0 double")
        # slices of background + 1 s: every row within background of a row is in its slice or a neighbour
        width = background + 1.0
        sliced = (coded.join(F.broadcast(origins), "attribute")
                  .select("attribute", "account_id", "code", "t", "with_value",
                          F.floor((F.col("t") - F.col("t0")) / F.lit(width)).cast("long").alias("slice"))
                  .persist())
        try:
            def one_pass(found: frozenset[str]) -> list[BurstGroup]:
                marked = sliced.withColumn("excluded", F.lit(False))
                if found:
                    left_out = id_frame(spark, found, "account_id").withColumn("left_out", F.lit(True))
                    marked = (sliced.join(left_out, "account_id", "left")
                              .withColumn("excluded", F.coalesce(F.col("left_out"), F.lit(False))).drop("left_out"))
                significant = _significant(marked, bands, scales, background, params)
                significant = significant.merge(_values_of(spark, values, significant), on=["attribute", "code"])
                log(f"  registration_bursts on Spark: {sum(b[0] for b in bands.values()):,} attribute rows "
                    f"with a registration time, {len(significant):,} significant"
                    + (f" ({len(found):,} accounts left out of the backgrounds)" if found else ""))
                chains = []
                for attribute in sorted(bands):
                    tests = bands[attribute][0] * tests_per_row(attribute, set(bands), len(scales))
                    for k, (_, max_gap) in enumerate(scales):
                        chains += burst_chains(attribute, significant[(significant["attribute"] == attribute)
                                                                      & (significant["scale"] == k)],
                                               tests, max_gap, params.min_size)
                return [burst_group(c, total, observed)
                        for c, (total, observed) in zip(chains, _span_counts(sliced, bands, chains))]

            groups = censored_passes(one_pass, params.passes)
        finally:
            sliced.unpersist()
            values.unpersist()
    finally:
        rows.unpersist()
    log(f"  registration_bursts on Spark: {len(groups):,} burst groups")
    if not groups:
        return []
    members = sorted({m for g in groups for m in g.members})
    about = to_pandas(accounts.select(F.col("account_id").cast("string"), "registered_at", "nickname")
                      .join(F.broadcast(id_frame(spark, members, "account_id")), "account_id")
                      .dropDuplicates(["account_id"]), ["account_id", "registered_at", "nickname"])
    registered = {m: t for m, t in zip(about["account_id"], about["registered_at"]) if not pd.isna(t)}
    nicknames = {m: str(x) for m, x in zip(about["account_id"], about["nickname"]) if isinstance(x, str)}
    return registration_burst_findings(groups, registered, nicknames, attribute_weights(params))


def _significant(sliced, bands: dict, scales: list[tuple[float, float]], background: float,
                 params: RegistrationBurstParams) -> pd.DataFrame:
    """The significant rows (``SIGNIFICANT_SCHEMA``) of every attribute at every scale (``scale``: its index
    in ``scales``, ``time_scales``' windows and gaps): each slice's rows tested beside its neighbours' by
    ``attribute_burst_stats_near``, the rows ``excluded`` left out of the backgrounds (``censored_passes``);
    ``bands``: per attribute, its timed rows and the value-time key's ``(t0, band)``. O(scales R log R) over
    the executors, each row read three times."""
    from pyspark.sql import functions as F

    def tested(frame: pd.DataFrame) -> pd.DataFrame:
        home = (frame["offset"] == 0).to_numpy()
        if not home.any():
            return _NO_ROWS
        rows, t0, band = bands[frame["attribute"].iloc[0]]
        t = frame["t"].to_numpy(dtype=float)
        code = frame["code"].to_numpy(dtype=np.int64)
        share = frame["with_value"].to_numpy(dtype=np.int64) / rows
        excluded = frame["excluded"].to_numpy(dtype=bool)
        parts: dict[str, list[np.ndarray]] = {c: [] for c in _NO_ROWS.columns}
        for k, (window, _) in enumerate(scales):
            stats = attribute_burst_stats_near(t, code, home, share, (t0, band), window, background,
                                               guard=timedelta_seconds(params.guard), excluded=excluded)
            sig = significant_rows(stats, params.min_size, params.min_surprise, params.min_excess)
            mine = frame[home].iloc[sig]
            mine_code, mine_t = mine["code"].to_numpy(dtype=np.int64), mine["t"].to_numpy(dtype=float)
            for column, values in (("attribute", mine["attribute"].to_numpy(dtype=object)),
                                   ("account_id", mine["account_id"].to_numpy(dtype=object)), ("code", mine_code),
                                   ("t", mine_t), ("key", value_time_key(mine_code, mine_t, t0, band)),
                                   ("p", stats["p"].to_numpy()[sig]), ("surprise", stats["surprise"].to_numpy()[sig]),
                                   ("scale", np.full(len(sig), k, dtype=np.int64))):
                parts[column].append(values)
        # one frame from whole arrays: Arrow refuses the chunked string columns a concatenation of frames makes
        return pd.DataFrame({c: np.concatenate(v) for c, v in parts.items()})

    # a row goes to its slice (offset 0) and, as a neighbour, to the slices beside it; a neighbour's id is
    # not needed there (fewer bytes through Arrow)
    near = (sliced.withColumn("offset", F.explode(F.array(F.lit(-1), F.lit(0), F.lit(1))))
            .select("attribute", (F.col("slice") + F.col("offset")).alias("slice"), "offset",
                    F.when(F.col("offset") == 0, F.col("account_id")).alias("account_id"), "code", "t", "with_value",
                    "excluded"))
    return near.groupBy("attribute", "slice").applyInPandas(tested, SIGNIFICANT_SCHEMA).toPandas()


def _values_of(spark, values, significant: pd.DataFrame) -> pd.DataFrame:
    """``(attribute, code, value)`` of the codes among the ``significant`` rows. O(V) on Spark."""
    from pyspark.sql import functions as F

    wanted = significant[["attribute", "code"]].drop_duplicates()
    if wanted.empty:
        return pd.DataFrame({"attribute": pd.Series([], dtype=object), "code": pd.Series([], dtype=np.int64),
                             "value": pd.Series([], dtype=object)})
    found = values.join(F.broadcast(spark.createDataFrame(wanted, "attribute string, code long")), ["attribute", "code"])
    return found.select("attribute", "code", "value").toPandas()


def _span_counts(sliced, bands: dict, chains) -> list[tuple[int, int]]:
    """For each chain, the rows of its attribute registered in its span and those with its value (the
    local ``burst_groups``' ``total`` and ``observed``), summed over the slices. O(R log R + C log R)."""
    if not chains:
        return []
    spans = pd.DataFrame({"attribute": [c.attribute for c in chains], "start": [c.start for c in chains],
                          "end": [c.end for c in chains], "key_first": [c.key_first for c in chains],
                          "key_last": [c.key_last for c in chains]})

    def counted(frame: pd.DataFrame) -> pd.DataFrame:
        mine = spans[spans["attribute"] == frame["attribute"].iloc[0]]
        t = np.sort(frame["t"].to_numpy(dtype=float))
        _, t0, band = bands[frame["attribute"].iloc[0]]
        key = np.sort(value_time_key(frame["code"].to_numpy(dtype=np.int64), frame["t"].to_numpy(dtype=float),
                                      t0, band))
        return pd.DataFrame({
            "chain": mine.index.to_numpy(dtype=np.int64),
            "total": window_counts(t, mine["start"].to_numpy(), mine["end"].to_numpy()).astype(np.int64),
            "observed": window_counts(key, mine["key_first"].to_numpy(), mine["key_last"].to_numpy()).astype(np.int64)})

    parts = (sliced.select("attribute", "slice", "code", "t").groupBy("attribute", "slice")
             .applyInPandas(counted, SPAN_SCHEMA).groupBy("chain").sum("total", "observed").toPandas())
    sums = parts.set_index("chain").reindex(range(len(chains)), fill_value=0)
    return list(zip(sums["sum(total)"].astype(int).tolist(), sums["sum(observed)"].astype(int).tolist()))
