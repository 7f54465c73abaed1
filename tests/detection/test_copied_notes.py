"""copied_notes on plain frames: campaigns of near-duplicate note bodies, who is a member, the null model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from ringscope.detection.copied_notes import (
    CopiedNoteParams, background_rate, detect_copied_notes, family_surprise, note_families,
)

T0 = pd.Timestamp("2026-03-01", tz="UTC")
# An agency's skeleton: its fills are a small part of each note (pairs at a Jaccard of 0.53-0.59, as the
# simulator's 0.5-0.8)
SKELETON = ("我最近一直在用{p}，质地{a}，上脸以后{b}，搭配精华一起用效果更好，敏感肌也可以放心用，包装也很有质感，"
            "物流很快第二天就到了，真心推荐给各位姐妹们，{c}")
SLOTS = [("玻尿酸面霜", "很清爽", "一点都不油", "冲就完了"), ("烟酰胺精华", "水润", "第二天就亮了", "闭眼入"),
         ("修护乳液", "绵密", "整天不干", "回购三次了"), ("氨基酸洗面奶", "细腻", "很舒服", "学生党也买得起"),
         ("防晒霜", "轻薄", "不搓泥", "夏天必备"), ("眼霜", "很滋润", "细纹淡了", "已经推荐给闺蜜")]
VIRAL = "第一次一个人去云南旅行，从大理古城骑车到洱海边，一路上风很大但是景色特别美，晚上住在双廊的小院子里，老板娘做的饵块好吃到哭"


def unique_body(rng: np.random.Generator, n: int = 60) -> str:
    return "".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FFF, n))


def platform(honest: int = 60, pairs: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Honest authors h0..: one unique body each, and `pairs` two-author families (a note and one copy);
    agency I1 runs m0-m5 posting the skeleton slot-filled for brand B1 (m0 first); v0 wrote VIRAL, c0-c3 copied it
    later (rewashed: a word changed); s0-s9 post short texts (not judged)."""
    rng = np.random.default_rng(3)
    rows = [(f"h{i}", unique_body(rng), None, i) for i in range(honest)]
    for i in range(pairs):
        body = unique_body(rng)
        rows += [(f"p{i}a", body, None, 100 + i), (f"p{i}b", body[:-3] + "真不错", None, 200 + i)]
    rows += [(f"m{i}", SKELETON.format(p=p, a=a, b=b, c=c), "B1", 300 + i) for i, (p, a, b, c) in enumerate(SLOTS)]
    rows += [("v0", VIRAL, None, 400)]
    rows += [(f"c{i}", VIRAL.replace("云南", "大理" if i % 2 else "云南省").replace("好吃到哭", f"好吃{i}"), None, 500 + i)
             for i in range(4)]
    rows += [(f"s{i}", "好看好看求链接", None, 600 + i) for i in range(10)]
    notes = pd.DataFrame({
        "note_id": [f"n{i:03d}" for i in range(len(rows))],
        "account_id": [r[0] for r in rows],
        "posted_at": [T0 + pd.Timedelta(hours=r[3]) for r in rows],
        "brand_id": [r[2] for r in rows],
        "text": [r[1] for r in rows],
    })
    managed = pd.DataFrame({"intermediary_id": ["I1"] * 6 + ["I2"], "account_id": [f"m{i}" for i in range(6)] + ["c0"]})
    return notes, managed


def test_families_of_near_duplicate_bodies_and_what_is_judged():
    notes, _ = platform()
    families, judged = note_families(notes)
    assert judged == len(notes) - 10  # the ten short texts are not compared
    by_account = families.set_index("account_id")["family"]
    assert by_account[[f"m{i}" for i in range(6)]].nunique() == 1  # the slot-filled skeleton is one family
    assert by_account[["v0", "c0", "c1", "c2", "c3"]].nunique() == 1
    assert by_account[[f"h{i}" for i in range(60)]].nunique() == 60  # honest bodies each their own
    assert note_families(notes.drop(columns="text"))[1] == 0


def test_campaigns_their_members_and_reasons():
    notes, managed = platform()
    found = {f.members: f for f in detect_copied_notes(notes, managed)}
    agency = tuple(f"m{i}" for i in range(6))
    assert agency in found  # the agency's first poster is a member: I1 manages it and the others
    copiers = ("c0", "c1", "c2", "c3")
    assert copiers in found  # v0 wrote the note first and is not a member
    assert len(found) == 2  # no honest author, no two-author family
    text = found[agency].reasons[0].text
    assert "6 accounts posted 6 near-duplicate notes" in text and "brand B1" in text and "I1 (6 accounts)" in text
    kinds = {e.kind: e.ids for e in found[agency].reasons[0].evidence}
    assert kinds["brand"] == ("B1",) and kinds["intermediary"] == ("I1",) and len(kinds["note"]) == 6
    assert "presumed the original, its author v0 is not a member" in found[copiers].reasons[0].text
    # larger families are less likely by chance: the agency's six outscore the copiers' five
    assert found[agency].score > found[copiers].score > 0


