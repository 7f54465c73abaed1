"""The observation room's policy: the ``watch`` section of the detection policy file (``policy/detection.yaml``).

It sits beside ``flag_threshold`` because the room is driven by the same account risks: an account whose risk
is at or above ``threshold`` and below the flag threshold is placed under observation by a detection run (when
``automatic``). The code holds no figure of its own; ``detection/config.py`` validates the section with the
rest of the file and names the key at fault (and checks what spans keys: ``threshold`` below
``flag_threshold``, ``days`` at most ``max_days``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WatchPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # A detection run places accounts whose risk is in [threshold, flag_threshold) under observation.
    automatic: bool = True
    threshold: float = Field(default=0.3, gt=0.0, le=1.0)
    # A stay's length when nobody says otherwise (`ringscope watch add --days` at most max_days).
    days: int = Field(default=14, ge=1)
    max_days: int = Field(default=90, ge=1)
    # The silent restriction an account under observation gets: recorded on the stay, never notified.
    restriction: str = Field(default="silent_throttle", min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    reach_factor: float = Field(default=0.5, gt=0.0, le=1.0)
    # A stay's risk trend: "rising" or "falling" when its last risk differs from its first by more than this.
    trend_tolerance: float = Field(default=0.05, ge=0.0, le=1.0)
