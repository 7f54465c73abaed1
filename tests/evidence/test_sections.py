"""The report's sections without the database: each from a small ``ReportInput``."""

from __future__ import annotations

from collections import Counter

from ringscope.auth.roles import Actor
from ringscope.evidence import sections
from ringscope.evidence.records import ClusterRecord, Collected, PackNodeRef, QueryLog, RunRecord, Subject
from ringscope.evidence.redact import Redactor
from ringscope.evidence.report import Heading, Image, Paragraph, Table, Timeline
from ringscope.evidence.sections import COMMENT_CHARS, REPORT_REASONS, REPORT_ROWS, ReportInput, Section

IP = "203.0.113.9"


def collected(kind: str = "cluster", **fields) -> Collected:
    values = dict(subject=Subject(kind, "k1"), subject_props={f"{kind}_id": "k1"}, runs=[],
                  clusters=[ClusterRecord("k1", "r1", "lockstep", 0.51, 3, (), [])],
                  member_scores={"a1": 0.9}, memberships={"a1": ["k1"]}, scores=[], nodes={}, edges=[],
                  comment_total=0, comment_days=[], sanctions=[], audit=[], queries=[])
    values.update(fields)
    return Collected(**values)


def report_input(**fields) -> ReportInput:
    values = dict(collected=collected(), title="Evidence pack: cluster k1", masked=True,
                  actor=Actor("alice", "investigator"), redactor=Redactor([IP], []), files={"a.txt": "a file"},
                  node_counts=Counter({"Account": 1}), accounts=[], shared=[], comment_sample=[], comments=[],
                  sanctions=[], audit=[], clusters=[], scores=[], findings=True, timeline=Timeline(),
                  timeline_png=b"chart", graph_png=b"picture", graph_caption="1 of 1 nodes shown", summarised=())
    values.update(fields)
    return ReportInput(**values)


def texts(section: Section) -> list[str]:
    return [b.text for b in section.blocks if isinstance(b, (Heading, Paragraph))]


def tables(section: Section) -> list[Table]:
    return [b for b in section.blocks if isinstance(b, Table)]


def account(i: int) -> dict:
    return {"account_id": f"a{i:02d}", "nickname": None, "status": "active",
            "registered_at": "2025-03-01T00:00:00.123456+00:00", "risk_score": 0.8, "member_score": 0.9,
            "devices": 1, "ips": 1, "phones": 0, "comments": 2, "detectors": ["lockstep"], "reasons": []}


def cluster(i: int, reasons: int = 1, ids: int = 1) -> dict:
    return {"cluster_id": f"k{i}", "run_id": "r1", "detector": "lockstep", "score": 0.5 + i / 100, "size": 3,
            "reasons": [f"reason {n}" for n in range(reasons)],
            "evidence": [[{"kind": "comment", "ids": [f"c{n}" for n in range(ids)]}]]}


def test_the_opening_says_masked_or_not_and_no_findings():
    masked = texts(sections.opening(report_input()))
    assert masked[0] == "Evidence pack: cluster k1" and masked[1].startswith("Personal data masked")
    assert not any("NO FINDINGS" in t for t in masked) and "Exported by alice (investigator)" in masked[-1]

    unmasked = sections.opening(report_input(masked=False, actor=Actor("bob", "approver")))
    alert = unmasked.blocks[1]
    assert alert.style == "alert" and "Exported unmasked by bob (approver)" in alert.text

    lonely = texts(sections.opening(report_input(collected=collected("account"), findings=False)))
    assert ("NO FINDINGS: account k1 is in no cluster (no completed detection run), has no risk score above zero "
            "and no sanction.") in lonely
    run = RunRecord("r1", "completed", None, None, None, None, None, None)
    in_run = texts(sections.opening(report_input(collected=collected("account", runs=[run]), findings=False)))
    assert any("in no cluster of detection run r1," in t for t in in_run)


