"""The reports' reads: the reports against one account, note or comment, with the clusters of the latest
completed run their reporters are in. Named, parameterised, bounded; nothing here writes."""

from __future__ import annotations

from datetime import datetime

from ringscope.graph.database import Graph
from ringscope.graph.model import REPORT_TARGETS, key_of
from ringscope.reports.bursts import ClusterRef, Report


def _against(label: str) -> str:
    # The label comes from REPORT_TARGETS (validated target types), never from user text.
    return f"""
OPTIONAL MATCH (r:DetectionRun {{status: 'completed'}})
WITH r ORDER BY r.started_at DESC LIMIT 1
MATCH (t:{label} {{{key_of(label)}: $target_id}})<-[:AGAINST]-(p:Report)
OPTIONAL MATCH (a:Account)-[:FILED]->(p)
WITH r, p, a ORDER BY p.created_at DESC, p.report_id LIMIT $limit
RETURN p.report_id AS report_id, a.account_id AS reporter, p.created_at AS created_at, p.reason AS reason,
       p.verified AS verified,
       [(a)<-[:HAS_MEMBER]-(k:Cluster) WHERE k.run_id = r.run_id | [k.cluster_id, k.detector]] AS clusters
"""


AGAINST = {t: _against(label) for t, label in REPORT_TARGETS.items()}
COUNT_AGAINST = {t: f"MATCH (:{label} {{{key_of(label)}: $target_id}})<-[:AGAINST]-(p:Report) RETURN count(p) AS n"
                 for t, label in REPORT_TARGETS.items()}


def reports_against(graph: Graph, target_type: str, target_id: str,
                    limit: int) -> tuple[list[Report], dict[str, list[ClusterRef]], int]:
    """(the newest ``limit`` reports against the target, reporter -> clusters of the latest run, all reports)."""
    rows = graph.read(AGAINST[target_type], target_id=target_id, limit=limit)
    reports, clusters = [], {}
    for r in rows:
        if not isinstance(r["created_at"], datetime):
            continue
        reports.append(Report(r["report_id"], r["reporter"] or "", r["created_at"], r["reason"] or "", r["verified"]))
        clusters[r["reporter"] or ""] = [ClusterRef(c, d or "") for c, d in r["clusters"] if c is not None]
    total = graph.read(COUNT_AGAINST[target_type], target_id=target_id)[0]["n"]
    return reports, clusters, total
