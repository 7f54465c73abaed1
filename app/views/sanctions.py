"""Sanctions: preview a decision with the path that justifies each affected entity, send it for approval or
apply it, approve, revoke on appeal, history -- the same ``sanctions.service`` code the CLI runs.

The service is built by another part of the team; until ``sanctions/service.py`` exists this page says so
and offers nothing. Calls go through ``_call``, which passes only the arguments a service function declares,
so small signature differences (``reason`` or not) do not break the page.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import streamlit as st

from app import services
from app.views.common import actor, fmt_time, show_key
from graph.model import SANCTION_TARGETS
from queries.neighbours import split_uid


def service():
    try:
        from sanctions import service as module  # noqa: PLC0415 - optional until it lands
    except ImportError:
        return None
    return module


def _call(fn, **kwargs: Any) -> Any:
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(**kwargs)
    return fn(**{k: v for k, v in kwargs.items() if k in params})


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _path_text(path: Any, who) -> str:
    if not path:
        return ""
    if isinstance(path, str):
        return path
    parts = []
    for step in path:
        if isinstance(step, dict):
            label = step.get("label") or step.get("type") or ""
            key = step.get("id") or step.get("key") or step.get("rel") or ""
            parts.append(f"{label} {show_key(label, str(key), who)}".strip())
        else:
            parts.append(str(step))
    return " → ".join(parts)


def make_decision(module, label: str, key: str, kind: str, reason: str, who) -> Any:
    """Build the service's decision object from what the form collected."""
    target_type = {v: k for k, v in SANCTION_TARGETS.items()}[label]
    values = {"target_type": target_type, "target_label": label, "label": label, "target_id": key, "target": key,
              "id": key, "kind": kind, "violation": kind, "violation_kind": kind, "reason": reason, "note": reason,
              "actor": who}
    cls = getattr(module, "Decision", None)
    if cls is None:
        return values
    if dataclasses.is_dataclass(cls):
        names = {f.name for f in dataclasses.fields(cls)}
    elif hasattr(cls, "model_fields"):
        names = set(cls.model_fields)
    else:
        names = set(inspect.signature(cls).parameters)
    return cls(**{k: v for k, v in values.items() if k in names})


def render() -> None:
    who = actor()
    st.title("Sanctions")
    module = service()
    if module is None:
        st.info("Sanctions are not available in this installation yet: `sanctions/service.py` has not landed. "
                "Preview, apply, approval and revocation appear here as soon as it does.",
                icon=":material/construction:")
        return
    if not who.can("preview_sanction"):
        st.error(f"Your role ({who.role}) may not preview or apply sanctions.")
        return
    tabs = st.tabs(["Preview and apply", "Awaiting approval", "Revoke", "History"])
    with tabs[0], services.shown_errors():
        _preview(module, who)
    with tabs[1], services.shown_errors():
        _approvals(module, who)
    with tabs[2], services.shown_errors():
        _revoke(module, who)
    with tabs[3], services.shown_errors():
        _history(module, who)


def _violation_kinds() -> list[str]:
    try:
        from sanctions.policy import load_policy

        return list(load_policy().violation_kinds)
    except Exception:  # noqa: BLE001 - the form still works with a typed kind
        return ["farm_operation", "bought_engagement", "spam_comment", "traffic_diversion", "undeclared_promotion",
                "ban_evasion"]


