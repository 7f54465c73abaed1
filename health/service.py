"""The content-health index, used by the CLI (``ringscope health``) and the app alike.

* :func:`account_health`: one account's index, band and each indicator's contribution.
* :func:`group_health`: the accounts a brand or an agency (an intermediary) works with, each scored, and their
  distribution.
* :func:`platform_health`: every account of the platform, read in batches by account-id range, and the
  distribution of the index.

The indicators are read by ``health/store.py`` and scored by ``health/index.py`` (pure). Originality: for one
account or a group, each text's near-duplicate candidates come from the fulltext index and are verified exactly
(``originality.copied_against``); for the whole platform, every text is compared at once with MinHash-LSH
(``originality.copied_by_account``). Verified reports count as ``reports.service.summary`` counts them: outside the
coordinated bursts of the detection policy's ``reports`` rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import pandas as pd

from ringscope.common.errors import RingscopeError, SettingError
from ringscope.detection.comment_text import normalize_text
from ringscope.detection.offplatform_lures import find_lures
from ringscope.graph.database import Graph
from ringscope.health import index, originality, store
from ringscope.health.index import AccountHealth, Distribution, Measures
from ringscope.health.policy import HealthPolicy
from ringscope.queries.search import lucene_escape
from ringscope.reports.bursts import coordinated_bursts, counted
from ringscope.reports.policy import ReportsPolicy

#: Group kinds: a brand, or an intermediary (agency, MCN, studio).
GROUP_KINDS = ("brand", "intermediary")
_QUERIES_PER_READ = 500  # fulltext searches sent in one read


class UnknownAccount(RingscopeError):
    pass


class UnknownGroup(RingscopeError):
    pass


@dataclass(frozen=True)
class GroupHealth:
    kind: str  # brand | intermediary
    group_id: str
    name: str | None
    accounts: int  # every account it works with
    distribution: Distribution  # of the accounts scored (the first max_group_accounts by id)
    scored: tuple[AccountHealth, ...]  # lowest index first


@dataclass(frozen=True)
class AccountIndex:
    account_id: str
    index: float
    band: str


@dataclass(frozen=True)
class PlatformHealth:
    distribution: Distribution
    accounts: tuple[AccountIndex, ...]  # every account, by id


def _reports_policy(reports_policy: ReportsPolicy | None) -> ReportsPolicy:
    if reports_policy is not None:
        return reports_policy
    from ringscope.detection.config import load_detection_policy

    return load_detection_policy().reports


def account_health(graph: Graph, account_id: str, policy: HealthPolicy,
                   reports_policy: ReportsPolicy | None = None) -> AccountHealth:
    """One account's index 0-100, band, each indicator's contribution, and what is not measured."""
    account_id = (account_id or "").strip()
    if not account_id:
        raise SettingError("an account id is needed")
    if not store.account_exists(graph, account_id):
        raise UnknownAccount(f"no account {account_id!r} in the graph")
    return index.account_health(measures(graph, [account_id], policy, _reports_policy(reports_policy))[0], policy)


def group_health(graph: Graph, kind: str, group_id: str, policy: HealthPolicy,
                 reports_policy: ReportsPolicy | None = None) -> GroupHealth:
    """The index over the accounts a brand or an agency works with: a brand's are those that posted a note
    promoting it or carried one of its orders; an agency's those it manages or that carried an order it took."""
    if kind not in GROUP_KINDS:
        raise SettingError(f"the index is grouped by {' or '.join(GROUP_KINDS)}, not {kind!r}")
    group_id = (group_id or "").strip()
    found = store.group(graph, kind, group_id) if group_id else None
    if found is None:
        raise UnknownGroup(f"no {kind} {group_id!r} in the graph")
    ids, total = store.group_accounts(graph, kind, group_id, policy.limits.max_group_accounts)
    rows = measures(graph, ids, policy, _reports_policy(reports_policy))
    scored = index.healths(index.frame(rows), rows, policy)
    dist = index.distribution(pd.Series([h.index for h in scored], dtype=float), [h.band for h in scored])
    return GroupHealth(kind, group_id, found.get("name"), total, dist,
                       tuple(sorted(scored, key=lambda h: (h.index, h.account_id))))


