"""The report's sections (pure): one function per section over one ``ReportInput``.

``build_pack`` makes the ``ReportInput`` once (the collected data and the
masked rows its data files hold, so the report and the files never disagree);
``assemble_report`` puts the sections in order and collects what their tables
left out, for the section that says so. Rendering is ``report.py``'s.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ringscope.auth.roles import Actor
from ringscope.evidence.records import Collected, ScoreRecord, plain
from ringscope.evidence.redact import Redactor
from ringscope.evidence.report import Block, Heading, Image, Paragraph, Table, Timeline, capped_table

REPORT_ROWS = 40
REPORT_CLUSTERS = 20
REPORT_REASONS = 10
EVIDENCE_IDS = 20
COMMENT_SAMPLE = 40
COMMENT_CHARS = 300


def score_text(score: float | None) -> str:
    return "" if score is None else f"{score:.3f}"


@dataclass(frozen=True)
class ReportInput:
    """What the report shows, made once by ``build_pack``: the collected data and the (masked) rows the
    data files hold too, so the report and the files never disagree."""
    collected: Collected
    title: str
    masked: bool
    actor: Actor
    redactor: Redactor
    files: Mapping[str, str]  # the pack's files and what each holds
    node_counts: Counter  # label -> nodes in the pack's graph
    accounts: Sequence[dict[str, Any]]  # data/accounts.csv, highest risk first
    shared: Sequence[tuple[str, str, int]]  # (label, identifier, accounts using it), most shared first
    comment_sample: Sequence[dict[str, Any]]  # the comments, those a detector cited first
    comments: Sequence[dict[str, Any]]  # data/comments.csv
    sanctions: Sequence[dict[str, Any]]  # sanctions/sanctions.json
    audit: Sequence[dict[str, Any]]  # audit/excerpt.json entries
    clusters: Sequence[dict[str, Any]]  # data/clusters.json
    scores: Sequence[ScoreRecord]  # by account, run
    findings: bool
    timeline: Timeline
    timeline_png: bytes
    graph_png: bytes
    graph_caption: str
    summarised: Sequence[str]  # bounds the collection reached


@dataclass(frozen=True)
class Section:
    blocks: tuple[Block, ...]
    cuts: tuple[str, ...] = ()  # rows its tables left out, for "What this report summarises"


def assemble_report(r: ReportInput) -> Section:
    """The report: its sections in order, then what their tables (and the collection) left out."""
    sections = [opening(r), summary(r), what_was_found(r), detectors_and_reasons(r), who_is_involved(r),
                intermediaries_and_brands(r), orders(r), content_health(r), timeline_chart(r), sample_comments(r),
                sanctions_and_paths(r), graph_picture(r), audit_excerpt(r)]
    cuts = tuple(cut for section in sections for cut in section.cuts)
    sections += [what_was_summarised(r, cuts), how_it_was_built(r)]
    return Section(tuple(block for section in sections for block in section.blocks), cuts)


def _cut(table: Table, what: str) -> tuple[str, ...]:
    """The note of a table the report cut, as a line of "What this report summarises"."""
    return (f"report, {what}: {table.note}",) if table.note else ()


def _to_second(value: Any) -> str:
    """An ISO 8601 time as the report's tables show it: to the second, no zone."""
    return str(value or "")[:19]


def opening(r: ReportInput) -> Section:
    """The title, masked or not, NO FINDINGS when there are none, who exported it."""
    c = r.collected
    blocks: list[Block] = [Heading(r.title, 1)]
    if r.masked:
        blocks.append(Paragraph("Personal data masked: IP addresses are shown as 203.0.x.x #n and phone hashes "
                                "as ab1**** #n (the same n in every file of this pack). An unmasked pack needs "
                                "a role with the export_unmasked permission.", "banner"))
    else:
        blocks.append(Paragraph(f"UNMASKED PERSONAL DATA: this pack shows IP addresses and phone hashes in full. "
                                f"Exported unmasked by {r.actor.name} ({r.actor.role}). Handle, "
                                "store and share it as personal data.", "alert"))
    if not r.findings:
        what = {"account": f"account {c.subject.id} is in no cluster"
                           + (f" of detection run {c.runs[0].run_id}" if c.runs else
                              " (no completed detection run)")
                           + ", has no risk score above zero and no sanction.",
                "case": f"case {c.subject.id} has no cluster, risk score or sanction.",
                "cluster": f"cluster {c.subject.id} has no findings."}[c.subject.kind]
        blocks.append(Paragraph(f"NO FINDINGS: {what}", "banner"))
    blocks.append(Paragraph(f"Exported by {r.actor.name} ({r.actor.role}). The pack id, the time "
                            "of export, the tool and Neo4j versions, the queries used and the SHA-256 of every "
                            "file are in manifest.json; check the pack with `ringscope evidence verify PACK.zip`.",
                            "small"))
    return Section(tuple(blocks))


