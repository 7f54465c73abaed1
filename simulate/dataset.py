"""From the generated world to the files of the input format (shared/spec/input-format.md), in slices.

Ids are assigned here: accounts, devices, brands, intermediaries and orders
are numbered by a seeded permutation (fake and organic interleaved, nothing
in an id about how a row was made); notes and comments are numbered in time
order, as a platform's own ids are. Rows are written in id order (links,
likes and follows in time order).

Every kind comes as a stream of Arrow tables of at most ``Blocks.write_rows``
rows, so no file is ever held whole in memory. Comments, likes and follows
come back from the scratch files (``simulate.spill``) one bucket at a time:

- comments are bucketed by time as they are generated; a stable sort by time
  inside each bucket, bucket after bucket, numbers them exactly as one sort of
  all comments would, and the numbers are known for every comment before any
  is written, so a reply can name the comment it answers;
- likes and follows are bucketed by account; each bucket keeps the first of
  each (account, note) or (account, target) pair, in pair order, into a second
  set of buckets by time, which are then sorted by time the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate import bodies, trending
from ringscope.simulate.clients import app_clients
from ringscope.simulate.clock import ACTIVITY_START, DAY, NOW, PLATFORM_START
from ringscope.simulate.encode import (blank_to_null, digit_matrix, hex_matrix, id_width, ipv4_strings, iso_times, pick,
                                       prefixed_ids, splitmix64, strings_from_matrix)
from ringscope.simulate.population import DEVICE_CATALOG
from ringscope.simulate.automated import automated_table
from ringscope.simulate.drift import drift_table, labels_table as drift_labels_table
from ringscope.simulate.reports import reports_table
from ringscope.simulate.spill import EventLog, Spill, in_order, ordered_slice
from ringscope.common.memory import release_memory
from ringscope.simulate.world import (FIRST_FAKE_ROLE, ROLE, ROLES, SANCTION_TARGETS, STATUSES, Blocks, World,
                                      split)

PHONE_SALT = 0x5EED_CAFE_F00D_1234
STEMS = ("accounts", "devices", "account_devices", "account_ips", "brands", "intermediaries",
         "intermediary_accounts", "orders", "notes", "comments", "likes", "follows", "sanctions", "reports",
         "trending", "labels", "note_labels", "drift_labels", "trending_labels")

COMMENTS = pa.schema([("gen", pa.int64()), ("account", pa.int32()), ("note", pa.int32()), ("t", pa.int64()),
                      ("text", pa.string()), ("reply", pa.int64()), ("device", pa.int32()), ("ip", pa.int64())])
# What only the accounts and labels files need, by account index (gen).
ACCOUNT_FILES = pa.schema([("gen", pa.int64()), ("reg_ip", pa.int64()), ("seg", pa.int32()), ("phone", pa.int64()),
                           ("default_profile", pa.bool_()), ("farm", pa.int32()), ("nickname", pa.string()),
                           ("bio", pa.string())])
LIKES = pa.schema([("account", pa.int32()), ("note", pa.int32()), ("t", pa.int64())])
FOLLOWS = pa.schema([("account", pa.int32()), ("target", pa.int32()), ("t", pa.int64())])

# Rows per account, for sizing the scratch buckets (what a platform makes, with some margin).
PER_ACCOUNT = {"comments": 3.2, "likes": 5.0, "follows": 2.1}


# ---------------------------------------------------------------- scratch files

def account_edges(n_accounts: int, buckets: int) -> np.ndarray:
    """Inner edges of `buckets` ranges of account indices of near-equal size."""
    return np.cumsum(split(n_accounts, buckets))[:-1]


def event_logs(scratch: Path, n_accounts: int, blocks: Blocks) -> dict[str, EventLog]:
    """Where the generators put comments (by time), likes and follows (by account), accounts' file columns (by account)."""
    n = n_accounts
    comment_buckets = blocks.buckets(PER_ACCOUNT["comments"] * n)
    time_edges = ACTIVITY_START + (NOW - ACTIVITY_START) * np.arange(1, comment_buckets) // comment_buckets
    spills = {
        "comments": Spill(scratch, "comments", COMMENTS, "t", time_edges),
        "likes": Spill(scratch, "likes", LIKES, "account", account_edges(n, blocks.buckets(PER_ACCOUNT["likes"] * n))),
        "follows": Spill(scratch, "follows", FOLLOWS, "account",
                         account_edges(n, blocks.buckets(PER_ACCOUNT["follows"] * n))),
    }
    spills["account_files"] = Spill(scratch, "accounts", ACCOUNT_FILES, "gen",
                                    np.arange(blocks.write_rows, n, blocks.write_rows))
    return {kind: EventLog(spill, blocks.flush_rows) for kind, spill in spills.items()}


