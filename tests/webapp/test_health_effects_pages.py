"""The content-health index's effects in the app, with Streamlit's AppTest against the real test Neo4j (the app's
small platform): the overview's chart of the latest `ringscope health apply`, or the line saying to run it; the
effect in force on an account's panel; a brand's and an agency's accounts on theirs."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ringscope.auth.roles import Actor
from ringscope.detection.config import load_detection_policy
from ringscope.health import enforce, service
from ringscope.health.policy import load_health_policy
from ringscope.webapp.services import APP_GROUP_ACCOUNTS
from ringscope.webapp.views.entity import GROUP_LOWEST
from tests.webapp.test_pages import all_text, errors, page

pytestmark = pytest.mark.neo4j

ABE = Actor("abe", "approver")
HEALTH_NODES = "MATCH (n) WHERE n:HealthApply OR n:HealthEffect DETACH DELETE n"


@pytest.fixture
def fresh(app_db):
    """The app's platform with no apply yet; what a test applies is removed after it (the audit entries stay)."""
    app_db.write(HEALTH_NODES)
    yield app_db
    app_db.write(HEALTH_NODES)


def charts(at) -> list:
    """The data of each vega-lite chart on the page, as frames."""
    out = []
    for el in at.get("vega_lite_chart"):
        for ds in el.proto.datasets:
            out.append(pa.ipc.open_stream(ds.data.data).read_all().to_pandas())
    return out


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_overview_says_to_run_apply_before_the_first(fresh):
    at = page("overview", "viewer")
    assert not at.exception and not errors(at), errors(at)
    assert "The content-health distribution is not computed yet: run `ringscope health apply`." in all_text(at)
    assert charts(at) == []


def test_the_overview_charts_the_latest_apply_and_the_account_panel_shows_its_effect(fresh):
    result = enforce.apply(fresh, ABE, load_health_policy(), reports_policy=load_detection_policy().reports)
    d = result.distribution
    assert d.accounts >= 600 and result.set == sum(d.bands[b] for b in ("boost", "no_commercial", "throttled"))
    at = page("overview", "viewer")
    assert not at.exception and not errors(at), errors(at)
    text = all_text(at)
    assert "Content health" in text and "not computed yet" not in text
    assert f"by `ringscope health apply` (abe, health policy version {result.policy_version}) over " \
           f"{d.accounts:,} accounts" in text
    frames = charts(at)
    assert len(frames) == 1
    chart = frames[0]
    assert list(chart["accounts"]) == [n for _, _, n in d.bins]
    assert list(chart["index"]) == ["0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89",
                                    "90-100"]
    shown = metrics(at)
    assert {b: shown[b.replace("_", " ")] for b in d.bands} == {b: f"{n:,}" for b, n in d.bands.items()}
    # an account the apply throttled (or, failing that, boosted) shows the effect in force, from its record
    band = "throttled" if d.bands["throttled"] else "boost"
    account = fresh.read("MATCH (e:HealthEffect {state: 'active', band: $band}) RETURN e.account_id AS id "
                         "ORDER BY id LIMIT 1", band=band)[0]["id"]
    panel = page("entity", "viewer", entity_uid=f"Account:{account}")
    assert not panel.exception and not errors(panel), errors(panel)
    effect = [i.value for i in panel.info if i.value.startswith("Effect in force")]
    assert len(effect) == 1 and f"**{band}** since" in effect[0] and result.apply_id in effect[0]
    # an account in the normal band has none
    if d.bands["normal"]:
        normal = fresh.read("MATCH (a:Account) WHERE NOT EXISTS { MATCH (e:HealthEffect {account_id: a.account_id}) } "
                            "RETURN a.account_id AS id ORDER BY id LIMIT 1")[0]["id"]
        other = page("entity", "viewer", entity_uid=f"Account:{normal}")
        assert not other.exception and "No effect in force" in all_text(other)


def group_expected(app_db, kind: str, group_id: str):
    policy = load_health_policy()
    bound = policy.model_copy(update={"limits": policy.limits.model_copy(
        update={"max_group_accounts": min(APP_GROUP_ACCOUNTS, policy.limits.max_group_accounts)})})
    return service.group_health(app_db, kind, group_id, bound, load_detection_policy().reports)


@pytest.mark.parametrize("label, kind, query", [
    ("Brand", "brand", "MATCH (b:Brand)<-[:PROMOTES]-(:Note) RETURN b.brand_id AS id, count(*) AS n "
                       "ORDER BY n DESC, id LIMIT 1"),
    ("Intermediary", "intermediary", "MATCH (m:Intermediary)-[:MANAGES]->(:Account) RETURN m.intermediary_id AS id, "
                                     "count(*) AS n ORDER BY n DESC, id LIMIT 1"),
])
def test_a_brand_and_an_agency_show_the_index_over_their_accounts(app_db, label, kind, query):
    group_id = app_db.read(query)[0]["id"]
    expected = group_expected(app_db, kind, group_id)
    assert expected.accounts > 0
    at = page("entity", "viewer", entity_uid=f"{label}:{group_id}")
    assert not at.exception and not errors(at), errors(at)
    text = all_text(at)
    assert "Content health of the accounts it works with" in text
    assert f"Works with {expected.accounts:,} accounts" in text
    shown = metrics(at)
    assert {b: shown[b.replace("_", " ")] for b in expected.distribution.bands} == {
        b: f"{n:,}" for b, n in expected.distribution.bands.items()}
    assert [list(f["accounts"]) for f in charts(at)] == [[n for _, _, n in expected.distribution.bins]]
    rows = next(df.value for df in at.dataframe if "band" in df.value.columns and "account" in df.value.columns)
    lowest = expected.scored[:GROUP_LOWEST]
    assert list(rows["account"]) == [h.account_id for h in lowest]
    assert list(rows["index"]) == pytest.approx([round(h.index, 1) for h in lowest])
    assert len(rows) <= GROUP_LOWEST and len(expected.scored) <= APP_GROUP_ACCOUNTS
