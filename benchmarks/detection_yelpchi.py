"""FRAUDAR-style farm injection into YelpChi: our lockstep/templates detectors beside FRAUDAR.

Background: YelpChi (Rayana & Akoglu, KDD 2015; research use only) as
accounts x notes, a note being a product x ISO week (see
``ingest.converters.yelpchi``).  Farms are planted as in FRAUDAR (Hooi, Song,
Beutel, Shah, Shin, Faloutsos, "FRAUDAR: Bounding Graph Fraud in the Face of
Camouflage", KDD 2016, section 5 / ``injectCliqueCamo``): m accounts x n
notes, each edge present with probability p, plus

* random camouflage: each fraud account also comments on random other notes
  with probability ``p * n / (N - n)`` (about as many camouflage edges as
  fraud edges; FRAUDAR's ``testIdx = 1``);
* biased camouflage: each fraud account adds ``int(n * p)`` camouflage
  comments on notes drawn with probability proportional to their degree
  (popular notes; FRAUDAR's ``testIdx = 3``);

on new accounts or on hijacked existing accounts (m existing YelpChi users,
whose own reviews stay).  The injector is our own (rgmining-fraudar's
biased-camouflage injector crashes on Python 3.11).

Time is part of the planting: every target note gets a burst start drawn
uniformly in its week, and each planted comment lands uniformly within
``burst_span`` (30 min by default) after it; camouflage comments get a uniform
time in their note's week.  FRAUDAR does not use time: both methods run on the
same graphs, but ours sees the timestamps.

FRAUDAR itself is ``fraudar.logWeightedAveDegree`` (rgmining-fraudar 0.7.6,
the authors' greedy peeling with log-weighted columns) on the same binary
account x note matrix; its flagged accounts are the rows of the densest block.
Ours = the union of members of :func:`detection.lockstep.detect_lockstep` and
:func:`detection.templates.detect_templates` findings (YelpChi has no texts, so
templates never fire there).

Run: ``python -m benchmarks.detection_yelpchi [--seeds 5] [--jobs 2]``; writes
``benchmarks/results/detection_yelpchi.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import platform
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from detection.lockstep import LockstepParams, detect_lockstep
from detection.templates import detect_templates
from ingest.converters.yelpchi import yelpchi_frames

SRC = Path("/work/shared/data/external/yelpchi/reviews.txt.gz")
OUT = Path(__file__).resolve().parent / "results" / "detection_yelpchi.md"
WEEK = pd.Timedelta(days=7)

_BACKGROUND: pd.DataFrame | None = None


def background(src: Path = SRC) -> pd.DataFrame:
    """YelpChi reviews as comments plus a ``week_start`` column (the note's week). O(R)."""
    global _BACKGROUND
    if _BACKGROUND is None:
        fr = yelpchi_frames(src)
        c = fr["comments"].merge(
            fr["notes"][["note_id", "posted_at"]].rename(columns={"posted_at": "week_start"}), on="note_id"
        )
        _BACKGROUND = c.sort_values("comment_id").reset_index(drop=True)
    return _BACKGROUND


def inject_farm(
    bg: pd.DataFrame,
    m: int,
    n: int,
    p: float,
    camo: str,
    hijack: bool,
    seed: int,
    burst_span: pd.Timedelta = pd.Timedelta(minutes=30),
) -> tuple[pd.DataFrame, set[str]]:
    """Plant one m x n farm at density p with camouflage (``none``/``random``/``biased``).

    Returns (comments with the planted rows appended, planted account ids).
    Follows Hooi et al. KDD 2016's ``injectCliqueCamo`` with timestamps added
    (see the module docstring).  O(R + m * N) for R background rows, N notes.
    """
    rng = np.random.default_rng(seed)
    notes = bg.drop_duplicates("note_id")[["note_id", "week_start"]].sort_values("note_id").reset_index(drop=True)
    deg = bg.groupby("note_id").size().reindex(notes["note_id"]).to_numpy()
    N = len(notes)
    targets = np.sort(rng.choice(N, size=n, replace=False))
    others = np.setdiff1d(np.arange(N), targets)
    if hijack:
        users = np.array(sorted(bg["account_id"].unique()))
        accounts = np.sort(rng.choice(users, size=m, replace=False))
    else:
        accounts = np.array([f"farm_{seed}_{i:04d}" for i in range(m)])
    week = notes["week_start"].dt.tz_convert(None).dt.as_unit("ns").to_numpy().astype(np.int64)
    burst_start = week[targets] + rng.integers(0, WEEK.value - burst_span.value, size=n)
    rows_acc, rows_note, rows_t = [], [], []
    pop_p = deg[others] / deg[others].sum()
    for i, acc in enumerate(accounts):
        hit = np.flatnonzero(rng.random(n) < p)
        rows_acc += [acc] * len(hit)
        rows_note += list(targets[hit])
        rows_t += list(burst_start[hit] + rng.integers(0, burst_span.value, size=len(hit)))
        if camo == "random":
            thres = p * n / (N - n)
            cam = others[rng.random(len(others)) < thres]
        elif camo == "biased":
            k = int(n * p)
            cam = np.unique(rng.choice(others, size=k, replace=True, p=pop_p)) if k else np.empty(0, int)
        else:
            cam = np.empty(0, int)
        rows_acc += [acc] * len(cam)
        rows_note += list(cam)
        rows_t += list(week[cam] + rng.integers(0, WEEK.value, size=len(cam)))
    planted = pd.DataFrame(
        {
            "comment_id": [f"plant_{seed}_{k}" for k in range(len(rows_acc))],
            "account_id": rows_acc,
            "note_id": notes["note_id"].to_numpy()[np.asarray(rows_note, dtype=int)] if rows_note else [],
            "created_at": pd.to_datetime(np.asarray(rows_t, dtype=np.int64), utc=True),
            "text": "",
            "week_start": notes["week_start"].to_numpy()[np.asarray(rows_note, dtype=int)] if rows_note else [],
        }
    )
    out = pd.concat([bg, planted], ignore_index=True)
    return out, set(accounts.tolist())


def run_fraudar(comments: pd.DataFrame) -> set[str]:
    """Accounts in FRAUDAR's densest block (log-weighted columns) of the account x note matrix."""
    from fraudar import logWeightedAveDegree

    a, au = pd.factorize(comments["account_id"], sort=True)
    nn, nu = pd.factorize(comments["note_id"], sort=True)
    M = sparse.csc_matrix((np.ones(len(a)), (a, nn)), shape=(len(au), len(nu)))
    M = (M > 0).astype(int)
    with contextlib.redirect_stdout(io.StringIO()):
        (rows, _cols), _score = logWeightedAveDegree(M)
    return {au[i] for i in rows}


def run_ours(comments: pd.DataFrame, params: LockstepParams = LockstepParams()) -> set[str]:
    """Members of all lockstep and template findings."""
    flagged: set[str] = set()
    for f in detect_lockstep(comments, params):
        flagged.update(f.members)
    for f in detect_templates(comments):
        flagged.update(f.members)
    return flagged


def f1(flagged: set[str], truth: set[str]) -> tuple[float, float, float]:
    """(precision, recall, F1) of flagged accounts against planted accounts."""
    tp = len(flagged & truth)
    prec = tp / len(flagged) if flagged else 0.0
    rec = tp / len(truth) if truth else 0.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def _one(job: tuple) -> dict:
    m, n, p, camo, hijack, seed, span_min = job
    bg = background()
    comments, truth = inject_farm(bg, m, n, p, camo, hijack, seed, pd.Timedelta(minutes=span_min))
    t0 = time.perf_counter()
    ours = run_ours(comments)
    t1 = time.perf_counter()
    fr = run_fraudar(comments)
    t2 = time.perf_counter()
    po, ro, fo = f1(ours, truth)
    pf, rf, ff = f1(fr, truth)
    return dict(m=m, n=n, p=p, camo=camo, hijack=hijack, seed=seed, span=span_min,
                ours_p=po, ours_r=ro, ours_f1=fo, fr_p=pf, fr_r=rf, fr_f1=ff,
                ours_s=t1 - t0, fr_s=t2 - t1, ours_n=len(ours), fr_n=len(fr))


def machine() -> str:
    """nproc, CPU model, RAM and date, for the results header."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines()
                          if l.startswith("MemTotal")).split()[1])
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        ram = "unknown"
    return (f"nproc {os.cpu_count()}, CPU {cpu}, RAM {ram}, Python {platform.python_version()}, "
            f"date {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    start = time.perf_counter()

    bg = background()
    t0 = time.perf_counter()
    ours_bg = run_ours(bg)
    t1 = time.perf_counter()
    fr_bg = run_fraudar(bg)
    t2 = time.perf_counter()
    n_users = bg["account_id"].nunique()
    filtered = set(yelpchi_frames(SRC)["labels"].query("is_fake")["account_id"])

    sizes = [(200, 200), (50, 50), (20, 20)]
    ps = [0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
    jobs = [(m, n, p, camo, hijack, seed, 30)
            for (m, n) in sizes for p in ps for camo in ("random", "biased")
            for hijack in (False, True) for seed in range(args.seeds)]
    # sensitivity: staggered farms (2 h bursts) and no time coordination at all (a week)
    jobs += [(m, n, p, "random", False, seed, span)
             for span in (120, 7 * 24 * 60 - 1) for (m, n) in [(200, 200), (50, 50)]
             for p in (0.2, 0.1, 0.05) for seed in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        res = pd.DataFrame(list(ex.map(_one, jobs, chunksize=4)))
    total = time.perf_counter() - start
    write_report(args.out, res, ours_bg, fr_bg, n_users, filtered, t1 - t0, t2 - t1, total, args)
    print(f"wrote {args.out} in {total:.0f} s")


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def write_report(out: Path, res: pd.DataFrame, ours_bg: set[str], fr_bg: set[str], n_users: int,
                 filtered: set[str], t_ours: float, t_fr: float, total: float, args) -> None:
    """Markdown tables of mean F1 (ours beside FRAUDAR) and the background flag rate."""
    main_res = res[res["span"] == 30]
    lines = [
        "# Lockstep detector vs FRAUDAR on YelpChi with planted farms",
        "",
        f"Machine: {machine()}.",
        f"Command: `python -m benchmarks.detection_yelpchi --seeds {args.seeds} --jobs {args.jobs}`; "
        f"whole run {total:.0f} s.",
        "",
        "Data: YelpChi review metadata (Rayana & Akoglu, KDD 2015; research use only), 67,395 reviews by "
        "38,063 users; a note = product x ISO week (26,624 notes). Farms planted as in FRAUDAR (Hooi et al., "
        "KDD 2016): m x n block at density p, random or biased camouflage, new or hijacked accounts; "
        "own injector (see `benchmarks/detection_yelpchi.py`).",
        "",
        "**Time is part of the planting.** Each target note gets one burst; planted comments on it fall "
        "uniformly within 30 minutes; camouflage comments fall uniformly in their note's week; YelpChi's own "
        "reviews are at day resolution (00:00). FRAUDAR does not use time: the comparison is on the same graphs, "
        "but our method sees the timestamps, which is exactly the signal it relies on. The sensitivity table "
        "below shows what happens when farms spread their comments over 2 hours or a whole week.",
        "",
        "Ours = union of `detect_lockstep` (default `LockstepParams`: window 15 min, strong pairs support >= 3, "
        "core pairs support >= 2 in a 3-core, sync ratio >= 0.5) and `detect_templates` findings (YelpChi has "
        "no texts, so only lockstep fires). FRAUDAR = `fraudar.logWeightedAveDegree` from rgmining-fraudar 0.7.6 "
        "(the authors' greedy code), flagged = rows of its densest block. Scores: precision / recall / F1 of "
        "flagged accounts against planted accounts, mean over seeds.",
        "",
        "## With nothing planted (false-positive control)",
        "",
        "| method | accounts flagged | fraction of 38,063 users | of which Yelp-filtered | time |",
        "|---|---|---|---|---|",
        f"| ours | {len(ours_bg)} | {len(ours_bg) / n_users:.4%} | {len(ours_bg & filtered)} | {t_ours:.2f} s |",
        f"| FRAUDAR | {len(fr_bg)} | {len(fr_bg) / n_users:.2%} | {len(fr_bg & filtered)} | {t_fr:.2f} s |",
        "",
        "FRAUDAR always returns a densest block; on clean YelpChi that block is genuine heavy co-reviewers. "
        "Ours flags only account pairs that reviewed >= 3 products of one week on the same day (or a 3-core "
        "of pairs with 2 such days).",
        "",
        f"## F1 by block size and density ({args.seeds} seeds, burst span 30 min)",
        "",
    ]
    g = main_res.groupby(["m", "n", "p", "camo", "hijack"], sort=False)
    agg = g[["ours_p", "ours_r", "ours_f1", "fr_p", "fr_r", "fr_f1", "ours_s", "fr_s"]].mean().reset_index()
    lines += [
        "| block | p | camouflage | accounts | ours P / R / **F1** | FRAUDAR P / R / **F1** |",
        "|---|---|---|---|---|---|",
    ]
    for r in agg.itertuples(index=False):
        lines.append(
            f"| {r.m}x{r.n} | {r.p} | {r.camo} | {'hijacked' if r.hijack else 'new'} | "
            f"{_fmt(r.ours_p)} / {_fmt(r.ours_r)} / **{_fmt(r.ours_f1)}** | "
            f"{_fmt(r.fr_p)} / {_fmt(r.fr_r)} / **{_fmt(r.fr_f1)}** |"
        )
    summ = main_res.groupby(["m", "n", "p"], sort=False)[["ours_f1", "fr_f1"]].mean().reset_index()
    lines += ["", "## Summary: mean F1 over camouflage and account kinds", "",
              "| block | p | ours F1 | FRAUDAR F1 |", "|---|---|---|---|"]
    for r in summ.itertuples(index=False):
        lines.append(f"| {r.m}x{r.n} | {r.p} | {_fmt(r.ours_f1)} | {_fmt(r.fr_f1)} |")
    sens = res[res["span"] != 30]
    if len(sens):
        s = sens.groupby(["span", "m", "n", "p"], sort=False)[["ours_f1", "fr_f1"]].mean().reset_index()
        lines += ["", "## Sensitivity: farms that do not post in tight bursts (new accounts, random camouflage)", "",
                  "| burst span | block | p | ours F1 | FRAUDAR F1 |", "|---|---|---|---|---|"]
        for r in s.itertuples(index=False):
            span = "2 h" if r.span == 120 else ("a week (no time signal)" if r.span > 1000 else f"{r.span} min")
            lines.append(f"| {span} | {r.m}x{r.n} | {r.p} | {_fmt(r.ours_f1)} | {_fmt(r.fr_f1)} |")
    lines += ["", "## Timings per run (mean)", "",
              f"ours {res['ours_s'].mean():.2f} s (max {res['ours_s'].max():.2f} s), "
              f"FRAUDAR {res['fr_s'].mean():.2f} s (max {res['fr_s'].max():.2f} s), "
              f"{len(res)} runs on {args.jobs} processes.", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res.to_csv(out.with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