def platform_health(graph: Graph, policy: HealthPolicy, reports_policy: ReportsPolicy | None = None,
                    log: Callable[[str], None] | None = None) -> PlatformHealth:
    """Every account's index, read in batches of ``limits.batch_size`` accounts by id, originality over all texts
    at once (MinHash-LSH), and the distribution. What is held across batches: each account's counts (one row), and
    the normalised texts long enough to be judged or to be a judged text's partner (``originality.shortest_partner``;
    comments and titles mostly are not), never every text."""
    say = log or (lambda _: None)
    rp = _reports_policy(reports_policy)
    rule = policy.indicators.originality
    shortest = originality.shortest_partner(rule)
    parts: list[pd.DataFrame] = []
    authors: list[str] = []
    kept: list[str] = []  # normalised texts of at least `shortest` characters
    times: list = []
    after = ""
    while True:
        ids = store.accounts_after(graph, after, policy.limits.batch_size)
        if not ids:
            break
        texts = store.texts(graph, ids, policy.limits.max_texts)
        for t in texts:
            norm = normalize_text(t.text)
            if len(norm) >= shortest:
                authors.append(t.account_id)
                kept.append(norm)
                times.append(t.at)
        parts.append(index.frame(_measures(graph, ids, texts, {}, policy, rp)))
        after = ids[-1]
        say(f"read {sum(len(p) for p in parts)} accounts, {len(kept)} texts long enough to compare")
    frame = pd.concat(parts, ignore_index=True) if parts else index.frame([])
    copied = originality.copied_by_account(pd.DataFrame({"account_id": authors, "text": kept,
                                                         "at": pd.to_datetime(pd.Series(times, dtype=object),
                                                                              utc=True, errors="coerce")}), rule)
    if len(frame):
        by = copied.set_index("account_id")
        frame["texts"] = by["texts"].reindex(frame["account_id"]).fillna(0).astype(int).to_numpy()
        frame["copied"] = by["copied"].reindex(frame["account_id"]).fillna(0).astype(int).to_numpy()
    s = index.scores(frame, policy)
    return PlatformHealth(index.distribution(s["index"], s["band"]),
                          tuple(AccountIndex(a, float(h), str(b))
                                for a, h, b in zip(s["account_id"], s["index"], s["band"])))


def measures(graph: Graph, ids: Sequence[str], policy: HealthPolicy, reports_policy: ReportsPolicy) -> list[Measures]:
    """The indicators of the accounts ``ids``, originality searched per text through the fulltext index."""
    texts = store.texts(graph, ids, policy.limits.max_texts)
    return _measures(graph, ids, texts, _searched_copies(graph, texts, policy), policy, reports_policy)


def _measures(graph: Graph, ids: Sequence[str], texts: list[store.Text], copies: dict[str, tuple[int, int]],
              policy: HealthPolicy, reports_policy: ReportsPolicy) -> list[Measures]:
    counts = store.counts(graph, ids)
    engagement = store.engagement(graph, ids)
    reports = _counted_reports(graph, ids, reports_policy)
    lures = _lures(texts)
    out = []
    for a in ids:
        c = counts.get(a) or store.Counts(None, 0, 0, 0)
        e = engagement.get(a) or store.Engagement(0, 0)
        judged, copied = copies.get(a, (0, 0))
        out.append(Measures(a, judged, copied, c.undeclared, lures.get(a, 0), reports.get(a, 0), e.engagement,
                            e.flagged, c.followers, c.notes, c.likes))
    return out


def _searched_copies(graph: Graph, texts: list[store.Text], policy: HealthPolicy) -> dict[str, tuple[int, int]]:
    """Per account (texts judged, texts copied): each judged text's fulltext candidates, verified exactly."""
    rule = policy.indicators.originality
    judged = [(i, t) for i, t in enumerate(texts) if originality.judged(t.text, rule) is not None]
    queries = [(i, t.account_id, q) for i, t in judged if (q := lucene_escape(t.text))]
    candidates: dict[int, list[str]] = {}
    for lo in range(0, len(queries), _QUERIES_PER_READ):
        candidates.update(store.text_candidates(graph, queries[lo:lo + _QUERIES_PER_READ],
                                                policy.limits.hits_per_text))
    totals: Counter[str] = Counter()
    copies: Counter[str] = Counter()
    for i, t in judged:
        totals[t.account_id] += 1
        if originality.copied_against(t.text, candidates.get(i, ()), rule, t.at):
            copies[t.account_id] += 1
    return {a: (n, copies[a]) for a, n in totals.items()}


def _lures(texts: list[store.Text]) -> dict[str, int]:
    """Per account, its comments with an off-platform lure (a comment matching two patterns counts once)."""
    comments = [t for t in texts if t.kind == "comment"]
    if not comments:
        return {}
    found = find_lures(pd.DataFrame({"comment_id": [t.item for t in comments],
                                     "account_id": [t.account_id for t in comments],
                                     "note_id": ["" for _ in comments], "text": [t.text for t in comments]}))
    if found.empty:
        return {}
    return found.drop_duplicates("comment_id").groupby("account_id").size().astype(int).to_dict()


def _counted_reports(graph: Graph, ids: Sequence[str], policy: ReportsPolicy) -> dict[str, int]:
    out: Counter[str] = Counter()
    for target in store.reports(graph, ids, policy.max_reports):
        bursts = coordinated_bursts(target.reports, target.clusters, policy)
        out[target.account_id] += len(counted(target.reports, bursts))
    return dict(out)
