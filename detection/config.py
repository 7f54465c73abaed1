"""The detection policy file: validated, with errors that name the setting at fault."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ringscope import policy as policy_files
from ringscope.common.errors import SettingError
from ringscope.common.policyfile import first_error, read_yaml

DEFAULT_POLICY = policy_files.DETECTION

DETECTOR_NAMES = (
    "shared_infrastructure", "registration_bursts", "lockstep", "templates",
    "underwater", "ban_evasion", "engagement", "flagged_intermediaries", "dense_blocks",
)


class DetectorPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    weight: float = Field(ge=0.0, le=1.0)
    params: dict[str, Any] = Field(default_factory=dict)


class DetectionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    flag_threshold: float = Field(gt=0.0, le=1.0)
    detectors: dict[str, DetectorPolicy]

    def enabled(self) -> dict[str, DetectorPolicy]:
        return {name: d for name, d in self.detectors.items() if d.enabled}


def load_policy(path: Path | None = None) -> DetectionPolicy:
    path = Path(path or os.environ.get("RINGSCOPE_DETECTION_POLICY") or DEFAULT_POLICY)
    raw = read_yaml(path, "detection policy")
    try:
        policy = DetectionPolicy.model_validate(raw)
    except ValidationError as exc:
        where, message = first_error(exc)
        raise SettingError(f"detection policy {path}: {where}: {message}") from None
    unknown = sorted(set(policy.detectors) - set(DETECTOR_NAMES))
    if unknown:
        raise SettingError(f"detection policy {path}: detectors.{unknown[0]}: unknown detector "
                           f"(known: {', '.join(DETECTOR_NAMES)})")
    return policy
