"""Which commits since a known state of the graph were this process's own, so that a columnar snapshot can be
kept current across the tool's own bookkeeping writes (``graph/snapshot.py``).

A bookmark names the last committed transaction: on one Neo4j 5 server it is ``FB:`` and base64 of a
Packstream list of (database id, transaction id) pairs (measured on 5.26: ``91 CC10 <16 bytes> C9 008B 90``,
transaction 139 of one database, no external graphs). Transaction ids grow by one per commit, so "every commit
between two states was ours" is "every id in between is one our writes got".

A write that changes nothing commits nothing, and its bookmark is then the *latest* commit's, possibly
someone else's (measured: ``SET x.v = 1`` on a node whose ``v`` is 1 reports ``properties_set 1`` and returns
the previous bookmark). Counters cannot tell, so while recording every write also bumps one stamp node in
the same transaction: each of them then commits for certain, and its bookmark is its own.

Recording is per context (``contextvars``): only the writes of the code inside ``recording()`` count (a
thread started inside it counts when it runs in a copy of the context), never another thread's or
process's. A format this module does not know reads as ``None``: the caller then treats the graph as changed.
"""

from __future__ import annotations

import base64
import struct
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Iterable, Iterator

# Run in the transaction of every recorded write (see the module's docstring). One node: recorded writes are
# a detection run's (the main thread and its lock's heartbeat), a few hundred per run.
STAMP = "MERGE (s:CommitStamp {name: 'own-commits'}) SET s.count = coalesce(s.count, 0) + 1"


@dataclass(frozen=True, order=True)
class Position:
    """Where a database's history stands: its id and its last committed transaction."""

    database: str  # hex of the database's id
    transaction: int


def position(bookmark: str) -> Position | None:
    """The database and transaction a bookmark names; ``None`` for a format not known here (or several
    databases in one bookmark). O(len(bookmark))."""
    if not bookmark.startswith("FB:"):
        return None
    try:
        data = base64.b64decode(bookmark[3:], validate=True)
        reader = _Packstream(data)
        if reader.list_size() != 1:
            return None
        database, transaction = reader.bytes_(), reader.int_()
        if reader.list_size() != 0 or not reader.at_end():
            return None
    except (ValueError, IndexError, struct.error):
        return None
    return Position(database.hex(), transaction)


class _Packstream:
    """Just the Packstream a bookmark holds: list headers, byte arrays and integers."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def _take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise ValueError("truncated")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def _marker(self) -> int:
        return self._take(1)[0]

    def list_size(self) -> int:
        marker = self._marker()
        if 0x90 <= marker <= 0x9F:
            return marker - 0x90
        sizes = {0xD4: ">B", 0xD5: ">H", 0xD6: ">I"}
        if marker not in sizes:
            raise ValueError("not a list")
        fmt = sizes[marker]
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def bytes_(self) -> bytes:
        sizes = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I"}
        marker = self._marker()
        if marker not in sizes:
            raise ValueError("not bytes")
        fmt = sizes[marker]
        return self._take(struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0])

    def int_(self) -> int:
        marker = self._marker()
        if marker < 0x80 or marker >= 0xF0:  # tiny int, -16..127
            return marker if marker < 0x80 else marker - 0x100
        sizes = {0xC8: ">b", 0xC9: ">h", 0xCA: ">i", 0xCB: ">q"}
        if marker not in sizes:
            raise ValueError("not an integer")
        fmt = sizes[marker]
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def at_end(self) -> bool:
        return self.at == len(self.data)


@dataclass
class OwnCommits:
    """The positions this context's writes committed at (thread-safe: a heartbeat thread adds too)."""

    positions: set[Position] = field(default_factory=set)
    unknown: int = 0  # writes whose position could not be told (an unknown format, several commits in one call)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, bookmarks: Iterable[str]) -> None:
        found = [position(b) for b in bookmarks]
        with self._lock:
            if len(found) == 1 and found[0] is not None:
                self.positions.add(found[0])
            else:
                self.unknown += 1

    def mark_unknown(self) -> None:
        """A write whose commits cannot be named (``CALL { ... } IN TRANSACTIONS`` commits several)."""
        with self._lock:
            self.unknown += 1

    def cover(self, since: Position, now: Position) -> bool:
        """Whether every commit after ``since`` up to ``now`` was one of these writes. O(now - since)."""
        return not self.unknown and self.others(since, now) == []

    def others(self, since: Position, now: Position) -> list[int] | None:
        """The transactions after ``since`` up to ``now`` that none of these writes got; ``None`` when the two
        positions are not of one history (another database, or ``now`` before ``since``)."""
        if since.database != now.database or now.transaction < since.transaction:
            return None
        with self._lock:
            ours = {p.transaction for p in self.positions if p.database == now.database}
        return [t for t in range(since.transaction + 1, now.transaction + 1) if t not in ours]


_recording: ContextVar[OwnCommits | None] = ContextVar("ringscope_own_commits", default=None)


@contextmanager
def recording() -> Iterator[OwnCommits]:
    """Record the commits of every write made through a ``Graph`` in this context until the block ends."""
    own = OwnCommits()
    token = _recording.set(own)
    try:
        yield own
    finally:
        _recording.reset(token)


def active() -> OwnCommits | None:
    """The recorder of this context, if a ``recording()`` block is open."""
    return _recording.get()
