"""trending_heat on small platforms built by hand: repeat pushers, bursts of sign-ups, fans who are not found."""

import numpy as np
import pandas as pd
import pytest

from ringscope.detection.findings import RatedFindings
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.pipeline import DETECTORS
from ringscope.detection.scoring import AccountRisk, FlaggedAccounts
from ringscope.detection.trending_heat import (DETECTOR, TrendingHeatParams, binomial_surprise,
                                               detect_trending_heat, rises)

T0 = pd.Timestamp("2025-06-01T00:00:00Z")
H = pd.Timedelta(hours=1)


def hourly_list(entries: dict[str, list[int]], hours: int = 24 * 8) -> pd.DataFrame:
    """Captures every hour; ``entries``: topic -> the hours it is on the list (rank by order of the dict)."""
    rows = []
    for h in range(hours):
        on = [t for t, when in entries.items() if h in when]
        rows += [{"captured_at": T0 + h * H, "rank": i + 1, "topic": t, "score": 1000 - i} for i, t in enumerate(on)]
    # an evergreen topic keeps the list from being empty
    rows += [{"captured_at": T0 + h * H, "rank": 30, "topic": "#evergreen", "score": 1} for h in range(hours)]
    return pd.DataFrame(rows)


class Platform:
    def __init__(self, seed: int = 1, accounts: int = 3000):
        self.rng = np.random.default_rng(seed)
        reg = pd.Timestamp("2021-01-01T00:00:00Z") + pd.to_timedelta(self.rng.uniform(0, 4 * 365, accounts), unit="D")
        self.accounts = pd.DataFrame({"account_id": [f"a{i:05d}" for i in range(accounts)], "registered_at": reg})
        self.notes, self.comments, self.likes = [], [], []

    def note(self, topic: str, author: str = "a00000") -> str:
        note_id = f"n{len(self.notes):05d}"
        self.notes.append({"note_id": note_id, "account_id": author, "topics": [topic, "#日常"]})
        return note_id

    def engage(self, who, topic: str, start: pd.Timestamp, hours: float, per_account: int = 1) -> None:
        notes = [self.note(topic) for _ in range(3)]
        for a in who:
            for _ in range(per_account):
                at = start + pd.Timedelta(seconds=float(self.rng.uniform(0, hours * 3600)))
                note = notes[int(self.rng.integers(len(notes)))]
                if self.rng.random() < 0.5:
                    self.comments.append({"comment_id": f"c{len(self.comments):06d}", "account_id": a,
                                          "note_id": note, "created_at": at})
                else:
                    self.likes.append({"account_id": a, "note_id": note, "created_at": at})

    def organic(self, n: int) -> list[str]:
        return list(self.rng.choice(self.accounts["account_id"], n, replace=False))

    def detect(self, trending: pd.DataFrame, flagged=(), params=TrendingHeatParams()) -> RatedFindings:
        return detect_trending_heat(trending, pd.DataFrame(self.notes), pd.DataFrame(self.comments),
                                    pd.DataFrame(self.likes), self.accounts, flagged, params)


def scenario(seed: int = 1):
    """An operation of 25 aged accounts pushes #a (day 2) and #b (day 5) in the 4 h before each rises; organic
    users engage before and after; 150 fans engage #c and #d around a concert on day 3 (both rise at once) and
    again on day 6; a viral #v rises on day 4 with 300 organic engagers."""
    p = Platform(seed)
    crew = p.organic(25)
    for topic, day in (("#a", 2), ("#b", 5)):
        rise = T0 + pd.Timedelta(days=day)
        p.engage(crew, topic, rise - 4 * H, 3.9, per_account=3)
        p.engage(p.organic(40), topic, rise - 6 * H, 5.9)
        p.engage(p.organic(120), topic, rise, 6)
    fans = p.organic(150)
    for topic in ("#c", "#d"):
        rise = T0 + pd.Timedelta(days=3)
        p.engage(fans, topic, rise - 1 * H, 0.9)  # the concert starts: fans comment at once, before the rise
        p.engage(fans, topic, rise, 5)
    for day in (6,):
        rise = T0 + pd.Timedelta(days=day)
        p.engage(fans[:100], "#c", rise - 2 * H, 1.9)
        p.engage(fans[50:], "#c", rise, 5)
    viral = T0 + pd.Timedelta(days=4)
    p.engage(p.organic(100), "#v", viral - 6 * H, 5.9)
    p.engage(p.organic(300), "#v", viral, 6)
    d = 24
    trending = hourly_list({"#a": range(2 * d, 2 * d + 10), "#b": range(5 * d, 5 * d + 10),
                            "#c": list(range(3 * d, 3 * d + 8)) + list(range(6 * d, 6 * d + 8)),
                            "#d": range(3 * d, 3 * d + 8), "#v": range(4 * d, 4 * d + 20)})
    return p, crew, fans, trending


