"""Sanctions against the real Neo4j: escalation, brand points, credit, preview = apply, idempotent and
concurrent applies, approval, the revoke cascade, guards, expiry and the audit trail."""

from __future__ import annotations

import threading
from datetime import timedelta
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from ringscope.audit.log import entries, verify
from ringscope.auth.roles import NotAllowed
from ringscope.auth.roles import Actor
from ringscope.sanctions import service
from ringscope.sanctions.policy import DEFAULT_POLICY, parse_policy
from ringscope.sanctions.propagation import Decision, NodeRef
from tests.sanctions.conftest import (ALICE, BOB, CAROL, VIEWER, accounts, agency, cluster, day, imported, notes,
                                      orders, snapshot, uses)

pytestmark = pytest.mark.neo4j


def A(i):
    return NodeRef("Account", i)


def decide(graph, decision, at, actor=ALICE, policy=None):
    """Preview and apply at time ``at``; returns (preview, result)."""
    p = service.preview(graph, decision, actor, now=at, policy=policy)
    return p, service.apply(graph, p.preview_id, actor, now=at, policy=policy)


def looser_guard(n):
    raw = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    for rule in raw["propagation"]:
        if rule.get("guard"):
            rule["guard"]["max_accounts_sharing"] = n
    return parse_policy(raw)


def spam(*ids, reason="spam ring"):
    return Decision("spam_comment", tuple(A(i) for i in ids), reason=reason)


def status(graph, label, key_prop, key):
    rows = graph.read(f"MATCH (x:{label} {{{key_prop}: $key}}) RETURN x.status AS status, x.credit AS credit",
                      key=key)
    return rows[0]["status"], rows[0]["credit"]


def states(graph, preview_id):
    return {(s["target_label"], s["target_id"], s["action"]): s["state"]
            for s in (r["s"] for r in graph.read("MATCH (s:Sanction {preview_id: $p}) RETURN s {.*} AS s",
                                                   p=preview_id))}


# --------------------------------------------------------------------------- escalation

def test_escalation_inside_30_days_climbs_the_ladder(graph):
    accounts(graph, "a1")
    notes(graph, [("a1", "n1")])
    p1, _ = decide(graph, Decision("spam_comment", (A("a1"), NodeRef("Note", "n1")), reason="first"), day(0))
    assert {(e.target.id, e.action, e.level) for e in p1.effects} == {("n1", "throttle_note", 1),
                                                                      ("a1", "credit_deduction", 1)}
    assert status(graph, "Account", "account_id", "a1") == ("active", 90)
    assert status(graph, "Note", "note_id", "n1")[0] == "throttled"
    p2, _ = decide(graph, spam("a1"), day(10))
    assert {(e.action, e.level, e.days) for e in p2.effects} == {("mute", 2, 15), ("close_commerce", 2, 90)}
    assert status(graph, "Account", "account_id", "a1")[0] == "muted"
    p3, _ = decide(graph, spam("a1"), day(20))
    assert {(e.action, e.level) for e in p3.effects} == {("suspend", 3), ("freeze_withdrawals", 3)}
    assert status(graph, "Account", "account_id", "a1")[0] == "suspended"
    p4, r4 = decide(graph, spam("a1"), day(25))  # repeated: the permanent ban, which waits for approval
    assert {(e.action, e.level) for e in p4.effects} == {("permanent_ban", 4)}
    assert r4.pending_ids and status(graph, "Account", "account_id", "a1")[0] == "suspended"
    service.approve(graph, p4.preview_id, BOB, now=day(25))
    assert status(graph, "Account", "account_id", "a1")[0] == "banned"
    assert service.history(graph, A("a1"), now=day(25)).next_level == 4


def test_outside_30_days_a_violation_is_a_first_one_again(graph):
    accounts(graph, "a1")
    decide(graph, spam("a1"), day(0))
    p, _ = decide(graph, spam("a1"), day(45))
    assert {(e.action, e.level) for e in p.effects} == {("credit_deduction", 1)}
    assert status(graph, "Account", "account_id", "a1") == ("active", 85)  # 100 - 10 + 5 (day 30) - 10
    # A severe kind is the permanent ban whatever the history.
    p, _ = decide(graph, Decision("bought_engagement", (A("a1"),)), day(46))
    assert {(e.action, e.level) for e in p.effects} == {("permanent_ban", 4)}


# --------------------------------------------------------------------------- brands and credit

