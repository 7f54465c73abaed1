"""One driver per process, from the settings, with the schema step run on connect.

Everything that talks to Neo4j goes through a ``Graph``; nothing outside
``graph/`` imports the driver. The API takes a named query and its parameters
(never values spliced into the text) and returns plain Python values: rows as
``dict``, temporal values as ``datetime``/``date``, nodes as property dicts.

- ``read`` / ``write``: one statement through ``execute_query`` (a managed
  transaction: the driver retries transient errors such as deadlocks and
  leader changes; reads are routed to followers on a cluster).
- ``read_transaction`` / ``write_transaction``: several statements in one
  managed transaction; the work function gets a ``Transaction`` and may be
  called again on a transient error, so it must not have outside effects.
- ``columns``: a large read as columns, streamed with a big fetch size;
  ``column_lists``: one slice of a large read as one row of ``collect()``ed lists.
- ``run_auto_commit``: for ``CALL { ... } IN TRANSACTIONS``, which needs an
  implicit transaction.

The driver's errors never leave this module: a database that cannot be
reached is ``DatabaseUnavailable``, a statement over the time limit
``QueryTimeout``, a broken uniqueness constraint ``ConstraintViolation``, any
other failure ``DatabaseError`` naming the server's code.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

import neo4j
from neo4j import Driver, GraphDatabase, Query, RoutingControl
from neo4j import exceptions as driver_errors
from neo4j import graph as driver_graph
from neo4j import time as driver_time

from ringscope.common.errors import (ConstraintViolation, DatabaseError, DatabaseUnavailable, QueryTimeout)
from ringscope.graph import commits
from ringscope.graph.schema import ensure_schema
from ringscope.graph.server import local
from ringscope.graph.settings import Settings, load_settings

T = TypeVar("T")
Row = dict[str, Any]

# The driver logs each retry of a transient failure as a warning; with no logging set up, Python
# would print those to stderr as raw driver text. The failure that remains reaches the user as
# one of the project's errors instead.
logging.getLogger("neo4j").addHandler(logging.NullHandler())

_SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """A value from the driver as plain Python: temporal -> datetime/date/time, node -> its properties."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (driver_time.DateTime, driver_time.Date, driver_time.Time)):
        return value.to_native()
    if isinstance(value, driver_time.Duration):
        return dt.timedelta(days=value.months * 30 + value.days, seconds=value.seconds,
                            microseconds=value.nanoseconds // 1000)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (driver_graph.Node, driver_graph.Relationship)):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, driver_graph.Path):
        return [plain(n) for n in value.nodes]
    return value


def _row(record: neo4j.Record) -> Row:
    return {k: plain(v) for k, v in record.items()}


@dataclass(frozen=True)
class Counters:
    """What a statement changed (the server's update statistics), and the server's time for it."""

    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    labels_added: int = 0
    server_ms: int = 0  # until the first row was available, plus until the last was consumed

    @classmethod
    def of(cls, summary: neo4j.ResultSummary) -> "Counters":
        c = summary.counters
        return cls(c.nodes_created, c.nodes_deleted, c.relationships_created, c.relationships_deleted,
                   c.properties_set, c.labels_added,
                   (summary.result_available_after or 0) + (summary.result_consumed_after or 0))


@dataclass(frozen=True)
class PlannedStep:
    operator: str  # e.g. NodeByLabelScan, LoadCSV, ProcedureCall (without the @database suffix)
    database: str  # the part after @: neo4j, system ...
    details: str  # the plan's Details text, e.g. "db.labels() :: (label :: STRING)"


@dataclass(frozen=True)
class Explained:
    """A statement's plan: its type (``r`` read, ``rw``/``w`` write, ``s`` schema or admin) and every step."""

    query_type: str
    steps: tuple[PlannedStep, ...]
    plan: dict[str, Any]  # the whole tree: operatorType, args, identifiers, children

    @classmethod
    def of(cls, query_type: str, plan: dict[str, Any]) -> "Explained":
        steps: list[PlannedStep] = []
        stack = [plan] if plan else []
        while stack:
            node = stack.pop()
            operator, _, database = str(node.get("operatorType", "")).partition("@")
            steps.append(PlannedStep(operator, database, str((node.get("args") or {}).get("Details", ""))))
            stack.extend(reversed(node.get("children") or []))
        return cls(query_type, tuple(steps), plan)


class Transaction:
    """One managed transaction, handed to the work function of ``read_transaction``/``write_transaction``."""

    def __init__(self, tx: neo4j.ManagedTransaction, settings: Settings | None = None):
        self._tx = tx
        self.settings = settings  # which database this transaction is in
        self._after_commit: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] = {}

    def after_commit(self, key: str, item: Any, flush: Callable[[list[Any]], None]) -> None:
        """Collect ``item`` under ``key``; once this transaction has committed, ``flush(items)`` runs once per
        key with everything collected, in order. Never for an attempt that was rolled back (the driver retries
        the work function on transient errors, each time with a fresh ``Transaction``)."""
        self._after_commit.setdefault(key, (flush, []))[1].append(item)

    def _committed(self) -> None:
        for flush, items in self._after_commit.values():
            flush(items)

    def rows(self, query: str, /, **params: Any) -> list[Row]:
        return [_row(r) for r in self._tx.run(query, params)]

    def row(self, query: str, /, **params: Any) -> Row | None:
        """The first row, or None when there is none."""
        rows = self.rows(query, **params)
        return rows[0] if rows else None

    def execute(self, query: str, /, **params: Any) -> Counters:
        """A statement whose rows do not matter; what it changed."""
        return Counters.of(self._tx.run(query, params).consume())


