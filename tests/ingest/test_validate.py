from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from ringscope.ingest.spec import SPECS
from ringscope.ingest.validate import Rejected, Validator


def accounts(columns=None, **kw):
    cols = columns or ["account_id", "registered_at", "followers", "default_profile", "status", "extra_col"]
    return Validator(SPECS["accounts"], cols, **kw)


def test_timestamp_without_offset_uses_the_dataset_time_zone():
    v = accounts(tz=ZoneInfo("Asia/Shanghai"))
    row = v.convert({"account_id": "a", "registered_at": "2025-01-01T08:00:00"})
    assert row["registered_at"] == datetime(2025, 1, 1, 0, 0, tzinfo=timezone.utc)


def test_timestamp_with_offset_keeps_its_instant():
    row = accounts().convert({"account_id": "a", "registered_at": "2025-01-01T08:00:00+08:00"})
    assert row["registered_at"] == datetime(2025, 1, 1, 0, 0, tzinfo=timezone.utc)
    row = accounts().convert({"account_id": "a", "registered_at": "2025-01-01T00:00:00Z"})
    assert row["registered_at"] == datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("text,value", [("true", True), ("YES", True), ("1", True),
                                        ("False", False), ("no", False), ("0", False)])
def test_booleans_in_any_case(text, value):
    row = accounts().convert({"account_id": "a", "registered_at": "2025-01-01", "default_profile": text})
    assert row["default_profile"] is value


@pytest.mark.parametrize("values,reason", [
    ({"account_id": "", "registered_at": "2025-01-01"}, "missing required value in column account_id"),
    ({"account_id": "a"}, "missing required value in column registered_at"),
    ({"account_id": "a", "registered_at": "yesterday"}, "not an ISO 8601 timestamp"),
    ({"account_id": "a", "registered_at": "2025-01-01", "followers": "-1"}, "followers=-1 is negative"),
    ({"account_id": "a", "registered_at": "2025-01-01", "followers": "1.5"}, "not a whole number"),
    ({"account_id": "a", "registered_at": "2025-01-01", "status": "deleted"}, "not one of"),
    ({"account_id": "a", "registered_at": "2025-01-01", "default_profile": "maybe"}, "not a boolean"),
])
def test_bad_values_are_rejected_with_a_reason(values, reason):
    with pytest.raises(Rejected, match=reason):
        accounts().convert(values)


def test_ids_are_exact_strings():
    row = accounts().convert({"account_id": " a  b ", "registered_at": "2025-01-01"})
    assert row["account_id"] == " a  b "


def test_unknown_columns_are_listed_and_kept_only_when_asked():
    assert accounts().unknown == ["extra_col"]
    values = {"account_id": "a", "registered_at": "2025-01-01", "extra_col": "x"}
    assert "extra" not in accounts().convert(values)
    assert accounts(keep_unknown=True).convert(values)["extra"] == {"extra_col": "x"}


def test_missing_required_columns_are_known_before_any_row():
    assert accounts(columns=["account_id", "nickname"]).missing_required == ["registered_at"]


def test_typed_values_from_jsonl_and_parquet_are_accepted():
    row = accounts().convert({"account_id": "a", "registered_at": "2025-01-01", "followers": 12,
                              "default_profile": True})
    assert row["followers"] == 12 and row["default_profile"] is True
    with pytest.raises(Rejected):
        accounts().convert({"account_id": "a", "registered_at": "2025-01-01", "followers": True})


def test_json_lines_with_no_readable_line_are_all_rejects_not_a_failed_file(tmp_path):
    """Every line over the length cap (found by the end-to-end fuzz test): no object, so no columns to check;
    the file is not failed for a missing column, each line is kept as a reject with its reason."""
    from ringscope.ingest.load import FileResult, IngestOptions, validated_batches
    from ringscope.ingest.readers import classify
    from ringscope.ingest.spec import Limits

    path = tmp_path / "devices.jsonl"
    path.write_text('{"device_id": "d1", "model": "' + "x" * 5000 + '"}\n{"device_id": "d2", "pad": "'
                    + "y" * 5000 + '"}\n')
    options = IngestOptions(progress=False, limits=Limits(max_line_bytes=4096))
    result = FileResult(path, "devices")
    with validated_batches(classify(path), options, tmp_path / "rej", result) as batches:
        assert [row for batch in batches for row in batch.rows] == []
    assert (result.read, result.rejected, result.loaded, result.error) == (2, 2, 0, None)
    assert "4,096" in (tmp_path / "rej" / "devices.jsonl.rejects.csv").read_text()


