"""Reading a validated YAML policy file, with errors that name the file and the key at fault.

Shared by every policy (``detection/config.py``, ``sanctions/policy.py``,
``sweep/policy.py``, ``health/policy.py``), so all report a bad file the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ringscope.common.errors import SettingError


def read_yaml(path: Path, what: str) -> object:
    """The file's YAML as plain data; a missing file or bad YAML is a ``SettingError``."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingError(f"{what} {path}: file not found") from None
    except yaml.YAMLError as exc:
        raise SettingError(f"{what} {path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(dotted key, message) of a pydantic error's first problem; '(top level)' for the root."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return where, first["msg"]


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], raw: object, source: str) -> M:
    """``raw`` (what YAML loads) as ``model``; a problem is one ``SettingError`` naming ``source`` and the key."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        where, message = first_error(exc)
        raise SettingError(f"{source}: {where}: {message}") from None


def policy_file(path: Path | None, env: str, default: Path) -> Path:
    """The policy file in force: ``path``, else the environment variable ``env``, else the shipped ``default``."""
    return Path(path or os.environ.get(env) or default)


def load_validated(model: type[M], path: Path, what: str) -> M:
    """The file at ``path`` read and validated as ``model``; errors name ``what``, the file and the key."""
    return validated(model, read_yaml(path, what), f"{what} {path}")
