"""Propagation over plain data: rules, hops, paths, guards, depth limits, approval, cost; the revoke cascade."""

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from ringscope.sanctions.cascade import Derived, Parent, cascade, derivation_chain
from ringscope.sanctions.policy import DEFAULT_POLICY, load_sanction_policy, parse_policy
from ringscope.sanctions.propagation import (BadDecision, Decision, Existing, Neighbourhood, Node, NodeRef, TooBroad,
                                   UnknownTarget, diff, path_text, plan, plan_from_content)

P = load_sanction_policy()
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=400)


def A(i):
    return NodeRef("Account", i)


def D(i):
    return NodeRef("Device", i)


class World:
    """A tiny graph: accounts (registered long ago unless told), devices, agencies, orders, clusters."""

    def __init__(self):
        self.nodes: dict[NodeRef, Node] = {}
        self.edges = []

    def node(self, ref, props=None, sanctions=()):
        self.nodes[ref] = Node(ref, props or {}, None, tuple(sanctions))
        return self

    def account(self, i, registered=OLD, sanctions=()):
        return self.node(A(i), {"registered_at": registered}, sanctions)

    def uses(self, account, device, **props):
        self.nodes.setdefault(D(device), Node(D(device)))
        self.edges.append((A(account), "USED_DEVICE", D(device), props))
        return self

    def edge(self, a, rel, b, **props):
        for ref in (a, b):
            self.nodes.setdefault(ref, Node(ref))
        self.edges.append((a, rel, b, props))
        return self

    def source(self):
        return Neighbourhood(list(self.nodes.values()), self.edges)

    def plan(self, decision, policy=P, now=NOW):
        return plan(decision, self.source(), policy, now)


def by_key(p):
    return {e.key: e for e in p.effects}


def ban(*accounts, kind="farm_operation"):
    return Decision(kind, tuple(A(a) for a in accounts), reason="farm")


def device_ban(at, sid="imp-d1"):
    return Existing(sid, "device_ban", "import", "import", at, issued_at=at)


def test_a_farm_ban_bans_its_devices_reviews_earlier_users_and_bans_evaders():
    w = World()
    for a in ("a1", "a2"):
        w.account(a)
    w.account("late", registered=NOW - timedelta(days=2))
    w.node(D("d1"), sanctions=[device_ban(NOW - timedelta(days=10))])  # banned before, by the platform
    w.uses("a1", "d1").uses("a2", "d1").uses("late", "d1")
    p = w.plan(ban("a1"))
    e = by_key(p)
    assert set(e) == {"Account:a1:permanent_ban", "Device:d1:device_ban", "Account:a2:review",
                      "Account:late:permanent_ban"}
    assert e["Account:a1:permanent_ban"].hop == 0 and e["Account:a1:permanent_ban"].rule == "decision"
    dev = e["Device:d1:device_ban"]
    assert (dev.hop, dev.rule, dev.parents) == (1, "banned_account_bans_devices", ("Account:a1:permanent_ban",))
    assert dev.in_force == ("imp-d1",)  # the platform's ban is named, and this decision records its own
    assert path_text(dev.path) == "Account a1 -USED_DEVICE-> Device d1"
    late = e["Account:late:permanent_ban"]
    assert (late.hop, late.rule, late.kind, late.level) == (2, "ban_evasion", "ban_evasion", 4)
    assert path_text(late.path) == "Account a1 -USED_DEVICE-> Device d1 <-USED_DEVICE- Account late"
    assert "after the device ban" in late.note
    review = e["Account:a2:review"]
    assert review.rule == "banned_device_reviews_accounts" and "before the device ban" in review.note
    assert not review.needs_approval
    # Permanent bans, and everything beyond hop 1, wait for a second person.
    assert dev.needs_approval and late.needs_approval and e["Account:a1:permanent_ban"].needs_approval
    assert [(c.hop, c.entities, c.sanctions, c.reviews) for c in p.counts] == [(0, 1, 1, 0), (1, 1, 1, 0),
                                                                                (2, 2, 1, 1)]