def notes(**kw):
    return Validator(SPECS["notes"], ["note_id", "account_id", "posted_at", "title", "text", "topics"], **kw)


NOTE = {"note_id": "n1", "account_id": "a1", "posted_at": "2025-01-01"}


@pytest.mark.parametrize("raw,topics", [
    ("#护肤;#平价好物", ["#护肤", "#平价好物"]),
    (" #a ; #b;;#c; ", ["#a", "#b", "#c"]),  # items trimmed, empty items dropped
    ("#one", ["#one"]),
    (";; ;", None), ("", None), ([], None),  # nothing left: no value
    (["#a", " #b ", "", None], ["#a", "#b"]),  # a JSON array or a Parquet list
    ("#a b;#中文 标签", ["#a b", "#中文 标签"]),  # inner spaces kept
])
def test_note_topics_are_a_list_of_trimmed_items(raw, topics):
    row = notes().convert({**NOTE, "text": "body", "topics": raw})
    assert row["topics"] == topics and row["text"] == "body"


@pytest.mark.parametrize("raw,reason", [
    (["#a", 3], "topics holds 3, not a text"),
    (["#a;#b"], "topics item '#a;#b' holds ';'"),
    ({"a": 1}, "is not topics"),
    ("x" * 30, "topics is 30 characters long, over the cap of 20"),
    (["x" * 15, "y" * 15], "topics is 31 characters long"),
])
def test_bad_topics_are_rejected_naming_the_column(raw, reason):
    from ringscope.ingest.spec import Limits

    with pytest.raises(Rejected, match=reason):
        notes(limits=Limits(max_field_chars=20)).convert({**NOTE, "topics": raw})


def test_notes_without_text_or_topics_load_as_before():
    v = Validator(SPECS["notes"], ["note_id", "account_id", "posted_at", "title"])
    assert v.unknown == [] and v.missing_required == []
    row = v.convert({**NOTE, "title": "t"})
    assert row["text"] is None and row["topics"] is None
    assert [c.name for c in SPECS["notes"].columns if c.extension] == ["text", "topics", "client", "posted_via"]


# ---- the trending file and client metadata (extensions, #15 item 1)

def test_trending_rows_are_typed_and_bad_ones_rejected_with_the_column_named():
    v = Validator(SPECS["trending"], ["captured_at", "rank", "topic", "score"])
    assert v.missing_required == [] and v.unknown == []
    row = v.convert({"captured_at": "2025-06-01T20:00:00+08:00", "rank": "3", "topic": "#演唱会", "score": "120345"})
    assert row == {"captured_at": datetime(2025, 6, 1, 12, tzinfo=timezone.utc), "rank": 3, "topic": "#演唱会",
                   "score": 120345}
    assert v.convert({"captured_at": "2025-06-01T20:00:00Z", "rank": 1, "topic": "#x", "score": ""})["score"] is None
    for bad, column in (({"rank": "-1"}, "rank"), ({"rank": ""}, "rank"), ({"topic": ""}, "topic"),
                        ({"captured_at": "yesterday"}, "captured_at"), ({"score": "1.5"}, "score")):
        with pytest.raises(Rejected, match=column):
            v.convert({"captured_at": "2025-06-01T20:00:00Z", "rank": "2", "topic": "#x", "score": "9", **bad})


def test_a_trending_file_without_a_required_column_is_named():
    assert Validator(SPECS["trending"], ["captured_at", "topic"]).missing_required == ["rank"]


def test_client_and_posted_via_are_optional_text_on_notes_and_comments():
    for stem in ("notes", "comments"):
        names = [c.name for c in SPECS[stem].columns if c.extension]
        assert names[-2:] == ["client", "posted_via"]
        assert not any(c.required for c in SPECS[stem].columns if c.name in ("client", "posted_via"))
