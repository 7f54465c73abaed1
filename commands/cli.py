"""The ``ringscope`` command line.

The commands in ``shared/spec/cli.md`` keep their names, arguments and output
columns; everything else is an addition. A user's mistake (a bad argument, an
unreachable database, a missing file) prints one line on stderr and exits
non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringscope.common.errors import DatabaseUnavailable, RingscopeError, SettingError
from ringscope.graph.settings import Settings, load_settings

EXIT_USAGE = 2


def _say(text: str) -> None:
    print(text, flush=True)


def _warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- db -------------------------------------------------------------------

def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.server import local

    if args.action in ("start", "stop") and not settings.uses_local_server:
        raise SettingError(
            f"NEO4J_URI is set ({settings.uri}): ringscope uses that server and does not "
            f"{args.action} one of its own; unset NEO4J_URI to use the local Neo4j"
        )
    if args.action == "start":
        started = local.start(settings.local, timeout_s=args.timeout, log=_warn)
        word = "started" if started else "already running"
        _say(f"Neo4j {local.neo4j_version()} {word} at {settings.local.uri} (data in {settings.local.home})")
        return 0
    if args.action == "stop":
        stopped = local.stop(settings.local)
        _say("Neo4j stopped" if stopped else "Neo4j was not running")
        return 0
    return _status(settings)


def _status(settings: Settings) -> int:
    from ringscope.graph.database import connect

    _say(f"uri: {settings.uri}")
    if settings.uses_local_server:
        from ringscope.graph.server import local

        st = local.state(settings.local)
        _say(f"server: local, {'running (pid %d)' % st.pid if st.running else 'not running'}, "
             f"data in {settings.local.home}")
    try:
        version = connect(settings).server_version()
    except DatabaseUnavailable as exc:
        _say("version: unknown")
        _say(f"reachable: no ({exc})")
        return 1
    _say(f"version: {version}")
    _say("reachable: yes")
    return 0


# --- reset / stats ----------------------------------------------------------

def cmd_reset(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes:
        raise SettingError(f"`ringscope reset` deletes everything in {settings.describe()}; "
                           "add --yes to confirm")
    from ringscope.graph.admin import reset
    from ringscope.graph.database import connect

    reset(connect(settings))
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.database import connect
    from ringscope.queries.stats import graph_stats

    counts = graph_stats(connect(settings), include_internal=args.all)
    if args.format == "csv":
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["kind", "count"])
        for item in counts:
            out.writerow([item.kind, item.count])
    else:
        width = max((len(c.kind) for c in counts), default=4)
        for item in counts:
            _say(f"{item.kind:<{width}}  {item.count:>12,}")
    return 0


# --- ingest -----------------------------------------------------------------

def _timezone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(f"--timezone {name!r} is not a known time zone (examples: UTC, Asia/Shanghai)") from None


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.database import connect
    from ringscope.ingest.load import IngestOptions, ingest

    directory = Path(args.dir)
    if not directory.is_dir():
        raise SettingError(f"{directory}: no such dataset directory")
    if args.batch_size < 1:
        raise SettingError("--batch-size must be at least 1")
    options = IngestOptions(
        tz=_timezone(args.timezone), keep_unknown=args.keep_unknown_columns,
        batch_size=args.batch_size, rejects_dir=Path(args.rejects_dir) if args.rejects_dir else None,
        restart=args.restart, progress=args.progress,
    )
    graph = connect(settings)
    started = time.monotonic()

    def report(result) -> None:
        _say(result.line())
        for note in result.notes:
            _say(f"  {result.path.name}: {note}")

    outcome = ingest(graph, directory, options, on_file=report)
    for skipped in outcome.skipped:
        _say(f"skipped {skipped}")
    seconds = time.monotonic() - started
    failed = [f.path.name for f in outcome.files if f.failed]
    _say(f"total: {outcome.rows_loaded} rows loaded from {len(outcome.files)} files in {seconds:.1f} s"
         + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if outcome.failed else 0


# --- simulate / convert -----------------------------------------------------

def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.simulate.platform import simulate

    if args.accounts < 100:
        raise SettingError("--accounts must be at least 100")
    summary = simulate(Path(args.dir), accounts=args.accounts, seed=args.seed, fmt=args.format)
    for line in summary.lines():
        _say(line)
    return 0


def cmd_convert(args: argparse.Namespace, settings: Settings) -> int:
    source, out = Path(args.source), Path(args.out)
    if not source.exists():
        raise SettingError(f"{source}: not found")
    if args.dataset == "yelpchi":
        from ringscope.ingest.converters.yelpchi import convert_yelpchi as convert
    else:
        from ringscope.ingest.converters.cresci import convert_cresci as convert
    counts = convert(source, out)
    for name, count in counts.items():
        _say(f"{name}: {count}")
    return 0


# --- detection ----------------------------------------------------------------

def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.run import detect
    from ringscope.graph.database import connect

    policy = load_detection_policy(Path(args.policy) if args.policy else None)
    summary = detect(connect(settings), policy, log=_warn if not args.quiet else (lambda s: None))
    _warn(f"{summary.clusters} clusters, {summary.flagged} accounts flagged, {summary.scored} scored")
    _say(summary.run_id)
    return 0


def cmd_flagged(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.database import connect
    from ringscope.queries.detection import flagged, resolve_run

    graph = connect(settings)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["account_id", "score", "cluster_id", "detectors", "reasons"])
    for row in flagged(graph, resolve_run(graph, args.run)):
        out.writerow([row.account_id, f"{row.score:.4f}", row.cluster_id, ";".join(row.detectors),
                      ";".join(row.reasons)])
    return 0


def cmd_runs(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.database import connect
    from ringscope.queries.detection import runs

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["run_id", "status", "started_at", "finished_at", "stage", "clusters", "flagged", "error"])
    for run in runs(connect(settings), limit=args.limit):
        out.writerow([run.run_id, run.status, run.started_at, run.finished_at or "", run.stage or "",
                      run.clusters if run.clusters is not None else "",
                      run.flagged if run.flagged is not None else "", run.error or ""])
    return 0


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.database import connect
    from ringscope.queries.detection import changes_since_previous, resolve_run

    graph = connect(settings)
    run_id = resolve_run(graph, args.run)
    before, changes = changes_since_previous(graph, run_id)
    _warn(f"{run_id} compared with {before or 'nothing (first completed run)'}")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["change", "previous_cluster", "current_cluster", "previous_size", "current_size", "jaccard"])
    for c in changes:
        out.writerow([c.change, c.previous_id or "", c.current_id or "", c.previous_size, c.current_size,
                      f"{c.jaccard:.3f}"])
    return 0


def _interval(text: str) -> float:
    import re

    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise SettingError(f"--every {text!r}: expected a number and a unit, e.g. 30m, 1h, 1d")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def cmd_schedule(args: argparse.Namespace, settings: Settings) -> int:
    """Run detection every interval on this machine; a failed run is reported and retried next time."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.run import RunInProgress, detect
    from ringscope.graph.database import connect

    every = _interval(args.every)
    policy_path = Path(args.policy) if args.policy else None
    load_detection_policy(policy_path)  # a bad policy stops the scheduler at once
    runs_done = 0
    while True:
        started = time.monotonic()
        try:
            summary = detect(connect(settings), load_detection_policy(policy_path), log=_warn)
            _say(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {summary.run_id}: {summary.clusters} clusters, "
                 f"{summary.flagged} flagged")
        except RunInProgress as exc:
            _warn(f"ringscope: skipped: {exc}")
        except (RingscopeError, Exception) as exc:  # keep scheduling; the run is marked failed
            _warn(f"ringscope: detection run failed: {exc}")
        runs_done += 1
        if args.count and runs_done >= args.count:
            return 0
        time.sleep(max(0.0, every - (time.monotonic() - started)))


