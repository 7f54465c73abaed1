"""Accounts tied together by rare shared infrastructure: devices, IPs, phone numbers.

A farm runs many accounts on few phones, SIM cards and network exits. Two
accounts that share an identifier only a handful of accounts use are probably
run by the same hands; two accounts behind a campus NAT or on a widely cloned
emulator image are not. So every identifier is weighted by how rare it is, an
inverse-document-frequency weight truncated at a per-kind cap, and accounts
are linked by the summed weight of the identifiers they share.

Pipeline (``detect_shared_infrastructure``):

1. ``infrastructure_links`` gathers ``(account_id, kind, identifier)`` links
   from the input-format frames (kinds ``device``, ``registration_ip``,
   ``login_ip``, ``phone``).
2. ``identifier_weights`` gives each identifier shared by ``k`` accounts the
   weight ``w(k) = base_kind * ln((cap+1)/k) / ln((cap+1)/2)`` for
   ``2 <= k <= cap`` and 0 above the cap, so ``w(2) = base`` and ``w``
   falls to about 0 at the cap.
3. ``weighted_account_pairs`` sums, for every account pair, the weights of
   the identifiers they share (one address seen as both registration and
   login IP counts once). Only identifiers at or under the cap expand into
   pairs, so the work is bounded by ``sum(k^2) <= cap * links``; a NAT
   shared by 100,000 accounts costs nothing.
4. Pairs whose weight reaches a threshold are strong edges; their connected
   components (``component_roots``, named by their smallest account code) are
   the clusters, except components larger than ``max_component_size``, which
   are split with Louvain community detection (fixed seed; ``cluster_parts``).
   Steps 1-4 look at the whole platform; from here on, each component is
   scored on its own (``clusters_in_components``), which is what lets the
   Spark engine (``ringscope.spark``) score batches of components on its
   executors with this same code.
5. Each cluster is scored by the evidence it shares (how many rare
   identifiers, how many members each ties, how dense the links are; a
   household-sized group on one tablet is discounted) and reported with the
   identifiers as evidence.

References: the truncated IDF weighting of shared neighbours follows Adamic &
Adar, "Friends and neighbors on the Web", Social Networks 25(3), 2003; the
shared-attribute account graph follows Xiao, Freeman & Hwa, "Detecting Clusters
of Fake Accounts in Online Social Networks", AISec 2015, and SynchroTrap (Cao et
al., CCS 2014), which groups accounts acting from the same IP addresses; Louvain is Blondel
et al., "Fast unfolding of communities in large networks", J. Stat. Mech. 2008.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ringscope.detection.findings import ClusterFinding, Evidence, Reason, personal
from ringscope.detection.params import as_mapping, policy_field

DETECTOR = "shared_infrastructure"

KINDS = ("device", "phone", "registration_ip", "login_ip")

#: Weight of an identifier shared by exactly two accounts. A device or a phone
#: number is personal; IPs are shared by households and re-assigned by carriers,
#: so one shared IP alone stays below the default link threshold (0.5) and
#: only links together with other evidence.
DEFAULT_BASE: dict[str, float] = {
    "device": 1.0,
    "phone": 1.0,
    "registration_ip": 0.45,
    "login_ip": 0.35,
}

#: Above this many accounts an identifier is infrastructure (NAT, carrier
#: gateway, emulator image, shop demo phone) and links nobody.
DEFAULT_CAP: dict[str, int] = {
    "device": 200,
    "phone": 50,
    "registration_ip": 50,
    "login_ip": 20,
}

#: Link kinds that name the same physical thing: one IP address used to
#: register one account and to log in to another is one shared address, so a
#: pair sharing it under both kinds gets the larger weight, not the sum.
SAME_SOURCE: dict[str, str] = {"registration_ip": "ip", "login_ip": "ip"}

#: ``Evidence.kind`` used in findings for each link kind.
EVIDENCE_KIND: dict[str, str] = {
    "device": "device",
    "phone": "phone",
    "registration_ip": "registration_ip",
    "login_ip": "ip",
}

REASON_CODE: dict[str, str] = {
    "device": "shared_device",
    "phone": "shared_phone",
    "registration_ip": "shared_registration_ip",
    "login_ip": "shared_login_ip",
}

NOUN: dict[str, tuple[str, str]] = {
    "device": ("device", "devices"),
    "phone": ("phone number (hash)", "phone numbers (hashes)"),
    "registration_ip": ("registration IP", "registration IPs"),
    "login_ip": ("login IP", "login IPs"),
}

CITE_LIMIT = 20

#: Link kinds whose identifiers are personal data, and the node label they are masked as.
PERSONAL_LABEL = {"registration_ip": "IP", "login_ip": "IP", "phone": "Phone"}

#: A household: up to this many accounts on one shared tablet or phone (and
#: the home line that comes with it) is what families look like.
HOUSEHOLD_SIZE = 4
HOUSEHOLD_DISCOUNT = 0.5
PERSONAL_KINDS = ("device", "phone")


def cite_ids(ids: list[str], limit: int = CITE_LIMIT) -> str:
    """Join ids for a reason text, at most ``limit`` of them, then "and N more".

    O(limit).
    """
    shown = ", ".join(ids[:limit])
    rest = len(ids) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def identifier_weight(k: int | np.ndarray, base: float, cap: int) -> np.ndarray:
    """Truncated IDF weight of an identifier shared by ``k`` accounts.

    ``w(k) = base * ln((cap+1)/k) / ln((cap+1)/2)`` for ``2 <= k <= cap``,
    else 0: ``w(2) = base``, decreasing in ``k``, about 0 at the cap and
    exactly 0 above it. An Adamic-Adar style inverse-frequency weight (Adamic &
    Adar 2003) with the cap as the "corpus size". O(len(k)).
    """
    k = np.asarray(k, dtype=float)
    top = math.log((cap + 1) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = base * np.log((cap + 1) / np.maximum(k, 1.0)) / top
    return np.where((k >= 2) & (k <= cap), w, 0.0)


def unique_ints(
    values: np.ndarray, return_inverse: bool = False, return_counts: bool = False
):
    """Sorted distinct values of an integer array (like ``np.unique``), by one sort.

    Returns ``uniq`` or a tuple ``(uniq, inverse?, counts?)``. Written out
    because ``np.unique`` in NumPy 2.4 takes a hash-based path that is ~100x
    slower on millions of int64 keys. O(n log n).
    """
    values = np.asarray(values, dtype=np.int64)
    if not return_inverse and not return_counts:
        srt = np.sort(values)
        return srt[np.r_[True, srt[1:] != srt[:-1]]] if len(srt) else srt
    order = np.argsort(values, kind="stable")
    srt = values[order]
    first = np.r_[True, srt[1:] != srt[:-1]] if len(srt) else np.zeros(0, dtype=bool)
    uniq = srt[first]
    out: list[np.ndarray] = [uniq]
    if return_inverse:
        inverse = np.empty(len(values), dtype=np.int64)
        inverse[order] = np.cumsum(first) - 1
        out.append(inverse)
    if return_counts:
        out.append(np.diff(np.r_[np.flatnonzero(first), len(srt)]))
    return out[0] if len(out) == 1 else tuple(out)


def infrastructure_links(
    accounts: pd.DataFrame | None = None,
    account_devices: pd.DataFrame | None = None,
    account_ips: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``(account_id, kind, identifier)`` links found in input-format frames.

    ``device`` from ``account_devices.device_id``, ``registration_ip`` and
    ``phone`` from ``accounts.registration_ip`` / ``accounts.phone_hash``,
    ``login_ip`` from ``account_ips.ip``. Missing frames or columns are skipped,
    null and empty identifiers dropped. Rows keep the input order and may
    repeat (a login IP seen twice); the detector deduplicates and sorts
    (``encode_links``). O(L) for L links.
    """
    parts: list[pd.DataFrame] = []

    def add(frame: pd.DataFrame | None, column: str, kind: str) -> None:
        if frame is None or column not in frame.columns or "account_id" not in frame.columns:
            return
        part = frame[["account_id", column]].dropna()
        part = pd.DataFrame(
            {
                "account_id": part["account_id"].astype(str),
                "kind": kind,
                "identifier": part[column].astype(str),
            }
        )
        parts.append(part[part["identifier"].str.len() > 0])

    add(account_devices, "device_id", "device")
    add(accounts, "registration_ip", "registration_ip")
    add(accounts, "phone_hash", "phone")
    add(account_ips, "ip", "login_ip")
    if not parts:
        return pd.DataFrame({"account_id": [], "kind": [], "identifier": []}, dtype=str)
    return pd.concat(parts, ignore_index=True)


