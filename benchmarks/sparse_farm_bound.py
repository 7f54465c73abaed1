"""How much of a sparse planted farm block evidence can find: YelpChi's 200 x 200 farm at p = 0.01 (#13).

A FRAUDAR-style farm (``benchmarks.detection_yelpchi.inject_farm``) is an m x n block whose every cell is an
edge with probability p. At m = n = 200 and p = 0.01 an account works Binomial(200, 0.01) ~ 2 targets and a
target note gets ~2 farm comments: the farm is a random bipartite graph of mean degree 2, and most of it looks,
edge by edge, like reviewers who each reviewed a product or two. ``dense_blocks`` needs a member to hold at
least two of its block's events, and an event two of its accounts (``min_member_events: 2``; one shared event is
what a genuine reviewer of that product on that day has too). Two figures say what that rule, or a looser
one, could ever find:

* **the farm's own (2, 2)-core** (:func:`farm_core_shares`, Monte Carlo over the block alone, no background):
  the accounts holding >= 2 events that are each held by >= 2 of them, pruned until nothing changes (the
  k-core of a bipartite graph; Seidman, Social Networks 1983). No detector requiring two shared events per
  member finds an account outside it, so at precision 1 its F1 is at most 2R / (1 + R), R its share;
* **one event**: the accounts with at least one comment in the core's events, and with any farm comment at
  all: what admitting members on a single shared event could add at best.

Then on YelpChi with the farm planted, per graph (5 seeds x random/biased camouflage x new/hijacked accounts x
day/minute resolution, as the sweep): what ``ringscope flagged`` prints from the comment detectors
(``run_methods``' ``ours``, the sweep's figure) and, in the event view, the accounts that hold exactly one
of the found blocks' events and are not members: how many of them are planted is the precision a
single-event rule would add them at.

Run: ``python -m benchmarks.sparse_farm_bound [--seeds 5] [--trials 2000]``; appends to
``benchmarks/results/detection_yelpchi.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np

from benchmarks.common import append_results, machine
from benchmarks.detection_yelpchi import OUT, background, f1, inject_farm, run_methods
from ringscope.detection import dense_blocks as db
from ringscope.detection.config import load_detection_policy
from ringscope.detection.params import params_from_policy
from ringscope.detection.pipeline import DETECTORS


def two_event_core(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (2, 2)-core of the 0/1 ``block`` (accounts x notes): rows with >= 2 kept columns, columns with >= 2
    kept rows, pruned until both hold. Returns (row mask, column mask). O(iterations x m x n)."""
    rows = np.ones(block.shape[0], bool)
    cols = np.ones(block.shape[1], bool)
    while True:
        keep_r = block[:, cols].sum(axis=1) >= 2
        keep_c = block[keep_r & rows].sum(axis=0) >= 2
        keep_r &= rows
        keep_c &= cols
        if (keep_r == rows).all() and (keep_c == cols).all():
            return rows, cols
        rows, cols = keep_r, keep_c


def farm_core_shares(m: int, n: int, p: float, trials: int, seed: int = 0) -> dict[str, float]:
    """Mean shares of an m x n Bernoulli(p) farm's accounts, over ``trials`` draws: in its (2, 2)-core
    (``core``), with >= 1 edge into the core's columns (``one_core_event``), with any edge (``any_edge``).
    O(trials x m x n)."""
    rng = np.random.default_rng(seed)
    sums = np.zeros(3)
    for _ in range(trials):
        block = (rng.random((m, n)) < p).astype(np.int32)
        rows, cols = two_event_core(block)
        sums += [rows.mean(), (block[:, cols].sum(axis=1) >= 1).mean(), (block.sum(axis=1) >= 1).mean()]
    core, one, anyedge = sums / trials
    return {"core": core, "one_core_event": one, "any_edge": anyedge}


