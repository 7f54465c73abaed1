"""The content-health index for every account of a loaded platform: what a user waits for, and what it says.

    python -m benchmarks.health_index [--work /tmp/ringscope-bench-sweep] [--port 7695] [--labels DATASET]

On a platform an earlier benchmark loaded and detected (by default the one ``benchmarks/sweep_back.py`` leaves:
100,000 simulated accounts, seed 7), runs the whole command ``ringscope health --distribution --format json`` as a
user would, with its wall time and the peak resident memory of the process (``/usr/bin/time``-style, from
``wait4``), then splits the bands by the simulator's ground truth (the ``labels`` file, read for evaluation only; the
bands per account come from the same service called in this process, not timed). A graph loaded without the labels
(``detection_simulated --through-commands`` gives the tool the platform's files only) is split by ``--labels``: the
simulated dataset's folder (``labels.csv.gz`` or a Parquet lake's ``labels/``).
Appends to ``benchmarks/results/health_index.md`` with the machine and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import append_results, bench_env, bench_server, fake_mask, load_average, machine
from ringscope.graph.server import local

RESULTS = Path(__file__).resolve().parent / "results" / "health_index.md"
TRUTH = "MATCH (g:GroundTruth) RETURN g.account_id AS id, g.is_fake AS fake"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ringscope-bench-sweep"))
    parser.add_argument("--port", type=int, default=7695)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="1g")
    parser.add_argument("--labels", type=Path, help="the simulated dataset's folder, when the graph holds no labels")
    args = parser.parse_args()
    env = bench_env(args.work, args.port, args.heap, args.pagecache)
    settings, graph = bench_server(args.work, args.port, args.heap, args.pagecache)
    load_before = load_average()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "ringscope.commands", "health", "--distribution", "--format",
                             "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    peak_mib = _peak(proc)
    if proc.returncode != 0:
        raise SystemExit(f"ringscope health --distribution failed:\n{err[-3000:]}")
    result = json.loads(out)
    # The bands by ground truth need every account's band: the same service, in this process (not timed).
    from ringscope.health.policy import load_health_policy
    from ringscope.health.service import platform_health

    if args.labels:
        from benchmarks.detection_simulated import read_labels

        labels = read_labels(args.labels)
        truth = dict(zip(labels["account_id"], fake_mask(labels)))
    else:
        truth = {r["id"]: bool(r["fake"]) for r in graph.read(TRUTH)}
    bands: dict[str, list[int]] = {}
    for a in platform_health(graph, load_health_policy()).accounts:
        bands.setdefault(a.band, [0, 0])[int(truth.get(a.account_id, False))] += 1
    lines = [f"\n## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {len(truth):,} accounts ({args.work})", "",
             f"Machine: {machine()}; load average {load_before} before, {load_average()} after.", "",
             f"Policy: {os.environ.get('RINGSCOPE_HEALTH_POLICY') or 'the shipped policy/health.yaml'}; originality "
             f"similarity {load_health_policy().indicators.originality.similarity:g}.", "",
             f"`ringscope health --distribution --format json`, the whole command: {seconds:.1f} s, peak "
             f"{peak_mib:,.0f} MiB (the command's process).", "", "```", json.dumps(result["distribution"],
                                                                                 ensure_ascii=False), "```"]
    if bands:
        lines += ["", "| band | honest | fake |", "|---|---:|---:|"]
        lines += [f"| {band} | {h:,} | {f:,} |" for band, (h, f) in sorted(bands.items())]
    append_results(RESULTS, "\n".join(lines))
    print("\n".join(lines))
    local.stop(settings.local)  # a benchmark's own server: left running, it sat beside the next long job


def _peak(proc: subprocess.Popen) -> float:
    """The finished child's peak resident memory in MiB (RUSAGE_CHILDREN is the largest child's on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


if __name__ == "__main__":
    main()
