"""Hostile datasets for ``ringscope ingest``: each of the rows the hardening review found stopping a whole
load, next to good rows and good later files, and what each bad row's reject reason must say."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

# A value that makes each probe's row bad, where it goes, and what its reject reason says.
BAD_ACCOUNTS = [
    # (account_id, registered_at, followers, nickname, reason)
    ("big", "2025-01-01T00:00:00Z", "1" * 30, "", "beyond the 64-bit whole numbers"),
    ("y9999", "9999-12-31T23:59:59", "", "", "outside the timestamps ringscope stores"),
    ("y9999west", "9999-12-31T23:00:00-05:00", "", "", "outside the timestamps ringscope stores"),
    ("y1east", "0001-01-01T00:00:00+01:00", "", "", "outside the timestamps ringscope stores"),
    ("y2500", "2500-01-01T00:00:00Z", "", "", "outside the timestamps ringscope stores"),
    ("idx", "2025-01-01T00:00:00Z", "", "x" * 10_000, "the database indexes it"),
]
GOOD_ACCOUNTS = ["h1", "h2", "h3"]


def bad_rows_dataset(directory: Path) -> dict[str, list[tuple[int, str]]]:
    """Write the dataset; returns, per rejects file, the (line, reason fragment) of each bad row.

    accounts.csv: good rows around a 30-digit integer, year-9999 and year-1 timestamps (which leave
    Python's range once moved to UTC), a year-2500 one (beyond the detectors' time columns), a
    nickname too long for its index and a byte that is not UTF-8. comments.jsonl: a line nested
    100,000 deep, a 5,000-digit number, a lone surrogate, a 2 MB line. Then devices and likes,
    which must still load.
    """
    directory.mkdir(parents=True, exist_ok=True)
    expected: dict[str, list[tuple[int, str]]] = {"accounts.csv": [], "comments.jsonl": []}
    lines = [b"account_id,registered_at,followers,nickname"]
    lines.append(b"h1,2025-01-01T00:00:00Z,1,ok")
    for account_id, at, followers, nickname, reason in BAD_ACCOUNTS:
        lines.append(f"{account_id},{at},{followers},{nickname}".encode())
        expected["accounts.csv"].append((len(lines), reason))
    lines.append(b"h2,2025-01-01T00:00:00Z,2,fine")
    lines.append(b"badbyte,2025-01-01T00:00:00Z,3,caf\xe9")  # Latin-1, not UTF-8
    expected["accounts.csv"].append((len(lines), "not UTF-8 text"))
    lines.append(b"h3,2025-01-01T00:00:00Z,4,\xe5\xb0\x8f\xe7\xba\xa2")  # 小红, fine
    (directory / "accounts.csv").write_bytes(b"\n".join(lines) + b"\n")

    def comment(cid: str, **extra) -> dict:
        return {"comment_id": cid, "account_id": "h1", "note_id": "hn1", "created_at": "2025-02-01T00:00:00Z",
                **extra}

    jsonl = [json.dumps(comment("hc1", text="好"))]
    jsonl.append(json.dumps(comment("nested"))[:-1] + ', "text": ' + "[" * 100_000 + "]" * 100_000 + "}")
    expected["comments.jsonl"].append((len(jsonl), "nested too deeply"))
    jsonl.append(json.dumps(comment("digits"))[:-1] + ', "text": ' + "9" * 5_000 + "}")
    expected["comments.jsonl"].append((len(jsonl), "JSON that cannot be read"))
    jsonl.append(json.dumps(comment("surrogate"))[:-1] + ', "text": "\\ud800"}')
    expected["comments.jsonl"].append((len(jsonl), "lone surrogate"))
    jsonl.append(json.dumps(comment("long", text="y" * (2 << 20))))
    expected["comments.jsonl"].append((len(jsonl), "over the cap of 1,048,576 (RINGSCOPE_INGEST_MAX_LINE_BYTES)"))
    jsonl.append(json.dumps(comment("hc2")))
    (directory / "comments.jsonl").write_text("\n".join(jsonl) + "\n", encoding="utf-8")

    (directory / "devices.csv").write_text("device_id,model\nhd1,Redmi\n", encoding="utf-8")
    (directory / "likes.csv").write_text("account_id,note_id\nh2,hn1\n", encoding="utf-8")
    return expected


def huge_line_gzip(path: Path, megabytes: int = 300) -> None:
    """comments.jsonl.gz of a few hundred KB: a good line, one line of ``megabytes`` MB, a good line."""
    good = {"account_id": "g1", "note_id": "gn1", "created_at": "2025-02-01T00:00:00Z"}
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(json.dumps({"comment_id": "gc1", **good}).encode() + b"\n")
        out.write(b'{"comment_id": "gbig", "account_id": "g1", "note_id": "gn1", "text": "')
        block = b"z" * (1 << 20)
        for _ in range(megabytes):
            out.write(block)
        out.write(b'"}\n')
        out.write(json.dumps({"comment_id": "gc2", **good}).encode() + b"\n")
