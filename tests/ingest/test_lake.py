"""``ingest.lake``: is KIND:ID in the lake, and what is its row, read with pyarrow (no Spark, no database)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ringscope.ingest.lake import NODE_KINDS, PLACES, LakeError, lookup, lookup_any

T = "2024-07-01T10:00:00+08:00"


def _write(path, frame: pd.DataFrame, row_group_size: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """Accounts in two part files of several row groups each (in id order, as Spark writes them); devices as
    one ``devices.parquet``; logins not in any order; a device (dx) and an agency (m9) named only by links."""
    root = tmp_path_factory.mktemp("lake") / "lake"
    accounts = pd.DataFrame({
        "account_id": [f"a{i:04d}" for i in range(200)],
        "nickname": [f"加我13812345678 n{i}" for i in range(200)],
        "registered_at": T,
        "registration_ip": [f"10.0.{i // 100}.{i % 100}" for i in range(200)],
        "phone_hash": [f"{i:016X}" for i in range(200)],
        "followers": range(200),
    })
    _write(root / "accounts" / "part-00000.parquet", accounts[:100], row_group_size=25)
    _write(root / "accounts" / "part-00001.parquet", accounts[100:], row_group_size=25)
    (root / "accounts" / "_SUCCESS").write_text("")  # what Spark leaves beside its parts: not a part
    _write(root / "devices.parquet", pd.DataFrame({"device_id": ["d1", "d2"], "model": ["Mi 9", "iPhone"]}))
    logins = pd.DataFrame({"account_id": [f"a{i:04d}" for i in range(150, 0, -1)],
                           "ip": [f"203.0.{i % 7}.{i}" for i in range(150, 0, -1)], "first_seen": T})
    _write(root / "account_ips" / "part-00000.parquet", logins, row_group_size=20)
    _write(root / "account_devices" / "part-00000.parquet",
           pd.DataFrame({"account_id": ["a0001", "a0002"], "device_id": ["d1", "dx"]}))
    _write(root / "notes" / "part-00000.parquet",
           pd.DataFrame({"note_id": ["n1"], "account_id": ["a0001"], "posted_at": [T], "title": ["hi"],
                         "text": ["a body"], "topics": ["#a;#b"]}))
    _write(root / "intermediary_accounts" / "part-00000.parquet",
           pd.DataFrame({"intermediary_id": ["m9"], "account_id": ["a0003"]}))
    return root


def test_every_kind_of_node_has_its_places_in_the_lake():
    assert tuple(PLACES) == NODE_KINDS
    assert [p.kind for p in PLACES["ip"]] == ["account_ips", "accounts"]


def test_an_account_is_found_with_its_whole_row_in_any_part_and_row_group(lake):
    for account_id in ("a0000", "a0042", "a0099", "a0100", "a0199"):
        found = lookup(str(lake), "account", account_id)
        assert found is not None and found.found_in == "accounts" and found.own
        assert found.row["account_id"] == account_id
        assert found.row["followers"] == int(account_id[1:])
        assert set(found.row) == {"account_id", "nickname", "registered_at", "registration_ip", "phone_hash",
                                  "followers"}
        assert found.seconds < 5
    assert lookup(str(lake), "account", "a0200") is None
    assert lookup(str(lake), "account", "") is None


def test_a_node_named_only_by_links_is_found_in_the_link_row(lake):
    own = lookup(str(lake), "device", "d1")
    assert (own.found_in, own.own, own.row) == ("devices", True, {"device_id": "d1", "model": "Mi 9"})
    linked = lookup(str(lake), "device", "dx")
    assert (linked.found_in, linked.own, linked.row) == ("account_devices", False,
                                                         {"account_id": "a0002", "device_id": "dx"})
    agency = lookup(str(lake), "intermediary", "m9")
    assert agency.found_in == "intermediary_accounts" and agency.row["account_id"] == "a0003"
    assert lookup(str(lake), "intermediary", "m1") is None  # no intermediaries file, no link naming it
    note = lookup(str(lake), "note", "n1").row
    assert (note["title"], note["text"], note["topics"]) == ("hi", "a body", "#a;#b")  # the extension columns too


def test_ips_and_phones_are_found_through_the_rows_that_name_them(lake):
    login = lookup(str(lake), "ip", "203.0.3.73")  # the logins are in no order: every row group is read
    assert login.found_in == "account_ips" and login.row["account_id"] == "a0073" and not login.own
    registration = lookup(str(lake), "ip", "10.0.1.99")  # in no login, only as a registration IP
    assert registration.found_in == "accounts" and registration.row["account_id"] == "a0199"
    phone = lookup(str(lake), "phone", f"{150:016X}")
    assert phone.found_in == "accounts" and phone.row["account_id"] == "a0150"
    assert lookup(str(lake), "ip", "192.0.2.1") is None


def test_an_id_of_unknown_kind_is_looked_up_as_every_kind(lake):
    assert [(f.kind, f.found_in) for f in lookup_any(str(lake), "d1")] == [("device", "devices")]
    assert lookup_any(str(lake), "nothing-like-it") == []


def test_a_numeric_id_column_is_compared_as_its_type(tmp_path):
    _write(tmp_path / "lake" / "accounts" / "part-0.parquet", pd.DataFrame({"account_id": [7, 8, 9]}))
    assert lookup(str(tmp_path / "lake"), "account", "8").row == {"account_id": 8}
    assert lookup(str(tmp_path / "lake"), "account", "a8") is None  # not a number: not in a numeric column


def test_a_lake_that_is_not_there_or_not_parquet_is_one_error_naming_the_path(tmp_path, lake):
    with pytest.raises(LakeError, match=r"no-lake: no accounts/ folder or accounts.parquet"):
        lookup(str(tmp_path / "no-lake"), "account", "a1")
    broken = tmp_path / "broken"
    (broken / "accounts").mkdir(parents=True)
    (broken / "accounts" / "part-0.parquet").write_text("account_id\na1\n")
    with pytest.raises(LakeError, match=r"broken/accounts: not readable as Parquet"):
        lookup(str(broken), "account", "a1")
    with pytest.raises(LakeError, match=r"'brand' is not a kind of node"):
        lookup(str(lake), "brand", "b1")
    with pytest.raises(LakeError, match=r"no lake given"):
        lookup(" ", "account", "a1")


def test_a_file_uri_reads_the_same_lake(lake):
    assert lookup(lake.as_uri(), "account", "a0150").row["account_id"] == "a0150"
