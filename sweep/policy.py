"""The sweep's policy: ``policy/sweep.yaml`` (or ``RINGSCOPE_SWEEP_POLICY``, or ``--policy``), validated on load.

The code holds no figure of its own: evidence weights, the share of an identifier that gives full weight, the
limits that keep each search bounded, and the text and burst parameters all live in the file. A bad file is one
``SettingError`` naming the file and the key at fault.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ringscope.common.policyfile import load_validated, policy_file, validated
from ringscope.policy import SWEEP as DEFAULT_POLICY

#: The kinds of evidence a sweep looks for, strongest first (the order reasons are listed in).
KINDS = ("device", "comment_template", "agency", "ip_range", "registration_burst", "phone_segment")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Model):
    weight: float = Field(gt=0.0, lt=1.0)


class EvidenceWeights(_Model):
    device: Evidence
    agency: Evidence
    comment_template: Evidence
    ip_range: Evidence
    registration_burst: Evidence
    phone_segment: Evidence

    def of(self, kind: str) -> float:
        return getattr(self, kind).weight


class IpRange(_Model):
    ipv4_prefix: int = Field(ge=8, le=32)
    ipv6_prefix: int = Field(ge=16, le=128)
    max_ranges: int = Field(ge=1)


class RegistrationBurst(_Model):
    max_gap_minutes: float = Field(gt=0)
    min_members: int = Field(ge=2)
    max_registrations: int = Field(ge=1)


class PhoneSegment(_Model):
    min_lift: float = Field(ge=1.0)


class CommentTemplate(_Model):
    min_chars: int = Field(ge=1)
    shingle: int = Field(ge=1, le=8)
    threshold: float = Field(gt=0.0, le=1.0)
    max_templates: int = Field(ge=1)
    hits_per_template: int = Field(ge=1)


class SweepPolicy(_Model):
    version: int = Field(ge=1)
    min_score: float = Field(gt=0.0, le=1.0)
    max_candidates: int = Field(ge=1)
    min_confirmed_members: int = Field(ge=1)
    max_members: int = Field(ge=1)
    max_member_comments: int = Field(ge=0)
    min_members: int = Field(ge=1)
    max_sharing: int = Field(ge=2)
    full_share: float = Field(gt=0.0, le=1.0)
    evidence: EvidenceWeights
    ip_range: IpRange
    registration_burst: RegistrationBurst
    phone_segment: PhoneSegment
    comment_template: CommentTemplate


def policy_path(path: Path | None = None) -> Path:
    return policy_file(path, "RINGSCOPE_SWEEP_POLICY", DEFAULT_POLICY)


def parse_policy(raw: object, source: str = "sweep policy") -> SweepPolicy:
    """Validate a policy given as plain data (what YAML loads)."""
    return validated(SweepPolicy, raw, source)


def load_sweep_policy(path: Path | None = None) -> SweepPolicy:
    """The sweep policy from ``path``, else ``RINGSCOPE_SWEEP_POLICY``, else the shipped ``policy/sweep.yaml``."""
    return load_validated(SweepPolicy, policy_path(path), "sweep policy")
