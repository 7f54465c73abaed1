"""Users' reports against an account, a note or a comment, as the investigator (the entity panel, ``ringscope
reports``) and the content-health index read them: how many, how many verified, which came in a coordinated
burst from one cluster (shown as a signal, never counted against the target), and which count."""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.common.errors import SettingError
from ringscope.graph.database import Graph
from ringscope.graph.model import REPORT_TARGETS
from ringscope.reports import store
from ringscope.reports.bursts import CoordinatedBurst, Report, coordinated_bursts, counted
from ringscope.reports.policy import ReportsPolicy


@dataclass(frozen=True)
class ReportSummary:
    target_type: str
    target_id: str
    total: int  # every report against the target
    read: int  # the newest ones read (at most the policy's max_reports)
    verified: int
    bursts: tuple[CoordinatedBurst, ...]
    counted: int  # verified reports in no coordinated burst: what counts against the target
    reports: tuple[Report, ...]  # newest first


def summary(graph: Graph, target_type: str, target_id: str, policy: ReportsPolicy) -> ReportSummary:
    if target_type not in REPORT_TARGETS:
        raise SettingError(f"reports are against {', '.join(REPORT_TARGETS)}, not {target_type!r}")
    reports, clusters, total = store.reports_against(graph, target_type, target_id, policy.max_reports)
    bursts = coordinated_bursts(reports, clusters, policy)
    return ReportSummary(target_type, target_id, total, len(reports), sum(1 for r in reports if r.verified),
                         tuple(bursts), len(counted(reports, bursts)), tuple(reports))
