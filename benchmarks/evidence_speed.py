"""Evidence pack speed: export one cluster of N accounts with their comments, time it, size it.

    python -m benchmarks.evidence_speed [--accounts 5000] [--comments-per-account 10]

Builds a synthetic stored cluster straight into a dedicated local Neo4j (its
own home and port, never the user's or the tests'): N member accounts sharing
pools of devices, IPs and phone numbers, a virtual-operator phone segment,
Chinese comments (N x comments-per-account) on a few hundred notes of a few
brands, intermediaries, orders, imported bans with propagated device bans
(DERIVED_FROM) and their audit entries; one completed detection run with the
cluster and per-account scores. Then exports the masked pack twice (the first
export warms Neo4j's page cache and Python's imports) and appends, per export,
the seconds spent collecting, building and writing, the pack's size and its
largest files to ``benchmarks/results/evidence_speed.md`` with the machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import bench_server, jvm_peak_mib, load_average, machine, python_peak_mib
from ringscope.graph.admin import reset

RESULTS = Path(__file__).resolve().parent / "results" / "evidence_speed.md"
RUN_ID = "run-bench-evidence"
CLUSTER_ID = f"{RUN_ID}:shared_infrastructure:bench"
BATCH = 5_000
TEXTS = ("姐妹们这个真的绝了，加V信私我优惠", "链接私你了", "姐妹，我搜这个怎么没搜到啊", "同款get，我妈也说好看",
         "这个价格太值了，已经推荐给闺蜜了!!", "求问包包怎么拍的", "天哪，这滤镜是什么", "码住了，谢谢分享")

SETUP = """
CREATE (r:DetectionRun {run_id: $run_id, status: 'completed', started_at: datetime(), finished_at: datetime(),
        policy: '{"version": 1}', watermark: $watermark, code_version: 'bench', flag_threshold: 0.5})
CREATE (k:Cluster {cluster_id: $cluster_id, run_id: $run_id, detector: 'shared_infrastructure', key: 'bench',
        score: 0.97, size: $accounts, reasons: $reasons, evidence: '[]'})
CREATE (r)-[:FOUND]->(k)
CREATE (:PhoneSegment {segment: '170'})
WITH 1 AS one
UNWIND range(0, $brands - 1) AS b
CREATE (:Brand {brand_id: 'bb' + toString(b), name: '品牌' + toString(b)})
"""
NOTES = """
UNWIND range(0, $notes - 1) AS n
MATCH (b:Brand {brand_id: 'bb' + toString(n % $brands)})
CREATE (note:Note {note_id: 'bn' + toString(n), title: '种草笔记 ' + toString(n), brand_id: b.brand_id,
        account_id: 'creator' + toString(n % 50), posted_at: datetime('2025-01-01T00:00:00Z') + duration({hours: n})})
CREATE (note)-[:PROMOTES]->(b)
"""
ACCOUNTS = """
MATCH (r:DetectionRun {run_id: $run_id})-[:FOUND]->(k:Cluster {cluster_id: $cluster_id})
MATCH (seg:PhoneSegment {segment: '170'})
UNWIND $rows AS x
CREATE (a:Account {account_id: 'ba' + toString(x), nickname: '小红薯' + toString(x), status: 'active',
        registered_at: datetime('2025-02-01T00:00:00Z') + duration({minutes: x}), default_profile: true})
CREATE (k)-[:HAS_MEMBER {score: 0.9}]->(a)
CREATE (r)-[:SCORED {score: 0.9, cluster_id: $cluster_id, detectors: ['shared_infrastructure'],
        reasons: ['shares device bd' + toString(x % $devices) + ' and IP 10.' + toString(x % 200) + '.0.1']}]->(a)
MERGE (d:Device {device_id: 'bd' + toString(x % $devices)})
CREATE (a)-[:USED_DEVICE {first_seen: a.registered_at}]->(d)
MERGE (ip:IP {ip: '10.' + toString(x % 200) + '.' + toString(x % $ips % 250) + '.1'})
CREATE (a)-[:LOGGED_IN_FROM {first_seen: a.registered_at}]->(ip)
CREATE (a)-[:REGISTERED_FROM]->(ip)
MERGE (p:Phone {phone_hash: 'ph' + toString(x % ($accounts / 3))})
CREATE (a)-[:HAS_PHONE]->(p)
MERGE (p)-[:IN_SEGMENT]->(seg)
CREATE (a)-[:IN_PHONE_SEGMENT]->(seg)
"""
COMMENTS = """
UNWIND $rows AS c
MATCH (a:Account {account_id: c.account_id})
MATCH (n:Note {note_id: c.note_id})
CREATE (m:Comment {comment_id: c.comment_id, account_id: c.account_id, note_id: c.note_id, text: c.text,
        created_at: datetime({epochMillis: c.at}), ip: c.ip, device_id: c.device_id})
