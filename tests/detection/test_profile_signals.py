"""Profile signals corroborate a cluster's evidence and never flag alone."""

import pandas as pd
import pytest

from ringscope.detection.config import DetectionPolicy
from ringscope.detection.findings import ClusterFinding, Reason
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.pipeline import DetectorResult, account_risks, flagged_ids
from ringscope.detection.profile_signals import profile_evidence

BARE = {"default_profile": True, "bio": None, "following": 500, "followers": 2}
KEPT = {"default_profile": False, "bio": "摄影 / 旅行", "following": 80, "followers": 300}


def accounts(**profiles):
    return pd.DataFrame([{"account_id": a, **p} for a, p in profiles.items()])


def policy(likelihood_ratio=3.0):
    return DetectionPolicy.model_validate({
        "version": 2, "flag_threshold": 0.5,
        "detectors": {"lockstep": {"weight": 0.9}, "registration_bursts": {"weight": 0.8}},
        "profile_signals": {"likelihood_ratio": likelihood_ratio, "not_with": ["registration_bursts"]}})


def risks(frame, findings, likelihood_ratio=3.0):
    frames = PlatformFrames.comments_only(pd.DataFrame())
    frames.accounts = frame
    results = [DetectorResult(d, [f for f in findings if f.detector == d], 0.0)
               for d in ("lockstep", "registration_bursts")]
    p = policy(likelihood_ratio)
    out = account_risks(results, p, frames)
    return out, flagged_ids(out, p)


def cluster(detector, members, score):
    return ClusterFinding(detector, tuple(members), score, (Reason(detector, "why"),))


def test_strength_is_the_mean_of_the_signals_and_the_reason_names_them():
    evidence = profile_evidence(accounts(bare=BARE, kept=KEPT), ["bare", "kept", "unknown"])
    assert set(evidence) == {"bare"}  # a kept profile has no signal; an unknown account is skipped
    assert evidence["bare"].strength == pytest.approx(1.0)
    text = evidence["bare"].reason.text
    assert "default profile" in text and "no bio" in text and "follows 500 accounts and is followed by 2" in text
    assert "never flags one alone" in text


def test_a_beginner_following_a_handful_is_not_asymmetric():
    beginner = {"default_profile": False, "bio": "hi", "following": 6, "followers": 0}
    strength = profile_evidence(accounts(new=beginner), ["new"])["new"].strength
    assert strength == pytest.approx(0.2 / 3, abs=0.01)  # log10(16/10) of one signal in three


def test_a_bare_profile_in_no_cluster_gets_no_risk():
    out, flagged = risks(accounts(bare=BARE, other=KEPT), [cluster("lockstep", ["other"], 0.9)])
    assert "bare" not in out and "bare" not in flagged


def test_a_bare_profile_multiplies_the_odds_of_an_account_in_a_cluster():
    ring = cluster("lockstep", ["bare", "kept"], 0.4 / 0.9)  # risk 0.4 from lockstep alone
    out, flagged = risks(accounts(bare=BARE, kept=KEPT), [ring])
    assert out["kept"].score == pytest.approx(0.4)
    odds = 0.4 / 0.6 * 3
    assert out["bare"].score == pytest.approx(odds / (1 + odds), abs=1e-6)
    assert flagged == {"bare"}
    assert out["bare"].detectors == ("lockstep", "profile_signals")
    assert out["bare"].reasons[-1].startswith("[profile_signals] profile: default profile")


def test_weak_evidence_stays_weak():
    out, flagged = risks(accounts(bare=BARE), [cluster("lockstep", ["bare"], 0.1 / 0.9)])
    assert out["bare"].score < 0.3 and not flagged


def test_registration_bursts_alone_is_not_corroborated_and_ratio_one_turns_the_signals_off():
    burst = cluster("registration_bursts", ["bare"], 0.5)
    out, _ = risks(accounts(bare=BARE), [burst])
    assert out["bare"].score == pytest.approx(0.4) and out["bare"].detectors == ("registration_bursts",)
    ring = cluster("lockstep", ["bare"], 0.5)
    off, _ = risks(accounts(bare=BARE), [ring], likelihood_ratio=1.0)
    assert off["bare"].score == pytest.approx(0.45) and off["bare"].detectors == ("lockstep",)


def test_an_account_flagged_on_its_own_evidence_keeps_its_score_and_reasons():
    """Corroboration is for accounts short of the threshold; a flagged one's reasons stay its detectors'."""
    out, flagged = risks(accounts(bare=BARE), [cluster("lockstep", ["bare"], 0.6 / 0.9)])
    assert flagged == {"bare"}
    assert out["bare"].score == pytest.approx(0.6) and out["bare"].detectors == ("lockstep",)
    assert not any(r.startswith("[profile_signals]") for r in out["bare"].reasons)
