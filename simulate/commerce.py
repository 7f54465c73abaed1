"""Money and enforcement: brands, intermediaries, orders, farm plans and sanctions.

Brands buy promotion two ways. Declared: a registered MCN/agency places the
order through the platform's commercial channel (蒲公英-style) with a real
creator, whose note is marked ``declared_commercial``. Underwater: an
unregistered studio (or, sometimes, a registered agency on the side) runs farm
accounts that post undeclared seeding notes, control the comment section and
sell likes. Only some underwater orders surface in the platform's records, as
in reality. Sanctions are what the platform already did: bans of spam accounts
and their devices, limits on suspicious registrations, removed ad notes.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from ringscope.simulate import text
from ringscope.simulate.activity import add_brand_notes, add_orders
from ringscope.simulate.clock import ACTIVITY_START, DAY, HOUR, NOW, OFFICE_HOURS, spread, with_rhythm
from ringscope.simulate.world import FARM_TYPES, NOTE_DECLARED, NOTE_ORGANIC, NOTE_SEEDING, ROLE, STATUS, TARGET, Farm, World

FAKE_SHARE = 0.07
TYPE_SHARE = {"bulk_farm": 0.28, "aged_farm": 0.22, "comment_ring": 0.22, "evasion": 0.10, "engagement_farm": 0.18}
SIZE_RANGE = {"bulk_farm": (8, 300), "aged_farm": (5, 120), "comment_ring": (5, 200), "evasion": (6, 150),
              "engagement_farm": (10, 300)}


def farm_sizes(rng: np.random.Generator, budget: int, low: int, high: int) -> list[int]:
    """Log-uniform farm sizes in [low, high] adding up to the budget (at least one farm)."""
    sizes: list[int] = []
    left = max(budget, low)
    while left > 0:
        size = min(int(round(math.exp(rng.uniform(math.log(low), math.log(high))))), left)
        if 0 < left - size < low:
            size = left if left <= high else left - low
        sizes.append(size)
        left -= size
    return sizes


def plan_farms(rng: np.random.Generator, n_accounts: int) -> list[tuple[str, int]]:
    """(farm type, size) for every farm, ~7% of accounts in all, small and large farms mixed."""
    plan = []
    for kind in FARM_TYPES:
        budget = int(round(n_accounts * FAKE_SHARE * TYPE_SHARE[kind]))
        plan += [(kind, size) for size in farm_sizes(rng, budget, *SIZE_RANGE[kind])]
    return [plan[i] for i in rng.permutation(len(plan))]


def make_brands(w: World, n: int) -> None:
    """Advertisers; ~60% buy underwater promotion, ~60% declared, many both."""
    rng = w.rng
    w.brand_names = text.brand_names(rng, n)
    categories = list(text.CATEGORIES)
    w.brand_categories = [categories[int(i)] for i in rng.integers(0, len(categories), n)]
    underwater = rng.random(n) < 0.6
    declared = rng.random(n) < 0.6
    if underwater.sum() < 2:
        underwater[rng.choice(n, size=2, replace=False)] = True
    if not declared.any():
        declared[int(rng.integers(0, n))] = True
    w.underwater_brands = np.flatnonzero(underwater)
    w.declared_brands = np.flatnonzero(declared)


def make_intermediaries(w: World, n_farms: int) -> None:
    """Registered MCNs/agencies (declared channel) and unregistered studios (underwater)."""
    rng = w.rng
    for _ in range(int(np.clip(w.n_accounts // 25000, 2, 30))):
        kind = "mcn" if rng.random() < 0.6 else "agency"
        w.add_intermediary(text.intermediary_name(rng, kind, True), kind, True)
    for _ in range(max(2, math.ceil(n_farms / 3))):
        kind = ["studio", "unknown", "agency"][int(rng.choice(3, p=[0.45, 0.3, 0.25]))]
        w.add_intermediary(text.intermediary_name(rng, kind, False), kind, False)


def assign_business(w: World, farm: Farm) -> None:
    """Client brands for a farm, and (for most farms) the intermediary that runs it."""
    rng = w.rng
    k = min(int(rng.integers(1, 4)), w.underwater_brands.size)
    farm.brands = rng.choice(w.underwater_brands, size=k, replace=False)
    if rng.random() < 0.75:
        registered = np.flatnonzero(np.array(w.inter_registered))
        unregistered = np.flatnonzero(~np.array(w.inter_registered))
        pool = registered if rng.random() < 0.1 else unregistered
        farm.intermediary = int(rng.choice(pool))


def farm_intermediary_accounts(w: World, farm: Farm) -> None:
    """The intermediary's books list most (not all) of the accounts it supplies."""
    if farm.intermediary < 0:
        return
    rng = w.rng
    members = farm.members[rng.random(farm.size) < rng.uniform(0.4, 1.0)]
    since = np.minimum(w.A["reg"][members] + rng.integers(0, 30 * DAY, members.size), NOW - HOUR)
    w.intermediary_accounts.add(intermediary=np.full(members.size, farm.intermediary, np.int64),
                                account=members, since=since)


