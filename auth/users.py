"""The team's users: a YAML file of names, roles and bcrypt password hashes.

    users:
      alice: {role: investigator, password_hash: "$2b$12$..."}

``RINGSCOPE_USERS`` names the file (default ``users.yaml`` in ``RINGSCOPE_HOME``). Create or
change a user with ``ringscope users add NAME --role ROLE`` (asks for the
password). The app signs people in against this file (or OIDC through
Streamlit's ``st.login`` when configured); the CLI uses it to look up the role
of ``--actor``.
"""

from __future__ import annotations

import os
from pathlib import Path

import bcrypt
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ringscope.auth.roles import ROLES, Actor
from ringscope.common.errors import RingscopeError, SettingError
from ringscope.common.paths import ringscope_home



class UserRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    password_hash: str | None = None  # None: sign-in only through OIDC


class UnknownUser(RingscopeError):
    pass


def users_path() -> Path:
    """``RINGSCOPE_USERS``, else ``users.yaml`` in ``RINGSCOPE_HOME`` (never inside the installed package)."""
    explicit = os.environ.get("RINGSCOPE_USERS")
    if explicit:
        return Path(explicit).expanduser()
    return ringscope_home() / "users.yaml"


def load_users(path: Path | None = None) -> dict[str, UserRecord]:
    path = path or users_path()
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        users = {name: UserRecord.model_validate(rec) for name, rec in (raw.get("users") or {}).items()}
    except (yaml.YAMLError, ValidationError, AttributeError) as exc:
        raise SettingError(f"users file {path}: {str(exc).splitlines()[0]}") from None
    for name, rec in users.items():
        if rec.role not in ROLES:
            raise SettingError(f"users file {path}: users.{name}.role: {rec.role!r} is not one of {', '.join(ROLES)}")
    return users


def save_user(name: str, role: str, password: str | None, path: Path | None = None) -> None:
    path = path or users_path()
    if role not in ROLES:
        raise SettingError(f"--role {role!r} is not one of {', '.join(ROLES)}")
    raw = {}
    if path.exists():
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    users = raw.setdefault("users", {})
    record = {"role": role}
    if password:
        record["password_hash"] = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    users[name] = record
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=True), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def authenticate(name: str, password: str, path: Path | None = None) -> Actor | None:
    """The actor when the password matches, else None (no hint which part was wrong)."""
    record = load_users(path).get(name)
    if record is None or not record.password_hash:
        bcrypt.checkpw(b"x", bcrypt.hashpw(b"y", bcrypt.gensalt(4)))  # similar time either way
        return None
    if bcrypt.checkpw(password.encode(), record.password_hash.encode()):
        return Actor(name, record.role)
    return None


def actor_for(name: str, path: Path | None = None) -> Actor:
    """The CLI's ``--actor``: the user's role from the users file."""
    record = load_users(path).get(name)
    if record is None:
        raise UnknownUser(f"--actor {name!r} is not in the users file {path or users_path()}; "
                          "add it with `ringscope users add NAME --role ROLE`")
    return Actor(name, record.role)
