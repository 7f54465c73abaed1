import pytest

from ringscope.graph.schema import TEXT_INDEX, ensure_schema
from ringscope.queries.search import search, text_index

pytestmark = pytest.mark.neo4j


def test_without_its_text_index_search_still_finds_ids_and_says_why_names_do_not_match(graph):
    graph.write("CREATE (:Account {account_id: 'srch001', nickname: 'moonlight baker'})")
    assert text_index(graph).online
    assert [h.key for h in search(graph, "moonlight")] == ["srch001"]
    graph.write(f"DROP INDEX {TEXT_INDEX}")
    try:
        # A query on a missing or still-populating index fails (or blocks ~30 s): it is not sent.
        assert text_index(graph).state == "MISSING" and not text_index(graph).online
        assert search(graph, "moonlight") == []
        assert [(h.key, h.how) for h in search(graph, "srch001")] == [("srch001", "id")]
    finally:
        graph.write("MATCH (s:RingscopeSchema) SET s.version = 0")
        ensure_schema(graph.driver, graph.database)
    assert text_index(graph).online
    assert [h.key for h in search(graph, "moonlight")] == ["srch001"]