def summary(r: ReportInput) -> Section:
    """The subject, the run(s) with threshold and watermark, how much of everything the pack holds."""
    c = r.collected
    detectors = Counter(k.detector for k in c.clusters)
    rows = [("subject", f"{c.subject.kind} {c.subject.id}")]
    for key, value in sorted(r.redactor.props(c.subject_props).items()):
        if key not in ("cluster_id", "account_id", "case_id"):
            rows.append((f"{c.subject.kind}.{key}", str(value)))
    for run in c.runs:
        rows.append(("detection run", f"{run.run_id} ({run.status or 'unknown'}), started {run.started_at or '?'}, "
                                      f"finished {run.finished_at or '?'}, code {run.code_version or '?'}"))
        rows.append(("flag threshold", "" if run.flag_threshold is None else str(run.flag_threshold)))
        rows.append(("data watermark", json.dumps(run.watermark, ensure_ascii=False, sort_keys=True)
                     if run.watermark is not None else ""))
    if not c.runs:
        rows.append(("detection run", "none"))
    rows += [
        ("accounts", f"{len(c.members):,}"),
        ("detectors that fired", ", ".join(f"{d} ({n} cluster{'s' if n > 1 else ''})"
                                           for d, n in sorted(detectors.items())) or "none"),
        ("comments", f"{c.comment_total:,} written by the accounts ({len(r.comments):,} in this pack)"),
    ] + [(label.lower(), f"{r.node_counts[label]:,}") for label in
         ("Device", "IP", "Phone", "Note", "Order", "Intermediary", "Brand", "Sanction") if r.node_counts[label]]
    span = r.timeline.span()
    if span:
        rows.append(("activity", f"{span[0]} to {span[1]} (UTC days)"))
    return Section((Heading("Summary", 2), Table(("what", "value"), tuple(rows), "", (1, 4))))


def what_was_found(r: ReportInput) -> Section:
    """Each cluster: detector, score, size, its reasons and the evidence behind each."""
    blocks: list[Block] = [Heading("What was found", 2)]
    cuts: list[str] = []
    if not r.collected.clusters:
        blocks.append(Paragraph("No detector put these accounts in a cluster."))
    for k in r.clusters[:REPORT_CLUSTERS]:
        blocks.append(Heading(f"Cluster {k['cluster_id']}: {k['detector']}, score {k['score']:.3f}, "
                              f"{k['size']:,} accounts (run {k['run_id']})", 3))
        for i, reason in enumerate(k["reasons"][:REPORT_REASONS]):
            blocks.append(Paragraph(f"Reason {i + 1}: {reason}"))
        if len(k["reasons"]) > REPORT_REASONS:
            note = (f"cluster {k['cluster_id']}: {len(k['reasons']) - REPORT_REASONS:,} more reasons not shown "
                    "(all, with their evidence, in data/clusters.json)")
            blocks.append(Paragraph(note[0].upper() + note[1:], "small"))
            cuts.append(f"report: {note}")
        evidence_rows = []
        for i, items in enumerate((k["evidence"] or [])[:REPORT_REASONS]):
            for item in items if isinstance(items, list) else []:
                ids = [str(x) for x in item.get("ids") or []]
                more = f" … and {len(ids) - EVIDENCE_IDS:,} more (data/clusters.json)" if len(ids) > EVIDENCE_IDS else ""
                evidence_rows.append((str(i + 1), str(item.get("kind")), ", ".join(ids[:EVIDENCE_IDS]) + more))
        if evidence_rows:
            blocks.append(Table(("reason", "evidence", "ids"), tuple(evidence_rows), "", (1, 2, 12)))
    if len(r.clusters) > REPORT_CLUSTERS:
        note = f"{len(r.clusters) - REPORT_CLUSTERS:,} more clusters not shown (all in data/clusters.json)"
        blocks.append(Paragraph(note, "small"))
        cuts.append(f"report: {note}")
    return Section(tuple(blocks), tuple(cuts))


def detectors_and_reasons(r: ReportInput) -> Section:
    """Per detector: its clusters, the accounts in them, the highest score and an example reason."""
    per_detector: dict[str, dict[str, Any]] = {}
    for k in r.clusters:
        d = per_detector.setdefault(k["detector"], {"clusters": 0, "accounts": 0, "score": 0.0, "reason": ""})
        d["clusters"] += 1
        d["accounts"] += k["size"]
        d["score"] = max(d["score"], k["score"])
        d["reason"] = d["reason"] or (k["reasons"][0] if k["reasons"] else "")
    for s in r.scores:
        for d in s.detectors:
            per_detector.setdefault(d, {"clusters": 0, "accounts": 0, "score": 0.0, "reason": ""})
    if not per_detector:
        return Section((Heading("Which detectors fired and why", 2), Paragraph("None.")))
    return Section((Heading("Which detectors fired and why", 2),
                    Table(("detector", "clusters", "accounts in them", "highest cluster score", "example reason"),
                          tuple((d, str(v["clusters"]), f"{v['accounts']:,}", f"{v['score']:.3f}", v["reason"])
                                for d, v in sorted(per_detector.items())), "", (2, 1, 1.3, 1.3, 8))))


