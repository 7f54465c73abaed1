"""Connection and local-server settings, read once from the environment.

The names are those Neo4j's own tools use (``NEO4J_URI``, ``NEO4J_USERNAME``,
``NEO4J_PASSWORD``, ``NEO4J_DATABASE``). With no ``NEO4J_URI`` the tool talks to
its own local Neo4j (``ringscope db start``), whose password lives in a file
readable only by the user.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ringscope.common.errors import SettingError
from ringscope.common.paths import ringscope_home

_SIZE = re.compile(r"^\s*(\d+)\s*([kmgKMG]?)[bB]?\s*$")


def parse_size(name: str, value: str) -> int:
    """``512m`` -> bytes; the error names the setting."""
    match = _SIZE.match(value)
    if not match:
        raise SettingError(f"{name}={value!r} is not a size (examples: 512m, 2g)")
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number") from None


@dataclass(frozen=True)
class LocalServer:
    """Where and how the tool runs its own embedded Neo4j."""

    home: Path  # data, logs, jars, password, pid
    bolt_port: int
    heap: str  # JVM -Xmx value
    pagecache_bytes: int
    java: str | None  # explicit java binary, else JAVA_HOME or PATH

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def password_file(self) -> Path:
        return self.home / "password"

    def password(self) -> str | None:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            return None


@dataclass(frozen=True)
class Settings:
    uri: str
    username: str
    password: str | None
    database: str | None
    local: LocalServer
    uses_local_server: bool
    query_timeout_s: float

    def describe(self) -> str:
        where = "local Neo4j" if self.uses_local_server else "NEO4J_URI"
        return f"{self.uri} ({where}, database {self.database or 'default'})"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    home = ringscope_home(env)
    heap = env.get("RINGSCOPE_NEO4J_HEAP", "2g")
    parse_size("RINGSCOPE_NEO4J_HEAP", heap)  # validate early, with the setting's name
    local = LocalServer(
        home=home,
        bolt_port=_int(env, "RINGSCOPE_BOLT_PORT", 7687),
        heap=heap,
        pagecache_bytes=parse_size(
            "RINGSCOPE_NEO4J_PAGECACHE", env.get("RINGSCOPE_NEO4J_PAGECACHE", "2g")
        ),
        java=env.get("RINGSCOPE_JAVA") or None,
    )
    if not 1 <= local.bolt_port <= 65535:
        raise SettingError(f"RINGSCOPE_BOLT_PORT={local.bolt_port} is not a TCP port")
    uri = env.get("NEO4J_URI") or ""
    timeout = float(_int(env, "RINGSCOPE_QUERY_TIMEOUT_S", 120))
    if uri:
        if not re.match(r"^(bolt|neo4j)(\+s|\+ssc)?://", uri):
            raise SettingError(
                f"NEO4J_URI={uri!r} must start with bolt://, neo4j://, bolt+s:// or neo4j+s://"
            )
        return Settings(
            uri=uri,
            username=env.get("NEO4J_USERNAME", "neo4j"),
            password=env.get("NEO4J_PASSWORD"),
            database=env.get("NEO4J_DATABASE") or None,
            local=local,
            uses_local_server=False,
            query_timeout_s=timeout,
        )
    return Settings(
        uri=local.uri,
        username="neo4j",
        password=local.password(),
        database=env.get("NEO4J_DATABASE") or None,
        local=local,
        uses_local_server=True,
        query_timeout_s=timeout,
    )