def declared_campaigns(w: World) -> None:
    """Honest controls: organic creators signed to registered MCNs post declared brand notes."""
    rng, A = w.rng, w.A
    n_brands = len(w.brand_names)
    cand = np.flatnonzero((A["role"] == ROLE["organic"]) & (A["creator_w"] > 0) & (A["reg"] < ACTIVITY_START - 30 * DAY)
                          & (A["status"] == STATUS["active"]))
    cand = np.setdiff1d(cand, w.brand_account)
    if cand.size == 0 or w.declared_brands.size == 0:
        return
    n = min(cand.size, int(np.clip(2 * n_brands, 3, 2000)))
    p = A["pop_w"][cand] / A["pop_w"][cand].sum()
    creators = rng.choice(cand, size=n, replace=False, p=p)
    A["role"][creators] = ROLE["declared_creator"]
    A["professional"][creators] = True
    agencies = np.flatnonzero(np.array(w.inter_registered))
    agency = agencies[rng.integers(0, agencies.size, n)]
    w.intermediary_accounts.add(intermediary=agency, account=creators,
                                since=spread(rng, A["reg"][creators], ACTIVITY_START))
    k = rng.integers(1, 5, n)
    author = np.repeat(creators, k)
    via = np.repeat(agency, k)
    brand = w.declared_brands[rng.integers(0, w.declared_brands.size, author.size)]
    posted = with_rhythm(rng, spread(rng, np.full(author.size, ACTIVITY_START + 7 * DAY), NOW - HOUR),
                         ACTIVITY_START, NOW - HOUR)
    notes = add_brand_notes(w, author, brand, posted, text.DECLARED_TITLES, True, NOTE_DECLARED,
                            A["pop_w"][author] ** 0.5 * rng.lognormal(0, 1.0, author.size))
    add_orders(w, brand, via, author, notes,
               posted - rng.integers(3 * DAY, 20 * DAY, author.size), declared=True)


# ---------------------------------------------------------------- sanctions

def add_sanctions(w: World, target_type: str, target, action: str, reason: str, issued, expires=None) -> None:
    target = np.atleast_1d(np.asarray(target, np.int64))
    n = target.size
    issued = np.broadcast_to(np.asarray(issued, np.int64), (n,)).copy()
    expires = np.full(n, -1, np.int64) if expires is None else np.broadcast_to(np.asarray(expires, np.int64), (n,)).copy()
    w.sanctions.add(target_type=np.full(n, TARGET[target_type], np.int8), target=target,
                    action=pa.array([action] * n, type=pa.string()), reason=pa.array([reason] * n, type=pa.string()),
                    issued=issued, expires=expires)


def evasion_bans(w: World, farm: Farm) -> None:
    """The platform banned the first generation and their device fingerprints on one day."""
    rng = w.rng
    banned = farm.members[: farm.n_banned]
    add_sanctions(w, "account", banned, "permanent_ban", ["spam_comments", "traffic_diversion"][int(rng.integers(0, 2))],
                  farm.ban_time + rng.integers(0, 30 * 60, banned.size))
    devices = np.unique(w.links_dev["device"][w.dev_index.rows_of(banned)])
    add_sanctions(w, "device", devices, "device_ban", "ban_evasion_risk", farm.ban_time + 30 * 60)


def status_sanctions(w: World) -> None:
    """Every non-active account outside evasion farms has the sanction that put it there, still in force.

    (A few real users are banned too, for abuse: a ban alone does not mean a farm.)
    """
    rng, A = w.rng, w.A
    reasons = {"limited": ("limit", ("abnormal_registration", "spam_suspected", "abnormal_activity")),
               "muted": ("mute", ("harassment", "spam_suspected")), "suspended": ("temporary_ban", ("abuse",)),
               "banned": ("permanent_ban", ("harassment", "abuse"))}
    for status, (action, why) in reasons.items():
        who = np.flatnonzero((A["status"] == STATUS[status]) & (A["role"] != ROLE["evasion"]))
        reason = rng.integers(0, len(why), who.size)
        lower = np.maximum(A["reg"][who] + DAY, NOW - 90 * DAY)
        issued = spread(rng, np.minimum(lower, NOW - 2 * HOUR), NOW - HOUR)
        expires = NOW + rng.integers(DAY, 120 * DAY, who.size) if status != "banned" else None
        for r, name in enumerate(why):
            mine = reason == r
            add_sanctions(w, "account", who[mine], action, name, issued[mine], None if expires is None else expires[mine])


def content_sanctions(w: World) -> None:
    """Removed notes (some undeclared ads were caught), a warned brand, a blacklisted studio."""
    rng, N = w.rng, w.N
    seeding = np.flatnonzero(N["kind"] == NOTE_SEEDING)
    caught = seeding[rng.random(seeding.size) < 0.05]
    add_sanctions(w, "note", caught, "remove", "undeclared_advertising",
                  np.minimum(N["posted"][caught] + rng.integers(DAY, 30 * DAY, caught.size), NOW - HOUR))
    organic = np.flatnonzero(N["kind"] == NOTE_ORGANIC)
    copied = organic[rng.random(organic.size) < 0.001]
    add_sanctions(w, "note", copied, "remove", "copyright",
                  np.minimum(N["posted"][copied] + rng.integers(HOUR, 10 * DAY, copied.size), NOW - HOUR))
    if seeding.size:
        worst = int(np.bincount(N["brand"][seeding]).argmax())
        add_sanctions(w, "brand", worst, "warning", "undeclared_advertising",
                      with_rhythm(rng, np.array([NOW - 20 * DAY]), None, NOW, OFFICE_HOURS))
    studios = [i for i, (k, r) in enumerate(zip(w.inter_kinds, w.inter_registered)) if k == "studio" and not r]
    if studios:
        add_sanctions(w, "intermediary", studios[0], "blacklist", "fake_engagement", NOW - 45 * DAY)
