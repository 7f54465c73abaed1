"""Hostile: someone with write access to the database (not to RINGSCOPE_HOME) tries to make the audit log lie.

Each test is a probe that verified `ok` before the log was anchored outside the database: removing the last
entries and rolling the head back, deleting the head, emptying the log, recomputing the whole chain, adding an
entry behind the tool's back. Plus the honest failures the anchor must live with: a crash between the commit
and the anchor line, several processes appending at once, a deliberate `ringscope reset`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

import ringscope.commands.cli as cli
from ringscope.audit import anchor as anchor_module
from ringscope.audit.chain import GENESIS, entry_hash
from ringscope.audit.log import anchor_file, head, record, verify
from ringscope.auth.users import save_user
from tests.conftest import REPO

pytestmark = pytest.mark.neo4j

LATER = timedelta(minutes=5)  # past the grace for commits in flight


def ago(minutes: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def forge(graph, at: datetime, actor="mallory", action="sanction.approve"):
    """A properly chained entry written straight into the database, as the tool would have written it."""
    last = chain(graph)[-1]
    seq, moment = last["seq"] + 1, at.isoformat(timespec="microseconds")
    entry = dict(last, seq=seq, at=moment, actor=actor, action=action, prev_hash=last["hash"])
    entry["hash"] = entry_hash(seq, moment, actor, entry["role"], action, entry["target_type"], entry["target_id"],
                               entry["reason"], entry["details"], last["hash"])
    graph.write("CREATE (e:AuditEntry) SET e = $e", e=entry)
    graph.write("MATCH (h:AuditHead) SET h.seq = $seq, h.hash = $hash", seq=seq, hash=entry["hash"])


def fill(graph, n=5, actor="alice"):
    for i in range(n):
        record(graph, actor=actor, role="investigator", action="sanction.apply", target_type="account",
               target_id=f"acc{i}", reason="farm", details={"level": i})


def chain(graph):
    return [r["e"] for r in graph.read("MATCH (e:AuditEntry) RETURN e {.*} AS e ORDER BY e.seq")]


def recompute(graph, change):
    """What an attacker with database access can do: edit entries, recompute every hash and the head."""
    previous = GENESIS
    for e in chain(graph):
        change(e)
        e["prev_hash"] = previous
        e["hash"] = entry_hash(e["seq"], e["at"], e["actor"], e["role"], e["action"], e["target_type"],
                               e["target_id"], e["reason"], e["details"], previous)
        graph.write("MATCH (x:AuditEntry {seq: $seq}) SET x = $e", seq=e["seq"], e=e)
        previous = e["hash"]
    graph.write("MATCH (h:AuditHead {name: 'audit'}) SET h.seq = $seq, h.hash = $hash",
                seq=len(chain(graph)), hash=previous)


def broken(graph, capsys, *words):
    result = verify(graph)
    assert not result.ok, result
    for word in words:
        assert word in result.problem, result.problem
    capsys.readouterr()
    assert cli.main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("broken: ") and len(out.strip().splitlines()) == 1
    return result.problem


def test_removing_the_last_entries_and_rolling_the_head_back_is_detected(graph, use_test_db, capsys):
    fill(graph)
    third = chain(graph)[2]
    graph.write("MATCH (e:AuditEntry) WHERE e.seq > 3 DETACH DELETE e")
    graph.write("MATCH (h:AuditHead) SET h.seq = 3, h.hash = $hash", hash=third["hash"])
    broken(graph, capsys, "entry 4 was written", "entries at the end were removed")


def test_deleting_the_head_is_detected(graph, use_test_db, capsys):
    fill(graph)
    graph.write("MATCH (h:AuditHead) DELETE h")
    broken(graph, capsys, "head is missing")
    graph.write("MATCH (e:AuditEntry {seq: 5}) DETACH DELETE e")  # the head entry too
    broken(graph, capsys)


def test_emptying_the_log_is_detected(graph, use_test_db, capsys):
    fill(graph)
    graph.write("MATCH (n) WHERE n:AuditEntry OR n:AuditHead DETACH DELETE n")
    broken(graph, capsys, "the log is empty", "entries at the end were removed")


def test_recomputing_the_whole_chain_is_detected(graph, use_test_db, capsys):
    fill(graph)
    recompute(graph, lambda e: e.update(reason="nothing to see") if e["seq"] == 2 else None)
    broken(graph, capsys, "entry 2 (sanction.apply on account acc1 by alice",
           "does not have the hash it was written with", "the log was rewritten and its chain recomputed")


def test_an_entry_added_behind_the_tools_back_is_detected(graph, use_test_db, capsys):
    fill(graph, 2)
    forge(graph, ago(10))
    broken(graph, capsys, "entry 3 (sanction.approve on account acc1 by mallory", "not in the anchor file")


def test_an_entry_without_its_anchor_line_passes_only_while_it_may_be_in_flight(graph, use_test_db):
    """A minute's grace: it could be another process's commit whose line is being written right now."""
    fill(graph, 2)
    forge(graph, datetime.now(timezone.utc))
    now = verify(graph)
    assert now.ok and now.anchored == 2 and "1 entries written in the last 60 s are not anchored yet" in now.line()
    assert not verify(graph, now=datetime.now(timezone.utc) + LATER).ok
    forge(graph, datetime.now(timezone.utc) + LATER)  # dated in the future to stay "in flight": no
    assert "entry 4 " in verify(graph).problem


def test_a_crash_between_commit_and_anchor_is_reported_and_an_admin_adopts_the_entry(graph, use_test_db, capsys,
                                                                                    monkeypatch, tmp_path):
    fill(graph, 2)

    def crash(*args, **kwargs):
        raise OSError("the process died here")

    with monkeypatch.context() as m:
        m.setattr(anchor_module, "write_lines", crash)
        record(graph, actor="alice", role="investigator", action="sanction.apply", target_type="account",
               target_id="acc9", reason="committed, never anchored", at=ago(10))
    problem = broken(graph, capsys, "entry 3 (sanction.apply on account acc9", "audit anchor")

    users = tmp_path / "users.yaml"
    save_user("root", "admin", None, users)
    save_user("ivy", "investigator", None, users)
    monkeypatch.setenv("RINGSCOPE_USERS", str(users))
    capsys.readouterr()
    assert cli.main(["audit", "anchor", "--reason", "checked", "--actor", "ivy"]) == 1
    assert "may not anchor audit" in capsys.readouterr().err
    assert verify(graph).problem == problem
    assert cli.main(["audit", "anchor", "--reason", "checked entry 3 against the sanction", "--actor", "root"]) == 0
    assert "anchored 1 entries (3 to 3)" in capsys.readouterr().out
    assert verify(graph, now=datetime.now(timezone.utc) + LATER).ok
    adopted = chain(graph)[-1]
    assert adopted["action"] == "audit.anchor" and json.loads(adopted["details"])["adopted"] == ["3"]
    assert cli.main(["audit", "anchor", "--reason", "again", "--actor", "root"]) == 0
    assert "nothing to anchor" in capsys.readouterr().out


def test_adopting_is_refused_when_anchored_entries_were_removed(graph, use_test_db, capsys, tmp_path,
                                                                monkeypatch):
    fill(graph, 3)
    graph.write("MATCH (e:AuditEntry {seq: 3}) DETACH DELETE e")
    graph.write("MATCH (h:AuditHead) SET h.seq = 2, h.hash = $hash", hash=chain(graph)[-1]["hash"])
    users = tmp_path / "users.yaml"
    save_user("root", "admin", None, users)
    monkeypatch.setenv("RINGSCOPE_USERS", str(users))
    assert cli.main(["audit", "anchor", "--reason", "cover it up", "--actor", "root"]) == 1
    assert "nothing adopted: entry 3 was written" in capsys.readouterr().err


def test_threads_and_processes_appending_at_once_keep_the_anchor_whole(graph, use_test_db, cli_env):
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: record(graph, actor=f"u{i}", role="admin", action="evidence.export",
                                       target_type="cluster", target_id=str(i), reason=""), range(12)))
    script = ("import sys; from ringscope.graph.database import connect; from ringscope.audit.log import record\n"
              "g = connect()\n"
              "for i in range(8): record(g, actor=sys.argv[1], role='admin', action='evidence.export', "
              "target_type='cluster', target_id=str(i), reason='')\n")
    workers = [subprocess.Popen([sys.executable, "-c", script, f"p{n}"], cwd=REPO, env=cli_env) for n in range(3)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    result = verify(graph, now=datetime.now(timezone.utc) + LATER)
    assert result.ok and result.entries == 36 and result.anchored == 36, result
    lines = [line for line in anchor_file(graph.settings).read_text().splitlines() if not line.startswith("#")]
    since_reset = lines[len(lines) - lines[::-1].index(f"0 {GENESIS}"):]
    assert sorted(int(line.split()[0]) for line in since_reset) == list(range(1, 37))


def test_a_deliberate_reset_starts_the_anchor_again_and_an_unannounced_one_does_not(graph, use_test_db, capsys):
    from ringscope.graph.admin import reset

    fill(graph, 3)
    assert cli.main(["reset", "--yes"]) == 0
    fill(graph, 2, actor="bob")
    assert verify(graph, now=datetime.now(timezone.utc) + LATER).ok
    reset(graph)  # the database emptied without telling the anchor: what an attacker would do
    fill(graph, 2, actor="carol")
    broken(graph, capsys, "two different hashes for entry 1")


def test_the_anchor_file_is_private_and_can_live_elsewhere(graph, use_test_db, tmp_path, monkeypatch):
    fill(graph, 1)
    path = anchor_file(graph.settings)
    assert path.is_relative_to(use_test_db.local.home) and path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    elsewhere = tmp_path / "worm" / "audit.heads"
    monkeypatch.setenv("RINGSCOPE_AUDIT_ANCHOR", str(elsewhere))
    fill(graph, 1)
    assert elsewhere.read_text().splitlines()[-1].startswith("2 ")


def test_a_packs_audit_head_must_still_be_in_the_chain(graph, use_test_db, capsys, tmp_path, monkeypatch):
    from ringscope.auth.roles import Actor
    from ringscope.evidence.export import export_pack
    from ringscope.evidence.records import Subject
    from tests.evidence.conftest import CLUSTER_ID, build_world

    build_world(graph)
    fill(graph, 2)
    seen = head(graph)
    out = tmp_path / "pack.zip"
    export_pack(graph, Subject("cluster", CLUSTER_ID), out, Actor("alice", "investigator"))
    with zipfile.ZipFile(out) as archive:
        manifest = archive.read("manifest.json")
    assert json.loads(manifest)["audit_head"] == seen
    (tmp_path / "manifest.json").write_bytes(manifest)
    for given in (out, tmp_path / "manifest.json"):
        capsys.readouterr()
        assert cli.main(["audit", "verify", "--pack", str(given)]) == 0
        assert f"the head it saw (entry {seen['seq']}) and its export are in the chain" in capsys.readouterr().out

    # The attacker rewrites history before the export and recomputes everything, anchor file included.
    recompute(graph, lambda e: e.update(actor="nobody") if e["seq"] == 2 else None)
    path = anchor_file(graph.settings)
    monkeypatch.setenv("RINGSCOPE_AUDIT_ANCHOR", str(tmp_path / "forged.heads"))
    (tmp_path / "forged.heads").write_text("".join(f"{e['seq']} {e['hash']}\n" for e in chain(graph)))
    assert verify(graph).ok  # the database and a forged anchor agree ...
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--pack", str(out)]) == 1  # ... but the pack remembers
    assert f"the pack saw entry {seen['seq']} with hash" in capsys.readouterr().out
    assert path.exists()


def test_verify_pack_names_what_is_not_a_pack(graph, use_test_db, capsys, tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text("[1, 2]")
    assert cli.main(["audit", "verify", "--pack", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert "not valid JSON" in err or "not a ringscope-evidence-pack" in err or "not a JSON object" in err
    assert len(err.strip().splitlines()) == 1
    assert cli.main(["audit", "verify", "--pack", str(tmp_path / "missing.zip")]) == 1
    assert "no such file" in capsys.readouterr().err
