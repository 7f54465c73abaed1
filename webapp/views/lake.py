"""An entity the graph lacks but the lake has: say so, show the lake's row, offer to pull its neighbourhood.

Used by the Search and Entity pages when ``RINGSCOPE_LAKE`` is set. What the
lake row says is masked for the role like every other view (personal
properties, IP and phone ids, IPs and mobile numbers in free text). Roles
with ``load_data`` get "Pull its neighbourhood" (hops 0-2, default 1), which
runs ``ringscope ingest --subgraph-of`` in the background
(``webapp.services.start_pull``); while it runs the panel says "Pulling…"
with its progress and refreshes itself, and when it is done the entity opens
from the graph. Everyone else sees the indicator and no button.
"""

from __future__ import annotations

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import masked, masked_text, open_entity, show_key, table

LABEL_OF_KIND = {"account": "Account", "device": "Device", "ip": "IP", "phone": "Phone", "note": "Note",
                 "intermediary": "Intermediary"}
KIND_OF_LABEL = {label: kind for kind, label in LABEL_OF_KIND.items()}
HOP_CHOICES = (0, 1, 2)
DEFAULT_HOPS = 1
REFRESH_S = 2  # how often the panel looks at a running pull
TEXT_KEYS = ("nickname", "bio", "title", "text", "name")  # free text in lake rows: masked where it names an IP


def pulls_of_session() -> dict[str, str]:
    """This session's pulls: entity uid -> pull id."""
    return st.session_state.setdefault("lake_pulls", {})


def shown_row(row: dict, label: str, who) -> dict:
    """A lake row as ``who`` may see it."""
    shown = masked({k: v for k, v in row.items()}, who)
    out = {}
    for key, value in shown.items():
        if isinstance(value, str) and key in TEXT_KEYS:
            value = masked_text(value, who)
        out[key] = value
    return out


def lake_panel(kind: str, entity_id: str, who, key: str) -> bool:
    """For node ``kind``:``entity_id`` that the graph lacks (or holds as a stub): the lake's answer and, for a
    role that may load data, the pull. Returns whether the lake has it. ``key`` keeps widget keys apart."""
    lake = services.lake_location()
    if lake is None:
        return False
    label = LABEL_OF_KIND[kind]
    uid = f"{label}:{entity_id}"
    shown_id = show_key(label, entity_id, who)
    running = services.pulls().running_of(kind, entity_id, lake)  # started by anyone, from any page
    if running is not None:
        pulls_of_session()[uid] = running.pull_id
    if _pull_panel(uid, shown_id, who, key):
        return True
    found = services.lake_lookup(lake, kind, entity_id)
    if found is None:
        st.caption(f"Not in the lake either ({kind} {shown_id}).")
        return False
    render_found(found, who, key)
    return True


def render_found(found, who, key: str) -> None:
    """The indicator, the row, and the pull button (or why there is none)."""
    label = LABEL_OF_KIND[found.kind]
    uid = f"{label}:{found.id}"
    shown_id = show_key(label, found.id, who)
    st.info(f"{label} {shown_id} is in the lake, not in the graph.", icon=":material/database:")
    where = (f"Its own row in the lake's `{found.found_in}`" if found.own
             else f"Named by a row of the lake's `{found.found_in}` (the first one shown)")
    st.caption(where + f"; looked up in {found.seconds * 1000:.0f} ms.")
    table([{"column": k, "value": "" if v is None else str(v)} for k, v in shown_row(found.row, label, who).items()],
          hide_index=True, width="stretch", key=f"{key}_lake_row")
    if not who.can("load_data"):
        st.caption(f"Your role ({who.role}) may not load data into the graph; an investigator can pull it.")
        return
    lake = services.lake_location()
    c1, c2 = st.columns([1, 2])
    hops = c1.selectbox("Hops", HOP_CHOICES, index=HOP_CHOICES.index(DEFAULT_HOPS), key=f"{key}_lake_hops",
                        help="0: its own row only; 1: its links (an account's devices, IPs, notes ...; an IP's or "
                             "device's accounts); 2: also what those link to")
    if c2.button("Pull its neighbourhood", key=f"{key}_lake_pull", icon=":material/download:", type="primary"):
        with services.shown_errors():
            pull = services.start_pull(who, found.kind, found.id, int(hops), lake)
            pulls_of_session()[uid] = pull.pull_id
            st.rerun()


