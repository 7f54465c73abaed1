"""The feed on the real Neo4j: a consumer reading it in pieces across apply, approve, revoke, the observation room
and expiry holds exactly the set in force; the webhook delivers the same events, signed, resuming after failures."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from ringscope.audit import log as audit
from ringscope.common.errors import SettingError
from ringscope.feed import service as feed
from ringscope.feed.cursor import CursorFile
from ringscope.feed.events import in_force_set
from ringscope.feed.webhook import DeliveryFailed, endpoint
from ringscope.health import enforce
from ringscope.health.policy import load_health_policy
from ringscope.sanctions import service as sanctions
from ringscope.sanctions.propagation import Decision, NodeRef
from ringscope.watch import service as watch
from tests.feed.conftest import SECRET
from tests.sanctions.conftest import ALICE, BOB, accounts, day, notes, uses
from tests.watch.test_service import WATCH, scored_run

pytestmark = pytest.mark.neo4j

IN_FORCE = """
CALL () {
  MATCH (s:Sanction {source: 'ringscope', state: 'active'})
  RETURN s.sanction_id AS id, s.target_id AS target_id, s.action AS action, s.expires_at AS ends_at
  UNION
  MATCH (w:WatchStay) WHERE w.state IN ['watching', 'escalated']
  RETURN w.stay_id AS id, w.account_id AS target_id, w.restriction AS action, w.ends_at AS ends_at
  UNION
  MATCH (e:HealthEffect {state: 'active'})
  RETURN e.effect_id AS id, e.account_id AS target_id, e.band AS action, null AS ends_at
}
RETURN id, target_id, action, ends_at
"""


def in_force_in_the_graph(graph) -> dict[str, tuple]:
    return {r["id"]: (r["target_id"], r["action"], r["ends_at"]) for r in graph.read(IN_FORCE)}


def as_held(held: dict[str, dict]) -> dict[str, tuple]:
    return {i: (e["target_id"], e["action"], datetime.fromisoformat(e["ends_at"]) if e["ends_at"] else None)
            for i, e in held.items()}


class Consumer:
    """A platform's enforcement service: reads the feed in small pieces from its cursor, keeps what is in force."""

    def __init__(self, graph):
        self.graph, self.cursor, self.events, self.held = graph, 0, [], {}

    def catch_up(self, now):
        while True:
            page = feed.read(self.graph, self.cursor, limit=2, now=now)
            lines = [json.loads(e.json()) for e in page.events]  # what crosses the wire
            self.events += lines
            self.held = in_force_set(lines, self.held)
            self.cursor = page.cursor
            if not page.more:
                return


def story(graph, consumer=None):
    """Apply, a silent throttle, a decision that waits for approval, approval, revocation, the room after two
    detection runs, a release; the consumer catches up after each step when given."""
    def step(now):
        if consumer is not None:
            consumer.catch_up(now)
            assert as_held(consumer.held) == in_force_in_the_graph(graph)

    accounts(graph, "f1", "f2", "f3", "f4")
    uses(graph, [("f1", "fd1"), ("f2", "fd1")])
    notes(graph, [("f1", "fn1")])
    spam = Decision("spam_comment", (NodeRef("Account", "f1"), NodeRef("Note", "fn1")), reason="spam 加我13812345678")
    p = sanctions.preview(graph, spam, ALICE, now=day(0))
    sanctions.apply(graph, p.preview_id, ALICE, now=day(0))  # the note throttled 7 days, credit deducted
    watch.add(graph, ALICE, "f3", "reported by a brand", WATCH, now=day(0.5))
    step(day(0.5))
    farm = sanctions.preview(graph, Decision("farm_operation", (NodeRef("Account", "f2"),), reason="farm"), ALICE,
                             now=day(1))
    applied = sanctions.apply(graph, farm.preview_id, ALICE, now=day(1))  # ban and device ban wait; f1 to review
    assert len(applied.pending_ids) == 2 and len(applied.review_ids) == 1
    step(day(1))
    sanctions.approve(graph, farm.preview_id, BOB, now=day(2))
    step(day(2))
    ban = next(farm.ids[e.key] for e in farm.effects if e.action == "permanent_ban")
    sanctions.revoke(graph, ban, BOB, "appeal granted", now=day(3))  # the device ban and the review follow
    step(day(3))
    scored_run(graph, "feed-run-1", {"f4": 0.35}, day(3.5))  # f4 placed by the rule
    scored_run(graph, "feed-run-2", {"f4": 0.9}, day(4))  # and escalated: still throttled, in a queue
    watch.release(graph, ALICE, "f3", "nothing there", now=day(4.5))
    step(day(4.5))
    return p


