"""FRAUDAR-style farm injection into YelpChi: our lockstep, comment-text and dense-block detectors beside FRAUDAR.

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
Ours = what ``ringscope flagged`` would print from the comment detectors
:func:`detection.lockstep.detect_lockstep`,
the comment-text detectors :func:`detection.comment_templates.detect_comment_templates`,
:func:`detection.offplatform_lures.detect_offplatform_lures` and
:func:`detection.qa_acts.detect_qa_acts` (YelpChi has no texts, so they never
fire there) and :func:`detection.dense_blocks.detect_dense_blocks`
run with the detection policy's parameters: accounts whose noisy-OR risk
reaches the policy's flag threshold.  ``ours_any`` (members of any of their
clusters, what an investigator sees in the cluster list, flagged or not) and
each detector's own clusters are reported too.

YelpChi's own reviews are at day resolution (00:00) while planted comments get
minute times, an artefact a time-aware detector could exploit ("not at
midnight").  ``--planted-resolution day`` rounds planted comment times down to
the day, so planted and genuine comments look alike in time; ``both`` (the
default) runs every graph at both resolutions.  The notes, hence the graph
FRAUDAR sees, are the same at both resolutions, so FRAUDAR runs once per graph.

Run: ``python -m benchmarks.detection_yelpchi [--seeds 5] [--jobs 2]
[--planted-resolution both|minute|day] [--scale-rows 3000000]``; writes
``benchmarks/results/detection_yelpchi.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import io
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from ringscope.detection.config import DetectionPolicy, load_detection_policy
from ringscope.detection.dense_blocks import DenseBlockParams, detect_dense_blocks
from ringscope.detection.params import params_from_policy
from ringscope.detection.pipeline import DETECTORS, DetectorResult, account_risks, flagged_ids
from ringscope.detection.frames import PlatformFrames
from ringscope.ingest.converters.yelpchi import yelpchi_frames

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
    resolution: str = "minute",
) -> tuple[pd.DataFrame, set[str]]:
    """Plant one m x n farm at density p with camouflage (``none``/``random``/``biased``).

    ``resolution="day"`` rounds the planted comments' times down to the day
    (00:00 UTC), like YelpChi's own reviews; the notes do not change.

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
    if resolution == "day":
        planted["created_at"] = planted["created_at"].dt.floor("D")
    elif resolution != "minute":
        raise ValueError(f"resolution {resolution!r}: minute or day")
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


# The detectors that look at comments only, in pipeline order.
COMMENT_DETECTORS = ("lockstep", "comment_template", "offplatform_lure", "qa_act", "dense_blocks")


def run_methods(comments: pd.DataFrame, policy: DetectionPolicy | None = None) -> dict[str, tuple[set[str], float]]:
    """Flagged accounts and seconds per method.

    ``lockstep``, the comment-text detectors, ``dense_blocks``: members of the detector's
    clusters (parameters from the detection policy, as ``ringscope detect``
    runs them).  ``ours_any``: members of any of their clusters.  ``ours``:
    what ``ringscope flagged`` would print - accounts whose combined risk
    (:func:`detection.scoring.combine`, the policy's weights) reaches the
    policy's ``flag_threshold``.
    """
    policy = policy or load_detection_policy()
    out: dict[str, tuple[set[str], float]] = {}
    results: list[DetectorResult] = []
    for name in COMMENT_DETECTORS:
        t0 = time.perf_counter()
        params = params_from_policy(DETECTORS[name].params, name, policy.detectors[name].params)
        findings = DETECTORS[name].adapter(PlatformFrames.comments_only(comments), params)
        secs = time.perf_counter() - t0
        results.append(DetectorResult(name, findings, secs))
        out[name] = (set().union(*(f.members for f in findings)) if findings else set(), secs)
    total = sum(r.seconds for r in results)
    out["ours_any"] = (set().union(*(out[r.name][0] for r in results)), total)
    out["ours"] = (flagged_ids(account_risks(results, policy, PlatformFrames.comments_only(comments)), policy), total)
    return out


def run_ours(comments: pd.DataFrame) -> set[str]:
    """Accounts ringscope would flag from the comment detectors alone."""
    return run_methods(comments)["ours"][0]


def f1(flagged: set[str], truth: set[str]) -> tuple[float, float, float]:
    """(precision, recall, F1) of flagged accounts against planted accounts."""
    tp = len(flagged & truth)
    prec = tp / len(flagged) if flagged else 0.0
    rec = tp / len(truth) if truth else 0.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


METHODS = {"ours": "ours", "ours_any": "any", "lockstep": "ls", "dense_blocks": "db"}