def _preview(module, who) -> None:
    target = st.session_state.get("sanction_target", "")
    label0, key0 = ("Account", "")
    if target:
        try:
            label0, key0 = split_uid(target)
        except ValueError:
            pass
    labels = list(SANCTION_TARGETS.values())
    c1, c2 = st.columns([1, 2])
    label = c1.selectbox("Target type", labels, index=labels.index(label0) if label0 in labels else 0,
                         key="sx_label")
    key = c2.text_input("Target id", value=key0, key="sx_key")
    kind = st.selectbox("Violation", _violation_kinds(), key="sx_kind")
    reason = st.text_area("Reason (recorded and shown to the approver)", key="sx_reason", height=80)
    if st.button("Preview", type="primary", key="sx_preview", disabled=not key.strip()):
        graph = services.get_graph()
        decision = make_decision(module, label, key.strip(), kind, reason, who)
        preview = services.guard(_call, module.preview, graph=graph, decision=decision, actor=who)
        st.session_state["sx_last_preview"] = preview
    preview = st.session_state.get("sx_last_preview")
    if preview is None:
        return
    data = _plain(preview)
    items = next((data.get(k) for k in ("affected", "entities", "items", "effects", "targets") if data.get(k)), [])
    st.markdown(f"**Preview** `{data.get('preview_id', '')}`"
                + (f" · needs approval: {data.get('approval_reason') or 'yes'}" if data.get("needs_approval") else ""))
    rows = []
    for item in items:
        item = item if isinstance(item, dict) else {"entity": str(item)}
        label_i = item.get("label") or item.get("target_label") or ""
        key_i = str(item.get("id") or item.get("target_id") or item.get("key") or "")
        rows.append({"entity": f"{label_i} {show_key(label_i, key_i, who)}".strip(),
                     "action": item.get("action", ""), "rule": item.get("rule", ""), "hop": item.get("hop", 0),
                     "path": _path_text(item.get("path"), who),
                     "until": fmt_time(str(item.get("expires_at") or item.get("until") or ""))})
    if rows:
        st.dataframe(rows, hide_index=True, use_container_width=True, key="sx_rows")
    else:
        st.caption("The decision affects nothing beyond its target.")
    if who.can("apply_sanction") and st.button("Apply (or send for approval)", key="sx_apply"):
        result = services.guard(_call, module.apply, graph=services.get_graph(), preview_id=data.get("preview_id"),
                                actor=who, reason=reason)
        services.clear_caches()
        st.success(f"Done: {_plain(result)}")
        st.session_state.pop("sx_last_preview", None)


def _approvals(module, who) -> None:
    lister = getattr(module, "pending", None) or getattr(module, "awaiting_approval", None)
    if lister is None:
        st.caption("The sanctions service does not list pending approvals.")
        return
    pending = _plain(services.guard(_call, lister, graph=services.get_graph()))
    if not pending:
        st.caption("Nothing awaits approval.")
        return
    st.dataframe(pending, hide_index=True, use_container_width=True, key="sx_pending")
    if who.can("approve_sanction"):
        ident = st.text_input("Preview or review id to approve", key="sx_approve_id")
        if st.button("Approve", key="sx_approve", disabled=not ident.strip()):
            result = services.guard(_call, module.approve, graph=services.get_graph(), preview_id=ident.strip(),
                                    review_id=ident.strip(), actor=who)
            services.clear_caches()
            st.success(f"Approved: {_plain(result)}")
    else:
        st.caption("Approving needs the approver role.")


def _revoke(module, who) -> None:
    if not who.can("revoke_sanction"):
        st.caption(f"Revoking on appeal needs the approver role (you are {who.role}).")
        return
    ident = st.text_input("Sanction id", key="sx_revoke_id")
    reason = st.text_input("Why (the appeal)", key="sx_revoke_reason")
    if st.button("Revoke", key="sx_revoke", disabled=not (ident.strip() and reason.strip())):
        result = services.guard(_call, module.revoke, graph=services.get_graph(), sanction_id=ident.strip(),
                                actor=who, reason=reason.strip())
        services.clear_caches()
        st.success(f"Revoked: {_plain(result)}")


def _history(module, who) -> None:
    target = st.text_input("Target id (empty: the latest decisions)", key="sx_hist_target").strip() or None
    rows = _plain(services.guard(_call, module.history, graph=services.get_graph(), target_id=target, limit=200))
    if not rows:
        st.caption("No sanctions recorded.")
        return
    st.dataframe(rows, hide_index=True, use_container_width=True, key="sx_history")
