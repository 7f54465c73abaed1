"""``comment_template`` on Spark finds what the local detector finds."""

from __future__ import annotations

import pandas as pd

from ringscope.detection.comment_templates import (
    CommentTemplateParams, ShingleSets, band_key, detect_comment_templates, lsh_bands,
)
from ringscope.spark.comment_templates import detect_comment_templates as templates_on_spark
from ringscope.spark.source import PlatformSource
from tests.spark.lakes import write_lake

START = pd.Timestamp("2025-03-01T10:00:00Z")
# Jaccard exactly 0.6 (the threshold); their MinHash rows differ in band 0 and agree in two bands only.
LSH_PAIR = ("高口次说白不享用知身高多鸭藏", "高口次说满不享用知身高多鸭藏")
# U+FA0E sorts before U+20BB7 by code point, after it in UTF-16: the tie between the two variants
# must be broken in Python's order.
COMPAT, ASTRAL = "\ufa0e野家的牛丼真的好吃推荐大家姐妹们", "\U00020bb7野家的牛丼真的好吃推荐大家姐妹们"
SERUM = "这款精华液真的太好用了强烈推荐给姐妹们用了一个月皮肤变得又白又嫩毛孔也小了很多回购三次以后还会继续买的"


def test_the_simulated_platform_gives_the_same_findings_on_spark(spark, platform):
    comments = pd.read_parquet(platform / "comments")
    local = detect_comment_templates(comments)
    assert len(local) >= 3 and any(r.code == "offplatform_lure" for f in local for r in f.reasons)
    assert templates_on_spark(PlatformSource(spark, str(platform))) == local


def _burst(rows, prefix, accounts, note, texts, start, step=2.0):
    """Each account posts the next text on ``note``, ``step`` minutes apart, from minute ``start``."""
    for i, account in enumerate(accounts):
        rows.append((f"{prefix}{i:02d}", account, note, texts[i % len(texts)], start + step * i))


