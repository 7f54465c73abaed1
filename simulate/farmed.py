"""Farmed "thousand-follower" accounts in the declared channel, and the honest accounts that look like them.

Black-market operators raise fake accounts to a creator's audience (the declared channel, 蒲公英-style, opens at
1,000 followers) and sell brand orders through it: a declared order through a fake account is still illegal
marketing. What is planted (issue #15 items 5 and 6):

- **Farmed declared accounts** (``labels.role`` ``farmed_declared``; ``farm_type`` and ``farm_id`` stay their
  farm's; about 1.5 per 1,000
  accounts, at least 3): members of bulk farms (batch-registered) and some of aged farms, raised over two to six
  weeks. Their followers are bought from a *follower vendor* (the platform's bulk and engagement farms, split
  into one to four vendors): 55-90 % of the vendor's accounts (at most 1,000-1,500) follow the account in two to
  four bursts of one to three days each, so every vendor account follows many farmed accounts (the co-follow sets
  ``farmed_declared`` looks for); a few ordinary users follow them too, and the vendors' accounts follow 3-15
  popular creators each as camouflage. Camouflage: the account becomes
  professional, posts 3-9 ordinary-looking notes, of which (for seven accounts in ten) 40-90 % are verbatim or
  rewashed copies of popular honest notes posted at least a day earlier; the vendor leaves 2-8 likes on each
  note. Then it is opened to the declared channel: one of one or two complicit registered agencies manages it
  (``intermediary_accounts``) and places 1-5 declared orders for declared brands (``orders``, ``declared``
  true), each with its declared note.
- **Look-alikes, honest** (they must not be flagged): ``declared_viral``, declared creators one of whose notes
  went viral: hundreds of ordinary users followed them within a day or two and liked the note; and
  ``declared_with_assistant``, professional declared creators whose assistant (``creator_assistant``, an
  ordinary account the same MCN manages) drafts notes on its own account that the creator reposts (verbatim or
  lightly edited) hours later, with a large audience grown steadily over the year and the likes to match.

Drawn from a generator of its own (the seed and ``FARMED_STREAM``) after everything else is made, so nothing
drawn before changes: the new notes and orders are rows after the others (numbered after them, as the copied
notes of ``simulate.bodies`` are), the follows and likes join their files in time order, and the accounts'
``followers``/``following`` counts and ``is_professional`` follow. O(planted follows).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from ringscope.simulate import bodies, text
from ringscope.simulate.activity import add_follows, add_likes
from ringscope.simulate.clock import ACTIVITY_START, DAY, HOUR, MINUTE, NOW, spread, with_rhythm
from ringscope.simulate.world import (FIRST_FAKE_ROLE, NOTE_DECLARED, NOTE_ORGANIC, ROLE, STATUS, World)

FARMED_STREAM = 1411  # 1409 is the drift crews' (simulate/drift.py), 1410 the clients'
SHARE = 0.0015            # farmed declared accounts per account of the platform
MIN_FARMED = 3
VENDOR_ACCOUNTS = 250     # about this many farm accounts per follower vendor (one to four vendors)
BOUGHT = (1000, 1500)     # the most followers one account buys (where the vendor has that many accounts)


def plant_farmed(w: World, seed: int) -> None:
    """Fill ``w.farmed`` (the extra orders: brand, intermediary, account, note, placed, declared) and append the
    planted notes to ``w.note_texts.extra``, their follows and likes to the event logs, the agencies' books to
    ``w.intermediary_accounts``; mark the roles. Needs ``w.note_texts`` (``bodies.plant_note_texts``)."""
    # Every step and every planted account draws from a generator of its own ([seed, FARMED_STREAM, step, i]), not
    # from one stream consumed in generation order: a platform made in parts (an independent sample of the same
    # distributions) then plants the same numbers of follows, likes, notes and orders for its i-th farmed account
    # or look-alike as the one made in one piece (tests/simulate/test_streaming.py).
    def stream(*key: int) -> np.random.Generator:
        return np.random.default_rng([seed, FARMED_STREAM, *key])

    rng = stream(0)
    A, N = w.A, w.N
    w.farmed = {"brand": np.zeros(0, np.int64), "intermediary": np.zeros(0, np.int64),
                "account": np.zeros(0, np.int64), "note": np.zeros(0, np.int64), "placed": np.zeros(0, np.int64),
                "declared": np.zeros(0, bool), "order": np.zeros(0, np.int64)}
    registered = np.flatnonzero(np.array(w.inter_registered, bool))
    if registered.size == 0 or w.declared_brands.size == 0 or N["posted"].size == 0:
        return
    notes = _Notes(w)
    role, reg = A["role"], A["reg"]
    active = A["status"] == STATUS["active"]
    ordinary = np.flatnonzero((role == ROLE["organic"]) & active & (reg < NOW - 30 * DAY))
    ordinary = np.setdiff1d(ordinary, w.brand_account)
    if ordinary.size < 10:
        return

    # Who is farmed, who sells the followers.
    raisable = (active & (reg < NOW - 75 * DAY))
    bulk = np.flatnonzero(raisable & (role == ROLE["bulk_farm"]))
    aged = np.flatnonzero(raisable & (role == ROLE["aged_farm"]))
    n_farmed = max(MIN_FARMED, round(w.n_accounts * SHARE))
    n_aged = min(aged.size, n_farmed // 3)
    n_bulk = min(bulk.size, n_farmed - n_aged)
    n_aged = min(aged.size, n_farmed - n_bulk)  # too few bulk accounts old enough: more aged ones
    farmed = np.sort(np.r_[rng.choice(bulk, n_bulk, replace=False), rng.choice(aged, n_aged, replace=False)])
    farmed = farmed.astype(np.int64)
    sellers = np.flatnonzero(((role == ROLE["bulk_farm"]) | (role == ROLE["engagement_farm"]))
                             & (A["status"] != STATUS["banned"]))
    sellers = np.setdiff1d(sellers, farmed)
    if farmed.size == 0 or sellers.size < 20:
        return
    farm_of = np.full(role.size, -1, np.int64)
    for number, farm in enumerate(w.farms):
        farm_of[farm.members] = number
    n_vendors = int(np.clip(sellers.size // VENDOR_ACCOUNTS, 1, 4))
    vendor_of_farm = balanced_vendors(np.bincount(farm_of[sellers], minlength=len(w.farms)), n_vendors)
    vendors = [sellers[vendor_of_farm[farm_of[sellers]] == v] for v in range(n_vendors)]
    vendors = [v for v in vendors if v.size >= 20] or [sellers]
    rng = stream(1)
    agencies = rng.choice(registered, min(registered.size, int(rng.integers(1, 3))), replace=False)
    # Camouflage: the vendors' accounts follow popular accounts too, as people do.
    reach = np.bincount(N["author"], weights=N["weight"], minlength=role.size)
    popular = np.flatnonzero(reach >= np.quantile(reach[reach > 0], 0.9)) if (reach > 0).any() else ordinary
    for number, v in enumerate(vendors):
        rng = stream(2, number)
        k = rng.integers(3, 16, v.size)
        who = np.repeat(v, k)
        whom = popular[rng.integers(0, popular.size, who.size)]
        add_follows(w, who, whom, spread(rng, np.maximum(np.maximum(reg[who], reg[whom]), ACTIVITY_START), NOW - HOUR))

    orders: dict[str, list] = {k: [] for k in ("brand", "intermediary", "account", "note", "placed")}
    extra: dict[str, list] = {k: [] for k in ("author", "posted", "how", "source", "brand", "declared", "kind")}
    titles: list[pa.Array] = []
    books: dict[str, list] = {"intermediary": [], "account": [], "since": []}
    # each vendor's accounts by registration time, sorted once (per farmed account it was O(n log n) again)
    vendors_by_reg = [v[np.argsort(reg[v], kind="stable")] for v in vendors]
    for number, x in enumerate(farmed.tolist()):
        rng = stream(3, number)
        chosen = int(rng.integers(0, len(vendors)))
        vendor, by_reg = vendors[chosen], vendors_by_reg[chosen]
        t0 = int(spread(rng, max(int(reg[x]) + 7 * DAY, ACTIVITY_START), NOW - 60 * DAY))
        raise_days = float(rng.uniform(14, 42))
        n_bought = min(int(vendor.size * rng.uniform(0.55, 0.9)), int(rng.integers(*BOUGHT)))
        buyers = rng.choice(vendor, n_bought, replace=False)
        k = int(rng.integers(2, 5))
        starts = np.sort(t0 + (rng.random(k) * (raise_days - 3) * DAY).astype(np.int64))
        lengths = (rng.uniform(1, 3, k) * DAY).astype(np.int64)
        burst = rng.integers(0, k, n_bought)
        t = starts[burst] + (rng.random(n_bought) * lengths[burst]).astype(np.int64)
        t = np.maximum(t, reg[buyers] + HOUR)
        add_follows(w, buyers, np.full(n_bought, x), t)
        fans = rng.choice(ordinary, int(rng.integers(0, 12)), replace=False)
        add_follows(w, fans, np.full(fans.size, x), spread(rng, np.maximum(reg[fans], t0), NOW - HOUR))
        raised = int(starts[-1] + lengths[-1])

        # Camouflage notes, some copied from popular honest notes.
        n_own = int(rng.integers(3, 10))
        posted = np.sort(with_rhythm(rng, spread(rng, np.full(n_own, t0 - 7 * DAY), NOW - 2 * DAY), t0 - 7 * DAY,
                                     NOW - 2 * DAY))
        copies = rng.random(n_own) < (rng.uniform(0.4, 0.9) if rng.random() < 0.7 else 0.0)
        source = np.where(copies, notes.popular_before(rng, posted - DAY), -1)
        how = np.where(source >= 0, np.where(rng.random(n_own) < 0.5, bodies.REWASHED, bodies.VERBATIM), bodies.OWN)
        own_notes = notes.add(extra, np.full(n_own, x), posted, how, source, -1, False, NOTE_ORGANIC)
        titles.append(text.organic_titles(rng, n_own))

        # Opened to the declared channel through a complicit agency.
        agency = int(agencies[int(rng.integers(0, agencies.size))])
        opened = min(raised + int(rng.uniform(3, 14) * DAY), NOW - 20 * DAY)
        books["intermediary"].append(agency)
        books["account"].append(x)
        books["since"].append(opened)
        n_orders = int(rng.integers(1, 6))
        placed = np.sort(spread(rng, np.full(n_orders, opened), NOW - 12 * DAY))
        brand = w.declared_brands[rng.integers(0, w.declared_brands.size, n_orders)]
        note_at = placed + rng.integers(3 * DAY, 10 * DAY, n_orders)
        declared_notes = notes.add(extra, np.full(n_orders, x), note_at, np.full(n_orders, bodies.OWN), -1, brand,
                                   True, NOTE_DECLARED)
        titles.append(pa.array([text.brand_titles(rng, w.brand_names[b], w.brand_categories[b], 1,
                                                  text.DECLARED_TITLES)[0] for b in brand], pa.string()))
        for key, value in (("brand", brand), ("intermediary", np.full(n_orders, agency)),
                           ("account", np.full(n_orders, x)), ("note", declared_notes), ("placed", placed)):
            orders[key].append(np.asarray(value, np.int64))

        # The vendor's likes, a few ordinary ones.
        mine = np.r_[own_notes, declared_notes]
        per = rng.integers(2, 9, mine.size)
        note = np.repeat(mine, per)
        at = np.minimum(notes.posted_of(note) + rng.integers(10 * MINUTE, 12 * HOUR, note.size), NOW - MINUTE)
        # Among the vendor's accounts registered by then (so the count hardly depends on when its farms signed up).
        can = np.searchsorted(reg[by_reg], at, side="left")
        who = by_reg[np.minimum((rng.random(note.size) * can).astype(np.int64), by_reg.size - 1)]
        ok = can > 0
        add_likes(w, who[ok], note[ok], at[ok])
        fans_likes = rng.integers(0, 3, mine.size)
        note = np.repeat(mine, fans_likes)
        who = ordinary[rng.integers(0, ordinary.size, note.size)]
        at = notes.posted_of(note) + rng.integers(HOUR, 5 * DAY, note.size)
        ok = (at < NOW) & (at > reg[who])
        add_likes(w, who[ok], note[ok], at[ok])
    A["farm_role"] = A["role"].copy()  # the labels keep their farm's type (simulate.dataset.labels_table)
    A["role"][farmed] = ROLE["farmed_declared"]
    A["professional"][farmed] = True

    # Look-alikes: the honest declared creators, and popular organic creators an MCN signs for the occasion.
    authors = np.bincount(N["author"], minlength=role.size)
    rng = stream(4)
    creators = rng.permutation(np.flatnonzero((A["role"] == ROLE["declared_creator"]) & (authors > 0)))
    n_viral, n_assisted = max(4, farmed.size), max(4, farmed.size // 2)
    more = n_viral + n_assisted - creators.size
    if more > 0:
        signable = np.flatnonzero((role == ROLE["organic"]) & active & (authors >= 2) & (reg < ACTIVITY_START))
        signable = np.setdiff1d(signable, w.brand_account)
        reach = np.bincount(N["author"], weights=N["weight"], minlength=role.size)[signable]  # their notes' pull
        weight = reach / reach.sum() if signable.size and reach.sum() > 0 else None
        signed = rng.choice(signable, min(more, signable.size), replace=False, p=weight)
        mcn = registered[rng.integers(0, registered.size, signed.size)]
        for number, (x, via) in enumerate(zip(signed.tolist(), mcn.tolist())):
            rng = stream(5, number)
            books["intermediary"].append(via)
            books["account"].append(x)
            books["since"].append(int(spread(rng, ACTIVITY_START, NOW - 40 * DAY)))
            n_orders = int(rng.integers(1, 5))
            placed = np.sort(spread(rng, np.full(n_orders, books["since"][-1]), NOW - 12 * DAY))
            brand = w.declared_brands[rng.integers(0, w.declared_brands.size, n_orders)]
            declared_notes = notes.add(extra, np.full(n_orders, x), placed + rng.integers(3 * DAY, 10 * DAY, n_orders),
                                       np.full(n_orders, bodies.OWN), -1, brand, True, NOTE_DECLARED)
            titles.append(pa.array([text.brand_titles(rng, w.brand_names[b], w.brand_categories[b], 1,
                                                      text.DECLARED_TITLES)[0] for b in brand], pa.string()))
            for key, value in (("brand", brand), ("intermediary", np.full(n_orders, via)),
                               ("account", np.full(n_orders, x)), ("note", declared_notes), ("placed", placed)):
                orders[key].append(np.asarray(value, np.int64))
        A["professional"][signed] = True
        creators = np.r_[creators, signed]
    viral, assisted = creators[:n_viral], creators[n_viral:n_viral + n_assisted]
    # The look-alikes' audiences are as large as a farmed account's bought one: at most ``BOUGHT``'s upper end
    # however large the vendors are (proportional to the vendors, they grew with the platform, and so did how many
    # look-alikes there are: 1.1 billion follows at 10 M accounts, benchmarks/results/simulate_scale.md).
    typical = int(min(np.median([v.size for v in vendors]), BOUGHT[1]) * 0.7)
    for number, x in enumerate(viral.tolist()):
        rng = stream(6, number)
        own = w.note_index.by_author(x)  # a scan of every note here was quadratic
        hit = int(own[int(rng.integers(0, own.size))])
        t0 = int(N["posted"][hit])
        if t0 > NOW - 3 * DAY:
            continue
        fans = rng.choice(ordinary, min(ordinary.size // 10, int(typical * rng.uniform(0.5, 1.2))), replace=False)
        at = t0 + (rng.lognormal(math.log(10 * HOUR), 0.8, fans.size)).astype(np.int64)
        at = np.minimum(np.maximum(at, reg[fans] + HOUR), NOW - MINUTE)
        add_follows(w, fans, np.full(fans.size, x), at)
        likers = rng.choice(ordinary, min(ordinary.size // 5, int(fans.size * rng.uniform(0.5, 1.0))), replace=False)
        at = t0 + (rng.lognormal(math.log(6 * HOUR), 0.9, likers.size)).astype(np.int64)
        at = np.minimum(np.maximum(at, reg[likers] + HOUR), NOW - MINUTE)
        add_likes(w, likers, np.full(likers.size, hit), at)
    A["role"][viral] = ROLE["declared_viral"]

    managed = dict(zip(books["account"], books["intermediary"]))
    ia = w.intermediary_accounts
    for part_i, part_a in zip(ia.parts["intermediary"], ia.parts["account"]):
        for i, a in zip(np.asarray(part_i).tolist(), np.asarray(part_a).tolist()):
            managed.setdefault(a, i)
    lurkers = np.setdiff1d(ordinary, N["author"])
    rng = stream(7)
    helpers = rng.choice(lurkers, min(lurkers.size, assisted.size), replace=False)
    for number, (x, helper) in enumerate(zip(assisted.tolist(), helpers.tolist())):
        rng = stream(8, number)
        # A steady audience grown over the year, and likes to match.
        fans = rng.choice(ordinary, min(ordinary.size // 10, int(typical * rng.uniform(0.5, 1.2))), replace=False)
        at = spread(rng, np.maximum(reg[fans], ACTIVITY_START), NOW - HOUR)
        add_follows(w, fans, np.full(fans.size, x), at)
        own = w.note_index.by_author(x)
        own = own[rng.permutation(own.size)[:8]]  # the notes of the last months its audience saw
        per = (fans.size * rng.uniform(0.03, 0.12, own.size)).astype(np.int64)
        note = np.repeat(own, per)
        who = ordinary[rng.integers(0, ordinary.size, note.size)]
        at = N["posted"][note] + rng.lognormal(math.log(8 * HOUR), 1.2, note.size).astype(np.int64)
        ok = (at < NOW) & (at > reg[who])
        add_likes(w, who[ok], note[ok], at[ok])
        # The assistant drafts on its own account; the creator reposts hours later.
        k = int(rng.integers(3, 8))
        drafted = np.sort(with_rhythm(rng, spread(rng, np.full(k, max(ACTIVITY_START, int(reg[helper]) + DAY)),
                                                  NOW - 3 * DAY), None, NOW - 3 * DAY))
        drafts = notes.add(extra, np.full(k, helper), drafted, np.full(k, bodies.OWN), -1, -1, False, NOTE_ORGANIC)
        titles.append(text.organic_titles(rng, k))
        how = np.where(rng.random(k) < 0.5, bodies.REWASHED, bodies.VERBATIM)
        reposts = notes.add(extra, np.full(k, x), drafted + rng.integers(HOUR, 2 * DAY, k), how, drafts, -1, False,
                            NOTE_ORGANIC)
        titles.append(text.organic_titles(rng, k))
        per = (fans.size * rng.uniform(0.03, 0.12, k)).astype(np.int64)
        note = np.repeat(reposts, per)
        who = ordinary[rng.integers(0, ordinary.size, note.size)]
        at = notes.posted_of(note) + rng.lognormal(math.log(8 * HOUR), 1.2, note.size).astype(np.int64)
        ok = (at < NOW) & (at > reg[who])
        add_likes(w, who[ok], note[ok], at[ok])
        agency = managed.get(x, -1)
        if agency >= 0:
            books["intermediary"].append(agency)
            books["account"].append(helper)
            books["since"].append(max(int(reg[helper]) + DAY, ACTIVITY_START))
    A["role"][assisted[:helpers.size]] = ROLE["declared_with_assistant"]
    A["role"][helpers] = ROLE["creator_assistant"]

    if books["account"]:
        w.intermediary_accounts.add(intermediary=np.asarray(books["intermediary"], np.int64),
                                    account=np.asarray(books["account"], np.int64),
                                    since=np.asarray(books["since"], np.int64))
    notes.extend(w.note_texts, extra, titles)
    if orders["brand"]:
        got = {k: np.concatenate(v) for k, v in orders.items()}
        order = stream(9).permutation(got["brand"].size)  # extra orders' numbers say nothing about who took them
        w.farmed = {**got, "declared": np.ones(got["brand"].size, bool), "order": order}


def balanced_vendors(sizes: np.ndarray, n_vendors: int) -> np.ndarray:
    """The vendor of each farm (an index in ``sizes``, the farm's accounts that sell): the largest farms first,
    each to the vendor with the fewest accounts so far, so the vendors are of about equal size whatever the draws
    (the vendors' sizes set how many followers an account buys and the look-alikes' audiences)."""
    vendor = np.zeros(sizes.size, np.int64)
    load = np.zeros(max(n_vendors, 1), np.int64)
    for farm in np.argsort(-sizes, kind="stable").tolist():
        if sizes[farm] > 0:
            vendor[farm] = int(np.argmin(load))
            load[vendor[farm]] += sizes[farm]
    return vendor


class _Notes:
    """The platform's notes and the extra ones (``bodies.NoteTexts.extra``) with those planted here after them."""

    def __init__(self, w: World):
        N, A = w.N, w.A
        self.texts = w.note_texts
        self.base = self.texts.total
        self.next = self.base
        # when each note planted here was posted, in a buffer doubled as it fills (``posted_of`` is called between
        # ``add``s: joining the parts on every call was quadratic in the platform's size)
        self._mine = np.zeros(1024, np.int64)
        self.platform_posted = np.r_[N["posted"], self.texts.extra["posted"]].astype(np.int64)
        fake = A["role"].astype(np.int64) >= FIRST_FAKE_ROLE
        organic = np.flatnonzero((N["kind"] == NOTE_ORGANIC) & ~fake[N["author"]])
        popular = organic[N["weight"][organic] >= np.quantile(N["weight"][organic], 0.9)] if organic.size else organic
        self.popular = popular[np.argsort(N["posted"][popular], kind="stable")]

    def popular_before(self, rng: np.random.Generator, before: np.ndarray) -> np.ndarray:
        """A popular honest note posted before each time (-1 where none was)."""
        if not self.popular.size:
            return np.full(before.size, -1, np.int64)
        k = np.searchsorted(self.platform_posted[self.popular], before, side="left")
        drawn = (rng.random(before.size) * k).astype(np.int64)
        return np.where(k > 0, self.popular[np.minimum(drawn, self.popular.size - 1)], -1)

    def add(self, extra: dict, author, posted, how, source, brand, declared: bool, kind: int) -> np.ndarray:
        """Append notes to ``extra``; returns their indices (after every note made before)."""
        author = np.asarray(author, np.int64)
        n = author.size
        full = lambda v: np.broadcast_to(np.asarray(v, np.int64), (n,)).copy()  # noqa: E731
        extra["author"].append(author)
        extra["posted"].append(full(posted))
        extra["how"].append(np.asarray(how, np.int8))
        extra["source"].append(full(source))
        extra["brand"].append(full(brand))
        extra["declared"].append(np.full(n, declared))
        extra["kind"].append(np.full(n, kind, np.int8))
        used = self.next - self.base
        if used + n > self._mine.size:
            self._mine = np.r_[self._mine[:used], np.zeros(max(self._mine.size, n), np.int64)]
        self._mine[used:used + n] = full(posted)
        index = self.next + np.arange(n)
        self.next += n
        return index

    def posted_of(self, index: np.ndarray) -> np.ndarray:
        """When each note of ``index`` was posted. O(len(index))."""
        mine = self._mine[:self.next - self.base]
        index = np.asarray(index, np.int64)
        return np.where(index >= self.base, mine[np.maximum(index - self.base, 0)] if mine.size else 0,
                        self.platform_posted[np.minimum(index, self.platform_posted.size - 1)])

    def extend(self, texts: "bodies.NoteTexts", extra: dict, titles: list[pa.Array]) -> None:
        """The planted notes after the extra notes ``bodies`` made (theirs get no brand, undeclared, organic)."""
        if not extra["author"]:
            return
        E = texts.extra
        m = E["author"].size
        planted = {k: np.concatenate(v) for k, v in extra.items()}
        texts.extra = {
            "author": np.r_[E["author"], planted["author"]], "posted": np.r_[E["posted"], planted["posted"]],
            "how": np.r_[E["how"], planted["how"]].astype(np.int8),
            "source": np.r_[E["source"], planted["source"]],
            "brand": np.r_[E.get("brand", np.full(m, -1, np.int64)), planted["brand"]],
            "declared": np.r_[E.get("declared", np.zeros(m, bool)), planted["declared"]],
            "kind": np.r_[E.get("kind", np.full(m, NOTE_ORGANIC, np.int8)), planted["kind"]].astype(np.int8),
        }
        texts.extra_titles = pa.concat_arrays([texts.extra_titles.cast(pa.string())] +
                                              [t.cast(pa.string()) for t in titles])
