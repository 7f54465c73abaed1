"""Build the files of an evidence pack from collected data (pure: no database, no clock, no randomness).

``build_pack(collected, PackOptions(...))`` returns every file of the pack but
the manifest, as bytes. The same collected data gives the same bytes: rows are
sorted, layouts seeded, images and the PDF carry no creation time. The pack's
id and creation time live only in ``manifest.json``.

Masking (the default) goes through one ``Redactor`` for every file: node keys,
personal properties (``ip``, ``phone_hash`` ...), reasons, evidence, comment
text, sanction reasons and the audit excerpt.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from ringscope.auth.roles import Actor
from ringscope.evidence.collect import Collected, NodeRef
from ringscope.evidence.fonts import Fonts
from ringscope.evidence.graphs import (
    PICTURE_NODES, VIEW_NODES, GraphEdge, GraphNode, PackGraph, edges_csv, graphml, interactive_html,
    make_graph, node_id, nodes_csv, picture_png, select_view,
)
from ringscope.evidence.redact import Redactor, personal_values
from ringscope.evidence.report import (
    Block, Heading, Image, Paragraph, Table, Timeline, capped_table, day_of, render_html, render_pdf,
    timeline_png,
)

FORMAT_VERSION = 1
REPORT_ROWS = 40
REPORT_CLUSTERS = 20
REPORT_REASONS = 10
EVIDENCE_IDS = 20
COMMENT_SAMPLE = 40
COMMENT_CHARS = 300

FILES: dict[str, str] = {
    "README.txt": "what this pack is and how to check it",
    "report.html": "the report (open in any browser; images inlined)",
    "report.pdf": "the same report as PDF",
    "graph/graph.html": "the graph, interactive (vis-network inlined, works offline)",
    "graph/graph.graphml": "the full graph for Gephi, yEd or networkx",
    "graph/nodes.csv": "every node: id, label, key, properties (JSON)",
    "graph/edges.csv": "every relationship: source, target, type, properties (JSON)",
    "graph/graph.png": "the graph as a static picture",
    "charts/timeline.png": "registrations, comments, orders and sanctions over time",
    "data/subject.json": "what the pack is about",
    "data/runs.json": "the detection run(s): parameters (policy) and the data watermark",
    "data/clusters.json": "the clusters: detector, score, reasons and their evidence",
    "data/accounts.csv": "the accounts with their cluster and risk scores",
    "data/scores.csv": "risk scores per account and run, with detectors and reasons",
    "data/comments.csv": "the accounts' comments in their original text",
    "data/timeline.csv": "counts per day behind the timeline chart",
    "sanctions/sanctions.json": "sanctions on anything in the pack, with derivation and justifying path",
    "sanctions/sanctions.csv": "the same, one row per sanction",
    "audit/excerpt.json": "the audit log entries about the subject, its accounts and sanctions",
}


@dataclass(frozen=True)
class PackOptions:
    masked: bool
    actor: Actor
    fonts: Fonts


@dataclass
class PackFiles:
    files: dict[str, bytes]
    title: str
    findings: bool
    summarised: list[str] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)  # for the manifest, masked like every file
    runs: list[dict[str, Any]] = field(default_factory=list)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _csv_bytes(columns: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8")


def _fmt(score: float | None) -> str:
    return "" if score is None else f"{score:.3f}"


def subject_title(c: Collected) -> str:
    kind = {"cluster": "cluster", "case": "case", "account": "account"}[c.subject.kind]
    return f"Evidence pack: {kind} {c.subject.id}"


def build_pack(c: Collected, options: PackOptions) -> PackFiles:
    ips, phones = personal_values(((r.label, r.key, p) for r, p in c.nodes.items()),
                                  [k.evidence for k in c.clusters])
    red = Redactor(ips, phones, enabled=options.masked)
    title = subject_title(c)
    summarised = list(c.summarised)

    def nid(ref: NodeRef) -> str:
        return node_id(ref.label, red.ident(ref.label, ref.key))

    # --- the graph ----------------------------------------------------------------------------------------
    risk: dict[str, float] = {}
    for s in c.scores:
        risk[s.account_id] = max(s.score, risk.get(s.account_id, 0.0))
    nodes = [GraphNode(nid(ref), ref.label, red.ident(ref.label, ref.key), red.props(props))
             for ref, props in c.nodes.items()]
    edges = [GraphEdge(nid(e.source), nid(e.target), e.type, red.props(e.props)) for e in c.edges]
    for s in c.sanctions:
        sid = node_id("Sanction", s.sanction_id)
        edges += [GraphEdge(sid, nid(t), "TARGETS", {}) for t in s.targets]
        edges += [GraphEdge(sid, nid(ref), rel, {}) for rel, ref in s.links]
    members = [node_id("Account", a) for a in c.members]
    graph = make_graph(nodes, edges, members,
                       {node_id("Account", a): max(c.member_scores[a], risk.get(a, 0.0)) for a in c.members})
    counts = graph.counts()

    # --- tables ---------------------------------------------------------------------------------------------
    linked = _member_links(graph)
    accounts = _account_rows(c, graph, red, risk, linked)
    shared = _shared_identifiers(graph, linked)
    comments = _comments(graph)
    cited = {red.text(i) for k in c.clusters for reason in (k.evidence or []) for e in reason
             if isinstance(e, dict) and e.get("kind") == "comment" for i in e.get("ids") or []}
    sample = sorted(comments, key=lambda r: (r["comment_id"] not in cited, r["created_at"] or "", r["comment_id"]))
    sanctions = _sanctions(c, graph, red)
    audit = [{"seq": e.seq, "at": e.at, "actor": e.actor, "role": e.role, "action": e.action,
              "target_type": e.target_type, "target_id": red.text(e.target_id), "reason": red.text(e.reason),
              "details": red.text(e.details), "hash": e.hash, "prev_hash": e.prev_hash} for e in c.audit]
    clusters = [{"cluster_id": k.cluster_id, "run_id": k.run_id, "detector": k.detector, "score": k.score,
                 "size": k.size, "reasons": [red.text(r) for r in k.reasons], "evidence": red.evidence(k.evidence)}
                for k in c.clusters]
    scores = sorted(c.scores, key=lambda s: (s.account_id, s.run_id))
    findings = bool(c.clusters) or any(s.score > 0 for s in c.scores) or bool(c.sanctions)

    timeline = Timeline()
    for n in graph.nodes.values():
        day = None
        if n.id in graph.members:
            day = day_of(n.props.get("registered_at"))
            if day:
                timeline.registrations[day] += 1
        elif n.label == "Order":
            day = day_of(n.props.get("placed_at"))
            if day:
                timeline.orders[day] += 1
        elif n.label == "Sanction":
            day = day_of(n.props.get("issued_at"))
            if day:
                timeline.sanctions[day] += 1
    for day, n in c.comment_days:
        timeline.comments[day] += n

    # --- pictures -------------------------------------------------------------------------------------------
    view = select_view(graph, VIEW_NODES)
    picture = select_view(graph, PICTURE_NODES, view.positions) if view.shown > PICTURE_NODES else view
    mask_note = ("Personal data masked (IPs as 203.0.x.x #n, phone hashes as ab1**** #n)." if options.masked
                 else "UNMASKED PERSONAL DATA.")
    graph_png = picture_png(picture, title, options.fonts.cjk_path, options.fonts.cjk_index)
    chart_png = timeline_png(timeline, title)

    # --- report ---------------------------------------------------------------------------------------------
    blocks, report_cuts = _report_blocks(c, options, red, title, counts, accounts, shared, sample, comments,
                                         sanctions, audit, clusters, scores, findings, timeline, chart_png,
                                         graph_png, picture.caption(), summarised)
    summarised += report_cuts

    files: dict[str, bytes] = {
        "README.txt": _readme(title, options.masked).encode("utf-8"),
        "report.html": render_html(title, blocks),
        "report.pdf": render_pdf(title, blocks, options.fonts),
        "graph/graph.html": interactive_html(view, title, mask_note),
        "graph/graph.graphml": graphml(graph),
        "graph/nodes.csv": nodes_csv(graph),
        "graph/edges.csv": edges_csv(graph),
        "graph/graph.png": graph_png,
        "charts/timeline.png": chart_png,
        "data/subject.json": _json_bytes({"kind": c.subject.kind, "id": c.subject.id,
                                          "properties": red.props(c.subject_props), "masked": options.masked,
                                          "findings": findings, "summarised": summarised}),
        "data/runs.json": _json_bytes([red.value(None, vars(r)) for r in c.runs]),
        "data/clusters.json": _json_bytes(clusters),
        "data/accounts.csv": _csv_bytes(
            ["account_id", "nickname", "status", "registered_at", "clusters", "member_score", "risk_score",
             "devices", "ips", "phones", "comments", "detectors", "reasons"],
            [[a["account_id"], a["nickname"], a["status"], a["registered_at"], ";".join(a["clusters"]),
              _fmt(a["member_score"]), _fmt(a["risk_score"]), a["devices"], a["ips"], a["phones"], a["comments"],
              ";".join(a["detectors"]), ";".join(a["reasons"])] for a in accounts]),
        "data/scores.csv": _csv_bytes(
            ["account_id", "run_id", "score", "cluster_id", "detectors", "reasons"],
            [[s.account_id, s.run_id, _fmt(s.score), s.cluster_id, ";".join(s.detectors),
              ";".join(red.text(r) for r in s.reasons)] for s in scores]),
        "data/comments.csv": _csv_bytes(
            ["comment_id", "account_id", "note_id", "created_at", "reply_to", "device_id", "ip", "text"],
            [[r["comment_id"], r["account_id"], r["note_id"], r["created_at"], r["reply_to"], r["device_id"],
              r["ip"], r["text"]] for r in comments]),
        "data/timeline.csv": _csv_bytes(
            ["day", "kind", "count"],
            sorted([[d, kind, n] for kind, counter in (("registrations", timeline.registrations),
                                                       ("comments", timeline.comments),
                                                       ("orders", timeline.orders),
                                                       ("sanctions", timeline.sanctions))
                    for d, n in counter.items()])),
        "sanctions/sanctions.json": _json_bytes(sanctions),
        "sanctions/sanctions.csv": _csv_bytes(
            ["sanction_id", "action", "level", "state", "source", "issued_at", "expires_at", "targets",
             "derived_from", "path", "reason"],
            [[s["sanction_id"], s["action"], s["level"], s["state"], s["source"], s["issued_at"], s["expires_at"],
              ";".join(s["targets"]), ";".join(s["derived_from"]), " | ".join(s["paths"]), s["reason"]]
             for s in sanctions]),
        "audit/excerpt.json": _json_bytes({
            "note": ("Entries of the audit log whose target is the subject, one of its accounts or clusters, a "
                     "sanction in this pack or a sanction's target; exports are left out. "
                     + ("Personal data in reasons and details is masked, so an entry's hash is that of the "
                        "original entry (check the log itself with `ringscope audit verify`)."
                        if options.masked else "")),
            "entries": audit}),
    }
    assert set(files) == set(FILES), set(files) ^ set(FILES)
    queries = [{"name": q.name, "cypher": q.cypher, "params": red.value(None, q.params)} for q in c.queries]
    runs = [red.value(None, vars(r)) for r in c.runs]
    return PackFiles(files, title, findings, summarised, queries, runs)


# --- pieces --------------------------------------------------------------------------------------------------

IDENTIFIER_LINKS = {"USED_DEVICE": "devices", "LOGGED_IN_FROM": "ips", "REGISTERED_FROM": "ips",
                    "HAS_PHONE": "phones", "IN_PHONE_SEGMENT": "segments"}


def _member_links(graph: PackGraph) -> dict[str, dict[str, set[str]]]:
    """account node id -> kind -> identifier node ids."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for e in graph.edges:
        kind = IDENTIFIER_LINKS.get(e.type)
        if kind and e.source in graph.members:
            out[e.source][kind].add(e.target)
    return out


