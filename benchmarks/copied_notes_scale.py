"""Does ``copied_notes`` hold as the platform grows? Its families chain (#13, #16).

``copied_notes`` makes families of near-duplicate note bodies as connected components of pairs at a Jaccard of
at least ``threshold``. Two honest bodies reach a Jaccard just over 0.3 by chance (stock phrases) at a small rate
``q`` per pair, so a note's chance partners grow with the number of notes ``n`` (about ``n q``), and once that
nears one the components percolate: honest notes chain into families no Poisson null per note describes
(Erdos-Renyi, 1960: the giant component appears at mean degree one).

This script runs the local detector alone on a simulated lake (the simulator's ``note_labels`` and ``labels``
say which notes were planted and which accounts are fake) at several thresholds and reports, per threshold:
findings, the largest family, its members (honest and fake) and the accounts it would flag on its own (member
score x the policy's weight >= the flag threshold), with the honest ones by role. It also reports, in the
family holding the most honest notes at the lowest threshold, how many pairs of bodies of honest notes and of planted notes reach
each threshold: how fast chance overlaps thin out above 0.3.

What an investigator sees is what ``ringscope flagged`` prints from every detector together
(``benchmarks.detection_simulated --through-commands``); this is the one detector alone, to see it scale.

Run: ``python -m benchmarks.copied_notes_scale LAKE [--thresholds 0.3 0.35 0.4 0.45 0.5]``, LAKE made by
``ringscope simulate LAKE --accounts N --seed 7 --format parquet``; appends to
``benchmarks/results/copied_notes_scale.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import flagged_alone, load_average, machine, labels_by_account
from ringscope.detection.comment_templates import ShingleSets, band_key, band_pairs, common_shingles, lsh_bands
from ringscope.detection.config import load_detection_policy
from ringscope.detection.copied_notes import CopiedNoteParams, detect_copied_notes, note_families

OUT = Path(__file__).parent / "results" / "copied_notes_scale.md"


@dataclasses.dataclass
class Reading:
    threshold: float
    seconds: float
    findings: int
    largest: int
    members: int
    members_fake: int
    flagged: int
    flagged_fake: int
    honest_roles: dict[str, int]


def read_lake(lake: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(notes, intermediary_accounts, labels by account, note_labels) of a simulated Parquet lake."""
    return (pd.read_parquet(lake / "notes"), pd.read_parquet(lake / "intermediary_accounts"), labels_by_account(lake),
            pd.read_parquet(lake / "note_labels"))


def reading(notes: pd.DataFrame, managed: pd.DataFrame, labels: pd.DataFrame, threshold: float,
            weight: float, flag_at: float) -> Reading:
    """``detect_copied_notes`` alone at ``threshold``, scored against the labels."""
    params = dataclasses.replace(CopiedNoteParams(), threshold=threshold)
    started = time.perf_counter()
    found = detect_copied_notes(notes, managed, params)
    seconds = time.perf_counter() - started
    scores, flagged = flagged_alone(found, weight, flag_at)
    fake = labels["is_fake"]
    honest = [a for a in flagged if not fake[a]]
    return Reading(threshold, seconds, len(found), max((len(f.members) for f in found), default=0), len(scores),
                   int(fake.reindex(scores.index).sum()), len(flagged), int(fake.reindex(flagged).sum()),
                   labels.loc[honest, "role"].value_counts().to_dict())


