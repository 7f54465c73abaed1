import pytest

from ringscope.detection.config import DEFAULT_POLICY, load_policy
from ringscope.detection.pipeline import validate_params
from ringscope.common.errors import SettingError


def write(tmp_path, text):
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_the_default_policy_is_valid():
    policy = load_policy(DEFAULT_POLICY)
    validate_params(policy)
    assert 0 < policy.flag_threshold <= 1


@pytest.mark.parametrize("text,where", [
    ("version: 1\nflag_threshold: 1.5\ndetectors: {}\n", "flag_threshold"),
    ("version: 1\nflag_threshold: 0.5\ndetectors: {lockstep: {weight: 2}}\n", "detectors.lockstep.weight"),
    ("version: 1\nflag_threshold: 0.5\ndetectors: {lockstep: {weight: 1, wieght: 1}}\n", "detectors.lockstep.wieght"),
    ("version: 1\nflag_threshold: 0.5\ndetectors: {telepathy: {weight: 1}}\n", "detectors.telepathy"),
    ("version: 1\nflag_threshold: 0.5\nthreshold: 3\ndetectors: {}\n", "threshold"),
    ("version: [1\n", "not valid YAML"),
])
def test_a_bad_policy_names_the_setting(tmp_path, text, where):
    with pytest.raises(SettingError, match=where.replace(".", r"\.")):
        load_policy(write(tmp_path, text))


@pytest.mark.parametrize("params,where", [
    ("{lockstep: {weight: 1, params: {windw: 5}}}", "detectors.lockstep.params.windw"),
    ("{lockstep: {weight: 1, params: {window: soon}}}", "detectors.lockstep.params.window"),
    ("{shared_infrastructure: {weight: 1, params: {colour: red}}}", "detectors.shared_infrastructure.params.colour"),
])
def test_unknown_or_bad_detector_parameters_are_named(tmp_path, params, where):
    policy = load_policy(write(tmp_path, f"version: 1\nflag_threshold: 0.5\ndetectors: {params}\n"))
    with pytest.raises(SettingError, match=where.replace(".", r"\.")):
        validate_params(policy)


def test_a_missing_policy_file_is_named(tmp_path):
    with pytest.raises(SettingError, match="file not found"):
        load_policy(tmp_path / "nope.yaml")
