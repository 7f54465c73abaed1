"""`ringscope health apply` on the real Neo4j: the bands of a small graph set as effects, audited; a second apply writes
nothing; a change of band clears and sets (the cleared record stays); a dry run writes nothing; who may apply; the
summary the overview reads; the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import ringscope.commands.cli as cli
from ringscope.audit import log as audit
from ringscope.auth.roles import Actor, NotAllowed
from ringscope.detection.config import load_detection_policy
from ringscope.health import effect_store, enforce
from ringscope.health.policy import load_health_policy

pytestmark = pytest.mark.neo4j

POLICY = load_health_policy()
REPORTS = load_detection_policy().reports
AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
BOB = Actor("bob", "approver")
IVY = Actor("ivy", "investigator")

# Each undeclared commercial note takes 2 points off compliance (35), each verified report 5 off user feedback (25).
ACCOUNTS = """
UNWIND $ids AS id
CREATE (:Account {account_id: id, status: 'active', registered_at: $at})
"""
UNDECLARED = """
MERGE (b:Brand {brand_id: 'ha-brand'})
WITH b
MATCH (a:Account {account_id: $account})
UNWIND range(1, $n) AS i
CREATE (a)-[:POSTED]->(:Note {note_id: $account + '-n' + toString(i), declared_commercial: false,
                              posted_at: $at})-[:PROMOTES]->(b)
"""
REMOVE_NOTES = "MATCH (:Account {account_id: $account})-[:POSTED]->(n:Note) DETACH DELETE n"
REPORTS_AGAINST = """
MATCH (by:Account {account_id: 'ha-reporter'}), (a:Account {account_id: $account})
UNWIND range(1, $n) AS i
CREATE (by)-[:FILED]->(:Report {report_id: $account + '-r' + toString(i), created_at: $at + duration({days: i}),
                               verified: true, reason: 'spam'})-[:AGAINST]->(a)
