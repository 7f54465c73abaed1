"""The explorer's event handling: plain functions, called directly (AppTest cannot click in a component)."""

from __future__ import annotations

from ringscope.webapp import state as logic
from ringscope.auth.roles import Actor
from ringscope.queries.neighbours import ClusterGraph, Expansion, GraphEdge, GraphNode, NeighbourCounts

VIEWER = Actor("vic", "viewer")
APPROVER = Actor("abe", "approver")


def account(i: int, status: str = "clean") -> GraphNode:
    return GraphNode("Account", f"a{i:06d}", f"nick{i}", status)


class FakeServices:
    """Neighbours on demand: ``degree`` per uid; expand returns new accounts up to the limit."""

    def __init__(self, degree: dict[str, int], gone: set[str] = frozenset()):
        self.degree, self.gone, self.calls = degree, set(gone), []

    def counts(self, uid):
        if uid in self.gone:
            return None
        return NeighbourCounts(uid, {"FOLLOWS": self.degree.get(uid, 0)})

    def expand(self, uid, types, limit, exclude, since, until):
        self.calls.append((uid, types, limit, tuple(exclude), since, until))
        total = self.degree.get(uid, 0)
        candidates = [GraphNode("Account", f"{uid.split(':')[1]}-n{i}", None, "clean") for i in range(total)]
        fresh = [n for n in candidates if n.uid not in exclude][:limit]
        more = len([n for n in candidates if n.uid not in exclude]) > limit
        return Expansion(uid, fresh, [GraphEdge(uid, n.uid, "FOLLOWS") for n in fresh], more)


def cluster(n: int) -> ClusterGraph:
    nodes = [account(i) for i in range(n)]
    device = GraphNode("Device", "d1", None, "banned")
    edges = [GraphEdge(a.uid, device.uid, "USED_DEVICE") for a in nodes]
    return ClusterGraph("run-1:x:1", "shared_infrastructure", 0.9, n, ["why"], "run-1", n, nodes + [device], edges)


def test_open_cluster_draws_members_and_shared_device():
    s = logic.ExplorerState()
    logic.open_cluster(s, cluster(5))
    assert len(s.nodes) == 6 and len(s.edges) == 5
    data = logic.to_component(s, VIEWER)
    assert len(data["nodes"]) == 6 and len(data["edges"]) == 5
    assert {item["text"] for item in data["legend"]} >= {"banned", "under review", "flagged", "clean", "Account",
                                                          "Device"}


def test_click_selects_and_double_click_expands_with_cap_and_more():
    s = logic.ExplorerState()
    logic.open_cluster(s, cluster(2))
    svc = FakeServices({"Account:a000000": 260})
    token = s.token("Account:a000000")
    assert logic.handle_event(s, {"kind": "select", "node": token, "seq": 1}, svc) == "selected"
    assert s.selected == "Account:a000000"
    logic.set_cap(s, 150)
    assert logic.handle_event(s, {"kind": "expand", "node": token, "seq": 2}, svc) == "expanded"
    assert len(s.neighbours_drawn("Account:a000000")) == 1 + 150  # the device + 150 new
    assert "Account:a000000" in s.more
    # "more" fetches the next ones, excluding what is drawn
    assert logic.request_expand(s, "Account:a000000", svc) == "expanded"
    assert len(s.neighbours_drawn("Account:a000000")) == 1 + 260
    assert "Account:a000000" not in s.more
    assert all(n.uid not in svc.calls[1][3] or n.uid in svc.calls[1][3] for n in s.nodes.values())
    assert len(svc.calls[1][3]) == 151  # excluded the 150 drawn + the device


def test_duplicate_and_unknown_events_are_ignored():
    s = logic.ExplorerState()
    logic.open_cluster(s, cluster(2))
    svc = FakeServices({})
    token = s.token("Account:a000001")
    assert logic.handle_event(s, {"kind": "select", "node": token, "seq": 5}, svc) == "selected"
    s.selected = None
    assert logic.handle_event(s, {"kind": "select", "node": token, "seq": 5}, svc) is None
    assert logic.handle_event(s, {"kind": "select", "node": "nope", "seq": 6}, svc) is None
    assert logic.handle_event(s, None, svc) is None
    assert s.selected is None


def test_cap_is_clamped():
    s = logic.ExplorerState()
    logic.set_cap(s, 5)
    assert s.cap == logic.CAP_MIN
    logic.set_cap(s, 10_000)
    assert s.cap == logic.CAP_MAX


def test_hub_is_never_expanded_blindly():
    s = logic.ExplorerState()
    logic.open_node(s, GraphNode("PhoneSegment", "170", None, "clean"))
    svc = FakeServices({"PhoneSegment:170": 12_000})
    assert logic.request_expand(s, "PhoneSegment:170", svc) == "hub"
    assert svc.calls == [] and s.hub.total == 12_000 and "12,000 neighbours" in s.notice
    # a time range makes it a filtered subset: expanded, still capped
    s.since = "2025-01-01T00:00:00+00:00"
    assert logic.request_expand(s, "PhoneSegment:170", svc) == "expanded"
    assert len(svc.calls) == 1 and svc.calls[0][2] == s.cap and svc.calls[0][4] == s.since
    # or explicitly forced, still capped
    s.since = None
    assert logic.request_expand(s, "PhoneSegment:170", svc, force=True) == "expanded"
    assert svc.calls[-1][2] == s.cap


