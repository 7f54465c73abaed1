"""Sanctions: preview a decision with the path that justifies each affected entity, apply it (or send it for
approval), approve, revoke on appeal, history -- the same ``sanctions.service`` functions the CLI calls.

Roles come from ``auth.roles`` and are checked again by the service itself: the page only hides what a
role cannot do, the service refuses it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import actor, fmt_time, show_key, table
from ringscope.graph.model import SANCTION_TARGETS
from ringscope.queries.neighbours import split_uid


def service():
    try:
        from ringscope.sanctions import service as module  # noqa: PLC0415 - optional in an installation without it
    except ImportError:
        return None
    return module


def render() -> None:
    who = actor()
    st.title("Sanctions")
    module = service()
    if module is None:
        st.info("Sanctions are not available in this installation (the `sanctions` package is missing).",
                icon=":material/construction:")
        return
    if not who.can("preview_sanction"):
        st.error(f"Your role ({who.role}) may not preview or apply sanctions.")
        return
    done = st.session_state.pop("sx_done", None)
    if done:
        st.success(done)
    # Only the open tab is built: building all four (the pending list, the history table) cost the browser
    # ~0.5 s of rendering on every visit (measured at 1M accounts).
    tabs = st.tabs(list(TABS), key="sx_tab", on_change="rerun")
    for tab, body in zip(tabs, TABS.values()):
        if tab.open:
            with tab:
                _tab(body, module, who)


@st.fragment
def _tab(body, module, who) -> None:
    """One tab as a fragment: choosing a violation or pressing Preview reruns that tab only, not the three
    others' database reads (measured at 1M accounts: a preview took three full-page reruns)."""
    with services.shown_errors():
        body(module, who)


def _written(message: str) -> None:
    """After a write every tab may show something else (what awaits approval, the history): rerun the whole
    page, with the outcome shown above the tabs."""
    services.clear_caches()
    st.session_state["sx_done"] = message
    st.rerun(scope="app")


def _violation_kinds() -> dict[str, str]:
    from ringscope.sanctions.policy import load_sanction_policy

    return {k: v.description for k, v in services.guard(load_sanction_policy).violation_kinds.items()}


def path_text(path, who) -> str:
    """A justifying path, personal identifiers masked for the role."""
    parts = []
    for step in path:
        text = f"{step.label} {show_key(step.label, step.id, who)}"
        if step.rel:
            text += f" -{step.rel}-> " if step.direction == "out" else f" <-{step.rel}- "
        parts.append(text)
    return "".join(parts)


def effect_rows(preview, who) -> list[dict[str, Any]]:
    rows = []
    for e in preview.effects:
        rows.append({"entity": f"{e.target.label} {show_key(e.target.label, e.target.id, who)}",
                     "does": e.action, "rule": e.rule, "hop": e.hop,
                     "for": "permanent" if e.days is None and e.action != "review" else (f"{e.days} days" if e.days
                                                                                        else ""),
                     "needs approval": "; ".join(e.approval_reasons) if e.needs_approval else "",
                     "path that justifies it": path_text(e.path, who), "note": e.note})
    return rows


def _preview(module, who) -> None:
    from ringscope.sanctions.propagation import Decision, NodeRef

    target = st.session_state.get("sanction_target", "")
    cluster = st.session_state.get("explorer_cluster")
    label0, key0 = "Account", ""
    if target:
        try:
            label0, key0 = split_uid(target)
        except ValueError:
            pass
    scope = st.radio("Decide on", ["one entity", "the cluster in the graph explorer"], horizontal=True,
                     key="sx_scope", disabled=not cluster)
    kinds = _violation_kinds()
    if scope == "one entity" or not cluster:
        labels = list(SANCTION_TARGETS.values())
        c1, c2 = st.columns([1, 2])
        label = c1.selectbox("Target type", labels, index=labels.index(label0) if label0 in labels else 0,
                             key="sx_label")
        key = c2.text_input("Target id", value=key0, key="sx_key").strip()
        make = (lambda kind, reason: Decision(kind, targets=(NodeRef(label, key),), reason=reason)) if key else None
    else:
        st.write(f"Cluster `{cluster}`")
        make = lambda kind, reason: Decision(kind, cluster=cluster, reason=reason)  # noqa: E731
    kind = st.selectbox("Violation", list(kinds), format_func=lambda k: f"{k} — {kinds[k]}", key="sx_kind")
    reason = st.text_area("Reason (recorded, shown to the approver)", key="sx_reason", height=70)
    if st.button("Preview", type="primary", key="sx_preview", disabled=make is None):
        preview = services.guard(module.preview, services.get_graph(), make(kind, reason), who)
        st.session_state["sx_preview_id"] = preview.preview_id
    preview_id = st.session_state.get("sx_preview_id")
    if not preview_id:
        return
    preview = services.guard(module.get_preview, services.get_graph(), preview_id)
    st.markdown(f"##### Preview `{preview.preview_id}` ({preview.state})")
    if preview.warnings:
        with st.expander(f"{len(preview.warnings)} warning(s) from the propagation rules",
                         expanded=len(preview.warnings) <= 3):
            for warning in preview.warnings:
                st.warning(warning)
    counts = ", ".join(f"hop {c.hop}: {c.entities} entities, {c.sanctions} sanctions, {c.reviews} reviews"
                       for c in preview.counts)
    st.caption(counts)
    table(effect_rows(preview, who), hide_index=True, width="stretch", key="sx_effects",
                 column_config={"path that justifies it": st.column_config.TextColumn(width="large")})
    spread = [e for e in preview.effects if e.hop > 0][:8]
    if spread:
        st.markdown("**Why the decision reaches beyond its targets** (first %d of %d):"
                    % (len(spread), sum(1 for e in preview.effects if e.hop > 0)))
        for e in spread:
            st.markdown(f"- **{e.action}** on {e.target.label} `{show_key(e.target.label, e.target.id, who)}` "
                        f"(rule {e.rule}, hop {e.hop}): `{path_text(e.path, who)}`")
    if preview.needs_approval:
        st.info("Part of this decision needs a second person with the approver role (a permanent ban, or "
                "propagation beyond one hop): applying it sends those parts for approval.")
    label = "Send for approval" if preview.needs_approval else "Apply"
    if preview.state == "open" and who.can("apply_sanction") and st.button(label, key="sx_apply"):
        result = services.guard(module.apply, services.get_graph(), preview.preview_id, who)
        _written(f"{len(result.created_ids)} written: {len(result.sanction_ids)} sanctions, "
                 f"{len(result.review_ids)} reviews, {len(result.pending_ids)} awaiting approval.")


