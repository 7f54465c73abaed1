"""Shared by the benchmark scripts: the machine's description, a dedicated local Neo4j, and one detector's
findings read alone against a simulated lake's labels."""

from __future__ import annotations

import os
import sys
import subprocess
import platform
import resource
from pathlib import Path

import pandas as pd

from ringscope.detection.findings import ClusterFinding
from ringscope.graph.database import Graph, connect
from ringscope.graph.server import local
from ringscope.graph.settings import Settings, load_settings


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}")


def load_average() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def bench_env(work: Path, port: int, heap: str, pagecache: str) -> dict[str, str]:
    """The environment of a benchmark's own Neo4j (``work``/neo4j on ``port``; never the user's or the tests'),
    for the commands it runs: no NEO4J_* of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(RINGSCOPE_HOME=str(work / "neo4j"), RINGSCOPE_BOLT_PORT=str(port),
               RINGSCOPE_NEO4J_HEAP=heap, RINGSCOPE_NEO4J_PAGECACHE=pagecache)
    return env


def run_ringscope(args: list[str], env: dict[str, str], check: bool = True) -> str:
    """``ringscope ARGS`` as a user runs it (a new process); its stdout, or (``check``) the run stops with its
    stderr when it fails."""
    done = subprocess.run([sys.executable, "-m", "ringscope.commands", *args], env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"ringscope {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def bench_server(work: Path, port: int, heap: str, pagecache: str) -> tuple[Settings, Graph]:
    """A Neo4j of the benchmark's own (never the user's or the tests')."""
    env = bench_env(work, port, heap, pagecache)
    settings = load_settings(env)
    local.start(settings.local)
    settings = load_settings(env)
    return settings, connect(settings)


def python_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def jvm_peak_mib(settings: Settings) -> float:
    pid = local.state(settings.local).pid
    if not pid:
        return float("nan")
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def append_results(path: Path, text: str) -> None:
    """Append a run's markdown to a committed results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as out:
        out.write(text + "\n")


def simulated_table(dataset: Path, name: str) -> pd.DataFrame | None:
    """One of the simulator's files as strings, empty where a value is missing (as the CSV reads): ``NAME.csv.gz``,
    or a Parquet lake's ``NAME/`` folder; None when neither is there."""
    if (dataset / f"{name}.csv.gz").exists():
        return pd.read_csv(dataset / f"{name}.csv.gz", dtype=str, keep_default_na=False)
    if (dataset / name).is_dir():
        frame = pd.read_parquet(dataset / name).astype(object)
        return frame.where(frame.notna(), "").astype(str)
    return None


def fake_mask(labels: pd.DataFrame) -> pd.Series:
    """The labels' ``is_fake`` as booleans (the files write true/false; 1 and yes read as true too)."""
    return labels["is_fake"].astype(str).str.lower().isin(["true", "1", "yes"])


def labels_by_account(lake: Path) -> pd.DataFrame:
    """A simulated dataset's ``labels`` by account id, ``is_fake`` as a bool."""
    labels = simulated_table(lake, "labels")
    if labels is None:
        raise FileNotFoundError(f"{lake}: no labels.csv.gz or labels/ (a simulated platform's ground truth)")
    return labels.assign(is_fake=fake_mask(labels)).set_index("account_id")


def flagged_alone(findings: list[ClusterFinding], weight: float, flag_at: float) -> tuple[pd.Series, pd.Index]:
    """(each member's best member score over ``findings``, the members one detector of ``weight`` flags by
    itself: best score x weight >= ``flag_at``). What one detector contributes before any corroboration."""
    best: dict[str, float] = {}
    for finding in findings:
        for account in finding.members:
            best[account] = max(best.get(account, 0.0), finding.member_score(account))
    scores = pd.Series(best, dtype=float)
    return scores, scores[weight * scores >= flag_at].index
