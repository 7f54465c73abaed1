"""One scale for evidence: family-wise surprise, mapped linearly to [0, 1]."""

import math

import pytest

from ringscope.detection.calibration import CERTAIN_AT, calibrated, family_wise, surprise_to_flag_alone


def test_family_wise_surprise_subtracts_the_tests_and_never_goes_below_zero():
    assert family_wise(12.0, 1_000) == pytest.approx(9.0)
    assert family_wise(5.0, 1_000_000) == 0.0
    assert family_wise(7.0, 0) == pytest.approx(7.0)  # no tests counted: one


def test_calibrated_is_zero_at_chance_linear_and_one_at_certain():
    tests = 10_000
    assert calibrated(math.log10(tests), tests) == 0.0
    assert calibrated(4 + CERTAIN_AT / 2, tests) == pytest.approx(0.5)
    assert calibrated(4 + CERTAIN_AT, tests) == 1.0
    assert calibrated(300.0, tests) == 1.0


def test_what_one_detector_needs_to_flag_alone():
    assert surprise_to_flag_alone(0.8, 0.5) == pytest.approx(CERTAIN_AT * 0.625)
    assert surprise_to_flag_alone(1.0, 0.5) == pytest.approx(CERTAIN_AT / 2)
    assert surprise_to_flag_alone(0.4, 0.5) is None  # its weight caps it below the threshold