def _approvals(module, who) -> None:
    pending = services.guard(module.pending, services.get_graph())
    if not pending:
        st.caption("Nothing awaits approval.")
        return
    table([{"preview": p.preview_id, "applied by": p.applied_by, "when": fmt_time(str(p.applied_at)),
                   "violation": p.decision.kind,
                   "targets": ", ".join(f"{t.label} {show_key(t.label, t.id, who)}" for t in p.decision.targets)
                   or f"cluster {p.decision.cluster}", "awaiting": p.pending} for p in pending],
                 hide_index=True, width="stretch", key="sx_pending")
    if not who.can("approve_sanction"):
        st.caption(f"Approving needs the approver role (you are {who.role}).")
        return
    chosen = st.selectbox("Decision to approve", [p.preview_id for p in pending], key="sx_approve_id")
    note = st.text_input("Note", key="sx_approve_note")
    if st.button("Approve", key="sx_approve", type="primary"):
        result = services.guard(module.approve, services.get_graph(), chosen, who, reason=note)
        _written(f"Approved: {len(result.activated)} sanctions now in force.")


def _revoke(module, who) -> None:
    if not who.can("revoke_sanction"):
        st.caption(f"Revoking on appeal needs the approver role (you are {who.role}).")
        return
    ident = st.text_input("Sanction or preview id", key="sx_revoke_id").strip()
    reason = st.text_input("The appeal granted (why)", key="sx_revoke_reason").strip()
    if st.button("Revoke", key="sx_revoke", disabled=not (ident and reason)):
        result = services.guard(module.revoke, services.get_graph(), ident, who, reason)
        _written(f"Revoked {len(result.revoked)} (cascade included); "
                 + ", ".join(f"{s.target} is now {s.status}" for s in result.statuses))


def _history(module, who) -> None:
    from ringscope.sanctions.propagation import NodeRef

    labels = list(SANCTION_TARGETS.values())
    c1, c2 = st.columns([1, 2])
    label = c1.selectbox("Type", labels, key="sx_hist_label")
    key = c2.text_input("Id (empty: the latest sanctions)", key="sx_hist_key").strip()
    if key:
        hist = services.guard(module.history, services.get_graph(), NodeRef(label, key))
        st.write(f"Status: **{hist.status or 'active'}**"
                 + (f" · credit {hist.credit.score}" if hist.credit and hasattr(hist.credit, "score") else "")
                 + (f" · next violation level {hist.next_level}" if hist.next_level else ""))
        records = hist.sanctions
    else:
        records = services.guard(module.list_sanctions, services.get_graph(), limit=200)
    if not records:
        st.caption("No sanctions recorded.")
        return
    table([{"sanction": r.sanction_id,
                   "target": f"{r.target.label} {show_key(r.target.label, r.target.id, who)}" if r.target else "",
                   "action": r.action, "state": r.state, "rule": r.rule or "", "hop": r.hop,
                   "decided": fmt_time(str(r.decided_at or r.issued_at or "")), "by": r.decided_by or "",
                   "approved by": r.approved_by or "", "expires": fmt_time(str(r.expires_at or "")) or "",
                   "path": path_text(r.path, who)} for r in records],
                 hide_index=True, width="stretch", key="sx_history")


# The page's tabs, in order: title -> what builds it.
TABS = {"Preview and apply": _preview, "Awaiting approval": _approvals, "Revoke on appeal": _revoke,
        "History": _history}
