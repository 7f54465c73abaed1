"""Graph explorer: the selected cluster or entity drawn with vis-network; click to select, double-click to expand.

The drawing and the panel beside it live in one ``st.fragment``, so a click
reruns only them. What a click or button does is in ``app.state`` (plain
functions, tested directly); this page only wires widgets to them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp import state as logic
from ringscope.webapp.components.graph_view import graph_view
from ringscope.webapp.views.common import actor, explorer, fmt_time, go, open_cluster, open_entity, table
from ringscope.graph.model import RELATIONSHIPS

GRAPH_KEY = "explorer_graph"


def render() -> None:
    actor()
    st.title("Graph explorer")
    state = explorer()
    if not state.nodes:
        st.info("Nothing drawn yet: open a cluster below or from the Overview, or start from a search result.")
        with services.shown_errors():
            run = services.latest_run()
            clusters = services.top_clusters(run.run_id, 100) if run else []
            if clusters:
                labels = [f"{c.score:.2f} · {c.detector} · {c.size} members · {c.cluster_id.split(':', 1)[-1]}"
                          for c in clusters]
                pick = st.selectbox("Cluster", range(len(clusters)), format_func=lambda i: labels[i],
                                    key="explorer_pick_cluster")
                if st.button("Draw it", key="explorer_draw_cluster", type="primary"):
                    open_cluster(clusters[pick].cluster_id)
                    st.rerun()
        return
    workspace()


def _services() -> services.LiveServices:
    run = services.latest_run()
    return services.LiveServices(run.run_id if run else None, run.threshold if run else 0.5)


def _on_graph_event() -> None:
    """The component's click arrives here, before the fragment reruns."""
    value = st.session_state.get(GRAPH_KEY)
    event = None
    if value is not None:
        event = getattr(value, "event", None)
        if event is None and hasattr(value, "get"):
            event = value.get("event")
    state = explorer()
    try:
        logic.handle_event(state, event, _services())
    except services.AppError as exc:
        state.notice = str(exc)


def _expand(uid: str, force: bool = False) -> None:
    """Button callback: expand (or fetch more of) ``uid``; a failure becomes the page's notice."""
    state = explorer()
    try:
        logic.request_expand(state, uid, _services(), force=force)
    except services.AppError as exc:
        state.notice = str(exc)


def _day_bound(day: date | None, end: bool = False) -> str | None:
    if day is None:
        return None
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)
    return moment.isoformat()


@st.fragment
def workspace() -> None:
    who = actor()
    state = explorer()
    head, tools = st.columns([5, 2])
    head.markdown(f"**{state.title}** · {len(state.nodes):,} nodes, {len(state.edges):,} edges"
                  + (f" · {len(state.hidden)} hidden" if state.hidden else ""))
    with tools.popover("Filters and limits", icon=":material/tune:"):
        types = sorted(RELATIONSHIPS)
        chosen = st.multiselect("Relationship types to expand over", types, default=state.types or [],
                                key="explorer_types", placeholder="all types")
        state.types = chosen or None
        c1, c2 = st.columns(2)
        since = c1.date_input("From", value=None, key="explorer_since")
        until = c2.date_input("Until", value=None, key="explorer_until")
        state.since, state.until = _day_bound(since), _day_bound(until, end=True)
        logic.set_cap(state, st.slider("Neighbours per click", logic.CAP_MIN, logic.CAP_MAX, state.cap, step=25,
                                       key="explorer_cap"))
    if state.notice:
        st.info(state.notice, icon=":material/info:")
    drawing, panel = st.columns([3, 1.25])
    with drawing:
        if state.table_mode:
            _tables(state, who)
        else:
            graph_view(logic.to_component(state, who), key=GRAPH_KEY, on_event=_on_graph_event)
            st.caption("Click a node to select it, double-click to expand it. "
                       "Drag to move; the layout does not move by itself once settled.")
    with panel:
        with services.shown_errors():
            _selection(state, who)
    # Both tables below are built only while their expander is open: a closed expander's content would
    # still be computed and sent on every click in the drawing (5,000 members of a large cluster).
    cluster_id = st.session_state.get("explorer_cluster")
    if cluster_id and state.graph_id and state.title.endswith(cluster_id):
        members_box = st.expander("All members of the cluster", key="explorer_members_open", on_change="rerun")
        if members_box.open:
            with members_box, services.shown_errors():
                _members(cluster_id)
    drawn_box = st.expander("Table of what is drawn", key="explorer_drawn_open", on_change="rerun")
    if drawn_box.open:
        with drawn_box:
            table(logic.node_rows(state, who), hide_index=True, width="stretch", key="drawn_nodes")


