"""The detection policy file: validated, with errors that name the setting at fault.

Policy files written for version 1 keep working: two detector keys were
renamed in version 2 so that every key is the ``detector`` label of the
findings it makes (the label ``ringscope flagged`` prints), and an entry under
an old key is read as the entries that replace it (:data:`RENAMED_DETECTORS`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ringscope import policy as policy_files
from ringscope.common.errors import SettingError
from ringscope.common.policyfile import first_error, read_yaml
from ringscope.detection.comment_templates import CommentTemplateParams
from ringscope.detection.offplatform_lures import OffplatformLureParams
from ringscope.detection.qa_acts import QaActParams
from ringscope.detection.underwater import FlaggedIntermediaryParams
from ringscope.reports.policy import ReportsPolicy
from ringscope.watch.policy import WatchPolicy

DEFAULT_POLICY = policy_files.DETECTION

DETECTOR_NAMES = (
    "shared_infrastructure", "registration_bursts", "lockstep", "comment_template", "offplatform_lure",
    "qa_act", "underwater", "ban_evasion", "engagement", "intermediary_flagged_accounts", "dense_blocks",
    "copied_notes", "automated_accounts", "farmed_declared", "trending_heat",
)

#: Keys of version 1 -> the keys that replace them, each with the params class
#: that takes its share of the old entry's ``params``. ``templates`` ran three
#: detectors; ``flagged_intermediaries`` made findings labelled
#: ``intermediary_flagged_accounts``.
RENAMED_DETECTORS: dict[str, dict[str, type]] = {
    "templates": {"comment_template": CommentTemplateParams, "offplatform_lure": OffplatformLureParams,
                  "qa_act": QaActParams},
    "flagged_intermediaries": {"intermediary_flagged_accounts": FlaggedIntermediaryParams},
}


class DetectorPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    weight: float = Field(ge=0.0, le=1.0)
    params: dict[str, Any] = Field(default_factory=dict)


class ProfileSignalsPolicy(BaseModel):
    """Profile signals (``detection/profile_signals.py``): evidence that only raises the risk of accounts
    already in a cluster."""
    model_config = ConfigDict(extra="forbid")
    # The odds factor of a fully bare profile (strength 1; strength s gives likelihood_ratio ** s): 1 turns
    # the signals off.
    likelihood_ratio: float = Field(default=3.0, ge=1.0, le=100.0)
    # Detectors whose evidence the profile does not corroborate: registration_bursts finds new accounts, and a
    # new account's bare profile is expected whether it is fake or not; engagement finds audiences, and people
    # who only like and follow keep the default profile, bought or not.
    not_with: tuple[str, ...] = ("registration_bursts", "engagement")


class ClusterMatesPolicy(BaseModel):
    """Cluster mates (``detection/cluster_mates.py``): an infrastructure cluster whose other members are
    flagged on independent evidence raises the risk of the rest; never flags alone."""
    model_config = ConfigDict(extra="forbid")
    # The odds factor when every other member is flagged (share s gives likelihood_ratio ** s); 1 = off.
    likelihood_ratio: float = Field(default=3.0, ge=1.0, le=100.0)
    # Clusters of these detectors lend their mates' flags.
    detectors: tuple[str, ...] = ("shared_infrastructure",)
    # Smaller clusters (a household sharing a tablet) lend nothing.
    min_members: int = Field(default=5, ge=3)
    # The least share of the other members flagged for any evidence.
    min_share: float = Field(default=0.5, gt=0.0, le=1.0)


class DetectionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    flag_threshold: float = Field(gt=0.0, le=1.0)
    detectors: dict[str, DetectorPolicy]
    profile_signals: ProfileSignalsPolicy = Field(default_factory=ProfileSignalsPolicy)
    cluster_mates: ClusterMatesPolicy = Field(default_factory=ClusterMatesPolicy)
    # The observation room (watch/): version 3 added it; a file without it gets the defaults.
    watch: WatchPolicy = Field(default_factory=WatchPolicy)
    # Coordinated mass-reporting (reports/): a file without it gets the defaults.
    reports: ReportsPolicy = Field(default_factory=ReportsPolicy)

    def enabled(self) -> dict[str, DetectorPolicy]:
        return {name: d for name, d in self.detectors.items() if d.enabled}


def _split_entry(old: str, entry: Any, where: str) -> dict[str, Any]:
    """The entries that replace the version-1 entry ``old``: the same weight and
    switch each, and each of its ``params`` given to every replacement that has it."""
    if not isinstance(entry, dict) or not isinstance(entry.get("params", {}), dict):
        return {new: entry for new in RENAMED_DETECTORS[old]}      # let validation name what is wrong
    params = entry.get("params") or {}
    fields = {new: {f.name for f in dataclasses.fields(cls)} for new, cls in RENAMED_DETECTORS[old].items()}
    known = sorted(set().union(*fields.values()))
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise SettingError(f"{where}: detectors.{old}.params.{unknown[0]}: unknown parameter "
                           f"(known: {', '.join(known)})")
    return {new: {**entry, "params": {k: v for k, v in params.items() if k in names}}
            for new, names in fields.items()}


def upgrade_detectors(raw: Any, where: str) -> Any:
    """A policy's raw data with version-1 detector keys replaced (in place of the old entry). O(detectors).

    Giving an old key together with one of its replacements is an error: it
    would not be clear which one counts.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("detectors"), dict):
        return raw
    detectors: dict[str, Any] = {}
    for name, entry in raw["detectors"].items():
        if name not in RENAMED_DETECTORS:
            detectors[name] = entry
            continue
        clash = sorted(set(RENAMED_DETECTORS[name]) & set(raw["detectors"]))
        if clash:
            raise SettingError(f"{where}: detectors.{name}: replaced by {', '.join(RENAMED_DETECTORS[name])} "
                               f"in version 2; give either it or {', '.join(clash)}")
        detectors.update(_split_entry(name, entry, where))
    return {**raw, "detectors": detectors}


