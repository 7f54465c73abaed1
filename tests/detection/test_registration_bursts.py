"""Registration bursts: co-registered accounts that also share an attribute."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ringscope.detection.registration_bursts import (
    RegistrationBurstParams,
    bulk_registration_scores,
    detect_registration_bursts,
    nickname_shape,
)

START = pd.Timestamp("2024-01-01", tz="UTC")
SYLLABLES = ["an", "bo", "chen", "li", "mei", "xiao", "yu", "zhang", "wang", "lin"]


def background(n=400, days=60, seed=1, prefix="h"):
    """People registering over two months with varied names, IPs and profiles."""
    rng = np.random.default_rng(seed)
    names = []
    for _ in range(n):
        word = "".join(rng.choice(SYLLABLES, size=rng.integers(1, 3)))
        style = rng.integers(0, 5)
        names.append([word, word.capitalize(), f"{word}_{rng.integers(10, 99)}",
                      f"{word}{rng.integers(1, 9)}", f"小{word}"][style])
    return pd.DataFrame({
        "account_id": [f"{prefix}{i:04d}" for i in range(n)],
        "registered_at": START + pd.to_timedelta(rng.uniform(0, days * 86400, n), unit="s"),
        "registration_ip": [f"10.{rng.integers(0, 255)}.{rng.integers(0, 255)}.{i % 250}"
                            for i in range(n)],
        "phone_segment": rng.choice(["138", "139", "186", "150", "170"], n,
                                    p=[.3, .3, .2, .15, .05]),
        "nickname": names,
        "default_profile": rng.random(n) < 0.3,
        "followers": rng.integers(0, 2000, n),
        "following": rng.integers(0, 800, n),
        "bio": np.where(rng.random(n) < 0.8, "hello", None),
    })


def farm(n=15, at=START + pd.Timedelta(days=30), ip="9.9.9.9", prefix="f"):
    """A batch made by a script: two hours, one IP, template names, untouched profiles."""
    rng = np.random.default_rng(5)
    return pd.DataFrame({
        "account_id": [f"{prefix}{i:03d}" for i in range(n)],
        "registered_at": at + pd.to_timedelta(np.sort(rng.uniform(0, 7200, n)), unit="s"),
        "registration_ip": ip,
        "phone_segment": "170",
        "nickname": [f"user{rng.integers(10**7, 10**8)}" for _ in range(n)],
        "default_profile": True,
        "followers": rng.integers(0, 5, n),
        "following": rng.integers(150, 300, n),
        "bio": None,
    })


@pytest.mark.parametrize("nick, shape", [
    ("JordanS62953018", "AaA99"), ("LupeAvery12", "AaAa9"), ("小红薯63A1B2C3", "汉H"),
    ("user_123", "a_9"), ("ｕｓｅｒ１２３４５", "a99"), ("", ""), (None, ""),
])
def test_nickname_shape(nick, shape):
    assert nickname_shape(nick) == shape


def test_farm_burst_is_one_cluster_citing_ip_and_window():
    accounts = pd.concat([background(), farm()], ignore_index=True)
    findings = detect_registration_bursts(accounts)
    assert len(findings) == 1
    (f,) = findings
    assert f.members == tuple(f"f{i:03d}" for i in range(15))
    codes = {r.code for r in f.reasons}
    assert codes == {"registration_burst"}
    ip_reason = next(r for r in f.reasons if "9.9.9.9" in r.text)
    kinds = {e.kind: e.ids for e in ip_reason.evidence}
    assert kinds["registration_ip"] == ("9.9.9.9",)
    start, end = (pd.Timestamp(x) for x in kinds["time_window"])
    farm_times = farm()["registered_at"]
    assert start == farm_times.min() and end == farm_times.max()
    assert f.score > 0.5


def test_a_surge_of_ordinary_signups_is_not_a_cluster():
    surge = background(n=120, days=0.1, seed=9, prefix="s")  # 120 people in 2.4 hours
    surge["registered_at"] += pd.Timedelta(days=20)
    accounts = pd.concat([background(), surge], ignore_index=True)
    assert detect_registration_bursts(accounts) == []


def test_same_ip_spread_over_months_is_not_a_burst():
    spread = farm()
    spread["registered_at"] = START + pd.to_timedelta(np.arange(15) * 4, unit="D")
    spread["nickname"] = background(n=15, seed=3)["nickname"].to_numpy()
    spread["default_profile"] = False
    spread["bio"] = "hi"
    spread["followers"] = 300
    accounts = pd.concat([background(), spread], ignore_index=True)
    assert detect_registration_bursts(accounts) == []


def test_shared_device_in_burst_is_cited():
    batch = farm(ip=None)
    batch["registration_ip"] = [f"172.16.0.{i}" for i in range(15)]
    batch["phone_segment"] = None
    batch["nickname"] = background(n=15, seed=4)["nickname"].to_numpy()
    batch["default_profile"] = False
    batch["bio"] = "hi"
    accounts = pd.concat([background(), batch], ignore_index=True)
    people = accounts["account_id"][~accounts["account_id"].isin(batch["account_id"])]
    devices = pd.concat([
        pd.DataFrame({"account_id": people, "device_id": "dev-" + people}),
        pd.DataFrame({"account_id": batch["account_id"], "device_id": "phone-farm-7"}),
    ])
    (f,) = detect_registration_bursts(accounts, devices)
    assert set(f.members) == set(batch["account_id"])
    assert any(e.kind == "device" and e.ids == ("phone-farm-7",)
               for r in f.reasons for e in r.evidence)


def test_bulk_scores_rank_farm_above_people_and_are_deterministic():
    accounts = pd.concat([background(), farm()], ignore_index=True)
    scores = bulk_registration_scores(accounts)
    assert list(scores.index) == list(accounts["account_id"])
    assert scores.between(0, 1).all()
    assert scores[scores.index.str.startswith("f")].min() > scores[
        scores.index.str.startswith("h")].max()
    again = bulk_registration_scores(accounts.sample(frac=1.0, random_state=2))
    pd.testing.assert_series_equal(scores, again.reindex(scores.index))


def test_bulk_scores_with_only_required_columns():
    accounts = farm()[["account_id", "registered_at"]]
    scores = bulk_registration_scores(accounts)
    assert scores.between(0, 1).all() and len(scores) == 15


def test_no_account_with_a_nickname_still_finds_the_ip_burst():
    # A platform export without nicknames (every value null) once crashed the shape column.
    accounts = pd.concat([background(), farm()], ignore_index=True)
    accounts["nickname"] = None
    findings = detect_registration_bursts(accounts)
    assert [f.members for f in findings] == [tuple(f"f{i:03d}" for i in range(15))]


def test_an_account_registered_from_two_ips_is_one_account_with_both():
    """The graph gives such an account a row per IP (as ``ringscope detect`` reads it): it is counted once,
    and its second IP joins it to the burst on that IP. Without the farm's IP on its second row, the
    account is in no cluster; row order does not matter."""
    people, batch = background(), farm(n=15)
    # f000's first row names its own IP; its second row the farm's.
    first = batch.iloc[[0]].assign(registration_ip="10.200.200.200")
    accounts = pd.concat([people, first, batch], ignore_index=True)
    found = detect_registration_bursts(accounts)
    members = {m for f in found for m in f.members}
    assert {f"f{i:03d}" for i in range(15)} <= members
    assert all(len(f.members) == len(set(f.members)) for f in found)
    shuffled = accounts.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert [(f.members, f.score) for f in detect_registration_bursts(shuffled)] == \
        [(f.members, f.score) for f in found]
    # The burst on the farm's IP holds f000 through its second row, and not without it.
    def on_farm_ip(found):
        return [r.text for f in found for r in f.reasons if "9.9.9.9" in r.text]

    assert any(text.startswith("15 accounts") for text in on_farm_ip(found)), on_farm_ip(found)
    alone = pd.concat([people, first, batch.iloc[1:]], ignore_index=True)
    assert any(text.startswith("14 accounts") for text in on_farm_ip(detect_registration_bursts(alone)))


def _risks(accounts):
    """What ``ringscope flagged`` would print for these accounts with the shipped policy: risk per account."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.frames import PlatformFrames
    from ringscope.detection.pipeline import DetectorResult, account_risks, flagged_ids

    policy = load_detection_policy()
    frames = PlatformFrames.comments_only(pd.DataFrame())
    frames.accounts = accounts
    result = DetectorResult("registration_bursts", detect_registration_bursts(accounts), 0.0)
    risks = account_risks([result], policy, frames)
    return risks, flagged_ids(risks, policy)


