"""A small, fully known world for evidence packs, written straight into the test Neo4j.

One completed detection run found one cluster of ``MEMBERS`` accounts tied by
a device, a login IP and a phone; they comment in Chinese (one comment cites
an IP address), an intermediary manages some of them, an order of a brand went
to one; an imported ban on the first account was propagated (DERIVED_FROM) to
the device; the audit log holds both sanctions. One account is organic and in
no cluster. A case is about the cluster. Every IP and phone hash used is in
``PERSONAL`` so tests can check that none of them leaks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringscope.audit.log import record
from ringscope.auth.users import save_user

RUN_ID = "run-20250630T000000Z-test01"
CLUSTER_ID = f"{RUN_ID}:shared_infrastructure:00aa11bb22cc33dd"
CASE_ID = "case-7"
MEMBERS = [f"acc{i:03d}" for i in range(1, 46)]  # 45: more than a report table shows
ORGANIC = "acc999"
SHARED_IP = "203.0.113.9"
COMMENT_IP = "198.51.100.7"
TEXT_IP = "192.0.2.77"
V6_IP = "2001:db8:85a3::8a2e:370:7334"
SHARED_PHONE = "9f8e7d6c5b4a3921"
PHONES = {a: (SHARED_PHONE if i < 3 else f"{0xabc0000000000000 + i:016x}") for i, a in enumerate(MEMBERS)}
PERSONAL = [SHARED_IP, COMMENT_IP, TEXT_IP, V6_IP, SHARED_PHONE, *sorted(set(PHONES.values()))]
LURE = "姐妹们这个真的绝了，加V信私我优惠"

POLICY = json.dumps({"version": 1, "flag_threshold": 0.5,
                     "detectors": {"shared_infrastructure": {"enabled": True, "weight": 0.85, "params": {}}}})
WATERMARK = json.dumps({"accounts": 46, "comments": 90, "last_comment": "2025-06-20T10:00:00Z",
                        "last_registration": "2025-03-02T00:00:00Z", "likes": 0})
REASONS = [f"45 accounts are tied by 1 shared login IP: {SHARED_IP} (45 of 45 members, 45 accounts in all)",
           f"3 accounts are tied by 1 shared phone number (hash): {SHARED_PHONE} (3 of 45 members)",
           "45 accounts are tied by 1 shared device: dev-1 (45 of 45 members)"]
EVIDENCE = json.dumps([[{"kind": "ip", "ids": [SHARED_IP]}], [{"kind": "phone", "ids": [SHARED_PHONE]}],
                       [{"kind": "device", "ids": ["dev-1"]}]])

WORLD = """
CREATE (r:DetectionRun {run_id: $run_id, status: 'completed', started_at: datetime('2025-06-30T00:00:00Z'),
        finished_at: datetime('2025-06-30T00:05:00Z'), policy: $policy, watermark: $watermark,
        code_version: '0.1.0+test', flag_threshold: 0.5})
CREATE (k:Cluster {cluster_id: $cluster_id, run_id: $run_id, detector: 'shared_infrastructure',
        key: 'shared_infrastructure:00aa11bb22cc33dd', score: 0.93, size: size($members), reasons: $reasons,
        evidence: $evidence})
CREATE (r)-[:FOUND]->(k)
CREATE (d:Device {device_id: 'dev-1', model: 'Redmi 9A', is_emulator: true})
CREATE (ip:IP {ip: $shared_ip})
CREATE (ip6:IP {ip: $v6_ip})
CREATE (cip:IP {ip: $comment_ip})
CREATE (seg:PhoneSegment {segment: '170'})
CREATE (b:Brand {brand_id: 'brand-1', name: '完美日记', category: 'beauty'})
CREATE (i:Intermediary {intermediary_id: 'mcn-1', name: '星河传媒工作室', kind: 'studio', registered: false})
CREATE (n:Note {note_id: 'note-1', title: '平价好物分享', account_id: 'creator-1', brand_id: 'brand-1',
        posted_at: datetime('2025-06-01T08:00:00Z'), declared_commercial: false})
CREATE (n)-[:PROMOTES]->(b)
CREATE (o:Order {order_id: 'order-1', brand_id: 'brand-1', intermediary_id: 'mcn-1', account_id: $members[0],
        note_id: 'note-1', placed_at: datetime('2025-05-30T00:00:00Z'), declared: false})
CREATE (o)-[:PLACED_BY]->(b) CREATE (o)-[:TAKEN_BY]->(i) CREATE (o)-[:FOR_NOTE]->(n)
WITH r, k, d, ip, ip6, cip, seg, i, n, o
UNWIND range(0, size($members) - 1) AS x
WITH r, k, d, ip, ip6, cip, seg, i, n, o, x, $members[x] AS id
CREATE (a:Account {account_id: id, nickname: '小红薯' + toString(6000 + x), status: 'active',
        registered_at: datetime('2025-03-01T00:00:00Z') + duration({minutes: x * 3}), default_profile: true})
