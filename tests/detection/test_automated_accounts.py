"""automated_accounts on plain frames: a program's clock is found, with a night off too by its words or its
client, people (bursty, resting, scheduled by day, a news account on a schedule) are not, accounts sharing a
schedule are one cluster, and the null models' tails."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm

from ringscope.detection.automated_accounts import (
    AutomatedAccountParams, activity_events, api_events, binomial_excess_surprise, cadences,
    detect_automated_accounts, most_common_client, operator_groups, regularity_surprise, rest_surprise,
    self_copied_texts,
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


def test_operator_groups_chain_within_the_tolerance_at_the_same_time():
    gaps = np.array([100.0, 104.0, 108.0, 200.0, 2220.0, 2230.0])
    first, last = np.zeros(6), np.full(6, 10.0)
    assert operator_groups(gaps, first, last, 0.05, 0.5).tolist() == [0, 0, 0, 1, 2, 2]
    # the same periods, but the last one ran in other weeks: another operator
    first[5], last[5] = 20.0, 30.0
    assert operator_groups(gaps, first, last, 0.05, 0.5).tolist() == [0, 0, 0, 1, 2, 3]
    # overlapping by less than half of the shorter stretch: not linked; by half: linked
    first[5], last[5] = 5.0, 15.0
    assert operator_groups(gaps, first, last, 0.05, 0.5).tolist() == [0, 0, 0, 1, 2, 2]
    first[5], last[5] = 5.5, 15.5
    assert operator_groups(gaps, first, last, 0.05, 0.5).tolist() == [0, 0, 0, 1, 2, 3]
    assert operator_groups(np.zeros(0), np.zeros(0), np.zeros(0), 0.05, 0.5).tolist() == []


def test_two_programs_on_one_period_in_other_weeks_are_two_operators():
    rng = np.random.default_rng(9)
    series = {f"march-{i}": bot(rng, 45, 1, 10) for i in range(3)}
    series.update({f"may-{i}": 60 * DAY + bot(rng, 45, 1, 10) for i in range(2)})
    found = detect_automated_accounts(activity_events(None, comments_of(series)))
    assert sorted(f.members for f in found) == [("march-0", "march-1", "march-2"), ("may-0", "may-1")]
    texts = {f.members[0]: f.reasons[0].text for f in found}
    assert "at the same time (between 2026-02-28 and 2026-03-10)" in texts["march-0"]
    assert "at the same time (between 2026-04-29 and 2026-05-09)" in texts["may-0"]


def test_the_client_an_account_names_most():
    assert most_common_client(np.array(["b", "a", "b", "", None], dtype=object)) == "b"
    assert most_common_client(np.array(["b", "a"], dtype=object)) == "a"  # the first of equals
    assert most_common_client(np.array(["", None], dtype=object)) == ""


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


# --------------------------------------------------------------------------- camouflage: a night off, its words, its client

SKELETONS = ("这篇关于{t}的分享真的很有价值，{d}让我受益匪浅，感谢博主的用心整理！",
             "看完这篇{t}笔记，我觉得{d}特别好，非常实用，已收藏，期待更多优质内容。")
TOPICS = ("护肤", "穿搭", "旅行攻略", "美食探店", "家居收纳", "健身")
DETAILS = ("对细节的讲解", "清晰的步骤", "真实的体验", "专业的分析")


def with_night_off(times: np.ndarray, start_hour: float = 1, hours: float = 7) -> np.ndarray:
    """``times`` without those between ``start_hour`` and ``start_hour + hours`` of each day."""
    hour = (times % DAY) / 3600
    return times[~((hour >= start_hour) & (hour < start_hour + hours))]


def generated(rng, n: int) -> list[str]:
    return [SKELETONS[rng.integers(2)].format(t=TOPICS[rng.integers(6)], d=DETAILS[rng.integers(4)]) for _ in range(n)]


def written(rng, n: int) -> list[str]:
    """A person's comments: each its own (random characters from a large pool, of varied length)."""
    pool = np.array(list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"))
    return ["".join(rng.choice(pool, rng.integers(20, 60))) for _ in range(n)]


def comments_with(series: dict[str, tuple[np.ndarray, list[str] | None, str | None]]) -> pd.DataFrame:
    rows = [(f"{a}-c{i}", a, T0 + pd.Timedelta(seconds=float(s)), texts[i] if texts else None, client)
            for a, (times, texts, client) in series.items() for i, s in enumerate(times)]
    return pd.DataFrame(rows, columns=["comment_id", "account_id", "created_at", "text", "client"])


def camouflaged_platform() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    series = {}
    for i in range(3):  # one operator: a night off at 1-8, jitter 15 %, generated praise through the app
        t = with_night_off(bot(rng, 40, 6, 20))
        series[f"op-{i}"] = (t, generated(rng, len(t)), "xhs-android/8.12")
    t = with_night_off(bot(rng, 90, 10, 20))
    series["api"] = (t, written(rng, len(t)), "openapi-client/2.1")  # its own words, but posted through an API
    for i in range(20):
        t = person(rng, 30, 40)
        series[f"human{i}"] = (t, written(rng, len(t)), "xhs-ios/8.12")
    # organic look-alikes: a news account on a schedule by day, each post written anew, from the app
    t = np.array([d * DAY + h * 3600 + rng.normal(0, 60) for d in range(30) for h in range(8, 22)])
    series["news"] = (t, written(rng, len(t)), "xhs-web/3.0")
    return activity_events(None, comments_with(series))


def test_a_program_with_a_night_off_is_found_by_its_words_or_its_client_and_a_news_schedule_is_not():
    events = camouflaged_platform()
    c = cadences(events).set_index("account_id")
    assert (c.loc[["op-0", "op-1", "op-2", "api", "news"], "rests"] >= 19).all()  # every one rests at night
    assert c.loc["news", "regular_surprise"] > 10  # the news account is as regular by day as a program
    found = detect_automated_accounts(events)
    members = {m for f in found for m in f.members}
    assert members == {"op-0", "op-1", "op-2", "api"}
    op = next(f for f in found if "op-0" in f.members)
    assert op.members == ("op-0", "op-1", "op-2")
    assert "generated text" in op.reasons[0].text and "near-copies of its own" in op.reasons[0].text
    api = next(f for f in found if "api" in f.members)
    assert "an API client" in api.reasons[0].text and "through an API client" in api.reasons[0].text


def test_self_copied_texts_counts_slot_filled_sentences_and_not_a_persons_words():
    rng = np.random.default_rng(2)
    params = AutomatedAccountParams()
    judged, copied = self_copied_texts(np.array(generated(rng, 50), dtype=object), params)
    assert judged == 50 and copied == 50
    judged, copied = self_copied_texts(np.array(written(rng, 50) + ["短", None, ""], dtype=object), params)
    assert judged == 50 and copied == 0
    assert self_copied_texts(np.array(["同一句话同一句话同一句话同一句话"] * 2 + ["太短"], dtype=object), params) == (2, 2)


def test_the_binomial_tail_of_copied_texts_and_api_events():
    assert binomial_excess_surprise(0, 10, 0.1) == 0.0
    assert binomial_excess_surprise(10, 10, 0.1) == pytest.approx(10.0)
    assert binomial_excess_surprise(3, 10, 0.1) == pytest.approx(-math.log10(binom.sf(2, 10, 0.1)))


def test_api_events_reads_the_client_and_the_way_it_was_posted():
    markers = ("api", "bot")
    assert api_events(np.array(["xhs-ios/8.1", "OpenAPI/2 ", "", None, "app TelegramBot"], dtype=object),
                      markers) == (3, 2)


def test_one_operators_accounts_through_one_api_client_are_named_by_it():
    rng = np.random.default_rng(4)
    series = {f"op-{i}": (t, written(rng, len(t)), "autopost-sdk/2.1")
              for i, t in enumerate(with_night_off(bot(rng, 40, 2, 20)) for _ in range(2))}
    found = detect_automated_accounts(activity_events(None, comments_with(series)))
    assert [f.members for f in found] == [("op-0", "op-1")]
    assert "all through the client 'autopost-sdk/2.1'" in found[0].reasons[0].text
