"""The bulk path's fast lane: plain CSV records and Parquet batches validated as columns, every other
row by the row rules.

``validate.Validator`` is the one definition of what a row may hold. Applying it value by value costs
about 20 µs a row in Python (a minute and a half of the 1M platform's load); this module parses a block
of plain records (``readers.PlainBlock``) with Arrow's CSV reader, or takes a Parquet batch
(``readers.ParquetBatch``) as it is, and checks each column with Arrow compute, then accepts a row here
only where it can vouch that the row rules accept it with the very same typed values. Every other row of the block (an empty required value, a timestamp with a fraction
or an odd offset, ``+5`` as a count, an over-long text, ...) goes through the row rules, which accept
it or say why not, exactly as the row path does. So the fast lane is a subset of the rules, never a
second version of them: a row it is unsure of costs a little time, never a different answer.

What is accepted here from a string column (all of CSV's), per column kind (anything else goes to the
row rules):

- id, text: any string within the character cap (and, when indexed, within the index entry's bytes);
- enum: one of the choices, exactly;
- topics: any string within the character cap, split on ``;`` and trimmed as the row rules do;
- count: 1 to 18 ASCII digits;
- bool: true/false, 1/0, yes/no in lower, Title or UPPER case;
- ts: ``YYYY-MM-DD[T ]HH:MM:SS`` with 0, 3 or 6 digits of fraction, then ``Z`` or ``±HH:MM`` (or none,
  when the dataset's time zone is a fixed offset), a real date and time, inside the stored range.

From Parquet's typed columns: an integer count that is not negative (and fits 64 bits), a boolean, a
timestamp of seconds, milliseconds or microseconds (naive ones only with a fixed-offset time zone). Any
other type: the row rules. Milliseconds are computed as the row rules compute them (``_epoch_millis``).

Values come out as the bulk path stages them (``shape.arrow_column``): timestamps as epoch milliseconds.
"""

from __future__ import annotations

import io
from datetime import timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ringscope.ingest import shape
from ringscope.ingest.readers import ParquetBatch, PlainBlock, Row
from ringscope.ingest.spec import (INT64_MAX, MAX_INDEXED_BYTES, RESERVED_IDS, TOPIC_SEPARATOR, TOPIC_TRIM, TS_MAX,
                                   TS_MIN)
from ringscope.ingest.validate import Validator

_TRUE = ["true", "True", "TRUE", "1", "yes", "Yes", "YES"]
_FALSE = ["false", "False", "FALSE", "0", "no", "No", "NO"]
_TIMESTAMP = (r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
              r"(?:\.(?P<f>\d{3}|\d{6}))?(?P<z>Z|[+-]\d{2}:\d{2})?$")
_TS_MIN_S = int(TS_MIN.timestamp())
_TS_MAX_S = int(TS_MAX.timestamp())
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000}  # nanoseconds: Python's datetime has none: row rules