def time_quantile_edges(spill: Spill, buckets: int) -> np.ndarray:
    """Inner edges of `buckets` time ranges holding about as many of the spill's rows each (by day)."""
    first_day = (PLATFORM_START - 400 * DAY) // DAY
    days = np.zeros((NOW // DAY) - first_day + 2, np.int64)
    for b in spill.buckets:
        day = spill.read(b, ["t"]).column("t").to_numpy() // DAY - first_day
        days += np.bincount(np.clip(day, 0, days.size - 1), minlength=days.size)
    cumulative = np.cumsum(days)
    targets = cumulative[-1] * np.arange(1, buckets) / buckets
    edge_days = np.unique(np.searchsorted(cumulative, targets, side="right"))
    return (edge_days + first_day) * DAY


def first_of_pairs(raw: Spill, other: str, scratch: Path, blocks: Blocks, n_accounts: int,
                   count: bool = False) -> tuple[Spill, np.ndarray | None, np.ndarray | None]:
    """One event per (account, other) pair, the earliest (a like or follow happens once), bucketed by time.

    With `count`: also how many pairs each account has as account and as other (following, followers).
    """
    out = Spill(scratch, raw.name + "-first", raw.schema, "t",
                time_quantile_edges(raw, blocks.buckets(int(raw.rows.sum()))))
    as_account = np.zeros(n_accounts, np.int32) if count else None
    as_other = np.zeros(n_accounts, np.int32) if count else None
    for b in raw.buckets:
        events = raw.read(b)
        account = events.column("account").to_numpy().astype(np.int64)
        key = (account << 32) | events.column(other).to_numpy().astype(np.int64)
        order = np.argsort(key, kind="stable")
        k = key[order]
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if k.size else np.zeros(0, np.int64)
        first = {"account": k[starts] >> 32, other: k[starts] & 0xFFFFFFFF,
                 "t": np.minimum.reduceat(events.column("t").to_numpy()[order], starts) if k.size else k}
        del events, account, key, order, k
        if count:
            as_account += np.bincount(first["account"], minlength=n_accounts)
            as_other += np.bincount(first[other], minlength=n_accounts)
        out.add(first)
        raw.remove(b)
        del first
        release_memory()
    out.close()
    return out, as_account, as_other


def comment_numbers(spill: Spill) -> np.ndarray:
    """The number (1, 2, ...) of each comment, by its run-wide index: in time order, ties in the order made."""
    total = int(spill.rows.sum())
    numbers = np.zeros(total, np.int32 if total < 2**31 else np.int64)
    done = 0
    for b in spill.buckets:
        part = spill.read(b, ["gen", "t"])
        order = np.argsort(part.column("t").to_numpy(), kind="stable")
        numbers[part.column("gen").to_numpy()[order]] = np.arange(done + 1, done + 1 + order.size)
        done += order.size
    return numbers


# ---------------------------------------------------------------- ids

def permuted_numbers(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(id number of each internal index, internal indices in id order) from a seeded permutation."""
    number = rng.permutation(n) + 1
    order = np.argsort(number)
    compact = np.int32 if n < 2**31 else np.int64
    return number.astype(compact), order.astype(compact)


def time_ordered_numbers(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(t, kind="stable")
    number = np.empty(t.size, np.int64)
    number[order] = np.arange(1, t.size + 1)
    return number, order


class Ids:
    """The ids of one kind of entity: prefix + zero-padded number, from an index's number."""

    def __init__(self, prefix: str, number: np.ndarray):
        self.prefix, self.number, self.width = prefix, number, id_width(number.size)

    def of(self, index: np.ndarray) -> pa.Array:
        """The id of each index; null where index < 0."""
        index = np.asarray(index, np.int64)
        missing = index < 0
        numbers = self.number[np.where(missing, 0, index)] if self.number.size else np.zeros(index.size, np.int64)
        return prefixed_ids(self.prefix, numbers, self.width, missing)

    def numbered(self, start: int, stop: int) -> pa.Array:
        """The ids numbered start+1 .. stop (rows written in id order)."""
        return prefixed_ids(self.prefix, np.arange(start + 1, stop + 1), self.width)


def slices(n: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive slices covering range(n); one empty slice if n == 0."""
    for start in range(0, max(n, 1), size):
        yield start, min(start + size, n)


def catalog(index: np.ndarray, values) -> pa.Array:
    return pa.array(list(values)).take(pa.array(np.asarray(index, np.int64)))


# ---------------------------------------------------------------- the files

def finish_links(w: World) -> None:
    """A comment sent from a device or address before its first_seen moves first_seen back."""
    for kind, links in (("device", w.links_dev), ("ip", w.links_ip)):
        for rows, when in w.earlier_use.pop(kind):
            np.minimum.at(links["first"], rows, when.astype(links["first"].dtype))


def dataset_tables(w: World, blocks: Blocks) -> Iterator[tuple[str, Iterator[pa.Table]]]:
    """Every file of the data set as (stem, its rows as a stream of Arrow tables), in the spec's column order."""
    rng, A, N = w.rng, w.A, w.N
    rows = blocks.write_rows
    comments, likes, follows = w.comments.close(), w.likes.close(), w.follows.close()
    scratch = comments.directory
    finish_links(w)
    likes, _, _ = first_of_pairs(likes, "note", scratch, blocks, w.n_accounts)
    follows, following, followers = first_of_pairs(follows, "target", scratch, blocks, w.n_accounts, count=True)
    comment_ids = Ids("c", comment_numbers(comments))
    # The same draws, in the same order, as when the whole data set was held in memory.
    acc_number, acc_order = permuted_numbers(rng, w.n_accounts)
    dev_number, dev_order = permuted_numbers(rng, w.devices.n)
    brand_number, brand_order = permuted_numbers(rng, len(w.brand_names))
    inter_number, inter_order = permuted_numbers(rng, len(w.inter_names))
    O = w.orders.frozen(release=True)
    order_number, order_order = permuted_numbers(rng, O["brand"].size)
    accounts, devices = Ids("a", acc_number), Ids("d", dev_number)
    brands, inters = Ids("b", brand_number), Ids("m", inter_number)
    note_number, note_order = time_ordered_numbers(N["posted"])
    notes = Ids("n", note_number)

    details = in_order(w.account_files.close(), acc_order, rows)  # bucket i: the accounts of slice i
    yield "accounts", (accounts_table(A, ordered_slice(details, i), accounts, acc_order[a:b], a, b, followers,
                                      following) for i, (a, b) in enumerate(slices(w.n_accounts, rows)))
    models = w.devices.frozen(release=True)["model"]
    yield "devices", (devices_table(models[dev_order[a:b]], devices.numbered(a, b))
                      for a, b in slices(dev_order.size, rows))
    for stem, links, key in (("account_devices", w.links_dev, "device_id"), ("account_ips", w.links_ip, "ip")):
        yield stem, link_tables(links, key, accounts, devices, rows)
        links.clear()

    yield "brands", iter([pa.table({"brand_id": brands.numbered(0, brand_order.size),
                                    "name": pa.array(w.brand_names, pa.string()).take(pa.array(brand_order)),
                                    "category": pa.array(w.brand_categories, pa.string()).take(pa.array(brand_order))})])
    yield "intermediaries", iter([pa.table({
        "intermediary_id": inters.numbered(0, inter_order.size),
        "name": pa.array(w.inter_names, pa.string()).take(pa.array(inter_order)),
        "kind": pa.array(w.inter_kinds, pa.string()).take(pa.array(inter_order)),
        "registered": pa.array(w.inter_registered, pa.bool_()).take(pa.array(inter_order))})])
    IA = w.intermediary_accounts.frozen(release=True)
    order = np.lexsort((IA["account"], IA["since"]))
    yield "intermediary_accounts", iter([pa.table({"intermediary_id": inters.of(IA["intermediary"][order]),
                                                   "account_id": accounts.of(IA["account"][order]),
                                                   "since": iso_times(IA["since"][order])})])
    o = order_order
    all_notes = AllNoteIds(notes, w.note_texts.total)
    yield "orders", itertools.chain([pa.table({
        "order_id": Ids("o", order_number).numbered(0, o.size),
        "brand_id": brands.of(O["brand"][o]), "intermediary_id": inters.of(O["intermediary"][o]),
        "account_id": accounts.of(O["account"][o]), "note_id": notes.of(O["note"][o]),
        "placed_at": iso_times(O["placed"][o]), "declared": O["declared"][o]})],
        farmed_orders(w, o.size, brands, inters, accounts, all_notes))
    titles = in_order(w.parked["notes"], note_order, rows)
    yield "notes", itertools.chain(notes_tables(w, titles, note_order, notes, accounts, brands, rows),
                                   trending_notes(w, notes, accounts, brands))
    yield "comments", itertools.chain(comment_tables(comments, comment_ids, accounts, notes, devices, rows, w.seed),
                                      automated_tables(w, comment_ids, accounts, notes, devices),
                                      drift_tables(w, comment_ids, accounts, notes, devices),
                                      trending_comments(w, comment_ids, accounts, notes, devices))
    yield "likes", itertools.chain(event_tables(likes, "note", "note_id", all_notes, accounts, rows),
                                   trending_likes(w, notes, accounts))
    yield "follows", event_tables(follows, "target", "target_account_id", accounts, accounts, rows)
    yield "sanctions", iter([sanctions_table(w, accounts, devices, brands, inters, notes)])
    yield "reports", iter([reports_table(w, accounts)])
    yield "trending", iter([trending.trending_table(w.trending)])
    operation = w.trending.operation
    yield "labels", (labels_table(A, ordered_slice(details, i, ["farm"]), acc_order[a:b], accounts.numbered(a, b),
                                  len(w.farms), operation[acc_order[a:b]])
                     for i, (a, b) in enumerate(slices(w.n_accounts, rows)))
    # Ground truth of the planted copied notes (evaluation only; ``ringscope ingest`` never loads it).
    yield "note_labels", iter([bodies.labels_table(w.note_texts, all_notes.number, all_notes.of)])
    # Ground truth of the honest accounts comment rings hire for a stretch (evaluation only, never loaded).
    yield "drift_labels", iter([drift_labels_table(w, accounts, max(4, len(str(len(w.farms)))))])
    # Ground truth of the planted trending topics (evaluation only, never loaded).
    yield "trending_labels", iter([trending.truth_table(w.trending)])


def farmed_orders(w: World, n_orders: int, brands: Ids, inters: Ids, accounts: Ids,
                  all_notes: "AllNoteIds") -> Iterator[pa.Table]:
    """The declared orders of farmed accounts (``simulate.farmed``), numbered after the platform's orders (their
    ids keep their width; these take the width their count needs), in the order ``farmed`` drew for them."""
    F = w.farmed
    if not F or not F["brand"].size:
        return
    o = F["order"]
    ids = prefixed_ids("o", n_orders + 1 + np.arange(o.size), max(id_width(n_orders), id_width(n_orders + o.size)))
    yield pa.table({"order_id": ids, "brand_id": brands.of(F["brand"][o]),
                    "intermediary_id": inters.of(F["intermediary"][o]), "account_id": accounts.of(F["account"][o]),
                    "note_id": all_notes.of(F["note"][o]), "placed_at": iso_times(F["placed"][o]),
                    "declared": F["declared"][o]})


def _trending_note_ids(w: World, notes: Ids) -> pa.Array:
    """The ids of ``simulate.trending``'s notes: numbered after every other note (the copies of ``bodies``)."""
    total = w.note_texts.total
    count = len(w.trending.notes.get("author", ()))
    width = max(notes.width, id_width(total), id_width(total + count))
    return prefixed_ids("n", total + 1 + np.arange(count), width)


def trending_notes(w: World, notes: Ids, accounts: Ids, brands: Ids) -> Iterator[pa.Table]:
    """The notes ``simulate.trending`` planted (viral trends, fans, heat operations), after all the others."""
    N = w.trending.notes
    if not len(N.get("author", ())):
        return
    count = N["author"].size
    client, via = app_clients(w.seed, N["author"], N["posted"])
    yield pa.table({"note_id": _trending_note_ids(w, notes), "account_id": accounts.of(N["author"]),
                    "posted_at": iso_times(N["posted"]), "title": N["title"],
                    "brand_id": brands.of(np.full(count, -1)), "declared_commercial": np.zeros(count, bool),
                    "text": N["text"],
                    "topics": pc.binary_join_element_wise(N["topic"], pa.scalar(";#日常"), pa.scalar("")),
                    "client": client, "posted_via": via})


def trending_comments(w: World, comment_ids: Ids, accounts: Ids, notes: Ids, devices: Ids) -> Iterator[pa.Table]:
    """The comments ``simulate.trending`` planted, numbered after the platform's, the program's and the drift
    crews' comments."""
    C = w.trending.comments
    if not len(C.get("t", ())):
        return
    before = (comment_ids.number.size + (w.automated["t"].size if w.automated else 0)
              + (w.drift["t"].size if w.drift else 0))
    ids = prefixed_ids("c", before + 1 + np.arange(C["t"].size), max(comment_ids.width, id_width(before + C["t"].size)))
    client, via = app_clients(w.seed, C["account"], C["t"])
    yield pa.table({
        "comment_id": ids, "account_id": accounts.of(C["account"]),
        "note_id": _trending_note_ids(w, notes).take(pa.array(C["note"])), "created_at": iso_times(C["t"]),
        "text": C["text"], "reply_to": pa.nulls(C["t"].size, pa.string()),
        "device_id": devices.of(C["device"]), "ip": ipv4_strings(C["ip"]), "client": client, "posted_via": via})


def trending_likes(w: World, notes: Ids, accounts: Ids) -> Iterator[pa.Table]:
    """The likes ``simulate.trending`` planted, after the platform's."""
    L = w.trending.likes
    if not len(L.get("t", ())):
        return
    yield pa.table({"account_id": accounts.of(L["account"]),
                    "note_id": _trending_note_ids(w, notes).take(pa.array(L["note"])),
                    "created_at": iso_times(L["t"])})


class AllNoteIds:
    """Ids of the platform's notes and, numbered after them, the extra notes of ``bodies`` (index n, n+1 ...)."""

    def __init__(self, notes: Ids, total: int):
        self.notes, self.n = notes, notes.number.size
        self.width = max(notes.width, id_width(total))

    def number(self, index: np.ndarray) -> np.ndarray:
        index = np.asarray(index, np.int64)
        own = self.notes.number[np.clip(index, 0, max(self.n - 1, 0))] if self.n else np.zeros(index.size, np.int64)
        return np.where(index < self.n, own, index + 1)

    def of(self, index: np.ndarray) -> pa.Array:
        """The id of each index; null where index < 0."""
        index = np.asarray(index, np.int64)
        extra = index >= self.n
        if not extra.any():
            return self.notes.of(index)
        own = self.notes.of(np.where(extra, -1, index))
        added = prefixed_ids("n", index + 1, self.width, ~extra)
        return pc.coalesce(own, added)


def notes_tables(w: World, titles: Spill, note_order: np.ndarray, notes: Ids, accounts: Ids, brands: Ids,
                 rows: int) -> Iterator[pa.Table]:
    """The notes in id (time) order, then the extra notes ``bodies`` planted (copies by engagement farms),
    numbered after them; with their bodies and topics (``bodies.render``)."""
    N, texts = w.N, w.note_texts
    for i, (a, b) in enumerate(slices(note_order.size, rows)):
        these = note_order[a:b]
        title = ordered_slice(titles, i).column("title").combine_chunks()
        text, topics = bodies.render(texts, these, w, title)
        client, via = app_clients(w.seed, N["author"][these], N["posted"][these])
        yield pa.table({"note_id": notes.numbered(a, b), "account_id": accounts.of(N["author"][these]),
                        "posted_at": iso_times(N["posted"][these]), "title": title,
                        "brand_id": brands.of(N["brand"][these]), "declared_commercial": N["declared"][these],
                        "text": text, "topics": topics, "client": client, "posted_via": via})
    E, n = texts.extra, texts.n_notes
    all_notes = AllNoteIds(notes, texts.total)
    for a, b in slices(E["author"].size, rows):
        if a == b:
            break
        index = n + np.arange(a, b)
        text, topics = bodies.render(texts, index, w, texts.extra_titles.slice(a, b - a))
        client, via = app_clients(w.seed, E["author"][a:b], E["posted"][a:b])
        # ``simulate.farmed`` plants brand and declared notes among them; the copies of ``bodies`` are neither.
        yield pa.table({"note_id": all_notes.of(index), "account_id": accounts.of(E["author"][a:b]),
                        "posted_at": iso_times(E["posted"][a:b]), "title": texts.extra_titles.slice(a, b - a),
                        "brand_id": brands.of(E["brand"][a:b] if "brand" in E else np.full(b - a, -1)),
                        "declared_commercial": E["declared"][a:b] if "declared" in E else np.zeros(b - a, bool),
                        "text": text, "topics": topics, "client": client, "posted_via": via})


def devices_table(models: np.ndarray, device_ids: pa.Array) -> pa.Table:
    return pa.table({"device_id": device_ids, "model": catalog(models, (d[0] for d in DEVICE_CATALOG)),
                     "os": catalog(models, (d[1] for d in DEVICE_CATALOG)),
                     "is_emulator": catalog(models, (d[2] for d in DEVICE_CATALOG))})


def accounts_table(A: dict, details: pa.Table, accounts: Ids, rows: np.ndarray, start: int, stop: int,
                   followers: np.ndarray, following: np.ndarray) -> pa.Table:
    """Accounts start..stop in id order: internal indices `rows`, their file-only columns `details` in that order."""
    column = {name: details.column(name).to_numpy() for name in ("reg_ip", "seg", "phone", "default_profile")}
    return pa.table({
        "account_id": accounts.numbered(start, stop), "nickname": details.column("nickname").combine_chunks(),
        "registered_at": iso_times(A["reg"][rows]), "registration_ip": ipv4_strings(column["reg_ip"]),
        "phone_segment": strings_from_matrix(digit_matrix(column["seg"], 7)),
        "phone_hash": strings_from_matrix(hex_matrix(splitmix64(column["phone"] ^ PHONE_SALT), 16)),
        "followers": followers[rows].astype(np.int64), "following": following[rows].astype(np.int64),
        "is_professional": A["professional"][rows], "default_profile": column["default_profile"],
        "bio": blank_to_null(details.column("bio").combine_chunks()), "status": pick(STATUSES, A["status"][rows]),
    })


def labels_table(A: dict, details: pa.Table, rows: np.ndarray, account_ids: pa.Array, n_farms: int,
                 operation: np.ndarray | None = None) -> pa.Table:
    """Ground truth; farm ids F0001 .. (four digits, more once there are 10,000 farms or more). The bought
    accounts of a heat operation (``operation`` >= 0, no farm of their own) take a farm id numbered after the
    farms, one per operation, and the farm type heat_campaign."""
    role = A["role"][rows].astype(np.int64)
    fake = role >= FIRST_FAKE_ROLE
    number = details.column("farm").to_numpy().astype(np.int64)
    if operation is not None:
        number = np.where((operation >= 0) & (number <= 0), n_farms + 1 + operation, number)
    farm = prefixed_ids("F", np.maximum(number, 0), max(4, len(str(n_farms))), ~fake)
    roles = pick(ROLES, role)
    # A program's accounts (simulate/automated.py) stay in their bulk farm: ai_operated is a role, not a farm type;
    # so do a heat operation's bulk-farm members (heat_campaign with a farm of their own). Farmed declared accounts
    # (simulate/farmed.py) stay in their farm too.
    origin = A["farm_role"][rows].astype(np.int64) if "farm_role" in A else role
    in_farm = (role == ROLE["ai_operated"]) | ((role == ROLE["heat_campaign"]) & (number >= 1) & (number <= n_farms))
    kinds = pick(ROLES, np.where(in_farm, ROLE["bulk_farm"], np.where(role == ROLE["farmed_declared"], origin, role)))
    return pa.table({"account_id": account_ids, "is_fake": fake, "farm_id": farm,
                     "farm_type": pc.if_else(pa.array(fake), kinds, pa.scalar(None, pa.string())), "role": roles})


def link_tables(links: dict, key: str, accounts: Ids, devices: Ids, rows: int) -> Iterator[pa.Table]:
    order = np.lexsort((links["first"], links["account"]))
    for a, b in slices(order.size, rows):
        these = order[a:b]
        target = links["device" if key == "device_id" else "ip"][these]
        yield pa.table({"account_id": accounts.of(links["account"][these]),
                        key: devices.of(target) if key == "device_id" else ipv4_strings(target),
                        "first_seen": iso_times(links["first"][these]), "last_seen": iso_times(links["last"][these])})


def automated_tables(w: World, comment_ids: Ids, accounts: Ids, notes: Ids, devices: Ids) -> Iterator[pa.Table]:
    """The comments a program posts (``simulate.automated``), numbered after the platform's comments (their ids
    keep their width; these take the width their count needs)."""
    n, planted = comment_ids.number.size, w.automated["t"].size if w.automated else 0
    if planted:
        ids = prefixed_ids("c", n + 1 + np.arange(planted), max(comment_ids.width, id_width(n + planted)))
        yield automated_table(w, ids, accounts, notes, devices)


def drift_tables(w: World, comment_ids: Ids, accounts: Ids, notes: Ids, devices: Ids) -> Iterator[pa.Table]:
    """The comments of honest accounts hired by a ring for a stretch, and of the ring beside them
    (``simulate.drift``), numbered after the platform's and a program's comments."""
    before = comment_ids.number.size + (w.automated["t"].size if w.automated else 0)
    planted = w.drift["t"].size if w.drift else 0
    if planted:
        ids = prefixed_ids("c", before + 1 + np.arange(planted), max(comment_ids.width, id_width(before + planted)))
        yield drift_table(w, ids, accounts, notes, devices)


def comment_tables(spill: Spill, comment_ids: Ids, accounts: Ids, notes: Ids, devices: Ids,
                   rows: int, seed: int = 0) -> Iterator[pa.Table]:
    """Comments in id (time) order, bucket by bucket."""
    done = 0
    for b in spill.buckets:
        part = sorted_by_time(spill.read(b))
        for a, z in slices(part.num_rows, rows):
            yield comment_table(part.slice(a, z - a), comment_ids.numbered(done + a, done + z),
                                comment_ids, accounts, notes, devices, seed)
        done += part.num_rows
        spill.remove(b)
        del part
        release_memory()


def comment_table(c: pa.Table, numbered: pa.Array, comment_ids: Ids, accounts: Ids, notes: Ids,
                  devices: Ids, seed: int = 0) -> pa.Table:
    column = {name: c.column(name).to_numpy() for name in ("account", "note", "t", "reply", "device", "ip")}
    client, via = app_clients(seed, column["account"], column["t"])
    return pa.table({
        "comment_id": numbered, "account_id": accounts.of(column["account"]), "note_id": notes.of(column["note"]),
        "created_at": iso_times(column["t"]), "text": c.column("text").combine_chunks(),
        "reply_to": comment_ids.of(column["reply"]), "device_id": devices.of(column["device"]),
        "ip": ipv4_strings(column["ip"]), "client": client, "posted_via": via,
    })


def sorted_by_time(part: pa.Table) -> pa.Table:
    """A bucket's rows by time; rows at the same time stay in the order they were added."""
    return part.take(pa.array(np.argsort(part.column("t").to_numpy(), kind="stable")))


def event_tables(spill: Spill, other: str, other_id: str, others: Ids, accounts: Ids, rows: int) -> Iterator[pa.Table]:
    """Likes or follows, in time order (ties in pair order)."""
    for b in spill.buckets:
        part = sorted_by_time(spill.read(b))
        for a, z in slices(part.num_rows, rows):
            yield event_table(part.slice(a, z - a), other, other_id, others, accounts)
        spill.remove(b)
        del part
        release_memory()


def event_table(c: pa.Table, other: str, other_id: str, others: Ids, accounts: Ids) -> pa.Table:
    return pa.table({"account_id": accounts.of(c.column("account").to_numpy()),
                     other_id: others.of(c.column(other).to_numpy()),
                     "created_at": iso_times(c.column("t").to_numpy())})


def sanctions_table(w: World, accounts: Ids, devices: Ids, brands: Ids, inters: Ids, notes: Ids) -> pa.Table:
    S = w.sanctions.frozen(release=True)
    kind = S["target_type"].astype(np.int64)
    parts, rows = [], []
    for i, ids in enumerate((accounts, devices, brands, inters, notes)):
        these = np.flatnonzero(kind == i)
        parts.append(ids.of(S["target"][these]))
        rows.append(these)
    target = pa.concat_arrays(parts).take(pa.array(np.argsort(np.concatenate(rows), kind="stable")))
    order = np.argsort(S["issued"], kind="stable")
    number = np.empty(kind.size, np.int64)
    number[order] = np.arange(1, kind.size + 1)
    return pa.table({
        "sanction_id": prefixed_ids("s", number, id_width(kind.size)),
        "target_type": pa.array(list(SANCTION_TARGETS)).take(pa.array(kind)), "target_id": target,
        "action": S["action"], "reason": S["reason"], "issued_at": iso_times(S["issued"]),
        "expires_at": iso_times(np.maximum(S["expires"], 0), S["expires"] < 0),
    }).take(pa.array(order))
