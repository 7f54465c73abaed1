"""This process's memory: what it holds now and at most (for progress lines), and giving freed memory back."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

_STATUS = Path("/proc/self/status")


def process_memory_mib() -> tuple[float, float] | None:
    """``(resident, peak resident)`` of this process in MiB (Linux's VmRSS and VmHWM), None where /proc has
    no such file. The peak is the process's whole life's, so a step's own peak shows as the line where it
    grows."""
    try:
        status = _STATUS.read_text()
    except OSError:
        return None
    found = {k: int(v) / 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE)}
    if len(found) < 2:
        return None
    return found["VmRSS"], found["VmHWM"]


def release_memory() -> None:
    """Give memory freed by numpy and Arrow back to the system, between the steps that use the most.

    glibc's malloc keeps freed blocks of up to 32 MiB for reuse rather than returning them, and Arrow's
    pool keeps what it freed; over many steps of different sizes that grows into GiBs held for nothing.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