def _pull_panel(uid: str, shown_id: str, who, key: str) -> bool:
    """This session's pull of ``uid``, if any: running (progress, refreshed every ``REFRESH_S``), done
    (the summary; the graph now has it) or failed (the error). Returns whether it showed one that still
    stands for the lake panel (running or done: no lookup or button needed)."""
    pull = services.pulls().get(pulls_of_session().get(uid))
    if pull is None:
        return False
    status = pull.status()
    if status.state == "running":
        _progress(pull.pull_id, shown_id, who)
        return True
    if status.state == "failed":
        error = masked_text(status.error.replace(pull.request.entity_id, shown_id), who)
        st.error(f"Pulling {shown_id} from the lake failed after {status.seconds:.0f} s: {error}",
                 icon=":material/error:")
        pulls_of_session().pop(uid, None)
        return False
    finished_pull(uid, status, shown_id, who)
    return True


def settle_pull(uid: str) -> bool:
    """Whether this session's pull of ``uid`` is done; the first time it is seen done, the app's caches forget
    what the graph lacked (pages call this before they read the graph)."""
    pull = services.pulls().get(pulls_of_session().get(uid))
    if pull is None or pull.status().state != "done":
        return False
    seen = st.session_state.setdefault("lake_pulls_seen", set())
    if pull.pull_id not in seen:
        seen.add(pull.pull_id)
        services.clear_caches()
    return True


def open_pulled(text: str) -> bool:
    """On the Search page: when this session pulled ``text`` (an id of any kind) and the pull is done, open it
    from the graph. Returns whether it did."""
    opened = st.session_state.setdefault("lake_pulls_opened", set())
    for label in LABEL_OF_KIND.values():
        uid = f"{label}:{text}"
        pull_id = pulls_of_session().get(uid)
        if pull_id and pull_id not in opened and settle_pull(uid):
            opened.add(pull_id)  # once: back on Search, the search works as ever
            open_entity(uid)
            return True
    return False


def finished_pull(uid: str, status, shown_id: str, who) -> None:
    """A pull that finished: its summary."""
    settle_pull(uid)
    st.success(f"Pulled {shown_id} and its neighbourhood from the lake in {status.seconds:.0f} s.",
               icon=":material/check_circle:")
    entity_id = uid.partition(":")[2]
    with st.expander("What the pull loaded"):
        st.text("\n".join(masked_text(line.replace(entity_id, shown_id), who) for line in status.summary)
                or "(no summary)")


def show_finished(uid: str, who) -> None:
    """On the entity page, once the entity is in the graph: the summary of this session's pull of it."""
    pull = services.pulls().get(pulls_of_session().get(uid))
    if pull is None:
        return
    status = pull.status()
    if status.state == "done":
        label, _, key = uid.partition(":")
        finished_pull(uid, status, show_key(label, key, who), who)


@st.fragment(run_every=REFRESH_S)
def _progress(pull_id: str, shown_id: str, who) -> None:
    pull = services.pulls().get(pull_id)
    status = pull.status() if pull else None
    if status is None or status.state != "running":
        st.rerun(scope="app")  # the whole page: the result shows, and the entity opens from the graph
        return
    st.info(f"Pulling {shown_id}'s neighbourhood from the lake… {status.seconds:.0f} s "
            f"({pull.request.hops} hop{'s' if pull.request.hops != 1 else ''}, by {pull.request.actor}): "
            f"{masked_text(status.progress.replace(pull.request.entity_id, shown_id), who)}",
            icon=":material/hourglass_top:")


def search_panel(text: str, who) -> None:
    """The Search page found nothing in the graph: look for ``text`` as an id of any kind in the lake (a pull
    of it running or failed shows as such)."""
    lake = services.lake_location()
    if lake is None or not text or any(c.isspace() for c in text) or len(text) > 200:
        return
    found_any = False
    for kind, label in LABEL_OF_KIND.items():
        if f"{label}:{text}" in pulls_of_session():
            found_any = lake_panel(kind, text, who, key=f"search_{kind}") or found_any
    if found_any:
        return
    found = services.lake_lookup_any(lake, text)
    if not found:
        st.caption("Not in the lake either.")
    for entity in found:
        render_found(entity, who, key=f"search_{entity.kind}")
