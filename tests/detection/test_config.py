import pytest

from ringscope.detection.config import DEFAULT_POLICY, load_detection_policy
from ringscope.detection.pipeline import validate_params
from ringscope.common.errors import SettingError


def write(tmp_path, text):
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_the_default_policy_is_valid():
    policy = load_detection_policy(DEFAULT_POLICY)
    validate_params(policy)
    assert 0 < policy.flag_threshold <= 1


@pytest.mark.parametrize("text,where", [
    ("version: 1\nflag_threshold: 1.5\ndetectors: {}\n", "flag_threshold"),
    ("version: 1\nflag_threshold: 0.5\ndetectors: {lockstep: {weight: 2}}\n", "detectors.lockstep.weight"),
    ("version: 1\nflag_threshold: 0.5\ndetectors: {lockstep: {weight: 1, wieght: 1}}\n", "detectors.lockstep.wieght"),
    ("version: 1\nflag_threshold: 0.5\ndetectors: {telepathy: {weight: 1}}\n", "detectors.telepathy"),
    ("version: 1\nflag_threshold: 0.5\nthreshold: 3\ndetectors: {}\n", "threshold"),
    ("version: [1\n", "not valid YAML"),
    ("version: 2\nflag_threshold: 0.5\ndetectors: {}\nprofile_signals: {likelihood_ratio: 0.5}\n",
     "profile_signals.likelihood_ratio"),
    ("version: 2\nflag_threshold: 0.5\ndetectors: {}\nprofile_signals: {not_with: [lokstep]}\n",
     "profile_signals.not_with: lokstep: unknown detector"),
    ("version: 3\nflag_threshold: 0.5\ndetectors: {}\nwatch: {treshold: 0.3}\n", "watch.treshold"),
    ("version: 3\nflag_threshold: 0.5\ndetectors: {}\nwatch: {days: 0}\n", "watch.days"),
    ("version: 3\nflag_threshold: 0.5\ndetectors: {}\nwatch: {reach_factor: 1.5}\n", "watch.reach_factor"),
    ("version: 3\nflag_threshold: 0.5\ndetectors: {}\nwatch: {days: 30, max_days: 20}\n", "watch.days: 30 must not exceed watch.max_days"),
    ("version: 3\nflag_threshold: 0.5\ndetectors: {}\nwatch: {threshold: 0.5}\n",
     "watch.threshold: 0.5 must be below flag_threshold"),
])
def test_a_bad_policy_names_the_setting(tmp_path, text, where):
    with pytest.raises(SettingError, match=where.replace(".", r"\.")):
        load_detection_policy(write(tmp_path, text))


@pytest.mark.parametrize("params,where", [
    ("{lockstep: {weight: 1, params: {windw: 5}}}", "detectors.lockstep.params.windw"),
    ("{lockstep: {weight: 1, params: {window: soon}}}", "detectors.lockstep.params.window"),
    ("{shared_infrastructure: {weight: 1, params: {colour: red}}}", "detectors.shared_infrastructure.params.colour"),
    ("{registration_bursts: {weight: 1, params: {scales: []}}}", "detectors.registration_bursts.params.scales"),
    ("{registration_bursts: {weight: 1, params: {scales: [0.5, 7]}}}", "detectors.registration_bursts.params.scales"),
    ("{registration_bursts: {weight: 1, params: {scales: 7}}}", "detectors.registration_bursts.params.scales"),
    ("{registration_bursts: {weight: 1, params: {passes: 0}}}", "detectors.registration_bursts.params.passes"),
])
def test_unknown_or_bad_detector_parameters_are_named(tmp_path, params, where):
    policy = load_detection_policy(write(tmp_path, f"version: 1\nflag_threshold: 0.5\ndetectors: {params}\n"))
    with pytest.raises(SettingError, match=where.replace(".", r"\.")):
        validate_params(policy)


def test_a_missing_policy_file_is_named(tmp_path):
    with pytest.raises(SettingError, match="file not found"):
        load_detection_policy(tmp_path / "nope.yaml")


VERSION_1 = """version: 1
flag_threshold: 0.5
detectors:
  lockstep: {weight: 0.9}
  templates: {weight: 0.7, enabled: true, params: {threshold: 0.7, min_qa_acts: 3, max_evidence: 10}}
  dense_blocks: {weight: 0.8}
  flagged_intermediaries: {weight: 0.4, params: {min_flagged: 5}}
"""


