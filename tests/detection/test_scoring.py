import pandas as pd
import pytest

from ringscope.detection.compare import compare_clusters
from ringscope.detection.findings import ClusterFinding, Reason
from ringscope.detection.scoring import combine


def finding(detector, members, score, text="why", member_scores=None):
    return ClusterFinding(detector, tuple(members), score, (Reason(detector, text),),
                          member_scores=member_scores or {})


def test_noisy_or_combines_independent_detectors():
    risks = combine([finding("a", ["x", "y"], 0.8), finding("b", ["x"], 0.5)], {"a": 1.0, "b": 0.6})
    assert risks["x"].score == pytest.approx(1 - (1 - 0.8) * (1 - 0.3))
    assert risks["y"].score == pytest.approx(0.8)
    assert risks["x"].detectors == ("a", "b")  # strongest first


def test_one_detector_alone_is_capped_by_its_weight():
    risks = combine([finding("a", ["x"], 1.0)], {"a": 0.7})
    assert risks["x"].score == pytest.approx(0.7)


def test_the_best_cluster_of_a_detector_counts_once_and_is_the_primary():
    weak, strong = finding("a", ["x", "z"], 0.3), finding("a", ["x", "w"], 0.9)
    risks = combine([weak, strong], {"a": 1.0})
    assert risks["x"].score == pytest.approx(0.9)
    assert risks["x"].cluster_key == strong.key


def test_member_scores_refine_the_cluster_score():
    risks = combine([finding("a", ["x", "y"], 0.9, member_scores={"y": 0.2})], {"a": 1.0})
    assert risks["y"].score == pytest.approx(0.2)


def test_reasons_name_the_detector_and_carry_no_separator():
    risks = combine([finding("a", ["x"], 0.9, text="shares device d1; and d2")], {"a": 1.0})
    assert risks["x"].reasons == ("[a] shares device d1, and d2",)


def test_disabled_or_zero_weight_detectors_do_not_count():
    assert combine([finding("a", ["x"], 0.9)], {"a": 0.0}) == {}


def test_same_input_same_scores():
    fs = [finding("a", ["x", "y", "z"], 0.7), finding("b", ["y", "z"], 0.4)]
    assert combine(fs, {"a": 0.9, "b": 0.8}) == combine(list(reversed(fs)), {"a": 0.9, "b": 0.8})


def test_compare_runs_names_each_kind_of_change():
    previous = {"p1": frozenset("abcd"), "p2": frozenset("efgh"), "p3": frozenset("ijk"), "p4": frozenset("xyz")}
    current = {"c1": frozenset("abcd"), "c2": frozenset("efghi"), "c3": frozenset("ij"), "c5": frozenset("mno")}
    kinds = {(c.change, c.previous_id, c.current_id) for c in compare_clusters(previous, current)}
    assert kinds == {("persisting", "p1", "c1"), ("grown", "p2", "c2"), ("shrunk", "p3", "c3"),
                     ("new", None, "c5"), ("dissolved", "p4", None)}


def test_findings_carry_the_weight_of_the_detector_that_made_them():
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.frames import PlatformFrames
    from ringscope.detection.pipeline import DetectorResult, account_risks, finding_weights

    policy = load_detection_policy()
    weights = finding_weights(policy)
    # a finding's label is the policy key of its detector: the weight is looked up directly
    assert weights["comment_template"] == weights["qa_act"] == policy.detectors["comment_template"].weight
    assert weights == {name: d.weight for name, d in policy.detectors.items()}
    results = [DetectorResult("comment_template", [finding("comment_template", ["x"], 0.9)], 0.0),
               DetectorResult("qa_act", [finding("qa_act", ["y"], 0.9)], 0.0)]
    risks = account_risks(results, policy, PlatformFrames.comments_only(pd.DataFrame()))
    assert risks["x"].score == pytest.approx(0.9 * weights["comment_template"])
    assert risks["y"].detectors == ("qa_act",)
