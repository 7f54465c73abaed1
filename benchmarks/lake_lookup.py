"""How long the app's lake lookup (``ringscope.ingest.lake``) takes on a simulated lake: is KIND:ID there, and
its row, read with pyarrow (no Spark, no database), for ids of every kind that are there and ids that are not.

    .venv/bin/python -m benchmarks.lake_lookup /tmp/ringscope-spark-bench/lake-1000000 \
        /tmp/ringscope-spark-bench/lake-10000000 --out benchmarks/results/lake_lookup.md

The lakes are only read. Ids that are there are taken from the middle and the end of each place's files
(read before timing); ids that are not are shaped like real ones, so row-group statistics do not rule
them out by their first character. Each lookup runs ``--repeat`` times in this process; the first run is
reported apart (the files' footers and pages may not be in the OS cache yet; the cache is not dropped).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.dataset as ds

from benchmarks.common import load_average, machine
from ringscope.ingest.lake import PLACES, lookup, lookup_any


def sample_ids(lake: str) -> list[tuple[str, str, str]]:
    """``(what, kind, id)`` to look up: per kind an id from the middle and from the last file of its first
    place, and absent ids."""
    cases = []
    for kind, places in PLACES.items():
        place = places[0]
        dataset = ds.dataset(f"{lake}/{place.kind}", format="parquet")
        fragments = list(dataset.get_fragments())
        middle = fragments[len(fragments) // 2].to_table(columns=[place.column]).column(0)
        last = fragments[-1].to_table(columns=[place.column]).column(0)
        cases.append((f"{kind}, present (middle)", kind, str(middle[len(middle) // 2])))
        cases.append((f"{kind}, present (last file)", kind, str(last[len(last) - 1])))
    cases += [("account, absent", "account", "a0999999x"), ("device, absent", "device", "d0999999x"),
              ("ip, absent (every row group read)", "ip", "192.0.2.1"),
              ("phone, absent", "phone", "0000000000000000"), ("note, absent", "note", "n999999x")]
    return cases


def timed(fn, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times[0], times[1:] or times


def run(lakes: list[str], repeat: int) -> str:
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"Machine: {machine()}", ""]
    for lake in lakes:
        load_before = load_average()
        cases = sample_ids(lake)
        lines += [f"### `{lake}`", "", f"load average {load_before} before", "",
                  "| lookup | found in | first (ms) | median (ms) | max (ms) |", "|---|---|---:|---:|---:|"]
        for what, kind, entity_id in cases:
            result = {}
            first, rest = timed(lambda: result.setdefault("r", lookup(lake, kind, entity_id)), repeat)
            found = result["r"].found_in if result["r"] is not None else "-"
            lines.append(f"| {what} | {found} | {first * 1000:.0f} | {statistics.median(rest) * 1000:.0f} "
                         f"| {max(rest) * 1000:.0f} |")
        account = next(i for w, k, i in cases if k == "account")
        for what, entity_id in (("search page, an account id (every kind tried)", account),
                                ("search page, an IP-shaped id that is nowhere (every kind tried)", "10.1.2.3")):
            first, rest = timed(lambda: lookup_any(lake, entity_id), repeat)
            lines.append(f"| {what} | | {first * 1000:.0f} | {statistics.median(rest) * 1000:.0f} "
                         f"| {max(rest) * 1000:.0f} |")
        lines += ["", f"load average {load_average()} after", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lakes", nargs="+", help="simulated Parquet lakes (ringscope simulate --format parquet)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", help="append the results to this markdown file")
    args = parser.parse_args()
    text = run([str(Path(lake)) for lake in args.lakes], args.repeat)
    print(text)
    if args.out:
        with open(args.out, "a") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
