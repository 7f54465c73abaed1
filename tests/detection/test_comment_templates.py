"""Comment templates: near-duplicate comments posted together (MinHash-LSH)."""

import random

import numpy as np
import pandas as pd
import pytest

from ringscope.detection.comment_templates import (
    CommentTemplateParams,
    detect_comment_templates,
    lsh_bands,
    near_duplicate_components,
    shingles,
    template_groups,
)
from ringscope.detection.comment_text import normalize_text
from tests.detection.comment_rows import comment_frame as _frame


def _timed(rows):
    """Rows of (comment_id, account_id, note_id, text, reply_to, minutes after a fixed start)."""
    df = _frame([r[:5] for r in rows])
    df["created_at"] = pd.Timestamp("2025-03-01T10:00:00Z") + pd.to_timedelta([r[5] for r in rows], unit="min")
    return df


PRAISE = ["这款精华液真的太好用了！！😍😍 强烈推荐～", "这款精华液真的太好用了，强烈推荐！",
          "这款精华液真滴太好用了强烈推荐💕", "这款精华液真的太好用了!强烈推荐姐妹们", "这款精华液 真的太好用了 强烈推荐🔥🔥"]


def test_near_duplicate_chinese_praise_clusters():
    # The crew posts its script on the brand's note within minutes of each other.
    rows = [(f"p{i}", f"shill{i}", "brand_note", t, None, 3 * i) for i, t in enumerate(PRAISE)]
    rows += [("g1", "real1", "n1", "今天天气不错去公园散步了", None, 0),
             ("g2", "real2", "n2", "这个精华液我用了过敏，大家慎重", None, 0),
             ("g3", "real3", "n3", "好看", None, 0), ("g4", "real4", "n4", "好看", None, 0), ("g5", "real5", "n5", "好看", None, 0)]
    findings = detect_comment_templates(_timed(rows))
    assert len(findings) == 1
    f = findings[0]
    assert f.members == tuple(f"shill{i}" for i in range(5))
    ev = {e.kind: e.ids for e in f.reasons[0].evidence}
    assert ev["comment"] == tuple(f"p{i}" for i in range(5))
    assert "这款精华液真的太好用了强烈推荐" in f.reasons[0].text


def test_a_common_phrase_scattered_over_notes_and_days_is_not_a_template_ring():
    # Forty genuine users repeat the same praise on forty different notes, days apart.
    rows = [(f"c{i}", f"user{i}", f"n{i}", PRAISE[i % 5], None, 1440 * i) for i in range(40)]
    assert detect_comment_templates(_timed(rows)) == []
    # A script of its own, posted together on one note by five accounts, is a ring.
    script = ["这个面霜我回购三次了真的绝了姐妹们冲", "这个面霜我回购三次了，真的绝了姐妹们冲！", "这个面霜我回购3次了真的绝了姐妹们冲🔥",
              "这个面霜我回购三次了真的绝了 姐妹们冲～", "这个面霜我回购三次了真的绝了姐妹们冲冲冲"]
    rows += [(f"r{i}", f"ring{i}", "n_hot", script[i], None, 2 * i) for i in range(5)]
    (ring,) = detect_comment_templates(_timed(rows))
    assert ring.members == tuple(f"ring{i}" for i in range(5))
    # A phrase that genuine users use widely is set aside even where a ring also posts it
    # together (min_colocated_share); lockstep is the detector for that ring.
    rows += [(f"x{i}", f"copy{i}", "n_other", PRAISE[i], None, 2 * i) for i in range(5)]
    members = {m for f in detect_comment_templates(_timed(rows)) for m in f.members}
    assert not any(m.startswith("copy") for m in members)


def test_no_text_no_findings():
    no_text = pd.DataFrame({"comment_id": ["c"], "account_id": ["a"], "note_id": ["n"], "text": [""]})
    assert detect_comment_templates(no_text) == []
    assert detect_comment_templates(no_text.drop(columns=["text"])) == []
    assert template_groups(_frame([("c", "a", "n", "短", None)])).empty


# --------------------------------------------------------------------------- fast path vs brute force