def test_hundreds_registered_in_one_burst_with_identical_default_profiles_flag_on_that_evidence_alone():
    # No IP, phone or nickname in common: only the untouched profile and the timing (cresci-2015's bought
    # followers look like this).
    burst = farm(n=300, prefix="p")
    burst["registration_ip"] = [f"172.16.{i // 250}.{i % 250}" for i in range(300)]
    burst["phone_segment"] = None
    burst["nickname"] = background(n=300, seed=4)["nickname"].to_numpy()
    burst["following"], burst["followers"] = 200, 3
    accounts = pd.concat([background(n=4000, days=90), burst], ignore_index=True)
    risks, flagged = _risks(accounts)
    assert set(burst["account_id"]) <= flagged
    assert not any(a.startswith("h") for a in flagged)
    reason = risks["p000"].reasons[0]
    assert "300 accounts registered" in reason and "identical profile defaults" in reason


def test_a_small_alike_burst_is_a_cluster_that_needs_corroboration_to_flag():
    # Four accounts with one template nickname shape within an hour: significant, but a shape can be a
    # fashion, so it shows as a cluster and stays below the flag threshold on its own.
    small = farm(n=4, prefix="t")
    small["registration_ip"] = [f"172.16.0.{i}" for i in range(4)]
    small["phone_segment"] = None
    small[["default_profile", "bio", "followers", "following"]] = background(n=4, seed=8)[
        ["default_profile", "bio", "followers", "following"]].to_numpy()
    accounts = pd.concat([background(n=4000, days=90), small], ignore_index=True)
    risks, flagged = _risks(accounts)
    assert {"t000", "t001", "t002", "t003"} <= set(risks)
    assert 0 < risks["t000"].score < 0.5
    assert not flagged


