"""Drifting accounts through detection as of a time, on a simulated platform, straight from the files.

    nice -n 19 python -m benchmarks.drift_as_of --accounts 20000 --seed 7 --every 14 --window 30

``simulate(dir, accounts, seed)`` (unless the files are there), the files read into the frames the reader gives
(``benchmarks.detection_speed.read_frames``), then for every ``--every`` days of the activity year a run as of
that time over the ``--window`` days before it (``detection.as_of.cut``, then every detector of the default
policy and the account risks, as ``ringscope detect --as-of T --window W`` computes them; the stored run and the
room are what ``tests/detection/test_as_of_runs.py`` checks on Neo4j), and one run over the whole history.

Per run: the drifting accounts (``drift_labels``) whose stretch is in the run's window (it overlaps
[T - W, T]) and those whose stretch is not, each with the share flagged (risk >= flag_threshold) and the share
in the watch band ([watch threshold, flag_threshold)), and the honest accounts (``labels.is_fake`` false, the
drifting ones apart) flagged and in the band. Appended to ``benchmarks/results/drift_as_of.md``.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from benchmarks.common import append_results, load_average, machine, python_peak_mib
from benchmarks.detection_speed import read_frames
from ringscope.detection.as_of import TimeFrame, cut
from ringscope.detection.config import load_detection_policy
from ringscope.detection.pipeline import account_risks, run_all
from ringscope.simulate.platform import simulate

RESULTS = Path(__file__).resolve().parent / "results" / "drift_as_of.md"
ACTIVITY_START = datetime(2024, 6, 30, 16, tzinfo=timezone.utc)  # 2024-07-01 China time
NOW = datetime(2025, 6, 29, 16, tzinfo=timezone.utc)


def share(part: pd.Series) -> str:
    return f"{part.sum()}/{len(part)}" if len(part) else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--every", type=int, default=14, help="days between runs")
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ringscope-drift-bench"))
    args = parser.parse_args()
    directory = args.work / f"sim-{args.accounts}-{args.seed}"
    if not (directory / "drift_labels.csv.gz").exists():
        simulate(directory, args.accounts, args.seed, "csv.gz")
    frames = read_frames(directory)
    policy = load_detection_policy()
    flag, band = policy.flag_threshold, policy.watch.threshold
    labels = pd.read_csv(directory / "labels.csv.gz", dtype=str)
    fake = dict(zip(labels.account_id, labels.is_fake.str.lower() == "true"))
    truth = pd.read_csv(directory / "drift_labels.csv.gz", dtype=str, keep_default_na=False)
    truth["start"] = pd.to_datetime(truth.started_at, utc=True)
    truth["end"] = pd.to_datetime(truth.ended_at.where(truth.ended_at != "", None), utc=True).fillna(
        pd.Timestamp(NOW))
    drifting = set(truth.account_id)
    honest = [a for a, f in fake.items() if not f and a not in drifting]

    rows = ["| as of | window | drifting in stretch: flagged | watch band | drifting outside: flagged | "
            "watch band | honest flagged | honest in watch band | fake flagged | seconds |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    moments = []
    t = ACTIVITY_START + timedelta(days=args.window)
    while t <= NOW:
        moments.append((t, args.window))
        t += timedelta(days=args.every)
    moments.append((NOW, None))  # the whole history, for comparison
    totals = {"in": [0, 0, 0], "out": [0, 0, 0]}
    for moment, window in moments:
        started = time.perf_counter()
        seen, _ = cut(frames, TimeFrame(moment, window))
        risks = account_risks(run_all(seen, policy), policy, seen)
        score = {a: r.score for a, r in risks.items()}
        since = pd.Timestamp(moment - timedelta(days=window)) if window else pd.Timestamp.min.tz_localize("UTC")
        inside = (truth.start <= pd.Timestamp(moment)) & (truth.end >= since)
        risk = truth.account_id.map(lambda a: score.get(a, 0.0))
        flagged_, watched = risk >= flag, (risk >= band) & (risk < flag)
        for key, mask in (("in", inside), ("out", ~inside)):
            totals[key][0] += int(mask.sum())
            totals[key][1] += int((flagged_ & mask).sum())
            totals[key][2] += int((watched & mask).sum())
        h = pd.Series([score.get(a, 0.0) for a in honest])
        fakes = [a for a, f in fake.items() if f]
        fake_flagged = sum(score.get(a, 0.0) >= flag for a in fakes)
        rows.append(f"| {moment.date()} | {window or 'all'} | {share(flagged_[inside])} | {share(watched[inside])} | "
                    f"{share(flagged_[~inside])} | {share(watched[~inside])} | {int((h >= flag).sum())} | "
                    f"{int(((h >= band) & (h < flag)).sum())} | {fake_flagged}/{len(fakes)} | "
                    f"{time.perf_counter() - started:.0f} |")
        print(rows[-1], flush=True)
    summary = (f"Over the {len(moments) - 1} windowed runs: drifting accounts in their stretch flagged "
               f"{totals['in'][1]}/{totals['in'][0]} times ({totals['in'][1] / max(totals['in'][0], 1):.1%}), in the "
               f"watch band {totals['in'][2]}/{totals['in'][0]}; outside it flagged {totals['out'][1]}/"
               f"{totals['out'][0]} ({totals['out'][1] / max(totals['out'][0], 1):.1%}), in the band "
               f"{totals['out'][2]}/{totals['out'][0]}.")
    kinds = truth.kind.value_counts().to_dict()
    text = "\n".join([
        f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {args.accounts:,} accounts, seed {args.seed}, a run "
        f"every {args.every} days over the {args.window} days before it",
        "",
        f"Machine: {machine()}; load average at the end {load_average()}; Python peak {python_peak_mib():.0f} MiB.",
        f"`nice -n 19 python -m benchmarks.drift_as_of --accounts {args.accounts} --seed {args.seed} --every "
        f"{args.every} --window {args.window}` (frames from the files, default policy: flag at {flag}, watch band "
        f"from {band}). Drifting accounts: {len(truth)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
        f"honest accounts (drifting ones apart): {len(honest):,}. \"In stretch\": the account's stretch overlaps the "
        f"run's window; the last row is a run over the whole history (no window), where every stretch before it "
        f"counts as in.",
        "",
        *rows,
        "",
        summary,
        "",
    ])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    append_results(RESULTS, text)
    print(summary)


if __name__ == "__main__":
    main()
