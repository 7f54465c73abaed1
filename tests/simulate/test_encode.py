"""The vectorised encoders agree with the obvious slow implementations."""

from __future__ import annotations

import gzip
import ipaddress
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa

from ringscope.simulate import write
from ringscope.simulate.clock import HOURLY, NOW, with_rhythm
from ringscope.simulate.encode import ipv4_strings, iso_times, prefixed_ids

CHINA = timezone(timedelta(hours=8))


def test_iso_times_match_datetime():
    rng = np.random.default_rng(0)
    t = np.r_[rng.integers(0, 4_102_444_800, 2000), 951_782_400, NOW, NOW - 1]
    expected = [datetime.fromtimestamp(int(x), CHINA).isoformat() for x in t]
    assert iso_times(t).to_pylist() == expected
    assert iso_times(np.array([5, 6]), np.array([False, True])).to_pylist() == [expected_at(5), None]


def expected_at(t: int) -> str:
    return datetime.fromtimestamp(t, CHINA).isoformat()


def test_ids_and_ips():
    assert prefixed_ids("a", np.array([1, 12, 999999]), 6).to_pylist() == ["a000001", "a000012", "a999999"]
    ips = np.array([0, 2**32 - 1, 3232235777, -1])
    assert ipv4_strings(ips).to_pylist() == ["0.0.0.0", "255.255.255.255", str(ipaddress.IPv4Address(3232235777)), None]


def test_block_gzip_is_one_valid_member(tmp_path, monkeypatch):
    monkeypatch.setattr(write, "GZIP_BLOCK", 1000)
    data = bytes(np.random.default_rng(1).integers(0, 20, 25_000, dtype=np.uint8))
    path = tmp_path / "x.gz"
    with write.open_sink(path, True) as sink:
        sink.write(data[:777])
        sink.write(data[777:])
    assert gzip.decompress(path.read_bytes()) == data
    with pa.CompressedInputStream(str(path), "gzip") as stream:
        assert stream.read() == data


def test_rhythm_keeps_bounds_and_prefers_evenings():
    rng = np.random.default_rng(2)
    lower = rng.integers(NOW - 400 * 86400, NOW - 86400, 20000)
    t = lower + rng.integers(0, 3 * 86400, lower.size)
    t = np.minimum(t, NOW - 1)
    out = with_rhythm(rng, t, lower, NOW)
    assert (out >= lower).all() and (out < NOW).all()
    hours = (out + 8 * 3600) // 3600 % 24
    counts = np.bincount(hours, minlength=24) / hours.size
    assert counts[21] > 3 * counts[4]
    assert abs(counts[21] - HOURLY[21]) < 0.03


def test_jsonl_escapes_what_json_needs():
    import json

    table = pa.table({"a": ["x", 'q"uote', None, "back\\slash", "ctl\x01\n", "中文"],
                      "b": [True, False, None, True, True, False], "n": [1, None, 3, 4, 5, 6]})
    lines = bytes(write.jsonl_bytes(table)).decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == table.to_pylist()
    assert lines[-1] == '{"a":"中文","b":false,"n":6}'
