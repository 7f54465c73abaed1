"""Busy is not coordinated: prolific honest accounts added to YelpChi, and what ringscope flags.

Issue #13 item 5.  A platform has accounts that are simply very active: a
program posting around the clock, genuine heavy commenters who sleep at
night, accounts posting on a fixed hourly schedule by day.  Each picks its
notes on its own (uniformly, or by popularity), but they are all active in the
same weeks, so together they touch almost every note of those weeks: an
account x note matrix with a dense block that no one coordinated.

:func:`inject_prolific` adds such accounts to YelpChi (Rayana & Akoglu, KDD
2015; a note = product x ISO week, so a comment on a note falls in its week)
over ``weeks`` consecutive busy weeks; :func:`inject_farm` of
``benchmarks.detection_yelpchi`` can plant a FRAUDAR-style farm beside them,
with its targets in the same weeks (``--farm-in-window``) so that the
prolific accounts are the farm's camouflage, the hardest case for a null model
that holds activity over time.

What is measured, through the product path (``run_methods``: the comment
detectors with the shipped policy, the accounts whose risk reaches the flag
threshold, as ``ringscope flagged`` prints them):

* prolific accounts flagged (goal <= 1 %), per kind;
* ordinary YelpChi users flagged (goal 0: never pulled into a block by them);
* with a farm planted: the farm's precision / recall / F1.

Run: ``python -m benchmarks.detection_prolific [--seeds 3]``; writes
``benchmarks/results/detection_prolific.md``.  ``--sweep-check CSV`` instead
runs a subset of the planted-farm sweep of ``benchmarks.detection_yelpchi``
(no prolific accounts; day resolution, both camouflages, new and hijacked
accounts, 2 seeds) and writes its rows to CSV, to compare the detector
before and after a change.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.detection_yelpchi import background, f1, inject_farm, machine, run_methods

OUT = Path(__file__).resolve().parent / "results" / "detection_prolific.md"
DAY = pd.Timedelta(days=1).value
HOUR = pd.Timedelta(hours=1).value
MINUTE = pd.Timedelta(minutes=1).value

#: kind -> (comments per day, how the hours are chosen, how the notes are chosen)
KINDS = {
    "program": (36, "around the clock", "uniform"),
    "heavy": (20, "08:00-23:00", "popular"),
    "scheduled": (10, "on the hour 09:00-18:00", "uniform"),
}


def busiest_window(bg: pd.DataFrame, weeks: int) -> pd.Timestamp:
    """Start of the ``weeks`` consecutive weeks with the most YelpChi reviews."""
    per_week = bg.groupby("week_start").size().sort_index()
    full = per_week.reindex(pd.date_range(per_week.index.min(), per_week.index.max(), freq="7D"), fill_value=0)
    rolled = full.rolling(weeks).sum()
    end = rolled.idxmax()
    return end - pd.Timedelta(days=7 * (weeks - 1))


def inject_prolific(bg: pd.DataFrame, per_kind: int, weeks: int, seed: int,
                    start: pd.Timestamp | None = None) -> tuple[pd.DataFrame, dict[str, set[str]], pd.Timestamp]:
    """Add ``per_kind`` accounts of each kind in :data:`KINDS`, active every day of ``weeks`` weeks.

    Every comment goes to a note of the comment's own week, chosen uniformly
    or in proportion to the note's YelpChi reviews plus one; independently for
    every account and comment (no coordination).  Returns (comments with the
    new rows, ids per kind, window start).  O(R + comments added).
    """
    rng = np.random.default_rng(10_000 + seed)
    start = start if start is not None else busiest_window(bg, weeks)
    notes = bg.groupby(["note_id", "week_start"]).size().rename("deg").reset_index()
    pools = {week: pool for week, pool in notes.groupby("week_start")}  # the notes of each week, once
    rows_acc, rows_note, rows_t = [], [], []
    ids: dict[str, set[str]] = {}
    for kind, (per_day, _hours, choose) in KINDS.items():
        ids[kind] = set()
        for i in range(per_kind):
            acc = f"busy_{kind}_{seed}_{i:03d}"
            ids[kind].add(acc)
            for d in range(7 * weeks):
                day = start + pd.Timedelta(days=d)
                week = start + pd.Timedelta(days=7 * (d // 7))
                pool = pools.get(week)
                if pool is None:
                    continue
                if kind == "program":
                    t = rng.integers(0, DAY, size=per_day)
                elif kind == "heavy":
                    t = rng.integers(8 * HOUR, 23 * HOUR, size=per_day)
                else:
                    t = (9 + np.arange(per_day)) * HOUR + rng.integers(0, 2, size=per_day) * MINUTE
                t = (t // MINUTE) * MINUTE
                if choose == "popular":
                    p = (pool["deg"].to_numpy() + 1.0)
                    pick = rng.choice(len(pool), size=per_day, p=p / p.sum())
                else:
                    pick = rng.integers(0, len(pool), size=per_day)
                rows_acc += [acc] * per_day
                rows_note += pool["note_id"].to_numpy()[pick].tolist()
                rows_t += (day.value + t).tolist()
    note_week = notes.set_index("note_id")["week_start"]
    added = pd.DataFrame({
        "comment_id": [f"busy_{seed}_{k}" for k in range(len(rows_acc))],
        "account_id": rows_acc,
        "note_id": rows_note,
        "created_at": pd.to_datetime(np.asarray(rows_t, dtype=np.int64), utc=True),
        "text": "",
    })
    added["week_start"] = note_week.reindex(added["note_id"]).to_numpy()
    return pd.concat([bg, added], ignore_index=True), ids, start


def farm_in_window(bg: pd.DataFrame, start: pd.Timestamp, weeks: int, m: int, n: int, p: float,
                   seed: int) -> tuple[pd.DataFrame, set[str]]:
    """Planted rows of an m x n farm at density p (random camouflage, new accounts) whose target and
    camouflage notes are all notes of the prolific accounts' weeks. O(R)."""
    end = start + pd.Timedelta(days=7 * weeks)
    window = bg[(bg["week_start"] >= start) & (bg["week_start"] < end)]
    out, truth = inject_farm(window, m, n, p, "random", False, seed)
    return out.iloc[len(window):], truth


