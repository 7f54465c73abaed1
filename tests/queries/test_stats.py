import pytest

from ringscope.queries.stats import graph_stats, quoted


def test_catalogue_names_are_quoted_as_identifiers():
    assert quoted("Account") == "`Account`"
    assert quoted("odd`name") == "`odd``name`"


@pytest.mark.neo4j
def test_counts_use_the_count_store_and_survive_odd_label_names(graph):
    graph.write("CREATE (:`We``ird Label` {x: 1}), (:Account {account_id: 'st1'})")
    counts = {c.kind: c.count for c in graph_stats(graph)}
    assert counts["We`ird Label"] == 1 and counts["Account"] == 1
    plan = graph.explain("MATCH (n:`Account`) RETURN count(n) AS count")
    assert plan.steps[1].operator == "NodeCountFromCountStore"