def _members(cluster_id: str) -> None:
    members = services.cluster_members(cluster_id)
    table([{"account": m.account_id, "nickname": m.nickname or "", "status": m.status or "",
            "member score": m.member_score, "risk": m.risk, "registered": fmt_time(m.registered_at)}
           for m in members], hide_index=True, width="stretch", key="cluster_members")
    if len(members) >= 5000:
        st.caption("The first 5,000 members by member score.")


def _tables(state: logic.ExplorerState, who) -> None:
    table(logic.node_rows(state, who), hide_index=True, width="stretch", key="table_nodes")
    table(logic.edge_rows(state, who)[:5000], hide_index=True, width="stretch", key="table_edges")
    if state.elements <= logic.MAX_ELEMENTS:
        st.button("Draw it again", key="back_to_drawing", on_click=setattr, args=(state, "table_mode", False))


def _selection(state: logic.ExplorerState, who) -> None:
    uid = state.selected
    if uid is None or uid not in state.nodes:
        st.caption("Select a node (click it) to see it here.")
        st.button("Show hidden nodes", key="show_all_none", disabled=not state.hidden, on_click=logic.show_all,
                  args=(state,))
        return
    node = state.nodes[uid]
    st.markdown(f"#### {node.label}\n`{logic.display_key(node, who)}`")
    if node.caption and node.label not in ("IP", "Phone"):
        st.write(node.caption)
    st.markdown(f"Status: **{logic.STATUS_NAMES.get(node.status, node.status)}**"
                + (f" · risk **{node.score:.2f}**" if node.score is not None else ""))
    counts = services.counts(uid)
    if counts is None:
        st.warning("This node no longer exists in the database.")
        st.button("Take it off the graph", key="drop_gone", on_click=logic.remove_node, args=(state, uid))
        return
    drawn = len(state.neighbours_drawn(uid))
    st.caption(f"{counts.total:,} relationships, {drawn:,} drawn")
    if counts.by_type:
        table([{"relationship": t, "count": c} for t, c in sorted(counts.by_type.items(),
                                                                          key=lambda kv: -kv[1])],
                     hide_index=True, width="stretch", key="sel_counts", height=min(35 * (len(counts.by_type) + 1) + 3, 250))
    b1, b2 = st.columns(2)
    b1.button(f"Expand ({state.cap})", key="btn_expand", icon=":material/open_in_full:", on_click=_expand,
              args=(uid,))
    b2.button("More", key="btn_more", disabled=uid not in state.more, icon=":material/add:", on_click=_expand,
              args=(uid,))
    b3, b4 = st.columns(2)
    b3.button("Hide", key="btn_hide", icon=":material/visibility_off:", on_click=logic.hide, args=(state, uid))
    b4.button("Unpin" if uid in state.pinned else "Pin", key="btn_pin", icon=":material/push_pin:",
              on_click=logic.toggle_pin, args=(state, uid))
    b5, b6 = st.columns(2)
    b5.button("Focus", key="btn_focus", icon=":material/center_focus_strong:", on_click=logic.focus,
              args=(state, uid))
    b6.button("Show all", key="btn_show_all", disabled=not state.hidden, icon=":material/visibility:",
              on_click=logic.show_all, args=(state,))
    if st.button("Open the entity panel", key="btn_entity", icon=":material/badge:"):
        open_entity(uid)
    if node.label in ("Account", "Device", "Brand", "Intermediary", "Note") and who.can("preview_sanction"):
        if st.button("Preview a sanction on it", key="btn_sanction", icon=":material/gavel:"):
            st.session_state["sanction_target"] = uid
            go("sanctions")
    if state.hub and state.hub.uid == uid:
        _hub(state, uid, who)


def _hub(state: logic.ExplorerState, uid: str, who) -> None:
    st.warning(f"{state.hub.total:,} neighbours: too many to draw blindly.")
    table([{"relationship": t, "count": c} for t, c in state.hub.by_type.items()], hide_index=True,
                 key="hub_counts")
    types = list(state.types or state.hub.by_type)
    n = services.filtered_count(uid, tuple(types), state.since, state.until)
    st.caption(f"With the current filters: {n:,}{'+' if n > 5000 else ''} neighbours.")
    st.button(f"Expand the first {state.cap} with these filters", key="hub_force", on_click=_expand,
              args=(uid, True))
    if st.toggle("Show them as a table (first 500)", key="hub_table"):
        exp = services.expand(uid, tuple(types), 500, (), state.since, state.until, _services().run_id)
        table([{"type": x.label, "id": logic.display_key(x, who), "name": logic.display_caption(x, who),
                       "status": x.status} for x in exp.nodes], hide_index=True, key="hub_rows")
