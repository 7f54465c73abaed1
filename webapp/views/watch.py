"""Observation room: accounts under observation with a silent restriction, the investigator's queue of stays a
run escalated, and every past stay; filterable by state, reason, age and the risk's trend over the runs.

The same ``watch.service`` the CLI (``ringscope watch``) and the detection run use. Placing, releasing and
resolving need ``watch_account`` (``auth/roles.py``); the service checks it again. Reasons are masked for the
role as everywhere else.
"""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import actor, masked_text, open_entity, table

STATES = ("watching", "escalated", "released")
TRENDS = ("rising", "flat", "falling", "new")


def render() -> None:
    who = actor()
    st.title("Observation room")
    st.caption("Accounts under observation carry a silent restriction (the account is not notified). After each "
               "detection run, a stay whose risk reached the flag threshold goes to the investigator's queue "
               "(nothing is sanctioned automatically); one that stayed clean until its end is released.")
    policy = None
    done = st.session_state.pop("watch_done", None)
    if done:
        st.success(done)
    with services.shown_errors():
        policy = services.watch_policy()
    if policy is None:
        return
    listing = st.container()  # filled after the actions, so that it shows what they wrote
    if who.can("watch_account"):
        with services.shown_errors():
            _actions(who, policy)
    else:
        st.caption(f"Your role ({who.role}) may read the room; placing and releasing need an investigator.")
    with listing, services.shown_errors():
        _room(who, policy)


def _room(who, policy) -> None:
    from ringscope.watch.room import select, trend

    stays = services.watch_stays()
    now = datetime.now(timezone.utc)
    c1, c2, c3 = st.columns(3)
    c1.metric("Watching", sum(s.state == "watching" for s in stays))
    c2.metric("Escalated: in the queue", sum(s.state == "escalated" for s in stays))
    c3.metric("Released (history)", sum(s.state == "released" for s in stays))
    queue = [s for s in stays if s.state == "escalated"]
    if queue:
        st.subheader("Investigator's queue")
        st.caption("Their risk reached the flag threshold in a run. Open the account, decide on a sanction in "
                   "Sanctions if it is warranted, then resolve the stay below.")
        table([{"account": s.account_id, "escalated in": s.escalated_in or "",
                "risk over the runs": list(s.risks), "last risk": s.risks[-1] if s.risks else None,
                "reason": masked_text(s.reason, who)} for s in queue],
              hide_index=True, width="stretch", key="watch_queue",
              column_config={"risk over the runs": st.column_config.LineChartColumn(y_min=0.0, y_max=1.0)})
    st.subheader("The room")
    f1, f2, f3, f4 = st.columns(4)
    states = f1.multiselect("State", STATES, default=["watching", "escalated"], key="watch_states")
    reason = f2.text_input("Reason contains", key="watch_reason")
    oldest = max([s.age_days(now) for s in stays] + [float(policy.max_days)])
    ages = f3.slider("Age (days)", 0, int(oldest) + 1, (0, int(oldest) + 1), key="watch_age")
    trends = f4.multiselect("Risk trend over the runs", TRENDS, key="watch_trends")
    shown = select(stays, now, policy, states=states or None, reason=reason, min_age_days=ages[0],
                   max_age_days=ages[1], trends=trends or None)
    if not shown:
        st.info("No stays match." if stays else "Nobody is under observation.")
        return
    table([{"account": s.account_id, "state": s.state, "reason": masked_text(s.reason, who), "by": s.placed_by,
            "started": f"{s.started_at:%Y-%m-%d %H:%M}", "ends": f"{s.ends_at:%Y-%m-%d %H:%M}",
            "age (days)": round(s.age_days(now), 1), "trend": trend(s.risks, policy.trend_tolerance),
            "risk over the runs": list(s.risks), "restriction": f"{s.restriction} x{s.reach_factor}",
            "notified": s.notified, "ended": masked_text(s.release_reason or "", who)} for s in shown],
          hide_index=True, width="stretch", key="watch_room",
          column_config={"risk over the runs": st.column_config.LineChartColumn(y_min=0.0, y_max=1.0)})
    st.caption(f"{len(shown)} of {len(stays)} stays")
    if st.button("Open the first account's panel", key="watch_open"):
        open_entity(f"Account:{shown[0].account_id}")


def _actions(who, policy) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("Place an account under observation")
        account = st.text_input("Account id", key="watch_add_account")
        reason = st.text_input("Reason", key="watch_add_reason")
        days = st.number_input("Days", min_value=1, max_value=policy.max_days, value=policy.days, step=1,
                               key="watch_add_days")
        if st.button("Place on watch", key="watch_add", icon=":material/visibility:"):
            stay = services.watch_add(who, account, reason, int(days))
            _written(f"{stay.account_id} is under observation until {stay.ends_at:%Y-%m-%d} "
                     f"({stay.restriction}, not notified).")
    with right:
        st.subheader("Resolve or release a stay")
        open_stays = [s for s in services.watch_stays() if s.state in ("watching", "escalated")]
        if not open_stays:
            st.caption("Nobody is under observation.")
            return
        labels = {f"{s.account_id} ({s.state})": s.account_id for s in open_stays}
        picked = st.selectbox("Stay", list(labels), key="watch_release_pick")
        why = st.text_input("Why", key="watch_release_reason", placeholder="reviewed: sanctioned / cleared")
        if st.button("Resolve: release from the room", key="watch_release", icon=":material/task_alt:"):
            stay = services.watch_release(who, labels[picked], why)
            _written(f"{stay.account_id} released from the room.")


def _written(message: str) -> None:
    st.session_state["watch_done"] = message
    st.rerun()