def test_the_null_model_is_the_poisson_tail_at_the_platforms_rate():
    notes, _ = platform(pairs=2)
    families, judged = note_families(notes)
    assert background_rate(families, judged) == pytest.approx(2 * 2 / judged)
    assert background_rate(families.iloc[:0], 10) == pytest.approx(0.1)  # no pairs: one over the judged
    lam = 0.01
    assert family_surprise(5, lam) == pytest.approx(-math.log10(poisson.sf(3, lam)))
    assert family_surprise(1, lam) == 0
    assert family_surprise(400, lam) > family_surprise(50, lam) > family_surprise(5, lam)
    # more chance copying on a platform makes the same family less surprising
    assert family_surprise(6, 0.1) < family_surprise(6, 0.001)


def test_a_family_of_fewer_authors_than_min_accounts_is_no_campaign():
    notes, managed = platform()
    assert all(len(f.members) >= 4 for f in detect_copied_notes(notes, managed, CopiedNoteParams(min_accounts=5)))
    assert detect_copied_notes(notes, managed, CopiedNoteParams(min_accounts=7)) == []
    assert detect_copied_notes(notes.iloc[:0], managed) == []


def test_a_family_chance_explains_is_no_finding():
    notes, managed = platform(pairs=150)  # much chance copying: a family of five is no surprise
    found = detect_copied_notes(notes, managed)
    assert all(f.score > 0 for f in found)
    assert ("c0", "c1", "c2", "c3") not in {f.members for f in found}


def chain(rng: np.random.Generator, n: int, part: int = 40) -> list[str]:
    """``n`` bodies, each two unique parts, the second of one the first of the next: neighbours in the chain share
    a third of their shingles (Jaccard about 0.33), bodies further apart nothing."""
    parts = [unique_body(rng, part) for _ in range(n + 1)]
    return [parts[i] + parts[i + 1] for i in range(n)]


def test_honest_notes_that_only_chain_by_chance_overlaps_are_no_campaign():
    # Why the test is stricter than the platform's 30 % rule: on a platform of millions of notes, every honest
    # note has chance partners at a Jaccard just over 0.3 (stock phrases), and families - connected components -
    # chain them: the simulated 10 M platform's largest family held 102,898 authors, 90 % honest.
    rng = np.random.default_rng(5)
    bodies = chain(rng, 30)
    notes = pd.DataFrame({"note_id": [f"n{i:02d}" for i in range(30)], "account_id": [f"h{i}" for i in range(30)],
                          "posted_at": [T0 + pd.Timedelta(hours=i) for i in range(30)], "brand_id": None,
                          "text": bodies})
    assert 0.3 < jaccard3(bodies[0], bodies[1]) < 0.4 and jaccard3(bodies[0], bodies[2]) == 0
    chained = detect_copied_notes(notes, None, CopiedNoteParams(threshold=0.3))
    assert len(chained) == 1 and len(chained[0].members) >= 20 and chained[0].score > 0.5  # what 0.3 made of it
    assert detect_copied_notes(notes, None) == []  # the shipped test: thirty notes of their own
    families, _ = note_families(notes)
    assert families["family"].nunique() == 30


def jaccard3(a: str, b: str) -> float:
    sa, sb = ({t[i:i + 3] for i in range(len(t) - 2)} for t in (a, b))
    return len(sa & sb) / len(sa | sb)


def test_the_families_of_one_frame_are_found_once_per_test():
    from ringscope.detection import copied_notes

    notes = pd.DataFrame({"note_id": ["n1", "n2"], "account_id": ["a", "b"],
                          "text": ["这款精华液用了两周皮肤明显变亮了真的推荐给大家姐妹们快冲这个价格太划算了"] * 2})
    copied_notes.release_families()
    first = note_families(notes)
    assert note_families(notes) is first  # the same frame, the same test: made once
    assert note_families(notes, CopiedNoteParams(threshold=0.5)) is not first  # another test: made again
    assert note_families(notes.copy())[0].equals(first[0])  # another frame: made again, alike
    copied_notes.release_families()
    assert copied_notes._LAST is None
