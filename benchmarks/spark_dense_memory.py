"""The Spark ``dense_blocks``' driver memory, stage by stage: resident and peak memory of this process (the
driver) after each stage line, sampled, on one lake with the driver's share of view edges set so that the cores
are pruned on Spark and fetched (``--driver-edges``). Run it once per code version to compare them (the same
lake, the same share), e.g. with ``PYTHONPATH`` naming a worktree of the other version:

    python -m benchmarks.spark_dense_memory LAKE --driver-edges 1000000

Prints the stage lines with ``rss`` and ``hwm`` (MiB) and the peak; results are recorded by hand in
``results/spark_detection.md`` (two runs make one comparison)."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path


def _memory() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    return {k: int(v) / 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake", help="a platform in the input format as Parquet (ringscope simulate --format parquet)")
    parser.add_argument("--driver-edges", type=int, required=True, help="the driver's share of a view's edges")
    args = parser.parse_args()
    started = time.monotonic()

    def log(line: str) -> None:
        m = _memory()
        print(f"[{time.monotonic() - started:7.0f} s] {line.strip()}  | rss {m['VmRSS']:,.0f} MiB, "
              f"hwm {m['VmHWM']:,.0f} MiB", flush=True)

    import ringscope.spark.dense_blocks as spark_dense_blocks
    from ringscope.detection.dense_blocks import DenseBlockParams
    from ringscope.spark.session import SparkSettings, spark_session
    from ringscope.spark.source import PlatformSource

    print("code:", spark_dense_blocks.__file__, flush=True)
    spark = spark_session(SparkSettings.from_env())
    found = spark_dense_blocks.detect_dense_blocks(PlatformSource(spark, args.lake), DenseBlockParams(), log,
                                                   driver_edges=args.driver_edges)
    log(f"findings: {len(found)}; members: {sum(len(f.members) for f in found)}")
    print(f"PEAK driver VmHWM {_memory()['VmHWM']:,.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
