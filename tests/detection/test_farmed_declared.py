"""farmed_declared: accounts taking declared orders with a bought audience are found, with their orders, brands
and agency named; a viral creator, a creator reposting its assistant's drafts and an honest creator a farm follows
as camouflage are not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ringscope.detection.farmed_declared import (FarmedDeclaredParams, cofollower_spread, combined_surprise,
                                                 copy_evidence, detect_farmed_declared, family_heads, first_copies,
                                                 shared_cofollowers)
from ringscope.simulate.bodies import THEMES

T0 = pd.Timestamp("2025-01-01", tz="UTC")
FARMED = [f"farmed{i}" for i in range(5)]
HONEST = ["honest0", "honest1", "honest2", "viral", "assisted"]
WEIGHT, THRESHOLD = 0.8, 0.5


def body(rng: np.random.Generator, n: int = 6) -> str:
    """An ordinary note body: sentences drawn from the simulator's vocabulary (varied enough not to repeat)."""
    parts = []
    for _ in range(n):
        _, actions, details = THEMES[int(rng.integers(0, len(THEMES)))]
        parts.append(f"{actions[int(rng.integers(0, len(actions)))]}{details[int(rng.integers(0, len(details)))]}"
                     f"{int(rng.integers(1, 99))}次。")
    return "".join(parts)


def platform(seed: int = 5, link_assistant: bool = True) -> dict[str, pd.DataFrame]:
    """400 ordinary accounts following popular ones; five honest declared creators (one whose note went viral,
    one reposting its assistant's drafts, managed by the same MCN); a follower farm of 80 accounts that bought
    most of the audience of five farmed declared accounts in two-day bursts, follows popular accounts and the
    honest creators as camouflage; the farmed accounts copy popular notes."""
    rng = np.random.default_rng(seed)
    people = [f"u{i:03d}" for i in range(400)]
    farm = [f"f{i:02d}" for i in range(80)]
    popular = people[:20]
    follows, notes, likes = [], [], []

    def follow(a, b, t):
        follows.append((a, b, T0 + pd.Timedelta(hours=float(t))))

    for u in people:  # ordinary follows: popular accounts and the honest creators
        for b in rng.choice(popular + HONEST[:3], int(rng.integers(1, 6)), replace=False):
            follow(u, b, rng.uniform(0, 4000))
    for u in rng.choice(people, 150, replace=False):  # the viral note: 150 ordinary users in a day
        follow(u, "viral", 2000 + rng.uniform(0, 24))
    for u in rng.choice(people, 120, replace=False):  # the assisted creator's steady audience
        follow(u, "assisted", rng.uniform(0, 4000))
    for f in farm:  # camouflage
        for b in rng.choice(popular + HONEST[:3], int(rng.integers(3, 8)), replace=False):
            follow(f, b, rng.uniform(0, 4000))
    for i, x in enumerate(FARMED):
        start = 500 + 300 * i
        for f in rng.choice(farm, int(rng.integers(50, 70)), replace=False):
            follow(f, x, start + rng.uniform(0, 48))
        for u in rng.choice(people, 5, replace=False):
            follow(u, x, rng.uniform(0, 4000))

    n = 0
    texts = {}

    def note(author, hours, text, brand=None):
        nonlocal n
        n += 1
        notes.append((f"n{n:04d}", author, T0 + pd.Timedelta(hours=float(hours)), brand, text))
        texts[f"n{n:04d}"] = text
        return f"n{n:04d}"

    originals = [note(p, rng.uniform(0, 300), body(rng)) for p in popular for _ in range(2)]
    for p in people[20:120]:
        note(p, rng.uniform(0, 4000), body(rng))
    for x in HONEST[:3] + ["viral"]:
        for _ in range(4):
            note(x, rng.uniform(0, 4000), body(rng))
    for k in range(4):  # the assistant drafts, the creator reposts
        draft = note("assistant", 1000 + 200 * k, body(rng))
        note("assisted", 1003 + 200 * k, texts[draft])
    for i, x in enumerate(FARMED):
        for src in rng.choice(originals, 3, replace=False):
            note(x, 600 + 300 * i + rng.uniform(0, 100), texts[src])
        note(x, 700 + 300 * i, body(rng))
    for nid, author, *_ in notes:  # likes: popular notes many, farmed notes a few
        k = 3 if author in FARMED else (40 if author in popular or author in HONEST else int(rng.integers(0, 8)))
        for u in rng.choice(people, k, replace=False):
            if u != author:
                likes.append((u, nid, T0))

    orders, o = [], 0
    for x, agency, brands in [(x, "m_agency", ["b1", "b1", "b2"]) for x in FARMED] + \
            [(x, "m_mcn", ["b1", "b3"]) for x in HONEST]:
        for b in brands:
            o += 1
            orders.append((f"o{o:03d}", b, agency, x, True))
    orders.append(("o999", "b9", "m_studio", "u005", False))  # undeclared: not a candidate
    managed = [("m_agency", x) for x in FARMED] + [("m_mcn", x) for x in HONEST]
    if link_assistant:
        managed.append(("m_mcn", "assistant"))
    follow_df = pd.DataFrame(follows, columns=["account_id", "target_account_id", "created_at"])
    followers = follow_df.drop_duplicates(["account_id", "target_account_id"])["target_account_id"].value_counts()
    everyone = people + farm + FARMED + HONEST + ["assistant"]
    return {
        "accounts": pd.DataFrame({"account_id": everyone, "followers": [int(followers.get(a, 0)) for a in everyone]}),
        "notes": pd.DataFrame(notes, columns=["note_id", "account_id", "posted_at", "brand_id", "text"]),
        "orders": pd.DataFrame(orders, columns=["order_id", "brand_id", "intermediary_id", "account_id", "declared"]),
        "intermediary_accounts": pd.DataFrame(managed, columns=["intermediary_id", "account_id"]),
        "likes": pd.DataFrame(likes, columns=["account_id", "note_id", "created_at"]),
        "comments": pd.DataFrame(columns=["account_id", "note_id", "created_at"]),
        "follows": follow_df,
    }


