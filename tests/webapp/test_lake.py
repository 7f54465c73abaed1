"""An entity in the lake but not in the graph (#16): what the Search and Entity pages say about it, masked for
the role, who is offered "Pull its neighbourhood", and the pull itself (Spark, then the load) into the real
test Neo4j, audited."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from tests.webapp.test_pages import all_text, errors, page

AppTest = pytest.importorskip("streamlit.testing.v1", reason="streamlit is not installed").AppTest

pytestmark = pytest.mark.neo4j

T = "2024-07-01T10:00:00+08:00"
IP = "198.51.100.7"
PHONE = "ABCDEF0123456789"
NICK = "加我13812345678"


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """A small lake whose ids (lk...) the app's test platform does not have: lk000001 (registered from IP,
    with a phone hash and a mobile number in its nickname) shares device lkd0001 with lk000002; lk000009
    (for the pull) uses lkd0009 with lk000010, who logged in from 198.51.100.99."""
    root = tmp_path_factory.mktemp("lake") / "lake"
    frames = {
        "accounts": pd.DataFrame({
            "account_id": ["lk000001", "lk000002", "lk000009", "lk000010"],
            "nickname": [NICK, "two", "nine", "ten"], "registered_at": T,
            "registration_ip": [IP, None, "198.51.100.90", None], "phone_hash": [PHONE, None, None, None],
            "status": "active"}),
        "devices": pd.DataFrame({"device_id": ["lkd0001", "lkd0009"], "model": ["Mi 9", "iPhone 13"],
                                 "is_emulator": [False, True]}),
        "account_devices": pd.DataFrame({"account_id": ["lk000001", "lk000002", "lk000009", "lk000010"],
                                         "device_id": ["lkd0001", "lkd0001", "lkd0009", "lkd0009"],
                                         "first_seen": T, "last_seen": T}),
        "account_ips": pd.DataFrame({"account_id": ["lk000002", "lk000010"], "ip": ["198.51.100.8", "198.51.100.99"],
                                     "first_seen": T, "last_seen": T}),
    }
    for kind, frame in frames.items():
        (root / kind).mkdir(parents=True)
        frame.to_parquet(root / kind / "part-00000.parquet", index=False)
    return root


@pytest.fixture
def lake_app(app_db, lake, monkeypatch):
    monkeypatch.setenv("RINGSCOPE_LAKE", str(lake))
    return app_db


def lake_row(at) -> dict[str, str]:
    """The lake row the page shows (the one table of ``column, value``)."""
    [row] = [df.value for df in at.dataframe if list(df.value.columns) == ["column", "value"]]
    return dict(zip(row["column"], row["value"]))


def pull_buttons(at) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.endswith("_lake_pull")]


def test_a_searched_id_the_graph_lacks_is_shown_from_the_lake_and_only_roles_that_load_data_may_pull_it(lake_app):
    for role, may_pull, unmasked in (("viewer", False, False), ("investigator", True, False),
                                     ("approver", True, True)):
        at = page("search", role)
        at.text_input(key="search_text").input("lk000001").run()
        assert not at.exception and not errors(at), role
        text = all_text(at)
        assert "Nothing in the graph matches 'lk000001'" in text
        assert "Account lk000001 is in the lake, not in the graph." in text, role
        assert "Its own row in the lake's `accounts`" in text
        shown = lake_row(at)
        assert shown["account_id"] == "lk000001" and shown["status"] == "active"
        assert (shown["registration_ip"] == IP) is unmasked, role
        assert (shown["phone_hash"] == PHONE) is unmasked, role
        if not unmasked:
            assert shown["registration_ip"] == "198.51.x.x" and shown["phone_hash"].startswith("ABC*")
            assert shown["nickname"] == "加我138********"
            assert IP not in text and PHONE not in text and "13812345678" not in text
        assert (pull_buttons(at) == ["search_account_lake_pull"]) is may_pull, role
        if not may_pull:
            assert "Your role (viewer) may not load data into the graph" in text
        else:
            assert at.selectbox(key="search_account_lake_hops").value == 1


def test_an_id_in_neither_the_graph_nor_the_lake_says_so(lake_app):
    at = page("search", "investigator")
    at.text_input(key="search_text").input("lk-nowhere").run()
    assert not at.exception and "Not in the lake either." in all_text(at) and pull_buttons(at) == []


def test_the_entity_page_says_when_an_ip_is_in_the_lake_not_in_the_graph_masked_for_the_role(lake_app):
    at = page("entity", "viewer", entity_uid=f"IP:{IP}")
    assert not at.exception and not errors(at)
    text = all_text(at)
    assert "IP 198.51.x.x is in the lake, not in the graph." in text and IP not in text
    assert "Named by a row of the lake's `accounts`" in text  # a registration, no login
    assert pull_buttons(at) == []
    at = page("entity", "approver", entity_uid=f"IP:{IP}")
    text = all_text(at)
    assert f"IP {IP} is in the lake, not in the graph." in text and pull_buttons(at) == ["entity_lake_pull"]
    at = page("entity", "investigator", entity_uid="Device:lkd0001")
    assert "Device lkd0001 is in the lake, not in the graph." in all_text(at)
    assert pull_buttons(at) == ["entity_lake_pull"]


def test_without_a_lake_the_entity_page_is_as_before(app_db, monkeypatch):
    monkeypatch.delenv("RINGSCOPE_LAKE", raising=False)
    at = page("entity", "investigator", entity_uid="Account:lk000001")
    assert any("no longer exists" in w.value for w in at.warning) and pull_buttons(at) == []
    at = page("search", "investigator")
    at.text_input(key="search_text").input("lk000001").run()
    assert "in the lake" not in all_text(at)


def test_a_lake_that_cannot_be_read_is_a_message_naming_the_setting(app_db, monkeypatch, tmp_path):
    monkeypatch.setenv("RINGSCOPE_LAKE", str(tmp_path / "no-lake"))
    at = page("entity", "investigator", entity_uid="Account:lk000001")
    assert not at.exception
    assert any("The lake (RINGSCOPE_LAKE) cannot be read" in e and "no accounts/ folder" in e for e in errors(at))


@pytest.mark.slow
@pytest.mark.spark
def test_pulling_an_accounts_neighbourhood_runs_in_the_background_is_audited_and_opens_it_from_the_graph(
        lake_app, monkeypatch, tmp_path):
    from ringscope.webapp import services

    graph = lake_app
    graph.write("MATCH (n) WHERE n.account_id STARTS WITH 'lk' OR n.device_id STARTS WITH 'lk' DETACH DELETE n")
    monkeypatch.setenv("RINGSCOPE_SPARK_DRIVER_MEMORY", "1g")
    monkeypatch.setenv("RINGSCOPE_SPARK_SHUFFLE_PARTITIONS", "2")
    monkeypatch.setenv("RINGSCOPE_SPARK_LOCAL_DIR", str(tmp_path / "spark"))
    at = page("search", "investigator")
    at.text_input(key="search_text").input("lk000009").run()
    at.button(key="search_account_lake_pull").click().run()
    assert not at.exception and not errors(at)
    pull_id = at.session_state["lake_pulls"]["Account:lk000009"]
    assert any("Pulling lk000009's neighbourhood from the lake" in i.value for i in at.info)
    assert pull_buttons(at) == []  # while it runs, no second button
    entry = graph.read("MATCH (e:AuditEntry {action: 'lake.pull', target_id: 'lk000009'}) "
                       "RETURN e.actor AS actor, e.role AS role, e.target_type AS kind, e.details AS details "
                       "ORDER BY e.seq DESC LIMIT 1")[0]
    assert entry["actor"] == "ivy" and entry["role"] == "investigator" and entry["kind"] == "account"
    assert '"hops":1' in entry["details"].replace(" ", "")

    pull = services.pulls().get(pull_id)
    deadline = time.monotonic() + 600
    while pull.status().state == "running" and time.monotonic() < deadline:
        time.sleep(1)
    status = pull.status()
    assert status.state == "done", (status.error, pull.err.read_text()[-3000:])
    assert any("subgraph of account:lk000009" in line for line in status.summary)

    at.run()  # the search page sees the pull done and opens the entity
    assert at.session_state["entity_uid"] == "Account:lk000009"
    at = page("entity", "investigator", entity_uid="Account:lk000009", lake_pulls={"Account:lk000009": pull_id})
    assert not at.exception and not errors(at)
    text = all_text(at)
    assert "Pulled lk000009 and its neighbourhood from the lake" in text and "in the lake, not in the graph" not in text
    row = graph.read("MATCH (a:Account {account_id: 'lk000009'})-[:USED_DEVICE]->(d:Device) "
                     "RETURN a.stub AS stub, d.device_id AS device, d.stub AS device_stub")
    assert row == [{"stub": False, "device": "lkd0009", "device_stub": False}]
    # hop 1 reached the device; the other account on it (hop 2) was not pulled
    assert graph.read("MATCH (a:Account {account_id: 'lk000010'}) RETURN a") == []


def test_the_audit_page_masks_an_ip_or_phone_a_pull_named_for_the_role(lake_app):
    from ringscope.audit import log

    for kind, target in (("ip", "198.51.100.77"), ("phone", "FEDCBA9876543210")):
        log.record(lake_app, actor="ivy", role="investigator", action="lake.pull", target_type=kind,
                   target_id=target, reason="pull its 1-hop neighbourhood from the lake",
                   details={"hops": 1, "lake": "/lake"})
    at = page("audit", "viewer")
    at.text_input(key="audit_action").input("lake.pull").run()
    text = all_text(at)
    assert "ip 198.51.x.x" in text and "phone FED*" in text
    assert "198.51.100.77" not in text and "FEDCBA9876543210" not in text
    at = page("audit", "approver")
    at.text_input(key="audit_action").input("lake.pull").run()
    text = all_text(at)
    assert "ip 198.51.100.77" in text and "phone FEDCBA9876543210" in text


def test_an_account_the_graph_holds_only_as_a_stub_is_offered_from_the_lake(lake_app):
    graph = lake_app
    graph.write("MERGE (a:Account {account_id: 'lk000002'}) SET a.stub = true")
    try:
        at = page("entity", "investigator", entity_uid="Account:lk000002")
        assert not at.exception and not errors(at)
        text = all_text(at)
        assert "holds Account lk000002 only as a stub" in text and "is in the lake" in text
        assert lake_row(at)["nickname"] == "two" and pull_buttons(at) == ["entity_lake_pull"]
        assert "Timeline" in text  # the rest of the panel, from the graph, as ever
    finally:
        graph.write("MATCH (a:Account {account_id: 'lk000002'}) WHERE a.stub DETACH DELETE a")


def test_a_bad_pull_limit_is_a_message_naming_the_setting(lake_app, monkeypatch):
    from ringscope.webapp import services

    services._pulls.clear()
    monkeypatch.setenv("RINGSCOPE_APP_PULLS", "lots")
    try:
        at = page("entity", "investigator", entity_uid="Account:lk000001")
        assert not at.exception
        assert any("RINGSCOPE_APP_PULLS='lots'" in e for e in errors(at))
    finally:
        services._pulls.clear()
