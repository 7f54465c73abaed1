"""Simulator scale: time, peak memory, rows and disk of ``ringscope simulate`` for large platforms.

    python -m benchmarks.simulate_scale --accounts 1000000 10000000 --format parquet csv.gz [--dir /tmp] [--keep]

Each run is ``ringscope simulate DIR --accounts N --seed 7 --format F`` in a process
of its own, so its peak memory (ru_maxrss from wait4) is the simulator's alone.
Also recorded: wall and CPU time (a low CPU share means other work on the shared
machine held the cores), the load average before and after, the rows per file,
the size on disk (the dataset is deleted afterwards unless ``--keep``). Results
are appended to ``benchmarks/results/simulate_scale.md`` with the machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import append_results, load_average, machine

RESULTS = Path(__file__).resolve().parent / "results" / "simulate_scale.md"
ROWS = re.compile(r"^(?P<name>[\w.]+)(?P<folder>/)?: (?P<rows>\d+) rows(?: in (?P<parts>\d+) part files)?$")


def disk_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def run_one(n: int, fmt: str, work: Path, keep: bool) -> list[str]:
    dataset = work / f"sim-{n}-{fmt.replace('.', '_')}"
    shutil.rmtree(dataset, ignore_errors=True)
    command = [str(Path(sys.executable).parent / "ringscope"), "simulate", str(dataset), "--accounts", str(n),
               "--seed", "7", "--format", fmt]
    load_before = load_average()
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    if status:
        raise SystemExit(f"{' '.join(command)} failed ({status}):\n{out}")
    cpu = usage.ru_utime + usage.ru_stime
    files = [m for m in (ROWS.match(line) for line in out.splitlines()) if m]
    total = sum(int(m["rows"]) for m in files)
    size = disk_mib(dataset)
    lines = [f"### {n:,} accounts, `--format {fmt}`: {total:,} rows in {wall / 60:,.1f} min, "
             f"peak memory **{usage.ru_maxrss / 2**20:,.2f} GiB**", "",
             f"Wall {wall:,.0f} s, CPU {cpu:,.0f} s ({cpu / wall:.0%} of one core; the machine has two); load average "
             f"{load_before} before, {load_average()} after; {size:,.0f} MiB on disk"
             + ("" if keep else " (deleted afterwards)") + ".", "",
             "| file | rows | part files |", "|---|---:|---:|"]
    lines += [f"| {m['name']}{m['folder'] or ''} | {int(m['rows']):,} | {m['parts'] or ''} |" for m in files]
    lines += ["", "```", *[line for line in out.splitlines() if line.startswith(("farms:", f"{n} accounts"))], "```", ""]
    if not keep:
        shutil.rmtree(dataset, ignore_errors=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--format", nargs="+", default=["parquet"], dest="formats")
    parser.add_argument("--dir", type=Path, default=Path("/tmp"), help="where the datasets are written")
    parser.add_argument("--keep", action="store_true", help="keep the datasets (default: delete each after its run)")
    args = parser.parse_args()
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"Machine: {machine()}", ""]
    for n in args.accounts:
        for fmt in args.formats:
            result = run_one(n, fmt, args.dir, args.keep)
            print("\n".join(result), flush=True)
            lines += result
    append_results(RESULTS, "\n".join(lines))


if __name__ == "__main__":
    main()
