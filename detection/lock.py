"""The detection lock: one run at a time, and a run whose process has died frees it at once.

A run takes the lock (one ``DetectionLock`` node) together with who holds it: the machine, the process id and
that process's start time (``Holder``). A heartbeat renews it while the run works, and a run that crashed
frees it when it expires (``LOCK_TTL_MINUTES``). On the holder's own machine nobody need wait that long:
when the holding process is gone (killed by the system for memory, by ``kill -9``, or the machine's
session ended), the next run sees it (``Holder.is_gone``), takes the lock at once and is told which run
it took the lock from, so that run is marked failed instead of showing as ``running`` for ever. A holder
on another machine cannot be looked at from here: its lock expires as before.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from ringscope.common.errors import RingscopeError
from ringscope.graph.database import Graph

LOCK_TTL_MINUTES = 10
HEARTBEAT_S = 60

ACQUIRE_LOCK = """
MERGE (l:DetectionLock {name: 'detect'})
SET l.last_attempt = datetime()
WITH l
WHERE l.run_id IS NULL OR l.expires_at < datetime() OR l.run_id = $gone_run_id
WITH l, l.run_id AS previous, l.expires_at < datetime() AS expired
SET l.run_id = $run_id, l.expires_at = datetime() + duration({minutes: $ttl}),
    l.host = $host, l.pid = $pid, l.pid_started = $pid_started
RETURN previous, expired
"""
LOCK_HOLDER = """
MATCH (l:DetectionLock {name: 'detect'}) WHERE l.run_id IS NOT NULL
RETURN l.run_id AS run_id, toString(l.expires_at) AS expires, l.expires_at < datetime() AS expired,
       l.host AS host, l.pid AS pid, l.pid_started AS pid_started
"""
RENEW_LOCK = """
MATCH (l:DetectionLock {name: 'detect', run_id: $run_id})
SET l.expires_at = datetime() + duration({minutes: $ttl})
"""
RELEASE_LOCK = """
MATCH (l:DetectionLock {name: 'detect', run_id: $run_id})
SET l.run_id = null, l.expires_at = null, l.host = null, l.pid = null, l.pid_started = null
"""


class RunInProgress(RingscopeError):
    """Another detection run holds the lock."""


def _machine() -> str:
    """This machine as a lock holder names it: the host name and the process-id namespace (two containers
    may share a host name; process ids mean something only inside one namespace). O(1)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux: the host name alone
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()


def _started(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (field 22 of ``/proc/PID/stat``), or None
    where that cannot be read (no such process, or not Linux). O(1)."""
    try:
        return stat_start(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return None


def stat_start(stat: str) -> int | None:
    """The start time (field 22) in the text of a ``/proc/PID/stat``; None if it has none. O(len)."""
    try:  # the command name (field 2) may hold spaces and parentheses: count from the last ')'
        return int(stat[stat.rindex(")") + 2:].split()[19])
    except (ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock: ``run_id`` on ``host`` (``_machine``) in process ``pid``, started at
    ``pid_started`` (clock ticks since boot; None where unknown)."""

    run_id: str
    expires: str = ""
    expired: bool = False
    host: str | None = None
    pid: int | None = None
    pid_started: int | None = None

    @classmethod
    def this_process(cls, run_id: str) -> "Holder":
        pid = os.getpid()
        return cls(run_id, host=_machine(), pid=pid, pid_started=_started(pid))

    def is_gone(self) -> bool:
        """True when the holding process is known to have ended: it ran on this machine and there is no
        process ``pid`` now, or there is one that started at another time (the id was reused). False when
        it runs, or may run (another machine, or a lock taken before holders were recorded). O(1)."""
        if self.pid is None or self.host != _machine():
            return False
        started = _started(self.pid)
        if started is not None:
            return self.pid_started is not None and started != self.pid_started
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # someone else's process: it exists
            return False
        return False

    def describe(self) -> str:
        where = f" (process {self.pid} on {self.host.split()[0]})" if self.pid is not None and self.host else ""
        return f"{self.run_id}{where}"


@dataclass(frozen=True)
class Taken:
    """What taking the lock found: the run that held it before, if its lock had expired or its process had
    ended without releasing it (None when the lock was free)."""

    abandoned: Holder | None


def holder(graph: Graph) -> Holder | None:
    """Who holds the lock now (expired or not), or None when it is free."""
    rows = graph.read(LOCK_HOLDER)
    return Holder(**rows[0]) if rows else None


def refuse_if_held(graph: Graph) -> None:
    """Raise ``RunInProgress`` if a live run holds the lock; a read, so a refused run writes nothing. A lock
    that expired, or whose process is gone, does not refuse: the run will take it over."""
    held = holder(graph)
    if held is not None and not held.expired and not held.is_gone():
        raise in_progress(held)


def in_progress(held: Holder) -> RunInProgress:
    return RunInProgress(f"detection run {held.describe()} is still running (lock held until {held.expires}); "
                         f"runs never overlap, so this one did not start")


class DetectionLock:
    """The detection lock of run ``run_id``, renewed by a heartbeat thread while held. ``taken`` says, once
    entered, which run held it before (``Taken``)."""

    def __init__(self, graph: Graph, run_id: str, heartbeat_s: float = HEARTBEAT_S):
        self.graph, self.run_id, self.heartbeat_s = graph, run_id, heartbeat_s
        self.taken = Taken(None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _acquire(self, gone_run_id: str | None) -> list[dict]:
        me = Holder.this_process(self.run_id)
        return self.graph.write(ACQUIRE_LOCK, run_id=self.run_id, ttl=LOCK_TTL_MINUTES, gone_run_id=gone_run_id,
                                host=me.host, pid=me.pid, pid_started=me.pid_started)

    def __enter__(self) -> "DetectionLock":
        before = holder(self.graph)
        got = self._acquire(None)
        if not got:
            held = holder(self.graph)
            if held is None or not held.is_gone():
                raise in_progress(held or Holder("(unknown)"))
            # Only the run seen dead is taken over: if another run took the lock meanwhile, this fails.
            got = self._acquire(held.run_id)
            if not got:
                raise in_progress(holder(self.graph) or held)
            before = held
        previous = got[0]["previous"]
        if previous is not None and previous != self.run_id:
            self.taken = Taken(before if before is not None and before.run_id == previous else Holder(previous))
        # In a copy of this context: its renewals are the run's own writes (``graph.commits.recording``).
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._beat,),
                                        name="detect-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                self.graph.write(RENEW_LOCK, run_id=self.run_id, ttl=LOCK_TTL_MINUTES)
            except Exception:  # the run itself will notice a dead database
                pass

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.graph.write(RELEASE_LOCK, run_id=self.run_id)
