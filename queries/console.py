"""The admin's read-only Cypher console: the one place where an operator's own statement runs.

"Read-only" is not left to the READ transaction alone: a READ transaction
still runs ``LOAD CSV FROM 'file:///proc/self/environ'`` or an HTTP request
to 127.0.0.1, and ``SHOW TRANSACTIONS`` shows other users' queries with their
parameters. So the statement is first planned (``EXPLAIN``: nothing runs)
and refused unless

- the server calls it a read (``query_type == 'r'``: no write, no schema or
  administration command),
- no step of its plan loads data from outside (``LoadCSV``), shows server
  state (any ``Show...`` step) or runs on the system database,
- every procedure it calls is on ``ALLOWED_PROCEDURES``.

Only then does it run, in a READ transaction, with the app's time limit.
This holds for servers the tool does not manage too (``NEO4J_URI``), whose
settings are not ours; the local server also refuses file URLs and blocks
LOAD CSV's network access (``graph/server/Launcher.java``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.auth.roles import Actor
from ringscope.common.errors import RingscopeError
from ringscope.graph.database import Explained, Graph

# Schema introspection and the fulltext search the app itself uses: nothing here reads outside the graph.
ALLOWED_PROCEDURES = frozenset({
    "db.labels", "db.relationshipTypes", "db.propertyKeys", "db.schema.visualization",
    "db.schema.nodeTypeProperties", "db.schema.relTypeProperties",
    "db.index.fulltext.queryNodes", "db.index.fulltext.queryRelationships",
})
REFUSED_OPERATORS = ("LoadCSV", "Show", "AdministrationCommand")


class StatementRefused(RingscopeError):
    """The console does not run this statement; the message says why."""


@dataclass(frozen=True)
class ConsoleResult:
    columns: list[str]
    rows: list[dict[str, str]]  # values as text, at most ``limit`` rows
    total: int  # rows the statement returned


def refusal(explained: Explained) -> str | None:
    """Why a planned statement may not run in the read-only console, or None. O(plan steps)."""
    if explained.query_type != "r":
        kind = {"rw": "writes", "w": "writes", "s": "changes the schema or runs an administration command"}
        return f"the statement {kind.get(explained.query_type, 'is not a plain read')}; the console only reads"
    for step in explained.steps:
        if step.database == "system":
            return "the statement runs on the system database; the console only reads the graph"
        if step.operator.startswith(REFUSED_OPERATORS):
            what = "loads data from files or the network" if step.operator == "LoadCSV" else \
                f"shows server state ({step.operator})"
            return f"the statement {what}; the console only reads the graph"
        if step.operator.startswith("ProcedureCall"):
            name = step.details.split("(", 1)[0].strip()
            if name not in ALLOWED_PROCEDURES:
                return (f"procedure {name!r} is not allowed in the console "
                        f"(allowed: {', '.join(sorted(ALLOWED_PROCEDURES))})")
    return None


def run_read_only(graph: Graph, actor: Actor, statement: str, limit: int = 200) -> ConsoleResult:
    """Run ``statement`` if its plan is a plain read of the graph (see the module); values as text."""
    actor.require("raw_cypher")
    why = refusal(graph.explain(statement))
    if why:
        raise StatementRefused(f"Refused: {why}.")
    rows = graph.read(statement)
    columns = list(rows[0]) if rows else []
    shown = [{k: str(v) for k, v in r.items()} for r in rows[:limit]]
    return ConsoleResult(columns, shown, len(rows))
