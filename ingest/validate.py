"""Turn a raw row into typed values following its FileSpec, or say why it is rejected.

This module and ``readers.py`` are the one place the rules live (the normal load and any bulk
path share them). A row is accepted only if the database can store every value as it stands:

- text at most ``Limits.max_field_chars`` characters, and real Unicode (a JSON escape can make a
  lone surrogate, which no UTF-8 encoder writes);
- ids and indexed names at most ``MAX_INDEXED_BYTES`` of UTF-8 (Neo4j refuses bigger index entries);
- whole numbers within 64 bits (Neo4j's integers), counts not negative;
- timestamps between ``TS_MIN`` and ``TS_MAX`` (what the detectors' time columns can hold);
- topics (``notes.topics``, an extension): a text of items separated by ``;``, or a JSON array or
  Parquet list of texts, each item trimmed of ASCII whitespace and empty ones dropped (none left: no
  value); within the character cap as the ``;``-joined text, and no item of a list holding ``;``;
- no id from a space reserved for ringscope (``spec.RESERVED_IDS``);
- extra columns kept (``--keep-unknown-columns``) only under names a property may have and
  ringscope does not keep for itself (``graph.model.RESERVED_PROPERTIES``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable

from ringscope.graph.model import RESERVED_PROPERTIES
from ringscope.ingest.spec import (FIELD_SETTING, INT64_MAX, INT64_MIN, MAX_INDEXED_BYTES, RESERVED_IDS,
                                   TOPIC_SEPARATOR, TOPIC_TRIM, TS_MAX, TS_MIN, Column, FileSpec, Limits)

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOWN = 60  # characters of a bad value quoted in a reason


class Rejected(Exception):
    """A row failed validation; the message is the reason written to the rejects file."""


def shown(value: Any, limit: int = _SHOWN) -> str:
    """A value for a message: a number as it is, else quoted as repr (so control characters show
    escaped), cut to ``limit`` characters."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = value if isinstance(value, str) else value.isoformat() if isinstance(value, datetime) else str(value)
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text):,} characters)"
    return repr(text)


def unusable_name(name: str) -> str | None:
    """Why an extra column cannot become a property of that name, or None if it can."""
    if name in RESERVED_PROPERTIES:
        return "ringscope keeps that property itself"
    if not name or "\x00" in name or len(name) > 256 or (not name.isascii() and _SURROGATE.search(name)):
        return "not a usable property name"
    return None