# --- audit --------------------------------------------------------------------

def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.audit.log import verify
    from ringscope.graph.database import connect

    result = verify(connect(settings))
    if result.ok:
        _say("ok")
        return 0
    _say(f"broken: {result.problem}")
    return 1


def cmd_audit_show(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.audit.log import entries
    from ringscope.graph.database import connect

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["seq", "at", "actor", "role", "action", "target_type", "target_id", "reason", "details"])
    for e in entries(connect(settings), actor=args.actor, action=args.action, target_id=args.target,
                     limit=args.limit):
        out.writerow([e.seq, e.at, e.actor, e.role, e.action, e.target_type, e.target_id, e.reason, e.details])
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.auth.users import load_users, save_user, users_path

    if args.users_command == "list":
        for name, record in sorted(load_users().items()):
            _say(f"{name}\t{record.role}\t{'password' if record.password_hash else 'oidc only'}")
        return 0
    password = None
    if not args.no_password:
        import getpass

        password = os.environ.get("RINGSCOPE_NEW_PASSWORD") or getpass.getpass(f"password for {args.name}: ")
        if len(password) < 8:
            raise SettingError("the password must have at least 8 characters")
    save_user(args.name, args.role, password)
    _say(f"{args.name} ({args.role}) saved in {users_path()}")
    return 0


