"""Bought engagement: like/follow bursts from one group; audience disproportion."""

import numpy as np
import pandas as pd
import pytest

from ringscope.detection.engagement import (
    EngagementParams,
    audience_disproportion,
    detect_engagement,
    engagement_bursts,
    engagement_events,
)

T = pd.Timestamp("2024-06-01", tz="UTC")


def _data():
    rng = np.random.default_rng(0)
    notes = pd.DataFrame({"note_id": [f"n{i}" for i in range(6)],
                          "account_id": ["buyer1", "buyer1", "buyer2", "organic", "organic", "buyer3"],
                          "posted_at": [T] * 6})
    rows = []
    # organic likes: 200 users over 30 days on the organic author's notes
    for u in range(200):
        rows.append((f"fan{u}", "n3" if u % 2 else "n4", T + pd.Timedelta(minutes=int(rng.integers(0, 43200)))))
    # the same 15 bots like buyer1 (day 3) and buyer2 (day 9) within 5 minutes
    for day, note in ((3, "n0"), (9, "n2")):
        for b in range(15):
            rows.append((f"bot{b:02d}", note, T + pd.Timedelta(days=day, seconds=int(rng.integers(0, 300)))))
    likes = pd.DataFrame(rows, columns=["account_id", "note_id", "created_at"])
    follows = pd.DataFrame({"account_id": [f"fan{u}" for u in range(150)],
                            "target_account_id": "organic",
                            "created_at": [T + pd.Timedelta(hours=u) for u in range(150)]})
    return likes, notes, follows


def test_burst_group_found_with_window_and_likers():
    likes, notes, follows = _data()
    f = detect_engagement(likes, notes, follows, params=EngagementParams(min_likes=1000))
    assert len(f) == 1
    g = f[0]
    assert g.members == tuple(f"bot{b:02d}" for b in range(15))
    r = g.reasons[0]
    assert r.code == "engagement_burst" and "2 bursts" in r.text
    kinds = [e.kind for e in r.evidence]
    ev = dict(zip(kinds, [e.ids for e in r.evidence]))
    assert ev["note"] == ("n0", "n2")
    start, end = ev["time_window"]
    assert pd.Timestamp(start) >= T + pd.Timedelta(days=3) and pd.Timestamp(end) <= T + pd.Timedelta(days=9, minutes=5)
    assert set(r.evidence[0].ids) == set(g.members)


def test_organic_engagement_is_quiet():
    likes, notes, follows = _data()
    bursts = engagement_bursts(engagement_events(likes, notes, follows))
    assert set(bursts["target"]) == {"buyer1", "buyer2"}


def test_presorted_events_give_the_bursts_of_events_in_any_order():
    """detect_engagement skips the sort of engagement_events' already sorted output; the bursts (and their
    group numbers) are those of the same events shuffled and sorted again."""
    likes, notes, follows = _data()
    events = engagement_events(likes, notes, follows)
    shuffled = events.sample(frac=1.0, random_state=7).reset_index(drop=True)
    expected = engagement_bursts(shuffled)
    assert len(expected) >= 2
    pd.testing.assert_frame_equal(engagement_bursts(events, presorted=True), expected)


def test_a_burst_is_of_one_kind_even_where_the_likes_and_follows_of_one_target_meet_in_the_order():
    """Events sort by (kind, target): the follows of the last followed target and the likes of the first
    liked author are neighbours when that is one account. 6 follows then 6 likes of "star" within a
    minute are 12 events of "star", but neither kind alone reaches min_events = 10."""
    follows = pd.DataFrame({"account_id": [f"f{i}" for i in range(6)], "target_account_id": "star",
                            "created_at": [T + pd.Timedelta(seconds=i) for i in range(6)]})
    notes = pd.DataFrame({"note_id": ["n"], "account_id": ["star"], "posted_at": [T]})
    likes = pd.DataFrame({"account_id": [f"l{i}" for i in range(6)], "note_id": "n",
                          "created_at": [T + pd.Timedelta(seconds=10 + i) for i in range(6)]})
    events = engagement_events(likes, notes, follows)
    assert list(events["kind"]) == ["follow"] * 6 + ["like"] * 6
    assert engagement_bursts(events, presorted=True).empty
    both = pd.concat([follows, follows.assign(account_id=lambda f: f["account_id"] + "x")])
    assert len(engagement_bursts(engagement_events(likes, notes, both), presorted=True)) == 1


