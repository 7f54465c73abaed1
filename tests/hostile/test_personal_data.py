"""A viewer never reads an IP or a phone hash: not in detectors' reasons, not by prefix search."""

import re

import pytest

from ringscope.auth.roles import Actor
from ringscope.commands import cli
from ringscope.queries.search import search
from tests.webapp.test_pages import all_text, page

IPV4 = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9.])")


def _marked_reason(graph):
    """(account id, reason) of the latest run citing an IP, re-detecting if the run predates the marks."""
    query = ("MATCH (r:DetectionRun {status: 'completed'})-[s:SCORED]->(a:Account) "
             "WITH r, s, a ORDER BY r.started_at DESC "
             "UNWIND s.reasons AS reason WITH a, reason WHERE reason CONTAINS '⟦IP:' "
             "RETURN a.account_id AS account, reason LIMIT 1")
    rows = graph.read(query)
    if not rows:
        from ringscope.detection.config import load_detection_policy
        from ringscope.detection.run import detect

        detect(graph, load_detection_policy())
        rows = graph.read(query)
    assert rows, "the simulated platform has registration bursts or shared IPs to cite"
    return rows[0]["account"], rows[0]["reason"]


def test_reasons_are_stored_with_marked_identifiers_and_shown_masked_to_a_viewer(app_db):
    account, reason = _marked_reason(app_db)
    raw_ip = re.search(r"⟦IP:([^⟧]+)⟧", reason).group(1)
    viewer = page("entity", "viewer", entity_uid=f"Account:{account}")
    text = all_text(viewer)
    assert raw_ip not in text and "⟦" not in text
    assert any(".x.x" in t for t in text.split("\n")), "the viewer sees the masked address"
    approver = page("entity", "approver", entity_uid=f"Account:{account}")
    assert raw_ip in all_text(approver)
    overview = page("overview", "viewer")
    assert raw_ip not in str(overview.dataframe(key="clusters_table").value)


def test_flagged_masks_reasons_unless_the_reader_may_see_them(app_db, capsys, monkeypatch, users_file):
    account, reason = _marked_reason(app_db)
    raw_ip = re.search(r"⟦IP:([^⟧]+)⟧", reason).group(1)
    assert cli.main(["flagged", "--run", "latest", "--actor", "vic"]) == 0
    out = capsys.readouterr().out
    assert raw_ip not in out and "⟦" not in out
    assert cli.main(["flagged", "--run", "latest", "--actor", "abe"]) == 0
    assert raw_ip in capsys.readouterr().out


@pytest.mark.neo4j
def test_ips_and_phone_hashes_are_not_prefix_searchable_without_the_right(graph):
    graph.write("CREATE (:IP {ip: '10.77.1.2'}), (:IP {ip: '10.77.1.3'}), (:Phone {phone_hash: 'ab12cd34ef'})")
    for prefix in ("10.", "10.77", "10.77.1.", "ab", "ab12cd"):
        assert [h for h in search(graph, prefix) if h.label in ("IP", "Phone")] == [], prefix
    assert [h.key for h in search(graph, "10.77.1.2")] == ["10.77.1.2"]  # the whole id still finds it
    assert [h.key for h in search(graph, "ab12cd34ef")] == ["ab12cd34ef"]
    assert {h.key for h in search(graph, "10.77.", personal_prefix=True)} == {"10.77.1.2", "10.77.1.3"}


def test_the_search_page_gives_a_viewer_no_prefix_matches_on_personal_ids(app_db):
    app_db.write("MERGE (:IP {ip: '10.88.3.4'})")
    at = page("search", "viewer")
    at.text_input(key="search_text").input("10.88.").run()
    assert "10.88.3.4" not in all_text(at) and not at.dataframe
    at = page("search", "approver")
    at.text_input(key="search_text").input("10.88.").run()
    assert "10.88.3.4" in str(at.dataframe[0].value)


def test_free_text_masking_finds_addresses_beside_chinese_and_mobile_numbers():
    from ringscope.auth.masking import render_reason

    text = "加我192.168.1.7谢谢, 电话13812345678, 版本 v1.2.3.4.5, ⟦Phone:9f86d081884c⟧"
    masked = render_reason(text, Actor("v", "viewer"))
    assert "192.168.1.7" not in masked and "13812345678" not in masked and "9f86d081884c" not in masked
    assert "192.168.x.x" in masked and "v1.2.3.4.5" in masked
    assert render_reason(text, Actor("a", "approver")) == text.replace("⟦Phone:9f86d081884c⟧", "9f86d081884c")
