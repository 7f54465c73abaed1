"""The ``ringscope`` command line: the parser assembled from the command groups, and ``main``.

The commands in ``shared/spec/cli.md`` keep their names, arguments and output
columns; everything else is an addition. A user's mistake (a bad argument, an
unreachable database, a missing file) prints one line on stderr and exits
non-zero, never a traceback. Each group lives in its own module with a
``register(subparsers)``; they share ``output`` (``--format text|csv|json``)
and ``actor`` (who acts).
"""

from __future__ import annotations

import argparse
import os
import sys

from ringscope.commands import (
    appeals, audit, data, db, detection, evidence, health, reports, sanctions, sweep, up, users, watch,
)
from ringscope.commands.output import warn
from ringscope.common.errors import RingscopeError, SettingError
from ringscope.graph.settings import load_settings

EXIT_USAGE = 2
GROUPS = (db, data, detection, sanctions, appeals, watch, sweep, health, reports, evidence, audit, users, up)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ringscope",
        description="Find and take down fake-account farms and paid comment rings in a Neo4j graph. "
                    "Connection: NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD, NEO4J_DATABASE; "
                    "without NEO4J_URI the local Neo4j (`ringscope db start`) is used.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return args.func(args, settings)
    except (RingscopeError, FileNotFoundError) as exc:
        warn(f"ringscope: error: {exc}")
        return 1 if not isinstance(exc, SettingError) else EXIT_USAGE
    except KeyboardInterrupt:
        warn("ringscope: interrupted; run the same command again to finish (loads resume where they stopped)")
        return 130
    except BrokenPipeError:  # the reader went away (`ringscope stats | head`): not an error
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