def _waves_platform() -> pd.DataFrame:
    """3,000 ordinary registrations over 60 days on scattered IPs, and a farm registering in three waves on
    three days (150 accounts in 3 h, 80 in 16 h, 40 in 10 h), half of each wave on one IP."""
    rng = np.random.default_rng(1)
    t0 = pd.Timestamp("2024-01-01T00:00:00Z")
    minutes = np.sort(rng.uniform(0, 60 * 24 * 60, 3000))
    rows = [(f"o{i:04d}", t0 + pd.Timedelta(minutes=float(m)), f"10.1.{ip % 250}.{ip % 7}")
            for i, (m, ip) in enumerate(zip(minutes, rng.integers(0, 5000, 3000)))]
    for wave, (start, size, span) in enumerate([(30 * 1440, 150, 180), (31 * 1440, 80, 960), (32 * 1440 + 600, 40, 600)]):
        for k, m in enumerate(np.sort(rng.uniform(start, start + span, size))):
            ip = "66.6.6.6" if rng.random() < 0.5 else f"10.9.{rng.integers(0, 250)}.1"
            rows.append((f"w{wave}_{k:03d}", t0 + pd.Timedelta(minutes=float(m)), ip))
    return pd.DataFrame([(a, t.isoformat(), ip) for a, t, ip in rows],
                        columns=["account_id", "registered_at", "registration_ip"])


