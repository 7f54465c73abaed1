"""Cursors: what ``--since`` takes, and the state file a webhook delivery keeps its cursor in.

A cursor is the ``seq`` of the last audit entry a consumer processed (0: from the beginning). The state file
holds one line, that number; it is replaced atomically (written beside, flushed to disk, renamed) only after the
webhook answered 2xx for everything up to it, so a crash between the answer and the write sends that batch again
(at-least-once: receivers deduplicate by ``event_id``). One delivery at a time holds the file's lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from ringscope.common.errors import SettingError


def parse_cursor(text: str | int | None, setting: str = "--since") -> int:
    """A cursor from the command line or a state file: a whole number from 0; else one line naming ``setting``."""
    if text is None:
        return 0
    value = str(text).strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise SettingError(f"{setting} must be a cursor: a whole number from 0 (the `cursor` of the last event "
                           f"processed), not {str(text)[:40]!r}")
    return int(value)


class CursorFile:
    """The cursor of a delivery, in ``path``; use as a context manager (takes the lock)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock: IO | None = None

    @property
    def setting(self) -> str:
        return f"--state {self.path}"

    def __enter__(self) -> "CursorFile":
        if self.path.is_dir() or not self.path.parent.is_dir():
            raise SettingError(f"{self.setting}: not a file in an existing folder")
        self._lock = open(self.path.with_name(self.path.name + ".lock"), "a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise SettingError(f"{self.setting}: another delivery is using this state file; wait for it to "
                               "finish") from None
        return self

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    def load(self, default: int | None = 0) -> int | None:
        """The cursor saved, or ``default`` when the file does not exist yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return default
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingError(f"{self.setting} cannot be read: {exc}") from None
        return parse_cursor(text, self.setting)

    def save(self, cursor: int) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(f"{cursor}\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