def _comments() -> pd.DataFrame:
    rows: list[tuple] = []
    # a pair only the later LSH bands propose, and a second template the same accounts share
    _burst(rows, "a", ["r1", "r2", "r3", "r4"], "nA", [LSH_PAIR[0], LSH_PAIR[1]], 0)
    _burst(rows, "l", ["r1", "r2", "r3"], "nL", ["今天的直播间福利真的太给力了", "今天的直播间福利真的太给力了吧"], 30)
    # forty variants of one script (more than an LSH bucket pairs in full), by twelve accounts, with the
    # same text spelled with spaces, emoji and punctuation
    variants = [SERUM + chr(0x4E00 + 7 * i) for i in range(40)]
    variants += [SERUM.replace("真的", " 真的 ") + "😍😍!!", "【" + SERUM + "】✨"]
    _burst(rows, "b", [f"s{i % 12:02d}" for i in range(len(variants))], "nB", variants, 100, step=0.5)
    # a lure inside a template
    _burst(rows, "c", ["w1", "w2", "w3", "w4"], "nC",
           ["加V信abc12345领优惠券快来抢", "加v信 abc12345 领优惠券快来抢！", "➕V信abc12345领优惠劵快来抢"], 200)
    # too short to be a template (min_chars = 8), and just long enough
    _burst(rows, "d", ["k1", "k2", "k3", "k4", "k5"], "nD", ["好看好看", "哈哈哈哈哈哈哈"], 300)
    _burst(rows, "e", ["m1", "m2", "m3"], "nE", ["哈哈哈哈哈哈哈哈", "哈哈哈哈，哈哈哈哈！"], 310)
    # scattered over notes and days: not a ring unless scattered templates count
    for i in range(5):
        rows.append((f"f{i:02d}", f"u{i}", f"nF{i}", "这家店的小蛋糕好吃到跺脚", 1440.0 * (i + 1)))
    # co-located 3 of 13 uses (set aside), and 3 of 7 uses (counts; its first comment is scattered, so
    # the reason's example is empty)
    _burst(rows, "g", ["x1", "x2", "x3"], "nG", ["周末和朋友一起去露营了超开心"], 400)
    for i in range(10):
        rows.append((f"g{10 + i:02d}", f"y{i}", f"nG{i}", "周末和朋友一起去露营了超开心", 2000.0 + 1440 * i))
    _burst(rows, "h1", ["z1", "z2", "z3"], "nH", ["这个配色也太高级了吧爱了爱了"], 500)
    for i in range(4):
        rows.append((f"h0{i}", f"v{i}", f"nH{i}", "这个配色也太高级了吧爱了爱了", 2000.0 + 1440 * i))
    # one template used by more accounts than max_template_accounts (30)
    _burst(rows, "i", [f"p{i:02d}" for i in range(35)], "nI", ["蹲一个后续蹲一个后续"], 600, step=0.2)
    # variants equally used: the template is named by the smaller in code point order
    _burst(rows, "k", ["q1", "q2", "q3", "q4"], "nK", [COMPAT, ASTRAL], 700)
    # no text, blank, only emoji or punctuation (normalised to ""), posted together
    _burst(rows, "n", ["o1", "o2", "o3", "o4", "o5"], "nN", [None, "", "   ", "😍😍", "!!!"], 800)
    frame = pd.DataFrame(rows, columns=["comment_id", "account_id", "note_id", "text", "minute"])
    created = [(START + pd.Timedelta(minutes=m)) for m in frame["minute"]]
    frame["created_at"] = [t.isoformat().replace("+00:00", "Z") for t in created]
    frame.loc[frame["comment_id"] == "b03", "created_at"] = (created[int(frame.index[frame["comment_id"] == "b03"][0])]
                                                            .tz_convert("Asia/Shanghai").isoformat())
    frame.loc[frame["comment_id"] == "b07", "created_at"] = None     # no time: never co-located
    frame["reply_to"] = None
    return frame.drop(columns=["minute"]).sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_edge_cases_agree(spark, tmp_path):
    comments = _comments()
    half = len(comments) // 2
    lake = write_lake(tmp_path / "lake", accounts=pd.DataFrame({"account_id": sorted(set(comments["account_id"]))}),
                      comments=comments.iloc[:half])
    # two part files: the executors normalise, sign and link them in different batches
    comments.iloc[half:].to_parquet(lake / "comments" / "part-00001.parquet")
    source = PlatformSource(spark, str(lake))

    params = CommentTemplateParams()
    sig = ShingleSets(list(LSH_PAIR), params.shingle).signatures(params)
    shared = [band for band in range(lsh_bands(params.threshold, params.num_perm)[0])
              if band_key(sig, band, params)[0] == band_key(sig, band, params)[1]]
    assert 0 not in shared and len(shared) == 2

    strict = CommentTemplateParams(max_template_accounts=30, max_reasons=1)
    local = detect_comment_templates(comments, strict)
    members = [set(f.members) for f in local]
    assert {"r1", "r2", "r3", "r4"} in members                         # two templates, one via later bands
    assert {f"s{i:02d}" for i in range(12)} in members
    assert {"w1", "w2", "w3", "w4"} in members and {"m1", "m2", "m3"} in members
    assert {"z1", "z2", "z3"} in members and {"q1", "q2", "q3", "q4"} in members
    assert len(local) == 6
    texts = " ".join(r.text for f in local for r in f.reasons)
    assert "offplatform_lure" in {r.code for f in local for r in f.reasons}
    assert f"template '{COMPAT}'" in texts and "the 1 most used follow" in texts
    assert "e.g. h100: '这个配色也太高级了吧爱了爱了')" in texts       # the first linking comment, quoted
    assert templates_on_spark(source, strict) == local

    loose = CommentTemplateParams(min_chars=0, max_scattered_accounts=5, threshold=0.5, co_window=pd.Timedelta(minutes=3))
    local = detect_comment_templates(comments, loose)
    members = [set(f.members) for f in local]
    assert {f"u{i}" for i in range(5)} in members                      # scattered, yet counted
    assert any({"o1", "o2", "o3"} <= m for m in members)               # the empty template
    assert templates_on_spark(source, loose) == local