def test_a_consumer_reconstructs_exactly_the_set_in_force_across_apply_approve_revoke_and_expiry(graph):
    consumer = Consumer(graph)
    spam = story(graph, consumer)
    before = {i for i, e in consumer.held.items()}
    # a week after the spam decision the note's throttle ends: reading the feed ends it and carries the expiry
    consumer.catch_up(day(8))
    assert as_held(consumer.held) == in_force_in_the_graph(graph)
    expired = [e for e in consumer.events if e["event"] == "sanction.expired"]
    assert [(e["target_id"], e["action"], e["by"]) for e in expired] == [("fn1", "throttle_note", "system")]
    assert before - set(consumer.held) == {expired[0]["id"]}
    assert {(e["target_id"], e["action"]) for e in consumer.held.values()} == {
        ("f1", "credit_deduction"), ("f4", "silent_throttle")}
    # every kind of change came through, each once, in order
    kinds = [e["event"] for e in consumer.events]
    assert {"sanction.applied", "sanction.pending", "sanction.approved", "sanction.revoked", "sanction.expired",
            "review.opened", "review.withdrawn", "throttle.placed", "throttle.escalated",
            "throttle.released"} <= set(kinds)
    cursors = [e["cursor"] for e in consumer.events]
    assert cursors == sorted(set(cursors)) and len({e["event_id"] for e in consumer.events}) == len(cursors)
    # the silent throttle says so, with its reach factor; the reason is masked for a reader who may not see it
    placed = next(e for e in consumer.events if e["event"] == "throttle.placed" and e["target_id"] == "f4")
    assert (placed["silent"], placed["reach_factor"], placed["run_id"]) == (True, WATCH.reach_factor, "feed-run-1")
    applied = next(e for e in consumer.events if e["decision_id"] == spam.preview_id)
    assert applied["reason"] == "spam 加我138********" and applied["by"] == "investigator"
    # read again in one piece, from the beginning: the same events; nothing new to expire, nothing repeated
    whole = feed.read(graph, 0, now=day(8))
    assert [json.loads(e.json()) for e in whole.events] == consumer.events and whole.expired == ()
    assert feed.read(graph, consumer.cursor, now=day(9)).events == ()
    assert audit.verify(graph).ok


UNDECLARED = """
MERGE (b:Brand {brand_id: 'feed-brand'})
WITH b
MATCH (a:Account {account_id: $account})
UNWIND range(1, $n) AS i
CREATE (a)-[:POSTED]->(:Note {note_id: $account + '-u' + toString(i), declared_commercial: false})-[:PROMOTES]->(b)
"""
UNDO_UNDECLARED = "MATCH (:Account {account_id: $account})-[:POSTED]->(n:Note)-[:PROMOTES]->(:Brand {brand_id: " \
                  "'feed-brand'}) DETACH DELETE n"


def test_the_content_health_effects_reach_the_feed_once_each_and_the_set_in_force_follows(graph):
    """The story, then `ringscope health apply` three times around changes of band: each effect set and cleared
    comes through once, in order, and the consumer holds exactly what is in force after every step."""
    consumer = Consumer(graph)
    story(graph, consumer)
    policy = load_health_policy()

    def applied(at):
        result = enforce.apply(graph, BOB, policy, now=at)
        consumer.catch_up(at)
        assert as_held(consumer.held) == in_force_in_the_graph(graph)
        return result

    first = applied(day(5))  # nothing against anyone: every account boosted
    boosted = {e["target_id"] for e in consumer.held.values() if e["action"] == "boost"}
    assert boosted == {"f1", "f2", "f3", "f4"} and first.set == 4
    graph.write(UNDECLARED, account="f2", n=18)  # compliance spent: 65, no commercial programmes
    graph.write(UNDECLARED, account="f3", n=11)  # 78: normal, no effect
    second = applied(day(6))
    assert second.transitions == {"boost->no_commercial": 1, "boost->normal": 1}
    graph.write(UNDO_UNDECLARED, account="f2")  # back to 100: boosted again
    third = applied(day(7))
    assert third.transitions == {"no_commercial->boost": 1}
    assert applied(day(7.5)).set == 0  # nothing changed: nothing in the feed
    health = [e for e in consumer.events if e["record"] == "health_effect"]
    assert [(e["event"], e["target_id"], e["action"]) for e in health[4:]] == [
        ("health.effect_cleared", "f2", "boost"), ("health.effect_set", "f2", "no_commercial"),
        ("health.effect_cleared", "f3", "boost"),
        ("health.effect_cleared", "f2", "no_commercial"), ("health.effect_set", "f2", "boost")]
    set_ = next(e for e in health if e["event"] == "health.effect_set" and e["action"] == "no_commercial")
    assert (set_["in_force"], set_["commercial"], set_["reach_factor"], set_["by"], set_["state"]) == (
        True, False, 1.0, "approver", "active")
    assert len({e["id"] for e in health if e["event"] == "health.effect_set"}) == 6  # each effect set once
    # read again in one piece: the same events, the same set
    whole = [json.loads(e.json()) for e in feed.read(graph, 0, now=day(8), limit=1000).events]
    assert whole == consumer.events
    assert as_held(in_force_set(whole)) == in_force_in_the_graph(graph)
    assert audit.verify(graph).ok


