"""The audit log's anchor outside the database: an append-only file of ``seq hash`` lines in RINGSCOPE_HOME.

Someone who can write to the database can rewrite the whole hash chain and
its head (the chain has no secret), so the chain alone cannot show that
entries were removed from its end or that it was recomputed. Each process
that appends entries therefore writes, right after its transaction commits,
one line ``seq hash`` per entry it wrote to this file, which lives outside
the database: ``audit/<id>.heads`` in ``RINGSCOPE_HOME``, one file per
database (``<id>`` is derived from the URI and the database name, which the
file's first line names), or the file ``RINGSCOPE_AUDIT_ANCHOR`` names (put
it on storage the database's users cannot write, e.g. append-only).

- Several processes append: each write takes an exclusive ``flock`` on the
  file, appends its lines with one ``write`` and ``fsync``s before releasing
  it, so lines never interleave (their order in the file may differ from
  ``seq`` order; only the set matters). Readers take a shared lock.
- A crash between the commit and the write leaves committed entries without
  a line. ``audit.chain.check_anchor`` tolerates entries without a line for
  ``ANCHOR_GRACE_SECONDS`` after they were written (commits in flight in
  other processes) and reports older ones; an admin who has checked them
  adopts them with ``ringscope audit anchor``.
- ``ringscope reset`` empties the log on purpose and says so here with the
  line ``0 <genesis>``: lines before it belong to the emptied log.
- Writing the file never undoes or fails the action that was recorded (it
  has committed): a failure to write is logged, and ``audit verify`` reports
  the entries that are missing from the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Iterable, Mapping

from ringscope.audit.chain import GENESIS
from ringscope.common.errors import RingscopeError
from ringscope.common.paths import ringscope_home

ANCHOR_ENV = "RINGSCOPE_AUDIT_ANCHOR"
log = logging.getLogger("ringscope.audit")


class AnchorError(RingscopeError):
    """The anchor file cannot be read or written (names the file)."""


def anchor_path(uri: str, database: str | None, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(ANCHOR_ENV):
        return Path(env[ANCHOR_ENV]).expanduser()
    ident = hashlib.sha256(f"{uri}\n{database or ''}".encode("utf-8")).hexdigest()[:16]
    return ringscope_home(dict(env)) / "audit" / f"{ident}.heads"


def _open_locked(path: Path, uri: str, database: str | None) -> int:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    if os.fstat(fd).st_size == 0:
        os.write(fd, f"# ringscope audit anchor: {uri} database {database or 'default'}\n".encode("utf-8"))
    return fd


def write_lines(path: Path, lines: Iterable[tuple[int, str]], uri: str, database: str | None) -> None:
    """Append ``seq hash`` lines under an exclusive lock, durably. Raises OSError."""
    data = "".join(f"{seq} {digest}\n" for seq, digest in lines).encode("ascii")
    fd = _open_locked(path, uri, database)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def anchor_entries(path: Path, lines: list[tuple[int, str]], uri: str, database: str | None) -> None:
    """After a commit: anchor what it appended. Never raises (the recorded action has happened)."""
    try:
        write_lines(path, lines, uri, database)
    except OSError as exc:
        log.warning("ringscope: the audit entries %s were committed but could not be anchored in %s (%s); "
                    "`ringscope audit verify` will report them", ", ".join(str(s) for s, _ in lines), path,
                    exc.strerror or exc)


def mark_reset(path: Path, uri: str, database: str | None) -> None:
    """The log was emptied on purpose (``ringscope reset``): lines before this one belong to the old log."""
    try:
        write_lines(path, [(0, GENESIS)], uri, database)
    except OSError as exc:
        raise AnchorError(f"{path}: cannot record the reset in the audit log's anchor file "
                          f"({exc.strerror or exc}); `ringscope audit verify` will report the log as emptied") from None


def read_text(path: Path) -> str | None:
    """The file's text (under a shared lock), or None when there is no file yet."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorError(f"{path}: cannot read the audit log's anchor file ({exc.strerror or exc})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise AnchorError(f"{path}: cannot read the audit log's anchor file ({exc.strerror or exc})") from None
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