STORE_CREATED = "CALL db.info() YIELD creationDate RETURN creationDate AS created"


@dataclass
class Graph:
    """A connected database: the process's driver and the database name to use."""

    driver: Driver
    database: str | None
    settings: Settings

    @property
    def _bookmarks(self):
        """Causal chaining of ``execute_query`` calls: needed on a cluster (a read must see the write before
        it on another member), pointless on one server (it always does), and harmful when the store is
        rebuilt under a running app (``reset``, a bulk import): the old store's bookmarks are ahead of the
        new one's transaction ids, and every query would wait for them and fail. So the local server
        runs without them."""
        return None if self.settings.uses_local_server else self.driver.execute_query_bookmark_manager

    def read(self, query: str, /, **params: Any) -> list[Row]:
        with translated(self.settings):
            records, _, _ = self.driver.execute_query(
                Query(query, timeout=self.settings.query_timeout_s),
                params, database_=self.database, routing_=RoutingControl.READ, bookmark_manager_=self._bookmarks,
            )
        return [_row(r) for r in records]

    def _recorder(self) -> commits.OwnCommits | None:
        """The open ``commits.recording()`` of this context, when it applies (only the tool's own server has a
        snapshot to keep current)."""
        return commits.active() if self.settings.uses_local_server else None

    def write(self, query: str, /, **params: Any) -> list[Row]:
        if self._recorder() is not None:
            return self.write_transaction(lambda tx: tx.rows(query, **params), timeout=self.settings.query_timeout_s)
        with translated(self.settings):
            records, _, _ = self.driver.execute_query(
                Query(query, timeout=self.settings.query_timeout_s),
                params, database_=self.database, routing_=RoutingControl.WRITE, bookmark_manager_=self._bookmarks,
            )
        return [_row(r) for r in records]

    def execute(self, query: str, /, **params: Any) -> Counters:
        """A write whose rows do not matter; what it changed."""
        if self._recorder() is not None:
            return self.write_transaction(lambda tx: tx.execute(query, **params),
                                          timeout=self.settings.query_timeout_s)
        with translated(self.settings):
            _, summary, _ = self.driver.execute_query(
                Query(query, timeout=self.settings.query_timeout_s),
                params, database_=self.database, routing_=RoutingControl.WRITE, bookmark_manager_=self._bookmarks,
            )
        return Counters.of(summary)

    def read_transaction(self, work: Callable[[Transaction], T]) -> T:
        with translated(self.settings), self.driver.session(database=self.database) as session:
            return session.execute_read(self._unit(work))

    def write_transaction(self, work: Callable[[Transaction], T], timeout: float | None = None) -> T:
        """``work`` in one managed write transaction; then what it asked to run after the commit.
        ``timeout``: the server's limit on the transaction, in seconds (none by default)."""
        attempts: list[Transaction] = []
        recorder = self._recorder()
        with translated(self.settings), self.driver.session(database=self.database) as session:
            result = session.execute_write(self._unit(work, attempts, stamped=recorder is not None, timeout=timeout))
            if recorder is not None:
                recorder.add(session.last_bookmarks().raw_values)
        if attempts:
            attempts[-1]._committed()  # the attempt that committed is the last one
        return result

    def run_auto_commit(self, query: str, /, **params: Any) -> Counters:
        """An implicit transaction, for ``CALL { ... } IN TRANSACTIONS`` (no retries: make it idempotent)."""
        recorder = self._recorder()
        if recorder is not None:
            recorder.mark_unknown()  # it may commit many times; only the last commit's bookmark comes back
        with translated(self.settings), self.driver.session(database=self.database) as session:
            return Counters.of(session.run(query, params).consume())

    def columns(self, query: str, /, fetch_size: int = 20_000, **params: Any) -> tuple[list[str], list[list]]:
        """A large read: the column names and the rows as lists, streamed ``fetch_size`` records at a time.

        Primitive values come as they are (no per-value conversion, for speed); a column
        holding driver temporal values is converted as a whole.
        """
        def work(tx: neo4j.ManagedTransaction) -> tuple[list[str], list[list]]:
            result = tx.run(query, params)  # no time limit: reading a whole platform takes minutes
            return list(result.keys()), result.values()

        with translated(self.settings), self.driver.session(database=self.database,
                                                            fetch_size=fetch_size) as session:
            keys, rows = session.execute_read(work)
        for i in range(len(keys)):
            first = next((r[i] for r in rows if r[i] is not None), None)
            if first is not None and not isinstance(first, _SCALARS):
                for r in rows:
                    r[i] = plain(r[i])
        return keys, rows

    def column_lists(self, query: str, /, **params: Any) -> dict[str, list]:
        """A read returning one row of lists (a ``collect()`` per column) as ``{column: list}``.

        For large reads in slices: one record carries a whole slice, so the
        driver decodes a few long lists instead of a record per row. Values come
        as the driver gives them (meant for primitives: strings, numbers,
        booleans, nulls); no rows gives ``{}``. No time limit, like ``columns``.
        Safe to call from several threads at once (a session each).
        """
        def work(tx: neo4j.ManagedTransaction) -> dict[str, list]:
            record = tx.run(query, params).single(strict=False)
            return {} if record is None else dict(zip(record.keys(), record.values()))

        with translated(self.settings), self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    def explain(self, query: str, /, **params: Any) -> "Explained":
        """What the server would do for ``query`` (``EXPLAIN``: nothing is executed)."""
        with translated(self.settings):
            _, summary, _ = self.driver.execute_query(
                Query("EXPLAIN " + query, timeout=self.settings.query_timeout_s),
                params, database_=self.database, routing_=RoutingControl.WRITE, bookmark_manager_=self._bookmarks,
            )
        return Explained.of(summary.query_type or "", plain(summary.plan or {}))

    def state_mark(self) -> str:
        """What identifies the data as it is now: the store's creation time and the bookmark of its last
        committed transaction. Any commit (anyone's), a reset or a new import changes it; reading does not.

        A read transaction in a session given no bookmarks returns the server's latest one (measured on
        5.26: it changes with each commit and only then). The creation time is there because a store built
        again starts its transaction ids afresh."""
        with translated(self.settings), self.driver.session(database=self.database) as session:
            created = session.execute_read(lambda tx: tx.run(STORE_CREATED).single()["created"])
            marks = session.last_bookmarks().raw_values
        return "|".join([str(created), *sorted(marks)])

    def server_version(self) -> str:
        rows = self.read("CALL dbms.components() YIELD name, versions, edition "
                         "RETURN versions[0] AS version, edition")
        return f"{rows[0]['version']} {rows[0]['edition']}"

    def _unit(self, work: Callable[[Transaction], T], attempts: list[Transaction] | None = None,
              stamped: bool = False, timeout: float | None = None) -> Callable[[neo4j.ManagedTransaction], T]:
        # No time limit on transaction functions unless asked (``write`` under a recording, which stands
        # for ``execute_query``): a load batch or a sanction apply on a busy server may take minutes, and
        # the driver retries transient failures itself.
        @neo4j.unit_of_work(timeout=timeout)
        def unit(tx: neo4j.ManagedTransaction) -> T:
            transaction = Transaction(tx, self.settings)
            if attempts is not None:
                attempts.append(transaction)
            result = work(transaction)
            if stamped:  # so that it commits for certain and its bookmark is its own (graph/commits.py)
                tx.run(commits.STAMP).consume()
            return result
        return unit


