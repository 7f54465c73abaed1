"""How each kind of file is written to the graph: named, parameterised Cypher.

Every write is ``UNWIND $rows AS r`` + ``MERGE`` against the unique constraints
(or ``CREATE`` of a key the same transaction found absent, below), so writing
a batch twice changes nothing. Before the main statement, each id
the batch refers to is ``MERGE``d with ``ON CREATE SET stub = true``: a
dangling reference creates a stub node, and the statement's ``nodes_created``
counter is exactly the number of stubs. A later row that defines the entity
sets ``stub = false``.

IPs and phone segments have no defining file; they are plain identifier nodes,
never stubs. They too are ``MERGE``d by their distinct values before the main
statement (``Prelude``), so the statements for new rows only find them.

Rows new to the graph take a cheaper statement (``NewRows``): for accounts,
devices, notes and comments, one read finds which of the batch's keys already
exist; the rows whose key is new and appears once in the batch are written with
``CREATE`` (node and relationships: no uniqueness check on a relationship that
cannot exist yet, no ``Eager`` barrier between MERGEs), and the others with the
``MERGE`` statement, in their order. Profiled on the 100k platform, the MERGE
statements spent most of their time in those barriers and relationship checks
(accounts 2.5k rows/s). Should another writer create one of the keys between
the read and the CREATE, the constraint refuses it and the batch is written
again with ``MERGE`` only (``write_batch(merge_only=True)``).

Comments, notes and orders also keep the ids they link to as properties
(``account_id``, ``note_id``, ``brand_id`` ...): the detectors read millions of
them as flat rows, which is far faster than expanding relationships.

What ringscope decided is never overwritten by a file. An account's ``status``
column is the platform's own status: on an account ringscope's sanctions have
touched (it has a ``base_status``) it updates ``base_status`` only, and when
that changes it marks the account ``status_stale``; ``ringscope ingest`` then
has the sanctions service recompute ``status`` from ``base_status`` and the
sanctions in force (``sanctions.service.refresh_stale_statuses``), which clears
the mark. An imported sanction never takes a ringscope sanction's id (the
validator rejects that id space), and the statement below never changes a
sanction whose ``source`` is not ``import`` in any case.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from ringscope.graph.database import Counters, Transaction
from ringscope.graph.model import REPORT_TARGETS, SANCTION_TARGETS, key_of
from ringscope.ingest.spec import SPECS


@dataclass(frozen=True)
class Reference:
    """Row field ``column`` holds the id of a node labelled ``label``."""

    column: str
    label: str


@dataclass(frozen=True)
class Prelude:
    """A statement run before the main one over ``values(rows)``, as ``$ids``: identifier nodes the rows
    link to, merged once per distinct value."""

    cypher: str
    values: Callable[[list[dict[str, Any]]], list[Any]]


@dataclass(frozen=True)
class NewRows:
    """How rows whose ``label`` key is not yet in the graph are written: ``cypher`` CREATEs them."""

    label: str
    cypher: str


@dataclass(frozen=True)
class Writer:
    stem: str
    # The columns naming what a row writes (an entity's key, a link's two ends). Rows with the same identity
    # go to the same writer thread, in file order, so the last row still wins with several writers.
    identity: tuple[str, ...]
    cypher: str
    references: tuple[Reference, ...] = ()
    # Rows whose reference label depends on a value (sanctions) name it here.
    shape: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda row: row)
    preludes: tuple[Prelude, ...] = ()
    new_rows: NewRows | None = None
    # A link file's rows are written sorted (stably) by this endpoint, the shared one: concurrent batches then
    # lock its nodes in one order, which leaves fewer lock cycles for Neo4j to break as deadlocks. The column
    # is part of what identifies a link, so repeated rows of one link keep their file order.
    lock_order: str | None = None


def _props(stem: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row's own properties: non-empty values of columns marked ``prop`` (timestamps aside)."""
    props = {c.name: row[c.name] for c in SPECS[stem].columns
             if c.prop and c.kind != "ts" and row.get(c.name) is not None}
    if "extra" in row:
        props.update({k: v for k, v in row["extra"].items() if k not in props})
    return props