"""
REMOVE_REPORTS = "MATCH (:Account {account_id: $account})<-[:AGAINST]-(p:Report) DETACH DELETE p"
EFFECTS = "MATCH (e:HealthEffect) RETURN e {.*} AS e ORDER BY e.account_id, e.started_at"
HEALTH_ENTRIES = ("MATCH (e:AuditEntry) WHERE e.action STARTS WITH 'health.' "
                  "RETURN e.action AS action, e.target_id AS target, e.details AS details ORDER BY e.seq")


def undeclared(graph, account, n):
    graph.write(UNDECLARED, account=account, n=n, at=AT)


def world(graph):
    """ha-boost: nothing against it (100); ha-normal: 11 undeclared notes (78); ha-nocomm: 18 (compliance spent: 65);
    ha-throttled: 18 and 2 verified reports (55); ha-reporter files the reports (100)."""
    graph.write(ACCOUNTS, ids=["ha-boost", "ha-normal", "ha-nocomm", "ha-throttled", "ha-reporter"],
                at=AT - timedelta(days=400))
    undeclared(graph, "ha-normal", 11)
    undeclared(graph, "ha-nocomm", 18)
    undeclared(graph, "ha-throttled", 18)
    graph.write(REPORTS_AGAINST, account="ha-throttled", n=2, at=AT)


def effects(graph) -> list[dict]:
    return [r["e"] for r in graph.read(EFFECTS)]


def in_force(graph) -> dict[str, str]:
    return {e["account_id"]: e["band"] for e in effects(graph) if e["state"] == "active"}


def entries(graph) -> list[tuple[str, str, dict]]:
    return [(r["action"], r["target"], json.loads(r["details"])) for r in graph.read(HEALTH_ENTRIES)]


def apply(graph, at, **kw):
    return enforce.apply(graph, BOB, POLICY, reports_policy=REPORTS, now=at, **kw)


def test_apply_sets_each_band_once_audits_it_and_a_second_apply_writes_nothing(graph):
    world(graph)
    first = apply(graph, AT)
    assert in_force(graph) == {"ha-boost": "boost", "ha-nocomm": "no_commercial", "ha-throttled": "throttled",
                               "ha-reporter": "boost"}
    assert (first.set, first.cleared, first.unchanged, first.skipped) == (4, 0, 1, 0)
    assert first.transitions == {"normal->boost": 2, "normal->no_commercial": 1, "normal->throttled": 1}
    assert first.distribution.bands == {"boost": 2, "normal": 1, "no_commercial": 1, "throttled": 1}
    throttled = next(e for e in effects(graph) if e["account_id"] == "ha-throttled")
    assert (throttled["index"], throttled["reach_factor"], throttled["commercial"], throttled["policy_version"]) == (
        pytest.approx(55.0), POLICY.effects.throttle_reach_factor, False, POLICY.version)
    assert throttled["set_by"] == "bob" and throttled["set_in"] == first.apply_id
    # every change audited, in the same commits; the summary too
    logged = entries(graph)
    assert [a for a, _, _ in logged] == ["health.effect"] * 4 + ["health.apply"]
    details = {t: d for a, t, d in logged if a == "health.effect"}
    assert details["ha-throttled"] == {
        "effect_id": throttled["effect_id"], "state": "active", "band": "throttled", "index": 55.0,
        "reach_factor": 0.5, "commercial": False, "was": "normal", "to": "throttled", "apply_id": first.apply_id,
        "policy_version": POLICY.version}
    assert details["ha-boost"]["commercial"] is True and details["ha-nocomm"]["commercial"] is False
    # the summary the overview reads
    latest = enforce.latest_apply(graph)
    assert (latest.apply_id, latest.by, latest.role, latest.distribution.accounts,
            latest.set) == (first.apply_id, "bob", "approver", 5, 4)
    assert latest.distribution.bands == first.distribution.bands
    assert latest.distribution.bins == first.distribution.bins
    assert latest.at == AT and sum(n for _, _, n in latest.distribution.bins) == 5
    # again, nothing changed: nothing written but the summary
    second = apply(graph, AT + timedelta(hours=1))
    assert (second.set, second.cleared, second.unchanged, second.transitions) == (0, 0, 5, {})
    assert [a for a, _, _ in entries(graph)] == ["health.effect"] * 4 + ["health.apply"] * 2
    assert len(effects(graph)) == 4
    assert enforce.latest_apply(graph).apply_id == second.apply_id
    assert audit.verify(graph).ok


def test_a_change_of_band_clears_then_sets_and_a_return_to_normal_clears_keeping_the_history(graph):
    world(graph)
    first = apply(graph, AT)
    graph.write(REMOVE_REPORTS, account="ha-throttled")  # 55 -> 65: throttled -> no_commercial
    undeclared(graph, "ha-boost", 11)  # 100 -> 78: boost -> normal
    graph.write(REMOVE_NOTES, account="ha-normal")  # 78 -> 100: normal -> boost
    later = AT + timedelta(days=1)
    second = apply(graph, later)
    assert second.transitions == {"boost->normal": 1, "normal->boost": 1, "throttled->no_commercial": 1}
    assert (second.set, second.cleared, second.unchanged) == (2, 2, 2)
    assert in_force(graph) == {"ha-normal": "boost", "ha-nocomm": "no_commercial", "ha-throttled": "no_commercial",
                               "ha-reporter": "boost"}
    history = [e for e in effects(graph) if e["account_id"] == "ha-throttled"]
    assert [(e["band"], e["state"]) for e in history] == [("throttled", "cleared"), ("no_commercial", "active")]
    old = history[0]
    assert (old["ended_at"], old["cleared_in"], old["cleared_to"], old["cleared_index"], old["cleared_by"]) == (
        later, second.apply_id, "no_commercial", pytest.approx(65.0), "bob")
    assert old["set_in"] == first.apply_id and history[1]["started_at"] == later
    boost = next(e for e in effects(graph) if e["account_id"] == "ha-boost")
    assert (boost["state"], boost["cleared_to"]) == ("cleared", "normal")
    # in the audit log, an account's clear comes before its set
    changed = [(t, d["state"], d["band"]) for a, t, d in entries(graph)[5:] if a == "health.effect"]
    assert changed == [("ha-boost", "cleared", "boost"), ("ha-normal", "active", "boost"),
                       ("ha-throttled", "cleared", "throttled"), ("ha-throttled", "active", "no_commercial")]
    # what the panel and packs read: the effect in force first, then the cleared ones
    of = enforce.effects_of(graph, ["ha-throttled", "ha-normal", "nobody"])
    assert [(e.band, e.state) for e in of["ha-throttled"]] == [("no_commercial", "active"), ("throttled", "cleared")]
    assert of["nobody"] == [] and enforce.in_force_of(graph, "ha-boost") is None
    assert enforce.in_force_of(graph, "ha-normal").band == "boost"
    # an account deleted from the graph has its effect cleared
    graph.write("MATCH (a:Account {account_id: 'ha-reporter'}) DETACH DELETE a")
    third = apply(graph, AT + timedelta(days=2))
    assert third.transitions == {"boost->gone": 1} and "ha-reporter" not in in_force(graph)
    assert audit.verify(graph).ok


def test_a_dry_run_writes_nothing_and_says_what_would_change(graph):
    world(graph)
    head = audit.head(graph)
    plan = enforce.apply(graph, IVY, POLICY, reports_policy=REPORTS, dry_run=True, now=AT)  # any role may look
    assert plan.dry_run and (plan.set, plan.cleared) == (4, 0)
    assert [(c.kind, c.account_id, c.band) for c in plan.sample] == [
        ("set", "ha-boost", "boost"), ("set", "ha-nocomm", "no_commercial"), ("set", "ha-reporter", "boost"),
        ("set", "ha-throttled", "throttled")]
    assert effects(graph) == [] and audit.head(graph) == head and enforce.latest_apply(graph) is None


def test_only_approvers_and_admins_apply(graph):
    world(graph)
    with pytest.raises(NotAllowed, match="ivy \\(investigator\\) may not apply health effects; roles that may: "
                                         "approver, admin"):
        enforce.apply(graph, IVY, POLICY, reports_policy=REPORTS, now=AT)
    assert effects(graph) == []


def test_the_effects_in_force_are_read_in_pages(graph):
    world(graph)
    apply(graph, AT)
    assert sorted(e.account_id for e in effect_store.in_force(graph, page=1)) == sorted(in_force(graph))
    assert len(effect_store.in_force(graph, page=3)) == 4


def test_the_cli_applies_dry_runs_and_refuses_without_the_permission(graph, use_test_db, tmp_path, monkeypatch,
                                                                     capsys):
    from ringscope.auth.users import save_user

    world(graph)
    users = tmp_path / "users.yaml"
    save_user("ivy", "investigator", None, users)
    save_user("abe", "approver", None, users)
    monkeypatch.setenv("RINGSCOPE_USERS", str(users))
    monkeypatch.delenv("RINGSCOPE_ACTOR", raising=False)
    assert cli.main(["health", "apply", "--actor", "ivy"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ringscope: error: ivy (investigator) may not apply health effects; roles that may: approver, "
                   "admin"]
    assert cli.main(["health", "apply", "--dry-run", "--actor", "ivy", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] and out["apply_id"] is None and out["set"] == 4
    assert out["transitions"] == {"normal->boost": 2, "normal->no_commercial": 1, "normal->throttled": 1}
    assert out["sample"][0]["account_id"] == "ha-boost" and effects(graph) == []
    assert cli.main(["health", "apply", "--actor", "abe"]) == 0
    text = capsys.readouterr().out
    assert "5 accounts scored" in text and "set 4 effects, cleared 0; 1 accounts unchanged" in text
    assert "normal->throttled 1" in text and len(in_force(graph)) == 4
    assert cli.main(["health", "apply", "--actor", "abe", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["set"] == 0
    assert cli.main(["health"]) == 2
    assert "say what to show" in capsys.readouterr().err
