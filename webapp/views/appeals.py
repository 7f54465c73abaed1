"""Appeals: the queue of filed appeals, oldest first with their age, each with the sanction it is against, that
sanction's evidence path and the material the appellant submitted; filing, granting (the sanctions' revoke cascade,
in the same transaction as the verdict) and denying with a reason; every appeal filterable by state and violation
kind; and, built only while its expander is open, the granted share by violation kind and detector.

The same ``appeals.service`` the CLI (``ringscope appeals``) uses. Filing needs ``file_appeal``, a verdict
``decide_appeal`` (``auth/roles.py``); the service checks both again, and refuses a verdict from anyone who took part
in the decision appealed. Statements, reasons and references are masked for the role as everywhere else.
"""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import actor, masked_text, table

STATES = ("filed", "granted", "denied")


def render() -> None:
    who = actor()
    st.title("Appeals")
    st.caption("An appeal against a sanction or a decision waits in the queue until someone who took no part in the "
               "decision grants it (the sanctions are revoked, with everything that followed only from them) or "
               "denies it, saying why.")
    done = st.session_state.pop("appeals_done", None)
    if done:
        st.success(done)
    listing = st.container()  # filled after the actions, so that it shows what they wrote
    if who.can("file_appeal") or who.can("decide_appeal"):
        with services.shown_errors():
            _actions(who)
    else:
        st.caption(f"Your role ({who.role}) may read the appeals; filing needs an investigator, a verdict an "
                   "approver.")
    with listing, services.shown_errors():
        _queue(who)
    _stats()


def _sanctions(a) -> str:
    return "; ".join(f"{s.sanction_id} {s.action} ({s.state})" for s in a.sanctions)


def _queue(who) -> None:
    from ringscope.appeals.rules import select

    everything = services.appeals()
    now = datetime.now(timezone.utc)
    filed = [a for a in everything if a.state == "filed"]
    decided = [a for a in everything if a.state != "filed"]
    granted = sum(a.state == "granted" for a in decided)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("In the queue", len(filed))
    c2.metric("Oldest waiting (days)", f"{max(a.age_days(now) for a in filed):.1f}" if filed else "-")
    c3.metric("Decided", len(decided))
    c4.metric("Granted", f"{granted / len(decided):.0%}" if decided else "-",
              help="the platform reports about 35 % of appeals succeed")
    st.subheader("The queue")
    f1, f2 = st.columns(2)
    states = f1.multiselect("State", STATES, default=["filed"], key="appeals_states")
    kinds = f2.multiselect("Violation kind", sorted({a.kind for a in everything}), key="appeals_kinds")
    shown = select(everything, states=states or None, kinds=kinds or None)
    if not shown:
        st.info("No appeals match." if everything else "No appeals have been filed.")
        return
    table([{"appeal": a.appeal_id, "state": a.state, "age (days)": round(a.age_days(now), 1),
            "filed": f"{a.filed_at:%Y-%m-%d %H:%M}", "kind": a.kind, "detector": a.detector,
            "against": a.subject_id, "target": f"{a.target_label} {a.target_id}", "sanctions": _sanctions(a),
            "evidence path": " | ".join(s.path for s in a.sanctions if s.path),
            "material": [masked_text(m, who) for m in a.material], "appellant": masked_text(a.appellant, who),
            "statement": masked_text(a.statement, who), "decided by": a.decided_by or "",
            "why": masked_text(a.decision_reason or "", who)} for a in shown],
          hide_index=True, width="stretch", key="appeals_table",
          column_config={"material": st.column_config.ListColumn("material")})
    st.caption(f"{len(shown)} of {len(everything)} appeals, oldest first")


def _actions(who) -> None:
    left, right = st.columns(2)
    if who.can("file_appeal"):
        with left:
            st.subheader("File an appeal")
            subject = st.text_input("Sanction or decision (preview) id", key="appeals_subject")
            appellant = st.text_input("Appellant", key="appeals_appellant",
                                      placeholder="the account holder, or its representative")
            statement = st.text_area("Statement", key="appeals_statement", height=80)
            material = st.text_area("Material (one reference per line)", key="appeals_material", height=80)
            if st.button("File the appeal", key="appeals_file", icon=":material/outbox:"):
                appeal = services.appeal_file(who, subject, statement, material.splitlines(), appellant or None)
                _written(f"Appeal {appeal.appeal_id} filed against {appeal.subject_id}: in the queue.")
    if who.can("decide_appeal"):
        with right:
            _decide(who)


