"""The Observation room page with Streamlit's AppTest, against the real test Neo4j (the app's small platform)."""

from __future__ import annotations

import pytest

from tests.webapp.test_pages import all_text, errors, page

pytestmark = pytest.mark.neo4j


def free_account(graph, offset: int = 0) -> str:
    """An account with no open stay (the platform is shared by the app's tests; each test takes its own)."""
    return graph.read("MATCH (a:Account) WHERE a.account_id STARTS WITH 'a' AND NOT EXISTS { "
                      "(a)<-[:WATCHES]-(w:WatchStay) WHERE w.state IN ['watching', 'escalated'] } "
                      "RETURN a.account_id AS id ORDER BY a.account_id DESC SKIP $skip LIMIT 1",
                      skip=offset)[0]["id"]


def flagged_account(graph, last: bool = False) -> str:
    """An account the latest run flagged and that is not in the room (the next run will escalate it): the first
    such by id, or the ``last``."""
    order = "DESC" if last else "ASC"
    return graph.read("MATCH (r:DetectionRun {status: 'completed'}) WITH r ORDER BY r.started_at DESC LIMIT 1 "
                      "MATCH (r)-[s:SCORED]->(a:Account) WHERE s.score >= r.flag_threshold AND NOT EXISTS { "
                      "(a)<-[:WATCHES]-(w:WatchStay) WHERE w.state IN ['watching', 'escalated'] } "
                      f"RETURN a.account_id AS id ORDER BY a.account_id {order} LIMIT 1")[0]["id"]


# The page's two tables, told apart by a column of their own (AppTest's dataframes carry no key).
TABLES = {"watch_queue": "escalated in", "watch_room": "state"}


def rows_of(at, key: str) -> list[dict]:
    frames = [df for df in at.dataframe if TABLES[key] in df.value.columns]
    return frames[0].value.to_dict("records") if frames else []


def test_an_investigator_places_and_releases_an_account_on_the_page(app_db):
    target = free_account(app_db)
    at = page("watch", "investigator")
    assert not at.exception and not errors(at)
    at.text_input(key="watch_add_account").input(target)
    at.text_input(key="watch_add_reason").input("page test: reported by a brand")
    at.number_input(key="watch_add_days").set_value(5)
    at.button(key="watch_add").click().run()
    assert not at.exception and not errors(at), errors(at)
    assert at.success and f"{target} is under observation" in at.success[0].value
    placed = [r for r in rows_of(at, "watch_room") if r["account"] == target]
    assert placed and placed[0]["state"] == "watching" and placed[0]["notified"] is False
    at.selectbox(key="watch_release_pick").select(f"{target} (watching)")
    at.text_input(key="watch_release_reason").input("cleared")
    at.button(key="watch_release").click().run()
    assert not at.exception and not errors(at)
    assert f"{target} released" in at.success[0].value
    assert not [r for r in rows_of(at, "watch_room") if r["account"] == target]  # default filter: open stays
    at.multiselect(key="watch_states").select("released").run()
    assert [r for r in rows_of(at, "watch_room") if r["account"] == target]


def test_bad_input_on_the_page_is_a_message(app_db):
    at = page("watch", "investigator")
    at.text_input(key="watch_add_account").input("no-such-account")
    at.text_input(key="watch_add_reason").input("x")
    at.button(key="watch_add").click().run()
    assert not at.exception
    assert any("no account 'no-such-account'" in e for e in errors(at))


def test_a_viewer_reads_the_room_masked_and_is_offered_no_action(app_db):
    from ringscope.auth.roles import Actor
    from ringscope.detection.config import load_detection_policy
    from ringscope.watch import service

    target = free_account(app_db, 1)
    service.add(app_db, Actor("ivy", "investigator"), target, "logged in from 10.20.30.40", load_detection_policy().watch)
    at = page("watch", "viewer")
    assert not at.exception and not errors(at)
    assert not [b for b in at.button if b.key in ("watch_add", "watch_release")]
    text = all_text(at)
    assert target in text and "10.20.30.40" not in text
    at = page("watch", "approver")  # may see personal data
    assert "10.20.30.40" in all_text(at)
    service.release(app_db, Actor("ivy", "investigator"), target, "test done")


def test_a_flagged_account_on_watch_is_escalated_by_the_next_run_and_resolved(app_db):
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.run import detect

    target = flagged_account(app_db)
    at = page("watch", "investigator")
    at.text_input(key="watch_add_account").input(target)
    at.text_input(key="watch_add_reason").input("page test: escalation")
    at.button(key="watch_add").click().run()
    assert not errors(at)
    detect(app_db, load_detection_policy())
    import streamlit as st

    st.cache_data.clear()  # the app's run watcher does this when it sees the run (services.prefill)
    at = page("watch", "investigator")
    queue = rows_of(at, "watch_queue")
    assert [r for r in queue if r["account"] == target], queue
    at.multiselect(key="watch_trends").select("new").run()  # one run since it was placed: no trend yet
    assert [r for r in rows_of(at, "watch_room") if r["account"] == target]
    at.selectbox(key="watch_release_pick").select(f"{target} (escalated)")
    at.text_input(key="watch_release_reason").input("reviewed: sanction decided separately")
    at.button(key="watch_release").click().run()
    assert not errors(at) and not [r for r in rows_of(at, "watch_queue") if r["account"] == target]
    assert app_db.read("MATCH (e:AuditEntry {action: 'watch.release', target_id: $id}) RETURN e.actor AS who",
                       id=target)[0]["who"] == "ivy"
