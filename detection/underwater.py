"""Underwater (undeclared) paid promotion, and intermediaries that run flagged accounts.

On RED/Xiaohongshu, paid notes must go through the declared-commercial channel
(Dandelion/蒲公英); "underwater" (水下) promotion is a brand paying an agency or
MCN off-platform so that the notes look organic.  China's Interactive
Internet Advertising rules (SAMR, 2023) require such ads to be labelled.
The detector follows the order trail, the way platform audits of undisclosed
sponsorship do (Mathur, Narayanan & Chetty, "Endorsements on Social Media: An
Empirical Study of Affiliate Marketing Disclosures on YouTube and Pinterest",
CSCW 2018): a note promotes brand B (``notes.brand_id``), is not declared
commercial, and its author is managed by an intermediary that took an
**undeclared** order (``orders.declared`` false) from B - or the author took
such an order directly.

A second function scores intermediaries by how many of the accounts they
manage other detectors already flagged: guilt by association over the
account-intermediary graph, the idea behind SybilRank (Cao, Sirivianos, Yang
& Pregueiro, "Aiding the Detection of Fake Accounts in Large Scale Social
Online Services", NSDI 2012).

Both are pure functions over frames in the input format; output sorted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ringscope.detection.findings import ClusterFinding, Evidence, Reason, iso_utc

DETECTOR = "underwater"
DETECTOR_INTERMEDIARY = "intermediary_flagged_accounts"

_FALSE = {"false", "0", "no", "f", "n", ""}


def input_bool(s: pd.Series) -> pd.Series:
    """Input-format booleans (true/false, 1/0, yes/no, any case; missing = False) as bool. O(n)."""
    if s.dtype == bool:
        return s
    return s.map(lambda v: False if pd.isna(v) else (bool(v) if isinstance(v, (bool, np.bool_, int, float))
                                                        else str(v).strip().lower() not in _FALSE)).astype(bool)


@dataclass(frozen=True)
class UnderwaterParams:
    """``before``/``after``: a note counts for an order when posted in
    [placed_at - before, placed_at + after] (no placed_at: any time);
    ``max_evidence``: ids cited per reason."""

    before: pd.Timedelta = pd.Timedelta(days=7)
    after: pd.Timedelta = pd.Timedelta(days=90)
    max_evidence: int = 2000


def underwater_links(
    notes: pd.DataFrame,
    orders: pd.DataFrame,
    intermediary_accounts: pd.DataFrame,
    params: UnderwaterParams = UnderwaterParams(),
) -> pd.DataFrame:
    """Every (undeclared order, brand note) link that explains a note as underwater promotion.

    Returns ``order_id, brand_id, intermediary_id, account_id, note_id,
    posted_at, placed_at, direct`` sorted; ``direct`` = the order names the
    note itself.  A note links to an order when the order is undeclared, the
    brands match, the note is not ``declared_commercial``, and either the
    order names the note (and was placed with its author, with an
    intermediary managing the author, or with no one named), or names its
    author, or its intermediary manages the author (``since`` <= posted_at
    when given) and the note falls in the order's time window.  Time O(O * n_b) for O undeclared orders and n_b brand
    notes per order (hash joins), never accounts x notes.
    """
    cols = ["order_id", "brand_id", "intermediary_id", "account_id", "note_id",
            "posted_at", "placed_at", "direct"]
    if notes is None or orders is None or notes.empty or orders.empty:
        return pd.DataFrame(columns=cols)
    o = orders.copy()
    o["declared"] = input_bool(o["declared"]) if "declared" in o else False
    o = o[~o["declared"]]
    for c in ["intermediary_id", "account_id", "note_id", "placed_at"]:
        if c not in o:
            o[c] = pd.NA
    o = o[["order_id", "brand_id", "intermediary_id", "account_id", "note_id", "placed_at"]].rename(
        columns={"account_id": "order_account", "note_id": "order_note"})
    n = notes[notes["brand_id"].notna()].copy() if "brand_id" in notes else notes.iloc[0:0]
    if "declared_commercial" in n:
        n = n[~input_bool(n["declared_commercial"])]
    n = n[["note_id", "account_id", "brand_id", "posted_at"]]
    if o.empty or n.empty:
        return pd.DataFrame(columns=cols)
    for df, c in ((o, "brand_id"), (n, "brand_id"), (n, "note_id"), (n, "account_id")):
        df[c] = df[c].astype(str)

    ia = None
    if intermediary_accounts is not None and not intermediary_accounts.empty:
        ia = intermediary_accounts.copy()
        if "since" not in ia:
            ia["since"] = pd.NaT
        ia = ia[["intermediary_id", "account_id", "since"]].astype({"intermediary_id": str, "account_id": str})

    links = []
    # 1) the order names the note, and names nobody else for the work: placed with the author, with an
    # intermediary that manages the author, or with no one named. An order placed with someone else
    # that names a note (a comment ring hired to flood a brand's note) makes the note the work's
    # target, not its author a paid party.
    direct = o[o["order_note"].notna()].assign(order_note=lambda d: d["order_note"].astype(str))
    d1 = direct.merge(n, left_on=["order_note", "brand_id"], right_on=["note_id", "brand_id"])
    if len(d1):
        party = d1["order_account"].isna() & d1["intermediary_id"].isna()
        party |= d1["order_account"].astype("string").eq(d1["account_id"]).fillna(False)
        if ia is not None:
            manages = set(zip(ia["intermediary_id"], ia["account_id"]))
            party |= pd.Series([(str(i), a) in manages for i, a in zip(d1["intermediary_id"], d1["account_id"])],
                               index=d1.index, dtype=bool)
        d1 = d1[party.astype(bool)]
    links.append(d1.assign(direct=True))
    # 2) the order names the author
    byacc = o[o["order_account"].notna()].assign(order_account=lambda d: d["order_account"].astype(str))
    d2 = byacc.merge(n, left_on=["order_account", "brand_id"], right_on=["account_id", "brand_id"])
    links.append(d2.assign(direct=False))
    # 3) the order's intermediary manages the author
    if ia is not None:
        byint = o[o["intermediary_id"].notna()].assign(intermediary_id=lambda d: d["intermediary_id"].astype(str))
        d3 = byint.merge(ia, on="intermediary_id").merge(n, on=["account_id", "brand_id"])
        since = pd.to_datetime(d3["since"], utc=True)
        d3 = d3[since.isna() | (since <= pd.to_datetime(d3["posted_at"], utc=True))]
        links.append(d3.drop(columns=["since"]).assign(direct=False))
    df = pd.concat([x for x in links if len(x)], ignore_index=True) if any(len(x) for x in links) else None
    if df is None or df.empty:
        return pd.DataFrame(columns=cols)
    placed = pd.to_datetime(df["placed_at"], utc=True)
    posted = pd.to_datetime(df["posted_at"], utc=True)
    in_window = placed.isna() | ((posted >= placed - params.before) & (posted <= placed + params.after))
    df = df[in_window | df["direct"]]
    df = df.assign(intermediary_id=df["intermediary_id"].astype("string"))
    df = df.sort_values(["order_id", "note_id", "direct"], ascending=[True, True, False])
    df = df.drop_duplicates(["order_id", "note_id"], keep="first")
    return df[cols].sort_values(["brand_id", "intermediary_id", "order_id", "note_id"]).reset_index(drop=True)


def detect_underwater(
    notes: pd.DataFrame,
    orders: pd.DataFrame,
    intermediary_accounts: pd.DataFrame,
    params: UnderwaterParams = UnderwaterParams(),
) -> list[ClusterFinding]:
    """Underwater promotion rings: one finding per (brand, intermediary or direct account).

    Members = authors of the linked brand notes.  Score = 1 - 0.5^notes for
    intermediary rings (each further undisclosed brand note halves the doubt),
    and 0.9 at least when an order names the note itself.  Evidence: order
    ids, note ids, the brand id, the intermediary id.
    Time O(links log links) after :func:`underwater_links`.
    """
    links = underwater_links(notes, orders, intermediary_accounts, params)
    out: list[ClusterFinding] = []
    if links.empty:
        return out
    key_int = links["intermediary_id"].fillna("").astype(str)
    key = np.where(key_int != "", "i\x1f" + key_int, "a\x1f" + links["account_id"])
    for (brand, k), grp in links.groupby([links["brand_id"], key], sort=True):
        accs = sorted(set(grp["account_id"]))
        order_ids = sorted(set(grp["order_id"].astype(str)))
        note_ids = sorted(set(grp["note_id"]))
        inter = k[2:] if k.startswith("i\x1f") else ""
        t0, t1 = grp["posted_at"].min(), grp["posted_at"].max()
        who = f"managed by intermediary {inter}" if inter else "paid directly"
        start, end = iso_utc(t0, missing=""), iso_utc(t1, missing="")
        text = (
            f"{len(accs)} accounts {who} posted {len(note_ids)} notes promoting brand {brand} without a "
            f"commercial declaration, while undeclared orders {', '.join(order_ids[:10])}"
            f"{' ...' if len(order_ids) > 10 else ''} from that brand were placed "
            f"{'with ' + inter if inter else 'with them'} (notes posted {start} to {end})."
        )
        ev = [Evidence("order", tuple(order_ids[: params.max_evidence])),
              Evidence("note", tuple(note_ids[: params.max_evidence])),
              Evidence("brand", (str(brand),))]
        if inter:
            ev.append(Evidence("intermediary", (inter,)))
        if pd.notna(t0):
            ev.append(Evidence("time_window", (start, end)))
        score = 1 - 0.5 ** len(note_ids)
        if grp["direct"].any():
            score = max(score, 0.9)
        per_acc = grp.groupby("account_id")["note_id"].nunique()
        member_scores = {a: round(score * (0.5 + 0.5 * per_acc[a] / per_acc.max()), 6) for a in accs}
        out.append(ClusterFinding(DETECTOR, tuple(accs), round(float(score), 6),
                                  (Reason("underwater_order", text, tuple(ev)),), member_scores))
    return sorted(out, key=lambda f: (-f.score, f.members))


@dataclass(frozen=True)
class FlaggedIntermediaryParams:
    """``min_flagged``/``min_fraction``: flagged accounts an intermediary must
    manage, in number and as a share of all it manages; ``max_evidence``:
    account ids cited per reason."""

    min_flagged: int = 3
    min_fraction: float = 0.3
    max_evidence: int = 2000


def detect_flagged_intermediaries(
    intermediary_accounts: pd.DataFrame,
    flagged_accounts: Iterable[str],
    params: FlaggedIntermediaryParams = FlaggedIntermediaryParams(),
) -> list[ClusterFinding]:
    """Intermediaries that manage many accounts other detectors flagged.

    One finding per intermediary with >= ``min_flagged`` flagged accounts
    making up >= ``min_fraction`` of all accounts it manages (``params``); it
    runs after the other detectors, over the accounts they flagged.  Members = its
    flagged accounts (the unflagged ones are named in the reason only).
    Score = (k + 1) / (n + 2) (Laplace-smoothed flagged share, k flagged of n
    managed).  Time O(E) for E intermediary-account rows.
    """
    flagged = {str(a) for a in flagged_accounts}
    out: list[ClusterFinding] = []
    if intermediary_accounts is None or intermediary_accounts.empty or not flagged:
        return out
    ia = intermediary_accounts[["intermediary_id", "account_id"]].astype(str).drop_duplicates()
    ia = ia.assign(flag=ia["account_id"].isin(flagged))
    for inter, grp in ia.groupby("intermediary_id", sort=True):
        n = len(grp)
        fl = sorted(grp.loc[grp["flag"], "account_id"])
        k = len(fl)
        if k < params.min_flagged or k / n < params.min_fraction:
            continue
        score = (k + 1) / (n + 2)
        reason = Reason(
            "intermediary_flagged_accounts",
            f"Intermediary {inter} manages {n} accounts, {k} of which ({k / n:.0%}) are already flagged "
            f"by other detectors.",
            (Evidence("intermediary", (inter,)), Evidence("account", tuple(fl[:params.max_evidence]))),
        )
        out.append(ClusterFinding(DETECTOR_INTERMEDIARY, tuple(fl), round(score, 6), (reason,)))
    return sorted(out, key=lambda f: (-f.score, f.members))
