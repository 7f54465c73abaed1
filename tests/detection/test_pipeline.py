"""The pipeline: one table of detectors, one params validation, findings labelled by policy key."""

import pandas as pd
import pytest

import ringscope.detection.pipeline as pipeline
from ringscope.common.errors import SettingError
from ringscope.detection.config import DetectionPolicy
from ringscope.detection.findings import ClusterFinding
from ringscope.detection.lockstep import LockstepParams
from ringscope.detection.pipeline import DETECTORS, Detector, run_all, validate_params
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.underwater import FlaggedIntermediaryParams
from tests.detection.comment_rows import comment_frame


def policy(**detectors):
    return DetectionPolicy.model_validate({"version": 2, "flag_threshold": 0.5, "detectors": detectors})


def test_validation_gives_each_enabled_detector_its_params_object():
    params = validate_params(policy(lockstep={"weight": 0.9, "params": {"window": "5min"}},
                                    qa_act={"weight": 0.8, "enabled": False, "params": {"colour": "red"}}))
    assert params == {"lockstep": LockstepParams(window=pd.Timedelta(minutes=5))}


def test_validation_names_the_detector_and_the_key():
    with pytest.raises(SettingError, match=r"detectors\.intermediary_flagged_accounts\.params\.min_flaged: "
                                           r"unknown parameter \(known: max_evidence, min_flagged, min_fraction\)"):
        validate_params(policy(intermediary_flagged_accounts={"weight": 0.4, "params": {"min_flaged": 2}}))
    with pytest.raises(SettingError, match=r"detectors\.comment_template\.params\.co_window: 'later' is not a "
                                           r"valid duration \(e\.g\. 15min, or seconds\)"):
        validate_params(policy(comment_template={"weight": 0.8, "params": {"co_window": "later"}}))


def test_the_flagging_detector_runs_last_over_what_the_others_flagged(monkeypatch):
    seen = {}

    def first(frames, params):
        return [ClusterFinding("first", ("b", "a"), 0.9, ()), ClusterFinding("first", ("c",), 0.1, ())]

    def last(frames, flagged, params):
        seen.update(flagged=flagged, params=params)
        return []

    monkeypatch.setattr(pipeline, "DETECTORS", {"last": Detector(FlaggedIntermediaryParams, last, after_flagging=True),
                                                "first": Detector(LockstepParams, first)})
    results = run_all(PlatformFrames.comments_only(pd.DataFrame()),
                      policy(last={"weight": 0.4, "params": {"min_flagged": 5}}, first={"weight": 0.9}))
    assert [r.name for r in results] == ["first", "last"]
    assert seen == {"flagged": ("a", "b"), "params": FlaggedIntermediaryParams(min_flagged=5)}
    assert seen["flagged"].detectors == {"a": ("first",), "b": ("first",)}  # where each flag came from


def test_every_finding_is_labelled_with_the_policy_key_of_its_detector():
    rows = []
    for k in range(3):
        rows += [(f"q{k}", "asker", f"n{k}", "姐妹这个在哪里买的？求链接", None),
                 (f"a{k}", "answerer", f"n{k}", "链接私你了 加V信shop888", f"q{k}"),
                 (f"b{k}", "helper", f"n{k}", "V信 shop888 私聊", None)]
    script = "这款精华液真的太好用了强烈推荐姐妹们"
    rows += [(f"t{i}", f"shill{i}", "hot", script + "!" * i, None) for i in range(4)]
    comments = comment_frame(rows)
    comments["created_at"] = pd.Timestamp("2025-03-01T10:00:00Z") + pd.to_timedelta(range(len(rows)), unit="min")
    text_detectors = ("comment_template", "offplatform_lure", "qa_act")
    results = run_all(PlatformFrames.comments_only(comments), policy(**{n: {"weight": 0.8} for n in text_detectors}))
    assert [r.name for r in results] == list(text_detectors)
    assert all(r.findings for r in results)
    assert all(f.detector == r.name for r in results for f in r.findings)
    assert set(DETECTORS) >= set(text_detectors)


def test_parallel_tasks_keep_the_text_detectors_together_and_start_the_longest_first():
    names = [n for n, d in DETECTORS.items() if not d.after_flagging]
    tasks = pipeline.parallel_tasks(names)
    assert sorted(n for task in tasks for n in task) == sorted(names)  # each once
    text = [task for task in tasks if "comment_template" in task]
    assert text == [("comment_template", "offplatform_lure", "qa_act")]  # in DETECTORS order, one task
    notes = [task for task in tasks if "copied_notes" in task]
    assert notes == [("copied_notes", "farmed_declared")]  # farmed_declared reuses copied_notes' families
    costs = [sum(DETECTORS[n].cost for n in task) for task in tasks]
    assert costs == sorted(costs, reverse=True)


