"""The Graph API: plain values out, the project's own errors for every driver failure."""

from datetime import datetime, timezone

import pytest

from ringscope.common.errors import DatabaseError, DatabaseUnavailable, QueryTimeout
from ringscope.graph.database import connect
from ringscope.graph.settings import load_settings


@pytest.mark.neo4j
def test_rows_are_plain_dicts_with_native_values(graph):
    rows = graph.read("RETURN datetime('2025-01-02T03:04:05Z') AS at, {a: [date('2025-01-02')]} AS m, "
                      "1 AS n, 'x' AS s")
    assert rows == [{"at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                     "m": {"a": [datetime(2025, 1, 2).date()]}, "n": 1, "s": "x"}]
    assert type(rows[0]) is dict


@pytest.mark.neo4j
def test_a_transaction_runs_several_statements_in_one_commit(graph):
    def work(tx):
        tx.execute("CREATE (:Account {account_id: 'gx1'})")
        return tx.row("MATCH (a:Account {account_id: 'gx1'}) RETURN a.account_id AS id")

    assert graph.write_transaction(work) == {"id": "gx1"}
    assert graph.read_transaction(lambda tx: tx.row("MATCH (a:Account {account_id: 'nope'}) RETURN a")) is None


@pytest.mark.neo4j
def test_a_bad_statement_is_a_database_error_naming_the_code(graph):
    with pytest.raises(DatabaseError) as failed:
        graph.read("RETURN $x +", x=1)
    assert failed.value.code.startswith("Neo.ClientError.Statement")


@pytest.mark.neo4j
def test_a_statement_over_the_time_limit_is_a_query_timeout(graph):
    import dataclasses

    slow = dataclasses.replace(graph, settings=dataclasses.replace(graph.settings, query_timeout_s=0.5))
    with pytest.raises(QueryTimeout):
        slow.read("UNWIND range(1, 100000000) AS x WITH x WHERE x < 0 RETURN count(*) AS n")


@pytest.mark.neo4j
@pytest.mark.parametrize("recorded", [False, True])
def test_a_write_over_the_time_limit_is_a_query_timeout_recorded_or_not(graph, recorded):
    """While a detection run records its commits, ``write`` and ``execute`` run as managed transactions
    (``graph/commits.py``); they keep ``execute_query``'s time limit."""
    import contextlib
    import dataclasses

    from ringscope.graph import commits

    slow = dataclasses.replace(graph, settings=dataclasses.replace(graph.settings, query_timeout_s=0.5))
    statement = "UNWIND range(1, 100000000) AS x WITH x WHERE x < 0 CREATE (:Never) RETURN count(*) AS n"
    with commits.recording() if recorded else contextlib.nullcontext():
        with pytest.raises(QueryTimeout):
            slow.write(statement)
        with pytest.raises(QueryTimeout):
            slow.execute(statement)


def test_an_unreachable_server_is_database_unavailable(tmp_path):
    settings = load_settings({"NEO4J_URI": "bolt://127.0.0.1:9", "NEO4J_PASSWORD": "x",
                              "RINGSCOPE_HOME": str(tmp_path)})
    with pytest.raises(DatabaseUnavailable, match="cannot reach Neo4j at bolt://127.0.0.1:9"):
        connect(settings)


def test_a_local_server_that_died_of_its_heap_says_which_setting_to_raise(tmp_path):
    """The tool's own server runs with -XX:+ExitOnOutOfMemoryError: when it is gone and its log says so, the
    error names the heap setting (a 10 M run's store once killed a 1g heap and the user read only "cannot
    reach Neo4j"); once it has started again since, the plain hint."""
    (tmp_path / "password").write_text("x\n")
    log = tmp_path / "launcher.log"
    log.write_text("ringscope: Neo4j ready, Bolt on 127.0.0.1:9\nTerminating due to java.lang.OutOfMemoryError: "
                   "Java heap space\n")
    settings = load_settings({"RINGSCOPE_HOME": str(tmp_path), "RINGSCOPE_BOLT_PORT": "9",
                              "RINGSCOPE_NEO4J_HEAP": "1g"})
    with pytest.raises(DatabaseUnavailable, match=r"exited: java.lang.OutOfMemoryError: Java heap space .*"
                                                  r"RINGSCOPE_NEO4J_HEAP \(now 1g\)"):
        connect(settings)
    log.write_text(log.read_text() + "ringscope: Neo4j ready, Bolt on 127.0.0.1:9\n")
    with pytest.raises(DatabaseUnavailable, match="start it with `ringscope db start`"):
        connect(settings)


@pytest.mark.neo4j
def test_wrong_passwords_until_the_server_locks_sign_in_are_database_unavailable(graph, tmp_path):
    """After a few wrong passwords Neo4j refuses every sign-in for a while (a rate-limit ClientError, not an
    AuthError): each attempt is the project's DatabaseUnavailable naming the user, never the driver's error."""
    import time

    wrong = load_settings({"NEO4J_URI": graph.settings.uri, "NEO4J_USERNAME": graph.settings.username,
                           "NEO4J_PASSWORD": "not-the-password", "RINGSCOPE_HOME": str(tmp_path)})
    messages = []
    for _ in range(6):
        with pytest.raises(DatabaseUnavailable) as refused:
            connect(wrong)
        messages.append(str(refused.value))
    assert all(repr(graph.settings.username) in m for m in messages)
    assert any("refuses sign-ins for a few seconds" in m for m in messages)
    deadline = time.monotonic() + 60          # the lock lasts seconds: leave the server usable for the next test
    while time.monotonic() < deadline:
        try:
            graph.query("RETURN 1 AS one")
            break
        except Exception:
            time.sleep(1)