CREATE (a)-[:WROTE]->(m)
CREATE (m)-[:ON]->(n)
"""
BUSINESS = """
UNWIND range(0, $intermediaries - 1) AS i
CREATE (m:Intermediary {intermediary_id: 'bi' + toString(i), name: '工作室' + toString(i), kind: 'studio'})
WITH m, i
MATCH (a:Account) WHERE a.account_id STARTS WITH 'ba' AND toInteger(substring(a.account_id, 2)) % $intermediaries = i
CREATE (m)-[:MANAGES {since: datetime('2025-01-15T00:00:00Z')}]->(a)
"""
ORDERS = """
UNWIND range(0, $orders - 1) AS o
MATCH (b:Brand {brand_id: 'bb' + toString(o % $brands)})
MATCH (m:Intermediary {intermediary_id: 'bi' + toString(o % $intermediaries)})
MATCH (a:Account {account_id: 'ba' + toString(o * 37 % $accounts)})
MATCH (n:Note {note_id: 'bn' + toString(o % $notes)})
CREATE (x:Order {order_id: 'bo' + toString(o), brand_id: b.brand_id, placed_at: datetime('2025-03-01T00:00:00Z')
        + duration({hours: o}), declared: false})
CREATE (x)-[:PLACED_BY]->(b) CREATE (x)-[:TAKEN_BY]->(m) CREATE (x)-[:ASSIGNED_TO]->(a) CREATE (x)-[:FOR_NOTE]->(n)
"""
SANCTIONS = """
UNWIND range(0, $bans - 1) AS s
MATCH (a:Account {account_id: 'ba' + toString(s)})-[:USED_DEVICE]->(d:Device)
CREATE (ban:Sanction {sanction_id: 'bs' + toString(s), action: 'permanent_ban', reason: 'farm',
        issued_at: datetime('2025-06-01T00:00:00Z'), source: 'import'})-[:TARGETS]->(a)
CREATE (dev:Sanction {sanction_id: 'bsd' + toString(s), action: 'device_ban', level: 2, state: 'active',
        source: 'ringscope', reason: 'device of a banned farm account', derived_from: ['bs' + toString(s)],
        issued_at: datetime('2025-06-02T00:00:00Z')})-[:TARGETS]->(d)
