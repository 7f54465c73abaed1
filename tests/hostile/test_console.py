"""Hostile input to the admin's read-only Cypher console, and the local server's own refusals.

Probes of the hardening review: LOAD CSV of host files and of local URLs ran in a
READ transaction, so an admin session could read the Neo4j password.
"""

import os
import stat

import pytest

from ringscope.auth.roles import Actor, NotAllowed
from ringscope.common.errors import DatabaseError
from ringscope.queries.console import StatementRefused, run_read_only
from tests.webapp.test_pages import errors, page

ADMIN = Actor("ada", "admin")

REFUSED = [
    ("LOAD CSV FROM 'file:///proc/self/environ' AS l RETURN l", "loads data from files or the network"),
    ("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l", "loads data from files or the network"),
    ("LOAD CSV FROM 'http://127.0.0.1:7474/' AS l RETURN l", "loads data from files or the network"),
    ("MATCH (a:Account) WITH a LIMIT 1 LOAD CSV FROM 'https://example.org/x.csv' AS l RETURN l",
     "loads data from files or the network"),
    ("CREATE (:Account {account_id: 'x-console'})", "writes"),
    ("MATCH (e:AuditEntry) DETACH DELETE e", "writes"),
    ("MATCH (e:AuditEntry) SET e.reason = 'rewritten'", "writes"),
    ("CALL { MATCH (e:AuditEntry) DELETE e } IN TRANSACTIONS", "writes"),
    ("CREATE INDEX probe FOR (n:Account) ON (n.bio)", "schema or runs an administration command"),
    ("DROP CONSTRAINT account_account_id_unique", "schema or runs an administration command"),
    ("SHOW USERS", "schema or runs an administration command"),
    ("ALTER USER neo4j SET PASSWORD 'x'", "schema or runs an administration command"),
    ("SHOW TRANSACTIONS", "shows server state"),
    ("SHOW SETTINGS", "shows server state"),
    ("SHOW PROCEDURES", "shows server state"),
    ("CALL dbms.listConfig() YIELD name RETURN name", ""),
    ("CALL db.createLabel('Probe')", "writes"),
    ("CALL db.info() YIELD id RETURN id", "is not allowed in the console"),
    ("CALL db.stats.retrieve('GRAPH COUNTS')", ""),
]


@pytest.mark.parametrize("statement,why", REFUSED)
def test_the_console_refuses_anything_but_a_plain_read(session_graph, statement, why):
    before = session_graph.read("MATCH (n) RETURN count(n) AS n")[0]["n"]
    with pytest.raises(StatementRefused, match=f"Refused: .*{why}"):
        run_read_only(session_graph, ADMIN, statement)
    assert session_graph.read("MATCH (n) RETURN count(n) AS n")[0]["n"] == before


@pytest.mark.parametrize("statement", [
    "MATCH (a:Account) RETURN a.account_id AS id LIMIT 3",
    "CALL db.labels() YIELD label RETURN label",
    "MATCH (a:Account)-[r]->(b) RETURN type(r) AS t, count(*) AS n",
    "RETURN 1 AS one",
])
def test_the_console_runs_plain_reads(session_graph, statement):
    assert run_read_only(session_graph, ADMIN, statement).total >= 0


def test_only_the_raw_cypher_permission_may_use_the_console(session_graph):
    with pytest.raises(NotAllowed):
        run_read_only(session_graph, Actor("abe", "approver"), "RETURN 1 AS one")


@pytest.mark.parametrize("url", ["file:///proc/self/environ", "http://127.0.0.1:7474/", "http://10.1.2.3/x.csv"])
def test_the_local_server_itself_refuses_load_csv_from_files_and_the_network(session_graph, url):
    """Even a statement that bypassed the console (a READ transaction through the driver) reads nothing."""
    with pytest.raises(DatabaseError, match="allow_csv_import_from_file_urls|blocklist"):
        session_graph.read("LOAD CSV FROM $url AS line RETURN line LIMIT 1", url=url)


def test_the_store_and_its_logs_are_readable_by_the_user_alone(test_settings):
    root = test_settings.local.home / "db"
    loose = []
    for folder, dirs, files in os.walk(root):
        if stat.S_IMODE(os.stat(folder).st_mode) & 0o077:
            loose.append(folder)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path) and stat.S_IMODE(os.stat(path).st_mode) & 0o077:
                loose.append(path)
    assert loose == []
    assert stat.S_IMODE(os.stat(test_settings.local.home).st_mode) == 0o700


def test_the_admin_page_shows_the_refusal_and_runs_nothing(app_db):
    at = page("admin", "admin")
    at.text_area(key="admin_cypher").input("LOAD CSV FROM 'file:///proc/self/environ' AS l RETURN l")
    at.button(key="admin_run").click().run()
    assert any("Refused" in e for e in errors(at))
    assert not at.dataframe or all("NEO4J" not in str(df.value) for df in at.dataframe)