def _decide(who) -> None:
    st.subheader("Decide an appeal")
    now = datetime.now(timezone.utc)
    waiting = [a for a in services.appeals(("filed",))]
    if not waiting:
        st.caption("The queue is empty.")
        return
    labels = {f"{a.appeal_id} · {a.kind} · {a.target_label} {a.target_id} · {a.age_days(now):.1f} days": a
              for a in waiting}
    picked = labels[st.selectbox("Appeal (oldest first)", list(labels), key="appeals_pick")]
    st.caption(f"Against {picked.subject_id} ({_sanctions(picked)}); detector {picked.detector}. "
               f"Evidence path: {' | '.join(s.path for s in picked.sanctions if s.path) or '-'}. "
               f"Material: {', '.join(masked_text(m, who) for m in picked.material) or 'none'}.")
    reason = st.text_input("Reason", key="appeals_reason", placeholder="what the material shows")
    grant, deny = st.columns(2)
    if grant.button("Grant: revoke", key="appeals_grant", icon=":material/undo:"):
        verdict = services.appeal_verdict(who, picked.appeal_id, True, reason)
        revoked = verdict.revocation.revoked if verdict.revocation else ()
        named = ", ".join(f"{r.id} ({r.action} on {r.target.label} {r.target.id})" for r in revoked[:5])
        _written(f"Appeal {picked.appeal_id} was granted already." if verdict.already else
                 f"Appeal {picked.appeal_id} granted: {len(revoked)} revoked (cascade included)"
                 + (f": {named}{' ...' if len(revoked) > 5 else ''}." if revoked else "; it had been revoked already."))
    if deny.button("Deny", key="appeals_deny", icon=":material/block:"):
        services.appeal_verdict(who, picked.appeal_id, False, reason)
        _written(f"Appeal {picked.appeal_id} denied; the sanctions stay.")


def _stats() -> None:
    from ringscope.appeals.rules import MIN_DECIDED

    # Built only while open: the page's first paint is the queue.
    box = st.expander("Granted share by violation kind and detector", key="appeals_stats_open", on_change="rerun")
    if not box.open:
        return
    with box, services.shown_errors():
        least = st.number_input("Decided appeals a group needs before it is judged", min_value=1,
                                value=MIN_DECIDED, step=1, key="appeals_min_decided")
        stats = services.appeal_stats(int(least))
        o = stats.overall
        st.caption(f"{o.appealed} appeals, {o.decided} decided, {o.granted} granted"
                   + (f" ({o.share:.0%}; the platform reports ~{stats.platform_share:.0%})." if o.decided else ".")
                   + f" A group is flagged when it has {stats.min_decided} or more decided appeals, so do the others, "
                   "and the 95 % interval of its granted share lies above the share of all the others.")
        for s in stats.by_detector:
            if s.flagged:
                st.warning(f"Detector {s.group}: {s.note}", icon=":material/tune:")
        for title, groups, key in (("By detector", stats.by_detector, "appeals_by_detector"),
                                   ("By violation kind", stats.by_kind, "appeals_by_kind")):
            st.markdown(f"**{title}**")
            table([{"group": s.group, "appealed": s.appealed, "decided": s.decided, "granted": s.granted,
                    "granted share": s.share, "95 % low": s.low, "95 % high": s.high, "others' share": s.rest_share,
                    "flagged": s.flagged, "note": s.note} for s in groups],
                  hide_index=True, width="stretch", key=key,
                  column_config={c: st.column_config.NumberColumn(format="percent")
                                 for c in ("granted share", "95 % low", "95 % high", "others' share")})


def _written(message: str) -> None:
    st.session_state["appeals_done"] = message
    st.rerun()
