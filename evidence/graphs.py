"""The pack's graph: one masked node/edge list, written as GraphML, CSV, interactive HTML and a picture (pure).

The full graph (GraphML, ``nodes.csv``, ``edges.csv``) holds every node and
relationship collected, comments included. The two views (interactive HTML
and the static picture) show what a person can take in: no comment nodes
(an account's comments on a note are drawn as one ``commented ×k`` edge), and
beyond ``VIEW_NODES`` / ``PICTURE_NODES`` nodes only the most telling ones
(intermediaries, brands, orders, identifiers shared by several accounts, the
highest-scoring accounts, sanctions), with the caption saying how many were
left out. Layouts are computed here with a fixed seed, so the same graph gives
the same picture and the same HTML, and the HTML's physics is off.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ringscope.common.csvsafe import csv_bytes

VIEW_NODES = 600
PICTURE_NODES = 300
LAYOUT_SEED = 20250630

COLORS = {
    "Account": "#d62728", "Device": "#1f77b4", "IP": "#17becf", "Phone": "#9467bd", "PhoneSegment": "#c5b0d5",
    "Brand": "#2ca02c", "Intermediary": "#ff7f0e", "Note": "#8c564b", "Comment": "#bcbd22", "Order": "#e377c2",
    "Sanction": "#000000", "Cluster": "#7f7f7f", "Case": "#7f7f7f",
}
# Which nodes a view keeps first when it cannot show everything (lower first).
PRIORITY = {"Intermediary": 0, "Brand": 0, "Order": 1, "Sanction": 3}


@dataclass(frozen=True)
class GraphNode:
    id: str  # "Label:key" (key masked), unique in the pack
    label: str
    key: str
    props: dict[str, Any]


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    type: str
    props: dict[str, Any]


@dataclass
class PackGraph:
    nodes: dict[str, GraphNode]  # by id
    edges: list[GraphEdge]  # sorted (source, type, target), no duplicates
    members: frozenset[str] = field(default_factory=frozenset)  # node ids of the subject's accounts
    scores: dict[str, float] = field(default_factory=dict)  # node id -> score shown in views

    def counts(self) -> Counter:
        return Counter(n.label for n in self.nodes.values())


def node_id(label: str, key: str) -> str:
    return f"{label}:{key}"


def make_graph(nodes: Iterable[GraphNode], edges: Iterable[GraphEdge], members: Iterable[str] = (),
               scores: dict[str, float] | None = None) -> PackGraph:
    by_id = {n.id: n for n in sorted(nodes, key=lambda n: n.id)}
    unique = {(e.source, e.type, e.target): e for e in edges}
    for source, _, target in unique:
        for nid in (source, target):
            if nid not in by_id:
                label, _, key = nid.partition(":")
                by_id[nid] = GraphNode(nid, label, key, {})
    ordered = [unique[k] for k in sorted(unique)]
    return PackGraph(dict(sorted(by_id.items())), ordered, frozenset(members), dict(scores or {}))


# --- full graph files ---------------------------------------------------------------------------------

def _json(props: dict[str, Any]) -> str:
    return json.dumps(props, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def nodes_csv(graph: PackGraph) -> bytes:
    return csv_bytes(["id", "label", "key", "properties"],
                     ([n.id, n.label, n.key, _json(n.props)] for n in graph.nodes.values()))


def edges_csv(graph: PackGraph) -> bytes:
    return csv_bytes(["source", "target", "type", "properties"],
                     ([e.source, e.target, e.type, _json(e.props)] for e in graph.edges))


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


_XML_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
                **{c: "\ufffd" for c in range(32) if c not in (9, 10, 13)}, 0xFFFE: "\ufffd", 0xFFFF: "\ufffd"}


def _xml(value: str) -> str:
    """Text for XML 1.0: escaped, characters XML cannot hold replaced."""
    return value.translate(_XML_ESCAPES)


def graphml(graph: PackGraph) -> bytes:
    """GraphML for Gephi, yEd or networkx: node attributes ``node_label``, ``node_key`` and the properties
    (``p_<name>``, as text); edge attributes ``type`` and the properties. Written directly (networkx's
    writer takes seconds for a few thousand nodes)."""
    def attrs(props: dict[str, Any]) -> list[tuple[str, str]]:
        return [(f"p_{k}", _xml(_attr(v))) for k, v in sorted(props.items()) if v is not None]

    node_attrs = [(n, attrs(n.props)) for n in graph.nodes.values()]
    edge_attrs = [(e, attrs(e.props)) for e in graph.edges]
    node_ids = {name: f"n{i}" for i, name in enumerate(
        ["node_label", "node_key"] + sorted({k for _, a in node_attrs for k, _ in a}))}
    edge_ids = {name: f"e{i}" for i, name in enumerate(["type"] + sorted({k for _, a in edge_attrs for k, _ in a}))}
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
           'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">']
    out += [f'<key id="{i}" for="node" attr.name="{_xml(name)}" attr.type="string"/>' for name, i in node_ids.items()]
    out += [f'<key id="{i}" for="edge" attr.name="{_xml(name)}" attr.type="string"/>' for name, i in edge_ids.items()]
    out.append('<graph id="evidence" edgedefault="directed">')
    for n, a in node_attrs:
        out.append(f'<node id="{_xml(n.id)}"><data key="n0">{n.label}</data><data key="n1">{_xml(n.key)}</data>'
                   + "".join(f'<data key="{node_ids[k]}">{v}</data>' for k, v in a) + "</node>")
    for e, a in edge_attrs:
        out.append(f'<edge source="{_xml(e.source)}" target="{_xml(e.target)}"><data key="e0">{e.type}</data>'
                   + "".join(f'<data key="{edge_ids[k]}">{v}</data>' for k, v in a) + "</edge>")
    out += ['</graph>', '</graphml>']
    return ("\n".join(out) + "\n").encode("utf-8")


# --- views ---------------------------------------------------------------------------------------------

@dataclass
class View:
    nodes: list[GraphNode]
    edges: list[tuple[str, str, str, int]]  # source, target, label, weight
    shown: int
    total: int  # non-comment nodes in the pack
    comments_folded: int
    positions: dict[str, tuple[float, float]]

    def caption(self) -> str:
        text = f"{self.shown:,} of {self.total:,} nodes shown"
        if self.shown < self.total:
            text += (" (kept first: intermediaries, brands, orders, identifiers shared by several accounts, "
                     "the highest-scoring accounts, sanctions; every node is in graph/nodes.csv)")
        if self.comments_folded:
            text += f"; {self.comments_folded:,} comments drawn as 'commented ×k' edges from account to note"
        return text


def _view_edges(graph: PackGraph) -> tuple[list[tuple[str, str, str, int]], int]:
    """Edges without comment nodes: account -WROTE-> comment -ON-> note becomes account -commented ×k-> note."""
    author: dict[str, str] = {}
    on: dict[str, str] = {}
    plain: list[tuple[str, str, str, int]] = []
    for e in graph.edges:
        if e.type == "WROTE":
            author[e.target] = e.source
        elif e.type == "ON":
            on[e.source] = e.target
        elif not (e.source.startswith("Comment:") or e.target.startswith("Comment:")):
            plain.append((e.source, e.target, e.type, 1))
    folded = Counter((author[c], on[c]) for c in author if c in on)
    plain += [(a, n, f"commented ×{k}", k) for (a, n), k in sorted(folded.items())]
    return plain, len(author)


def select_view(graph: PackGraph, limit: int,
                positions: dict[str, tuple[float, float]] | None = None) -> View:
    """The ``limit`` most telling nodes without comments; ``positions`` of a larger view are reused."""
    edges, folded = _view_edges(graph)
    candidates = [n for n in graph.nodes.values() if n.label != "Comment"]
    neighbours: dict[str, set[str]] = defaultdict(set)
    for s, t, _, _ in edges:
        neighbours[s].add(t)
        neighbours[t].add(s)
    accounts = sorted((n for n in candidates if n.id in graph.members),
                      key=lambda n: (-graph.scores.get(n.id, 0.0), -len(neighbours[n.id]), n.id))
    business = sorted((n for n in candidates if n.label in PRIORITY and n.label != "Sanction"),
                      key=lambda n: (PRIORITY[n.label], -len(neighbours[n.id]), n.id))
    chosen = business[:max(limit // 10, 1)] + accounts[:max(limit // 2, 1)]
    chosen = chosen[:limit]
    taken = {n.id for n in chosen}
    shown_accounts = {n.id for n in chosen if n.id in graph.members}

    def rank(n: GraphNode) -> tuple:
        tied = len(neighbours[n.id] & shown_accounts)
        return (0 if tied >= 2 else 1 if tied == 1 else 2, n.label == "Sanction", -tied, n.id)

    rest = sorted((n for n in candidates if n.id not in taken), key=rank)
    chosen += rest[:max(limit - len(chosen), 0)]
    keep = {n.id for n in chosen}
    chosen.sort(key=lambda n: n.id)
    view_edges = [e for e in edges if e[0] in keep and e[1] in keep]
    if positions is None or not keep <= set(positions):
        positions = layout([n.id for n in chosen], view_edges)
    return View(chosen, view_edges, len(chosen), len(candidates), folded,
                {nid: positions[nid] for nid in sorted(keep)})


def layout(node_ids: list[str], edges: list[tuple[str, str, str, int]], iterations: int = 50,
           seed: int = LAYOUT_SEED) -> dict[str, tuple[float, float]]:
    """Fruchterman-Reingold with a little gravity, dense numpy, seeded: O(iterations * n^2), n <= VIEW_NODES.

    (networkx's spring_layout switches to a much slower sparse path above 500 nodes.)"""
    n = len(node_ids)
    if n == 0:
        return {}
    if n == 1:
        return {node_ids[0]: (0.0, 0.0)}
    index = {nid: i for i, nid in enumerate(node_ids)}
    adjacency = np.zeros((n, n), dtype=np.float32)
    for s, t, _, _ in edges:
        if s != t:
            adjacency[index[s], index[t]] = adjacency[index[t], index[s]] = 1.0
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2)).astype(np.float32)
    k = np.float32(1.0 / np.sqrt(n))
    temperature = 0.1
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.sqrt(np.einsum("ijk,ijk->ij", delta, delta))
        np.maximum(distance, 0.01, out=distance)
        force = k * k / (distance * distance) - adjacency * distance / k
        displacement = np.einsum("ijk,ij->ik", delta, force)
        displacement -= 0.01 * (pos - pos.mean(axis=0)) * n * k  # gravity keeps loose parts near the middle
        length = np.maximum(np.sqrt(np.einsum("ij,ij->i", displacement, displacement)), 0.01)
        pos += displacement * (np.float32(temperature) / length)[:, None]
        temperature -= cooling
    pos -= np.median(pos, axis=0)
    scale = float(np.quantile(np.abs(pos), 0.97)) or 1.0
    pos = np.clip(pos / scale, -1.05, 1.05)  # a few far-off loose nodes sit on the border
    return {nid: (round(float(x), 4), round(float(y), 4)) for nid, (x, y) in zip(node_ids, pos)}


