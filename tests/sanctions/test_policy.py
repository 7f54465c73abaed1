"""The sanction policy file: the default loads; every kind of mistake names the key at fault."""

import copy

import pytest
import yaml

from ringscope.common.errors import SettingError
from ringscope.sanctions.policy import DEFAULT_POLICY, load_sanction_policy, parse_policy


def raw():
    return yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))


def test_the_default_policy_encodes_the_published_rules():
    p = load_sanction_policy()
    assert p.windows.escalation_days == 30 and p.windows.record_days == 180
    steps = {s.level: {a.action: (a.days, a.points) for a in s.actions} for s in p.ladder}
    assert steps[1] == {"throttle_note": (7, None), "credit_deduction": (None, 10)}
    assert steps[2] == {"mute": (15, None), "close_commerce": (90, None)}
    assert steps[3]["suspend"] == (30, None) and "freeze_withdrawals" in steps[3]
    assert steps[4] == {"permanent_ban": (None, None)}
    assert {k for k, v in p.violation_kinds.items() if v.severity == "severe"} >= {"bought_engagement",
                                                                                      "farm_operation"}
    assert (p.brands.threshold, p.brands.days) == (10, 28)
    assert (p.credit.recovery.points, p.credit.recovery.every_days, p.credit.exam.points) == (5, 30, 15)
    assert all(r.max_depth >= 1 for r in p.propagation)
    assert p.rule("banned_account_bans_devices").guard.max_accounts_sharing >= 1
    assert set(p.approval.actions) >= {"permanent_ban", "device_ban"}
    # Issue #15 item 5: a declared order through a fake account is still illegal marketing.
    for name in ("agency_of_declared_orders_through_sanctioned_accounts",
                 "brands_of_declared_orders_through_sanctioned_account"):
        rule = p.rule(name)
        assert rule.path[0].where == {"declared": True} and "farm_operation" in rule.from_.kinds


def test_the_environment_names_another_policy(tmp_path, monkeypatch):
    changed = raw()
    changed["version"] = 7
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(changed))
    monkeypatch.setenv("RINGSCOPE_SANCTION_POLICY", str(path))
    assert load_sanction_policy().version == 7


def _set(tree, dotted, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        tree = tree[int(k)] if isinstance(tree, list) else tree[k]
    last = keys[-1]
    if isinstance(tree, list):
        tree[int(last)] = value
    else:
        tree[last] = value


@pytest.mark.parametrize("where,value,message", [
    ("windows.escalation_dayz", 30, "windows.escalation_dayz: Extra inputs are not permitted"),
    ("windows.escalation_days", 0, "windows.escalation_days: Input should be greater than or equal to 1"),
    ("ladder.1.actions.0.action", "gag", "ladder.1.actions.0.action: unknown action 'gag'"),
    ("ladder.1.level", 5, "ladder.1.level: expected 2"),
    ("propagation.0.path.0.rel", "USES", "propagation.0.path.0.rel: 'USES' is not a relationship type"),
    ("propagation.0.path.0.direction", "in", "propagation.0.path.0: (Account)-[:USED_DEVICE]-(Device) going in"),
    ("propagation.0.then", {"action": "mute"}, "propagation.0.then.action: 'mute' targets Account"),
    ("propagation.2.then", {"violation": "jaywalking"}, "propagation.2.then.violation: unknown kind 'jaywalking'"),
    ("propagation.0.then", {"action": "device_ban", "review": True}, "propagation.0.then: Value error, give exactly one"),
    ("propagation.0.guard", {"max_accounts_sharing": 0}, "propagation.0.guard.max_accounts_sharing"),
    ("propagation.1.name", "banned_account_bans_devices", "propagation.1.name: 'banned_account_bans_devices' is used twice"),
    ("actions.mute.status", "gagged", "actions.mute.status: 'gagged' is not in statuses.Account"),
    ("statuses.Account", ["active", "shadowbanned"], "statuses.Account: 'shadowbanned' is not an account status"),
    ("approval.actions", ["nuke"], "approval.actions: unknown action 'nuke'"),
    ("violation_kinds.spam_comment.severity", "awful", "violation_kinds.spam_comment.severity"),
    ("propagation.6.from.kinds", ["jaywalking"], "propagation.6.from.kinds: unknown violation kind 'jaywalking'"),
    ("propagation.0.from.kinds", ["farm_operation"], "propagation.0.from.kinds: only with violation: true"),
    ("propagation.1.when", {"min_sanctioned_accounts": 2},
     "propagation.1.when.min_sanctioned_accounts: only for rules from an Account"),
    ("propagation.5.then", {"review": True}, "propagation.5.when.min_sanctioned_accounts: needs then.action"),
])
def test_mistakes_name_the_key(where, value, message):
    tree = copy.deepcopy(raw())
    _set(tree, where, value)
    with pytest.raises(SettingError) as err:
        parse_policy(tree, "sanction policy x.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("sanction policy x.yaml: ")


def test_a_missing_or_broken_file_is_one_line(tmp_path):
    with pytest.raises(SettingError, match="file not found"):
        load_sanction_policy(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [1,\n")
    with pytest.raises(SettingError, match="not valid YAML"):
        load_sanction_policy(bad)
