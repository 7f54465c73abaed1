"""The sweep's arithmetic on plain data: the pattern read off a cluster's members, the weights, the scores."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ringscope.common.errors import SettingError
from ringscope.sweep import pattern
from ringscope.sweep.pattern import Evidence, Member, Template
from ringscope.sweep.policy import load_sweep_policy, parse_policy

POLICY = load_sweep_policy()
T0 = datetime(2026, 1, 10, 10, 0, tzinfo=timezone.utc)


def test_ip_range_and_its_text_prefix():
    assert pattern.ip_range("203.0.113.77", 24, 48) == "203.0.113.0/24"
    assert pattern.ip_range("2001:db8:7:1::5", 24, 48) == "2001:db8:7::/48"
    assert pattern.ip_range("not an ip", 24, 48) is None
    assert pattern.range_text_prefix("203.0.113.0/24") == "203.0.113."
    assert pattern.range_text_prefix("10.0.0.0/20") == "10.0."  # whole octets only; members filtered after
    assert pattern.range_text_prefix("2001:db8:7::/48") == "2001:db8:7:"
    # a zero group may be written "::" in the data, so the search stops before it
    assert pattern.range_text_prefix("2001:0:7::/48") == "2001:"
    assert pattern.in_range("203.0.113.200", "203.0.113.0/24")
    assert not pattern.in_range("203.0.114.1", "203.0.113.0/24")


def test_member_ranges_need_two_members_and_rank_by_members():
    members = [Member("m1", ips=("10.7.1.5", "192.0.2.1")), Member("m2", ips=("10.7.1.6",)),
               Member("m3", ips=("10.7.1.6", "10.8.0.1")), Member("m4", ips=("10.8.0.2",))]
    assert pattern.member_ranges(members, POLICY) == {"10.7.1.0/24": 3, "10.8.0.0/24": 2}


def test_registration_bursts_split_at_gaps():
    times = [T0 + timedelta(minutes=m) for m in (0, 5, 10, 200, 205, 206, 207, 500)] + [None]
    bursts = pattern.registration_bursts(times, timedelta(minutes=60), 3)
    assert [(b.start, b.end, b.members) for b in bursts] == [
        (T0, T0 + timedelta(minutes=10), 3), (T0 + timedelta(minutes=200), T0 + timedelta(minutes=207), 4)]
    assert pattern.registration_bursts([T0, T0], timedelta(minutes=60), 3) == []


def test_over_used_segments_by_lift():
    members = {"170": 30, "138": 10}
    platform = {"170": 100, "138": 40_000}
    lifts = pattern.over_used_segments(members, 40, platform, 100_000, min_lift=3.0, min_members=2)
    assert set(lifts) == {"170"} and lifts["170"] == pytest.approx((30 / 40) / (100 / 100_000))
    assert pattern.over_used_segments(members, 0, platform, 100_000, 3.0, 2) == {}


def test_templates_need_several_members_and_length():
    comments = [("m1", "加我薇信 领取优惠券！"), ("m2", "加我薇信领取优惠券"), ("m1", "加我薇信领取优惠券"),
                ("m3", "好看"), ("m4", "好看"), ("m5", "只有一个人写的长句子在这里")]
    found = pattern.templates(comments, POLICY)
    assert [(t.norm, t.members) for t in found] == [("加我薇信领取优惠券", 2)]
    assert found[0].example == "加我薇信 领取优惠券！"


def test_template_match_verifies_jaccard():
    t = Template("加我薇信领取优惠券原价199现在只要29", "x", 3)
    assert pattern.template_match("加我薇信领取优惠券!原价199现在只要39", t, 3, 0.6) > 0.6
    assert pattern.template_match("这个优惠券怎么领取啊", t, 3, 0.6) is None
    assert pattern.template_match("", t, 3, 0.6) is None


def test_identifier_weight_is_scaled_by_the_clusters_share():
    assert pattern.identifier_weight(0.9, 28, 30, 0.5) == pytest.approx(0.9)
    assert pattern.identifier_weight(0.9, 1, 11, 0.5) == pytest.approx(0.9 * (1 / 11) / 0.5)
    assert pattern.identifier_weight(0.9, 0, 11, 0.5) == 0.0
    assert pattern.identifier_weight(0.9, 3, 0, 0.5) == 0.0


def test_score_is_noisy_or_of_the_strongest_per_kind():
    e = lambda kind, w: Evidence(kind, "k", w, "r")  # noqa: E731
    found = pattern.score([("a", e("device", 0.5)), ("a", e("device", 0.9)), ("a", e("ip_range", 0.4)),
                           ("b", e("registration_burst", 0.3)), ("b", e("phone_segment", 0.2)),
                           ("m", e("device", 0.9)), ("z", e("agency", 0.0))], exclude=["m"])
    assert [c.account_id for c in found] == ["a", "b"]
    assert found[0].score == pytest.approx(1 - 0.1 * 0.6)
    assert found[0].kinds == ("device", "ip_range")
    # the weak kinds alone stay under the shipped listing score: they need corroboration
    assert found[1].score == pytest.approx(1 - 0.7 * 0.8)
    assert found[1].score < POLICY.min_score


def test_shipped_weights_say_what_one_kind_alone_does():
    alone = {k: POLICY.evidence.of(k) for k in ("device", "comment_template", "agency", "ip_range",
                                                 "registration_burst", "phone_segment")}
    listed = {k for k, w in alone.items() if w >= POLICY.min_score}
    assert listed == {"device", "comment_template", "agency"}
    assert pattern.noisy_or([alone["ip_range"], alone["registration_burst"]]) >= POLICY.min_score


def test_a_bad_policy_names_the_key(tmp_path):
    with pytest.raises(SettingError, match=r"evidence\.device\.weight"):
        parse_policy({**POLICY.model_dump(), "evidence": {**POLICY.evidence.model_dump(), "device": {"weight": 2}}})
    bad = tmp_path / "sweep.yaml"
    bad.write_text("version: 1\nmin_score: 0.5\n", encoding="utf-8")
    with pytest.raises(SettingError, match=str(bad)):
        load_sweep_policy(bad)