def _tooltip(n: GraphNode) -> str:
    lines = [f"{n.label} {n.key}"] + [f"{k}: {v}" for k, v in sorted(n.props.items()) if v is not None]
    text = "\n".join(line if len(line) <= 200 else line[:197] + "..." for line in lines[:25])
    return text


def _short(n: GraphNode) -> str:
    name = n.props.get("name") if n.label in ("Brand", "Intermediary") else None
    text = str(name or n.key)
    return text if len(text) <= 24 else text[:23] + "…"


_REMOTE_TAG = re.compile(r"<link[^>]*href=\"https?://[^\"]*\"[^>]*>|<script[^>]*src=\"https?://[^\"]*\"[^>]*>\s*</script>",
                         re.IGNORECASE | re.DOTALL)
_LOCAL_SCRIPT = re.compile(r"<script[^>]*src=\"lib/[^\"]*\"[^>]*>\s*</script>|<link[^>]*href=\"lib/[^\"]*\"[^>]*>",
                           re.IGNORECASE)


class _PlainTextTooltips:
    """pyvis's page template, always rendered without its "link tooltip" mode.

    pyvis switches to that mode as soon as any node's title contains the text ``href``; it then shows titles
    through ``popup.innerHTML``, so a nickname like ``<a href=#>x</a>`` on one node and
    ``<img src=x onerror=...>`` on another runs script when a reader hovers. Titles here are plain text and
    vis-network shows a string title as text (``innerText``): that is the only tooltip the page has.
    """

    def __init__(self, template):
        self._template = template

    def render(self, **context):
        return self._template.render(**{**context, "tooltip_link": False})