def test_the_summary_masks_the_subject_and_counts_what_the_pack_holds():
    c = collected("case", subject_props={"case_id": "k1", "note": f"seen on {IP}"}, comment_total=12,
                  clusters=[ClusterRecord("k1", "r1", "lockstep", 0.9, 3, (), []),
                            ClusterRecord("k2", "r1", "lockstep", 0.8, 3, (), [])])
    timeline = Timeline()
    timeline.comments.update({"2025-06-20": 2, "2025-06-01": 1})
    rows = dict(tables(sections.summary(report_input(collected=c, node_counts=Counter({"Device": 2, "IP": 0}),
                                                     comments=[{}] * 5, timeline=timeline)))[0].rows)
    assert IP not in rows["case.note"] and "203.0.x.x #1" in rows["case.note"]
    assert rows["detection run"] == "none" and rows["detectors that fired"] == "lockstep (2 clusters)"
    assert rows["comments"] == "12 written by the accounts (5 in this pack)"
    assert rows["device"] == "2" and "ip" not in rows
    assert rows["activity"] == "2025-06-01 to 2025-06-20 (UTC days)"


def test_what_was_found_shows_reasons_and_evidence_and_says_what_it_left_out():
    found = sections.what_was_found(report_input(clusters=[cluster(1, reasons=REPORT_REASONS + 2, ids=25)]))
    shown = texts(found)
    assert shown[1] == "Cluster k1: lockstep, score 0.510, 3 accounts (run r1)"
    assert "Reason 1: reason 0" in shown and f"Reason {REPORT_REASONS + 1}: reason {REPORT_REASONS}" not in shown
    assert found.cuts == ("report: cluster k1: 2 more reasons not shown (all, with their evidence, in "
                          "data/clusters.json)",)
    assert tables(found)[0].rows[0][2].endswith("c19 … and 5 more (data/clusters.json)")

    many = sections.what_was_found(report_input(clusters=[cluster(i) for i in range(25)]))
    assert many.cuts == ("report: 5 more clusters not shown (all in data/clusters.json)",)
    none = sections.what_was_found(report_input(collected=collected(clusters=[])))
    assert "No detector put these accounts in a cluster." in texts(none) and none.cuts == ()


def test_detectors_and_reasons_name_detectors_that_scored_without_a_cluster():
    from ringscope.evidence.records import ScoreRecord

    scored = [ScoreRecord("a1", "r1", 0.4, None, ("templates",), ())]
    table = tables(sections.detectors_and_reasons(report_input(clusters=[cluster(1), cluster(2)],
                                                               scores=scored)))[0]
    assert table.rows == (("lockstep", "2", "6", "0.520", "reason 0"), ("templates", "0", "0", "0.000", ""))
    assert texts(sections.detectors_and_reasons(report_input()))[-1] == "None."


def test_who_is_involved_cuts_long_tables_and_says_so():
    section = sections.who_is_involved(report_input(accounts=[account(i) for i in range(REPORT_ROWS + 5)]))
    accounts = tables(section)[0]
    assert len(accounts.rows) == REPORT_ROWS and accounts.rows[0][3] == "2025-03-01T00:00:00"
    assert accounts.rows[0][4:6] == ("0.800", "0.900")
    assert section.cuts == ("report, accounts: 5 more not shown (full list in data/accounts.csv)",)
    assert texts(section)[-1] == "None."  # no shared identifiers

    shared = sections.who_is_involved(report_input(shared=[("Device", "d1", 3)]))
    assert tables(shared)[1].rows == (("Device", "d1", "3"),) and shared.cuts == ()


def test_intermediaries_brands_and_orders_come_from_the_nodes_masked():
    nodes = {PackNodeRef("Brand", "b1"): {"brand_id": "b1", "name": "完美日记", "category": "beauty"},
             PackNodeRef("Intermediary", "m1"): {"intermediary_id": "m1", "name": f"studio at {IP}", "kind": "mcn"},
             PackNodeRef("Order", "o1"): {"order_id": "o1", "brand_id": "b1", "placed_at": "2025-05-30T00:00:00+00:00",
                                          "declared": False}}
    r = report_input(collected=collected(nodes=nodes))
    business = tables(sections.intermediaries_and_brands(r))[0]
    assert business.rows == (("Brand", "b1", "完美日记", "beauty"),
                             ("Intermediary", "m1", "studio at 203.0.x.x #1", "mcn"))
    assert tables(sections.orders(r))[0].rows == (("o1", "b1", "", "", "", "2025-05-30T00:00:00", "False"),)
    assert sections.intermediaries_and_brands(report_input()) == Section(())
    assert sections.orders(report_input()) == Section(())


