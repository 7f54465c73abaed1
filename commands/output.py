"""How every command prints: lines for people, CSV and JSON for scripts; one ``--format`` option for all.

Tables are written by ``emit(rows, header, fmt)``: ``text`` aligns columns,
``csv`` writes a header and rows, ``json`` a list of objects (or, with
``emit_json``, whatever typed value a service returned). Messages for people
go to stdout with ``say`` and warnings to stderr with ``warn``, so that the
CSV and JSON on stdout stay clean.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import date, datetime
from typing import Any, Sequence

from ringscope.common.csvsafe import SafeWriter

FORMATS = ("text", "csv", "json")
# Older spellings that scripts may use: `stats --format table`, `sanction ... --format plain`.
ALIASES = {"table": "text", "plain": "text"}


def say(text: str = "") -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def add_format(parser: argparse.ArgumentParser, default: str = "text",
               choices: Sequence[str] = FORMATS) -> None:
    """``--format`` with the same names everywhere (``table``/``plain`` still accepted as ``text``)."""
    accepted = list(choices) + [alias for alias, to in ALIASES.items() if to in choices]
    parser.add_argument("--format", choices=accepted, default=default, type=lambda v: v.lower(),
                        help=f"output: {', '.join(choices)} (default {default})")


def fmt_of(args: argparse.Namespace) -> str:
    return ALIASES.get(args.format, args.format)


def plain(value: Any) -> Any:
    """Dataclasses, tuples and datetimes as JSON-able values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def emit_json(value: Any) -> None:
    say(json.dumps(plain(value), ensure_ascii=False, indent=2))


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def emit(rows: Sequence[Sequence[Any]], header: Sequence[str], fmt: str) -> None:
    """Rows under a header in the chosen format."""
    if fmt == "json":
        emit_json([dict(zip(header, (plain(c) for c in r))) for r in rows])
    elif fmt == "csv":
        out = SafeWriter(sys.stdout)  # cells from the data (nicknames, reasons) never start a formula
        out.writerow(header)
        for r in rows:
            out.writerow(r)
        sys.stdout.flush()
    else:
        cells = [[str(c) for c in header]] + [[_cell(c) for c in r] for r in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(header) - 1)]
        for r in cells:
            say("  ".join(c.ljust(w) for c, w in zip(r, widths)) + ("  " if widths else "") + r[-1])
