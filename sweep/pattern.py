"""The sweep back (回扫) as plain data: a confirmed cluster's pattern, and how strongly another account matches it.

A confirmed ring leaves traces beyond the accounts a detection run put in its cluster: the devices and IP ranges
its members used, the agency that manages them, the windows in which they were registered in bulk, the phone
segments they over-use, the comment texts they posted. The platform's chain runs "intercept up front, track in
progress, sweep back afterwards"; this module is the last step's arithmetic, with no database:

* :func:`ip_range`, :func:`registration_bursts`, :func:`over_used_segments`, :func:`templates` read the pattern off
  the members' facts;
* :func:`identifier_weight` weighs one shared identifier by how much of it belongs to the cluster;
* :func:`template_match` verifies a fulltext hit as a near-duplicate (character-shingle Jaccard, as the
  ``comment_template`` detector does);
* :func:`score` combines an account's evidence by noisy-OR over kinds (Pearl 1988, ch. 4.3: independent causes,
  each of which alone may explain the effect), so a weak kind alone stays weak and two kinds corroborate.

Everything here is O(input) or O(n log n) and unit-tested in ``tests/sweep/test_pattern.py``.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Mapping, Sequence

from ringscope.detection.comment_templates import shingles
from ringscope.detection.comment_text import normalize_text
from ringscope.sweep.policy import KINDS, SweepPolicy


@dataclass(frozen=True)
class Member:
    """What the sweep reads of one member of the confirmed cluster."""
    account_id: str
    registered_at: datetime | None = None
    devices: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    confirmed: bool = False  # sanctioned (not revoked), banned or suspended


@dataclass(frozen=True)
class Burst:
    """Member registrations with consecutive gaps of at most the policy's ``max_gap_minutes``."""
    start: datetime
    end: datetime
    members: int

    @property
    def key(self) -> str:
        """``2026-01-10 10:00-10:25 UTC`` (the end's date too when it is another day)."""
        start, end = (t.astimezone(timezone.utc) for t in (self.start, self.end))
        tail = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M")
        return f"{start:%Y-%m-%d %H:%M}-{tail} UTC"


@dataclass(frozen=True)
class Template:
    """A comment text several members posted: its normalised form, one raw example (the fulltext query), and
    how many members posted it."""
    norm: str
    example: str
    members: int


@dataclass(frozen=True)
class Evidence:
    """One trace of the pattern on one account: its kind, the identifier (as cited: personal data marked for
    ``auth.masking.render_reason``), its weight after the share rule, and the reason in words."""
    kind: str
    key: str
    weight: float
    reason: str


@dataclass(frozen=True)
class Candidate:
    account_id: str
    score: float
    evidence: tuple[Evidence, ...]  # the strongest of each kind, strongest kind first

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(e.kind for e in self.evidence)


# ------------------------------------------------------------------------------------------------ the pattern