def run(p: dict[str, pd.DataFrame], params: FarmedDeclaredParams = FarmedDeclaredParams()):
    return detect_farmed_declared(p["accounts"], p["notes"], p["orders"], p["intermediary_accounts"], p["likes"],
                                  p["comments"], p["follows"], params)


def scores(findings) -> dict[str, float]:
    return {a: f.member_score(a) for f in findings for a in f.members}


def test_farmed_accounts_flag_alone_and_look_alikes_score_nothing():
    found = scores(run(platform()))
    assert all(WEIGHT * found.get(x, 0.0) >= THRESHOLD for x in FARMED), found
    assert not set(found) & set(HONEST), found


def test_reasons_name_the_orders_brands_and_agency():
    findings = run(platform())
    assert len(findings) == 1  # one follower farm, one agency: one cluster
    finding = findings[0]
    assert set(finding.members) == set(FARMED)
    reason = finding.member_reasons["farmed0"][0]
    assert reason.code == "farmed_declared"
    assert "took 3 declared orders (o001, o002, o003) for b1 (2), b2 via agency m_agency" in reason.text
    assert "co-followers" in reason.text and "arrived within 3 days" in reason.text
    kinds = {e.kind: e.ids for e in reason.evidence}
    assert kinds["order"] == ("o001", "o002", "o003")
    assert kinds["brand"] == ("b1", "b2") and kinds["intermediary"] == ("m_agency",)
    # the co-followers cited: the farm's accounts, and the odd ordinary user who follows three creators too
    cited = set(kinds["account"])
    assert len(cited & {f"f{i:02d}" for i in range(80)}) >= 0.9 * len(cited)
    assert "o999" not in finding.reasons[0].text


def test_copies_within_the_circle_do_not_count_and_outside_it_do():
    p = platform()
    per, copied, lam = copy_evidence(p["notes"], p["intermediary_accounts"], {"assisted", "farmed0"})
    assert "assisted" not in copied and len(copied["farmed0"]) == 3
    p = platform(link_assistant=False)  # the assistant is no longer the creator's own team
    per, copied, lam = copy_evidence(p["notes"], p["intermediary_accounts"], {"assisted"})
    assert len(copied["assisted"]) == 4
    assert float(per.set_index("account_id").loc["assisted", "surprise"]) > 0


def test_without_declared_orders_there_is_nothing_to_judge():
    p = platform()
    p["orders"] = p["orders"].assign(declared=False)
    assert run(p) == []
    assert detect_farmed_declared(None, None, None, None, None, None, None) == []


def test_a_bought_audience_without_a_follower_farm_signal_is_weaker():
    # With co-followers defined as following 30+ other declared accounts nobody is one: the farmed accounts
    # keep only their copies and their audience as evidence, and no longer flag alone.
    found = scores(run(platform(), FarmedDeclaredParams(min_cofollows=30)))
    assert all(WEIGHT * found.get(x, 0.0) < THRESHOLD for x in FARMED), found