def _command_groups():
    """``register(subparsers)`` of the packages that bring their own commands."""
    from ringscope.commands.evidence import register as evidence_commands
    from ringscope.commands.sanctions import register as sanction_commands

    return [sanction_commands, evidence_commands]


# --- up: the main job ---------------------------------------------------------

def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: local Neo4j, a simulated platform if empty, a detection run, the app."""
    from ringscope.graph.admin import node_count
    from ringscope.graph.database import connect
    from ringscope.queries.stats import graph_stats

    if settings.uses_local_server:
        from ringscope.graph.server import local

        local.start(settings.local, log=_warn)
        settings = load_settings()  # the password exists now
    graph = connect(settings)
    _say(f"Neo4j at {settings.uri}: {graph.server_version()}")
    if node_count(graph) <= 1:  # only the schema marker
        dataset = settings.local.home / "datasets" / f"simulated-{args.accounts}-seed{args.seed}"
        if not (dataset / "accounts.csv.gz").exists():
            _say(f"simulating a platform of {args.accounts:,} accounts into {dataset} ...")
            from ringscope.simulate.platform import simulate

            simulate(dataset, accounts=args.accounts, seed=args.seed, fmt="csv.gz")
        _say(f"loading {dataset} ...")
        from ringscope.ingest.load import IngestOptions, ingest

        outcome = ingest(graph, dataset, IngestOptions(rejects_dir=settings.local.home / "rejects"),
                         on_file=lambda r: _say("  " + r.line()))
        if outcome.failed:
            raise RingscopeError("the simulated dataset did not load completely; see the lines above")
    else:
        _say("the database already holds data; not loading a simulated platform")
    _say("the graph holds:")
    for item in graph_stats(graph):
        _say(f"  {item.kind:<20} {item.count:>12,}")
    from ringscope.queries.detection import runs

    if not any(r.status == "completed" for r in runs(graph, limit=50)):
        from ringscope.detection.config import load_detection_policy
        from ringscope.detection.run import detect

        _say("running detection once ...")
        summary = detect(graph, load_detection_policy(), log=lambda s: _say("  " + s))
        _say(f"  {summary.run_id}: {summary.clusters} clusters, {summary.flagged} accounts flagged")
    if args.no_app:
        return 0
    from ringscope.webapp.launch import admin_password_file, ensure_admin, serve
    from ringscope.auth.users import users_path

    password = ensure_admin(users_path())
    if password:
        _say(f"created the first user: admin / {password} "
             f"(also in {admin_password_file(users_path())}, readable only by you)")
    _say(f"the app is on http://localhost:{args.port} (Ctrl-C stops it)")
    app = serve(port=args.port, headless=True)  # no browser is opened on the server itself
    try:
        return app.wait()
    except KeyboardInterrupt:
        app.terminate()
        app.wait(timeout=30)
        return 0


# --- parser -----------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ringscope",
        description="Find and take down fake-account farms and paid comment rings in a Neo4j graph. "
                    "Connection: NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD, NEO4J_DATABASE; "
                    "without NEO4J_URI the local Neo4j (`ringscope db start`) is used.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="start, stop or report the local Neo4j")
    db.add_argument("action", choices=["start", "stop", "status"])
    db.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for Bolt (start)")
    db.set_defaults(func=cmd_db)

    reset = sub.add_parser("reset", help="empty the database the settings point at")
    reset.add_argument("--yes", action="store_true", help="confirm")
    reset.set_defaults(func=cmd_reset)

    stats = sub.add_parser("stats", help="count nodes per label and relationships per type")
    stats.add_argument("--format", choices=["csv", "table"], default="table")
    stats.add_argument("--all", action="store_true", help="include ringscope's bookkeeping labels")
    stats.set_defaults(func=cmd_stats)

    ing = sub.add_parser("ingest", help="load a dataset directory in the input format")
    ing.add_argument("dir", help="dataset directory (accounts.csv, comments.jsonl.gz, notes.parquet ...)")
    ing.add_argument("--timezone", default="UTC", help="time zone of timestamps without an offset (default UTC)")
    ing.add_argument("--keep-unknown-columns", action="store_true", help="store unknown columns as properties")
    ing.add_argument("--batch-size", type=int, default=10_000, help="rows per transaction (default 10000)")
    ing.add_argument("--rejects-dir", help="where rejected rows go (default ./rejects/<dataset name>)")
    ing.add_argument("--restart", action="store_true",
                     help="ignore checkpoints of an interrupted earlier load and write every batch again")
    ing.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar with rows/s (default: when stderr is a terminal)")
    ing.set_defaults(func=cmd_ingest)

    sim = sub.add_parser("simulate", help="write a synthetic platform dataset with planted fraud")
    sim.add_argument("dir")
    sim.add_argument("--accounts", type=int, required=True)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--format", choices=["csv", "csv.gz", "jsonl", "jsonl.gz", "parquet"], default="csv.gz")
    sim.set_defaults(func=cmd_simulate)

    conv = sub.add_parser("convert", help="convert a public research dataset to the input format")
    conv.add_argument("dataset", choices=["yelpchi", "cresci"])
    conv.add_argument("source", help="yelpchi: reviews.txt.gz; cresci: the cresci2015 folder")
    conv.add_argument("out", help="output dataset directory")
    conv.set_defaults(func=cmd_convert)

    det = sub.add_parser("detect", help="run every detector over the whole graph and store the run")
    det.add_argument("--policy", help="detection policy file (default policy/detection.yaml "
                                      "or RINGSCOPE_DETECTION_POLICY)")
    det.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    det.set_defaults(func=cmd_detect)

    fl = sub.add_parser("flagged", help="accounts a detection run flagged, as CSV")
    fl.add_argument("--run", required=True, metavar="RUN_ID|latest")
    fl.add_argument("--format", choices=["csv"], default="csv")
    fl.set_defaults(func=cmd_flagged)

    rn = sub.add_parser("runs", help="detection runs, newest first, including running and failed ones")
    rn.add_argument("--limit", type=int, default=20)
    rn.set_defaults(func=cmd_runs)

    cmp_ = sub.add_parser("compare", help="clusters of a run compared with the previous completed run")
    cmp_.add_argument("--run", default="latest", metavar="RUN_ID|latest")
    cmp_.set_defaults(func=cmd_compare)

    sch = sub.add_parser("schedule", help="run detection every interval on this machine (see README for cron, "
                                          "systemd and Airflow)")
    sch.add_argument("--every", required=True, help="interval, e.g. 30m, 1h, 1d")
    sch.add_argument("--policy")
    sch.add_argument("--count", type=int, default=0, help="stop after this many runs (default: never)")
    sch.set_defaults(func=cmd_schedule)

    aud = sub.add_parser("audit", help="the audit log of sanctions, approvals and exports")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = aud_sub.add_parser("verify", help="check the audit log's hash chain")
    verify.set_defaults(func=cmd_audit_verify)
    show = aud_sub.add_parser("show", help="entries, newest first, as CSV")
    show.add_argument("--actor")
    show.add_argument("--action")
    show.add_argument("--target")
    show.add_argument("--limit", type=int, default=50)
    show.set_defaults(func=cmd_audit_show)

    usr = sub.add_parser("users", help="the team's users and roles (config/users.yaml or RINGSCOPE_USERS)")
    usr_sub = usr.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    usr_sub.add_parser("list", help="names and roles").set_defaults(func=cmd_users)
    add = usr_sub.add_parser("add", help="add or change a user (asks for the password; "
                                         "or RINGSCOPE_NEW_PASSWORD)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["viewer", "investigator", "approver", "admin"])
    add.add_argument("--no-password", action="store_true", help="sign in through OIDC only")
    add.set_defaults(func=cmd_users)

    # Command groups that live with their packages (sanctions, evidence) register here.
    for register in _command_groups():
        register(sub)

    up = sub.add_parser("up", help="the main job: start Neo4j, load a simulated platform if empty, report")
    up.add_argument("--accounts", type=int, default=20_000)
    up.add_argument("--seed", type=int, default=1)
    up.add_argument("--port", type=int, default=8501, help="the app's port")
    up.add_argument("--no-app", action="store_true", help="prepare everything but do not start the app")
    up.set_defaults(func=cmd_up)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return args.func(args, settings)
    except (RingscopeError, FileNotFoundError) as exc:
        _warn(f"ringscope: error: {exc}")
        return 1 if not isinstance(exc, SettingError) else EXIT_USAGE
    except KeyboardInterrupt:
        _warn("ringscope: interrupted; run the same command again to finish (loads resume where they stopped)")
        return 130
    except BrokenPipeError:  # the reader went away (`ringscope stats | head`): not an error
        sys.stdout = open(os.devnull, "w")
        return 0
    except Exception as exc:  # the driver's errors mid-command (database went away, timeout)
        from neo4j.exceptions import Neo4jError, DriverError

        if isinstance(exc, (Neo4jError, DriverError)):
            _warn(f"ringscope: error: the database failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
