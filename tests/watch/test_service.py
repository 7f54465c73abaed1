"""The observation room on the real Neo4j: the service, a room's lifecycle across three runs, the CLI, the audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

import ringscope.commands.cli as cli
from ringscope.audit import log as audit
from ringscope.auth.roles import Actor, NotAllowed
from ringscope.common.errors import SettingError
from ringscope.detection.config import load_detection_policy
from ringscope.watch import service
from ringscope.watch.room import ESCALATED, RELEASED, RULE_REASON, WATCHING

pytestmark = pytest.mark.neo4j

POLICY = load_detection_policy()
WATCH, FLAG = POLICY.watch, POLICY.flag_threshold
IVY = Actor("ivy", "investigator")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
ACCOUNTS = ["w1", "w2", "w3", "w4"]


@pytest.fixture
def room(graph):
    graph.write("UNWIND $ids AS id CREATE (:Account {account_id: id, status: 'active'})", ids=ACCOUNTS)
    return graph


def scored_run(graph, run_id: str, risks: dict[str, float], at: datetime):
    """A completed run's stored risks (what ``detection/run.py`` writes before it updates the room), then the room
    update it makes."""
    graph.write("CREATE (r:DetectionRun {run_id: $run_id, status: 'completed', started_at: $at}) WITH r "
                "UNWIND $scores AS s MATCH (a:Account {account_id: s.id}) "
                "CREATE (r)-[:SCORED {score: s.score, cluster_id: '', detectors: [], reasons: []}]->(a)",
                run_id=run_id, at=at, scores=[{"id": k, "score": v} for k, v in risks.items()])
    return service.update_room(graph, run_id, WATCH, FLAG, now=at)


def by_account(graph, states=None):
    return {s.account_id: s for s in service.stays(graph, states)}


def audit_actions(graph):
    return [(e.action, e.target_id) for e in reversed(audit.entries(graph, limit=1000))]


def test_the_room_across_three_runs(room):
    # an investigator places w2 before any run; w4 is never in the band
    placed = service.add(room, IVY, "w2", "reported by a brand", WATCH, now=T0)
    assert (placed.state, placed.origin, placed.notified) == (WATCHING, "investigator", False)
    assert placed.ends_at == T0 + timedelta(days=WATCH.days) and placed.restriction == WATCH.restriction

    # run 1: w1 enters the watch band and is placed by the rule; w3 is below it
    first = scored_run(room, "run-1", {"w1": 0.35, "w2": 0.1, "w3": 0.2, "w4": 0.05}, T0 + timedelta(hours=1))
    assert first.counts == {"place": 1, "keep": 1}
    stays = by_account(room)
    assert set(stays) == {"w1", "w2"}
    assert (stays["w1"].origin, stays["w1"].reason, stays["w1"].risks) == ("rule", RULE_REASON, (0.35,))
    assert stays["w2"].risks == (0.1,)

    # run 2, three days on: w1 rises past the flag threshold and is escalated, never sanctioned; w3 is placed
    second = scored_run(room, "run-2", {"w1": 0.62, "w2": 0.12, "w3": 0.31}, T0 + timedelta(days=3))
    assert second.counts == {"escalate": 1, "keep": 1, "place": 1}
    queue = service.queue(room)
    assert [s.account_id for s in queue] == ["w1"] and queue[0].escalated_in == "run-2"
    assert queue[0].risks == (0.35, 0.62)
    assert room.read("MATCH (s:Sanction) RETURN count(s) AS n")[0]["n"] == 0
    assert room.read("MATCH (a:Account {account_id: 'w1'}) RETURN a.status AS s")[0]["s"] == "active"

    # run 3, past w2's end: w2 stayed clean and is released; w1 stays in the queue; w3 is kept
    third = scored_run(room, "run-3", {"w1": 0.7, "w2": 0.05, "w3": 0.33}, T0 + timedelta(days=15))
    assert third.counts == {"release": 1, "keep": 2}
    stays = by_account(room)
    assert stays["w2"].state == RELEASED and "stayed clean" in stays["w2"].release_reason
    assert stays["w2"].released_by == service.RUN_ACTOR and stays["w2"].risks == (0.1, 0.12, 0.05)
    assert stays["w1"].state == ESCALATED and stays["w1"].risks == (0.35, 0.62, 0.7)
    assert stays["w3"].state == WATCHING and stays["w3"].risks == (0.31, 0.33)

    # the same run again changes nothing and audits nothing
    entries = len(audit.entries(room, limit=1000))
    again = service.update_room(room, "run-3", WATCH, FLAG, now=T0 + timedelta(days=15))
    assert again.already_done and not again.decisions
    assert len(audit.entries(room, limit=1000)) == entries

    # an investigator resolves the escalated stay; the room keeps every stay as history
    resolved = service.release(room, IVY, "w1", "reviewed: sanction decided separately", now=T0 + timedelta(days=16))
    assert resolved.state == RELEASED and resolved.released_by == "ivy"
    assert service.queue(room) == []
    assert len(service.stays(room)) == 3 and len(service.stays(room, [RELEASED])) == 2

    assert audit_actions(room) == [
        ("watch.place", "w2"),
        ("watch.place", "w1"), ("watch.update", "run-1"),
        ("watch.escalate", "w1"), ("watch.place", "w3"), ("watch.update", "run-2"),
        ("watch.release", "w2"), ("watch.update", "run-3"),
        ("watch.release", "w1"),
    ]
    place = [e for e in audit.entries(room, action="watch.place", target_id="w1")][0]
    assert place.actor == service.RUN_ACTOR and json.loads(place.details)["notified"] is False
    assert audit.verify(room).ok


def test_a_released_account_can_be_placed_again_and_keeps_its_history(room):
    service.add(room, IVY, "w1", "first look", WATCH, days=2, now=T0)
    service.release(room, IVY, "w1", "nothing there", now=T0 + timedelta(days=1))
    service.add(room, IVY, "w1", "second look", WATCH, now=T0 + timedelta(days=5))
    history = service.stays(room, account_id="w1")
    assert [(s.state, s.reason) for s in history] == [(WATCHING, "second look"), (RELEASED, "first look")]


def test_bad_requests_are_refused_with_one_clear_reason(room):
    with pytest.raises(service.UnknownAccount, match="no account 'nobody'"):
        service.add(room, IVY, "nobody", "why", WATCH)
    with pytest.raises(SettingError, match="watch.max_days"):
        service.add(room, IVY, "w1", "why", WATCH, days=0)
    with pytest.raises(SettingError, match="reason"):
        service.add(room, IVY, "w1", "  ", WATCH)
    with pytest.raises(NotAllowed):
        service.add(room, Actor("vic", "viewer"), "w1", "why", WATCH)
    service.add(room, IVY, "w1", "why", WATCH)
    with pytest.raises(service.AlreadyWatched, match="already under observation"):
        service.add(room, IVY, "w1", "again", WATCH)
    with pytest.raises(service.NotWatched):
        service.release(room, IVY, "w2", "why")
    with pytest.raises(SettingError, match="unknown state"):
        service.stays(room, ["asleep"])
    assert [e.action for e in audit.entries(room)] == ["watch.place"]  # refusals write nothing


def test_the_cli_adds_lists_and_releases(room, use_test_db, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("RINGSCOPE_USERS", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("RINGSCOPE_ACTOR", "")
    assert cli.main(["watch", "add", "w1", "--reason", "reported by a brand", "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert "placed under observation: w1" in out and "not notified" in out
    assert cli.main(["watch", "list", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["account_id"], r["state"], r["notified"], r["restriction"]) for r in rows] == [
        ("w1", "watching", "false", WATCH.restriction)]
    assert cli.main(["watch", "list", "--format", "json", "--state", "released"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["watch", "release", "w1", "--reason", "cleared"]) == 0
    assert "released w1" in capsys.readouterr().out
    assert cli.main(["watch", "list", "--state", "all", "--format", "table"]) == 0
    assert "released" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message, code", [
    (["watch", "add", "nobody", "--reason", "x"], "ringscope: error: no account 'nobody' in the graph", 1),
    (["watch", "add", "w1", "--reason", "x", "--days", "soon"], "--days must be a whole number from 1 to 90", 2),
    (["watch", "add", "w1", "--reason", "x", "--days", "365"], "days must be a whole number from 1 to 90", 2),
    (["watch", "release", "w1", "--reason", "x"], "account w1 is not under observation", 1),
])
def test_the_cli_says_what_is_wrong_in_one_line(room, use_test_db, capsys, monkeypatch, tmp_path, argv, message,
                                                 code):
    monkeypatch.setenv("RINGSCOPE_USERS", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("RINGSCOPE_ACTOR", "")
    assert cli.main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ringscope: error:") and message in err[-1]
    assert "Traceback" not in "\n".join(err)