class ColumnarChecks:
    """The checks of one file's ``Validator`` as Arrow compute over a block's string columns."""

    def __init__(self, validator: Validator):
        if validator.kept:
            raise ValueError("kept unknown columns are typed row by row; use the row rules")
        self.validator = validator
        self.header = list(validator.columns)
        self.spec = validator.spec
        self.present = {c.name for c in validator.known}
        offset = validator.tz.utcoffset(None) if isinstance(validator.tz, timezone) else None
        # Seconds to subtract from a timestamp without an offset; None: such values go to the row rules
        # (a zone with daylight saving time has no one offset).
        self.naive_offset = None if offset is None else int(offset.total_seconds())
        self.options = (
            pacsv.ReadOptions(column_names=self.header, use_threads=False, block_size=1 << 26),
            pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            pacsv.ConvertOptions(column_types={name: pa.string() for name in self.header},
                                 include_columns=[c.name for c in validator.known],
                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )

    def parse(self, block: PlainBlock | ParquetBatch) -> pa.Table | None:
        """The block's known columns (a CSV block's as strings), or None when Arrow refuses a CSV block
        (bytes that are not UTF-8, a record with the wrong number of values): then every row of it takes
        the row rules."""
        if isinstance(block, ParquetBatch):
            return pa.Table.from_batches([block.batch]).select([c.name for c in self.validator.known])
        try:
            table = pacsv.read_csv(io.BytesIO(block.data), *self.options)
        except (pa.ArrowInvalid, pa.ArrowException):
            return None
        return table if table.num_rows == block.lines else None

    def check(self, table: pa.Table) -> tuple[dict[str, pa.Array], np.ndarray]:
        """Typed, staged columns of every spec column, and which rows they vouch for."""
        rows = table.num_rows
        ok = np.ones(rows, dtype=bool)
        typed: dict[str, pa.Array] = {}
        for column in self.spec.columns:
            if column.name not in self.present:
                if column.required:  # the file lacks a required column: the reader refused it already
                    ok[:] = False
                typed[column.name] = pa.nulls(rows, shape._ARROW[column.kind])
                continue
            values = table.column(column.name).combine_chunks()
            if pa.types.is_large_string(values.type):
                values = values.cast(pa.string())
            if pa.types.is_string(values.type):  # the row rules read "" as empty, as they read null
                empty = _mask(pc.or_kleene(pc.is_null(values), pc.equal(values, "")))
            else:
                empty = _mask(pc.is_null(values))
            if column.required:
                ok &= ~empty
            array, good = self._typed(column, values, empty)
            ok &= good | empty
            typed[column.name] = array
        for (stem, name), (pattern, _) in RESERVED_IDS.items():
            if stem == self.spec.stem and name in self.present:
                taken = np.fromiter((isinstance(v, str) and pattern.fullmatch(v) is not None
                                     for v in table.column(name).to_pylist()), bool, rows)
                ok &= ~taken
        return typed, ok

    def _typed(self, column, values: pa.Array, empty: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """The column's staged values (null where empty) and where the row rules would take them as they are."""
        null_where_empty = pa.array(empty)
        kind, kind_of = column.kind, values.type
        if pa.types.is_string(kind_of):
            return self._typed_text(column, values, null_where_empty)
        none = np.zeros(len(values), dtype=bool)  # a type this lane does not vouch for: the row rules decide
        if kind == "count" and pa.types.is_integer(kind_of):
            if pa.types.is_unsigned_integer(kind_of):
                good = _mask(pc.less_equal(values, pa.scalar(INT64_MAX, pa.uint64())))
            else:
                good = _mask(pc.greater_equal(values, 0))
            as_int = pc.cast(pc.if_else(pa.array(good), values, pa.scalar(0, kind_of)), pa.int64())
            return pc.if_else(null_where_empty, None, as_int), good
        if kind == "bool" and pa.types.is_boolean(kind_of):
            return pc.if_else(null_where_empty, None, values), ~empty
        if kind == "ts" and pa.types.is_timestamp(kind_of) and kind_of.unit in _PER_SECOND:
            ticks = pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
            micros = ticks * (1_000_000 // _PER_SECOND[kind_of.unit])
            good = np.abs(ticks) < (1 << 62) // 1_000_000  # no overflow below; far outside the range anyway
            if kind_of.tz is None:
                if self.naive_offset is None:
                    good &= False
                else:
                    micros = micros - self.naive_offset * 1_000_000
            seconds = np.floor_divide(micros, 1_000_000)
            good &= (seconds >= _TS_MIN_S) & (seconds < _TS_MAX_S)
            millis = _epoch_millis(np.where(good, micros, 0))
            return pc.if_else(null_where_empty, None, pa.array(millis)), good
        return pa.nulls(len(values), shape._ARROW[kind]), none

    def _typed_text(self, column, values: pa.Array, null_where_empty: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """A column of strings (all of CSV; Parquet's string columns), whatever its kind."""
        kind = column.kind
        if kind in ("id", "text", "enum"):
            good = _mask(pc.less_equal(pc.utf8_length(values), self.validator.limits.max_field_chars))
            if column.indexed:
                good &= _mask(pc.less_equal(pc.binary_length(values), MAX_INDEXED_BYTES))
            if kind == "enum":
                good &= _mask(pc.is_in(values, value_set=pa.array(column.choices, pa.string())))
            return pc.if_else(null_where_empty, None, values), good
        if kind == "topics":
            good = _mask(pc.less_equal(pc.utf8_length(values), self.validator.limits.max_field_chars))
            return _topic_lists(values, null_where_empty), good
        if kind == "count":
            good = _mask(pc.match_substring_regex(values, r"^[0-9]{1,18}$"))
            digits = pc.if_else(pa.array(good), values, "0")
            return pc.if_else(null_where_empty, None, pc.cast(digits, pa.int64())), good
        if kind == "bool":
            true, false = _mask(pc.is_in(values, value_set=pa.array(_TRUE))), \
                _mask(pc.is_in(values, value_set=pa.array(_FALSE)))
            return pc.if_else(null_where_empty, None, pa.array(true)), true | false
        if kind == "ts":
            millis, good = self._timestamps(values)
            return pc.if_else(null_where_empty, None, pa.array(millis)), good
        raise AssertionError(f"unknown column kind {kind}")

    def _timestamps(self, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Epoch milliseconds of the timestamps in the one shape checked here, and where that shape holds."""
        parts = pc.extract_regex(values, _TIMESTAMP)
        matched = _mask(pc.is_valid(parts))
        fields = {}
        for name in ("y", "mo", "d", "h", "mi", "s"):
            text = pc.if_else(pa.array(matched), pc.struct_field(parts, name), "0")
            fields[name] = pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)
        y, mo, d, h, mi, s = (fields[k] for k in ("y", "mo", "d", "h", "mi", "s"))
        zone = pc.struct_field(parts, "z")
        has_zone = matched & _mask(pc.not_equal(zone, ""))  # an absent optional group reads as ""
        utc = has_zone & _mask(pc.equal(zone, "Z"))
        numeric = has_zone & ~utc
        zone_text = pc.if_else(pa.array(numeric), zone, "+00:00")
        sign = np.where(_mask(pc.starts_with(zone_text, "-")), -1, 1)
        zh = pc.cast(pc.utf8_slice_codeunits(zone_text, 1, 3), pa.int64()).to_numpy(zero_copy_only=False)
        zm = pc.cast(pc.utf8_slice_codeunits(zone_text, 4, 6), pa.int64()).to_numpy(zero_copy_only=False)
        offset = sign * (zh * 3600 + zm * 60)
        good = matched & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= _days_in_month(y, mo)) & (h <= 23) \
            & (mi <= 59) & (s <= 59) & (zh <= 23) & (zm <= 59)
        if self.naive_offset is None:
            good &= has_zone
        else:
            offset = np.where(has_zone, offset, self.naive_offset)
        fraction = pc.struct_field(parts, "f")
        digits = pc.if_else(pa.array(matched), pc.utf8_rpad(fraction, 6, "0"), "000000")
        micros = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
        seconds = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset
        good &= (seconds >= _TS_MIN_S) & (seconds < _TS_MAX_S)
        return _epoch_millis(np.where(good, seconds * 1_000_000 + micros, 0)), good


def _topic_lists(values: pa.Array, null_where_empty: pa.Array) -> pa.Array:
    """Each text split on ``;``, its items trimmed of ASCII whitespace and the empty ones dropped, as the row
    rules read a topics text (``Validator._topics``); null where empty or where no item is left. O(length)."""
    rows = len(values)
    split = pc.split_pattern(pc.fill_null(values, ""), TOPIC_SEPARATOR)
    parents = pc.list_parent_indices(split).to_numpy(zero_copy_only=False)
    items = pc.utf8_trim(pc.list_flatten(split), characters=TOPIC_TRIM)
    keep = _mask(pc.not_equal(items, ""))
    counts = np.bincount(parents[keep], minlength=rows)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    none = _mask(null_where_empty) | (counts == 0)
    return pa.ListArray.from_arrays(offsets, items.filter(pa.array(keep)), mask=pa.array(none))


def validated_block(checks: ColumnarChecks, block: PlainBlock | ParquetBatch) -> tuple[pa.Table | None, list[Row]]:
    """The rows of ``block`` this lane vouches for as a staged table (spec columns and ``_i``, the row's
    index in the block), and the other rows, for the row rules; (None, every row) if Arrow refuses it."""
    table = checks.parse(block)
    if table is None:
        return None, block.rows(list(range(block.lines)))
    typed, ok = checks.check(table)
    index = pa.array(np.arange(block.lines, dtype=np.int64))
    staged = pa.table({"_i": index, **typed})
    if ok.all():
        return staged, []
    return staged.filter(pa.array(ok)), block.rows(np.flatnonzero(~ok).tolist())


def staged_rows(spec, rows: list[dict[str, Any]], indices: list[int]) -> pa.Table:
    """Rows the row rules accepted, staged as ``validated_block`` stages its own (with ``_i``)."""
    columns = {"_i": pa.array(indices, pa.int64())}
    for column in spec.columns:
        columns[column.name] = shape.arrow_column(column.kind, [r.get(column.name) for r in rows])
    return pa.table(columns)


def _epoch_millis(micros: np.ndarray) -> np.ndarray:
    """Microseconds since 1970 as the row rules stage them: ``int(moment.timestamp() * 1000)``, that is the
    microseconds divided by 10**6 as a float (exact below 2**53, the quotient rounded as Python rounds it),
    times 1000 as a float, truncated toward zero; not simply ``micros // 1000``, which differs before
    1970 (a floor, not a truncation). O(n)."""
    return np.trunc(micros.astype(np.float64) / 1e6 * 1000).astype(np.int64)


def _mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null as False."""
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def _days_in_month(y: np.ndarray, mo: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0, 0, 0, 0, 0])
    return days[np.clip(mo, 0, 13)] + ((mo == 2) & leap)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level
    Date Algorithms", 2013), vectorised; O(n)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468
