"""``ringscope up`` (``make run``): the main job."""

from __future__ import annotations

import argparse
import signal

from ringscope.commands.output import say, warn
from ringscope.common.errors import RingscopeError
from ringscope.graph.settings import Settings, load_settings


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: local Neo4j, a simulated platform if empty, a detection run, the app."""
    from ringscope.graph.admin import node_count
    from ringscope.graph.database import connect
    from ringscope.queries.stats import graph_stats

    if settings.uses_local_server:
        from ringscope.graph.server import local

        local.start(settings.local, log=warn)
        settings = load_settings()  # the password exists now
    graph = connect(settings)
    say(f"Neo4j at {settings.uri}: {graph.server_version()}")
    if node_count(graph) <= 1:  # only the schema marker
        dataset = settings.local.home / "datasets" / f"simulated-{args.accounts}-seed{args.seed}"
        if not (dataset / "accounts.csv.gz").exists():
            say(f"simulating a platform of {args.accounts:,} accounts into {dataset} ...")
            from ringscope.simulate.platform import simulate

            simulate(dataset, accounts=args.accounts, seed=args.seed, fmt="csv.gz")
        say(f"loading {dataset} ...")
        from ringscope.ingest.load import IngestOptions
        from ringscope.ingest.modes import load_dataset

        mode, outcome = load_dataset(graph, dataset, IngestOptions(rejects_dir=settings.local.home / "rejects"),
                                     on_file=lambda r: say("  " + r.line()), log=warn)
        if outcome.failed:
            raise RingscopeError("the simulated dataset did not load completely; see the lines above")
    else:
        say("the database already holds data; not loading a simulated platform")
    say("the graph holds:")
    for item in graph_stats(graph):
        say(f"  {item.kind:<20} {item.count:>12,}")
    from ringscope.queries.detection import runs

    if not any(r.status == "completed" for r in runs(graph, limit=50)):
        from ringscope.detection.config import load_detection_policy
        from ringscope.detection.run import detect

        say("running detection once ...")
        summary = detect(graph, load_detection_policy(), log=lambda s: say("  " + s))
        say(f"  {summary.run_id}: {summary.clusters} clusters, {summary.flagged} accounts flagged")
    if args.no_app:
        return 0
    from ringscope.auth.users import users_path
    from ringscope.webapp.launch import admin_password_file, ensure_admin, serve

    password = ensure_admin(users_path())
    if password:
        say(f"created the first user: admin / {password} "
            f"(also in {admin_password_file(users_path())}, readable only by you)")
    say(f"the app is on http://localhost:{args.port} (Ctrl-C stops it)")
    app = serve(port=args.port, headless=True)  # no browser is opened on the server itself

    def stop(signum, frame):  # SIGTERM (systemd, a supervisor) stops the app too, like Ctrl-C
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        return app.wait()
    except KeyboardInterrupt:
        app.terminate()
        app.wait(timeout=30)
        return 0


def register(sub) -> None:
    up = sub.add_parser("up", help="the main job: start Neo4j, load a simulated platform if empty, run "
                                   "detection once, open the app")
    up.add_argument("--accounts", type=int, default=20_000)
    up.add_argument("--seed", type=int, default=1)
    up.add_argument("--port", type=int, default=8501, help="the app's port")
    up.add_argument("--no-app", action="store_true", help="prepare everything but do not start the app")
    up.set_defaults(func=cmd_up)
