"""One SparkSession per process, configured from the environment.

``RINGSCOPE_SPARK_MASTER`` (default ``local[2]``; ``--master`` overrides it;
under ``spark-submit`` the submitted master is kept unless one is given),
``RINGSCOPE_SPARK_DRIVER_MEMORY`` (default ``4g``; in local mode the driver
is the executor), ``RINGSCOPE_SPARK_SHUFFLE_PARTITIONS`` (default 16) and
``RINGSCOPE_SPARK_LOCAL_DIR`` (scratch for shuffles and spills, default
``<RINGSCOPE_HOME>/spark``) and ``RINGSCOPE_SPARK_DRIVER_EDGES`` (the most edges a detector
takes onto the driver in one piece, default 10,000,000; larger edge sets are worked on by the
executors until they are that small) and ``RINGSCOPE_SPARK_FINDINGS_DIR`` (where each detector's findings are
kept as it finishes, for ``detect --resume``; default ``<RINGSCOPE_HOME>/spark-findings``; a path the driver
writes, so under a cluster manager's cluster mode one every driver attempt sees) and
``RINGSCOPE_SPARK_FRAMES_DIR`` (where frames several detectors share, the notes' near-duplicate families, are
kept as Parquet for ``--resume``; a path the executors write, so on a cluster an ``hdfs://`` or ``s3a://``
one; default ``<findings dir>/frames`` under a ``local`` master, none otherwise: not kept). Python workers run this interpreter, so they
import the same ringscope and pandas as the driver.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from dataclasses import dataclass

from ringscope.common.errors import RingscopeError, SettingError
from ringscope.common.paths import ringscope_home

_LOCK = threading.Lock()
# pyspark 4.3 warns on every pandas conversion that pandas 3 is not fully supported; what the engine
# converts is covered by the parity tests (tests/spark), so the warning would only bury the progress lines.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module="pyspark")
_MEMORY = re.compile(r"^\d+[kmgt]?$", re.IGNORECASE)
# A view of this many edges (~3 M comments per million accounts) is searched whole on the driver, null
# copies included: on one machine many times faster than the Spark passes a larger one takes (a copy's
# batch peel ends in a near-fixed point that each pass trims by a few nodes). Its cost on the driver is
# measured in benchmarks/results/spark_detection.md; lower it with the driver's memory.
DRIVER_EDGES = 10_000_000


@dataclass(frozen=True)
class SparkSettings:
    master: str | None       # None: keep what spark-submit set
    driver_memory: str
    shuffle_partitions: int
    local_dir: str
    driver_edges: int = DRIVER_EDGES
    findings_dir: str = ""
    frames_dir: str = ""     # "": shared frames are not kept

    @classmethod
    def from_env(cls, master: str | None = None, env: dict[str, str] | None = None) -> "SparkSettings":
        env = os.environ if env is None else env
        submitted = "PYSPARK_GATEWAY_PORT" in env  # launched by spark-submit: its master and memory stand
        master = master or env.get("RINGSCOPE_SPARK_MASTER") or (None if submitted else "local[2]")
        memory = env.get("RINGSCOPE_SPARK_DRIVER_MEMORY", "4g").strip()
        if not _MEMORY.match(memory):
            raise SettingError(f"RINGSCOPE_SPARK_DRIVER_MEMORY={memory!r}: expected a size such as 4g or 512m")
        partitions = _whole_number(env, "RINGSCOPE_SPARK_SHUFFLE_PARTITIONS", 16, "a whole number >= 1")
        local_dir = env.get("RINGSCOPE_SPARK_LOCAL_DIR") or str(ringscope_home(env) / "spark")
        edges = _whole_number(env, "RINGSCOPE_SPARK_DRIVER_EDGES", DRIVER_EDGES, "a whole number of edges >= 1")
        findings = env.get("RINGSCOPE_SPARK_FINDINGS_DIR") or str(ringscope_home(env) / "spark-findings")
        # the executors write the frames: a driver's folder is theirs only when they run in its process
        local = (master or "").startswith("local")
        frames = env.get("RINGSCOPE_SPARK_FRAMES_DIR") or (f"{findings.rstrip('/')}/frames" if local else "")
        return cls(master, memory, partitions, local_dir, edges, findings, frames)


def _whole_number(env, name: str, default: int, expected: str) -> int:
    """The setting ``name`` as a whole number >= 1 (``_`` may group its digits), ``default`` when unset."""
    raw = env.get(name, str(default)).strip()
    digits = raw.replace("_", "")
    if not digits.isdigit() or int(digits) < 1:
        raise SettingError(f"{name}={raw!r}: expected {expected}")
    return int(digits)


def spark_session(settings: SparkSettings):
    """The process's SparkSession (made on first use; later calls get the same one). A Spark that cannot
    start (no Java 17, a bad master URL, no pyspark) is one clear ``RingscopeError``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise RingscopeError(f"the Spark engine needs pyspark ({exc}): install ringscope with its spark extra, "
                             f"pip install 'ringscope[spark]' (make setup does)") from exc

    with _LOCK:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.makedirs(settings.local_dir, exist_ok=True)
        builder = (SparkSession.builder.appName("ringscope-detect")
                   .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
                   .config("spark.local.dir", settings.local_dir)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")  # the engine logs its stages itself
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   # findings travel back pickled; a batch of large clusters can exceed the default 1g
                   .config("spark.driver.maxResultSize", "2g")
                   .config("spark.sql.session.timeZone", "UTC"))
        if settings.master:
            builder = builder.master(settings.master).config("spark.driver.memory", settings.driver_memory)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # py4j / Java start-up errors carry no useful type
            raise RingscopeError(
                f"Spark did not start (master {settings.master or 'from spark-submit'}): {exc}. Spark needs "
                f"Java 17 or newer on PATH or in JAVA_HOME; check RINGSCOPE_SPARK_MASTER / --master") from exc
        session.sparkContext.setLogLevel("ERROR")
        return session


def stop_session() -> None:
    """Stop the process's SparkSession, if one runs (tests, and the CLI when a run ends)."""
    from pyspark.sql import SparkSession

    with _LOCK:
        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()


def release_shuffles(spark) -> None:
    """Let Spark delete the shuffle files of frames nothing references any more, now: its ContextCleaner
    deletes them when the driver JVM collects their dependencies, which otherwise waits for a periodic GC
    (``spark.cleaner.periodicGC.interval``, 30 min), long enough for a loop of passes to fill the disk. O(heap)."""
    spark.sparkContext._jvm.System.gc()
