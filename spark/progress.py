"""Progress lines of the Spark stages: what each stage made and how long it took."""

from __future__ import annotations

import time
from typing import Callable


class Stages:
    """``done(what, rows)`` logs ``  <detector> on Spark: <what>: <rows> in <s> s`` since the previous line."""

    def __init__(self, detector: str, log: Callable[[str], None]) -> None:
        self.detector, self.log, self.started = detector, log, time.monotonic()

    def done(self, what: str, rows: int) -> None:
        now = time.monotonic()
        self.log(f"  {self.detector} on Spark: {what}: {rows:,} in {now - self.started:.1f} s")
        self.started = now
