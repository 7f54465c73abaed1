import pytest

from ringscope.common.errors import SettingError
from ringscope.graph.settings import load_settings, parse_size


def test_without_neo4j_uri_the_local_server_is_used(tmp_path):
    s = load_settings({"RINGSCOPE_HOME": str(tmp_path), "RINGSCOPE_BOLT_PORT": "7777"})
    assert s.uses_local_server and s.uri == "bolt://127.0.0.1:7777"
    assert s.password is None  # never started: no password file yet


def test_neo4j_uri_and_friends_point_elsewhere(tmp_path):
    s = load_settings({"NEO4J_URI": "neo4j+s://x.databases.neo4j.io", "NEO4J_USERNAME": "u",
                       "NEO4J_PASSWORD": "p", "NEO4J_DATABASE": "fraud", "RINGSCOPE_HOME": str(tmp_path)})
    assert not s.uses_local_server
    assert (s.uri, s.username, s.password, s.database) == ("neo4j+s://x.databases.neo4j.io", "u", "p", "fraud")


@pytest.mark.parametrize("env,name", [
    ({"NEO4J_URI": "http://localhost:7474"}, "NEO4J_URI"),
    ({"RINGSCOPE_BOLT_PORT": "seven"}, "RINGSCOPE_BOLT_PORT"),
    ({"RINGSCOPE_BOLT_PORT": "70000"}, "RINGSCOPE_BOLT_PORT"),
    ({"RINGSCOPE_NEO4J_HEAP": "lots"}, "RINGSCOPE_NEO4J_HEAP"),
])
def test_a_bad_setting_is_named(env, name, tmp_path):
    with pytest.raises(SettingError, match=name):
        load_settings({"RINGSCOPE_HOME": str(tmp_path), **env})


def test_sizes():
    assert parse_size("X", "512m") == 512 << 20
    assert parse_size("X", "2G") == 2 << 30
