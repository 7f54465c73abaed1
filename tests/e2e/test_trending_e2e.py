"""The Trending list in a real browser: see the rises with their integrity, keep the ones a cluster pushed, select
one, press "Draw cluster ... in the graph" and see that cluster in the graph explorer (its id, its members drawn
and listed)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_app_e2e import idle, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.neo4j, pytest.mark.slow]

ROW_HEIGHT = 35  # Streamlit's dataframe rows (and its header row), in CSS pixels


def grid_rows(grid) -> list[list[str]]:
    """The rows of a Streamlit dataframe as its accessible table holds them (the rows on screen), header first;
    waits for the grid to have drawn a row (it draws a moment after the script's rerun ends)."""
    grid.page.wait_for_function("g => g.querySelectorAll('table [role=row]').length > 1", arg=grid.element_handle())
    return grid.evaluate("""g => Array.from(g.querySelectorAll('table [role=row]'))
        .map(r => Array.from(r.querySelectorAll('th, td')).map(c => c.innerText.trim()))""")


def wait_for_rows(page, grid, count: int) -> None:
    """Wait until the grid holds ``count`` data rows (it redraws a moment after the script's rerun ends). Only for
    a grid whose rows all fit on screen (the accessible table holds the rows on screen): the e2e platform has 3."""
    page.wait_for_function("([g, n]) => g.querySelectorAll('table [role=row]').length === n + 1",
                           arg=[grid.element_handle(), count])


def select_first_row(page, grid) -> None:
    """Tick the first data row's row marker (the grid's left column on its canvas), as an investigator does."""
    grid.scroll_into_view_if_needed()
    box = grid.locator("canvas").first.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + ROW_HEIGHT + ROW_HEIGHT / 2)
    idle(page)


def test_a_pushed_rise_draws_its_cluster_in_the_explorer(app_url, browser, shots, e2e_platform):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(60_000)
    try:
        # 1. the page: the rises the latest run rated, each with its integrity
        sign_in(page, app_url, "ivy")
        page.get_by_role("link", name="Trending list").click()
        idle(page)
        page.get_by_role("heading", name="Trending list").wait_for()
        page.get_by_text("Ratings of run").wait_for()
        rated = page.locator("[data-testid='stMetric']").filter(has_text="Rises rated")
        assert int(rated.locator("[data-testid='stMetricValue']").inner_text().replace(",", "")) > 0
        pushed = page.locator("[data-testid='stMetric']").filter(has_text="Pushed by clusters")
        n_pushed = int(pushed.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))
        assert n_pushed > 0, "the platform's run found no cluster pushing a rise (its heat operations were not found)"
        rises = page.locator("[data-testid='stDataFrame']").first
        rises.locator("canvas").first.wait_for()
        header, *rows = grid_rows(rises)
        assert "integrity" in header and "clusters" in header and rows
        page.screenshot(path=str(shots / "trending-01-rises.png"), full_page=True)

        # 2. only the rises a cluster pushed: each names at least one cluster
        page.get_by_text("Only rises pushed by a cluster").click()
        idle(page)
        wait_for_rows(page, rises, n_pushed)
        header, *rows = grid_rows(rises)
        assert rows, "no rise left with the toggle on"
        clusters_col, topic_col = header.index("clusters"), header.index("topic")
        assert all(int(r[clusters_col]) >= 1 for r in rows), rows
        integrity = [r[header.index("integrity")] for r in rows]  # "" only for a rise too quiet to rate
        assert all(0 <= float(x) <= 1 for x in integrity if x) and any(integrity), integrity
        topic = rows[0][topic_col]

        # 3. select the first of them: its history and a button per cluster behind it
        page.get_by_text("Select a rise to see its history").wait_for()
        select_first_row(page, rises)
        page.get_by_role("heading", name=re.compile(rf"^{re.escape(topic)}: ")).wait_for()
        draw = page.get_by_role("button", name=re.compile(r"^Draw cluster .+ in the graph$"))
        assert draw.count() == int(rows[0][clusters_col])
        cluster_id = re.fullmatch(r"Draw cluster (.+) in the graph", draw.first.inner_text().strip()).group(1)
        page.screenshot(path=str(shots / "trending-02-rise-selected.png"), full_page=True)

        # 4. draw its (first) cluster: the explorer shows that cluster, its members drawn and listed
        draw.first.click()
        idle(page)
        page.get_by_role("heading", name="Graph explorer").wait_for()
        page.get_by_text(f"cluster {cluster_id}", exact=True).wait_for()
        page.wait_for_selector(".rs-graph[data-ready='true']", timeout=90_000)
        idle(page)
        # each node's hover text names it ("Account a000123 ..."): the accounts drawn
        titles = page.evaluate("() => window.__ringscopeGraph.nodes.get().map(n => n.title)")
        members = {r["id"] for r in e2e_platform.read(
            "MATCH (:Cluster {cluster_id: $id})-[:HAS_MEMBER]->(a:Account) RETURN a.account_id AS id", id=cluster_id)}
        assert members, f"{cluster_id} has no members in the database"
        drawn_accounts = {t.split()[1] for t in titles if t.startswith("Account ")}
        assert drawn_accounts == members if len(members) <= 300 else drawn_accounts < members, \
            (sorted(drawn_accounts)[:10], len(drawn_accounts), sorted(members)[:10], len(members))
        page.get_by_text("All members of the cluster").click()
        idle(page)
        listed = page.locator("[data-testid='stExpander']").filter(has_text="All members of the cluster") \
            .locator("[data-testid='stDataFrame']")
        listed.locator("canvas").first.wait_for()
        header, *rows = grid_rows(listed)
        shown = {r[header.index("account")] for r in rows}
        assert shown and shown <= members, (shown, members)
        page.screenshot(path=str(shots / "trending-03-cluster-drawn.png"), full_page=True)
    finally:
        page.screenshot(path=str(shots / "trending-99-last-state.png"), full_page=True)
        page.close()