CREATE (dev)-[:DERIVED_FROM]->(ban)
"""


def build(graph, accounts: int, per_account: int) -> dict[str, int]:
    sizes = {"accounts": accounts, "comments": accounts * per_account, "devices": max(accounts // 8, 1),
             "ips": max(accounts // 6, 1), "notes": 300, "brands": 12, "intermediaries": 6, "orders": 120,
             "bans": min(200, accounts)}
    graph.write(SETUP, run_id=RUN_ID, cluster_id=CLUSTER_ID, accounts=accounts, brands=sizes["brands"],
                watermark=json.dumps({"accounts": accounts, "comments": sizes["comments"]}),
                reasons=[f"{accounts} accounts are tied by shared devices, IPs and phone numbers"])
    graph.write(NOTES, notes=sizes["notes"], brands=sizes["brands"])
    for start in range(0, accounts, BATCH):
        graph.write(ACCOUNTS, run_id=RUN_ID, cluster_id=CLUSTER_ID, rows=list(range(start, min(start + BATCH, accounts))),
                    devices=sizes["devices"], ips=sizes["ips"], accounts=accounts)
    base = int(datetime(2025, 5, 1, tzinfo=timezone.utc).timestamp() * 1000)
    rows = []
    for x in range(accounts):
        for j in range(per_account):
            i = x * per_account + j
            rows.append({"comment_id": f"bc{i}", "account_id": f"ba{x}", "note_id": f"bn{(x * 7 + j * 13) % 300}",
                         "text": TEXTS[i % len(TEXTS)] + f" #{i % 97}", "at": base + i * 45_000,
                         "ip": f"172.16.{(x + j) % 250}.{x % 40}", "device_id": f"bd{x % sizes['devices']}"})
            if len(rows) == BATCH:
                graph.write(COMMENTS, rows=rows)
                rows = []
    if rows:
        graph.write(COMMENTS, rows=rows)
    graph.write(BUSINESS, intermediaries=sizes["intermediaries"])
    graph.write(ORDERS, orders=sizes["orders"], brands=sizes["brands"], intermediaries=sizes["intermediaries"],
                accounts=accounts, notes=sizes["notes"])
    graph.write(SANCTIONS, bans=sizes["bans"])
    return sizes


def run(accounts: int, per_account: int, work: Path, port: int, heap: str, pagecache: str) -> str:
    from ringscope.auth.roles import Actor
    from ringscope.evidence.records import Subject
    from ringscope.evidence.export import export_pack

    settings, graph = bench_server(work, port, heap, pagecache)
    reset(graph)
    started = time.monotonic()
    sizes = build(graph, accounts, per_account)
    build_s = time.monotonic() - started
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"Machine: {machine()}",
             f"Neo4j {graph.server_version()}, heap {heap}, page cache {pagecache}; load average before the "
             f"exports {load_average()}", "",
             f"Data (synthetic, built in {build_s:.0f} s): one cluster of {accounts:,} accounts with "
             f"{sizes['comments']:,} comments on {sizes['notes']} notes, {sizes['devices']:,} devices, "
             f"{sizes['ips']:,} IPs, {accounts // 3:,} phones, {sizes['orders']} orders, "
             f"{sizes['intermediaries']} intermediaries, {sizes['brands']} brands, {sizes['bans'] * 2} sanctions "
             "(imported bans and derived device bans).", "",
             "| export | collect s | build s | write s | total s | pack MB | files | nodes.csv rows |",
             "|---|---|---|---|---|---|---|---|"]
    out = work / "pack.zip"
    results = []
    for attempt in ("first (cold)", "second (warm)"):
        started = time.monotonic()
        result = export_pack(graph, Subject("cluster", CLUSTER_ID), out, Actor("bench", "investigator"),
                             signer=None)
        total = time.monotonic() - started
        with zipfile.ZipFile(out) as archive:
            infos = archive.infolist()
            rows = archive.read("graph/nodes.csv").count(b"\n") - 1
            largest = sorted(infos, key=lambda i: -i.file_size)[:6]
            summarised = json.loads(archive.read("manifest.json"))["summarised"]
        results.append(result)
        lines.append(f"| {attempt} | {result.seconds['collect']:.1f} | {result.seconds['build']:.1f} | "
                     f"{result.seconds['write']:.1f} | {total:.1f} | {result.bytes / 2**20:.1f} | {len(infos)} | "
                     f"{rows:,} |")
    lines += ["", "Largest files (uncompressed MB): "
              + ", ".join(f"{i.filename} {i.file_size / 2**20:.1f}" for i in largest) + ".",
              "What the pack says it summarised: " + ("; ".join(summarised) if summarised else "nothing") + ".",
              f"Peak memory: Python {python_peak_mib():.0f} MiB, Neo4j JVM {jvm_peak_mib(settings):.0f} MiB.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--comments-per-account", type=int, default=10)
    parser.add_argument("--work", type=Path, help="where the benchmark's Neo4j lives (default: a temporary folder)")
    parser.add_argument("--port", type=int, default=7751)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="512m")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark's Neo4j running")
    args = parser.parse_args()
    from ringscope.graph.database import close_all
    from ringscope.graph.server import local
    from ringscope.graph.settings import load_settings

    work = args.work or Path(tempfile.mkdtemp(prefix="ringscope-evidence-bench-"))
    try:
        text = run(args.accounts, args.comments_per_account, work, args.port, args.heap, args.pagecache)
    finally:
        close_all()
        if not args.keep:
            import os

            env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
            env.update(RINGSCOPE_HOME=str(work / "neo4j"), RINGSCOPE_BOLT_PORT=str(args.port))
            local.stop(load_settings(env).local)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Evidence pack export speed\n\n"
    RESULTS.write_text(previous + text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
