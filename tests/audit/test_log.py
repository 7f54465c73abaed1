"""The audit chain against the real Neo4j: appends, concurrency, and every kind of tampering."""

from concurrent.futures import ThreadPoolExecutor

import pytest

import ringscope.commands.cli as cli
from ringscope.audit.log import entries, record, verify

pytestmark = pytest.mark.neo4j


def fill(graph, n=5):
    for i in range(n):
        record(graph, actor="alice", role="investigator", action="sanction.apply", target_type="account",
               target_id=f"acc{i}", reason="farm 私我", details={"level": i})


def test_a_fresh_log_verifies_and_lists_newest_first(graph, use_test_db, capsys):
    fill(graph)
    assert verify(graph).ok and verify(graph).entries == 5
    assert [e.seq for e in entries(graph, limit=3)] == [5, 4, 3]
    assert [e.target_id for e in entries(graph, target_id="acc2")] == ["acc2"]
    assert cli.main(["audit", "verify"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("ok: 5 entries") and "5 of them match the anchor file" in out


def test_concurrent_appends_never_fork_the_chain(graph):
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: record(graph, actor=f"u{i}", role="admin", action="evidence.export",
                                       target_type="cluster", target_id=str(i), reason=""), range(20)))
    result = verify(graph)
    assert result.ok and result.entries == 20


def test_entries_appended_in_one_statement_chain_like_single_appends(graph):
    from ringscope.audit.log import append_many

    fill(graph, 2)
    made = graph.write_transaction(lambda tx: append_many(tx, [
        {"actor": "ringscope detect", "role": "system", "action": "watch.place", "target_type": "account",
         "target_id": f"w{i}", "reason": "risk in the watch band", "details": {"risk": 0.3 + i / 100}}
        for i in range(3)]))
    fill(graph, 1)
    assert [e.seq for e in made] == [3, 4, 5] and made[0].prev_hash == entries(graph, limit=5)[-1].hash
    result = verify(graph)
    assert result.ok and result.entries == 6 and result.anchored == 6
    assert graph.write_transaction(lambda tx: append_many(tx, [])) == []


@pytest.mark.parametrize("tamper,message", [
    ("MATCH (e:AuditEntry {seq: 3}) SET e.reason = 'nothing to see'", "entry 3 (sanction.apply on account acc2 by alice)"),
    ("MATCH (e:AuditEntry {seq: 3}) SET e.actor = 'mallory'", "it was edited"),
    ("MATCH (e:AuditEntry {seq: 3}) DETACH DELETE e", "entry 3 is missing"),
    ("MATCH (e:AuditEntry {seq: 5}) DETACH DELETE e", "entries at the end were removed"),
    ("MATCH (e:AuditEntry {seq: 5}) CREATE (:AuditEntry {seq: 6, at: e.at, actor: 'mallory', role: 'admin', "
     "action: 'sanction.revoke', target_type: 'account', target_id: 'acc0', reason: '', details: '{}', "
     "prev_hash: e.hash, hash: 'forged'})", "entry 6 (sanction.revoke on account acc0 by mallory)"),
])
def test_verification_names_the_first_broken_entry(graph, use_test_db, capsys, tamper, message):
    fill(graph)
    graph.write(tamper)
    result = verify(graph)
    assert not result.ok and message in result.problem
    assert cli.main(["audit", "verify"]) == 1
    assert message in capsys.readouterr().out