def load_detection_policy(path: Path | None = None) -> DetectionPolicy:
    """The detection policy from ``path``, else ``RINGSCOPE_DETECTION_POLICY``, else the packaged default."""
    path = Path(path or os.environ.get("RINGSCOPE_DETECTION_POLICY") or DEFAULT_POLICY)
    where = f"detection policy {path}"
    raw = upgrade_detectors(read_yaml(path, "detection policy"), where)
    try:
        policy = DetectionPolicy.model_validate(raw)
    except ValidationError as exc:
        where_key, message = first_error(exc)
        raise SettingError(f"{where}: {where_key}: {message}") from None
    # A file without a watch section (older versions) keeps the defaults; with a flag_threshold at or below
    # the default watch threshold its watch band is empty and no run places anyone.
    if isinstance(raw, dict) and "watch" in raw and policy.watch.threshold >= policy.flag_threshold:
        raise SettingError(f"{where}: watch.threshold: {policy.watch.threshold} must be below flag_threshold "
                           f"({policy.flag_threshold})")
    if policy.watch.days > policy.watch.max_days:
        raise SettingError(f"{where}: watch.days: {policy.watch.days} must not exceed watch.max_days "
                           f"({policy.watch.max_days})")
    unknown = sorted(set(policy.detectors) - set(DETECTOR_NAMES))
    if unknown:
        raise SettingError(f"{where}: detectors.{unknown[0]}: unknown detector "
                           f"(known: {', '.join(DETECTOR_NAMES)})")
    for key, names in (("profile_signals.not_with", policy.profile_signals.not_with),
                       ("cluster_mates.detectors", policy.cluster_mates.detectors)):
        unknown = sorted(set(names) - set(DETECTOR_NAMES))
        if unknown:
            raise SettingError(f"{where}: {key}: {unknown[0]}: unknown detector "
                               f"(known: {', '.join(DETECTOR_NAMES)})")
    return with_shared_copy_test(policy)


# farmed_declared's copy test is copied_notes' near-duplicate search: one setting, so that one edit moves both
# and one search serves both (a file may still set farmed_declared's own, e.g. to try it apart).
SHARED_COPY_TEST = {"copy_threshold": "threshold", "copy_min_chars": "min_chars"}


def with_shared_copy_test(policy: DetectionPolicy) -> DetectionPolicy:
    """``policy`` with ``farmed_declared``'s ``copy_threshold``/``copy_min_chars`` taken from ``copied_notes``'
    ``threshold``/``min_chars`` where the file sets the latter and not the former. O(1)."""
    copied, farmed = policy.detectors.get("copied_notes"), policy.detectors.get("farmed_declared")
    if copied is None or farmed is None:
        return policy
    shared = {own: copied.params[theirs] for own, theirs in SHARED_COPY_TEST.items()
              if theirs in copied.params and own not in farmed.params}
    if not shared:
        return policy
    farmed = farmed.model_copy(update={"params": {**farmed.params, **shared}})
    return policy.model_copy(update={"detectors": {**policy.detectors, "farmed_declared": farmed}})
