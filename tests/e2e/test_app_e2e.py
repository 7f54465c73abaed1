"""The investigator's main path in a real browser: sign in, open the top cluster, click a node and see its
neighbours appear, preview a sanction and see the path, export a pack and verify it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.neo4j, pytest.mark.slow]

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the rerun an action started (as Streamlit's own e2e tests do)."""
    time.sleep(0.25)  # let the rerun start before waiting for it to end
    page.wait_for_selector(IDLE, timeout=timeout)


def sign_in(page, url: str, user: str) -> None:
    page.goto(url)
    idle(page)
    page.get_by_label("User name", exact=True).fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    idle(page)
    page.get_by_role("heading", name="Overview").wait_for(timeout=30_000)


def graph_counts(page) -> tuple[int, int]:
    data = page.eval_on_selector(".rs-graph", "e => [Number(e.dataset.nodes), Number(e.dataset.edges)]")
    return data[0], data[1]


def account_on_canvas(page) -> dict:
    """Where an account node is drawn, in page coordinates (read from vis-network inside the component)."""
    return page.evaluate("""() => {
      const g = window.__ringscopeGraph;
      const pos = g.network.getPositions();
      const canvas = g.root.querySelector('canvas').getBoundingClientRect();
      const ids = Object.keys(pos).filter(id => g.nodes.get(id).shape === 'dot' && g.nodes.get(id).size >= 12);
      // the account closest to the middle of the canvas: never under the legend or off screen
      const mid = {x: canvas.width / 2, y: canvas.height / 2};
      let best = null;
      for (const id of ids) {
        const d = g.network.canvasToDOM(pos[id]);
        const dist = Math.hypot(d.x - mid.x, d.y - mid.y);
        if (!best || dist < best.dist) best = {id, dist, x: canvas.left + d.x, y: canvas.top + d.y};
      }
      return best;
    }""")


def test_investigator_main_path(app_url, browser, shots, tmp_path):
    page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
    page.set_default_timeout(60_000)
    try:
        # 1. sign in
        sign_in(page, app_url, "ivy")
        page.wait_for_selector("[data-testid='stDataFrame'] canvas")
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / "01-signed-in-overview.png"), full_page=True)

        # 2. open the top cluster
        page.get_by_role("button", name="Open the top cluster in the graph").click()
        idle(page)
        page.get_by_role("heading", name="Graph explorer").wait_for()
        page.wait_for_selector(".rs-graph[data-ready='true']", timeout=90_000)
        idle(page)
        nodes_before, _ = graph_counts(page)
        assert nodes_before > 0
        page.screenshot(path=str(shots / "02-top-cluster.png"), full_page=True)

        # 3. click a node: it is selected; double-click: its neighbours appear
        target = account_on_canvas(page)
        assert target, "no account drawn"
        page.mouse.click(target["x"], target["y"])
        idle(page)
        page.get_by_role("button", name="Open the entity panel").wait_for()
        page.screenshot(path=str(shots / "03-node-selected.png"), full_page=True)
        page.mouse.dblclick(target["x"], target["y"])
        idle(page)
        page.wait_for_function(f"() => Number(document.querySelector('.rs-graph').dataset.nodes) > {nodes_before}",
                               timeout=30_000)
        nodes_after, _ = graph_counts(page)
        assert nodes_after > nodes_before
        assert page.get_by_text("node(s) around").count() >= 1
        page.screenshot(path=str(shots / "04-neighbours-expanded.png"), full_page=True)

        # 4. preview a sanction on the selected account and see the justifying paths
        page.get_by_role("button", name="Preview a sanction on it").click()
        idle(page)
        page.get_by_role("heading", name="Sanctions").wait_for()
        page.get_by_label("Decide on").get_by_text("the cluster in the graph explorer").click()
        idle(page)
        violation = page.get_by_role("combobox", name="Violation")
        violation.click()
        page.get_by_role("option", name="farm_operation").first.click()
        idle(page)
        page.get_by_role("button", name="Preview", exact=True).click()
        idle(page)
        page.get_by_text("(open)").first.wait_for(timeout=90_000)
        page.locator("[data-testid='stDataFrame']").first.wait_for()
        page.get_by_text("Why the decision reaches beyond its targets").wait_for()
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "05-sanction-preview-paths.png"), full_page=True)
        paths = page.locator("[data-testid='stMarkdownContainer'] li").all_inner_texts()
        assert any("-HAS_MEMBER->" in p or "USED_DEVICE" in p for p in paths), paths[:5]  # a real path, step by step

        # 5. export the pack for the cluster on screen and verify it
        page.get_by_role("link", name="Evidence").click()
        idle(page)
        page.get_by_role("heading", name="Evidence pack").wait_for()
        page.get_by_role("button", name="Build the pack").click()
        idle(page, timeout=180_000)
        page.get_by_text("built and verified").wait_for(timeout=180_000)
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download the pack").click()
        pack = tmp_path / "pack.zip"
        download_info.value.save_as(pack)
        page.screenshot(path=str(shots / "06-evidence-pack-verified.png"), full_page=True)
        from ringscope.evidence.verify import verify_pack

        result = verify_pack(pack)
        assert result.ok, result.problems
        (shots / "pack.zip").write_bytes(Path(pack).read_bytes())
    finally:
        page.screenshot(path=str(shots / "99-last-state.png"), full_page=True)
        page.close()


def test_viewer_sees_masked_data_and_no_sanctions(app_url, browser, shots, e2e_platform):
    ip = e2e_platform.read("MATCH (:Account)-[:REGISTERED_FROM]->(ip:IP) RETURN ip.ip AS ip LIMIT 1")[0]["ip"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    try:
        sign_in(page, app_url, "vic")
        nav = page.locator("[data-testid='stSidebarNav']").inner_text()
        assert "Sanctions" not in nav and "Evidence" not in nav and "Admin" not in nav
        page.get_by_role("link", name="Search").click()
        idle(page)
        page.get_by_label("Id or name").fill(ip)
        page.keyboard.press("Enter")
        idle(page)
        page.wait_for_selector("[data-testid='stDataFrame']")
        page.screenshot(path=str(shots / "07-viewer-search-masked.png"), full_page=True)
        shown = page.locator("[data-testid='stMain']").inner_text()  # what is shown, not what was typed
        grid = page.locator("[data-testid='stDataFrame']").first.inner_text()
        assert ip not in shown and ip not in grid
        assert ".x.x" in shown + grid
    finally:
        page.close()
