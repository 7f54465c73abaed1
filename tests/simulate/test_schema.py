"""Every file follows the input format (shared/spec/input-format.md): columns, values, references."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.simulate.conftest import ACCOUNTS, STEMS, utc

# (column, kind, required) per file, as in the spec; labels adds the farm_type/role extensions.
SPEC = {
    "accounts": [("account_id", "id", 1), ("nickname", "text", 0), ("registered_at", "ts", 1),
                 ("registration_ip", "ip", 0), ("phone_segment", "segment", 0), ("phone_hash", "text", 0),
                 ("followers", "count", 0), ("following", "count", 0), ("is_professional", "bool", 0),
                 ("default_profile", "bool", 0), ("bio", "text", 0), ("status", "status", 0)],
    "devices": [("device_id", "id", 1), ("model", "text", 0), ("os", "text", 0), ("is_emulator", "bool", 0)],
    "account_devices": [("account_id", "id", 1), ("device_id", "id", 1), ("first_seen", "ts", 0), ("last_seen", "ts", 0)],
    "account_ips": [("account_id", "id", 1), ("ip", "ip", 1), ("first_seen", "ts", 0), ("last_seen", "ts", 0)],
    "brands": [("brand_id", "id", 1), ("name", "text", 0), ("category", "text", 0)],
    "intermediaries": [("intermediary_id", "id", 1), ("name", "text", 0), ("kind", "kind", 0), ("registered", "bool", 0)],
    "intermediary_accounts": [("intermediary_id", "id", 1), ("account_id", "id", 1), ("since", "ts", 0)],
    "orders": [("order_id", "id", 1), ("brand_id", "id", 1), ("intermediary_id", "id", 0), ("account_id", "id", 0),
               ("note_id", "id", 0), ("placed_at", "ts", 0), ("declared", "bool", 0)],
    "notes": [("note_id", "id", 1), ("account_id", "id", 1), ("posted_at", "ts", 1), ("title", "text", 0),
              ("brand_id", "id", 0), ("declared_commercial", "bool", 0), ("text", "text", 1), ("topics", "topics", 0),
              ("client", "text", 1), ("posted_via", "via", 1)],
    "comments": [("comment_id", "id", 1), ("account_id", "id", 1), ("note_id", "id", 1), ("created_at", "ts", 1),
                 ("text", "text", 0), ("reply_to", "id", 0), ("device_id", "id", 0), ("ip", "ip", 0),
                 ("client", "text", 1), ("posted_via", "via", 1)],
    "likes": [("account_id", "id", 1), ("note_id", "id", 1), ("created_at", "ts", 0)],
    "follows": [("account_id", "id", 1), ("target_account_id", "id", 1), ("created_at", "ts", 0)],
    "sanctions": [("sanction_id", "id", 1), ("target_type", "target", 1), ("target_id", "id", 1), ("action", "text", 1),
                  ("reason", "text", 0), ("issued_at", "ts", 1), ("expires_at", "ts", 0)],
    "labels": [("account_id", "id", 1), ("is_fake", "bool", 1), ("farm_id", "text", 0), ("farm_type", "farm_type", 0),
               ("role", "role", 0)],
    # Ground truth of the planted copied notes (evaluation only, never loaded).
    "note_labels": [("note_id", "id", 1), ("kind", "copy_kind", 1), ("copied_from", "id", 0), ("skeleton", "text", 0)],
    # Ground truth of the honest accounts comment rings hire for a stretch (evaluation only, never loaded).
    "drift_labels": [("account_id", "id", 1), ("farm_id", "text", 1), ("kind", "drift_kind", 1),
                     ("started_at", "ts", 1), ("ended_at", "ts", 0)],
    # The trending list's hourly captures (an extension) and the ground truth of its planted topics.
    "trending": [("captured_at", "ts", 1), ("rank", "count", 1), ("topic", "text", 1), ("score", "count", 1)],
    "trending_labels": [("topic", "text", 1), ("kind", "trend_kind", 1), ("operation", "text", 0)],
}
ENUMS = {
    "status": {"active", "limited", "muted", "suspended", "banned"},
    "kind": {"mcn", "agency", "studio", "unknown"},
    "target": {"account", "device", "brand", "intermediary", "note"},
    "copy_kind": {"verbatim", "rewashed", "skeleton"},
    "drift_kind": {"returned", "stayed"},
    "farm_type": {"bulk_farm", "aged_farm", "comment_ring", "evasion", "engagement_farm", "heat_campaign"},
    "role": {"organic", "organic_shared_nat", "organic_family_device", "engagement_buyer", "declared_creator",
             "scheduled_poster", "bulk_farm", "aged_farm", "comment_ring", "evasion", "engagement_farm", "ai_operated",
             # simulate/farmed.py: farmed declared accounts and their honest look-alikes
             "farmed_declared", "declared_viral", "declared_with_assistant", "creator_assistant",
             # simulate/trending.py: a heat operation's accounts
             "heat_campaign"},
    "via": {"app", "web", "api"},
    "trend_kind": {"viral", "celebrity", "heat"},
}
PATTERNS = {
    "ts": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$"),
    "bool": re.compile(r"^(true|false)$"),
    "count": re.compile(r"^\d+$"),
    "ip": re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$"),
    "segment": re.compile(r"^1\d{6}$"),
    "id": re.compile(r"^[a-zA-Z]\d{6,}$"),
    "topics": re.compile(r"^#[^;#\s]+(;#[^;#\s]+)*$"),
}
PRIMARY = {"accounts": "account_id", "devices": "device_id", "brands": "brand_id", "intermediaries": "intermediary_id",
           "orders": "order_id", "notes": "note_id", "comments": "comment_id", "sanctions": "sanction_id",
           "labels": "account_id", "note_labels": "note_id", "drift_labels": "account_id"}
NOW = pd.Timestamp("2025-06-30T00:00:00+08:00")


def test_all_files_written_with_row_counts(dataset, tables):
    out, summary = dataset
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}.csv" for s in STEMS)
    for stem in STEMS:
        assert summary.files[f"{stem}.csv"] == len(tables[stem])
        assert len(tables[stem]) > 0, stem
    assert len(tables["accounts"]) == ACCOUNTS
    assert summary.seconds > 0
    assert set(summary.farms) == ENUMS["farm_type"] - {"heat_campaign"} and all(v > 0 for v in summary.farms.values())


def test_volumes_are_platform_like(tables):
    n = ACCOUNTS
    expected = {"devices": 1.0, "account_devices": 1.2, "account_ips": 2.0, "notes": 0.3, "comments": 3.0,
                "likes": 4.0, "follows": 2.0}
    for stem, per_account in expected.items():
        ratio = len(tables[stem]) / n
        assert per_account * 0.7 <= ratio <= per_account * 1.35, (stem, ratio)


@pytest.mark.parametrize("stem", list(SPEC))
def test_columns_and_values(tables, stem):
    frame = tables[stem]
    assert list(frame.columns) == [c for c, _, _ in SPEC[stem]]
    for column, kind, required in SPEC[stem]:
        values = frame[column]
        if required:
            assert (values != "").all(), f"{stem}.{column} has empty required values"
        present = values[values != ""]
        if kind in PATTERNS:
            bad = present[~present.str.match(PATTERNS[kind])]
            assert bad.empty, f"{stem}.{column}: {bad.head().tolist()}"
        if kind in ENUMS:
            assert set(present) <= ENUMS[kind], f"{stem}.{column}: {set(present) - ENUMS[kind]}"
        if kind == "ts" and len(present):  # (an all-empty column, e.g. drift_labels.ended_at, has no times)
            times = pd.to_datetime(present)
            assert (times <= NOW).all() or column == "expires_at", f"{stem}.{column} after the reference now"
    if stem in PRIMARY and stem != "labels":
        assert frame[PRIMARY[stem]].is_unique


def test_first_seen_not_after_last_seen(tables):
    for stem in ("account_devices", "account_ips"):
        frame = tables[stem]
        assert (pd.to_datetime(frame.first_seen) <= pd.to_datetime(frame.last_seen)).all(), stem
        assert not frame.duplicated(["account_id", frame.columns[1]]).any(), stem


def test_sanctions_in_force(tables):
    s = tables["sanctions"]
    expiring = s[s.expires_at != ""]
    assert (pd.to_datetime(expiring.expires_at) > NOW).all()
    assert (pd.to_datetime(expiring.expires_at) > pd.to_datetime(expiring.issued_at)).all()


def test_referential_integrity(tables):
    t = tables
    ids = {
        "account": set(t["accounts"].account_id), "device": set(t["devices"].device_id), "note": set(t["notes"].note_id),
        "brand": set(t["brands"].brand_id), "intermediary": set(t["intermediaries"].intermediary_id),
        "comment": set(t["comments"].comment_id),
    }
    refs = [
        ("account_devices", "account_id", "account"), ("account_devices", "device_id", "device"),
        ("account_ips", "account_id", "account"), ("intermediary_accounts", "intermediary_id", "intermediary"),
        ("intermediary_accounts", "account_id", "account"), ("orders", "brand_id", "brand"),
        ("orders", "intermediary_id", "intermediary"), ("orders", "account_id", "account"), ("orders", "note_id", "note"),
        ("notes", "account_id", "account"), ("notes", "brand_id", "brand"), ("comments", "account_id", "account"),
        ("comments", "note_id", "note"), ("comments", "reply_to", "comment"), ("comments", "device_id", "device"),
        ("likes", "account_id", "account"), ("likes", "note_id", "note"), ("follows", "account_id", "account"),
        ("follows", "target_account_id", "account"), ("labels", "account_id", "account"),
        ("note_labels", "note_id", "note"), ("note_labels", "copied_from", "note"),
        ("drift_labels", "account_id", "account"),
    ]
    for stem, column, kind in refs:
        values = set(t[stem][column]) - {""}
        assert values <= ids[kind], f"{stem}.{column}: {sorted(values - ids[kind])[:5]}"
    for kind, group in t["sanctions"].groupby("target_type"):
        assert set(group.target_id) <= ids[kind], kind
    assert set(t["labels"].account_id) == ids["account"]
    # every comment's (account, device) and (account, ip) is a recorded link
    c = t["comments"]
    links = set(zip(t["account_devices"].account_id, t["account_devices"].device_id))
    with_device = c[c.device_id != ""]
    assert set(zip(with_device.account_id, with_device.device_id)) <= links
    links = set(zip(t["account_ips"].account_id, t["account_ips"].ip))
    with_ip = c[c.ip != ""]
    assert set(zip(with_ip.account_id, with_ip.ip)) <= links
    assert len(with_device) > 0.9 * len(c) and len(with_ip) > 0.9 * len(c)


def test_events_happen_after_their_causes(tables):
    acc = tables["accounts"]
    reg = pd.Series(utc(acc.registered_at), index=acc.account_id)
    notes = tables["notes"]
    posted = pd.Series(utc(notes.posted_at), index=notes.note_id)
    assert (posted.to_numpy() >= reg.loc[notes.account_id].to_numpy()).all()
    for stem in ("comments", "likes"):
        frame = tables[stem]
        t = utc(frame.created_at)
        assert (t >= reg.loc[frame.account_id].to_numpy()).all(), stem
        assert (t >= posted.loc[frame.note_id].to_numpy()).all(), stem
    f = tables["follows"]
    t = utc(f.created_at)
    assert (t >= reg.loc[f.account_id].to_numpy()).all() and (t >= reg.loc[f.target_account_id].to_numpy()).all()
    assert (f.account_id != f.target_account_id).all()
    assert not f.duplicated(["account_id", "target_account_id"]).any()
    assert not tables["likes"].duplicated(["account_id", "note_id"]).any()
    c = tables["comments"].set_index("comment_id")
    replies = c[c.reply_to != ""]
    assert (utc(replies.created_at) >= utc(c.loc[replies.reply_to].created_at)).all()
    assert (c.loc[replies.reply_to].note_id.to_numpy() == replies.note_id.to_numpy()).all()


def test_follower_counts_match_follows(tables):
    acc = tables["accounts"].set_index("account_id")
    f = tables["follows"]
    followers = f.target_account_id.value_counts().reindex(acc.index, fill_value=0)
    following = f.account_id.value_counts().reindex(acc.index, fill_value=0)
    assert (acc.followers.astype(int) == followers).all()
    assert (acc.following.astype(int) == following).all()
