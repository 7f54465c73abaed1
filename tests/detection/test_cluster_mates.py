"""Cluster mates: an infrastructure cluster whose other members are flagged on other evidence raises the
rest, never alone, never from a household, never from its own flags."""

import pandas as pd
import pytest

from ringscope.common.errors import SettingError
from ringscope.detection.cluster_mates import cluster_mates_evidence
from ringscope.detection.config import DetectionPolicy, load_detection_policy
from ringscope.detection.findings import ClusterFinding, Reason
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.pipeline import DetectorResult, account_risks, flagged_ids
from ringscope.detection.scoring import combine

DETECTORS = ("shared_infrastructure", "underwater")


def policy(likelihood_ratio=3.0, min_members=5):
    return DetectionPolicy.model_validate({
        "version": 2, "flag_threshold": 0.5,
        "detectors": {"shared_infrastructure": {"weight": 0.85}, "underwater": {"weight": 0.7}},
        "profile_signals": {"likelihood_ratio": 1},
        "cluster_mates": {"likelihood_ratio": likelihood_ratio, "min_members": min_members}})


def cluster(detector, members, score):
    return ClusterFinding(detector, tuple(members), score, (Reason(detector, "why"),))


def risks(findings, **kw):
    results = [DetectorResult(d, [f for f in findings if f.detector == d], 0.0) for d in DETECTORS]
    p = policy(**kw)
    out = account_risks(results, p, PlatformFrames.comments_only(pd.DataFrame()))
    return out, flagged_ids(out, p)


def test_a_device_cluster_whose_other_members_are_flagged_lifts_the_rest_over_the_threshold():
    """An aged farm: six accounts on shared devices (risk 0.425 each from that alone), four of them flagged
    for undeclared seeding notes; the two that only warmed up their mates' notes are flagged too."""
    farm = [f"f{i}" for i in range(6)]
    out, flagged = risks([cluster("shared_infrastructure", farm, 0.5),
                          cluster("underwater", farm[:4], 0.9)])
    assert flagged == set(farm)
    assert out["f5"].detectors[-1] == "cluster_mates"
    assert "4 of the 5 other members" in out["f5"].reasons[-1]
    # the four flagged on their own evidence keep it: the corroborating reason is only where it decided
    assert all("cluster_mates" not in out[a].detectors for a in farm[:4])
    assert all(not r.startswith("[cluster_mates]") for a in farm[:4] for r in out[a].reasons)


def test_a_household_is_too_small_to_convict_one_member_by_anothers_flag():
    family = ["mum", "dad", "kid"]
    out, flagged = risks([cluster("shared_infrastructure", family, 0.5), cluster("underwater", ["mum", "dad"], 0.9)])
    assert flagged == {"mum", "dad"}
    # the same with min_members 3 would lift the kid: the size is what protects it
    assert "kid" in risks([cluster("shared_infrastructure", family, 0.5),
                           cluster("underwater", ["mum", "dad"], 0.9)], min_members=3)[1]


def test_a_cluster_does_not_lift_itself_and_lends_nothing_outside_itself():
    strong = cluster("shared_infrastructure", [f"s{i}" for i in range(6)], 0.9)  # flagged by itself
    weak = cluster("shared_infrastructure", ["s0", "s1", "s2", "w0", "w1"], 0.5)
    evidence = cluster_mates_evidence([strong, weak], combine([], {}), 0.5, ["shared_infrastructure"], 5, 0.5)
    assert evidence == {}
    out, flagged = risks([strong, weak, cluster("underwater", ["x"], 0.9)])
    assert "w0" not in flagged and "x" in flagged and out["x"].detectors == ("underwater",)


def test_likelihood_ratio_one_turns_it_off_and_the_shipped_policy_has_it_on():
    farm = [f"f{i}" for i in range(6)]
    _, flagged = risks([cluster("shared_infrastructure", farm, 0.5), cluster("underwater", farm[:4], 0.9)],
                       likelihood_ratio=1.0)
    assert flagged == set(farm[:4])
    shipped = load_detection_policy().cluster_mates
    assert shipped.likelihood_ratio > 1 and shipped.detectors == ("shared_infrastructure",)


def test_an_unknown_detector_in_the_policy_is_named(tmp_path):
    text = (load_detection_policy.__globals__["DEFAULT_POLICY"]).read_text()
    bad = tmp_path / "policy.yaml"
    bad.write_text(text.replace("cluster_mates:\n  likelihood_ratio: 3\n  detectors: [shared_infrastructure]",
                                "cluster_mates:\n  likelihood_ratio: 3\n  detectors: [shared_infra]"))
    with pytest.raises(SettingError, match="cluster_mates.detectors: shared_infra: unknown detector"):
        load_detection_policy(bad)
