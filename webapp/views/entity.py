"""Entity panel: properties, risk with its reasons, timeline, sanction history, linked devices and accounts; an
entity the graph lacks (or holds only as a stub) is looked up in the lake (``views/lake.py``)."""

from __future__ import annotations

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import (table, actor, bins_frame, fmt_moment, fmt_time, go, masked, open_cluster,
                                           open_entity, open_in_graph, masked_text, show_key)
from ringscope.queries.neighbours import split_uid
from ringscope.webapp.views.lake import KIND_OF_LABEL, lake_panel, settle_pull, show_finished


def render() -> None:
    who = actor()
    st.title("Entity")
    uid = st.session_state.get("entity_uid")
    if not uid:
        st.info("Pick an entity: search for it, or select a node in the graph and open its panel.")
        return
    try:
        label, key = split_uid(uid)
    except ValueError:
        st.error("That is not an entity reference.")
        return
    with services.shown_errors():
        settle_pull(uid)  # pulled from the lake by this session: read the graph afresh
        run = services.latest_run()
        details = services.entity_details(uid, run.run_id if run else None)
        if details is None:
            if label in KIND_OF_LABEL and services.lake_location() is not None:
                st.subheader(f"{label} `{show_key(label, key, who)}`")
                st.warning(f"{label} {show_key(label, key, who)} is not in the graph.")
                lake_panel(KIND_OF_LABEL[label], key, who, key="entity")
                return
            st.warning(f"{label} {show_key(label, key, who)} no longer exists in the database "
                       "(deleted or merged). Search again to continue.")
            return
        st.subheader(f"{label} `{show_key(label, key, who)}`")
        show_finished(uid, who)
        if details.properties.get("stub") and label in KIND_OF_LABEL and services.lake_location() is not None:
            st.warning(f"The graph holds {label} {show_key(label, key, who)} only as a stub (a row named it; its "
                       "own row was never loaded).")
            lake_panel(KIND_OF_LABEL[label], key, who, key="entity")
        c1, c2, c3 = st.columns(3)
        if c1.button("Draw it in the graph", key="entity_graph", icon=":material/hub:"):
            open_in_graph(uid)
        if who.can("preview_sanction") and label in ("Account", "Device", "Brand", "Intermediary", "Note"):
            if c2.button("Preview a sanction", key="entity_sanction", icon=":material/gavel:"):
                st.session_state["sanction_target"] = uid
                go("sanctions")
        if who.can("export_masked") and label == "Account":
            if c3.button("Evidence pack", key="entity_evidence", icon=":material/inventory_2:"):
                st.session_state["evidence_subject"] = ("account", key)
                go("evidence")
        left, right = st.columns([1, 1])
        with left:
            _risk(details, who)
            _health(label, key)
            _group_health(label, key)
            st.markdown("##### Properties")
            props = masked(details.properties, who)
            if label in ("IP", "Phone"):
                props = {k: (show_key(label, v, who) if isinstance(v, str) else v) for k, v in props.items()}
            table([{"property": k, "value": str(v)} for k, v in props.items()], hide_index=True,
                         width="stretch", key="entity_props")
            _sanctions(details, who)
            _reports(label, key, who)
        with right:
            _timeline(details, who)
            _links(details, who)


def _risk(details, who) -> None:
    if details.label != "Account":
        return
    st.markdown("##### Risk")
    if details.risk is None:
        st.caption("The latest run did not score this account (no detector found it).")
    else:
        r = details.risk
        verdict = "flagged" if r.score >= r.threshold else "below the flag threshold"
        st.metric("Risk score", f"{r.score:.2f}", help=f"{verdict} ({r.threshold}); detectors: {', '.join(r.detectors)}")
        for reason in r.reasons:
            st.text("• " + masked_text(reason, who))  # text, not markdown: reasons quote user content
    if details.clusters:
        rows = [{"detector": c.detector, "cluster risk": round(c.score, 3), "members": c.size,
                 "cluster": c.cluster_id.split(':', 1)[-1]} for c in details.clusters]
        event = table(rows, hide_index=True, width="stretch", on_select="rerun",
                             selection_mode="single-row", key="entity_clusters")
        picked = event.selection.rows if event and event.selection else []
        if picked and st.button("Open that cluster in the graph", key="entity_open_cluster"):
            open_cluster(details.clusters[picked[0]].cluster_id)


def _timeline(details, who) -> None:
    st.markdown("##### Timeline")
    if not details.timeline:
        st.caption("No dated activity.")
        return
    table([{"when": fmt_time(t.at), "what": t.kind, "id": t.ref, "text": masked_text(t.text, who)}
                  for t in details.timeline], hide_index=True, width="stretch", key="entity_timeline",
                 height=min(300, 35 * (len(details.timeline) + 1) + 3))
    if len(details.timeline) >= details.limit:
        st.caption(f"The {details.limit} most recent items.")


def _sanctions(details, who) -> None:
    if details.label not in ("Account", "Device", "Brand", "Intermediary", "Note"):
        return
    st.markdown("##### Sanction history")
    if not details.sanctions:
        st.caption("No sanctions.")
        return
    table([{"sanction": s.sanction_id, "action": s.action, "reason": masked_text(s.reason, who),
                   "issued": fmt_time(s.issued_at), "expires": fmt_time(s.expires_at) or "never",
                   "state": s.state, "source": s.source} for s in details.sanctions],
                 hide_index=True, width="stretch", key="entity_sanctions")


REPORT_TYPES = {"Account": "account", "Note": "note", "Comment": "comment"}


def _health(label: str, key: str) -> None:
    """An account's content-health index (``ringscope health --account``): the index, its band's effect, the points
    left of each dimension, each indicator's contribution, and what the input does not let it measure."""
    if label != "Account":
        return
    st.markdown("##### Content health")
    with services.shown_errors():  # a bad health policy or a slow read leaves the rest of the panel
        _health_block(key)