def test_combined_surprise_is_bounded_by_both_rules():
    assert combined_surprise((0.0, 0.0, 0.0)) == 0.0
    one = combined_surprise((30.0, 0.0, 0.0))
    assert 30.0 - np.log10(3) - np.log10(2) - 1e-9 <= one < 30.0
    assert combined_surprise((8.0, 8.0, 8.0)) > combined_surprise((8.0, 0.0, 0.0))


def _earliest_copies_by_scan(fam: pd.DataFrame, candidates: set[str], circle: dict[str, set[str]]) -> dict:
    """The definition read plainly: each candidate note's earliest note of its family posted strictly before it
    by an account outside its circle (posting order: time, then note id, no time last)."""
    out: dict[str, list] = {}
    ordered = fam.sort_values(["family", "t", "note_id"], na_position="last")
    for row in fam[fam["account_id"].isin(candidates)].itertuples(index=False):
        own = circle.get(row.account_id, set()) | {row.account_id}
        g = ordered[ordered["family"] == row.family]
        earlier = g[(g["t"] < row.t) & ~g["account_id"].isin(own)]
        if len(earlier):
            out.setdefault(row.account_id, []).append((row.note_id, earlier.iloc[0]["note_id"],
                                                       earlier.iloc[0]["account_id"]))
    return {a: sorted(v) for a, v in out.items()}


def test_first_copies_from_cut_heads_equal_the_plain_scan():
    """Heads cut to a few authors per family give the plain scan's answer once the families cut too early are
    read whole; with no time on some notes, equal times, agencies' circles and repeat authors."""
    rng = np.random.default_rng(11)
    n = 3000
    accounts = [f"a{i:03d}" for i in range(120)]
    times = rng.integers(0, 40, n).astype(float)
    times[rng.random(n) < 0.05] = np.nan
    fam = pd.DataFrame({"note_id": [f"n{i:05d}" for i in range(n)],
                        "account_id": [accounts[int(rng.integers(0, 30 if i % 3 else 120))] for i in range(n)],
                        "family": rng.integers(0, 60, n), "t": times})
    candidates = set(accounts[:40:3])
    circle = {a: set(accounts[:12]) for a in accounts[:40:3] if a < "a020"}   # one agency runs the first twelve
    expected = _earliest_copies_by_scan(fam, candidates, circle)
    assert sum(map(len, expected.values())) > 50                               # the test has copies to find
    mine = fam[fam["account_id"].isin(candidates)]
    heads = family_heads(fam)
    assert first_copies(mine, heads, circle) == (expected, set())
    for limit in (1, 2, 5):
        cut_heads = family_heads(fam, limit)
        copied, cut = first_copies(mine, cut_heads, circle)
        assert cut or limit > 1                                                 # some need their heads whole
        whole = pd.concat([cut_heads[~cut_heads["family"].isin(cut)], heads[heads["family"].isin(cut)]])
        assert first_copies(mine, whole, circle) == (expected, set())


def _joined(co_edges: pd.DataFrame) -> pd.DataFrame:
    """The co-follower edges joined with themselves on the follower: a row per follower and two candidates it
    follows (what the counts stand for)."""
    return co_edges.merge(co_edges, on="account_id")


def test_cofollow_counts_equal_the_self_join_they_replace():
    # The counts come from a sparse product instead of a row per joined pair (126 M rows at 1 M accounts): the
    # same answers as the join, repeated edges and followers of one candidate only included.
    rng = np.random.default_rng(3)
    for trial in range(30):
        n = int(rng.integers(1, 300))
        co_edges = pd.DataFrame({"account_id": [f"f{i}" for i in rng.integers(0, 40, n)],
                                 "target_account_id": [f"c{i:02d}" for i in rng.integers(0, 25, n)]})
        pairs = _joined(co_edges)
        pairs = pairs[pairs["target_account_id_x"] != pairs["target_account_id_y"]]
        spread = pairs.groupby("target_account_id_x")["target_account_id_y"].nunique()
        got = cofollower_spread(co_edges)
        assert got.to_dict() == spread.to_dict() and got.index.is_monotonic_increasing
        members = {f"c{i:02d}" for i in rng.integers(0, 25, 12)}
        mine = co_edges[co_edges["target_account_id"].isin(members)]
        joined = _joined(mine)
        joined = joined[joined["target_account_id_x"] < joined["target_account_id_y"]]
        expected = joined.groupby(["target_account_id_x", "target_account_id_y"]).size()
        shared = shared_cofollowers(co_edges, members)
        assert list(zip(shared["a"], shared["b"], shared["shared"])) == [(a, b, int(k)) for (a, b), k in expected.items()]
        assert shared["shared"].dtype == "int64"
    assert cofollower_spread(co_edges.iloc[:0]).empty and shared_cofollowers(co_edges, set()).empty
