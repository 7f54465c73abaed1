"""The audit chain's checks as plain data (no database): the anchor file's lines, the grace for commits in
flight, and the head an evidence pack recorded."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from ringscope.audit.chain import (
    GENESIS, Verification, check_anchor, check_pack_head, entry_hash, parse_anchor, verify_chain,
)

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc)


def make_chain(n: int, start: datetime = NOW - timedelta(hours=1), exports: dict[int, dict] | None = None):
    entries, previous = [], GENESIS
    for seq in range(1, n + 1):
        at = (start + timedelta(seconds=seq)).isoformat(timespec="microseconds")
        action = "evidence.export" if exports and seq in exports else "sanction.apply"
        details = json.dumps((exports or {}).get(seq, {}), sort_keys=True, separators=(",", ":"))
        digest = entry_hash(seq, at, "alice", "investigator", action, "account", f"a{seq}", "", details, previous)
        entries.append({"seq": seq, "at": at, "actor": "alice", "role": "investigator", "action": action,
                        "target_type": "account", "target_id": f"a{seq}", "reason": "", "details": details,
                        "prev_hash": previous, "hash": digest})
        previous = digest
    return entries


def lines(entries) -> str:
    return "".join(f"{e['seq']} {e['hash']}\n" for e in entries)


def check(entries, text, now=NOW):
    return check_anchor(verify_chain(entries), entries, parse_anchor(text, "anchor.heads"), now)


def test_an_anchored_chain_verifies_and_says_how_much_the_anchor_vouches_for():
    entries = make_chain(4)
    result = check(entries, "# ringscope audit anchor\n" + lines(entries))
    assert result.ok and result.anchored == 4
    assert result.line() == "ok: 4 entries; the hash chain is intact and 4 of them match the anchor file"
    assert Verification(True, 3).line() == "ok"  # the chain alone, not compared with an anchor


def test_the_anchor_catches_what_the_chain_alone_cannot():
    entries = make_chain(5)
    anchored = lines(entries)
    truncated = entries[:3]
    assert verify_chain(truncated).ok and not check(truncated, anchored).ok
    assert "entry 4 was written" in check(truncated, anchored).problem
    assert "the log is empty" in check([], anchored).problem
    rewritten = make_chain(5, start=NOW - timedelta(hours=2))  # a whole chain recomputed: valid on its own
    assert verify_chain(rewritten).ok
    assert "does not have the hash it was written with" in check(rewritten, anchored).problem


def test_entries_without_a_line_are_tolerated_only_while_they_may_be_in_flight():
    entries = make_chain(3, start=NOW - timedelta(seconds=30))
    assert check(entries, lines(entries[:1])).ok  # two commits whose lines are being written
    assert "not anchored yet" in check(entries, lines(entries[:1])).line()
    later = NOW + timedelta(minutes=2)
    problem = check(entries, lines(entries[:1]), now=later).problem
    assert problem.startswith("2 entries are not in the anchor file anchor.heads, the first entry 2 ")
    assert "ringscope audit anchor" in problem
    assert not check(entries, "", now=NOW - timedelta(minutes=5)).ok  # dated in the future: not in flight
    assert not check(make_chain(1), "").ok  # an old log and no anchor: the anchor must adopt it first


def test_a_deliberate_reset_starts_over_and_a_silent_one_shows_as_two_hashes():
    old, new = make_chain(3), make_chain(2, start=NOW - timedelta(minutes=30))
    assert check(new, lines(old) + f"0 {GENESIS}\n" + lines(new)).ok
    problem = check(new, lines(old) + lines(new)).problem
    assert "two different hashes for entry 1" in problem


def test_an_edited_anchor_file_fails_but_a_torn_last_line_is_a_crash_not_an_edit():
    entries = make_chain(3)
    text = lines(entries)
    assert "line 2" in check(entries, text.replace(f"2 {entries[1]['hash']}", "2 cafe")).problem
    assert check(entries, text + "4 1f2e").ok  # a write cut short by a crash: ignored
    torn = parse_anchor(text + "4 1f2e", "a")
    assert torn.malformed == () and sorted(torn.heads) == [1, 2, 3]
    assert parse_anchor(text + "0 1234\n", "a").malformed == (4,)  # a reset marker is the genesis hash only


def test_a_packs_head_must_still_be_in_the_chain_and_its_export_after_it():
    export = {"pack_id": "pack-1", "sha256_manifest": "ab" * 32}
    entries = make_chain(6, exports={5: export})
    head = {"seq": 4, "hash": entries[3]["hash"]}
    assert check_pack_head(entries, head, "pack-1", "ab" * 32) is None
    assert check_pack_head(entries, {"seq": 0, "hash": GENESIS}, "pack-1", "ab" * 32) is None
    assert "export of pack pack-1" in check_pack_head(entries, head, "pack-1", "cd" * 32)
    assert "export of pack pack-1" in check_pack_head(entries, {"seq": 5, "hash": entries[4]["hash"]}, "pack-1",
                                                      "ab" * 32)
    assert "entries were removed after the export" in check_pack_head(entries[:3], head, "pack-1", "ab" * 32)
    rewritten = make_chain(6, start=NOW, exports={5: export})
    assert "rewritten after the export" in check_pack_head(rewritten, head, "pack-1", "ab" * 32)
    assert "records no audit head" in check_pack_head(entries, None, "pack-1", "ab" * 32)
    assert "records no audit head" in check_pack_head(entries, {"seq": "4", "hash": "x"}, "pack-1", "ab" * 32)


def test_a_missing_head_node_with_entries_is_reported():
    entries = make_chain(2)
    assert verify_chain(entries, {"seq": None, "hash": None}).problem.startswith("the log's head is missing")
    assert verify_chain([], {"seq": None, "hash": None}).ok
