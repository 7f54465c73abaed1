"""Coordinated mass-reporting on plain data: bursts from one cluster, what still counts against the target."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ringscope.reports.bursts import ClusterRef, Report, coordinated_bursts, counted
from ringscope.reports.policy import ReportsPolicy

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
RING = ClusterRef("K-ring", "shared_infrastructure")
OTHER = ClusterRef("K-other", "lockstep")
POLICY = ReportsPolicy(window_hours=24, min_reports=5)


def report(i: int, reporter: str, hours: float, verified: bool | None = True) -> Report:
    return Report(f"r{i}", reporter, T0 + timedelta(hours=hours), "spam", verified)


def test_five_reports_of_one_cluster_in_a_day_are_one_burst_and_do_not_count():
    ring = [report(i, f"ring{i}", i * 2.0) for i in range(6)]  # 6 reports over 10 h
    organic = [report(10, "honest1", 3.0), report(11, "honest2", 200.0, verified=False)]
    clusters = {f"ring{i}": [RING] for i in range(6)}
    bursts = coordinated_bursts(ring + organic, clusters, POLICY)
    assert len(bursts) == 1
    b = bursts[0]
    assert b.cluster == RING and b.report_ids == tuple(f"r{i}" for i in range(6))
    assert b.start == T0 and b.end == T0 + timedelta(hours=10)
    assert "6 reports in 10.0 h from 6 accounts of cluster K-ring" in b.reason
    assert [r.report_id for r in counted(ring + organic, bursts)] == ["r10"]


def test_the_same_accounts_spread_over_weeks_are_not_a_burst():
    spread = [report(i, f"ring{i % 3}", i * 30.0) for i in range(8)]  # one report every 30 h
    assert coordinated_bursts(spread, {f"ring{i}": [RING] for i in range(3)}, POLICY) == []
    assert len(counted(spread, [])) == 8


def test_reporters_in_no_cluster_or_split_over_clusters_are_not_coordinated():
    reports = [report(i, f"a{i}", i * 0.5) for i in range(8)]
    clusters = {f"a{i}": [RING if i % 2 else OTHER] for i in range(8)}  # 4 and 4: under 5 each
    assert coordinated_bursts(reports, clusters, POLICY) == []
    assert coordinated_bursts(reports, {}, POLICY) == []


def test_two_waves_a_week_apart_are_two_bursts_and_a_reporter_in_two_clusters_counts_for_both():
    first = [report(i, f"r{i}", i * 1.0) for i in range(5)]
    second = [report(10 + i, f"r{i}", 24 * 7 + i * 1.0) for i in range(5)]
    clusters = {f"r{i}": [RING, OTHER] if i == 0 else [RING] for i in range(5)}
    bursts = coordinated_bursts(first + second, clusters, POLICY)
    assert [(b.cluster.cluster_id, len(b.report_ids)) for b in bursts] == [("K-ring", 5), ("K-ring", 5)]
    assert bursts[1].start == T0 + timedelta(days=7)


def test_only_verified_reports_count():
    reports = [report(1, "a", 0, True), report(2, "b", 1, False), report(3, "c", 2, None)]
    assert [r.report_id for r in counted(reports, [])] == ["r1"]


def test_one_attack_by_reporters_in_several_clusters_is_one_burst_naming_them_all():
    """A ring's members are in its infrastructure cluster and its dense block: one attack, not two."""
    reports = [report(i, f"m{i}", i * 0.5) for i in range(7)]
    clusters = {f"m{i}": [RING, OTHER] if i < 5 else [RING] for i in range(7)}
    bursts = coordinated_bursts(reports, clusters, POLICY)
    assert len(bursts) == 1
    b = bursts[0]
    assert b.clusters == (RING, OTHER) and b.cluster == RING  # the larger burst's cluster first
    assert b.report_ids == tuple(f"r{i}" for i in range(7)) and len(b.reporters) == 7
    assert "of clusters K-ring (shared_infrastructure), K-other (lockstep)" in b.reason
