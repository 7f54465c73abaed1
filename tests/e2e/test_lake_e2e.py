"""In a real browser: an account the graph lacks is found in the lake; a viewer sees it and no button; an
investigator pulls its neighbourhood, sees "Pulling…" while Spark runs in the background, and lands on the
account, now from the graph."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LAKE_ACCOUNTS
from tests.e2e.test_app_e2e import idle, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.neo4j, pytest.mark.slow]


def search(page, text: str) -> None:
    page.get_by_role("link", name="Search", exact=True).click()  # a new URL would be a new, signed-out session
    idle(page)
    box = page.get_by_label("Id or name", exact=True)
    box.fill(text)
    box.press("Enter")
    idle(page)


def test_an_account_in_the_lake_is_pulled_into_the_graph_from_the_search_page(app_url, browser, shots,
                                                                                e2e_platform):
    account = LAKE_ACCOUNTS[0]
    e2e_platform.write("MATCH (n) WHERE n.account_id IN $ids OR n.device_id = 'lked0001' DETACH DELETE n",
                       ids=list(LAKE_ACCOUNTS))
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(60_000)
    try:
        sign_in(page, app_url, "vic")
        search(page, account)
        page.get_by_text(f"Account {account} is in the lake, not in the graph.").wait_for()
        page.wait_for_selector("[data-testid='stDataFrame']")
        shown = (page.locator("[data-testid='stMain']").inner_text()
                 + "".join(grid.inner_text() for grid in page.locator("[data-testid='stDataFrame']").all()))
        assert "198.51.100.21" not in shown  # (the grid draws on a canvas: the masking is checked by AppTest)
        assert page.get_by_role("button", name="Pull its neighbourhood").count() == 0
        page.screenshot(path=str(shots / "lake-01-viewer-sees-it-in-the-lake.png"), full_page=True)
        page.close()

        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(60_000)
        sign_in(page, app_url, "ivy")
        search(page, account)
        page.get_by_text(f"Account {account} is in the lake, not in the graph.").wait_for()
        page.get_by_role("button", name="Pull its neighbourhood").click()
        page.get_by_text(f"Pulling {account}'s neighbourhood from the lake").wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "lake-02-pulling.png"), full_page=True)
        # Spark starts in the child process, selects, writes the sub-lake; the load follows; the page refreshes
        page.get_by_role("heading", name="Entity").wait_for(timeout=600_000)
        page.get_by_text(f"Pulled {account} and its neighbourhood from the lake").wait_for(timeout=60_000)
        idle(page)
        page.screenshot(path=str(shots / "lake-03-pulled-entity.png"), full_page=True)
        row = e2e_platform.read("MATCH (a:Account {account_id: $id})-[:USED_DEVICE]->(d:Device) "
                                "RETURN a.stub AS stub, d.device_id AS device", id=account)
        assert row == [{"stub": False, "device": "lked0001"}]
    finally:
        page.close()
