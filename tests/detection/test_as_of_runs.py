"""Detection as of a time on the real Neo4j: the observation room's lifecycle over three runs on a simulated
platform with drifting accounts (honest accounts a comment ring hires for a stretch, ``simulate/drift.py``).

Run 1 is as of ten days before the stretch, run 2 as of its end, run 3 as of a day after the stretch has left the
window and the stay placed in run 2 has ended; each sees the 30 days of activity before its time
(``ringscope detect --as-of TIME --window 30``). A drifting account is not at risk in run 1, is placed on watch
(or escalated) in run 2 and, back to honest behaviour, is released in run 3; the room keeps each stay, with the
runs' times (not the wall clock's). The policy is the shipped one with the flag threshold raised to 0.99, so the
hired accounts' risk in their stretch (0.6-0.9 on this platform; the shipped threshold, 0.5, escalates them to
the investigator's queue, where only an investigator resolves a stay) falls in the watch band.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pandas as pd
import pytest
import yaml

import ringscope.commands.cli as cli
from ringscope.detection.config import DEFAULT_POLICY, load_detection_policy
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.simulate.platform import simulate
from ringscope.watch import service
from ringscope.watch.room import ESCALATED, RELEASED

pytestmark = pytest.mark.neo4j

WINDOW = 30


@pytest.fixture(scope="module")
def platform_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("drift") / "platform"
    simulate(directory, accounts=3000, seed=11, fmt="csv.gz")
    return directory


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory):
    raw = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    raw["flag_threshold"] = 0.99
    path = tmp_path_factory.mktemp("policy") / "watch-band.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def loaded(session_graph, platform_dir, tmp_path_factory):
    from ringscope.graph.admin import reset

    reset(session_graph)
    report = ingest(session_graph, platform_dir, IngestOptions(rejects_dir=tmp_path_factory.mktemp("rejects")))
    assert not report.failed
    return session_graph


def drift_truth(platform_dir) -> pd.DataFrame:
    truth = pd.read_csv(platform_dir / "drift_labels.csv.gz", dtype=str, keep_default_na=False)
    truth["start"] = pd.to_datetime(truth.started_at, utc=True)
    truth["end"] = pd.to_datetime(truth.ended_at.where(truth.ended_at != "", None), utc=True)
    return truth


def detect_as_of(moment: datetime, policy_file, capsys) -> str:
    assert cli.main(["detect", "--as-of", moment.isoformat(), "--window", str(WINDOW),
                     "--policy", str(policy_file)]) == 0
    out = capsys.readouterr()
    assert f"as of {moment.isoformat()}" in out.err
    return out.out.strip().splitlines()[-1]


def risks(graph, run_id: str) -> dict[str, float]:
    return {r["a"]: r["s"] for r in graph.read("MATCH (:DetectionRun {run_id: $r})-[s:SCORED]->(a:Account) "
                                               "RETURN a.account_id AS a, s.score AS s", r=run_id)}


def test_drifting_accounts_through_the_room_over_three_runs(loaded, use_test_db, platform_dir, policy_file, capsys):
    truth = drift_truth(platform_dir)
    returned = truth[truth.kind == "returned"]
    assert len(returned) >= 3 and returned.start.nunique() == 1  # one crew on this platform
    start, end = returned.start.iloc[0].to_pydatetime(), returned.end.iloc[0].to_pydatetime()
    policy = load_detection_policy(policy_file)
    days, band = policy.watch.days, policy.watch.threshold
    times = [start - timedelta(days=10), end, end + timedelta(days=WINDOW + days + 1)]
    run_ids = [detect_as_of(moment, policy_file, capsys) for moment in times]
    hired = list(returned.account_id)

    # run 1, before the stretch: none of them at risk, nobody placed
    first = risks(loaded, run_ids[0])
    assert all(first.get(a, 0.0) < band for a in hired), {a: first.get(a) for a in hired}
    # run 2, at the end of the stretch: every one of them is under observation, placed by this run at its time
    second = risks(loaded, run_ids[1])
    assert all(second.get(a, 0.0) >= band for a in hired), {a: second.get(a) for a in hired}
    # run 3, the stretch out of the window and the stays past their end: back to honest, released
    third = risks(loaded, run_ids[2])
    assert all(third.get(a, 0.0) < band for a in hired), {a: third.get(a) for a in hired}

    released = 0
    for account in hired:
        stays = service.stays(loaded, account_id=account)
        assert len(stays) == 1, (account, stays)
        stay = stays[0]
        assert stay.run_ids[0] == run_ids[1] and stay.started_at == times[1]
        assert stay.ends_at == times[1] + timedelta(days=days)
        if stay.state == RELEASED:  # watching at run 2, clean at its end: released by run 3, at run 3's time
            released += 1
            assert stay.run_ids == tuple(run_ids[1:]) and stay.released_at == times[2]
            assert stay.released_by == service.RUN_ACTOR and "stayed clean" in stay.release_reason
            assert stay.risks == (pytest.approx(second[account]), pytest.approx(third.get(account, 0.0)))
        else:  # escalated at run 2: it waits in the investigator's queue whatever run 3 finds
            assert stay.state == ESCALATED and stay.escalated_in == run_ids[1]
    assert released == len(hired)  # with this policy every one of them was in the watch band

    # the crew that drifts in late has not started by run 3: never placed
    for account in truth[truth.kind == "stayed"].account_id:
        assert service.stays(loaded, account_id=account) == []

    # the runs record their time and window, and `ringscope runs` shows them
    assert cli.main(["runs", "--format", "csv"]) == 0
    shown = {r["run_id"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    for run_id, moment in zip(run_ids, times):
        assert pd.Timestamp(shown[run_id]["as_of"]) == pd.Timestamp(moment) and shown[run_id]["window_days"] == "30"
    stored = loaded.read("MATCH (r:DetectionRun {run_id: $r}) RETURN r.watermark AS w, r.watch_at AS at",
                         r=run_ids[1])[0]
    assert f'"as_of": "{times[1].isoformat()}"' in stored["w"] and stored["at"] == times[1]

    # a run as of a time before the room's last moment leaves the room alone, and says so
    before = [(s.stay_id, s.state, s.risks) for s in service.stays(loaded)]
    late = detect_as_of(times[1] - timedelta(days=1), policy_file, capsys)
    assert [(s.stay_id, s.state, s.risks) for s in service.stays(loaded)] == before
    skipped = loaded.read("MATCH (r:DetectionRun {run_id: $r}) RETURN r.watch_skipped AS s, r.status AS st",
                          r=late)[0]
    assert skipped["st"] == "completed" and "before the room's last moment" in skipped["s"]