def _account_rows(c: Collected, graph: PackGraph, red: Redactor, risk: dict[str, float],
                  linked: dict[str, dict[str, set[str]]]) -> list[dict[str, Any]]:
    detectors: dict[str, set[str]] = defaultdict(set)
    reasons: dict[str, list[str]] = defaultdict(list)
    for s in c.scores:
        detectors[s.account_id].update(s.detectors)
        reasons[s.account_id] += [red.text(r) for r in s.reasons if red.text(r) not in reasons[s.account_id]]
    wrote = Counter(e.source for e in graph.edges if e.type == "WROTE")
    rows = []
    for account in c.members:
        nid = node_id("Account", account)
        props = graph.nodes[nid].props if nid in graph.nodes else {}
        links = linked.get(nid, {})
        rows.append({
            "account_id": account, "nickname": props.get("nickname"), "status": props.get("status"),
            "registered_at": props.get("registered_at"), "clusters": sorted(c.memberships.get(account, [])),
            "member_score": c.member_scores.get(account) if c.memberships.get(account) else None,
            "risk_score": risk.get(account), "devices": len(links.get("devices", ())),
            "ips": len(links.get("ips", ())), "phones": len(links.get("phones", ())), "comments": wrote[nid],
            "detectors": sorted(detectors[account]), "reasons": reasons[account],
        })
    rows.sort(key=lambda r: (-(r["risk_score"] or r["member_score"] or 0.0), r["account_id"]))
    return rows