def test_brand_points_accumulate_to_a_cooperation_ban_that_expires(graph):
    graph.write("CREATE (:Brand {brand_id: 'b1'})")
    brand = Decision("undeclared_promotion", (NodeRef("Brand", "b1"),), reason="underwater ads")
    for n in range(4):
        p, _ = decide(graph, brand, day(n))
        assert {e.action for e in p.effects} == {"brand_points"}
    p, r = decide(graph, brand, day(4))
    ban = {e.action: e for e in p.effects}["cooperation_ban"]
    assert ban.days == 28 and ban.justification == "points>=10" and len(ban.existing_parents) == 4
    assert not r.pending_ids and status(graph, "Brand", "brand_id", "b1")[0] == "cooperation_banned"
    assert service.history(graph, NodeRef("Brand", "b1"), now=day(4)).brand_points == 10
    service.expire_due(graph, now=day(33))
    assert status(graph, "Brand", "brand_id", "b1")[0] == "active"


def test_credit_recovers_a_revoked_deduction_comes_back_and_an_exam_restores(graph):
    accounts(graph, "a1")
    decide(graph, spam("a1"), day(0))
    assert service.history(graph, A("a1"), now=day(29)).credit.value == 90
    assert service.history(graph, A("a1"), now=day(30)).credit.value == 95
    _, second = decide(graph, spam("a1"), day(40))
    assert status(graph, "Account", "account_id", "a1")[1] == 85
    service.revoke(graph, second.sanction_ids[0], BOB, "appeal granted: not spam", now=day(41))
    assert status(graph, "Account", "account_id", "a1")[1] == 95
    done = service.exam(graph, "a1", ALICE, now=day(42))
    assert (done.credit_before, done.credit_after) == (95, 100)
    with pytest.raises(service.ExamError, match="another counts 30 days after"):
        service.exam(graph, "a1", ALICE, now=day(50))
    assert [e.action for e in entries(graph, target_id="a1")][0] == "sanction.exam"


# --------------------------------------------------------------------------- preview and apply

def farm(graph):
    """a1, a2 farm accounts on d1 (a3 an earlier user of d1); d2 banned by the platform on day -10, used by
    a1 before and by the evader e1 registered after; a cluster around them."""
    accounts(graph, "a1", "a2", "a3")
    accounts(graph, "e1", registered=day(-5))
    uses(graph, [("a1", "d1"), ("a2", "d1"), ("a3", "d1"), ("a1", "d2"), ("e1", "d2")])
    imported(graph, "imp-d2", "d2", "device_ban", day(-10))
    cluster(graph, "k1", {"a1": 0.95, "a2": 0.9, "a3": 0.3})


def test_preview_writes_nothing_and_apply_does_exactly_what_it_showed(graph):
    farm(graph)
    before = snapshot(graph)
    p = service.preview(graph, Decision("farm_operation", cluster="k1", reason="farm",
                                        evidence=("run:r1",)), ALICE, now=day(0))
    assert snapshot(graph) == before
    shown = {(e.target.label, e.target.id, e.action, e.hop, e.rule) for e in p.effects}
    assert shown == {
        ("Account", "a1", "permanent_ban", 1, "cluster_members"),
        ("Account", "a2", "permanent_ban", 1, "cluster_members"),
        ("Device", "d1", "device_ban", 2, "banned_account_bans_devices"),
        ("Device", "d2", "device_ban", 2, "banned_account_bans_devices"),
        ("Account", "a3", "review", 3, "banned_device_reviews_accounts"),
        ("Account", "e1", "permanent_ban", 3, "ban_evasion"),
    }
    result = service.apply(graph, p.preview_id, ALICE, now=day(0))
    written = graph.read("""
        MATCH (s:Sanction {preview_id: $p})-[:TARGETS]->(x)
        RETURN s.sanction_id AS id, labels(x)[0] AS label, s.target_id AS target, s.action AS action,
               s.hop AS hop, s.rule AS rule, s.state AS state, s.evidence_refs AS evidence,
               [(s)-[:DERIVED_FROM]->(q) | q.sanction_id] AS parents
        UNION ALL
        MATCH (r:Review {preview_id: $p})-[:REVIEW_OF]->(x)
        RETURN r.review_id AS id, labels(x)[0] AS label, r.target_id AS target, 'review' AS action,
               r.hop AS hop, r.rule AS rule, r.state AS state, r.evidence_refs AS evidence,
               [(r)-[:DERIVED_FROM]->(q) | q.sanction_id] AS parents""", p=p.preview_id)
    assert {(w["label"], w["target"], w["action"], w["hop"], w["rule"]) for w in written} == shown
    assert {w["id"] for w in written} == set(p.ids.values()) == set(result.sanction_ids + result.review_ids)
    by_id = {w["id"]: w for w in written}
    for e in p.effects:
        w = by_id[p.ids[e.key]]
        assert w["state"] == ("open" if e.is_review else "pending_approval" if e.needs_approval else "active")
        assert sorted(w["parents"]) == sorted([p.ids[k] for k in e.parents] + list(e.existing_parents))
        assert w["evidence"] == ["run:r1"]
    audited = [x for x in entries(graph, limit=100) if x.action in ("sanction.apply", "sanction.review")]
    assert len(audited) == len(p.effects)


