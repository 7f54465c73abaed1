"""Progress lines of the Spark stages: what each stage made, how long it took, and what the driver holds."""

from __future__ import annotations

import time
from typing import Callable

from ringscope.common.memory import process_memory_mib


class Stages:
    """``done(what, rows)`` logs ``  <detector> on Spark: <what>: <rows> in <s> s (driver <rss> GiB, peak <hwm>)``
    since the previous line. The driver's memory is this Python process's (the JVM's is Spark's own setting):
    the search and the null copies taken whole run here, and it is what runs out first on one machine."""

    def __init__(self, detector: str, log: Callable[[str], None]) -> None:
        self.detector, self.log, self.started = detector, log, time.monotonic()

    def done(self, what: str, rows: int) -> None:
        now = time.monotonic()
        memory = process_memory_mib()
        held = f" (driver {memory[0] / 1024:.1f} GiB, peak {memory[1] / 1024:.1f})" if memory else ""
        self.log(f"  {self.detector} on Spark: {what}: {rows:,} in {now - self.started:.1f} s{held}")
        self.started = now
