"""The feed's mapping on plain audit entries: one event per change in force, the set in force rebuilt from them."""

from __future__ import annotations

import json

import pytest

from ringscope.audit.chain import AuditEntry
from ringscope.auth.roles import Actor
from ringscope.feed.events import ACTIONS, MAPPINGS, BadEntry, event_of, events_of, in_force_set

AT = "2026-03-01T12:00:00.000000+00:00"
APPROVER = Actor("bob", "approver")
VIEWER = Actor("vic", "viewer")


def entry(seq, audit_action, target_id="a1", reason="", role="investigator", target_type="account", **details):
    return AuditEntry(seq, AT, "alice", role, audit_action, target_type, target_id, reason,
                      json.dumps(details, sort_keys=True), "0" * 64, f"{seq:064x}")


def test_an_active_sanction_carries_the_whole_restriction_and_its_end():
    ev = event_of(entry(7, "sanction.apply", sanction_id="S-1", action="mute", level=2, days=15, points=None,
                        kind="spam_comment", rule="decision", hop=0, preview_id="P-1", derived_from=[],
                        state="active", path="Account a1", evidence_refs=[]))
    assert (ev.cursor, ev.event_id, ev.event, ev.record, ev.id, ev.state, ev.in_force) == (
        7, f"{7:064x}", "sanction.applied", "sanction", "S-1", "active", True)
    assert (ev.target_type, ev.target_id, ev.action, ev.level, ev.days, ev.violation, ev.decision_id) == (
        "account", "a1", "mute", 2, 15, "spam_comment", "P-1")
    assert ev.ends_at == "2026-03-16T12:00:00+00:00" and ev.silent is False and ev.by == "investigator"
    # no names of people, no propagation path
    assert "alice" not in ev.json() and "path" not in ev.as_dict()


def test_a_permanent_sanction_has_no_end_and_one_awaiting_approval_is_not_in_force():
    ban = event_of(entry(1, "sanction.apply", sanction_id="S-2", action="permanent_ban", level=4, days=None,
                         state="active"))
    assert ban.ends_at is None and ban.in_force
    pending = event_of(entry(2, "sanction.apply", sanction_id="S-3", action="device_ban", days=None, hop=1,
                             state="pending_approval", target_type="device", target_id="d1"))
    assert (pending.event, pending.state, pending.in_force) == ("sanction.pending", "pending_approval", False)


def test_approval_revocation_expiry_and_reviews():
    approved = event_of(entry(3, "sanction.approve", role="approver", sanction_id="S-3", action="device_ban",
                              preview_id="P-1", applied_by="alice", expires_at=None, level=4, days=None))
    assert (approved.event, approved.in_force, approved.by, approved.level) == ("sanction.approved", True,
                                                                               "approver", 4)
    revoked = event_of(entry(4, "sanction.revoke", sanction_id="S-3", action="device_ban", via="cascade from S-2",
                             preview_id="P-1"))
    assert (revoked.event, revoked.state, revoked.in_force, revoked.via) == ("sanction.revoked", "revoked", False,
                                                                            "cascade from S-2")
    expired = event_of(entry(5, "sanction.expire", role="system", sanction_id="S-1", action="mute",
                             expires_at="2026-03-16T12:00:00+00:00", preview_id="P-0"))
    assert (expired.event, expired.in_force, expired.ends_at, expired.by) == (
        "sanction.expired", False, "2026-03-16T12:00:00+00:00", "system")
    opened = event_of(entry(6, "sanction.review", review_id="R-1", rule="banned_device_reviews_accounts", hop=2))
    withdrawn = event_of(entry(8, "sanction.review_withdrawn", review_id="R-1", via="cascade from S-2"))
    assert [(e.event, e.record, e.in_force) for e in (opened, withdrawn)] == [
        ("review.opened", "review", False), ("review.withdrawn", "review", False)]


def test_the_silent_throttle_is_marked_silent_with_its_reach_factor():
    placed = event_of(entry(9, "watch.place", stay_id="W-1", restriction="silent_throttle", reach_factor=0.5,
                            notified=False, ends_at="2026-03-15T12:00:00+00:00", by="investigator"))
    assert (placed.event, placed.record, placed.id, placed.state, placed.in_force) == (
        "throttle.placed", "stay", "W-1", "watching", True)
    assert (placed.action, placed.reach_factor, placed.silent) == ("silent_throttle", 0.5, True)
    escalated = event_of(entry(10, "watch.escalate", role="system", stay_id="W-1", run_id="r2", risk=0.9,
                               restriction="silent_throttle", reach_factor=0.5, ends_at=placed.ends_at))
    assert (escalated.event, escalated.in_force, escalated.run_id) == ("throttle.escalated", True, "r2")
    released = event_of(entry(11, "watch.release", stay_id="W-1", was="escalated", by="investigator"))
    assert (released.event, released.state, released.in_force) == ("throttle.released", "released", False)


