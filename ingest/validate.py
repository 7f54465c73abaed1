"""Turn a raw row into typed values following its FileSpec, or say why it is rejected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any

from ringscope.ingest.spec import Column, FileSpec

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class Rejected(Exception):
    """A row failed validation; the message is the reason written to the rejects file."""


@dataclass
class Validator:
    spec: FileSpec
    columns: list[str]  # the columns the file has
    tz: tzinfo = timezone.utc  # for timestamps without an offset
    keep_unknown: bool = False

    def __post_init__(self) -> None:
        present = set(self.columns)
        self.known = [c for c in self.spec.columns if c.name in present]
        self.unknown = [name for name in self.columns if name not in self.spec.names]
        self.missing_required = [name for name in self.spec.required if name not in present]

    def convert(self, values: dict[str, Any]) -> dict[str, Any]:
        """Typed values keyed by column (``None`` where empty); unknown columns under ``extra``."""
        if "__error__" in values:
            raise Rejected(values["__error__"])
        out: dict[str, Any] = {}
        for column in self.spec.columns:
            raw = values.get(column.name)
            value = None if _empty(raw) else _read(column, raw, self.tz)
            if value is None and column.required:
                raise Rejected(f"missing required value in column {column.name}")
            out[column.name] = value
        if self.keep_unknown:
            extra = {k: v for k, v in values.items() if k not in self.spec.names and not _empty(v)}
            if extra:
                out["extra"] = {k: _plain(v) for k, v in extra.items()}
        return out


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _read(column: Column, value: Any, tz: tzinfo) -> Any:
    kind = column.kind
    if kind in ("id", "text"):
        return value if isinstance(value, str) else str(value)
    if kind == "ts":
        return parse_timestamp(column.name, value, tz)
    if kind == "count":
        return _count(column.name, value)
    if kind == "bool":
        return parse_bool(column.name, value)
    if kind == "enum":
        text = str(value)
        if text not in column.choices:
            raise Rejected(f"{column.name}={text!r} is not one of {', '.join(column.choices)}")
        return text
    raise AssertionError(f"unknown column kind {kind}")


def parse_timestamp(name: str, value: Any, tz: tzinfo) -> datetime:
    """ISO 8601 to an aware UTC datetime; no offset means the dataset's time zone."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise Rejected(f"{name}={text!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc)


def parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Rejected(f"{name}={value!r} is not a boolean (true/false, 1/0, yes/no)")


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise Rejected(f"{name}={value!r} is not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                raise Rejected(f"{name}={value!r} is not a whole number") from None
            if not as_float.is_integer():
                raise Rejected(f"{name}={value!r} is not a whole number") from None
            number = int(as_float)
    if number < 0:
        raise Rejected(f"{name}={number} is negative")
    return number


def _plain(value: Any) -> Any:
    """Unknown columns are kept as-is when they are Neo4j property values, else as text."""
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