def _epoch_ms(stem: str, row: dict[str, Any]) -> dict[str, Any]:
    """Timestamps travel as epoch milliseconds: the driver packs a Python datetime
    about six times slower than an int (measured), and Neo4j rebuilds it with ``T``."""
    out = dict(row)
    for column in _TS_COLUMNS[stem]:
        value = row.get(column)
        if value is not None:
            out[column] = int(value.timestamp() * 1000)
    return out


_TS_COLUMNS = {stem: tuple(c.name for c in spec.columns if c.kind == "ts") for stem, spec in SPECS.items()}


def T(expression: str) -> str:
    """Cypher for 'epoch milliseconds, or null, as a UTC datetime'."""
    return (f"CASE WHEN {expression} IS NULL THEN null "
            f"ELSE datetime({{epochMillis: {expression}, timezone: 'UTC'}}) END")


def _identifiers(label: str, column: str) -> Prelude:
    """MERGE the distinct non-empty values of ``column`` as ``label`` identifier nodes (never stubs)."""
    return Prelude(f"UNWIND $ids AS id MERGE (:{label} {{{key_of(label)}: id}})",
                   lambda rows: distinct(rows, column))


def distinct(rows: list[dict[str, Any]], column: str) -> list[Any]:
    """The non-empty values of ``column`` in ``rows``, each once, sorted (one lock order for every writer)."""
    return sorted({row[column] for row in rows if row.get(column) is not None})


def _linked(variable: str, relationship: str) -> str:
    """Cypher: CREATE ``(c)-[:relationship]->(variable)`` when an OPTIONAL MATCH found ``variable``."""
    return f"FOREACH (_ IN CASE WHEN {variable} IS NULL THEN [] ELSE [1] END | CREATE {relationship})"