CREATE (k)-[:HAS_MEMBER {score: 0.9}]->(a)
CREATE (r)-[:SCORED {score: 0.8 + x / 1000.0, cluster_id: $cluster_id, detectors: ['shared_infrastructure'],
        reasons: ['shares login IP ' + $shared_ip + ' with 44 accounts']}]->(a)
CREATE (a)-[:USED_DEVICE {first_seen: datetime('2025-03-01T00:00:00Z')}]->(d)
CREATE (a)-[:LOGGED_IN_FROM {first_seen: datetime('2025-03-01T00:00:00Z')}]->(ip)
CREATE (a)-[:REGISTERED_FROM]->(ip)
MERGE (p:Phone {phone_hash: $phones[id]})
MERGE (a)-[:HAS_PHONE]->(p)
MERGE (p)-[:IN_SEGMENT]->(seg)
CREATE (a)-[:IN_PHONE_SEGMENT]->(seg)
FOREACH (_ IN CASE WHEN x < 5 THEN [1] ELSE [] END | CREATE (i)-[:MANAGES {since: datetime('2025-02-01T00:00:00Z')}]->(a))
FOREACH (_ IN CASE WHEN x = 0 THEN [1] ELSE [] END |
    CREATE (o)-[:ASSIGNED_TO]->(a) CREATE (a)-[:LOGGED_IN_FROM]->(ip6))
CREATE (c1:Comment {comment_id: 'c-' + id + '-1', account_id: id, note_id: 'note-1', text: $lure,
        created_at: datetime('2025-06-20T10:00:00Z') + duration({seconds: x * 20}), ip: $comment_ip,
        device_id: 'dev-1'})
CREATE (c2:Comment {comment_id: 'c-' + id + '-2', account_id: id, note_id: 'note-1',
        text: '链接私你了 联系 ' + $text_ip, created_at: datetime('2025-06-20T11:00:00Z') + duration({seconds: x * 20})})
CREATE (a)-[:WROTE]->(c1) CREATE (c1)-[:ON]->(n) CREATE (c1)-[:FROM_IP]->(cip) CREATE (c1)-[:FROM_DEVICE]->(d)
CREATE (a)-[:WROTE]->(c2) CREATE (c2)-[:ON]->(n)
"""
ORGANIC_ACCOUNT = """
CREATE (a:Account {account_id: $id, nickname: '普通用户', status: 'active',
        registered_at: datetime('2021-05-05T00:00:00Z')})
CREATE (a)-[:USED_DEVICE]->(:Device {device_id: 'dev-organic'})
"""
SANCTIONS = """
MATCH (a:Account {account_id: $first}), (d:Device {device_id: 'dev-1'})
CREATE (s1:Sanction {sanction_id: 'sanc-1', action: 'permanent_ban', reason: 'farm account',
        issued_at: datetime('2025-06-21T00:00:00Z'), source: 'import'})-[:TARGETS]->(a)
CREATE (s2:Sanction {sanction_id: 'sanc-2', action: 'device_ban', level: 2, state: 'active',
        reason: 'device of banned farm, login IP ' + $shared_ip, decided_by: 'alice', approved_by: 'bob',
        issued_at: datetime('2025-06-22T00:00:00Z'), derived_from: 'sanc-1'})-[:TARGETS]->(d)
CREATE (s2)-[:DERIVED_FROM]->(s1)
"""
CASE = """
MATCH (k:Cluster {cluster_id: $cluster_id})
CREATE (:Case {case_id: $case_id, title: '完美日记 comment ring', opened_by: 'alice'})-[:ABOUT]->(k)
"""


def build_world(graph) -> None:
    graph.write(WORLD, run_id=RUN_ID, cluster_id=CLUSTER_ID, members=MEMBERS, policy=POLICY, watermark=WATERMARK,
                reasons=REASONS, evidence=EVIDENCE, shared_ip=SHARED_IP, v6_ip=V6_IP, comment_ip=COMMENT_IP,
                text_ip=TEXT_IP, phones=PHONES, lure=LURE)
    graph.write(ORGANIC_ACCOUNT, id=ORGANIC)
    graph.write(SANCTIONS, first=MEMBERS[0], shared_ip=SHARED_IP)
    graph.write(CASE, cluster_id=CLUSTER_ID, case_id=CASE_ID)
    record(graph, actor="alice", role="investigator", action="sanction.apply", target_type="sanction",
           target_id="sanc-2", reason=f"propagated from sanc-1 over device dev-1 (IP {SHARED_IP})",
           details={"ip": SHARED_IP, "phone_hash": SHARED_PHONE})


@pytest.fixture
def world(graph):
    build_world(graph)
    return graph


@pytest.fixture
def users(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "users.yaml"
    save_user("alice", "investigator", None, path)
    save_user("bob", "approver", None, path)
    save_user("vera", "viewer", None, path)
    monkeypatch.setenv("RINGSCOPE_USERS", str(path))
    for key in ("RINGSCOPE_EVIDENCE_HMAC_KEY", "RINGSCOPE_EVIDENCE_SIGNING_KEY", "RINGSCOPE_EVIDENCE_VERIFY_KEY"):
        monkeypatch.delenv(key, raising=False)
    return path