def test_no_comments_or_no_text_no_findings(spark, tmp_path):
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"]})
    assert templates_on_spark(PlatformSource(spark, str(write_lake(tmp_path / "none", accounts=accounts)))) == []
    blank = pd.DataFrame({"comment_id": ["1", "2", "3"], "account_id": ["a", "b", "c"], "note_id": ["n"] * 3,
                          "created_at": [START.isoformat()] * 3, "text": [None, "", None]})
    source = PlatformSource(spark, str(write_lake(tmp_path / "blank", accounts=accounts, comments=blank)))
    # min_chars 0 makes "" a template, but where no comment has text there are no templates at all
    everything = CommentTemplateParams(min_chars=0)
    assert detect_comment_templates(blank, everything) == [] == templates_on_spark(source, everything)


def test_a_large_bucket_in_runs_holds_the_same_windowed_pairs(spark, monkeypatch):
    """``shared_buckets`` cuts a bucket into overlapping runs: every windowed pair of the whole bucket
    (``band_pairs``) is a windowed pair of one run, and the runs make no other pair."""
    import numpy as np

    import ringscope.spark.comment_templates as on_spark
    from ringscope.detection.comment_templates import BUCKET_WINDOW, band_pairs

    monkeypatch.setattr(on_spark, "BUCKET_RUN", BUCKET_WINDOW)
    rng = np.random.default_rng(5)
    # (band, key, ids): a bucket of several runs, one just over a run and its window, one of two texts,
    # one text alone (not shared), the same key in another band
    buckets = [(0, 7, rng.permutation(150)[:137]), (0, 8, [3, 9]), (1, 7, [4]),
               (1, 9, rng.permutation(200)[:2 * BUCKET_WINDOW + 1]), (2, 7, rng.permutation(40)[:33])]
    rows = pd.DataFrame([(band, key, int(i)) for band, key, ids in buckets for i in ids], columns=["band", "key", "id"])
    texts = pd.DataFrame({"id": np.arange(200), "norm": [f"text {i:03d}" for i in range(200)]})
    runs = on_spark.shared_buckets(spark.createDataFrame(rows.sample(frac=1.0, random_state=1)),
                                   spark.createDataFrame(texts)).toPandas()

    def pairs(groups) -> set[tuple[int, int, int]]:
        found = set()
        for band, ids in groups:
            ids = np.asarray(ids, dtype=np.int64)
            i, j = band_pairs(np.zeros(len(ids), dtype=np.int64), np.arange(len(ids)))
            found |= {(band, int(a), int(b)) for a, b in zip(ids[i], ids[j])}
        return found

    assert len(runs) > len(buckets) - 1                                 # the 137-text bucket is cut
    assert all(list(ids) == sorted(ids) and list(norms) == [f"text {i:03d}" for i in ids] and len(ids) > 1
               for ids, norms in zip(runs["ids"], runs["norms"]))
    assert max(len(ids) for ids in runs["ids"]) <= 2 * BUCKET_WINDOW
    whole = [(band, sorted(int(i) for i in ids)) for band, _, ids in buckets if len(ids) > 1]
    assert pairs(zip(runs["band"], runs["ids"])) == pairs(whole)
    assert len(pairs(whole)) > 137 * BUCKET_WINDOW // 2


def test_common_shingles_and_band_keys_are_the_local_ones(spark):
    """The common shingles counted over batches of texts in the JVM are the local engine's, and the band keys
    made without them are the local keys: one definition of the candidates in both engines."""
    import numpy as np

    from ringscope.detection.comment_templates import common_shingles
    from ringscope.spark.comment_templates import band_rows, common_shingles_on_spark
    from tests.detection.test_comment_templates import _boilerplate_corpus

    texts = sorted(_boilerplate_corpus(4)[0])
    params = CommentTemplateParams(threshold=0.3, signed_share=0.5)
    frame = spark.createDataFrame(pd.DataFrame({"id": np.arange(len(texts), dtype=np.int64), "norm": texts}),
                                  "id long, norm string").repartition(3)
    sets = ShingleSets(texts, params.shingle)
    local = common_shingles(*sets.document_frequency(), len(texts))
    found = common_shingles_on_spark(frame, params, len(texts))
    assert len(local[0]) > 20 and found[0].dtype == np.uint64
    assert found[0].tolist() == local[0].tolist() and found[1].tolist() == local[1].tolist()
    assert common_shingles_on_spark(frame, CommentTemplateParams(threshold=0.3), len(texts)) is None

    sig = sets.signatures(params, local)
    keys = band_rows(frame, params, found).toPandas().sort_values(["band", "id"])
    bands = lsh_bands(params.threshold, params.num_perm)[0]
    expected = np.concatenate([band_key(sig, band, params).view(np.int64) for band in range(bands)])
    assert keys["key"].tolist() == expected.tolist()


