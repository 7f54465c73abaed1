"""Combine the detectors' clusters into one risk score per account, with its reasons.

    risk(a) = 1 - prod_d (1 - w_d * s_d(a))

``s_d(a)`` is the highest member score of account ``a`` in any cluster of
detector ``d`` and ``w_d`` the detector's weight from the policy file. This
noisy-OR treats detectors as independent pieces of evidence: one detector
alone can push an account to at most ``w_d``; agreement between detectors
pushes it towards 1. The account's cluster is the one that contributed most
(largest ``w_d * s_d``). Pure and deterministic: O(total cluster memberships).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ringscope.detection.findings import ClusterFinding, Reason


@dataclass(frozen=True)
class AccountRisk:
    account_id: str
    score: float
    cluster_key: str  # the cluster that contributed most
    detectors: tuple[str, ...]  # detectors with any evidence, strongest first
    reasons: tuple[str, ...]  # human sentences, strongest first


def _clean(text: str) -> str:
    # Reasons are joined with ';' in the CLI's CSV.
    return " ".join(text.replace(";", ",").split())


def combine(findings: list[ClusterFinding], weights: dict[str, float], reasons: bool = True) -> dict[str, AccountRisk]:
    """Per account: risk score, primary cluster, detectors and reasons (none with ``reasons=False``, for a
    caller that needs the scores only)."""
    # best[(account, detector)] = (weighted score, finding)
    best: dict[tuple[str, str], tuple[float, ClusterFinding]] = {}
    for finding in sorted(findings, key=lambda f: f.key):
        weight = weights.get(finding.detector, 0.0)
        if weight <= 0:
            continue
        for account in finding.members:
            value = weight * finding.member_score(account)
            current = best.get((account, finding.detector))
            if current is None or value > current[0]:
                best[(account, finding.detector)] = (value, finding)
    per_account: dict[str, list[tuple[float, str, ClusterFinding]]] = {}
    for (account, detector), (value, finding) in best.items():
        per_account.setdefault(account, []).append((value, detector, finding))
    # a finding's own reasons are the same for all its members: cleaned once per finding
    shared: dict[int, list[str]] = {}
    out = {}
    for account, parts in sorted(per_account.items()):
        parts.sort(key=lambda p: (-p[0], p[1]))
        remaining = 1.0
        for value, _, _ in parts:
            remaining *= 1.0 - min(max(value, 0.0), 1.0)
        texts: list[str] = []
        for _, _, finding in parts if reasons else ():
            own: tuple[Reason, ...] = finding.member_reasons.get(account, ())
            if id(finding) not in shared:
                shared[id(finding)] = [_clean(f"[{finding.detector}] {r.text}") for r in finding.reasons]
            for text in (*(_clean(f"[{finding.detector}] {r.text}") for r in own), *shared[id(finding)]):
                if text not in texts:
                    texts.append(text)
        out[account] = AccountRisk(
            account_id=account,
            score=round(1.0 - remaining, 6),
            cluster_key=parts[0][2].key,
            detectors=tuple(p[1] for p in parts),
            reasons=tuple(texts),
        )
    return out


def corroborate(risks: dict[str, AccountRisk], evidence: dict[str, tuple[float, str]], name: str,
                likelihood_ratio: float, not_with: frozenset[str] = frozenset(),
                settled_at: float = 1.0) -> dict[str, AccountRisk]:
    """``risks`` with corroborating evidence folded in as a likelihood ratio, for accounts at risk only.

    ``evidence`` maps an account to ``(strength s in [0, 1], reason text)``. An account with a risk ``r``
    from a detector outside ``not_with`` has its odds ``r / (1 - r)`` multiplied by
    ``likelihood_ratio ** s`` and gets the reason after its own; any other account gets nothing. Odds, not
    noisy-OR: corroboration scales the evidence an account already has (a 0.25 becomes 0.5 at ratio 3,
    a 0.05 only 0.14), so it never makes a risk on its own and never turns weak evidence into a flag.
    An account whose risk already reaches ``settled_at`` (the flag threshold) is left as it is: it needs
    no corroboration, and its reasons stay its own detectors' (otherwise the corroborating reason would
    sit on nearly every flagged member of a farm and say nothing about why it was flagged).
    O(accounts in ``risks``)."""
    if likelihood_ratio <= 1:
        return risks
    out = dict(risks)
    for account, (strength, text) in evidence.items():
        risk = risks.get(account)
        if risk is None or strength <= 0 or risk.score >= min(settled_at, 1.0) or not set(risk.detectors) - not_with:
            continue
        odds = risk.score / (1.0 - risk.score) * likelihood_ratio ** min(strength, 1.0)
        score = odds / (1.0 + odds)
        out[account] = AccountRisk(
            account_id=account,
            score=round(score, 6),
            cluster_key=risk.cluster_key,
            detectors=(*risk.detectors, name),
            reasons=(*risk.reasons, _clean(f"[{name}] {text}")),
        )
    return out


class FlaggedAccounts(tuple):
    """The flagged accounts' ids, sorted (a tuple of ``str``: what the detectors that run after flagging read),
    with ``detectors``: account -> the detectors with evidence on it, strongest first (where a flag came from,
    e.g. for ``trending_heat``'s shares of an entry's engagement by detector)."""

    detectors: Mapping[str, tuple[str, ...]]

    def __new__(cls, ids: Iterable[str], detectors: Mapping[str, tuple[str, ...]] | None = None) -> "FlaggedAccounts":
        made = super().__new__(cls, sorted(ids))
        made.detectors = dict(detectors or {})
        return made

    @classmethod
    def of(cls, risks: Mapping[str, AccountRisk], threshold: float) -> "FlaggedAccounts":
        """The accounts of ``risks`` at ``threshold`` or above, with their detectors. O(A log A)."""
        flagged = {a: r.detectors for a, r in risks.items() if r.score >= threshold}
        return cls(flagged, flagged)
