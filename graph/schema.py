"""The versioned schema step: constraints and indexes, created idempotently on connect.

Each migration has a number and a list of DDL statements that are safe to run
again (``IF NOT EXISTS``). The applied version is stored on a
``(:RingscopeSchema {name: 'ringscope'})`` node, so connecting to an up-to-date
database costs one read. Labels and property names come from ``graph.model``;
DDL cannot take parameters, so nothing here is built from user input.
"""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver

from ringscope.graph.model import NODE_TYPES


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


def _unique_keys() -> tuple[str, ...]:
    return tuple(
        f"CREATE CONSTRAINT {n.label.lower()}_{n.key}_unique IF NOT EXISTS "
        f"FOR (x:{n.label}) REQUIRE x.{n.key} IS UNIQUE"
        for n in NODE_TYPES
    )


# The fulltext index behind search by name and text (migration 7).
TEXT_INDEX = "entity_text"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "unique id per node label", _unique_keys()),
    Migration(
        2,
        "indexes the detectors and the app filter on",
        (
            "CREATE INDEX account_registered_at IF NOT EXISTS FOR (a:Account) ON (a.registered_at)",
            "CREATE INDEX account_status IF NOT EXISTS FOR (a:Account) ON (a.status)",
            "CREATE INDEX account_stub IF NOT EXISTS FOR (a:Account) ON (a.stub)",
            "CREATE INDEX account_nickname IF NOT EXISTS FOR (a:Account) ON (a.nickname)",
            "CREATE INDEX comment_created_at IF NOT EXISTS FOR (c:Comment) ON (c.created_at)",
            "CREATE INDEX note_posted_at IF NOT EXISTS FOR (n:Note) ON (n.posted_at)",
            "CREATE INDEX sanction_action IF NOT EXISTS FOR (s:Sanction) ON (s.action)",
            "CREATE INDEX brand_name IF NOT EXISTS FOR (b:Brand) ON (b.name)",
            "CREATE INDEX intermediary_name IF NOT EXISTS FOR (i:Intermediary) ON (i.name)",
            "CREATE INDEX cluster_run IF NOT EXISTS FOR (c:Cluster) ON (c.run_id)",
        ),
    ),
    Migration(
        3,
        "ingest checkpoints, so an interrupted load resumes",
        (
            "CREATE CONSTRAINT ingest_checkpoint_key IF NOT EXISTS "
            "FOR (c:IngestCheckpoint) REQUIRE c.key IS UNIQUE",
        ),
    ),
    Migration(
        4,
        "detection runs: the lock that keeps runs from overlapping, run status",
        (
            "CREATE CONSTRAINT detection_lock_name IF NOT EXISTS "
            "FOR (l:DetectionLock) REQUIRE l.name IS UNIQUE",
            "CREATE INDEX detection_run_status IF NOT EXISTS FOR (r:DetectionRun) ON (r.status, r.started_at)",
        ),
    ),
    Migration(
        5,
        "the audit log: one entry per sequence number, one head",
        (
            "CREATE CONSTRAINT audit_entry_seq IF NOT EXISTS FOR (e:AuditEntry) REQUIRE e.seq IS UNIQUE",
            "CREATE CONSTRAINT audit_head_name IF NOT EXISTS FOR (h:AuditHead) REQUIRE h.name IS UNIQUE",
            "CREATE INDEX audit_entry_target IF NOT EXISTS FOR (e:AuditEntry) ON (e.target_id)",
            "CREATE INDEX audit_entry_actor IF NOT EXISTS FOR (e:AuditEntry) ON (e.actor)",
        ),
    ),
    Migration(
        6,
        "sanctions: previews, review items, exam passes; sanction state, expiry and decision lookups",
        (
            "CREATE CONSTRAINT review_review_id_unique IF NOT EXISTS FOR (x:Review) REQUIRE x.review_id IS UNIQUE",
            "CREATE CONSTRAINT sanctionpreview_preview_id_unique IF NOT EXISTS "
            "FOR (x:SanctionPreview) REQUIRE x.preview_id IS UNIQUE",
            "CREATE CONSTRAINT exampass_exam_id_unique IF NOT EXISTS FOR (x:ExamPass) REQUIRE x.exam_id IS UNIQUE",
            "CREATE INDEX sanction_state_expires IF NOT EXISTS FOR (s:Sanction) ON (s.state, s.expires_at)",
            "CREATE INDEX sanction_preview IF NOT EXISTS FOR (s:Sanction) ON (s.preview_id)",
            "CREATE INDEX review_state IF NOT EXISTS FOR (r:Review) ON (r.state)",
            "CREATE INDEX review_preview IF NOT EXISTS FOR (r:Review) ON (r.preview_id)",
        ),
    ),
    Migration(
        7,
        "the app's search: a fulltext index over names and text (CJK bigrams)",
        (
            f"CREATE FULLTEXT INDEX {TEXT_INDEX} IF NOT EXISTS "
            "FOR (n:Account|Brand|Intermediary|Note|Comment) ON EACH [n.nickname, n.name, n.title, n.text] "
            "OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}",
        ),
    ),
    Migration(
        8,
        "the observation room (watch/): one id per stay, stays by state and by account",
        (
            "CREATE CONSTRAINT watchstay_stay_id_unique IF NOT EXISTS FOR (w:WatchStay) REQUIRE w.stay_id IS UNIQUE",
            "CREATE INDEX watchstay_state IF NOT EXISTS FOR (w:WatchStay) ON (w.state)",
            "CREATE INDEX watchstay_account IF NOT EXISTS FOR (w:WatchStay) ON (w.account_id)",
        ),
    ),
    Migration(
        9,
        "appeals (appeals/): one id per appeal, the queue by state and filing time",
        (
            "CREATE CONSTRAINT appeal_appeal_id_unique IF NOT EXISTS FOR (a:Appeal) REQUIRE a.appeal_id IS UNIQUE",
            "CREATE INDEX appeal_state_filed IF NOT EXISTS FOR (a:Appeal) ON (a.state, a.filed_at)",
        ),
    ),
    Migration(
        10,
        "user reports (the reports file): one id per report, reports by time",
        (
            "CREATE CONSTRAINT report_report_id_unique IF NOT EXISTS FOR (x:Report) REQUIRE x.report_id IS UNIQUE",
            "CREATE INDEX report_created_at IF NOT EXISTS FOR (r:Report) ON (r.created_at)",
        ),
    ),
    Migration(
        11,
        "the content-health index's effects (health/): one id per effect and per apply, effects by account and "
        "state, applies by time, one lock",
        (
            "CREATE CONSTRAINT healtheffect_effect_id_unique IF NOT EXISTS "
            "FOR (e:HealthEffect) REQUIRE e.effect_id IS UNIQUE",
            "CREATE INDEX healtheffect_account IF NOT EXISTS FOR (e:HealthEffect) ON (e.account_id)",
            "CREATE INDEX healtheffect_state IF NOT EXISTS FOR (e:HealthEffect) ON (e.state)",
            "CREATE CONSTRAINT healthapply_apply_id_unique IF NOT EXISTS "
            "FOR (h:HealthApply) REQUIRE h.apply_id IS UNIQUE",
            "CREATE INDEX healthapply_at IF NOT EXISTS FOR (h:HealthApply) ON (h.at)",
            "CREATE CONSTRAINT healthlock_name_unique IF NOT EXISTS FOR (l:HealthLock) REQUIRE l.name IS UNIQUE",
        ),
    ),
    Migration(
        12,
        "the trending list (the trending file): one id per entry, entries by capture time and by topic",
        (
            "CREATE CONSTRAINT trendingentry_entry_id_unique IF NOT EXISTS "
            "FOR (x:TrendingEntry) REQUIRE x.entry_id IS UNIQUE",
            "CREATE INDEX trendingentry_captured_at IF NOT EXISTS FOR (e:TrendingEntry) ON (e.captured_at)",
            "CREATE INDEX trendingentry_topic IF NOT EXISTS FOR (e:TrendingEntry) ON (e.topic)",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version

INDEXES_TO_AWAIT = "SHOW INDEXES YIELD name WHERE NOT name IN $skip RETURN name"
AWAIT_INDEX = "CALL db.awaitIndex($name, 300)"
READ_VERSION = "OPTIONAL MATCH (s:RingscopeSchema {name: 'ringscope'}) RETURN s.version AS version"
WRITE_VERSION = (
    "MERGE (s:RingscopeSchema {name: 'ringscope'}) SET s.version = $version"
)


# The schema step runs without causal bookmarks: it may run right after the store was replaced
# (``graph.admin.reset``, a bulk import), when the driver's bookmarks belong to the old store. Each of
# its statements is idempotent, so a stale read on a cluster only repeats harmless work.
NO_BOOKMARKS = {"bookmark_manager_": None}


def current_version(driver: Driver, database: str | None) -> int:
    records, _, _ = driver.execute_query(READ_VERSION, database_=database, routing_="r", **NO_BOOKMARKS)
    return records[0]["version"] or 0


def ensure_schema(driver: Driver, database: str | None, background: tuple[str, ...] = ()) -> list[int]:
    """Apply the migrations the database lacks; returns the versions applied.

    Every index created is online when this returns, except those named in ``background``: Neo4j
    goes on populating them after the call (the bulk path leaves the text index to populate beside the
    first detection run: over a 1 M-account store it takes ~75 s, longer than every other index
    together). Search by text says so until it is online (``queries.search.text_index``)."""
    have = current_version(driver, database)
    applied = []
    for migration in MIGRATIONS:
        if migration.version <= have:
            continue
        for statement in migration.statements:
            driver.execute_query(statement, database_=database, **NO_BOOKMARKS)
        driver.execute_query(WRITE_VERSION, version=migration.version, database_=database, **NO_BOOKMARKS)
        applied.append(migration.version)
    if applied and not background:
        # Queries planned before the indexes existed would not use them.
        driver.execute_query("CALL db.awaitIndexes(300)", database_=database, **NO_BOOKMARKS)
    elif applied:
        records, _, _ = driver.execute_query(INDEXES_TO_AWAIT, skip=list(background), database_=database,
                                             **NO_BOOKMARKS)
        for record in records:
            driver.execute_query(AWAIT_INDEX, name=record["name"], database_=database, **NO_BOOKMARKS)
    return applied