def _with_props(stem: str, leave: tuple[str, ...] = ()) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Rows with timestamps as epoch ms and their properties as ``props`` (but ``leave``, which the
    statement sets itself)."""
    def shape(row: dict[str, Any]) -> dict[str, Any]:
        props = _props(stem, row)
        for name in leave:
            props.pop(name, None)
        return {**_epoch_ms(stem, row), "props": props}
    return shape


def _times(stem: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda row: _epoch_ms(stem, row)


ACCOUNTS = Writer(
    "accounts",
    ('account_id',),
    f"""
    UNWIND $rows AS r
    MERGE (a:Account {{account_id: r.account_id}})
    // The platform's status; where ringscope has sanctioned the account (base_status set) it is only
    // the base under ringscope's decisions, and the status is recomputed after the load.
    SET a += r.props, a.stub = false, a.registered_at = {T("r.registered_at")},
        a.status_stale = CASE WHEN a.base_status IS NOT NULL AND r.status IS NOT NULL
                                   AND r.status <> a.base_status THEN true ELSE a.status_stale END,
        a.status = CASE WHEN a.base_status IS NULL THEN coalesce(r.status, a.status, 'active') ELSE a.status END,
        a.base_status = CASE WHEN a.base_status IS NULL THEN null ELSE coalesce(r.status, a.base_status) END
    FOREACH (_ IN CASE WHEN r.registration_ip IS NULL THEN [] ELSE [1] END |
        MERGE (ip:IP {{ip: r.registration_ip}})
        MERGE (a)-[:REGISTERED_FROM]->(ip))
    FOREACH (_ IN CASE WHEN r.phone_hash IS NULL THEN [] ELSE [1] END |
        MERGE (p:Phone {{phone_hash: r.phone_hash}})
        MERGE (a)-[:HAS_PHONE]->(p))
    FOREACH (_ IN CASE WHEN r.phone_segment IS NULL THEN [] ELSE [1] END |
        MERGE (s:PhoneSegment {{segment: r.phone_segment}})
        MERGE (a)-[:IN_PHONE_SEGMENT]->(s))
    FOREACH (_ IN CASE WHEN r.phone_hash IS NULL OR r.phone_segment IS NULL THEN [] ELSE [1] END |
        MERGE (p:Phone {{phone_hash: r.phone_hash}})
        MERGE (s:PhoneSegment {{segment: r.phone_segment}})
        MERGE (p)-[:IN_SEGMENT]->(s))
    """,
    shape=_with_props("accounts", leave=("status",)),
    preludes=(
        _identifiers("IP", "registration_ip"),
        _identifiers("Phone", "phone_hash"),
        _identifiers("PhoneSegment", "phone_segment"),
        Prelude("UNWIND $ids AS x MATCH (p:Phone {phone_hash: x[0]}) MATCH (s:PhoneSegment {segment: x[1]}) "
                "MERGE (p)-[:IN_SEGMENT]->(s)",
                lambda rows: [list(pair) for pair in sorted({(r["phone_hash"], r["phone_segment"]) for r in rows
                                                             if r.get("phone_hash") is not None
                                                             and r.get("phone_segment") is not None})]),
    ),
    new_rows=NewRows("Account", f"""
    UNWIND $rows AS r
    OPTIONAL MATCH (ip:IP {{ip: r.registration_ip}})
    OPTIONAL MATCH (p:Phone {{phone_hash: r.phone_hash}})
    OPTIONAL MATCH (s:PhoneSegment {{segment: r.phone_segment}})
    CREATE (a:Account {{account_id: r.account_id}})
    SET a += r.props, a.stub = false, a.registered_at = {T("r.registered_at")},
        a.status = coalesce(r.status, 'active')
    {_linked("ip", "(a)-[:REGISTERED_FROM]->(ip)")}
    {_linked("p", "(a)-[:HAS_PHONE]->(p)")}
    {_linked("s", "(a)-[:IN_PHONE_SEGMENT]->(s)")}
    """),
)

DEVICES = Writer(
    "devices",
    ('device_id',),
    """
    UNWIND $rows AS r
    MERGE (d:Device {device_id: r.device_id})
    SET d += r.props, d.stub = false
    """,
    shape=_with_props("devices"),
    new_rows=NewRows("Device", """
    UNWIND $rows AS r
    CREATE (d:Device {device_id: r.device_id})
    SET d += r.props, d.stub = false
    """),
)

BRANDS = Writer(
    "brands",
    ('brand_id',),
    """
    UNWIND $rows AS r
    MERGE (b:Brand {brand_id: r.brand_id})
    SET b += r.props, b.stub = false
    """,
    shape=_with_props("brands"),
)

INTERMEDIARIES = Writer(
    "intermediaries",
    ('intermediary_id',),
    """
    UNWIND $rows AS r
    MERGE (i:Intermediary {intermediary_id: r.intermediary_id})
    SET i += r.props, i.stub = false
    """,
    shape=_with_props("intermediaries"),
)

# What a note's and a comment's row sets, the same whether the statement MERGEs or CREATEs it.
_NOTE_PROPERTIES = ("n += r.props, n.stub = false, n.account_id = r.account_id, n.brand_id = r.brand_id, "
                    f"n.posted_at = {T('r.posted_at')}")
_COMMENT_PROPERTIES = ("c += r.props, c.stub = false, c.account_id = r.account_id, c.note_id = r.note_id, "
                       f"c.device_id = r.device_id, c.ip = r.ip, c.created_at = {T('r.created_at')}")

NOTES = Writer(
    "notes",
    ('note_id',),
    f"""
    UNWIND $rows AS r
    MATCH (a:Account {{account_id: r.account_id}})
    MERGE (n:Note {{note_id: r.note_id}})
    SET {_NOTE_PROPERTIES}
    MERGE (a)-[:POSTED]->(n)
    FOREACH (_ IN CASE WHEN r.brand_id IS NULL THEN [] ELSE [1] END |
        MERGE (b:Brand {{brand_id: r.brand_id}})
        MERGE (n)-[:PROMOTES]->(b))
    """,
    references=(Reference("account_id", "Account"), Reference("brand_id", "Brand")),
    shape=_with_props("notes"),
    new_rows=NewRows("Note", f"""
    UNWIND $rows AS r
    MATCH (a:Account {{account_id: r.account_id}})
    OPTIONAL MATCH (b:Brand {{brand_id: r.brand_id}})
    CREATE (a)-[:POSTED]->(n:Note {{note_id: r.note_id}})
    SET {_NOTE_PROPERTIES}
    {_linked("b", "(n)-[:PROMOTES]->(b)")}
    """),
)

COMMENTS = Writer(
    "comments",
    ('comment_id',),
    f"""
    UNWIND $rows AS r
    MATCH (a:Account {{account_id: r.account_id}})
    MATCH (n:Note {{note_id: r.note_id}})
    MERGE (c:Comment {{comment_id: r.comment_id}})
    SET {_COMMENT_PROPERTIES}
    MERGE (a)-[:WROTE]->(c)
    MERGE (c)-[:ON]->(n)
    FOREACH (_ IN CASE WHEN r.device_id IS NULL THEN [] ELSE [1] END |
        MERGE (d:Device {{device_id: r.device_id}})
        MERGE (c)-[:FROM_DEVICE]->(d))
    FOREACH (_ IN CASE WHEN r.ip IS NULL THEN [] ELSE [1] END |
        MERGE (ip:IP {{ip: r.ip}})
        MERGE (c)-[:FROM_IP]->(ip))
    """,
    references=(Reference("account_id", "Account"), Reference("note_id", "Note"),
                Reference("device_id", "Device")),
    shape=_with_props("comments"),
    preludes=(_identifiers("IP", "ip"),),
    new_rows=NewRows("Comment", f"""
    UNWIND $rows AS r
    MATCH (a:Account {{account_id: r.account_id}})
    MATCH (n:Note {{note_id: r.note_id}})
    OPTIONAL MATCH (d:Device {{device_id: r.device_id}})
    OPTIONAL MATCH (ip:IP {{ip: r.ip}})
    CREATE (a)-[:WROTE]->(c:Comment {{comment_id: r.comment_id}})-[:ON]->(n)
    SET {_COMMENT_PROPERTIES}
    {_linked("d", "(c)-[:FROM_DEVICE]->(d)")}
    {_linked("ip", "(c)-[:FROM_IP]->(ip)")}
    """),
)

# Replies are linked after every comment of the file exists, so a reply to a
# comment further down the file is not mistaken for a dangling reference.
COMMENT_REPLIES = Writer(
    "comments:replies",
    ('comment_id',),
    """
    UNWIND $rows AS r
    MATCH (c:Comment {comment_id: r.comment_id})
    MATCH (p:Comment {comment_id: r.reply_to})
    MERGE (c)-[:REPLIES_TO]->(p)
    SET c.reply_to = r.reply_to
    """,
    references=(Reference("reply_to", "Comment"),),
)

ORDERS = Writer(
    "orders",
    ('order_id',),
    f"""
    UNWIND $rows AS r
    MATCH (b:Brand {{brand_id: r.brand_id}})
    MERGE (o:Order {{order_id: r.order_id}})
    SET o += r.props, o.stub = false, o.brand_id = r.brand_id, o.intermediary_id = r.intermediary_id,
        o.account_id = r.account_id, o.note_id = r.note_id, o.placed_at = {T("r.placed_at")}
    MERGE (o)-[:PLACED_BY]->(b)
    FOREACH (_ IN CASE WHEN r.intermediary_id IS NULL THEN [] ELSE [1] END |
        MERGE (i:Intermediary {{intermediary_id: r.intermediary_id}})
        MERGE (o)-[:TAKEN_BY]->(i))
    FOREACH (_ IN CASE WHEN r.account_id IS NULL THEN [] ELSE [1] END |
        MERGE (a:Account {{account_id: r.account_id}})
        MERGE (o)-[:ASSIGNED_TO]->(a))
    FOREACH (_ IN CASE WHEN r.note_id IS NULL THEN [] ELSE [1] END |
        MERGE (n:Note {{note_id: r.note_id}})
        MERGE (o)-[:FOR_NOTE]->(n))
    """,
    references=(Reference("brand_id", "Brand"), Reference("intermediary_id", "Intermediary"),
                Reference("account_id", "Account"), Reference("note_id", "Note")),
    shape=_with_props("orders"),
)

ACCOUNT_DEVICES = Writer(
    "account_devices",
    ('account_id', 'device_id'),
    f"""
    UNWIND $rows AS r
    MATCH (a:Account {{account_id: r.account_id}})
    MATCH (d:Device {{device_id: r.device_id}})
    MERGE (a)-[u:USED_DEVICE]->(d)
    SET u.first_seen = {T('r.first_seen')}, u.last_seen = {T('r.last_seen')}
    """,
    references=(Reference("account_id", "Account"), Reference("device_id", "Device")),
    shape=_times("account_devices"),
    lock_order="device_id",
)

ACCOUNT_IPS = Writer(
    "account_ips",
    ('account_id', 'ip'),
    f"""
    UNWIND $rows AS r
    MATCH (a:Account {{account_id: r.account_id}})
    MERGE (ip:IP {{ip: r.ip}})
    MERGE (a)-[l:LOGGED_IN_FROM]->(ip)
    SET l.first_seen = {T('r.first_seen')}, l.last_seen = {T('r.last_seen')}
    """,
    references=(Reference("account_id", "Account"),),
    shape=_times("account_ips"),
    lock_order="ip",
)

INTERMEDIARY_ACCOUNTS = Writer(
    "intermediary_accounts",
    ('intermediary_id', 'account_id'),
    f"""
    UNWIND $rows AS r
    MATCH (i:Intermediary {{intermediary_id: r.intermediary_id}})
    MATCH (a:Account {{account_id: r.account_id}})
    MERGE (i)-[m:MANAGES]->(a)
    SET m.since = {T('r.since')}
    """,
    references=(Reference("intermediary_id", "Intermediary"), Reference("account_id", "Account")),
    shape=_times("intermediary_accounts"),
    lock_order="intermediary_id",
)

LIKES = Writer(
    "likes",
    ('account_id', 'note_id'),
    f"""
    UNWIND $rows AS r
    MATCH (a:Account {{account_id: r.account_id}})
    MATCH (n:Note {{note_id: r.note_id}})
    MERGE (a)-[l:LIKED]->(n)
    SET l.created_at = {T('r.created_at')}
    """,
    references=(Reference("account_id", "Account"), Reference("note_id", "Note")),
    shape=_times("likes"),
    lock_order="note_id",
)

FOLLOWS = Writer(
    "follows",
    ('account_id', 'target_account_id'),
    f"""
    UNWIND $rows AS r
    MATCH (a:Account {{account_id: r.account_id}})
    MATCH (t:Account {{account_id: r.target_account_id}})
    MERGE (a)-[f:FOLLOWS]->(t)
    SET f.created_at = {T('r.created_at')}
    """,
    references=(Reference("account_id", "Account"), Reference("target_account_id", "Account")),
    shape=_times("follows"),
    lock_order="target_account_id",
)


def _targeted(stem: str, targets: dict[str, str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The shape of a row naming its target by type and id (sanctions, reports): the target's id under
    ``target_<Label>``, so the reference to it (and the stub when it is missing) has its label."""
    def shape(row: dict[str, Any]) -> dict[str, Any]:
        label = targets[row["target_type"]]
        return {**_epoch_ms(stem, row), "props": _props(stem, row), f"target_{label}": row["target_id"]}
    return shape


