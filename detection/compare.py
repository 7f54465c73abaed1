"""What changed between two detection runs: new, grown, shrunk, persisting, dissolved clusters.

Clusters of the two runs are matched greedily by the Jaccard similarity of
their member sets (best pairs first, each cluster matched at most once,
similarity at least ``min_jaccard``). O(sum of memberships) to find candidate
pairs through shared members, then a sort of the candidate pairs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class ClusterChange:
    change: str  # new | grown | shrunk | persisting | dissolved
    previous_id: str | None
    current_id: str | None
    previous_size: int
    current_size: int
    jaccard: float

    def sort_key(self) -> tuple[int, str, str]:
        """The order changes are listed in: by kind, then by cluster id."""
        return CHANGE_ORDER[self.change], self.current_id or "", self.previous_id or ""


CHANGE_ORDER = {"new": 0, "grown": 1, "shrunk": 2, "persisting": 3, "dissolved": 4}


def compare_clusters(previous: dict[str, frozenset[str]], current: dict[str, frozenset[str]],
                     min_jaccard: float = 0.3) -> list[ClusterChange]:
    by_member: dict[str, list[str]] = defaultdict(list)
    for cid, members in previous.items():
        for m in members:
            by_member[m].append(cid)
    overlaps: dict[tuple[str, str], int] = defaultdict(int)
    for cid, members in current.items():
        for m in members:
            for pid in by_member.get(m, ()):
                overlaps[(pid, cid)] += 1
    candidates = []
    for (pid, cid), shared in overlaps.items():
        union = len(previous[pid]) + len(current[cid]) - shared
        jaccard = shared / union
        if jaccard >= min_jaccard:
            candidates.append((-jaccard, pid, cid))
    candidates.sort()
    matched_prev, matched_cur, changes = set(), set(), []
    for neg, pid, cid in candidates:
        if pid in matched_prev or cid in matched_cur:
            continue
        matched_prev.add(pid)
        matched_cur.add(cid)
        before, after = previous[pid], current[cid]
        if after == before:
            kind = "persisting"
        elif len(after) > len(before):
            kind = "grown"
        elif len(after) < len(before):
            kind = "shrunk"
        else:
            kind = "persisting"  # same size, some members swapped
        changes.append(ClusterChange(kind, pid, cid, len(before), len(after), round(-neg, 4)))
    for cid in sorted(set(current) - matched_cur):
        changes.append(ClusterChange("new", None, cid, 0, len(current[cid]), 0.0))
    for pid in sorted(set(previous) - matched_prev):
        changes.append(ClusterChange("dissolved", pid, None, len(previous[pid]), 0, 0.0))
    return sorted(changes, key=ClusterChange.sort_key)
