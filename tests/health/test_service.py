"""The content-health index on the real Neo4j: each indicator read from a small graph, one account, a brand's and an
agency's accounts, the platform's distribution, and the CLI (formats, errors)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import ringscope.commands.cli as cli
from ringscope.detection.config import load_detection_policy
from ringscope.health import service
from ringscope.health.policy import load_health_policy

pytestmark = pytest.mark.neo4j

POLICY = load_health_policy()
REPORTS = load_detection_policy().reports
AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
TEMPLATE = "加我薇信领取优惠券，原价199现在只要29"
# Note bodies and a comment long enough to judge (the policy's min_chars, 50): h-star's n1 and h-other's n5 are
# near-duplicates (a rewash); the others are its own.
BODY = "周末去了城南新开的那家咖啡馆，环境很安静，适合带电脑办公，拿铁奶味很足但是有点偏甜，下次想试试他们家的手冲和肉桂卷"
REWASH = "周末去了城北新开的那家咖啡馆，环境特别安静，很适合带电脑办公，拿铁奶味很足就是有点偏甜，下次想试试他们家的手冲"
OWN_NOTE = "第一次带猫咪去医院打疫苗，提前一周让它熟悉航空箱，路上一直在叫，到了医院反而很乖，医生说体重有点超标要控制零食"
OWN_NOTE2 = "这次爬山选了后山那条老路，台阶少但是坡很陡，中途在凉亭歇了两次，山顶风特别大，带的保温杯救了命，下山腿一直在抖"
OWN_COMMENT = "楼主说的那个面包店我上周也去了，排队排了整整四十分钟，碱水结和海盐卷都不错，可颂就一般，工作日早上去人会少一些"
FLAGGED = [f"hf{i}" for i in range(1, 6)]
OK = [f"hk{i}" for i in range(1, 5)]


def platform(graph):
    """h-star: 20,000 followers; notes n1 (promotes brand B1, undeclared, a title and BODY; h-other's n5, a day
    earlier, is the original it rewashed: n1 is copied, n5 is not), n2 (promotes B1, declared, a body of its own), n3 (paid by order O1 of B1 through agency I1,
    undeclared, a body of its own); comments: TEMPLATE (h-other wrote a near-duplicate, but both are too short to
    judge), a WeChat lure, a long one of its own; likes on its notes from hf1, hf2 (flagged by run R) and hk1-hk4, a comment from
    hk1 (7 engagements, 2 flagged); reports: 2 verified and 1 unverified against it from hk1-hk3, and a
    coordinated burst of 5 verified reports from cluster K (hf1-hf5) against n1 within an hour (not counted).
    h-clean: posted a declared note for B1, managed by I1; nothing against it."""
    accounts = [{"id": a, "followers": f} for a, f in
                [("h-star", 20_000), ("h-other", 10), ("h-clean", 300), *((x, 5) for x in FLAGGED + OK)]]
    graph.write("UNWIND $accounts AS x CREATE (:Account {account_id: x.id, followers: x.followers, "
                "status: 'active', registered_at: $at})", accounts=accounts, at=AT - timedelta(days=400))
    graph.write("""
        CREATE (r:DetectionRun {run_id: 'h-R', status: 'completed', started_at: $at, flag_threshold: 0.5})
        CREATE (k:Cluster {cluster_id: 'h-K', run_id: 'h-R', detector: 'lockstep', size: 5})
        CREATE (r)-[:FOUND]->(k)
        WITH r, k
        UNWIND $flagged AS f MATCH (a:Account {account_id: f})
        CREATE (r)-[:SCORED {score: 0.9}]->(a), (k)-[:HAS_MEMBER {score: 0.9}]->(a)
        """, at=AT, flagged=FLAGGED)
    graph.write("""
        MATCH (r:DetectionRun {run_id: 'h-R'}) UNWIND $ok AS o MATCH (a:Account {account_id: o})
        CREATE (r)-[:SCORED {score: 0.1}]->(a)""", ok=OK)
    graph.write("""
        MATCH (s:Account {account_id: 'h-star'}), (o:Account {account_id: 'h-other'}),
              (c:Account {account_id: 'h-clean'})
        CREATE (b:Brand {brand_id: 'h-B1', name: 'Glow'}), (i:Intermediary {intermediary_id: 'h-I1', name: 'Star MCN'})
        CREATE (s)-[:POSTED]->(n1:Note {note_id: 'h-n1', title: '我的夏日穿搭分享第一期来啦', text: $body,
                                        posted_at: $at})-[:PROMOTES]->(b)
        CREATE (s)-[:POSTED]->(n2:Note {note_id: 'h-n2', declared_commercial: true, text: $own_note,
                                        posted_at: $at})-[:PROMOTES]->(b)
        CREATE (s)-[:POSTED]->(n3:Note {note_id: 'h-n3', declared_commercial: false, text: $own_note2, posted_at: $at})
        CREATE (o)-[:POSTED]->(:Note {note_id: 'h-n5', text: $rewash, posted_at: $at - duration('P1D')})
        CREATE (ord:Order {order_id: 'h-O1', declared: false})
        CREATE (ord)-[:PLACED_BY]->(b), (ord)-[:TAKEN_BY]->(i), (ord)-[:ASSIGNED_TO]->(s), (ord)-[:FOR_NOTE]->(n3)
        CREATE (c)-[:POSTED]->(:Note {note_id: 'h-n4', declared_commercial: true, posted_at: $at})-[:PROMOTES]->(b)
        CREATE (i)-[:MANAGES]->(c)
        CREATE (s)-[:WROTE]->(:Comment {comment_id: 'h-c1', text: $template, created_at: $at})-[:ON]->(n1)
        CREATE (s)-[:WROTE]->(:Comment {comment_id: 'h-c2', text: '想要的加我vx abc12345 详聊哦', created_at: $at})
        CREATE (s)-[:WROTE]->(:Comment {comment_id: 'h-c3', text: $own_comment, created_at: $at})
        CREATE (o)-[:WROTE]->(:Comment {comment_id: 'h-c4', text: '加我薇信领取优惠券!原价199现在只要39',
                                        created_at: $at})
        """, at=AT, template=TEMPLATE, body=BODY, rewash=REWASH, own_note=OWN_NOTE, own_note2=OWN_NOTE2,
        own_comment=OWN_COMMENT)
    graph.write("""
        MATCH (n:Note) WHERE n.note_id IN ['h-n1', 'h-n2', 'h-n3']
        WITH collect(n) AS notes
        UNWIND range(0, size($likers) - 1) AS i
        MATCH (a:Account {account_id: $likers[i]})
        WITH a, notes[i % 3] AS n
        CREATE (a)-[:LIKED {created_at: $at}]->(n)""", likers=["hf1", "hf2", *OK], at=AT)
    graph.write("""
        MATCH (a:Account {account_id: 'hk1'}), (n:Note {note_id: 'h-n1'})
        CREATE (a)-[:WROTE]->(:Comment {comment_id: 'h-c5', text: '好看', created_at: $at})-[:ON]->(n)""", at=AT)
    reports = [{"id": f"h-r{i}", "by": by, "target": "h-star", "label": "Account", "verified": v,
                "at": AT + timedelta(days=i)} for i, (by, v) in enumerate([("hk1", True), ("hk2", True),
                                                                          ("hk3", False)])]
    reports += [{"id": f"h-rb{i}", "by": f, "target": "h-n1", "label": "Note", "verified": True,
                 "at": AT + timedelta(minutes=10 * i)} for i, f in enumerate(FLAGGED)]
    graph.write("""
        UNWIND $reports AS x
        MATCH (by:Account {account_id: x.by})
        OPTIONAL MATCH (a:Account {account_id: x.target}) WHERE x.label = 'Account'
        OPTIONAL MATCH (n:Note {note_id: x.target}) WHERE x.label = 'Note'
        WITH x, by, coalesce(a, n) AS t
        CREATE (by)-[:FILED]->(:Report {report_id: x.id, created_at: x.at, verified: x.verified,
                                        reason: 'spam'})-[:AGAINST]->(t)""", reports=reports)


def contribution(h, name):
    return next(c for c in h.contributions if c.indicator == name)


def test_one_account_every_indicator_read_from_the_graph(graph):
    platform(graph)
    h = service.account_health(graph, "h-star", POLICY, REPORTS)
    c = {x.indicator: x for x in h.contributions}
    assert c["originality"].detail.startswith("1 of 4 texts copied")  # n1 (h-other's rewash); n2, n3, its comment
    assert c["originality"].points == pytest.approx(-10.0)
    assert c["undeclared_commercial"].value == 2 and c["undeclared_commercial"].points == pytest.approx(-4.0)
    # the WeChat lure, and the template itself (加我薇信)
    assert c["offplatform_lure"].value == 2 and c["offplatform_lure"].points == pytest.approx(-6.0)
    assert c["verified_reports"].value == 2  # the coordinated burst against n1 does not count
    assert c["verified_reports"].points == pytest.approx(-10.0)
    assert c["invalid_interaction"].value == pytest.approx(2 / 7)
    assert c["invalid_interaction"].points == pytest.approx(-10 * 2 / 7)
    assert c["follower_imbalance"].value == 1 and c["follower_imbalance"].points == pytest.approx(-5.0)
    assert h.index == pytest.approx(100 - 10 - 10 - 10 - 10 * 2 / 7 - 5)
    assert h.band == "no_commercial" and not h.commercial
    assert any("imbalance" in w for w in h.warnings)
    assert {u.name for u in h.not_measured} >= {"engagement_quality", "negative_feedback"}


def test_a_clean_account_and_an_unknown_one(graph):
    platform(graph)
    h = service.account_health(graph, "h-clean", POLICY, REPORTS)
    assert h.index == 100 and h.band == "boost"
    with pytest.raises(service.UnknownAccount, match="no account 'nobody'"):
        service.account_health(graph, "nobody", POLICY, REPORTS)


def test_without_a_detection_run_no_engagement_counts_as_invalid(graph):
    platform(graph)
    graph.write("MATCH (r:DetectionRun) DETACH DELETE r")
    h = service.account_health(graph, "h-star", POLICY, REPORTS)
    assert contribution(h, "invalid_interaction").points == 0
    # without the run the burst's reporters are in no cluster of it: all 7 verified reports count
    assert contribution(h, "verified_reports").value == 7


def test_a_brand_and_an_agency_over_the_accounts_they_work_with(graph):
    platform(graph)
    star = service.account_health(graph, "h-star", POLICY, REPORTS)
    for kind in ("brand", "intermediary"):
        g = service.group_health(graph, kind, "h-B1" if kind == "brand" else "h-I1", POLICY, REPORTS)
        assert g.accounts == 2 and [h.account_id for h in g.scored] == ["h-star", "h-clean"]  # lowest first
        assert g.scored[0].index == pytest.approx(star.index) and g.scored[1].index == 100
        assert g.distribution.accounts == 2 and g.distribution.bands["boost"] == 1
        assert g.distribution.mean == pytest.approx((star.index + 100) / 2)
    assert service.group_health(graph, "brand", "h-B1", POLICY, REPORTS).name == "Glow"
    with pytest.raises(service.UnknownGroup, match="no brand 'h-B9'"):
        service.group_health(graph, "brand", "h-B9", POLICY, REPORTS)
    with pytest.raises(Exception, match="grouped by brand or intermediary"):
        service.group_health(graph, "device", "x", POLICY, REPORTS)


def test_the_platform_distribution_in_batches_agrees_with_each_account(graph):
    platform(graph)
    policy = POLICY.model_copy(update={"limits": POLICY.limits.model_copy(update={"batch_size": 3})})
    p = service.platform_health(graph, policy, REPORTS)
    assert p.distribution.accounts == 12 == len(p.accounts)
    by_id = {a.account_id: a for a in p.accounts}
    for account_id in ("h-star", "h-other", "h-clean", "hf1", "hk1"):
        one = service.account_health(graph, account_id, POLICY, REPORTS)
        assert by_id[account_id].index == pytest.approx(one.index), account_id
        assert by_id[account_id].band == one.band
    assert sum(n for _, _, n in p.distribution.bins) == 12
    assert p.distribution.bands["no_commercial"] == 1  # h-star


def test_cli_an_account_in_each_format(graph, use_test_db, capsys):
    platform(graph)
    assert cli.main(["health", "--account", "h-star"]) == 0
    text = capsys.readouterr().out
    assert "account h-star: content health 62.1 / 100: no commercial programmes" in text
    assert "originality" in text and "not measured" in text and "warning: follower/interaction imbalance" in text
    assert cli.main(["health", "--account", "h-star", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "indicator,dimension,value,detail,deduction,points" and len(lines) == 7
    assert cli.main(["health", "--account", "h-star", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["band"] == "no_commercial" and len(data["contributions"]) == 6


def test_cli_a_brand_an_agency_and_the_distribution(graph, use_test_db, capsys):
    platform(graph)
    assert cli.main(["health", "--brand", "h-B1", "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[0].startswith("account_id,index,band") and "h-star" in out.out
    assert "brand h-B1 (Glow): works with 2 accounts" in out.err
    assert cli.main(["health", "--agency", "h-I1"]) == 0
    assert "agency h-I1 (Star MCN): works with 2 accounts" in capsys.readouterr().out
    assert cli.main(["health", "--distribution", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["distribution"]["accounts"] == 12


def test_cli_errors_are_one_line(graph, use_test_db, capsys, tmp_path):
    platform(graph)
    assert cli.main(["health", "--account", "nobody"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "ringscope: error: no account 'nobody' in the graph"
    assert cli.main(["health", "--agency", "nope"]) == 1
    assert "no intermediary 'nope'" in capsys.readouterr().err
    bad = tmp_path / "health.yaml"
    bad.write_text("version: 1\nweights: {content_quality: 50, compliance: 35, user_feedback: 25}\n", encoding="utf-8")
    assert cli.main(["health", "--account", "h-star", "--policy", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ringscope: error: health policy ") and "weights" in err and "\n" not in err