_POOL = ("这款精华液真的太好用了强烈推荐姐妹们冲鸭口红颜色显白绝绝子谁用谁知道现身说法值得买回购很多次"
         "面膜补水效果一级棒包装高级质感满分闭眼入不踩雷宝藏好物分享给大家搭配超级温柔氛围感拉满")
_DECOR = ["😍", "😍😍", "💕", "🔥🔥", "✨", "！", "!!", "～", "，", " ", "[赞R]", "❤️", "🥹", "。"]


def _edit(rng: random.Random, text: str) -> str:
    """A near-duplicate variant: one character changed, dropped or added, plus emoji/punctuation."""
    chars = list(text)
    op, at = rng.randrange(4), rng.randrange(len(chars))
    if op == 0:
        chars[at] = rng.choice(_POOL)
    elif op == 1 and len(chars) > 10:
        del chars[at]
    elif op == 2:
        chars.insert(at, rng.choice(_POOL))
    for _ in range(rng.randrange(3)):
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(_DECOR))
    return "".join(chars)


def _corpus(seed: int, templates: int = 12, organic: int = 250) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(templates):
        base = "".join(rng.choice(_POOL) for _ in range(rng.randrange(10, 22)))
        texts += [_edit(rng, base) for _ in range(rng.randrange(2, 25))]
    texts += ["".join(rng.choice(_POOL) for _ in range(rng.randrange(3, 20))) + rng.choice(_DECOR)
              for _ in range(organic)]
    rng.shuffle(texts)
    return texts


