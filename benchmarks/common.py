"""Shared by the benchmark scripts: the machine's description and a dedicated local Neo4j."""

from __future__ import annotations

import os
import sys
import subprocess
import platform
import resource
from pathlib import Path

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
