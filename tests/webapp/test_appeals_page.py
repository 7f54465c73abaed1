"""The Appeals page with Streamlit's AppTest, against the real test Neo4j (the app's small platform)."""

from __future__ import annotations

import pytest

from ringscope.auth.roles import Actor
from tests.webapp.test_pages import all_text, errors, page

pytestmark = pytest.mark.neo4j

IVY, ABE = Actor("ivy", "investigator"), Actor("abe", "approver")

# A cluster of the latest run none of whose members has a sanction yet (the platform is shared by the app's tests:
# each test takes the smallest still free), and an account with no sanction (ids a..., from the lowest up).
FREE_CLUSTER = """
MATCH (r:DetectionRun {status: 'completed'}) WITH r ORDER BY r.started_at DESC LIMIT 1
MATCH (r)-[:FOUND]->(k:Cluster)
WHERE NOT EXISTS { (k)-[:HAS_MEMBER]->(:Account)<-[:TARGETS]-(:Sanction) }
RETURN k.cluster_id AS id, k.detector AS detector ORDER BY k.size, k.cluster_id LIMIT 1
"""
FREE_ACCOUNT = """
MATCH (a:Account) WHERE a.account_id STARTS WITH 'a' AND a.status = 'active'
  AND NOT EXISTS { (:Sanction)-[:TARGETS]->(a) }
RETURN a.account_id AS id ORDER BY a.account_id LIMIT 1
"""


def _applied(graph, decision) -> tuple[str, str]:
    from ringscope.sanctions import service

    preview = service.preview(graph, decision, IVY)
    result = service.apply(graph, preview.preview_id, IVY)
    member = graph.read("MATCH (s:Sanction {sanction_id: $id}) RETURN s.target_id AS id",
                        id=result.sanction_ids[0])[0]["id"]
    return preview.preview_id, member


def sanctioned_cluster(graph) -> tuple[str, str, str]:
    """A spam decision applied by ivy on every member of a free cluster: (its preview id, the cluster's detector,
    a member)."""
    from ringscope.sanctions.propagation import Decision

    row = graph.read(FREE_CLUSTER)[0]
    decision, member = _applied(graph, Decision("spam_comment", cluster=row["id"], min_score=0.0,
                                                reason="page test"))
    return decision, row["detector"], member


def sanctioned_account(graph) -> str:
    """A spam decision applied by ivy on one free account: its preview id."""
    from ringscope.sanctions.propagation import Decision, NodeRef

    account = graph.read(FREE_ACCOUNT)[0]["id"]
    return _applied(graph, Decision("spam_comment", (NodeRef("Account", account),), reason="page test"))[0]


def rows_of(at) -> list[dict]:
    frames = [df for df in at.dataframe if "appeal" in df.value.columns]
    return frames[0].value.to_dict("records") if frames else []


def test_an_appeal_filed_on_the_page_is_queued_with_its_age_and_granted(app_db):
    decision, detector, member = sanctioned_cluster(app_db)
    at = page("appeals", "investigator")
    assert not at.exception and not errors(at)
    assert not [b for b in at.button if b.key in ("appeals_grant", "appeals_deny")]  # verdicts need an approver
    at.text_input(key="appeals_subject").input(decision)
    at.text_input(key="appeals_appellant").input("the MCN's legal team")
    at.text_area(key="appeals_statement").input("these are real customers of one shop")
    at.text_area(key="appeals_material").input("ticket://4411\nupload://invoices.pdf")
    at.button(key="appeals_file").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert at.success and "filed against" in at.success[0].value
    queued = [r for r in rows_of(at) if r["against"] == decision]
    assert queued and queued[0]["state"] == "filed" and queued[0]["detector"] == detector
    assert queued[0]["age (days)"] >= 0 and f"-HAS_MEMBER-> Account {member}" in queued[0]["evidence path"]
    assert list(queued[0]["material"]) == ["ticket://4411", "upload://invoices.pdf"]
    appeal_id = queued[0]["appeal"]

    at = page("appeals", "approver")
    label = next(o for o in at.selectbox(key="appeals_pick").options if o.startswith(appeal_id))
    at.selectbox(key="appeals_pick").select(label)
    at.text_input(key="appeals_reason").input("invoices check out")
    at.button(key="appeals_grant").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert f"Appeal {appeal_id} granted" in at.success[0].value
    assert not [r for r in rows_of(at) if r["appeal"] == appeal_id]  # default filter: the queue
    at.multiselect(key="appeals_states").select("granted").run()
    granted = [r for r in rows_of(at) if r["appeal"] == appeal_id]
    assert granted and granted[0]["decided by"] == "abe" and "(revoked)" in granted[0]["sanctions"]
    states = app_db.read("MATCH (s:Sanction {preview_id: $p}) RETURN collect(DISTINCT s.state) AS states",
                         p=decision)[0]["states"]
    assert states == ["revoked"]


def test_a_denial_needs_a_reason_and_a_viewer_reads_masked(app_db):
    from ringscope.appeals import service

    decision = sanctioned_account(app_db)
    appeal = service.file(app_db, IVY, decision, "I only log in from 10.20.30.40 at home")
    at = page("appeals", "viewer")
    assert not at.exception and not errors(at)
    assert not [b for b in at.button if b.key in ("appeals_file", "appeals_grant", "appeals_deny")]
    text = all_text(at)
    assert appeal.appeal_id in text and "10.20.30.40" not in text
    at = page("appeals", "approver")  # may see personal data
    assert "10.20.30.40" in all_text(at)
    label = next(o for o in at.selectbox(key="appeals_pick").options if o.startswith(appeal.appeal_id))
    at.selectbox(key="appeals_pick").select(label)
    at.button(key="appeals_deny").click().run()
    assert not at.exception and any("reason for the denial" in e for e in errors(at))
    at.text_input(key="appeals_reason").input("the same comment template as the ring")
    at.button(key="appeals_deny").click().run()
    assert not errors(at) and f"Appeal {appeal.appeal_id} denied" in at.success[0].value
    assert service.get(app_db, appeal.appeal_id).state == "denied"


def test_bad_input_on_the_page_is_a_message(app_db):
    at = page("appeals", "investigator")
    at.text_input(key="appeals_subject").input("S-no-such")
    at.text_area(key="appeals_statement").input("x")
    at.button(key="appeals_file").click().run()
    assert not at.exception
    assert any("no sanction or applied decision 'S-no-such'" in e for e in errors(at))


def test_the_granted_share_is_built_only_when_opened(app_db):
    from ringscope.appeals import service

    decision, detector, _ = sanctioned_cluster(app_db)
    appeal = service.file(app_db, IVY, decision, "stats test")
    service.deny(app_db, ABE, appeal.appeal_id, "stats test")
    at = page("appeals", "viewer")
    assert not [df for df in at.dataframe if "granted share" in df.value.columns]
    at.session_state["appeals_stats_open"] = True  # as a click on the expander does
    at.run()
    assert not at.exception and not errors(at)
    tables = [df.value for df in at.dataframe if "granted share" in df.value.columns]
    assert len(tables) == 2 and detector in set(tables[0]["group"])
