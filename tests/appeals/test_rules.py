"""The appeal rules on plain data: filing checks, who decides, the queue, the Wilson interval, the over-turn rule
and the granted share by violation kind and detector."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ringscope.appeals import rules
from ringscope.appeals.rules import DENIED, FILED, GRANTED, MANUAL, Appeal, AppealError
from ringscope.common.errors import SettingError

T0 = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)


def appeal(appeal_id="AP-1", state=FILED, kind="spam_comment", detector="dense_blocks", filed=0.0, **more) -> Appeal:
    values = dict(appeal_id=appeal_id, state=state, subject_id="S-1", subject_kind="sanction", kind=kind,
                  detector=detector, cluster_id=None, run_id=None, target_label="Account", target_id="a1",
                  appellant="the account holder", statement="not me", material=(), filed_by="ivy",
                  filed_at=T0 + timedelta(days=filed), sanction_ids=("S-1",))
    values.update(more)
    return Appeal(**values)


# --------------------------------------------------------------------------- filing

def test_material_is_stripped_kept_once_in_order_and_bounded():
    assert rules.check_material([" doc://id-card ", "", "https://x/1", "doc://id-card"]) == ("doc://id-card",
                                                                                           "https://x/1")
    assert rules.check_material(None) == ()
    with pytest.raises(SettingError, match="at most 20"):
        rules.check_material([f"ref-{i}" for i in range(21)])
    with pytest.raises(SettingError, match="characters long"):
        rules.check_material(["x" * 501])
    with pytest.raises(SettingError, match="control character"):
        rules.check_material(["a\x07b"])


def test_a_statement_is_required_and_bounded():
    assert rules.check_text("  I run this shop myself ", "a statement", required=True) == "I run this shop myself"
    with pytest.raises(SettingError, match="needs a statement"):
        rules.check_text("  ", "a statement", required=True)
    assert rules.check_text(None, "the appellant", required=False) == ""
    with pytest.raises(SettingError, match="at most 4000"):
        rules.check_text("x" * 4001, "a statement", required=True)


def test_what_may_be_appealed():
    ours = {"sanction_id": "S-1", "state": "active", "source": "ringscope"}
    rules.check_appealable("S-1", [ours], None)
    rules.check_appealable("S-1", [{**ours, "state": "expired"}, {**ours, "state": "revoked"}], None)
    with pytest.raises(AppealError, match="no sanction or applied decision 'S-9'"):
        rules.check_appealable("S-9", [], None)
    with pytest.raises(AppealError, match="imported from the platform"):
        rules.check_appealable("S-1", [{**ours, "source": "import"}], None)
    with pytest.raises(AppealError, match="revoked already"):
        rules.check_appealable("S-1", [{**ours, "state": "revoked"}], None)
    with pytest.raises(AppealError, match="in the queue already \\(AP-7\\)"):
        rules.check_appealable("S-1", [ours], "AP-7")


def test_the_detector_of_a_decision_not_on_a_cluster_is_manual():
    assert rules.detector_of(None) == MANUAL and rules.detector_of("dense_blocks") == "dense_blocks"


# --------------------------------------------------------------------------- deciding

def test_a_filed_appeal_is_decided_once_by_someone_outside_the_decision():
    filed = appeal()
    assert rules.check_decision(filed, GRANTED, "abe", ["ivy", None]) is False
    with pytest.raises(AppealError, match="ivy took part in the decision appealed"):
        rules.check_decision(filed, DENIED, "ivy", ["ivy"])
    granted = appeal(state=GRANTED, decided_by="abe", decided_at=T0)
    assert rules.check_decision(granted, GRANTED, "abe", []) is True  # a repeat changes nothing
    with pytest.raises(AppealError, match="was granted by abe .* final"):
        rules.check_decision(granted, DENIED, "carl", [])
    with pytest.raises(ValueError):
        rules.check_decision(filed, "maybe", "abe", [])


def test_age_runs_until_now_while_filed_and_stops_at_the_verdict():
    assert appeal().age_days(T0 + timedelta(days=3, hours=12)) == pytest.approx(3.5)
    decided = appeal(state=DENIED, decided_by="abe", decided_at=T0 + timedelta(days=2))
    assert decided.age_days(T0 + timedelta(days=30)) == pytest.approx(2)


def test_the_queue_is_filtered_and_oldest_first():
    items = [appeal("AP-3", filed=2), appeal("AP-1", filed=0, kind="fake_engagement"),
             appeal("AP-2", filed=1, state=GRANTED), appeal("AP-0", filed=1, detector=MANUAL)]
    assert [a.appeal_id for a in rules.select(items)] == ["AP-1", "AP-0", "AP-2", "AP-3"]
    assert [a.appeal_id for a in rules.select(items, states=[FILED])] == ["AP-1", "AP-0", "AP-3"]
    assert [a.appeal_id for a in rules.select(items, kinds=["spam_comment"], detectors=[MANUAL])] == ["AP-0"]
    with pytest.raises(SettingError, match="unknown appeal state 'open'"):
        rules.select(items, states=["open"])


# --------------------------------------------------------------------------- the granted share

def test_wilson_interval_known_values():
    low, high = rules.wilson(7, 20)  # 35 %: the platform's share
    assert low == pytest.approx(0.1812, abs=1e-3) and high == pytest.approx(0.5671, abs=1e-3)
    assert rules.wilson(0, 10)[0] == 0.0 and rules.wilson(10, 10)[1] == pytest.approx(1.0)
    assert rules.wilson(0, 0) is None
    with pytest.raises(ValueError):
        rules.wilson(3, 2)


def test_the_over_turn_rule():
    # 9 of 12 granted (interval from ~47 %) against the rest's 30 %: flagged
    flagged, why = rules.overturned(9, 12, 30, 100)
    assert flagged and "calibration" in why
    # 5 of 12 (42 %) against 30 %: within chance at that size
    assert rules.overturned(5, 12, 30, 100) == (False, "within chance of the rest's 30%")
    # too few decided of its own, or too few others to compare with
    assert rules.overturned(9, 9, 30, 100)[0] is False and "too few decided" in rules.overturned(9, 9, 30, 100)[1]
    assert "too few other" in rules.overturned(9, 12, 3, 9)[1]
    # the same share with more appeals behind it is judged more surely
    assert rules.overturned(50, 100, 30, 100)[0] is True and rules.overturned(5, 10, 3, 10)[0] is False


def rows(kind, detector, granted, denied, filed=0):
    return [(kind, detector, GRANTED, granted), (kind, detector, DENIED, denied), (kind, detector, FILED, filed)]


def test_stats_make_a_detector_overturned_far_more_often_visible():
    data = (rows("spam_comment", "dense_blocks", 4, 16, filed=3) + rows("fake_engagement", "dense_blocks", 3, 7)
            + rows("spam_comment", "comment_templates", 11, 1) + rows("fake_engagement", MANUAL, 2, 8)
            + rows("undeclared_ad", "", 1, 1))  # a stored detector of "" counts as manual
    s = rules.stats(data)
    assert (s.overall.appealed, s.overall.decided, s.overall.granted) == (57, 54, 21)
    assert s.overall.share == pytest.approx(21 / 54) and s.platform_share == 0.35
    by_detector = {x.group: x for x in s.by_detector}
    assert set(by_detector) == {"dense_blocks", "comment_templates", MANUAL}
    templates = by_detector["comment_templates"]
    assert (templates.decided, templates.granted, templates.flagged) == (12, 11, True)
    assert templates.rest_share == pytest.approx(10 / 42)
    assert s.by_detector[0] is templates  # highest share first
    assert not by_detector["dense_blocks"].flagged and by_detector["dense_blocks"].appealed == 33
    manual = by_detector[MANUAL]
    assert (manual.decided, manual.granted, manual.flagged) == (12, 3, False)
    by_kind = {x.group: x for x in s.by_kind}
    assert by_kind["spam_comment"].decided == 32 and by_kind["undeclared_ad"].note.startswith("too few decided")


def test_stats_of_nothing_and_of_undecided_groups():
    empty = rules.stats([])
    assert (empty.overall.decided, empty.overall.share, empty.by_detector) == (0, None, ())
    only_filed = rules.stats([("spam_comment", "dense_blocks", FILED, 4)])
    assert only_filed.by_detector[0].share is None and only_filed.by_detector[0].appealed == 4
    with pytest.raises(SettingError, match="1 or more"):
        rules.stats([], min_decided=0)
