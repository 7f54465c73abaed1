"""Small Parquet lakes built by the Spark tests."""

from __future__ import annotations


def write_lake(directory, **frames):
    """A lake of one part file per kind: ``write_lake(dir, accounts=frame, ...)``."""
    for name, frame in frames.items():
        (directory / name).mkdir(parents=True)
        frame.to_parquet(directory / name / "part-00000.parquet")
    return directory
