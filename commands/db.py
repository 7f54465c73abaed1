"""``ringscope db start|stop|status``, ``reset``, ``stats``: the database itself."""

from __future__ import annotations

import argparse

from ringscope.commands.output import add_format, emit, fmt_of, say, warn
from ringscope.common.errors import DatabaseUnavailable, SettingError
from ringscope.graph.settings import Settings


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.server import local

    if args.action in ("start", "stop") and not settings.uses_local_server:
        raise SettingError(
            f"NEO4J_URI is set ({settings.uri}): ringscope uses that server and does not "
            f"{args.action} one of its own; unset NEO4J_URI to use the local Neo4j"
        )
    if args.action == "start":
        started = local.start(settings.local, timeout_s=args.timeout, log=warn)
        word = "started" if started else "already running"
        say(f"Neo4j {local.neo4j_version()} {word} at {settings.local.uri} (data in {settings.local.home})")
        return 0
    if args.action == "stop":
        stopped = local.stop(settings.local)
        say("Neo4j stopped" if stopped else "Neo4j was not running")
        return 0
    return _status(settings)


def _status(settings: Settings) -> int:
    from ringscope.graph.database import connect

    say(f"uri: {settings.uri}")
    if settings.uses_local_server:
        from ringscope.graph.server import local

        st = local.state(settings.local)
        say(f"server: local, {'running (pid %d)' % st.pid if st.running else 'not running'}, "
            f"data in {settings.local.home}")
    try:
        version = connect(settings).server_version()
    except DatabaseUnavailable as exc:
        say("version: unknown")
        say(f"reachable: no ({exc})")
        return 1
    say(f"version: {version}")
    say("reachable: yes")
    return 0


def cmd_reset(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes:
        raise SettingError(f"`ringscope reset` deletes everything in {settings.describe()}; "
                           "add --yes to confirm")
    from ringscope.audit.log import mark_reset
    from ringscope.graph.admin import reset
    from ringscope.graph.database import connect

    graph = connect(settings)
    reset(graph, log=warn)
    mark_reset(graph)  # the audit log was emptied on purpose: its anchor file starts again
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.database import connect
    from ringscope.queries.stats import graph_stats

    counts = graph_stats(connect(settings), include_internal=args.all)
    fmt = fmt_of(args)
    if fmt == "text":
        width = max((len(c.kind) for c in counts), default=4)
        for item in counts:
            say(f"{item.kind:<{width}}  {item.count:>12,}")
    else:
        emit([[c.kind, c.count] for c in counts], ["kind", "count"], fmt)
    return 0


def register(sub) -> None:
    db = sub.add_parser("db", help="start, stop or report the local Neo4j")
    db.add_argument("action", choices=["start", "stop", "status"])
    db.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for Bolt (start)")
    db.set_defaults(func=cmd_db)

    reset = sub.add_parser("reset", help="empty the database the settings point at")
    reset.add_argument("--yes", action="store_true", help="confirm")
    reset.set_defaults(func=cmd_reset)

    stats = sub.add_parser("stats", help="count nodes per label and relationships per type")
    add_format(stats)
    stats.add_argument("--all", action="store_true", help="include ringscope's bookkeeping labels")
    stats.set_defaults(func=cmd_stats)
