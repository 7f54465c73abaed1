"""Overview: the run in force, its clusters ranked by risk, what changed since the previous run, runs in progress,
and the content-health index's distribution as the latest `ringscope health apply` stored it."""

from __future__ import annotations

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import (actor, bins_frame, fmt_moment, fmt_time, open_cluster, masked_text,
                                           table)


def render() -> None:
    actor()
    st.title("Overview")
    with services.shown_errors():
        _in_progress()
        _run()
        _health()  # also before the first run


def _run() -> None:
    run = services.latest_run()
    if run is None:
        st.info("No completed detection run yet. Run `ringscope detect` (or wait for the scheduled run); "
                "the clusters it finds will be listed here.")
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Clusters", f"{run.clusters:,}")
    c2.metric("Accounts flagged", f"{run.flagged:,}", help=f"risk ≥ {run.threshold}")
    c3.metric("Accounts scored", f"{run.scored:,}")
    c4.metric("Run finished", fmt_time(run.finished_at)[:10], help=fmt_time(run.finished_at))
    st.caption(f"Latest completed run: `{run.run_id}`")
    _clusters(run.run_id)
    _changes(run.run_id)


@st.fragment(run_every=10)
def _in_progress() -> None:
    with services.shown_errors():
        running = services.runs_in_progress()
        for r in running:
            if r.status == "stalled":
                st.warning(f"Detection run `{r.run_id}` (started {fmt_time(r.started_at)}, last at: "
                           f"{r.stage or 'starting'}) is {r.error}", icon=":material/sync_problem:")
            else:
                st.info(f"Detection run `{r.run_id}` in progress since {fmt_time(r.started_at)}: "
                        f"{r.stage or 'starting'}", icon=":material/autorenew:")


def _clusters(run_id: str) -> None:
    st.subheader("Clusters by risk")
    clusters = services.top_clusters(run_id, 100)
    if not clusters:
        st.info("The latest run found no clusters.")
        return
    if st.button("Open the top cluster in the graph", type="primary", key="open_top_cluster",
                 icon=":material/hub:"):
        with services.shown_errors():
            open_cluster(clusters[0].cluster_id)
    who = actor()
    rows = [{"risk": round(c.score, 3), "detector": c.detector, "members": c.size,
             "why": masked_text(c.reason or "", who), "cluster": c.cluster_id.split(":", 1)[-1]} for c in clusters]
    event = table(rows, key="clusters_table", on_select="rerun", selection_mode="single-row",
                         hide_index=True, width="stretch",
                         column_config={"risk": st.column_config.ProgressColumn("risk", min_value=0, max_value=1,
                                                                                format="%.2f"),
                                        "why": st.column_config.TextColumn("why", width="large")})
    picked = event.selection.rows if event and event.selection else []
    if picked:
        chosen = clusters[picked[0]]
        st.write(f"**{chosen.detector}**, {chosen.size} members, risk {chosen.score:.2f}")
        if st.button("Open this cluster in the graph", key="open_selected_cluster"):
            with services.shown_errors():
                open_cluster(chosen.cluster_id)


def _changes(run_id: str) -> None:
    st.subheader("Since the previous run")
    changes = services.changes(run_id, services.OVERVIEW_CHANGES)
    if changes.previous_run is None:
        st.caption("This is the first completed run: every cluster is new.")
        return
    order = ["new", "grown", "shrunk", "persisting", "dissolved"]
    cols = st.columns(len(order))
    for col, kind in zip(cols, order):
        col.metric(kind, changes.counts.get(kind, 0))
    st.caption(f"Compared with run `{changes.previous_run}` (clusters matched by member overlap).")
    interesting = changes.changes[:200]
    if interesting:
        table([{"change": c.change, "cluster": (c.current_id or c.previous_id or "").split(":", 1)[-1],
                       "before": c.previous_size, "now": c.current_size, "overlap": c.jaccard}
                      for c in interesting], hide_index=True, width="stretch", key="changes_table")


def _health() -> None:
    """The content-health index over the platform, as the latest `ringscope health apply` computed and applied it
    (stored with it: computing it again takes ~3 min at 100k accounts)."""
    st.subheader("Content health")
    s = services.latest_health_apply()
    if s is None:
        st.info("The content-health distribution is not computed yet: run `ringscope health apply`.")
        return
    d = s.distribution
    cols = st.columns(4)
    for col, band in zip(cols, ("boost", "normal", "no_commercial", "throttled")):
        n = d.bands.get(band, 0)
        col.metric(band.replace("_", " "), f"{n:,}",
                   help=f"{n / d.accounts:.0%} of {d.accounts:,} accounts" if d.accounts else None)
    st.bar_chart(bins_frame(d.bins), x_label="content-health index (bins of 10 points)", y_label="accounts",
                 height=260)
    stats = (f"mean {d.mean:.1f}, median {d.median:.1f}, 10th percentile {d.p10:.1f}, 90th {d.p90:.1f}; "
             if d.mean is not None else "")
    st.caption(f"Computed {fmt_moment(s.at)} by `ringscope health apply` ({s.by}, health policy version "
               f"{s.policy_version}) over {d.accounts:,} accounts: {stats}effects set {s.set:,}, cleared "
               f"{s.cleared:,}. Run it again to refresh.")
