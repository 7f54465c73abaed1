"""Coordinated mass-reporting, as plain data: bursts of reports against one target from one cluster's accounts.

A report is evidence against its target; a ring that reports a competitor or a critic in a burst is evidence
against the ring. So a burst (at least ``min_reports`` reports against one target from accounts of one cluster of
the latest detection run, within ``window_hours``) is shown to the investigator as a signal and its reports are
not counted against the target (``counted``). Both O(n log n) in the target's reports; no database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

from ringscope.reports.policy import ReportsPolicy


@dataclass(frozen=True)
class Report:
    report_id: str
    reporter: str
    created_at: datetime
    reason: str = ""
    verified: bool | None = None  # None: the platform has not checked it


@dataclass(frozen=True)
class ClusterRef:
    cluster_id: str
    detector: str


@dataclass(frozen=True)
class CoordinatedBurst:
    clusters: tuple[ClusterRef, ...]  # every cluster whose members' burst shares a report with it, largest first
    start: datetime
    end: datetime
    report_ids: tuple[str, ...]
    reporters: tuple[str, ...]

    @property
    def cluster(self) -> ClusterRef:
        return self.clusters[0]

    @property
    def reason(self) -> str:
        hours = (self.end - self.start).total_seconds() / 3600
        which = ", ".join(f"{c.cluster_id} ({c.detector})" for c in self.clusters)
        return (f"{len(self.report_ids)} reports in {hours:.1f} h from {len(self.reporters)} accounts of "
                f"cluster{'s' if len(self.clusters) > 1 else ''} {which}, {self.start:%Y-%m-%d %H:%M}-"
                f"{self.end:%Y-%m-%d %H:%M} UTC: coordinated, not counted against the target")


def coordinated_bursts(reports: Sequence[Report], clusters_of: Mapping[str, Iterable[ClusterRef]],
                       policy: ReportsPolicy) -> list[CoordinatedBurst]:
    """Per cluster, its members' reports that lie in some window of ``window_hours`` holding at least
    ``min_reports`` of them (a sliding window); such reports less than a window apart form one burst.
    ``clusters_of`` maps a reporter to the clusters it is in. Earliest first. O(n log n + n * min_reports)
    amortised: each report is marked once per window end that covers it."""
    window = timedelta(hours=policy.window_hours)
    by_cluster: dict[ClusterRef, list[Report]] = defaultdict(list)
    for r in reports:
        for c in clusters_of.get(r.reporter, ()):
            by_cluster[c].append(r)
    out: list[CoordinatedBurst] = []
    for cluster, mine in by_cluster.items():
        mine.sort(key=lambda r: (r.created_at, r.report_id))
        # mark every report inside some window holding min_reports of the cluster's reports
        inside = [False] * len(mine)
        lo = 0
        for hi in range(len(mine)):
            while mine[hi].created_at - mine[lo].created_at > window:
                lo += 1
            if hi - lo + 1 >= policy.min_reports:
                for i in range(lo, hi + 1):
                    inside[i] = True
        run: list[Report] = []
        for r, keep in zip(mine, inside):
            if keep and run and r.created_at - run[-1].created_at > window:
                out.append(_burst(cluster, run))
                run = []
            if keep:
                run.append(r)
            elif run:
                out.append(_burst(cluster, run))
                run = []
        if run:
            out.append(_burst(cluster, run))
    return _merged(out, reports)


def _burst(cluster: ClusterRef, run: list[Report]) -> CoordinatedBurst:
    return CoordinatedBurst((cluster,), run[0].created_at, run[-1].created_at, tuple(r.report_id for r in run),
                            tuple(sorted({r.reporter for r in run})))


def _merged(bursts: list[CoordinatedBurst], reports: Sequence[Report]) -> list[CoordinatedBurst]:
    """One burst per attack: the reporters of a ring often sit in several clusters of a run (its infrastructure,
    its dense block, its agency), so per-cluster bursts that share a report are joined (union-find over the
    shared report ids), naming every cluster, the largest burst's first. Earliest first. O(n log n)."""
    parent = list(range(len(bursts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for i, b in enumerate(bursts):
        for report_id in b.report_ids:
            j = first_with.setdefault(report_id, i)
            if j != i:
                parent[root(i)] = root(j)
    groups: dict[int, list[CoordinatedBurst]] = defaultdict(list)
    for i, b in enumerate(bursts):
        groups[root(i)].append(b)
    by_id = {r.report_id: r for r in reports}
    out = []
    for group in groups.values():
        group.sort(key=lambda b: (-len(b.report_ids), b.cluster.cluster_id))
        ids = sorted({i for b in group for i in b.report_ids}, key=lambda i: (by_id[i].created_at, i))
        out.append(CoordinatedBurst(tuple(b.cluster for b in group), by_id[ids[0]].created_at,
                                    by_id[ids[-1]].created_at, tuple(ids),
                                    tuple(sorted({r for b in group for r in b.reporters}))))
    out.sort(key=lambda b: (b.start, b.cluster.cluster_id))
    return out


def counted(reports: Sequence[Report], bursts: Sequence[CoordinatedBurst]) -> list[Report]:
    """The verified reports that count against the target: those in no coordinated burst. O(n)."""
    coordinated = {i for b in bursts for i in b.report_ids}
    return [r for r in reports if r.verified and r.report_id not in coordinated]
