"""The observation room in a real browser: place an account on watch, see the next detection run escalate it
to the investigator's queue, resolve it."""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_app_e2e import idle, sign_in
from tests.webapp.test_watch_page import flagged_account

pytestmark = [pytest.mark.e2e, pytest.mark.neo4j, pytest.mark.slow]


def submit(page, field: str, text: str, button: str, expect: str) -> None:
    """Type ``text`` into ``field`` (Enter commits it), press ``button``, wait for ``expect`` on the page."""
    page.get_by_label(field, exact=True).fill(text)
    page.get_by_label(field, exact=True).press("Enter")
    idle(page)
    page.get_by_role("button", name=button).click()
    idle(page)
    page.get_by_text(expect).wait_for()


def test_place_on_watch_escalate_after_a_run_resolve(app_url, browser, shots, e2e_platform):
    from ringscope.detection.config import load_detection_policy
    from ringscope.detection.run import detect

    target = flagged_account(e2e_platform, last=True)
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(60_000)
    try:
        sign_in(page, app_url, "ivy")
        page.get_by_role("link", name="Observation room").click()
        idle(page)
        page.get_by_role("heading", name="Observation room").wait_for()

        # 1. place it on watch
        page.get_by_label("Account id", exact=True).fill(target)
        submit(page, "Reason", "e2e: reported by a brand", "Place on watch", f"{target} is under observation")
        page.screenshot(path=str(shots / "watch-01-placed.png"), full_page=True)

        # 2. a detection run: its risk is at the flag threshold, so the stay is escalated to the queue
        detect(e2e_platform, load_detection_policy())
        deadline = time.monotonic() + 60
        while True:  # the app's caches follow the run within seconds (its run watcher, a 10 s cache)
            page.get_by_role("link", name="Observation room").click()
            idle(page)
            if page.get_by_role("heading", name="Investigator's queue").count():
                picker = page.get_by_role("combobox", name="Stay")
                picker.click()
                option = page.get_by_role("option", name=f"{target} (escalated)")
                if option.count():
                    option.first.click()
                    idle(page)
                    break
                page.keyboard.press("Escape")
            assert time.monotonic() < deadline, "the stay did not show as escalated after the run"
            time.sleep(3)
        page.screenshot(path=str(shots / "watch-02-escalated.png"), full_page=True)

        # 3. resolve it
        submit(page, "Why", "e2e: reviewed, sanction decided separately", "Resolve: release from the room",
               f"{target} released from the room")
        page.screenshot(path=str(shots / "watch-03-resolved.png"), full_page=True)
        states = e2e_platform.read("MATCH (w:WatchStay {account_id: $id}) RETURN w.state AS state, "
                                   "w.escalated_in IS NOT NULL AS escalated, w.released_by AS by "
                                   "ORDER BY w.started_at DESC LIMIT 1", id=target)
        assert states == [{"state": "released", "escalated": True, "by": "ivy"}]
    finally:
        page.screenshot(path=str(shots / "watch-99-last-state.png"), full_page=True)
        page.close()
