"""Failed sign-ins per user name, kept in a file so a new browser session (or another app process) does not
start from zero.

After ``MAX_FAILURES`` failures in a row a name is locked for ``LOCKOUT_S``
seconds, whichever session tries; a success clears it. Names are stored as
unsalted SHA-256 digests (the file names nobody), and unknown names are
counted like known ones, so the lockout says nothing about who exists. The
file lives in ``RINGSCOPE_HOME`` (mode 0600) and is read and written under an
exclusive ``flock``, so concurrent sign-ins never lose a count.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ringscope.common.paths import ringscope_home

MAX_FAILURES = 5
LOCKOUT_S = 300.0


def default_path() -> Path:
    return ringscope_home() / "signin-failures.json"


def _key(name: str) -> str:
    return hashlib.sha256(name.strip().encode("utf-8")).hexdigest()


@dataclass
class Lockout:
    path: Path
    max_failures: int = MAX_FAILURES
    lockout_s: float = LOCKOUT_S

    @contextmanager
    def _state(self) -> Iterator[dict]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            text = handle.read()
            try:
                state = json.loads(text) if text.strip() else {}
            except json.JSONDecodeError:
                state = {}  # a damaged file starts over rather than locking everyone out
            yield state
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state, sort_keys=True))

    def seconds_left(self, name: str, now: float | None = None) -> float:
        """How long ``name`` stays locked (0: it may try)."""
        now = time.time() if now is None else now
        with self._state() as state:
            entry = state.get(_key(name))
        if not entry or entry["failures"] < self.max_failures:
            return 0.0
        return max(0.0, entry["last"] + self.lockout_s - now)

    def failed(self, name: str, now: float | None = None) -> int:
        """Count a failure; the number of failures in a row."""
        now = time.time() if now is None else now
        with self._state() as state:
            entry = state.get(_key(name)) or {"failures": 0, "last": 0.0}
            if entry["failures"] >= self.max_failures and now - entry["last"] >= self.lockout_s:
                entry = {"failures": 0, "last": 0.0}  # the lockout ran out: a fresh start
            entry = {"failures": entry["failures"] + 1, "last": now}
            state[_key(name)] = entry
            # Forget names quiet for a day, so the file does not grow without bound.
            for key in [k for k, v in state.items() if now - v["last"] > 86_400]:
                del state[key]
            return entry["failures"]

    def succeeded(self, name: str) -> None:
        with self._state() as state:
            state.pop(_key(name), None)
