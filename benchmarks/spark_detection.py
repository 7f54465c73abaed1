"""``ringscope detect --engine spark`` on simulated lakes, against ``--engine local`` on the same data.

    python -m benchmarks.spark_detection --accounts 1000000 10000000 [--load 1000000] [--local 1000000]
        [--reuse 1000000] [--detectors NAME ...] [--resume]

For each size: ``ringscope simulate DIR --accounts N --seed 7 --format parquet`` (the lake; skipped when
there), then, for the sizes in ``--load``, ``ringscope ingest LAKE --mode bulk`` into a Neo4j of the
benchmark's own (``--work``/neo4j, port ``--port``), so the run is stored against the graph an
investigator opens; a size not loaded stores its run in an empty graph (its clusters then link no
Account nodes, so storing is cheaper than it would be: the table says which; ``--reuse`` keeps the graph
an earlier run of this script loaded). Then, with a detection
policy that enables exactly the detectors ported to Spark (``spark.engine``: ``SPARK_DETECTORS`` and ``SPARK_AFTER_FLAGGING``):

1. ``ringscope detect --engine spark --source LAKE --policy P``: the whole command, with Spark in
   ``local[2]`` (``--driver-memory``; in local mode the driver is the executor);
2. for the sizes in ``--local``: ``ringscope detect --read graph --policy P`` (the local engine), and
   whether both runs flag the same accounts with the same scores and reasons (``ringscope flagged``).

With ``--resume`` the Spark command is ``detect ... --resume``: the detectors whose findings an earlier run
of it kept for the same lake, settings and code are read back, not run (their lines say so, with the time
they took then); how a run longer than one sitting is made in parts (``--detectors`` a first part, then all).

Recorded per command: wall seconds, CPU seconds of the whole process tree (sampled every 0.5 s, so the
last half second of a process may be missed; ``wait4`` alone would miss Spark's JVM), the peak of the summed resident memory of the command's
whole process tree (Python, Spark's JVM, its Python workers; sampled every 0.5 s) and the largest
single process in it, each stage's progress line, and from Spark's event log the shuffle bytes
written and read and the bytes spilled. When the lake holds the simulator's labels, what ``ringscope flagged``
prints for the Spark run is scored against them (read only after the run; ``detection_simulated.evaluate``).
Appended to ``benchmarks/results/spark_detection.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.common import append_results, load_average, machine
from benchmarks.detection_simulated import evaluate, honest_by_cause, read_labels
from ringscope.detection.config import DEFAULT_POLICY
from ringscope.spark.engine import SPARK_AFTER_FLAGGING, SPARK_DETECTORS

PORTED = [*SPARK_DETECTORS, *SPARK_AFTER_FLAGGING]

RESULTS = Path(__file__).resolve().parent / "results" / "spark_detection.md"
RINGSCOPE = str(Path(sys.executable).parent / "ringscope")


@dataclass
class Command:
    name: str
    seconds: float = 0.0
    cpu: float = 0.0
    tree_mib: float = 0.0
    largest_mib: float = 0.0
    ok: bool = False
    lines: list[str] = field(default_factory=list)
    shuffle: dict[str, int] = field(default_factory=dict)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(pid))
    return tree


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, ValueError, IndexError):
        return 0


def _sample(root: int, stop: threading.Event, command: Command, ticks: dict[int, int]) -> None:
    """Peak resident memory of the process tree, and each process's CPU ticks as last seen (Spark's JVM is
    not a waited-for child, so ``wait4`` would not count its CPU)."""
    while not stop.is_set():
        tree, todo, sizes = _children(), [root], []
        while todo:
            pid = todo.pop()
            sizes.append(_rss_mib(pid))
            ticks[pid] = max(ticks.get(pid, 0), _cpu_ticks(pid))
            todo += tree.get(pid, [])
        command.tree_mib = max(command.tree_mib, sum(sizes))
        command.largest_mib = max(command.largest_mib, max(sizes, default=0.0))
        stop.wait(0.5)


def run_command(name: str, args: list[str], env: dict[str, str], log: Path) -> Command:
    command = Command(name)
    started = time.monotonic()
    with open(log, "a") as out:
        out.write(f"\n$ ringscope {' '.join(args)}\n")
        process = subprocess.Popen([RINGSCOPE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        stop = threading.Event()
        ticks: dict[int, int] = {}
        sampler = threading.Thread(target=_sample, args=(process.pid, stop, command, ticks), daemon=True)
        sampler.start()
        for line in process.stdout:
            out.write(line)
            out.flush()
            command.lines.append(line.rstrip("\n"))
        _, status, usage = os.wait4(process.pid, 0)
        stop.set()
        sampler.join()
    command.seconds = time.monotonic() - started
    # the larger of: what wait4 counts (waited-for processes, to their end) and the tree's sampled ticks
    command.cpu = max(usage.ru_utime + usage.ru_stime, sum(ticks.values()) / os.sysconf("SC_CLK_TCK"))
    command.ok = os.waitstatus_to_exitcode(status) == 0
    print(f"  {name}: {command.seconds:,.1f} s, tree peak {command.tree_mib:,.0f} MiB"
          + ("" if command.ok else " FAILED"), flush=True)
    return command


def shuffle_totals(event_dir: Path) -> dict[str, int]:
    """Shuffle bytes written and read, and bytes spilled, summed over every task of the event log(s)."""
    totals = {"shuffle written": 0, "shuffle read": 0, "spilled to disk": 0, "spilled in memory": 0}
    for path in (p for p in event_dir.rglob("*") if p.is_file()):
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if '"SparkListenerTaskEnd"' not in line:
                    continue
                metrics = json.loads(line).get("Task Metrics") or {}
                write = metrics.get("Shuffle Write Metrics") or {}
                read = metrics.get("Shuffle Read Metrics") or {}
                totals["shuffle written"] += write.get("Shuffle Bytes Written", 0)
                totals["shuffle read"] += read.get("Remote Bytes Read", 0) + read.get("Local Bytes Read", 0)
                totals["spilled to disk"] += metrics.get("Disk Bytes Spilled", 0)
                totals["spilled in memory"] += metrics.get("Memory Bytes Spilled", 0)
    return totals


def flagged_csv(run_id: str, env: dict[str, str]) -> str:
    """What ``ringscope flagged --run RUN --format csv`` prints, read as the OS user (as a person would)."""
    reader = {k: v for k, v in env.items() if k != "RINGSCOPE_ACTOR"}
    return subprocess.run([RINGSCOPE, "flagged", "--run", run_id, "--format", "csv"], env=reader,
                          capture_output=True, text=True, check=True).stdout


def flagged(run_id: str, env: dict[str, str]) -> list[tuple]:
    """What ``ringscope flagged`` prints for the run, cluster ids without the run's own id."""
    out = flagged_csv(run_id, env)
    return sorted((r["account_id"], r["score"], r["cluster_id"].removeprefix(run_id), r["detectors"], r["reasons"])
                  for r in csv.DictReader(io.StringIO(out)))


