"""Appeals in a real browser: an investigator files an appeal against a decision on a detected cluster, sees it in
the queue; an approver who took no part in the decision grants it and sees the sanctions revoked."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_app_e2e import idle, sign_in
from tests.webapp.test_appeals_page import sanctioned_cluster

pytestmark = [pytest.mark.e2e, pytest.mark.neo4j, pytest.mark.slow]


def open_appeals(page) -> None:
    page.get_by_role("link", name="Appeals").click()
    idle(page)
    page.get_by_role("heading", name="Appeals").first.wait_for()


def test_file_an_appeal_see_it_queued_grant_it_see_the_sanction_revoked(app_url, browser, shots, e2e_platform):
    decision, detector, _ = sanctioned_cluster(e2e_platform)
    ivy = browser.new_page(viewport={"width": 1500, "height": 1100})
    ivy.set_default_timeout(60_000)
    abe = None
    try:
        # 1. the investigator records the appeal
        sign_in(ivy, app_url, "ivy")
        open_appeals(ivy)
        ivy.get_by_label("Sanction or decision (preview) id", exact=True).fill(decision)
        ivy.get_by_label("Sanction or decision (preview) id", exact=True).press("Enter")
        idle(ivy)
        for field, text in (("Statement", "e2e: these are real customers of one shop"),
                            ("Material (one reference per line)", "ticket://e2e-1\nupload://invoices.pdf")):
            ivy.get_by_label(field, exact=True).fill(text)
            ivy.get_by_label(field, exact=True).press("Control+Enter")
            idle(ivy)
        ivy.get_by_role("button", name="File the appeal").click()
        idle(ivy)
        ivy.get_by_text(f"filed against {decision}: in the queue").wait_for()
        appeal_id = e2e_platform.read("MATCH (a:Appeal {subject_id: $p, state: 'filed'}) RETURN a.appeal_id AS id",
                                      p=decision)[0]["id"]
        assert ivy.get_by_text(re.compile(f"Appeal {appeal_id} filed")).count()
        ivy.get_by_role("heading", name="The queue").wait_for()
        ivy.screenshot(path=str(shots / "appeals-01-filed.png"), full_page=True)

        # 2. the approver sees it in the queue and grants it
        abe = browser.new_page(viewport={"width": 1500, "height": 1100})
        abe.set_default_timeout(60_000)
        sign_in(abe, app_url, "abe")
        open_appeals(abe)
        abe.get_by_role("combobox", name="Appeal (oldest first)").click()
        abe.get_by_role("option", name=re.compile(f"^{appeal_id} · spam_comment")).first.click()
        idle(abe)
        abe.get_by_text(f"detector {detector}").first.wait_for()
        abe.screenshot(path=str(shots / "appeals-02-queued.png"), full_page=True)
        abe.get_by_label("Reason", exact=True).fill("e2e: invoices check out")
        abe.get_by_label("Reason", exact=True).press("Enter")
        idle(abe)
        abe.get_by_role("button", name="Grant: revoke").click()
        idle(abe)

        # 3. the sanctions are revoked, on the page and in the graph
        abe.get_by_text(re.compile(f"Appeal {appeal_id} granted: \\d+ revoked")).wait_for()
        assert abe.get_by_text(re.compile("credit_deduction on Account ")).count()
        abe.screenshot(path=str(shots / "appeals-03-granted.png"), full_page=True)
        rows = e2e_platform.read("MATCH (s:Sanction {preview_id: $p}) RETURN collect(DISTINCT s.state) AS states, "
                                 "collect(DISTINCT s.revoked_by) AS by", p=decision)
        assert rows == [{"states": ["revoked"], "by": ["abe"]}]
        assert e2e_platform.read("MATCH (a:Appeal {appeal_id: $id}) RETURN a.state AS state, a.decided_by AS by",
                                 id=appeal_id) == [{"state": "granted", "by": "abe"}]
    finally:
        ivy.screenshot(path=str(shots / "appeals-99-last-state.png"), full_page=True)
        ivy.close()
        if abe is not None:
            abe.close()