def test_sketched_links_give_the_components_of_text_links(spark, monkeypatch):
    """``sketched_links`` (runs carrying sketches, only the texts of possible pairs gathered and shingled)
    links exactly what ``text_links`` over whole runs and the local search link, here with buckets cut
    into several runs and stock phrases making most windowed pairs chance pairs the sketch sets aside, in
    one pass over the bands or in several."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as components

    import ringscope.spark.comment_templates as on_spark
    from ringscope.detection.comment_templates import BUCKET_WINDOW, near_duplicate_components
    from tests.detection.test_comment_templates import _boilerplate_corpus

    monkeypatch.setattr(on_spark, "BUCKET_RUN", BUCKET_WINDOW)
    texts = sorted(_boilerplate_corpus(4)[0] + [SERUM + chr(0x4E00 + 7 * i) for i in range(80)])
    params = CommentTemplateParams(threshold=0.3)
    frame = spark.createDataFrame(pd.DataFrame({"id": np.arange(len(texts), dtype=np.int64), "norm": texts}),
                                  "id long, norm string").repartition(3)
    rows = on_spark.band_rows(frame, params).localCheckpoint()

    def partition(links) -> set[frozenset[int]]:
        edges = links.toPandas()
        graph = coo_matrix((np.ones(len(edges)), (edges["src"], edges["dst"])), shape=(len(texts), len(texts)))
        labels = components(graph, directed=False)[1]
        return {frozenset(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)}

    whole = on_spark.shared_buckets(rows, frame)
    sketched = on_spark.sketched_links(frame, rows, params, 2, len(texts))
    monkeypatch.setattr(on_spark, "BAND_ROWS_PER_PASS", 5 * len(texts))     # 5 bands a pass: 13 passes
    passes: list[str] = []
    in_passes = on_spark.sketched_links(frame, rows, params, 2, len(texts), lambda what, n: passes.append(what))
    local = near_duplicate_components(texts, params)
    expected = {frozenset(np.flatnonzero(local == c).tolist()) for c in np.unique(local)}
    assert len(expected) < len(texts) - 100                            # copies, the family and the variants
    assert partition(on_spark.text_links(whole.coalesce(2), params)) == expected
    assert partition(sketched) == expected
    assert partition(in_passes) == expected and len(passes) == 13 and passes[-1].endswith("bands 60-63 of 64")

    sized = on_spark.shared_buckets(rows, on_spark.text_sketches(frame, params), {"size": "sizes", "sketch": "sketches"})
    possible = on_spark.possible_runs(sized, params).toPandas()
    in_runs = int(whole.toPandas()["ids"].map(len).sum())
    assert 0 < int(possible["ids"].map(len).sum()) < in_runs           # texts of chance pairs only are not gathered
    assert all(len(r.left) == len(r.right) and max(max(r.left), max(r.right)) < len(r.ids) for r in possible.itertuples())


def test_runs_without_a_possible_pair_are_sent_as_an_empty_frame_arrow_takes():
    # A batch of runs whose every pair the size bound sets aside (a short text beside a long one): the frame
    # left must still convert to the stage's declared arrays (an empty list once made a float column, and
    # Arrow stopped the task: "NumPyConverter doesn't implement <list<element: int64>> conversion").
    import numpy as np
    import pyarrow as pa

    import ringscope.spark.comment_templates as on_spark

    texts = ["高口次说白不享用知身高多鸭藏", SERUM * 3]
    sets = ShingleSets(texts, 3)
    batch = pd.DataFrame({"band": [0], "ids": [np.array([0, 1], dtype=np.int64)],
                          "sizes": [sets.size.astype(np.int64)], "sketches": [[row.tobytes() for row in sets.sketch]]})
    out = on_spark._possible_batch(batch, 0.45)
    assert out.empty
    schema = pa.schema([("band", pa.int32()), ("ids", pa.list_(pa.int64())), ("left", pa.list_(pa.int32())),
                        ("right", pa.list_(pa.int32()))])
    assert pa.Table.from_pandas(out, schema=schema, preserve_index=False).num_rows == 0