def _unreachable(settings: Settings, exc: BaseException) -> DatabaseUnavailable:
    """"Cannot reach Neo4j", with what to do: for the tool's own server why it is gone when its log says
    (``local.exit_cause``: out of heap, and the setting to raise), else how to start it; for another,
    the setting that names it."""
    if settings.uses_local_server:
        hint = local.exit_cause(settings.local) or "start it with `ringscope db start`"
    else:
        hint = "check NEO4J_URI"
    return DatabaseUnavailable(f"cannot reach Neo4j at {settings.uri}: {_first_line(exc)}; {hint}")


@contextmanager
def translated(settings: Settings) -> Iterator[None]:
    """The driver's errors as the project's own (raised from None: the message says it all)."""
    try:
        yield
    except driver_errors.ConstraintError as exc:
        raise ConstraintViolation(f"the database refused a duplicate: {_first_line(exc)}") from None
    except (driver_errors.ServiceUnavailable, driver_errors.SessionExpired, ConnectionError) as exc:
        raise _unreachable(settings, exc) from None
    except driver_errors.Neo4jError as exc:
        code = exc.code or ""
        if "TransactionTimedOut" in code or "TransactionTimedOutClientConfiguration" in code:
            raise QueryTimeout(f"a query ran longer than the limit ({settings.query_timeout_s:.0f} s)") from None
        raise DatabaseError(f"the database failed: {_first_line(exc)}", code=code) from None
    except driver_errors.DriverError as exc:
        raise DatabaseError(f"the database failed: {_first_line(exc)}", code=type(exc).__name__) from None


