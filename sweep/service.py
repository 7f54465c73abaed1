"""The sweep back (回扫), used by the CLI (``ringscope sweep``) and the app alike.

* :func:`sweep`: read a confirmed cluster's pattern (``sweep/pattern.py``), search the whole graph for the accounts
  that share each trace (``sweep/store.py``), weigh and rank them; the history counts (an account registered years
  before the detection run is found as well as one the run scored), and the cluster's own members are not listed.
* :func:`place_on_watch`: the candidates at or above a score go to the observation room (``watch.service.add``,
  one audited stay each, with the sweep's evidence as the reason); accounts already sanctioned or under
  observation are left as they are. A sanction goes through ``ringscope sanction preview`` as always.

A cluster is swept once it is confirmed (the policy's ``min_confirmed_members`` of its members sanctioned, banned or
suspended); ``unconfirmed=True`` sweeps it before that, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from ringscope.auth.roles import Actor
from ringscope.common.errors import RingscopeError
from ringscope.detection.findings import personal
from ringscope.graph.database import Graph
from ringscope.queries.search import lucene_escape
from ringscope.sweep import pattern, store
from ringscope.sweep.pattern import Candidate, Evidence, Member
from ringscope.sweep.policy import SweepPolicy
from ringscope.watch import service as watch
from ringscope.watch.policy import WatchPolicy
from ringscope.watch.room import OPEN_STATES


class UnknownCluster(RingscopeError):
    pass


class NotConfirmed(RingscopeError):
    pass


@dataclass(frozen=True)
class Found:
    """A candidate with what an investigator decides on: its standing, and whether the run saw it."""
    candidate: Candidate
    registered_at: datetime | None
    status: str | None
    run_risk: float | None  # its risk in the cluster's run; None when the run did not score it
    sanctioned: bool
    on_watch: bool
    before_run: bool  # registered before the run that found the cluster

    @property
    def account_id(self) -> str:
        return self.candidate.account_id

    @property
    def score(self) -> float:
        return self.candidate.score


@dataclass(frozen=True)
class Trace:
    """One part of the pattern: its kind, how many traces of that kind, and which were too common to search."""
    kind: str
    count: int
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepResult:
    cluster: store.ClusterInfo
    members_read: int
    confirmed: int
    pattern: tuple[Trace, ...]
    found: tuple[Found, ...]  # at or above the minimum score, strongest first, at most the policy's maximum
    below: int  # candidates with some evidence under the minimum score
    min_score: float
    notes: tuple[str, ...] = field(default=())


def sweep(graph: Graph, cluster_id: str, policy: SweepPolicy, *, unconfirmed: bool = False,
          min_score: float | None = None, limit: int | None = None,
          log: Callable[[str], None] | None = None) -> SweepResult:
    """The accounts outside cluster ``cluster_id`` that match its pattern, with the evidence."""
    say = log or (lambda _: None)
    info = store.cluster(graph, cluster_id)
    if info is None:
        raise UnknownCluster(f"no cluster {cluster_id!r} (see `ringscope clusters --run latest`)")
    members = store.members(graph, cluster_id, policy.max_members)
    confirmed = sum(m.confirmed for m in members)
    if confirmed < policy.min_confirmed_members and not unconfirmed:
        raise NotConfirmed(f"cluster {cluster_id} is not confirmed: {confirmed} of its {info.size} members are "
                           f"sanctioned, banned or suspended (the sweep policy's min_confirmed_members is "
                           f"{policy.min_confirmed_members}); sanction it first, or sweep it anyway with --unconfirmed")
    notes = []
    if info.size > len(members):
        notes.append(f"the cluster has {info.size} members; its pattern is read from the first {len(members)} "
                     "(the sweep policy's max_members)")
    ids = [m.account_id for m in members]
    evidence: list[tuple[str, Evidence]] = []
    traces: list[Trace] = []
    for kind, find in (("device", _devices), ("agency", _agencies), ("ip_range", _ip_ranges),
                       ("registration_burst", _bursts), ("comment_template", _templates)):
        found, trace = find(graph, members, cluster_id, policy)
        evidence.extend(found)
        traces.append(trace)
        say(f"{kind}: {trace.count} traces, {len(found)} accounts on them")
    candidates = pattern.score(evidence, exclude=ids)
    # Phone segments corroborate: they are read for the accounts other traces found, never searched alone (a
    # segment holds a share of the whole platform).
    segments, segment_trace = _segments(graph, members, policy)
    traces.append(segment_trace)
    if segments:
        have = store.segments_of(graph, [c.account_id for c in candidates])
        extra = [(a, segments[s]) for a, segs in have.items() for s in segs if s in segments]
        candidates = pattern.score([*((c.account_id, e) for c in candidates for e in c.evidence), *extra],
                                   exclude=ids)
    threshold = policy.min_score if min_score is None else min_score
    kept = [c for c in candidates if c.score >= threshold][: (limit or policy.max_candidates)]
    facts = store.candidate_facts(graph, [c.account_id for c in kept], info.run_id, OPEN_STATES)
    found = tuple(_found(c, facts.get(c.account_id), info.run_started_at) for c in kept)
    return SweepResult(info, len(members), confirmed, tuple(traces), found,
                       sum(1 for c in candidates if c.score < threshold), threshold, tuple(notes))


def place_on_watch(graph: Graph, actor: Actor, result: SweepResult, watch_policy: WatchPolicy, *,
                   days: int | None = None, now: datetime | None = None) -> tuple[list[str], list[str]]:
    """Each found account not sanctioned and not under observation goes to the room, its reason naming the
    cluster and the evidence; returns (placed, left as they were)."""
    placed, left = [], []
    for f in result.found:
        if f.sanctioned or f.on_watch:
            left.append(f.account_id)
            continue
        reason = (f"sweep back of confirmed cluster {result.cluster.cluster_id} (score {f.score:.2f}): "
                  + "; ".join(e.reason for e in f.candidate.evidence))
        try:
            watch.add(graph, actor, f.account_id, reason, watch_policy, days=days, now=now)
        except watch.AlreadyWatched:  # placed since the sweep read it
            left.append(f.account_id)
            continue
        placed.append(f.account_id)
    return placed, left


def _found(c: Candidate, facts: store.Facts | None, run_started: datetime | None) -> Found:
    if facts is None:
        return Found(c, None, None, None, False, False, False)
    registered = facts.registered_at
    before = registered is not None and run_started is not None and registered < run_started
    return Found(c, registered, facts.status, facts.run_risk, facts.sanctioned, facts.on_watch, before)


# ------------------------------------------------------------------------------ one search per kind of trace

def _shared_evidence(kind: str, shared: list[store.Shared], counts: dict[str, int], policy: SweepPolicy,
                     cite: Callable[[str], str], what: str) -> tuple[list[tuple[str, Evidence]], Trace]:
    out: list[tuple[str, Evidence]] = []
    skipped = []
    base = policy.evidence.of(kind)
    for s in shared:
        if not s.ids:
            skipped.append(s.key)
            continue
        n = counts[s.key]
        weight = pattern.identifier_weight(base, n, s.accounts, policy.full_share)
        reason = f"{what} {cite(s.key)} ({n} of its {s.accounts} accounts are members of the cluster)"
        out.extend((a, Evidence(kind, cite(s.key), weight, reason)) for a in s.ids)
    return out, Trace(kind, len(counts), tuple(skipped))


def _devices(graph, members, cluster_id, policy):
    counts = pattern.shared_identifiers(members, "devices", 1)
    shared = store.device_accounts(graph, list(counts), policy.max_sharing)
    return _shared_evidence("device", shared, counts, policy, str, "used device")


def _agencies(graph, members, cluster_id, policy):
    counts = pattern.shared_identifiers(members, "agencies", policy.min_members)
    shared = store.agency_accounts(graph, list(counts), policy.max_sharing)
    return _shared_evidence("agency", shared, counts, policy, str, "managed by intermediary")


def _ip_ranges(graph, members: list[Member], cluster_id, policy):
    ranges = pattern.member_ranges(members, policy)
    by_prefix: dict[str, list[str]] = {}
    for net in ranges:
        prefix = pattern.range_text_prefix(net)
        if prefix is not None:
            by_prefix.setdefault(prefix, []).append(net)
    ips = store.range_ips(graph, list(by_prefix), policy.max_sharing + 1)
    out: list[tuple[str, Evidence]] = []
    skipped = []
    base = policy.evidence.of("ip_range")
    for prefix, nets in by_prefix.items():
        rows = ips.get(prefix, [])
        if len(rows) > policy.max_sharing:
            skipped.extend(personal("IP", n) for n in nets)
            continue
        for net in nets:
            on = [(ip, ids) for ip, ids in rows if pattern.in_range(ip, net)]
            accounts = {a for _, ids in on for a in ids}
            if len(accounts) > policy.max_sharing:
                skipped.append(personal("IP", net))
                continue
            weight = pattern.identifier_weight(base, ranges[net], len(accounts), policy.full_share)
            for ip, ids in on:
                reason = (f"logged in or registered from {personal('IP', ip)} in {personal('IP', net)}, a range "
                          f"{ranges[net]} members used ({ranges[net]} of its {len(accounts)} accounts)")
                out.extend((a, Evidence("ip_range", personal("IP", net), weight, reason)) for a in ids)
    return out, Trace("ip_range", len(ranges), tuple(skipped))


def _bursts(graph, members: list[Member], cluster_id, policy):
    rule = policy.registration_burst
    gap = timedelta(minutes=rule.max_gap_minutes)
    bursts = pattern.registration_bursts((m.registered_at for m in members), gap, rule.min_members)
    out: list[tuple[str, Evidence]] = []
    skipped = []
    base = policy.evidence.of("registration_burst")
    for b, registered in zip(bursts, store.registered_between(graph, bursts, gap, rule.max_registrations + 1)):
        if len(registered) > rule.max_registrations:
            skipped.append(b.key)
            continue
        weight = pattern.identifier_weight(base, b.members, len(registered), policy.full_share)
        for account_id, at in registered:
            when = f"{at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC" if at else "at an unknown time"
            reason = (f"registered {when}, inside a burst of {b.members} member registrations "
                      f"({b.key}: {b.members} of the {len(registered)} registrations then)")
            out.append((account_id, Evidence("registration_burst", b.key, weight, reason)))
    return out, Trace("registration_burst", len(bursts), tuple(skipped))


def _templates(graph, members: list[Member], cluster_id, policy):
    rule = policy.comment_template
    comments = store.member_comments(graph, [m.account_id for m in members], policy.max_member_comments)
    found = pattern.templates(comments, policy)
    out: list[tuple[str, Evidence]] = []
    base = policy.evidence.of("comment_template")
    searched = [t for t in found if lucene_escape(t.example)]
    hits = store.text_hits(graph, [lucene_escape(t.example) for t in searched], rule.hits_per_template)
    for t, template_hits in zip(searched, hits):
        for account_id, comment_id, text in template_hits:
            jaccard = pattern.template_match(text, t, rule.shingle, rule.threshold)
            if jaccard is None:
                continue
            reason = (f"wrote comment {comment_id} “{_short(text)}”, a near-duplicate (Jaccard {jaccard:.2f}) of "
                      f"a text {t.members} members posted")
            out.append((account_id, Evidence("comment_template", _short(t.example), base, reason)))
    return out, Trace("comment_template", len(found))


def _segments(graph, members: list[Member], policy) -> tuple[dict[str, Evidence], Trace]:
    counts = pattern.shared_identifiers(members, "segments", policy.min_members)
    sizes = store.segment_sizes(graph, list(counts))
    lifts = pattern.over_used_segments(counts, len(members), sizes, store.platform_accounts(graph) if counts else 0,
                                       policy.phone_segment.min_lift, policy.min_members)
    base = policy.evidence.of("phone_segment")
    out = {s: Evidence("phone_segment", s, base,
                       f"phone segment {s}, which the cluster's members use {lift:.0f}x as often as the platform "
                       f"({counts[s]} members)")
           for s, lift in lifts.items()}
    return out, Trace("phone_segment", len(out))


def _short(text: str, n: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"



def confirmed_clusters(graph: Graph, run_id: str, limit: int = 200) -> list[store.ConfirmedCluster]:
    """The clusters of run ``run_id`` with confirmed members, most confirmed first: what there is to sweep."""
    return store.confirmed_clusters(graph, run_id, limit)