def interactive_html(view: View, title: str, note: str) -> bytes:
    """pyvis HTML with vis-network inlined (no network access needed), physics off, positions fixed.
    Every value from the data reaches the page as JSON data (titles shown as text, labels drawn on the canvas)
    or HTML-escaped (the header)."""
    from pyvis.network import Network

    net = Network(height="780px", width="100%", directed=True, cdn_resources="in_line", heading="")
    for n in view.nodes:
        x, y = view.positions[n.id]
        net.add_node(n.id, label=_short(n), title=_tooltip(n), color=COLORS.get(n.label, "#7f7f7f"),
                     x=x * 1000, y=y * 1000, physics=False, group=n.label,
                     shape="dot", size=14 if n.label == "Account" else 10)
    for s, t, label, weight in view.edges:
        net.add_edge(s, t, title=label, label="" if not label.startswith("commented") else label,
                     width=min(1 + weight / 2, 6), physics=False)
    net.toggle_physics(False)
    net.template = _PlainTextTooltips(net.templateEnv.get_template(net.path))
    page = net.generate_html(notebook=True)  # "notebook": render net.template (ours), nothing else changes
    page = _REMOTE_TAG.sub("", page)
    page = _LOCAL_SCRIPT.sub("", page)
    css = (Path(__import__("pyvis").__file__).parent / "templates" / "lib" / "vis-9.1.2" / "vis-network.css")
    style = f"<style>{css.read_text(encoding='utf-8')}</style>" if css.exists() else ""
    header = (f"<div style=\"font-family:sans-serif;padding:6px\"><b>{html.escape(title)}</b><br>"
              f"{html.escape(view.caption())}<br>{html.escape(note)}<br>"
              + " ".join(f"<span style=\"color:{c}\">&#9679; {html.escape(l)}</span>" for l, c in COLORS.items())
              + "</div>")
    page = page.replace("</head>", f"{style}</head>", 1)
    page = re.sub(r"<body[^>]*>", lambda m: m.group(0) + header, page, count=1)
    return page.encode("utf-8")