def who_is_involved(r: ReportInput) -> Section:
    """The accounts, and the identifiers two or more of them share."""
    accounts = capped_table(("account", "nickname", "status", "registered", "risk", "member score", "devices",
                             "IPs", "phones", "comments", "detectors"),
                            [(a["account_id"], a["nickname"], a["status"], _to_second(a["registered_at"]),
                              score_text(a["risk_score"]), score_text(a["member_score"]), a["devices"], a["ips"],
                              a["phones"], a["comments"], ", ".join(a["detectors"])) for a in r.accounts],
                            REPORT_ROWS, "data/accounts.csv", (2, 2, 1, 2, 1, 1, 1, 1, 1, 1, 3))
    blocks: list[Block] = [Heading("Who is involved", 2), accounts,
                           Heading("Identifiers shared by two or more of the accounts", 3)]
    cuts = _cut(accounts, "accounts")
    if not r.shared:
        return Section(tuple(blocks) + (Paragraph("None."),), cuts)
    shared = capped_table(("kind", "identifier", "accounts using it"), r.shared, REPORT_ROWS // 2 + 10,
                          "graph/nodes.csv and graph/edges.csv", (1, 4, 1))
    return Section(tuple(blocks) + (shared,), cuts + _cut(shared, "shared identifiers"))


def intermediaries_and_brands(r: ReportInput) -> Section:
    nodes = r.collected.nodes
    business = [n for n in nodes if n.label in ("Intermediary", "Brand")]
    if not business:
        return Section(())
    rows = sorted((n.label, n.key, str(nodes[n].get("name") or ""),
                   str(nodes[n].get("kind") or nodes[n].get("category") or "")) for n in business)
    table = capped_table(("kind", "id", "name", "type"), [tuple(r.redactor.text(v) for v in row) for row in rows],
                         REPORT_ROWS, "graph/nodes.csv", (1, 2, 3, 2))
    return Section((Heading("Intermediaries and brands", 3), table), _cut(table, "intermediaries and brands"))


def orders(r: ReportInput) -> Section:
    orders = sorted((ref.key, r.redactor.props(props)) for ref, props in r.collected.nodes.items()
                    if ref.label == "Order")
    if not orders:
        return Section(())
    table = capped_table(("order", "brand", "intermediary", "account", "note", "placed", "declared"),
                         [(k, p.get("brand_id"), p.get("intermediary_id"), p.get("account_id"), p.get("note_id"),
                           _to_second(p.get("placed_at")), p.get("declared")) for k, p in orders],
                         REPORT_ROWS, "graph/nodes.csv")
    return Section((Heading("Orders", 3), table), _cut(table, "orders"))


def content_health(r: ReportInput) -> Section:
    """Each scored account's content-health index, band, what took points off it and the effect in force on it,
    lowest index first (all of it in data/health.json)."""
    h = r.collected.health
    if h is None:
        return Section(())
    heading = Heading("Content health", 2)
    if not h.scored:
        return Section((heading, Paragraph("No account to score.")))
    bands = Counter(a.band for a in h.scored)
    in_force = Counter(e.band for e in h.effects.values())
    about = Paragraph(
        f"The content-health index 0-100 (health policy version {h.policy_version}) of {h.chosen}, computed at "
        "export: " + ", ".join(f"{b.replace('_', ' ')} {bands.get(b, 0)}" for b in
                               ("boost", "normal", "no_commercial", "throttled"))
        + ". Effects in force (set by `ringscope health apply`): "
        + (", ".join(f"{b.replace('_', ' ')} {n}" for b, n in sorted(in_force.items())) or "none")
        + ". An effect in force may differ from the band now when the index moved since the last apply.", "small")
    rows = []
    for a in sorted(h.scored, key=lambda x: (x.index, x.account_id)):
        e = h.effects.get(a.account_id)
        off = sorted((x for x in a.contributions if x.points < 0), key=lambda x: x.points)
        rows.append((r.redactor.ident("Account", a.account_id), f"{a.index:.1f}", a.band,
                     "none" if e is None else f"{e.band} since {_to_second(plain(e.started_at))}",
                     "; ".join(f"{x.indicator} {x.points:.1f} ({r.redactor.text(x.detail)})" for x in off)
                     or "nothing deducted"))
    table = capped_table(("account", "index", "band", "effect in force", "what took points off (contribution)"),
                         rows, REPORT_ROWS, "data/health.json", (2, 1, 1.5, 2.5, 8))
    return Section((heading, about, table), _cut(table, "content health"))