def test_a_guard_stops_a_shared_identifier_and_sends_it_to_review():
    w = World()
    for a in ("a1", "b1", "b2", "b3", "b4"):
        w.account(a).uses(a, "tablet")
    w.account("a1").uses("a1", "own")
    p = w.plan(ban("a1"))
    e = by_key(p)
    assert "Device:tablet:device_ban" not in e and "Device:own:device_ban" in e
    assert e["Device:tablet:review"].rule == "banned_account_bans_devices"
    assert "shared by 5 accounts (more than 3)" in e["Device:tablet:review"].note
    assert not any(k.startswith("Account:b") for k in e)  # nothing spread through the tablet
    assert any("Device tablet is shared by 5 accounts" in w_ for w_ in p.warnings)


def test_a_guarded_device_banned_directly_does_not_expand_to_its_accounts():
    w = World()
    for a in ("c1", "c2", "c3", "c4"):
        w.account(a).uses(a, "cafe")
    p = w.plan(Decision("farm_operation", (D("cafe"),)))
    assert set(by_key(p)) == {"Device:cafe:device_ban", "Device:cafe:review"}
    assert p.warnings


def test_depth_limits_stop_the_chain():
    raw = yaml.safe_load(DEFAULT_POLICY.read_text())
    for r in raw["propagation"]:
        if r["name"] == "banned_account_bans_devices":
            r["max_depth"] = 1
    shallow = parse_policy(raw)
    w = World()
    w.account("a1").account("late", registered=NOW - timedelta(days=5))
    w.node(D("d1"), sanctions=[device_ban(NOW - timedelta(days=10))])
    w.uses("a1", "d1").uses("late", "d1").uses("late", "d2")
    deep = by_key(w.plan(ban("a1")))
    assert deep["Account:late:permanent_ban"].hop == 2 and deep["Device:d2:device_ban"].hop == 3
    p = w.plan(ban("a1"), policy=shallow)
    assert "Device:d1:device_ban" in by_key(p) and "Account:late:permanent_ban" in by_key(p)
    assert "Device:d2:device_ban" not in by_key(p)  # hop 3, beyond max_depth 1
    assert "rule banned_account_bans_devices stopped at its max_depth 1" in p.warnings


def test_one_device_used_by_two_banned_accounts_rests_on_both():
    w = World()
    w.account("a1").account("a2").uses("a1", "d1").uses("a2", "d1")
    e = by_key(w.plan(ban("a1", "a2")))
    assert set(e["Device:d1:device_ban"].parents) == {"Account:a1:permanent_ban", "Account:a2:permanent_ban"}


def test_derivations_point_one_hop_back_so_they_form_a_dag():
    w = World()
    w.account("a1").account("e1", registered=NOW + timedelta(hours=1))
    w.uses("a1", "d1").uses("e1", "d1").uses("e1", "d2").uses("a1", "d2")
    p = w.plan(ban("a1"))
    e = by_key(p)
    for effect in p.effects:
        for parent in effect.parents:
            assert e[parent].hop < effect.hop


