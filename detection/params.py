"""Detector parameters from the policy file: one validation for every detector.

Each detector module has a frozen ``...Params`` dataclass whose defaults are
the detector's defaults. A policy entry's ``params`` mapping is turned into
that dataclass here, so a misspelt key or a value of the wrong kind is named
(detector, key, expected type) before any work starts. A field's value is
converted by the type of its default (a ``pd.Timedelta`` from text such as
``15min``; ``int``, ``float``, ``str`` by their constructors); a field of any
other kind declares its own conversion with :func:`policy_field`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pandas as pd

from ringscope.common.errors import SettingError

P = TypeVar("P")

_SCALARS = (bool, int, float, str)


def policy_field(default: Any, parse: Callable[[Any], Any], expected: str) -> Any:
    """A dataclass field whose policy value goes through ``parse`` (ValueError or
    TypeError if bad); ``expected`` names the kind in the error. O(1)."""
    return dataclasses.field(default=default, metadata={"parse": parse, "expected": expected})


def as_mapping(value: Any) -> dict | None:
    """A policy value that must be a mapping (``{device: 50}``) or null, as a dict or None. O(len)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"not a mapping: {value!r}")
    return dict(value)


def as_names(value: Any) -> frozenset[str]:
    """A policy value that must be a list of names, as a frozenset. O(len)."""
    if isinstance(value, (str, bytes, Mapping)) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"not a list of names: {value!r}")
    return frozenset(value)


def as_duration(value: Any) -> pd.Timedelta:
    """``15min``, ``2h``, ``1 days`` -> a Timedelta; a bare number is seconds (not pandas' nanoseconds). O(1)."""
    if isinstance(value, bool):
        raise TypeError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        return pd.Timedelta(seconds=value)
    return pd.Timedelta(value)


def as_share(value: Any) -> float:
    """A share of a whole, above 0 and at most 1 (``0.02``), as a float. O(1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError(f"not a share in (0, 1]: {value!r}")
    return float(value)


def as_scales(value: Any) -> tuple[float, ...]:
    """A non-empty list of multiples, each a number of at least 1 (``[1, 7]``), as a sorted tuple without
    repeats. O(len log len)."""
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise TypeError(f"not a list of numbers: {value!r}")
    items = list(value)
    if not items or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 1 for v in items):
        raise ValueError(f"not a non-empty list of numbers >= 1: {value!r}")
    return tuple(sorted({float(v) for v in items}))


def as_bool(value: Any) -> bool:
    """``true/false``, ``yes/no``, ``1/0`` (any case) -> bool; ``bool("false")`` would be True. O(1)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _conversion(field: dataclasses.Field, default: Any) -> tuple[Callable[[Any], Any], str]:
    """(parse, expected) for one field: declared with :func:`policy_field`, else by its default's type."""
    if "parse" in field.metadata:
        return field.metadata["parse"], field.metadata["expected"]
    if isinstance(default, pd.Timedelta):
        return as_duration, "duration (e.g. 15min, or seconds)"
    if isinstance(default, bool):
        return as_bool, "boolean (true or false)"
    if isinstance(default, _SCALARS):
        return type(default), type(default).__name__
    raise TypeError(f"{field.name}: declare how the policy sets it with policy_field()")


def params_from_policy(cls: type[P], detector: str, values: Mapping[str, Any]) -> P:
    """``cls`` (a detector's frozen params dataclass) with the policy's ``values`` for ``detector``.

    An unknown key or a value that does not convert is a ``SettingError``
    naming ``detectors.<detector>.params.<key>``. O(number of fields).
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise SettingError(f"detection policy: detectors.{detector}.params.{unknown[0]}: unknown parameter "
                           f"(known: {', '.join(sorted(fields))})")
    defaults = cls()
    converted = {}
    for key, value in values.items():
        parse, expected = _conversion(fields[key], getattr(defaults, key))
        try:
            converted[key] = parse(value)
        except (TypeError, ValueError):
            raise SettingError(f"detection policy: detectors.{detector}.params.{key}: {value!r} is not a valid "
                               f"{expected}") from None
    return cls(**converted)