def test_a_version_1_policy_loads_with_the_keys_that_replaced_its_old_ones(tmp_path):
    policy = load_detection_policy(write(tmp_path, VERSION_1))
    assert list(policy.detectors) == ["lockstep", "comment_template", "offplatform_lure", "qa_act",
                                      "dense_blocks", "intermediary_flagged_accounts"]
    # the weight for each of the three, each old parameter to the detectors that have it
    assert {n: policy.detectors[n].weight for n in ("comment_template", "offplatform_lure", "qa_act")} == {
        "comment_template": 0.7, "offplatform_lure": 0.7, "qa_act": 0.7}
    assert policy.detectors["comment_template"].params == {"threshold": 0.7, "max_evidence": 10}
    assert policy.detectors["offplatform_lure"].params == {"max_evidence": 10}
    assert policy.detectors["qa_act"].params == {"min_qa_acts": 3, "max_evidence": 10}
    assert policy.detectors["intermediary_flagged_accounts"].params == {"min_flagged": 5}
    params = validate_params(policy)
    assert params["qa_act"].min_qa_acts == 3 and params["comment_template"].threshold == 0.7


def test_a_disabled_templates_entry_disables_the_three(tmp_path):
    policy = load_detection_policy(write(tmp_path, "version: 1\nflag_threshold: 0.5\n"
                                                   "detectors: {templates: {weight: 0.8, enabled: false}}\n"))
    assert set(policy.detectors) == {"comment_template", "offplatform_lure", "qa_act"}
    assert policy.enabled() == {}


@pytest.mark.parametrize("detectors,message", [
    ("{templates: {weight: 0.8, params: {colour: red}}}", "detectors.templates.params.colour: unknown parameter"),
    ("{templates: {weight: 0.8}, qa_act: {weight: 0.5}}",
     "detectors.templates: replaced by comment_template, offplatform_lure, qa_act in version 2; give either it or qa_act"),
    ("{flagged_intermediaries: {weight: 0.4}, intermediary_flagged_accounts: {weight: 0.4}}",
     "detectors.flagged_intermediaries: replaced by intermediary_flagged_accounts"),
    ("{templates: {weight: 2}}", "detectors.comment_template.weight"),
])
def test_a_bad_version_1_entry_is_named(tmp_path, detectors, message):
    with pytest.raises(SettingError, match=message.replace(".", r"\.")):
        load_detection_policy(write(tmp_path, f"version: 1\nflag_threshold: 0.5\ndetectors: {detectors}\n"))


def test_the_default_policy_names_every_detector_by_its_findings_label():
    from ringscope.detection.config import DETECTOR_NAMES
    from ringscope.detection.pipeline import DETECTORS

    policy = load_detection_policy(DEFAULT_POLICY)
    assert policy.version == 3
    assert list(policy.detectors) == list(DETECTORS) and set(DETECTOR_NAMES) == set(DETECTORS)


def test_a_policy_without_a_watch_section_gets_the_shipped_room(tmp_path):
    policy = load_detection_policy(write(tmp_path, "version: 2\nflag_threshold: 0.5\ndetectors: {}\n"))
    assert policy.watch == load_detection_policy(DEFAULT_POLICY).watch
    # an old file with a low flag threshold still loads: its watch band is empty (no run places anyone)
    low = load_detection_policy(write(tmp_path, "version: 2\nflag_threshold: 0.2\ndetectors: {}\n"))
    assert low.watch.threshold >= low.flag_threshold


def test_a_policy_without_profile_signals_gets_the_documented_defaults(tmp_path):
    policy = load_detection_policy(write(tmp_path, "version: 2\nflag_threshold: 0.5\ndetectors: {}\n"))
    shipped = load_detection_policy(DEFAULT_POLICY)
    assert policy.profile_signals == shipped.profile_signals
    assert shipped.profile_signals.likelihood_ratio == 3 and shipped.profile_signals.not_with == ("registration_bursts", "engagement")


def test_farmed_declared_copy_test_follows_copied_notes_unless_set_apart(tmp_path):
    """One edit of copied_notes' threshold moves farmed_declared's copy test too (one search serves both); a
    file that sets farmed_declared's own keeps it."""
    base = "version: 3\nflag_threshold: 0.5\ndetectors:\n  copied_notes: {weight: 0.8, params: {threshold: 0.6, min_chars: 80}}\n"
    policy = load_detection_policy(write(tmp_path, base + "  farmed_declared: {weight: 0.8}\n"))
    assert policy.detectors["farmed_declared"].params == {"copy_threshold": 0.6, "copy_min_chars": 80}
    validate_params(policy)
    apart = load_detection_policy(write(tmp_path, base + "  farmed_declared: {weight: 0.8, params: {copy_threshold: 0.5}}\n"))
    assert apart.detectors["farmed_declared"].params == {"copy_threshold": 0.5, "copy_min_chars": 80}
    alone = load_detection_policy(write(tmp_path, "version: 3\nflag_threshold: 0.5\ndetectors:\n"
                                                  "  farmed_declared: {weight: 0.8}\n"))
    assert alone.detectors["farmed_declared"].params == {}
    shipped = load_detection_policy(DEFAULT_POLICY)
    assert shipped.detectors["farmed_declared"].params["copy_threshold"] == shipped.detectors["copied_notes"].params["threshold"]
