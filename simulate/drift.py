"""Honest accounts that drift into coordinated activity for a stretch of time, and out again (or not).

Comment rings (控评) hire real accounts to mix in with their own: old, ordinary users with their own phones and
addresses, a normal profile and a human rhythm, who for a few weeks comment on the ring's notes with the ring, for
pay, then go back to being what they were. Half the comment rings (at least one) hire two crews:

* a crew that **returns**: 3 to 6 accounts, for a stretch of 21 to 42 days starting between three months into
  the activity year and four months before its end;
* a crew that **stays**: 2 to 4 accounts that drift in late (a start 21 to 56 days before the export's "now") and
  are still at it when the export is made.

A ring hires only once three of its own accounts exist (a day after the third registered): a ring registered too
late for a stretch hires no crew of that kind.

During a crew's stretch the ring descends on notes (its brands' notes and popular notes posted in the stretch, about
one every one to two days): on each, 2 to 5 of the ring's own members and the crew members who take that job (each
account takes a share of the jobs of its own, 30 to 90 %) comment within minutes of one another, in office hours;
the ring's members with praise and lures, the hired accounts with praise only. Outside its stretch a hired account
does what it always did (the background activity of every organic account), so detection over the whole history
still sees the stretch, and detection over a window that ends before it or starts after it does not
(``ringscope detect --as-of TIME --window DAYS``).

Ground truth goes to an evaluation-only file, ``drift_labels`` (account, ring, ``returned`` or ``stayed``, the
stretch's start and end), never loaded by ``ringscope ingest``; in ``labels`` these accounts stay what they are
(honest, ``is_fake`` false, their organic role).

Drawn from a generator of its own (the seed and ``DRIFT_STREAM``) after everything else is made, and written after
the platform's comments and a program's (``simulate.automated``) with ids numbered after theirs: every other file is
byte for byte what it was, and the comments file gains rows at its end. O(comments planted).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate import text
from ringscope.simulate.automated import _links_used
from ringscope.simulate.clients import app_clients
from ringscope.simulate.clock import ACTIVITY_START, DAY, HOUR, MINUTE, NOW, OFFICE_HOURS, with_rhythm
from ringscope.simulate.encode import ipv4_strings, iso_times, pick, prefixed_ids
from ringscope.simulate.world import ROLE, STATUS, NOTE_REVIEW, World

DRIFT_STREAM = 1409
RING_SHARE = 1 / 2
KINDS = ("returned", "stayed")
OLD = 180 * DAY  # a hired account was registered at least this long before the activity year


def plant_drift(w: World, seed: int) -> None:
    """Fill ``w.drift``: the planted comments (account, note, t, text, device, ip; indices, Unix seconds) and the
    ground truth (account, farm, kind, start, end). The platform itself is left as it is."""
    rng = np.random.default_rng([seed, DRIFT_STREAM])
    w.drift = {"account": np.zeros(0, np.int64), "note": np.zeros(0, np.int64), "t": np.zeros(0, np.int64),
               "text": pa.array([], pa.string()), "device": np.zeros(0, np.int64), "ip": np.zeros(0, np.int64),
               "truth": {"account": np.zeros(0, np.int64), "farm": np.zeros(0, np.int64),
                         "kind": np.zeros(0, np.int8), "start": np.zeros(0, np.int64), "end": np.zeros(0, np.int64)}}
    rings = [f for f in w.farms if f.kind == "comment_ring"]
    posted = np.asarray(w.N["posted"], dtype=np.int64)
    if not rings or not posted.size:
        return
    A = w.A
    pool = np.flatnonzero((A["role"] == ROLE["organic"]) & (A["status"] == STATUS["active"])
                          & (A["reg"] < ACTIVITY_START - OLD))
    picked = np.sort(rng.choice(len(rings), math.ceil(len(rings) * RING_SHARE), replace=False))
    taken: set[int] = set()
    comments: list[dict] = []
    truth: dict[str, list] = {k: [] for k in ("account", "farm", "kind", "start", "end")}
    for i in picked:
        ring = rings[int(i)]
        # the ring hires once it has a few accounts of its own to work beside the hired ones
        ready = int(np.sort(w.A["reg"][ring.members])[min(2, ring.size - 1)]) + DAY
        for kind in KINDS:
            if kind == "returned":
                size = int(rng.integers(3, 7))
                lo, hi = max(ACTIVITY_START + 90 * DAY, ready), NOW - 120 * DAY
                start = int(rng.integers(lo, hi)) if lo < hi else -1
                end = start + int(rng.integers(21, 43)) * DAY
                if start < 0:  # too young a ring to have hired anyone and let them go again
                    continue
            else:
                size = int(rng.integers(2, 5))
                start = max(NOW - int(rng.integers(21, 57)) * DAY, ready)
                end = NOW
                if start > NOW - 21 * DAY:
                    continue
            free = np.setdiff1d(pool, np.fromiter(taken, np.int64, len(taken)), assume_unique=True)
            if free.size < size:
                return _finish(w, rng, comments, truth)
            crew = np.sort(rng.choice(free, size, replace=False))
            taken.update(int(a) for a in crew)
            comments.append(_crew_jobs(w, rng, ring, crew, start, end))
            for name, value in (("account", crew), ("farm", np.full(size, ring.number)),
                                ("kind", np.full(size, KINDS.index(kind))), ("start", np.full(size, start)),
                                ("end", np.full(size, end))):
                truth[name].append(np.asarray(value, np.int64))
    _finish(w, rng, comments, truth)


def _crew_jobs(w: World, rng: np.random.Generator, ring, crew: np.ndarray, start: int, end: int) -> dict:
    """The ring's jobs during [start, end): notes, and who of the ring and of the crew comments on each, when."""
    N, reg = w.N, w.A["reg"]
    days = (end - start) / DAY
    n_jobs = max(4, int(days * rng.uniform(0.5, 1.0)))
    posted = np.asarray(N["posted"], np.int64)
    own = np.concatenate([w.note_index.of_brand[int(b)] for b in ring.brands]) if len(ring.brands) else posted[:0]
    own = own[(posted[own] >= start - DAY) & (posted[own] < end - 2 * HOUR) & (N["kind"][own] != NOTE_REVIEW)]
    popular = w.note_index.popular(rng, n_jobs, start - DAY, end - 2 * HOUR)
    notes = np.unique(np.r_[own, popular])
    if notes.size > n_jobs:
        notes = np.sort(rng.choice(notes, n_jobs, replace=False))
    lo = np.maximum(posted[notes] + MINUTE, start)
    t0 = lo + rng.lognormal(math.log(1.5 * HOUR), 0.8, notes.size).astype(np.int64)
    t0 = with_rhythm(rng, np.minimum(t0, end - HOUR), lo, end - HOUR, OFFICE_HOURS)
    members = ring.members
    share = rng.uniform(0.3, 0.9, crew.size)  # how many of the ring's jobs each hired account takes
    takes = rng.random((notes.size, crew.size)) < share
    for c in np.flatnonzero(takes.sum(axis=0) < 2):  # every hired account takes two jobs at least
        takes[rng.choice(notes.size, min(2, notes.size), replace=False), c] = True
    accounts, note_of, times, hired = [], [], [], []
    for j in range(notes.size):
        ready = members[reg[members] < t0[j] - HOUR]
        k = min(ready.size, int(rng.integers(2, 6)))
        who = np.r_[rng.choice(ready, k, replace=False) if k else ready[:0], crew[takes[j]]]
        span = rng.uniform(3, 20) * MINUTE
        t = t0[j] + (rng.random(who.size) * span).astype(np.int64)
        keep = (t < min(end, NOW)) & (t > reg[who] + MINUTE)
        accounts.append(who[keep])
        note_of.append(np.full(int(keep.sum()), notes[j]))
        times.append(t[keep])
        hired.append(np.isin(who[keep], crew))
    account, note, t, is_hired = (np.concatenate(x) if x else np.zeros(0, np.int64)
                                  for x in (accounts, note_of, times, hired))
    brand = w.brand_names[int(ring.brands[0])]
    lure = ~is_hired.astype(bool) & (rng.random(account.size) < 0.35)
    praise = text.praise_comments(rng, account.size, brand)
    lures = text.lure_comments(rng, account.size, ring.wx, ring.qq)
    texts = pc.choose(pa.array(lure.astype(np.int8)), praise, lures)
    return {"account": account.astype(np.int64), "note": note.astype(np.int64), "t": t.astype(np.int64),
            "text": texts}