def _health_block(key: str) -> None:
    from ringscope.health.index import effect_of

    h = services.account_health(key)
    st.metric("Index (0-100)", f"{h.index:.1f}", help="content quality 40 %, compliance 35 %, user feedback 25 % "
                                                      "(the health policy's weights)")
    st.caption(f"Band **{h.band}** now: {effect_of(h)}. "
               + "; ".join(f"{d.name.replace('_', ' ')} {d.points:.1f} of {d.weight:g}" for d in h.dimensions))
    _effect_in_force(key)
    for w in h.warnings:
        st.warning(w, icon=":material/trending_down:")
    table([{"indicator": c.indicator, "dimension": c.dimension, "measured": c.detail, "points": round(c.points, 2)}
           for c in h.contributions], hide_index=True, width="stretch", key="entity_health")
    st.caption("Not measured (the input does not carry them): "
               + "; ".join(f"{u.name} ({u.why})" for u in h.not_measured))


def _effect_in_force(key: str) -> None:
    """The effect `ringscope health apply` put in force on the account (its record), or the last one it cleared."""
    effects = services.health_effects(key)
    current = next((e for e in effects if e.state == "active"), None)
    if current is not None:
        terms = (f"reach x{current.reach_factor:g}, " if current.reach_factor != 1 else "") + (
            "commercial programmes allowed" if current.commercial else "no commercial programmes")
        st.info(f"Effect in force: **{current.band.replace('_', ' ')}** since {fmt_moment(current.started_at)} "
                f"(index {current.index:.1f} when set; {terms}; apply `{current.set_in}`, health policy version "
                f"{current.policy_version}).", icon=":material/tune:")
        return
    last = next((e for e in effects if e.state != "active"), None)
    st.caption("No effect in force (`ringscope health apply` sets one for every band but normal)."
               + (f" The last, {last.band.replace('_', ' ')}, ran from {fmt_moment(last.started_at)} to "
                  f"{fmt_moment(last.ended_at)} (band {last.cleared_to} then)." if last is not None else ""))


GROUP_KINDS = {"Brand": "brand", "Intermediary": "intermediary"}
GROUP_LOWEST = 20  # the lowest-scored accounts listed


def _group_health(label: str, key: str) -> None:
    """A brand's or an agency's accounts (``ringscope health --brand|--agency``): their distribution and the lowest
    scored, over at most ``services.APP_GROUP_ACCOUNTS`` of them."""
    if label not in GROUP_KINDS:
        return
    st.markdown("##### Content health of the accounts it works with")
    with services.shown_errors():
        g = services.group_health(GROUP_KINDS[label], key)
        d = g.distribution
        if not g.accounts:
            st.caption("It works with no account (no note promotes it, no order was assigned through it).")
            return
        scored = len(g.scored)
        st.caption(f"Works with {g.accounts:,} accounts"
                   + (f"; the first {scored:,} by id are scored here (`ringscope health "
                      f"--{'brand' if label == 'Brand' else 'agency'} {key}` scores more)" if scored < g.accounts
                      else "")
                   + f": mean {d.mean:.1f}, median {d.median:.1f}.")
        cols = st.columns(4)
        for col, band in zip(cols, ("boost", "normal", "no_commercial", "throttled")):
            col.metric(band.replace("_", " "), f"{d.bands.get(band, 0):,}", help=f"of {scored:,} accounts scored")
        st.bar_chart(bins_frame(d.bins), x_label="content-health index (bins of 10 points)", y_label="accounts",
                     height=200)
        lowest = g.scored[:GROUP_LOWEST]
        table([{"account": h.account_id, "index": round(h.index, 1), "band": h.band,
                **{dim.name.replace("_", " "): round(dim.points, 1) for dim in h.dimensions},
                "warnings": " | ".join(h.warnings)} for h in lowest], hide_index=True, width="stretch",
              key="entity_group_health")
        st.caption(f"The {len(lowest)} lowest-scored of the {scored:,} scored, lowest first.")


def _reports(label: str, key: str, who) -> None:
    """Users' reports against the entity (the reports file): counts, coordinated bursts from one cluster (a
    signal about the reporters, not counted against it), the newest reports."""
    if label not in REPORT_TYPES:
        return
    summary = services.report_summary(REPORT_TYPES[label], key)
    if summary is None or not summary.total:
        return
    st.markdown("##### Reports against it")
    st.caption(f"{summary.total} reports, {summary.verified} verified; {summary.counted} verified reports count "
               f"against it" + (f" (the newest {summary.read} read)" if summary.read < summary.total else ""))
    for b in summary.bursts:
        st.warning(f"Coordinated mass-reporting: {b.reason}.", icon=":material/campaign:")
    coordinated = {i for b in summary.bursts for i in b.report_ids}
    table([{"report": r.report_id, "by": r.reporter, "at": fmt_time(r.created_at),
            "reason": masked_text(r.reason, who), "verified": r.verified,
            "coordinated": r.report_id in coordinated} for r in summary.reports[:200]],
          hide_index=True, width="stretch", key="entity_reports")


def _links(details, who) -> None:
    if not details.links:
        return
    st.markdown("##### Linked devices and accounts")
    rows = [{"type": link.label, "id": show_key(link.label, link.key, who), "via": link.via,
             "first seen": fmt_time(link.first_seen), "last seen": fmt_time(link.last_seen),
             "accounts on it": link.accounts} for link in details.links]
    event = table(rows, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key="entity_links")
    picked = event.selection.rows if event and event.selection else []
    if picked and st.button("Open it", key="entity_open_link"):
        open_entity(details.links[picked[0]].uid)
        st.rerun()