def ip_range(ip: str, ipv4_prefix: int, ipv6_prefix: int) -> str | None:
    """The network of ``ip`` at the policy's prefix length, as text (``203.0.113.0/24``); None if ``ip`` is not an
    address. O(1)."""
    try:
        address = ipaddress.ip_address(str(ip).strip())
    except ValueError:
        return None
    bits = ipv4_prefix if address.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def range_text_prefix(network: str) -> str | None:
    """The longest text prefix every address of ``network`` starts with *as the input format writes it* (dotted
    IPv4, compressed IPv6), for an index-backed ``STARTS WITH`` search; the caller then keeps the addresses
    really in the network. IPv4 keeps its whole octets (``203.0.113.0/24`` -> ``203.0.113.``); IPv6 its whole
    leading groups when none of them is zero (a zero group may be written ``::``); None when nothing safe is
    left (the range is not searched, only cited). O(1)."""
    net = ipaddress.ip_network(network)
    if net.version == 4:
        octets = net.prefixlen // 8
        return ".".join(str(net.network_address).split(".")[:octets]) + "." if octets else None
    groups = net.network_address.exploded.split(":")[: net.prefixlen // 16]
    kept = []
    for g in groups:
        if int(g, 16) == 0:
            break
        kept.append(format(int(g, 16), "x"))
    return ":".join(kept) + ":" if kept else None


def in_range(ip: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(str(ip).strip()) in ipaddress.ip_network(network)
    except ValueError:
        return False


def member_ranges(members: Sequence[Member], policy: SweepPolicy) -> dict[str, int]:
    """IP ranges used by at least ``min_members`` members -> how many members used each, the
    ``ip_range.max_ranges`` most used. O(total IPs)."""
    users: dict[str, set[str]] = defaultdict(set)
    for m in members:
        for ip in m.ips:
            net = ip_range(ip, policy.ip_range.ipv4_prefix, policy.ip_range.ipv6_prefix)
            if net is not None:
                users[net].add(m.account_id)
    shared = [(net, len(a)) for net, a in users.items() if len(a) >= policy.min_members]
    shared.sort(key=lambda x: (-x[1], x[0]))
    return dict(shared[: policy.ip_range.max_ranges])


def shared_identifiers(members: Sequence[Member], field: str, min_members: int) -> dict[str, int]:
    """Identifiers of one kind (``devices``, ``agencies``, ``segments``) used by at least ``min_members``
    members -> how many. O(total identifiers)."""
    counts = Counter(x for m in members for x in set(getattr(m, field)))
    return {k: n for k, n in sorted(counts.items()) if n >= min_members}


def registration_bursts(times: Iterable[datetime | None], max_gap: timedelta, min_members: int) -> list[Burst]:
    """Maximal runs of member registration times whose consecutive gaps are at most ``max_gap``, of at least
    ``min_members`` registrations (single-linkage in time, as ``registration_bursts`` groups a burst).
    O(n log n)."""
    ordered = sorted(t for t in times if t is not None)
    bursts: list[Burst] = []
    start = 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] - ordered[i - 1] > max_gap:
            if i - start >= min_members:
                bursts.append(Burst(ordered[start], ordered[i - 1], i - start))
            start = i
    return bursts


def over_used_segments(member_counts: Mapping[str, int], n_members: int, platform_counts: Mapping[str, int],
                       platform_accounts: int, min_lift: float, min_members: int) -> dict[str, float]:
    """Phone segments the cluster uses at least ``min_lift`` times as often as the platform does -> the lift
    (members' share over the platform's share). A carrier's ordinary prefix is not a ring's trace; a virtual
    operator's prefix 30 of 40 members share is. O(segments)."""
    out: dict[str, float] = {}
    if n_members <= 0 or platform_accounts <= 0:
        return out
    for segment, n in sorted(member_counts.items()):
        on_platform = platform_counts.get(segment, 0)
        if n < min_members or on_platform <= 0:
            continue
        lift = (n / n_members) / (on_platform / platform_accounts)
        if lift >= min_lift:
            out[segment] = lift
    return out


def templates(comments: Iterable[tuple[str, str]], policy: SweepPolicy) -> list[Template]:
    """Normalised comment texts of at least ``comment_template.min_chars`` characters posted by at least
    ``min_members`` members, most members first, at most ``comment_template.max_templates``.
    ``comments`` is (account id, raw text). O(total text)."""
    authors: dict[str, set[str]] = defaultdict(set)
    example: dict[str, str] = {}
    for account_id, text in comments:
        norm = normalize_text(text or "")
        if len(norm) < policy.comment_template.min_chars:
            continue
        authors[norm].add(account_id)
        example.setdefault(norm, text)
    kept = [(norm, len(a)) for norm, a in authors.items() if len(a) >= policy.min_members]
    kept.sort(key=lambda x: (-x[1], x[0]))
    return [Template(norm, example[norm], n) for norm, n in kept[: policy.comment_template.max_templates]]


def template_match(text: str, template: Template, shingle: int, threshold: float) -> float | None:
    """The character-shingle Jaccard of ``text`` (raw) with ``template`` when at least ``threshold``, else None.
    O(len)."""
    a, b = shingles(normalize_text(text or ""), shingle), shingles(template.norm, shingle)
    if not a or not b:
        return None
    jaccard = len(a & b) / len(a | b)
    return jaccard if jaccard >= threshold else None


# ----------------------------------------------------------------------------------------------- the weights

def identifier_weight(base: float, members_on: int, accounts_on: int, full_share: float) -> float:
    """``base`` scaled by how much of an identifier the cluster holds: full at ``members_on / accounts_on >=
    full_share``, proportionally less below (a range 3 members share with 900 other accounts lends little).
    O(1)."""
    if accounts_on <= 0 or members_on <= 0:
        return 0.0
    return base * min(1.0, (min(members_on, accounts_on) / accounts_on) / full_share)


def noisy_or(weights: Iterable[float]) -> float:
    """1 - prod(1 - w): the chance that at least one of independent causes explains the match. O(n)."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


def score(evidence: Iterable[tuple[str, Evidence]], exclude: Iterable[str] = ()) -> list[Candidate]:
    """Candidates from (account id, evidence) pairs: per account the strongest evidence of each kind, the
    noisy-OR of those as the score; accounts in ``exclude`` (the cluster's members) left out. Highest score
    first, then account id. O(n log n)."""
    skip = set(exclude)
    best: dict[str, dict[str, Evidence]] = defaultdict(dict)
    for account_id, e in evidence:
        if account_id in skip or e.weight <= 0.0:
            continue
        current = best[account_id].get(e.kind)
        if current is None or e.weight > current.weight:
            best[account_id][e.kind] = e
    rank = {k: i for i, k in enumerate(KINDS)}
    out = []
    for account_id, kinds in best.items():
        items = tuple(sorted(kinds.values(), key=lambda e: (-e.weight, rank.get(e.kind, len(rank)))))
        out.append(Candidate(account_id, noisy_or(e.weight for e in items), items))
    out.sort(key=lambda c: (-c.score, c.account_id))
    return out
