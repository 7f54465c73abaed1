"""Reading a validated YAML policy file, with errors that name the file and the key at fault.

Shared by the detection policy (``detection/config.py``) and the sanction
policy (``sanctions/policy.py``), so both report a bad file the same way.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

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
