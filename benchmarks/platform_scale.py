"""The platform at scale, through the commands a user runs: simulate, ingest (bulk and incremental), detect, reset.

    python -m benchmarks.platform_scale --accounts 100000 1000000 [--incremental 100000] [--baseline 100000]
        [--format parquet]

For each size, each step is the whole ``ringscope`` command in a process of its own,
timed from start to exit (what a user waits for), against a dedicated local Neo4j
(``--work``/neo4j, port ``--port``; never the user's or the tests'):

1. ``ringscope simulate DIR --accounts N --seed 7`` (skipped when DIR already holds it);
2. ``ringscope reset`` of whatever the store holds, then ``ringscope ingest DIR --mode bulk``;
3. ``ringscope detect`` (the whole run: reading the data, every detector, writing the run). Right
   after the load this reads the load's columnar snapshot (nothing was written since); then
   ``ringscope detect --read graph``, what every later run does once anything has been written
   (it also compares itself with the first run);
4. ``ringscope reset`` of the loaded graph;
5. for the sizes in ``--baseline``: ``python -m benchmarks.plain_statements DIR`` into the
   emptied store (the same graph written with plain ``UNWIND ... CREATE`` statements, shaping
   included: what Neo4j does with the simplest writes, to set the incremental path against),
   then ``ringscope reset`` again;
6. for the sizes in ``--incremental``: ``ringscope ingest DIR --mode incremental`` into the
   emptied store, for the ratio of the two paths on the same data, then ``ringscope reset``.

Recorded per step: wall seconds, rows/s where rows are read (the dataset rows each file line
reports as read; for the baseline, the dataset rows its total line reports, so the rates of
the baseline and the incremental load are comparable), CPU seconds of the command
(user+sys from ``wait4``; a CPU share well under the wall time on 2 cores means waiting on
Neo4j or on the disk), the command's peak memory (ru_maxrss) and the JVM's (VmHWM, sampled
every second while the step runs: the importer's JVM and the server's), and the load
average before and after (other work on the machine slows every figure). Results are
appended to ``benchmarks/results/platform_scale.md`` with the machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import append_results, load_average, machine

RESULTS = Path(__file__).resolve().parent / "results" / "platform_scale.md"
READ = re.compile(r"read ([\d,]+)")
# The total line of benchmarks/plain_statements.py: its dataset rows read.
BASELINE_TOTAL = re.compile(r"^total: [\d,]+ rows \(nodes \+ relationships\) .*; dataset rows read: ([\d,]+)")
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Step:
    name: str
    seconds: float
    cpu: float
    peak_mib: float
    jvm_mib: float
    rows: int | None
    load: str
    ok: bool
    tail: str


def _jvm_sampler(stop: threading.Event, peaks: list[float]) -> None:
    """The largest VmRSS of any java process while the step runs (the server's, and the importer's)."""
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if b"java" not in handle.read().split(b"\0")[0]:
                        continue
                with open(f"/proc/{pid}/status") as handle:
                    for line in handle:
                        if line.startswith("VmRSS:"):
                            peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        stop.wait(1.0)


def run_step(name: str, args: list[str], env: dict[str, str], log: Path, module: str | None = None) -> Step:
    """A ``ringscope`` subcommand, or with ``module`` a ``python -m module`` of this repository, timed."""
    if module:
        command = [sys.executable, "-m", module, *args]
    else:
        command = [str(Path(sys.executable).parent / "ringscope"), *args]
    load_before = load_average()
    peaks: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_jvm_sampler, args=(stop, peaks), daemon=True)
    sampler.start()
    started = time.monotonic()
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   cwd=REPO if module else None)
        text = []
        for line in process.stdout:
            out.write(line)
            text.append(line)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    rows = _rows_read(text)
    print(f"  {name}: {seconds:,.1f} s" + (f", {rows:,} rows" if rows else ""), flush=True)
    return Step(name, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, max(peaks, default=0.0),
                rows, f"{load_before} -> {load_average()}", os.waitstatus_to_exitcode(status) == 0,
                "".join(text[-3:]).strip())


def _rows_read(text: list[str]) -> int | None:
    """Dataset rows the step read: the baseline's total line, else the sum of the files' "read N"."""
    for line in text:
        match = BASELINE_TOTAL.search(line)
        if match:
            return int(match.group(1).replace(",", "")) or None
    return sum(int(m.group(1).replace(",", "")) for line in text for m in [READ.search(line)] if m) or None


def run(sizes: list[int], incremental: set[int], fmt: str, work: Path, port: int, heap: str, pagecache: str,
        bulk_memory: str, baseline: set[int] | frozenset[int] = frozenset()) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(RINGSCOPE_HOME=str(work / "neo4j"), RINGSCOPE_BOLT_PORT=str(port), RINGSCOPE_NEO4J_HEAP=heap,
               RINGSCOPE_NEO4J_PAGECACHE=pagecache, RINGSCOPE_BULK_MEMORY=bulk_memory, RINGSCOPE_ACTOR="benchmark")
    log = work / "platform_scale.log"
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"Machine: {machine()}",
             f"Neo4j heap {heap}, page cache {pagecache}; bulk memory {bulk_memory}; data: "
             f"`ringscope simulate --seed 7 --format {fmt}`; every figure is the whole command", ""]
    subprocess.run([str(Path(sys.executable).parent / "ringscope"), "db", "start"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    for n in sizes:
        print(f"{n:,} accounts", flush=True)
        data = work / f"sim-{n}-{fmt.replace('.', '_')}"
        steps: list[Step] = []
        if not (data / "labels.csv.gz").exists() and not (data / "labels").exists() and not any(data.glob("labels*")):
            shutil.rmtree(data, ignore_errors=True)
            steps.append(run_step("simulate", ["simulate", str(data), "--accounts", str(n), "--seed", "7",
                                               "--format", fmt], env, log))
        rejects = ["--rejects-dir", str(work / "rejects")]
        run_step("reset (before)", ["reset", "--yes"], env, log)
        steps.append(run_step("ingest --mode bulk", ["ingest", str(data), "--mode", "bulk", *rejects], env, log))
        steps.append(run_step("detect (right after the load: the snapshot)", ["detect"], env, log))
        steps.append(run_step("detect --read graph", ["detect", "--read", "graph"], env, log))
        steps.append(run_step("reset", ["reset", "--yes"], env, log))
        if n in baseline:
            steps.append(run_step("plain statements (baseline)", [str(data), "--staging", str(work)], env, log,
                                  module="benchmarks.plain_statements"))
            steps.append(run_step("reset (after baseline)", ["reset", "--yes"], env, log))
        if n in incremental:
            steps.append(run_step("ingest --mode incremental", ["ingest", str(data), "--mode", "incremental",
                                                                *rejects], env, log))
            steps.append(run_step("reset (after incremental)", ["reset", "--yes"], env, log))
        lines += [f"### {n:,} accounts", "",
                  "| step | wall s | rows | rows/s | CPU s (command) | peak MiB (command) | peak MiB (JVM) | load | ok |",
                  "|---|---:|---:|---:|---:|---:|---:|---|---|"]
        for s in steps:
            rate = f"{s.rows / s.seconds:,.0f}" if s.rows else ""
            rows = f"{s.rows:,}" if s.rows else ""
            lines.append(f"| {s.name} | {s.seconds:,.1f} | {rows} | {rate} | {s.cpu:,.1f} | "
                         f"{s.peak_mib:,.0f} | {s.jvm_mib:,.0f} | {s.load} | {'yes' if s.ok else 'FAILED'} |")
        failed = [s for s in steps if not s.ok]
        lines += [""] + [f"- {s.name} FAILED: `{s.tail}`" for s in failed] + ([""] if failed else [])
    # Its heap and page cache are the machine's to have back once the figures are taken.
    subprocess.run([str(Path(sys.executable).parent / "ringscope"), "db", "stop"], env=env, check=False,
                   stdout=subprocess.DEVNULL)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--incremental", type=int, nargs="*", default=[100_000],
                        help="sizes also loaded with --mode incremental (35 min at 1M on 2 cores)")
    parser.add_argument("--baseline", type=int, nargs="*", default=[],
                        help="sizes also written with plain UNWIND ... CREATE statements "
                             "(benchmarks/plain_statements.py), after the bulk load's reset")
    parser.add_argument("--format", default="csv.gz", choices=["csv.gz", "parquet"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ringscope-platform-scale"))
    parser.add_argument("--port", type=int, default=7797)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--pagecache", default="4g")
    parser.add_argument("--bulk-memory", default="4g")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    text = run(args.accounts, set(args.incremental), args.format, args.work, args.port, args.heap, args.pagecache,
               args.bulk_memory, set(args.baseline))
    append_results(RESULTS, text + "\n")
    print(text)


if __name__ == "__main__":
    main()
