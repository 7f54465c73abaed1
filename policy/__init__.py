"""The policies as data, shipped with the package: detection.yaml, sanctions.yaml, sweep.yaml and health.yaml (validated on load)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
DETECTION = HERE / "detection.yaml"
SANCTIONS = HERE / "sanctions.yaml"
SWEEP = HERE / "sweep.yaml"
HEALTH = HERE / "health.yaml"
