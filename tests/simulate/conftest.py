"""Shared fixtures: one small simulated data set, written once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from ringscope.simulate.platform import simulate
from ringscope.simulate.world import Blocks

# Overridable to try the checks on other data sets: RINGSCOPE_SIM_ACCOUNTS=20000 RINGSCOPE_SIM_SEED=5
ACCOUNTS = int(os.environ.get("RINGSCOPE_SIM_ACCOUNTS", 3000))
SEED = int(os.environ.get("RINGSCOPE_SIM_SEED", 11))
STEMS = ("accounts", "devices", "account_devices", "account_ips", "brands", "intermediaries",
         "intermediary_accounts", "orders", "notes", "comments", "likes", "follows", "sanctions", "reports", "trending",
         "labels", "note_labels", "drift_labels", "trending_labels")


# One piece (the draws every platform up to a million accounts gets), and in parts of a
# thousand accounts (what larger platforms get): every check below holds for both.
LAYOUTS = {"one piece": Blocks(), "in parts": Blocks(one_piece=1000, part_accounts=1000, flush_rows=5000,
                                                     bucket_rows=4000, write_rows=2500)}


@pytest.fixture(scope="session", params=list(LAYOUTS))
def dataset(request, tmp_path_factory):
    """(directory, summary) of a CSV data set with ACCOUNTS accounts."""
    out = tmp_path_factory.mktemp("sim_csv")
    return out, simulate(out, ACCOUNTS, SEED, "csv", LAYOUTS[request.param])


@pytest.fixture(scope="session")
def tables(dataset) -> dict[str, pd.DataFrame]:
    """Every file as strings, exactly as written (empty string = no value)."""
    out, _ = dataset
    return {stem: pd.read_csv(Path(out) / f"{stem}.csv", dtype=str, keep_default_na=False) for stem in STEMS}


@pytest.fixture(scope="session")
def labelled(tables) -> pd.DataFrame:
    """Accounts joined with their labels, registration time parsed."""
    acc = tables["accounts"].merge(tables["labels"], on="account_id", validate="one_to_one")
    acc["reg"] = pd.to_datetime(acc["registered_at"])
    return acc


def utc(values: pd.Series):
    """ISO strings -> numpy datetime64 in UTC, for element-wise comparisons."""
    return pd.to_datetime(values, utc=True).dt.tz_localize(None).to_numpy()
