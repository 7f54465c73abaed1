"""What happens on the platform: notes, comments, likes, follows, organic and planted.

Organic activity is sampled in bulk: an actor drawn by a heavy-tailed activity
weight, a note by a heavy-tailed popularity weight, a delay after posting, then
a time of day from the evening-heavy rhythm. Planted activity is built per farm
by the functions below, each named for the scheme it mimics.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate import text
from ringscope.simulate.clock import ACTIVITY_START, DAY, HOUR, MINUTE, NOW, OFFICE_HOURS, PLATFORM_START, spread, with_rhythm
from ringscope.common.memory import release_memory
from ringscope.simulate.world import (NOTE_OFFICIAL, NOTE_ORGANIC, NOTE_REVIEW, NOTE_SEEDING, ROLE, STATUS, Farm, World,
                                     split)


# ---------------------------------------------------------------- indexes over link rows

def group_bounds(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Where each group's rows start in an order sorted by group (n_groups + 1 offsets, compact type)."""
    bounds = np.r_[0, np.cumsum(np.bincount(group, minlength=n_groups))]
    return bounds.astype(np.int32) if bounds[-1] < 2**31 else bounds


class LinkIndex:
    """Rows of account_devices or account_ips grouped by account, earliest first."""

    def __init__(self, account: np.ndarray, first: np.ndarray, n_accounts: int):
        key = account.astype(np.int64)  # (account << 32) | time since 2018, built in place: millions of rows
        key <<= 32
        key |= first - (PLATFORM_START - 365 * DAY)
        order = np.argsort(key, kind="stable")
        del key
        self.order = order.astype(np.int32) if order.size < 2**31 else order
        self.first = first
        self.bounds = group_bounds(account, n_accounts)

    def _starts_counts(self, accounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        starts = self.bounds[accounts].astype(np.int64)
        return starts, self.bounds[accounts + 1] - starts

    def rows_of(self, accounts: np.ndarray) -> np.ndarray:
        """All rows of the given accounts."""
        accounts = np.asarray(accounts, dtype=np.int64)
        starts, k = self._starts_counts(accounts)
        offsets = np.repeat(starts, k) + (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k))
        return self.order[offsets]

    def pick(self, rng: np.random.Generator, accounts: np.ndarray, t: np.ndarray) -> np.ndarray:
        """A row per (account, time): a random one of the account's rows already in use at t."""
        starts, counts = self._starts_counts(accounts)
        offset = (rng.random(accounts.size) * counts).astype(np.int64)
        row = self.order[starts + offset]
        earliest = self.order[starts]
        return np.where(self.first[row] <= t, row, earliest)


def weighted_sample(rng: np.random.Generator, cdf: np.ndarray, m: int) -> np.ndarray:
    """m draws from the distribution with cumulative weights cdf, returned in ascending order.

    Sorted uniforms (normalised exponential spacings) make the binary searches cache-friendly:
    ten times faster than Generator.choice(p=...) for millions of draws over a million outcomes.
    """
    spacing = np.cumsum(rng.exponential(size=m + 1))
    return np.searchsorted(cdf, spacing[:-1] * (cdf[-1] / spacing[-1]), side="right").clip(0, cdf.size - 1)


class NoteIndex:
    """Lookups over the frozen notes: by brand, by author, by time with popularity weights."""

    def __init__(self, notes: dict, n_accounts: int, n_brands: int):
        posted, weight = notes["posted"], notes["weight"]
        self.by_time = np.argsort(posted, kind="stable")
        self.sorted_posted = posted[self.by_time]
        self.cum_weight = np.cumsum(weight[self.by_time])
        self.author_order = np.argsort(notes["author"], kind="stable")
        self.author_bounds = group_bounds(notes["author"], n_accounts)
        branded = self.by_time[notes["brand"][self.by_time] >= 0]
        brand_of = notes["brand"][branded]
        order = np.argsort(brand_of, kind="stable")
        bounds = np.searchsorted(brand_of[order], np.arange(n_brands + 1))
        self.of_brand = [branded[order[bounds[b]:bounds[b + 1]]] for b in range(n_brands)]

    def by_author(self, account: int) -> np.ndarray:
        return self.author_order[self.author_bounds[account]:self.author_bounds[account + 1]]

    def author_counts(self) -> np.ndarray:
        """Notes per account."""
        return np.diff(self.author_bounds)

    def popular(self, rng: np.random.Generator, k: int, after: int, before: int) -> np.ndarray:
        """Up to k distinct notes posted in (after, before), drawn by popularity."""
        lo, hi = np.searchsorted(self.sorted_posted, [after, before], side="right")
        if hi <= lo:
            return np.zeros(0, np.int64)
        base = self.cum_weight[lo - 1] if lo else 0.0
        u = base + rng.random(k) * (self.cum_weight[hi - 1] - base)
        pos = np.searchsorted(self.cum_weight, u, side="right").clip(lo, hi - 1)
        return np.unique(self.by_time[pos])


