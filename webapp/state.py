"""The graph explorer's state and what each interaction does to it: plain functions, no Streamlit.

The page keeps one ``ExplorerState`` in the session; a click in the graph
component, a button or a filter calls one of the functions below with the
state and an ``ExplorerServices`` (the capped queries, or fakes in tests).
AppTest cannot click inside a component, so this is where the behaviour is
tested.

Rules the functions enforce:

- an expansion adds at most ``cap`` neighbours (50-200, default 100); when
  more remain the node is marked and "more" fetches the next ones (the ones
  already drawn are excluded);
- a node whose neighbour count (per relationship type, read cheaply from the
  degree store) exceeds ``HUB_LIMIT`` is never expanded blindly: the state
  gets a ``HubNotice`` with the counts, and the page offers a table or a
  filtered subset (relationship types, time range);
- beyond ``MAX_ELEMENTS`` nodes + edges the view switches to tables;
- ids sent to the browser are opaque per-session tokens, so a masked IP or
  phone hash never reaches the page as a node id.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ringscope.auth.masking import mask_identifier, render_reason
from ringscope.auth.roles import Actor
from ringscope.queries.neighbours import ClusterGraph, Expansion, GraphEdge, GraphNode, NeighbourCounts
from ringscope.webapp.layout import ring_around, spring_positions

CAP_MIN, CAP_DEFAULT, CAP_MAX = 50, 100, 200
HUB_LIMIT = 500
MAX_ELEMENTS = 3000

STATUS_COLORS = {
    "banned": "#d62728",
    "under_review": "#ff9f1c",
    "flagged": "#f5d000",
    "clean": "#8ec1ea",
}
STATUS_NAMES = {"banned": "banned", "under_review": "under review", "flagged": "flagged", "clean": "clean"}
# label -> (vis-network shape, size)
TYPE_STYLES = {
    "Account": ("dot", 12),
    "Device": ("square", 11),
    "IP": ("triangle", 11),
    "Phone": ("triangleDown", 10),
    "PhoneSegment": ("triangleDown", 13),
    "Brand": ("star", 15),
    "Intermediary": ("hexagon", 15),
    "Note": ("diamond", 10),
    "Comment": ("dot", 6),
    "Order": ("diamond", 7),
    "Sanction": ("star", 9),
    "Cluster": ("hexagon", 18),
    "DetectionRun": ("square", 14),
    "Case": ("square", 14),
}


class ExplorerServices(Protocol):
    def counts(self, uid: str) -> NeighbourCounts | None: ...

    def expand(self, uid: str, types: list[str] | None, limit: int, exclude: list[str],
               since: str | None, until: str | None) -> Expansion: ...


@dataclass(frozen=True)
class HubNotice:
    """A node too big to expand blindly: its neighbour counts per relationship type."""

    uid: str
    by_type: dict[str, int]
    total: int


@dataclass
class ExplorerState:
    graph_id: str = ""
    title: str = ""
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], GraphEdge] = field(default_factory=dict)
    near: dict[str, str] = field(default_factory=dict)  # uid -> the uid it was expanded from
    # uid -> (x, y) computed on the server when the graph was opened (``webapp.layout``): the browser draws
    # them as they are instead of settling a layout itself; nodes added later are placed near their origin
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    pinned: set[str] = field(default_factory=set)
    more: set[str] = field(default_factory=set)  # expanded nodes with neighbours not drawn yet
    selected: str | None = None
    hub: HubNotice | None = None
    notice: str | None = None
    table_mode: bool = False
    focus: str | None = None
    focus_seq: int = 0
    last_seq: int = 0
    cap: int = CAP_DEFAULT
    types: list[str] | None = None  # relationship types to expand over (None: all)
    since: str | None = None  # ISO dates, time-range filter of expansions
    until: str | None = None
    salt: str = field(default_factory=lambda: secrets.token_hex(8))
    opened: int = 0

    # --- ids -------------------------------------------------------------
    def token(self, uid: str) -> str:
        return "n" + hashlib.sha1((self.salt + uid).encode("utf-8")).hexdigest()[:12]

    def uid_for(self, token: str) -> str | None:
        for uid in self.nodes:
            if self.token(uid) == token:
                return uid
        return None

    @property
    def elements(self) -> int:
        return len(self.nodes) + len(self.edges)

    def neighbours_drawn(self, uid: str) -> set[str]:
        out = set()
        for (a, b, _t) in self.edges:
            if a == uid:
                out.add(b)
            elif b == uid:
                out.add(a)
        return out


# --- opening a graph -------------------------------------------------------

def _reset(state: ExplorerState, graph_id: str, title: str) -> None:
    state.opened += 1
    state.graph_id = f"g{state.opened}-{state.token(graph_id)}"  # opaque: may be built from an IP
    state.title = title
    state.nodes.clear()
    state.edges.clear()
    state.near.clear()
    state.positions.clear()
    state.hidden.clear()
    state.pinned.clear()
    state.more.clear()
    state.selected = None
    state.hub = None
    state.notice = None
    state.table_mode = False
    state.focus = None


def open_cluster(state: ExplorerState, cluster: ClusterGraph,
                 positions: dict[str, tuple[float, float]] | None = None) -> None:
    """Draw a cluster (members and what they share) as a fresh graph, at ``positions`` if given
    (``cluster_positions``), else laid out by the browser."""
    _reset(state, cluster.cluster_id, f"cluster {cluster.cluster_id}")
    for node in cluster.nodes:
        state.nodes.setdefault(node.uid, node)
    if positions and all(uid in positions for uid in state.nodes):
        state.positions.update((uid, positions[uid]) for uid in state.nodes)
    for edge in cluster.edges:
        if edge.source in state.nodes and edge.target in state.nodes:
            state.edges[(edge.source, edge.target, edge.type)] = edge
    if cluster.members_total > cluster.members_drawn:
        state.notice = (f"Showing the {cluster.members_drawn} highest-scoring of {cluster.members_total} members; "
                        "the member table below lists them all.")
    _check_size(state)


def cluster_positions(cluster: ClusterGraph) -> dict[str, tuple[float, float]]:
    """Where ``open_cluster`` draws the cluster's nodes: a force-directed layout of its drawing, the same
    every time for the same cluster (seeded by its id)."""
    return spring_positions([n.uid for n in cluster.nodes], [(e.source, e.target) for e in cluster.edges],
                            seed=cluster.cluster_id)


def open_node(state: ExplorerState, node: GraphNode) -> None:
    """Start a fresh graph from one node (search result, entity panel)."""
    _reset(state, node.uid, name(node.uid))
    state.nodes[node.uid] = node
    state.positions[node.uid] = (0.0, 0.0)
    state.selected = node.uid


def add_node(state: ExplorerState, node: GraphNode, near: str | None = None) -> None:
    state.nodes.setdefault(node.uid, node)
    state.hidden.discard(node.uid)
    if near:
        state.near.setdefault(node.uid, near)


def apply_expansion(state: ExplorerState, expansion: Expansion) -> int:
    """Add an expansion's nodes and edges; returns how many nodes were new."""
    before = len(state.nodes)
    fresh = [node.uid for node in expansion.nodes if node.uid not in state.nodes]
    for node in expansion.nodes:
        add_node(state, node, near=expansion.center)
    center = state.positions.get(expansion.center)
    if center is not None:  # drawn where the browser puts them too, so a redrawn graph needs no physics
        state.positions.update(zip(fresh, ring_around(center, len(fresh))))
    for edge in expansion.edges:
        state.edges[(edge.source, edge.target, edge.type)] = edge
    if expansion.more:
        state.more.add(expansion.center)
    else:
        state.more.discard(expansion.center)
    _check_size(state)
    return len(state.nodes) - before