def test_deleted_node_is_taken_off_with_a_message():
    s = logic.ExplorerState()
    logic.open_cluster(s, cluster(3))
    svc = FakeServices({}, gone={"Account:a000002"})
    assert logic.request_expand(s, "Account:a000002", svc) == "gone"
    assert "Account:a000002" not in s.nodes and "no longer exists" in s.notice
    assert all("Account:a000002" not in (a, b) for (a, b, _t) in s.edges)


def test_beyond_max_elements_the_view_switches_to_tables():
    s = logic.ExplorerState()
    logic.open_cluster(s, cluster(logic.MAX_ELEMENTS // 2 + 10))
    assert s.table_mode and "tables" in s.notice
    assert len(logic.node_rows(s, VIEWER)) == len(s.nodes)


def test_hide_pin_focus_show_all():
    s = logic.ExplorerState()
    logic.open_cluster(s, cluster(4))
    s.edges[("Account:a000000", "Account:a000001", "FOLLOWS")] = GraphEdge("Account:a000000", "Account:a000001",
                                                                           "FOLLOWS")
    logic.hide(s, "Account:a000003")
    assert s.token("Account:a000003") not in {n["id"] for n in logic.to_component(s, VIEWER)["nodes"]}
    assert logic.toggle_pin(s, "Account:a000002") is True
    pinned = [n for n in logic.to_component(s, VIEWER)["nodes"] if n["id"] == s.token("Account:a000002")][0]
    assert pinned["fixed"] is True and pinned["borderWidth"] == 4
    logic.focus(s, "Account:a000000")
    visible = {u for u in s.nodes if u not in s.hidden}
    assert visible == {"Account:a000000", "Account:a000001", "Device:d1", "Account:a000002"}
    assert logic.to_component(s, VIEWER)["focus"] == s.token("Account:a000000")
    logic.show_all(s)
    assert not s.hidden


def test_personal_identifiers_never_reach_the_browser_for_a_viewer():
    s = logic.ExplorerState()
    ip = GraphNode("IP", "203.0.113.77", None, "clean")
    phone = GraphNode("Phone", "16E2DBBF3D84C2CA", None, "clean")
    logic.open_node(s, ip)
    logic.add_node(s, phone, near=ip.uid)
    text = str(logic.to_component(s, VIEWER)) + str(logic.node_rows(s, VIEWER))
    assert "203.0.113.77" not in text and "16E2DBBF3D84C2CA" not in text
    assert "203.0.x.x" in text
    # an approver may see them unmasked in labels, but ids stay opaque tokens
    data = logic.to_component(s, APPROVER)
    assert any(n["label"] == "203.0.113.77" for n in data["nodes"])
    assert all("203.0.113.77" not in n["id"] for n in data["nodes"])
    # messages mask too, whoever reads them
    assert "203.0.113.77" not in logic.name(ip.uid)


# --- where nodes are drawn (server-side layout) -----------------------------------------------------

def test_a_cluster_opened_with_positions_is_drawn_at_them_and_expansions_go_on_a_ring():
    s = logic.ExplorerState()
    c = cluster(4)
    positions = logic.cluster_positions(c)
    assert set(positions) == {n.uid for n in c.nodes}
    assert positions == logic.cluster_positions(c)  # the same cluster is laid out the same way every time
    logic.open_cluster(s, c, positions)
    drawn = {n["id"]: (n["x"], n["y"]) for n in logic.to_component(s, VIEWER)["nodes"]}
    assert drawn == {s.token(uid): xy for uid, xy in positions.items()}
    # an expansion's new nodes are placed around the node they came from, so a redraw needs no physics
    svc = FakeServices({"Account:a000001": 3})
    logic.request_expand(s, "Account:a000001", svc)
    new = [uid for uid in s.nodes if uid.startswith("Account:a000001-n")]
    assert len(new) == 3 and all(uid in s.positions for uid in new)
    cx, cy = positions["Account:a000001"]
    radii = {round(((s.positions[u][0] - cx) ** 2 + (s.positions[u][1] - cy) ** 2) ** 0.5) for u in new}
    assert len(radii) == 1 and radii.pop() > 120
    assert all(s.positions[u] == positions[u] for u in positions)  # nothing drawn before moved
    assert all("x" in n for n in logic.to_component(s, VIEWER)["nodes"])


def test_positions_that_do_not_cover_the_drawing_leave_the_layout_to_the_browser():
    s = logic.ExplorerState()
    c = cluster(3)
    partial = dict(list(logic.cluster_positions(c).items())[:2])
    logic.open_cluster(s, c, partial)
    assert not s.positions and not any("x" in n for n in logic.to_component(s, VIEWER)["nodes"])
    # and a new graph forgets the old one's positions
    logic.open_cluster(s, c, logic.cluster_positions(c))
    logic.open_node(s, account(99))
    assert s.positions == {"Account:a000099": (0.0, 0.0)}