def _finish(w: World, rng: np.random.Generator, comments: list[dict], truth: dict[str, list]) -> None:
    if comments:
        account = np.concatenate([c["account"] for c in comments])
        t = np.concatenate([c["t"] for c in comments])
        w.drift.update(account=account, note=np.concatenate([c["note"] for c in comments]), t=t,
                       text=pa.concat_arrays([c["text"] for c in comments]),
                       device=_links_used(w, "device", rng, account, t), ip=_links_used(w, "ip", rng, account, t))
    if truth["account"]:
        w.drift["truth"] = {k: np.concatenate(v) for k, v in truth.items()}


def drift_table(w: World, comment_ids, accounts, notes, devices) -> pa.Table:
    """The planted comments in time order (``comment_ids``: numbered after the platform's and a program's)."""
    D = w.drift
    order = np.lexsort((D["account"], D["t"]))
    client, via = app_clients(w.seed, D["account"][order], D["t"][order])  # hired people post from their phones
    return pa.table({
        "comment_id": comment_ids, "account_id": accounts.of(D["account"][order]),
        "note_id": notes.of(D["note"][order]), "created_at": iso_times(D["t"][order]),
        "text": D["text"].take(pa.array(order)),
        "reply_to": pa.nulls(order.size, pa.string()), "device_id": devices.of(D["device"][order]),
        "ip": ipv4_strings(D["ip"][order]), "client": client, "posted_via": via,
    })


def labels_table(w: World, accounts, farm_width: int) -> pa.Table:
    """Ground truth of the drifting accounts, one row each, in account id order: the ring that hired it
    (``farm_id``), ``kind`` (``returned``: back to honest behaviour at ``ended_at``; ``stayed``: still at it when
    the export was made, ``ended_at`` empty) and the stretch."""
    T = (w.drift or {}).get("truth") or {"account": np.zeros(0, np.int64)}
    ids = accounts.of(T["account"])
    if not len(ids):
        return pa.table({"account_id": pa.array([], pa.string()), "farm_id": pa.array([], pa.string()),
                         "kind": pa.array([], pa.string()), "started_at": pa.array([], pa.string()),
                         "ended_at": pa.array([], pa.string())})
    order = np.argsort(np.asarray(ids.to_pylist(), dtype=object), kind="stable")
    stayed = T["kind"][order] == KINDS.index("stayed")
    return pa.table({"account_id": ids.take(pa.array(order)),
                     "farm_id": prefixed_ids("F", T["farm"][order], farm_width),
                     "kind": pick(KINDS, T["kind"][order].astype(np.int64)),
                     "started_at": iso_times(T["start"][order]),
                     "ended_at": iso_times(T["end"][order], stayed)})
