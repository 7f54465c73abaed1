"""Off-platform lures: pattern matching, and accounts advertising one contact."""

import random
import re
import unicodedata

import pandas as pd
import pytest

from ringscope.detection.comment_text import _DROP
from ringscope.detection.offplatform_lures import (
    LURE_PATTERNS,
    OffplatformLureParams,
    _required_chars,
    detect_offplatform_lures,
    find_lures,
    load_lure_patterns,
)
from tests.detection.comment_rows import comment_frame as _frame


@pytest.mark.parametrize("text", ["加V信abc123", "Q 123456789", "链接私你了", "私我发你", "vx: hello_world1",
                                  "加 微 了解一下", "扣扣：87654321", "滴滴我", "V❤信 abc12345"])
def test_lures_caught(text):
    assert not find_lures(_frame([("c1", "a", "n", text, None)])).empty


@pytest.mark.parametrize("text", ["这个颜色真好看", "Q弹的口感很好", "今天QQ群里说的事", "我的iPhone 14很好用",
                                  "价格是12345元", "vivo手机拍照不错", "求一个链接", "私下觉得一般"])
def test_normal_text_not_a_lure(text):
    assert find_lures(_frame([("c1", "a", "n", text, None)])).empty


def test_lure_contacts_extracted():
    l = find_lures(_frame([("c1", "a", "n", "加V信abc123", None), ("c2", "b", "n", "Q 123456789", None)]))
    assert set(l["contact"]) - {""} == {"abc123", "123456789"}


def test_shared_contact_cluster_and_determinism():
    rows = [(f"c{i}", f"acc{i}", f"n{i}", f"好物分享，加V信abc123{'!' * i}", None) for i in range(4)]
    df = _frame(rows)
    lure = detect_offplatform_lures(df)
    assert lure == detect_offplatform_lures(df.iloc[::-1].reset_index(drop=True))
    assert lure and lure[0].members == ("acc0", "acc1", "acc2", "acc3") and "abc123" in lure[0].reasons[0].text


def test_patterns_are_replaceable(tmp_path):
    y = tmp_path / "lures.yaml"
    y.write_text("- {name: telegram, regex: 'tg[:：]?\\s*@?(?P<contact>[a-z0-9_]{5,})', description: telegram}\n",
                 encoding="utf-8")
    pats = load_lure_patterns(y)
    assert pats[0][0] == "telegram"
    l = find_lures(_frame([("c1", "a", "n", "tg: @shop_123", None)]), pats)
    assert list(l["contact"]) == ["shop_123"]
    assert len(LURE_PATTERNS) >= 5


def _lures_reference(df, patterns=LURE_PATTERNS):
    """The straightforward loop: every comment, every pattern, plain then compact."""
    out = []
    for cid, acc, note, text in zip(df["comment_id"], df["account_id"], df["note_id"], df["text"].fillna("")):
        if not text:
            continue
        plain = unicodedata.normalize("NFKC", text).lower()
        compact = _DROP.sub("", plain)
        for name, rx, _ in patterns:
            m = re.search(rx, plain) or re.search(rx, compact)
            if m:
                out.append((cid, acc, note, name, m.group(0), m.groupdict().get("contact") or ""))
    return sorted(out)


def test_find_lures_matches_the_plain_loop():
    rng = random.Random(9)
    bits = ["加V信", "vx:", "v 信", "私我", "链接私你了", "Q", "扣扣", "qq群", "某宝搜", "tb店", "加 微", "➕v", "wei xin",
            "13912345678", "123456789", "abc_12345", "shop88", "求链接", "好看", "这个颜色", "😍", "，", " ", "V❤信"]
    rows = [(f"c{i}", f"a{i % 50}", f"n{i % 7}", "".join(rng.choice(bits) for _ in range(rng.randrange(1, 6))), None)
            for i in range(3000)]
    rows.append(("c_none", "a0", "n0", None, None))
    df = _frame(rows)
    got = find_lures(df)
    assert sorted(map(tuple, got.itertuples(index=False))) == _lures_reference(df)
    assert len(got) > 500
    telegram = (("telegram", r"(?<![a-z])tg[:：]?\s*@?(?P<contact>[a-z0-9_]{5,})", ""),
                ("digits", r"\d{6,}", ""), ("case", r"(?i)SHOP", ""))
    assert sorted(map(tuple, find_lures(df, telegram).itertuples(index=False))) == _lures_reference(df, telegram)


def test_required_chars():
    assert _required_chars("私我|滴滴我") == frozenset("私滴")
    assert _required_chars("a?b") == frozenset("b")
    assert _required_chars("(?:x|y)z+") == frozenset("z") or _required_chars("(?:x|y)z+") == frozenset("xy")
    for unknown in (r"\d+", "(?i)abc", "a*", "[^a]b?", "(?i:ab)"):
        assert _required_chars(unknown) is None
    # Every match contains one of the required characters.
    rng = random.Random(1)
    alphabet = "ab私我滴q1v信微加 :_x9"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12))) for _ in range(4000)]
    for rx in [r for _, r, _ in LURE_PATTERNS] + ["私我|滴滴我", "a?b", "(?:x|y)z+", "(?:ab){2,}|q[0-9]", "(?<!a)v(?!x)"]:
        needed = _required_chars(rx)
        assert needed is not None
        for t in texts:
            if re.search(rx, t):
                assert set(t) & needed, (rx, t)


def test_contact_clusters_need_enough_accounts_and_cite_the_comments():
    rows = [("c1", "a", "n1", "加V信abc123", None), ("c2", "b", "n2", "V信 abc123 私聊", None),
            ("c3", "c", "n3", "Q 123456789", None)]
    (f,) = detect_offplatform_lures(_frame(rows))
    assert f.detector == "offplatform_lure" and f.members == ("a", "b") and f.score == 0.5
    assert {e.kind: e.ids for e in f.reasons[0].evidence} == {"comment": ("c1", "c2"), "account": ("a", "b")}
    assert detect_offplatform_lures(_frame(rows), OffplatformLureParams(min_contact_accounts=3)) == []
    telegram = (("telegram", r"tg[:：]?\s*@?(?P<contact>[a-z0-9_]{5,})", "telegram"),)
    rows = [("c1", "a", "n1", "tg @shop_123", None), ("c2", "b", "n2", "tg: shop_123", None)]
    assert detect_offplatform_lures(_frame(rows)) == []
    assert detect_offplatform_lures(_frame(rows), patterns=telegram)[0].members == ("a", "b")


def test_no_text_no_findings():
    no_text = pd.DataFrame({"comment_id": ["c"], "account_id": ["a"], "note_id": ["n"], "text": [""]})
    assert detect_offplatform_lures(no_text) == []
    assert detect_offplatform_lures(no_text.drop(columns=["text"])) == []
