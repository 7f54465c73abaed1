"""The content-health index on plain data: each indicator's deduction, the dimensions' floors, the weights, the
bands, what is not measured, the policy's validation, and originality."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from ringscope.common.errors import SettingError
from ringscope.health import index
from ringscope.health.index import Measures, account_health
from ringscope.detection.comment_text import normalize_text
from ringscope.health.originality import copied_against, copied_by_account, shortest_partner
from ringscope.health.policy import load_health_policy, parse_policy, policy_path

POLICY = load_health_policy()


def raw() -> dict:
    return yaml.safe_load(policy_path().read_text(encoding="utf-8"))


def with_(**changes) -> object:
    data = raw()
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = data
        for p in path:
            node = node[p]
        node[last] = value
    return parse_policy(data)


def contribution(h, name):
    return next(c for c in h.contributions if c.indicator == name)


def test_a_clean_account_scores_100_and_is_boosted():
    h = account_health(Measures("a", texts=10, engagement=50, followers=100, notes=5, likes=500), POLICY)
    assert h.index == 100 and h.band == "boost" and h.commercial and h.reach_factor == 1.0
    assert all(c.points == 0 for c in h.contributions) and not h.warnings
    assert [(d.name, d.weight, d.points) for d in h.dimensions] == [
        ("content_quality", 40, 40), ("compliance", 35, 35), ("user_feedback", 25, 25)]


def test_originality_deducts_in_proportion_to_the_copied_share():
    h = account_health(Measures("a", texts=10, copied=3), POLICY)
    c = contribution(h, "originality")
    assert c.value == pytest.approx(0.3) and c.points == pytest.approx(-12.0)  # 40 x 0.3
    assert h.index == pytest.approx(88.0) and "3 of 10 texts copied" in c.detail
    assert account_health(Measures("a", texts=4, copied=4), POLICY).index == pytest.approx(60.0)


def test_no_text_to_judge_deducts_nothing():
    assert contribution(account_health(Measures("a", texts=0, copied=0), POLICY), "originality").points == 0


def test_each_undeclared_commercial_note_costs_2_and_each_lure_3():
    h = account_health(Measures("a", undeclared_commercial=4, lures=2), POLICY)
    assert contribution(h, "undeclared_commercial").points == pytest.approx(-8.0)
    assert contribution(h, "offplatform_lure").points == pytest.approx(-6.0)
    assert h.index == pytest.approx(86.0) and h.band == "boost"


def test_each_verified_report_costs_5():
    h = account_health(Measures("a", verified_reports=3), POLICY)
    assert contribution(h, "verified_reports").points == pytest.approx(-15.0) and h.index == pytest.approx(85.0)


def test_invalid_interaction_is_proportional_up_to_40_percent_then_demotes():
    at = account_health(Measures("a", engagement=100, flagged_engagement=40), POLICY)
    assert contribution(at, "invalid_interaction").points == pytest.approx(-4.0) and not at.warnings
    above = account_health(Measures("a", engagement=100, flagged_engagement=41), POLICY)
    assert contribution(above, "invalid_interaction").points == pytest.approx(-25.0)
    assert above.index == pytest.approx(75.0) and above.band == "normal"
    assert any("demoted" in w for w in above.warnings)


def test_follower_imbalance_warns_from_10k_followers_under_200_likes_per_note():
    imbalanced = account_health(Measures("a", followers=10_000, notes=4, likes=796), POLICY)  # 199 per note
    assert contribution(imbalanced, "follower_imbalance").points == pytest.approx(-5.0)
    assert any("imbalance" in w for w in imbalanced.warnings)
    for m in (Measures("a", followers=10_000, notes=4, likes=800), Measures("a", followers=9_999, notes=4, likes=0),
              Measures("a", followers=None, notes=4, likes=0), Measures("a", followers=50_000, notes=0)):
        h = account_health(m, POLICY)
        assert contribution(h, "follower_imbalance").points == 0 and not h.warnings


def test_a_dimension_never_goes_below_zero_and_contributions_add_up_to_the_index():
    h = account_health(Measures("a", verified_reports=4, engagement=10, flagged_engagement=9, followers=20_000,
                                notes=1, likes=0, undeclared_commercial=1), POLICY)
    feedback = [c for c in h.contributions if c.dimension == "user_feedback"]
    assert sum(c.deduction for c in feedback) == pytest.approx(20 + 25 + 5)
    assert sum(c.points for c in feedback) == pytest.approx(-25.0)  # scaled to the dimension's weight
    assert contribution(h, "verified_reports").points == pytest.approx(-25 * 20 / 50)
    assert h.index == pytest.approx(100 + sum(c.points for c in h.contributions)) == pytest.approx(73.0)
    worst = account_health(Measures("a", texts=1, copied=1, undeclared_commercial=50, verified_reports=50), POLICY)
    assert worst.index == 0 and worst.band == "throttled"


@pytest.mark.parametrize("copied, band, commercial", [
    (0, "boost", True),            # 100
    (50, "boost", True),           # 80: at the boost threshold
    (51, "normal", True),          # 79.6
    (75, "normal", True),          # 70: at the commercial threshold
    (76, "no_commercial", False),  # 69.6
    (100, "no_commercial", False),  # 60: at the throttle threshold
])
def test_the_bands(copied, band, commercial):
    h = account_health(Measures("a", texts=100, copied=copied), POLICY)  # 100 - 0.4 x copied
    assert (h.band, h.commercial, h.reach_factor) == (band, commercial, 1.0)


def test_below_60_the_account_is_throttled_by_half():
    h = account_health(Measures("a", texts=10, copied=10, undeclared_commercial=1), POLICY)  # 100 - 40 - 2 = 58
    assert h.index == pytest.approx(58.0)
    assert (h.band, h.commercial, h.reach_factor) == ("throttled", False, 0.5)


def test_the_weights_come_from_the_policy():
    policy = with_(weights__content_quality=50, weights__compliance=30, weights__user_feedback=20)
    h = account_health(Measures("a", texts=1, copied=1, verified_reports=10), policy)
    assert h.index == pytest.approx(10 + 30 + 0)  # quality 50 - 40 (originality's points), feedback emptied
    assert [d.weight for d in h.dimensions] == [50, 30, 20]


def test_deductions_come_from_the_policy():
    policy = with_(indicators__verified_reports__points_each=1, indicators__undeclared_commercial__points_each=7)
    h = account_health(Measures("a", verified_reports=3, undeclared_commercial=1), policy)
    assert h.index == pytest.approx(100 - 3 - 7)


def test_what_is_not_measured_is_listed():
    h = account_health(Measures("a"), POLICY)
    assert {u.name for u in h.not_measured} == {"engagement_quality", "media_originality", "content_violations",
                                                 "negative_feedback"}
    assert all(u.why for u in h.not_measured)
    assert not {u.name for u in h.not_measured} & {name for name, _ in index.INDICATORS}


def test_the_frame_scores_many_accounts_as_one_at_a_time():
    rows = [Measures("a"), Measures("b", texts=10, copied=5, lures=1), Measures("c", verified_reports=9),
            Measures("d", engagement=10, flagged_engagement=5, followers=20_000, notes=2, likes=3)]
    s = index.scores(index.frame(rows), POLICY)
    assert list(s["index"]) == pytest.approx([account_health(m, POLICY).index for m in rows])
    assert list(s["band"]) == [account_health(m, POLICY).band for m in rows]


def test_the_distribution():
    d = index.distribution(pd.Series([100.0, 85.0, 72.0, 65.0, 30.0, 0.0]),
                           index.band_of(pd.Series([100.0, 85.0, 72.0, 65.0, 30.0, 0.0]), POLICY))
    assert d.accounts == 6 and d.bands == {"boost": 2, "normal": 1, "no_commercial": 1, "throttled": 2}
    assert [n for _, _, n in d.bins] == [1, 0, 0, 1, 0, 0, 1, 1, 1, 1]  # 100 in the last bin
    assert d.median == pytest.approx(68.5)
    empty = index.distribution(pd.Series([], dtype=float), [])
    assert empty.accounts == 0 and empty.mean is None and sum(n for _, _, n in empty.bins) == 0


@pytest.mark.parametrize("change, key", [
    ({"weights__compliance": 40}, "weights"),
    ({"weights__content_quality": -1}, "weights.content_quality"),
    ({"effects__boost_at": 50}, "effects"),
    ({"indicators__originality__similarity": 0}, "indicators.originality.similarity"),
    ({"indicators__invalid_interaction__demote_share": 1.5}, "indicators.invalid_interaction.demote_share"),
    ({"limits__batch_size": 0}, "limits.batch_size"),
    ({"indicators__verified_reports__points": 5}, "indicators.verified_reports.points"),
])
def test_a_bad_policy_names_the_key(change, key):
    with pytest.raises(SettingError) as err:
        with_(**change)
    assert f"health policy: {key}:" in str(err.value)


def test_the_weights_must_sum_to_100():
    with pytest.raises(SettingError, match="must sum to 100, not 105"):
        with_(weights__compliance=40)


def test_the_policy_file_comes_from_the_environment(tmp_path, monkeypatch):
    data = raw()
    data["indicators"]["offplatform_lure"]["points_each"] = 9
    path = tmp_path / "health.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("RINGSCOPE_HEALTH_POLICY", str(path))
    assert load_health_policy().indicators.offplatform_lure.points_each == 9
    monkeypatch.setenv("RINGSCOPE_HEALTH_POLICY", str(tmp_path / "missing.yaml"))
    with pytest.raises(SettingError, match="missing.yaml: file not found"):
        load_health_policy()


# --------------------------------------------------------------------------------------------- originality

RULE = POLICY.indicators.originality
# Note bodies of 50+ normalised characters (the shipped min_chars): a copied one, its rewash, an unrelated one.
BODY = "周末去了城南新开的那家咖啡馆，环境很安静，适合带电脑办公，拿铁奶味很足但是有点偏甜，下次想试试他们家的手冲和肉桂卷"
REWASH = "周末去了城北新开的那家咖啡馆，环境特别安静，很适合带电脑办公，拿铁奶味很足就是有点偏甜，下次想试试他们家的手冲"
OTHER = "第一次带猫咪去医院打疫苗，提前一周让它熟悉航空箱，路上一直在叫，到了医院反而很乖，医生说体重有点超标要控制零食"


def test_a_near_duplicate_counts_as_copied_and_a_different_text_does_not():
    assert copied_against(BODY, [REWASH], RULE)
    assert not copied_against(BODY, [OTHER], RULE)


def test_a_short_text_is_never_judged_even_when_identical():
    # A stock comment or a title: two strangers write it independently (the 30 % rule is applied to bodies).
    assert not copied_against("这个颜色好显白，下次试试😍", ["这个颜色好显白，下次试试😍"], RULE)
    got = copied_by_account(pd.DataFrame({"account_id": ["a", "b"], "text": ["这个颜色好显白，下次试试"] * 2}), RULE)
    assert got.empty


def test_the_shortest_partner_is_the_jaccard_bound():
    # J(A, B) <= |B| / |A|: a judged text of 48 shingles needs a partner of at least ceil(similarity x 48) of
    # them: at the shipped 0.45, 22 (24 characters); at 0.3 it was 15 (17 characters).
    assert shortest_partner(RULE) == 24
    assert shortest_partner(RULE.model_copy(update={"similarity": 0.3})) == 17
    judged = normalize_text(BODY)[:50]  # 48 distinct shingles
    for shingles in (15, 22):
        partner = judged[:shingles + 2]  # its first characters: that many of its 48 shingles
        exact = RULE.model_copy(update={"similarity": shingles / 48})
        assert copied_against(judged, [partner], exact)
        assert not copied_against(judged, [partner[:-1]], exact)


def test_the_original_is_not_copied_by_being_copied_in_both_paths():
    day1, day2 = pd.Timestamp("2026-03-01", tz="UTC"), pd.Timestamp("2026-03-02", tz="UTC")
    assert copied_against(REWASH, [(BODY, day1)], RULE, at=day2)
    assert not copied_against(BODY, [(REWASH, day2)], RULE, at=day1)
    assert not copied_against(BODY, [(REWASH, day1)], RULE, at=day1)  # the same moment: neither copied the other
    assert copied_against(BODY, [(REWASH, None)], RULE, at=day1)  # an unknown time counts
    texts = pd.DataFrame({"account_id": ["orig", "copy", "copy2", "late"], "text": [BODY, REWASH, BODY, OTHER],
                          "at": [day1, day2, day2, None]})
    got = copied_by_account(texts, RULE).set_index("account_id")
    assert got.loc["orig"].tolist() == [1, 0] and got.loc["copy"].tolist() == [1, 1]
    assert got.loc["copy2"].tolist() == [1, 1] and got.loc["late"].tolist() == [1, 0]
    # without times every near-duplicate by another account counts, both ways
    assert copied_by_account(texts.drop(columns="at"), RULE).set_index("account_id").loc["orig"].tolist() == [1, 1]
    # an exact copy by the same account earlier is not copying; another's unknown-time exact copy is
    same = pd.DataFrame({"account_id": ["a", "a", "b"], "text": [BODY, BODY, BODY], "at": [day1, day2, None]})
    assert copied_by_account(same, RULE).set_index("account_id")["copied"].to_dict() == {"a": 2, "b": 1}


def test_copied_by_account_over_the_whole_platform():
    texts = pd.DataFrame({"account_id": ["a", "b", "a", "c", "c", "d", "e", "e"],
                          "text": [BODY, REWASH, OTHER, "完全不同的一句话呢朋友们" * 5, OTHER, "短",
                                   "我自己写的一段很长的话啊，" * 5, "我自己写的一段很长的话啊，" * 5]})
    got = copied_by_account(texts, RULE).set_index("account_id")
    assert got.loc["a"].tolist() == [2, 2]  # the body (b's rewash) and c's exact copy
    assert got.loc["b"].tolist() == [1, 1]
    assert got.loc["c"].tolist() == [2, 1]
    assert got.loc["e"].tolist() == [2, 0]  # repeating oneself is not copying another
    assert "d" not in got.index  # nothing long enough to judge
    assert copied_by_account(texts.iloc[:0], RULE).empty


def test_a_long_text_may_copy_a_shorter_one_in_both_paths():
    long, short = normalize_text(BODY)[:50], normalize_text(BODY)[:40]  # 40: not judged, long enough to be copied
    assert copied_against(long, [short], RULE)
    got = copied_by_account(pd.DataFrame({"account_id": ["a", "b"], "text": [long, short]}), RULE)
    assert got.set_index("account_id").loc["a"].tolist() == [1, 1] and "b" not in set(got["account_id"])
