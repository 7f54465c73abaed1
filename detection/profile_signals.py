"""Profile signals: how an account was left, as evidence that corroborates a cluster and never flags alone.

A default profile, an empty bio and following far more accounts than follow back are what bought and
scripted accounts look like (Cresci et al., "Fame for sale: efficient detection of fake Twitter
followers", Decision Support Systems 80, 2015, review such rules for bought followers). They are also what
an honest new user looks like. So they only *raise* the risk of an account some detector already put in a
cluster (``scoring.corroborate``); an account in no cluster gets nothing from them, however bare its
profile. The weight is the policy's ``profile_signals.weight``.

Strength per account: the mean of ``default_profile``, "no bio" and the follow asymmetry
``clip(log10((following + 10) / (followers + 10)), 0, 1)`` over the signals its record has (the three
columns of ``registration_bursts.profile_defaults``). The pseudocount of 10 keeps a new account that
follows a handful and has no followers yet (an honest beginner) low; the rule is about following hundreds
and being followed by a few. O(n) for the strengths, O(k) reasons for the k accounts asked about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ringscope.detection.findings import Reason
from ringscope.detection.registration_bursts import one_row_per_account, profile_defaults

NAME = "profile_signals"
FOLLOW_PSEUDOCOUNT = 10.0


@dataclass(frozen=True)
class ProfileEvidence:
    strength: float  # in [0, 1]
    reason: Reason


def _count(value: object) -> str:
    return "an unknown number of" if value is None or pd.isna(value) else f"{int(value):,}"


def profile_evidence(accounts: pd.DataFrame, account_ids: Iterable[str]) -> dict[str, ProfileEvidence]:
    """The profile evidence of each of ``account_ids`` found in ``accounts`` with any signal above 0,
    with a reason naming the signals. O(n + k)."""
    wanted = set(map(str, account_ids))
    if not wanted or accounts.empty or "account_id" not in accounts:
        return {}
    accounts, _ = one_row_per_account(accounts)
    ids = accounts["account_id"].astype(str)
    rows = accounts[ids.isin(wanted).to_numpy()]
    if rows.empty:
        return {}
    signals = profile_defaults(rows, FOLLOW_PSEUDOCOUNT)
    strength = signals.mean(axis=1, skipna=True).fillna(0.0).clip(0.0, 1.0).to_numpy()
    following = rows["following"].to_numpy() if "following" in rows else np.full(len(rows), None)
    followers = rows["followers"].to_numpy() if "followers" in rows else np.full(len(rows), None)
    default, no_bio, asymmetry = (signals[c].to_numpy() for c in ("default_profile", "no_bio", "follow_asymmetry"))
    out: dict[str, ProfileEvidence] = {}
    for i, account in enumerate(signals.index):
        if strength[i] <= 0:
            continue
        said = []
        if default[i] == 1:
            said.append("default profile")
        if no_bio[i] == 1:
            said.append("no bio")
        if asymmetry[i] > 0:
            said.append(f"follows {_count(following[i])} accounts and is followed by {_count(followers[i])}")
        out[account] = ProfileEvidence(float(strength[i]), Reason(
            code="profile_signals",
            text=f"profile: {', '.join(said)} (strength {strength[i]:.2f}; raises the risk of an account "
                 "already in a cluster, never flags one alone)"))
    return out
