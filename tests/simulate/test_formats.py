"""Determinism per seed, and every output format reads back with pandas/pyarrow to the same content.

Parquet is written as a folder per kind of part files (``comments/part-00000.parquet``).
"""

from __future__ import annotations

import gzip
import hashlib
import json

import pandas as pd
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from ringscope.simulate.platform import simulate
from tests.simulate.conftest import STEMS

SMALL = 1200


def digests(directory) -> dict[str, str]:
    """Every file under directory (Parquet part files too) by its path in it."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def by_format(tmp_path_factory):
    out = {}
    for fmt in ("csv", "csv.gz", "jsonl.gz", "parquet"):
        directory = tmp_path_factory.mktemp(fmt.replace(".", "_"))
        out[fmt] = (directory, simulate(directory, SMALL, 3, fmt))
    return out


@pytest.mark.parametrize("fmt", ["csv.gz", "parquet", "jsonl.gz"])
def test_same_seed_gives_identical_bytes(tmp_path, by_format, fmt):
    again = simulate(tmp_path, SMALL, 3, fmt)
    assert digests(tmp_path) == digests(by_format[fmt][0])
    assert again.files == by_format[fmt][1].files


def test_different_seed_differs(tmp_path, by_format):
    simulate(tmp_path, SMALL, 4, "csv.gz")
    first, second = digests(by_format["csv.gz"][0]), digests(tmp_path)
    assert first.keys() == second.keys()
    assert first["accounts.csv.gz"] != second["accounts.csv.gz"]
    assert first["comments.csv.gz"] != second["comments.csv.gz"]


def read(directory, stem: str, fmt: str) -> pd.DataFrame:
    path = directory / f"{stem}.{fmt}"
    if fmt.startswith("csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    elif fmt.startswith("jsonl"):
        frame = pd.read_json(path, lines=True, dtype=False)
    else:
        frame = pq.read_table(directory / stem).to_pandas()
    return frame.astype(object).where(frame.notna(), "").map(
        lambda v: ("true" if v else "false") if isinstance(v, bool) else str(v))


@pytest.mark.parametrize("stem", ["accounts", "comments", "labels", "orders", "sanctions", "devices"])
def test_formats_hold_the_same_rows(by_format, stem):
    reference = read(by_format["csv"][0], stem, "csv")
    for fmt in ("csv.gz", "jsonl.gz", "parquet"):
        other = read(by_format[fmt][0], stem, fmt)
        assert list(other.columns) == list(reference.columns), fmt
        pd.testing.assert_frame_equal(other.reset_index(drop=True), reference, check_dtype=False, obj=f"{stem}.{fmt}")


def test_files_read_back_with_arrow_and_gzip(by_format):
    directory, summary = by_format["csv.gz"]
    for name, rows in summary.files.items():
        assert pa_csv.read_csv(directory / name).num_rows == rows, name
    directory, summary = by_format["jsonl.gz"]
    for name, rows in summary.files.items():
        with gzip.open(directory / name, "rt", encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle]
        assert len(records) == rows and len({tuple(r) for r in records}) == 1, name
    directory, summary = by_format["parquet"]
    assert sorted(summary.files) == sorted(STEMS) == sorted(summary.parts)
    for name, rows in summary.files.items():
        parts = sorted(p.name for p in (directory / name).iterdir())
        assert parts == [f"part-{i:05d}.parquet" for i in range(summary.parts[name])]
        assert pq.read_table(directory / name).num_rows == rows
    assert pq.read_table(directory / "accounts").schema.field("followers").type == "int64"
    assert pq.read_table(directory / "labels").schema.field("is_fake").type == "bool"


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        simulate(tmp_path, SMALL, 1, "xlsx")
    with pytest.raises(ValueError):
        simulate(tmp_path, 10, 1, "csv")


def test_rerun_in_another_format_replaces_the_old_files(tmp_path):
    simulate(tmp_path, 300, 1, "csv")
    summary = simulate(tmp_path, 300, 1, "parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(summary.files)