@dataclass
class Validator:
    spec: FileSpec
    columns: list[str]  # the columns the file has
    tz: tzinfo = timezone.utc  # for timestamps without an offset
    keep_unknown: bool = False
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        present = set(self.columns)
        self.known = [c for c in self.spec.columns if c.name in present]
        self.unknown = [name for name in self.columns if name not in self.spec.names]
        self.missing_required = [name for name in self.spec.required if name not in present]
        # Unknown columns that may never be kept, and why; the others are kept when asked.
        self.unusable = {name: why for name in self.unknown if (why := unusable_name(name))}
        self.kept = [name for name in self.unknown if name not in self.unusable] if self.keep_unknown else []
        self._reserved = {name: rule for (stem, name), rule in RESERVED_IDS.items() if stem == self.spec.stem}
        # Each column's reader, made once: this runs for every value of every row.
        self._plan = [(c.name, c.required, self._reader(c)) for c in self.spec.columns]

    def convert(self, values: dict[str, Any]) -> dict[str, Any]:
        """Typed values keyed by column (``None`` where empty); kept unknown columns under ``extra``."""
        try:
            return self._convert(values)
        except RecursionError:
            raise Rejected("a value is nested too deeply to read") from None

    def _convert(self, values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        get = values.get
        for name, required, read in self._plan:
            raw = get(name)
            if raw is None or raw == "":
                if required:
                    raise Rejected(f"missing required value in column {name}")
                out[name] = None
            else:
                out[name] = read(raw)
        for name, (pattern, why) in self._reserved.items():
            if out[name] is not None and pattern.fullmatch(out[name]):
                raise Rejected(f"{name}={shown(out[name])} {why}")
        if self.kept:
            extra = {name: self._plain(name, values.get(name)) for name in self.kept if not _empty(values.get(name))}
            if extra:
                out["extra"] = extra
        return out

    def _reader(self, column: Column) -> Callable[[Any], Any]:
        """A function from a non-empty raw value of ``column`` to its typed value (or Rejected)."""
        name, kind, cap, tz = column.name, column.kind, self.limits.max_field_chars, self.tz
        if kind in ("id", "text"):
            indexed = column.indexed

            def read_text(value: Any) -> str:
                text = value if type(value) is str else str(value)
                if len(text) > cap or not text.isascii():
                    self._text(name, text)
                if indexed and len(text) > _INDEX_SAFE_CHARS:
                    _fits_index(name, text)
                return text
            return read_text
        if kind == "ts":
            return lambda value: parse_timestamp(name, value, tz)
        if kind == "count":
            return lambda value: _count(name, value)
        if kind == "bool":
            return lambda value: parse_bool(name, value)
        if kind == "topics":
            return lambda value: self._topics(name, value)
        if kind == "enum":
            choices = column.choices

            def read_enum(value: Any) -> str:
                text = value if isinstance(value, str) else str(value)
                if text not in choices:
                    raise Rejected(f"{name}={shown(text)} is not one of {', '.join(choices)}")
                return text
            return read_enum
        raise AssertionError(f"unknown column kind {kind}")

    def _text(self, name: str, text: str) -> str:
        if len(text) > self.limits.max_field_chars:
            raise Rejected(f"{name} is {len(text):,} characters long, over the cap of "
                           f"{self.limits.max_field_chars:,} ({FIELD_SETTING})")
        if not text.isascii() and _SURROGATE.search(text):
            raise Rejected(f"{name} holds a lone surrogate (an escape such as \\ud800 that is not a character); "
                           "it is not Unicode text and cannot be stored")
        return text

    def _topics(self, name: str, value: Any) -> list[str] | None:
        """A topics value as its list of items (None when no item is left); see the module's rules."""
        if isinstance(value, (list, tuple)):
            items = []
            for item in value:
                if item is None:
                    continue
                if not isinstance(item, str):
                    raise Rejected(f"{name} holds {shown(item)}, not a text (topics are a list of texts)")
                if TOPIC_SEPARATOR in item:
                    raise Rejected(f"{name} item {shown(item)} holds {TOPIC_SEPARATOR!r}, which separates topics")
                items.append(item)
            text = TOPIC_SEPARATOR.join(items)
        elif isinstance(value, dict):
            raise Rejected(f"{name}={shown(value)} is not topics (a text of items separated by "
                           f"{TOPIC_SEPARATOR!r}, or a list of texts)")
        else:
            text = value if isinstance(value, str) else str(value)
        self._text(name, text)
        topics = [t for item in text.split(TOPIC_SEPARATOR) if (t := item.strip(TOPIC_TRIM))]
        return topics or None

    def _plain(self, name: str, value: Any) -> Any:
        """An unknown column's value as a Neo4j property: a number or boolean as it is, else text."""
        if isinstance(value, bool) or isinstance(value, float):
            return value
        if isinstance(value, int):
            return _int64(name, value)
        return self._text(name, value if isinstance(value, str) else str(value))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


_INDEX_SAFE_CHARS = MAX_INDEXED_BYTES // 4  # at most 4 bytes a character in UTF-8


def _fits_index(name: str, text: str) -> None:
    if (size := len(text.encode("utf-8"))) > MAX_INDEXED_BYTES:
        raise Rejected(f"{name} is {size:,} bytes long; the database indexes it, and an index entry holds at most "
                       f"{MAX_INDEXED_BYTES:,} bytes")


def parse_timestamp(name: str, value: Any, tz: tzinfo) -> datetime:
    """ISO 8601 to an aware UTC datetime; no offset means the dataset's time zone."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise Rejected(f"{name}={shown(text)} is not an ISO 8601 timestamp") from None
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        moment = moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # the year leaves 1..9999 once moved to UTC
        moment = None
    if moment is None or not TS_MIN <= moment < TS_MAX:
        raise Rejected(f"{name}={shown(value)} is outside the timestamps ringscope stores "
                       f"({TS_MIN:%Y-%m-%d} to {TS_MAX:%Y-%m-%d} UTC, exclusive)")
    return moment


def parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Rejected(f"{name}={shown(value)} is not a boolean (true/false, 1/0, yes/no)")


def _int64(name: str, number: int) -> int:
    if not INT64_MIN <= number <= INT64_MAX:
        what = shown(number) if number.bit_length() < 4000 else f"a number of {number.bit_length():,} bits"
        raise Rejected(f"{name}={what} is beyond the 64-bit whole numbers the database stores")
    return number


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise Rejected(f"{name}={shown(value)} is not a whole number")
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
                raise Rejected(f"{name}={shown(value)} is not a whole number") from None
            if not as_float.is_integer():
                raise Rejected(f"{name}={shown(value)} is not a whole number") from None
            number = int(as_float)
    if number < 0:
        raise Rejected(f"{name}={shown(number)} is negative")
    return _int64(name, number)
