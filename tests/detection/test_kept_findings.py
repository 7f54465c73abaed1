"""Findings kept on disk between the parts of a long run (``detect --engine spark --resume``)."""

from __future__ import annotations

import gzip

from ringscope.detection.findings import ClusterFinding, Evidence, Reason, finding_from_dict, finding_to_dict
from ringscope.detection.kept_findings import KeptFindings
from ringscope.detection.pipeline import DetectorResult


def finding(members=("a2", "a1"), detector="lockstep"):
    reason = Reason("lockstep_comments", "commented together on ⟦IP:1.2.3.4⟧", (
        Evidence("comment", ("c1", "c2")), Evidence("time_window", ("2025-01-01T00:00:00+00:00",
                                                                   "2025-01-01T00:10:00+00:00"))))
    return ClusterFinding(detector, members, 0.75, (reason,), member_scores={"a1": 0.5},
                          member_reasons={"a2": (Reason("own", "only a2", ()),)})


def test_a_finding_comes_back_equal_from_its_json_form():
    original = finding()
    back = finding_from_dict(finding_to_dict(original))
    assert back == original and back.key == original.key


def test_kept_findings_come_back_for_their_key_only_and_a_new_key_replaces_the_old(tmp_path):
    kept = KeptFindings(tmp_path, "/lake/")
    assert kept.load("lockstep", "k1") is None
    kept.keep("k1", DetectorResult("lockstep", [finding()], 12.5, [{"entry": "n1", "heat": 0.5}]))
    back = kept.load("lockstep", "k1")
    assert back.findings == [finding()] and back.ratings == [{"entry": "n1", "heat": 0.5}] and back.seconds == 12.5
    assert kept.load("lockstep", "k2") is None
    assert KeptFindings(tmp_path, "/lake").load("lockstep", "k1") is not None  # the same location
    assert KeptFindings(tmp_path, "/other").load("lockstep", "k1") is None
    kept.keep("k9", DetectorResult("lockstep_pairs", [], 1.0))  # a detector whose name starts alike keeps its own
    kept.keep("k2", DetectorResult("lockstep", [finding(("a3", "a4", "a5"))], 3.0))
    assert kept.load("lockstep", "k1") is None and kept.load("lockstep", "k2").findings[0].members == ("a3", "a4", "a5")
    assert kept.load("lockstep_pairs", "k9") is not None
    assert sorted(p.name for p in kept.folder.iterdir()) == ["lockstep.k2.json.gz", "lockstep_pairs.k9.json.gz"]


def test_a_damaged_file_is_not_read_half_the_detector_runs_again(tmp_path):
    kept = KeptFindings(tmp_path, "/lake")
    path = kept.keep("k1", DetectorResult("lockstep", [finding()], 1.0))
    path.write_bytes(gzip.compress(b'{"format": 1, "detector": "lockstep", "key": "k1", "findings": ['))
    assert kept.load("lockstep", "k1") is None
    path.write_bytes(b"not gzip")
    assert kept.load("lockstep", "k1") is None
