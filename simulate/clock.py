"""Simulated time: a fixed reference "now", the platform's history, and daily rhythm.

All times are Unix seconds (int64). Nothing reads the wall clock, so a seed alone
fixes every timestamp. Days are China days (UTC+8), which is where the daily
rhythm lives: organic users are most active in the evening, least at 3-6 am.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

MINUTE = 60
HOUR = 3600
DAY = 86400
TZ_OFFSET = 8 * HOUR
CHINA = timezone(timedelta(hours=8))


def _at(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=CHINA).timestamp())


NOW = _at(2025, 6, 30)              # the export's reference "now"
PLATFORM_START = _at(2019, 1, 1)    # first organic registrations in the data set
ACTIVITY_START = _at(2024, 7, 1)    # notes, comments, likes cover the last year

# Relative activity per China-time hour 0..23: quiet at night, a lunch bump,
# a peak in the evening (20:00-23:00), as on real lifestyle platforms.
HOURLY = np.array([
    3.0, 1.8, 1.0, 0.6, 0.5, 0.6, 1.1, 2.2, 3.2, 3.4, 3.5, 4.0,
    5.0, 4.6, 3.8, 3.7, 4.0, 4.4, 5.0, 6.0, 7.5, 8.6, 8.4, 5.8,
])
HOURLY = HOURLY / HOURLY.sum()

# Studios that run comment rings work office hours (China time), not evenings.
OFFICE_HOURS = np.array([0.1] * 9 + [3, 4, 4, 2, 3, 4, 4, 4, 3] + [0.5] * 6, dtype=float)
OFFICE_HOURS = OFFICE_HOURS / OFFICE_HOURS.sum()


def local_day_start(t: np.ndarray) -> np.ndarray:
    """Unix seconds of the China-time midnight at or before each t."""
    return (np.asarray(t, dtype=np.int64) + TZ_OFFSET) // DAY * DAY - TZ_OFFSET


def seconds_of_day(rng: np.random.Generator, n: int, hourly: np.ndarray = HOURLY) -> np.ndarray:
    """Random seconds after China midnight, following an hourly activity profile."""
    hours = rng.choice(24, size=n, p=hourly)
    return hours * HOUR + rng.integers(0, HOUR, size=n)


def with_rhythm(rng: np.random.Generator, t: np.ndarray, lower: np.ndarray | int | None = None,
                upper: int = NOW, hourly: np.ndarray = HOURLY) -> np.ndarray:
    """Move each t to a time of day drawn from `hourly`, staying on or near its day.

    The result stays within [lower, upper) whenever t does: a draw that falls before
    `lower` moves a day later, one at or after `upper` a day earlier, and if neither
    fits, t itself is kept.
    """
    t = np.asarray(t, dtype=np.int64)
    lo = np.asarray(lower if lower is not None else np.iinfo(np.int64).min, dtype=np.int64)
    s = local_day_start(t) + seconds_of_day(rng, t.size, hourly)
    s = np.where(s < lo, s + DAY, s)
    s = np.where(s >= upper, s - DAY, s)
    return np.where((s < lo) | (s >= upper), t, s)


def spread(rng: np.random.Generator, lower: np.ndarray, upper: np.ndarray | int, skew: float = 1.0) -> np.ndarray:
    """Random times in [lower, upper); skew < 1 favours recent times, > 1 early ones."""
    lower, upper = np.broadcast_arrays(np.asarray(lower, dtype=np.int64), np.asarray(upper, dtype=np.int64))
    width = np.maximum(upper - lower, 1)
    u = rng.random(lower.shape)
    return lower + (width * u**skew).astype(np.int64)