def _check_size(state: ExplorerState) -> None:
    if state.elements > MAX_ELEMENTS:
        state.table_mode = True
        state.notice = (f"{state.elements:,} elements are more than a drawing can show usefully "
                        f"(limit {MAX_ELEMENTS:,}): the view switched to tables. Hide nodes or start again "
                        "from one node to draw it.")


# --- interactions ------------------------------------------------------------

def name(uid: str) -> str:
    """A node reference for messages: personal identifiers (IPs, phone hashes) always masked."""
    label, _, key = uid.partition(":")
    return f"{label} {mask_identifier(label, key, None)}"


def set_cap(state: ExplorerState, cap: int) -> None:
    state.cap = max(CAP_MIN, min(CAP_MAX, int(cap)))


def request_expand(state: ExplorerState, uid: str, services: ExplorerServices, *, force: bool = False) -> str:
    """Expand ``uid`` by up to ``cap`` neighbours; returns what happened:
    ``expanded``, ``hub`` (too many: counts shown instead), ``nothing`` or ``gone`` (deleted)."""
    state.selected = uid
    state.hub = None
    counts = services.counts(uid)
    if counts is None:
        remove_node(state, uid)
        state.notice = f"{name(uid)} no longer exists in the database (deleted or merged); it was taken off the graph."
        return "gone"
    relevant = {t: c for t, c in counts.by_type.items() if state.types is None or t in state.types}
    total = sum(relevant.values())
    filtered = state.since is not None or state.until is not None
    if total > HUB_LIMIT and not force and not filtered:
        state.hub = HubNotice(uid, dict(sorted(relevant.items(), key=lambda kv: -kv[1])), total)
        state.notice = (f"{name(uid)} has {total:,} neighbours: not expanded blindly. Pick relationship types or a "
                        "time range, view them as a table, or expand the first ones anyway.")
        return "hub"
    if total == 0:
        state.notice = f"{name(uid)} has no neighbours over the chosen relationship types."
        return "nothing"
    exclude = sorted(state.neighbours_drawn(uid))
    expansion = services.expand(uid, state.types, state.cap, exclude, state.since, state.until)
    added = apply_expansion(state, expansion)
    shown = len(state.neighbours_drawn(uid))
    state.notice = (f"Added {added} node(s) around {name(uid)}; {shown:,} of {total:,} neighbours drawn"
                    + (" — more available." if expansion.more else "."))
    if not expansion.nodes:
        state.notice = f"No further neighbours of {name(uid)} match the filters."
        return "nothing"
    return "expanded"


