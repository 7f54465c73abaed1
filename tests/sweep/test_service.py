"""The sweep back on the real Neo4j: a confirmed ring, the accounts that share its traces, the decoys that must
not be listed, the CLI (masking, errors) and placing the finds in the observation room."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import ringscope.commands.cli as cli
from ringscope.audit import log as audit
from ringscope.auth.roles import Actor
from ringscope.detection.config import load_detection_policy
from ringscope.sweep import service
from ringscope.sweep.policy import load_sweep_policy
from ringscope.watch import service as watch

pytestmark = pytest.mark.neo4j

POLICY = load_sweep_policy()
WATCH = load_detection_policy().watch
IVY = Actor("ivy", "investigator")
RUN_AT = datetime(2026, 6, 1, tzinfo=timezone.utc)
BURST = datetime(2026, 1, 10, 10, 0, tzinfo=timezone.utc)
MEMBERS = [f"sw-m{i}" for i in range(1, 7)]
HONEST = [f"sw-h{i}" for i in range(1, 11)]
TEMPLATE = "加我薇信领取优惠券，原价199现在只要29"


def ring(graph, *, sanctioned: bool = True):
    """Cluster sw-K of six members (registered in one burst on virtual segment 170, one farm device, one range,
    one agency, one templated comment) and, around it:
    sw-dev (the farm device, registered a year earlier), sw-agency (the agency), sw-text (a near-duplicate of the
    template), sw-burst-ip (registered in the burst, logs in from the range), sw-burst (registered in the burst on
    segment 170 only: weak), sw-ip (the range only: weak), ten honest accounts on a public device with one member,
    one of whom comments on the same coupon in other words."""
    accounts = [{"id": m, "at": BURST + timedelta(minutes=5 * i), "seg": "170"} for i, m in enumerate(MEMBERS)]
    accounts += [{"id": "sw-dev", "at": BURST - timedelta(days=365), "seg": "138"},
                 {"id": "sw-agency", "at": BURST - timedelta(days=30), "seg": "138"},
                 {"id": "sw-text", "at": BURST - timedelta(days=90), "seg": "138"},
                 {"id": "sw-burst-ip", "at": BURST + timedelta(minutes=12), "seg": "138"},
                 {"id": "sw-burst", "at": BURST + timedelta(minutes=13), "seg": "170"},
                 {"id": "sw-ip", "at": BURST - timedelta(days=200), "seg": "138"}]
    accounts += [{"id": h, "at": BURST - timedelta(days=400 + i), "seg": "138"} for i, h in enumerate(HONEST)]
    graph.write("""
        UNWIND $accounts AS x
        CREATE (a:Account {account_id: x.id, registered_at: x.at, status: 'active'})
        MERGE (s:PhoneSegment {segment: x.seg})
        CREATE (a)-[:IN_PHONE_SEGMENT]->(s)""", accounts=accounts)
    graph.write("""
        CREATE (r:DetectionRun {run_id: 'sw-R', status: 'completed', started_at: $run_at, flag_threshold: 0.5})
        CREATE (k:Cluster {cluster_id: 'sw-K', run_id: 'sw-R', detector: 'shared_infrastructure', size: 6})
        CREATE (r)-[:FOUND]->(k)
        CREATE (farm:Device {device_id: 'sw-D1'}), (pub:Device {device_id: 'sw-DP'})
        CREATE (agency:Intermediary {intermediary_id: 'sw-I1', name: 'Sweep MCN'})
        WITH r, k, farm, pub, agency
        UNWIND range(0, size($members) - 1) AS i
        MATCH (m:Account {account_id: $members[i]})
        CREATE (k)-[:HAS_MEMBER {score: 0.9}]->(m), (r)-[:SCORED {score: 0.9, cluster_id: 'sw-K'}]->(m)
        CREATE (m)-[:USED_DEVICE]->(farm)
        MERGE (ip:IP {ip: '10.7.1.' + toString(10 + i)})
        CREATE (m)-[:LOGGED_IN_FROM]->(ip)
        FOREACH (_ IN CASE WHEN i < 4 THEN [1] ELSE [] END | CREATE (agency)-[:MANAGES]->(m))
        FOREACH (_ IN CASE WHEN i < 3 THEN [1] ELSE [] END |
          CREATE (m)-[:WROTE]->(:Comment {comment_id: 'sw-c' + toString(i), text: $template}))
        FOREACH (_ IN CASE WHEN i = 0 THEN [1] ELSE [] END | CREATE (m)-[:USED_DEVICE]->(pub))
        """, members=MEMBERS, run_at=RUN_AT, template=TEMPLATE)
    graph.write("""
        MATCH (farm:Device {device_id: 'sw-D1'}), (pub:Device {device_id: 'sw-DP'}),
              (agency:Intermediary {intermediary_id: 'sw-I1'})
        MATCH (dev:Account {account_id: 'sw-dev'}), (ag:Account {account_id: 'sw-agency'}),
              (tx:Account {account_id: 'sw-text'}), (bi:Account {account_id: 'sw-burst-ip'}),
              (ipo:Account {account_id: 'sw-ip'}), (h1:Account {account_id: 'sw-h1'})
        CREATE (dev)-[:USED_DEVICE]->(farm), (agency)-[:MANAGES]->(ag)
        CREATE (tx)-[:WROTE]->(:Comment {comment_id: 'sw-c-text', text: '加我薇信领取优惠券!原价199现在只要39'})
        CREATE (h1)-[:WROTE]->(:Comment {comment_id: 'sw-c-honest', text: '这个优惠券怎么领取啊，原价太贵了'})
        CREATE (bi)-[:LOGGED_IN_FROM]->(:IP {ip: '10.7.1.99'}), (ipo)-[:LOGGED_IN_FROM]->(:IP {ip: '10.7.1.98'})
        WITH pub
        UNWIND $honest AS h MATCH (a:Account {account_id: h}) CREATE (a)-[:USED_DEVICE]->(pub)
        """, honest=HONEST)
    if sanctioned:
        graph.write("MATCH (m:Account {account_id: 'sw-m1'}) "
                    "CREATE (:Sanction {sanction_id: 'sw-S1', action: 'ban', state: 'active', source: 'import'})"
                    "-[:TARGETS]->(m)")
    return graph


def test_the_sweep_lists_what_shares_the_rings_traces_and_not_the_decoys(graph):
    result = service.sweep(ring(graph), "sw-K", POLICY)
    found = {f.account_id: f for f in result.found}
    assert set(found) == {"sw-dev", "sw-agency", "sw-text", "sw-burst-ip"}
    assert found["sw-dev"].candidate.kinds[0] == "device"
    assert found["sw-agency"].candidate.kinds == ("agency",)
    assert found["sw-text"].candidate.kinds == ("comment_template",)
    assert set(found["sw-burst-ip"].candidate.kinds) == {"ip_range", "registration_burst"}
    # the history counts: found although registered long before the run, and unseen by it
    assert found["sw-dev"].before_run and found["sw-dev"].run_risk is None
    assert result.confirmed == 1 and result.members_read == 6
    # the weak ones (segment + burst, the range alone, the public device) have evidence but stay under the score
    assert result.below >= 3
    kinds = {t.kind: t.count for t in result.pattern}
    assert kinds["registration_burst"] == 1 and kinds["phone_segment"] == 1 and kinds["comment_template"] == 1
    # a lower score lists the weak ones, never a member
    low = {f.account_id for f in service.sweep(graph, "sw-K", POLICY, min_score=0.1).found}
    assert {"sw-burst", "sw-ip", "sw-h1"} <= low and not low & set(MEMBERS)


def test_an_unconfirmed_cluster_is_swept_only_when_asked(graph):
    ring(graph, sanctioned=False)
    with pytest.raises(service.NotConfirmed, match="--unconfirmed"):
        service.sweep(graph, "sw-K", POLICY)
    assert service.sweep(graph, "sw-K", POLICY, unconfirmed=True).confirmed == 0
    with pytest.raises(service.UnknownCluster, match="no cluster 'nope'"):
        service.sweep(graph, "nope", POLICY)


def test_the_finds_go_to_the_room_once_audited(graph):
    result = service.sweep(ring(graph), "sw-K", POLICY)
    placed, left = service.place_on_watch(graph, IVY, result, WATCH)
    assert sorted(placed) == ["sw-agency", "sw-burst-ip", "sw-dev", "sw-text"] and left == []
    stays = {s.account_id: s for s in watch.stays(graph)}
    assert set(stays) == set(placed)
    assert "sweep back of confirmed cluster sw-K" in stays["sw-dev"].reason and "sw-D1" in stays["sw-dev"].reason
    assert not stays["sw-dev"].notified
    places = [e for e in audit.entries(graph, limit=100) if e.action == "watch.place"]
    assert sorted(e.target_id for e in places) == sorted(placed)
    again = service.sweep(graph, "sw-K", POLICY)
    assert all(f.on_watch for f in again.found)
    assert service.place_on_watch(graph, IVY, again, WATCH) == ([], sorted(placed, key=lambda a: [
        f.account_id for f in again.found].index(a)))


def test_cli_masks_addresses_for_a_reader_without_the_right(graph, use_test_db, capsys):
    ring(graph)
    assert cli.main(["sweep", "--cluster", "sw-K", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r[0]: dict(zip(out["header"], r)) for r in out["rows"]}
    assert "10.7.x.x" in rows["sw-burst-ip"]["evidence"] and "10.7.1.99" not in rows["sw-burst-ip"]["evidence"]
    assert rows["sw-dev"]["before_run"] == "true"
    assert cli.main(["sweep", "--cluster", "sw-K"]) == 0
    text = capsys.readouterr().out
    print(text)
    assert "4 accounts at or above score 0.5" in text and "sw-dev" in text


def test_cli_errors_are_one_line(graph, use_test_db, capsys):
    ring(graph, sanctioned=False)
    assert cli.main(["sweep", "--cluster", "sw-K"]) != 0
    err = capsys.readouterr().err
    assert "not confirmed" in err and "Traceback" not in err
    assert cli.main(["sweep", "--cluster", "sw-K", "--min-score", "2"]) != 0
    assert "--min-score" in capsys.readouterr().err
    assert cli.main(["sweep", "--cluster", "missing"]) != 0
    assert "no cluster 'missing'" in capsys.readouterr().err
