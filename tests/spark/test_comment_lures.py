"""``offplatform_lure`` and ``qa_act`` on Spark find what the local detectors find."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.offplatform_lures import OffplatformLureParams, detect_offplatform_lures
from ringscope.detection.qa_acts import QaActParams, detect_qa_acts
from ringscope.spark.comment_lures import detect_offplatform_lures as lures_on_spark
from ringscope.spark.comment_lures import detect_qa_acts as qa_on_spark
from ringscope.spark.source import PlatformSource


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    comments = pd.read_parquet(platform / "comments")
    source = PlatformSource(spark, str(platform))
    lures = detect_offplatform_lures(comments, OffplatformLureParams())
    acts = detect_qa_acts(comments, QaActParams())
    assert len(lures) >= 5 and len(acts) >= 2
    assert lures_on_spark(source, OffplatformLureParams()) == lures
    assert qa_on_spark(source, QaActParams()) == acts


def test_lure_spellings_replies_to_missing_questions_and_self_answers_agree(spark, tmp_path):
    rows = [
        ("c01", "a1", "n1", "求链接", None), ("c02", "a2", "n1", "链接私你了", "c01"),
        ("c03", "a1", "n2", "哪里买？", None), ("c04", "a2", "n2", "加V信 abc12345", "c03"),
        ("c05", "a3", "n3", "多少钱", None), ("c06", "a4", "n3", "v❤x: abc12345", "c05"),
        ("c07", "a4", "n4", "怎么买?", None), ("c08", "a3", "n4", "扣扣 123456789", "c07"),
        ("c09", "a5", "n5", "求同款", None), ("c10", "a5", "n5", "已私", "c09"),           # answers itself
        ("c11", "a6", "n6", "私我", "c99"),                                                # question missing
        ("c12", "a7", "n6", "Q 123456789 ", None), ("c13", "a8", "n7", "好看", ""),
        ("c14", "a9", "n7", None, "c13"), ("c15", "a6", "n8", "13812345678 找我", "c12"),
    ]
    comments = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "text", "reply_to"])
    lake = tmp_path / "lake"
    (lake / "comments").mkdir(parents=True)
    # two parts: the executors match them in different batches
    comments.iloc[:7].to_parquet(lake / "comments" / "part-00000.parquet")
    comments.iloc[7:].to_parquet(lake / "comments" / "part-00001.parquet")
    pd.DataFrame({"account_id": ["a1"]}).to_parquet(lake / "accounts.parquet")
    source = PlatformSource(spark, str(lake))
    lures = detect_offplatform_lures(comments, OffplatformLureParams())
    acts = detect_qa_acts(comments, QaActParams())
    assert lures and acts
    assert lures_on_spark(source, OffplatformLureParams()) == lures
    assert qa_on_spark(source, QaActParams()) == acts