def test_a_cursor_beyond_the_log_is_refused_with_the_setting_named(graph):
    accounts(graph, "f1")
    watch.add(graph, ALICE, "f1", "look", WATCH, now=day(0))
    with pytest.raises(SettingError, match="--since: 5 is not a cursor of this audit log \\(its last entry is 1\\)"):
        feed.read(graph, 5, now=day(0))
    with pytest.raises(SettingError, match="--limit must be a whole number from 1 to 10000"):
        feed.read(graph, 0, limit=0, now=day(0))


def test_the_feed_reads_the_audit_log_through_its_seq_index(graph):
    plan = graph.explain(audit.ENTRIES_AFTER, since=0, actions=["watch.place"], limit=10)
    operators = [s.operator for s in plan.steps]
    assert any(o.startswith("NodeUniqueIndexSeekByRange") or o.startswith("NodeIndexSeekByRange")
               for o in operators), operators
    assert "Sort" not in operators  # read in index order: LIMIT stops the scan


def test_the_webhook_gets_the_same_events_signed_and_the_cursor_moves_only_after_a_2xx(graph, receiver, tmp_path):
    story(graph)
    pulled = [json.loads(e.json()) for e in feed.read(graph, 0, now=day(8)).events]
    state = tmp_path / "feed.cursor"
    hook = endpoint(receiver.url, SECRET, "RINGSCOPE_FEED_SECRET", attempts=3, backoff=0.0)

    # the receiver fails the first try (retried), takes two batches, then refuses one: delivery stops there
    receiver.answer(503, 200, 200, 400)
    with CursorFile(state) as cursor, pytest.raises(DeliveryFailed, match="refused the batch"):
        feed.deliver(graph, hook, cursor, batch=4, now=day(8), sleep=lambda s: None)
    taken = [e for b in receiver.taken for e in b["events"]]
    assert taken == pulled[:8] and int(state.read_text()) == taken[-1]["cursor"]
    assert all(r.signed for r in receiver.received)

    # run again: it resumes after the last batch taken and finishes
    with CursorFile(state) as cursor:
        report = feed.deliver(graph, hook, cursor, batch=4, now=day(8), sleep=lambda s: None)
    assert (report.since, report.cursor) == (taken[-1]["cursor"], pulled[-1]["cursor"])
    assert [e for b in receiver.taken for e in b["events"]] == pulled

    # a crash between a 2xx and the cursor's write (the file one batch behind) sends that batch again: at least
    # once; a receiver that drops event ids it has seen holds exactly the set in force
    state.write_text(f"{pulled[-3]['cursor']}\n")
    with CursorFile(state) as cursor:
        again = feed.deliver(graph, hook, cursor, batch=4, now=day(8), sleep=lambda s: None)
    assert again.events == 2
    seen, unique = set(), []
    for event in (e for b in receiver.taken for e in b["events"]):
        if event["event_id"] not in seen:
            seen.add(event["event_id"])
            unique.append(event)
    assert unique == pulled and as_held(in_force_set(unique)) == in_force_in_the_graph(graph)
    # a state file whose cursor this log never reached (the log was reset) is named as the setting at fault
    state.write_text("99999\n")
    with CursorFile(state) as cursor, pytest.raises(SettingError, match=f"--state {state}: 99999 is not a cursor"):
        feed.deliver(graph, hook, cursor, now=day(8))
    # a second delivery on the same state file at once is refused
    with CursorFile(state), pytest.raises(SettingError, match="another delivery is using this state file"):
        CursorFile(state).__enter__()