def test_a_preview_applied_later_on_an_unchanged_graph_applies(graph):
    farm(graph)
    p = service.preview(graph, Decision("farm_operation", cluster="k1", reason="farm"), ALICE, now=day(0))
    r = service.apply(graph, p.preview_id, ALICE, now=day(0) + timedelta(hours=3))
    assert set(r.sanction_ids + r.review_ids) == set(p.ids.values())
    row = graph.read("MATCH (s:Sanction {sanction_id: $id}) RETURN s.decided_at AS at", id=r.sanction_ids[0])[0]
    assert row["at"] == day(0) + timedelta(hours=3)


def test_a_graph_changed_since_the_preview_is_reported_not_applied(graph):
    accounts(graph, "a1")
    uses(graph, [("a1", "d1")])
    p = service.preview(graph, Decision("farm_operation", (A("a1"),), reason="farm"), ALICE, now=day(0))
    uses(graph, [("a1", "d9")])
    with pytest.raises(service.StalePreview, match="now also device_ban Device d9 .hop 1"):
        service.apply(graph, p.preview_id, ALICE, now=day(0))
    assert graph.read("MATCH (s:Sanction) RETURN count(s) AS n")[0]["n"] == 0
    with pytest.raises(service.PreviewNotFound, match="no sanction preview 'P-nope'"):
        service.apply(graph, "P-nope", ALICE, now=day(0))
    with pytest.raises(service.PreviewExpired, match="preview again"):
        service.apply(graph, p.preview_id, ALICE, now=day(2))


def test_applying_twice_equals_applying_once(graph):
    farm(graph)
    p = service.preview(graph, Decision("farm_operation", cluster="k1", reason="farm"), ALICE, now=day(0))
    first = service.apply(graph, p.preview_id, ALICE, now=day(0))
    audit_before = verify(graph).entries
    snap = snapshot(graph)
    again = service.apply(graph, p.preview_id, BOB, now=day(0))
    assert again.already_applied and again.created_ids == () and again.sanction_ids == first.sanction_ids
    assert snapshot(graph) == snap and verify(graph).entries == audit_before


def test_two_officers_applying_at_once_do_not_double_anything(graph):
    farm(graph)
    decision = Decision("farm_operation", cluster="k1", reason="farm")
    same = service.preview(graph, decision, ALICE, now=day(0))
    other = service.preview(graph, decision, CAROL, now=day(0))  # the same decision, previewed twice
    assert same.ids == other.ids
    barrier = threading.Barrier(4)

    def go(job):
        preview_id, actor = job
        barrier.wait()
        try:
            return service.apply(graph, preview_id, actor, now=day(0))
        except service.StalePreview as exc:  # the other preview landed first: reported, not applied
            return exc

    jobs = [(same.preview_id, ALICE), (same.preview_id, BOB), (other.preview_id, CAROL), (other.preview_id, ALICE)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(go, jobs))
    assert any(not isinstance(o, Exception) and o.created_ids for o in outcomes)
    n = graph.read("MATCH (s:Sanction {source: 'ringscope'}) RETURN count(s) AS n, "
                   "count(DISTINCT s.sanction_id) AS ids")[0]
    assert n["n"] == n["ids"] == len(same.plan.sanctions)
    assert graph.read("MATCH (r:Review) RETURN count(r) AS n")[0]["n"] == len(same.plan.reviews)
    created = sum(len(o.created_ids) for o in outcomes if not isinstance(o, Exception))
    assert created == len(same.effects)
    assert verify(graph).ok
    applies = [e for e in entries(graph, limit=500) if e.action in ("sanction.apply", "sanction.review")]
    assert len(applies) == len(same.effects)
    applied = [j[0] for j, o in zip(jobs, outcomes) if not isinstance(o, Exception)]
    approved = service.approve(graph, applied[-1], Actor("dave", "approver"), now=day(0))
    assert len(approved.activated) == len(same.plan.sanctions)