def _brute_force(texts: list[str], k: int, threshold: float) -> list[int]:
    """Components of all pairs with shingle Jaccard >= threshold (every pair compared)."""
    sets = [shingles(t, k) for t in texts]
    parent = list(range(len(texts)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            inter = len(sets[i] & sets[j])
            union = len(sets[i]) + len(sets[j]) - inter
            if union and inter / union >= threshold:
                parent[find(i)] = find(j)
    return [find(i) for i in range(len(texts))]


def _partition(labels) -> set[frozenset[int]]:
    groups: dict = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, set()).add(i)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("seed", range(6))
def test_fast_path_finds_the_brute_force_groups(seed):
    norms = sorted({normalize_text(t) for t in _corpus(seed)} - {""})
    fast = near_duplicate_components(norms)
    truth = _brute_force(norms, 3, 0.6)
    assert _partition(fast) == _partition(truth)
    assert len(_partition(truth)) < len(norms) - 20          # the corpus does have near-duplicates


@pytest.mark.parametrize("shingle,threshold", [(2, 0.5), (3, 0.8), (4, 0.6)])
def test_fast_path_other_parameters(shingle, threshold):
    params = CommentTemplateParams(shingle=shingle, threshold=threshold, min_chars=1)
    norms = sorted({normalize_text(t) for t in _corpus(7, organic=150)} | {"ab", "abc", "abd", "x"})
    assert _partition(near_duplicate_components(norms, params)) == _partition(_brute_force(norms, shingle, threshold))


def test_template_groups_match_brute_force_and_name_the_most_used_variant():
    texts = _corpus(11)
    rng = random.Random(3)
    rows = [(f"c{i:04d}", f"a{rng.randrange(120):03d}", f"n{rng.randrange(40)}", t, None)
            for i, t in enumerate(texts + texts[:40])]
    groups = template_groups(_frame(rows))
    norms = sorted(set(groups["norm"]))
    truth = _brute_force(norms, 3, 0.6)
    label = dict(zip(norms, truth))
    assert _partition(label[n] for n in norms) == _partition(
        dict(zip(groups["norm"], groups["template"]))[n] for n in norms)
    freq = groups["norm"].value_counts()
    for template, part in groups.groupby("template"):
        variants = sorted(set(part["norm"]))
        assert template == min(variants, key=lambda v: (-int(freq[v]), v))


def test_big_template_with_many_variants_is_one_group():
    # More variants than one LSH bucket pairs in full: they still chain into one group.
    rng = random.Random(5)
    base = "这款精华液真的太好用了强烈推荐给姐妹们"
    variants = sorted({normalize_text(_edit(rng, base)) for _ in range(3000)})
    assert len(variants) > 300
    labels = near_duplicate_components(variants)
    assert _partition(labels) == _partition(_brute_force(variants, 3, 0.6))


def test_templates_deterministic_under_row_order():
    texts = _corpus(2)
    rows = [(f"c{i:04d}", f"a{i % 97:03d}", f"n{i % 31}", t, None) for i, t in enumerate(texts)]
    rows += [(f"q{i}", f"b{i}", "n1", "姐妹这个在哪里买的？求链接", None) for i in range(3)]
    rows += [(f"r{i}", "helper", "n1", "链接私你了 加V信shop888", f"q{i}") for i in range(3)]
    df = _frame(rows)
    df["created_at"] = pd.Timestamp("2025-03-01T10:00:00Z") + pd.to_timedelta(range(len(df)), unit="min")
    a = detect_comment_templates(df)
    b = detect_comment_templates(df.sample(frac=1.0, random_state=4).reset_index(drop=True))
    assert a == b == detect_comment_templates(df) and a
    g1 = template_groups(df)
    g2 = template_groups(df.iloc[::-1].reset_index(drop=True))
    assert g1.equals(g2)


def test_lsh_bands():
    assert lsh_bands(0.6, 128) == (42, 3)
    for t in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        b, r = lsh_bands(t, 128)
        assert b * r <= 128 and 1 - (1 - t ** r) ** b >= 0.99


def test_empty_and_tiny_texts():
    assert list(near_duplicate_components([])) == []
    assert list(near_duplicate_components([""])) == [0]
    assert list(near_duplicate_components(["", "abcd", "abd", "abcde", "x"])) == [0, 1, 2, 1, 3]
    df = _frame([("1", "a", "n", "!!", None), ("2", "b", "n", None, None), ("3", "c", "n", "好看好看", None)])
    groups = template_groups(df, CommentTemplateParams(min_chars=0))
    assert list(groups["comment_id"]) == ["1", "2", "3"] and list(groups["template"]) == ["", "", "好看好看"]


def test_a_reason_quotes_the_text_of_the_linking_comment_it_cites():
    # c01 uses the template alone, a month earlier, on another note: it links no one, and the reason cites
    # c02, the first linking comment; it used to quote '' (the text of c01 was the one looked up)
    text = "这个面霜真的太好用了强烈推荐给大家"
    comments = pd.DataFrame({
        "comment_id": ["c01", "c02", "c03", "c04"], "account_id": ["a9", "a1", "a2", "a3"],
        "note_id": ["n9", "n1", "n1", "n1"], "text": [text, text + "！", text, text + "~"],
        "created_at": pd.to_datetime(["2024-01-01T10:00:00Z", "2024-02-01T10:00:00Z", "2024-02-01T10:20:00Z",
                                      "2024-02-01T10:40:00Z"], utc=True),
    })
    findings = detect_comment_templates(comments, CommentTemplateParams())
    assert len(findings) == 1 and findings[0].members == ("a1", "a2", "a3")
    assert f"e.g. c02: '{text}！'" in findings[0].reasons[0].text


@pytest.mark.parametrize("k", [3, 5])
def test_shingle_sets_hold_each_texts_distinct_shingles_by_sorted_id(k):
    """``ShingleSets``: the vocabulary is the distinct shingle ids ascending, and row t of ``sets`` holds
    text t's distinct shingles once each (a repeat within a text counted once), ids ascending, whatever
    the texts around it: repeats, empty texts, texts shorter than k, and texts sharing shingles."""
    from ringscope.detection.comment_templates import ShingleSets, _shingle_ids

    texts = ["", "好物分享好物分享好物分享", "ab", "好物分享姐妹们", "ababababab", "", "姐妹们冲", "x" * 40]
    sets = ShingleSets(texts, k)
    occurrences = [_shingle_ids([t], k)[1] for t in texts]
    assert np.array_equal(sets.vocab, np.unique(np.concatenate(occurrences)))
    for t, ids in enumerate(occurrences):
        row = sets.sets.indices[sets.sets.indptr[t]:sets.sets.indptr[t + 1]]
        assert np.array_equal(sets.vocab[row], np.unique(ids)) and (np.diff(row) > 0).all()
        assert sets.size[t] == len(np.unique(ids))
    assert ShingleSets([], k).empty and ShingleSets(["", ""], k).size.tolist() == [0, 0]


def test_verified_is_the_exact_jaccard_whatever_the_sketch_says():
    """``ShingleSets.verified`` keeps exactly the pairs at the threshold or above: its sketch bound only sets
    chance pairs aside, including for long texts with more than ``SKETCH_PLANES`` shingles in one cell."""
    from ringscope.detection.comment_templates import SKETCH_PLANES, ShingleSets, shingles

    rng = np.random.default_rng(11)
    alphabet = [chr(0x4E00 + i) for i in range(40)]
    bases = ["".join(rng.choice(alphabet, size=int(rng.integers(20, 400)))) for _ in range(30)]
    texts = []
    for base in bases:                      # variants from near copies to strangers, so Jaccards span 0.3
        for rate in (0.0, 0.01, 0.03, 0.05, 0.08, 0.15):
            chars = list(base)
            for at in np.flatnonzero(rng.random(len(chars)) < rate):
                chars[at] = str(rng.choice(alphabet))
            texts.append("".join(chars))
    sets = ShingleSets(texts, 3)
    i, j = (x.ravel() for x in np.triu_indices(len(texts), 1))
    truth = {(a, b) for a, b in zip(i.tolist(), j.tolist())
             if len(shingles(texts[a]) & shingles(texts[b])) / len(shingles(texts[a]) | shingles(texts[b])) >= 0.3}
    kept = set(zip(*(x.tolist() for x in sets.verified(i, j, 0.3))))
    assert kept == truth and 100 < len(truth) < len(i) // 2
    both_full = (sets.saturated[i] & sets.saturated[j]).any(axis=1)
    assert both_full.sum() > 100 and SKETCH_PLANES >= 1       # the pairs the bound cannot judge are there


def test_a_pair_crowded_in_one_sketch_cell_is_still_verified_exactly():
    """Two texts sharing 30 shingles of one sketch cell (counted only up to ``SKETCH_PLANES`` there): the
    capped bound alone would set this pair at Jaccard 0.33 aside; it is verified exactly instead."""
    from ringscope.detection.comment_templates import SKETCH_CELLS, ShingleSets, _mix64, _shingle_ids, shingles

    rng = np.random.default_rng(3)
    crowded: list[str] = []
    while len(crowded) < 30:                 # 3-character chunks whose shingle falls in cell 0
        chunk = "".join(chr(0x4E00 + int(c)) for c in rng.integers(0, 2000, size=3))
        if int(_mix64(_shingle_ids([chunk], 3)[1])[0] >> np.uint64(64 - (SKETCH_CELLS.bit_length() - 1))) == 0:
            crowded.append(chunk)
    a = "".join(crowded)
    b = a + "".join(chr(0x9000 + int(c)) for c in rng.integers(0, 3000, size=2 * len(a)))
    jaccard = len(shingles(a) & shingles(b)) / len(shingles(a) | shingles(b))
    assert 0.3 <= jaccard < 0.4
    sets = ShingleSets([a, b], 3)
    assert sets.saturated[0].any() and (sets.saturated[0] & sets.saturated[1]).any()
    kept = sets.verified(np.array([0]), np.array([1]), 0.3)
    assert kept[0].tolist() == [0] and kept[1].tolist() == [1]


def _boilerplate_corpus(seed: int) -> tuple[list[str], list[tuple[int, int]], list[int]]:
    """Note-like texts that all open and close with one of a few stock phrases (chance neighbours through
    them); copies, each a body with a fifth of its characters redrawn; and a mass-produced family, one
    skeleton with a few characters filled in, in more texts than ``COMMON_SHARE`` (so its own shingles
    are common). (texts, copy pairs, the family's texts)."""
    rng = np.random.default_rng(seed)
    stock = ["姐妹们听我说最近真的被种草了", "记录一下今天的生活碎片分享给大家", "有问题评论区见希望对你有帮助"]
    alphabet = [chr(0x4E00 + i) for i in range(3000)]
    texts, copies = [], []
    for n in range(300):
        body = "".join(rng.choice(alphabet, size=int(rng.integers(30, 80))))
        texts.append(stock[n % 3] + body + stock[(n + 1) % 3])
        if n % 10 == 0:
            chars = list(body)
            for at in np.flatnonzero(rng.random(len(chars)) < 0.2):
                chars[at] = str(rng.choice(alphabet))
            copies.append((len(texts) - 1, len(texts)))
            texts.append(stock[n % 3] + "".join(chars) + stock[(n + 1) % 3])
    skeleton = "".join(rng.choice(alphabet, size=60))
    family = list(range(len(texts), len(texts) + 40))
    for _ in family:
        fill = "".join(rng.choice(alphabet, size=8))
        texts.append(skeleton[:20] + fill[:4] + skeleton[20:40] + fill[4:] + skeleton[40:])
    return texts, copies, family


def test_signing_the_rarer_half_prunes_chance_candidates_only():
    """With ``signed_share`` 0.5 a text is signed by its rarer half of shingles: the stock phrases every text
    opens with stop making chance bucket mates, the copies and the mass-produced family (whose own shingles
    are common too) are still found, and the components are the exact Jaccard's (the verification counts
    every shingle)."""
    from ringscope.detection.comment_templates import (
        ShingleSets, _shingle_ids, band_key, band_pairs, common_shingles,
    )

    texts, copies, family = _boilerplate_corpus(4)
    params = CommentTemplateParams(threshold=0.3)
    pruned = CommentTemplateParams(threshold=0.3, signed_share=0.5)
    sets = ShingleSets(texts, 3)
    common = common_shingles(*sets.document_frequency(), len(texts))
    stock = np.unique(_shingle_ids([texts[0][:14]], 3)[1])     # the first stock phrase's shingles are common
    skeleton = np.unique(_shingle_ids([texts[family[0]][:20]], 3)[1])    # and so are the family's
    assert np.isin(stock, common[0]).all() and np.isin(skeleton, common[0]).all()

    def candidates(sig):
        labels = np.arange(len(texts))
        bands = lsh_bands(params.threshold, params.num_perm)[0]
        return sum(len(band_pairs(band_key(sig, band, params), labels)[0]) for band in range(bands))

    assert candidates(sets.signatures(pruned, common)) * 5 < candidates(sets.signatures(params))
    labels = near_duplicate_components(sorted(texts), pruned)
    assert _partition(labels) == _partition(_brute_force(sorted(texts), 3, 0.3))
    order = {t: i for i, t in enumerate(sorted(texts))}
    assert all(labels[order[texts[a]]] == labels[order[texts[b]]] for a, b in copies)
    assert len({labels[order[texts[i]]] for i in family}) == 1
    assert len(set(labels.tolist())) == len(texts) - len(copies) - len(family) + 1


def test_common_shingles_and_signatures_of_the_rarer_shingles():
    """The rule (more than ``COMMON_SHARE`` of the texts), and a signature of a text's rarer shingles: every
    one not common and at least ``signed_share`` of them, the least common first, whatever texts are
    signed beside it."""
    from ringscope.detection.comment_templates import COMMON_SHARE, ShingleSets, _minhash, common_shingles

    ids = np.array([3, 5, 9], dtype=np.uint64)
    texts = int(3 / COMMON_SHARE)                                   # 3 texts: the share's bound
    found = common_shingles(ids, np.array([3, 4, 9]), texts)
    assert found[0].tolist() == [5, 9] and found[1].tolist() == [4, 9]
    params = CommentTemplateParams(signed_share=0.5)
    text = "今天的直播间福利真的太给力了"                                  # 12 shingles
    sets = ShingleSets([text], 3)
    vocab = sets.vocab
    often = np.arange(len(vocab), 0, -1) * 10                       # the last shingle id is the least common
    often[[1, 4]] = 0                                               # two are not common at all
    common = (vocab[often > 0], often[often > 0])
    # kept: the two not common, then the least common up to ceil(0.5 * 12) = 6
    kept = sorted([1, 4] + list(np.argsort(np.where(often > 0, often, 10**9), kind="stable")[:4]))
    expected = _minhash(np.array([0, len(kept)]), np.array(kept), sets.values, params.num_perm, params.seed)
    assert len(kept) == 6 and (sets.signatures(params, common) == expected).all()
    assert (sets.signatures(CommentTemplateParams(), common) == sets.signatures(params)).all()   # share 1: all
    others = ["真的太好用了强烈推荐", text, "好用"]
    assert (ShingleSets(others, 3).signatures(params, common)[1] == expected[0]).all()