def test_a_farm_registering_in_waves_does_not_set_its_own_background():
    accounts = _waves_platform()

    def waves(findings) -> dict[str, float]:    # per wave, the best score of a finding holding its accounts
        best: dict[str, float] = {}
        for f in findings:
            for wave in {m.split("_")[0] for m in f.members}:
                best[wave] = max(best.get(wave, 0.0), f.score)
        return best

    # without a guard band (and only the 12 h scale, whose window leaves the neighbouring days in the background)
    # the first wave is the second's background: 80 accounts on one IP in 16 h "expected"
    # (and one pass, the default: a second, with the first wave left out of the backgrounds, finds the second too)
    unguarded = waves(detect_registration_bursts(accounts, None, RegistrationBurstParams(guard="0s", scales=(1,))))
    assert unguarded["w0"] > 0.9 and unguarded["w1"] < 0.6 and "w2" not in unguarded
    censored = waves(detect_registration_bursts(accounts, None, RegistrationBurstParams(guard="0s", scales=(1,),
                                                                                        passes=3)))
    assert censored["w0"] > 0.9 and censored["w1"] > 0.9 and "o" not in censored
    guarded = waves(detect_registration_bursts(accounts, None, RegistrationBurstParams()))   # guard 7D
    assert guarded["w0"] > 0.9 and guarded["w1"] > 0.95 and guarded["w2"] > 0.8
    assert "o" not in guarded                                  # no ordinary account is pulled in


def test_the_guard_band_is_at_least_the_window_and_inside_the_background():
    from ringscope.detection.registration_bursts import guard_radius

    assert guard_radius(3600.0, 86400.0, 0.0) == 3600.0           # no guard: the window itself
    assert guard_radius(3600.0, 86400.0, 7200.0) == 7200.0
    assert guard_radius(3600.0, 86400.0, 10 * 86400.0) == 86399.0  # never the whole background


def _campaign_platform() -> pd.DataFrame:
    """3,000 ordinary registrations over 60 days on scattered IPs, and 40 accounts registered from one IP
    over five days (about one every three hours: hardly ever two within the 12 h scale's 1 h gap)."""
    rng = np.random.default_rng(3)
    t0 = pd.Timestamp("2024-01-01T00:00:00Z")
    minutes = np.sort(rng.uniform(0, 60 * 24 * 60, 3000))
    rows = [(f"o{i:04d}", t0 + pd.Timedelta(minutes=float(m)), f"10.1.{ip % 250}.{ip % 7}")
            for i, (m, ip) in enumerate(zip(minutes, rng.integers(0, 5000, 3000)))]
    rows += [(f"f{k:03d}", t0 + pd.Timedelta(minutes=float(m)), "66.6.6.6")
             for k, m in enumerate(np.sort(rng.uniform(30 * 1440, 35 * 1440, 40)))]
    return pd.DataFrame([(a, t.isoformat(), ip) for a, t, ip in rows],
                        columns=["account_id", "registered_at", "registration_ip"])


def _best_member_scores(findings) -> dict[str, float]:
    best: dict[str, float] = {}
    for f in findings:
        for m, s in f.member_scores.items():
            best[m] = max(best.get(m, 0.0), s)
    return best


def test_a_farm_registering_over_days_is_found_at_the_wide_scale():
    accounts = _campaign_platform()
    narrow = _best_member_scores(detect_registration_bursts(accounts, None, RegistrationBurstParams(scales=(1,))))
    both = _best_member_scores(detect_registration_bursts(accounts, None, RegistrationBurstParams()))  # 12 h, 3.5 d
    farm = [f"f{k:03d}" for k in range(40)]
    assert sum(0.8 * narrow.get(m, 0.0) >= 0.5 for m in farm) == 0     # 12 h alone: no one flags
    assert sum(0.8 * both.get(m, 0.0) >= 0.5 for m in farm) == 40      # with the week-wide window: all of them
    assert not any(m.startswith("o") for m in both)                     # no ordinary account is pulled in


def test_time_scales_multiply_the_window_and_the_gap_and_set_one_background():
    from ringscope.detection.registration_bursts import burst_background, time_scales

    params = RegistrationBurstParams(window="12h", max_gap="1h", background="15D", scales=(7, 1, 7))
    assert time_scales(params) == [(12 * 3600.0, 3600.0), (84 * 3600.0, 7 * 3600.0)]
    assert burst_background(params) == 15 * 86400.0
    # the background is at least twice the widest window, for every scale alike
    assert burst_background(RegistrationBurstParams(window="12h", background="1D", scales=(1, 4))) == 4 * 86400.0


