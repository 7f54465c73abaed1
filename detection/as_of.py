"""Detection as of a time: the frames cut to what a run scheduled then would have seen.

``ringscope detect --as-of TIME [--window DAYS]`` reads the whole graph (or the bulk load's snapshot) as any run
does, then keeps, with :func:`cut`, only what had happened by ``TIME`` (and, with a window, what happened in the
``DAYS`` before it), so that successive runs over a loaded history see what a job scheduled at each of those times
would have seen. Pure functions over plain frames (``tests/detection/test_as_of.py``); the reader and the run wire
them in (``detection/run.py``).

What "as of TIME" keeps, kind by kind (``since`` = ``TIME - DAYS`` with a window, else no lower bound):

* **entities exist from when they were made**: accounts registered up to ``TIME`` (an account with no
  registration time, a stub, is kept: nothing says it came later), notes posted up to ``TIME`` (the content on the
  platform then: a note posted before the window is still there, and the likes and comments in the window name its
  author and brand), an agency's management of an account from its ``since``;
* **every row of an account registered after TIME is left out**, whatever its own time says;
* **activity** (comments, likes, follows, orders) from ``since`` to ``TIME``, both included, by its own timestamp;
  a like, follow or order without one is left out (nothing says it happened by then) and counted;
* **infrastructure links** (account-device, account-IP) first seen up to ``TIME`` and, with a window, last seen at
  or after ``since`` (in use during the window); ``last_seen`` is cut to ``TIME`` (then, the link had not been
  seen later); a link without a first or last time is kept;
* **the trending list** as captured from ``since`` to ``TIME`` (the captures move with the activity that makes them);
* **sanctions in force at TIME**: issued up to it and not expired by it (not windowed: a ban from before the
  window still stands);
* the accounts' ``followers`` and ``following`` lose the follows the data records after ``TIME`` (the export's
  counts are today's); the other account columns (status, profile) are the export's as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pandas as pd

from ringscope.common.errors import SettingError
from ringscope.detection.frames import PlatformFrames

MAX_WINDOW_DAYS = 3650
ACTIVITY = {"comments": "created_at", "likes": "created_at", "follows": "created_at", "orders": "placed_at"}
LINKS = ("account_devices", "account_ips")


@dataclass(frozen=True)
class TimeFrame:
    """What a run sees: everything up to ``as_of`` (aware, UTC), and with ``window_days`` only the activity of the
    days before it."""

    as_of: datetime
    window_days: int | None = None

    @property
    def since(self) -> datetime | None:
        return self.as_of - timedelta(days=self.window_days) if self.window_days else None

    def describe(self) -> str:
        window = f", activity of the {self.window_days} days before it" if self.window_days else ""
        return f"as of {self.as_of.isoformat()}{window}"


@dataclass(frozen=True)
class Cut:
    """What :func:`cut` left out, by kind: rows outside the time frame, and undated activity rows among them."""

    left_out: dict[str, int] = field(default_factory=dict)
    undated: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{kind} {n:,}" for kind, n in self.left_out.items() if n]
        undated = [f"{n:,} {kind}" for kind, n in self.undated.items() if n]
        text = "left out " + (", ".join(parts) if parts else "nothing")
        return text + (f" ({', '.join(undated)} without a time among them)" if undated else "")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_as_of(text: str, now: datetime | None = None) -> datetime:
    """``--as-of``: an ISO 8601 date or date and time; without an offset it is UTC; a date alone is its midnight.
    Never later than ``now`` (the wall clock): the observation room follows a run's as-of time, and a run from the
    future would hold it there. SettingError naming the option otherwise."""
    raw = (text or "").strip()
    try:
        if _DATE.match(raw):
            moment = datetime.combine(date.fromisoformat(raw), time(0), tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SettingError(f"--as-of {text!r}: not an ISO 8601 date or time (e.g. 2025-03-31 or "
                           f"2025-03-31T18:00:00+08:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    if moment > now:
        raise SettingError(f"--as-of {text!r} is in the future (now is {now.isoformat(timespec='seconds')}): a run "
                           f"can only see what had happened")
    return moment


def check_window(days) -> int:
    """``--window``: a whole number of days from 1 to ``MAX_WINDOW_DAYS``; SettingError naming the option."""
    try:
        value = int(str(days).strip())
    except ValueError:
        value = None
    if value is None or str(value) != str(days).strip().lstrip("+") or not 1 <= value <= MAX_WINDOW_DAYS:
        raise SettingError(f"--window {days!r}: expected a whole number of days from 1 to {MAX_WINDOW_DAYS}")
    return value


def _utc(ts: datetime) -> pd.Timestamp:
    return pd.Timestamp(ts).tz_convert("UTC") if pd.Timestamp(ts).tzinfo else pd.Timestamp(ts, tz="UTC")


def _times(df: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(df[column], utc=True) if column in df and len(df) else pd.Series(
        pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")


def cut(frames: PlatformFrames, frame: TimeFrame) -> tuple[PlatformFrames, Cut]:
    """``frames`` as a run at ``frame.as_of`` (with its window) would have read them (the module's rules), and what
    was left out. Every frame keeps its columns and dtypes; rows keep their order. O(rows)."""
    upto, since = _utc(frame.as_of), (_utc(frame.since) if frame.since else None)
    out: dict[str, pd.DataFrame] = {}
    left_out: dict[str, int] = {}
    undated: dict[str, int] = {}

    accounts = frames.accounts
    later = set()
    if len(accounts) and "registered_at" in accounts:
        registered = _times(accounts, "registered_at")
        after = registered > upto
        later = set(accounts.loc[after, "account_id"])
        accounts = accounts[~after.to_numpy()]

    def keep(name: str, df: pd.DataFrame, mask: np.ndarray) -> None:
        mask = np.asarray(mask, dtype=bool)
        if later and "account_id" in df and len(df):
            mask &= ~df["account_id"].isin(later).to_numpy()
        left_out[name] = int(len(df) - mask.sum())
        out[name] = df[mask].reset_index(drop=True) if not mask.all() else df

    for name, column in ACTIVITY.items():
        df = getattr(frames, name)
        if not len(df) or column not in df:
            keep(name, df, np.ones(len(df), bool))
            continue
        t = _times(df, column)
        known = t.notna().to_numpy()
        inside = known & (t <= upto).to_numpy()
        if since is not None:
            inside &= (t >= since).to_numpy()
        undated[name] = int((~known).sum())
        keep(name, df, inside)
    if len(out["follows"]) and "target_account_id" in out["follows"] and later:
        follows = out["follows"]
        gone = follows["target_account_id"].isin(later).to_numpy()
        if gone.any():
            left_out["follows"] += int(gone.sum())
            out["follows"] = follows[~gone].reset_index(drop=True)

    for name in LINKS:
        df = getattr(frames, name)
        mask = np.ones(len(df), bool)
        if len(df) and "first_seen" in df:
            mask &= ~(_times(df, "first_seen") > upto).to_numpy()
        if len(df) and since is not None and "last_seen" in df:
            mask &= ~(_times(df, "last_seen") < since).to_numpy()
        keep(name, df, mask)
        if len(out[name]) and "last_seen" in out[name]:
            seen = _times(out[name], "last_seen")
            if (seen > upto).any():
                df = out[name].copy()
                df["last_seen"] = seen.where(~(seen > upto), upto).astype(df["last_seen"].dtype)
                out[name] = df

    # the trending list as it had been captured by then (within the window, as the activity that moves it)
    captures = frames.trending
    if len(captures) and "captured_at" in captures:
        at = _times(captures, "captured_at")
        shown = (at <= upto).to_numpy() & (at >= since).to_numpy() if since is not None else (at <= upto).to_numpy()
    else:
        shown = np.ones(len(captures), bool)
    keep("trending", captures, shown)

    notes = frames.notes
    keep("notes", notes, ~(_times(notes, "posted_at") > upto).to_numpy() if len(notes) and "posted_at" in notes
         else np.ones(len(notes), bool))
    managed = frames.intermediary_accounts
    keep("intermediary_accounts", managed, ~(_times(managed, "since") > upto).to_numpy()
         if len(managed) and "since" in managed else np.ones(len(managed), bool))
    sanctions = frames.sanctions
    if len(sanctions) and "issued_at" in sanctions:
        issued, expires = _times(sanctions, "issued_at"), _times(sanctions, "expires_at")
        in_force = (issued <= upto).to_numpy() & ~(expires <= upto).to_numpy()
    else:
        in_force = np.ones(len(sanctions), bool)
    left_out["sanctions"] = int(len(sanctions) - in_force.sum())
    out["sanctions"] = sanctions[in_force].reset_index(drop=True) if not in_force.all() else sanctions

    left_out["accounts"] = len(frames.accounts) - len(accounts)
    out["accounts"] = _counts_as_of(accounts.reset_index(drop=True) if len(later) else accounts, frames.follows, upto)
    order = [f for f in PlatformFrames.__dataclass_fields__]
    return PlatformFrames(**{name: out[name] for name in order}), Cut(
        {name: left_out.get(name, 0) for name in order}, {k: v for k, v in undated.items() if v})


def _counts_as_of(accounts: pd.DataFrame, follows: pd.DataFrame, upto: pd.Timestamp) -> pd.DataFrame:
    """``followers`` and ``following`` less the follows recorded after ``upto`` (never below 0). O(rows)."""
    if not len(accounts) or not len(follows) or "created_at" not in follows:
        return accounts
    later = follows[(_times(follows, "created_at") > upto).to_numpy()]
    if not len(later):
        return accounts
    accounts = accounts.copy()
    for column, key in (("followers", "target_account_id"), ("following", "account_id")):
        if column not in accounts or key not in later:
            continue
        gone = accounts["account_id"].map(later[key].value_counts()).fillna(0).to_numpy()
        original = accounts[column]
        values = pd.to_numeric(original, errors="coerce").to_numpy(dtype=float)
        fixed = np.clip(values - gone, 0, None)
        if original.dtype.kind == "i":
            accounts[column] = fixed.astype(original.dtype)
        elif original.dtype.kind == "f":
            accounts[column] = fixed
        else:  # object with None where the count is unknown, as the reader gives it
            accounts[column] = pd.Series([None if np.isnan(v) else int(v) for v in fixed], index=accounts.index,
                                         dtype=object)
    return accounts


def watermark(frames: PlatformFrames, frame: TimeFrame) -> dict:
    """The run's data watermark from the frames it saw (as ``reader.data_watermark`` gives for the whole graph),
    with the time frame."""
    def newest(df: pd.DataFrame, column: str) -> str | None:
        if not len(df) or column not in df:
            return None
        t = _times(df, column).max()
        return None if pd.isna(t) else t.isoformat()

    return {"accounts": int(frames.accounts["account_id"].nunique()) if len(frames.accounts) else 0,
            "last_registration": newest(frames.accounts, "registered_at"),
            "comments": len(frames.comments), "last_comment": newest(frames.comments, "created_at"),
            "likes": len(frames.likes), "as_of": frame.as_of.isoformat(), "window_days": frame.window_days}