# ---------------------------------------------------------------- notes

def organic_notes(w: World, n: int, parts: int = 1) -> None:
    """Notes by organic creators (and camouflage notes by aged farm accounts); a few genuine brand reviews.

    Drawn in `parts` pieces of near-equal size, each one a sample of the same kind.
    """
    A = w.A
    p = A["creator_w"] * (A["reg"] < NOW - 2 * DAY) * (A["status"] != STATUS["banned"])
    p = p / p.sum()
    for size in split(n, parts):
        organic_note_part(w, size, p)
        release_memory()


def organic_note_part(w: World, n: int, p: np.ndarray) -> None:
    rng, A = w.rng, w.A
    author = rng.choice(p.size, size=n, p=p)
    lower = np.maximum(A["reg"][author] + HOUR, ACTIVITY_START)
    posted = with_rhythm(rng, spread(rng, lower, NOW - HOUR), lower, NOW - HOUR)
    review = rng.random(n) < 0.005
    brand = np.where(review, rng.integers(0, len(w.brand_names), n), -1)
    w.notes.add(author=author, posted=posted, brand=brand, declared=np.zeros(n, bool),
                title=text.organic_titles(rng, n), weight=A["pop_w"][author] ** 0.5 * rng.lognormal(0, 1.0, n),
                kind=np.where(review, NOTE_REVIEW, NOTE_ORGANIC).astype(np.int8))


def add_brand_notes(w: World, author: np.ndarray, brand: np.ndarray, posted: np.ndarray, templates: list[str],
                    declared: bool, kind: int, weight: np.ndarray) -> np.ndarray:
    """Notes promoting brands; returns their note indices."""
    rng = w.rng
    titles = [t for b in brand for t in text.brand_titles(rng, w.brand_names[b], w.brand_categories[b], 1, templates)]
    base = w.notes.add(author=np.asarray(author, np.int64), posted=np.asarray(posted, np.int64),
                       brand=np.asarray(brand, np.int64), declared=np.full(len(author), declared),
                       title=pa.array(titles, type=pa.string()), weight=np.asarray(weight, float),
                       kind=np.full(len(author), kind, np.int8))
    return base + np.arange(len(author))


def official_notes(w: World) -> None:
    """Brands post on their own official accounts (not a paid order, so not declared)."""
    rng = w.rng
    k = rng.integers(3, 13, len(w.brand_names))
    brand = np.repeat(np.arange(len(w.brand_names)), k)
    author = w.brand_account[brand]
    posted = with_rhythm(rng, spread(rng, np.full(brand.size, ACTIVITY_START), NOW - HOUR), ACTIVITY_START,
                         NOW - HOUR, OFFICE_HOURS)
    add_brand_notes(w, author, brand, posted, text.OFFICIAL_TITLES, False, NOTE_OFFICIAL,
                    w.A["pop_w"][author] ** 0.5 * rng.lognormal(0, 0.8, brand.size))