def _shared_identifiers(graph: PackGraph, linked: dict[str, dict[str, set[str]]]) -> list[tuple[str, str, int]]:
    """(label, key, members using it) for identifiers two or more of the accounts share, most shared first."""
    users: Counter = Counter()
    for kinds in linked.values():
        for ids in kinds.values():
            users.update(ids)
    rows = [(graph.nodes[i].label, graph.nodes[i].key, n) for i, n in users.items() if n >= 2 and i in graph.nodes]
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))


def _comments(graph: PackGraph) -> list[dict[str, Any]]:
    author = {e.target: e.source for e in graph.edges if e.type == "WROTE"}
    rows = []
    for n in graph.nodes.values():
        if n.label != "Comment" or n.id not in author:
            continue
        p = n.props
        rows.append({"comment_id": n.key, "account_id": author[n.id].partition(":")[2],
                     "note_id": p.get("note_id"), "created_at": p.get("created_at"), "reply_to": p.get("reply_to"),
                     "device_id": p.get("device_id"), "ip": p.get("ip"), "text": p.get("text") or ""})
    rows.sort(key=lambda r: (r["created_at"] or "", r["comment_id"]))
    return rows


def _paths(graph: PackGraph, c: Collected) -> dict[str, str]:
    """For every node reachable from the subject's accounts: the shortest path, written out.

    One breadth-first search from all accounts at once (O(nodes + edges)); it never passes
    through a sanction, so a path shows facts, not other decisions."""
    adjacent: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for e in graph.edges:
        adjacent[e.source].append((e.target, e.type, True))
        adjacent[e.target].append((e.source, e.type, False))
    parent: dict[str, tuple[str, str, bool] | None] = {}
    queue: deque[str] = deque()
    for account in c.members:
        start = node_id("Account", account)
        parent[start] = None
        queue.append(start)
    while queue:
        here = queue.popleft()
        if here.startswith("Sanction:"):
            continue
        for there, rel, forward in adjacent.get(here, ()):
            if there not in parent:
                parent[there] = (here, rel, forward)
                queue.append(there)

    def origin(account_node: str) -> str:
        account = account_node.partition(":")[2]
        clusters = sorted(c.memberships.get(account, []))
        if c.subject.kind == "account" and not clusters:
            return ""
        if clusters:
            return f"(Cluster {clusters[0]})-[:HAS_MEMBER]->"
        return f"(Case {c.subject.id})-[:ABOUT]->"

    cache: dict[str, str] = {}

    def path(target: str) -> str | None:
        if target not in parent:
            return None
        if target in cache:
            return cache[target]
        steps = []
        node = target
        while parent[node] is not None:
            prev, rel, forward = parent[node]
            steps.append(f"-[:{rel}]->({node})" if forward else f"<-[:{rel}]-({node})")
            node = prev
        text = f"{origin(node)}({node})" + "".join(reversed(steps))
        cache[target] = text
        return text

    return {nid: p for nid in list(parent) if (p := path(nid)) is not None}


