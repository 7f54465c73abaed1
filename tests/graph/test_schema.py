import pytest

from ringscope.graph.model import NODE_TYPES
from ringscope.graph.schema import LATEST, MIGRATIONS, current_version, ensure_schema

pytestmark = pytest.mark.neo4j


def test_connect_leaves_the_schema_at_the_latest_version(session_graph):
    assert current_version(session_graph.driver, session_graph.database) == LATEST


def test_every_label_has_a_uniqueness_constraint_on_its_key(session_graph):
    rows = session_graph.read(
        "SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties WHERE type = 'UNIQUENESS' "
        "RETURN labelsOrTypes[0] AS label, properties[0] AS key")
    have = {(r["label"], r["key"]) for r in rows}
    assert {(n.label, n.key) for n in NODE_TYPES} <= have


def test_the_schema_step_is_idempotent(session_graph):
    assert ensure_schema(session_graph.driver, session_graph.database) == []
    # Forgetting the version re-runs every statement harmlessly (IF NOT EXISTS).
    session_graph.write("MATCH (s:RingscopeSchema) SET s.version = 0")
    assert ensure_schema(session_graph.driver, session_graph.database) == [m.version for m in MIGRATIONS]
    assert current_version(session_graph.driver, session_graph.database) == LATEST


def test_duplicate_ids_are_refused_by_the_database(graph):
    from ringscope.common.errors import ConstraintViolation

    graph.write("CREATE (:Account {account_id: 'dup'})")
    with pytest.raises(ConstraintViolation, match="already exists"):
        graph.write("CREATE (:Account {account_id: 'dup'})")
