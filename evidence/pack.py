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

import json
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from ringscope.auth.roles import Actor
from ringscope.common.csvsafe import csv_bytes
from ringscope.evidence.records import Collected, plain
from ringscope.evidence.fonts import Fonts
from ringscope.evidence.graphs import (
    PICTURE_NODES, VIEW_NODES, GraphEdge, GraphNode, PackGraph, edges_csv, graphml, interactive_html,
    make_graph, node_id, nodes_csv, picture_png, select_view,
)
from ringscope.evidence.redact import Redactor, personal_values
from ringscope.evidence.report import Timeline, day_of, render_html, render_pdf, timeline_png
from ringscope.evidence.sections import ReportInput, assemble_report, score_text

FORMAT_VERSION = 1

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
    "data/health.json": "the accounts' content-health index: band, each indicator's contribution, the effect in force",
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


def subject_title(c: Collected) -> str:
    kind = {"cluster": "cluster", "case": "case", "account": "account"}[c.subject.kind]
    return f"Evidence pack: {kind} {c.subject.id}"


def build_pack(c: Collected, options: PackOptions) -> PackFiles:
    ips, phones = personal_values(((r.label, r.key, p) for r, p in c.nodes.items()),
                                  [k.evidence for k in c.clusters])
    red = Redactor(ips, phones, enabled=options.masked)
    title = subject_title(c)
    summarised = list(c.summarised)

    def nid(label: str, key: str) -> str:
        return node_id(label, red.ident(label, key))

    # --- the graph ----------------------------------------------------------------------------------------
    risk: dict[str, float] = {}
    for s in c.scores:
        risk[s.account_id] = max(s.score, risk.get(s.account_id, 0.0))
    nodes = [GraphNode(nid(ref.label, ref.key), ref.label, red.ident(ref.label, ref.key), red.props(props))
             for ref, props in c.nodes.items()]
    edges = [GraphEdge(nid(e.source.label, e.source.key), nid(e.target.label, e.target.key), e.type,
                       red.props(e.props)) for e in c.edges]
    for s in c.sanctions:
        sid = node_id("Sanction", s.record.sanction_id)
        edges += [GraphEdge(sid, nid(t.ref.label, t.ref.id), "TARGETS", {}) for t in s.targets]
        edges += [GraphEdge(sid, nid(link.node.label, link.node.id), link.type, {}) for link in s.links]
    members = [node_id("Account", a) for a in c.members]
    graph = make_graph(nodes, edges, members,
                       {node_id("Account", a): max(c.member_scores[a], risk.get(a, 0.0)) for a in c.members})

    # --- tables ---------------------------------------------------------------------------------------------
    linked = _member_links(graph)
    accounts = _account_rows(c, graph, red, risk, linked)
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
    timeline = _timeline(graph, c.comment_days)

    # --- pictures -------------------------------------------------------------------------------------------
    view = select_view(graph, VIEW_NODES)
    picture = select_view(graph, PICTURE_NODES, view.positions) if view.shown > PICTURE_NODES else view
    mask_note = ("Personal data masked (IPs as 203.0.x.x #n, phone hashes as ab1**** #n)." if options.masked
                 else "UNMASKED PERSONAL DATA.")
    graph_png = picture_png(picture, title, options.fonts.cjk_path, options.fonts.cjk_index)
    chart_png = timeline_png(timeline, title)

    # --- report ---------------------------------------------------------------------------------------------
    report = assemble_report(ReportInput(
        collected=c, title=title, masked=options.masked, actor=options.actor, redactor=red, files=FILES,
        node_counts=graph.counts(), accounts=accounts, shared=_shared_identifiers(graph, linked),
        comment_sample=sample, comments=comments, sanctions=sanctions, audit=audit, clusters=clusters,
        scores=scores, findings=findings, timeline=timeline, timeline_png=chart_png, graph_png=graph_png,
        graph_caption=picture.caption(), summarised=tuple(summarised)))
    summarised += report.cuts

    files: dict[str, bytes] = {
        "README.txt": _readme(title, options.masked).encode("utf-8"),
        "report.html": render_html(title, report.blocks),
        "report.pdf": render_pdf(title, report.blocks, options.fonts),
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
        "data/accounts.csv": csv_bytes(
            ["account_id", "nickname", "status", "registered_at", "clusters", "member_score", "risk_score",
             "devices", "ips", "phones", "comments", "detectors", "reasons"],
            [[a["account_id"], a["nickname"], a["status"], a["registered_at"], ";".join(a["clusters"]),
              score_text(a["member_score"]), score_text(a["risk_score"]), a["devices"], a["ips"], a["phones"],
              a["comments"], ";".join(a["detectors"]), ";".join(a["reasons"])] for a in accounts]),
        "data/scores.csv": csv_bytes(
            ["account_id", "run_id", "score", "cluster_id", "detectors", "reasons"],
            [[s.account_id, s.run_id, score_text(s.score), s.cluster_id, ";".join(s.detectors),
              ";".join(red.text(r) for r in s.reasons)] for s in scores]),
        "data/comments.csv": csv_bytes(
            ["comment_id", "account_id", "note_id", "created_at", "reply_to", "device_id", "ip", "text"],
            [[r["comment_id"], r["account_id"], r["note_id"], r["created_at"], r["reply_to"], r["device_id"],
              r["ip"], r["text"]] for r in comments]),
        "data/timeline.csv": csv_bytes(
            ["day", "kind", "count"],
            sorted([[d, kind, n] for kind, counter in (("registrations", timeline.registrations),
                                                       ("comments", timeline.comments),
                                                       ("orders", timeline.orders),
                                                       ("sanctions", timeline.sanctions))
                    for d, n in counter.items()])),
        "data/health.json": _json_bytes(health_records(c, red)),
        "sanctions/sanctions.json": _json_bytes(sanctions),
        "sanctions/sanctions.csv": csv_bytes(
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

def health_records(c: Collected, red: Redactor) -> dict[str, Any]:
    """data/health.json: each scored account's index, band, dimensions, contributions and warnings, and the effect
    in force on it (``ringscope health apply``), by account id; what was scored and what is not measured."""
    h = c.health
    if h is None:
        return {"note": "The content-health index was not collected for this pack.", "accounts": []}
    accounts = []
    for a in sorted(h.scored, key=lambda x: x.account_id):
        e = h.effects.get(a.account_id)
        accounts.append({
            "account_id": red.ident("Account", a.account_id), "index": round(a.index, 3), "band": a.band,
            "commercial": a.commercial, "reach_factor": a.reach_factor,
            "dimensions": {d.name: {"points": round(d.points, 3), "weight": d.weight} for d in a.dimensions},
            "contributions": [{"indicator": x.indicator, "dimension": x.dimension, "value": round(x.value, 6),
                               "detail": red.text(x.detail), "deduction": round(x.deduction, 3),
                               "points": round(x.points, 3)} for x in a.contributions],
            "warnings": [red.text(w) for w in a.warnings],
            "effect_in_force": None if e is None else {
                "effect_id": e.effect_id, "band": e.band, "since": plain(e.started_at),
                "index_when_set": round(e.index, 3), "reach_factor": e.reach_factor, "commercial": e.commercial,
                "apply_id": e.set_in, "policy_version": e.policy_version},
        })
    not_measured = h.scored[0].not_measured if h.scored else ()
    return {"note": ("The content-health index 0-100 (content quality 40 %, compliance 35 %, user feedback 25 %) "
                     "as computed at export with the health policy in force; 'effect_in_force' is what the latest "
                     "`ringscope health apply` put in force (null: none). " + f"Scored: {h.chosen}."),
            "policy_version": h.policy_version, "accounts_in_pack": h.accounts, "scored": len(h.scored),
            "cap": h.cap, "accounts": accounts,
            "not_measured": [{"name": u.name, "dimension": u.dimension, "why": u.why} for u in not_measured]}


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


def _timeline(graph: PackGraph, comment_days: list[tuple[str, int]]) -> Timeline:
    """Per day: the accounts' registrations, comments (all of them, counted in the database), orders, sanctions."""
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
    for day, n in comment_days:
        timeline.comments[day] += n
    return timeline


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
    """A row per sanction: what it is, its targets, its derivation chain and the paths that justify it."""
    if not c.sanctions:
        return []
    paths = _paths(graph, c)
    by_id = {s.record.sanction_id: s for s in c.sanctions}
    rows = []
    for s in sorted(c.sanctions, key=lambda s: s.record.sanction_id):
        p = red.props(plain(s.properties))
        sid = node_id("Sanction", s.record.sanction_id)
        justifying = []
        for t in s.targets:
            tid = node_id(t.ref.label, red.ident(t.ref.label, t.ref.id))
            route = paths.get(tid)
            if route:
                justifying.append(f"{route}<-[:TARGETS]-({sid})")
            else:
                justifying.append(f"target ({tid}) is outside this pack's accounts and their links")
        recorded = p.get("path_text")
        if recorded:
            justifying.append(f"recorded by the sanction when decided: {recorded}"
                              + (f" ({p['justification']})" if p.get("justification") else ""))
        for ancestor in s.chain:
            if ancestor in by_id:
                justifying.append(f"derived from ({node_id('Sanction', ancestor)}): "
                                  + (", ".join(red.ident(t.ref.label, t.ref.id) for t in by_id[ancestor].targets)
                                     or "no target"))
        rows.append({
            "sanction_id": s.record.sanction_id, "action": p.get("action"), "level": p.get("level"),
            "state": p.get("state"), "source": p.get("source"), "reason": p.get("reason"),
            "decided_by": p.get("decided_by"), "approved_by": p.get("approved_by"),
            "issued_at": p.get("issued_at"), "expires_at": p.get("expires_at"),
            "targets": [node_id(t.ref.label, red.ident(t.ref.label, t.ref.id)) for t in s.targets],
            "derived_from": list(s.chain), "paths": justifying, "properties": p,
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
        "manifest's canonical JSON (sorted keys, 2-space indent, UTF-8) without that field; signature.json",
        "signs the bytes of manifest.json (Ed25519, or HMAC-SHA256). Check the signature against the",
        "exporter's published public key (`ringscope evidence key` on their side): `ringscope evidence verify",
        "PACK.zip --key PUB.pem`. The public key inside the manifest only shows the pack is unchanged since",
        "that key signed it, not who signed it. Cells of the CSV files that would start a spreadsheet formula",
        "(= + - @ tab CR) begin with a single quote; the JSON files keep the exact text.",
        "",
        "Files:",
    ] + [f"  {path:<26} {what}" for path, what in FILES.items()]
    return "\n".join(lines) + "\n"
