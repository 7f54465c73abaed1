"""Small datasets written by tests, and a way to compare whole graphs."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ringscope.graph.database import Graph


def write_table(directory: Path, stem: str, rows: list[dict[str, Any]], fmt: str = "csv") -> Path:
    """Write rows (all with the same keys) as ``stem.<fmt>``."""
    directory.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0]) if rows else []
    path = directory / f"{stem}.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in columns}), path)
        return path
    opener = gzip.open if fmt.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as out:
        if fmt.startswith("csv"):
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
        else:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


SNAPSHOT_NODES = "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"
SNAPSHOT_RELS = (
    "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, "
    "labels(a) AS a_labels, properties(a) AS a, labels(b) AS b_labels, properties(b) AS b"
)


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return str(value)


def snapshot(graph: Graph) -> tuple[list, list]:
    """Every node and relationship with all properties, in a comparable, sorted form."""
    nodes = sorted(_frozen([r["labels"], r["props"]]) for r in graph.read(SNAPSHOT_NODES))
    rels = sorted(
        _frozen([r["type"], r["props"], r["a_labels"], r["a"], r["b_labels"], r["b"]])
        for r in graph.read(SNAPSHOT_RELS)
    )
    return nodes, rels


def small_platform() -> dict[str, list[dict[str, Any]]]:
    """A few rows of every kind of file, with Chinese text, emoji and a dangling reference."""
    return {
        "accounts": [
            {"account_id": "a1", "nickname": "小红薯5F3A2B", "registered_at": "2025-01-01T10:00:00+08:00",
             "registration_ip": "10.0.0.1", "phone_segment": "170", "phone_hash": "ph1",
             "followers": 3, "following": 10, "is_professional": "false", "default_profile": "true",
             "bio": "好物分享💄✨", "status": "active"},
            {"account_id": "a2", "nickname": "Lily 🌸", "registered_at": "2025-01-01T10:03:00+08:00",
             "registration_ip": "10.0.0.1", "phone_segment": "170", "phone_hash": "ph2",
             "followers": 1, "following": 12, "is_professional": "no", "default_profile": "yes",
             "bio": "", "status": "banned"},
            {"account_id": "a3", "nickname": "王小明", "registered_at": "2024-03-05T21:00:00+08:00",
             "registration_ip": "", "phone_segment": "138", "phone_hash": "", "followers": 1200,
             "following": 80, "is_professional": "1", "default_profile": "0", "bio": "旅行 | 美食",
             "status": ""},
        ],
        "devices": [
            {"device_id": "d1", "model": "Redmi Note 12", "os": "Android 13", "is_emulator": "false"},
            {"device_id": "d2", "model": "Generic x86", "os": "Android 9", "is_emulator": "true"},
        ],
        "account_devices": [
            {"account_id": "a1", "device_id": "d2", "first_seen": "2025-01-01T10:00:00+08:00", "last_seen": ""},
            {"account_id": "a2", "device_id": "d2", "first_seen": "2025-01-01T10:03:00+08:00", "last_seen": ""},
            {"account_id": "a3", "device_id": "d1", "first_seen": "", "last_seen": ""},
        ],
        "account_ips": [
            {"account_id": "a1", "ip": "10.0.0.1", "first_seen": "", "last_seen": ""},
            {"account_id": "a3", "ip": "203.0.113.9", "first_seen": "", "last_seen": ""},
        ],
        "brands": [{"brand_id": "b1", "name": "花西子", "category": "beauty"}],
        "intermediaries": [{"intermediary_id": "m1", "name": "星光MCN", "kind": "mcn", "registered": "false"}],
        "intermediary_accounts": [
            {"intermediary_id": "m1", "account_id": "a1", "since": "2025-01-02T00:00:00+08:00"},
            {"intermediary_id": "m1", "account_id": "a2", "since": ""},
        ],
        "notes": [
            {"note_id": "n1", "account_id": "a1", "posted_at": "2025-02-01T20:00:00+08:00",
             "title": "这个粉底液绝了！", "brand_id": "b1", "declared_commercial": "false",
             "text": "用了一个月，粉底液真的很服帖，油皮也不脱妆。", "topics": "#粉底液;#油皮",
             "client": "RED/8.41.0 (iOS 17.5)", "posted_via": "app"},
            {"note_id": "n2", "account_id": "a3", "posted_at": "2025-02-02T20:00:00+08:00",
             "title": "周末去哪儿", "brand_id": "", "declared_commercial": "", "text": "", "topics": "",
             "client": "", "posted_via": ""},
        ],
        "orders": [
            {"order_id": "o1", "brand_id": "b1", "intermediary_id": "m1", "account_id": "a1",
             "note_id": "n1", "placed_at": "2025-01-20T00:00:00+08:00", "declared": "false"},
        ],
        "comments": [
            {"comment_id": "c1", "account_id": "a2", "note_id": "n1", "created_at": "2025-02-01T20:05:00+08:00",
             "text": "姐妹，我搜xx怎么没搜到啊", "reply_to": "", "device_id": "d2", "ip": "10.0.0.1",
             "client": "open-sdk/2.3.1", "posted_via": "api"},
            {"comment_id": "c2", "account_id": "a1", "note_id": "n1", "created_at": "2025-02-01T20:06:00+08:00",
             "text": "链接私你了😉", "reply_to": "c1", "device_id": "d2", "ip": "10.0.0.1"},
            {"comment_id": "c3", "account_id": "ghost", "note_id": "n1", "created_at": "2025-02-01T20:07:00+08:00",
             "text": "我用过这个牌子太好用了👍👍", "reply_to": "c9", "device_id": "", "ip": ""},
        ],
        "likes": [{"account_id": "a2", "note_id": "n1", "created_at": "2025-02-01T20:05:30+08:00"}],
        "follows": [{"account_id": "a2", "target_account_id": "a1", "created_at": ""}],
        "sanctions": [
            {"sanction_id": "s1", "target_type": "account", "target_id": "a2", "action": "permanent_ban",
             "reason": "farm operation", "issued_at": "2025-03-01T00:00:00+08:00", "expires_at": ""},
            {"sanction_id": "s2", "target_type": "device", "target_id": "d2", "action": "device_ban",
             "reason": "linked to a2", "issued_at": "2025-03-01T00:00:00+08:00", "expires_at": ""},
        ],
        "reports": [
            {"report_id": "r1", "reporter_account_id": "a3", "target_type": "account", "target_id": "a1",
             "reason": "fake reviews", "created_at": "2025-02-03T09:00:00+08:00", "verified": "true"},
            {"report_id": "r2", "reporter_account_id": "a3", "target_type": "comment", "target_id": "c2",
             "reason": "引流到站外", "created_at": "2025-02-03T09:05:00+08:00", "verified": ""},
        ],
        "trending": [
            {"captured_at": "2025-02-01T21:00:00+08:00", "rank": "2", "topic": "#粉底液", "score": "5400"},
            {"captured_at": "2025-02-01T22:00:00+08:00", "rank": "1", "topic": "#粉底液", "score": ""},
        ],
        "labels": [
            {"account_id": "a1", "is_fake": "true", "farm_id": "f1"},
            {"account_id": "a2", "is_fake": "true", "farm_id": "f1"},
            {"account_id": "a3", "is_fake": "false", "farm_id": ""},
        ],
    }


def write_platform(directory: Path, fmt: str = "csv") -> Path:
    for stem, rows in small_platform().items():
        if fmt in ("jsonl", "jsonl.gz", "parquet"):
            rows = [{k: v for k, v in row.items() if v != ""} | {k: None for k, v in row.items() if v == ""}
                    for row in rows]
        write_table(directory, stem, rows, fmt)
    return directory


def tricky_dataset(directory: Path) -> Path:
    """Everything where MERGE/SET order matters: duplicates with conflicting and later-empty values, ids
    defined twice across two files of one kind, dangling references of every kind, replies across files,
    kept unknown columns, sanctions on every kind of target."""
    write_table(directory, "accounts", [
        {"account_id": "a1", "nickname": "first", "registered_at": "2025-01-01T00:00:00Z", "status": "muted",
         "registration_ip": "10.0.0.1", "phone_hash": "ph1", "phone_segment": "170", "followers": "5",
         "bio": "old bio", "tier": "gold"},
        {"account_id": "a1", "nickname": "", "registered_at": "2025-01-02T00:00:00+08:00", "status": "",
         "registration_ip": "10.0.0.2", "phone_hash": "ph1", "phone_segment": "171", "followers": "7",
         "bio": "", "tier": ""},
        {"account_id": "a2", "nickname": "二号", "registered_at": "2024-12-31T23:59:59.999Z", "status": "",
         "registration_ip": "10.0.0.1", "phone_hash": "", "phone_segment": "170", "followers": "",
         "bio": 'quote " and, comma\nand a newline', "tier": "silver"},
    ])
    write_table(directory, "devices", [{"device_id": "d1", "model": "X", "is_emulator": "yes"},
                                       {"device_id": "d1", "model": "", "is_emulator": "no"}])
    write_table(directory, "notes", [
        {"note_id": "n1", "account_id": "a1", "posted_at": "2025-01-03", "title": "t1", "brand_id": "b9",
         "text": "first body", "topics": "#a;#b"},
        # a later row with an empty body and topics keeps the earlier ones; one with topics replaces them
        {"note_id": "n1", "account_id": "a2", "posted_at": "2025-01-04", "title": "", "brand_id": "",
         "text": "", "topics": ""},
        {"note_id": "n2", "account_id": "ghost", "posted_at": "2025-01-05", "title": "t2", "brand_id": "b1",
         "text": 'a "quoted", body\nwith a line break', "topics": " #x ; ;#y, z "},
        {"note_id": "n2", "account_id": "ghost", "posted_at": "2025-01-05", "title": "t2", "brand_id": "b1",
         "text": "", "topics": ";"},
    ])
    write_table(directory, "notes", [  # a second notes file: topics as JSON arrays
        {"note_id": "n3", "account_id": "a1", "posted_at": "2025-01-06", "text": "json body", "topics": ["#j1", " #j2"]},
        {"note_id": "n1", "account_id": "a1", "posted_at": "2025-01-03", "text": "", "topics": ["#c"]},
        {"note_id": "n4", "account_id": "a1", "posted_at": "2025-01-06", "text": "no topics", "topics": []}],
        fmt="jsonl")
    write_table(directory, "brands", [{"brand_id": "b1", "name": "Brand one"}])
    comments = [
        {"comment_id": "c1", "account_id": "a1", "note_id": "n1", "created_at": "2025-01-06T01:02:03",
         "text": "hi", "reply_to": "c3", "device_id": "d1", "ip": "10.0.0.9"},
        {"comment_id": "c2", "account_id": "a2", "note_id": "n404", "created_at": "2025-01-06T01:02:04",
         "text": "", "reply_to": "c-nowhere", "device_id": "d404", "ip": ""},
        {"comment_id": "c1", "account_id": "a2", "note_id": "n2", "created_at": "2025-01-07",
         "text": "", "reply_to": "", "device_id": "", "ip": ""},
    ]
    write_table(directory, "comments", comments)
    write_table(directory, "comments", [  # a second comments file: defines c3, replies to c1
        {"comment_id": "c3", "account_id": "a1", "note_id": "n1", "created_at": "2025-01-08", "text": "later",
         "reply_to": "c1", "device_id": "d1", "ip": "10.0.0.1"}], fmt="jsonl")
    write_table(directory, "orders", [
        {"order_id": "o1", "brand_id": "b1", "intermediary_id": "i9", "account_id": "a1", "note_id": "n1",
         "placed_at": "2025-01-01", "declared": "false"},
        {"order_id": "o1", "brand_id": "b2", "intermediary_id": "", "account_id": "", "note_id": "",
         "placed_at": "", "declared": ""}])
    write_table(directory, "account_devices", [
        {"account_id": "a1", "device_id": "d1", "first_seen": "2025-01-01", "last_seen": "2025-01-02"},
        {"account_id": "a1", "device_id": "d1", "first_seen": "2025-01-03", "last_seen": ""},
        {"account_id": "zed", "device_id": "d77", "first_seen": "", "last_seen": ""}])
    write_table(directory, "account_ips", [{"account_id": "a2", "ip": "10.0.0.1", "first_seen": "2025-01-01"}])
    write_table(directory, "intermediary_accounts", [{"intermediary_id": "i1", "account_id": "a1",
                                                      "since": "2024-06-01"}])
    write_table(directory, "likes", [{"account_id": "a2", "note_id": "n2", "created_at": "2025-01-09"},
                                     {"account_id": "a2", "note_id": "n2", "created_at": ""}])
    write_table(directory, "follows", [{"account_id": "a1", "target_account_id": "a404",
                                        "created_at": "2025-01-10"}])
    write_table(directory, "sanctions", [
        {"sanction_id": f"s-{t}", "target_type": t, "target_id": f"{t}-x", "action": "warning",
         "reason": "r", "issued_at": "2025-01-11", "expires_at": ""}
        for t in ("account", "device", "brand", "intermediary", "note")])
    write_table(directory, "reports", [  # every kind of target missing, a reporter missing, one id twice
        {"report_id": f"r-{t}", "reporter_account_id": "a1", "target_type": t, "target_id": f"{t}-x",
         "reason": "spam", "created_at": "2025-01-12", "verified": "false"}
        for t in ("account", "note", "comment")] + [
        {"report_id": "r-twice", "reporter_account_id": "reporter-404", "target_type": "account", "target_id": "a2",
         "reason": "first", "created_at": "2025-01-13", "verified": "false"},
        {"report_id": "r-twice", "reporter_account_id": "reporter-404", "target_type": "account", "target_id": "a2",
         "reason": "", "created_at": "2025-01-14", "verified": "true"}])
    write_table(directory, "trending", [  # one entry twice (the later rank wins, an empty score keeps the earlier)
        {"captured_at": "2025-01-15T10:00:00Z", "rank": "4", "topic": "#a", "score": "70"},
        {"captured_at": "2025-01-15T18:00:00+08:00", "rank": "3", "topic": "#a", "score": ""},
        {"captured_at": "2025-01-15T10:00:00Z", "rank": "5", "topic": "#b", "score": "60"}])
    write_table(directory, "labels", [{"account_id": "a1", "is_fake": "true", "farm_id": "f1"},
                                      {"account_id": "a1", "is_fake": "false", "farm_id": ""}])
    return directory
