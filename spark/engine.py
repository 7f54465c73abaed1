"""The Spark engine ``ringscope detect --engine spark`` drives: which detectors run on Spark, and how.

``SPARK_DETECTORS`` maps a policy key to its Spark implementation
``(source, params, log) -> list[ClusterFinding]``, ``SPARK_AFTER_FLAGGING``
those that run last, over the accounts the others flagged; each gives the
findings its local twin gives on the same data (a parity test per detector). A policy that
enables a detector not ported yet is refused before the run is recorded, with
the list of what is ported, so that a run stored as ``spark`` never silently
leaves a detector out. The account risks are combined on the driver as a local
run combines them (``detection.pipeline.account_risks``), over the profile
columns of the accounts the findings name, read from the source.

Each first-round detector's findings are kept on disk as it finishes (``detection.kept_findings``, under
``RINGSCOPE_SPARK_FINDINGS_DIR``); with ``resume`` a detector whose findings were kept for the same
``detector_key`` (the source's files, its settings, its code) is not run again, so a run of hours
stopped part way resumes where it stopped. The detectors that run after flagging always run (they read what
the others flagged, and are minutes at 10 M accounts).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Callable

import pandas as pd

from ringscope.common.errors import KILLED_BY_THE_SYSTEM, RingscopeError, SettingError
from ringscope.common.memory import release_memory
from ringscope.common.version import code_digest
from ringscope.detection import ban_evasion as local_ban_evasion
from ringscope.detection import automated_accounts as local_automated_accounts
from ringscope.detection import comment_templates as local_comment_templates
from ringscope.detection import copied_notes as local_copied_notes
from ringscope.detection import dense_blocks as local_dense_blocks
from ringscope.detection import engagement as local_engagement
from ringscope.detection import farmed_declared as local_farmed_declared
from ringscope.detection import lockstep as local_lockstep
from ringscope.detection import offplatform_lures as local_offplatform_lures
from ringscope.detection import qa_acts as local_qa_acts
from ringscope.detection import registration_bursts as local_registration_bursts
from ringscope.detection import shared_infrastructure as local_shared_infrastructure
from ringscope.detection import trending_heat as local_trending_heat
from ringscope.detection import underwater as local_underwater
from ringscope.detection.config import DetectionPolicy
from ringscope.detection.findings import ClusterFinding, RatedFindings
from ringscope.detection.kept_findings import KeptFindings
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.pipeline import DETECTORS, DetectorResult, account_risks, validate_params
from ringscope.detection.scoring import FlaggedAccounts
from ringscope.detection.reader import ACCOUNTS
from ringscope.ingest.spec import SPECS
from ringscope.spark import (
    automated_accounts, ban_evasion, comment_lures, comment_templates, copied_notes, dense_blocks, engagement,
    farmed_declared, lockstep, registration_bursts, shared_infrastructure, trending_heat, underwater,
)
from ringscope.spark.kept_frames import KeptFrames
from ringscope.spark.session import SparkSettings, spark_session
from ringscope.spark.source import PlatformSource, id_frame, to_pandas

# (source, params, log) -> findings; ``log`` gets a progress line per stage
SparkDetector = Callable[[PlatformSource, object, Callable[[str], None]], list[ClusterFinding]]

# In the local engine's running order (``pipeline.DETECTORS``).
SPARK_DETECTORS: dict[str, SparkDetector] = {
    local_shared_infrastructure.DETECTOR: shared_infrastructure.detect_shared_infrastructure,
    local_registration_bursts.DETECTOR: registration_bursts.detect_registration_bursts,
    local_lockstep.DETECTOR: lockstep.detect_lockstep,
    local_comment_templates.DETECTOR: comment_templates.detect_comment_templates,
    local_offplatform_lures.DETECTOR: comment_lures.detect_offplatform_lures,
    local_qa_acts.DETECTOR: comment_lures.detect_qa_acts,
    local_underwater.DETECTOR: underwater.detect_underwater,
    local_ban_evasion.DETECTOR: ban_evasion.detect_ban_evasion,
    local_engagement.DETECTOR: engagement.detect_engagement,
    local_copied_notes.DETECTOR: copied_notes.detect_copied_notes,
    local_automated_accounts.DETECTOR: automated_accounts.detect_automated_accounts,
    local_farmed_declared.DETECTOR: farmed_declared.detect_farmed_declared,
    local_dense_blocks.DETECTOR: dense_blocks.detect_dense_blocks,
}
# Those that run last, over the accounts the others flagged: (source, flagged, params, log) -> findings
SPARK_AFTER_FLAGGING: dict[str, Callable[..., list[ClusterFinding]]] = {
    local_underwater.DETECTOR_INTERMEDIARY: underwater.detect_flagged_intermediaries,
    local_trending_heat.DETECTOR: trending_heat.detect_trending_heat,
}


def not_ported(policy: DetectionPolicy) -> list[str]:
    """The detectors ``policy`` enables that have no Spark implementation yet."""
    return [name for name in policy.enabled() if name not in SPARK_DETECTORS and name not in SPARK_AFTER_FLAGGING]


@dataclass
class SparkEngine:
    """Runs a policy's detectors on Spark over the dataset at ``source``. ``name`` is what the stored run
    records as where it read from."""

    source: str
    master: str | None = None
    resume: bool = False        # reuse the findings kept for the same input, settings and code
    settings: SparkSettings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = SparkSettings.from_env(self.master)

    @property
    def name(self) -> str:
        return f"spark:{self.source}"

    def check(self, policy: DetectionPolicy) -> None:
        """Refuse, before anything is written, a policy this engine cannot run whole."""
        validate_params(policy)
        missing = not_ported(policy)
        if missing:
            raise SettingError(
                f"the Spark engine cannot run {', '.join(missing)} yet (ported: "
                f"{', '.join([*SPARK_DETECTORS, *SPARK_AFTER_FLAGGING])}); "
                f"disable them in a copy of the detection policy (detectors.<name>.enabled: false, then "
                f"--policy FILE or RINGSCOPE_DETECTION_POLICY), or run --engine local")

    def run(self, policy: DetectionPolicy, on_done: Callable[[DetectorResult], None] | None = None,
            log: Callable[[str], None] = lambda line: None) -> tuple[list[DetectorResult], PlatformFrames]:
        """Each enabled detector on Spark, in ``DETECTORS`` order (with ``resume``, those kept for the same
        key read back instead); then the frames ``account_risks`` reads (the accounts the findings name, with
        their profile columns; every other frame empty)."""
        self.check(policy)
        params = validate_params(policy)
        results: list[DetectorResult] = []
        stage = "the start of Spark's session"  # what the run was doing, named if Spark's JVM ends under it
        try:
            source = PlatformSource(spark_session(self.settings), self.source, self.settings.driver_edges)
            kept = KeptFindings(Path(self.settings.findings_dir), self.source)
            files = source_digest(source)
            if self.settings.frames_dir:
                source.kept = KeptFrames(self.settings.frames_dir, self.source, files, self.resume, log)

            def done(result: DetectorResult) -> None:
                results.append(result)
                if on_done:
                    on_done(result)

            def ran(name: str, started: float, findings: list[ClusterFinding] | RatedFindings) -> None:
                done(DetectorResult.of(name, findings, time.monotonic() - started))

            first = [name for name in DETECTORS if name in params and name in SPARK_DETECTORS]
            for i, name in enumerate(first):
                key = detector_key(files, name, params[name], self.settings.driver_edges)
                earlier = kept.load(name, key) if self.resume else None
                if earlier is not None:
                    done(earlier)
                    continue
                started, stage = time.monotonic(), name
                ran(name, started, SPARK_DETECTORS[name](source, params[name], log))
                source.release_shared(set(first[i + 1:]))
                # what the detector's driver-side stage freed, back to the system before the next one (at 10 M
                # accounts the driver stayed at 5.3 GiB after lockstep's local clustering, beside Spark's JVM)
                release_memory()
                try:
                    kept.keep(key, results[-1])
                except OSError as exc:  # a full or read-only disk costs the resume, not the run
                    log(f"{name}: its findings could not be kept in {kept.folder} ({exc}); a run stopped later "
                        f"would run it again (RINGSCOPE_SPARK_FINDINGS_DIR)")
            stage = "the read of the accounts the findings name"
            frames = _frames_with_accounts(source, sorted({a for r in results for f in r.findings for a in f.members}))
            for name in DETECTORS:
                if name in params and name in SPARK_AFTER_FLAGGING:
                    started, stage = time.monotonic(), name
                    flagged = FlaggedAccounts.of(account_risks(results, policy, frames), policy.flag_threshold)
                    ran(name, started, SPARK_AFTER_FLAGGING[name](source, flagged, params[name], log))
        except Exception as exc:
            if jvm_gone(exc):
                # only the first round's findings are kept; those after flagging run again on --resume
                kept_names = [r.name for r in results if r.name in SPARK_DETECTORS]
                raise jvm_lost(stage, kept_names, self.settings.driver_memory) from exc
            raise
        # The last findings' members are flagged accounts, already in the frames.
        return results, frames


def source_digest(source: PlatformSource) -> str:
    """A digest of the path, size and modification time of every file of every kind of the input format at
    ``source``: a listing, no data read. O(files)."""
    text = [source.path.rstrip("/")]
    for kind in sorted(SPECS):
        text += [f"{kind}|{path}|{size}|{modified}" for path, size, modified in source.files(kind)]
    return hashlib.sha256("\n".join(text).encode()).hexdigest()


def settings_text(params: object) -> str:
    """A detector's settings as one text that is the same in every process: sets sorted, mappings by key (a
    set's own order follows the process's string hashing, so ``str`` of one differs from run to run). O(settings)."""
    def canonical(value):
        if isinstance(value, Mapping):
            return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))}
        if isinstance(value, (set, frozenset)):
            return sorted((canonical(v) for v in value), key=repr)
        if isinstance(value, (list, tuple)):
            return [canonical(v) for v in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        return repr(value)

    return json.dumps(canonical({f.name: getattr(params, f.name) for f in dataclasses.fields(params)}),
                      sort_keys=True)


def detector_key(files: str, name: str, params: object, driver_edges: int) -> str:
    """What a detector's findings on Spark are a function of, as one digest: the input's files
    (``source_digest``), the detector and its settings, the most edges taken to the driver in one piece (it
    decides where a search runs), and its code: every ringscope file its Spark module imports, directly or not,
    and the versions of the libraries that compute (``common.version.code_digest``), so that a release changing
    one detector's code runs that one again and keeps the others. O(settings + its code)."""
    settings = settings_text(params)
    code = code_digest(SPARK_DETECTORS[name].__module__)
    text = "\n".join([code, files, name, settings, str(driver_edges)])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _frames_with_accounts(source: PlatformSource, account_ids: list[str]) -> PlatformFrames:
    """Frames holding only the accounts named (their profile columns, what ``account_risks`` reads)."""
    columns = [c for c, _ in ACCOUNTS.columns if c != "stub"]
    if not account_ids:
        return PlatformFrames.only(accounts=pd.DataFrame({c: [] for c in [*columns, "stub"]}))
    wanted = id_frame(source.spark, account_ids, "account_id")
    accounts = to_pandas(source.frame("accounts", columns).join(wanted.hint("broadcast"), "account_id")
                         .dropDuplicates(["account_id"]).select(*columns), columns)
    return PlatformFrames.only(accounts=accounts.assign(stub=False)[[*columns, "stub"]])


def jvm_gone(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) says Spark's JVM is no longer there: py4j cannot reach it or
    lost it mid-answer. Any other error is the detector's, and stays as it is. O(chain)."""
    seen: BaseException | None = exc
    while seen is not None:
        # py4j's class by name: it comes with pyspark, and the package declares what it imports itself
        if isinstance(seen, ConnectionError) or any(k.__name__ == "Py4JNetworkError" for k in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def jvm_lost(running: str, finished: list[str], driver_memory: str) -> RingscopeError:
    """What to tell a user whose Spark JVM ended during ``running`` (a detector, or a stage of the run's own):
    on Linux almost always the kernel's out-of-memory killer (the local JVM is the largest process beside the
    database)."""
    kept = (f"the findings of {', '.join(finished)} are kept: the same command with --resume reads them back and "
            f"goes on from {running}" if finished else "nothing was finished")
    return RingscopeError(
        f"Spark's JVM ended while {running} ran ({KILLED_BY_THE_SYSTEM}); the run is marked failed, and {kept}. "
        f"Free memory beside it (other programs; Neo4j's page cache or heap) or give Spark's driver less (RINGSCOPE_SPARK_DRIVER_MEMORY, now {driver_memory})")