def test_sample_comments_cut_long_texts_in_the_report_only():
    long = "长" * (COMMENT_CHARS + 5)
    rows = [{"created_at": "2025-06-20T10:00:00+00:00", "account_id": "a1", "note_id": "n1", "text": long},
            {"created_at": None, "account_id": "a2", "note_id": None, "text": "short"}]
    section = sections.sample_comments(report_input(comment_sample=rows, comments=rows * 3))
    table = tables(section)[0]
    assert table.rows[0] == ("2025-06-20T10:00:00", "a1", "n1", "长" * COMMENT_CHARS + "…")
    assert table.rows[1][0] == "" and texts(section)[1].startswith("2 of 6 comments in this pack")
    assert texts(sections.sample_comments(report_input()))[-1] == "The accounts wrote no comments."


def test_sanctions_and_paths_show_each_path_and_derivation():
    row = {"sanction_id": "s2", "action": "device_ban", "state": "active", "level": None,
           "issued_at": "2025-06-22T00:00:00+00:00", "targets": ["Device:d1"], "reason": "farm device",
           "paths": ["(Cluster k1)-[:HAS_MEMBER]->(Account:a1)-[:USED_DEVICE]->(Device:d1)<-[:TARGETS]-(Sanction:s2)",
                     "derived from (Sanction:s1): a1"]}
    table = tables(sections.sanctions_and_paths(report_input(sanctions=[row])))[0]
    assert table.rows == (("s2", "device_ban", "active", "2025-06-22T00:00:00", "Device:d1",
                           "\n".join(row["paths"]), "farm device"),)
    assert texts(sections.sanctions_and_paths(report_input()))[-1] == (
        "No sanction targets these accounts or anything linked to them.")


def test_the_timeline_and_the_graph_are_pictures():
    r = report_input(node_counts=Counter({"Account": 3, "Device": 1}))
    chart, = [b for b in sections.timeline_chart(r).blocks if isinstance(b, Image)]
    picture, = [b for b in sections.graph_picture(r).blocks if isinstance(b, Image)]
    assert (chart.name, chart.png) == ("charts/timeline.png", b"chart")
    assert (picture.name, picture.png, picture.caption) == ("graph/graph.png", b"picture", "1 of 1 nodes shown")
    assert "The full graph (4 nodes)" in texts(sections.graph_picture(r))[-1]


def test_the_audit_excerpt_and_what_was_summarised():
    entry = {"seq": 3, "at": "2025-06-22T00:00:00.000000+00:00", "actor": "alice", "role": "investigator",
             "action": "sanction.apply", "target_type": "sanction", "target_id": "s2", "reason": "farm"}
    audit = sections.audit_excerpt(report_input(audit=[entry] * (REPORT_ROWS + 1)))
    assert tables(audit)[0].rows[0][:2] == ("3", "2025-06-22T00:00:00")
    assert audit.cuts == ("report, audit: 1 more not shown (full list in audit/excerpt.json)",)
    assert "exports aside" in texts(sections.audit_excerpt(report_input()))[-1]

    assert texts(sections.what_was_summarised(report_input(), ()))[-1] == "Nothing: every row is shown."
    said = texts(sections.what_was_summarised(report_input(summarised=("comments: only the first 5",)),
                                              ("report, audit: 1 more",)))[-1]
    assert said.endswith("- comments: only the first 5. - report, audit: 1 more.")


def test_how_it_was_built_lists_the_files_and_counts_the_queries():
    r = report_input(collected=collected(queries=[QueryLog("cluster", "MATCH ...", {})] * 7))
    section = sections.how_it_was_built(r)
    assert tables(section)[0].rows[0] == ("a.txt", "a file") and tables(section)[0].rows[-1][0] == "manifest.json"
    assert texts(section)[-1].startswith("7 parameterised read queries built this pack")