def _attach_to_target(node: str, rel: str, targets: dict[str, str]) -> list[str]:
    """One FOREACH per target type: Cypher cannot take a label as a parameter, and the label comes from the
    validated ``target_type``, never from free text."""
    return [f"FOREACH (_ IN CASE WHEN r.target_type = '{t}' THEN [1] ELSE [] END |"
            f" MERGE (x:{label} {{{key_of(label)}: r.target_id}}) MERGE ({node})-[:{rel}]->(x))"
            for t, label in targets.items()]


# One statement per target label: Cypher cannot take a label as a parameter,
# and the label comes from the validated target_type, never from free text.
# A sanction ringscope made is never touched (the WHERE), even were its id to reach here.
SANCTIONS = Writer(
    "sanctions",
    ('sanction_id',),
    "\n".join(
        [
            "UNWIND $rows AS r",
            "MERGE (s:Sanction {sanction_id: r.sanction_id})",
            "ON CREATE SET s.source = 'import'",
            "WITH s, r WHERE coalesce(s.source, 'import') = 'import'",
            "SET s += r.props, s.stub = false, s.source = 'import',",
            f"    s.issued_at = {T('r.issued_at')}, s.expires_at = {T('r.expires_at')}",
            "WITH s, r",
        ]
        + _attach_to_target("s", "TARGETS", SANCTION_TARGETS)
    ),
    references=tuple(Reference(f"target_{label}", label) for label in SANCTION_TARGETS.values()),
    shape=_targeted("sanctions", SANCTION_TARGETS),
)