def test_in_one_process_a_shared_preparation_is_dropped_when_its_task_ends():
    """``memory_plan`` counts one task at a time for one process; the comments' texts prepared for the text
    task must not stay while the detectors of other tasks run (they did, in ``DETECTORS`` order)."""
    from ringscope.detection import comment_text

    held = {}

    def reported(result):
        held[result.name] = comment_text._LAST is not None

    names = ["lockstep", "comment_template", "offplatform_lure", "dense_blocks"]
    frames = _text_frames()
    frames.comments["created_at"] = pd.Timestamp("2025-03-01T10:00:00Z") + pd.to_timedelta(range(300), unit="min")
    results = run_all(frames, policy(**{n: {"weight": 0.8} for n in names}), on_done=reported, workers=1)
    assert [r.name for r in results] == names  # in running order, whatever order they ran in
    assert held == {"comment_template": True, "offplatform_lure": True, "lockstep": False, "dense_blocks": False}
    assert comment_text._LAST is None


def test_as_many_processes_run_as_their_largest_tasks_fit_in_memory():
    assert pipeline.workers_that_fit([3, 1, 2], available=5, workers=2) == 2   # 3 + 2
    assert pipeline.workers_that_fit([3, 1, 2], available=4, workers=2) == 1
    assert pipeline.workers_that_fit([3, 1, 2], available=6, workers=8) == 3   # never more than the tasks
    assert pipeline.workers_that_fit([3, 1, 2], available=2, workers=2) == 0   # the largest alone does not fit


def _text_frames():
    rows = [(f"c{i}", f"a{i % 7}", f"n{i % 3}", f"some comment text {i}", None) for i in range(300)]
    return PlatformFrames.comments_only(comment_frame(rows))


def test_detection_that_cannot_fit_in_memory_is_refused_before_it_starts_naming_the_estimate(monkeypatch):
    frames = _text_frames()
    size = frames.nbytes()
    assert size > 0
    monkeypatch.setattr(pipeline, "available_memory", lambda: size)  # less than comment_template's 2.07 x
    names = ["lockstep", "comment_template", "offplatform_lure"]
    with pytest.raises(pipeline.RingscopeError,
                       match=r"not enough memory .* comment_template \+ offplatform_lure needs about .* "
                             r"RINGSCOPE_NEO4J_PAGECACHE.*RINGSCOPE_DETECT_MEMORY_CHECK=off"):
        pipeline.memory_plan(frames, names, workers=2)
    with pytest.raises(pipeline.RingscopeError, match="not enough memory"):
        run_all(frames, policy(comment_template={"weight": 0.8}), workers=1)
    # room for the text task alone (2.07 x the frames, with the headroom), not beside lockstep (1.07 x)
    monkeypatch.setattr(pipeline, "available_memory", lambda: int(2.6 * size / pipeline.MEMORY_HEADROOM))
    assert pipeline.memory_plan(frames, names, workers=2) == 1
    monkeypatch.setattr(pipeline, "available_memory", lambda: int(3.4 * size / pipeline.MEMORY_HEADROOM))
    assert pipeline.memory_plan(frames, names, workers=2) == 2
    monkeypatch.setattr(pipeline, "available_memory", lambda: None)  # the system does not say: as asked
    assert pipeline.memory_plan(frames, names, workers=2) == 2


def test_the_memory_check_can_be_turned_off_and_a_bad_value_names_the_setting(monkeypatch):
    frames = _text_frames()
    monkeypatch.setattr(pipeline, "available_memory", lambda: 1)
    monkeypatch.setenv("RINGSCOPE_DETECT_MEMORY_CHECK", "off")
    assert pipeline.memory_plan(frames, ["comment_template"], workers=2) == 2
    monkeypatch.setenv("RINGSCOPE_DETECT_MEMORY_CHECK", "maybe")
    with pytest.raises(SettingError, match=r"RINGSCOPE_DETECT_MEMORY_CHECK='maybe': expected on or off"):
        pipeline.memory_plan(frames, ["comment_template"], workers=2)



def test_a_detector_process_the_system_kills_is_a_clear_error_naming_what_did_not_finish(monkeypatch):
    # The kernel's out-of-memory killer ends a forked detector without a word; the user saw the pool's
    # BrokenProcessPool traceback (a 1 M run beside a 10 M Spark run, 2026-12-07).
    import os

    from ringscope.common.errors import RingscopeError

    def fine(frames, params):
        return []

    def killed(frames, params):
        os._exit(137)  # as a SIGKILL'd process leaves its pool

    monkeypatch.setattr(pipeline, "DETECTORS", {"fine": Detector(LockstepParams, fine, cost=1),
                                                "killed": Detector(LockstepParams, killed, cost=2)})
    monkeypatch.setenv("RINGSCOPE_DETECT_MEMORY_CHECK", "off")
    with pytest.raises(RingscopeError, match=r"a detector process ended before its result came back .*not "
                                             r"finished: .*killed.*RINGSCOPE_DETECT_WORKERS=1"):
        run_all(PlatformFrames.comments_only(pd.DataFrame()), policy(fine={"weight": 0.9}, killed={"weight": 0.9}),
                workers=2)
