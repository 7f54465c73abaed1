"""The sweep back (``ringscope sweep``) on a simulated platform: what a user waits for, and what it finds.

    python -m benchmarks.sweep_back [--accounts 100000] [--clusters 10] [--reuse]

Against a dedicated local Neo4j (``--work``/neo4j, port ``--port``; never the user's or the tests'): simulate the
platform (skipped when ``--work`` already holds it), bulk-load it (``ringscope ingest --mode bulk``), run
``ringscope detect`` with the shipped policy (``--reuse``: keep what an earlier run of this script loaded and
detected). Then, for the ``--clusters`` clusters of the latest run with the most confirmed members (the
simulated platform's imported bans and sanctions confirm them; nothing here sanctions anyone), the whole command
``ringscope sweep --cluster ID --format csv`` as a user runs it, timed, and what it listed, scored against the
simulator's ground truth (the ``labels`` file; read here for evaluation only, as every quality benchmark does):

* listed: accounts at or above the policy's score; fake: how many of them are fakes (precision);
* new: fakes listed that the run did not flag (the sweep's own finds);
* of the farm: fakes of the cluster's farm (its members' most common ``farm_id``) outside the cluster, and how
  many of them the sweep listed (the farm's recall beyond the cluster).

Appends to ``benchmarks/results/sweep_back.md`` with the machine and the load average.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from ringscope.queries.detection import resolve_run
from ringscope.sweep.service import confirmed_clusters
from benchmarks.common import append_results, bench_env, bench_server, load_average, machine, run_ringscope

RESULTS = Path(__file__).resolve().parent / "results" / "sweep_back.md"
MEMBER_FARMS = """
MATCH (:Cluster {cluster_id: $cluster_id})-[:HAS_MEMBER]->(a:Account)
OPTIONAL MATCH (g:GroundTruth {account_id: a.account_id})
RETURN a.account_id AS account_id, g.farm_id AS farm_id
"""
FARM_FAKES = "MATCH (g:GroundTruth {farm_id: $farm_id}) WHERE g.is_fake RETURN g.account_id AS account_id"
TRUTH = """
UNWIND $ids AS id OPTIONAL MATCH (g:GroundTruth {account_id: id})
RETURN id AS account_id, coalesce(g.is_fake, false) AS fake
"""
FLAGGED = """
MATCH (r:DetectionRun {run_id: $run_id})-[s:SCORED]->(a:Account) WHERE s.score >= r.flag_threshold
RETURN a.account_id AS account_id
"""



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="keep the platform and run already there")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ringscope-bench-sweep"))
    parser.add_argument("--port", type=int, default=7695)
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="2g")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    dataset = args.work / f"sim-{args.accounts}-{args.seed}"
    env = bench_env(args.work, args.port, args.heap, args.pagecache)
    load_before = load_average()
    bench_server(args.work, args.port, args.heap, args.pagecache)
    prepared = ""
    if not args.reuse:
        if not (dataset / "labels.csv.gz").exists():
            run_ringscope(["simulate", str(dataset), "--accounts", str(args.accounts), "--seed", str(args.seed)], env)
        started = time.monotonic()
        run_ringscope(["reset", "--yes"], env)
        run_ringscope(["ingest", str(dataset), "--mode", "bulk"], env)
        loaded = time.monotonic() - started
        started = time.monotonic()
        run_ringscope(["detect"], env)
        prepared = f"bulk load {loaded:.0f} s, `detect` {time.monotonic() - started:.0f} s; "
    _settings, graph = bench_server(args.work, args.port, args.heap, args.pagecache)

    # The clusters the app offers to sweep: the latest run's with the most confirmed members.
    run_id = resolve_run(graph, "latest")
    clusters = confirmed_clusters(graph, run_id, limit=args.clusters)
    if not clusters:
        raise SystemExit("the latest run has no cluster with a confirmed member")
    flagged = {r["account_id"] for r in graph.read(FLAGGED, run_id=run_id)}
    rows = []
    for c in clusters:
        started = time.monotonic()
        out = run_ringscope(["sweep", "--cluster", c.cluster_id, "--format", "csv"], env)
        seconds = time.monotonic() - started
        listed = [r["account_id"] for r in csv.DictReader(io.StringIO(out))]
        fake = {r["account_id"] for r in graph.read(TRUTH, ids=listed) if r["fake"]}
        members = graph.read(MEMBER_FARMS, cluster_id=c.cluster_id)
        farms = Counter(r["farm_id"] for r in members if r["farm_id"])
        farm = farms.most_common(1)[0][0] if farms else None
        outside = set()
        if farm is not None:
            inside = {r["account_id"] for r in members}
            outside = {r["account_id"] for r in graph.read(FARM_FAKES, farm_id=farm)} - inside
        rows.append((c, seconds, len(listed), len(fake), len(fake - flagged), farm, len(outside),
                     len(outside & set(listed))))
        print(f"{c.cluster_id}: {seconds:.1f} s, {len(listed)} listed, {len(fake)} fake, "
              f"{len(fake - flagged)} new; farm {farm}: {len(outside & set(listed))} of {len(outside)} outside",
              flush=True)

    total = [sum(r[i] for r in rows) for i in (2, 3, 4, 6, 7)]
    seconds = sorted(r[1] for r in rows)
    lines = [f"\n## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {args.accounts:,} accounts (seed {args.seed}), "
             f"the {len(rows)} clusters of run {run_id} with the most confirmed members", "",
             f"Machine: {machine()}; load average {load_before} before, {load_average()} after. {prepared}"
             "each row is the whole command `ringscope sweep --cluster ID --format csv` (a new Python process, "
             "connection, policy and every read) with the shipped policy/sweep.yaml.", "",
             "| cluster | detector | members | confirmed | seconds | listed | fake | new (not flagged by the run) "
             "| farm | farm's fakes outside the cluster | of them listed |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for c, secs, listed, fake, new, farm, outside, caught in rows:
        lines.append(f"| {c.cluster_id} | {c.detector} | {c.size} | {c.confirmed} | {secs:.1f} | {listed} "
                     f"| {fake} | {new} | {farm or ''} | {outside} | {caught} |")
    precision = total[1] / total[0] if total[0] else float("nan")
    recall = total[4] / total[3] if total[3] else float("nan")
    lines += ["", f"All {len(rows)}: {total[0]} listed, {total[1]} fake (precision {precision:.3f}), {total[2]} of "
              f"them not flagged by the run; {total[4]} of the {total[3]} fakes of the clusters' farms outside "
              f"them listed (recall {recall:.3f}). Seconds per sweep: median {seconds[len(seconds) // 2]:.1f}, "
              f"max {seconds[-1]:.1f}."]
    append_results(RESULTS, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
