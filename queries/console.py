"""The admin's read-only Cypher console: the one place where an operator's own statement runs."""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.graph.database import Graph


@dataclass(frozen=True)
class ConsoleResult:
    columns: list[str]
    rows: list[dict[str, str]]  # values as text, at most ``limit`` rows
    total: int  # rows the statement returned


def run_read_only(graph: Graph, statement: str, limit: int = 200) -> ConsoleResult:
    """Run ``statement`` in a READ transaction (the server refuses writes there); values as text."""
    rows = graph.read(statement)
    columns = list(rows[0]) if rows else []
    shown = [{k: str(v) for k, v in r.items()} for r in rows[:limit]]
    return ConsoleResult(columns, shown, len(rows))