def timeline_chart(r: ReportInput) -> Section:
    return Section((Heading("When: timeline", 2),
                    Image("charts/timeline.png", r.timeline_png,
                          "Accounts registered, comments written (all of them, also beyond the comments in this "
                          "pack), orders placed and sanctions issued, per day or per week")))


def sample_comments(r: ReportInput) -> Section:
    """Comments in their original text: those a detector cited first, then the earliest."""
    heading = Heading("Sample comments (original text)", 2)
    if not r.comment_sample:
        return Section((heading, Paragraph("The accounts wrote no comments.")))
    table = capped_table(("time (UTC)", "account", "note", "comment"),
                         [(_to_second(c["created_at"]), c["account_id"], c["note_id"],
                           c["text"] if len(c["text"]) <= COMMENT_CHARS else c["text"][:COMMENT_CHARS] + "…")
                          for c in r.comment_sample], COMMENT_SAMPLE, "data/comments.csv", (2, 2, 2, 10))
    about = Paragraph(f"{min(len(r.comment_sample), COMMENT_SAMPLE)} of {len(r.comments):,} comments in this pack: "
                      "first those a detector cited as evidence, then the earliest. Longer comments are "
                      f"cut at {COMMENT_CHARS} characters here, never in data/comments.csv.", "small")
    return Section((heading, about, table), _cut(table, "comments"))


def sanctions_and_paths(r: ReportInput) -> Section:
    """Each sanction with the path that justifies it and what it was derived from."""
    heading = Heading("Sanctions and the path that justifies each", 2)
    if not r.sanctions:
        return Section((heading, Paragraph("No sanction targets these accounts or anything linked to them.")))
    about = Paragraph("A path runs from a cluster (or case) through the accounts and their links to what "
                      "the sanction targets; it never passes through another sanction. 'derived from' "
                      "names the sanction this one was propagated from.", "small")
    table = capped_table(("sanction", "action", "state / level", "issued", "target", "path and derivation",
                          "reason"),
                         [(s["sanction_id"], s["action"], " / ".join(str(x) for x in (s["state"], s["level"])
                                                                     if x is not None),
                           _to_second(s["issued_at"]), ", ".join(s["targets"]), "\n".join(s["paths"]),
                           s["reason"]) for s in r.sanctions],
                         REPORT_ROWS, "sanctions/sanctions.json", (2, 1.5, 1.5, 1.8, 2.5, 7, 3))
    return Section((heading, about, table), _cut(table, "sanctions"))


def graph_picture(r: ReportInput) -> Section:
    return Section((Heading("The graph", 2), Image("graph/graph.png", r.graph_png, r.graph_caption),
                    Paragraph(f"The full graph ({sum(r.node_counts.values()):,} nodes) is in graph/graph.graphml "
                              "(Gephi, yEd), graph/nodes.csv and graph/edges.csv; graph/graph.html shows it "
                              "interactively and works offline.", "small")))


def audit_excerpt(r: ReportInput) -> Section:
    heading = Heading("Audit log excerpt", 2)
    if not r.audit:
        return Section((heading, Paragraph("The audit log has no entry about the subject, its accounts or "
                                           "sanctions (exports aside).")))
    table = capped_table(("seq", "at", "actor", "role", "action", "target", "reason"),
                         [(e["seq"], _to_second(e["at"]), e["actor"], e["role"], e["action"],
                           f"{e['target_type']} {e['target_id']}", e["reason"]) for e in r.audit],
                         REPORT_ROWS, "audit/excerpt.json", (1, 2.2, 1.5, 1.5, 2, 3, 5))
    return Section((heading, table), _cut(table, "audit"))


def what_was_summarised(r: ReportInput, cuts: Sequence[str]) -> Section:
    """The bounds the collection reached and the rows the report's tables left out."""
    lines = list(r.summarised) + list(cuts)
    return Section((Heading("What this report summarises", 2),
                    Paragraph("Nothing: every row is shown." if not lines else
                              "Tables are cut to what a page can show; the files named hold every row. " +
                              " ".join(f"- {line}." for line in lines))))


def how_it_was_built(r: ReportInput) -> Section:
    return Section((
        Heading("Files in this pack and how it was built", 2),
        Table(("file", "what"), tuple(r.files.items()) + (
            ("manifest.json", "ids, versions, run, queries and parameters, exporter, SHA-256 of every file"),),
            "", (1, 3)),
        Paragraph(f"{len(r.collected.queries)} parameterised read queries built this pack; their exact text and "
                  "parameters are in manifest.json (queries), so anyone with the database can run them "
                  "again. The run's parameters are in data/runs.json.", "small"),
    ))