def test_the_report_puts_the_sections_in_order_and_summarises_every_cut():
    r = report_input(accounts=[account(i) for i in range(REPORT_ROWS + 1)], clusters=[cluster(i) for i in range(21)],
                     summarised=("risk scores: only the first 80,000 were read",))
    report = sections.assemble_report(r)
    assert [b.text for b in report.blocks if isinstance(b, Heading) and b.level == 2] == [
        "Summary", "What was found", "Which detectors fired and why", "Who is involved",
        "When: timeline", "Sample comments (original text)", "Sanctions and the path that justifies each",
        "The graph", "Audit log excerpt", "What this report summarises", "Files in this pack and how it was built"]
    assert report.cuts == ("report: 1 more clusters not shown (all in data/clusters.json)",
                           "report, accounts: 1 more not shown (full list in data/accounts.csv)")
    summarised = next(b for b in report.blocks[report.blocks.index(Heading("What this report summarises", 2)):]
                      if isinstance(b, Paragraph))
    lines = ("risk scores: only the first 80,000 were read",) + report.cuts
    assert summarised.text.endswith(" ".join(f"- {line}." for line in lines))


def health_records(n: int, effects: dict | None = None, cap: int = 200):
    from datetime import datetime, timezone

    from ringscope.evidence.records import HealthRecords
    from ringscope.health.effects import Effect
    from ringscope.health.index import Measures, account_health
    from ringscope.health.policy import load_health_policy

    policy = load_health_policy()
    scored = tuple(account_health(Measures(f"a{i:02d}", undeclared_commercial=i, verified_reports=i % 3), policy)
                   for i in range(n))
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    in_force = {a: Effect(f"HE-{a}", a, band, 40.0, 0.5, False, "active", at, "HA-1", 1)
                for a, band in (effects or {}).items()}
    return HealthRecords(policy.version, n, cap, scored, in_force, "every account of the pack")


def test_content_health_lists_each_account_lowest_first_with_its_effect_in_force():
    assert sections.content_health(report_input()).blocks == ()  # not collected: no section
    r = report_input(collected=collected(health=health_records(3, {"a02": "throttled"})))
    section = sections.content_health(r)
    assert texts(section)[0] == "Content health"
    assert "Effects in force (set by `ringscope health apply`): throttled 1" in texts(section)[1]
    rows = tables(section)[0].rows
    assert [row[0] for row in rows] == ["a02", "a01", "a00"]  # lowest index first
    assert rows[0][3] == "throttled since 2026-03-01T00:00:00" and rows[1][3] == "none"
    assert rows[0][4].startswith("verified_reports -10.0 (2 verified reports")
    assert "undeclared_commercial -4.0" in rows[0][4]
    assert rows[2][4] == "nothing deducted" and rows[2][1] == "100.0"
    many = sections.content_health(report_input(collected=collected(health=health_records(REPORT_ROWS + 2))))
    assert many.cuts == ("report, content health: 2 more not shown (full list in data/health.json)",)


def test_the_packs_health_file_holds_every_scored_account_and_its_contributions():
    from ringscope.evidence.pack import health_records as health_file

    c = collected(health=health_records(2, {"a01": "no_commercial"}))
    data = health_file(c, Redactor([IP], []))
    assert [a["account_id"] for a in data["accounts"]] == ["a00", "a01"]
    a01 = data["accounts"][1]
    assert a01["effect_in_force"]["band"] == "no_commercial" and data["accounts"][0]["effect_in_force"] is None
    assert [x["indicator"] for x in a01["contributions"]][:2] == ["originality", "undeclared_commercial"]
    assert a01["index"] == 100 - 2 - 5 and sum(x["points"] for x in a01["contributions"]) == -7
    assert data["scored"] == 2 and data["cap"] == 200 and {u["name"] for u in data["not_measured"]}
    assert health_file(collected(), Redactor([], []))["accounts"] == []
