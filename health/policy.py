"""The content-health policy: ``policy/health.yaml`` (or ``RINGSCOPE_HEALTH_POLICY``, or ``--policy``), validated on
load.

The code holds no figure of its own: the three weights (which must sum to 100), every indicator's deduction, the
effect bands, the indicators listed as not measured and the read limits all live in the file. A bad file is one
``SettingError`` naming the file and the key at fault.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ringscope.common.policyfile import load_validated, policy_file, validated
from ringscope.policy import HEALTH as DEFAULT_POLICY

#: The platform's published structure: the three dimensions, in order.
DIMENSIONS = ("content_quality", "compliance", "user_feedback")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weights(_Model):
    content_quality: float = Field(ge=0, le=100)
    compliance: float = Field(ge=0, le=100)
    user_feedback: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _sum_to_100(self) -> "Weights":
        total = self.content_quality + self.compliance + self.user_feedback
        if abs(total - 100) > 1e-9:
            raise ValueError(f"content_quality + compliance + user_feedback must sum to 100, not {total:g}")
        return self

    def of(self, dimension: str) -> float:
        return getattr(self, dimension)


class Originality(_Model):
    similarity: float = Field(gt=0.0, le=1.0)
    shingle: int = Field(ge=1, le=8)
    min_chars: int = Field(ge=1)
    points: float = Field(ge=0)


class PerOccurrence(_Model):
    points_each: float = Field(ge=0)


class InvalidInteraction(_Model):
    points: float = Field(ge=0)
    demote_share: float = Field(gt=0.0, lt=1.0)
    demote_points: float = Field(ge=0)


class FollowerImbalance(_Model):
    min_followers: int = Field(ge=1)
    min_likes_per_note: float = Field(gt=0)
    points: float = Field(ge=0)


class Indicators(_Model):
    originality: Originality
    undeclared_commercial: PerOccurrence
    offplatform_lure: PerOccurrence
    verified_reports: PerOccurrence
    invalid_interaction: InvalidInteraction
    follower_imbalance: FollowerImbalance


class Effects(_Model):
    boost_at: float = Field(ge=0, le=100)
    commercial_at: float = Field(ge=0, le=100)
    throttle_below: float = Field(ge=0, le=100)
    throttle_reach_factor: float = Field(gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> "Effects":
        if not self.throttle_below <= self.commercial_at <= self.boost_at:
            raise ValueError("the bands must be ordered: throttle_below <= commercial_at <= boost_at")
        return self


class NotMeasured(_Model):
    name: str = Field(min_length=1)
    dimension: str
    why: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known_dimension(self) -> "NotMeasured":
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, not {self.dimension!r}")
        return self


class Limits(_Model):
    max_texts: int = Field(ge=1)
    hits_per_text: int = Field(ge=1)
    max_group_accounts: int = Field(ge=1)
    batch_size: int = Field(ge=1)


class HealthPolicy(_Model):
    version: int = Field(ge=1)
    weights: Weights
    indicators: Indicators
    effects: Effects
    not_measured: tuple[NotMeasured, ...] = ()
    limits: Limits


def policy_path(path: Path | None = None) -> Path:
    return policy_file(path, "RINGSCOPE_HEALTH_POLICY", DEFAULT_POLICY)


def parse_policy(raw: object, source: str = "health policy") -> HealthPolicy:
    """Validate a policy given as plain data (what YAML loads)."""
    return validated(HealthPolicy, raw, source)


def load_health_policy(path: Path | None = None) -> HealthPolicy:
    """The health policy from ``path``, else ``RINGSCOPE_HEALTH_POLICY``, else the shipped ``policy/health.yaml``."""
    return load_validated(HealthPolicy, policy_path(path), "health policy")