def _sanctions(c: Collected, graph: PackGraph, red: Redactor) -> list[dict[str, Any]]:
    if not c.sanctions:
        return []
    paths = _paths(graph, c)
    by_id = {s.sanction_id: s for s in c.sanctions}

    def parents(s) -> list[str]:
        out = [ref.key for rel, ref in s.links if rel == "DERIVED_FROM" and ref.label == "Sanction"]
        prop = s.props.get("derived_from")
        for value in (prop if isinstance(prop, list) else [prop] if prop else []):
            if str(value) not in out:
                out.append(str(value))
        return out

    def chain(sanction_id: str) -> list[str]:
        seen, out, todo = {sanction_id}, [], list(parents(by_id[sanction_id]))
        while todo and len(out) < 20:
            nxt = todo.pop(0)
            if nxt in seen:
                continue
            seen.add(nxt)
            out.append(nxt)
            if nxt in by_id:
                todo += parents(by_id[nxt])
        return out

    rows = []
    for s in sorted(c.sanctions, key=lambda s: s.sanction_id):
        p = red.props(s.props)
        sid = node_id("Sanction", s.sanction_id)
        justifying = []
        for t in s.targets:
            tid = node_id(t.label, red.ident(t.label, t.key))
            route = paths.get(tid)
            if route:
                justifying.append(f"{route}<-[:TARGETS]-({sid})")
            else:
                justifying.append(f"target ({tid}) is outside this pack's accounts and their links")
        recorded = p.get("path_text")
        if recorded:
            justifying.append(f"recorded by the sanction when decided: {recorded}"
                              + (f" ({p['justification']})" if p.get("justification") else ""))
        derived = chain(s.sanction_id)
        for ancestor in derived:
            if ancestor in by_id:
                justifying.append(f"derived from ({node_id('Sanction', ancestor)}): "
                                  + (", ".join(red.ident(t.label, t.key) for t in by_id[ancestor].targets)
                                     or "no target"))
        rows.append({
            "sanction_id": s.sanction_id, "action": p.get("action"), "level": p.get("level"),
            "state": p.get("state"), "source": p.get("source"), "reason": p.get("reason"),
            "decided_by": p.get("decided_by"), "approved_by": p.get("approved_by"),
            "issued_at": p.get("issued_at"), "expires_at": p.get("expires_at"),
            "targets": [node_id(t.label, red.ident(t.label, t.key)) for t in s.targets],
            "derived_from": derived, "paths": justifying, "properties": p,
        })
    return rows


