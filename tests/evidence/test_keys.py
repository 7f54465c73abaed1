"""The installation's signing key (no database): made once, private, shared by racing processes."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from ringscope.common.errors import SettingError
from ringscope.evidence.keys import (
    HMAC_ENV, SIGNING_ENV, installation_key, installation_key_path, publishable_key, signer_from_env,
)
from ringscope.evidence.manifest import ED25519, HMAC_SHA256


def test_the_key_is_made_once_private_and_the_same_for_everyone_racing_to_make_it(tmp_path):
    env = {"RINGSCOPE_HOME": str(tmp_path / "home")}
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: installation_key(env), range(16)))
    path = installation_key_path(env)
    assert len({k.public_key().public_bytes_raw() for k in keys}) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["evidence-signing.pem", "evidence-signing.pub.pem"]
    assert path.with_name("evidence-signing.pub.pem").read_bytes() == publishable_key(env).pem


def test_signing_prefers_the_environment_then_the_installation(tmp_path):
    home = {"RINGSCOPE_HOME": str(tmp_path / "home")}
    assert signer_from_env(home).algorithm == ED25519 and signer_from_env(home).public_key
    assert signer_from_env({**home, HMAC_ENV: "secret"}).algorithm == HMAC_SHA256
    with pytest.raises(SettingError, match=f"{SIGNING_ENV}=.*cannot read the key file"):
        signer_from_env({**home, SIGNING_ENV: str(tmp_path / "absent.pem")})
    note = publishable_key({**home, HMAC_ENV: "secret"}).note
    assert note and "signed with HMAC-SHA256" in note


def test_a_home_where_no_key_can_be_made_is_one_clear_line(tmp_path):
    home = tmp_path / "home"
    home.write_text("a file, not a folder")
    with pytest.raises(SettingError, match="cannot create the installation's signing key"):
        installation_key({"RINGSCOPE_HOME": str(home)})