def test_the_agency_rule_counts_earlier_sanctions_and_brands_get_points_per_undeclared_order():
    m, b1, b2 = NodeRef("Intermediary", "m1"), NodeRef("Brand", "b1"), NodeRef("Brand", "b2")
    earlier = Existing("S-old", "mute", "active", "ringscope", NOW - timedelta(days=20), violation_id="V-old")
    w = World()
    w.account("a1").account("a2").account("a3", sanctions=[earlier])
    for a in ("a1", "a2", "a3"):
        w.edge(m, "MANAGES", A(a))
    for o, brand, declared in (("o1", b1, False), ("o2", b1, False), ("o3", b1, True), ("o4", b2, False)):
        order = NodeRef("Order", o)
        w.node(order, {"declared": declared})
        w.edge(order, "TAKEN_BY", m).edge(order, "PLACED_BY", brand)
    w.node(b2, sanctions=[Existing("S-pts", "brand_points", "active", "ringscope", NOW - timedelta(days=30),
                                   points=8)])
    p = w.plan(ban("a1", "a2", kind="spam_comment"))
    e = by_key(p)
    agency = e["Intermediary:m1:suspend_agency"]
    assert agency.hop == 1 and agency.justification == "accounts>=3"
    assert set(agency.parents) == {"Account:a1:credit_deduction", "Account:a2:credit_deduction"}
    assert agency.existing_parents == ("S-old",)
    assert e["Brand:b1:brand_points"].points == 4  # two undeclared orders; the declared one does not count
    assert e["Brand:b2:brand_points"].points == 2
    assert "Brand:b1:cooperation_ban" not in e  # 4 points
    ban_b2 = e["Brand:b2:cooperation_ban"]  # 8 earlier + 2 now
    assert ban_b2.justification == "points>=10" and ban_b2.existing_parents == ("S-pts",)
    assert ban_b2.parents == ("Brand:b2:brand_points",)
    assert ban_b2.hop == 2 and ban_b2.needs_approval  # beyond one hop
    assert path_text(e["Brand:b1:brand_points"].path).endswith(
        "Intermediary m1 <-TAKEN_BY- Order o1 -PLACED_BY-> Brand b1")
    # Two sanctioned accounts only: no agency sanction.
    assert "Intermediary:m1:suspend_agency" not in by_key(w.plan(ban("a1", kind="spam_comment")))


def declared_world(earlier_kind="farm_operation"):
    """a1, a2, a3 carried out declared orders that agency m2 took (it manages none of them): o5, o6 for brand b3
    (a1), o7 for b4 (a2), o8 for b4 (a3, sanctioned 20 days ago for ``earlier_kind``); o9, undeclared, for b5 (a1)."""
    m, w = NodeRef("Intermediary", "m2"), World()
    earlier = Existing("S-old", "permanent_ban", "active", "ringscope", NOW - timedelta(days=20), kind=earlier_kind,
                       violation_id="V-old")
    w.account("a1").account("a2").account("a3", sanctions=[earlier])
    for o, account, brand, declared in (("o5", "a1", "b3", True), ("o6", "a1", "b3", True), ("o7", "a2", "b4", True),
                                        ("o8", "a3", "b4", True), ("o9", "a1", "b5", False)):
        order = NodeRef("Order", o)
        w.node(order, {"declared": declared})
        w.edge(order, "ASSIGNED_TO", A(account)).edge(order, "TAKEN_BY", m).edge(order, "PLACED_BY",
                                                                                 NodeRef("Brand", brand))
    return w


def test_a_fake_account_sanctioned_hits_the_brands_and_agency_of_its_declared_orders_and_says_why():
    e = by_key(declared_world().plan(ban("a1", "a2")))
    b3 = e["Brand:b3:brand_points"]
    assert b3.rule == "brands_of_declared_orders_through_sanctioned_account" and b3.hop == 1
    assert b3.points == 4 and b3.parents == ("Account:a1:permanent_ban",)  # two declared orders, 2 points each
    assert "declared order o5 for Brand b3 through sanctioned account a1" in b3.note
    assert "declared order o6 for Brand b3 through sanctioned account a1" in b3.note
    assert path_text(b3.path) == "Account a1 <-ASSIGNED_TO- Order o5 -PLACED_BY-> Brand b3"
    assert e["Brand:b4:brand_points"].points == 2
    agency = e["Intermediary:m2:suspend_agency"]  # a1, a2 now and a3 earlier: three fake accounts
    assert agency.rule == "agency_of_declared_orders_through_sanctioned_accounts"
    assert agency.justification == "accounts>=3" and agency.existing_parents == ("S-old",)
    assert set(agency.parents) == {"Account:a1:permanent_ban", "Account:a2:permanent_ban"}
    assert agency.note.startswith("3 accounts that reach it through a declared Order are sanctioned (rule: 3 or more)")
    assert "declared order o5 taken by Intermediary m2 through sanctioned account a1" in agency.note
    # The undeclared order o9 is not a declared order through a1: b5 is reached only at hop 2, through the agency's
    # suspension, by the agency rule as before.
    b5 = e["Brand:b5:brand_points"]
    assert b5.rule == "brands_of_sanctioned_agency" and b5.hop == 2
    assert "undeclared order o9 for Brand b5 taken by sanctioned agency m2" in b5.note


