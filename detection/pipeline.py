"""Run every enabled detector over the platform frames, timing each.

``DETECTORS`` maps each policy key to the detector's frozen params class and
an adapter that hands the detector its inputs from the frames:
``adapter(frames, params) -> list[ClusterFinding]``. Every finding's
``detector`` label is its policy key, so the policy's weights apply to it
directly. A detector marked ``after_flagging`` runs last, over the accounts
the others flagged: ``adapter(frames, flagged, params)``. The policy's
``params`` are checked against the params class (:mod:`detection.params`),
so a misspelt setting is named rather than ignored. Pure: no database here.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import pandas as pd

from ringscope.detection import (
    automated_accounts, ban_evasion, cluster_mates, comment_templates, copied_notes, dense_blocks, engagement, farmed_declared,
    lockstep, offplatform_lures, profile_signals, qa_acts,
    registration_bursts, shared_infrastructure, trending_heat, underwater,
)
from ringscope.detection.ban_evasion import BanEvasionParams, detect_ban_evasion
from ringscope.detection.cluster_mates import cluster_mates_evidence
from ringscope.detection.comment_text import release_prepared as release_comment_texts
from ringscope.detection.comment_templates import CommentTemplateParams, detect_comment_templates
from ringscope.detection.automated_accounts import AutomatedAccountParams, activity_events, detect_automated_accounts
from ringscope.detection.copied_notes import CopiedNoteParams, detect_copied_notes, release_families
from ringscope.detection.config import DetectionPolicy
from ringscope.detection.dense_blocks import DenseBlockParams, detect_dense_blocks
from ringscope.detection.engagement import EngagementParams, detect_engagement
from ringscope.detection.farmed_declared import FarmedDeclaredParams, detect_farmed_declared
from ringscope.detection.findings import ClusterFinding, RatedFindings
from ringscope.common.errors import KILLED_BY_THE_SYSTEM, RingscopeError, SettingError
from ringscope.common.memory import release_memory
from ringscope.detection.lockstep import LockstepParams, detect_lockstep
from ringscope.detection.offplatform_lures import OffplatformLureParams, detect_offplatform_lures
from ringscope.detection.params import params_from_policy
from ringscope.detection.qa_acts import QaActParams, detect_qa_acts
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.registration_bursts import (RegistrationBurstParams, detect_registration_bursts,
                                                     one_row_per_account)
from ringscope.detection.profile_signals import profile_evidence
from ringscope.detection.scoring import AccountRisk, FlaggedAccounts, combine, corroborate
from ringscope.detection.shared_infrastructure import SharedInfrastructureParams, detect_shared_infrastructure
from ringscope.detection.trending_heat import TrendingHeatParams, detect_trending_heat
from ringscope.detection.underwater import (
    FlaggedIntermediaryParams, UnderwaterParams, detect_flagged_intermediaries, detect_underwater,
)


def infrastructure_links(frames: PlatformFrames) -> pd.DataFrame:
    """(account_id, kind, identifier) for devices, registration and login IPs, phones."""
    parts = [
        pd.DataFrame({"account_id": frames.account_devices["account_id"], "kind": "device",
                      "identifier": frames.account_devices["device_id"]}),
        pd.DataFrame({"account_id": frames.accounts["account_id"], "kind": "registration_ip",
                      "identifier": frames.accounts["registration_ip"]}),
        pd.DataFrame({"account_id": frames.account_ips["account_id"], "kind": "login_ip",
                      "identifier": frames.account_ips["ip"]}),
        pd.DataFrame({"account_id": frames.accounts["account_id"], "kind": "phone",
                      "identifier": frames.accounts["phone_hash"]}),
    ]
    links = pd.concat(parts, ignore_index=True).dropna()
    return links.drop_duplicates().reset_index(drop=True)


def _active_accounts(frames: PlatformFrames, one_row_each: bool = True) -> pd.DataFrame:
    """The accounts defined by the input (no stubs). The frame has a row per combination of an account's
    registration IPs, phone segments and phones; ``one_row_each`` keeps its first (the other columns are
    the same on all), for detectors that do not read those three."""
    accounts = frames.accounts[~frames.accounts["stub"].fillna(False).astype(bool)]
    return one_row_per_account(accounts)[0] if one_row_each else accounts


class Detector(NamedTuple):
    """How the pipeline runs one detector."""

    params: type                                         # its frozen ...Params dataclass
    adapter: Callable[..., list[ClusterFinding]]         # (frames, params), or (frames, FlaggedAccounts, params)
    after_flagging: bool = False                         # runs last, over the accounts the others flagged
    # CPU seconds at 1M (benchmarks/results/detection_speed.md, 2026-12-03 21:50): the order in
    # which parallel processes take the detectors (longest first), never what they find
    cost: float = 1.0
    # detectors with the same non-empty ``shares`` run one after another in one process, so they reuse
    # what they prepare alike (comment_text.prepared: the distinct texts normalised once; copied_notes.note_families:
    # the notes' near-duplicate families found once)
    shares: str = ""
    # What it allocates beyond the frames, per byte the frames take (``PlatformFrames.nbytes``): the peak of a
    # forked child over its start at 1M accounts, column "x frames" of benchmarks/results/detection_speed.md
    # (2026-12-04). How many run at once, and whether one fits (``memory_plan``).
    memory: float = 1.0


# In running order; each key is its module's DETECTOR, the label of the findings it makes.
DETECTORS: dict[str, Detector] = {
    shared_infrastructure.DETECTOR: Detector(
        SharedInfrastructureParams, lambda f, p: detect_shared_infrastructure(infrastructure_links(f), p), cost=22,
        memory=1.20),
    registration_bursts.DETECTOR: Detector(
        RegistrationBurstParams, lambda f, p: detect_registration_bursts(_active_accounts(f, one_row_each=False),
                                                                 f.account_devices, p), cost=21, memory=0.82),
    lockstep.DETECTOR: Detector(
        LockstepParams, lambda f, p: detect_lockstep(f.comments, p), cost=26, memory=1.07),
    comment_templates.DETECTOR: Detector(
        CommentTemplateParams, lambda f, p: detect_comment_templates(f.comments, p), cost=32, shares="comment_text",
        memory=2.07),
    offplatform_lures.DETECTOR: Detector(
        OffplatformLureParams, lambda f, p: detect_offplatform_lures(f.comments, p), cost=8, shares="comment_text",
        memory=1.15),
    qa_acts.DETECTOR: Detector(
        QaActParams, lambda f, p: detect_qa_acts(f.comments, p), cost=10, shares="comment_text",
        memory=1.04),
    dense_blocks.DETECTOR: Detector(
        DenseBlockParams, lambda f, p: detect_dense_blocks(f.comments, p), cost=56, memory=1.27),
    underwater.DETECTOR: Detector(
        UnderwaterParams, lambda f, p: detect_underwater(f.notes, f.orders, f.intermediary_accounts, p), cost=11,
        memory=0.41),
    ban_evasion.DETECTOR: Detector(
        BanEvasionParams, lambda f, p: detect_ban_evasion(f.account_devices, _active_accounts(f), f.sanctions, p),
        cost=13, memory=0.39),
    engagement.DETECTOR: Detector(
        EngagementParams, lambda f, p: detect_engagement(f.likes, f.notes, f.follows, _active_accounts(f), p),
        cost=26, memory=1.65),
    # Measured at 1M (benchmarks/results/detection_speed.md, 2026-12-07): its cost and memory were guesses (0.3)
    # until then, a sixth of what it takes.
    copied_notes.DETECTOR: Detector(
        CopiedNoteParams, lambda f, p: detect_copied_notes(f.notes, f.intermediary_accounts, p), cost=63,
        memory=1.95, shares="note_text"),
    # One sort of every note and comment time by account (measured at 1M, 2026-12-07; guessed 0.5 before).
    automated_accounts.DETECTOR: Detector(
        AutomatedAccountParams, lambda f, p: detect_automated_accounts(activity_events(f.notes, f.comments), p),
        cost=18, memory=1.54),
    # One sort of the follows, the relation over the notes' authors, and copied_notes' near-duplicate families
    # (measured at 1M alone, families included: 101 CPU s, 2.01 x frames, 2026-12-07; its cost here is what it adds
    # after copied_notes in the same process, which found the families).
    farmed_declared.DETECTOR: Detector(
        FarmedDeclaredParams,
        lambda f, p: detect_farmed_declared(_active_accounts(f), f.notes, f.orders, f.intermediary_accounts, f.likes,
                                            f.comments, f.follows, p), cost=36, memory=2.01, shares="note_text"),
    underwater.DETECTOR_INTERMEDIARY: Detector(
        FlaggedIntermediaryParams,
        lambda f, flagged, p: detect_flagged_intermediaries(f.intermediary_accounts, flagged, p),
        after_flagging=True, memory=0.01),
    # After the others too: their flags enter each trending entry's integrity (never its own findings).
    trending_heat.DETECTOR: Detector(
        TrendingHeatParams,
        lambda f, flagged, p: detect_trending_heat(f.trending, f.notes, f.comments, f.likes,
                                                   _registered(f), flagged, p),
        after_flagging=True, memory=0.98),  # measured at 1M, 2026-12-07 (guessed 0.2 before)
}


def _registered(frames: PlatformFrames) -> pd.DataFrame:
    """``account_id, registered_at`` of the accounts the input defines."""
    return _active_accounts(frames)[["account_id", "registered_at"]]


@dataclass
class DetectorResult:
    name: str
    findings: list[ClusterFinding]
    seconds: float
    # What the detector rated besides accounts (``RatedFindings.ratings``), stored with the run.
    ratings: list[dict] = field(default_factory=list)
    # When these findings were kept by an earlier run and read back (``detect --engine spark --resume``): the
    # time that run finished them (``seconds`` is what they took then); None when this run made them.
    kept_from: str | None = None

    @classmethod
    def of(cls, name: str, output: list[ClusterFinding] | RatedFindings, seconds: float) -> "DetectorResult":
        """A result from what a detector returned: its findings, or its findings and ratings."""
        if isinstance(output, RatedFindings):
            return cls(name, list(output.findings), seconds, list(output.ratings))
        return cls(name, output, seconds)


def finding_weights(policy: DetectionPolicy) -> dict[str, float]:
    """The weight of each enabled detector, by the ``detector`` label of its findings (its policy key)."""
    return {name: detector.weight for name, detector in policy.enabled().items()}


def account_risks(results: list[DetectorResult], policy: DetectionPolicy,
                  frames: PlatformFrames) -> dict[str, AccountRisk]:
    """Every account's noisy-OR risk over all findings, with the policy's weights; then the flags of an
    infrastructure cluster's other members (``cluster_mates``) and the profile signals of
    ``frames.accounts`` raise the risk of the accounts already at risk but not yet flagged (never anyone
    else's), so a corroborating reason appears only where it is part of why an account is flagged."""
    findings = [f for r in results for f in r.findings]
    weights = finding_weights(policy)
    risks = combine(findings, weights)
    if not risks:
        return risks
    mates = policy.cluster_mates
    if mates.likelihood_ratio > 1:
        # a mate counts as flagged on the other detectors' evidence only, so a cluster cannot lift itself
        independent = combine([f for f in findings if f.detector not in mates.detectors], weights, reasons=False)
        evidence = cluster_mates_evidence(findings, independent, policy.flag_threshold, mates.detectors,
                                          mates.min_members, mates.min_share)
        risks = corroborate(risks, evidence, cluster_mates.NAME, mates.likelihood_ratio,
                            settled_at=policy.flag_threshold)
    ratio = policy.profile_signals.likelihood_ratio
    if ratio <= 1:
        return risks
    evidence = profile_evidence(frames.accounts, risks)
    return corroborate(risks, {a: (e.strength, e.reason.text) for a, e in evidence.items()},
                       profile_signals.NAME, ratio, frozenset(policy.profile_signals.not_with),
                       settled_at=policy.flag_threshold)


def flagged_ids(risks: dict[str, AccountRisk], policy: DetectionPolicy) -> set[str]:
    """The accounts whose risk reaches the policy's ``flag_threshold`` (what ``ringscope flagged`` prints)."""
    return set(FlaggedAccounts.of(risks, policy.flag_threshold))


def validate_params(policy: DetectionPolicy) -> dict[str, Any]:
    """Each enabled detector's params object; fails before any work when a parameter is unknown or bad."""
    return {name: params_from_policy(DETECTORS[name].params, name, detector.params)
            for name, detector in policy.enabled().items()}


# Below this many accounts a second process costs more than it saves (forking, sending findings back).
PARALLEL_FROM_ACCOUNTS = 100_000
WORKERS_SETTING = "RINGSCOPE_DETECT_WORKERS"


def detector_workers(frames: PlatformFrames) -> int:
    """How many processes run the detectors: ``RINGSCOPE_DETECT_WORKERS`` if set, else 2 on a machine with
    two cores or more for a platform of ``PARALLEL_FROM_ACCOUNTS`` accounts or more, else 1."""
    value = os.environ.get(WORKERS_SETTING, "").strip()
    if value:
        if not value.isdigit() or not 1 <= int(value) <= 64:
            raise SettingError(f"{WORKERS_SETTING}={value!r}: expected a whole number of processes from 1 to 64")
        return int(value)
    if len(frames.accounts) < PARALLEL_FROM_ACCOUNTS:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


MEMORY_CHECK_SETTING = "RINGSCOPE_DETECT_MEMORY_CHECK"
# Of the memory the system reports available, what the detectors may plan on (the rest: estimate error,
# the findings sent back, the store step).
MEMORY_HEADROOM = 0.85


def available_memory() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` in bytes (what can be allocated without swapping), or ``None``
    where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def task_memory(task: tuple[str, ...], frames_size: int) -> int:
    """Bytes a task (detectors run together in one process) allocates beyond the frames: the largest of its
    detectors' (what they prepare alike is counted in each). O(len(task))."""
    return int(max(DETECTORS[name].memory for name in task) * frames_size)


def workers_that_fit(task_bytes: list[int], available: int, workers: int) -> int:
    """The most processes, at most ``workers``, whose largest tasks together fit in ``available`` bytes:
    any ``w`` tasks may run at once, so ``w`` fit when the ``w`` largest do. 0 when the largest alone does
    not. O(n log n)."""
    largest = sorted(task_bytes, reverse=True)
    for w in range(min(workers, len(largest)), 0, -1):
        if sum(largest[:w]) <= available:
            return w
    return 0


def memory_plan(frames: PlatformFrames, names: list[str], workers: int) -> int:
    """How many processes run ``names`` within the memory available (fewer than ``workers`` when only fewer
    fit); raises ``RingscopeError`` naming the estimate when even one would not fit, instead of a run the
    system kills part way (with the database beside it). ``RINGSCOPE_DETECT_MEMORY_CHECK=off`` skips it."""
    setting = os.environ.get(MEMORY_CHECK_SETTING, "on").strip().lower()
    if setting not in ("on", "off"):
        raise SettingError(f"{MEMORY_CHECK_SETTING}={setting!r}: expected on or off")
    available = available_memory()
    if setting == "off" or available is None or not names:
        return workers
    size = frames.nbytes()
    tasks = parallel_tasks(names)
    need = {task: task_memory(task, size) for task in tasks}
    fit = workers_that_fit(list(need.values()), int(available * MEMORY_HEADROOM), workers)
    if fit == 0:
        task, largest = max(need.items(), key=lambda item: item[1])
        gib = 2 ** 30
        raise RingscopeError(
            f"not enough memory to detect on this platform: the frames take {size / gib:.1f} GiB and "
            f"{' + '.join(task)} needs about {largest / gib:.1f} GiB more, but {available / gib:.1f} GiB is "
            f"available ({MEMORY_HEADROOM:.0%} of it is planned on). Free memory (a smaller Neo4j page cache or "
            f"heap: RINGSCOPE_NEO4J_PAGECACHE, RINGSCOPE_NEO4J_HEAP), run on a larger machine, or set "
            f"{MEMORY_CHECK_SETTING}=off to try anyway")
    return fit


def release_prepared() -> None:
    """Drop what detectors sharing a preparation cached (the comments' texts, the notes' families)."""
    release_comment_texts()
    release_families()


def _first_round(params: dict[str, Any]) -> list[str]:
    """The enabled detectors that do not wait for the others' findings, in running order."""
    return [name for name, detector in DETECTORS.items() if name in params and not detector.after_flagging]


def planned_workers(frames: PlatformFrames, policy: DetectionPolicy, workers: int | None = None) -> int:
    """How many processes ``run_all`` will use on ``frames``: ``workers`` (default ``detector_workers``)
    as far as memory allows (``memory_plan``, which raises when not even one fits). Callers that write
    anything before detecting call it first, so that a run that cannot fit changes nothing."""
    workers = detector_workers(frames) if workers is None else workers
    return memory_plan(frames, _first_round(validate_params(policy)), workers)


def run_all(frames: PlatformFrames, policy: DetectionPolicy,
            on_done: Callable[[DetectorResult], None] | None = None,
            workers: int | None = None) -> list[DetectorResult]:
    """Every enabled detector in ``DETECTORS`` order; those ``after_flagging`` last, over what the others flagged.

    With ``workers`` > 1 (default: ``detector_workers``) the detectors that do not wait for the others run
    in that many forked processes at once; each reads the frames the parent holds (copy-on-write, nothing
    is sent to it) and sends its findings back. The results are the same, in the same order. Fewer
    processes run when only fewer fit in memory, and none when one would not (``memory_plan``).
    """
    params = validate_params(policy)
    first = _first_round(params)
    workers = planned_workers(frames, policy, workers)
    if workers > 1 and len(first) > 1 and "fork" in multiprocessing.get_all_start_methods():
        results = _run_forked(frames, params, first, workers, on_done)
    else:
        results = _run_in_turn(frames, params, first, on_done)
    for name, detector in DETECTORS.items():
        if name in params and detector.after_flagging:
            flagged = FlaggedAccounts.of(account_risks(results, policy, frames), policy.flag_threshold)
            results.append(_run_one(frames, params, name, flagged))
            if on_done:
                on_done(results[-1])
    return results


def _run_one(frames: PlatformFrames, params: dict[str, Any], name: str, *inputs: Any) -> DetectorResult:
    started = time.monotonic()
    output = DETECTORS[name].adapter(frames, *inputs, params[name])
    return DetectorResult.of(name, output, time.monotonic() - started)


def _run_in_turn(frames: PlatformFrames, params: dict[str, Any], names: list[str],
                 on_done: Callable[[DetectorResult], None] | None) -> list[DetectorResult]:
    """``names`` in this process, as one forked worker runs them: task by task (``parallel_tasks``), each
    task's shared preparation dropped when it ends. Run in ``DETECTORS`` order instead, the comments' texts
    prepared for the text task stayed through the five detectors after it, and the notes' families through
    ``automated_accounts`` (between the two that read them): more than ``memory_plan`` counts for one
    process, which is one task at a time. Returned in ``names`` order."""
    done = {r.name: r for task in parallel_tasks(names) for r in _run_task(frames, params, task, on_done)}
    return [done[name] for name in names]


def _run_task(frames: PlatformFrames, params: dict[str, Any], task: tuple[str, ...],
              on_done: Callable[[DetectorResult], None] | None = None) -> list[DetectorResult]:
    """One task's detectors in this process, then its shared preparation dropped (in a forked worker too)."""
    results = []
    try:
        for name in task:
            results.append(_run_one(frames, params, name))
            if on_done:
                on_done(results[-1])
        return results
    finally:
        release_prepared()
        release_memory()


# What forked detector processes read: set just before the pool forks them, so each child finds the frames
# in its copy of the parent's memory instead of receiving them pickled (gigabytes at a million accounts).
_FORKED: tuple[PlatformFrames, dict[str, Any]] | None = None


def _run_in_child(names: tuple[str, ...]) -> list[DetectorResult]:
    assert _FORKED is not None, "detector process started without the frames"
    frames, params = _FORKED
    return _run_task(frames, params, names)


def parallel_tasks(names: list[str]) -> list[tuple[str, ...]]:
    """``names`` as the tasks the processes take: detectors that share a preparation together (in
    ``DETECTORS`` order), the tasks longest first by their summed ``cost`` (Graham's LPT rule, 1969:
    the longest ones start first and the short ones fill the gaps at the end). O(n log n)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(DETECTORS[name].shares or f"\0{name}", []).append(name)
    tasks = [tuple(group) for group in groups.values()]
    return sorted(tasks, key=lambda task: -sum(DETECTORS[n].cost for n in task))


def _run_forked(frames: PlatformFrames, params: dict[str, Any], names: list[str], workers: int,
                on_done: Callable[[DetectorResult], None] | None) -> list[DetectorResult]:
    global _FORKED
    _FORKED = (frames, params)
    done: dict[str, DetectorResult] = {}
    tasks = parallel_tasks(names)
    try:
        # fork, not spawn: a spawned child would re-import the host's __main__ and need the frames pickled.
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_run_in_child, task) for task in tasks]
            for future in as_completed(futures):
                try:
                    found = future.result()
                except BrokenProcessPool as exc:
                    raise _worker_lost([n for n in names if n not in done], workers) from exc
                for result in found:
                    done[result.name] = result
                    if on_done:
                        on_done(result)
    finally:
        _FORKED = None
    return [done[name] for name in names]


def _worker_lost(unfinished: list[str], workers: int) -> RingscopeError:
    """What to tell a user whose detector process ended without a result (the memory plan only sees what was
    free when the run began; other programs may grow after it)."""
    return RingscopeError(
        f"a detector process ended before its result came back ({KILLED_BY_THE_SYSTEM}); not finished: "
        f"{', '.join(unfinished)}; the run is marked failed. Free memory (other programs; a smaller Neo4j page "
        f"cache or heap: RINGSCOPE_NEO4J_PAGECACHE, RINGSCOPE_NEO4J_HEAP) or run fewer detectors at once "
        f"({WORKERS_SETTING}={max(1, workers - 1)}), then run detect again")
