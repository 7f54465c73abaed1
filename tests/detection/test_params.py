"""Detector parameters from the policy file: conversion and the errors that name the setting."""

import dataclasses

import pandas as pd
import pytest

from ringscope.common.errors import SettingError
from ringscope.detection.ban_evasion import BAN_ACTIONS, BanEvasionParams
from ringscope.detection.copied_notes import CopiedNoteParams
from ringscope.detection.lockstep import LockstepParams
from ringscope.detection.params import as_mapping, as_names, params_from_policy, policy_field
from ringscope.detection.pipeline import DETECTORS
from ringscope.detection.registration_bursts import RegistrationBurstParams
from ringscope.detection.shared_infrastructure import SharedInfrastructureParams


def test_no_values_give_the_defaults():
    assert params_from_policy(LockstepParams, "lockstep", {}) == LockstepParams()


def test_values_are_converted_by_the_type_of_the_default():
    p = params_from_policy(LockstepParams, "lockstep", {"window": "20min", "min_jaccard": 1, "min_support": "4"})
    assert p.window == pd.Timedelta(minutes=20)
    assert p.min_jaccard == 1.0 and isinstance(p.min_jaccard, float)
    assert p.min_support == 4 and isinstance(p.min_support, int)
    assert p.max_group_size == LockstepParams().max_group_size


def test_an_unknown_parameter_is_named_with_the_detector_and_the_known_ones():
    with pytest.raises(SettingError) as err:
        params_from_policy(LockstepParams, "lockstep", {"windw": "5min"})
    known = ", ".join(sorted(f.name for f in dataclasses.fields(LockstepParams)))
    assert str(err.value) == f"detection policy: detectors.lockstep.params.windw: unknown parameter (known: {known})"


@pytest.mark.parametrize("cls,name,key,value,message", [
    (LockstepParams, "lockstep", "window", "soon", "'soon' is not a valid duration (e.g. 15min, or seconds)"),
    (LockstepParams, "lockstep", "min_support", "many", "'many' is not a valid int"),
    (LockstepParams, "lockstep", "min_jaccard", [1], "[1] is not a valid float"),
    (SharedInfrastructureParams, "shared_infrastructure", "cap", [50],
     "[50] is not a valid mapping (link kind: accounts)"),
    (BanEvasionParams, "ban_evasion", "ban_actions", "ban", "'ban' is not a valid list of sanction actions"),
    (RegistrationBurstParams, "registration_bursts", "window", "soon",
     "'soon' is not a valid duration (e.g. 12h) or seconds"),
    (CopiedNoteParams, "copied_notes", "signed_share", 0, "0 is not a valid share in (0, 1]"),
    (CopiedNoteParams, "copied_notes", "signed_share", 1.5, "1.5 is not a valid share in (0, 1]"),
    (CopiedNoteParams, "copied_notes", "signed_share", True, "True is not a valid share in (0, 1]"),
])
def test_a_bad_value_is_named_with_the_expected_type(cls, name, key, value, message):
    with pytest.raises(SettingError) as err:
        params_from_policy(cls, name, {key: value})
    assert str(err.value) == f"detection policy: detectors.{name}.params.{key}: {message}"


def test_mappings_and_lists_of_names():
    p = params_from_policy(SharedInfrastructureParams, "shared_infrastructure", {"cap": {"device": 50}, "base": None})
    assert p.cap == {"device": 50} and p.base is None
    p = params_from_policy(BanEvasionParams, "ban_evasion", {"ban_actions": ["ban", "Suspend"]})
    assert p.ban_actions == frozenset({"ban", "Suspend"})
    assert as_names(BAN_ACTIONS) == BAN_ACTIONS
    assert as_mapping(None) is None


def test_registration_durations_stay_as_given_text_or_seconds():
    # detect_registration_bursts reads a number as seconds; the policy value is kept as written
    p = params_from_policy(RegistrationBurstParams, "registration_bursts", {"window": "6h", "max_gap": 1800})
    assert p.window == "6h" and p.max_gap == 1800


def test_a_field_of_another_kind_must_declare_its_conversion():
    @dataclasses.dataclass(frozen=True)
    class Odd:
        pairs: tuple = ()
        names: tuple = policy_field((), tuple, "list")

    assert params_from_policy(Odd, "odd", {"names": ["a"]}).names == ("a",)
    with pytest.raises(TypeError, match="pairs"):
        params_from_policy(Odd, "odd", {"pairs": []})


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_parameter_of_every_detector_can_be_set_from_the_policy(name):
    cls = DETECTORS[name].params
    defaults = cls()
    values = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(cls)}
    assert params_from_policy(cls, name, values) == defaults
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen


def test_durations_given_as_numbers_are_seconds_and_booleans_are_read_as_words():
    from ringscope.detection.params import as_bool, as_duration

    assert as_duration(90) == pd.Timedelta(seconds=90) and as_duration("15min") == pd.Timedelta(minutes=15)
    assert [as_bool(v) for v in (True, "true", "Yes", 1, "0", "no", False)] == [True] * 4 + [False] * 3
    with pytest.raises(ValueError):
        as_bool("maybe")
    with pytest.raises(TypeError):
        as_duration(True)