def test_every_scale_counts_in_the_bonferroni_correction():
    from ringscope.detection.registration_bursts import _score_columns, burst_groups, timedelta_seconds
    from ringscope.detection.frames import epoch_seconds

    accounts = _campaign_platform()
    times = epoch_seconds(accounts["registered_at"])
    ids = accounts["account_id"].astype(str).to_numpy(dtype=object)
    (scored,) = _score_columns(accounts, None, times, 84 * 3600.0, 15 * 86400.0, guard=7 * 86400.0)
    one = burst_groups(scored, ids, 7 * 3600.0, 15 * 86400.0)
    two = burst_groups(scored, ids, 7 * 3600.0, 15 * 86400.0, tests_per_row=2)
    assert one and [g.tests for g in one] == [len(accounts)] * len(one)
    assert [g.tests for g in two] == [2 * len(accounts)] * len(two)
    assert all(b.evidence <= a.evidence for a, b in zip(one, two))
    assert timedelta_seconds("84h") == 84 * 3600.0


def test_findings_do_not_depend_on_the_order_of_the_groups():
    from ringscope.detection.registration_bursts import BurstGroup, registration_burst_findings

    # two scales can find groups of one value that start together and differ in their end
    groups = [BurstGroup("registration_ip", "1.2.3.4", ("a", "b", "c"), 0.0, 100.0, 3, 3, 0.1, 30.0, 0.9, 10),
              BurstGroup("registration_ip", "1.2.3.4", ("a", "b", "c", "d"), 0.0, 900.0, 4, 5, 0.2, 30.0, 0.9, 10),
              BurstGroup("profile", "x", ("d", "e", "f"), 50.0, 500.0, 3, 9, 0.3, 12.0, 0.5, 10)]
    registered = {m: pd.Timestamp("2024-01-01", tz="UTC") for m in "abcdef"}
    forward = registration_burst_findings(groups, registered, {}, {"registration_ip": 1.0, "profile": 0.8})
    backward = registration_burst_findings(groups[::-1], registered, {}, {"registration_ip": 1.0, "profile": 0.8})
    assert forward == backward
    assert [r.text for r in forward[0].reasons] == [r.text for r in backward[0].reasons]


def test_the_shifted_profile_grid_keeps_a_batch_across_a_bucket_edge_in_one_cell():
    from ringscope.detection.registration_bursts import profile_columns

    # following 200..300 crosses the edge at 255 of the first grid, not of the shifted one (181..361)
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(6)], "default_profile": [True] * 6,
                             "bio": [None] * 6, "following": [200, 230, 250, 260, 280, 300],
                             "followers": [3, 3, 3, 3, 3, 3]})
    plain, shifted = profile_columns(accounts)
    assert (plain.name, shifted.name) == ("profile", "profile_shifted")
    assert len(set(plain.code.tolist())) == 2 and len(set(shifted.code.tolist())) == 1
    assert shifted.vocabulary[0] == "default=1|bio=0|following=2^7.5|followers=2^1.5"
    assert plain.vocabulary.tolist() == ["default=1|bio=0|following=2^7|followers=2^2",
                                         "default=1|bio=0|following=2^8|followers=2^2"]
    # without follow counts the shifted grid would be the first one again: not made
    assert [c.name for c in profile_columns(accounts.drop(columns=["following", "followers"]))] == ["profile"]


def test_both_profile_grids_are_one_piece_of_evidence_and_count_in_the_correction():
    from ringscope.detection.registration_bursts import (BurstGroup, evidence_attribute,
                                                         registration_burst_findings, tests_per_row)

    assert evidence_attribute("profile_shifted") == "profile" and evidence_attribute("device") == "device"
    assert tests_per_row("profile", ["device", "profile", "profile_shifted"], 2) == 4
    assert tests_per_row("device", ["device", "profile", "profile_shifted"], 2) == 2
    assert tests_per_row("profile", ["profile"], 1) == 1
    one = BurstGroup("profile", "x", ("a", "b", "c"), 0.0, 100.0, 3, 3, 0.0, 30.0, 0.9, 1)
    other = BurstGroup("profile_shifted", "y", ("a", "b", "c"), 0.0, 100.0, 3, 3, 0.0, 20.0, 0.8, 1)
    registered = {m: pd.Timestamp("2024-01-01", tz="UTC") for m in "abc"}
    (finding,) = registration_burst_findings([one, other], registered, {}, {"profile": 0.8})
    # the best grid counts (0.8 x 1.0), never both by noisy-OR (which would give 0.8 + 0.8 x 0.2 x 0.8)
    assert finding.member_scores == {"a": 0.8, "b": 0.8, "c": 0.8}


