"""What counts as coordinated mass-reporting: the ``reports`` section of the detection policy (``policy/detection.yaml``).

It sits in the detection policy because the rule reads the clusters detection runs find: a burst of reports
against one target from accounts of one cluster of the latest run is coordinated. ``detection/config.py``
validates the section with the rest of the file and names the key at fault; a file without it keeps these
defaults.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # At least min_reports reports against one target from accounts of one cluster within window_hours are a
    # coordinated burst: shown to the investigator, never counted against the target.
    window_hours: float = Field(default=24.0, gt=0.0)
    min_reports: int = Field(default=5, ge=2)
    # Reports read per target (newest first); a target with more is summarised from these.
    max_reports: int = Field(default=5000, ge=1)