def identifier_weights_of(kinds: np.ndarray, k: np.ndarray, base: Mapping[str, float] | None = None,
                          cap: Mapping[str, int] | None = None) -> np.ndarray:
    """``identifier_weight`` of identifiers of link kind ``kinds[i]`` shared by ``k[i]`` accounts, with the
    kind's base and cap (merged over ``DEFAULT_BASE``/``DEFAULT_CAP``; an unknown kind: 0.5 and 20). O(n)."""
    base = {**DEFAULT_BASE, **(base or {})}
    cap = {**DEFAULT_CAP, **(cap or {})}
    kinds = np.asarray(kinds, dtype=object)
    k = np.asarray(k)
    weight = np.zeros(len(kinds))
    for kind_name in sorted(set(kinds.tolist())):
        sel = kinds == kind_name
        weight[sel] = identifier_weight(k[sel], base.get(kind_name, 0.5), cap.get(kind_name, 20))
    return weight


@dataclass(frozen=True)
class EncodedLinks:
    """Links as integer codes: row ``i`` says account ``account[i]`` uses identifier ``ident[i]``.

    ``accounts`` (sorted ids) and ``kinds``/``identifiers`` (per identifier
    code, sorted by kind then identifier) translate codes back to text;
    ``k`` is the number of accounts per identifier and ``weight`` its
    ``identifier_weight``. ``source`` gives identifiers that are one physical
    thing the same code: an address seen both as ``registration_ip`` and
    ``login_ip`` is one IP, so it counts once per pair (``SAME_SOURCE``).
    Rows are unique and sorted by (ident, account).
    """

    account: np.ndarray
    ident: np.ndarray
    accounts: np.ndarray
    kinds: np.ndarray
    identifiers: np.ndarray
    k: np.ndarray
    weight: np.ndarray
    source: np.ndarray