def test_declared_orders_propagate_only_from_the_kinds_that_make_the_account_fake():
    e = by_key(declared_world().plan(ban("a1", "a2", kind="spam_comment")))
    assert not [k for k in e if k.startswith(("Brand:", "Intermediary:"))]  # a spam comment: the orders stand
    # The earlier violation counts only when of those kinds: two fake accounts are not three.
    e = by_key(declared_world(earlier_kind="spam_comment").plan(ban("a1", "a2")))
    assert "Intermediary:m2:suspend_agency" not in e and e["Brand:b3:brand_points"].points == 4


def test_a_cluster_decision_reaches_members_above_the_score():
    k = NodeRef("Cluster", "k1")
    w = World().node(k)
    for a, score in (("hi", 0.9), ("mid", 0.75), ("lo", 0.4)):
        w.account(a).edge(k, "HAS_MEMBER", A(a), score=score)
    p = w.plan(Decision("spam_comment", cluster="k1"))
    assert {e.target.id for e in p.effects} == {"hi", "mid"}
    assert all(e.hop == 1 and e.rule == "cluster_members" and not e.needs_approval for e in p.effects)
    assert path_text(p.effects[0].path) == "Cluster k1 -HAS_MEMBER-> Account hi"
    p = w.plan(Decision("spam_comment", cluster="k1", min_score=0.8))
    assert {e.target.id for e in p.effects} == {"hi"}


def test_a_note_decision_throttles_the_note_and_charges_its_author():
    w = World().account("a1").edge(A("a1"), "POSTED", NodeRef("Note", "n1"))
    e = by_key(w.plan(Decision("undeclared_promotion", (NodeRef("Note", "n1"),))))
    assert set(e) == {"Note:n1:throttle_note", "Account:a1:credit_deduction"}
    assert e["Note:n1:throttle_note"].days == 7 and e["Account:a1:credit_deduction"].points == 10
    assert path_text(e["Account:a1:credit_deduction"].path) == "Note n1 <-POSTED- Account a1"
    # An account decision without a note: the account's actions, and a warning.
    p = w.plan(Decision("spam_comment", (A("a1"),)))
    assert set(by_key(p)) == {"Account:a1:credit_deduction"} and "no note named" in p.warnings[0]


def test_the_level_comes_from_the_history_and_the_history_is_part_of_the_decision():
    v = Existing("S-1", "credit_deduction", "active", "ringscope", NOW - timedelta(days=5), violation_id="V-1")
    revoked_is_absent = World().account("a1").plan(Decision("spam_comment", (A("a1"),)))
    again = World().account("a1", sanctions=[v]).plan(Decision("spam_comment", (A("a1"),)))
    assert {e.level for e in revoked_is_absent.effects} == {1} and {e.level for e in again.effects} == {2}
    assert again.effects[0].history == ("S-1",)
    assert again.decision_key != revoked_is_absent.decision_key
    changes = diff(revoked_is_absent, again)
    assert any("now also mute Account a1" in c for c in changes)
    assert any("no longer credit_deduction Account a1" in c for c in changes)


