"""Frames several detectors derive alike, kept as Parquet, so a resumed run does not make them again.

``copied_notes`` and ``farmed_declared`` both read the notes' near-duplicate families, made once per run
(``PlatformSource.shared``): at 10 M accounts ~75 min of the run on two cores
(benchmarks/results/spark_detection.md), a few hundred MB as Parquet. Kept only in the run's memory, a run
stopped after ``copied_notes`` had kept its findings made them all again for ``farmed_declared`` when resumed.
``KeptFrames`` writes such a frame, with its small facts, under a key naming everything it is a function of
(the input's files, the key the detector gives, every file of the code that makes it: ``code_digest``), and
with ``reuse`` (``detect --resume``) reads it back instead of making it.

Where: ``<directory>/<location digest>/<name>.<key digest>/{frame,facts}``, written through Spark, so the
directory is one every executor and the driver see (a local folder under ``local[N]``; ``hdfs://`` or
``s3a://`` on a cluster). A frame counts as kept once its facts' ``_SUCCESS`` marker is written, after the
frame's own: a kill while writing leaves a folder that is overwritten, never read. Keeping one deletes the
other keys of the same name for that input, so the folder holds one run's worth.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class KeptFrames:
    """Frames kept in ``directory`` for the input at ``location`` whose files digest to ``files``
    (``spark.engine.source_digest``); read back only with ``reuse``. ``log`` says when one cannot be kept."""

    directory: str
    location: str
    files: str
    reuse: bool = False
    log: Callable[[str], None] = lambda line: None

    @property
    def folder(self) -> str:
        return f"{self.directory.rstrip('/')}/{hashlib.sha256(self.location.rstrip('/').encode()).hexdigest()[:16]}"

    def path(self, key: tuple, code: str) -> str:
        """Where the frame of ``key`` made by the module ``code`` is kept. O(size of that code)."""
        from ringscope.common.version import code_digest

        text = "\n".join([self.files, json.dumps([str(part) for part in key]), code_digest(code)])
        return f"{self.folder}/{key[0]}.{hashlib.sha256(text.encode()).hexdigest()[:24]}"

    def load(self, spark, key: tuple, code: str) -> tuple[object, dict] | None:
        """The frame and facts kept for ``key``, or None (nothing kept, ``reuse`` off, or not readable: it is
        then made again, never half read)."""
        if not self.reuse:
            return None
        base = self.path(key, code)
        try:
            if not _fs(spark, base).exists(_path(spark, f"{base}/facts/_SUCCESS")):
                return None
            facts = json.loads(spark.read.text(f"{base}/facts").first()[0])
            frame = spark.read.parquet(f"{base}/frame")
        except Exception as exc:  # a damaged folder costs the reuse, not the run
            self.log(f"  {key[0]}: the frame kept in {base} could not be read ({_first_line(exc)}); made again")
            return None
        self.log(f"  {key[0]}: read back from {base}, kept by an earlier run over the same files")
        return frame, facts

    def keep(self, spark, key: tuple, code: str, frame, facts: dict) -> None:
        """Write ``frame`` and ``facts`` (JSON values) for ``key``, then delete the other keys of its name for
        this input. A folder that cannot be written is said in the log, and the run goes on. O(frame)."""
        base = self.path(key, code)
        try:
            frame.write.mode("overwrite").parquet(f"{base}/frame")
            spark.createDataFrame([(json.dumps(facts),)], "facts string").coalesce(1) \
                .write.mode("overwrite").text(f"{base}/facts")
            fs = _fs(spark, base)
            for status in fs.globStatus(_path(spark, f"{self.folder}/{key[0]}.*")) or []:
                if str(status.getPath().getName()) != base.rsplit("/", 1)[1]:
                    fs.delete(status.getPath(), True)
        except Exception as exc:
            self.log(f"  {key[0]}: could not be kept in {self.folder} ({_first_line(exc)}); a run resumed later "
                     f"makes it again (RINGSCOPE_SPARK_FRAMES_DIR)")


def _path(spark, path: str):
    return spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)


def _fs(spark, path: str):
    return _path(spark, path).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]
