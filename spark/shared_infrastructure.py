"""``shared_infrastructure`` on Spark: the whole-platform stages as DataFrame jobs, the scoring of each
component by ``detection.shared_infrastructure.clusters_in_components`` on the executors.

The stages are those of ``detection.shared_infrastructure.candidate_components``, in the same arithmetic:

1. links ``(account_id, kind, identifier)`` from ``account_devices``, ``accounts`` (registration IP,
   phone hash) and ``account_ips``, distinct;
2. ``k`` accounts per identifier, and its weight by ``identifier_weights_of`` (the local function, run on
   each batch of identifiers);
3. account codes: each account's rank among the sorted ids of every linked account (the local engine's
   codes, which fix the order Louvain sees nodes in);
4. weighted pairs: a self-join of the links of positive weight on (kind, identifier), the larger weight
   per pair and physical source (``SAME_SOURCE``), summed per pair in the order of the sources, as the
   local engine sums them, so the sums are the same to the last bit;
5. strong edges (``min_edge_weight``), their connected components (``spark.components``, large-star /
   small-star), each named by its smallest account code;
6. components grouped into batches by their root; each batch's members, links and edges go to one
   executor call of ``clusters_in_components``, which sends its findings back pickled.

Only identifiers at or under their cap expand into pairs, so the join's output is bounded by
``sum_{k <= cap} k^2``, as in the local engine; everything else is linear in the links.
"""

from __future__ import annotations

import pickle
from typing import Callable

import pandas as pd

from ringscope.detection.findings import ClusterFinding
from ringscope.detection.shared_infrastructure import (
    DETECTOR, SAME_SOURCE, SharedInfrastructureParams, clusters_in_components, identifier_weights_of,
)
from ringscope.spark.codes import sorted_ranks
from ringscope.spark.components import connected_components
from ringscope.spark.progress import Stages
from ringscope.spark.source import PlatformSource

# (kind of record, its column, link kind), in the local engine's order
LINK_COLUMNS = (
    ("account_devices", "device_id", "device"),
    ("accounts", "registration_ip", "registration_ip"),
    ("accounts", "phone_hash", "phone"),
    ("account_ips", "ip", "login_ip"),
)


def infrastructure_links(source: PlatformSource):
    """``(account_id, kind, identifier)``, distinct, identifiers missing or empty left out. O(L)."""
    from pyspark.sql import functions as F

    parts = []
    for kind_of_record, column, kind in LINK_COLUMNS:
        frame = source.frame(kind_of_record, ["account_id", column])
        if frame is None:
            continue
        parts.append(frame.select(F.col("account_id").cast("string").alias("account_id"), F.lit(kind).alias("kind"),
                                  F.col(column).cast("string").alias("identifier"))
                     .where(F.col("identifier").isNotNull() & (F.length("identifier") > 0)))
    links = parts[0]
    for part in parts[1:]:
        links = links.unionByName(part)
    return links.distinct()


def weighted_identifiers(links, params: SharedInfrastructureParams):
    """``(kind, identifier, k, weight)`` for every identifier: ``k`` accounts use it. O(L)."""
    from pyspark.sql import functions as F

    base, cap = params.base, params.cap
    counted = links.groupBy("kind", "identifier").agg(F.count("*").alias("k"))

    def weigh(batches):
        for batch in batches:
            yield batch.assign(weight=identifier_weights_of(batch["kind"].to_numpy(object),
                                                            batch["k"].to_numpy(), base, cap))

    return counted.mapInPandas(weigh, "kind string, identifier string, k long, weight double")


def account_codes(links):
    """``(account_id, account)``: each linked account's rank among their sorted ids, 0, 1, 2, ... O(A log A)."""
    return sorted_ranks(links, ["account_id"], "account")


def _family(column):
    """The physical source of a link kind (``SAME_SOURCE``): both IP kinds are one IP."""
    from pyspark.sql import functions as F

    expression = column
    for kind, family in sorted(SAME_SOURCE.items()):
        expression = F.when(column == kind, F.lit(family)).otherwise(expression)
    return expression