# The reports file (an extension): a Report node, the account that filed it, what it is against.
REPORTS = Writer(
    "reports",
    ('report_id',),
    "\n".join(
        [
            "UNWIND $rows AS r",
            "MERGE (p:Report {report_id: r.report_id})",
            f"SET p += r.props, p.stub = false, p.created_at = {T('r.created_at')}",
            "WITH p, r",
            "MATCH (a:Account {account_id: r.reporter_account_id})",
            "MERGE (a)-[:FILED]->(p)",
            "WITH p, r",
        ]
        + _attach_to_target("p", "AGAINST", REPORT_TARGETS)
    ),
    references=(Reference("reporter_account_id", "Account"),
                *(Reference(f"target_{label}", label) for label in REPORT_TARGETS.values())),
    shape=_targeted("reports", REPORT_TARGETS),
)

def trending_entry_id(topic: str, captured_at_ms: int) -> str:
    """The key of a trending entry (one topic in one capture of the list): ``topic@epoch-milliseconds``. The bulk
    path makes the same text in SQL (``ingest.shape.DERIVED_KEYS``). O(1)."""
    return f"{topic}@{captured_at_ms}"


def _trending_row(row: dict[str, Any]) -> dict[str, Any]:
    shaped = _with_props("trending")(row)
    shaped["props"].pop("entry_id", None)  # a kept column of that name never replaces the key
    return {**shaped, "entry_id": trending_entry_id(row["topic"], shaped["captured_at"])}