def handle_event(state: ExplorerState, event: dict[str, Any] | None, services: ExplorerServices) -> str | None:
    """A click from the graph component: ``{kind: select|expand, node: token, seq}``."""
    if not isinstance(event, dict):
        return None
    seq = event.get("seq")
    if isinstance(seq, int):
        if seq <= state.last_seq and state.last_seq - seq < 1000:
            return None  # the same click delivered twice
        state.last_seq = seq
    uid = state.uid_for(str(event.get("node", "")))
    if uid is None:
        return None
    if event.get("kind") == "expand":
        return request_expand(state, uid, services)
    state.selected = uid
    return "selected"


def hide(state: ExplorerState, uid: str) -> None:
    state.hidden.add(uid)
    state.pinned.discard(uid)
    if state.selected == uid:
        state.selected = None


def toggle_pin(state: ExplorerState, uid: str) -> bool:
    if uid in state.pinned:
        state.pinned.discard(uid)
        return False
    state.pinned.add(uid)
    state.hidden.discard(uid)
    return True


def focus(state: ExplorerState, uid: str) -> None:
    """Keep ``uid``, its drawn neighbours and pinned nodes visible; hide the rest; centre on it."""
    keep = {uid} | state.neighbours_drawn(uid) | state.pinned
    state.hidden = {u for u in state.nodes if u not in keep}
    state.focus = uid
    state.focus_seq += 1
    state.selected = uid


def show_all(state: ExplorerState) -> None:
    state.hidden.clear()
    state.focus = None


