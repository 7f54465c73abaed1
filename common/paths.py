"""Where the tool keeps its own files: ``RINGSCOPE_HOME`` (default ``$XDG_DATA_HOME/ringscope``)."""

from __future__ import annotations

import os
from pathlib import Path


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ringscope"


def ringscope_home(env: dict[str, str] | None = None) -> Path:
    """The local Neo4j's jars and data, the users file, the signing key: never the checkout or site-packages."""
    env = os.environ if env is None else env
    return Path(env.get("RINGSCOPE_HOME") or default_home()).expanduser()
