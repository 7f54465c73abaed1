"""Templates, off-platform lures and staged Q&A acts."""

import pandas as pd
import pytest

from detection.templates import (
    LURE_PATTERNS,
    detect_templates,
    find_lures,
    load_lure_patterns,
    normalize_text,
    qa_acts,
    template_groups,
)


def _frame(rows):
    return pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "text", "reply_to"])


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


def test_near_duplicate_chinese_praise_clusters():
    praise = ["这款精华液真的太好用了！！😍😍 强烈推荐～", "这款精华液真的太好用了，强烈推荐！",
              "这款精华液真滴太好用了强烈推荐💕", "这款精华液真的太好用了!强烈推荐姐妹们", "这款精华液 真的太好用了 强烈推荐🔥🔥"]
    rows = [(f"p{i}", f"shill{i}", f"n{i}", t, None) for i, t in enumerate(praise)]
    rows += [("g1", "real1", "n1", "今天天气不错去公园散步了", None),
             ("g2", "real2", "n2", "这个精华液我用了过敏，大家慎重", None),
             ("g3", "real3", "n3", "好看", None), ("g4", "real4", "n4", "好看", None), ("g5", "real5", "n5", "好看", None)]
    findings = [f for f in detect_templates(_frame(rows)) if f.detector == "comment_template"]
    assert len(findings) == 1
    f = findings[0]
    assert f.members == tuple(f"shill{i}" for i in range(5))
    ev = {e.kind: e.ids for e in f.reasons[0].evidence}
    assert ev["comment"] == tuple(f"p{i}" for i in range(5))
    assert "这款精华液真的太好用了强烈推荐" in f.reasons[0].text


def test_qa_pair_found():
    rows = []
    for k in range(3):
        rows.append((f"q{k}", "asker", f"n{k}", "姐妹这个在哪里买的？求链接", None))
        rows.append((f"a{k}", "answerer", f"n{k}", "链接私你了", f"q{k}"))
    # a genuine answer without lure, and a lure answering a non-question
    rows.append(("q9", "x", "n9", "这个多少钱？", None))
    rows.append(("a9", "y", "n9", "专柜三百多", "q9"))
    df = _frame(rows)
    acts = qa_acts(df, find_lures(df))
    assert list(acts["answer_id"]) == ["a0", "a1", "a2"]
    qa = [f for f in detect_templates(df) if f.detector == "qa_act"]
    assert len(qa) == 1 and qa[0].members == ("answerer", "asker")
    ids = {e.kind: e.ids for e in qa[0].reasons[0].evidence}["comment"]
    assert set(ids) == {"q0", "q1", "q2", "a0", "a1", "a2"}


def test_shared_contact_cluster_and_determinism():
    rows = [(f"c{i}", f"acc{i}", f"n{i}", f"好物分享，加V信abc123{'!' * i}", None) for i in range(4)]
    df = _frame(rows)
    a = detect_templates(df)
    b = detect_templates(df.iloc[::-1].reset_index(drop=True))
    assert a == b
    lure = [f for f in a if f.detector == "offplatform_lure"]
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


def test_no_text_no_findings():
    assert detect_templates(pd.DataFrame({"comment_id": ["c"], "account_id": ["a"], "note_id": ["n"], "text": [""]})) == []
    assert normalize_text("ＡＢＣ，１２３！😀") == "abc123"
    assert template_groups(_frame([("c", "a", "n", "短", None)])).empty
