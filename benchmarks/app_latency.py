"""How fast the investigator app answers: the query functions behind each interaction, p50/p95 over many samples.

Run against its own Neo4j (not your working database):

    RINGSCOPE_HOME=/tmp/app-bench RINGSCOPE_BOLT_PORT=7761 \
        python -m benchmarks.app_latency --accounts 100000 --samples 200 \
        --out benchmarks/results/app_latency.md

With ``--accounts N`` and an empty database it simulates a platform of N
accounts, loads it and runs detection first (twice, so "changes since the
previous run" has something to compare). The figures are the database side of
each interaction with the app's caches cold (every sample asks a different
entity, and nothing is served from ``st.cache_data``): what a first click
costs. Streamlit's own rerun adds a few tens of milliseconds on top.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent

from ringscope.detection import history  # noqa: E402
from ringscope.webapp.state import HUB_LIMIT  # noqa: E402
from ringscope.graph.database import connect  # noqa: E402
from ringscope.graph.settings import load_settings  # noqa: E402
from ringscope.queries import bans, entities, neighbours, overview, search  # noqa: E402
from benchmarks.common import machine  # noqa: E402


def load(graph, accounts: int, seed: int) -> None:
    from ringscope.ingest.load import IngestOptions, ingest
    from ringscope.simulate.platform import simulate

    home = Path(os.environ.get("RINGSCOPE_HOME", "/tmp/app-bench"))
    dataset = home / f"sim-{accounts}-seed{seed}"
    if not (dataset / "accounts.csv.gz").exists():
        print(f"simulating {accounts:,} accounts ...", flush=True)
        simulate(dataset, accounts=accounts, seed=seed)
    started = time.monotonic()
    ingest(graph, dataset, IngestOptions(rejects_dir=home / "rejects"), on_file=lambda r: print(r.line(), flush=True))
    print(f"loaded in {time.monotonic() - started:.0f} s", flush=True)


def ensure_runs(graph, runs: int) -> None:
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.run import detect

    have = len([r for r in graph.read("MATCH (r:DetectionRun {status: 'completed'}) RETURN r.run_id AS id")])
    for _ in range(max(0, runs - have)):
        started = time.monotonic()
        summary = detect(graph, load_detection_policy())
        print(f"detection run {summary.run_id}: {summary.clusters} clusters in {time.monotonic() - started:.0f} s",
              flush=True)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q * (len(ordered) - 1)))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="simulate and load this many if empty")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "app_latency.md")
    args = parser.parse_args()

    settings = load_settings()
    if settings.uses_local_server:
        from ringscope.graph.server import local

        local.start(settings.local, log=print)
        settings = load_settings()
    graph = connect(settings)
    if not graph.read("MATCH (a:Account) RETURN a LIMIT 1"):
        load(graph, args.accounts, args.seed)
    ensure_runs(graph, 2)
    rng = random.Random(7)

    run = overview.latest_run(graph)
    assert run is not None
    sizes = {r["kind"]: r["n"] for r in graph.read(
        "CALL () { MATCH (a:Account) RETURN 'accounts' AS kind, count(a) AS n "
        "UNION ALL MATCH ()-[r]->() RETURN 'relationships' AS kind, count(r) AS n "
        "UNION ALL MATCH (n) RETURN 'nodes' AS kind, count(n) AS n } RETURN kind, n")}
    account_ids = [r["id"] for r in graph.read(
        "MATCH (a:Account) WITH a, rand() AS r ORDER BY r LIMIT $n RETURN a.account_id AS id", n=args.samples * 2)]
    device_ids = [r["id"] for r in graph.read(
        "MATCH (d:Device) WITH d, rand() AS r ORDER BY r LIMIT $n RETURN d.device_id AS id", n=args.samples)]
    note_ids = [r["id"] for r in graph.read(
        "MATCH (n:Note) WITH n, rand() AS r ORDER BY r LIMIT $n RETURN n.note_id AS id", n=args.samples)]
    hubs = [f"PhoneSegment:{r['id']}" for r in graph.read(
        "MATCH (s:PhoneSegment) RETURN s.segment AS id ORDER BY COUNT { (s)--() } DESC LIMIT 20")]
    cluster_ids = [c.cluster_id for c in overview.top_clusters(graph, run.run_id, 2000)]
    nicknames = [r["nick"] for r in graph.read(
        "MATCH (a:Account) WHERE a.nickname IS NOT NULL WITH a, rand() AS r ORDER BY r LIMIT $n "
        "RETURN a.nickname AS nick", n=args.samples)]

    def pick(seq):
        return seq[rng.randrange(len(seq))]

    def overview_page():
        latest = overview.latest_run(graph)
        overview.runs_in_progress(graph)
        overview.top_clusters(graph, latest.run_id, 100)

    def search_id():
        search.search(graph, pick(account_ids)[:-1])

    def search_text():
        search.search(graph, pick(nicknames)[:4])

    def open_cluster():
        neighbours.cluster_graph(graph, pick(cluster_ids))

    def expand_node():
        uid = rng.choice([f"Account:{pick(account_ids)}", f"Device:{pick(device_ids)}", f"Note:{pick(note_ids)}",
                          pick(hubs)])
        counts = neighbours.neighbour_counts(graph, uid)
        if counts and counts.total > HUB_LIMIT:  # what the app does with a hub: counts, then a filtered count
            neighbours.filtered_count(graph, uid, list(counts.by_type)[:1], since="2025-01-01T00:00:00Z")
        else:
            neighbours.expand(graph, uid, limit=100, run_id=run.run_id)

    def select_node():
        uid = f"Account:{pick(account_ids)}"
        neighbours.node(graph, uid, run.run_id)
        neighbours.neighbour_counts(graph, uid)

    def entity_panel():
        uid = rng.choice([f"Account:{pick(account_ids)}", f"Device:{pick(device_ids)}"])
        entities.details(graph, uid, run.run_id)

    devices_banned = [d.device_id for d in bans.banned_devices(graph, 300)] or device_ids

    def bans_page():
        bans.banned_devices(graph, 300)
        bans.accounts_on_device(graph, pick(devices_banned))

    interactions = {
        "overview (latest run, runs in progress, top 100 clusters)": overview_page,
        "search by id prefix": search_id,
        "search by name (fulltext)": search_text,
        "open a cluster (members + shared infrastructure)": open_cluster,
        "expand a node (degree counts, then 100 neighbours or a hub's filtered count)": expand_node,
        "select a node (node + degree counts)": select_node,
        "entity panel (properties, risk, timeline, sanctions, links)": entity_panel,
        "device-linked bans page (banned devices + one device's accounts)": bans_page,
    }
    changes_s = timed(lambda: history.changes(graph, run.run_id))

    results = []
    for name, fn in interactions.items():
        for _ in range(3):  # plan and warm the page cache once, as a running app has
            fn()
        samples = [timed(fn) for _ in range(args.samples)]
        row = (name, statistics.median(samples), percentile(samples, 0.95), max(samples))
        results.append(row)
        print(f"{name}: p50 {row[1] * 1000:.0f} ms, p95 {row[2] * 1000:.0f} ms, max {row[3] * 1000:.0f} ms",
              flush=True)

    lines = [
        "# Investigator app: latency of each interaction",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} by `benchmarks/app_latency.py` "
        f"({args.samples} samples per interaction, each on a randomly chosen entity, app caches cold).",
        "",
        f"- Machine: {machine()}",
        f"- Neo4j: {graph.server_version()}, heap {settings.local.heap}, page cache "
        f"{settings.local.pagecache_bytes / 2**30:.1f} GiB, on the same machine",
        f"- Graph: {sizes.get('accounts', 0):,} accounts, {sizes.get('nodes', 0):,} nodes, "
        f"{sizes.get('relationships', 0):,} relationships (simulated platform, seed {args.seed}); "
        f"latest run `{run.run_id}`: {run.clusters:,} clusters, {run.flagged:,} accounts flagged",
        "",
        "| interaction | p50 | p95 | max |",
        "|---|---:|---:|---:|",
    ]
    for name, p50, p95, worst in results:
        lines.append(f"| {name} | {p50 * 1000:.0f} ms | {p95 * 1000:.0f} ms | {worst * 1000:.0f} ms |")
    lines += [
        "",
        f"\"What changed since the previous run\" (matching every cluster of two runs by member overlap) took "
        f"{changes_s * 1000:.0f} ms once; the app computes it once per run and caches it (`st.cache_data`, "
        "keyed by run id), so the overview pays it on its first load after a run only.",
        "",
        "The app adds Streamlit's rerun (tens of ms) and its caches on top: a second visit to the same cluster, "
        "node or search is served from `st.cache_data`. Caps keep every interaction bounded whatever the graph's "
        f"size: 300 members per cluster drawing, 50-200 neighbours per click, degree counts before any expansion "
        f"(a node with more than {HUB_LIMIT} neighbours is never expanded blindly), tables beyond 3,000 elements.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
