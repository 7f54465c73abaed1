"""`ringscope sanction ...` end to end: preview, apply, approve, list, history, revoke, expire; one-line errors."""

import csv
import io
import json

import pytest

import ringscope.commands.cli as cli
from tests.sanctions.conftest import accounts, uses

SUBCOMMANDS = ["preview", "apply", "approve", "revoke", "expire", "feed", "list", "history", "pending", "exam", "policy"]


@pytest.mark.parametrize("command", [["sanction"]] + [["sanction", c] for c in SUBCOMMANDS])
def test_help_works(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([*command, "--help"])
    assert done.value.code == 0
    assert "usage: ringscope sanction" in capsys.readouterr().out


def test_the_policy_is_shown(capsys):
    assert cli.main(["sanction", "policy"]) == 0
    out = capsys.readouterr().out
    assert "level 2 (second violation within 30 days): mute 15d, close_commerce 90d" in out
    assert "rule banned_account_bans_devices" in out
    assert cli.main(["sanction", "policy", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 2  # 2: declared orders through fake accounts


def run(capsys, *args):
    code = cli.main(["sanction", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.neo4j
def test_a_decision_from_preview_to_revocation(graph, use_test_db, users_file, capsys):
    accounts(graph, "a1", "a2")
    uses(graph, [("a1", "d1"), ("a2", "d1")])

    code, out, _ = run(capsys, "preview", "--account", "a1", "--kind", "farm_operation", "--reason", "farm",
                       "--evidence", "run:r1", "--actor", "alice")
    assert code == 0
    assert "3 sanctions" not in out and "2 sanctions, 1 review items; needs a second person's approval" in out
    assert "Account a1 -USED_DEVICE-> Device d1 <-USED_DEVICE- Account a2" in out
    assert "nothing has been written" in out
    assert graph.read("MATCH (s:Sanction) RETURN count(s) AS n")[0]["n"] == 0

    code, out, _ = run(capsys, "preview", "--account", "a1", "--kind", "farm_operation", "--reason", "farm",
                       "--actor", "alice", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {(r["target_id"], r["action"], r["hop"]) for r in rows} == {
        ("a1", "permanent_ban", "0"), ("d1", "device_ban", "1"), ("a2", "review", "2")}

    code, out, _ = run(capsys, "preview", "--account", "a1", "--kind", "farm_operation", "--reason", "farm",
                       "--actor", "alice", "--format", "json")
    preview = json.loads(out)
    pid = preview["preview_id"]
    assert preview["plan"]["effects"][0]["path"][0] == {"label": "Account", "id": "a1", "rel": None,
                                                         "direction": None}

    code, out, err = run(capsys, "apply", "--preview", pid, "--actor", "alice")
    assert code == 0 and f"applied {pid}: 2 sanctions (2 awaiting" in out, err
    code, out, _ = run(capsys, "apply", "--preview", pid, "--actor", "alice")
    assert code == 0 and "already applied" in out

    code, out, _ = run(capsys, "pending", "--format", "csv")
    assert pid in out

    code, _, err = run(capsys, "approve", pid, "--actor", "alice")
    assert code == 1 and err.strip().splitlines() == [
        "ringscope: error: alice (investigator) may not approve sanction; roles that may: approver, admin"]
    code, out, _ = run(capsys, "approve", pid, "--actor", "bob", "--reason", "checked")
    assert code == 0 and "approved" in out

    code, out, _ = run(capsys, "history", "--account", "a1")
    assert code == 0 and out.startswith("Account a1: status banned")
    code, out, _ = run(capsys, "list", "--preview", pid, "--format", "csv")
    listed = list(csv.DictReader(io.StringIO(out)))
    assert {(r["target_id"], r["action"], r["state"]) for r in listed} == {("a1", "permanent_ban", "active"),
                                                                          ("d1", "device_ban", "active")}
    ban = next(r["sanction_id"] for r in listed if r["action"] == "permanent_ban")

    code, out, _ = run(capsys, "revoke", ban, "--reason", "appeal granted", "--actor", "bob", "--format", "csv")
    revoked = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {(r["target_id"], r["action"], r["via"]) for r in revoked} == {
        ("a1", "permanent_ban", "named"), ("d1", "device_ban", "cascade"), ("a2", "review", "cascade")}
    code, out, _ = run(capsys, "history", "--account", "a1", "--format", "json")
    assert json.loads(out)["status"] == "active"
    code, out, _ = run(capsys, "expire")
    assert code == 0 and "sanctions expired" in out
    assert cli.main(["audit", "verify"]) == 0


@pytest.mark.neo4j
@pytest.mark.parametrize("args,code,message", [
    (["preview", "--account", "ghost", "--kind", "spam_comment", "--reason", "x", "--actor", "alice"], 1,
     "ringscope: error: no Account with id 'ghost' in the graph"),
    (["preview", "--account", "a1", "--kind", "jaywalking", "--reason", "x", "--actor", "alice"], 1,
     "ringscope: error: --kind 'jaywalking' is not a violation kind of the sanction policy"),
    # Nobody named, and the OS user is not in the users file: who acts must be known (commands/actor.py).
    (["preview", "--account", "a1", "--kind", "spam_comment", "--reason", "x"], 1,
     "ringscope: error: the OS user"),
    (["preview", "--account", "a1", "--kind", "spam_comment", "--reason", "x", "--actor", "mallory"], 1,
     "ringscope: error: --actor 'mallory' is not in the users file"),
    (["preview", "--account", "a1", "--kind", "spam_comment", "--reason", "x", "--actor", "vic"], 1,
     "ringscope: error: vic (viewer) may not preview sanction"),
    (["preview", "--kind", "spam_comment", "--reason", "x", "--actor", "alice"], 2,
     "ringscope: error: name what to sanction"),
    (["apply", "--preview", "P-nope", "--actor", "alice"], 1, "ringscope: error: no sanction preview 'P-nope'"),
    (["revoke", "S-nope", "--reason", "x", "--actor", "bob"], 1, "ringscope: error: no sanction 'S-nope'"),
    (["history", "--account", "ghost"], 1, "ringscope: error: no Account with id 'ghost'"),
    (["exam", "--account", "ghost", "--actor", "alice"], 1, "ringscope: error: no Account with id 'ghost'"),
])
def test_mistakes_are_one_line(graph, use_test_db, users_file, capsys, args, code, message):
    accounts(graph, "a1")
    got, _, err = run(capsys, *args)
    assert got == code
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)
