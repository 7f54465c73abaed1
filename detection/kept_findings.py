"""Each detector's findings kept on disk as it finishes, so a long run stopped part way resumes where it stopped.

A whole-platform run on Spark takes hours (benchmarks/results/spark_detection.md: ~3.5 h for 10 M accounts on
two cores); a driver killed, a machine preempted or a scheduler's time limit in its last hour would otherwise
throw away every detector that had finished. ``ringscope detect --engine spark --resume`` reads back the
findings a detector made over the same input: the ``key`` names everything they are a function of (the data's
files, the detector's settings, the code it runs; ``spark.engine.detector_key``), so a changed file, setting or
line of that code runs the detector again.

One file per detector and input location (``<dir>/<location digest>/<detector>.<key>.json.gz``, the findings
and ratings as JSON, written to a temporary name and renamed so that a kill while writing leaves no half file);
keeping a detector's findings for a new key deletes its older ones there, so the folder holds at most one run's
worth per input. Pure file I/O: no database, no Spark.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ringscope.detection.findings import finding_from_dict, finding_to_dict
from ringscope.detection.pipeline import DetectorResult

FORMAT = 1


@dataclass(frozen=True)
class KeptFindings:
    """The kept findings of the runs over the input at ``location``, in ``directory``."""

    directory: Path
    location: str

    @property
    def folder(self) -> Path:
        return self.directory / hashlib.sha256(self.location.rstrip("/").encode()).hexdigest()[:16]

    def _path(self, detector: str, key: str) -> Path:
        return self.folder / f"{detector}.{key}.json.gz"

    def load(self, detector: str, key: str) -> DetectorResult | None:
        """What ``detector`` kept for ``key``, its ``kept_from`` the time it was made; None when nothing was
        (or the file is not one this code wrote: it is then run again, never half read). O(size of the findings)."""
        path = self._path(detector, key)
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                data = json.load(handle)
            if data.get("format") != FORMAT or data.get("detector") != detector or data.get("key") != key:
                return None
            return DetectorResult(detector, [finding_from_dict(f) for f in data["findings"]], float(data["seconds"]),
                                  list(data["ratings"]), kept_from=str(data["finished_at"]))
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            return None

    def keep(self, key: str, result: DetectorResult) -> Path:
        """Write what a detector returned (``result``) for ``key``, then delete what it kept for other keys of
        this input. O(size of the findings)."""
        detector = result.name
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(detector, key)
        data = {"format": FORMAT, "detector": detector, "key": key, "location": self.location,
                "seconds": float(result.seconds),
                "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "findings": [finding_to_dict(f) for f in result.findings], "ratings": result.ratings}
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        with gzip.open(partial, "wt", encoding="utf-8", compresslevel=3) as handle:
            json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(partial, path)
        for older in self.folder.glob(f"{detector}.*.json.gz"):
            if older != path:
                older.unlink(missing_ok=True)
        return path
