"""``ringscope detect``, ``flagged``, ``runs``, ``compare``, ``schedule``: detection runs and their results."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import add_format, emit, fmt_of, say, warn
from ringscope.common.errors import RingscopeError, SettingError
from ringscope.graph.settings import Settings


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.pipeline import validate_params
    from ringscope.detection.run import detect
    from ringscope.graph.database import connect

    from ringscope.detection.as_of import TimeFrame, check_window, parse_as_of

    time_frame = None
    if args.as_of is not None or args.window is not None:
        if args.engine == "spark":
            from ringscope.detection.run import AS_OF_ON_SPARK

            raise SettingError(AS_OF_ON_SPARK)
        window = check_window(args.window) if args.window is not None else None
        as_of = parse_as_of(args.as_of) if args.as_of is not None else None
        if as_of is None:  # --window alone: the last DAYS up to now
            from datetime import datetime, timezone

            as_of = datetime.now(timezone.utc)
        time_frame = TimeFrame(as_of, window)
    policy = load_detection_policy(Path(args.policy) if args.policy else None)
    validate_params(policy)  # a bad detector parameter is named before any server is reached
    engine = None
    if args.engine == "spark":
        if not args.source:
            raise SettingError("--engine spark needs --source PATH: the platform's dataset as Parquet "
                               "(a local folder, hdfs://... or s3a://...)")
        from ringscope.spark.engine import SparkEngine

        engine = SparkEngine(args.source, args.master, resume=args.resume)
    elif args.source or args.master or args.resume:
        raise SettingError("--source, --master and --resume apply to --engine spark only; --engine local reads "
                           "the graph")
    summary = detect(connect(settings), policy, log=warn if not args.quiet else (lambda s: None), read=args.read,
                     engine=engine, time_frame=time_frame)
    warn(f"{summary.clusters} clusters, {summary.flagged} accounts flagged, {summary.scored} scored")
    say(summary.run_id)
    return 0


def cmd_flagged(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.auth.masking import render_reason
    from ringscope.graph.database import connect
    from ringscope.queries.detection import flagged, resolve_run

    graph = connect(settings)
    reader = resolve_actor(args, acting=False)  # IPs and phones in reasons masked unless the role may see them
    rows = [[row.account_id, f"{row.score:.4f}", row.cluster_id, ";".join(row.detectors),
             ";".join(render_reason(r, reader) for r in row.reasons)]
            for row in flagged(graph, resolve_run(graph, args.run))]
    emit(rows, ["account_id", "score", "cluster_id", "detectors", "reasons"], fmt_of(args))
    return 0


def cmd_runs(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.graph.database import connect
    from ringscope.queries.detection import runs

    rows = [[run.run_id, run.status, run.started_at, run.finished_at or "", run.stage or "",
             run.clusters if run.clusters is not None else "", run.flagged if run.flagged is not None else "",
             run.error or "", run.as_of or "", run.window_days if run.window_days is not None else ""]
            for run in runs(connect(settings), limit=args.limit)]
    emit(rows, ["run_id", "status", "started_at", "finished_at", "stage", "clusters", "flagged", "error", "as_of",
                "window_days"], fmt_of(args))
    return 0


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.detection.history import changes_since_previous
    from ringscope.graph.database import connect
    from ringscope.queries.detection import resolve_run

    graph = connect(settings)
    run_id = resolve_run(graph, args.run)
    before, changes = changes_since_previous(graph, run_id)
    warn(f"{run_id} compared with {before or 'nothing (first completed run)'}")
    rows = [[c.change, c.previous_id or "", c.current_id or "", c.previous_size, c.current_size, f"{c.jaccard:.3f}"]
            for c in changes]
    emit(rows, ["change", "previous_cluster", "current_cluster", "previous_size", "current_size", "jaccard"],
         fmt_of(args))
    return 0


def _interval(text: str) -> float:
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise SettingError(f"--every {text!r}: expected a number and a unit, e.g. 30m, 1h, 1d")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def cmd_schedule(args: argparse.Namespace, settings: Settings) -> int:
    """Run detection every interval on this machine; a failed run is reported and retried next time."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.pipeline import validate_params
    from ringscope.detection.lock import RunInProgress
    from ringscope.detection.run import detect
    from ringscope.graph.database import connect

    every = _interval(args.every)
    policy_path = Path(args.policy) if args.policy else None
    validate_params(load_detection_policy(policy_path))  # a bad policy or parameter stops the scheduler at once
    runs_done = 0
    while True:
        started = time.monotonic()
        try:
            summary = detect(connect(settings), load_detection_policy(policy_path), log=warn)
            say(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {summary.run_id}: {summary.clusters} clusters, "
                f"{summary.flagged} flagged")
        except RunInProgress as exc:
            warn(f"ringscope: skipped: {exc}")
        except (RingscopeError, Exception) as exc:  # keep scheduling; the run is marked failed
            warn(f"ringscope: detection run failed: {exc}")
        runs_done += 1
        if args.count and runs_done >= args.count:
            return 0
        time.sleep(max(0.0, every - (time.monotonic() - started)))


