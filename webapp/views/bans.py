"""Device-linked bans: banned devices, the accounts on them, and which of those registered after the ban."""

from __future__ import annotations

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import actor, fmt_time, open_entity, open_in_graph, masked_text, table


def render() -> None:
    who = actor()
    st.title("Device-linked bans")
    st.caption("A device is banned by a device ban, or by the ban of an account that used it. Accounts that "
               "registered on it, or first used it, after the ban are how banned operators come back.")
    with services.shown_errors():
        devices = services.banned_devices(300)
        if not devices:
            st.info("No banned devices.")
            return
        only_after = st.toggle("Only devices with accounts that came after the ban", value=False, key="bans_after")
        shown = [d for d in devices if d.after_ban] if only_after else devices
        c1, c2, c3 = st.columns(3)
        c1.metric("Banned devices", f"{len(devices):,}")
        c2.metric("With accounts after the ban", f"{sum(1 for d in devices if d.after_ban):,}")
        c3.metric("Accounts after a ban", f"{sum(d.after_ban for d in devices):,}")
        rows = [{"device": d.device_id, "banned since": fmt_time(d.banned_at), "accounts": d.accounts,
                 "after the ban": d.after_ban, "banned by": "; ".join(d.vias[:3]) + (" …" if len(d.vias) > 3 else "")}
                for d in shown]
        event = table(rows, hide_index=True, width="stretch", on_select="rerun",
                             selection_mode="single-row", key="bans_devices")
        picked = event.selection.rows if event and event.selection else []
        if not picked:
            st.caption("Select a device to see its accounts.")
            return
        device = shown[picked[0]]
        st.subheader(f"Accounts on {device.device_id}")
        accounts = services.accounts_on_device(device.device_id)
        table([{"account": a.account_id, "nickname": masked_text(a.nickname, who), "status": a.status or "",
                       "registered": fmt_time(a.registered_at), "first on device": fmt_time(a.first_seen),
                       "registered after ban": a.registered_after_ban, "arrived after ban": a.arrived_after_ban}
                      for a in accounts], hide_index=True, width="stretch", key="bans_accounts")
        b1, b2 = st.columns(2)
        if b1.button("Draw the device in the graph", key="bans_graph"):
            open_in_graph(f"Device:{device.device_id}")
        if b2.button("Open the device panel", key="bans_entity"):
            open_entity(f"Device:{device.device_id}")