def strong_edges(coded, params: SharedInfrastructureParams):
    """``(a, b, weight)``, ``a < b``: account pairs whose summed shared weight reaches
    ``min_edge_weight``; ``coded`` holds the links of positive weight with account codes. O(sum k^2)."""
    from pyspark.sql import functions as F

    x, y = coded.alias("x"), coded.alias("y")
    pairs = (x.join(y, (F.col("x.kind") == F.col("y.kind")) & (F.col("x.identifier") == F.col("y.identifier"))
                    & (F.col("x.account") < F.col("y.account")))
             .select(F.col("x.account").alias("a"), F.col("y.account").alias("b"),
                     F.col("x.family").alias("family"), F.col("x.identifier").alias("identifier"),
                     F.col("x.weight").alias("weight")))
    per_source = pairs.groupBy("a", "b", "family", "identifier").agg(F.max("weight").alias("w"))
    # Summed in (family, identifier) order from 0.0, as np.bincount sums the local engine's sorted rows.
    summed = per_source.groupBy("a", "b").agg(
        F.aggregate(F.array_sort(F.collect_list(F.struct("family", "identifier", "w"))), F.lit(0.0),
                    lambda total, x: total + x["w"]).alias("weight"))
    return summed.where(F.col("weight") >= F.lit(float(params.min_edge_weight)))


def _score_batch(params: SharedInfrastructureParams):
    def score(members_and_links: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
        if members_and_links.empty:
            return pd.DataFrame({"finding": pd.Series([], dtype=object)})
        members = (members_and_links[["account", "account_id", "root"]].drop_duplicates("account")
                   .rename(columns={"root": "component"}))
        links = members_and_links[["account", "kind", "identifier", "k", "weight"]]
        findings = clusters_in_components(members, links, edges[["a", "b", "weight"]], params)
        return pd.DataFrame({"finding": [pickle.dumps(f) for f in findings]})
    return score


def detect_shared_infrastructure(source: PlatformSource, params: SharedInfrastructureParams = SharedInfrastructureParams(),
                                 log: Callable[[str], None] = lambda line: None) -> list[ClusterFinding]:
    """The findings ``detection.shared_infrastructure.detect_shared_infrastructure`` makes on the same
    data, computed on Spark (see the module). Sorted by score (descending) then key. ``log`` gets a line
    per stage (each stage is computed, and kept, before the next starts)."""
    from pyspark.sql import functions as F

    spark = source.spark
    stage = Stages(DETECTOR, log)
    links = infrastructure_links(source).persist()
    try:
        stage.done("links", links.count())
        weights = weighted_identifiers(links, params)
        codes = account_codes(links)
        coded = (links.join(weights.where(F.col("weight") > 0), ["kind", "identifier"])
                 .join(codes, "account_id").withColumn("family", _family(F.col("kind")))
                 .persist())
        stage.done("links of positive weight, with account codes", coded.count())
        strong = strong_edges(coded, params).persist()
        stage.done("strong pairs", strong.count())
        roots = connected_components(strong.select(F.col("a").alias("src"), F.col("b").alias("dst")))
        batches = int(spark.conf.get("spark.sql.shuffle.partitions"))
        roots = roots.persist()
        stage.done("accounts in components", roots.count())
        # each side computes the bucket from its own copy of the roots (one shared column would be ambiguous)
        member_links = (coded.join(roots.select(F.col("node").alias("account"), "root"), "account")
                        .select(F.pmod("root", F.lit(batches)).alias("bucket"), "root", "account", "account_id",
                                "kind", "identifier", "k", "weight"))
        edges = (strong.join(roots.select(F.col("node").alias("a"), F.col("root").alias("edge_root")), "a")
                 .select(F.pmod("edge_root", F.lit(batches)).alias("bucket"), "a", "b", "weight"))
        found = (member_links.groupBy("bucket").cogroup(edges.groupBy("bucket"))
                 .applyInPandas(_score_batch(params), "finding binary"))
        findings = [pickle.loads(row["finding"]) for row in found.toLocalIterator()]
        stage.done("clusters scored", len(findings))
    finally:
        spark.catalog.clearCache()
    return sorted(findings, key=lambda f: (-f.score, f.key))