# --------------------------------------------------------------------------- approval

def test_permanent_and_far_reaching_sanctions_wait_for_a_second_person(graph):
    farm(graph)
    p, r = decide(graph, Decision("farm_operation", cluster="k1", reason="farm"), day(0), actor=CAROL)
    assert set(r.pending_ids) == {p.ids[e.key] for e in p.effects if not e.is_review}
    assert status(graph, "Account", "account_id", "a1")[0] == "active"
    with pytest.raises(NotAllowed):
        service.approve(graph, p.preview_id, ALICE, now=day(0))
    with pytest.raises(service.ApprovalError, match="carol applied decision .* a second person must approve"):
        service.approve(graph, p.preview_id, CAROL, now=day(0))
    with pytest.raises(NotAllowed):
        service.preview(graph, Decision("farm_operation", cluster="k1"), VIEWER, now=day(0))
    done = service.approve(graph, p.preview_id, BOB, reason="evidence checked", now=day(1))
    assert set(done.activated) == set(r.pending_ids)
    assert status(graph, "Account", "account_id", "a1")[0] == "banned"
    assert status(graph, "Device", "device_id", "d1")[0] == "banned"
    row = graph.read("MATCH (s:Sanction {sanction_id: $id}) RETURN s.approved_by AS by, s.issued_at AS at",
                     id=r.pending_ids[0])[0]
    assert row["by"] == "bob" and row["at"] == day(1)
    assert len([e for e in entries(graph, actor="bob") if e.action == "sanction.approve"]) == len(r.pending_ids)
    assert service.approve(graph, p.preview_id, BOB, now=day(1)).already_approved
    assert service.pending(graph) == []


# --------------------------------------------------------------------------- revoke

def test_revoke_cascades_to_exactly_what_has_no_other_justification(graph):
    farm(graph)
    accounts(graph, "a4", "a5")
    uses(graph, [("a5", "d1")])  # d1 now has 4 accounts: the guard must allow 4 for this story
    policy = looser_guard(4)
    p1, r1 = decide(graph, Decision("farm_operation", (A("a1"), A("a2")), reason="farm"), day(0), policy=policy)
    service.approve(graph, p1.preview_id, BOB, now=day(0), policy=policy)
    _, r2 = decide(graph, spam("a4"), day(0), policy=policy)  # unrelated
    p3, _ = decide(graph, Decision("farm_operation", (A("a5"),), reason="farm too"), day(1), policy=policy)
    service.approve(graph, p3.preview_id, BOB, now=day(1), policy=policy)
    ids = {(e.target.id, e.action): p1.ids[e.key] for e in p1.effects}
    assert set(ids) == {("a1", "permanent_ban"), ("a2", "permanent_ban"), ("d1", "device_ban"),
                        ("d2", "device_ban"), ("e1", "permanent_ban"), ("a3", "review"), ("a5", "review")}

    # a1 wins its appeal: its ban goes, d2's ban followed only from it and e1's from d2's; d1's ban also
    # rests on a2, so it stays, and so does the review it raised.
    out = service.revoke(graph, ids[("a1", "permanent_ban")], BOB, "appeal granted", now=day(2), policy=policy)
    assert {(x.target.id, x.action, x.via) for x in out.revoked} == {
        ("a1", "permanent_ban", "named"), ("d2", "device_ban", "cascade"), ("e1", "permanent_ban", "cascade")}
    s1 = states(graph, p1.preview_id)
    assert s1[("Account", "a2", "permanent_ban")] == s1[("Device", "d1", "device_ban")] == "active"
    assert graph.read("MATCH (r:Review {review_id: $id}) RETURN r.state AS s", id=ids[("a3", "review")])[0]["s"] \
        == "open"
    assert status(graph, "Account", "account_id", "a1")[0] == "active"
    assert status(graph, "Account", "account_id", "e1")[0] == "active"
    assert status(graph, "Device", "device_id", "d2")[0] == "banned"  # the platform's own ban still holds

    # a2 too: d1's ban of this decision goes, with its reviews; d1 stays banned by the later decision on a5.
    out = service.revoke(graph, ids[("a2", "permanent_ban")], BOB, "appeal granted", now=day(3), policy=policy)
    assert {(x.target.id, x.action) for x in out.revoked} == {("a2", "permanent_ban"), ("d1", "device_ban"),
                                                               ("a3", "review"), ("a5", "review")}
    assert status(graph, "Device", "device_id", "d1")[0] == "banned"
    assert set(states(graph, p3.preview_id).values()) == {"active"}
    assert states(graph, r2.preview_id)[("Account", "a4", "credit_deduction")] == "active"

    # Revoking the later decision as a whole (by its preview id) frees d1.
    service.revoke(graph, p3.preview_id, BOB, "decision overturned", now=day(4), policy=policy)
    assert status(graph, "Device", "device_id", "d1")[0] == "active"
    assert service.revoke(graph, p3.preview_id, BOB, "again", now=day(4), policy=policy).already_revoked
    assert verify(graph).ok