def test_rises_are_entries_after_an_absence_and_big_climbs():
    t = hourly_list({"#x": [20, 21, 22, 40], "#first": [0, 1], "#late": [5]}, hours=48)
    jump = pd.DataFrame([{"captured_at": T0 + 30 * H, "rank": 25, "topic": "#y", "score": 1},
                         {"captured_at": T0 + 31 * H, "rank": 3, "topic": "#y", "score": 9}])
    r = rises(pd.concat([t, jump]), TrendingHeatParams(absent_hours=12, rank_jump=10))
    got = [(row.topic, (pd.Timestamp(row.at, unit="s", tz="UTC") - T0) // H, row.kind) for row in r.itertuples()]
    # #first and #late: on the list before 12 h of captures showed them absent; #x back after 18 h: a rise
    assert got == [("#x", 20, "entered"), ("#y", 30, "entered"), ("#y", 31, "climbed"), ("#x", 40, "entered")]
    assert r["entry_id"].iloc[0] == f"#x@{int((T0 + 20 * H).timestamp() * 1000)}"


def test_an_operation_pushing_two_entries_is_found_and_the_fans_are_not():
    p, crew, fans, trending = scenario()
    out = p.detect(trending)
    found = {a for f in out.findings for a in f.members}
    assert set(crew) <= found
    assert not found & (set(fans) - set(crew))
    assert len(found - set(crew)) <= 2  # an organic early engager of both, at most
    [finding] = [f for f in out.findings if set(crew) <= set(f.members)]
    assert finding.detector == DETECTOR and finding.score > 0.5
    assert "#a" in finding.reasons[0].text and "#b" in finding.reasons[0].text
    assert {e.kind for e in finding.reasons[0].evidence} >= {"account", "trending_entry"}
    rating = {r["topic"]: r for r in out.ratings}
    assert rating["#a"]["integrity"] < 0.5 and rating["#b"]["integrity"] < 0.5
    assert rating["#v"]["integrity"] == 1.0 and rating["#d"]["integrity"] == 1.0
    assert rating["#a"]["clusters"] == [finding.key]


def test_flagged_accounts_lower_integrity_but_find_no_one():
    p, crew, fans, trending = scenario()
    out = p.detect(trending, flagged=fans[:75])
    rating = {r["topic"]: r for r in out.ratings}
    assert 0.2 < rating["#d"]["flagged_share"] < 0.8 and rating["#d"]["integrity"] < 1.0
    assert not {a for f in out.findings for a in f.members} & set(fans[:75])
    assert rating["#d"]["flagged_by_detector"] == {}  # ids alone: no split by detector


def test_the_flagged_share_is_split_by_the_detectors_that_found_those_accounts():
    p, crew, fans, trending = scenario()
    # 50 fans found commenting in lockstep, 25 of them also in a registration burst, 25 more in a burst only
    by = {**{a: ("lockstep",) for a in fans[:25]}, **{a: ("lockstep", "registration_bursts") for a in fans[25:50]},
          **{a: ("registration_bursts",) for a in fans[50:75]}}
    flagged = FlaggedAccounts(by, by)
    out = p.detect(trending, flagged=flagged)
    d = {r["topic"]: r for r in out.ratings}["#d"]
    shares = d["flagged_by_detector"]
    assert list(shares) in (["lockstep", "registration_bursts"], ["registration_bursts", "lockstep"])
    # each detector's accounts are two thirds of the flagged ones: each share is about two thirds of the flagged share
    for share in shares.values():
        assert 0.4 * d["flagged_share"] < share < 0.9 * d["flagged_share"]
    assert sum(shares.values()) > d["flagged_share"]  # an account found by both counts for both
    assert out.ratings == p.detect(trending, flagged=flagged).ratings


def test_flagged_accounts_are_the_sorted_ids_with_their_detectors():
    risks = {"b": AccountRisk("b", 0.9, "k", ("lockstep",), ()), "a": AccountRisk("a", 0.5, "k", ("dense_blocks",
             "lockstep"), ()), "c": AccountRisk("c", 0.49, "k", ("engagement",), ())}
    flagged = FlaggedAccounts.of(risks, 0.5)
    assert flagged == ("a", "b") and list(flagged) == ["a", "b"] and set(flagged) == {"a", "b"}
    assert flagged.detectors == {"a": ("dense_blocks", "lockstep"), "b": ("lockstep",)}
    assert FlaggedAccounts(["z", "y"]).detectors == {} and FlaggedAccounts(["z", "y"]) == ("y", "z")


def test_a_burst_of_sign_ups_pushing_one_entry_is_found():
    p = Platform(2)
    fresh = [f"new{i}" for i in range(30)]
    burst = pd.Timestamp("2025-05-20T03:00:00Z")
    p.accounts = pd.concat([p.accounts, pd.DataFrame({
        "account_id": fresh, "registered_at": [burst + pd.Timedelta(minutes=3 * i) for i in range(30)]})])
    rise = T0 + pd.Timedelta(days=3)
    p.engage(fresh, "#e", rise - 3 * H, 2.9, per_account=2)
    p.engage(p.organic(200), "#e", rise - 6 * H, 12)
    out = p.detect(hourly_list({"#e": range(72, 80)}))
    [finding] = out.findings
    assert set(finding.members) == set(fresh)
    assert "registered within 2 h of each other" in finding.reasons[1].text


def test_organic_only_platform_gives_nothing():
    p = Platform(3)
    for day, topic in enumerate(["#p", "#q", "#r", "#s"], start=1):
        rise = T0 + pd.Timedelta(days=2 * day)
        heavy = p.organic(60)
        p.engage(heavy, topic, rise - 6 * H, 12, per_account=2)
    out = p.detect(hourly_list({t: range(48 * d, 48 * d + 6) for d, t in enumerate(["#p", "#q", "#r", "#s"], 1)}))
    assert out.findings == []
    assert all(r["integrity"] == 1.0 for r in out.ratings if r["integrity"] is not None)


def test_no_trending_file_gives_nothing():
    out = detect_trending_heat(pd.DataFrame(), pd.DataFrame(), None, None, pd.DataFrame())
    assert out == RatedFindings([], [])


def test_the_pipeline_runs_it_after_the_others_and_keeps_its_ratings():
    p, crew, _, trending = scenario()
    frames = PlatformFrames.only(
        accounts=p.accounts.assign(stub=False), notes=pd.DataFrame(p.notes), comments=pd.DataFrame(p.comments),
        likes=pd.DataFrame(p.likes), trending=trending)
    detector = DETECTORS[DETECTOR]
    assert detector.after_flagging
    out = detector.adapter(frames, FlaggedAccounts([]), TrendingHeatParams())
    assert set(crew) <= {a for f in out.findings for a in f.members}


@pytest.mark.parametrize("k,n,p,low", [(0, 10, 0.1, 0.0), (10, 10, 0.1, 9.9), (1, 100, 0.5, 0.0)])
def test_binomial_surprise(k, n, p, low):
    assert binomial_surprise(k, n, p) >= low
    assert binomial_surprise(k, n, p) <= low + 0.1


def test_registrations_keep_each_accounts_first_time_and_every_time_sorted():
    from ringscope.detection.trending_heat import Registrations

    regs = Registrations.of(pd.DataFrame({"account_id": ["b", "a", "b", "c"],
                                          "registered_at": ["2025-01-02T00:00:00Z", "2025-01-01T00:00:00Z",
                                                            "2025-01-09T00:00:00Z", None]}))
    day = 86400.0
    start = pd.Timestamp("2025-01-01T00:00:00Z").timestamp()
    assert regs.times.to_dict() == {"b": start + day, "a": start}  # b's first row; c has no time
    assert regs.platform.tolist() == [start, start + day]
    assert Registrations.of(None).platform.size == 0 and Registrations.of(None).times.empty