def test_follow_burst_single():
    follows = pd.DataFrame({"account_id": [f"f{i:02d}" for i in range(40)], "target_account_id": "star",
                            "created_at": [T + pd.Timedelta(seconds=5 * i) for i in range(40)]})
    f = detect_engagement(None, None, follows)
    assert len(f) == 1 and len(f[0].members) == 40 and "40 follows on star" in f[0].reasons[0].text
    # 40 follows in 200 s on an account that had none: 1 - 10 / ratio is near 1, capped as one burst's evidence
    assert f[0].score == EngagementParams().max_single_score


def _viral_and_bought():
    """A creator's note goes viral: 2,000 ordinary users like it and 1,200 follow her, on their own, within hours
    of each other (lognormal around 6 and 10 h, as the simulator's ``declared_viral``), beside a year of her usual
    ten likes a day. Elsewhere 15 bots like two small buyers' notes within five minutes, days apart (``_data``)."""
    rng = np.random.default_rng(11)
    likes, notes, follows = _data()
    notes = pd.concat([notes, pd.DataFrame({"note_id": ["hit", "old"], "account_id": "creator",
                                            "posted_at": [T + pd.Timedelta(days=20), T]})], ignore_index=True)
    usual = pd.DataFrame({"account_id": [f"reader{k % 500}" for k in range(3650)], "note_id": "old",
                          "created_at": T + pd.to_timedelta(rng.integers(0, 365 * 86400, 3650), unit="s")})
    hours = lambda median, n: pd.to_timedelta(rng.lognormal(np.log(median * 3600), 0.8, n), unit="s")
    viral = pd.DataFrame({"account_id": [f"user{k}" for k in range(2000)], "note_id": "hit",
                          "created_at": T + pd.Timedelta(days=20) + hours(6, 2000)})
    fans = pd.DataFrame({"account_id": [f"user{k}" for k in range(800, 2000)], "target_account_id": "creator",
                         "created_at": T + pd.Timedelta(days=20) + hours(10, 1200)})
    return (pd.concat([likes, usual, viral], ignore_index=True), notes,
            pd.concat([follows, fans], ignore_index=True))