def remove_node(state: ExplorerState, uid: str) -> None:
    state.nodes.pop(uid, None)
    state.edges = {k: e for k, e in state.edges.items() if uid not in (k[0], k[1])}
    state.hidden.discard(uid)
    state.pinned.discard(uid)
    state.more.discard(uid)
    if state.selected == uid:
        state.selected = None


# --- drawing -----------------------------------------------------------------

def display_key(node: GraphNode, actor: Actor | None) -> str:
    return mask_identifier(node.label, node.key, actor)


def display_caption(node: GraphNode, actor: Actor | None) -> str:
    if node.label in ("IP", "Phone"):
        return display_key(node, actor)
    text = (render_reason(node.caption, actor) if node.caption else "") or node.key
    if node.label == "Cluster":
        text = node.caption or "cluster"
    return text if len(text) <= 24 else text[:23] + "…"


def legend(labels: set[str]) -> list[dict[str, str]]:
    items = [{"text": STATUS_NAMES[s], "color": STATUS_COLORS[s], "shape": "dot"} for s in STATUS_COLORS]
    for label in sorted(labels):
        shape, _ = TYPE_STYLES.get(label, ("dot", 10))
        items.append({"text": label, "color": "#9aa4b2", "shape": shape})
    return items


def to_component(state: ExplorerState, actor: Actor | None, height: int = 620) -> dict[str, Any]:
    """The data the graph component draws: visible nodes and edges, masked for ``actor``."""
    visible = [n for uid, n in state.nodes.items() if uid not in state.hidden]
    visible_ids = {n.uid for n in visible}
    nodes = []
    for n in visible:
        shape, size = TYPE_STYLES.get(n.label, ("dot", 10))
        pinned = n.uid in state.pinned
        score = f", risk {n.score:.2f}" if n.score is not None else ""
        nodes.append({
            "id": state.token(n.uid),
            "label": display_caption(n, actor),
            "title": f"{n.label} {display_key(n, actor)}\n{STATUS_NAMES.get(n.status, n.status)}{score}"
                     + ("\n(pinned)" if pinned else "") + ("\n(more neighbours)" if n.uid in state.more else ""),
            "shape": shape,
            "size": size,
            "color": {"background": STATUS_COLORS.get(n.status, "#ccc"),
                      "border": "#111" if pinned else "#4a5560",
                      "highlight": {"background": STATUS_COLORS.get(n.status, "#ccc"), "border": "#000"}},
            "borderWidth": 4 if pinned else 1,
            "fixed": pinned,
            **({"near": state.token(state.near[n.uid])} if n.uid in state.near else {}),
            **({"x": state.positions[n.uid][0], "y": state.positions[n.uid][1]} if n.uid in state.positions
               else {}),
        })
    edges = [{"id": state.token(f"{a}|{b}|{t}"), "from": state.token(a), "to": state.token(b), "title": t}
             for (a, b, t) in state.edges if a in visible_ids and b in visible_ids]
    return {
        "graph_id": state.graph_id,
        "nodes": nodes,
        "edges": edges,
        "legend": legend({n.label for n in visible}),
        "height": height,
        "focus": state.token(state.focus) if state.focus else None,
        "focus_seq": state.focus_seq,
    }


def node_rows(state: ExplorerState, actor: Actor | None) -> list[dict[str, Any]]:
    """The table twin of the graph (also the view beyond ``MAX_ELEMENTS``)."""
    return [{"type": n.label, "id": display_key(n, actor), "name": display_caption(n, actor),
             "status": STATUS_NAMES.get(n.status, n.status), "risk": n.score,
             "hidden": n.uid in state.hidden, "pinned": n.uid in state.pinned}
            for n in state.nodes.values()]


def edge_rows(state: ExplorerState, actor: Actor | None) -> list[dict[str, Any]]:
    def show(uid: str) -> str:
        node = state.nodes.get(uid)
        return f"{node.label} {display_key(node, actor)}" if node else uid
    return [{"from": show(a), "relationship": t, "to": show(b)} for (a, b, t) in state.edges]


Handler = Callable[[ExplorerState], Any]
