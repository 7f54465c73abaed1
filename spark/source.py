"""The platform's dataset, in the input format as Parquet, as Spark DataFrames.

A kind is a folder of part files named by it (``comments/part-00000.parquet``,
the layout Spark writes and ``ringscope simulate --format parquet`` produces)
or one file ``<kind>.parquet``, under a local path or any file system Spark
reads (``hdfs://``, ``s3a://``). Rows a bulk load would reject for a missing
required id are left out here too; nothing else of the input rules is applied
(the lake is the platform's own export, not an upload).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from ringscope.common.errors import RingscopeError
from ringscope.detection.reader import TIME_COLUMNS
from ringscope.spark.kept_frames import KeptFrames
from ringscope.spark.session import DRIVER_EDGES

# The input format's required columns (shared/spec/input-format.md), for the kinds the Spark stages read.
REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",),
    "account_devices": ("account_id", "device_id"),
    "account_ips": ("account_id", "ip"),
    "notes": ("note_id", "account_id"),
    "comments": ("comment_id", "account_id", "note_id"),
    "likes": ("account_id", "note_id"),
    "follows": ("account_id", "target_account_id"),
}


class SourceError(RingscopeError):
    """The dataset cannot be read as the input format in Parquet."""


@dataclass
class PlatformSource:
    """The dataset at ``path`` read through ``spark``: ``frame(kind, columns)``. ``driver_edges``: the
    most edges a detector takes onto the driver in one piece (``SparkSettings.driver_edges``)."""

    spark: object
    path: str
    driver_edges: int = DRIVER_EDGES
    kept: KeptFrames | None = None  # where shared frames are kept for a resumed run (None: in memory only)
    # Frames several detectors derive alike (``shared``): key -> (the frame, checkpointed; its readers; its
    # small facts). Made by the first reader, released by ``release_shared`` once no reader is left to run.
    _shared: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def shared(self, key: tuple, readers: frozenset[str], make: Callable[[], tuple[object, dict]], code: str,
               keep: bool = True) -> tuple[object, dict]:
        """``make()``'s (frame, facts) for ``key``, made once per source: the frame must be checkpointed or
        persisted by ``make`` (a later ``spark.catalog.clearCache`` of another detector must not drop it;
        ``localCheckpoint`` survives it). ``readers``: the detectors that read it, for ``release_shared``.
        ``code``: the module whose code makes it; with ``kept`` and ``keep``, what an earlier run kept for the
        same key, files and code is read back instead of made, and what is made is kept
        (``spark.kept_frames``); ``keep`` False for a frame that costs less to make than to write."""
        if key not in self._shared:
            earlier = self.kept.load(self.spark, key, code) if self.kept and keep else None
            if earlier is None:
                frame, facts = make()
                if self.kept and keep:
                    self.kept.keep(self.spark, key, code, frame, facts)
            else:
                frame, facts = earlier
            self._shared[key] = (frame, readers, facts)
        frame, _, facts = self._shared[key]
        return frame, facts

    def release_shared(self, still_to_run: set[str]) -> None:
        """Unpersist the shared frames none of ``still_to_run`` reads (the engine calls it after each
        detector, so a checkpoint of gigabytes does not sit in the executors' memory beside the next ones)."""
        for key, (frame, readers, _) in list(self._shared.items()):
            if not readers & still_to_run:
                if frame is not None:
                    frame.unpersist()
                del self._shared[key]

    def location(self, kind: str) -> str | None:
        """Where ``kind`` is: its folder, or ``<kind>.parquet``; None when the dataset has neither."""
        base = self.path.rstrip("/")
        for candidate in (f"{base}/{kind}", f"{base}/{kind}.parquet"):
            if self._exists(candidate):
                return candidate
        return None

    def frame(self, kind: str, columns: list[str] | None = None):
        """``kind``'s rows with ``columns`` (missing optional columns as nulls; None: every column the files
        have, as they are), rows without a required id dropped; None when the dataset has no such kind
        (``accounts`` must be there). A required column missing is an error naming the file and the column."""
        from pyspark.sql import functions as F

        where = self.location(kind)
        if where is None:
            if kind == "accounts":
                raise SourceError(f"{self.path}: no accounts/ folder or accounts.parquet; the Spark engine reads "
                                  f"the input format as Parquet (ringscope simulate --format parquet writes it)")
            return None
        try:
            df = self.spark.read.parquet(where)
        except Exception as exc:
            raise SourceError(f"{where}: not readable as Parquet ({str(exc).splitlines()[0][:300]})") from exc
        present = set(df.columns)
        for column in REQUIRED.get(kind, ()):
            if column not in present:
                raise SourceError(f"{where}: required column {column!r} is missing (found: "
                                  f"{', '.join(sorted(present)) or 'none'})")
        if columns is None:  # as the files have them (a name need not be a valid column expression)
            columns = list(df.columns)
        else:
            df = df.select(*[F.col(c) if c in present else F.lit(None).cast("string").alias(c) for c in columns])
        for column in REQUIRED.get(kind, ()):
            if column in columns:
                df = df.where(F.col(column).isNotNull() & (F.length(F.col(column).cast("string")) > 0))
        return df

    def files(self, kind: str) -> list[tuple[str, int, int]]:
        """``(path, bytes, modified ms)`` of every file of ``kind`` (its folder, recursively, or its one file),
        sorted; empty when the dataset has no such kind. A listing, no data read: O(files)."""
        where = self.location(kind)
        if where is None:
            return []
        jvm = self.spark.sparkContext._jvm
        hadoop_path = jvm.org.apache.hadoop.fs.Path(where)
        try:
            fs = hadoop_path.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration())
            listing, found = fs.listFiles(hadoop_path, True), []
            while listing.hasNext():
                status = listing.next()
                found.append((str(status.getPath().toString()), int(status.getLen()),
                              int(status.getModificationTime())))
        except Exception as exc:
            raise SourceError(f"{where}: cannot list it ({str(exc).splitlines()[0][:300]})") from exc
        return sorted(found)

    def _exists(self, path: str) -> bool:
        jvm = self.spark.sparkContext._jvm
        hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
        try:
            fs = hadoop_path.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration())
            return bool(fs.exists(hadoop_path))
        except Exception as exc:
            raise SourceError(f"{path}: cannot look at it ({str(exc).splitlines()[0][:300]})") from exc


def to_pandas(frame, columns: list[str]) -> pd.DataFrame:
    """A (small) Spark frame on the driver, typed as the graph reader types the same values: timestamps
    (ISO 8601 text with any offset, or Spark timestamps) as UTC datetimes, unparsable ones missing.
    ``None`` (a kind the dataset does not have) gives an empty frame with ``columns``. O(rows)."""
    return typed(pd.DataFrame({c: [] for c in columns}) if frame is None else frame.toPandas(), columns)


def typed(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``df`` with its time ``columns`` as UTC datetimes, as ``to_pandas`` gives them (also what the
    executors' pandas functions apply to their batches). O(rows)."""
    for column in columns:
        if column in TIME_COLUMNS and column in df:
            df[column] = utc_times(df[column])
    return df


def utc_times(values: pd.Series) -> pd.Series:
    """Timestamps (ISO 8601 text with any offset, or datetimes; naive ones are UTC, the session's zone) as
    UTC nanosecond datetimes, unparsable ones missing. O(n)."""
    return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601").astype("datetime64[ns, UTC]")


def id_frame(spark, values, column: str):
    """A one-column Spark frame of the distinct ``values`` as strings (ids to join or broadcast against). O(n)."""
    return spark.createDataFrame(pd.DataFrame({column: sorted({str(v) for v in values})}), f"{column} string")
