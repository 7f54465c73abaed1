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


# path -> (the file's stat key, what it held): the app checks the users file on every click, and parsing the YAML
# each time cost ~3 ms a check (100 checks for one Overview at 1M, py-spy); an edited file is seen at once.
_parsed: dict[Path, tuple[tuple[int, int, int], dict[str, UserRecord]]] = {}


def load_users(path: Path | None = None) -> dict[str, UserRecord]:
    """The users file's records by name (an empty dict when there is no file); re-read whenever the file changes."""
    path = path or users_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _parsed.get(path)
    if cached is not None and cached[0] == key:
        return dict(cached[1])
    users = _parse_users(path)
    _parsed[path] = (key, users)
    return dict(users)


def _parse_users(path: Path) -> dict[str, UserRecord]:
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
        check_password_length(password)
        record["password_hash"] = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    users[name] = record
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=True), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; longer ones are refused rather than silently cut


class PasswordTooLong(SettingError):
    pass


def check_password_length(password: str) -> None:
    size = len(password.encode("utf-8"))
    if size > MAX_PASSWORD_BYTES:
        raise PasswordTooLong(f"a password may have at most {MAX_PASSWORD_BYTES} bytes (UTF-8); this one has {size}")


_dummy_hashes: dict[bytes, bytes] = {}


def _dummy_hash(like: bytes | None) -> bytes:
    """A hash of nothing, at the cost of the file's real hashes, so an unknown name takes as long as a known one."""
    setting = like[:7] if like and like.startswith(b"$2") else b"$2b$12$"
    if setting not in _dummy_hashes:
        rounds = int(setting[4:6])
        _dummy_hashes[setting] = bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds))
    return _dummy_hashes[setting]


def authenticate(name: str, password: str, path: Path | None = None) -> Actor | None:
    """The actor when the password matches, else None (no hint which part was wrong).

    A known and an unknown name cost the same: both check a bcrypt hash of the
    same cost. A password over 72 bytes raises ``PasswordTooLong``.
    """
    check_password_length(password)
    users = load_users(path)
    record = users.get(name)
    real = record.password_hash.encode() if record is not None and record.password_hash else None
    sample = real or next((u.password_hash.encode() for u in users.values() if u.password_hash), None)
    matches = bcrypt.checkpw(password.encode("utf-8"), real or _dummy_hash(sample))
    if real is None or not matches:
        return None
    return Actor(name, record.role)


def actor_for(name: str, path: Path | None = None) -> Actor:
    """The CLI's ``--actor``: the user's role from the users file."""
    record = load_users(path).get(name)
    if record is None:
        raise UnknownUser(f"--actor {name!r} is not in the users file {path or users_path()}; "
                          "add it with `ringscope users add NAME --role ROLE`")
    return Actor(name, record.role)
