"""Sweep back (回扫): once a cluster is confirmed, the accounts anywhere in the history that match its pattern.

The same ``sweep.service`` as ``ringscope sweep``: pick a confirmed cluster of the latest run (or type any cluster
id), read the candidates with their evidence (masked for the role), open one, or place the listed ones under
observation (``watch_account``; audited, one stay each). A sanction goes through the Sanctions page as always.
"""

from __future__ import annotations

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import actor, masked_text, open_entity, table


def render() -> None:
    who = actor()
    st.title("Sweep back")
    st.caption("When a cluster is confirmed (its members sanctioned), search the whole history for accounts that "
               "share its traces: devices, IP ranges, its agency, its registration bursts, its comment templates, "
               "the phone segments it over-uses. Accounts registered long before the detection run are found too. "
               "Nothing here sanctions anyone.")
    done = st.session_state.pop("sweep_done", None)
    if done:
        st.success(done)
    with services.shown_errors():
        policy = services.sweep_policy()
        latest = services.latest_run()
        confirmed = services.confirmed_clusters(latest.run_id) if latest else []
        cluster_id, unconfirmed, min_score = _controls(confirmed, policy)
        if not cluster_id:
            st.info("Pick a confirmed cluster or type a cluster id." if confirmed else
                    "No cluster of the latest run has a sanctioned, banned or suspended member yet: sanction one, "
                    "or type a cluster id and sweep it unconfirmed.")
            return
        result = services.sweep(cluster_id, unconfirmed, min_score)
        _result(who, result)


def _controls(confirmed, policy) -> tuple[str, bool, float]:
    c1, c2, c3 = st.columns([3, 1, 1])
    labels = {f"{c.cluster_id} · {c.detector} · {c.confirmed} of {c.size} confirmed": c.cluster_id
              for c in confirmed}
    picked = c1.selectbox("Confirmed cluster of the latest run", list(labels), index=None, key="sweep_pick",
                          placeholder="most confirmed members first")
    typed = c1.text_input("or any cluster id", key="sweep_cluster").strip()
    min_score = c2.slider("Minimum score", 0.05, 1.0, float(policy.min_score), 0.05, key="sweep_min_score")
    unconfirmed = c3.checkbox("Sweep even if not confirmed", key="sweep_unconfirmed")
    return typed or labels.get(picked, ""), unconfirmed, float(min_score)


def _result(who, result) -> None:
    c = result.cluster
    st.subheader(f"Cluster {c.cluster_id}")
    st.caption(f"{c.detector}, run {c.run_id or '?'}: {c.size} members, {result.confirmed} of the "
               f"{result.members_read} read confirmed. Its pattern: "
               + ", ".join(f"{t.kind.replace('_', ' ')} {t.count}" + (f" ({len(t.skipped)} too common)"
                                                                      if t.skipped else "")
                           for t in result.pattern) + ".")
    for note in result.notes:
        st.caption(note)
    m1, m2, m3 = st.columns(3)
    m1.metric("Accounts listed", len(result.found))
    m2.metric("Registered before the run", sum(f.before_run for f in result.found))
    m3.metric("Weaker evidence, not listed", result.below)
    if not result.found:
        st.info(f"No account outside the cluster reaches score {result.min_score:g}.")
        return
    table([{"account": f.account_id, "score": round(f.score, 3), "evidence": ", ".join(f.candidate.kinds),
            "registered": f"{f.registered_at:%Y-%m-%d}" if f.registered_at else "",
            "before the run": f.before_run, "risk in the run": f.run_risk, "status": f.status or "",
            "sanctioned": f.sanctioned, "under observation": f.on_watch,
            "why": masked_text(" | ".join(e.reason for e in f.candidate.evidence), who)} for f in result.found],
          hide_index=True, width="stretch", key="sweep_found",
          column_config={"score": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f")})
    o1, o2 = st.columns(2)
    with o1:
        pick = st.selectbox("Account", [f.account_id for f in result.found], key="sweep_open_pick")
        if st.button("Open its panel", key="sweep_open", icon=":material/badge:"):
            open_entity(f"Account:{pick}")
    with o2:
        if not who.can("watch_account"):
            st.caption(f"Your role ({who.role}) may read the sweep; placing accounts under observation needs an "
                       "investigator.")
            return
        todo = [f for f in result.found if not (f.sanctioned or f.on_watch)]
        room = services.watch_policy()
        days = st.number_input("Days under observation", min_value=1, max_value=room.max_days, value=room.days,
                               step=1, key="sweep_days")
        if st.button(f"Place the {len(todo)} listed under observation", key="sweep_watch", disabled=not todo,
                     icon=":material/visibility:"):
            placed, left = services.sweep_to_watch(who, result, int(days))
            st.session_state["sweep_done"] = (f"{len(placed)} accounts placed under observation; {len(left)} left "
                                              "as they were (sanctioned or already watched).")
            st.rerun()
