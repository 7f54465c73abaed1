"""Staged question-and-answer acts."""

from ringscope.detection.offplatform_lures import find_lures
from ringscope.detection.qa_acts import QaActParams, detect_qa_acts, qa_acts
from tests.detection.comment_rows import comment_frame as _frame


def _ring(acts: int):
    """``acts`` questions by one account, each answered with a lure by another, on its own note."""
    rows = []
    for k in range(acts):
        rows.append((f"q{k}", "asker", f"n{k}", "姐妹这个在哪里买的？求链接", None))
        rows.append((f"a{k}", "answerer", f"n{k}", "链接私你了", f"q{k}"))
    return rows


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
    qa = detect_qa_acts(df)
    assert len(qa) == 1 and qa[0].members == ("answerer", "asker")
    ids = {e.kind: e.ids for e in qa[0].reasons[0].evidence}["comment"]
    assert set(ids) == {"q0", "q1", "q2", "a0", "a1", "a2"}


def test_qa_acts_duplicate_ids_and_missing_replies():
    rows = [("q1", "asker", "n1", "哪里买？", None), ("q1", "other", "n2", "哪里买？", None),
            ("a1", "answerer", "n1", "链接私你了", "q1"), ("a2", "answerer", "n1", "链接私你了", "nope"),
            ("a3", "answerer", "n1", "链接私你了", "")]
    acts = qa_acts(_frame(rows), find_lures(_frame(rows)))
    assert list(acts["answer_id"]) == ["a1"] and list(acts["asker"]) == ["asker"]


def test_a_ring_needs_enough_acts_on_two_notes_and_is_deterministic():
    df = _frame(_ring(2))
    (f,) = detect_qa_acts(df)
    assert f.detector == "qa_act" and f.score == 0.5
    assert detect_qa_acts(df.iloc[::-1].reset_index(drop=True)) == [f]
    assert detect_qa_acts(df, QaActParams(min_qa_acts=3)) == []
    one_note = df.assign(note_id="n0")
    assert detect_qa_acts(one_note) == []


def test_without_replies_or_texts_no_findings():
    df = _frame(_ring(3))
    assert detect_qa_acts(df.drop(columns=["reply_to"])) == []
    assert detect_qa_acts(df.assign(text="")) == []
    # the answers must be lures, by the patterns given
    assert detect_qa_acts(df, patterns=(("nothing", "zzz", ""),)) == []


def test_answers_are_the_replies_qa_acts_finds_with_every_lure():
    # One id on two rows (bad input, but possible): the reply's own text is no lure, the other row's is.
    rows = _ring(2) + [("q9", "asker", "n9", "哪里买？", None), ("a9", "answerer", "n9", "好用", "q9"),
                       ("a9", "someone", "n8", "链接私你了", None)]
    df = _frame(rows)
    acts = qa_acts(df, find_lures(df))
    assert "a9" in set(acts["answer_id"])
    (f,) = detect_qa_acts(df)
    assert f.reasons[0].text.startswith("3 staged question-and-answer acts on 3 notes")
