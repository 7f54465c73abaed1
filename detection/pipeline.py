"""Run every enabled detector over the platform frames, timing each.

Each entry of ``DETECTORS`` adapts one detector to the common shape
``(frames, params) -> list[ClusterFinding]``; ``params`` comes from the policy
file and is checked against the detector's own parameters, so a misspelt
setting is named rather than ignored. Pure: no database here.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from ringscope.detection.ban_evasion import detect_ban_evasion
from ringscope.detection.config import DetectionPolicy
from ringscope.detection.dense_blocks import DenseBlockParams, detect_dense_blocks
from ringscope.detection.engagement import EngagementParams, detect_engagement
from ringscope.detection.findings import ClusterFinding
from ringscope.detection.lockstep import LockstepParams, detect_lockstep
from ringscope.detection.reader import PlatformFrames
from ringscope.detection.registration_bursts import detect_registration_bursts
from ringscope.detection.scoring import AccountRisk, combine
from ringscope.detection.shared_infrastructure import detect_shared_infrastructure
from ringscope.detection.templates import TemplateParams, detect_templates
from ringscope.detection.underwater import UnderwaterParams, detect_flagged_intermediaries, detect_underwater
from ringscope.common.errors import SettingError


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


def _params_object(cls, name: str, params: dict[str, Any]):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise SettingError(f"detection policy: detectors.{name}.params.{unknown[0]}: unknown parameter "
                           f"(known: {', '.join(sorted(known))})")
    values = {}
    for key, value in params.items():
        default = getattr(cls(), key)
        try:
            values[key] = pd.Timedelta(value) if isinstance(default, pd.Timedelta) else type(default)(value)
        except (TypeError, ValueError):
            raise SettingError(f"detection policy: detectors.{name}.params.{key}: {value!r} is not a valid "
                               f"{'duration (e.g. 15min)' if isinstance(default, pd.Timedelta) else type(default).__name__}"
                               ) from None
    return cls(**values)


def _kwargs(func: Callable, name: str, params: dict[str, Any]) -> dict[str, Any]:
    accepted = {p.name for p in inspect.signature(func).parameters.values() if p.kind == p.KEYWORD_ONLY}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise SettingError(f"detection policy: detectors.{name}.params.{unknown[0]}: unknown parameter "
                           f"(known: {', '.join(sorted(accepted))})")
    return dict(params)


def _active_accounts(frames: PlatformFrames) -> pd.DataFrame:
    return frames.accounts[~frames.accounts["stub"].fillna(False).astype(bool)]


DETECTORS: dict[str, Callable[[PlatformFrames, dict[str, Any]], list[ClusterFinding]]] = {
    "shared_infrastructure": lambda f, p: detect_shared_infrastructure(
        infrastructure_links(f), **_kwargs(detect_shared_infrastructure, "shared_infrastructure", p)),
    "registration_bursts": lambda f, p: detect_registration_bursts(
        _active_accounts(f), f.account_devices, **_kwargs(detect_registration_bursts, "registration_bursts", p)),
    "lockstep": lambda f, p: detect_lockstep(f.comments, _params_object(LockstepParams, "lockstep", p)),
    "templates": lambda f, p: detect_templates(f.comments, _params_object(TemplateParams, "templates", p)),
    "dense_blocks": lambda f, p: detect_dense_blocks(
        f.comments, _params_object(DenseBlockParams, "dense_blocks", p)),
    "underwater": lambda f, p: detect_underwater(
        f.notes, f.orders, f.intermediary_accounts, _params_object(UnderwaterParams, "underwater", p)),
    "ban_evasion": lambda f, p: detect_ban_evasion(
        f.account_devices, _active_accounts(f), f.sanctions, **_kwargs(detect_ban_evasion, "ban_evasion", p)),
    "engagement": lambda f, p: detect_engagement(
        f.likes, f.notes, f.follows, _active_accounts(f), _params_object(EngagementParams, "engagement", p)),
}


@dataclass
class DetectorResult:
    name: str
    findings: list[ClusterFinding]
    seconds: float


def finding_weights(results: list[DetectorResult], policy: DetectionPolicy) -> dict[str, float]:
    """Weight per ``ClusterFinding.detector`` value, from the policy entry of the detector that made it.

    One detector may label its findings more finely than its policy key (``templates``
    yields ``comment_template``, ``offplatform_lure`` and ``qa_act``); all of them
    carry the weight of the detector that produced them.
    """
    enabled = policy.enabled()
    weights: dict[str, float] = {}
    for result in results:
        weight = enabled[result.name].weight if result.name in enabled else 0.0
        for finding in result.findings:
            weights[finding.detector] = weight
    return weights


def account_risks(results: list[DetectorResult], policy: DetectionPolicy) -> dict[str, AccountRisk]:
    """Every account's noisy-OR risk over all findings, with the policy's weights."""
    return combine([f for r in results for f in r.findings], finding_weights(results, policy))


def flagged_ids(risks: dict[str, AccountRisk], policy: DetectionPolicy) -> set[str]:
    """The accounts whose risk reaches the policy's ``flag_threshold`` (what ``ringscope flagged`` prints)."""
    return {a for a, r in risks.items() if r.score >= policy.flag_threshold}


def validate_params(policy: DetectionPolicy) -> None:
    """Fail before any work when a detector parameter is unknown."""
    objects = {"lockstep": LockstepParams, "templates": TemplateParams, "underwater": UnderwaterParams,
               "engagement": EngagementParams, "dense_blocks": DenseBlockParams}
    funcs = {"shared_infrastructure": detect_shared_infrastructure,
             "registration_bursts": detect_registration_bursts, "ban_evasion": detect_ban_evasion,
             "flagged_intermediaries": detect_flagged_intermediaries}
    for name, detector in policy.enabled().items():
        if name in objects:
            _params_object(objects[name], name, detector.params)
        elif name == "flagged_intermediaries":
            accepted = set(inspect.signature(detect_flagged_intermediaries).parameters) - {
                "intermediary_accounts", "flagged_accounts"}
            unknown = sorted(set(detector.params) - accepted)
            if unknown:
                raise SettingError(f"detection policy: detectors.{name}.params.{unknown[0]}: unknown parameter")
        else:
            _kwargs(funcs[name], name, detector.params)


def run_all(frames: PlatformFrames, policy: DetectionPolicy,
            on_done: Callable[[DetectorResult], None] | None = None) -> list[DetectorResult]:
    """Every enabled detector; ``flagged_intermediaries`` last, over what the others flagged."""
    validate_params(policy)
    enabled = policy.enabled()
    results = []
    for name, adapter in DETECTORS.items():
        if name not in enabled:
            continue
        started = time.monotonic()
        findings = adapter(frames, enabled[name].params)
        results.append(DetectorResult(name, findings, time.monotonic() - started))
        if on_done:
            on_done(results[-1])
    if "flagged_intermediaries" in enabled:
        started = time.monotonic()
        flagged = sorted(flagged_ids(account_risks(results, policy), policy))
        findings = detect_flagged_intermediaries(frames.intermediary_accounts, flagged,
                                                 **enabled["flagged_intermediaries"].params)
        results.append(DetectorResult("flagged_intermediaries", findings, time.monotonic() - started))
        if on_done:
            on_done(results[-1])
    return results