def scored(command: Command, env: dict[str, str], lake: Path) -> list[str]:
    """The run ``command`` stored, as ``ringscope flagged`` prints it, against the lake's labels: precision and
    recall overall and per group, and the honest accounts flagged by group and detectors."""
    printed = pd.read_csv(io.StringIO(flagged_csv(command.lines[-1].strip(), env)), dtype=str,
                          keep_default_na=False, usecols=["account_id", "detectors"])
    labels = read_labels(lake)
    return evaluate(labels, set(printed["account_id"])) + [""] + honest_by_cause(labels, printed)


def run(sizes: list[int], load: set[int], local: set[int], work: Path, port: int, driver_memory: str,
        heap: str, pagecache: str, reuse: set[int] = frozenset(), detectors: tuple[str, ...] = tuple(PORTED),
        resume: bool = False) -> str:
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(RINGSCOPE_HOME=str(work / "neo4j"), RINGSCOPE_BOLT_PORT=str(port), RINGSCOPE_NEO4J_HEAP=heap,
               RINGSCOPE_NEO4J_PAGECACHE=pagecache, RINGSCOPE_ACTOR="benchmark",
               RINGSCOPE_SPARK_MASTER="local[2]", RINGSCOPE_SPARK_DRIVER_MEMORY=driver_memory,
               RINGSCOPE_SPARK_LOCAL_DIR=str(work / "spark-scratch"),
               RINGSCOPE_SPARK_FINDINGS_DIR=str(work / "spark-findings"))
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    for name, detector in policy["detectors"].items():
        detector["enabled"] = name in detectors
    policy_path = work / "spark-detectors.yaml"
    policy_path.write_text(yaml.safe_dump(policy))
    log = work / "spark_detection.log"
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"- Machine: {machine()}",
             f"- Spark local[2], driver memory {driver_memory}; Neo4j heap {heap}, page cache {pagecache}, "
             f"beside it; load average before: {load_average()}",
             f"- Detectors ({'the ones ported to Spark' if set(detectors) == set(PORTED) else 'only these'}): "
             f"{', '.join(detectors)}; the same policy for both engines",
             *(["- `--resume`: detectors whose findings an earlier run kept for this lake, policy and code are read "
                "back, not run (their lines below say so)"] if resume else []), ""]
    subprocess.run([RINGSCOPE, "db", "start"], env=env, check=True, stdout=subprocess.DEVNULL)
    for n in sizes:
        print(f"{n:,} accounts", flush=True)
        lake = work / f"lake-{n}"
        if not (lake / "labels").exists():
            shutil.rmtree(lake, ignore_errors=True)
            run_command("simulate", ["simulate", str(lake), "--accounts", str(n), "--seed", "7",
                                     "--format", "parquet"], env, log)
        graph = "empty graph (the run's clusters link no Account node)"
        if n in reuse:
            graph = "the platform bulk-loaded before (reused)"
        else:
            run_command("reset", ["reset", "--yes"], env, log)
        if n in load and n not in reuse:
            loaded = run_command("ingest --mode bulk", ["ingest", str(lake), "--mode", "bulk",
                                                        "--rejects-dir", str(work / "rejects")], env, log)
            graph = f"the platform bulk-loaded ({loaded.seconds:,.0f} s)" if loaded.ok else "load FAILED"
        events = work / f"events-{n}"
        shutil.rmtree(events, ignore_errors=True)
        events.mkdir()
        spark_env = dict(env, PYSPARK_SUBMIT_ARGS=f"--conf spark.eventLog.enabled=true --conf "
                                                  f"spark.eventLog.dir=file://{events} --conf spark.eventLog.compress=false "
                                                  f"pyspark-shell")
        commands = [run_command("detect --engine spark", ["detect", "--engine", "spark", "--source", str(lake),
                                                          "--policy", str(policy_path),
                                                          *(["--resume"] if resume else [])], spark_env, log)]
        commands[0].shuffle = shuffle_totals(events)
        quality = scored(commands[0], env, lake) if commands[0].ok and (lake / "labels").is_dir() else []
        parity = ""
        if n in local and (n in load or n in reuse):
            commands.append(run_command("detect (local engine, --read graph)",
                                        ["detect", "--read", "graph", "--policy", str(policy_path)], env, log))
            if all(c.ok for c in commands):
                a, b = (flagged(c.lines[-1].strip(), env) for c in commands)
                same = a == b
                parity = (f"flagged by both engines: {len(a):,} and {len(b):,} accounts; "
                          + ("identical (ids, scores, clusters, detectors, reasons)" if same else
                             f"DIFFERENT in {len(set(a) ^ set(b)):,} rows"))
        lines += [f"### {n:,} accounts; runs stored in: {graph}", "",
                  "| command | wall s | CPU s (process tree) | peak MiB (process tree) | peak MiB (largest process) | ok |",
                  "|---|---:|---:|---:|---:|---|"]
        lines += [f"| `{c.name}` | {c.seconds:,.1f} | {c.cpu:,.1f} | {c.tree_mib:,.0f} | {c.largest_mib:,.0f} | "
                  f"{'yes' if c.ok else 'FAILED'} |" for c in commands]
        spark = commands[0]
        lines += ["", "Spark's stages (progress lines of the command):", ""]
        lines += [f"    {line.strip()}" for line in spark.lines if "on Spark:" in line or
                  (("clusters in" in line or "kept by an earlier run" in line) and not line.startswith("compared"))]
        lines += ["", "From Spark's event log: " + ", ".join(f"{k} {v / 2**20:,.0f} MiB"
                                                            for k, v in spark.shuffle.items())]
        if parity:
            lines += ["", parity]
        if quality:
            lines += ["", "What `ringscope flagged` prints for the Spark run, against the lake's labels (read only now; "
                      "drifting accounts honest, in groups of their own):", "", *quality]
        failed = [c for c in commands if not c.ok]
        lines += [""] + [f"- {c.name} FAILED: `{' / '.join(c.lines[-3:])}`" for c in failed]
    subprocess.run([RINGSCOPE, "db", "stop"], env=env, check=False, stdout=subprocess.DEVNULL)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--load", type=int, nargs="*", default=[1_000_000],
                        help="sizes whose lake is bulk-loaded into the graph first")
    parser.add_argument("--local", type=int, nargs="*", default=[1_000_000],
                        help="loaded sizes on which the local engine runs too, and parity is checked")
    parser.add_argument("--reuse", type=int, nargs="*", default=[],
                        help="sizes whose graph (loaded by an earlier run of this script) is used as it is")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ringscope-spark-bench"))
    parser.add_argument("--port", type=int, default=7720)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--detectors", nargs="+", choices=PORTED, default=list(PORTED),
                        help="run only these detectors (default: every one ported to Spark)")
    parser.add_argument("--resume", action="store_true",
                        help="detect --resume: read back what an earlier run kept for the same lake, policy and code")
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="2g")
    args = parser.parse_args()
    text = run(args.accounts, set(args.load), set(args.local), args.work, args.port, args.driver_memory,
               args.heap, args.pagecache, set(args.reuse), tuple(args.detectors), args.resume)
    append_results(RESULTS, text)
    print(text)


if __name__ == "__main__":
    main()
