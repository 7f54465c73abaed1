"""Telling this process's own commits from everyone else's by the transaction ids in their bookmarks."""

from __future__ import annotations

import base64
import contextvars
import struct
import threading

from ringscope.graph import commits
from ringscope.graph.commits import OwnCommits, Position

# A bookmark the 5.26 server returned here (transaction 139 of one database), and the same database later.
MEASURED = "FB:kcwQbrL+8NPpQAGd7atqGKVamckAi5A="
DATABASE = "6eb2fef0d3e940019dedab6a18a55a99"


def bookmark(transaction_marker: bytes, database: str = DATABASE, external: bytes = b"\x90") -> str:
    data = b"\x91" + b"\xcc\x10" + bytes.fromhex(database) + transaction_marker + external
    return "FB:" + base64.b64encode(data).decode()


def test_the_measured_bookmark_names_its_database_and_transaction():
    assert commits.position(MEASURED) == Position(DATABASE, 139)
    assert commits.position("FB:kcwQbrL+8NPpQAGd7atqGKVamckCp5A=") == Position(DATABASE, 679)


def test_every_integer_size_reads():
    assert commits.position(bookmark(b"\x05")).transaction == 5
    assert commits.position(bookmark(b"\xc8\x7f")).transaction == 127
    assert commits.position(bookmark(b"\xca" + struct.pack(">i", 70_000))).transaction == 70_000
    assert commits.position(bookmark(b"\xcb" + struct.pack(">q", 2**40))).transaction == 2**40


def test_a_format_not_known_here_reads_as_nothing():
    assert commits.position("neo4j:bookmark:v1:tx42") is None  # Neo4j 4's format
    assert commits.position("FB:not base64!") is None
    assert commits.position(MEASURED[:-8]) is None  # truncated
    assert commits.position(bookmark(b"\x05", external=b"\x91")) is None  # a composite database's external graph
    two = base64.b64decode(MEASURED[3:])
    assert commits.position("FB:" + base64.b64encode(b"\x92" + two[1:-1] + two[1:-1] + b"\x90").decode()) is None


def test_commits_are_covered_only_when_every_one_in_between_is_ours():
    own = OwnCommits()
    for tx in (11, 12, 14):
        own.add([bookmark(bytes([tx]))])
    since = Position(DATABASE, 10)
    assert own.cover(since, Position(DATABASE, 12))
    assert own.cover(since, Position(DATABASE, 10)), "nothing committed since"
    assert not own.cover(since, Position(DATABASE, 14)), "13 was someone else's"
    assert not own.cover(since, Position("00" * 16, 12)), "another database (a store built again)"
    assert not own.cover(Position(DATABASE, 13), Position(DATABASE, 12))
    own.add([bookmark(bytes([13]))])
    assert own.cover(since, Position(DATABASE, 14))
    own.mark_unknown()
    assert not own.cover(since, Position(DATABASE, 14)), "a write whose commits cannot be named"


def test_a_bookmark_that_cannot_be_read_spoils_the_record():
    own = OwnCommits()
    own.add([bookmark(b"\x0b")])
    own.add(["neo4j:bookmark:v1:tx12"])
    assert not own.cover(Position(DATABASE, 10), Position(DATABASE, 11))


def test_recording_is_seen_in_its_context_and_copies_of_it_only():
    assert commits.active() is None
    seen: dict[str, object] = {}
    with commits.recording() as own:
        assert commits.active() is own
        copied = threading.Thread(target=contextvars.copy_context().run,
                                  args=(lambda: seen.setdefault("copy", commits.active()),))
        fresh = threading.Thread(target=contextvars.Context().run,
                                 args=(lambda: seen.setdefault("fresh", commits.active()),))
        for t in (copied, fresh):
            t.start()
            t.join()
    assert seen == {"copy": own, "fresh": None}
    assert commits.active() is None
