"""Appeals on the real Neo4j: filing, the queue, a grant that runs the revoke cascade in the same transaction as the
verdict, a denial, four eyes, repeats and races, the granted share by kind and detector, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import ringscope.commands.cli as cli
from ringscope.appeals import service
from ringscope.appeals.rules import DENIED, FILED, GRANTED, MANUAL, AppealError
from ringscope.audit.log import entries, verify
from ringscope.auth.roles import Actor, NotAllowed
from ringscope.common.errors import SettingError
from ringscope.sanctions import service as sanctions
from ringscope.sanctions.propagation import Decision, NodeRef
from tests.sanctions.conftest import ALICE, BOB, CAROL, VIEWER, accounts, day, imported, uses

pytestmark = pytest.mark.neo4j

CLUSTER = """
CREATE (k:Cluster {cluster_id: $cluster_id, detector: $detector, run_id: $run_id})
WITH k UNWIND $members AS m
MATCH (a:Account {account_id: m})
CREATE (k)-[:HAS_MEMBER {score: 0.9}]->(a)
"""


def cluster(graph, cluster_id, detector, members, run_id="run-1"):
    graph.write(CLUSTER, cluster_id=cluster_id, detector=detector, run_id=run_id, members=list(members))


def decide(graph, decision, at=None, actor=ALICE):
    p = sanctions.preview(graph, decision, actor, now=at or day(0))
    return p, sanctions.apply(graph, p.preview_id, actor, now=at or day(0))


def spam(account, **more):
    return Decision("spam_comment", (NodeRef("Account", account),), reason="spam ring", **more)


def account_status(graph, account_id):
    row = graph.read("MATCH (a:Account {account_id: $id}) RETURN a.status AS status, a.credit AS credit",
                     id=account_id)[0]
    return row["status"], row["credit"]


def sanction_states(graph, ids):
    return {r["id"]: r["state"] for r in graph.read("MATCH (s:Sanction) WHERE s.sanction_id IN $ids "
                                                   "RETURN s.sanction_id AS id, s.state AS state", ids=list(ids))}


def farm_on_a_device(graph):
    """c1, c2 in a cluster found by dense_blocks, sharing device dc: a farm decision bans both and the device."""
    accounts(graph, "c1", "c2")
    uses(graph, [("c1", "dc"), ("c2", "dc")])
    cluster(graph, "k-farm", "dense_blocks", ["c1", "c2"])
    p, r = decide(graph, Decision("farm_operation", cluster="k-farm", reason="farm"), actor=CAROL)
    sanctions.approve(graph, p.preview_id, BOB, now=day(0))
    return p, r


# --------------------------------------------------------------------------- the life of an appeal

def test_an_appeal_filed_queued_and_granted_revokes_with_the_cascade_in_one_commit(graph):
    p, r = farm_on_a_device(graph)
    ban = {(e.target.id, e.action): p.ids[e.key] for e in p.effects}
    assert account_status(graph, "c1")[0] == "banned"

    appeal = service.file(graph, ALICE, p.preview_id, "we are two sisters sharing one phone",
                          ["upload://id-c1.jpg", "upload://id-c2.jpg"], appellant="c1's holder", now=day(1))
    assert (appeal.state, appeal.subject_kind, appeal.kind) == (FILED, "decision", "farm_operation")
    assert (appeal.detector, appeal.cluster_id, appeal.run_id) == ("dense_blocks", "k-farm", "run-1")
    assert set(appeal.sanction_ids) == {ban[("c1", "permanent_ban")], ban[("c2", "permanent_ban")]}
    assert appeal.material == ("upload://id-c1.jpg", "upload://id-c2.jpg") and appeal.filed_by == "alice"
    assert {s.path for s in appeal.sanctions} == {"Cluster k-farm -HAS_MEMBER-> Account c1",
                                                  "Cluster k-farm -HAS_MEMBER-> Account c2"}
    assert [a.appeal_id for a in service.queue(graph)] == [appeal.appeal_id]

    # carol applied the decision: she may not decide its appeal; bob approved it: nor may he
    for insider in (CAROL, BOB):
        with pytest.raises(AppealError, match=f"{insider.name} took part in the decision appealed"):
            service.grant(graph, insider, appeal.appeal_id, "ok", now=day(2))
    dana = Actor("dana", "approver")
    before = verify(graph).entries
    verdict = service.grant(graph, dana, appeal.appeal_id, "ID documents check out", now=day(2))
    assert verdict.appeal.state == GRANTED and verdict.appeal.decided_by == "dana" and not verdict.already
    assert set(verdict.appeal.revoked) == set(ban.values()) == {x.id for x in verdict.revocation.revoked}
    assert set(sanction_states(graph, ban.values()).values()) == {"revoked"}  # the device's ban followed
    assert account_status(graph, "c1")[0] == "active" and account_status(graph, "c2")[0] == "active"
    assert service.queue(graph) == []

    # the verdict and the revocation are one commit: their entries are consecutive, at the same moment
    new = [e for e in reversed(entries(graph, limit=50)) if e.seq > before]
    assert [e.action for e in new][-1] == "appeal.grant"
    assert {e.action for e in new[:-1]} == {"sanction.revoke"} and len({e.at for e in new}) == 1
    assert json.loads(new[-1].details)["revoked"] == list(verdict.appeal.revoked)
    assert verify(graph).ok

    # a repeat changes nothing; a different verdict on a decided appeal is refused
    again = service.grant(graph, dana, appeal.appeal_id, "ID documents check out", now=day(3))
    assert again.already and verify(graph).entries == new[-1].seq
    with pytest.raises(AppealError, match="was granted by dana .* final"):
        service.deny(graph, Actor("eve", "admin"), appeal.appeal_id, "changed my mind", now=day(3))
    with pytest.raises(AppealError, match="revoked already: nothing to appeal"):
        service.file(graph, ALICE, ban[("c1", "permanent_ban")], "again", now=day(4))


def test_a_denied_appeal_leaves_the_sanction_and_a_new_one_may_be_filed(graph):
    accounts(graph, "d1")
    p, r = decide(graph, spam("d1"))
    sanction = r.sanction_ids[0]
    appeal = service.file(graph, ALICE, sanction, "my comments were genuine", now=day(1))
    assert (appeal.subject_kind, appeal.detector, appeal.kind) == ("sanction", MANUAL, "spam_comment")
    verdict = service.deny(graph, BOB, appeal.appeal_id, "the same text on 40 notes in an hour", now=day(3))
    assert verdict.appeal.state == DENIED and verdict.appeal.decision_reason.startswith("the same text")
    assert verdict.appeal.age_days(day(30)) == pytest.approx(2)
    assert sanction_states(graph, r.sanction_ids) == {sanction: "active"}
    last = entries(graph, limit=1)[0]
    assert (last.action, last.target_id, last.actor, last.reason) == ("appeal.deny", "d1", "bob",
                                                                     "the same text on 40 notes in an hour")
    assert service.deny(graph, BOB, appeal.appeal_id, "again", now=day(4)).already
    second = service.file(graph, ALICE, sanction, "new material: the account was hacked", ["ticket://881"],
                          now=day(5))
    assert [a.appeal_id for a in service.appeals(graph, [FILED])] == [second.appeal_id]
    assert [a.state for a in service.appeals(graph)] == [DENIED, FILED]  # oldest first


def test_what_cannot_be_filed_or_decided_is_one_clear_message(graph):
    accounts(graph, "f1", "f2")
    imported(graph, "imp-f2", "f2", "mute", day(-3))
    _, r = decide(graph, spam("f1"))
    sanction = r.sanction_ids[0]
    with pytest.raises(NotAllowed):
        service.file(graph, VIEWER, sanction, "not me")
    with pytest.raises(SettingError, match="needs a statement"):
        service.file(graph, ALICE, sanction, "  ")
    with pytest.raises(AppealError, match="no sanction or applied decision 'S-nope'"):
        service.file(graph, ALICE, "S-nope", "not me")
    with pytest.raises(AppealError, match="imported from the platform"):
        service.file(graph, ALICE, "imp-f2", "not me")
    unapplied = sanctions.preview(graph, spam("f2"), ALICE, now=day(0))
    with pytest.raises(AppealError, match="never applied"):
        service.file(graph, ALICE, unapplied.preview_id, "not me")
    filed = service.file(graph, ALICE, sanction, "not me", now=day(1))
    with pytest.raises(AppealError, match=f"in the queue already \\({filed.appeal_id}\\)"):
        service.file(graph, ALICE, r.preview_id, "the whole decision, too")
    with pytest.raises(NotAllowed):
        service.grant(graph, ALICE, filed.appeal_id, "investigators do not decide")
    with pytest.raises(SettingError, match="reason"):
        service.deny(graph, BOB, filed.appeal_id, "")
    with pytest.raises(AppealError, match="no appeal 'AP-nope'"):
        service.grant(graph, BOB, "AP-nope", "x")
    with pytest.raises(SettingError, match="unknown appeal state"):
        service.appeals(graph, ["open"])


def test_two_people_deciding_at_once_revoke_once(graph):
    accounts(graph, "r1")
    _, r = decide(graph, spam("r1"))
    appeal = service.file(graph, ALICE, r.sanction_ids[0], "not me", now=day(1))
    barrier = threading.Barrier(2)

    def go(actor):
        barrier.wait()
        return service.grant(graph, actor, appeal.appeal_id, "granted", now=day(2))

    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(go, [BOB, CAROL]))
    assert sorted(v.already for v in verdicts) == [False, True]
    assert len([e for e in entries(graph, limit=100) if e.action == "sanction.revoke"]) == 1
    assert len([e for e in entries(graph, limit=100) if e.action == "appeal.grant"]) == 1
    assert account_status(graph, "r1")[1] == 100 and verify(graph).ok


def test_two_filings_against_one_sanction_at_once_queue_one_appeal(graph):
    accounts(graph, "q1")
    _, r = decide(graph, spam("q1"))
    barrier = threading.Barrier(2)

    def go(n):
        barrier.wait()
        try:
            return service.file(graph, ALICE, r.sanction_ids[0], f"filing {n}", now=day(1))
        except AppealError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(go, [1, 2]))
    assert sorted(isinstance(o, AppealError) for o in outcomes) == [False, True]
    assert len(service.queue(graph)) == 1


# --------------------------------------------------------------------------- the granted share

def appeals_by_detector(graph):
    """Per detector, four single-account clusters sanctioned for spam, each appealed: comment_templates' decisions
    are all overturned, dense_blocks' none; of four manual decisions one is."""
    outcomes = {"comment_templates": [True] * 4, "dense_blocks": [False] * 4, MANUAL: [True, False, False, False]}
    for detector, granted in outcomes.items():
        for n, grant in enumerate(granted):
            account = f"{detector[:4]}{n}"
            accounts(graph, account)
            if detector == MANUAL:
                _, r = decide(graph, spam(account))
            else:
                cluster(graph, f"k-{account}", detector, [account])
                _, r = decide(graph, Decision("spam_comment", cluster=f"k-{account}", reason="template spam"))
            appeal = service.file(graph, ALICE, r.sanction_ids[0], "not spam", now=day(1))
            (service.grant if grant else service.deny)(graph, BOB, appeal.appeal_id, "checked", now=day(2))
    accounts(graph, "open1")
    _, r = decide(graph, spam("open1"))
    service.file(graph, ALICE, r.sanction_ids[0], "pending", now=day(1))


