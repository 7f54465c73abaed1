"""What the detectors look at: one frame per kind of record (read by ``reader``, or built from files)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd


@dataclass
class PlatformFrames:
    accounts: pd.DataFrame
    account_devices: pd.DataFrame
    account_ips: pd.DataFrame
    notes: pd.DataFrame
    comments: pd.DataFrame
    orders: pd.DataFrame
    intermediary_accounts: pd.DataFrame
    likes: pd.DataFrame
    follows: pd.DataFrame
    sanctions: pd.DataFrame
    # The trending list's snapshots (an extension: captured_at, rank, topic, score); empty when the platform
    # has none.
    trending: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def only(cls, **frames: pd.DataFrame) -> "PlatformFrames":
        """Frames holding only ``frames`` (by name), every other one empty."""
        return cls(**{**{f.name: pd.DataFrame() for f in fields(cls)}, **frames})

    @classmethod
    def comments_only(cls, comments: pd.DataFrame) -> "PlatformFrames":
        """Frames holding only comments (for the comment detectors on outside data, e.g. YelpChi)."""
        return cls.only(comments=comments)

    def sizes(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}

    def nbytes(self) -> int:
        """The memory the frames take, strings included. O(columns), O(rows) for object columns."""
        return int(sum(getattr(self, f.name).memory_usage(deep=True).sum() for f in fields(self)))


def epoch_ns(values: pd.Series) -> np.ndarray:
    """UTC timestamps as int64 nanoseconds since the epoch (any input resolution). O(n)."""
    s = pd.to_datetime(values, utc=True).dt.tz_convert(None).dt.as_unit("ns")
    return s.to_numpy().astype(np.int64)


def epoch_seconds(values: pd.Series) -> np.ndarray:
    """UTC timestamps as float seconds since the epoch, NaN for missing or unparsable ones. O(n)."""
    ts = pd.to_datetime(values, utc=True, errors="coerce")
    secs = (ts - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return np.asarray(secs.to_numpy(dtype=float, na_value=np.nan), dtype=float)
