"""One driver per process, from the settings, with the schema step run on connect.

Everything that talks to Neo4j goes through a ``Graph``: ``read`` and ``write``
use ``execute_query`` (managed transactions, so the driver retries transient
errors such as deadlocks and leader changes) and always take parameters.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import neo4j
from neo4j import Driver, GraphDatabase, Query, Record, RoutingControl
from neo4j.exceptions import AuthError, ConfigurationError, ServiceUnavailable, SessionExpired

from ringscope.common.errors import DatabaseUnavailable
from ringscope.graph.schema import ensure_schema
from ringscope.graph.settings import Settings, load_settings


@dataclass
class Graph:
    """A connected database: the process's driver and the database name to use."""

    driver: Driver
    database: str | None
    settings: Settings

    def read(self, cypher: str, /, **params: Any) -> list[Record]:
        records, _, _ = self.driver.execute_query(
            Query(cypher, timeout=self.settings.query_timeout_s),
            params, database_=self.database, routing_=RoutingControl.READ,
        )
        return records

    def write(self, cypher: str, /, **params: Any) -> neo4j.EagerResult:
        return self.driver.execute_query(
            Query(cypher, timeout=self.settings.query_timeout_s),
            params, database_=self.database, routing_=RoutingControl.WRITE,
        )

    def session(self, **config: Any) -> neo4j.Session:
        """A short session, for transaction functions that run several statements."""
        return self.driver.session(database=self.database, **config)

    def server_version(self) -> str:
        records = self.read("CALL dbms.components() YIELD name, versions, edition "
                            "RETURN versions[0] AS version, edition")
        return f"{records[0]['version']} {records[0]['edition']}"


_lock = threading.Lock()
_graphs: dict[tuple, Graph] = {}


def connect(settings: Settings | None = None) -> Graph:
    """The process's ``Graph`` for these settings, created and checked once."""
    settings = settings or load_settings()
    cache_key = (settings.uri, settings.username, settings.password, settings.database)
    with _lock:
        graph = _graphs.get(cache_key)
        if graph is None:
            graph = _open(settings)
            _graphs[cache_key] = graph
        return graph


def close_all() -> None:
    with _lock:
        for graph in _graphs.values():
            graph.driver.close()
        _graphs.clear()


def _open(settings: Settings) -> Graph:
    if settings.uses_local_server and settings.password is None:
        raise DatabaseUnavailable(
            f"the local Neo4j has never been started (no password in {settings.local.password_file}): "
            "run `ringscope db start`, or set NEO4J_URI to use another server"
        )
    auth = (settings.username, settings.password or "")
    try:
        driver = GraphDatabase.driver(
            settings.uri, auth=auth, max_connection_lifetime=3600,
            # Schema warnings ("label does not exist yet") are noise for a CLI.
            notifications_min_severity="OFF",
        )
        driver.verify_connectivity()
    except AuthError:
        raise DatabaseUnavailable(
            f"Neo4j at {settings.uri} refused the credentials of user {settings.username!r} "
            "(check NEO4J_USERNAME / NEO4J_PASSWORD)"
        ) from None
    except (ServiceUnavailable, SessionExpired, OSError, ConfigurationError) as exc:
        hint = "start it with `ringscope db start`" if settings.uses_local_server else "check NEO4J_URI"
        raise DatabaseUnavailable(f"cannot reach Neo4j at {settings.uri}: {_first_line(exc)}; {hint}") from None
    ensure_schema(driver, settings.database)
    return Graph(driver=driver, database=settings.database, settings=settings)


def _first_line(exc: Exception) -> str:
    if "Connection refused" in str(exc):
        return "connection refused"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
