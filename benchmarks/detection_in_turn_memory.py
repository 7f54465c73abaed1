"""Detection in one process (``RINGSCOPE_DETECT_WORKERS=1``): this process's resident and peak memory after
each detector, on the frames of a bulk load's snapshot. Run it once per code version to compare them (the
same snapshot), e.g. with ``PYTHONPATH`` naming a folder whose ``ringscope`` links to a worktree of the other
version:

    python -m benchmarks.detection_in_turn_memory RINGSCOPE_HOME/snapshot

Prints a line per detector and the peak; results are recorded by hand in ``results/detection_speed.md``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", type=Path, help="a bulk load's snapshot folder (RINGSCOPE_HOME/snapshot)")
    args = parser.parse_args()

    from ringscope.common.memory import process_memory_mib
    from ringscope.detection import pipeline
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.reader import read_snapshot
    from ringscope.graph.snapshot import MANIFEST, Snapshot

    print("code:", pipeline.__file__, flush=True)
    manifest = json.loads((args.snapshot / MANIFEST).read_text())
    frames = read_snapshot(Snapshot(args.snapshot, manifest["mark"], manifest.get("rows", {})))
    rss, hwm = process_memory_mib()
    print(f"frames {frames.nbytes() / 2**30:.2f} GiB; after reading: rss {rss:,.0f} MiB, peak {hwm:,.0f} MiB", flush=True)
    started = time.monotonic()

    def done(result) -> None:
        rss, hwm = process_memory_mib()
        print(f"[{time.monotonic() - started:6.0f} s] {result.name}: rss {rss:,.0f} MiB, peak {hwm:,.0f} MiB", flush=True)

    results = pipeline.run_all(frames, load_detection_policy(), on_done=done, workers=1)
    rss, hwm = process_memory_mib()
    print(f"findings: {sum(len(r.findings) for r in results)}; PEAK {hwm:,.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
