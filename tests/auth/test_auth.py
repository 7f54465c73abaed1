import pytest

from ringscope.auth.masking import mask_identifier, mask_ip, mask_properties
from ringscope.auth.roles import Actor, NotAllowed
from ringscope.auth.users import actor_for, authenticate, load_users, save_user, UnknownUser
from ringscope.common.errors import SettingError


def test_roles_follow_the_table():
    viewer, investigator = Actor("v", "viewer"), Actor("i", "investigator")
    assert viewer.can("read") and not viewer.can("apply_sanction")
    assert investigator.can("preview_sanction") and not investigator.can("approve_sanction")
    with pytest.raises(NotAllowed, match="may not approve sanction; roles that may: approver, admin"):
        investigator.require("approve_sanction")
    with pytest.raises(ValueError):
        Actor("x", "superuser")


def test_personal_data_is_masked_unless_the_role_allows():
    props = {"ip": "203.0.113.9", "phone_hash": "9f86d081884c7d65", "nickname": "王小明"}
    masked = mask_properties(props, Actor("v", "viewer"))
    assert masked == {"ip": "203.0.x.x", "phone_hash": "9f8*************", "nickname": "王小明"}
    assert mask_properties(props, Actor("a", "approver")) == props
    assert mask_ip("2001:db8::1") == "2001:0db8:x:x:x:x:x:x"
    assert mask_identifier("IP", "10.1.2.3") == "10.1.x.x"
    # a range (the sweep cites the ring's /24) keeps its length, never its third octet
    assert mask_ip("10.7.1.0/24") == "10.7.x.x/24"
    assert mask_ip("2001:db8:7::/48") == "2001:0db8:x:x:x:x:x:x/48"
    assert mask_ip("10.7.1.0/abc") == "10." + "*" * 9
    assert mask_identifier("Account", "a1") == "a1"


def test_users_file_round_trip(tmp_path):
    path = tmp_path / "users.yaml"
    save_user("alice", "investigator", "s3cret-pass", path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert "s3cret" not in path.read_text()
    assert authenticate("alice", "s3cret-pass", path) == Actor("alice", "investigator")
    assert authenticate("alice", "wrong", path) is None
    assert authenticate("bob", "s3cret-pass", path) is None
    assert actor_for("alice", path).role == "investigator"
    with pytest.raises(UnknownUser, match="not in the users file"):
        actor_for("bob", path)


def test_a_bad_users_file_names_the_problem(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("users:\n  eve: {role: god}\n")
    with pytest.raises(SettingError, match="users.eve.role"):
        load_users(path)
