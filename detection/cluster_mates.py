"""Cluster mates: an infrastructure cluster whose other members are flagged on independent evidence.

Aged farms ("素人号" nurtured for months) share devices and home lines within the farm, like a family, and
only some of their members post the seeding notes that ``underwater`` catches; the others only warm up
their mates' notes. Their shared-device cluster puts them at a risk just under the flag threshold (on
the 100k simulated platform, 180 of the 206 aged-farm accounts missed sat there at 0.38-0.50) while
most of their device-mates are flagged. Guilt by association is the oldest rule of fraud graphs (e.g.
SybilRank's trust propagation, Cao et al., NSDI 2012; the ``intermediary_flagged_accounts`` detector
applies it to agencies); here it stays *corroboration*: it only raises the risk of accounts already in
that cluster (``scoring.corroborate``: odds times ``likelihood_ratio ** strength``), never flags anyone
alone, and needs a cluster of at least ``min_members`` (a household of 2-4 relatives sharing a tablet
is not enough to convict one of them by another's flag).

Strength of a member's evidence: the share of the cluster's *other* members that are flagged by
detectors other than the cluster's own (so a cluster cannot lift itself), when it reaches
``min_share``; 0 otherwise. O(sum of cluster sizes) after one noisy-OR over the other detectors'
findings.
"""

from __future__ import annotations

from collections.abc import Iterable

from ringscope.detection.findings import ClusterFinding
from ringscope.detection.scoring import AccountRisk

NAME = "cluster_mates"


def cluster_mates_evidence(findings: Iterable[ClusterFinding], independent: dict[str, AccountRisk],
                           flag_threshold: float, detectors: Iterable[str], min_members: int,
                           min_share: float) -> dict[str, tuple[float, str]]:
    """Per member of a ``detectors`` cluster of >= ``min_members``: (strength, reason text).

    ``independent``: every account's risk from the detectors *not* in ``detectors`` (the evidence a
    mate is flagged on). Strength = the share of the member's cluster mates flagged there
    (risk >= ``flag_threshold``), if >= ``min_share``; an account in several clusters keeps its
    strongest. O(sum of cluster sizes)."""
    wanted = set(detectors)
    flagged = {a for a, r in independent.items() if r.score >= flag_threshold}
    out: dict[str, tuple[float, str]] = {}
    for finding in findings:
        members = finding.members
        if finding.detector not in wanted or len(members) < min_members:
            continue
        hit = sum(1 for a in members if a in flagged)
        for account in members:
            mates_flagged = hit - (account in flagged)
            share = mates_flagged / (len(members) - 1)
            if share < min_share or share <= out.get(account, (0.0, ""))[0]:
                continue
            out[account] = (share, f"{mates_flagged} of the {len(members) - 1} other members of its "
                                   f"{finding.detector} cluster {finding.key} are flagged on other evidence")
    return out
