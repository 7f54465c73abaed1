"""Manufactured trending heat on simulated platforms, through the real path (#15 item 4).

    python -m benchmarks.trending_heat --accounts 20000 100000 [--port 7731] [--work /tmp/trend-bench]

For each size: ``ringscope simulate`` (seed 7: heat operations mixed with a celebrity's fans, viral trends as
look-alikes), ingest into a dedicated local Neo4j, ``ringscope detect`` with the default policy, and what
``ringscope flagged`` prints (``queries.detection.flagged``) compared with the ground truth: the heat operations'
accounts (``labels.role`` heat_campaign) found, the precision of the accounts ``trending_heat`` names, the
operations' clusters, and the share of the look-alikes flagged (honest accounts that engaged a viral trend's or a
celebrity event's notes, ``trending_labels``). Also each trending entry's stored integrity by kind, and the
detector's time. Results are appended to ``benchmarks/results/trending_heat.md``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from benchmarks.common import append_results, bench_server, jvm_peak_mib, load_average, machine, python_peak_mib
from ringscope.detection.config import load_detection_policy
from ringscope.detection.run import detect
from ringscope.graph.admin import reset
from ringscope.graph.database import close_all
from ringscope.graph.server import local
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.queries.detection import flagged

RESULTS = Path(__file__).resolve().parent / "results" / "trending_heat.md"


def look_alikes(dataset: Path, labels: pd.DataFrame) -> set[str]:
    """Honest accounts that commented on or liked a note of a viral trend or a celebrity event."""
    truth = pd.read_csv(dataset / "trending_labels.csv.gz", dtype=str, keep_default_na=False)
    organic_topics = set(truth.loc[truth["kind"].isin(["viral", "celebrity"]), "topic"])
    notes = pd.read_csv(dataset / "notes.csv.gz", dtype=str, keep_default_na=False, usecols=["note_id", "topics"])
    tagged = set(notes.loc[notes["topics"].map(lambda v: bool(set(v.split(";")) & organic_topics)), "note_id"])
    engaged: set[str] = set()
    for stem in ("comments", "likes"):
        frame = pd.read_csv(dataset / f"{stem}.csv.gz", dtype=str, keep_default_na=False,
                            usecols=["account_id", "note_id"])
        engaged |= set(frame.loc[frame["note_id"].isin(tagged), "account_id"])
    honest = set(labels.loc[labels["is_fake"].str.lower() != "true", "account_id"])
    return engaged & honest


def evaluate(dataset: Path, printed: dict, ratings: list[dict]) -> list[str]:
    labels = pd.read_csv(dataset / "labels.csv.gz", dtype=str, keep_default_na=False)
    heat = labels[labels["role"] == "heat_campaign"]
    heat_ids = set(heat["account_id"])
    fake = set(labels.loc[labels["is_fake"].str.lower() == "true", "account_id"])
    all_flagged = set(printed)
    by_heat = {a for a, f in printed.items() if "trending_heat" in f.detectors}
    found = heat_ids & all_flagged
    recall = len(found) / max(len(heat_ids), 1)
    precision_heat = len(by_heat & heat_ids) / max(len(by_heat), 1)
    precision_fake = len(by_heat & fake) / max(len(by_heat), 1)
    role = dict(zip(labels["account_id"], labels["role"].replace("", "organic")))
    others = Counter(role.get(a, "?") for a in by_heat - heat_ids)
    alike = look_alikes(dataset, labels)
    alike_flagged = alike & all_flagged
    alike_by_heat = alike & by_heat
    operations = pd.read_csv(dataset / "trending_labels.csv.gz", dtype=str, keep_default_na=False)["operation"]
    rows = [f"Heat-campaign accounts: {len(heat_ids):,} (operations {operations[operations != ''].nunique()}; bought "
            f"{int((heat['farm_type'] == 'heat_campaign').sum()):,}, bulk-farm members "
            f"{int((heat['farm_type'] == 'bulk_farm').sum()):,})", "",
            f"- recall through `ringscope flagged`: **{recall:.3f}** ({len(found):,} of {len(heat_ids):,}); "
            f"flagged with trending_heat among the detectors: {len(heat_ids & by_heat):,}",
            f"- precision of the accounts flagged with trending_heat: **{precision_heat:.3f}** heat-campaign accounts "
            f"({len(by_heat & heat_ids):,} of {len(by_heat):,}); {precision_fake:.3f} fake of any kind (the others: "
            + (", ".join(f"{r} {c:,}" for r, c in others.most_common()) or "none") + ")",
            f"- look-alikes (honest accounts engaging a viral trend or a celebrity event): {len(alike):,}, flagged "
            f"**{len(alike_flagged) / max(len(alike), 1):.4f}** ({len(alike_flagged):,}; with trending_heat among the "
            f"detectors: {len(alike_by_heat):,}; by detector: "
            + (", ".join(f"{d} {c:,}" for d, c in Counter(d for a in alike_flagged for d in printed[a].detectors)
                         .most_common()) or "none") + ")", ""]
    truth = pd.read_csv(dataset / "trending_labels.csv.gz", dtype=str, keep_default_na=False)
    kind = dict(zip(truth["topic"], truth["kind"]))
    r = pd.DataFrame(ratings)
    if len(r):
        r["truth"] = r["topic"].map(kind).fillna("evergreen")
        rows += ["Stored integrity of the rises by what moved them:", "",
                 "| kind | rises | rated | integrity mean | min | max |", "|---|---:|---:|---:|---:|---:|"]
        for k, part in r.groupby("truth"):
            rated = part["integrity"].dropna()
            rows.append(f"| {k} | {len(part):,} | {len(rated):,} | "
                        + (f"{rated.mean():.3f} | {rated.min():.3f} | {rated.max():.3f} |" if len(rated)
                           else "- | - | - |"))
        rows.append("")
    return rows


def run(sizes: list[int], work: Path, heap: str, pagecache: str, port: int, keep: bool) -> str:
    settings, graph = bench_server(work, port, heap, pagecache)
    policy = load_detection_policy()
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"Machine: {machine()}",
             f"Neo4j {graph.server_version()}, heap {heap}, page cache {pagecache}; "
             "data: `ringscope simulate --seed 7`; default policy (`policy/detection.yaml`)", ""]
    from ringscope.simulate.platform import simulate

    for n in sizes:
        dataset = work / f"sim-{n}"
        if not (dataset / "accounts.csv.gz").exists():
            simulate(dataset, accounts=n, seed=7, fmt="csv.gz")
        reset(graph)
        started = time.monotonic()
        ingest(graph, dataset, IngestOptions(rejects_dir=work / "rejects", restart=True))
        ingest_s = time.monotonic() - started
        started = time.monotonic()
        summary = detect(graph, policy)
        detect_s = time.monotonic() - started
        printed = {f.account_id: f for f in flagged(graph, summary.run_id)}
        stored = graph.read("MATCH (r:DetectionRun {run_id: $run_id}) RETURN r.ratings AS ratings",
                            run_id=summary.run_id)[0]["ratings"]
        ratings = json.loads(stored or "{}").get("trending_heat", [])
        clusters = graph.read("MATCH (:DetectionRun {run_id: $run_id})-[:FOUND]->"
                              "(k:Cluster {detector: 'trending_heat'}) "
                              "RETURN k.size AS size, k.score AS score ORDER BY size DESC", run_id=summary.run_id)
        lines += [f"### {n:,} accounts (ingest {ingest_s:,.0f} s, detection {detect_s:,.0f} s)", "",
                  f"Detection run {summary.run_id}: {summary.flagged:,} accounts flagged; trending_heat "
                  f"{summary.durations.get('trending_heat', float('nan')):,.2f} s; its clusters (size, score): "
                  + (", ".join(f"{c['size']} ({c['score']:.2f})" for c in clusters) or "none") + "; "
                  f"{len(ratings):,} rises rated", "",
                  f"Peak memory: Python {python_peak_mib():,.0f} MiB, JVM {jvm_peak_mib(settings):,.0f} MiB; "
                  f"load average {load_average()}", ""]
        lines += evaluate(dataset, printed, ratings)
        print("\n".join(lines), flush=True)
    close_all()
    if not keep:
        local.stop(settings.local)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--work", default="/tmp/ringscope-trend-bench")
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="2g")
    parser.add_argument("--port", type=int, default=7731)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    text = run(args.accounts, Path(args.work), args.heap, args.pagecache, args.port, args.keep)
    append_results(RESULTS, text)
    print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