def test_a_viral_notes_audience_is_never_flagged_by_its_bursts_alone():
    """The viral peak holds single bursts of 30+ likes at 50x the creator's rate; they stay findings an
    investigator sees, scored as one burst's evidence, so with the shipped policy none of those users reaches
    the flag threshold, while the bots that engage together on two targets still do."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.scoring import combine

    likes, notes, follows = _viral_and_bought()
    policy = load_detection_policy()
    params = EngagementParams(**policy.detectors["engagement"].params)
    found = detect_engagement(likes, notes, follows, params=params)
    singles = [f for f in found if f.reasons[0].text.startswith("A burst of engagement")]
    assert singles and all(f.reasons[0].evidence[-1].ids == ("creator",) for f in singles)
    assert all(f.score <= params.max_single_score for f in singles)
    risk = combine(found, {"engagement": policy.detectors["engagement"].weight})
    flagged = {a for a, r in risk.items() if r.score >= policy.flag_threshold}
    assert flagged == {f"bot{b:02d}" for b in range(15)}
    # with the cap lifted (the rule before 2026-12-07) the same audience would be flagged
    uncapped = detect_engagement(likes, notes, follows, params=EngagementParams(max_single_score=1.0))
    risk = combine(uncapped, {"engagement": policy.detectors["engagement"].weight})
    assert len({a for a, r in risk.items() if r.score >= policy.flag_threshold and a.startswith("user")}) >= 30


def test_disproportion():
    notes = pd.DataFrame({"note_id": [f"n{i}" for i in range(30)], "account_id": [f"a{i}" for i in range(30)],
                          "posted_at": [T] * 30})
    likes = pd.DataFrame({"account_id": [f"u{k}" for k in range(30 * 20)] + [f"x{k}" for k in range(2000)],
                          "note_id": [f"n{k % 30}" for k in range(600)] + ["n0"] * 2000,
                          "created_at": [T + pd.Timedelta(hours=k) for k in range(2600)]})
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(30)], "followers": [3] + [20] * 29})
    d = audience_disproportion(likes, notes, accounts)
    assert list(d["account_id"]) == ["a0"]
    assert d.loc[0, "likes_received"] == 2020


def test_deterministic():
    likes, notes, follows = _data()
    assert detect_engagement(likes, notes, follows) == detect_engagement(likes.iloc[::-1], notes, follows.iloc[::-1])


def test_events_are_in_kind_target_time_actor_object_order_as_a_frame_sort_would_put_them():
    from ringscope.detection.engagement import engagement_events

    rng = np.random.default_rng(3)
    n = 2000
    accounts = [f"u{i:02d}" for i in range(30)]
    notes = pd.DataFrame({"note_id": [f"n{i}" for i in range(20)], "account_id": rng.choice(accounts, 20)})
    at = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 50, n), unit="min")  # many ties
    likes = pd.DataFrame({"account_id": rng.choice(accounts, n), "note_id": rng.choice(notes["note_id"], n),
                          "created_at": at})
    follows = pd.DataFrame({"account_id": rng.choice(accounts, n // 2),
                            "target_account_id": rng.choice(accounts, n // 2), "created_at": at[: n // 2]})
    events = engagement_events(likes, notes, follows)
    expected = events.sample(frac=1.0, random_state=1).sort_values(
        ["kind", "target", "created_at", "actor", "object_id"], kind="stable")
    cols = ["kind", "target", "created_at", "actor", "object_id"]
    assert events[cols].reset_index(drop=True).equals(expected[cols].reset_index(drop=True))
    assert len(events) > n  # likes and follows, self-follows dropped


def _busy_platform(seed=5):
    """Likes and follows on 40 accounts with bursts from a few groups of bots, at second resolution."""
    rng = np.random.default_rng(seed)
    accounts = [f"u{i:02d}" for i in range(40)]
    notes = pd.DataFrame({"note_id": [f"n{i:02d}" for i in range(60)], "account_id": rng.choice(accounts, 60)})
    at = lambda s: T + pd.to_timedelta(s, unit="s")  # noqa: E731
    n = 3000
    likes = pd.DataFrame({"account_id": rng.choice(accounts, n), "note_id": rng.choice(notes["note_id"], n),
                          "created_at": at(rng.integers(0, 30 * 86_400, n))})
    bots = [f"bot{b:02d}" for b in range(25)]
    for k in range(8):  # bursts of 12 to 25 bots, on random notes and authors
        size = int(rng.integers(12, 26))
        likes = pd.concat([likes, pd.DataFrame({"account_id": rng.choice(bots, size, replace=False),
                                                "note_id": rng.choice(notes["note_id"]),
                                                "created_at": at(k * 300_000 + rng.integers(0, 400, size))})])
    follows = pd.DataFrame({"account_id": rng.choice(accounts + bots, 1500),
                            "target_account_id": rng.choice(accounts, 1500),
                            "created_at": at(rng.integers(0, 30 * 86_400, 1500))})
    follows = pd.concat([follows, pd.DataFrame({"account_id": bots, "target_account_id": "u07",
                                                "created_at": at(1_000_000 + np.arange(25))})])
    likes["created_at"] = likes["created_at"].astype("datetime64[ns, UTC]")
    return likes.reset_index(drop=True), notes, follows.reset_index(drop=True)


def test_the_bursts_of_batches_of_whole_targets_are_the_bursts_of_all_events():
    """What the Spark engine relies on: ordered_events and engagement_bursts on any batches holding whole
    (kind, target) groups give, together and sorted, the bursts of all the events."""
    from ringscope.detection.engagement import ordered_events

    likes, notes, follows = _busy_platform()
    events = engagement_events(likes, notes, follows)
    expected = engagement_bursts(events, presorted=True)
    assert len(expected) >= 8 and set(expected["kind"]) == {"like", "follow"}
    raw = events.sample(frac=1.0, random_state=2).reset_index(drop=True)
    for batches in (1, 3, 17):
        # batches of whole targets, as a hash of (kind, target) makes them
        batch = pd.util.hash_pandas_object(raw[["kind", "target"]], index=False).to_numpy() % batches
        parts = [engagement_bursts(ordered_events(raw[batch == b]), presorted=True) for b in range(batches)]
        found = pd.concat([p for p in parts if len(p)]).sort_values(["kind", "target", "start"])
        pd.testing.assert_frame_equal(found.reset_index(drop=True), expected)


def test_disproportion_from_the_authors_followers_alone_is_the_local_one():
    """What the Spark engine relies on: the statistics read only the authors with likes, their followers
    (as text with junk too) and, for the top notes, the per-note counts of the authors found."""
    from ringscope.detection.engagement import disproportionate_authors, with_top_notes

    likes, notes, follows = _busy_platform()
    ids = sorted(set(notes["account_id"]) | {"nobody"})
    followers = [str(i % 9) if i % 5 else "n/a" for i in range(len(ids))]
    accounts = pd.DataFrame({"account_id": ids, "followers": followers})
    params = EngagementParams(min_likes=20, min_z=0.5)
    expected = audience_disproportion(likes, notes, accounts, follows, params)
    assert len(expected) >= 3 and expected["z"].duplicated().any()  # a tie, ordered by id
    lk = likes.merge(notes.rename(columns={"account_id": "author"}), on="note_id")
    per_note = lk.groupby(["author", "note_id"]).size().rename("n").reset_index()
    received = per_note.groupby("author")["n"].sum().sample(frac=1.0, random_state=3)  # any order
    authors_followers = accounts.set_index("account_id")["followers"].reindex(received.index)
    hits = disproportionate_authors(received, authors_followers, params)
    found = with_top_notes(hits, per_note[per_note["author"].isin(hits["account_id"])].iloc[::-1])
    pd.testing.assert_frame_equal(found, expected)
    # without follower counts in accounts, the in-degree of follows
    by_degree = audience_disproportion(likes, notes, accounts.drop(columns="followers"), follows, params)
    degree = follows.groupby("target_account_id").size()
    pd.testing.assert_frame_equal(with_top_notes(disproportionate_authors(received, degree, params), per_note),
                                  by_degree)


def test_findings_are_engagement_findings_of_the_bursts_and_disproportion():
    from ringscope.detection.engagement import engagement_findings

    likes, notes, follows = _busy_platform()
    params = EngagementParams(min_likes=20, min_z=0.5, min_single_size=12, min_single_ratio=20)
    found = detect_engagement(likes, notes, follows, None, params)
    assert found and found == engagement_findings(
        engagement_bursts(engagement_events(likes, notes, follows), params),
        audience_disproportion(likes, notes, None, follows, params), params)


@pytest.mark.parametrize("block", [1, 7, 1 << 23])
def test_repeated_pairs_are_the_brute_force_ones_whatever_the_block(monkeypatch, block):
    """``repeated_pairs`` counts pairs in blocks of first actors (bounded memory); whatever the block, it
    gives every pair of actors together in ``min_shared_bursts`` bursts or more, in (a, b) order, each with
    its bursts in row order."""
    import itertools
    import zlib

    import ringscope.detection.engagement as engagement

    monkeypatch.setattr(engagement, "PAIR_BLOCK", block)
    rng = np.random.default_rng(4)
    people = [f"u{i:03d}" for i in range(60)]
    bursts = pd.DataFrame({"burst_id": [f"b{k}" for k in range(120)],
                           "actors": [tuple(sorted(rng.choice(people, size=int(rng.integers(1, 14)), replace=False)))
                                      for _ in range(120)]})
    params = EngagementParams(max_burst_size=10)
    actors, a, b, pair, burst = engagement.repeated_pairs(bursts, params)

    together: dict[tuple[str, str], list[int]] = {}
    for row, (bid, acts) in enumerate(zip(bursts["burst_id"], bursts["actors"])):
        if len(acts) > params.max_burst_size:
            rank = [zlib.crc32(f"{params.seed}\x1f{bid}\x1f{x}".encode("utf-8")) for x in acts]
            acts = sorted(x for _, x in sorted(zip(rank, acts))[: params.max_burst_size])
        for x, y in itertools.combinations(sorted(acts), 2):
            together.setdefault((x, y), []).append(row)
    truth = sorted((x, y) for (x, y), rows in together.items() if len(rows) >= params.min_shared_bursts)
    names = list(actors)
    assert [(names[i], names[j]) for i, j in zip(a, b)] == truth and len(truth) > 20
    assert [(names[a[p]], names[b[p]], r) for p, r in zip(pair, burst)] == \
        [(x, y, r) for x, y in truth for r in together[(x, y)]]


def test_pair_surprise_is_the_poisson_tail_of_meeting_by_chance():
    from ringscope.detection.engagement import pair_surprise

    # two accounts in 2 bursts each, 1,000 places in bursts of 10: lambda = 2 x 2 x 9,000 / 1e6 = 0.036
    lam = 2 * 2 * 9_000 / 1e6
    expected = -np.log10(1 - np.exp(-lam) * (1 + lam))
    assert pair_surprise(np.array([2]), np.array([2]), np.array([2]), 1_000, 9_000)[0] == pytest.approx(expected)
    more = pair_surprise(np.array([2, 3, 2]), np.array([2, 3, 20]), np.array([2, 3, 20]), 1_000, 9_000)
    assert more[1] > more[0] > more[2]  # meeting more often is rarer; busy accounts meet more by chance
    # hundreds of meetings underflow the tail: its first term bounds it, finite
    assert np.isfinite(pair_surprise(np.array([400]), np.array([400]), np.array([400]), 10**9, 10**10)).all()


def test_chance_meetings_on_a_large_platform_score_zero_and_a_group_that_meets_again_flags():
    """3,000 bursts of 12 accounts drawn from 20,000 (viral audiences): about a hundred pairs meet twice by
    chance, and the rule before 2026-12-07 scored each such pair 0.55 (a bare profile then flagged them). Against
    the null they score 0. 20 accounts together in 3 of those bursts flag on their own."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.engagement import BURST_COLUMNS, engagement_findings

    rng = np.random.default_rng(5)
    people = np.array([f"user{i:05d}" for i in range(20_000)], dtype=object)
    rows = []
    for i in range(3_000):
        actors = set(rng.choice(people, 12, replace=False))
        if i in (10, 1_500, 2_900):
            actors |= {f"bot{b:02d}" for b in range(20)}
        start = T + pd.Timedelta(minutes=20 * i)
        rows.append((f"b{i}", "like", f"creator{i % 500}", start, start + pd.Timedelta(minutes=9), len(actors),
                     0.5, 30.0, tuple(sorted(actors)), ("n",)))
    bursts = pd.DataFrame(rows, columns=BURST_COLUMNS)
    found = engagement_findings(bursts, pd.DataFrame(columns=["account_id", "likes_received", "followers", "z",
                                                              "top_notes"]))
    chance = [f for f in found if not any(m.startswith("bot") for m in f.members)]
    assert len(chance) >= 30 and all(f.score == 0 for f in chance)
    bots = [f for f in found if any(m.startswith("bot") for m in f.members)]
    assert len(bots) == 1 and {f"bot{b:02d}" for b in range(20)} <= set(bots[0].members)
    policy = load_detection_policy()
    assert policy.detectors["engagement"].weight * bots[0].score >= policy.flag_threshold