def register(sub) -> None:
    det = sub.add_parser("detect", help="run every detector over the whole graph and store the run")
    det.add_argument("--policy", help="detection policy file (default: the one shipped with ringscope, "
                                      "or RINGSCOPE_DETECTION_POLICY)")
    det.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    det.add_argument("--read", choices=("auto", "graph"), default="auto",
                     help="auto (default): right after a bulk load, with nothing written since, read the load's "
                          "columnar snapshot instead of the graph (the same data, read in seconds); "
                          "graph: always read the graph")
    det.add_argument("--engine", choices=("local", "spark"), default="local",
                     help="local (default): read the graph (or the bulk load's snapshot) and detect in this "
                          "process; spark: detect on Apache Spark over the dataset at --source and store the run "
                          "in the graph as local does (the detectors ported so far: see the README)")
    det.add_argument("--source", metavar="PATH",
                     help="--engine spark: the platform's dataset in the input format as Parquet (one folder or "
                          "<kind>.parquet per kind; a local path, hdfs://... or s3a://...)")
    det.add_argument("--as-of", metavar="TIME",
                     help="detect over what had happened by TIME (ISO 8601: 2025-03-31, 2025-03-31T18:00:00+08:00; "
                          "no offset = UTC; a date alone = its midnight): activity up to it, accounts registered "
                          "by then, sanctions then in force; the run records it and the observation room follows "
                          "the run at that time (replays of the past, see the README). Local engine only")
    det.add_argument("--window", metavar="DAYS",
                     help="with --as-of (or alone: up to now): only the activity of the DAYS days before TIME "
                          "(comments, likes, follows, orders, devices and addresses in use); a whole number, 1 to 3650")
    det.add_argument("--master", metavar="URL",
                     help="--engine spark: the Spark master (default RINGSCOPE_SPARK_MASTER, else local[2]; "
                          "under spark-submit, the submitted one)")
    det.add_argument("--resume", action="store_true",
                     help="--engine spark: do not run again a detector whose findings an earlier run kept for the "
                          "same files at --source, the same settings and the same code (each detector's "
                          "findings are kept as it finishes, in RINGSCOPE_SPARK_FINDINGS_DIR): a run stopped part "
                          "way resumes where it stopped")
    det.set_defaults(func=cmd_detect)

    fl = sub.add_parser("flagged", help="accounts a detection run flagged")
    fl.add_argument("--run", required=True, metavar="RUN_ID|latest")
    add_format(fl, default="csv")
    add_actor(fl, "who reads (IPs and phone hashes in reasons are masked unless their role may see them)")
    fl.set_defaults(func=cmd_flagged)

    rn = sub.add_parser("runs", help="detection runs, newest first, including running and failed ones")
    rn.add_argument("--limit", type=int, default=20)
    add_format(rn, default="csv")
    rn.set_defaults(func=cmd_runs)

    cmp_ = sub.add_parser("compare", help="clusters of a run compared with the previous completed run")
    cmp_.add_argument("--run", default="latest", metavar="RUN_ID|latest")
    add_format(cmp_, default="csv")
    cmp_.set_defaults(func=cmd_compare)

    sch = sub.add_parser("schedule", help="run detection every interval on this machine (see README for cron, "
                                          "systemd and Airflow)")
    sch.add_argument("--every", required=True, help="interval, e.g. 30m, 1h, 1d")
    sch.add_argument("--policy")
    sch.add_argument("--count", type=int, default=0, help="stop after this many runs (default: never)")
    sch.set_defaults(func=cmd_schedule)