def _two_farms_platform() -> pd.DataFrame:
    """Ordinary sign-ups over two months, farm A's 200 accounts on day 30 and farm B's 25 on day 40 (inside B's
    15-day background, outside its 7-day guard band), made by one script: phone segment 170, ``user`` +
    digits, untouched profiles; B's accounts on IPs of their own."""
    start = START + pd.Timedelta(days=30)
    a = farm(n=200, at=start, prefix="A")
    b = farm(n=25, at=start + pd.Timedelta(days=10), ip="unused", prefix="B")
    b["registration_ip"] = [f"172.16.{k}.{k * 7 % 250}" for k in range(len(b))]
    return pd.concat([background(), a, b], ignore_index=True)


def test_a_farm_with_another_farms_wave_in_its_background_is_found_once_that_wave_is_left_out():
    accounts = _two_farms_platform()
    one = _best_member_scores(detect_registration_bursts(accounts, None, RegistrationBurstParams()))  # passes=1
    censored = _best_member_scores(detect_registration_bursts(accounts, None, RegistrationBurstParams(passes=3)))
    b = [f"B{k:03d}" for k in range(25)]
    # one pass: A's 200 alike accounts make B's segment, shape and profile "expected" in B's window
    assert all(0.8 * one.get(m, 0.0) < 0.5 for m in b)
    # the second pass leaves A's accounts (found in the first) out of every background: B stands out
    assert all(0.8 * censored.get(m, 0.0) >= 0.5 for m in b)
    assert all(0.8 * censored[f"A{k:03d}"] >= 0.5 for k in range(200))
    assert not any(0.8 * s >= 0.5 for m, s in censored.items() if m.startswith("h"))   # no ordinary account flags


def test_censored_passes_stop_when_a_pass_finds_no_one_new_and_every_pass_counts_in_the_correction():
    from ringscope.detection.registration_bursts import BurstGroup, censored_passes

    def group(members, surprise, tests=100):
        return BurstGroup("registration_ip", "9.9.9.9", tuple(members), 0.0, 60.0, len(members), len(members) + 1,
                          0.1, surprise, 0.9, tests)

    calls: list[frozenset[str]] = []

    def one_pass(found):
        calls.append(found)
        if not found:
            return [group(["a", "b", "c"], 30.0)]
        # with a, b, c out of the backgrounds: the same group, stronger, and a new one
        return [group(["a", "b", "c"], 40.0), group(["d", "e", "f"], 25.0)]

    groups = censored_passes(one_pass, 5)
    # pass 1 finds a-c; pass 2 (a-c left out) finds d-f; pass 3 (a-f left out) finds no one new: it stops
    assert calls == [frozenset(), frozenset("abc"), frozenset("abcdef")]
    by_members = {g.members: g for g in groups}
    assert set(by_members) == {("a", "b", "c"), ("d", "e", "f")}      # a group found by several passes once
    assert by_members[("a", "b", "c")].surprise == 40.0               # its strongest
    assert all(g.tests == 300 for g in groups)                        # three passes ran: 3 x the tests
    # at most ``passes``: one pass is the detector without censoring
    calls.clear()
    assert [g.tests for g in censored_passes(one_pass, 1)] == [100] and calls == [frozenset()]
    # the order the groups come in does not matter
    assert censored_passes(lambda found: list(reversed(one_pass(found))), 5) == groups


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"])
def test_passes_in_the_policy_are_an_integer_of_at_least_one(value):
    from ringscope.common.errors import SettingError
    from ringscope.detection.params import params_from_policy

    assert params_from_policy(RegistrationBurstParams, "registration_bursts", {"passes": 2}).passes == 2
    with pytest.raises(SettingError):
        params_from_policy(RegistrationBurstParams, "registration_bursts", {"passes": value})
