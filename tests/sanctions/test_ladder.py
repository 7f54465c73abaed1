"""The ladder, brand points, credit and statuses as pure functions of history and policy."""

from datetime import datetime, timedelta, timezone

import pytest

from ringscope.sanctions.ladder import (CreditEvent, brand_banned, brand_points, credit, escalation_level, exam_counts,
                              ladder_actions, status_for)
from ringscope.sanctions.policy import load_sanction_policy

P = load_sanction_policy()
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.mark.parametrize("prior,at,level", [
    ([], 0, 1),                       # first violation
    ([0], 10, 2),                     # second within 30 days
    ([0, 10], 20, 3),                 # third within 30 days
    ([0, 10, 20], 25, 4),             # repeated: beyond the last counted step
    ([0], 31, 1),                     # the earlier one is outside the 30 days: first again
    ([0, 10], 35, 2),                 # only day 10 is within 30 days of day 35
    ([0, 20], 50, 2),                 # boundary: day 20 is exactly 30 days before day 50
    ([0, 10, 20], 60, 1),
])
def test_the_level_follows_from_the_violations_in_the_window(prior, at, level):
    assert escalation_level("spam_comment", [day(d) for d in prior], day(at), P) == level


def test_severe_kinds_go_straight_to_the_last_step_and_later_violations_do_not_count_back():
    assert escalation_level("farm_operation", [], day(0), P) == 4
    assert escalation_level("bought_engagement", [], day(0), P) == 4
    assert escalation_level("spam_comment", [day(5)], day(0), P) == 1  # a "future" one is not history
    with pytest.raises(KeyError):
        escalation_level("jaywalking", [], day(0), P)


def test_each_step_carries_the_published_actions():
    assert [a.action for a in ladder_actions(1, P)] == ["throttle_note", "credit_deduction"]
    assert [a.action for a in ladder_actions(4, P)] == ["permanent_ban"]


def test_brand_points_count_within_the_window_and_ban_at_ten():
    awards = [(day(0), 2), (day(100), 4), (day(170), 4)]
    assert brand_points(awards, day(175), P) == 10 and brand_banned(10, P)
    assert brand_points(awards, day(185), P) == 8 and not brand_banned(8, P)  # day 0 left the 180 days


def test_credit_deduction_recovery_and_exam():
    events = [CreditEvent(day(0), "deduction", 10, "S1")]
    assert credit(events, day(0), P).value == 90
    assert credit(events, day(29), P).value == 90
    assert credit(events, day(30), P).value == 95
    assert credit(events, day(60), P).value == 100
    assert credit(events, day(400), P).value == 100  # never above the maximum
    report = credit(events, day(45), P)
    assert report.next_recovery_at == day(60)
    # A new violation restarts the recovery clock.
    events2 = events + [CreditEvent(day(40), "deduction", 10, "S2")]
    assert credit(events2, day(40), P).value == 85  # 90 + 5 (day 30) - 10
    assert credit(events2, day(69), P).value == 85
    assert credit(events2, day(70), P).value == 90
    # An exam restores 15, capped; a second exam inside the cooldown does not count.
    assert credit(events2 + [CreditEvent(day(41), "exam", 15, "X1")], day(41), P).value == 100  # 85 + 15
    assert credit(events2 + [CreditEvent(day(1), "exam", 15, "X1")], day(40), P).value == 90  # capped at day 1
    heavy = [CreditEvent(day(0), "deduction", 50, "S3"), CreditEvent(day(1), "exam", 15, "X1"),
             CreditEvent(day(2), "exam", 15, "X2")]
    assert credit(heavy, day(3), P).value == 65
    assert credit([CreditEvent(day(0), "deduction", 500, "S4")], day(0), P).value == P.credit.minimum


def test_revoking_a_deduction_restores_the_credit_it_took():
    both = [CreditEvent(day(0), "deduction", 10, "S1"), CreditEvent(day(10), "deduction", 10, "S2")]
    assert credit(both, day(20), P).value == 80
    assert credit(both[:1], day(20), P).value == 90  # S2 revoked: it is no longer an event


def test_exam_cooldown():
    assert exam_counts([], day(0), P)
    assert not exam_counts([day(0)], day(10), P)
    assert exam_counts([day(0)], day(31), P)


def test_status_is_the_most_severe_in_force_and_never_below_the_base():
    assert status_for("Account", "active", ["mute", "close_commerce"], P) == ("muted", ("close_commerce", "mute"))
    assert status_for("Account", "active", [], P) == ("active", ())
    assert status_for("Account", "suspended", ["mute"], P)[0] == "suspended"
    assert status_for("Account", "active", ["credit_deduction"], P)[0] == "active"
    assert status_for("Device", None, ["device_ban"], P)[0] == "banned"
    assert status_for("Brand", None, ["cooperation_ban", "brand_points"], P)[0] == "cooperation_banned"
    assert status_for("Note", None, ["throttle_note"], P)[0] == "throttled"
