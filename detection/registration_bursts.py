"""Bulk registration: accounts created together that also look alike.

Fake accounts are made in batches by scripts. A batch shows up as a burst of
registrations in a short window whose accounts *also* share something a
random set of co-registered people would not: the registration IP, the phone
number's carrier segment, a device, the machine-made shape of the nickname
("LupeAvery12" and "CassondraJohns4" both read ``AaAa9``), or the same
untouched profile defaults. This module follows the unsupervised part of Xiao,
Freeman & Hwa, "Detecting Clusters of Fake Accounts in Online Social Networks"
(AISec 2015): group accounts by registration window and shared attribute, then
score the groups; there is no training on labels.

Statistics (all per account and computed with sorted arrays and binary search,
O(R log R) for R attribute rows, never pairwise):

* **registration burst** ``T``: ``n`` accounts registered within ``window`` of
  the account, against ``lambda`` expected from the background rate in the
  surrounding ``background`` period (90 % local rate, 10 % whole-data rate).
  Surprise ``S = -log10 P(Poisson(lambda) >= n - 1)``; strength
  ``(1 - exp(-S/10)) * max(0, 1 - (1 + lambda)/n)`` (significance times the
  share of the burst that is excess).
* **shared attribute in the window** ``A``: for each attribute value, ``n`` of
  the ``N`` registrations within ``window`` carry it, against its background
  share ``p`` (same local/global mix). ``S = -log10 P(Binomial(N-1, p) >= n-1)``,
  strength as above with ``expected = 1 + p (N - 1)``. Because it is
  conditional on ``N``, a platform-wide surge of registrations (a marketing
  campaign) does not count; only a surge of alike accounts does. ``A`` is the
  largest strength over the account's attributes.
* **profile defaults** ``P``: the mean of ``default_profile``, "no bio", and
  the follow asymmetry ``clip(log10((following+1)/(followers+1)), 0, 1)``
  (following ten times more accounts than follow it counts fully), over the
  columns present. These are profile rules of the kind reviewed for bought
  followers by Cresci et al., "Fame for sale: efficient detection of fake
  Twitter followers", Decision Support Systems 2015. ``P`` is about how an
  account was left, not when it was made: it also rates a fresh, lone, real
  account highly, which is why it is only one third of the score.

``bulk_registration_scores`` = mean of ``T``, ``A``, ``P`` over those
available, in [0, 1]. ``detect_registration_bursts`` turns significant
(attribute, value, window) groups into clusters; group members are chained
while consecutive registrations are at most ``max_gap`` (1 hour) apart. It tests
every row at several window widths (``time_scales``: 12 hours and 3.5 days, the
gap scaled alike) and the profile fingerprint on two grids (``profile_columns``),
each counted in the Bonferroni correction; with ``passes`` above 1 (the policy
ships 1), in several passes, each leaving the accounts the passes before it
found out of the backgrounds (``censored_passes``), every pass counted in the
correction too.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import binom, poisson

from ringscope.detection.calibration import calibrated
from ringscope.detection.frames import epoch_seconds
from ringscope.detection.findings import ClusterFinding, Evidence, Reason, iso_utc_epoch, personal
from ringscope.detection.params import as_mapping, as_scales, policy_field
from ringscope.detection.shared_infrastructure import unique_ints

DETECTOR = "registration_bursts"

#: How far the null model of each attribute can be trusted: the share of a significant burst's evidence
#: that counts. A device or registration IP shared by a burst is physical; carriers hand out phone segments
#: in blocks and profile fingerprints drift with app versions, so honest co-registrants share them more
#: often than the background predicts; nickname shapes follow fashions and locales.
ATTRIBUTE_WEIGHT: dict[str, float] = {
    "device": 1.0,
    "registration_ip": 1.0,
    "phone_segment": 0.8,
    "nickname_shape": 0.6,
    "profile": 0.8,
}

SURPRISE_SCALE = 10.0  # -log10 p at which significance reaches 1 - 1/e
GLOBAL_MIX = 0.1  # share of the whole-data rate/share mixed into the local background
MAX_SURPRISE = 300.0
CITE_LIMIT = 20
MAX_REASONS = 20

_HEX_RUN = re.compile(r"[0-9A-Fa-f]{6,}")


# --------------------------------------------------------------------------- shapes


def _char_class(ch: str) -> str:
    """Shape class of one character (see ``nickname_shape``). O(1)."""
    if ch.isdigit():
        return "9"
    if "A" <= ch <= "Z":
        return "A"
    if "a" <= ch <= "z":
        return "a"
    code = ord(ch)
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "汉"
    if 0x3040 <= code <= 0x30FF:
        return "カ"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
        return "한"
    if ch.isspace():
        return " "
    if ch in "_.-":
        return ch
    if unicodedata.category(ch).startswith("L"):
        return "L"
    return "*"


@lru_cache(maxsize=1 << 18)
def nickname_shape(nickname: str) -> str:
    """The shape of a nickname: what a generator template leaves behind.

    After NFKC normalisation, a run of 6+ hex characters mixing digits and
    letters (``63A1B2C3``) becomes ``H``; digits become ``9`` (a run of 4 or
    more digits ``99``), latin capitals ``A`` and small letters ``a``, CJK
    ideographs ``汉``, kana ``カ``, Hangul ``한``, other letters ``L``, spaces
    ``" "``, ``_ . -`` stay, anything else (emoji, symbols) ``*``; runs of one
    class collapse. ``"JordanS62953018" -> "AaA99"``,
    ``"小红薯63A1B2C3" -> "汉H"``, ``"user_123" -> "a_9"``. Keeping case apart
    (``A``/``a``) is a refinement of "latin -> a" that separates camel-cased
    generated names. O(len(nickname)); cached.
    """
    if not isinstance(nickname, str) or not nickname.strip():
        return ""
    text = unicodedata.normalize("NFKC", nickname.strip())

    def hex_token(match: re.Match[str]) -> str:
        run = match.group(0)
        has_digit = any(c.isdigit() for c in run)
        has_alpha = any(c.isalpha() for c in run)
        return "\x00" if has_digit and has_alpha else run

    text = _HEX_RUN.sub(hex_token, text)
    out: list[str] = []
    digits = 0
    for ch in text + "\x01":
        if ch.isdigit() and ch != "\x00":
            digits += 1
            continue
        if digits:
            token = "99" if digits >= 4 else "9"
            if not out or out[-1] != token:
                out.append(token)
            digits = 0
        if ch == "\x01":
            break
        token = "H" if ch == "\x00" else _char_class(ch)
        if not out or out[-1] != token:
            out.append(token)
    return "".join(out)


def _as_bool(series: pd.Series) -> pd.Series:
    """Booleans from bool, 0/1 or true/false/yes/no text; unknown -> NaN. O(n)."""
    if series.dtype == bool:
        return series.astype(float)
    mapping = {"true": 1.0, "1": 1.0, "yes": 1.0, "1.0": 1.0,
               "false": 0.0, "0": 0.0, "no": 0.0, "0.0": 0.0}
    text = series.astype("string").str.strip().str.lower()
    return text.map(mapping).astype(float)


def _has_text(series: pd.Series) -> pd.Series:
    """True where the value is a non-blank string. O(n)."""
    text = series.astype("string").fillna("").str.strip()
    return (text.str.len() > 0).astype(bool)


def _log2_bucket(values: pd.Series, offset: float = 0.0) -> np.ndarray:
    """``floor(log2(x + 1) + offset)`` as int, -1 when missing. O(n)."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bucket = np.floor(np.log2(np.clip(x, 0, None) + 1) + offset)
    return np.where(np.isnan(bucket), -1, bucket).astype(np.int64)


