"""The entity panel's "Content health" block with Streamlit's AppTest, against the real test Neo4j (the app's small
platform): the same index as ``ringscope health --account``, each indicator's contribution, what is not measured."""

from __future__ import annotations

import pytest

from ringscope.detection.config import load_detection_policy
from ringscope.health import service
from ringscope.health.policy import load_health_policy
from tests.webapp.test_pages import all_text, errors, page

pytestmark = pytest.mark.neo4j


def health_rows(at) -> list[dict]:
    frames = [df for df in at.dataframe if "indicator" in df.value.columns and "measured" in df.value.columns]
    return frames[0].value.to_dict("records") if frames else []


def test_an_accounts_panel_shows_its_content_health(app_db):
    account = app_db.read("MATCH (a:Account)-[:WROTE]->(:Comment) RETURN a.account_id AS id "
                          "ORDER BY id LIMIT 1")[0]["id"]
    expected = service.account_health(app_db, account, load_health_policy(), load_detection_policy().reports)
    at = page("entity", "viewer", entity_uid=f"Account:{account}")
    assert not at.exception and not errors(at), errors(at)
    text = all_text(at)
    assert "Content health" in text and "Not measured" in text
    assert [m.value for m in at.metric if m.label == "Index (0-100)"] == [f"{expected.index:.1f}"]
    rows = health_rows(at)
    assert [r["indicator"] for r in rows] == [c.indicator for c in expected.contributions]
    assert [r["points"] for r in rows] == pytest.approx([round(c.points, 2) for c in expected.contributions])


def test_other_entities_have_no_health_block(app_db):
    device = app_db.read("MATCH (d:Device) RETURN d.device_id AS id ORDER BY id LIMIT 1")[0]["id"]
    at = page("entity", "viewer", entity_uid=f"Device:{device}")
    assert not at.exception and not errors(at), errors(at)
    assert "Content health" not in all_text(at)