def test_a_counted_justification_is_rechecked_on_revoke(graph):
    accounts(graph, "x1", "x2", "x3")
    agency(graph, "m1", ["x1", "x2", "x3"])
    orders(graph, [("o1", "b1", "m1", False), ("o2", "b1", "m1", True)])
    _, first = decide(graph, spam("x1"), day(0))
    decide(graph, spam("x2"), day(1))
    p3, _ = decide(graph, spam("x3"), day(2))
    e = {(x.target.id, x.action): x for x in p3.effects}
    assert e[("m1", "suspend_agency")].justification == "accounts>=3"
    assert e[("b1", "brand_points")].points == 2 and e[("b1", "brand_points")].hop == 2
    assert status(graph, "Intermediary", "intermediary_id", "m1")[0] == "suspended"
    out = service.revoke(graph, first.sanction_ids[0], BOB, "appeal: x1 was hacked", now=day(3))
    assert {(x.target.id, x.action) for x in out.revoked} == {("x1", "credit_deduction"),
                                                               ("m1", "suspend_agency"), ("b1", "brand_points")}
    assert status(graph, "Intermediary", "intermediary_id", "m1")[0] == "active"
    assert states(graph, p3.preview_id)[("Account", "x3", "credit_deduction")] == "active"


def test_revoking_needs_the_right_and_names_what_is_wrong(graph):
    accounts(graph, "a1")
    imported(graph, "imp-1", "a1", "permanent_ban", day(-3))
    _, r = decide(graph, spam("a1"), day(0))
    with pytest.raises(NotAllowed):
        service.revoke(graph, r.sanction_ids[0], ALICE, "appeal", now=day(1))
    with pytest.raises(service.RevokeError, match="needs a reason"):
        service.revoke(graph, r.sanction_ids[0], BOB, " ", now=day(1))
    with pytest.raises(service.RevokeError, match="no sanction 'S-nope'"):
        service.revoke(graph, "S-nope", BOB, "appeal", now=day(1))
    with pytest.raises(service.RevokeError, match="imported from the platform"):
        service.revoke(graph, "imp-1", BOB, "appeal", now=day(1))


# --------------------------------------------------------------------------- guards and expiry

def test_a_guard_stops_the_spread_at_a_shared_device(graph):
    accounts(graph, "a1", "f1", "f2", "f3", "f4")
    uses(graph, [(a, "tablet") for a in ("a1", "f1", "f2", "f3", "f4")])
    p, r = decide(graph, Decision("farm_operation", (A("a1"),), reason="farm"), day(0))
    assert {(e.target.id, e.action) for e in p.effects} == {("a1", "permanent_ban"), ("tablet", "review")}
    assert any("Device tablet is shared by 5 accounts (more than 3)" in w for w in p.warnings)
    review = graph.read("MATCH (r:Review)-[:REVIEW_OF]->(d:Device) RETURN d.device_id AS d, r.note AS note, "
                        "r.state AS state")
    assert [(x["d"], x["state"]) for x in review] == [("tablet", "open")] and "shared by 5" in review[0]["note"]
    assert graph.read("MATCH (s:Sanction)-[:TARGETS]->(a:Account) WHERE a.account_id STARTS WITH 'f' "
                      "RETURN count(s) AS n")[0]["n"] == 0