def test_actions_that_change_nothing_in_force_are_not_in_the_feed():
    skipped = [entry(1, "evidence.export", pack_id="x"), entry(2, "sanction.exam", exam_id="X-1"),
               entry(3, "watch.update", target_type="run", counts={}), entry(4, "audit.anchor")]
    assert events_of(skipped) == []
    assert set(ACTIONS) == set(MAPPINGS) and "watch.update" not in ACTIONS


def test_reasons_are_masked_unless_the_reader_may_see_personal_data():
    e = entry(1, "sanction.apply", reason="加我13812345678 from 203.0.113.9", sanction_id="S-1", action="mute",
              days=15, state="active")
    assert event_of(e).reason == "加我138******** from 203.0.x.x"
    assert event_of(e, VIEWER).reason == "加我138******** from 203.0.x.x"
    assert event_of(e, APPROVER).reason == "加我13812345678 from 203.0.113.9"


def test_an_entry_missing_what_the_feed_needs_is_named():
    with pytest.raises(BadEntry, match="audit entry 5 \\(sanction.revoke\\)"):
        event_of(entry(5, "sanction.revoke", action="mute"))


def test_the_set_in_force_follows_every_event_by_id():
    events = events_of([
        entry(1, "sanction.apply", sanction_id="S-1", action="mute", days=15, state="active"),
        entry(2, "sanction.apply", sanction_id="S-2", action="permanent_ban", days=None, state="pending_approval"),
        entry(3, "watch.place", stay_id="W-1", restriction="silent_throttle", reach_factor=0.5,
              ends_at="2026-03-15T12:00:00+00:00"),
        entry(4, "sanction.approve", sanction_id="S-2", action="permanent_ban", expires_at=None),
        entry(5, "watch.extend", stay_id="W-1", restriction="silent_throttle", reach_factor=0.5,
              ends_at="2026-03-29T12:00:00+00:00"),
        entry(6, "sanction.expire", sanction_id="S-1", action="mute", expires_at="2026-03-16T12:00:00+00:00"),
    ])
    held = in_force_set(events)
    assert sorted(held) == ["S-2", "W-1"]
    assert held["W-1"]["ends_at"] == "2026-03-29T12:00:00+00:00" and held["S-2"]["event"] == "sanction.approved"
    # read in two pieces, from the JSON lines, the same set
    lines = [json.loads(e.json()) for e in events]
    assert in_force_set(lines[3:], in_force_set(lines[:3])) == held
    released = events_of([entry(7, "watch.release", stay_id="W-1", was="watching")])
    assert sorted(in_force_set(released, held)) == ["S-2"]


def test_a_health_effect_is_set_then_cleared_with_its_band_reach_and_commercial_terms():
    common = dict(band="throttled", reach_factor=0.5, commercial=False, apply_id="HA-1", policy_version=1)
    set_ = event_of(entry(12, "health.effect", role="approver", effect_id="HE-1", state="active", index=42.5,
                          was="normal", to="throttled", **common))
    assert (set_.event, set_.record, set_.id, set_.state, set_.in_force) == (
        "health.effect_set", "health_effect", "HE-1", "active", True)
    assert (set_.action, set_.reach_factor, set_.commercial, set_.silent, set_.ends_at, set_.by) == (
        "throttled", 0.5, False, False, None, "approver")
    boost = event_of(entry(13, "health.effect", effect_id="HE-2", state="active", band="boost", reach_factor=1.0,
                           commercial=True, target_id="a2"))
    assert (boost.action, boost.commercial, boost.in_force) == ("boost", True, True)
    cleared = event_of(entry(14, "health.effect", effect_id="HE-1", state="cleared", index=75.0, was="throttled",
                             to="normal", **common))
    assert (cleared.event, cleared.state, cleared.in_force, cleared.action) == (
        "health.effect_cleared", "cleared", False, "throttled")
    assert sorted(in_force_set([set_, boost, cleared])) == ["HE-2"]
    assert "health.effect" in ACTIONS and "health.apply" not in ACTIONS  # the summary changes nothing in force
