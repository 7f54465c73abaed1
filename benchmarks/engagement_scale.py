"""Does ``engagement`` hold on a platform of a million accounts? Viral moments against bought bursts (#13).

``engagement`` finds bursts of likes and follows on one target (a window holding far more events than the
target's own rate predicts) and reports them three ways: groups of accounts that engage together in two bursts
or more, single extreme bursts, and authors whose likes are out of proportion to their followers. A viral note
is a burst on one target too: the simulator's ``declared_viral`` creators draw hundreds of ordinary users within
hours, and its ``trending`` heat operations draw organic engagement after the list lifts a topic.

This script runs the local detector alone on a simulated lake with the shipped policy's parameters, and once
more with ``max_single_score`` 1 (single bursts scored as before 2026-12-07), and reports per path the
findings, members (honest and fake) and the accounts the detector flags on its own (member score x the policy's
weight >= the flag threshold), with the honest ones by role and the roles of the targets whose bursts flagged them.

What an investigator sees is what ``ringscope flagged`` prints from every detector together
(``benchmarks.detection_simulated --through-commands``); this is the one detector alone.

Run: ``python -m benchmarks.engagement_scale LAKE``, LAKE made by ``ringscope simulate LAKE --accounts N --seed 7
--format parquet``; appends to ``benchmarks/results/engagement_scale.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import append_results, flagged_alone, load_average, machine, labels_by_account
from ringscope.detection.config import load_detection_policy
from ringscope.detection.engagement import (
    EngagementParams,
    audience_disproportion,
    engagement_bursts,
    engagement_events,
    engagement_findings,
)
from ringscope.detection.findings import ClusterFinding

OUT = Path(__file__).parent / "results" / "engagement_scale.md"
PATHS = ("group", "single burst", "disproportion")


def path_of(finding: ClusterFinding) -> str:
    """Which of the detector's three findings this is (from its reason, as an investigator reads it)."""
    reason = finding.reasons[0]
    if reason.code == "engagement_disproportion":
        return "disproportion"
    return "single burst" if reason.text.startswith("A burst of engagement") else "group"


def table(found: list[ClusterFinding], labels: pd.DataFrame, weight: float, flag_at: float) -> list[str]:
    """Markdown rows, one per path: findings, members, fake members, flagged alone, fake among them, honest
    flagged by role, and the roles of the targets (the last evidence of a burst finding) that flagged them."""
    rows = []
    for name in PATHS:
        mine = [f for f in found if path_of(f) == name]
        scores, flagged = flagged_alone(mine, weight, flag_at)
        fake = labels["is_fake"].reindex(scores.index, fill_value=False)
        honest = [a for a in flagged if not fake[a]]
        roles = labels.loc[honest, "role"].value_counts().to_dict()
        targets: dict[str, int] = {}
        if name != "disproportion":
            hit = set(honest)
            for f in mine:
                if hit & set(f.members):
                    for role in labels["role"].reindex(list(f.reasons[0].evidence[-1].ids)).fillna("unknown"):
                        targets[role] = targets.get(role, 0) + 1
        rows.append(f"| {name} | {len(mine):,} | {len(scores):,} | {int(fake.sum()):,} | {len(flagged):,} | "
                    f"{len(flagged) - len(honest):,} | {', '.join(f'{k} {v:,}' for k, v in roles.items()) or '-'} | "
                    f"{', '.join(f'{k} {v:,}' for k, v in targets.items()) or '-'} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lake", type=Path)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    policy = load_detection_policy()
    entry = policy.detectors["engagement"]
    shipped = EngagementParams(**entry.params)
    labels = labels_by_account(args.lake)
    started = time.perf_counter()
    likes, follows = pd.read_parquet(args.lake / "likes"), pd.read_parquet(args.lake / "follows")
    notes = pd.read_parquet(args.lake / "notes", columns=["note_id", "account_id"])
    accounts = pd.read_parquet(args.lake / "accounts", columns=["account_id", "followers"])
    bursts = engagement_bursts(engagement_events(likes, notes, follows), shipped, presorted=True)
    disproportion = audience_disproportion(likes, notes, accounts, follows, shipped)
    seconds = time.perf_counter() - started
    head = ["| path | findings | members | of them fake | flagged alone | of them fake | honest flagged, by role | "
            "targets of the bursts that flagged them, by role |", "|---|---:|---:|---:|---:|---:|---|---|"]
    lines = [f"## {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC: {len(labels):,} accounts", "",
             f"- Machine: {machine()}; load average before: {load_average()}",
             f"- Command: `python -m benchmarks.engagement_scale {args.lake.name}` (lake: `ringscope simulate "
             f"--accounts {len(labels):,} --seed 7 --format parquet`); {len(likes):,} likes, {len(follows):,} "
             f"follows, {len(bursts):,} bursts in {seconds:.0f} s; {int(labels['is_fake'].sum()):,} fake accounts",
             f"- Flagged alone: member score x weight {entry.weight:g} >= flag threshold {policy.flag_threshold:g}"]
    for title, params in ((f"shipped policy (`max_single_score` {shipped.max_single_score:g})", shipped),
                          ("single bursts uncapped (`max_single_score` 1, the rule before 2026-12-07)",
                           dataclasses.replace(shipped, max_single_score=1.0))):
        found = engagement_findings(bursts, disproportion, params)
        lines += ["", f"{title}:", "", *head, *table(found, labels, entry.weight, policy.flag_threshold)]
        print("\n".join(lines[-5:]), flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    append_results(args.out, text)


if __name__ == "__main__":
    main()