def test_time_limited_sanctions_end_on_time_and_status_follows(graph):
    accounts(graph, "a1")
    decide(graph, spam("a1"), day(0))
    decide(graph, spam("a1"), day(1))  # level 2: muted 15 days, commerce closed 90 days
    assert status(graph, "Account", "account_id", "a1")[0] == "muted"
    h = service.history(graph, A("a1"), now=day(17))
    assert {s.action: s.state for s in h.sanctions}["mute"] == "expired"  # effective even before expiry runs
    done = service.expire_due(graph, now=day(17))
    assert len(done.expired) == 1
    assert status(graph, "Account", "account_id", "a1")[0] == "limited"  # commerce still closed
    service.expire_due(graph, now=day(92))
    assert status(graph, "Account", "account_id", "a1")[0] == "active"
    assert [e.actor for e in entries(graph, action="sanction.expire")] == ["system", "system"]
    assert service.expire_due(graph, now=day(92)).expired == ()


# --------------------------------------------------------------------------- sanctions as stored

def test_sanctions_on_reads_what_targets_the_entities_and_what_it_derives_from(graph):
    farm(graph)
    p, _ = decide(graph, Decision("farm_operation", (A("a1"), A("a2")), reason="farm"), day(0))
    ids = {(e.target.id, e.action): p.ids[e.key] for e in p.effects}
    a1, d2, e1 = ids[("a1", "permanent_ban")], ids[("d2", "device_ban")], ids[("e1", "permanent_ban")]

    found = service.sanctions_on(graph, [A("e1"), NodeRef("Order", "o-1")], now=day(1))
    assert [s.record.sanction_id for s in found.sanctions] == sorted([a1, d2, e1])
    evader = next(s for s in found.sanctions if s.record.sanction_id == e1)
    assert evader.record.derived_from == (d2,) and evader.chain == (d2, a1)  # nearest first
    assert evader.links == (service.SanctionLink("DERIVED_FROM", NodeRef("Sanction", d2)),)
    assert [t.ref for t in evader.targets] == [A("e1")] and evader.targets[0].properties["account_id"] == "e1"
    assert evader.record.state == evader.properties["state"] == "pending_approval"
    assert evader.properties["decided_at"] == day(0) and evader.properties["preview_id"] == p.preview_id
    assert [(q.name, q.rows) for q in found.queries] == [
        ("sanctions_on", 1), ("sanction_ancestors", 2), ("sanction_details", 3)]
    assert found.queries[0].params == {"account_ids": ["e1"], "brand_ids": [], "device_ids": [],
                                       "intermediary_ids": [], "note_ids": [], "limit": service.MAX_CASCADE}
    assert all("$" in q.cypher and q.seconds >= 0 for q in found.queries)

    cut = service.sanctions_on(graph, [A("e1")], limit=1, now=day(1))  # a query that reached its limit says so
    assert [q.rows for q in cut.queries] == [1, 1, 1] and len(cut.sanctions) == 1

    nothing = service.sanctions_on(graph, [A("a3")], now=day(1))  # a review item is no sanction
    assert nothing.sanctions == () and [q.name for q in nothing.queries] == ["sanctions_on"]


def test_sanctions_on_takes_parents_named_only_in_an_imported_property(graph):
    accounts(graph, "a1")
    uses(graph, [("a1", "d1")])
    imported(graph, "imp-a1", "a1", "permanent_ban", day(-20))
    graph.write("""
MATCH (d:Device {device_id: 'd1'}), (p:Sanction {sanction_id: 'imp-a1'})
CREATE (s:Sanction {sanction_id: 'imp-d1', action: 'device_ban', source: 'import', issued_at: $at,
        derived_from: 'imp-older', stamped: localdatetime('2025-01-01T10:00:00')})-[:TARGETS]->(d)
CREATE (s)-[:DERIVED_FROM]->(p)
""", at=day(-10))
    found = service.sanctions_on(graph, [NodeRef("Device", "d1")], now=day(0))
    device = next(s for s in found.sanctions if s.record.sanction_id == "imp-d1")
    assert device.record.derived_from == ("imp-a1", "imp-older") and device.chain == ("imp-a1", "imp-older")
    assert device.record.state == "imported" and device.properties.get("state") is None
    assert device.properties["stamped"].tzinfo is None  # as stored: no zone is made up


# --------------------------------------------------------------------------- audit

