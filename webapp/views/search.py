"""Search any account, device, IP, brand, agency, note or comment by id or name, and land on it; an id the
graph lacks is looked up in the lake (``RINGSCOPE_LAKE``), with the offer to pull its neighbourhood."""

from __future__ import annotations

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.lake import open_pulled, search_panel as lake_search_panel
from ringscope.webapp.views.common import actor, masked_text, open_cluster, open_entity, open_in_graph, show_key, table


def render() -> None:
    who = actor()
    st.title("Search")
    text = st.text_input("Id or name", key="search_text",
                         placeholder="an account id (a000123), device, IP, brand, agency, note title, comment text")
    if text.strip() and open_pulled(text.strip()):  # pulled from the lake by this session: open it from the graph
        return
    if not text.strip():
        st.caption("Ids match exactly or by prefix (IPs and phone hashes only exactly, unless your role may see "
                   "them); names and text match by words (Chinese included).")
        return
    with services.shown_errors():
        hits = services.run_search(text.strip(), personal_prefix=who.can("view_unmasked"))
        index = services.text_index()
        if not index.online:
            st.warning(f"Search by name and text is not available yet: its index is {index.state.lower()}"
                       + (f" ({index.percent:.0f} %)" if index.state == "POPULATING" else "")
                       + ". Neo4j builds it after a bulk load; ids match meanwhile.")
        if not hits:
            st.info(f"Nothing in the graph matches {text.strip()!r}.")
            lake_search_panel(text.strip(), who)
            return
        rows = [{"type": h.label, "id": show_key(h.label, h.key, who),
                 "name": masked_text(show_key(h.label, h.caption, who), who) if h.caption else "",
                 "matched": h.how} for h in hits]
        event = table(rows, key="search_results", on_select="rerun", selection_mode="single-row",
                             hide_index=True, width="stretch")
        picked = event.selection.rows if event and event.selection else []
        if len(hits) == 1 and not picked:
            picked = [0]
        if picked:
            hit = hits[picked[0]]
            c1, c2 = st.columns(2)
            if hit.label == "Cluster":
                if c1.button("Open cluster in the graph", key="land_cluster", type="primary"):
                    open_cluster(hit.key)
            else:
                if c1.button(f"Open {hit.label} {show_key(hit.label, hit.key, who)}", key="land_entity",
                             type="primary"):
                    open_entity(hit.uid)
                if c2.button("Start the graph from it", key="land_graph"):
                    open_in_graph(hit.uid)