def _readme(title: str, masked: bool) -> str:
    lines = [
        title, "=" * len(title), "",
        "An evidence pack made by ringscope. Start with report.html (or report.pdf).",
        "UNMASKED PERSONAL DATA: this pack shows IP addresses and phone hashes in full." if not masked else
        "Personal data is masked: IPs as 203.0.x.x #n and phone hashes as ab1**** #n, the same n in every file.",
        "",
        "manifest.json names every other file with its SHA-256, the detection run (parameters and data",
        "watermark), the exact database queries and parameters used, who exported the pack and when.",
        "Check the pack with `ringscope evidence verify PACK.zip`, or by hand: the SHA-256 of each file",
        "must equal the manifest's; no file may be missing or added; manifest_digest is the SHA-256 of the",
        "manifest's canonical JSON (sorted keys, 2-space indent, UTF-8) without that field; signature.json,",
        "when present, signs the bytes of manifest.json (HMAC-SHA256 or Ed25519).",
        "",
        "Files:",
    ] + [f"  {path:<26} {what}" for path, what in FILES.items()]
    return "\n".join(lines) + "\n"


def _report_blocks(c: Collected, options: PackOptions, red: Redactor, title: str, counts: Counter,
                   accounts, shared, sample, comments, sanctions, audit, clusters, scores, findings: bool,
                   timeline: Timeline, chart_png: bytes, graph_png: bytes, graph_caption: str,
                   summarised: list[str]) -> tuple[list[Block], list[str]]:
    cuts: list[str] = []
    blocks: list[Block] = [Heading(title, 1)]
    if options.masked:
        blocks.append(Paragraph("Personal data masked: IP addresses are shown as 203.0.x.x #n and phone hashes "
                                "as ab1**** #n (the same n in every file of this pack). An unmasked pack needs "
                                "a role with the export_unmasked permission.", "banner"))
    else:
        blocks.append(Paragraph(f"UNMASKED PERSONAL DATA: this pack shows IP addresses and phone hashes in full. "
                                f"Exported unmasked by {options.actor.name} ({options.actor.role}). Handle, "
                                "store and share it as personal data.", "alert"))
    if not findings:
        what = {"account": f"account {c.subject.id} is in no cluster"
                           + (f" of detection run {c.runs[0].run_id}" if c.runs else
                              " (no completed detection run)")
                           + ", has no risk score above zero and no sanction.",
                "case": f"case {c.subject.id} has no cluster, risk score or sanction.",
                "cluster": f"cluster {c.subject.id} has no findings."}[c.subject.kind]
        blocks.append(Paragraph(f"NO FINDINGS: {what}", "banner"))
    blocks.append(Paragraph(f"Exported by {options.actor.name} ({options.actor.role}). The pack id, the time "
                            "of export, the tool and Neo4j versions, the queries used and the SHA-256 of every "
                            "file are in manifest.json; check the pack with `ringscope evidence verify PACK.zip`.",
                            "small"))

    # Summary
    blocks.append(Heading("Summary", 2))
    detectors = Counter(k.detector for k in c.clusters)
    rows = [("subject", f"{c.subject.kind} {c.subject.id}")]
    for key, value in sorted(red.props(c.subject_props).items()):
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
        ("comments", f"{c.comment_total:,} written by the accounts ({len(comments):,} in this pack)"),
    ] + [(label.lower(), f"{counts[label]:,}") for label in
         ("Device", "IP", "Phone", "Note", "Order", "Intermediary", "Brand", "Sanction") if counts[label]]
    span = timeline.span()
    if span:
        rows.append(("activity", f"{span[0]} to {span[1]} (UTC days)"))
    blocks.append(Table(("what", "value"), tuple(rows), "", (1, 4)))

    # What was found
    blocks.append(Heading("What was found", 2))
    if not c.clusters:
        blocks.append(Paragraph("No detector put these accounts in a cluster."))
    for k in clusters[:REPORT_CLUSTERS]:
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
    if len(clusters) > REPORT_CLUSTERS:
        note = f"{len(clusters) - REPORT_CLUSTERS:,} more clusters not shown (all in data/clusters.json)"
        blocks.append(Paragraph(note, "small"))
        cuts.append(f"report: {note}")

    # Detectors
    blocks.append(Heading("Which detectors fired and why", 2))
    per_detector: dict[str, dict[str, Any]] = {}
    for k in clusters:
        d = per_detector.setdefault(k["detector"], {"clusters": 0, "accounts": 0, "score": 0.0, "reason": ""})
        d["clusters"] += 1
        d["accounts"] += k["size"]
        d["score"] = max(d["score"], k["score"])
        d["reason"] = d["reason"] or (k["reasons"][0] if k["reasons"] else "")
    for s in scores:
        for d in s.detectors:
            per_detector.setdefault(d, {"clusters": 0, "accounts": 0, "score": 0.0, "reason": ""})
    if per_detector:
        blocks.append(Table(("detector", "clusters", "accounts in them", "highest cluster score", "example reason"),
                            tuple((d, str(v["clusters"]), f"{v['accounts']:,}", f"{v['score']:.3f}", v["reason"])
                                  for d, v in sorted(per_detector.items())), "", (2, 1, 1.3, 1.3, 8)))
    else:
        blocks.append(Paragraph("None."))

    # Who
    blocks.append(Heading("Who is involved", 2))
    table = capped_table(("account", "nickname", "status", "registered", "risk", "member score", "devices", "IPs",
                          "phones", "comments", "detectors"),
                         [(a["account_id"], a["nickname"], a["status"], (a["registered_at"] or "")[:19],
                           _fmt(a["risk_score"]), _fmt(a["member_score"]), a["devices"], a["ips"], a["phones"],
                           a["comments"], ", ".join(a["detectors"])) for a in accounts],
                         REPORT_ROWS, "data/accounts.csv", (2, 2, 1, 2, 1, 1, 1, 1, 1, 1, 3))
    blocks.append(table)
    if table.note:
        cuts.append(f"report, accounts: {table.note}")
    blocks.append(Heading("Identifiers shared by two or more of the accounts", 3))
    if shared:
        table = capped_table(("kind", "identifier", "accounts using it"), shared, REPORT_ROWS // 2 + 10,
                             "graph/nodes.csv and graph/edges.csv", (1, 4, 1))
        blocks.append(table)
        if table.note:
            cuts.append(f"report, shared identifiers: {table.note}")
    else:
        blocks.append(Paragraph("None."))
    business = [n for n in c.nodes if n.label in ("Intermediary", "Brand")]
    if business:
        blocks.append(Heading("Intermediaries and brands", 3))
        rows = sorted((n.label, n.key, str(c.nodes[n].get("name") or ""),
                       str(c.nodes[n].get("kind") or c.nodes[n].get("category") or "")) for n in business)
        table = capped_table(("kind", "id", "name", "type"), [tuple(red.text(v) for v in r) for r in rows],
                             REPORT_ROWS, "graph/nodes.csv", (1, 2, 3, 2))
        blocks.append(table)
        if table.note:
            cuts.append(f"report, intermediaries and brands: {table.note}")
    orders = sorted((ref.key, red.props(props)) for ref, props in c.nodes.items() if ref.label == "Order")
    if orders:
        blocks.append(Heading("Orders", 3))
        table = capped_table(("order", "brand", "intermediary", "account", "note", "placed", "declared"),
                             [(k, p.get("brand_id"), p.get("intermediary_id"), p.get("account_id"), p.get("note_id"),
                               str(p.get("placed_at") or "")[:19], p.get("declared")) for k, p in orders],
                             REPORT_ROWS, "graph/nodes.csv")
        blocks.append(table)
        if table.note:
            cuts.append(f"report, orders: {table.note}")

    # When
    blocks.append(Heading("When: timeline", 2))
    blocks.append(Image("charts/timeline.png", chart_png,
                        "Accounts registered, comments written (all of them, also beyond the comments in this "
                        "pack), orders placed and sanctions issued, per day or per week"))

    # Comments
    blocks.append(Heading("Sample comments (original text)", 2))
    if sample:
        table = capped_table(("time (UTC)", "account", "note", "comment"),
                             [((r["created_at"] or "")[:19], r["account_id"], r["note_id"],
                               r["text"] if len(r["text"]) <= COMMENT_CHARS else r["text"][:COMMENT_CHARS] + "…")
                              for r in sample], COMMENT_SAMPLE, "data/comments.csv", (2, 2, 2, 10))
        blocks.append(Paragraph(f"{min(len(sample), COMMENT_SAMPLE)} of {len(comments):,} comments in this pack: "
                                "first those a detector cited as evidence, then the earliest. Longer comments are "
                                f"cut at {COMMENT_CHARS} characters here, never in data/comments.csv.", "small"))
        blocks.append(table)
        if table.note:
            cuts.append(f"report, comments: {table.note}")
    else:
        blocks.append(Paragraph("The accounts wrote no comments."))

    # Sanctions
    blocks.append(Heading("Sanctions and the path that justifies each", 2))
    if sanctions:
        blocks.append(Paragraph("A path runs from a cluster (or case) through the accounts and their links to what "
                                "the sanction targets; it never passes through another sanction. 'derived from' "
                                "names the sanction this one was propagated from.", "small"))
        table = capped_table(("sanction", "action", "state / level", "issued", "target", "path and derivation",
                              "reason"),
                             [(s["sanction_id"], s["action"], " / ".join(str(x) for x in (s["state"], s["level"])
                                                                         if x is not None),
                               str(s["issued_at"] or "")[:19], ", ".join(s["targets"]), "\n".join(s["paths"]),
                               s["reason"]) for s in sanctions],
                             REPORT_ROWS, "sanctions/sanctions.json", (2, 1.5, 1.5, 1.8, 2.5, 7, 3))
        blocks.append(table)
        if table.note:
            cuts.append(f"report, sanctions: {table.note}")
    else:
        blocks.append(Paragraph("No sanction targets these accounts or anything linked to them."))

    # Graph
    blocks.append(Heading("The graph", 2))
    blocks.append(Image("graph/graph.png", graph_png, graph_caption))
    blocks.append(Paragraph(f"The full graph ({sum(counts.values()):,} nodes) is in graph/graph.graphml (Gephi, "
                            "yEd), graph/nodes.csv and graph/edges.csv; graph/graph.html shows it interactively "
                            "and works offline.", "small"))

    # Audit
    blocks.append(Heading("Audit log excerpt", 2))
    if audit:
        table = capped_table(("seq", "at", "actor", "role", "action", "target", "reason"),
                             [(e["seq"], e["at"][:19], e["actor"], e["role"], e["action"],
                               f"{e['target_type']} {e['target_id']}", e["reason"]) for e in audit],
                             REPORT_ROWS, "audit/excerpt.json", (1, 2.2, 1.5, 1.5, 2, 3, 5))
        blocks.append(table)
        if table.note:
            cuts.append(f"report, audit: {table.note}")
    else:
        blocks.append(Paragraph("The audit log has no entry about the subject, its accounts or sanctions "
                                "(exports aside)."))

    # Summarised
    blocks.append(Heading("What this report summarises", 2))
    lines = summarised + cuts
    blocks.append(Paragraph("Nothing: every row is shown." if not lines else
                            "Tables are cut to what a page can show; the files named hold every row. " +
                            " ".join(f"- {line}." for line in lines)))

    blocks.append(Heading("Files in this pack and how it was built", 2))
    blocks.append(Table(("file", "what"), tuple(FILES.items()) + (
        ("manifest.json", "ids, versions, run, queries and parameters, exporter, SHA-256 of every file"),),
        "", (1, 3)))
    blocks.append(Paragraph(f"{len(c.queries)} parameterised read queries built this pack; their exact text and "
                            "parameters are in manifest.json (queries), so anyone with the database can run them "
                            "again. The run's parameters are in data/runs.json.", "small"))
    return blocks, cuts