_lock = threading.Lock()
_graphs: dict[tuple, Graph] = {}


def connect(settings: Settings | None = None) -> Graph:
    """The process's ``Graph`` for these settings, created and checked once."""
    settings = settings or load_settings()
    # The whole settings: the same URI reached as "our local server" and as "a server we do not
    # manage" must be two graphs, or a caller would get the other's admin rights (reset by wipe, bulk).
    cache_key = settings
    with _lock:
        graph = _graphs.get(cache_key)
        if graph is None:
            graph = _open(settings)
            _graphs[cache_key] = graph
        return graph


def close_all() -> None:
    """Close every driver this process holds; the next ``connect`` opens fresh ones."""
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
    except driver_errors.AuthError:
        raise DatabaseUnavailable(
            f"Neo4j at {settings.uri} refused the credentials of user {settings.username!r} "
            "(check NEO4J_USERNAME / NEO4J_PASSWORD)"
        ) from None
    except driver_errors.ClientError as exc:
        # after a few wrong passwords the server refuses every sign-in for a while: not an AuthError
        if exc.code != "Neo.ClientError.Security.AuthenticationRateLimit":
            raise
        raise DatabaseUnavailable(
            f"Neo4j at {settings.uri} refuses sign-ins for a few seconds after several wrong passwords for user "
            f"{settings.username!r}: check NEO4J_USERNAME / NEO4J_PASSWORD, then try again"
        ) from None
    except (driver_errors.ServiceUnavailable, driver_errors.SessionExpired, OSError,
            driver_errors.ConfigurationError) as exc:
        raise _unreachable(settings, exc) from None
    with translated(settings):
        ensure_schema(driver, settings.database)
    return Graph(driver=driver, database=settings.database, settings=settings)


def _first_line(exc: Exception) -> str:
    if "Connection refused" in str(exc):
        return "connection refused"
    message = getattr(exc, "message", None) or str(exc)
    text = message.strip().splitlines()
    return text[0] if text else type(exc).__name__