# --------------------------------------------------------------------------- attributes


@dataclass(frozen=True)
class AttributeColumn:
    """One shared attribute as integer codes.

    Row ``i`` says: the account at position ``account[i]`` of the accounts
    frame has the value ``vocabulary[code[i]]``.
    """

    name: str
    account: np.ndarray
    code: np.ndarray
    vocabulary: np.ndarray


def text_column(name: str, positions: np.ndarray, values: pd.Series) -> AttributeColumn:
    """Factorize non-blank text values (sorted vocabulary) into a column. O(n log n)."""
    text = values.astype("string").str.strip()
    keep = (text.notna() & (text.str.len() > 0)).to_numpy(dtype=bool, na_value=False)
    codes, vocabulary = pd.factorize(text[keep], sort=True)
    return AttributeColumn(name, np.asarray(positions)[keep].astype(np.int64),
                           codes.astype(np.int64), np.asarray(vocabulary, dtype=object))


#: The profile fingerprint's second grid: its follow-count buckets shifted by half a bucket (``profile_columns``).
SHIFTED_PROFILE = "profile_shifted"

#: Columns that are another grid of one attribute: tested on their own, one attribute as evidence.
EVIDENCE_ATTRIBUTE: dict[str, str] = {SHIFTED_PROFILE: "profile"}


def evidence_attribute(column: str) -> str:
    """The attribute a column's groups are evidence of (``profile`` for both profile grids). O(1)."""
    return EVIDENCE_ATTRIBUTE.get(column, column)


def tests_per_row(column: str, columns: list[str] | set[str], scales: int) -> int:
    """How many tests each row of ``column`` stands for in the Bonferroni correction: one per time scale
    and one per grid of its attribute among the tested ``columns`` (both profile grids). O(columns)."""
    grids = sum(1 for c in set(columns) if evidence_attribute(c) == evidence_attribute(column))
    return max(int(scales), 1) * max(grids, 1)


def _profile_column(accounts: pd.DataFrame, offset: float = 0.0,
                    name: str = "profile") -> AttributeColumn | None:
    """The profile-defaults fingerprint as a column, or None without profile columns.

    Value text ``default=<0|1|?>|bio=<0|1|?>|following=2^<b>|followers=2^<b>``
    with ``b = floor(log2(x + 1) + offset) - offset`` (the bucket's lower exponent: ``2^7.5`` with
    ``offset`` 0.5 is 181 to 361): accounts a script created and left alone
    share it. Built from integers; text only for distinct values. O(n).
    """
    columns = ("default_profile", "bio", "following", "followers")
    if not any(c in accounts.columns for c in columns):
        return None
    n = len(accounts)
    unknown = np.full(n, -1, dtype=np.int64)
    if "default_profile" in accounts:
        d = _as_bool(accounts["default_profile"]).to_numpy(dtype=float, na_value=np.nan)
        default = np.where(np.isnan(d), -1, d).astype(np.int64)
    else:
        default = unknown
    bio = _has_text(accounts["bio"]).to_numpy().astype(np.int64) if "bio" in accounts \
        else unknown
    following = _log2_bucket(accounts["following"], offset) if "following" in accounts else unknown
    followers = _log2_bucket(accounts["followers"], offset) if "followers" in accounts else unknown
    raw = (((default + 1) * 3 + (bio + 1)) * 100 + (following + 1)) * 100 + (followers + 1)
    codes, uniques = pd.factorize(raw, sort=True)

    def text(value: int) -> str:
        fr, rest = value % 100 - 1, value // 100
        fo, rest = rest % 100 - 1, rest // 100
        b, d = rest % 3 - 1, rest // 3 - 1
        show = lambda x: "?" if x < 0 else str(x)  # noqa: E731
        exponent = lambda x: "?" if x < 0 else f"{x - offset:g}"  # noqa: E731
        return (f"default={show(d)}|bio={show(b)}|following=2^{exponent(fo)}"
                f"|followers=2^{exponent(fr)}")

    vocabulary = np.array([text(int(u)) for u in uniques], dtype=object)
    return AttributeColumn(name, np.arange(n, dtype=np.int64), codes.astype(np.int64),
                           vocabulary)


def profile_columns(accounts: pd.DataFrame) -> list[AttributeColumn]:
    """The profile fingerprint on two grids: ``profile`` (follow-count buckets ``[2^b, 2^(b+1))``) and, when
    the accounts have follow counts, ``profile_shifted`` (the buckets shifted by half, ``[2^(b+0.5),
    2^(b+1.5))``). A script's batch does not choose where the bucket edges fall: cresci-2015's fakes follow
    about 250 to 550 accounts and are followed by 13 to 22, across the edges at 255, 511 and 15, so one
    batch splits over up to eight cells of one grid; a batch within a bucket's width stays in one cell of
    at least one of the two grids (the averaged shifted histogram's idea: Scott, Annals of Statistics 1985).
    Each grid is tested on its own; both are one attribute as evidence (``evidence_attribute``) and each
    counts in the Bonferroni correction (``tests_per_row``). O(n)."""
    out = [c for c in (_profile_column(accounts),) if c is not None]
    if out and ("following" in accounts or "followers" in accounts):
        shifted = _profile_column(accounts, 0.5, SHIFTED_PROFILE)
        if shifted is not None:
            out.append(shifted)
    return out


def _shape_column(accounts: pd.DataFrame) -> AttributeColumn:
    """Nickname shapes as a column (shape computed once per distinct nickname). O(n)."""
    nick_codes, nicks = pd.factorize(accounts["nickname"].astype("string"), sort=False)
    # "" stands for "no nickname"; it also keeps the lookup valid when no account has one.
    shapes = np.array([nickname_shape(x) for x in nicks] + [""], dtype=object)
    per_row = shapes[np.where(nick_codes >= 0, nick_codes, len(nicks))]
    return text_column("nickname_shape", np.arange(len(accounts)), pd.Series(per_row))