def encode_links(
    links: pd.DataFrame,
    base: Mapping[str, float] | None = None,
    cap: Mapping[str, int] | None = None,
) -> EncodedLinks:
    """Factorize links once and weigh every identifier (``identifier_weight``).

    Text is touched only here (one sorted factorization per column); all later
    steps work on integers. Unknown kinds get base 0.5 and cap 20.
    O(L log L) for L links.
    """
    acc, accounts = pd.factorize(links["account_id"].astype(str), sort=True)
    kind, kinds = pd.factorize(links["kind"].astype(str), sort=True)
    ident, idents = pd.factorize(links["identifier"].astype(str), sort=True)
    # one code per (kind, identifier), ordered by kind then identifier
    pair_code, pair_values = pd.factorize(kind.astype(np.int64) * len(idents) + ident, sort=True)
    kinds_of = np.asarray(kinds, dtype=object)[pair_values // max(len(idents), 1)]
    idents_of = np.asarray(idents, dtype=object)[pair_values % max(len(idents), 1)]
    n_acc = max(len(accounts), 1)
    unique = unique_ints(pair_code.astype(np.int64) * n_acc + acc)
    ident_rows, acc_rows = unique // n_acc, unique % n_acc
    k = np.bincount(ident_rows, minlength=len(pair_values))
    weight = identifier_weights_of(kinds_of, k, base, cap)
    # One code per (family, identifier), in that order: families numbered in name order, so the codes are
    # those of the sorted "family\x1fidentifier" texts, without making 3 M strings at 1 M accounts.
    family_names = sorted({SAME_SOURCE.get(k, k) for k in kinds})
    family_of_kind = np.array([family_names.index(SAME_SOURCE.get(k, k)) for k in kinds], dtype=np.int64)
    family = family_of_kind[pair_values // max(len(idents), 1)]
    source, _ = pd.factorize(family * max(len(idents), 1) + pair_values % max(len(idents), 1), sort=True)
    return EncodedLinks(acc_rows, ident_rows, np.asarray(accounts, dtype=object), kinds_of,
                        idents_of, k, weight, source.astype(np.int64))


def identifier_weights(
    links: pd.DataFrame,
    base: Mapping[str, float] | None = None,
    cap: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """One row per (kind, identifier): ``k`` distinct accounts and weight ``w(k)``.

    Columns ``kind, identifier, k, weight``; unknown kinds get base 0.5 and
    cap 20. Sorted by kind, identifier. O(L log L).
    """
    enc = encode_links(links, base, cap)
    return pd.DataFrame({"kind": enc.kinds, "identifier": enc.identifiers, "k": enc.k,
                         "weight": enc.weight})


def _pairs_of_groups(groups: np.ndarray, members: np.ndarray):
    """All member pairs within each group, vectorised per group size.

    ``groups``/``members`` are parallel arrays sorted by group then member.
    Returns ``(a, b, g)``: the pairs ``a < b`` and the group each came from.
    O(sum over groups of k^2).
    """
    a_out: list[np.ndarray] = []
    b_out: list[np.ndarray] = []
    g_out: list[np.ndarray] = []
    empty = np.array([], dtype=np.int64)
    if len(groups) == 0:
        return empty, empty, empty
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    sizes = np.diff(np.r_[starts, len(groups)])
    for k in np.unique(sizes):
        if k < 2:
            continue
        sel = starts[sizes == k]
        block = members[sel[:, None] + np.arange(k)[None, :]]  # (g, k), sorted rows
        iu, ju = np.triu_indices(k, 1)
        a_out.append(block[:, iu].ravel())
        b_out.append(block[:, ju].ravel())
        g_out.append(np.repeat(groups[sel], len(iu)))
    if not a_out:
        return empty, empty, empty
    return np.concatenate(a_out), np.concatenate(b_out), np.concatenate(g_out)


def _encoded_pairs(enc: EncodedLinks) -> pd.DataFrame:
    """Weighted account pairs from encoded links (see ``weighted_account_pairs``).

    A pair sharing one address as registration and login IP counts it once
    (the larger weight). O(P log P) for P expanded pairs.
    """
    useful = enc.weight[enc.ident] > 0
    ident = enc.ident[useful]
    a, b, g = _pairs_of_groups(ident, enc.account[useful])
    if len(a) == 0:
        return pd.DataFrame({"a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64),
                             "weight": np.zeros(0), "shared": np.zeros(0, np.int64)})
    # one row per (pair, source), the one with the largest weight
    w, src = enc.weight[g], enc.source[g]
    n = len(enc.accounts)
    key = a * n + b
    order = np.lexsort((-w, src, key))
    key, src, w = key[order], src[order], w[order]
    first = np.r_[True, (key[1:] != key[:-1]) | (src[1:] != src[:-1])]
    key, w = key[first], w[first]
    uniq, inverse = unique_ints(key, return_inverse=True)
    return pd.DataFrame({
        "a": uniq // n,
        "b": uniq % n,
        "weight": np.bincount(inverse, weights=w),
        "shared": np.bincount(inverse),
    })


def weighted_account_pairs(
    links: pd.DataFrame,
    base: Mapping[str, float] | None = None,
    cap: Mapping[str, int] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Weighted account-account edges: summed weights of shared identifiers.

    Returns ``(pairs, accounts)`` where ``accounts`` is the sorted list of
    account ids and ``pairs`` has integer columns ``a < b`` (indices into
    ``accounts``), ``weight`` (sum of ``w(k)``, one term per physical source:
    see ``SAME_SOURCE``) and ``shared`` (number of such shared sources with
    positive weight), sorted by ``a, b``. Identifiers
    above their cap (weight 0) never expand, so the cost is
    O(L log L + sum_{k <= cap} k^2) <= O(L log L + cap * L) in time and memory.
    """
    enc = encode_links(links, base, cap)
    return _encoded_pairs(enc), enc.accounts.tolist()


def _groups(values: np.ndarray, keys: np.ndarray):
    """Yield ``(key, sorted values)`` for each distinct key, keys ascending.

    O(n log n) by one stable sort, instead of a per-group pandas apply.
    """
    if len(keys) == 0:
        return
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order]
    bounds = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        yield keys[lo], values[lo:hi]


def _louvain_split(nodes: np.ndarray, edges: pd.DataFrame, seed: int, resolution: float):
    """Louvain communities of one component (Blondel et al. 2008), deterministic.

    Nodes and edges are inserted in sorted order and the seed is fixed, so the
    split is reproducible. Returns a list of sorted node arrays ordered by
    smallest node. About O(E log V) per run.
    """
    graph = nx.Graph()
    graph.add_nodes_from(nodes.tolist())
    graph.add_weighted_edges_from(
        edges[["a", "b", "weight"]].itertuples(index=False, name=None)
    )
    communities = nx.community.louvain_communities(
        graph, weight="weight", resolution=resolution, seed=seed
    )
    parts = [np.array(sorted(c), dtype=np.int64) for c in communities]
    return sorted(parts, key=lambda p: int(p[0]))


def component_roots(a: np.ndarray, b: np.ndarray, n_accounts: int) -> np.ndarray:
    """Each account's connected component over the edges ``(a, b)``, named by its smallest account code
    (-1 for an account on no edge): the labelling large-star/small-star gives in the Spark engine
    (``ringscope.spark.components``). O(V + E) (scipy's breadth-first search)."""
    roots = np.full(n_accounts, -1, dtype=np.int64)
    if len(a) == 0:
        return roots
    matrix = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_accounts, n_accounts))
    _, comp = connected_components(matrix, directed=False)
    touched = np.zeros(n_accounts, dtype=bool)
    touched[a] = True
    touched[b] = True
    nodes = np.flatnonzero(touched)
    smallest = np.full(comp.max() + 1, n_accounts, dtype=np.int64)
    np.minimum.at(smallest, comp[nodes], nodes)
    roots[nodes] = smallest[comp[nodes]]
    return roots


def cluster_parts(members: pd.DataFrame, edges: pd.DataFrame, max_component_size: int = 100,
                  seed: int = 0, resolution: float = 1.0) -> np.ndarray:
    """The cluster of each member: its component, or, in a component larger than ``max_component_size``,
    its Louvain community (fixed ``seed``). ``members`` has ``account`` (code) and ``component`` (root
    code); ``edges`` the strong edges ``a < b`` among them. Returns, per row of ``members``, the cluster's
    smallest account code. Louvain sees each component's nodes and edges in code order, so a component
    gets the same split wherever it is scored. O(V log V) plus Louvain on the large components only."""
    account = members["account"].to_numpy(np.int64)
    component = members["component"].to_numpy(np.int64)
    label = component.copy()
    sizes = pd.Series(component).map(pd.Series(component).value_counts()).to_numpy()
    large = np.unique(component[sizes > max_component_size])
    if len(large):
        edges = edges.sort_values(["a", "b"], kind="mergesort")
        edge_root = pd.Series(component, index=account).reindex(edges["a"].to_numpy()).to_numpy()
        position = pd.Series(np.arange(len(account)), index=account)
        for root in large.tolist():
            nodes = np.sort(account[component == root])
            for part in _louvain_split(nodes, edges[edge_root == root], seed, resolution):
                label[position.reindex(part).to_numpy()] = int(part[0])
    return label


def cluster_score(evidence: float, density: float, household: bool = False) -> float:
    """Cluster strength in [0, 1] from shared-identifier evidence and density.

    ``evidence = sum over identifiers shared by m >= 2 members of w(k) * log2(m)``
    (rarer identifiers tying more members weigh more); the score is
    ``(1 - exp(-evidence / 3)) * (0.5 + 0.5 * density)``, where density is the
    fraction of member pairs directly linked above the threshold, halved
    (``HOUSEHOLD_DISCOUNT``) when the cluster looks like a household (see
    ``is_household``). O(1).
    """
    strength = 1.0 - math.exp(-max(evidence, 0.0) / 3.0)
    score = strength * (0.5 + 0.5 * min(max(density, 0.0), 1.0))
    if household:
        score *= HOUSEHOLD_DISCOUNT
    return float(min(1.0, max(0.0, score)))


def _evidence(shared: list[tuple]) -> float:
    """``sum of w(k) * log2(m)`` over a cluster's shared identifiers, one per source.

    ``shared`` holds ``(kind, identifier, k, m, weight)``; an address shared as
    both registration and login IP counts once, with its larger term
    (``SAME_SOURCE``). O(len(shared)).
    """
    best: dict[tuple[str, str], float] = {}
    for kind, ident, _, m, w in shared:
        key = (SAME_SOURCE.get(kind, kind), ident)
        best[key] = max(best.get(key, 0.0), w * math.log2(m))
    return float(sum(best[key] for key in sorted(best)))


def is_household(size: int, shared: list[tuple]) -> bool:
    """Whether a cluster looks like a family: few accounts, one shared personal id.

    True when ``size <= HOUSEHOLD_SIZE`` and at most one device or phone
    number is shared (IPs do not count: a family shares its home line too).
    ``shared`` holds ``(kind, identifier, k, m, weight)`` tuples. A farm that
    small on one phone looks the same and is discounted too. O(len(shared)).
    """
    personal = sum(1 for row in shared if row[0] in PERSONAL_KINDS)
    return size <= HOUSEHOLD_SIZE and personal <= 1


def _cluster_reasons(shared: list[tuple], size: int) -> tuple[Reason, ...]:
    """One reason per link kind, citing the shared identifiers.

    ``shared`` holds the cluster's identifiers as ``(kind, identifier, k, m,
    weight)`` tuples (``m`` = members that use it, ``k`` = all accounts that
    do), already ordered by kind, then most members, highest weight, id.
    O(I) for I identifiers.
    """
    reasons: list[Reason] = []
    by_kind: dict[str, list[tuple]] = {}
    for row in shared:
        by_kind.setdefault(row[0], []).append(row)
    order = [k for k in KINDS if k in by_kind] + sorted(set(by_kind) - set(KINDS))
    for kind in order:
        rows = by_kind[kind]
        ids = [r[1] for r in rows]
        singular, plural = NOUN.get(kind, (kind, kind + "s"))
        noun = singular if len(ids) == 1 else plural
        label = PERSONAL_LABEL.get(kind)
        detail = [f"{personal(label, i) if label else i} ({m} of {size} members, {k} accounts in all)"
                  for _, i, k, m, _ in rows]
        text = f"{size} accounts are tied by {len(ids)} shared {noun}: {cite_ids(detail)}"
        reasons.append(
            Reason(
                code=REASON_CODE.get(kind, f"shared_{kind}"),
                text=text,
                evidence=(Evidence(EVIDENCE_KIND.get(kind, kind), tuple(ids)),),
            )
        )
    return tuple(reasons)


@dataclass(frozen=True)
class SharedInfrastructureParams:
    """Thresholds of :func:`detect_shared_infrastructure`.

    ``base``/``cap``: per link kind, the weight of an identifier two accounts
    share and the number of accounts above which it links nobody (merged over
    ``DEFAULT_BASE``/``DEFAULT_CAP``; None: those). ``min_edge_weight``: an
    account pair links at this summed weight. ``max_component_size``: larger
    components are split with Louvain (``seed``, ``resolution``).
    ``min_cluster_size``/``min_score``: smaller or weaker clusters are dropped.
    """

    base: Mapping[str, float] | None = policy_field(None, as_mapping, "mapping (link kind: weight)")
    cap: Mapping[str, int] | None = policy_field(None, as_mapping, "mapping (link kind: accounts)")
    min_edge_weight: float = 0.5
    min_cluster_size: int = 3
    min_score: float = 0.4
    max_component_size: int = 100
    seed: int = 0
    resolution: float = 1.0


def detect_shared_infrastructure(
    links: pd.DataFrame,
    params: SharedInfrastructureParams = SharedInfrastructureParams(),
) -> list[ClusterFinding]:
    """Clusters of accounts tied by rare shared devices, IPs and phone numbers.

    ``links`` has columns ``account_id, kind, identifier`` with ``kind`` in
    ``device, registration_ip, login_ip, phone`` (see ``infrastructure_links``).
    Identifiers are weighted by ``identifier_weight`` (zero above the per-kind
    ``cap``), account pairs by the summed weight of what they share, and
    clusters are the components of pairs with ``weight >= min_edge_weight``
    (Louvain-split above ``max_component_size``). Clusters smaller than
    ``min_cluster_size`` or scoring below ``min_score`` are dropped (all of
    them ``params``). A
    household (at most ``HOUSEHOLD_SIZE`` accounts sharing one tablet or
    phone, plus any IPs) has its score halved: four relatives on one tablet
    and one home line score about 0.3 and are not reported by default, twenty
    accounts on three devices score 0.89.

    Cluster score: ``cluster_score(evidence, density, is_household(...))``.
    Member score: the
    cluster score times ``0.5 + 0.5 * d_i / (n - 1)`` where ``d_i`` is the
    member's number of strong links inside the cluster, so fringe members
    score lower. Reasons cite every shared identifier (texts list 20).

    Time O(L log L + sum_{k<=cap} k^2 + P log P) for L links and P candidate
    pairs, plus Louvain on oversized components; memory O(L + P). Findings are
    sorted by score (descending) then key: same input, same output.
    """
    return clusters_in_components(*candidate_components(links, params), params)


def candidate_components(links: pd.DataFrame, params: SharedInfrastructureParams
                         ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The whole-platform stages: identifier weights, weighted pairs, strong edges, their components.
    Returns ``(members, links, edges)`` as ``clusters_in_components`` takes them (empty when no pair is
    strong). O(L log L + sum_{k<=cap} k^2 + P log P)."""
    enc = encode_links(links, params.base, params.cap)
    pairs = _encoded_pairs(enc)
    strong = pairs[pairs["weight"] >= params.min_edge_weight].reset_index(drop=True)
    if strong.empty:
        return (pd.DataFrame({"account": [], "account_id": [], "component": []}),
                pd.DataFrame({"account": [], "kind": [], "identifier": [], "k": [], "weight": []}), strong)
    a, b = strong["a"].to_numpy(np.int64), strong["b"].to_numpy(np.int64)
    roots = component_roots(a, b, len(enc.accounts))
    touched = np.flatnonzero(roots >= 0)
    members = pd.DataFrame({"account": touched, "account_id": enc.accounts[touched], "component": roots[touched]})
    rows = (roots[enc.account] >= 0) & (enc.weight[enc.ident] > 0)
    ident = enc.ident[rows]
    used = pd.DataFrame({"account": enc.account[rows], "kind": enc.kinds[ident],
                         "identifier": enc.identifiers[ident], "k": enc.k[ident], "weight": enc.weight[ident]})
    return members, used, strong


def clusters_in_components(members: pd.DataFrame, links: pd.DataFrame, edges: pd.DataFrame,
                           params: SharedInfrastructureParams) -> list[ClusterFinding]:
    """The findings of whole components of the strong-link graph: what each engine runs per batch of
    components once the whole-platform stages (identifier weights, weighted pairs, components) are done.

    ``members``: ``account`` (the account's code, its rank among the sorted ids of every linked account),
    ``account_id``, ``component`` (the smallest code in its component). ``links``: the members' links to
    identifiers of positive weight, ``account, kind, identifier, k`` (accounts using it, platform-wide),
    ``weight``; unique per (account, kind, identifier). ``edges``: the strong edges ``a < b`` (codes)
    between members, with ``weight``. Any set of whole components gives the findings of those components
    that a run over everything gives. Sorted by score (descending) then key. O((V + E + L) log(V + E + L))
    plus Louvain on components over ``max_component_size``.
    """
    if members.empty:
        return []
    members = members.sort_values("account", kind="mergesort").reset_index(drop=True)
    account = members["account"].to_numpy(np.int64)
    label = cluster_parts(members, edges, params.max_component_size, params.seed, params.resolution)
    label_of = pd.Series(label, index=account)
    # identifiers shared inside each cluster: m = members using it
    link_label = label_of.reindex(links["account"].to_numpy(np.int64)).to_numpy()
    shared = (links.assign(label=link_label)
              .groupby(["label", "kind", "identifier"], sort=False)
              .agg(k=("k", "first"), weight=("weight", "first"), m=("account", "size")).reset_index())
    shared = shared[shared["m"] >= 2]
    kind_rank = {k: i for i, k in enumerate(KINDS)}
    shared = shared.assign(rank=shared["kind"].map(kind_rank).fillna(len(KINDS)).astype(np.int64),
                           neg_m=-shared["m"], neg_w=-shared["weight"])
    # order: cluster, kind rank, kind, most members, highest weight, identifier
    shared = shared.sort_values(["label", "rank", "kind", "neg_m", "neg_w", "identifier"], kind="mergesort")
    shared_by_label: dict[int, list[tuple]] = {}
    for row in shared[["label", "kind", "identifier", "k", "m", "weight"]].itertuples(index=False, name=None):
        shared_by_label.setdefault(int(row[0]), []).append(
            (str(row[1]), str(row[2]), int(row[3]), int(row[4]), float(row[5])))

    la = label_of.reindex(edges["a"].to_numpy(np.int64)).to_numpy()
    lb = label_of.reindex(edges["b"].to_numpy(np.int64)).to_numpy()
    inside = edges[la == lb]
    inside_label = la[la == lb]
    degree = (pd.concat([inside["a"], inside["b"]]).value_counts()
              .reindex(account, fill_value=0).to_numpy())
    edges_per_label = pd.Series(inside_label).value_counts()

    findings: list[ClusterFinding] = []
    ids_of = members["account_id"].to_numpy(object)
    for lab, idx in _groups(np.arange(len(account)), label):
        n = len(idx)
        lab = int(lab)
        if n < params.min_cluster_size or lab not in shared_by_label:
            continue
        ids = shared_by_label[lab]
        evidence = _evidence(ids)
        density = int(edges_per_label.get(lab, 0)) / (n * (n - 1) / 2)
        score = cluster_score(evidence, density, is_household(n, ids))
        if score < params.min_score:
            continue
        member_scores = {
            str(ids_of[i]): round(float(score * (0.5 + 0.5 * degree[i] / (n - 1))), 6)
            for i in idx
        }
        findings.append(
            ClusterFinding(
                detector=DETECTOR,
                members=tuple(str(ids_of[i]) for i in idx),
                score=round(score, 6),
                reasons=_cluster_reasons(ids, n),
                member_scores=member_scores,
            )
        )
    findings.sort(key=lambda f: (-f.score, f.key))
    return findings