def seeding_notes(w: World, farm: Farm, share: float, per_author: tuple[int, int],
                  lag: tuple[int, int]) -> np.ndarray:
    """Underwater 种草 notes: farm accounts praise a client brand, not declared as commercial.

    lag: (earliest, latest) seconds after registration; returns the note indices.
    """
    rng, A = w.rng, w.A
    authors = farm.members[rng.random(farm.size) < share]
    if authors.size == 0:
        authors = farm.members[:1]
    k = rng.integers(per_author[0], per_author[1] + 1, authors.size)
    author = np.repeat(authors, k)
    reg = A["reg"][author]
    lower = np.maximum(reg + lag[0], ACTIVITY_START)
    upper = np.minimum(reg + lag[1], NOW - HOUR)
    ok = lower < upper
    author, lower, upper = author[ok], lower[ok], upper[ok]
    posted = with_rhythm(rng, spread(rng, lower, upper), lower, NOW - HOUR)
    brand = farm.brands[rng.integers(0, farm.brands.size, author.size)]
    notes = add_brand_notes(w, author, brand, posted, text.SEEDING_TITLES, False, NOTE_SEEDING,
                            0.3 * rng.lognormal(0, 0.8, author.size))
    ordered = rng.random(author.size) < 0.6  # only some underwater orders surface in the platform's records
    add_orders(w, brand[ordered], farm.intermediary, author[ordered], notes[ordered],
               posted[ordered] - rng.integers(DAY, 10 * DAY, int(ordered.sum())), declared=False)
    return notes


def add_orders(w: World, brand, intermediary, account, note, placed, declared: bool) -> None:
    brand = np.atleast_1d(np.asarray(brand, np.int64))
    n = brand.size
    full = lambda v: np.broadcast_to(np.asarray(v, np.int64), (n,)).copy()  # noqa: E731
    w.orders.add(brand=brand, intermediary=full(intermediary), account=full(account), note=full(note),
                 placed=full(placed), declared=np.full(n, declared))


# ---------------------------------------------------------------- adding events

def add_comments(w: World, account, note, t, texts: pa.Array, reply=None, known: float = 0.95) -> int:
    """Append comments with the device and address they came from (unknown for a few)."""
    rng = w.rng
    account, note, t = (np.asarray(v, np.int64) for v in (account, note, t))
    n = account.size
    dev_row = np.where(rng.random(n) < known, w.dev_index.pick(rng, account, t), -1)
    ip_row = np.where(rng.random(n) < known, w.ip_index.pick(rng, account, t), -1)
    reply = np.full(n, -1, np.int64) if reply is None else np.asarray(reply, np.int64)
    return w.comments.add(account=account, note=note, t=t, text=texts, reply=reply,
                          device=sent_from(w, "device", dev_row, t), ip=sent_from(w, "ip", ip_row, t))


