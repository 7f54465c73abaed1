"""Masking for packs (pure): pseudonyms, free text, evidence; CSV cells; and the manifest's canonical form."""

from __future__ import annotations

import json

from ringscope.common.csvsafe import csv_bytes, safe_cell
from ringscope.evidence.manifest import build_manifest, canonical, manifest_digest
from ringscope.evidence.redact import Redactor, personal_values


def test_distinct_addresses_keep_distinct_pseudonyms_in_every_place():
    red = Redactor(ips=["203.0.113.9", "203.0.113.10", "2001:db8::1"], phones=["9f8e7d6c5b4a3921"])
    a, b = red.ip("203.0.113.9"), red.ip("203.0.113.10")
    assert a != b and a.startswith("203.0.x.x #") and b.startswith("203.0.x.x #")
    assert red.ident("IP", "203.0.113.9") == a
    assert red.ident("Phone", "9f8e7d6c5b4a3921").startswith("9f8*") and "#" in red.phone("9f8e7d6c5b4a3921")
    assert red.ip("2001:db8::1").startswith("2001:0db8:x:x")
    assert red.ident("Device", "dev-1") == "dev-1"


def test_free_text_is_masked_known_values_by_pseudonym_others_by_shape():
    red = Redactor(ips=["203.0.113.9"], phones=["9f8e7d6c5b4a3921"])
    text = ("tied by 203.0.113.9 (3 of 5), phone 9f8e7d6c5b4a3921, range 198.51.100.0/24, "
            "v6 2001:db8:85a3::8a2e:370:7334, at 12:30:00 on 2025-06-01T12:30:00+08:00. Version 1.2.3 stays.")
    masked = red.text(text)
    for raw in ("203.0.113.9", "9f8e7d6c5b4a3921", "198.51.100.0", "8a2e:370:7334"):
        assert raw not in masked
    assert red.ip("203.0.113.9") in masked and red.phone("9f8e7d6c5b4a3921") in masked
    assert "198.51.x.x/24" in masked
    assert "12:30:00 on 2025-06-01T12:30:00+08:00" in masked and "Version 1.2.3 stays" in masked


def test_properties_and_evidence():
    red = Redactor(ips=["203.0.113.9"], phones=["abcdef0123456789"])
    props = red.props({"ip": "203.0.113.9", "phone_hash": "abcdef0123456789", "text": "加V信 203.0.113.9",
                       "followers": 3, "tags": ["a", "203.0.113.9"]})
    assert props["ip"] == red.ip("203.0.113.9") and props["phone_hash"] == red.phone("abcdef0123456789")
    assert "203.0.113.9" not in json.dumps(props, ensure_ascii=False) and props["followers"] == 3
    evidence = red.evidence([[{"kind": "ip", "ids": ["203.0.113.9", "203.0.113.0/24"]}],
                             [{"kind": "phone", "ids": ["abcdef0123456789"]}], [{"kind": "device", "ids": ["d1"]}]])
    assert evidence[0][0]["ids"] == [red.ip("203.0.113.9"), "203.0.x.x/24"]
    assert evidence[1][0]["ids"] == [red.phone("abcdef0123456789")] and evidence[2][0]["ids"] == ["d1"]


def test_unmasked_changes_nothing():
    red = Redactor(ips=["203.0.113.9"], phones=["abcdef0123456789"], enabled=False)
    assert red.text("203.0.113.9 abcdef0123456789") == "203.0.113.9 abcdef0123456789"
    assert red.props({"ip": "203.0.113.9"}) == {"ip": "203.0.113.9"}


def test_personal_values_come_from_keys_properties_and_evidence():
    ips, phones = personal_values(
        [("IP", "203.0.113.9", {}), ("Phone", "p1", {}), ("Comment", "c1", {"ip": "198.51.100.7"})],
        [[[{"kind": "registration_ip", "ids": ["192.0.2.1", "192.0.2.0/24"]}], [{"kind": "phone", "ids": ["p2"]}]]])
    assert ips == {"203.0.113.9", "198.51.100.7", "192.0.2.1"} and phones == {"p1", "p2"}


def test_the_manifest_is_canonical_and_carries_its_own_digest():
    raw = build_manifest(files={"b.txt": b"b", "a.txt": b"a"}, pack_id="p1", created_at="2025-01-01T00:00:00+00:00",
                         fields={"subject": {"kind": "cluster", "id": "k"}}, signature=None)
    document = json.loads(raw)
    assert canonical(document) == raw
    assert document["manifest_digest"] == manifest_digest(document)
    assert [f["path"] for f in document["files"]] == ["a.txt", "b.txt"]


def test_phone_numbers_and_addresses_inside_chinese_text_are_masked():
    red = Redactor(ips=["192.168.1.7"])
    text = "加我192.168.1.7谢谢，电话13812345678或+86 139-1234-5678，全角１３７１２３４５６７８，订单 20250701123456"
    masked = red.text(text)
    assert masked == ("加我192.168.x.x #1谢谢，电话138********或139********，全角１３７********，订单 20250701123456")
    assert Redactor(enabled=False).text(text) == text
    assert red.text("v6 2001:db8::1好") == "v6 2001:0db8:x:x:x:x:x:x好"


def test_csv_cells_never_start_a_formula_and_numbers_stay_numbers():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "a=1", "", None, -3.5, 7)] == \
        ["'=1+1", "'+1", "'-1", "'@A1", "'\t=1", "'\r=1", "a=1", "", "", -3.5, 7]
    assert csv_bytes(["score", "nickname"], [[-3.5, "-3.5"], [0.25, '=HYPERLINK("x")']]) == (
        b"score,nickname\n-3.5,'-3.5\n0.25,\"'=HYPERLINK(\"\"x\"\")\"\n")


def test_identifiers_a_detector_marked_read_as_the_pack_shows_them():
    text = "shares login IP ⟦IP:203.0.113.9⟧ and phone ⟦Phone:9f8e7d6c5b4a3921⟧ with 44 accounts"
    red = Redactor(ips=["203.0.113.9"], phones=["9f8e7d6c5b4a3921"])
    assert red.text(text) == (f"shares login IP {red.ip('203.0.113.9')} and phone {red.phone('9f8e7d6c5b4a3921')} "
                              "with 44 accounts")
    assert Redactor(enabled=False).text(text) == "shares login IP 203.0.113.9 and phone 9f8e7d6c5b4a3921 with 44 " \
                                                 "accounts"
