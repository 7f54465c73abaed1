"""``ringscope ingest``, ``simulate``, ``convert``: getting a platform's data in."""

from __future__ import annotations

import argparse
import os
import time
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringscope.commands.output import say, warn
from ringscope.common.errors import SettingError
from ringscope.graph.settings import Settings


def _timezone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(f"--timezone {name!r} is not a known time zone (examples: UTC, Asia/Shanghai)") from None


def _limits(args: argparse.Namespace):
    """The caps on a line and a value: the options, else the settings, else the defaults."""
    from dataclasses import replace

    from ringscope.graph.settings import parse_size
    from ringscope.ingest.spec import limits_from_env

    limits = limits_from_env()
    if args.max_line_bytes is not None:
        limits = replace(limits, max_line_bytes=parse_size("--max-line-bytes", args.max_line_bytes))
    if args.max_field_chars is not None:
        limits = replace(limits, max_field_chars=args.max_field_chars)
    return limits


_SUBGRAPH_ONLY = ("source", "hops", "max_per_entity", "master")


def _subgraph_request(args: argparse.Namespace):
    """The ``--subgraph`` / ``--subgraph-of`` request, or None for a dataset directory; arguments that do
    not go together are one line naming them."""
    of = args.subgraph_of or []
    if args.subgraph is None and not of:
        given = [f"--{name.replace('_', '-')}" for name in _SUBGRAPH_ONLY if getattr(args, name) is not None]
        if given:
            raise SettingError(f"{', '.join(given)}: only with --subgraph RUN_ID or --subgraph-of KIND:ID (loading "
                               f"a neighbourhood from the lake)")
        if args.dir is None:
            raise SettingError("ringscope ingest needs a dataset directory DIR, or --subgraph RUN_ID --source PATH "
                               "(a detection run's clusters and their neighbourhood, from the platform's lake), "
                               "or --subgraph-of KIND:ID --source PATH (the neighbourhood of an account, device, "
                               "IP, phone, note or intermediary)")
        return None
    option = "--subgraph" if args.subgraph is not None else "--subgraph-of"
    if args.subgraph is not None and of:
        raise SettingError("give --subgraph RUN_ID or --subgraph-of KIND:ID, not both")
    if args.dir is not None:
        what = "RUN_ID" if option == "--subgraph" else "KIND:ID"
        raise SettingError(f"give a dataset directory ({args.dir}) or {option} {what} --source PATH, not both")
    if args.source is None:
        raise SettingError(f"{option} needs --source PATH: the platform's lake, the input format as Parquet "
                           "(a local folder, hdfs://... or s3a://...)")
    from ringscope.spark.subgraph_load import DEFAULT_HOPS, DEFAULT_MAX_PER_ENTITY, SubgraphRequest, parse_node

    nodes = tuple(parse_node(text) for text in of)
    return SubgraphRequest(args.subgraph, args.source,
                           DEFAULT_HOPS if args.hops is None else args.hops,
                           DEFAULT_MAX_PER_ENTITY if args.max_per_entity is None else args.max_per_entity,
                           args.master, nodes=nodes)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from ringscope.graph.database import connect
    from ringscope.graph.settings import parse_size
    from ringscope.ingest.load import IngestOptions
    from ringscope.ingest.modes import load_dataset, recover_interrupted_bulk
    from ringscope.sanctions.service import refresh_stale_statuses

    subgraph = _subgraph_request(args)
    directory = Path(args.dir) if subgraph is None else None
    if directory is not None and not directory.is_dir():
        raise SettingError(f"{directory}: no such dataset directory")
    if args.batch_size < 1:
        raise SettingError("--batch-size must be at least 1")
    if not 1 <= args.writers <= 16:
        raise SettingError(f"--writers must be between 1 and 16 (got {args.writers})")
    parse_size("--bulk-memory", args.bulk_memory)
    options = IngestOptions(
        tz=_timezone(args.timezone), keep_unknown=args.keep_unknown_columns,
        batch_size=args.batch_size, rejects_dir=Path(args.rejects_dir) if args.rejects_dir else None,
        restart=args.restart, writers=args.writers, progress=args.progress, mode=args.mode, bulk_memory=args.bulk_memory,
        keep_staging=args.keep_staging, limits=_limits(args),
    )
    recover_interrupted_bulk(settings, log=warn)
    graph = connect(settings)
    started = time.monotonic()
    if subgraph is not None:
        from ringscope.spark.subgraph_load import prepare_subgraph

        lake = prepare_subgraph(graph, subgraph, log=warn)
        for line in lake.lines():
            say(line)
        if not lake.kinds:
            if lake.run_id is not None:
                say(f"{lake.run_id} has no cluster and flagged no account: nothing to load")
            else:
                say(f"the lake holds no row to load for {lake.subject} at --hops {subgraph.hops} (an IP or a "
                    "phone has no row of its own: --hops 1 loads the accounts using it): nothing to load")
            return 0
        directory = lake.directory
        if options.rejects_dir is None:  # beside the sub-lake, never inside it (it would be read as a kind)
            options = replace(options, rejects_dir=directory.parent / "rejects" / directory.name)

    def report(result) -> None:
        say(result.line())
        for note in result.notes:
            say(f"  {result.path.name}: {note}")

    mode, outcome = load_dataset(graph, directory, options, on_file=report, log=warn)
    for skipped in outcome.skipped:
        say(f"skipped {skipped}")
    # The platform's status is the base under ringscope's sanctions: where the file changed it on an
    # account ringscope has sanctioned, the status is recomputed from it and the sanctions in force
    # (through the sanctions service, which ingest, a layer below, cannot call).
    restated = refresh_stale_statuses(graph)
    if restated:
        say(f"statuses: {len(restated)} account(s) ringscope has sanctioned got a new platform status from the "
            "file; their status was recomputed with the sanctions in force")
    seconds = time.monotonic() - started
    failed = [f.path.name for f in outcome.files if f.failed]
    steps = getattr(outcome, "seconds", {})
    how = f" ({mode}: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()) + ")" if steps else f" ({mode})"
    if subgraph is not None:
        say(_written_and_loaded(lake, outcome))
    say(f"total: {outcome.rows_loaded} rows loaded from {len(outcome.files)} files in {seconds:.1f} s{how}"
        + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if outcome.failed else 0


def _written_and_loaded(lake, outcome) -> str:
    """One line: per kind, the rows the sub-lake holds and the rows the load took (of them, those an earlier
    run of the same command had loaded already)."""
    loaded = {f.stem: f for f in outcome.files}
    parts = []
    for kind in lake.kinds:
        result = loaded.get(kind.kind)
        took = "failed" if result is None or result.failed else f"{result.loaded:,}"
        parts.append(f"{kind.kind} {kind.rows:,}/{took}")
    earlier = sum(f.resumed for f in outcome.files)
    return ("subgraph rows written/loaded: " + ", ".join(parts)
            + (f" ({earlier:,} of them loaded by an earlier run: skipped)" if earlier else ""))


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.simulate.platform import simulate

    if args.accounts < 100:
        raise SettingError("--accounts must be at least 100")
    summary = simulate(Path(args.dir), accounts=args.accounts, seed=args.seed, fmt=args.format)
    for line in summary.lines():
        say(line)
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
    if args.format == "parquet":
        from ringscope.ingest.converters import as_parquet

        as_parquet(out, [name for name in counts if (out / f"{name}.csv").exists()])
    for name, count in counts.items():
        say(f"{name}: {count}")
    return 0


def register(sub) -> None:
    ing = sub.add_parser("ingest", help="load a dataset directory in the input format")
    ing.add_argument("dir", nargs="?", help="dataset directory (accounts.csv, comments.jsonl.gz, notes.parquet, "
                                            "or a folder of part files such as comments/part-00000.parquet ...); "
                                            "not with --subgraph or --subgraph-of")
    ing.add_argument("--subgraph", metavar="RUN_ID|latest",
                     help="load only this detection run's clusters and their neighbourhood from the lake at "
                          "--source (selected on Spark, written as a sub-lake under RINGSCOPE_HOME/subgraph, then "
                          "loaded as a dataset; running it again changes nothing)")
    ing.add_argument("--subgraph-of", metavar="KIND:ID", action="append",
                     help="load only the neighbourhood of this node from the lake at --source, as --subgraph does "
                          "for a run (KIND: account, device, ip, phone, note, intermediary; e.g. account:a0001234, "
                          "ip:203.0.113.9); repeat it for several nodes")
    ing.add_argument("--source", metavar="PATH",
                     help="--subgraph, --subgraph-of: the platform's lake, the input format as Parquet (a folder or "
                          "<kind>.parquet per kind; a local path, hdfs://... or s3a://...)")
    ing.add_argument("--hops", type=int, metavar="N",
                     help="--subgraph, --subgraph-of: how many links out from the run's accounts or the nodes (0-4, "
                          "default 1; 0: their own rows only, 2: also the accounts sharing a device, IP, phone, note "
                          "or agency with them)")
    ing.add_argument("--max-per-entity", type=int, metavar="N",
                     help="--subgraph, --subgraph-of: at each hop a node brings in at most N new nodes of each kind, a sample "
                          "that is the same on every run (default 1000); capped entities are counted")
    ing.add_argument("--master", metavar="URL",
                     help="--subgraph, --subgraph-of: the Spark master (default RINGSCOPE_SPARK_MASTER, else local[2])")
    ing.add_argument("--timezone", default="UTC", help="time zone of timestamps without an offset (default UTC)")
    ing.add_argument("--keep-unknown-columns", action="store_true", help="store unknown columns as properties")
    ing.add_argument("--batch-size", type=int, default=10_000, help="rows per transaction (default 10000)")
    ing.add_argument("--writers", type=int, default=2,
                     help="transactions of one file in flight at once on the incremental path (default 2; "
                          "1 writes serially)")
    ing.add_argument("--rejects-dir", help="where rejected rows go (default ./rejects/<dataset name>)")
    ing.add_argument("--restart", action="store_true",
                     help="ignore checkpoints of an interrupted earlier load and write every batch again")
    ing.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar with rows/s (default: when stderr is a terminal)")
    ing.add_argument("--mode", choices=["auto", "bulk", "incremental"], default="auto",
                     help="bulk: build an empty local database with Neo4j's offline importer; incremental: "
                          "transactional writes on top of what is there; auto (default): bulk when the local "
                          "database is empty")
    ing.add_argument("--bulk-memory", default=os.environ.get("RINGSCOPE_BULK_MEMORY", "4g"),
                     help="memory the bulk path may use for shaping and importing (default 4g, or "
                          "RINGSCOPE_BULK_MEMORY)")
    ing.add_argument("--keep-staging", action="store_true",
                     help="keep the bulk path's staged files (RINGSCOPE_HOME/bulk) for inspection")
    ing.add_argument("--max-line-bytes", metavar="SIZE",
                     help="reject a line (a CSV record) longer than this, e.g. 1m, 512k "
                          "(default: RINGSCOPE_INGEST_MAX_LINE_BYTES, else 1m)")
    ing.add_argument("--max-field-chars", type=int, metavar="N",
                     help="reject a row with a value longer than N characters "
                          "(default: RINGSCOPE_INGEST_MAX_FIELD_CHARS, else 65536)")
    ing.set_defaults(func=cmd_ingest)

    sim = sub.add_parser("simulate", help="write a synthetic platform dataset with planted fraud")
    sim.add_argument("dir")
    sim.add_argument("--accounts", type=int, required=True)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--format", choices=["csv", "csv.gz", "jsonl", "jsonl.gz", "parquet"], default="csv.gz",
                     help="the files' encoding (default csv.gz); parquet: a folder of part files per kind, "
                          "comments/part-00000.parquet ...")
    sim.set_defaults(func=cmd_simulate)

    conv = sub.add_parser("convert", help="convert a public research dataset to the input format")
    conv.add_argument("dataset", choices=["yelpchi", "cresci"])
    conv.add_argument("source", help="yelpchi: reviews.txt.gz; cresci: the cresci2015 folder")
    conv.add_argument("out", help="output dataset directory")
    conv.add_argument("--format", choices=["csv", "parquet"], default="csv",
                      help="csv (default), or parquet: one <kind>.parquet per file, what --engine spark reads")
    conv.set_defaults(func=cmd_convert)
