"""Pulling an entity's neighbourhood from the lake into the graph, in the background (#16).

The app offers "Pull its neighbourhood" for an entity the lake has and the
graph lacks. The pull is ``ringscope ingest --subgraph-of KIND:ID --source
LAKE --hops N --mode incremental``, the command an operator would type, run
as a child process: it starts Spark (a minute or more), so the page must not
wait for it. Its output goes to two files under ``RINGSCOPE_HOME/app-pulls/``
(``<id>.out``: the summary lines; ``<id>.err``: progress and errors, and
whatever Spark logs); each rerun of the page reads them (``Pull.status``).

``Pulls`` is the process's registry, shared by every session of the app:
pulling the same entity with the same hops from the same lake while a pull of
it runs joins that pull, and at most ``limit`` pulls run at once
(``RINGSCOPE_APP_PULLS``, default 1: Spark ``local[2]`` beside Neo4j takes the
machine); a further request is refused, naming the pull that runs. Nothing
here touches the database: who pulled what is recorded in the audit log by
``webapp.services.start_pull`` before the child starts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ringscope.common.errors import RingscopeError

# The lines the command itself writes to stderr (its progress and its error), among Spark's own logging.
OWN_LINE = re.compile(r"^(ringscope: |selecting |writing |--subgraph-of |statuses: )")
ERROR_PREFIX = "ringscope: error: "


class PullRefused(RingscopeError):
    """No room for another pull now (``RINGSCOPE_APP_PULLS`` pulls are running)."""


@dataclass(frozen=True)
class PullRequest:
    """Pull node ``kind``:``entity_id`` and its ``hops``-hop neighbourhood from ``lake``, asked for by
    ``actor`` (with ``role``)."""

    kind: str
    entity_id: str
    hops: int
    lake: str
    actor: str
    role: str

    def argv(self) -> list[str]:
        """The command run: the package's own ``ringscope`` in this interpreter."""
        return [sys.executable, "-m", "ringscope.commands", "ingest", "--subgraph-of", f"{self.kind}:{self.entity_id}",
                "--source", self.lake, "--hops", str(self.hops), "--mode", "incremental", "--no-progress"]

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.kind, self.entity_id, self.hops, self.lake)


@dataclass(frozen=True)
class PullStatus:
    """Where a pull is: ``running``, ``done`` (exit 0) or ``failed``; for how long; the latest line of its
    progress; its summary (stdout) lines; and, failed, the error it printed (or its exit code)."""

    state: str
    seconds: float
    progress: str
    summary: tuple[str, ...]
    error: str = ""


class Pull:
    """One pull: the request, its child process and its output files."""

    def __init__(self, pull_id: str, request: PullRequest, process: subprocess.Popen, out: Path, err: Path):
        self.pull_id, self.request, self.process, self.out, self.err = pull_id, request, process, out, err
        self.started = time.monotonic()
        self.finished: float | None = None

    def status(self) -> PullStatus:
        """Read from its files: O(size of its output)."""
        code = self.process.poll()
        if code is not None and self.finished is None:
            self.finished = time.monotonic()
        seconds = (self.finished or time.monotonic()) - self.started
        summary = tuple(line for line in _lines(self.out) if line.strip())
        own = [line for line in _lines(self.err) if OWN_LINE.match(line)]
        progress = summary[-1] if summary else (own[-1] if own else "starting Spark")
        if code is None:
            return PullStatus("running", seconds, progress, summary)
        if code == 0:
            return PullStatus("done", seconds, progress, summary)
        errors = [line[len(ERROR_PREFIX):] for line in own if line.startswith(ERROR_PREFIX)]
        tail = [line for line in _lines(self.err) if line.strip()]
        error = errors[-1] if errors else (f"the command stopped with exit code {code}"
                                           + (f": {tail[-1][:300]}" if tail else ""))
        return PullStatus("failed", seconds, progress, summary, error)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


class Pulls:
    """The process's pulls: ``start``, ``get``, ``running_for`` (see the module)."""

    def __init__(self, directory: Path, limit: int = 1):
        self.directory, self.limit = directory, limit
        self._pulls: dict[str, Pull] = {}
        self._lock = threading.Lock()

    def get(self, pull_id: str | None) -> Pull | None:
        return self._pulls.get(pull_id) if pull_id else None

    def running(self) -> list[Pull]:
        return [p for p in list(self._pulls.values()) if p.process.poll() is None]

    def running_for(self, request: PullRequest) -> Pull | None:
        """The pull of the same entity, hops and lake running now, if any (whoever started it)."""
        return next((p for p in self.running() if p.request.key == request.key), None)

    def running_of(self, kind: str, entity_id: str, lake: str) -> Pull | None:
        """A pull of node ``kind``:``entity_id`` from ``lake`` running now, with any hops, if any."""
        return next((p for p in self.running() if p.request.key[:2] == (kind, entity_id)
                     and p.request.lake == lake), None)

    def check_room(self, request: PullRequest) -> None:
        """``PullRefused`` when ``limit`` other pulls run now."""
        running = [p for p in self.running() if p.request.key != request.key]
        if len(running) >= self.limit:
            first = running[0]
            raise PullRefused(f"{len(running)} pull(s) already running (the first: {first.request.kind} by "
                              f"{first.request.actor}, {time.monotonic() - first.started:.0f} s so far); the app "
                              f"runs at most {self.limit} at once (RINGSCOPE_APP_PULLS). Try again when it is done.")

    def start(self, request: PullRequest, env: dict[str, str] | None = None) -> Pull:
        """Start ``request``'s command in the background (or join the same pull running now); ``PullRefused``
        when there is no room."""
        with self._lock:
            joined = self.running_for(request)
            if joined is not None:
                return joined
            self.check_room(request)
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            pull_id = uuid.uuid4().hex[:12]
            out, err = self.directory / f"{pull_id}.out", self.directory / f"{pull_id}.err"
            with _private(out) as out_file, _private(err) as err_file:
                process = subprocess.Popen(request.argv(), stdout=out_file, stderr=err_file,
                                           stdin=subprocess.DEVNULL, env=dict(os.environ if env is None else env),
                                           start_new_session=True)  # a rerun or a closed tab never stops it
            pull = Pull(pull_id, request, process, out, err)
            self._pulls[pull_id] = pull
            return pull


def _private(path: Path):
    """``path`` opened for writing, readable by the user alone (the output names personal data)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")
