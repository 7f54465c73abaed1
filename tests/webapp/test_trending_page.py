"""The Trending list page with Streamlit's AppTest, against the real test Neo4j (the app's small platform, whose
simulated trending list the latest run rated)."""

from __future__ import annotations

import json

import pytest

from tests.webapp.test_pages import errors, page

pytestmark = pytest.mark.neo4j


def rows_of(at, column: str) -> list[dict]:
    frames = [df for df in at.dataframe if column in df.value.columns]
    return frames[0].value.to_dict("records") if frames else []


def test_the_page_lists_the_rated_rises_and_a_capture(app_db):
    # the run the page shows: the latest completed one with ratings (other tests' runs in this database may be newer)
    stored = app_db.read("MATCH (r:DetectionRun {status: 'completed'}) WHERE r.ratings IS NOT NULL "
                         "WITH r ORDER BY r.started_at DESC LIMIT 1 RETURN r.ratings AS ratings")[0]["ratings"]
    rated = json.loads(stored)["trending_heat"]
    at = page("trending", "viewer")
    assert not at.exception and not errors(at), errors(at)
    rises = rows_of(at, "integrity")
    assert len(rises) == len(rated) > 0
    assert {r["topic"] for r in rises} == {x["topic"] for x in rated}
    # where the flagged share came from: named for every rise with one, by the run's own split
    by_rise = {(x["topic"], x["rose_at"]): x for x in rated}
    for r in rises:
        split = by_rise[(r["topic"], r["rose"])].get("flagged_by_detector") or {}
        assert bool(r["flagged by"]) == bool(split)
        if r["from flagged"] not in ("", "0%"):
            assert r["flagged by"].split(" ")[0] == next(iter(split))
    capture = rows_of(at, "latest integrity")
    assert 0 < len(capture) <= 20 and [r["rank"] for r in capture] == sorted(r["rank"] for r in capture)


def test_a_pushed_rise_opens_its_cluster(app_db):
    at = page("trending", "investigator")
    at.toggle(key="trending_pushed").set_value(True).run()
    assert not at.exception and not errors(at)
    pushed = rows_of(at, "integrity")
    if not pushed:
        pytest.skip("the small platform's run found no cluster pushing a rise")
    assert all(r["clusters"] >= 1 for r in pushed)
