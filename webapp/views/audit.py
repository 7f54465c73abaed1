"""Audit: who did what, filterable, with the hash chain verified."""

from __future__ import annotations

import json
from datetime import datetime, time, timezone

import streamlit as st

from ringscope.webapp import services
from ringscope.auth.masking import mask_properties
from ringscope.webapp.views.common import actor, fmt_time, masked_text, show_key, table

# Targets whose id is personal data (a pull from the lake may name an IP or a phone hash).
PERSONAL_TARGETS = {"ip": "IP", "phone": "Phone"}


def render() -> None:
    me = actor()
    st.title("Audit log")
    from ringscope.audit import log

    c1, c2, c3, c4 = st.columns(4)
    who = c1.text_input("Actor", key="audit_actor").strip() or None
    action = c2.text_input("Action", key="audit_action", placeholder="sanction.apply").strip() or None
    target = c3.text_input("Target id", key="audit_target").strip() or None
    since_day = c4.date_input("Since", value=None, key="audit_since")
    since = datetime.combine(since_day, time.min, tzinfo=timezone.utc).isoformat() if since_day else None
    with services.shown_errors():
        graph = services.get_graph()
        entries = services.guard(log.entries, graph, actor=who, action=action, target_id=target, since=since,
                                 limit=500)
        if st.button("Verify the chain", key="audit_verify", icon=":material/verified:"):
            result = services.guard(log.verify, graph)
            if result.ok:
                st.success(f"Verified: the chain of {result.entries:,} entries is intact"
                           + (f" and matches the anchor file outside the database ({result.anchored:,} anchored)"
                              if result.anchored is not None else "") + ".")
            else:
                st.error(f"The chain is broken: {result.problem}")
        if not entries:
            st.info("No entries match.")
            return
        table([{"#": e.seq, "when": fmt_time(e.at), "who": e.actor, "role": e.role, "action": e.action,
                       "target": f"{e.target_type} {_target(e.target_type, e.target_id, me)}",
                       "reason": masked_text(e.reason, me), "details": _details(e.details, me)}
                      for e in entries], hide_index=True, width="stretch", key="audit_entries")
        st.caption(f"{len(entries)} most recent matching entries" + (" (limit 500)" if len(entries) >= 500 else ""))


def _target(target_type: str, target_id: str, who) -> str:
    if target_type in PERSONAL_TARGETS:
        return show_key(PERSONAL_TARGETS[target_type], target_id, who)
    return masked_text(target_id, who)


def _details(details: str, who) -> str:
    """An entry's details (canonical JSON) with personal values masked for the role."""
    try:
        document = json.loads(details or "{}")
    except ValueError:
        return masked_text(details, who)
    if not isinstance(document, dict):
        return masked_text(details, who)
    return json.dumps(mask_properties(document, who), ensure_ascii=False, sort_keys=True)