def picture_png(view: View, title: str, font_path: str | None, font_index: int = 0) -> bytes:
    """The static picture for the report: nodes coloured by label, identifiers named when few."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(10, 10), dpi=100)
    try:
        ax.set_axis_off()
        pos = view.positions
        segments = [(pos[s], pos[t]) for s, t, _, _ in view.edges]
        if segments:
            ax.add_collection(LineCollection(segments, colors="#999999", linewidths=0.5, alpha=0.6, zorder=1))
        by_label: dict[str, list[GraphNode]] = defaultdict(list)
        for n in view.nodes:
            by_label[n.label].append(n)
        for label in sorted(by_label):
            group = by_label[label]
            xs = [pos[n.id][0] for n in group]
            ys = [pos[n.id][1] for n in group]
            ax.scatter(xs, ys, s=40 if label == "Account" else 25, c=COLORS.get(label, "#7f7f7f"),
                       label=f"{label} ({len(group)})", zorder=2, edgecolors="white", linewidths=0.3)
        named = ([n for n in view.nodes if n.label not in ("Account", "Note", "Order")] if len(view.nodes) > 60
                 else view.nodes)
        for n in named[:80]:
            x, y = pos[n.id]
            ax.annotate(_short(n), (x, y), xytext=(3, 3), textcoords="offset points", zorder=3,
                        **_font(font_path, 6))
        ax.legend(loc="upper left", fontsize=8, frameon=True)
        ax.set_title(title + "\n" + _wrap(view.caption(), 110), **_font(font_path, 9))
        ax.set_xlim(-1.12, 1.12)
        ax.set_ylim(-1.12, 1.12)
        out = io.BytesIO()
        fig.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()
    finally:
        plt.close(fig)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _font(path: str | None, size: float) -> dict[str, Any]:
    """Keyword arguments for a text of this size in the CJK font (when there is one)."""
    if path:
        from matplotlib.font_manager import FontProperties

        try:
            return {"fontproperties": FontProperties(fname=path, size=size)}
        except Exception:
            pass
    return {"fontsize": size}
