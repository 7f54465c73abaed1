"""Ban evasion: accounts that turn up on the devices of banned accounts.

When a platform bans an account, its operator opens a new one on the same
phone. The device fingerprint outlives the account, so an account that uses
a device a banned account used is suspect, and how suspect depends on timing:

* **registered after the ban** (the ban still in force): the classic
  replacement account. Strong.
* **registered before, but first seen on the device after the ban**: an
  existing account moved onto the banned device. Strong, a little less.
* **registered before the ban and on the device before it**: a sibling on
  the same phone; the ban may have missed it. Weaker, for review.
* **banned by status only** (no sanction, so no ban time): review.

Devices banned directly (a sanction with ``target_type = device``) count the
same way, with the device sanction's time as the ban time. A device used by
more than ``device_cap`` accounts (an emulator image, a shop demo phone)
is ignored, and a widely shared device weakens the link (the truncated IDF
weight of ``detection.shared_infrastructure.identifier_weight``).

Scores per (account, evidence) pair, with ``d`` days between ban and the
account's registration (or first use of the device) and ``f = 0.5 + 0.5 *
w(k)`` the device-sharing factor (``k`` accounts on the device, plus one for
a ban on the device itself: a new account alone on a banned device gets the
full factor, as one beside a banned account does):

* post-ban registration: ``(0.75 + 0.25 * exp(-d / 30)) * f``
* moved onto the device after the ban: ``(0.6 + 0.2 * exp(-d / 30)) * f``
* on the device before the ban: ``0.4 * f``; status-only ban: ``0.35 * f``

An account's score combines its evidence by noisy-or, ``1 - prod(1 - s)``.

References: ban evasion as "a banned user's new, temporally disjoint account"
follows Niverthi, Verma & Kumar, "Characterizing, Detecting, and Predicting
Online Ban Evasion", WWW 2022 (who observe that evasion is easy to catch where
the platform holds identifying data such as IP addresses; this module is that
direct device link, with the ban time separating evaders from siblings); linking
accounts of one operator through shared access infrastructure follows
Stringhini et al., "EvilCohort: Detecting Communities of Malicious Accounts on
Online Services", USENIX Security 2015.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ringscope.detection.frames import epoch_seconds
from ringscope.detection.findings import ClusterFinding, Evidence, Reason, iso_utc_epoch
from ringscope.detection.params import as_names, policy_field
from ringscope.detection.shared_infrastructure import cite_ids, identifier_weight

DETECTOR = "ban_evasion"

#: ``sanctions.action`` values that take an account or device off the platform.
BAN_ACTIONS = frozenset({
    "ban", "banned", "permanent_ban", "temporary_ban", "temp_ban", "suspend", "suspended",
    "suspension", "terminate", "terminated",
    "disable", "disabled", "block", "blocked", "device_ban",
})

#: ``accounts.status`` values of accounts already off the platform.
BANNED_STATUS = frozenset({"banned", "suspended"})

DAY = 86_400.0

STRONG_POST_BAN = "post_ban_registration"
MOVED_AFTER_BAN = "device_after_ban"
PRE_BAN = "pre_ban_shared_device"
STATUS_ONLY = "status_only_ban"



def ban_events(
    sanctions: pd.DataFrame | None,
    accounts: pd.DataFrame | None = None,
    ban_actions: Iterable[str] = BAN_ACTIONS,
) -> pd.DataFrame:
    """Every ban: what was banned, when, by which sanction.

    Columns ``target_type`` (``account`` or ``device``), ``target_id``,
    ``sanction_id``, ``banned_at``, ``expires_at`` (epoch seconds, NaN when
    open-ended or unknown). Sanctions count when their ``action`` (case
    folded) is in ``ban_actions``; accounts whose ``status`` is banned or
    suspended without such a sanction get a row with ``sanction_id`` empty
    and ``banned_at`` NaN. Sorted. O(S log S + n).
    """
    actions = {a.lower() for a in ban_actions}
    parts: list[pd.DataFrame] = []
    if sanctions is not None and len(sanctions):
        s = sanctions.copy()
        kind = s["target_type"].astype(str).str.strip().str.lower()
        act = s["action"].astype(str).str.strip().str.lower()
        s = s[kind.isin(["account", "device"]) & act.isin(actions)]
        expires = s["expires_at"] if "expires_at" in s else pd.Series(np.nan, index=s.index)
        parts.append(pd.DataFrame({
            "target_type": s["target_type"].astype(str).str.strip().str.lower(),
            "target_id": s["target_id"].astype(str),
            "sanction_id": s["sanction_id"].astype(str),
            "banned_at": epoch_seconds(s["issued_at"]),
            "expires_at": epoch_seconds(expires),
        }))
    if accounts is not None and "status" in accounts:
        status = accounts["status"].astype("string").str.strip().str.lower()
        banned = accounts.loc[status.isin(BANNED_STATUS).fillna(False), "account_id"].astype(str)
        known = set(parts[0].loc[parts[0]["target_type"] == "account", "target_id"]) if parts \
            else set()
        banned = sorted(set(banned) - known)
        parts.append(pd.DataFrame({
            "target_type": "account", "target_id": banned, "sanction_id": "",
            "banned_at": np.nan, "expires_at": np.nan,
        }))
    if not parts:
        return pd.DataFrame(columns=["target_type", "target_id", "sanction_id", "banned_at",
                                     "expires_at"])
    events = pd.concat(parts, ignore_index=True)
    return events.sort_values(["target_type", "target_id", "banned_at", "sanction_id"],
                              ignore_index=True, na_position="last")


def evasion_evidence(
    account_devices: pd.DataFrame,
    accounts: pd.DataFrame,
    sanctions: pd.DataFrame | None,
    *,
    device_cap: int = 200,
    ban_actions: Iterable[str] = BAN_ACTIONS,
) -> pd.DataFrame:
    """One row per (suspect account, device, ban) with its class and score.

    A suspect is an account not itself banned that used a device that a
    banned account used, or a banned device. Columns: ``account_id``,
    ``device_id``, ``banned_account_id`` (empty for a device ban),
    ``sanction_id``, ``banned_at``, ``registered_at``, ``first_seen`` (the
    suspect's first use of the device; epoch seconds or NaN), ``accounts_on_device``,
    ``kind`` (``post_ban_registration``, ``device_after_ban``,
    ``pre_ban_shared_device``, ``status_only_ban``) and ``score`` (module
    docstring). Devices with more than ``device_cap`` accounts are skipped.
    Time O(L log L + M) for L device links and M output rows, which are bounded
    by ``device_cap`` per banned device.
    """
    events = ban_events(sanctions, accounts, ban_actions)
    columns = ["account_id", "device_id", "banned_account_id", "sanction_id", "banned_at",
               "registered_at", "first_seen", "accounts_on_device", "kind", "score"]
    if events.empty or account_devices is None or account_devices.empty:
        return pd.DataFrame(columns=columns)
    links = pd.DataFrame({
        "account_id": account_devices["account_id"].astype(str),
        "device_id": account_devices["device_id"].astype(str),
        "first_seen": epoch_seconds(account_devices["first_seen"])
        if "first_seen" in account_devices else np.nan,
    })
    links = (links.sort_values(["account_id", "device_id", "first_seen"], na_position="last")
             .drop_duplicates(["account_id", "device_id"], keep="first"))
    k = links.groupby("device_id")["account_id"].nunique().rename("accounts_on_device")
    links = links.join(k, on="device_id")
    links = links[links["accounts_on_device"] <= device_cap]

    # a banned account's earliest ban (a sanction when there is one) per account
    acc_bans = events[events["target_type"] == "account"].drop_duplicates("target_id")
    acc_bans = acc_bans.rename(columns={"target_id": "banned_account_id"})
    via_account = links.merge(acc_bans, left_on="account_id", right_on="banned_account_id")
    via_account = via_account[["device_id", "banned_account_id", "sanction_id", "banned_at",
                               "expires_at"]]
    dev_bans = events[events["target_type"] == "device"].drop_duplicates("target_id")
    via_device = pd.DataFrame({
        "device_id": dev_bans["target_id"], "banned_account_id": "",
        "sanction_id": dev_bans["sanction_id"], "banned_at": dev_bans["banned_at"],
        "expires_at": dev_bans["expires_at"],
    })
    bans = pd.concat([via_account, via_device], ignore_index=True)
    pairs = links.merge(bans, on="device_id")
    banned_ids = set(acc_bans["banned_account_id"])
    pairs = pairs[~pairs["account_id"].isin(banned_ids)]
    if pairs.empty:
        return pd.DataFrame(columns=columns)

    reg = pd.Series(epoch_seconds(accounts["registered_at"]),
                    index=accounts["account_id"].astype(str))
    reg = reg[~reg.index.duplicated(keep="first")]
    pairs["registered_at"] = pairs["account_id"].map(reg).astype(float)
    pairs = pairs.reset_index(drop=True)
    t_ban = pairs["banned_at"].to_numpy(float)
    t_reg = pairs["registered_at"].to_numpy(float)
    t_seen = pairs["first_seen"].to_numpy(float)
    t_exp = pairs["expires_at"].to_numpy(float)
    in_force_at_reg = np.isnan(t_exp) | (t_exp > t_reg)
    post = ~np.isnan(t_ban) & ~np.isnan(t_reg) & (t_reg >= t_ban) & in_force_at_reg
    moved = ~post & ~np.isnan(t_ban) & ~np.isnan(t_seen) & (t_seen >= t_ban)
    status_only = np.isnan(t_ban)
    kind = np.where(post, STRONG_POST_BAN,
                    np.where(moved, MOVED_AFTER_BAN,
                             np.where(status_only, STATUS_ONLY, PRE_BAN)))
    with np.errstate(invalid="ignore"):
        d_reg = np.clip((t_reg - t_ban) / DAY, 0, None)
        d_seen = np.clip((t_seen - t_ban) / DAY, 0, None)
    base = np.select(
        [post, moved, status_only],
        [0.75 + 0.25 * np.exp(-np.nan_to_num(d_reg, nan=1e9) / 30),
         0.6 + 0.2 * np.exp(-np.nan_to_num(d_seen, nan=1e9) / 30),
         0.35],
        default=0.4,
    )
    # Who shares the device: its accounts, and for a ban on the device itself the device's banned past too
    # (without it, a new account alone on a banned device had weight w(1) = 0, the weakest case instead of
    # the clearest).
    sharers = pairs["accounts_on_device"].to_numpy() + (pairs["banned_account_id"] == "").to_numpy()
    share = 0.5 + 0.5 * identifier_weight(sharers, 1.0, device_cap)
    pairs["kind"] = kind
    pairs["score"] = np.round(base * share, 6)
    pairs = pairs[columns].sort_values(
        ["account_id", "score", "device_id", "banned_account_id", "sanction_id"],
        ascending=[True, False, True, True, True], ignore_index=True)
    return pairs


def _evidence_reason(row: pd.Series) -> Reason:
    """A member's reason for one (device, ban) link, with the ids and times. O(1)."""
    who = (f"banned account {row.banned_account_id}" if row.banned_account_id
           else f"banned device {row.device_id}")
    issued = iso_utc_epoch(row.banned_at, missing="unknown")
    sanction = f" (sanction {row.sanction_id}, issued {issued})" \
        if row.sanction_id else " (banned by status; ban time unknown)"
    reg = iso_utc_epoch(row.registered_at, missing="unknown")
    if row.kind == STRONG_POST_BAN:
        days = (row.registered_at - row.banned_at) / DAY
        text = (f"{row.account_id} was registered {reg}, {days:.1f} days after {who} was "
                f"banned{sanction}, and uses the same device {row.device_id}")
    elif row.kind == MOVED_AFTER_BAN:
        days = (row.first_seen - row.banned_at) / DAY
        seen = iso_utc_epoch(row.first_seen, missing="unknown")
        text = (f"{row.account_id} (registered {reg}, before the ban) first appeared on device "
                f"{row.device_id} {seen}, {days:.1f} days after {who} was "
                f"banned{sanction}")
    elif row.kind == STATUS_ONLY:
        text = (f"{row.account_id} (registered {reg}) shares device {row.device_id} with "
                f"{who}{sanction}; review")
    else:
        text = (f"{row.account_id} was registered {reg}, before {who} was banned{sanction}, "
                f"and shares its device {row.device_id}; review")
    if row.accounts_on_device > 2:
        text += f" ({int(row.accounts_on_device)} accounts use that device)"
    evidence = [Evidence("device", (row.device_id,))]
    if row.banned_account_id:
        evidence.append(Evidence("account", (row.banned_account_id,)))
    if row.sanction_id:
        evidence.append(Evidence("sanction", (row.sanction_id,)))
    other = row.first_seen if row.kind == MOVED_AFTER_BAN else row.registered_at
    if not math.isnan(row.banned_at) and not math.isnan(other):
        lo, hi = sorted((row.banned_at, other))
        evidence.append(Evidence("time_window", (iso_utc_epoch(lo), iso_utc_epoch(hi))))
    code = "ban_evasion" if row.kind in (STRONG_POST_BAN, MOVED_AFTER_BAN) \
        else "ban_evasion_review"
    return Reason(code=code, text=text, evidence=tuple(evidence))


@dataclass(frozen=True)
class BanEvasionParams:
    """Thresholds of :func:`detect_ban_evasion`.

    ``device_cap``: a device used by more accounts is ignored;
    ``ban_actions``: ``sanctions.action`` values that count as a ban;
    ``max_member_reasons``: reasons per member (strongest first).
    """

    device_cap: int = 200
    ban_actions: Iterable[str] = policy_field(BAN_ACTIONS, as_names, "list of sanction actions")
    max_member_reasons: int = 5


def detect_ban_evasion(
    account_devices: pd.DataFrame,
    accounts: pd.DataFrame,
    sanctions: pd.DataFrame | None,
    params: BanEvasionParams = BanEvasionParams(),
) -> list[ClusterFinding]:
    """Findings for accounts on the devices of banned accounts (or banned devices).

    Suspects that trace back to the same bans through shared devices form one
    finding (connected components of the suspect-ban graph). Members are the
    suspects only (banned accounts are already dealt with; they appear in
    the evidence). Member score: noisy-or of its ``evasion_evidence`` scores;
    cluster score: the largest member score. Reason codes: ``ban_evasion``
    for post-ban registration or moving onto the device after the ban,
    ``ban_evasion_review`` for the weaker pre-ban / status-only cases. Each
    member gets up to ``max_member_reasons`` reasons (strongest first).

    Time O(L log L + M log M) for L device links and M evidence rows; memory
    O(L + M). Findings sorted by score then key.
    """
    ev = evasion_evidence(account_devices, accounts, sanctions,
                          device_cap=params.device_cap, ban_actions=params.ban_actions)
    if ev.empty:
        return []
    ban_key = np.where(ev["banned_account_id"] != "", "a:" + ev["banned_account_id"],
                       "d:" + ev["device_id"])
    suspects = sorted(ev["account_id"].unique())
    bans = sorted(set(ban_key))
    s_index = {a: i for i, a in enumerate(suspects)}
    b_index = {b: i + len(suspects) for i, b in enumerate(bans)}
    rows = np.array([s_index[a] for a in ev["account_id"]])
    cols = np.array([b_index[b] for b in ban_key])
    n = len(suspects) + len(bans)
    _, comp = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)),
                                   directed=False)
    ev = ev.assign(component=comp[rows], ban_key=ban_key)

    findings: list[ClusterFinding] = []
    for _, part in ev.groupby("component", sort=True):
        member_scores: dict[str, float] = {}
        member_reasons: dict[str, tuple[Reason, ...]] = {}
        for account, rows_a in part.groupby("account_id", sort=True):
            scores = rows_a["score"].to_numpy(float)
            member_scores[account] = round(float(1 - np.prod(1 - scores)), 6)
            member_reasons[account] = tuple(
                _evidence_reason(r) for r in rows_a.head(params.max_member_reasons).itertuples()
            )
        members = sorted(member_scores)
        score = max(member_scores.values())
        strong = part[part["kind"].isin([STRONG_POST_BAN, MOVED_AFTER_BAN])]
        banned = sorted(set(part["banned_account_id"]) - {""})
        devices = sorted(set(part["device_id"]))
        sanctions_cited = sorted(set(part["sanction_id"]) - {""})
        text = (f"{len(members)} account(s) use {len(devices)} device(s) of "
                f"{len(banned)} banned account(s)"
                + (f" {cite_ids(banned)}" if banned else "")
                + (" or banned devices" if (part['banned_account_id'] == '').any() else "")
                + f": {cite_ids(devices)}; "
                + f"{strong['account_id'].nunique()} registered or moved onto the device after "
                  "the ban")
        evidence = [Evidence("device", tuple(devices))]
        if banned:
            evidence.append(Evidence("account", tuple(banned)))
        if sanctions_cited:
            evidence.append(Evidence("sanction", tuple(sanctions_cited)))
        code = "ban_evasion" if not strong.empty else "ban_evasion_review"
        findings.append(ClusterFinding(
            detector=DETECTOR,
            members=tuple(members),
            score=round(float(min(max(score, 0.0), 1.0)), 6),
            reasons=(Reason(code=code, text=text, evidence=tuple(evidence)),),
            member_scores=member_scores,
            member_reasons=member_reasons,
        ))
    findings.sort(key=lambda f: (-f.score, f.key))
    return findings
