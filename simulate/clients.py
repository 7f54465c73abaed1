"""What notes and comments were posted with: ``client`` and ``posted_via`` (extensions of the input format).

People post from the app (``RED/8.<minor>.<patch> (iOS|Android)``): a new minor version ships every
``RELEASE_DAYS`` days, and each person runs one to three releases behind (updates lag), on one system; about
one person in seventeen posts from the web (``RED Web (Chrome)``, ``posted_via`` web). A share of the accounts a
program runs (``simulate/automated.py``, role ``ai_operated``) post through an API client
(``xhs-open-sdk/2.3.1``, ``posted_via`` api), where a later detector can look for it; the others drive the app.

Drawn by hashing (the seed, ``CLIENT_STREAM``, the account and the time), never from a generator's sequence, so a
row's client does not depend on how the files are sliced and no other column changes. O(rows).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate.clock import ACTIVITY_START, DAY
from ringscope.simulate.encode import join, pick, splitmix64

CLIENT_STREAM = 1410
RELEASE_DAYS = 45
FIRST_MINOR = 30
RELEASES = 16  # minor versions 8.30 .. 8.45 cover a year and a half of activity
SYSTEMS = ("iOS", "Android")
API_CLIENT = "xhs-open-sdk/2.3.1"
API_SHARE = 0.6  # of the accounts a program runs
WEB_SHARE = 6  # in 100 people
_FIRST_RELEASE = ACTIVITY_START - 4 * RELEASE_DAYS * DAY
VERSIONS = tuple(f"RED/8.{FIRST_MINOR + r}.{p}" for r in range(RELEASES) for p in range(3))


def _account_hash(seed: int, account: np.ndarray) -> np.ndarray:
    key = splitmix64(np.array([seed * 0x100000001B3 + CLIENT_STREAM], np.uint64))[0]
    return splitmix64(np.asarray(account, np.int64).astype(np.uint64) ^ key)


def app_clients(seed: int, account: np.ndarray, t: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(client, posted_via) of people's rows: each account's system, lag and web habit, the release at ``t``."""
    h = _account_hash(seed, account)
    system = (h % np.uint64(100) >= np.uint64(45)).astype(np.int64)
    lag = ((h >> np.uint64(8)) % np.uint64(3)).astype(np.int64) + 1
    web = ((h >> np.uint64(24)) % np.uint64(100)).astype(np.int64) < WEB_SHARE
    release = np.clip((np.asarray(t, np.int64) - _FIRST_RELEASE) // (RELEASE_DAYS * DAY) - lag, 0, RELEASES - 1)
    patch = ((h >> np.uint64(16)) % np.uint64(3)).astype(np.int64)
    app = join(pick(VERSIONS, release * 3 + patch), " (", pick(SYSTEMS, system), ")")
    client = pc.if_else(pa.array(web), pa.scalar("RED Web (Chrome)"), app)
    via = pc.if_else(pa.array(web), pa.scalar("web"), pa.scalar("app"))
    return client, via


def program_clients(seed: int, account: np.ndarray, t: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(client, posted_via) of rows a program posts: ``API_SHARE`` of its accounts through the API, the rest as
    people's."""
    h = _account_hash(seed, account)
    api = ((h >> np.uint64(40)) % np.uint64(1000)).astype(np.int64) < int(API_SHARE * 1000)
    client, via = app_clients(seed, account, t)
    return (pc.if_else(pa.array(api), pa.scalar(API_CLIENT), client),
            pc.if_else(pa.array(api), pa.scalar("api"), via))