def test_audit_verification_catches_an_edited_sanction_entry(graph, use_test_db, capsys):
    import ringscope.commands.cli as cli

    accounts(graph, "a1")
    _, r = decide(graph, spam("a1"), day(0))
    assert verify(graph).ok
    graph.write("MATCH (e:AuditEntry {action: 'sanction.apply'}) SET e.reason = 'nothing to see'")
    result = verify(graph)
    assert not result.ok and "sanction.apply on account a1 by alice" in result.problem
    assert "it was edited" in result.problem
    assert cli.main(["audit", "verify"]) == 1
    assert "it was edited" in capsys.readouterr().out


# --------------------------------------------------------------------------- declared orders (issue #15 item 5)

DECLARED_ORDERS = """
UNWIND $rows AS r
MATCH (a:Account {account_id: r.account}), (b:Brand {brand_id: r.brand}), (i:Intermediary {intermediary_id: r.agency})
CREATE (o:Order {order_id: r.order, declared: true})-[:PLACED_BY]->(b), (o)-[:TAKEN_BY]->(i), (o)-[:ASSIGNED_TO]->(a)
"""


def test_fake_accounts_banned_hit_the_brands_and_agency_of_their_declared_orders_audited_and_revoked(graph):
    """A declared order through a fake account is still illegal marketing: the brands of the declared orders get
    points and the agency that took them through three fake accounts is suspended, each saying which order and
    account; every write audited; an appeal granted on one account takes back what rested on it."""
    accounts(graph, "f1", "f2", "f3", "h1")
    graph.write("UNWIND ['b1', 'b2'] AS id CREATE (:Brand {brand_id: id})")
    graph.write("CREATE (:Intermediary {intermediary_id: 'm9', kind: 'agency'})")  # manages none of them
    graph.write(DECLARED_ORDERS, rows=[
        {"order": o, "account": a, "brand": b, "agency": "m9"}
        for o, a, b in (("o1", "f1", "b1"), ("o2", "f1", "b1"), ("o3", "f2", "b2"), ("o4", "f3", "b2"),
                        ("o5", "h1", "b2"))])
    decision = Decision("farm_operation", (A("f1"), A("f2"), A("f3")), reason="farmed declared accounts",
                        evidence=("run:r-farmed",))
    p, r = decide(graph, decision, day(0))
    e = {(x.target.id, x.action): x for x in p.effects}
    b1, b2, m9 = e[("b1", "brand_points")], e[("b2", "brand_points")], e[("m9", "suspend_agency")]
    assert (b1.rule, b1.points, b1.hop) == ("brands_of_declared_orders_through_sanctioned_account", 4, 1)
    assert "declared order o1 for Brand b1 through sanctioned account f1" in b1.note
    assert b2.points == 4 and "declared order o4 for Brand b2 through sanctioned account f3" in b2.note
    assert "o5" not in b2.note  # h1 is not sanctioned: its declared order stands
    assert m9.rule == "agency_of_declared_orders_through_sanctioned_accounts" and m9.justification == "accounts>=3"
    assert "3 accounts that reach it through a declared Order are sanctioned" in m9.note
    # The bans wait for a second person, and so does what follows from them.
    assert set(r.pending_ids) == {p.ids[x.key] for x in p.effects}
    service.approve(graph, p.preview_id, BOB, now=day(0))
    assert status(graph, "Intermediary", "intermediary_id", "m9")[0] == "suspended"
    stored = graph.read("MATCH (s:Sanction {preview_id: $p, target_id: 'b1'}) RETURN s.note AS note, s.rule AS rule",
                        p=p.preview_id)
    assert stored == [{"note": b1.note, "rule": b1.rule}]
    audited = [x for x in entries(graph, limit=100) if x.action == "sanction.apply"]
    assert len(audited) == len(p.effects) and verify(graph).ok
    # Appeal granted for f1: b1's points rested on it alone; two fake accounts are not three.
    f1_ban = p.ids[e[("f1", "permanent_ban")].key]
    out = service.revoke(graph, f1_ban, BOB, "appeal: f1 is a real creator", now=day(1))
    assert {(x.target.id, x.action) for x in out.revoked} == {("f1", "permanent_ban"), ("b1", "brand_points"),
                                                               ("m9", "suspend_agency")}
    assert status(graph, "Intermediary", "intermediary_id", "m9")[0] == "active"
    assert states(graph, p.preview_id)[("Brand", "b2", "brand_points")] == "active"
    assert verify(graph).ok