def test_plans_are_deterministic_and_survive_a_round_trip():
    w = World()
    w.account("a1").account("a2").uses("a1", "d1").uses("a2", "d1")
    first, second = w.plan(ban("a1")), w.plan(ban("a1"))
    assert first.fingerprint() == second.fingerprint()
    back = plan_from_content(first.content())
    assert back == first and back.fingerprint() == first.fingerprint()


def test_bad_decisions_are_named():
    w = World().account("a1")
    with pytest.raises(UnknownTarget, match="no Account with id 'ghost'"):
        w.plan(ban("ghost"))
    with pytest.raises(BadDecision, match="--kind 'jaywalking' is not a violation kind"):
        w.plan(Decision("jaywalking", (A("a1"),)))
    with pytest.raises(BadDecision, match="needs a target"):
        w.plan(Decision("spam_comment"))


def test_a_decision_too_broad_for_the_limits_is_refused():
    raw = yaml.safe_load(DEFAULT_POLICY.read_text())
    raw["limits"]["max_fanout"] = 2
    narrow = parse_policy(raw)
    k = NodeRef("Cluster", "k1")
    w = World().node(k)
    for a in ("x1", "x2", "x3"):
        w.account(a).edge(k, "HAS_MEMBER", A(a), score=0.9)
    with pytest.raises(TooBroad, match="more than 2"):
        w.plan(Decision("spam_comment", cluster="k1"), policy=narrow)


class CountingSource:
    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def nodes(self, refs):
        return self.inner.nodes(refs)

    def expand(self, refs, step, cap, sanctioned_since=None):
        self.calls.append((tuple(refs), step.rel, step.direction, sanctioned_since is not None))
        return self.inner.expand(refs, step, cap, sanctioned_since)


def test_each_node_is_expanded_at_most_once_per_rule_step():
    w = World()
    for i in range(30):
        w.account(f"a{i}").uses(f"a{i}", f"d{i % 10}").uses(f"a{i}", "shared")
    src = CountingSource(w.source())
    plan(ban(*(f"a{i}" for i in range(30))), src, P, NOW)
    seen = [(ref, rel, d, s) for refs, rel, d, s in src.calls for ref in refs]
    assert len(seen) == len(set(seen))


def test_cascade_keeps_what_has_another_justification_and_drops_what_has_none():
    closure = {
        "dev": Derived("dev", "active", (Parent("a1", "active"), Parent("a2", "active"))),
        "evader": Derived("evader", "active", (Parent("dev", "active"),)),
        "review": Derived("review", "open", (Parent("dev", "active"),)),
        "agency": Derived("agency", "active", (Parent("a1", "active", "acc1"), Parent("a2", "active", "acc2"),
                                               Parent("old", "expired", "acc3")), "accounts>=3"),
        "coop": Derived("coop", "active", (Parent("pts", "active", points=4), Parent("agency-pts", "active",
                                                                                     points=6)), "points>=10"),
    }
    assert cascade(["a1"], closure) == ["a1", "agency"]  # dev still rests on a2; the agency drops to 2 accounts
    assert cascade(["a1", "a2"], closure) == ["a1", "a2", "agency", "dev", "evader", "review"]
    assert cascade(["pts"], closure) == ["pts", "coop"]


def test_a_derivation_chain_names_each_ancestor_once_nearest_first():
    parents = {"evader": ("dev",), "dev": ("a1", "a2"), "a1": ("imported",), "a2": ("imported",)}
    assert derivation_chain("evader", parents, 20) == ("dev", "a1", "a2", "imported")
    assert derivation_chain("evader", parents, 2) == ("dev", "a1")
    assert derivation_chain("a1", parents, 20) == ("imported",)  # named, though nothing says what it derives from
    assert derivation_chain("x", {"x": ("y",), "y": ("x",)}, 20) == ("y",)  # a cycle in hand-made data ends
    assert derivation_chain("imported", parents, 20) == ()