def measure(per_kind: int, weeks: int, seed: int, farm: tuple[int, int, float] | None) -> dict:
    """One graph: YelpChi + prolific accounts (+ a farm in their weeks); what the product flags."""
    bg = background()
    comments, ids, start = inject_prolific(bg, per_kind, weeks, seed)
    truth: set[str] = set()
    if farm:
        planted, truth = farm_in_window(bg, start, weeks, *farm, seed)
        comments = pd.concat([comments, planted], ignore_index=True)
    t0 = time.perf_counter()
    flagged = run_methods(comments)["ours"][0]
    secs = time.perf_counter() - t0
    busy = set().union(*ids.values())
    row = {"seed": seed, "farm": "x".join(map(str, farm[:2])) + f" p={farm[2]}" if farm else "none",
           "seconds": secs, "ordinary": len(flagged - busy - truth), "busy": len(flagged & busy),
           "busy_total": len(busy)}
    for kind, members in ids.items():
        row[kind] = len(flagged & members)
    if farm:
        row["farm_p"], row["farm_r"], row["farm_f1"] = f1(flagged, truth)
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--per-kind", type=int, default=12, help="prolific accounts of each kind")
    ap.add_argument("--weeks", type=int, default=6)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--sweep-check", type=Path, help="run the planted-farm sweep subset into this CSV instead")
    args = ap.parse_args(argv)
    if args.sweep_check:
        sweep_check(args.sweep_check)
        return
    t0 = time.time()
    farms = [None, (50, 50, 0.1), (200, 200, 0.02), (200, 200, 0.05)]
    rows = [measure(args.per_kind, args.weeks, s, f) for f in farms for s in range(args.seeds)]
    res = pd.DataFrame(rows)
    write_report(args.out, res, args, time.time() - t0)
    print(res.to_string())


