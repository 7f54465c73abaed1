"""automated_accounts on plain frames: a program's clock is found, people (bursty, resting, scheduled by day)
are not, accounts sharing a schedule are one cluster, and the two null models' tails."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm

from ringscope.detection.automated_accounts import (
    AutomatedAccountParams, activity_events, cadences, detect_automated_accounts, regularity_surprise,
    rest_surprise, schedule_groups,
)

T0 = pd.Timestamp("2026-03-01", tz="Asia/Shanghai")
DAY = 86400.0


def bot(rng, minutes: float, jitter: float, days: float) -> np.ndarray:
    """A program posting every `minutes` ± `jitter`, around the clock."""
    n = int(days * 1440 / minutes)
    return np.cumsum(rng.normal(minutes * 60, jitter * 60, n).clip(60))


def person(rng, days: int, per_day: int) -> np.ndarray:
    """Bursts of activity in the evening, asleep 0-8 (seconds since T0)."""
    out = []
    for d in range(days):
        for _ in range(rng.poisson(per_day / 6)):
            start = d * DAY + rng.uniform(9, 23) * 3600
            out.extend(start + np.cumsum(rng.exponential(90, 6)))
    return np.sort(np.array(out))


def scheduler(days: int) -> np.ndarray:
    """A brand account posting at 9:00, 12:00, 15:00 and 18:00 every day (to the second)."""
    return np.array([d * DAY + h * 3600 for d in range(days) for h in (9, 12, 15, 18)], dtype=float)


def comments_of(series: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = [(f"{a}-c{i}", a, T0 + pd.Timedelta(seconds=float(s))) for a, times in series.items()
            for i, s in enumerate(times)]
    return pd.DataFrame(rows, columns=["comment_id", "account_id", "created_at"])


def platform() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    series = {f"op1-{i}": bot(rng, 37, 2, 20) for i in range(3)}  # one operator, three accounts, one schedule
    series["op2"] = bot(rng, 180, 5, 12)  # another program, every 3 hours: never 5 hours of rest
    series.update({f"human{i}": person(rng, 30, 40) for i in range(20)})
    series["brand"] = scheduler(30)
    series["nightowl"] = np.sort(rng.uniform(0, 20 * DAY, 600))  # active at every hour, but Poisson-irregular
    return activity_events(None, comments_of(series))


def test_a_programs_clock_is_found_and_people_are_not():
    found = detect_automated_accounts(platform())
    members = {m for f in found for m in f.members}
    assert members == {"op1-0", "op1-1", "op1-2", "op2"}
    op1 = next(f for f in found if "op1-0" in f.members)
    assert op1.members == ("op1-0", "op1-1", "op1-2")  # one schedule, one operator
    assert op1.score == 1.0
    text = op1.reasons[0].text
    assert "an event every 37 min ± 1 min" in text and "0 rests of 5 hours or more" in text
    kinds = {e.kind for e in op1.reasons[0].evidence}
    assert {"account", "comment", "time_window"} <= kinds


def test_the_brands_scheduler_rests_and_a_night_owl_is_irregular():
    c = cadences(platform()).set_index("account_id")
    assert c.loc["brand", "gap_spread"] == 0  # to the second by day ...
    assert c.loc["brand", "rest_surprise"] == 0  # ... and at rest every night
    assert c.loc["nightowl", "regular_surprise"] < 2  # around the clock, but as irregular as chance
    assert c.loc["human0", "cv"] > 1


def test_too_few_events_or_days_are_not_judged():
    events = platform()
    assert "op2" not in set(cadences(events, AutomatedAccountParams(min_events=200))["account_id"])
    assert cadences(events, AutomatedAccountParams(min_days=40)).empty
    assert detect_automated_accounts(events.iloc[:0]) == []


def test_the_null_models_tails():
    assert regularity_surprise(0.2, 100) == pytest.approx(-norm.logsf(0.8 * 10) / math.log(10))
    assert regularity_surprise(1.3, 100) < 0.001  # burstier than chance: nothing
    assert rest_surprise(0, 9.5, 0.8) == pytest.approx(-binom.logcdf(0, 9, 0.8) / math.log(10))  # 0.2 ** 9
    assert rest_surprise(0, 9.5, 0.95) == pytest.approx(9 * -math.log10(0.05))
    assert rest_surprise(9, 9.5, 0.8) == 0
    assert rest_surprise(0, 0.5, 0.8) == 0


def test_schedule_groups_chain_within_the_tolerance():
    labels = schedule_groups(np.array([100.0, 104.0, 108.0, 200.0, 2220.0, 2230.0]), 0.05)
    assert labels.tolist() == [0, 0, 0, 1, 2, 2]


def test_events_from_notes_and_comments():
    notes = pd.DataFrame({"note_id": ["n1"], "account_id": ["a"], "posted_at": [T0]})
    comments = pd.DataFrame({"comment_id": ["c1", "c2"], "account_id": ["a", "a"],
                             "created_at": [T0 + pd.Timedelta(minutes=1), None]})
    events = activity_events(notes, comments)
    assert events[["kind", "item_id"]].values.tolist() == [["note", "n1"], ["comment", "c1"]]
    assert events["at"].iloc[1] - events["at"].iloc[0] == pytest.approx(60)


def test_a_program_switched_on_for_two_weeks_in_a_long_life_is_judged_on_those_weeks():
    rng = np.random.default_rng(8)
    life = np.r_[-60 * DAY, -30 * DAY, bot(rng, 30, 1, 14), 90 * DAY]  # three posts of its own, far apart
    c = cadences(activity_events(None, comments_of({"x": life}))).set_index("account_id")
    assert c.loc["x", "days"] < 15 and c.loc["x", "cv"] < 0.1 and c.loc["x", "rests"] == 0
    assert detect_automated_accounts(activity_events(None, comments_of({"x": life})))