def _one(job: tuple) -> list[dict]:
    """One planted graph: FRAUDAR once, our methods at each planted resolution."""
    m, n, p, camo, hijack, seed, span_min, resolutions = job
    bg = background()
    rows = []
    fr = None
    for res in resolutions:
        comments, truth = inject_farm(bg, m, n, p, camo, hijack, seed, pd.Timedelta(minutes=span_min), res)
        if fr is None:  # same notes at every resolution: FRAUDAR's graph does not change
            t0 = time.perf_counter()
            fr = run_fraudar(comments)
            fr_s = time.perf_counter() - t0
            pf, rf, ff = f1(fr, truth)
        row = dict(m=m, n=n, p=p, camo=camo, hijack=hijack, seed=seed, span=span_min, res=res,
                   fr_p=pf, fr_r=rf, fr_f1=ff, fr_s=fr_s, fr_n=len(fr))
        for name, (flagged, secs) in run_methods(comments).items():
            if name not in METHODS:
                continue
            key = METHODS[name]
            pp, rr, ffv = f1(flagged, truth)
            row.update({f"{key}_p": pp, f"{key}_r": rr, f"{key}_f1": ffv, f"{key}_s": secs, f"{key}_n": len(flagged)})
        rows.append(row)
    return rows


def scale_timing(rows: int) -> dict:
    """:func:`detect_dense_blocks` on YelpChi tiled to about ``rows`` comments.

    Copies of YelpChi with disjoint accounts, notes and comment ids (suffix
    ``_i``), plus one 200 x 200 farm at p = 0.02 (random camouflage, day
    resolution) planted into copy j for every million comments.  Returns
    sizes, seconds, and precision/recall of the farms.
    """
    bg = background()
    k = max(1, int(np.ceil(rows / len(bg))))
    cols = ["comment_id", "account_id", "note_id", "created_at"]
    parts = []
    for i in range(k):
        c = bg[cols].copy()
        for col in ("comment_id", "account_id", "note_id"):
            c[col] = c[col] + f"_{i}"
        parts.append(c)
    truth: set[str] = set()
    for j in range(max(1, rows // 1_000_000)):
        planted, t = inject_farm(bg, 200, 200, 0.02, "random", False, 1000 + j, resolution="day")
        planted = planted.iloc[len(bg):][cols].copy()
        for col in ("comment_id", "account_id", "note_id"):
            planted[col] = planted[col] + f"_{j}"
        truth |= {a + f"_{j}" for a in t}
        parts.append(planted)
    big = pd.concat(parts, ignore_index=True)
    t0 = time.perf_counter()
    found = detect_dense_blocks(big)
    secs = time.perf_counter() - t0
    flagged = set().union(*(f.members for f in found)) if found else set()
    pr, rc, ff = f1(flagged, truth)
    return dict(comments=len(big), accounts=big["account_id"].nunique(), notes=big["note_id"].nunique(),
                farms=max(1, rows // 1_000_000), seconds=secs, findings=len(found), flagged=len(flagged),
                precision=pr, recall=rc, f1=ff)


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
    ap.add_argument("--planted-resolution", choices=("both", "minute", "day"), default="both",
                    help="planted comment times at minute resolution, rounded to the day, or both")
    ap.add_argument("--scale-rows", type=int, default=0,
                    help="also time detect_dense_blocks on YelpChi tiled to this many comments (0: skip)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if importlib.util.find_spec("fraudar") is None:
        raise SystemExit("this benchmark runs FRAUDAR (rgmining-fraudar), which `make setup` does not install: "
                         ".venv/bin/pip install -c constraints.txt -e '.[bench]'")
    start = time.perf_counter()
    resolutions = ("minute", "day") if args.planted_resolution == "both" else (args.planted_resolution,)

    bg = background()
    bg_methods = run_methods(bg)
    t0 = time.perf_counter()
    fr_bg = run_fraudar(bg)
    t_fr = time.perf_counter() - t0
    n_users = bg["account_id"].nunique()
    filtered = set(yelpchi_frames(SRC)["labels"].query("is_fake")["account_id"])

    sizes = [(200, 200), (50, 50), (20, 20)]
    ps = [0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
    jobs = [(m, n, p, camo, hijack, seed, 30, resolutions)
            for (m, n) in sizes for p in ps for camo in ("random", "biased")
            for hijack in (False, True) for seed in range(args.seeds)]
    # sensitivity: staggered farms (2 h bursts) and no time coordination at all (a week)
    jobs += [(m, n, p, "random", False, seed, span, resolutions)
             for span in (120, 7 * 24 * 60 - 1) for (m, n) in [(200, 200), (50, 50)]
             for p in (0.2, 0.1, 0.05) for seed in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        res = pd.DataFrame([r for rows in ex.map(_one, jobs, chunksize=2) for r in rows])
    scale = scale_timing(args.scale_rows) if args.scale_rows else None
    total = time.perf_counter() - start
    write_report(args.out, res, bg_methods, fr_bg, n_users, filtered, t_fr, total, args, scale)
    print(f"wrote {args.out} in {total:.0f} s")


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _mark(x: float, fraudar: float) -> str:
    """F1 in bold above FRAUDAR's, in italics below it (by more than 0.005)."""
    text = _fmt(x)
    if x > fraudar + 0.005:
        return f"**{text}**"
    if x < fraudar - 0.005:
        return f"_{text}_"
    return text


def _prf(r, key: str) -> str:
    return f"{_fmt(getattr(r, key + '_p'))} / {_fmt(getattr(r, key + '_r'))} / **{_fmt(getattr(r, key + '_f1'))}**"


def write_report(out: Path, res: pd.DataFrame, bg_methods: dict, fr_bg: set[str], n_users: int,
                 filtered: set[str], t_fr: float, total: float, args, scale: dict | None = None) -> None:
    """Markdown tables of mean F1 (ours and its parts beside FRAUDAR), the background flag rate, timings."""
    resolutions = [r for r in ("minute", "day") if r in set(res["res"])]
    main_res = res[res["span"] == 30]
    res_flag = "" if args.planted_resolution == "both" else f" --planted-resolution {args.planted_resolution}"
    scale_flag = f" --scale-rows {args.scale_rows}" if args.scale_rows else ""
    lines = [
        "# Dense blocks + lockstep vs FRAUDAR on YelpChi with planted farms",
        "",
        f"Machine: {machine()}.",
        f"Command: `python -m benchmarks.detection_yelpchi --seeds {args.seeds} --jobs {args.jobs}{res_flag}"
        f"{scale_flag}`; whole run {total:.0f} s.",
        "",
        "Data: YelpChi review metadata (Rayana & Akoglu, KDD 2015; research use only), 67,395 reviews by "
        "38,063 users; a note = product x ISO week (26,624 notes). Farms planted as in FRAUDAR (Hooi et al., "
        "KDD 2016): m x n block at density p, random or biased camouflage, new or hijacked accounts; "
        "own injector (see `benchmarks/detection_yelpchi.py`).",
        "",
        "**Time is part of the planting.** Each target note gets one burst; planted comments on it fall "
        "uniformly within 30 minutes; camouflage comments fall uniformly in their note's week. YelpChi's own "
        "reviews are at day resolution (00:00), so at *minute* resolution a planted comment is recognisable by "
        "its time of day alone - an artefact, not a signal. At *day* resolution planted comment times are rounded "
        "down to the day (`--planted-resolution day`) and look like YelpChi's: **the day-resolution numbers are "
        "the fair comparison** for anything that uses time. The notes (hence FRAUDAR's input and result) are "
        "the same at both resolutions.",
        "",
        "Methods. `lockstep` = `detect_lockstep` (default `LockstepParams`: pairs of accounts on the same notes "
        "within 15 min). `dense_blocks` = `detect_dense_blocks` (default `DenseBlockParams`: FRAUDAR-style "
        "greedy peeling of account x event (event = one note's burst of comments; with day timestamps, note x "
        "day) and of account x note, log-weighted rows and columns, blocks kept only when denser than "
        f"{DenseBlockParams().density_margin:g} x g0, the mean densest block of {DenseBlockParams().null_copies} "
        "random copies that keep every account's activity week by week, and holding >= "
        f"{DenseBlockParams().min_excess:g} excess comments, >= {DenseBlockParams().min_accounts} accounts). "
        "**ours** = the accounts `ringscope flagged` would print from lockstep, the comment-text detectors "
        "(YelpChi has no texts: they never fire) and dense_blocks run with `policy/detection.yaml`: noisy-OR "
        "risk >= the policy's "
        "flag threshold. **in a cluster** = members of any of their clusters, flagged or not (what the "
        "cluster list shows). "
        "FRAUDAR = `fraudar.logWeightedAveDegree` from rgmining-fraudar 0.7.6 (the authors' greedy code) on "
        "the binary account x note matrix, flagged = rows of its densest block. Scores: precision / recall / F1 "
        "of flagged accounts against planted accounts, mean over seeds.",
        "",
        "## With nothing planted (false-positive control)",
        "",
        "| method | accounts flagged | fraction of 38,063 users | of which Yelp-filtered | time |",
        "|---|---|---|---|---|",
    ]
    for name in ("lockstep", "dense_blocks", "ours_any", "ours"):
        fl, secs = bg_methods[name]
        label = {"ours_any": "in a cluster"}.get(name, name)
        lines.append(f"| {label} | {len(fl)} | {len(fl) / n_users:.4%} | {len(fl & filtered)} | {secs:.2f} s |")
    lines += [f"| FRAUDAR | {len(fr_bg)} | {len(fr_bg) / n_users:.2%} | {len(fr_bg & filtered)} | {t_fr:.2f} s |", ""]

    # summary
    cols = ["ours_f1", "any_f1", "ls_f1", "db_f1", "fr_f1"]
    summ = main_res.groupby(["m", "n", "p", "res"], sort=False)[cols].mean()
    lines += [f"## Summary: mean F1 over camouflage and account kinds ({args.seeds} seeds, burst span 30 min)", ""]
    head = "| block | p | FRAUDAR |" + "".join(
        f" ours ({r}) | in a cluster ({r}) | dense_blocks ({r}) | lockstep ({r}) |" for r in resolutions)
    lines += [head, "|---|---|---|" + "---|" * (4 * len(resolutions))]
    for (m, n, p), g in summ.groupby(level=[0, 1, 2], sort=False):
        fr_f1 = g["fr_f1"].mean()
        row = f"| {m}x{n} | {p} | {_fmt(fr_f1)} |"
        for r in resolutions:
            v = g.xs(r, level="res").iloc[0]
            row += f" {_mark(v['ours_f1'], fr_f1)} | {_mark(v['any_f1'], fr_f1)} | {_fmt(v['db_f1'])} | {_fmt(v['ls_f1'])} |"
        lines.append(row)
    lines += ["", "Bold: above FRAUDAR by more than 0.005; _italic_: below it by more than 0.005.", ""]

    for r in resolutions:
        sub = main_res[main_res["res"] == r]
        agg = (sub.groupby(["m", "n", "p", "camo", "hijack"], sort=False)
               [["ours_p", "ours_r", "ours_f1", "any_p", "any_r", "any_f1", "fr_p", "fr_r", "fr_f1", "fr_n"]]
               .mean().reset_index())
        lines += [f"## F1 by block size, density, camouflage and accounts: planted at {r} resolution", "",
                  "| block | p | camouflage | accounts | ours P / R / **F1** | in a cluster P / R / **F1** | "
                  "FRAUDAR P / R / **F1** | FRAUDAR flags |", "|---|---|---|---|---|---|---|---|"]
        for row in agg.itertuples(index=False):
            lines.append(f"| {row.m}x{row.n} | {row.p} | {row.camo} | {'hijacked' if row.hijack else 'new'} | "
                         f"{_prf(row, 'ours')} | {_prf(row, 'any')} | {_prf(row, 'fr')} | {row.fr_n:,.0f} |")
        lines.append("")

    sens = res[res["span"] != 30]
    if len(sens):
        s = sens.groupby(["span", "m", "n", "p", "res"], sort=False)[cols].mean()
        lines += ["## Sensitivity: farms that do not post in tight bursts (new accounts, random camouflage)", "",
                  "| burst span | block | p | FRAUDAR |"
                  + "".join(f" ours ({r}) | in a cluster ({r}) | dense_blocks ({r}) | lockstep ({r}) |"
                            for r in resolutions),
                  "|---|---|---|---|" + "---|" * (4 * len(resolutions))]
        for (span, m, n, p), g in s.groupby(level=[0, 1, 2, 3], sort=False):
            label = "2 h" if span == 120 else ("a week (no time signal)" if span > 1000 else f"{span} min")
            fr_f1 = g["fr_f1"].mean()
            row = f"| {label} | {m}x{n} | {p} | {_fmt(fr_f1)} |"
            for r in resolutions:
                v = g.xs(r, level="res").iloc[0]
                row += (f" {_mark(v['ours_f1'], fr_f1)} | {_mark(v['any_f1'], fr_f1)} | {_fmt(v['db_f1'])} | "
                        f"{_fmt(v['ls_f1'])} |")
            lines.append(row)
        lines.append("")

    lines += ["## Timings per run (mean, max)", "",
              f"FRAUDAR {res['fr_s'].mean():.2f} s ({res['fr_s'].max():.2f} s), "
              f"dense_blocks {res['db_s'].mean():.2f} s ({res['db_s'].max():.2f} s), "
              f"lockstep {res['ls_s'].mean():.2f} s ({res['ls_s'].max():.2f} s); "
              f"{len(res)} method runs on {len(res) // max(len(resolutions), 1)} graphs, {args.jobs} processes.", ""]
    if scale:
        lines += ["## Timing at scale", "",
                  f"`detect_dense_blocks` (defaults, both views, 3 null copies each) on YelpChi tiled to "
                  f"{scale['comments']:,} comments ({scale['accounts']:,} accounts, {scale['notes']:,} notes) with "
                  f"{scale['farms']} planted 200x200 farm(s) at p = 0.02 (day resolution): **{scale['seconds']:.0f} s** "
                  f"in one process; {scale['findings']} findings, {scale['flagged']} accounts flagged, farm "
                  f"precision {_fmt(scale['precision'])}, recall {_fmt(scale['recall'])}.", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res.to_csv(out.with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