def test_stats_show_the_granted_share_and_flag_the_overturned_detector(graph, use_test_db, capsys):
    appeals_by_detector(graph)
    stats = service.stats(graph, min_decided=4)
    assert (stats.overall.appealed, stats.overall.decided, stats.overall.granted) == (13, 12, 5)
    detectors = {s.group: s for s in stats.by_detector}
    assert [s.group for s in stats.by_detector] == ["comment_templates", MANUAL, "dense_blocks"]
    assert (detectors["comment_templates"].share, detectors["comment_templates"].flagged) == (1.0, True)
    assert detectors["comment_templates"].rest_share == pytest.approx(1 / 8)
    assert not detectors[MANUAL].flagged and detectors[MANUAL].appealed == 5
    assert not detectors["dense_blocks"].flagged
    assert [(s.group, s.decided, s.granted) for s in stats.by_kind] == [("spam_comment", 12, 5)]
    assert not service.stats(graph).by_detector[0].flagged  # the default minimum (10) is not reached

    assert cli.main(["appeals", "stats", "--min-decided", "4", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    flagged = [(r["by"], r["group"]) for r in rows if r["flagged"] == "true"]
    assert flagged == [("detector", "comment_templates")]
    assert rows[0]["by"] == "all" and rows[0]["granted_share"] == f"{5 / 12:.3f}"
    assert cli.main(["appeals", "stats", "--min-decided", "4"]) == 0
    out = capsys.readouterr().out
    assert "the platform reports ~35%" in out and "detector comment_templates (a calibration problem)" in out


# --------------------------------------------------------------------------- the command line

def test_the_cli_files_lists_grants_and_denies(graph, use_test_db, users_file, capsys):
    accounts(graph, "l1", "l2")
    _, r1 = decide(graph, spam("l1"))
    _, r2 = decide(graph, spam("l2"))
    assert cli.main(["appeals", "file", r1.sanction_ids[0], "--statement", "not me", "--material", "ticket://1",
                     "--material", "https://example.org/proof", "--actor", "alice"]) == 0
    out = capsys.readouterr().out
    assert "filed against" in out and "detector manual" in out and "in the queue" in out
    assert cli.main(["appeals", "file", r2.sanction_ids[0], "--statement", "a mistake", "--actor", "alice",
                     "--format", "json"]) == 0
    second = json.loads(capsys.readouterr().out)[0]["appeal_id"]
    assert cli.main(["appeals", "list", "--format", "csv", "--actor", "bob"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["target"] for r in rows] == ["Account:l1", "Account:l2"]
    assert rows[0]["material"] == "ticket://1;https://example.org/proof" and rows[0]["state"] == "filed"
    first = rows[0]["appeal_id"]
    assert cli.main(["appeals", "grant", first, "--reason", "documents check out", "--actor", "bob"]) == 0
    out = capsys.readouterr().out
    assert f"appeal {first} granted: 1 revoked" in out and "Account l1: status active, credit 100" in out
    assert cli.main(["appeals", "deny", second, "--reason", "spam confirmed", "--actor", "carol"]) == 0
    assert "denied" in capsys.readouterr().out
    assert cli.main(["appeals", "list", "--state", "all", "--format", "json"]) == 0
    states = {r["appeal_id"]: (r["state"], r["decided_by"]) for r in json.loads(capsys.readouterr().out)}
    assert states == {first: ("granted", "bob"), second: ("denied", "carol")}


@pytest.mark.parametrize("argv, message", [
    (["appeals", "grant", "AP-nope", "--reason", "x", "--actor", "bob"], "no appeal 'AP-nope'"),
    (["appeals", "file", "S-nope", "--statement", "x", "--actor", "alice"], "no sanction or applied decision"),
    (["appeals", "file", "S-nope", "--statement", "x", "--actor", "vic"], "may not file appeal"),
    (["appeals", "list", "--limit", "0"], "a whole number from 1 to 100000"),
])
def test_the_cli_says_what_is_wrong_in_one_line(graph, use_test_db, users_file, capsys, argv, message):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own refusal
        code = exc.code
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "\n".join(err)