def one_row_per_account(accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Accounts as one row each, plus every row's registration IP and phone segment when some account
    has several rows (``None`` when none does).

    The graph gives an account one row per combination of its registration IPs, phone segments and phones
    (an account registered twice with different values keeps both); its other columns are equal on all its
    rows. The first row of each account is kept; the second frame holds ``position`` (the account's row in
    the first frame) with each row's ``registration_ip`` and ``phone_segment``. O(n).
    """
    ids = accounts["account_id"].astype(str)
    repeated = ids.duplicated()
    if not repeated.any():
        return accounts, None
    unique = accounts[~repeated.to_numpy()].reset_index(drop=True)
    columns = [c for c in ("registration_ip", "phone_segment") if c in accounts]
    multi = accounts[columns].reset_index(drop=True)
    multi.insert(0, "position", pd.Index(unique["account_id"].astype(str)).get_indexer(ids))
    return unique, multi


def attribute_columns(
    accounts: pd.DataFrame, account_devices: pd.DataFrame | None = None,
    multi_valued: pd.DataFrame | None = None,
) -> list[AttributeColumn]:
    """The shared attributes to test, in a fixed order.

    ``registration_ip``, ``phone_segment`` from ``accounts`` (or, for accounts with several, from
    ``multi_valued``: see ``one_row_per_account``; each (account, value) once); ``device`` from
    ``account_devices`` (links to unknown accounts ignored, duplicates
    removed); ``nickname_shape`` (``nickname_shape`` of ``nickname``) and
    ``profile`` and ``profile_shifted`` (profile-defaults fingerprint on two grids: ``profile_columns``).
    Missing columns are skipped, blank values dropped. O(n log n).
    """
    out: list[AttributeColumn] = []
    positions = np.arange(len(accounts), dtype=np.int64)
    for column in ("registration_ip", "phone_segment"):
        if column in accounts:
            if multi_valued is None:
                out.append(text_column(column, positions, accounts[column]))
                continue
            col = text_column(column, multi_valued["position"].to_numpy(dtype=np.int64), multi_valued[column])
            pair = unique_ints(col.account * (len(col.vocabulary) + 1) + col.code)
            out.append(AttributeColumn(column, pair // (len(col.vocabulary) + 1),
                                       pair % (len(col.vocabulary) + 1), col.vocabulary))
    if account_devices is not None and {"account_id", "device_id"} <= set(account_devices):
        index = pd.Index(accounts["account_id"].astype(str))
        pos = index.get_indexer(account_devices["account_id"].astype(str))
        known = pos >= 0
        col = text_column("device", pos[known], account_devices["device_id"][known])
        pair = unique_ints(col.account * (len(col.vocabulary) + 1) + col.code)
        out.append(AttributeColumn("device", pair // (len(col.vocabulary) + 1),
                                   pair % (len(col.vocabulary) + 1), col.vocabulary))
    if "nickname" in accounts:
        out.append(_shape_column(accounts))
    out += profile_columns(accounts)
    return [c for c in out if len(c.code)]


def profile_signature(accounts: pd.DataFrame) -> pd.Series:
    """The profile-defaults fingerprint text of each account (None if no columns).

    See ``_profile_column``. O(n).
    """
    column = _profile_column(accounts)
    if column is None:
        return pd.Series([None] * len(accounts), index=accounts.index, dtype=object)
    return pd.Series(column.vocabulary[column.code], index=accounts.index, dtype=object)


# --------------------------------------------------------------------------- statistics



def window_counts(sorted_keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many of ``sorted_keys`` lie in ``[lo, hi]``, per query. O(q log n).

    Fastest when the queries are sorted too (binary searches then stay in
    cache), which is how ``_sorted_window_counts`` uses it.
    """
    return np.searchsorted(sorted_keys, hi, side="right") - np.searchsorted(
        sorted_keys, lo, side="left"
    )


def _window_counts_of(keys: np.ndarray, queries: np.ndarray, radii: tuple[float, ...]) -> list[np.ndarray]:
    """For each radius r, how many ``keys`` lie within ``[q - r, q + r]`` of each of ``queries``. O((n + q) log n)."""
    srt = np.sort(keys, kind="stable")
    order = np.argsort(queries, kind="stable")
    out = []
    for r in radii:
        counts = np.empty(len(queries), dtype=float)
        counts[order] = window_counts(srt, queries[order] - r, queries[order] + r)
        out.append(counts)
    return out


def _sorted_window_counts(keys: np.ndarray, radii: tuple[float, ...]) -> list[np.ndarray]:
    """For each radius r, how many ``keys`` lie within ``[k - r, k + r]`` of each key.

    Sorts once, queries in sorted order, returns counts in the input order.
    O(n log n).
    """
    order = np.argsort(keys, kind="stable")
    srt = keys[order]
    out = []
    for r in radii:
        counts = np.empty(len(keys), dtype=float)
        counts[order] = window_counts(srt, srt - r, srt + r)
        out.append(counts)
    return out


def _strength(surprise: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """Burst strength ``(1 - exp(-S / 10)) * excess`` in [0, 1]. O(n)."""
    return (1.0 - np.exp(-surprise / SURPRISE_SCALE)) * np.clip(excess, 0.0, 1.0)


def _surprise(log_sf: np.ndarray) -> np.ndarray:
    """``-log10 p`` from natural-log tail probabilities, capped at 300. O(n)."""
    s = -np.asarray(log_sf, dtype=float) / math.log(10.0)
    s = np.where(np.isnan(s), 0.0, s)
    return np.clip(s, 0.0, MAX_SURPRISE)


def registration_burst_stats(
    times: np.ndarray, window: float, background: float, global_mix: float = GLOBAL_MIX
) -> pd.DataFrame:
    """Per registration: how unusual is the number registered around it?

    ``times`` in seconds (NaN allowed, gives zeros). ``n`` = registrations in
    ``[t - window, t + window]`` (self included); ``expected`` = others
    expected there from the rate in ``[t - background, t + background]``
    outside the window, mixed ``global_mix`` with the whole-data rate.
    ``surprise = -log10 P(Poisson(expected) >= n - 1)``, ``strength`` as in
    ``_strength`` with excess ``1 - (1 + expected) / n``. Columns ``n,
    expected, surprise, strength``. O(n log n) (one sort, binary searches).
    """
    times = np.asarray(times, dtype=float)
    ok = ~np.isnan(times)
    out = {c: np.zeros(len(times)) for c in ("n", "expected", "surprise", "strength")}
    t = times[ok]
    if len(t):
        n, wide = _sorted_window_counts(t, (window, background))
        span = max(float(t.max() - t.min()), 2 * background)
        global_rate = len(t) / span
        local_rate = (wide - n) / max(2 * (background - window), 1.0)
        expected = 2 * window * ((1 - global_mix) * local_rate + global_mix * global_rate)
        surprise = np.where(n >= 2, _surprise(poisson.logsf(n - 2, expected)), 0.0)
        excess = 1.0 - (1.0 + expected) / np.maximum(n, 1.0)
        out["n"][ok] = n
        out["expected"][ok] = expected
        out["surprise"][ok] = surprise
        out["strength"][ok] = _strength(surprise, excess)
    return pd.DataFrame(out)


def attribute_burst_stats(
    times: np.ndarray,
    values: np.ndarray,
    window: float,
    background: float,
    global_mix: float = GLOBAL_MIX,
    guard: float = 0.0,
    excluded: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per (account, attribute value) row: is the value over-represented in the window?

    ``times`` in seconds, ``values`` integer codes of one attribute (rows
    without a time must be removed first). For each row: ``N`` rows of this
    attribute registered within ``window``, ``n`` of them with the same
    value, ``p`` the value's share in the surrounding ``background`` period
    outside the ``guard`` band (at least the window; mixed ``global_mix`` with
    its whole-data share).
    ``surprise = -log10 P(Binomial(N - 1, p) >= n - 1)``, ``expected = 1 +
    p (N - 1)``, ``strength`` as in ``_strength``. Columns ``n, N, p,
    expected, surprise, strength``. ``excluded``: a mask of rows left out of every row's background (not
    of its window): each pass of ``detect_registration_bursts`` after the first leaves out the accounts the
    passes before it found in bursts (``censored_passes``). O(R log R) for R rows: two sorts (by
    time; by value then time) and binary searches; no pairs.
    """
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=np.int64)
    if len(t) == 0:
        return pd.DataFrame({c: np.zeros(0) for c in ATTRIBUTE_STAT_COLUMNS})
    radii = (window, guard_radius(window, background, guard), background)
    key = value_time_key(v, t, *value_time_band(t, background))
    if excluded is None or not np.any(excluded):
        N, N_guard, N_wide = _sorted_window_counts(t, radii)
        n, n_guard, n_wide = _sorted_window_counts(key, radii)
    else:
        kept = ~np.asarray(excluded, dtype=bool)
        (N,), (n,) = _sorted_window_counts(t, radii[:1]), _sorted_window_counts(key, radii[:1])
        N_guard, N_wide = _window_counts_of(t[kept], t, radii[1:])
        n_guard, n_wide = _window_counts_of(key[kept], key, radii[1:])
    return _attribute_stats(N, N_wide - N_guard, n, n_wide - n_guard, np.bincount(v)[v] / len(v), global_mix)


def guard_radius(window: float, background: float, guard: float) -> float:
    """The radius of the guard band left out of a row's background: ``guard``, at least the test window
    and less than the background. A farm that registers in waves over days (cresci-2015's INT accounts:
    2012-06-23 to 06-25) otherwise sets its own background: with the days beside each wave counted, a wave
    of 80 alike accounts in 16 h was expected to hold 38 and did not flag. The guard cells of
    cell-averaging CFAR detectors (Finn & Johnson, RCA Review 1968) do the same for a radar echo. O(1)."""
    return float(min(max(guard, window), max(background - 1.0, window)))


ATTRIBUTE_STAT_COLUMNS = ["n", "N", "p", "expected", "surprise", "strength"]


def attribute_burst_stats_near(
    times: np.ndarray,
    values: np.ndarray,
    home: np.ndarray,
    share_global: np.ndarray,
    band: tuple[float, float],
    window: float,
    background: float,
    global_mix: float = GLOBAL_MIX,
    guard: float = 0.0,
    excluded: np.ndarray | None = None,
) -> pd.DataFrame:
    """``attribute_burst_stats`` of the ``home`` rows (a mask) of a part of the rows: every row within
    ``background`` of a home row must be in the part. ``share_global`` (the whole column's share of each
    row's value) and ``band`` (``value_time_band`` of the whole column) come from the whole column, so
    each home row gets exactly what ``attribute_burst_stats`` gives it over everything: this is how the
    Spark engine computes the statistics, one time slice at a time. ``excluded``: a mask over the part's
    rows, as in ``attribute_burst_stats``. O(R log R) for R rows of the part.
    """
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=np.int64)
    home = np.asarray(home, dtype=bool)
    radii = (window, guard_radius(window, background, guard), background)
    key = value_time_key(v, t, *band)
    if excluded is None or not np.any(excluded):
        N, N_guard, N_wide = _window_counts_of(t, t[home], radii)
        n, n_guard, n_wide = _window_counts_of(key, key[home], radii)
    else:
        kept = ~np.asarray(excluded, dtype=bool)
        (N,), (n,) = _window_counts_of(t, t[home], radii[:1]), _window_counts_of(key, key[home], radii[:1])
        N_guard, N_wide = _window_counts_of(t[kept], t[home], radii[1:])
        n_guard, n_wide = _window_counts_of(key[kept], key[home], radii[1:])
    return _attribute_stats(N, N_wide - N_guard, n, n_wide - n_guard, np.asarray(share_global, dtype=float)[home],
                            global_mix)


def _attribute_stats(N: np.ndarray, N_bg: np.ndarray, n: np.ndarray, n_bg: np.ndarray,
                     share_global: np.ndarray, global_mix: float) -> pd.DataFrame:
    """The columns of ``attribute_burst_stats`` from each row's counts in its window (``N``, ``n``: all rows,
    rows with its value) and in its background outside the guard band (``N_bg``, ``n_bg``). O(R)."""
    share_local = np.where(N_bg > 0, n_bg / np.maximum(N_bg, 1), share_global)
    p = np.clip((1 - global_mix) * share_local + global_mix * share_global, 1e-12, 1.0)
    surprise = np.where(n >= 2, _surprise(binom.logsf(n - 2, N - 1, p)), 0.0)
    expected = 1.0 + p * (N - 1)
    excess = 1.0 - expected / np.maximum(n, 1.0)
    return pd.DataFrame({"n": n, "N": N, "p": p, "expected": expected, "surprise": surprise,
                         "strength": _strength(surprise, excess)})


def value_time_band(t: np.ndarray, background: float) -> tuple[float, float]:
    """``(t0, band)`` of ``value_time_key`` for a column's times ``t``. O(n)."""
    t0 = float(t.min())
    return t0, float(t.max() - t0) + 2 * background + 1.0


def value_time_key(v: np.ndarray, t: np.ndarray, t0: float, band: float) -> np.ndarray:
    """One sortable key per row: each value's times in a disjoint band. O(n).

    ``key = v * band + (t - t0)`` with ``band`` wider than the time span
    plus the background radius (``value_time_band``), so windows never reach another value.
    """
    return v.astype(float) * band + (t - t0)


@dataclass(frozen=True)
class ScoredColumn:
    """An ``AttributeColumn`` restricted to rows with a registration time, with stats."""

    column: AttributeColumn
    rows: np.ndarray  # row indices into the column
    t: np.ndarray
    stats: pd.DataFrame


def _score_columns(
    accounts: pd.DataFrame,
    account_devices: pd.DataFrame | None,
    times: np.ndarray,
    window: float,
    background: float,
    multi_valued: pd.DataFrame | None = None,
    guard: float = 0.0,
    columns: list[AttributeColumn] | None = None,
    excluded: np.ndarray | None = None,
) -> list[ScoredColumn]:
    """``attribute_burst_stats`` for every attribute column (``columns``, made here when None); ``excluded``:
    per account (its position in ``accounts``), left out of the backgrounds. O(R log R)."""
    scored = []
    if columns is None:
        columns = attribute_columns(accounts, account_devices, multi_valued)
    for column in columns:
        t = times[column.account]
        rows = np.flatnonzero(~np.isnan(t))
        if len(rows) == 0:
            continue
        stats = attribute_burst_stats(t[rows], column.code[rows], window, background, guard=guard,
                                      excluded=None if excluded is None else excluded[column.account[rows]])
        scored.append(ScoredColumn(column, rows, t[rows], stats))
    return scored


def timedelta_seconds(value: pd.Timedelta | str | float) -> float:
    """A window given as Timedelta, text ("12h") or seconds, in seconds. O(1)."""
    if isinstance(value, (int, float)):
        return float(value)
    return pd.Timedelta(value).total_seconds()


# --------------------------------------------------------------------------- per account


def profile_defaults(accounts: pd.DataFrame, pseudocount: float = 1.0) -> pd.DataFrame:
    """Per account: ``default_profile``, ``no_bio``, ``follow_asymmetry`` in [0, 1].

    ``follow_asymmetry = clip(log10((following + c) / (followers + c)), 0, 1)`` with ``c`` the
    ``pseudocount`` (a larger one discounts small counts: following 6 and followed by none is 0.85 with
    1, 0.2 with 10).
    A column is NaN when its inputs are absent or unknown. Indexed by
    ``account_id``. O(n).
    """
    index = accounts["account_id"].astype(str)
    out = pd.DataFrame(index=pd.Index(index, name="account_id"))
    if "default_profile" in accounts:
        out["default_profile"] = _as_bool(accounts["default_profile"]).to_numpy()
    else:
        out["default_profile"] = np.nan
    if "bio" in accounts:
        out["no_bio"] = (~_has_text(accounts["bio"])).astype(float).to_numpy()
    else:
        out["no_bio"] = np.nan
    if {"followers", "following"} <= set(accounts.columns):
        followers = pd.to_numeric(accounts["followers"], errors="coerce").clip(lower=0)
        following = pd.to_numeric(accounts["following"], errors="coerce").clip(lower=0)
        ratio = np.log10((following + pseudocount) / (followers + pseudocount))
        out["follow_asymmetry"] = ratio.clip(0, 1).to_numpy(dtype=float, na_value=np.nan)
    else:
        out["follow_asymmetry"] = np.nan
    return out


def bulk_registration_components(
    accounts: pd.DataFrame,
    account_devices: pd.DataFrame | None = None,
    *,
    window: pd.Timedelta | str | float = "12h",
    background: pd.Timedelta | str | float = "15D",
) -> pd.DataFrame:
    """The three evidence components behind ``bulk_registration_scores``.

    Columns (indexed by ``account_id``, one row per account in input order): ``burst`` (``T``,
    registration burst strength), ``shared_attribute`` (``A``, the strongest
    over-represented attribute in the account's window, 0 when it has none),
    ``shared_attribute_name`` (which one; ties go to the first in
    ``ATTRIBUTE_WEIGHT`` order), ``profile`` (``P``, mean of
    ``profile_defaults`` over known values) and those three subcomponents.
    ``A`` is NaN only when the frame has none of the attribute columns.
    See the module docstring for formulas. O(R log R) for R attribute rows.
    """
    w = timedelta_seconds(window)
    bg = max(timedelta_seconds(background), 2 * w)
    accounts, multi_valued = one_row_per_account(accounts)
    ids = accounts["account_id"].astype(str)
    times = epoch_seconds(accounts["registered_at"])
    out = pd.DataFrame(index=pd.Index(ids, name="account_id"))
    out["burst"] = registration_burst_stats(times, w, bg)["strength"].to_numpy()

    scored = _score_columns(accounts, account_devices, times, w, bg, multi_valued)
    if not _has_attributes(accounts, account_devices):
        out["shared_attribute"] = np.nan
        out["shared_attribute_name"] = None
    else:
        best = np.zeros(len(accounts))
        name = np.full(len(accounts), None, dtype=object)
        order = {a: i for i, a in enumerate(ATTRIBUTE_WEIGHT)}
        for sc in sorted(scored, key=lambda sc: order.get(sc.column.name, len(order))):
            per_account = np.zeros(len(accounts))
            np.maximum.at(per_account, sc.column.account[sc.rows], sc.stats["strength"].to_numpy())
            better = per_account > best
            best[better] = per_account[better]
            name[better] = sc.column.name
        out["shared_attribute"] = best
        out["shared_attribute_name"] = name
    prof = profile_defaults(accounts)
    out["profile"] = prof.mean(axis=1, skipna=True).to_numpy()
    for column in prof.columns:
        out[column] = prof[column].to_numpy()
    return out


def _has_attributes(accounts: pd.DataFrame, account_devices: pd.DataFrame | None) -> bool:
    """Whether any shared-attribute column exists at all. O(1)."""
    present = {"registration_ip", "phone_segment", "nickname", "default_profile", "bio",
               "following", "followers"} & set(accounts.columns)
    return bool(present) or (account_devices is not None and "device_id" in account_devices)


def bulk_registration_scores(
    accounts: pd.DataFrame,
    account_devices: pd.DataFrame | None = None,
    *,
    window: pd.Timedelta | str | float = "12h",
    background: pd.Timedelta | str | float = "15D",
) -> pd.Series:
    """Unsupervised bulk-registration score per account, in [0, 1], for ranking.

    ``score = mean(T, A, P)`` over the components available (see the module
    docstring): registration burst, shared attribute within the burst window,
    profile defaults. Equal weights, fixed a priori; nothing is fitted.
    Indexed by ``account_id`` in input order, named ``bulk_registration``.
    Time O(R log R) for R = accounts + device links; memory O(R).
    """
    parts = bulk_registration_components(
        accounts, account_devices, window=window, background=background
    )
    score = parts[["burst", "shared_attribute", "profile"]].mean(axis=1, skipna=True)
    return score.fillna(0.0).clip(0.0, 1.0).rename("bulk_registration")


# --------------------------------------------------------------------------- clusters


@dataclass(frozen=True)
class BurstGroup:
    """Accounts registered close together sharing one attribute value."""

    attribute: str
    value: str
    members: tuple[str, ...]
    start: float
    end: float
    observed: int  # rows with the value in [start, end]
    total: int  # rows of the attribute in [start, end]
    expected: float
    surprise: float
    strength: float
    tests: int = 1  # rows of the attribute tested (the Bonferroni count for ``evidence``)

    @property
    def evidence(self) -> float:
        """What the group says about each of its members, in [0, 1]: its calibrated surprise
        (``detection.calibration``, corrected for every row of the attribute having been tested) times the
        share of the group beyond chance, ``1 - expected/observed``: of 296 accounts sharing a value where
        30 were expected, any one member is part of the excess with probability 0.9. O(1)."""
        return calibrated(self.surprise, self.tests) * max(0.0, 1.0 - self.expected / max(self.observed, 1))


@dataclass(frozen=True)
class BurstChain:
    """Significant rows of one attribute value chained in time: a ``BurstGroup`` before the counts of its
    span. ``key_first``/``key_last``: the ``value_time_key`` of its first and last rows, which bound the
    rows with its value in the span."""

    attribute: str
    value: str
    members: tuple[str, ...]
    start: float
    end: float
    key_first: float
    key_last: float
    share: float  # the members' mean share ``p``
    surprise: float  # their largest
    tests: int


def significant_rows(stats: pd.DataFrame, min_size: int = 3, min_surprise: float = 6.0,
                     min_excess: float = 0.5) -> np.ndarray:
    """Positions of the rows of ``attribute_burst_stats`` that are significant: ``n >= min_size``,
    ``surprise >= min_surprise`` and ``1 - expected/n >= min_excess``. O(R)."""
    n = stats["n"].to_numpy()
    excess = 1.0 - stats["expected"].to_numpy() / np.maximum(n, 1.0)
    return np.flatnonzero((n >= min_size) & (stats["surprise"].to_numpy() >= min_surprise) & (excess >= min_excess))


def burst_chains(attribute: str, significant: pd.DataFrame, tests: int, max_gap: float,
                 min_size: int = 3) -> list[BurstChain]:
    """The significant rows of one attribute (``account_id, value, code, t, key, p, surprise``, any order)
    chained per value in time order while gaps stay within ``max_gap``; chains of ``min_size`` distinct
    accounts are kept. ``tests``: the attribute's rows with a registration time. O(S log S) for S rows."""
    if significant.empty:
        return []
    account_ids = significant["account_id"].to_numpy(dtype=object)
    codes = significant["code"].to_numpy(dtype=np.int64)
    t = significant["t"].to_numpy(dtype=float)
    order = np.lexsort((account_ids, t, codes))
    cut = np.flatnonzero((np.diff(codes[order]) != 0) | (np.diff(t[order]) > max_gap)) + 1
    key = significant["key"].to_numpy(dtype=float)
    p = significant["p"].to_numpy(dtype=float)
    surprise = significant["surprise"].to_numpy(dtype=float)
    values = significant["value"].to_numpy(dtype=object)
    chains = []
    for chunk in np.split(order, cut):
        members = tuple(sorted(set(account_ids[chunk].tolist())))
        if len(members) < min_size:
            continue
        # chunk is in time order within one value: its first and last keys bound the span
        chains.append(BurstChain(attribute, str(values[chunk[0]]), members, float(t[chunk].min()),
                                 float(t[chunk].max()), float(key[chunk[0]]), float(key[chunk[-1]]),
                                 float(p[chunk].mean()), float(surprise[chunk].max()), tests))
    return chains


def burst_group(chain: BurstChain, total: int, observed: int) -> BurstGroup:
    """The group of ``chain``, given the attribute's rows in its span (``total``) and those with its value
    (``observed``). Strength ``(1 - exp(-S/10)) * (1 - expected/observed) * (1 - exp(-(size - 1)/5))``
    with ``expected`` the members' mean share times ``total``. O(1)."""
    expected = chain.share * total
    strength = ((1 - math.exp(-chain.surprise / SURPRISE_SCALE))
                * max(0.0, 1 - expected / max(observed, 1))
                * (1 - math.exp(-(len(chain.members) - 1) / 5)))
    return BurstGroup(chain.attribute, chain.value, chain.members, chain.start, chain.end, observed, total,
                      expected, chain.surprise, float(strength), chain.tests)


def burst_groups(
    scored: ScoredColumn,
    account_ids: np.ndarray,
    max_gap: float,
    background: float,
    min_size: int = 3,
    min_surprise: float = 6.0,
    min_excess: float = 0.5,
    tests_per_row: int = 1,
) -> list[BurstGroup]:
    """Significant (value, time window) groups of one scored attribute column.

    A row is significant when ``n >= min_size``, ``surprise >= min_surprise``
    and ``1 - expected/n >= min_excess`` (at least twice the expected count).
    Significant rows of one value are chained in time order while gaps stay
    within ``max_gap``; chains of ``min_size`` distinct accounts become
    groups. The gap is much shorter than the test window: every account with
    the value within ``window`` of a burst tests significant (the burst is in
    its window), and the short gap keeps the ordinary ones hours away out.
    Group strength: ``(1 - exp(-S/10)) * (1 - expected/observed) *
    (1 - exp(-(size - 1)/5))`` with ``S`` the members' largest surprise,
    ``observed`` the rows with the value in the group's span and ``expected``
    the members' mean share times the attribute's rows in the span.
    ``tests_per_row``: how many tests each row stands for (``tests_per_row``: one per window width of
    ``time_scales`` and one per grid of its attribute); the column's rows times it are the Bonferroni
    count of the groups (``BurstGroup.tests``).
    O(R log R) for R rows of the column.
    """
    st = scored.stats
    sig = significant_rows(st, min_size, min_surprise, min_excess)
    if len(sig) == 0:
        return []
    col = scored.column
    codes = col.code[scored.rows]
    t = scored.t
    key = value_time_key(codes, t, *value_time_band(t, background))
    rows = pd.DataFrame({"account_id": account_ids[col.account[scored.rows[sig]]], "code": codes[sig],
                         "value": col.vocabulary[codes[sig]], "t": t[sig], "key": key[sig],
                         "p": st["p"].to_numpy()[sig], "surprise": st["surprise"].to_numpy()[sig]})
    chains = burst_chains(col.name, rows, len(scored.rows) * max(int(tests_per_row), 1), max_gap, min_size)
    t_sorted, key_sorted = np.sort(t), np.sort(key)
    return [burst_group(c, int(window_counts(t_sorted, np.array([c.start]), np.array([c.end]))[0]),
                        int(window_counts(key_sorted, np.array([c.key_first]), np.array([c.key_last]))[0]))
            for c in chains]


def _cite(ids: list[str], limit: int = CITE_LIMIT) -> str:
    """At most ``limit`` ids, then "and N more". O(limit)."""
    rest = len(ids) - limit
    shown = ", ".join(ids[:limit])
    return f"{shown} and {rest} more" if rest > 0 else shown


def _group_reason(
    group: BurstGroup, nicknames: Mapping[str, str], registered: Mapping[str, pd.Timestamp]
) -> Reason:
    """The officer-readable reason for one burst group, with its evidence.

    The time window cites the members' exact first and last registration
    times from ``registered``. O(size).
    """
    size = len(group.members)
    times = [registered[m] for m in group.members if m in registered]
    first = min(times).isoformat() if times else iso_utc_epoch(group.start)
    last = max(times).isoformat() if times else iso_utc_epoch(group.end)
    span = f"between {first} and {last}"
    stats = (f"{group.observed} of the {group.total} registrations in that span share it, "
             f"about {group.expected:.1f} expected")
    window = Evidence("time_window", (first, last))
    if group.attribute == "registration_ip":
        text = f"{size} accounts registered {span} from registration IP {personal('IP', group.value)} ({stats})"
        evidence = (window, Evidence("registration_ip", (group.value,)))
    elif group.attribute == "phone_segment":
        text = (f"{size} accounts registered {span} with phone numbers in segment "
                f"{group.value} ({stats})")
        evidence = (window, Evidence("phone_segment", (group.value,)))
    elif group.attribute == "device":
        text = f"{size} accounts registered {span} and used device {group.value} ({stats})"
        evidence = (window, Evidence("device", (group.value,)))
    elif group.attribute == "nickname_shape":
        examples = [nicknames.get(m, m) for m in group.members]
        text = (f"{size} accounts registered {span} with nicknames of the same shape "
                f"'{group.value}' ({stats}), e.g. {_cite(examples, 5)}")
        evidence = (window, Evidence("account", group.members))
    else:
        text = (f"{size} accounts registered {span} with identical profile defaults "
                f"[{group.value}] ({stats})")
        evidence = (window, Evidence("account", group.members))
    return Reason(code="registration_burst", text=text, evidence=evidence)


def _duration(value: pd.Timedelta | str | float) -> pd.Timedelta | str | float:
    """A policy duration ("12h", or seconds), checked and kept as given. O(1)."""
    timedelta_seconds(value)
    return value


def _passes(value: int) -> int:
    """A number of passes, an integer of at least 1. O(1)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"not an integer >= 1: {value!r}")
    return value


@dataclass(frozen=True)
class RegistrationBurstParams:
    """Thresholds of :func:`detect_registration_bursts`.

    ``window``/``background``/``guard``/``max_gap``: durations as a Timedelta, text
    ("12h") or seconds; ``guard``: the band around a registration left out of its background
    (``guard_radius``). ``scales``: the multiples of ``window`` and ``max_gap`` the rows are tested at
    (``time_scales``: 12 h and 3.5 days by default). ``passes``: at most this many passes, each after the
    first with the accounts found before it left out of the backgrounds (``censored_passes``; 1: no
    censoring). ``min_size``/``min_surprise``/``min_excess``: a
    significant group (see ``burst_groups``). ``attribute_weight``: per
    attribute, merged over ``ATTRIBUTE_WEIGHT`` (None: that table).
    """

    window: pd.Timedelta | str | float = policy_field("12h", _duration, "duration (e.g. 12h) or seconds")
    background: pd.Timedelta | str | float = policy_field("15D", _duration, "duration (e.g. 15D) or seconds")
    guard: pd.Timedelta | str | float = policy_field("7D", _duration, "duration (e.g. 7D) or seconds")
    max_gap: pd.Timedelta | str | float = policy_field("1h", _duration, "duration (e.g. 1h) or seconds")
    min_size: int = 3
    min_surprise: float = 6.0
    min_excess: float = 0.5
    attribute_weight: Mapping[str, float] | None = policy_field(None, as_mapping, "mapping (attribute: weight)")
    scales: tuple[float, ...] = policy_field((1.0, 7.0), as_scales, "list of numbers >= 1 (e.g. [1, 7])")
    passes: int = policy_field(1, _passes, "integer >= 1 (e.g. 3)")


def time_scales(params: RegistrationBurstParams) -> list[tuple[float, float]]:
    """``(window, max_gap)`` in seconds of each scale the rows are tested at: ``params.window`` and
    ``params.max_gap`` times each of ``params.scales``, narrowest first.

    A script's batch lasts hours; a farm that registers in waves over days (cresci-2015's INT accounts,
    2012-06-23 to 06-30, a few dozen a day in the tail; FSF's 2013-01-27 to 01-29) leaves in any 12-hour
    window too few alike accounts to stand out, and its accounts are often more than an hour apart. The
    scan statistics of epidemiology test windows of several widths for the same reason (Kulldorff, "A
    spatial scan statistic", 1997; Naus, 1965): the width is not known in advance. Each scale keeps the
    ratio of window to chaining gap (12 h to 1 h by default), and every row tested at every scale counts
    in the Bonferroni correction (``burst_groups``' ``scales``); a member's evidence per attribute is its best
    group at any scale (``registration_burst_findings``), never a sum over scales. O(scales)."""
    window, gap = timedelta_seconds(params.window), timedelta_seconds(params.max_gap)
    return [(window * s, gap * s) for s in sorted(set(params.scales))]


def burst_background(params: RegistrationBurstParams) -> float:
    """The background radius in seconds: ``params.background``, at least twice the widest window
    (``time_scales``); one for every scale, so both engines cut time the same way. O(scales)."""
    return max(timedelta_seconds(params.background), 2 * max(w for w, _ in time_scales(params)))


def attribute_weights(params: RegistrationBurstParams) -> dict[str, float]:
    """Each attribute's weight: ``params.attribute_weight`` over ``ATTRIBUTE_WEIGHT``. O(1)."""
    return {**ATTRIBUTE_WEIGHT, **(params.attribute_weight or {})}


def detect_registration_bursts(
    accounts: pd.DataFrame,
    account_devices: pd.DataFrame | None = None,
    params: RegistrationBurstParams = RegistrationBurstParams(),
) -> list[ClusterFinding]:
    """Clusters of accounts registered together that also share an attribute.

    Thresholds are ``params`` (:class:`RegistrationBurstParams`). Builds
    ``burst_groups`` (per attribute value, accounts whose ``window``
    shows the value over-represented against its ``background`` share:
    surprise ``>= min_surprise`` in -log10 p, at least ``1/(1-min_excess)``
    times the expected count; chained while consecutive registrations are at
    most ``max_gap`` apart; at least ``min_size`` accounts) at each of the ``time_scales``,
    in up to ``passes`` passes (``censored_passes``: each after the first with the accounts found
    before it left out of every background), then joins groups that share members into one cluster
    (union-find via connected components, O(memberships)).

    Scores, with per-attribute weight ``w_a`` (``ATTRIBUTE_WEIGHT``) and group
    evidence ``e`` (``BurstGroup.evidence``: the group's surprise on the scale
    of ``detection.calibration``, corrected for every row of the attribute
    tested, times the share of the group beyond chance): cluster ``1 - prod_a
    (1 - w_a * max e_a)`` over attributes; member ``1 - prod (1 - w_a * e)``
    over the best group per attribute the member is in (fringe members in
    fewer groups score lower). Reasons cite the time window and the shared value
    (the 20 strongest groups).

    Time O(passes R log R) for R attribute rows (accounts times attributes plus
    device links), memory O(R). Same input, same output.
    """
    scales = time_scales(params)
    bg = burst_background(params)
    weights = attribute_weights(params)
    accounts, multi_valued = one_row_per_account(accounts)
    times = epoch_seconds(accounts["registered_at"])
    account_ids = accounts["account_id"].astype(str).to_numpy(dtype=object)
    columns = attribute_columns(accounts, account_devices, multi_valued)

    def one_pass(found: frozenset[str]) -> list[BurstGroup]:
        excluded = None
        if found:
            excluded = np.zeros(len(accounts), dtype=bool)
            at = pd.Index(account_ids).get_indexer(sorted(found))
            excluded[at[at >= 0]] = True
        groups: list[BurstGroup] = []
        for window, max_gap in scales:
            scored = _score_columns(accounts, account_devices, times, window, bg, multi_valued,
                                    timedelta_seconds(params.guard), columns, excluded)
            tested = [sc.column.name for sc in scored]
            for sc in scored:
                groups += burst_groups(sc, account_ids, max_gap, bg, params.min_size, params.min_surprise,
                                       params.min_excess, tests_per_row(sc.column.name, tested, len(scales)))
        return groups

    groups = censored_passes(one_pass, params.passes)
    if not groups:
        return []
    members = sorted({m for g in groups for m in g.members})
    wanted = pd.Index(members)
    pos = pd.Index(account_ids).get_indexer(wanted)
    registered_at = pd.to_datetime(accounts["registered_at"].iloc[pos], utc=True, errors="coerce")
    registered = {m: t for m, t in zip(members, registered_at) if not pd.isna(t)}
    nicknames: dict[str, str] = {}
    if "nickname" in accounts:
        nicknames = {m: str(x) for m, x in zip(members, accounts["nickname"].iloc[pos])
                     if isinstance(x, str)}
    return registration_burst_findings(groups, registered, nicknames, weights)


def censored_passes(one_pass: Callable[[frozenset[str]], list[BurstGroup]], passes: int) -> list[BurstGroup]:
    """The burst groups of up to ``passes`` passes, each leaving the accounts the passes before it found in
    groups out of every row's background (``one_pass(found)``: the groups when the accounts ``found`` are
    left out of the backgrounds, not of the windows; the first pass leaves none out).

    Why: the null of a row is its value's share among the *ordinary* registrations around it, but a
    background can hold another farm's wave (cresci-2015: INT's 41 accounts of 2013-02-21 to 02-25, 40 of
    them nickname shape ``AaAa``, had in their background FSF's wave of 2013-02-13, 400 accounts of that
    shape, and were "expected" to be 90 % ``AaAa``), and a farm registering for longer than the guard band
    sets part of its own. What one pass found is taken out of the estimate, as a censored CFAR detector
    leaves the strongest cells out of its noise estimate (Rickard & Dillard, IEEE Trans. AES 1977) and as
    the scan statistic adjusted for multiple clusters removes a detected cluster before scanning again
    (Zhang, Assuncao & Kulldorff, J. Probability and Statistics 2010). It stops at the first pass that finds
    no account not found before (or at ``passes``). The groups of every pass are kept (one group found by
    several passes once, its strongest), and every pass run counts in the Bonferroni correction: each
    group's ``tests`` is multiplied by the passes run. Both engines run their passes through this function.
    O(passes) calls of ``one_pass``."""
    groups = list(one_pass(frozenset()))
    found = frozenset(m for g in groups for m in g.members)
    run = 1
    while run < max(int(passes), 1) and found:
        more = one_pass(found)
        run += 1
        groups += more
        grown = found | {m for g in more for m in g.members}
        if grown == found:
            break
        found = frozenset(grown)
    strongest: dict[tuple, BurstGroup] = {}
    for g in groups:  # the same group from several passes: its strongest, whatever order they came in
        key = (g.attribute, g.value, g.start, g.end, g.members)
        if key not in strongest or _rank(g) > _rank(strongest[key]):
            strongest[key] = g
    return [dataclasses.replace(g, tests=g.tests * run) for g in strongest.values()]


def _rank(group: BurstGroup) -> tuple:
    """How strong a group is, as a total order over its statistics (``censored_passes``). O(1)."""
    return (group.evidence, group.surprise, -group.expected, group.strength, group.observed, group.total)


def _group_order(group: BurstGroup) -> tuple:
    """A total order of burst groups (two scales can find groups of one value starting together), so the
    findings do not depend on the order the groups came in. O(size)."""
    return (group.attribute, group.value, group.start, group.end, group.members)


def registration_burst_findings(groups: list[BurstGroup], registered: Mapping[str, pd.Timestamp],
                                nicknames: Mapping[str, str], weights: Mapping[str, float]) -> list[ClusterFinding]:
    """The clusters of ``detect_registration_bursts`` from its burst groups: groups sharing members joined
    (connected components), scored and explained as its docstring says. ``registered``/``nicknames``: of
    the groups' members (what the reasons cite); ``weights``: per attribute. O(memberships log)."""
    if not groups:
        return []
    groups = sorted(groups, key=_group_order)
    members = sorted({m for g in groups for m in g.members})
    index = {m: i for i, m in enumerate(members)}
    gi = np.concatenate([np.full(len(g.members), k) for k, g in enumerate(groups)])
    ai = np.concatenate([[index[m] for m in g.members] for g in groups])
    n_nodes = len(members) + len(groups)
    graph = coo_matrix((np.ones(len(ai)), (ai, len(members) + gi)), shape=(n_nodes, n_nodes))
    _, comp = connected_components(graph, directed=False)

    findings: list[ClusterFinding] = []
    by_comp: dict[int, list[int]] = {}
    for k in range(len(groups)):
        by_comp.setdefault(int(comp[len(members) + k]), []).append(k)
    for comp_id in sorted(by_comp):
        cgroups = sorted((groups[k] for k in by_comp[comp_id]), key=lambda g: (-g.strength, *_group_order(g)))
        cluster_members = sorted({m for g in cgroups for m in g.members})
        best: dict[str, float] = {}
        member_best: dict[str, dict[str, float]] = {}
        for g in cgroups:  # the grids of one attribute are one piece of evidence: the best of them counts
            kind = evidence_attribute(g.attribute)
            best[kind] = max(best.get(kind, 0.0), g.evidence)
            for m in g.members:
                slot = member_best.setdefault(m, {})
                slot[kind] = max(slot.get(kind, 0.0), g.evidence)
        score = 1 - math.prod(1 - weights.get(a, 0.5) * s for a, s in sorted(best.items()))
        member_scores = {
            m: round(1 - math.prod(1 - weights.get(a, 0.5) * s
                                   for a, s in sorted(member_best[m].items())), 6)
            for m in cluster_members
        }
        reasons = [_group_reason(g, nicknames, registered) for g in cgroups[:MAX_REASONS]]
        if len(cgroups) > MAX_REASONS:
            reasons.append(Reason(
                code="registration_burst",
                text=f"and {len(cgroups) - MAX_REASONS} more shared-attribute bursts "
                     "among these accounts",
            ))
        findings.append(ClusterFinding(
            detector=DETECTOR,
            members=tuple(cluster_members),
            score=round(float(min(max(score, 0.0), 1.0)), 6),
            reasons=tuple(reasons),
            member_scores=member_scores,
        ))
    findings.sort(key=lambda f: (-f.score, f.key))
    return findings
