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


def test_an_index_left_to_the_background_is_created_and_the_others_awaited(session_graph):
    from ringscope.graph.schema import TEXT_INDEX

    index_state = "SHOW INDEXES YIELD name, state WHERE name = $name RETURN state"
    session_graph.write(f"DROP INDEX {TEXT_INDEX} IF EXISTS")
    session_graph.write("DROP INDEX comment_created_at IF EXISTS")
    session_graph.write("MATCH (s:RingscopeSchema) SET s.version = 6")
    try:
        applied = ensure_schema(session_graph.driver, session_graph.database, background=(TEXT_INDEX,))
        assert applied == [m.version for m in MIGRATIONS if m.version >= 7]
        # Migration 7 made the text index (online now or still populating), the later ones ran after it; migrations
        # up to 6 are not re-run.
        assert session_graph.read(index_state, name=TEXT_INDEX)[0]["state"] in ("ONLINE", "POPULATING")
        assert session_graph.read(index_state, name="comment_created_at") == []
        session_graph.write("MATCH (s:RingscopeSchema) SET s.version = 0")
        ensure_schema(session_graph.driver, session_graph.database, background=(TEXT_INDEX,))
        # Everything but the background index is online when the step returns.
        assert session_graph.read(index_state, name="comment_created_at")[0]["state"] == "ONLINE"
    finally:
        session_graph.write("MATCH (s:RingscopeSchema) SET s.version = 0")
        ensure_schema(session_graph.driver, session_graph.database)
    assert session_graph.read(index_state, name=TEXT_INDEX)[0]["state"] == "ONLINE"
