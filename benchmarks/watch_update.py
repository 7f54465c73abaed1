"""The observation room's update after a detection run, on a simulated platform.

    python -m benchmarks.watch_update [--accounts 100000] [--runs 3] [--wide 0.05 0.99] [--reuse]

Against a dedicated local Neo4j (``--work``/neo4j, port ``--port``; never the user's or the tests'):
simulate the platform (skipped when ``--work`` already holds it), bulk-load it with ``ringscope ingest
--mode bulk``, then run ``detect`` ``--runs`` times in this process with the shipped policy. Each run
updates the room before it completes (``detection/run.py``); recorded per run: the whole run's seconds, the
room update's (the run's ``watch`` duration), what it did (placed, kept, escalated, ...), the open stays
after it, and the seconds of calling the update again for the same run (it must change nothing). With
``--wide LOW HIGH``, two more runs to see how the update grows with the room: one with the watch band at
[LOW, HIGH) (watch threshold LOW, flag threshold HIGH: thousands of placements and audit entries), then one
with the shipped policy (the stays now at or above its flag threshold are escalated). ``--reuse``: keep the
platform the benchmark's Neo4j already holds (no simulate, no load). Appends to
``benchmarks/results/watch_update.md`` with the machine and the load average.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import (
    append_results, bench_env, bench_server, load_average, machine, python_peak_mib, run_ringscope,
)

RESULTS = Path(__file__).resolve().parent / "results" / "watch_update.md"
OPEN_STAYS = "MATCH (w:WatchStay) WHERE w.state IN ['watching', 'escalated'] RETURN count(w) AS n"
AUDIT = "MATCH (e:AuditEntry) RETURN count(e) AS n"



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wide", type=float, nargs=2, metavar=("LOW", "HIGH"), default=None,
                        help="a run with the watch band [LOW, HIGH), then one with the shipped policy")
    parser.add_argument("--reuse", action="store_true", help="keep the platform already loaded")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ringscope-bench-watch"))
    parser.add_argument("--port", type=int, default=7696)
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="2g")
    args = parser.parse_args()

    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.run import detect
    from ringscope.watch import service

    args.work.mkdir(parents=True, exist_ok=True)
    dataset = args.work / f"sim-{args.accounts}-{args.seed}"
    env = bench_env(args.work, args.port, args.heap, args.pagecache)
    load_before = load_average()
    settings, graph = bench_server(args.work, args.port, args.heap, args.pagecache)
    load_seconds = None
    if not args.reuse:
        if not (dataset / "labels.csv.gz").exists():
            run_ringscope(["simulate", str(dataset), "--accounts", str(args.accounts), "--seed", str(args.seed)], env)
        started = time.monotonic()
        run_ringscope(["reset", "--yes"], env)
        run_ringscope(["ingest", str(dataset), "--mode", "bulk"], env)
        load_seconds = time.monotonic() - started
        # the bulk load replaced the store: a fresh connection
        settings, graph = bench_server(args.work, args.port, args.heap, args.pagecache)

    shipped = load_detection_policy()
    policies = [("shipped", shipped)] * args.runs
    if args.wide is not None:
        low, high = args.wide
        wide = shipped.model_copy(update={"flag_threshold": high,
                                          "watch": shipped.watch.model_copy(update={"threshold": low})})
        policies += [(f"watch band [{low}, {high})", wide), ("shipped, after the wide band", shipped)]
    rows = []
    for number, (name, policy) in enumerate(policies, start=1):
        audit_before = graph.read(AUDIT)[0]["n"]
        started = time.monotonic()
        summary = detect(graph, policy)
        whole = time.monotonic() - started
        changes = graph.read("MATCH (r:DetectionRun {run_id: $r}) RETURN r.watch_changes AS c", r=summary.run_id)[0]["c"]
        started = time.monotonic()
        again = service.update_room(graph, summary.run_id, policy.watch, policy.flag_threshold)
        repeat = time.monotonic() - started
        assert again.already_done
        rows.append((number, name, summary.run_id, whole, summary.durations["watch"], changes,
                     graph.read(OPEN_STAYS)[0]["n"], graph.read(AUDIT)[0]["n"] - audit_before, repeat,
                     summary.flagged))
        print(f"run {number} ({name}): whole {whole:.1f} s, room update {summary.durations['watch']:.2f} s, {changes}",
              flush=True)

    lines = [f"\n## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {args.accounts:,} accounts (seed {args.seed})",
             "", f"Machine: {machine()}; load average {load_before} before, {load_average()} after.",
             (f"Bulk load {load_seconds:.0f} s; then" if load_seconds is not None else "On the platform already "
              "loaded (and the room the earlier runs left):") + " `detect` runs in one process, each updating the "
             "room in the transaction that completes it; Python peak {:.0f} MiB.".format(python_peak_mib()), "",
             "| run | policy | whole run (s) | room update (s) | share of the run | what the update did | open stays "
             "after | audit entries written | same run again (s) | flagged |",
             "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for number, name, _run_id, whole, watch, changes, open_after, entries, repeat, flagged in rows:
        lines.append(f"| {number} | {name} | {whole:.1f} | {watch:.2f} | {100 * watch / whole:.1f} % | {changes} | "
                     f"{open_after:,} | {entries:,} | {repeat:.3f} | {flagged:,} |")
    append_results(RESULTS, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
