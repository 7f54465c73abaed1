"""Vectorised conversion of integer arrays into the strings the input format wants.

Everything here turns numpy integer arrays into Arrow string arrays without a
Python-level loop, so a million accounts or four million likes are encoded in
well under a second: fixed-width values (ids, timestamps, hex hashes) are built
as a byte matrix and handed to Arrow as one buffer; variable-width ones (IPv4
addresses, texts) are joined column-wise with Arrow compute.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate.clock import DAY, TZ_OFFSET

_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def strings_from_matrix(matrix: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """An (n, width) uint8 matrix of UTF-8 bytes -> an Arrow string array, one row per value."""
    n, width = matrix.shape
    data = np.ascontiguousarray(matrix, dtype=np.uint8).reshape(-1)
    if n * width < 2**31 - 1:
        offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
        kind = pa.string()
    else:  # pragma: no cover - only for tens of millions of long values
        offsets = np.arange(0, n * width + 1, width, dtype=np.int64)
        kind = pa.large_string()
    validity = None
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
    array = pa.Array.from_buffers(kind, n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)])
    return array if kind == pa.string() else array.cast(pa.string())


_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers, as an (n, width) byte matrix."""
    v = np.asarray(values, dtype=np.int64)
    out = np.empty((v.size, width), dtype=np.uint8)
    pos = width
    while pos >= 2:
        v, low = np.divmod(v, 100)
        out[:, pos - 2:pos] = _PAIRS[low]
        pos -= 2
    if pos == 1:
        out[:, 0] = 48 + v % 10
    return out


def hex_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Upper-case hex digits of non-negative integers (low `width` nibbles), as a byte matrix."""
    values = np.asarray(values, dtype=np.uint64)
    shifts = (4 * np.arange(width - 1, -1, -1)).astype(np.uint64)
    return _HEX[((values[:, None] >> shifts) & np.uint64(15)).astype(np.intp)]


def _literal(text: str, n: int) -> np.ndarray:
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return np.broadcast_to(raw, (n, raw.size))


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int, mask: np.ndarray | None = None) -> pa.Array:
    """`prefix` + zero-padded number: prefixed_ids("a", [1, 2], 6) -> a000001, a000002 (masked -> null)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    raw = np.frombuffer(prefix.encode("utf-8"), dtype=np.uint8)
    out = np.empty((numbers.size, raw.size + width), dtype=np.uint8)
    out[:, :raw.size] = raw
    out[:, raw.size:] = digit_matrix(numbers, width)
    return strings_from_matrix(out, mask)


def id_width(count: int) -> int:
    """Digits for ids numbered 1..count, at least 6 (a000001)."""
    return max(6, len(str(max(count, 1))))


def with_prefix(prefix: str, body: np.ndarray) -> pa.Array:
    """A literal prefix followed by a fixed-width byte matrix (nicknames such as 小红薯 + hex)."""
    return strings_from_matrix(np.hstack([_literal(prefix, body.shape[0]), body]))


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) of days since 1970-01-01 (H. Hinnant's algorithm)."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


_CLOCK: list[np.ndarray] = []


def _clock_faces() -> np.ndarray:
    """HH:MM:SS for every second of a day, as an (86400, 8) byte matrix (built once)."""
    if not _CLOCK:
        secs = np.arange(DAY)
        face = np.empty((DAY, 8), dtype=np.uint8)
        face[:, 0:2] = _PAIRS[secs // 3600]
        face[:, 2] = ord(":")
        face[:, 3:5] = _PAIRS[secs // 60 % 60]
        face[:, 5] = ord(":")
        face[:, 6:8] = _PAIRS[secs % 60]
        _CLOCK.append(face)
    return _CLOCK[0]


def _calendar(first_day: int, last_day: int) -> np.ndarray:
    """YYYY-MM-DD for each day in [first_day, last_day], as a byte matrix."""
    year, month, day = civil_from_days(np.arange(first_day, last_day + 1))
    page = np.empty((year.size, 10), dtype=np.uint8)
    page[:, 0:4] = digit_matrix(year, 4)
    page[:, 4] = page[:, 7] = ord("-")
    page[:, 5:7] = _PAIRS[month]
    page[:, 8:10] = _PAIRS[day]
    return page


def iso_times(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Unix seconds -> ISO 8601 in China time, e.g. 2025-06-29T21:13:05+08:00 (masked -> null)."""
    local = np.asarray(seconds, dtype=np.int64) + TZ_OFFSET
    days, secs = np.divmod(local, DAY)
    out = np.empty((local.size, 25), dtype=np.uint8)
    if local.size:
        first = int(days.min())
        out[:, 0:10] = _calendar(first, int(days.max()))[days - first]
    out[:, 10] = ord("T")
    out[:, 11:19] = _clock_faces()[secs]
    out[:, 19:25] = np.frombuffer(b"+08:00", dtype=np.uint8)
    return strings_from_matrix(out, mask)


def ipv4_strings(addresses: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """IPv4 addresses held as integers -> dotted quads (masked or negative -> null)."""
    addresses = np.asarray(addresses, dtype=np.int64)
    invalid = addresses < 0
    if mask is not None:
        invalid = invalid | mask
    safe = np.where(invalid, 0, addresses)
    octets = [pa.array((safe >> shift) & 255).cast(pa.string()) for shift in (24, 16, 8, 0)]
    joined = pc.binary_join_element_wise(*octets, ".")
    if invalid.any():
        joined = pc.if_else(pa.array(invalid), pa.scalar(None, pa.string()), joined)
    return joined


def splitmix64(values: np.ndarray) -> np.ndarray:
    """A fast, well-mixed 64-bit hash of integers (stands in for a salted phone-number hash)."""
    with np.errstate(over="ignore"):
        z = np.asarray(values, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def join(*parts, sep: str = "") -> pa.Array:
    """Element-wise string concatenation of Arrow arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, sep)


def pick(choices: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    """choices[index] for an integer index array, as an Arrow string array."""
    return pa.array(list(choices), type=pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def blank_to_null(array: pa.Array) -> pa.Array:
    """Empty strings -> null (optional text columns are absent rather than empty)."""
    empty = pc.equal(array, "")
    return pc.if_else(empty, pa.scalar(None, pa.string()), array)