SWEEP_ROWS = [(200, 200, 0.01), (200, 200, 0.02), (200, 200, 0.05), (50, 50, 0.05), (50, 50, 0.1),
              (20, 20, 0.1), (20, 20, 0.2)]


def _sweep_one(job: tuple) -> tuple:
    m, n, p, camo, hijack, seed = job
    comments, truth = inject_farm(background(), m, n, p, camo, hijack, seed, pd.Timedelta(minutes=30), "day")
    flagged = run_methods(comments)["ours"][0]
    return (m, n, p, camo, hijack, seed) + f1(flagged, truth) + (len(flagged),)


def sweep_check(out: Path) -> None:
    """The sweep subset: :data:`SWEEP_ROWS` x camouflage x account kind x 2 seeds, day resolution, on two
    processes; rows to ``out`` and the mean per row printed."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(m, n, p, camo, hij, seed) for (m, n, p) in SWEEP_ROWS for camo in ("random", "biased")
            for hij in (False, True) for seed in range(2)]
    with ProcessPoolExecutor(2) as ex:
        rows = list(ex.map(_sweep_one, jobs))
    res = pd.DataFrame(rows, columns=["m", "n", "p", "camo", "hijack", "seed", "precision", "recall", "f1", "flagged"])
    res.to_csv(out, index=False)
    print(res.groupby(["m", "n", "p"])[["precision", "recall", "f1"]].mean().round(3))


def write_report(out: Path, res: pd.DataFrame, args, secs: float) -> None:
    bg = background()
    start = busiest_window(bg, args.weeks)
    lines = [
        "# Busy is not coordinated: prolific honest accounts in YelpChi",
        "",
        f"Machine: {machine()}.",
        f"Command: `python -m benchmarks.detection_prolific --seeds {args.seeds} --per-kind {args.per_kind} "
        f"--weeks {args.weeks}`; whole run {secs:.0f} s.",
        "",
        f"Data: YelpChi (67,395 reviews, 38,063 users; a note = product x ISO week) plus {args.per_kind} accounts "
        f"of each kind below, active every day of the {args.weeks} busiest weeks (from {start:%Y-%m-%d}), each "
        "picking its notes on its own among the notes of the comment's week:",
        "",
        "| kind | comments a day | when | which notes |",
        "|---|---:|---|---|",
    ]
    for kind, (per_day, hours, choose) in KINDS.items():
        lines.append(f"| {kind} | {per_day} | {hours} | {choose if choose == 'uniform' else 'in proportion to reviews + 1'} |")
    lines += [
        "",
        "Flagged = what `ringscope flagged` would print: the comment detectors (lockstep, templates, lures, Q&A acts, "
        "dense blocks) with `policy/detection.yaml`, risk >= its flag threshold. Farms: FRAUDAR-style m x n at density "
        "p, random camouflage, new accounts, targets and camouflage among the notes of the same weeks (the prolific "
        "accounts are all around them). Ordinary = YelpChi users flagged (goal 0); prolific goal <= 1 %.",
        "",
        "| farm | seed | prolific flagged | " + " | ".join(KINDS) + " | ordinary flagged | farm P / R / F1 | seconds |",
        "|---|---:|---:|" + "---:|" * len(KINDS) + "---:|---|---:|",
    ]
    for r in res.itertuples():
        prf = f"{r.farm_p:.2f} / {r.farm_r:.2f} / {r.farm_f1:.2f}" if r.farm != "none" else "-"
        lines.append(f"| {r.farm} | {r.seed} | {r.busy} of {r.busy_total} | "
                     + " | ".join(str(getattr(r, k)) for k in KINDS) + f" | {r.ordinary} | {prf} | {r.seconds:.1f} |")
    tot = res["busy"].sum() / max(res["busy_total"].sum(), 1)
    lines += ["", f"Prolific accounts flagged over all graphs: {res['busy'].sum()} of {res['busy_total'].sum()} "
              f"({100 * tot:.2f} %); ordinary users flagged: {res['ordinary'].sum()}.", ""]
    out.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
