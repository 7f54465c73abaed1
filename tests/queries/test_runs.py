"""How runs show: a run that says ``running`` but no longer holds the detection lock is ``stalled``."""

import pytest

from ringscope.queries.detection import STALLED, runs
from ringscope.queries.overview import runs_in_progress

pytestmark = pytest.mark.neo4j

RUN = ("CREATE (:DetectionRun {run_id: $run_id, status: $status, started_at: datetime() - duration({minutes: $ago}), "
       "stage: 'ran lockstep'})")
LOCK = ("MERGE (l:DetectionLock {name: 'detect'}) "
        "SET l.run_id = $run_id, l.expires_at = datetime() + duration({minutes: $minutes})")


def shown(graph) -> dict[str, tuple[str, str | None]]:
    return {r.run_id: (r.status, r.error) for r in runs(graph)}


def test_a_running_run_holding_its_lock_shows_running_and_one_whose_lock_lapsed_shows_stalled(graph):
    graph.write(RUN, run_id="run-done", status="completed", ago=30)
    graph.write(RUN, run_id="run-live", status="running", ago=2)
    graph.write(RUN, run_id="run-dead", status="running", ago=20)
    graph.write(LOCK, run_id="run-live", minutes=9)
    assert shown(graph) == {"run-done": ("completed", None), "run-live": ("running", None),
                            "run-dead": ("stalled", STALLED)}
    assert {r.run_id: r.status for r in runs_in_progress(graph)} == {"run-live": "running", "run-dead": "stalled"}
    # The live run's process dies too: once its lock lapses it is stalled as well.
    graph.write(LOCK, run_id="run-live", minutes=-1)
    assert shown(graph)["run-live"] == ("stalled", STALLED)


def test_without_any_lock_a_running_run_is_stalled(graph):
    graph.write(RUN, run_id="run-orphan", status="running", ago=1)
    assert shown(graph) == {"run-orphan": ("stalled", STALLED)}