# The trending file (an extension): one TrendingEntry node per topic and capture, no relationships (what links
# an entry to the platform is its topic, which notes carry in their ``topics`` list).
TRENDING = Writer(
    "trending",
    ('topic', 'captured_at'),
    f"""
    UNWIND $rows AS r
    MERGE (e:TrendingEntry {{entry_id: r.entry_id}})
    SET e += r.props, e.captured_at = {T('r.captured_at')}
    """,
    shape=_trending_row,
)

LABELS = Writer(
    "labels",
    ('account_id',),
    """
    UNWIND $rows AS r
    MERGE (g:GroundTruth {account_id: r.account_id})
    SET g += r.props
    """,
    shape=_with_props("labels"),
)

WRITERS: dict[str, Writer] = {
    w.stem: w
    for w in (ACCOUNTS, DEVICES, BRANDS, INTERMEDIARIES, NOTES, COMMENTS, ORDERS,
              ACCOUNT_DEVICES, ACCOUNT_IPS, INTERMEDIARY_ACCOUNTS, LIKES, FOLLOWS,
              SANCTIONS, REPORTS, TRENDING, LABELS)
}


def stub_cypher(reference: Reference) -> str:
    """MERGE the referenced ids; ``nodes_created`` counts the stubs this made."""
    key = key_of(reference.label)
    return (
        f"UNWIND $ids AS id MERGE (x:{reference.label} {{{key}: id}}) "
        "ON CREATE SET x.stub = true"
    )


