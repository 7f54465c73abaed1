"""From the in-memory world to the files of the input format (shared/spec/input-format.md).

Ids are assigned here: accounts, devices, brands, intermediaries and orders
are numbered by a seeded permutation (fake and organic interleaved, nothing
in an id about how a row was made); notes and comments are numbered in time
order, as a platform's own ids are. Rows are written in id order (links,
likes and follows in time order).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from ringscope.simulate.encode import (blank_to_null, digit_matrix, hex_matrix, id_width, ipv4_strings, iso_times, prefixed_ids,
                             splitmix64, strings_from_matrix)
from ringscope.simulate.population import DEVICE_CATALOG
from ringscope.simulate.world import FIRST_FAKE_ROLE, ROLES, SANCTION_TARGETS, STATUSES, World

PHONE_SALT = 0x5EED_CAFE_F00D_1234
STEMS = ("accounts", "devices", "account_devices", "account_ips", "brands", "intermediaries",
         "intermediary_accounts", "orders", "notes", "comments", "likes", "follows", "sanctions", "labels")


# ---------------------------------------------------------------- final clean-up

def unique_pairs(events: dict, a: str, b: str) -> dict:
    """One event per (a, b) pair, the earliest, listed in time order (a like or follow happens once)."""
    key = events[a].astype(np.int64) * (int(events[b].max(initial=0)) + 1) + events[b]
    order = np.argsort(key, kind="stable")
    k = key[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if k.size else np.zeros(0, np.int64)
    t = np.minimum.reduceat(events["t"][order], starts) if k.size else events["t"][:0]
    rows = order[starts]
    by_time = np.argsort(t, kind="stable")
    return {a: events[a][rows][by_time], b: events[b][rows][by_time], "t": t[by_time]}


def touch_links(links: dict, rows: np.ndarray, t: np.ndarray) -> None:
    """A comment sent from a device/address at t means the link was in use at t."""
    used = rows >= 0
    np.maximum.at(links["last"], rows[used], t[used])
    np.minimum.at(links["first"], rows[used], t[used])


def finalize(w: World) -> dict:
    """Freeze activity: de-duplicated likes and follows, link times, follower counts."""
    likes = unique_pairs(w.likes.frozen(release=True), "account", "note")
    follows = unique_pairs(w.follows.frozen(release=True), "account", "target")
    comments = w.comments.frozen(release=True)
    devices, ips = w.links_dev, w.links_ip
    touch_links(devices, comments["dev_row"], comments["t"])
    touch_links(ips, comments["ip_row"], comments["t"])
    n = w.n_accounts
    return {
        "likes": likes, "follows": follows, "comments": comments, "account_devices": devices, "account_ips": ips,
        "followers": np.bincount(follows["target"], minlength=n), "following": np.bincount(follows["account"], minlength=n),
    }


# ---------------------------------------------------------------- ids

def shuffled_ids(rng: np.random.Generator, prefix: str, n: int) -> tuple[pa.Array, np.ndarray]:
    """(id of each internal index, row order that lists ids ascending) from a seeded permutation."""
    number = rng.permutation(n) + 1
    return prefixed_ids(prefix, number, id_width(n)), np.argsort(number)


def time_ordered_ids(prefix: str, t: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    order = np.argsort(t, kind="stable")
    number = np.empty(t.size, np.int64)
    number[order] = np.arange(1, t.size + 1)
    return prefixed_ids(prefix, number, id_width(t.size)), order


def refs(ids: pa.Array, index: np.ndarray) -> pa.Array:
    """ids[index], null where index < 0."""
    index = np.asarray(index, np.int64)
    return ids.take(pa.array(np.where(index < 0, 0, index), mask=index < 0))


def table(columns: dict, order: np.ndarray | None = None) -> pa.Table:
    t = pa.table(columns)
    return t if order is None else t.take(pa.array(order))


# ---------------------------------------------------------------- tables

def dataset_tables(w: World) -> Iterator[tuple[str, pa.Table]]:
    """Every file of the data set as (stem, Arrow table), in the spec's column order."""
    rng = w.rng
    f = finalize(w)
    A, N = w.A, w.N
    acc_ids, acc_order = shuffled_ids(rng, "a", w.n_accounts)
    dev_ids, dev_order = shuffled_ids(rng, "d", w.devices.n)
    brand_ids, brand_order = shuffled_ids(rng, "b", len(w.brand_names))
    inter_ids, inter_order = shuffled_ids(rng, "m", len(w.inter_names))
    note_ids, note_order = time_ordered_ids("n", N["posted"])
    C = f["comments"]
    comment_ids, comment_order = time_ordered_ids("c", C["t"])

    phone_hash = strings_from_matrix(hex_matrix(splitmix64(A["phone"] ^ PHONE_SALT), 16))
    yield "accounts", table({
        "account_id": acc_ids, "nickname": A["nickname"], "registered_at": iso_times(A["reg"]),
        "registration_ip": ipv4_strings(A["reg_ip"]), "phone_segment": strings_from_matrix(digit_matrix(A["seg"], 7)),
        "phone_hash": phone_hash, "followers": f["followers"], "following": f["following"],
        "is_professional": A["professional"], "default_profile": A["default_profile"],
        "bio": blank_to_null(A["bio"]), "status": pa.array(list(STATUSES)).take(pa.array(A["status"].astype(np.int64))),
    }, acc_order)

    models = w.devices.frozen()["model"].astype(np.int64)
    catalog = lambda k: pa.array([d[k] for d in DEVICE_CATALOG]).take(pa.array(models))  # noqa: E731
    yield "devices", table({"device_id": dev_ids, "model": catalog(0), "os": catalog(1), "is_emulator": catalog(2)},
                           dev_order)

    for stem, links, key, values in (("account_devices", f["account_devices"], "device_id", lambda L: refs(dev_ids, L["device"])),
                                     ("account_ips", f["account_ips"], "ip", lambda L: ipv4_strings(L["ip"]))):
        order = np.lexsort((links["first"], links["account"]))
        yield stem, table({"account_id": refs(acc_ids, links["account"]), key: values(links),
                           "first_seen": iso_times(links["first"]), "last_seen": iso_times(links["last"])}, order)

    yield "brands", table({"brand_id": brand_ids, "name": pa.array(w.brand_names, pa.string()),
                           "category": pa.array(w.brand_categories, pa.string())}, brand_order)
    yield "intermediaries", table({"intermediary_id": inter_ids, "name": pa.array(w.inter_names, pa.string()),
                                   "kind": pa.array(w.inter_kinds, pa.string()),
                                   "registered": pa.array(w.inter_registered, pa.bool_())}, inter_order)
    IA = w.intermediary_accounts.frozen()
    yield "intermediary_accounts", table({"intermediary_id": refs(inter_ids, IA["intermediary"]),
                                          "account_id": refs(acc_ids, IA["account"]), "since": iso_times(IA["since"])},
                                         np.lexsort((IA["account"], IA["since"])))
    O = w.orders.frozen()
    order_ids, order_order = shuffled_ids(rng, "o", O["brand"].size)
    yield "orders", table({"order_id": order_ids, "brand_id": refs(brand_ids, O["brand"]),
                           "intermediary_id": refs(inter_ids, O["intermediary"]),
                           "account_id": refs(acc_ids, O["account"]), "note_id": refs(note_ids, O["note"]),
                           "placed_at": iso_times(O["placed"]), "declared": O["declared"]}, order_order)
    yield "notes", table({"note_id": note_ids, "account_id": refs(acc_ids, N["author"]), "posted_at": iso_times(N["posted"]),
                          "title": N["title"], "brand_id": refs(brand_ids, N["brand"]),
                          "declared_commercial": N["declared"]}, note_order)
    dev_links, ip_links = f["account_devices"], f["account_ips"]
    yield "comments", table({
        "comment_id": comment_ids, "account_id": refs(acc_ids, C["account"]), "note_id": refs(note_ids, C["note"]),
        "created_at": iso_times(C["t"]), "text": C["text"], "reply_to": refs(comment_ids, C["reply"]),
        "device_id": refs(dev_ids, np.where(C["dev_row"] >= 0, dev_links["device"][C["dev_row"]], -1)),
        "ip": ipv4_strings(np.where(C["ip_row"] >= 0, ip_links["ip"][C["ip_row"]], -1)),
    }, comment_order)
    del C
    L = f.pop("likes")
    yield "likes", table({"account_id": refs(acc_ids, L["account"]), "note_id": refs(note_ids, L["note"]),
                          "created_at": iso_times(L["t"])})
    del L
    F = f.pop("follows")
    yield "follows", table({"account_id": refs(acc_ids, F["account"]), "target_account_id": refs(acc_ids, F["target"]),
                            "created_at": iso_times(F["t"])})
    del F
    yield "sanctions", sanctions_table(w, acc_ids, dev_ids, brand_ids, inter_ids, note_ids)
    fake = A["role"] >= FIRST_FAKE_ROLE
    farm_ids = prefixed_ids("F", np.maximum(A["farm"], 0), 4)
    roles = pa.array(list(ROLES)).take(pa.array(A["role"].astype(np.int64)))
    yield "labels", table({"account_id": acc_ids, "is_fake": fake,
                           "farm_id": refs(farm_ids, np.where(fake, np.arange(fake.size), -1)),
                           "farm_type": refs(roles, np.where(fake, np.arange(fake.size), -1)), "role": roles}, acc_order)


def sanctions_table(w: World, acc_ids, dev_ids, brand_ids, inter_ids, note_ids) -> pa.Table:
    S = w.sanctions.frozen()
    kind = S["target_type"].astype(np.int64)
    parts, rows = [], []
    for i, ids in enumerate((acc_ids, dev_ids, brand_ids, inter_ids, note_ids)):
        these = np.flatnonzero(kind == i)
        parts.append(ids.take(pa.array(S["target"][these])))
        rows.append(these)
    target = pa.concat_arrays(parts).take(pa.array(np.argsort(np.concatenate(rows), kind="stable")))
    order = np.argsort(S["issued"], kind="stable")
    number = np.empty(kind.size, np.int64)
    number[order] = np.arange(1, kind.size + 1)
    return table({
        "sanction_id": prefixed_ids("s", number, id_width(kind.size)),
        "target_type": pa.array(list(SANCTION_TARGETS)).take(pa.array(kind)), "target_id": target,
        "action": S["action"], "reason": S["reason"], "issued_at": iso_times(S["issued"]),
        "expires_at": iso_times(np.maximum(S["expires"], 0), S["expires"] < 0),
    }, order)