def pair_overlaps(notes: pd.DataFrame, labels: pd.DataFrame, note_labels: pd.DataFrame, threshold: float,
                  cuts: list[float]) -> tuple[int, int, dict[str, list[int]]]:
    """In the family at ``threshold`` holding the most honest notes: (its bodies, its authors, per kind of pair - both bodies honest
    notes, or one planted - how many of its verified pairs reach each of ``cuts``). The pairs are found as the
    detector finds them (MinHash-LSH bands, each text with its next bucket mates), all verified, none skipped."""
    params = dataclasses.replace(CopiedNoteParams(), threshold=threshold)
    families, _ = note_families(notes, params)
    if families.empty:
        return 0, 0, {}
    planted = set(note_labels["note_id"]) | set(families["note_id"][families["account_id"].map(labels["is_fake"])])
    honest = families[~families["note_id"].isin(planted)]
    largest = honest["family"].value_counts().index[0]                   # the most honest notes
    family = families[families["family"] == largest]
    bodies = sorted(set(family["norm"]))
    kind = family.assign(planted=family["note_id"].isin(planted)).groupby("norm")["planted"].any()
    near = params.near_duplicates()
    sets = ShingleSets(bodies, near.shingle)
    sig = sets.signatures(near, common_shingles(*sets.document_frequency(), len(bodies)))
    keys = np.zeros(0, dtype=np.int64)
    every = np.arange(len(bodies), dtype=np.int64)
    for band in range(lsh_bands(near.threshold, near.num_perm)[0]):
        i, j = band_pairs(band_key(sig, band, near), every)
        i, j = sets.verified(i, j, near.threshold)
        keys = np.union1d(keys, np.minimum(i, j) * len(bodies) + np.maximum(i, j))
    i, j = keys // len(bodies), keys % len(bodies)
    inter = np.asarray(sets.sets[i].multiply(sets.sets[j]).sum(axis=1)).reshape(-1)
    jaccard = inter / (sets.size[i] + sets.size[j] - inter)
    flags = kind.reindex(bodies).to_numpy()
    honest_pair = ~flags[i] & ~flags[j]
    counts = {"honest-honest": [int((honest_pair & (jaccard >= c)).sum()) for c in cuts],
              "with a planted note": [int((~honest_pair & (jaccard >= c)).sum()) for c in cuts]}
    return len(bodies), int(family["account_id"].nunique()), counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lake", type=Path)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.3, 0.35, 0.4, 0.45, 0.5])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    policy = load_detection_policy()
    weight = policy.detectors["copied_notes"].weight
    notes, managed, labels, note_labels = read_lake(args.lake)
    accounts = len(labels)
    lines = [f"## {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC: {accounts:,} accounts", "",
             f"- Machine: {machine()}; load average before: {load_average()}",
             f"- Command: `python -m benchmarks.copied_notes_scale {args.lake.name} --thresholds "
             f"{' '.join(f'{t:g}' for t in args.thresholds)}` (lake: `ringscope simulate --accounts {accounts} "
             f"--seed 7 --format parquet`); {len(notes):,} notes, {int(labels['is_fake'].sum()):,} fake accounts",
             f"- Flagged alone: member score x weight {weight:g} >= flag threshold {policy.flag_threshold:g}", "",
             "| Jaccard >= | s | findings | largest (accounts) | members | of them fake | flagged alone | "
             "of them fake | honest flagged, by role |", "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for threshold in args.thresholds:
        r = reading(notes, managed, labels, threshold, weight, policy.flag_threshold)
        print(r, flush=True)
        roles = ", ".join(f"{k} {v:,}" for k, v in r.honest_roles.items()) or "-"
        lines.append(f"| {r.threshold:g} | {r.seconds:.0f} | {r.findings:,} | {r.largest:,} | {r.members:,} | "
                     f"{r.members_fake:,} | {r.flagged:,} | {r.flagged_fake:,} | {roles} |")
    low = min(args.thresholds)
    bodies, authors, counts = pair_overlaps(notes, labels, note_labels, low, args.thresholds)
    if counts:
        lines += ["", f"The family holding the most honest notes at {low:g} ({bodies:,} distinct bodies, {authors:,} authors): its verified "
                  "pairs reaching each threshold, pairs of honest notes' bodies against pairs with a planted note "
                  "(or a fake account's):", "",
                  "| pairs | " + " | ".join(f">= {t:g}" for t in args.thresholds) + " |",
                  "|---|" + "---:|" * len(args.thresholds)]
        lines += [f"| {k} | " + " | ".join(f"{v:,}" for v in vs) + " |" for k, vs in counts.items()]
    text = "\n".join(lines) + "\n\n"
    print(text)
    with open(args.out, "a") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