def sent_from(w: World, kind: str, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The device or address of each link row (-1 where unknown); a comment sent at t means the link was in use.

    last_seen moves at once; first_seen only when the links are written (``LinkIndex.pick``
    reads it), from the few comments sent before it, kept in ``w.earlier_use``.
    """
    links = w.links_dev if kind == "device" else w.links_ip
    used = rows >= 0
    rows_used, when = rows[used], t[used]
    np.maximum.at(links["last"], rows_used, when.astype(links["last"].dtype))
    earlier = when < links["first"][rows_used]
    if earlier.any():
        w.earlier_use[kind].append((rows_used[earlier], when[earlier]))
    return np.where(used, links[kind][np.where(used, rows, 0)].astype(np.int64), -1)


def add_likes(w: World, account, note, t) -> None:
    w.likes.add(account=np.asarray(account, np.int64), note=np.asarray(note, np.int64), t=np.asarray(t, np.int64))


def add_follows(w: World, account, target, t) -> None:
    account, target, t = (np.asarray(v, np.int64) for v in (account, target, t))
    keep = account != target
    w.follows.add(account=account[keep], target=target[keep], t=t[keep])


# ---------------------------------------------------------------- organic background

def actor_weights(w: World) -> np.ndarray:
    """Cumulative weight of being the actor of a background event: activity x time on the platform."""
    A = w.A
    active_from = np.maximum(A["reg"], ACTIVITY_START)
    frac = np.clip((NOW - DAY - active_from) / (NOW - ACTIVITY_START), 0, 1)
    return np.cumsum(A["act_w"] * frac * (A["status"] != STATUS["banned"]))


def background_events(w: World, m: int, median_delay: float, sigma: float, notes: tuple[int, int] | None = None):
    """(actor, note, time) for m organic events, heavy-tailed on both sides, in the daily rhythm.

    notes: only notes lo <= note < hi, drawn by their share of the popularity (default: all).
    """
    rng, A, N = w.rng, w.A, w.N
    actor = weighted_sample(rng, w.actor_cdf, m)
    if notes is None:
        note = weighted_sample(rng, w.note_cdf, m)[rng.permutation(m)]
    else:
        lo, hi = notes
        cdf = w.note_cdf[lo:hi] - (w.note_cdf[lo - 1] if lo else 0.0)
        note = lo + weighted_sample(rng, cdf, m)[rng.permutation(m)]
    lower = np.maximum(A["reg"][actor], N["posted"][note]) + MINUTE
    keep = lower < NOW - HOUR
    actor, note, lower = actor[keep], note[keep], lower[keep]
    t = lower + rng.lognormal(math.log(median_delay), sigma, lower.size).astype(np.int64)
    late = t >= NOW
    t[late] = spread(rng, lower[late], NOW)
    return actor, note, with_rhythm(rng, t, lower, NOW)


def background_likes(w: World, m: int, parts: int = 1) -> None:
    """Organic likes, drawn in `parts` independent samples of near-equal size."""
    for size in split(m, parts):
        actor, note, t = background_events(w, size, 8 * HOUR, 1.8)
        add_likes(w, actor, note, t)
        del actor, note, t
        release_memory()


def note_ranges(w: World, m: int, parts: int) -> list[tuple[int, tuple[int, int] | None]]:
    """m events spread over `parts` ranges of notes: (events, (lo, hi)) each, by the ranges' popularity.

    One part is all notes (no draw), as before parts existed.
    """
    if parts == 1:
        return [(m, None)]
    bounds = np.r_[0, np.cumsum(split(w.note_cdf.size, parts))]
    weight = np.diff(np.r_[0.0, w.note_cdf[bounds[1:] - 1]])
    counts = w.rng.multinomial(m, weight / weight.sum())
    return [(int(c), (int(lo), int(hi))) for c, lo, hi in zip(counts, bounds[:-1], bounds[1:])]


def background_comments(w: World, m: int, parts: int = 1) -> None:
    """Organic comments; ~15% reply to an earlier comment on the same note.

    In `parts` ranges of notes, so every comment on a note (and what it replies to) is drawn together.
    """
    for size, notes in note_ranges(w, m, parts):
        background_comment_part(w, size, notes)
        release_memory()


def background_comment_part(w: World, m: int, notes: tuple[int, int] | None) -> None:
    rng = w.rng
    actor, note, t = background_events(w, m, 3 * HOUR, 1.8, notes)
    order = np.lexsort((t, note))
    actor, note, t = actor[order], note[order], t[order]
    n = actor.size
    new_group = np.r_[True, note[1:] != note[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    position = np.arange(n) - group_start
    replying = (position > 0) & (rng.random(n) < 0.15)
    target = group_start + (rng.random(n) * position).astype(np.int64)
    base = w.comments.n
    reply = np.where(replying, base + target, -1)
    del order, new_group, group_start, position, replying, target
    add_comments(w, actor, note, t, text.organic_comments(rng, n, w.brand_names), reply)


def background_follows(w: World, m: int, parts: int = 1) -> None:
    """Follows: follower by activity, followee by popularity (creators, brands), any time after both joined."""
    A = w.A
    popularity = np.cumsum(A["pop_w"] * (A["status"] != STATUS["banned"]))
    for size in split(m, parts):
        background_follow_part(w, size, popularity)
        release_memory()


def background_follow_part(w: World, m: int, popularity: np.ndarray) -> None:
    rng, A = w.rng, w.A
    src = weighted_sample(rng, w.actor_cdf, m)
    dst = weighted_sample(rng, popularity, m)[rng.permutation(m)]
    lower = np.maximum(A["reg"][src], A["reg"][dst]) + MINUTE
    keep = lower < NOW - HOUR
    src, dst, lower = src[keep], dst[keep], lower[keep]
    t = with_rhythm(rng, spread(rng, lower, NOW, skew=0.7), lower, NOW)
    add_follows(w, src, dst, t)


# ---------------------------------------------------------------- planted: comment rings

def lockstep_comments(w: World, farm: Farm, members: np.ndarray, notes: np.ndarray, starts: np.ndarray,
                      brand: str, mix: tuple[float, float, float], k_range: tuple[int, int],
                      end: int = NOW) -> None:
    """A ring works through notes: on each, k members comment within minutes of one another.

    mix = (share of praise among single comments, share of lures, chance of a Q&A act per note).
    Members also like the note seconds before commenting. Nothing happens at or after `end`.
    """
    rng, reg = w.rng, w.A["reg"]
    n_members, n_notes = members.size, notes.size
    if n_members == 0 or n_notes == 0:
        return
    k = np.minimum(n_members, rng.integers(k_range[0], k_range[1] + 1, n_notes))
    pick_order = np.argsort(rng.random((n_notes, n_members)), axis=1)
    rows, cols = np.nonzero(np.arange(n_members)[None, :] < k[:, None])
    account = members[pick_order[rows, cols]]
    span = rng.uniform(3, 25, n_notes) * MINUTE
    t = starts[rows] + (rng.random(rows.size) * span[rows]).astype(np.int64)
    ok = (t > reg[account] + MINUTE) & (t < end)
    account, note, t = account[ok], notes[rows[ok]], t[ok]
    n = account.size
    praise_share = mix[0] / (mix[0] + mix[1])
    kind = (rng.random(n) >= praise_share).astype(np.int8)
    texts = pc.choose(pa.array(kind), text.praise_comments(rng, n, brand), text.lure_comments(rng, n, farm.wx, farm.qq))
    add_comments(w, account, note, t, texts, known=0.98)
    liked = np.maximum(t - rng.integers(5, 180, n), np.maximum(reg[account], w.N["posted"][note]) + 1)
    add_likes(w, account, note, liked)

    acts = np.flatnonzero((rng.random(n_notes) < mix[2]) & (k >= 2))
    asker, answerer = members[pick_order[acts, 0]], members[pick_order[acts, 1]]
    t_q = starts[acts] + (rng.random(acts.size) * span[acts]).astype(np.int64)
    t_a = t_q + rng.integers(30, 8 * MINUTE, acts.size)
    ok = (t_q > reg[asker] + MINUTE) & (t_a > reg[answerer] + MINUTE) & (t_a < end)
    acts, asker, answerer, t_q, t_a = acts[ok], asker[ok], answerer[ok], t_q[ok], t_a[ok]
    questions, answers = text.qa_pairs(rng, acts.size, brand)
    base = add_comments(w, asker, notes[acts], t_q, questions, known=0.98)
    add_comments(w, answerer, notes[acts], t_a, answers, reply=base + np.arange(acts.size), known=0.98)


def notes_of_brands(w: World, brands: np.ndarray, after: int, before: int = NOW - 2 * HOUR) -> np.ndarray:
    """Notes promoting any of the brands (official, declared, seeding; not unpaid reviews), posted in (after, before)."""
    N = w.N
    notes = np.concatenate([w.note_index.of_brand[int(b)] for b in brands])
    posted = N["posted"][notes]
    return np.sort(notes[(posted > after) & (posted < before) & (N["kind"][notes] != NOTE_REVIEW)])


def popular_notes(w: World, k: int, after: int, before: int) -> np.ndarray:
    """Up to k distinct notes posted in (after, before), drawn by popularity (where lure spam pays off)."""
    return w.note_index.popular(w.rng, k, after, before)


def ring_starts(w: World, posted: np.ndarray, lower=None, upper: int = NOW - HOUR) -> np.ndarray:
    """When a ring descends on a note: ~1.5 h after it appears, in the studio's office hours."""
    rng = w.rng
    lo = posted + MINUTE if lower is None else np.maximum(posted + MINUTE, lower)
    t = lo + rng.lognormal(math.log(1.5 * HOUR), 0.8, posted.size).astype(np.int64)
    t = np.where(t >= upper, spread(rng, lo, np.maximum(upper, lo + 1)), t)
    return with_rhythm(rng, t, lo, upper, OFFICE_HOURS)


def comment_ring_campaigns(w: World, farm: Farm) -> None:
    """控评: the ring floods its client brands' notes with praise, lures and Q&A acts; plus lure spam."""
    rng, N = w.rng, w.N
    reg = w.A["reg"][farm.members]
    cand = notes_of_brands(w, farm.brands, after=int(reg.min()) + HOUR)
    n_targets = min(cand.size, int(np.clip(farm.size * rng.uniform(0.3, 1.0), 3, 60)))
    targets = np.sort(rng.choice(cand, size=n_targets, replace=False)) if n_targets else cand
    starts = ring_starts(w, N["posted"][targets])
    for b in np.unique(N["brand"][targets]):
        on = N["brand"][targets] == b
        lockstep_comments(w, farm, farm.members, targets[on], starts[on], w.brand_names[b],
                          mix=(0.65, 0.35, 0.35), k_range=(5, 25))
        first = int(np.argmax(on))
        undeclared = on & ~N["declared"][targets]
        note = targets[int(np.argmax(undeclared))] if undeclared.any() else -1
        add_orders(w, b, farm.intermediary, -1, note, starts[first] - rng.integers(DAY, 5 * DAY), False)
    lure_targets = popular_notes(w, max(1, n_targets // 3), int(reg.min()) + HOUR, NOW - 2 * HOUR)
    brand = w.brand_names[int(farm.brands[0])]
    lockstep_comments(w, farm, farm.members, lure_targets, ring_starts(w, N["posted"][lure_targets], int(reg.min())),
                      brand, mix=(0.2, 0.8, 0.3), k_range=(3, 12))


def evasion_spam(w: World, farm: Farm) -> None:
    """Lure spam before the ban, then the same again from the accounts registered after it."""
    rng, N = w.rng, w.N
    reg = w.A["reg"]
    gen1, gen2 = farm.members[:farm.n_banned], farm.members[farm.n_banned:]
    brand = w.brand_names[int(farm.brands[0])]
    for members, end in ((gen1, farm.ban_time - HOUR), (gen2, NOW - HOUR)):
        lo = int(reg[members].max()) + DAY
        if lo >= end - HOUR:
            continue
        targets = popular_notes(w, int(np.clip(members.size * rng.uniform(0.5, 1.5), 3, 50)), lo - 30 * DAY, end - HOUR)
        if targets.size == 0:
            continue
        posted = N["posted"][targets]
        starts = spread(rng, np.maximum(posted + MINUTE, lo), end - 30 * MINUTE)
        lockstep_comments(w, farm, members, targets, starts, brand, mix=(0.3, 0.7, 0.25), k_range=(3, 15), end=end)


# ---------------------------------------------------------------- planted: engagement

def burst_likes(w: World, members: np.ndarray, notes: np.ndarray, starts: np.ndarray,
                share: tuple[float, float], window_hours: tuple[float, float]) -> None:
    """On each note, a share of members like it within a short window from its start."""
    rng, reg = w.rng, w.A["reg"]
    if members.size == 0 or notes.size == 0:
        return
    f = rng.uniform(share[0], share[1], notes.size)
    rows, cols = np.nonzero(rng.random((notes.size, members.size)) < f[:, None])
    window = rng.uniform(window_hours[0], window_hours[1], notes.size) * HOUR
    t = starts[rows] + (rng.random(rows.size) * window[rows]).astype(np.int64)
    account = members[cols]
    ok = (t > reg[account] + MINUTE) & (t < NOW)
    add_likes(w, account[ok], notes[rows[ok]], t[ok])


def brand_boost(w: World, farm: Farm) -> None:
    """Bought likes on a client brand's notes and follows of its official account, in bursts."""
    rng, N = w.rng, w.N
    reg = w.A["reg"][farm.members]
    cand = notes_of_brands(w, farm.brands, after=int(reg.min()) + HOUR)
    n_targets = min(cand.size, int(np.clip(farm.size // 3, 2, 40)))
    targets = rng.choice(cand, size=n_targets, replace=False) if n_targets else cand
    posted = N["posted"][targets]
    starts = np.minimum(posted + rng.lognormal(math.log(HOUR), 0.7, targets.size).astype(np.int64), NOW - HOUR)
    burst_likes(w, farm.members, targets, starts, (0.3, 0.9), (0.5, 3))
    for b in farm.brands:
        lo = max(int(reg.max()), int(w.A["reg"][w.brand_account[b]])) + HOUR
        if lo >= NOW - DAY:
            continue
        t0 = int(spread(rng, lo, NOW - DAY))
        who = farm.members[rng.random(farm.size) < rng.uniform(0.5, 0.9)]
        add_follows(w, who, np.full(who.size, w.brand_account[b]), t0 + rng.integers(0, 2 * HOUR, who.size))
        add_orders(w, b, farm.intermediary, -1, -1, t0 - rng.integers(DAY, 4 * DAY), False)


def aged_mutual_boost(w: World, farm: Farm, notes: np.ndarray) -> None:
    """Aged accounts warm up each other's seeding notes: likes within a day, a few praise comments."""
    rng, N, reg = w.rng, w.N, w.A["reg"]
    if notes.size == 0:
        return
    burst_likes(w, farm.members, notes, N["posted"][notes] + HOUR, (0.3, 0.7), (1, 24))
    k = rng.integers(1, 4, notes.size)
    note = np.repeat(notes, k)
    account = farm.members[rng.integers(0, farm.size, note.size)]
    t = N["posted"][note] + rng.integers(20 * MINUTE, 2 * DAY, note.size)
    ok = (t > reg[account] + MINUTE) & (t < NOW) & (account != N["author"][note])
    account, note, t = account[ok], note[ok], t[ok]
    texts = pc.choose(pa.array((rng.random(note.size) < 0.5).astype(np.int8)),
                      text.organic_comments(rng, note.size, w.brand_names),
                      text.praise_comments(rng, note.size, w.brand_names[int(farm.brands[0])]))
    add_comments(w, account, note, t, texts)


def buyer_candidates(w: World) -> np.ndarray:
    """Small organic creators: some notes, an early first note, below-median popularity."""
    A, N = w.A, w.N
    n_notes = w.note_index.author_counts()
    first_post = np.full(A["reg"].size, NOW, np.int64)
    np.minimum.at(first_post, N["author"], N["posted"])
    cand = np.flatnonzero((A["role"] == ROLE["organic"]) & (A["status"] == STATUS["active"]) & (n_notes > 0)
                          & (first_post < NOW - 20 * DAY)
                          & (A["pop_w"] < np.median(A["pop_w"][n_notes > 0])))
    return np.setdiff1d(cand, w.brand_account)


def engagement_buyers(w: World, k: int) -> np.ndarray:
    """k small organic creators who buy an audience; marks their role."""
    A, rng = w.A, w.rng
    if w.buyer_pool is None:
        w.buyer_pool = buyer_candidates(w)
    cand = w.buyer_pool[A["role"][w.buyer_pool] == ROLE["organic"]]
    buyers = rng.choice(cand, size=min(k, cand.size), replace=False)
    A["role"][buyers] = ROLE["engagement_buyer"]
    return buyers


def engagement_bursts(w: World, farm: Farm, buyers: np.ndarray) -> None:
    """Bought followers and likes: most of the farm follows a buyer and likes their notes within hours."""
    rng, N, reg = w.rng, w.N, w.A["reg"]
    for buyer in buyers:
        own = w.note_index.by_author(int(buyer))
        if own.size == 0:
            continue
        lo = max(int(N["posted"][own].min()) + DAY, int(reg[farm.members].max()) + HOUR)
        if lo >= NOW - DAY:
            continue
        t0 = int(with_rhythm(rng, spread(rng, np.array([lo]), NOW - DAY), lo, NOW - DAY)[0])
        window = int(rng.uniform(1, 6) * HOUR)
        who = farm.members[rng.random(farm.size) < rng.uniform(0.6, 1.0)]
        add_follows(w, who, np.full(who.size, buyer), t0 + rng.integers(0, window, who.size))
        earlier = own[N["posted"][own] < t0]
        recent = earlier[np.argsort(N["posted"][earlier])][-3:]
        burst_likes(w, who, recent, np.full(recent.size, t0), (0.7, 1.0), (window / HOUR, window / HOUR))


def farm_follow_each_other(w: World, farm: Farm) -> None:
    """Scripts make farm accounts follow a few of their siblings soon after registering."""
    rng, reg = w.rng, w.A["reg"]
    k = rng.integers(1, 5, farm.size)
    src = np.repeat(farm.members, k)
    dst = farm.members[rng.integers(0, farm.size, src.size)]
    t = np.maximum(reg[src], reg[dst]) + rng.integers(MINUTE, 3 * DAY, src.size)
    ok = t < NOW
    if farm.n_banned:  # nobody follows from or to a banned account after the ban
        banned = farm.members[:farm.n_banned]
        ok &= ~(np.isin(src, banned) | np.isin(dst, banned)) | (t < farm.ban_time)
    add_follows(w, src[ok], dst[ok], t[ok])
