"""Timestamps as reasons cite them."""

import math

import numpy as np
import pandas as pd

from ringscope.detection.findings import iso_utc, iso_utc_epoch


def test_timestamps_are_cited_in_utc():
    shanghai = pd.Timestamp("2025-03-01T18:30:00+08:00")
    assert iso_utc(shanghai) == "2025-03-01T10:30:00+00:00"
    assert iso_utc(pd.NaT, missing="") == "" and iso_utc(shanghai, missing="") == "2025-03-01T10:30:00+00:00"


def test_epoch_times_are_cited_in_utc():
    seconds = pd.Timestamp("2025-03-01T10:30:00.5Z").value / 1e9
    assert iso_utc_epoch(seconds) == "2025-03-01T10:30:00.500000+00:00"
    assert iso_utc_epoch(np.int64(pd.Timestamp("2025-03-01T10:30:00Z").value), unit="ns") == "2025-03-01T10:30:00+00:00"
    assert iso_utc_epoch(math.nan, missing="unknown") == iso_utc_epoch(None, missing="unknown") == "unknown"
    assert iso_utc_epoch(0.0, missing="unknown") == "1970-01-01T00:00:00+00:00"
