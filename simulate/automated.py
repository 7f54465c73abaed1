"""Accounts run by a program (AI-managed, no human in the loop): what ``automated_accounts`` looks for, and the
people on a schedule it must leave alone.

One bulk farm in eight (at least one) is handed to a program: 3 to 8 of its members comment on a shared schedule
(one period of 30 to 120 minutes for the farm, each account at its own phase, jitter 2-20 % of the period), for 7
to 14 days somewhere in the activity year, on notes already posted, with generated praise (a few skeletons,
slots filled: "这篇关于{topic}的分享真的很有价值，{detail}让我受益匪浅，感谢博主的用心整理！"). Half the programs
are camouflaged: they take a night off (5-8 hours from 0-3 a.m. China time), so they rest as people do and are
found by their words (and their client, where the input names it). Those members are labelled ``ai_operated`` in
``labels.role`` (``farm_type`` and ``farm_id`` stay their bulk farm's).

The look-alikes (issue #15): one organic account in 2,000 (at least one) becomes a scheduled poster, a news or
brand account that comments every hour on the hour (± 2 minutes) from 8:00 to 21:00 China time for 14 to 30 days,
each comment written anew (the platform's organic comment generator); role ``scheduled_poster``, honest.

Drawn from a generator of its own (the seed and ``AUTOMATED_STREAM``) after the rest of the platform is made, and
written after the platform's comments with ids numbered after theirs, so every other row of every file is
unchanged; the comments file gains rows, labels change the role of these accounts. O(comments planted).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate import text
from ringscope.simulate.clients import app_clients, program_clients
from ringscope.simulate.clock import ACTIVITY_START, DAY, HOUR, MINUTE, NOW, TZ_OFFSET
from ringscope.simulate.encode import ipv4_strings, iso_times
from ringscope.simulate.world import ROLE, World

AUTOMATED_STREAM = 1408
FARM_SHARE = 1 / 8
NIGHT_OFF_SHARE = 0.5  # of the programs
SCHEDULED_SHARE = 1 / 2000  # of the organic accounts
TOPICS = ("护肤", "穿搭", "旅行攻略", "美食探店", "家居收纳", "健身", "读书笔记", "数码测评", "育儿", "职场成长")
DETAILS = ("对细节的讲解", "清晰的步骤", "真实的体验", "用心的排版", "专业的分析", "实用的建议", "中肯的评价")
SKELETONS = (
    "这篇关于{t}的分享真的很有价值，{d}让我受益匪浅，感谢博主的用心整理！",
    "看完这篇{t}笔记，我觉得{d}特别好，非常实用，已收藏，期待更多优质内容。",
    "作为一个热爱{t}的人，我认为这篇内容{d}很到位，逻辑清晰，值得推荐给更多人。",
)


def plant_automated(w: World, seed: int) -> None:
    """Fill ``w.automated`` (account, note, t, text, device, ip; indices, Unix seconds, -1 unknown) and mark the
    accounts' role ``ai_operated``. The device and address of each comment are one of the account's own in use
    then (the links' first and last seen are left as they are: the account files do not change)."""
    rng = np.random.default_rng([seed, AUTOMATED_STREAM])
    empty = {"account": np.zeros(0, np.int64), "note": np.zeros(0, np.int64), "t": np.zeros(0, np.int64), "text": [],
             "device": np.zeros(0, np.int64), "ip": np.zeros(0, np.int64)}
    w.automated = empty
    posted = np.asarray(w.N["posted"], dtype=np.int64)
    if not posted.size:
        return
    by_time = np.argsort(posted, kind="stable")
    sorted_posted = posted[by_time]
    bulk = [f for f in w.farms if f.kind == "bulk_farm"]
    picked = rng.choice(len(bulk), math.ceil(len(bulk) * FARM_SHARE), replace=False) if bulk else []
    chosen = [bulk[i] for i in sorted(picked)]
    accounts, notes, times, texts = [], [], [], []
    for farm in chosen:
        k = int(min(farm.size, rng.integers(3, 9)))
        members = np.sort(rng.choice(np.arange(farm.start, farm.start + farm.size), k, replace=False))
        period = float(rng.uniform(30, 120)) * MINUTE
        jitter = period * float(rng.uniform(0.02, 0.2))
        days = float(rng.uniform(7, 14))
        start = int(rng.integers(max(ACTIVITY_START, int(sorted_posted[0]) + DAY), int(NOW - days * DAY)))
        night = (float(rng.uniform(0, 3)) * HOUR, float(rng.uniform(5, 8)) * HOUR) if rng.random() < NIGHT_OFF_SHARE \
            else None
        for account in members:
            n = int(days * DAY / period)
            t = (start + rng.uniform(0, period) + np.cumsum(rng.normal(period, jitter, n).clip(period / 2))).astype(
                np.int64)
            t = t[t < NOW]
            if night is not None:  # the night off, China time
                into = (t + TZ_OFFSET) % DAY - night[0]
                t = t[(into < 0) | (into >= night[1])]
            before = np.searchsorted(sorted_posted, t, side="left")  # notes posted before each comment
            t, before = t[before > 0], before[before > 0]
            notes.append(by_time[(rng.random(t.size) * before).astype(np.int64)])
            accounts.append(np.full(t.size, account, np.int64))
            times.append(t)
            skeleton = rng.integers(0, len(SKELETONS), t.size)
            topic = rng.integers(0, len(TOPICS), t.size)
            detail = rng.integers(0, len(DETAILS), t.size)
            texts.extend(SKELETONS[s].format(t=TOPICS[a], d=DETAILS[b]) for s, a, b in zip(skeleton, topic, detail))
        w.A["role"][members] = ROLE["ai_operated"]
    _plant_scheduled(w, rng, sorted_posted, by_time, accounts, notes, times, texts)
    if accounts:
        account, t = np.concatenate(accounts), np.concatenate(times)
        w.automated = {"account": account, "note": np.concatenate(notes), "t": t, "text": texts,
                       "device": _links_used(w, "device", rng, account, t), "ip": _links_used(w, "ip", rng, account, t)}


def _plant_scheduled(w: World, rng: np.random.Generator, sorted_posted: np.ndarray, by_time: np.ndarray,
                     accounts: list, notes: list, times: list, texts: list) -> None:
    """The look-alikes (see the module): organic accounts commenting on the hour by day, each comment new."""
    organic = w.A["role"] == ROLE["organic"]
    # registered at least 40 days before the export's end, so a schedule of up to 30 days fits after it
    eligible = np.flatnonzero(organic & (w.A["reg"] < NOW - 40 * DAY))
    if not eligible.size:
        return
    posters = np.sort(rng.choice(eligible, min(eligible.size, math.ceil(organic.sum() * SCHEDULED_SHARE)),
                                 replace=False))
    last_day = (NOW + TZ_OFFSET) // DAY
    for account in posters:
        days = int(rng.integers(14, 31))
        begin = max(ACTIVITY_START, int(sorted_posted[0]) + DAY, int(w.A["reg"][account]) + DAY)
        first_day = (begin + TZ_OFFSET) // DAY + 1
        day0 = int(rng.integers(first_day, max(first_day + 1, last_day - days)))
        hours = np.arange(8, 22)
        t = ((day0 + np.repeat(np.arange(days), hours.size)) * DAY - TZ_OFFSET + np.tile(hours, days) * HOUR
             + rng.normal(0, 2 * MINUTE, days * hours.size)).astype(np.int64)
        t = t[t < NOW]
        before = np.searchsorted(sorted_posted, t, side="left")
        t, before = t[before > 0], before[before > 0]
        notes.append(by_time[(rng.random(t.size) * before).astype(np.int64)])
        accounts.append(np.full(t.size, account, np.int64))
        times.append(t)
        texts.extend(text.organic_comments(rng, t.size, list(w.brand_names)).to_pylist())
    w.A["role"][posters] = ROLE["scheduled_poster"]


def _links_used(w: World, kind: str, rng: np.random.Generator, account: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A device (or address) of each account in use at each time, -1 when the account has none."""
    index, links = (w.dev_index, w.links_dev) if kind == "device" else (w.ip_index, w.links_ip)
    if index is None or not len(links.get(kind, ())):
        return np.full(account.size, -1, np.int64)
    rows = index.pick(rng, account, t)
    return np.where(rows >= 0, links[kind][np.maximum(rows, 0)].astype(np.int64), -1)


def automated_table(w: World, comment_ids, accounts, notes, devices) -> pa.Table:
    """The planted comments in time order (``comment_ids``: numbered after the platform's comments)."""
    P = w.automated
    order = np.lexsort((P["account"], P["t"]))
    account, t = P["account"][order], P["t"][order]
    client, via = program_clients(w.seed, account, t)
    # the scheduled posters are people: they post from the app or the web, as everyone else
    people = w.A["role"][account] == ROLE["scheduled_poster"]
    if people.any():
        app, app_via = app_clients(w.seed, account, t)
        client = pc.if_else(pa.array(people), app, client)
        via = pc.if_else(pa.array(people), app_via, via)
    return pa.table({
        "comment_id": comment_ids, "account_id": accounts.of(P["account"][order]),
        "note_id": notes.of(P["note"][order]), "created_at": iso_times(P["t"][order]),
        "text": pa.array([P["text"][i] for i in order], pa.string()),
        "reply_to": pa.nulls(order.size, pa.string()), "device_id": devices.of(P["device"][order]),
        "ip": ipv4_strings(P["ip"][order]), "client": client, "posted_via": via,
    })
