"""Cresci 2015 converter: the real file converts to valid input-format rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ringscope.ingest.converters.cresci import convert_cresci

SRC = Path("/work/shared/data/external/cresci2015")

needs_data = pytest.mark.skipif(not (SRC / "bas_users.csv").exists(),
                                reason="cresci2015 data not present")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("cresci")
    counts = convert_cresci(SRC, out)
    accounts = pd.read_csv(out / "accounts.csv", dtype=str, keep_default_na=False)
    labels = pd.read_csv(out / "labels.csv", dtype=str, keep_default_na=False)
    return counts, accounts, labels


@needs_data
def test_counts_and_fak_cross_check(converted):
    counts, accounts, labels = converted
    assert counts == {"accounts": 3900, "labels": 3900, "fake": 1950, "real": 1950,
                      "skipped": 0, "fak_ids": 1950, "fak_mismatches": 0}
    assert len(accounts) == len(labels) == 3900


@needs_data
def test_accounts_rows_are_valid_input_format(converted):
    _, accounts, _ = converted
    assert list(accounts.columns) == ["account_id", "nickname", "registered_at", "followers",
                                      "following", "default_profile", "bio"]
    assert "dataset" not in accounts.columns
    assert accounts["account_id"].is_unique and (accounts["account_id"].str.len() > 0).all()
    assert accounts["account_id"].str.fullmatch(r"\d+").all()
    registered = pd.to_datetime(accounts["registered_at"], format="ISO8601", utc=True)
    assert registered.notna().all()
    assert accounts["registered_at"].str.endswith("+00:00").all()
    assert (accounts["followers"].astype(int) >= 0).all()
    assert (accounts["following"].astype(int) >= 0).all()
    assert set(accounts["default_profile"]) == {"true", "false"}
    assert (accounts["nickname"].str.len() > 0).all()
    row = accounts.set_index("account_id").loc["3610511"]
    assert row["nickname"] == "braddd"
    assert row["registered_at"] == "2007-04-06T10:58:22+00:00"
    assert (row["followers"], row["following"]) == ("5470", "2385")
    assert row["bio"].startswith("Founder of")


@needs_data
def test_labels_follow_the_dataset_codes(converted):
    _, accounts, labels = converted
    assert list(labels.columns) == ["account_id", "is_fake", "farm_id", "role"]
    assert set(labels["account_id"]) == set(accounts["account_id"])
    by_role = labels.groupby("role")["is_fake"].agg(set).to_dict()
    assert by_role == {"E13": {"false"}, "TFP": {"false"}, "FSF": {"true"}, "INT": {"true"},
                       "TWT": {"true"}}
    fakes = labels[labels["is_fake"] == "true"]
    assert (fakes["farm_id"] == fakes["role"]).all()
    assert (labels.loc[labels["is_fake"] == "false", "farm_id"] == "").all()
    assert labels["role"].value_counts().to_dict() == {"E13": 1481, "INT": 779, "FSF": 686,
                                                       "TWT": 485, "TFP": 469}


def test_small_file_edge_cases(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    pd.DataFrame({
        "id": ["1", "2", "3", "4"],
        "name": ["Ann Lee", "Bob", "Cy", "Di"],
        "screen_name": ["", "bob99", "cy", "di"],
        "followers_count": ["5", "", "1", "2"],
        "friends_count": ["50", "7", "1", "3"],
        "created_at": ["Fri Apr 06 10:58:22 +0200 2007", "Mon Apr 30 15:08:42 +0000 2007",
                       "not a date", "Mon Apr 30 15:08:42 +0000 2007"],
        "default_profile": ["1.0", "", "1.0", "1.0"],
        "description": ["hi", "", "x", "y"],
        "dataset": ["FSF", "E13", "E13", "XYZ"],
    }).to_csv(src / "bas_users.csv", index=False)
    counts = convert_cresci(src, tmp_path / "out")
    assert counts["accounts"] == 2 and counts["skipped"] == 2
    assert counts["fak_ids"] == 0
    accounts = pd.read_csv(tmp_path / "out" / "accounts.csv", dtype=str, keep_default_na=False)
    first = accounts.set_index("account_id").loc["1"]
    assert first["nickname"] == "Ann Lee"  # empty handle falls back to the name
    assert first["registered_at"] == "2007-04-06T08:58:22+00:00"  # converted to UTC
    assert first["default_profile"] == "true"
    second = accounts.set_index("account_id").loc["2"]
    assert (second["followers"], second["default_profile"], second["bio"]) == ("0", "false", "")