def single_event_outsiders(comments) -> tuple[set[str], set[str]]:
    """In the event view (the policy's ``dense_blocks`` settings): the found blocks' members, and the accounts
    outside them holding exactly one of the blocks' events. O(what ``detect_dense_blocks`` costs for one
    view)."""
    policy = load_detection_policy()
    params = params_from_policy(DETECTORS["dense_blocks"].params, "dense_blocks",
                                policy.detectors["dense_blocks"].params)
    view, tables = db.build_view(comments, "event", params, db.sorted_comments(comments))
    g0, _ = db.null_density(view, params.null_copies, params.seed, params.min_accounts)
    blocks = db.find_blocks(view, params, g0) if g0 > 0 else []
    acc = np.asarray(tables["acc"], dtype=object)
    members: set[str] = set()
    cols = np.zeros(view.n_col, bool)
    for b in blocks:
        members |= set(acc[np.r_[b.rows, b.joined]].tolist())
        cols[b.cols] = True
        cols[b.joined_cols] = True
    view.ensure("col", np.flatnonzero(cols))
    hits = db._hits(view.matrices()[2], cols)
    return members, set(acc[np.flatnonzero(hits == 1)].tolist()) - members


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    started = time.perf_counter()
    lines = [f"## {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC: how much of a sparse farm block "
             "evidence can find (`benchmarks/sparse_farm_bound.py`)", "",
             f"Machine: {machine()}. Command: `python -m benchmarks.sparse_farm_bound --seeds {args.seeds} "
             f"--trials {args.trials}`.", "",
             "The farm alone (Monte Carlo, no background): shares of its accounts. F1 at most is that of a "
             "detector flagging exactly that share at precision 1.", "",
             "| farm | p | in its (2, 2)-core | F1 at most | >= 1 comment in the core's events | F1 at most "
             "| any farm comment |", "|---|---|---:|---:|---:|---:|---:|"]
    for m, n, p in ((200, 200, 0.01), (200, 200, 0.02), (50, 50, 0.05), (50, 50, 0.1), (20, 20, 0.1)):
        s = farm_core_shares(m, n, p, args.trials)
        lines.append(f"| {m}x{n} | {p:g} | {s['core']:.3f} | {2 * s['core'] / (1 + s['core']):.2f} | "
                     f"{s['one_core_event']:.3f} | {2 * s['one_core_event'] / (1 + s['one_core_event']):.2f} | "
                     f"{s['any_edge']:.3f} |")
    lines += ["", "YelpChi with one 200 x 200 farm at p = 0.01 planted (30-min bursts): what `ringscope flagged` "
              "prints from the comment detectors, the event view's block members, and the accounts outside "
              "them with exactly one of the blocks' events (planted / all).", "",
              "| resolution | camouflage | accounts | seed | flagged P / R / **F1** | block members (planted / all) "
              "| one block event only (planted / all) |", "|---|---|---|---|---|---|---|"]
    bg = background()
    totals: dict[str, list[int]] = {}
    for res in ("day", "minute"):
        for camo in ("random", "biased"):
            for hijack in (False, True):
                for seed in range(args.seeds):
                    comments, planted = inject_farm(bg, 200, 200, 0.01, camo, hijack, seed, resolution=res)
                    flagged = run_methods(comments)["ours"][0]
                    pr, rc, ff = f1(flagged, planted)
                    members, single = single_event_outsiders(comments)
                    wider = flagged | single
                    t = totals.setdefault(res, [0, 0, 0, 0, 0, 0])
                    for i, v in enumerate((len(flagged & planted), len(flagged), len(single & planted),
                                           len(single), len(wider & planted), len(wider))):
                        t[i] += v
                    lines.append(f"| {res} | {camo} | {'hijacked' if hijack else 'new'} | {seed} | "
                                 f"{pr:.2f} / {rc:.2f} / **{ff:.2f}** | {len(members & planted)} / {len(members)} | "
                                 f"{len(single & planted)} / {len(single)} |")
                    print(lines[-1], flush=True)
    lines.append("")
    graphs = 4 * args.seeds
    for res, (tp, fl, sp, single, wtp, wide) in totals.items():
        gained = wtp / (200 * graphs)
        prec = wtp / wide if wide else 0.0
        lines.append(f"- {res} resolution, {graphs} graphs: flagged {fl / graphs:.1f} a graph, "
                     f"{tp / fl if fl else 0:.2f} of them planted, recall {tp / (200 * graphs):.2f}; the accounts "
                     f"with one block event only: {single / graphs:.1f} a graph, {sp / single if single else 0:.2f} "
                     f"of them planted. Flagging them too: precision {prec:.2f}, recall {gained:.2f}, F1 "
                     f"{2 * prec * gained / (prec + gained) if prec + gained else 0:.2f}.")
    lines.append(f"- Whole run {time.perf_counter() - started:.0f} s.")
    append_results(Path(args.out), "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
