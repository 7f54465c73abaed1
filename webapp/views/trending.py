"""The trending list over time, each rise onto it with its integrity, and the clusters that pushed it."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import fmt_time, open_cluster, table


def _share(value) -> str:
    return "" if value is None else f"{value:.0%}"


def _by_detector(shares) -> str:
    """"lockstep 31%, registration_bursts 12%": where the flagged share came from, largest first."""
    return ", ".join(f"{d} {_share(v)}" for d, v in shares[:3]) + (" ..." if len(shares) > 3 else "")


def render() -> None:
    st.title("Trending list")
    st.caption("Each rise of a topic onto the platform's trending list, with its integrity: the share of the "
               "comments and likes in the hours before the rise that came neither from accounts the other "
               "detectors flag nor from the clusters trending_heat found pushing it (1 = organic); "
               "\"flagged by\" splits the flagged share by the detectors that found those accounts (a ring "
               "commenting in lockstep just before the rise shows as lockstep, a bulk farm as registration_bursts).")
    with services.shown_errors():
        span = services.trending_span()
        if not span.rows:
            st.info("No trending list loaded (the trending file of the input format).")
            return
        rated = services.trending_ratings()
        c1, c2, c3 = st.columns(3)
        c1.metric("Captures", f"{fmt_time(span.first)} – {fmt_time(span.last)}")
        c2.metric("Rises rated", f"{len(rated.entries):,}")
        c3.metric("Pushed by clusters", f"{sum(1 for e in rated.entries if e.clusters):,}")
        if rated.run_id is None:
            st.info("No detection run has rated the list yet (`ringscope detect`).")
        else:
            st.caption(f"Ratings of run {rated.run_id}.")
            only = st.toggle("Only rises pushed by a cluster", value=False, key="trending_pushed")
            shown = [e for e in rated.entries if e.clusters] if only else list(rated.entries)
            rows = [{"rose": e.rose_at, "topic": e.topic, "rank": e.rank, "how": e.kind,
                     "integrity": "" if e.integrity is None else f"{e.integrity:.2f}",
                     "before the rise": f"{e.events_before:,} by {e.accounts_before:,}",
                     "from clusters": _share(e.cluster_share), "from flagged": _share(e.flagged_share),
                     "flagged by": _by_detector(e.flagged_by_detector),
                     "young accounts": _share(e.young_share), "clusters": len(e.clusters)} for e in shown]
            event = table(rows, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key="trending_rises")
            picked = event.selection.rows if event and event.selection else []
            if picked:
                entry = shown[picked[0]]
                st.subheader(f"{entry.topic}: {entry.kind} at rank {entry.rank}, {entry.rose_at}")
                history = services.trending_topic_history(entry.topic)
                if history:
                    st.line_chart({"rank": [p.rank for p in history]}, height=180)
                    st.caption(f"Its rank at each of the {len(history):,} captures that listed it "
                               f"({fmt_time(history[0].captured_at)} – {fmt_time(history[-1].captured_at)}).")
                if not entry.clusters:
                    st.caption("No cluster found pushing this rise.")
                for i, cluster_id in enumerate(entry.clusters):
                    if st.button(f"Draw cluster {cluster_id} in the graph", key=f"trending_cluster_{i}"):
                        open_cluster(cluster_id)
            else:
                st.caption("Select a rise to see its history and the clusters behind it.")
        st.subheader("The list at a capture")
        last = span.last
        day = st.date_input("Day", value=last.date(), min_value=span.first.date(), max_value=last.date(),
                            key="trending_day")
        since = last.replace(year=day.year, month=day.month, day=day.day, hour=0, minute=0, second=0)
        captures = services.trending_captures(since, since + timedelta(days=1), 48)
        if not captures:
            st.caption("No capture that day.")
            return
        labels = [fmt_time(c.captured_at) for c in captures]
        chosen = st.selectbox("Capture", range(len(captures)), format_func=lambda i: labels[i], key="trending_capture")
        integrity = {e.topic: e.integrity for e in rated.entries}
        table([{"rank": x.rank, "topic": x.topic, "score": x.score,
                "latest integrity": "" if integrity.get(x.topic) is None else f"{integrity[x.topic]:.2f}"}
               for x in captures[chosen].entries], hide_index=True, width="stretch", key="trending_capture_table")
