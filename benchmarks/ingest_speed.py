"""Ingest speed: rows/s for simulated platforms, peak memory, and where the time goes.

    python -m benchmarks.ingest_speed --accounts 10000 100000 1000000

For each size: simulate a platform (seed 7, csv.gz), empty a dedicated local
Neo4j, load the dataset with ``ringscope ingest``'s code and record per file:
rows, seconds, rows/s, and the split of time between Python (reading and
validating, on the reader thread), "commit + transfer" (write wall time minus
what Neo4j reported for running the statements: packing and sending rows, and
Neo4j's commit, which applies the transaction to the store and indexes) and
Neo4j (the server's own time for running the statements). Peak
memory: the Python process (ru_maxrss) and the JVM (VmHWM). Results are
appended to ``benchmarks/results/ingest_speed.md`` with the machine.
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import append_results, bench_server, jvm_peak_mib, load_average, machine, python_peak_mib
from ringscope.graph.admin import reset
from ringscope.graph.database import close_all
from ringscope.graph.server import local
from ringscope.ingest.load import IngestOptions, ingest

RESULTS = Path(__file__).resolve().parent / "results" / "ingest_speed.md"


def run(sizes: list[int], work: Path, heap: str, pagecache: str, port: int, keep: bool) -> str:
    settings, graph = bench_server(work, port, heap, pagecache)
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"Machine: {machine()}",
             f"Neo4j {graph.server_version()}, heap {heap}, page cache {pagecache}; batch 10,000 rows; "
             "data: `ringscope simulate --seed 7 --format csv.gz`", ""]
    from ringscope.simulate.platform import simulate

    for n in sizes:
        dataset = work / f"sim-{n}"
        if not (dataset / "accounts.csv.gz").exists():
            started = time.monotonic()
            simulate(dataset, accounts=n, seed=7, fmt="csv.gz")
            sim_s = time.monotonic() - started
        else:
            sim_s = float("nan")
        reset(graph)
        started = time.monotonic()
        report = ingest(graph, dataset, IngestOptions(rejects_dir=work / "rejects", restart=True))
        total_s = time.monotonic() - started
        rows = report.rows_loaded
        lines += [f"### {n:,} accounts: {rows:,} rows in {total_s:,.1f} s = **{rows / total_s:,.0f} rows/s** "
                  f"(simulation took {sim_s:,.1f} s)", "",
                  "| file | rows | s | rows/s | Python read+validate s | commit + transfer s | Neo4j statements s |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for f in report.files:
            driver_s = max(f.write_seconds - f.server_seconds, 0.0)
            lines.append(f"| {f.path.name} | {f.loaded:,} | {f.seconds:,.1f} | "
                         f"{f.loaded / f.seconds if f.seconds else 0:,.0f} | {f.read_seconds:,.1f} | "
                         f"{driver_s:,.1f} | {f.server_seconds:,.1f} |")
        lines += ["", f"Peak memory: Python {python_peak_mib():,.0f} MiB, "
                      f"JVM {jvm_peak_mib(settings):,.0f} MiB (VmHWM, cumulative over the run); "
                      f"load average at the end {load_average()} (other work on the machine slows this)", ""]
        print("\n".join(lines[-(len(report.files) + 5):]), flush=True)
        append_results(RESULTS, "\n".join(lines) + "\n")  # each size as soon as it is measured
        lines = []
    close_all()
    if not keep:
        local.stop(settings.local)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", default="/tmp/ringscope-bench", help="scratch space for data and the database")
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--pagecache", default="6g")
    parser.add_argument("--port", type=int, default=7720)
    parser.add_argument("--keep", action="store_true", help="leave the benchmark Neo4j running")
    parser.add_argument("--fresh-db", action="store_true", help="delete the benchmark database first")
    args = parser.parse_args()
    work = Path(args.work)
    if args.fresh_db:
        shutil.rmtree(work / "neo4j" / "db", ignore_errors=True)
    run(args.accounts, work, args.heap, args.pagecache, args.port, args.keep)
    print(f"appended to {RESULTS}")



if __name__ == "__main__":
    main()