# Never moves back: with several writers a batch that commits later may carry a smaller value.
CHECKPOINT_CYPHER = """
MERGE (c:IngestCheckpoint {key: $key})
SET c.file = $file,
    c.rows_done = CASE WHEN c.rows_done > $rows_done THEN c.rows_done ELSE $rows_done END
"""

READ_CHECKPOINT = "OPTIONAL MATCH (c:IngestCheckpoint {key: $key}) RETURN c.rows_done AS rows_done"


@dataclass
class BatchOutcome:
    stubs: int = 0
    server_ms: int = 0  # time Neo4j reported for the batch's statements


def existing_keys_cypher(label: str) -> str:
    """Which of ``$ids`` are keys of ``label`` nodes already (stubs included)."""
    return f"UNWIND $ids AS id MATCH (x:{label} {{{key_of(label)}: id}}) RETURN collect(id) AS ids"


def split_new(tx: Transaction, new_rows: NewRows, rows: list[dict[str, Any]]) -> tuple[list, list]:
    """The rows whose key is not in the graph and appears once in ``rows``, and the others (in order)."""
    key = key_of(new_rows.label)
    seen = Counter(row[key] for row in rows)
    existing = set(tx.rows(existing_keys_cypher(new_rows.label), ids=list(seen))[0]["ids"])
    new, others = [], []
    for row in rows:
        (new if seen[row[key]] == 1 and row[key] not in existing else others).append(row)
    return new, others


def write_batch(tx: Transaction, writer: Writer, rows: list[dict[str, Any]], checkpoint: dict[str, Any] | None,
                merge_only: bool = False) -> BatchOutcome:
    """Write one batch in one transaction (with its checkpoint).

    Runs inside a managed transaction, so a transient error (a deadlock, a
    leader switch) retries the whole batch, checkpoint included. ``merge_only``
    writes every row with the MERGE statement (after a CREATE met a key another
    writer had just made).
    """
    outcome = BatchOutcome()

    def run(cypher: str, **params: Any) -> Counters:
        counters = tx.execute(cypher, **params)
        outcome.server_ms += counters.server_ms
        return counters

    shaped = [writer.shape(row) for row in rows]
    if writer.lock_order is not None:
        shaped.sort(key=lambda row: row[writer.lock_order])
    # References are read from the shaped rows: a sanction's target is a column only after shaping
    # (target_<Label>), and reading the raw rows made its missing targets plain nodes, not stubs.
    for reference in writer.references:
        ids = distinct(shaped, reference.column)
        if ids:
            outcome.stubs += run(stub_cypher(reference), ids=ids).nodes_created
    for prelude in writer.preludes:
        values = prelude.values(shaped)
        if values:
            run(prelude.cypher, ids=values)
    if writer.new_rows is not None and not merge_only:
        new, shaped = split_new(tx, writer.new_rows, shaped)
        if new:
            run(writer.new_rows.cypher, rows=new)
    if shaped:
        run(writer.cypher, rows=shaped)
    if checkpoint is not None:
        run(CHECKPOINT_CYPHER, **checkpoint)
    return outcome
