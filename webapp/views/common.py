"""Helpers every page uses: who is signed in, the run in force, navigation, formatting, masking."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd
import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.state import ExplorerState
from ringscope.auth.masking import mask_identifier, mask_properties, render_reason
from ringscope.auth.roles import Actor
from ringscope.common.csvsafe import safe_cell

# Filled by app.main: page name -> st.Page, so pages can send the user to another page.
PAGES: dict[str, Any] = {}


def actor() -> Actor:
    """The signed-in person; pages are only reachable signed in (``app.main``), this is the second lock."""
    from ringscope.webapp.signin import current_actor

    who = current_actor()
    if who is None:
        st.warning("Sign in first.")
        st.stop()
    return who


def require(permission: str) -> Actor:
    """The signed-in person if their role allows ``permission``; otherwise say so and stop the page."""
    who = actor()
    if not who.can(permission):
        st.error(f"Your role ({who.role}) does not allow this page.")
        st.stop()
    return who


def explorer() -> ExplorerState:
    state = st.session_state.get("explorer")
    if not isinstance(state, ExplorerState):
        state = ExplorerState()
        st.session_state["explorer"] = state
    return state


def go(page: str) -> None:
    """Switch to another page (when running under ``st.navigation``), else remember it for tests."""
    st.session_state["next_page"] = page
    target = PAGES.get(page)
    if target is not None:
        st.switch_page(target)


def fmt_time(value: str | None) -> str:
    """'2024-08-07T18:27:25Z[UTC]' -> '2024-08-07 18:27:25 UTC'."""
    if not value:
        return ""
    text = str(value).replace("[UTC]", "")
    text = text.replace("T", " ", 1)
    if text.endswith("Z"):
        text = text[:-1] + " UTC"
    if "." in text and text.endswith(" UTC"):
        text = text.split(".")[0] + " UTC"
    return text


def fmt_moment(value: Any) -> str:
    """A datetime (or the text ``fmt_time`` takes) as 'YYYY-MM-DD HH:MM:SS UTC'."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return fmt_time(value)


def show_key(label: str, key: str, who: Actor) -> str:
    return mask_identifier(label, key, who)


def masked_text(text: str | None, who: Actor) -> str:
    """Stored text as ``who`` may read it: identifiers marked in detectors' reasons, and IPs and mobile
    numbers in free text (comments, captions), masked unless the role allows."""
    return render_reason(text or "", who)


def masked(props: dict[str, Any], who: Actor) -> dict[str, Any]:
    return mask_properties(props, who)


def run_in_force():
    """The latest completed run, or None (pages say 'no run yet')."""
    return services.latest_run()


def open_entity(uid: str) -> None:
    st.session_state["entity_uid"] = uid
    go("entity")


def open_cluster(cluster_id: str) -> None:
    """Draw a cluster in the explorer and go there."""
    from ringscope.webapp import state as logic

    cluster = services.cluster_graph(cluster_id)
    if cluster is None:
        raise services.AppError(f"Cluster {cluster_id} no longer exists (its run may have been removed).")
    logic.open_cluster(explorer(), cluster, services.cluster_positions(cluster_id))
    st.session_state["explorer_cluster"] = cluster_id
    go("explorer")


def open_in_graph(uid: str) -> None:
    """Start the explorer from one node."""
    from ringscope.webapp import state as logic

    run = run_in_force()
    node = services.node(uid, run.run_id if run else None, run.threshold if run else 0.5)
    if node is None:
        raise services.AppError(f"{uid.split(':', 1)[0]} no longer exists in the database.")
    logic.open_node(explorer(), node)
    st.session_state.pop("explorer_cluster", None)
    go("explorer")


def table(rows: Any, **kwargs: Any) -> Any:
    """``st.dataframe`` of ``rows`` (dicts) with every text cell formula-safe (``common.csvsafe``): the
    table's own download button writes cells as they are shown, and Streamlit does not neutralise
    ``=HYPERLINK(...)`` in a nickname. Numbers stay numbers. Returns what ``st.dataframe`` returns."""
    if isinstance(rows, list):
        rows = [{k: safe_cell(v) if isinstance(v, str) else v for k, v in r.items()} if isinstance(r, dict) else r
                for r in rows]
    return st.dataframe(rows, **kwargs)


def bins_frame(bins) -> pd.DataFrame:
    """A content-health distribution's bins of 10 points (``(from, to, accounts)``) as a chart's rows, in order
    (the last bin holds 100)."""
    return pd.DataFrame({"index": [f"{lo}-{hi - 1}" if hi < 100 else f"{lo}-{hi}" for lo, hi, _ in bins],
                         "accounts": [n for _, _, n in bins]}).set_index("index")
