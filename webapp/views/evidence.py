"""Evidence: build the pack for what is on screen (the cluster drawn, or the account opened), verify, download."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from ringscope.webapp import services
from ringscope.webapp.views.common import actor, explorer


def _subject() -> tuple[str, str] | None:
    chosen = st.session_state.get("evidence_subject")
    if chosen:
        return chosen
    cluster = st.session_state.get("explorer_cluster")
    if cluster:
        return ("cluster", cluster)
    state = explorer()
    if state.selected and state.selected.startswith("Account:"):
        return ("account", state.selected.split(":", 1)[1])
    uid = st.session_state.get("entity_uid", "")
    if uid.startswith("Account:"):
        return ("account", uid.split(":", 1)[1])
    return None


def render() -> None:
    who = actor()
    st.title("Evidence pack")
    try:
        from ringscope.evidence.records import Subject
        from ringscope.evidence.export import export_pack
        from ringscope.evidence.keys import own_keys
        from ringscope.evidence.verify import verify_pack
    except ImportError:
        st.info("Evidence packs are not available in this installation yet (the `evidence` package is missing).")
        return
    if not who.can("export_masked"):
        st.error(f"Your role ({who.role}) may not export evidence.")
        return
    subject = _subject()
    if subject is None:
        st.info("Open a cluster in the graph explorer or an account's panel first: the pack is built for what "
                "is on screen.")
        return
    kind, ident = subject
    st.write(f"Pack for **{kind}** `{ident}`")
    unmasked = False
    if who.can("export_unmasked"):
        unmasked = st.toggle("Include personal data unmasked (IPs, phone hashes)", value=False, key="ev_unmasked")
    else:
        st.caption("Personal data (IPs, phone hashes) is masked in packs your role exports.")
    reason = st.text_input("Reason (recorded in the audit log)", key="ev_reason")
    if st.button("Build the pack", type="primary", key="ev_build", icon=":material/inventory_2:"):
        with services.shown_errors(), st.spinner("Collecting and building the pack ..."):
            graph = services.get_graph()
            folder = Path(tempfile.mkdtemp(prefix="ringscope-pack-"))
            out = folder / f"evidence-{kind}-{ident.replace(':', '_')[-40:]}.zip"
            result = services.guard(export_pack, graph, Subject(kind, ident), out, who, unmasked=unmasked,
                                    reason=reason)
            check = verify_pack(result.path, own_keys())  # against the key that signed it, as trusted
            st.session_state["ev_last"] = {"path": str(result.path), "pack_id": result.pack_id,
                                           "ok": check.ok, "problems": list(check.problems),
                                           "masked": result.masked, "files": result.files,
                                           "signature": check.signature, "name": out.name}
    last = st.session_state.get("ev_last")
    if last:
        if last["ok"]:
            st.success(f"Pack {last['pack_id']} built and verified: {last['files']} files, manifest hashes match "
                       f"({'masked' if last['masked'] else 'UNMASKED'}; signature: {last['signature']}).")
        else:
            st.error("The pack failed verification: " + "; ".join(last["problems"]))
        path = Path(last["path"])
        if path.exists():
            st.download_button("Download the pack", data=path.read_bytes(), file_name=last["name"],
                               mime="application/zip", key="ev_download", icon=":material/download:")
