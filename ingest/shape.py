"""The graph the transactional writers would build, computed at once from staged rows (for the bulk path).

``writers.py`` loads row by row with ``MERGE`` and ``SET``; this module
replays the end state of those statements over the whole dataset with
DuckDB, out of core, and writes it as the CSV files Neo4j's importer reads.
What a statement leaves, and the SQL that gives the same:

- ``SET n += r.props`` (the row's non-empty property columns): each property
  holds the **last non-empty** value in load order -> ``arg_max(p, ord)
  FILTER (p IS NOT NULL)``.
- ``SET n.x = r.x`` (an explicit set, e.g. ``note.brand_id``, a timestamp):
  the **last row's** value, empty included (setting null removes) ->
  ``arg_max_null(x, ord)``; ``status`` and ``source`` keep an earlier value
  (``coalesce``) and fall back to ``'active'``/``'import'``.
- ``MERGE (a)-[:R]->(b)`` with ``SET r.p = ...``: one relationship per
  endpoint pair, its properties from the pair's last row.
- ``MERGE (x {key}) ON CREATE SET x.stub = true`` for every referenced id
  before a batch: a **stub** for an id referenced but defined by no file,
  counted against the file that referenced it first (and only if no file
  had defined it by then, as the transactional path counts).

Load order is the position of a file in ``discover`` (``LOAD_ORDER``) and of
a row among the file's valid rows. A file's references come before its own
definitions, and reply links after them (they are written after the whole
file). The test ``tests/ingest/test_bulk.py`` compares every node and
relationship, with every property, against the transactional load.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import duckdb
import pyarrow as pa

from ringscope.common.errors import RingscopeError
from ringscope.graph.model import REPORT_TARGETS, SANCTION_TARGETS
from ringscope.graph.server.local import ImportFiles
from ringscope.ingest import snapshot
from ringscope.ingest.spec import SPECS, TOPIC_SEPARATOR, FileSpec

ORDER_SPAN = 10 ** 12  # rows per file, at most, in the load-order number (file * span + row)
_ARROW = {"id": pa.string(), "text": pa.string(), "enum": pa.string(), "count": pa.int64(), "bool": pa.bool_(),
          "ts": pa.int64(), "topics": pa.list_(pa.string())}
_IMPORT_TYPE = {"id": "string", "text": "string", "enum": "string", "count": "long", "bool": "boolean",
                "ts": "datetime", "topics": "string[]", "string": "string", "int64": "long", "double": "double",
                "bool_arrow": "boolean"}


@dataclass(frozen=True)
class StagedFile:
    order: int  # position among the dataset's files, in load order
    stem: str
    path: str  # the data file, as the summary names it
    checkpoint: str  # the transactional path's checkpoint key for this file
    folder: Path  # its valid rows as Parquet parts
    extra_types: dict[str, str]  # kept unknown columns -> arrow type
    rows: int  # valid rows
    replies: int  # comments with a reply_to


@dataclass
class ImportBuild:
    files: ImportFiles
    stubs_by_file: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    frames: dict[str, int] | None = None  # rows per detection frame written to the snapshot folder, if asked
    frames_seconds: float = 0.0


def epoch_ms(value: dt.datetime) -> int:
    """As the transactional writers send timestamps (``writers._epoch_ms``)."""
    return int(value.timestamp() * 1000)


def arrow_column(kind: str, values: list[Any]) -> pa.Array:
    """One staged column of validated values (timestamps as epoch milliseconds)."""
    if kind == "ts":
        values = [None if v is None else epoch_ms(v) for v in values]
    return pa.array(values, _ARROW[kind])


HEADER_SYNTAX = ':,"\n\r{}()'  # characters the importer's header reads as syntax, never as a name


def extra_column(name: str, values: list[Any]) -> pa.Array:
    """A kept unknown column: one Neo4j property type for the whole column (checked by the caller)."""
    # The importer's header reads ``name:type{options}`` (and ``:ID(group)``): these characters in a name
    # would be read as syntax (a fuzzed column ``ð{Mv`` made it fail "Expected a closing '}'").
    if any(ch in name for ch in HEADER_SYNTAX):
        raise BulkNotPossible(f"the kept unknown column {name!r} has a character the importer's header "
                                  "cannot carry; load this dataset with --mode incremental")
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, pa.int64())
    if present and all(isinstance(v, float) for v in present):
        return pa.array(values, pa.float64())
    if present and not all(isinstance(v, str) for v in present):
        raise BulkNotPossible(f"the kept unknown column {name!r} mixes value types in one file; load this "
                                  "dataset with --mode incremental")
    return pa.array(values, pa.string())


class BulkNotPossible(RingscopeError):
    """The bulk path cannot load this dataset here; the message says why and what to do instead."""


# --- what each kind of file defines ------------------------------------------------------------------------

def _last(column: str) -> str:
    return f"arg_max_null({column}, _ord)"


@dataclass(frozen=True)
class NodeShape:
    label: str
    stem: str  # the file whose rows define these nodes
    key: str
    stub: bool = True  # carries a stub flag (identifier nodes and ground truth do not)
    # explicit SETs of the writer: property -> SQL over the defining rows
    explicit: dict[str, str] = field(default_factory=dict)


NODE_SHAPES: tuple[NodeShape, ...] = (
    NodeShape("Account", "accounts", "account_id", explicit={
        "registered_at": _last("registered_at"),
        "status": "coalesce(arg_max(status, _ord) FILTER (WHERE status IS NOT NULL), 'active')"}),
    NodeShape("Device", "devices", "device_id"),
    NodeShape("Brand", "brands", "brand_id"),
    NodeShape("Intermediary", "intermediaries", "intermediary_id"),
    NodeShape("Note", "notes", "note_id", explicit={
        "account_id": _last("account_id"), "brand_id": _last("brand_id"), "posted_at": _last("posted_at")}),
    NodeShape("Comment", "comments", "comment_id", explicit={
        "account_id": _last("account_id"), "note_id": _last("note_id"), "device_id": _last("device_id"),
        "ip": _last("ip"), "created_at": _last("created_at"),
        # written by the reply links after the file (COMMENT_REPLIES): the last reply_to given
        "reply_to": "arg_max(reply_to, _ord) FILTER (WHERE reply_to IS NOT NULL)"}),
    NodeShape("Order", "orders", "order_id", explicit={
        "brand_id": _last("brand_id"), "intermediary_id": _last("intermediary_id"),
        "account_id": _last("account_id"), "note_id": _last("note_id"), "placed_at": _last("placed_at")}),
    NodeShape("Sanction", "sanctions", "sanction_id", explicit={
        "issued_at": _last("issued_at"), "expires_at": _last("expires_at")}),
    NodeShape("Report", "reports", "report_id", explicit={"created_at": _last("created_at")}),
    NodeShape("TrendingEntry", "trending", "entry_id", stub=False, explicit={"captured_at": _last("captured_at")}),
    NodeShape("GroundTruth", "labels", "account_id", stub=False),
)

# Keys a file does not hold but the writer makes from its columns (``writers.trending_entry_id``), as SQL over
# the staged row (timestamps are epoch milliseconds there, as the writer sends them).
DERIVED_KEYS: dict[str, tuple[str, str]] = {
    "trending": ("entry_id", "topic || '@' || CAST(captured_at AS VARCHAR)"),
}

# Ids referenced by a column of a file (the writers' ``references``): (stem, SQL of the id, label).
def _target_refs(stem: str, targets: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
    """A file naming its target by type and id (sanctions, reports): one reference per target label."""
    return tuple((stem, f"CASE WHEN target_type = '{t}' THEN target_id END", label) for t, label in targets.items())


_SANCTION_REFS = _target_refs("sanctions", SANCTION_TARGETS)
_REPORT_REFS = (("reports", "reporter_account_id", "Account"),) + _target_refs("reports", REPORT_TARGETS)
REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("notes", "account_id", "Account"), ("notes", "brand_id", "Brand"),
    ("comments", "account_id", "Account"), ("comments", "note_id", "Note"), ("comments", "device_id", "Device"),
    ("orders", "brand_id", "Brand"), ("orders", "intermediary_id", "Intermediary"),
    ("orders", "account_id", "Account"), ("orders", "note_id", "Note"),
    ("account_devices", "account_id", "Account"), ("account_devices", "device_id", "Device"),
    ("account_ips", "account_id", "Account"),
    ("intermediary_accounts", "intermediary_id", "Intermediary"), ("intermediary_accounts", "account_id", "Account"),
    ("likes", "account_id", "Account"), ("likes", "note_id", "Note"),
    ("follows", "account_id", "Account"), ("follows", "target_account_id", "Account"),
) + _SANCTION_REFS + _REPORT_REFS
# Reply links are written after the whole comments file: their stubs come after its definitions.
REPLY_REFERENCE = ("comments", "reply_to", "Comment")

# Identifier nodes (no file of their own, never stubs): label, key, [(stem, column)].
IDENTIFIERS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("IP", "ip", (("accounts", "registration_ip"), ("comments", "ip"), ("account_ips", "ip"))),
    ("Phone", "phone_hash", (("accounts", "phone_hash"),)),
    ("PhoneSegment", "segment", (("accounts", "phone_segment"),)),
)


@dataclass(frozen=True)
class RelShape:
    type: str
    stem: str
    start: tuple[str, str]  # (label, SQL of the id)
    end: tuple[str, str]
    props: tuple[tuple[str, str], ...] = ()  # (property, ts column): the pair's last row's value
    where: str = ""  # extra condition beyond both ends being present


def _to_targets(rel: str, stem: str, start: tuple[str, str], targets: dict[str, str]) -> tuple[RelShape, ...]:
    return tuple(RelShape(rel, stem, start, (label, f"CASE WHEN target_type = '{t}' THEN target_id END"))
                 for t, label in targets.items())


_TARGETS = _to_targets("TARGETS", "sanctions", ("Sanction", "sanction_id"), SANCTION_TARGETS)
_REPORTS = (RelShape("FILED", "reports", ("Account", "reporter_account_id"), ("Report", "report_id")),
            *_to_targets("AGAINST", "reports", ("Report", "report_id"), REPORT_TARGETS))
REL_SHAPES: tuple[RelShape, ...] = (
    RelShape("REGISTERED_FROM", "accounts", ("Account", "account_id"), ("IP", "registration_ip")),
    RelShape("HAS_PHONE", "accounts", ("Account", "account_id"), ("Phone", "phone_hash")),
    RelShape("IN_PHONE_SEGMENT", "accounts", ("Account", "account_id"), ("PhoneSegment", "phone_segment")),
    RelShape("IN_SEGMENT", "accounts", ("Phone", "phone_hash"), ("PhoneSegment", "phone_segment")),
    RelShape("POSTED", "notes", ("Account", "account_id"), ("Note", "note_id")),
    RelShape("PROMOTES", "notes", ("Note", "note_id"), ("Brand", "brand_id")),
    RelShape("WROTE", "comments", ("Account", "account_id"), ("Comment", "comment_id")),
    RelShape("ON", "comments", ("Comment", "comment_id"), ("Note", "note_id")),
    RelShape("FROM_DEVICE", "comments", ("Comment", "comment_id"), ("Device", "device_id")),
    RelShape("FROM_IP", "comments", ("Comment", "comment_id"), ("IP", "ip")),
    RelShape("REPLIES_TO", "comments", ("Comment", "comment_id"), ("Comment", "reply_to")),
    RelShape("PLACED_BY", "orders", ("Order", "order_id"), ("Brand", "brand_id")),
    RelShape("TAKEN_BY", "orders", ("Order", "order_id"), ("Intermediary", "intermediary_id")),
    RelShape("ASSIGNED_TO", "orders", ("Order", "order_id"), ("Account", "account_id")),
    RelShape("FOR_NOTE", "orders", ("Order", "order_id"), ("Note", "note_id")),
    RelShape("USED_DEVICE", "account_devices", ("Account", "account_id"), ("Device", "device_id"),
             (("first_seen", "first_seen"), ("last_seen", "last_seen"))),
    RelShape("LOGGED_IN_FROM", "account_ips", ("Account", "account_id"), ("IP", "ip"),
             (("first_seen", "first_seen"), ("last_seen", "last_seen"))),
    RelShape("MANAGES", "intermediary_accounts", ("Intermediary", "intermediary_id"), ("Account", "account_id"),
             (("since", "since"),)),
    RelShape("LIKED", "likes", ("Account", "account_id"), ("Note", "note_id"), (("created_at", "created_at"),)),
    RelShape("FOLLOWS", "follows", ("Account", "account_id"), ("Account", "target_account_id"),
             (("created_at", "created_at"),)),
) + _TARGETS + _REPORTS

_DATETIME = "strftime(epoch_ms({0}), '%Y-%m-%dT%H:%M:%S.%gZ[UTC]')"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _spec_type(spec: FileSpec, column: str) -> str:
    return next(c.kind for c in spec.columns if c.name == column)


def _empty_view(spec: FileSpec) -> str:
    sql_type = {"id": "VARCHAR", "text": "VARCHAR", "enum": "VARCHAR", "count": "BIGINT", "bool": "BOOLEAN",
                "ts": "BIGINT", "topics": "VARCHAR[]"}
    cols = ", ".join(f"NULL::{sql_type[c.kind]} AS {_quote(c.name)}" for c in spec.columns)
    if spec.stem in DERIVED_KEYS:
        cols += f", NULL::VARCHAR AS {_quote(DERIVED_KEYS[spec.stem][0])}"
    return f"SELECT NULL::BIGINT AS _file, NULL::BIGINT AS _ord, {cols} WHERE false"


def build_import_files(staged: list[StagedFile], staging: Path, memory: str,
                       log: Callable[[str], None] = lambda text: None, ids: str = "actual",
                       frames: Path | None = None) -> ImportBuild:
    """Shape the staged rows into the importer's node and relationship files under ``staging/import``.

    ``ids="actual"`` (the bulk path) numbers the nodes here and writes relationships between those
    numbers, so the importer keeps no map from key to node (measured at 1 M accounts: the string-id
    lookups were most of the importer's relationship stage, ~15x slower than actual ids). The keys
    stay ordinary string properties, as with ``ids="string"`` (keys in named id spaces, the form the
    plain-statement baseline reads).

    With ``frames``, what detection reads is also written there, from the same tables (``snapshot.py``)."""
    if ids not in ("actual", "string"):
        raise ValueError(f"ids must be 'actual' or 'string', not {ids!r}")
    out = staging / "import"
    out.mkdir(parents=True, exist_ok=True)
    database, _, spill = scratch(staging)
    con = duckdb.connect(str(database))
    try:
        con.execute(f"SET memory_limit = '{memory.upper()}B'" if memory[-1].isalpha() else
                    f"SET memory_limit = '{memory}'")
        con.execute(f"SET temp_directory = {_sql_str(str(spill))}")
        con.execute("SET preserve_insertion_order = false")
        build = _build(con, staged, out, log, ids)
        if frames is not None:
            started = time.monotonic()
            build.frames = snapshot.write_frames(con, lambda rel_type, end: pairs_sql(_rel_shape(rel_type, end)),
                                                 frames)
            build.frames_seconds = time.monotonic() - started
            log(f"wrote the detection snapshot ({sum(build.frames.values()):,} rows, {build.frames_seconds:.1f} s)")
        return build
    finally:
        con.close()


def scratch(staging: Path) -> tuple[Path, ...]:
    """What ``build_import_files`` leaves under ``staging`` besides its output (``import/``, the frames):
    DuckDB's database file, its write-ahead log and its spill folder."""
    return staging / "shape.duckdb", staging / "shape.duckdb.wal", staging / "spill"


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _build(con: duckdb.DuckDBPyConnection, staged: list[StagedFile], out: Path,
           log: Callable[[str], None], ids: str) -> ImportBuild:
    by_stem: dict[str, list[StagedFile]] = {}
    for stage in staged:
        by_stem.setdefault(stage.stem, []).append(stage)
    extras: dict[str, dict[str, str]] = {}
    for stem, spec in SPECS.items():
        stages = by_stem.get(stem, [])
        derived = "".join(f", {sql} AS {_quote(name)}" for name, sql in [DERIVED_KEYS[stem]]) \
            if stem in DERIVED_KEYS else ""
        parts = [f"SELECT {s.order}::BIGINT AS _file, {s.order}::BIGINT * {ORDER_SPAN} + _row AS _ord, * "
                 f"EXCLUDE (_row){derived} FROM read_parquet({_sql_str(str(s.folder / '*.parquet'))})"
                 for s in stages]
        con.execute(f"CREATE VIEW v_{stem} AS " + (" UNION ALL BY NAME ".join(parts) if parts
                                                  else _empty_view(spec)))
        merged: dict[str, str] = {}
        for s in stages:
            merged.update(s.extra_types)
        extras[stem] = merged
    path_of = {s.order: s.path for s in staged}

    # Every definition and reference, with its position in the load.
    defs = [f"SELECT '{n.label}' AS label, {n.key} AS id, min(_file * 4 + 2) AS pos FROM v_{n.stem} GROUP BY 1, 2"
            for n in NODE_SHAPES if n.stub]
    refs = [f"SELECT '{label}' AS label, {expr} AS id, _file * 4 + 1 AS pos, _file FROM v_{stem} "
            f"WHERE {expr} IS NOT NULL" for stem, expr, label in REFERENCES]
    stem, column, label = REPLY_REFERENCE
    refs.append(f"SELECT '{label}' AS label, {column} AS id, _file * 4 + 3 AS pos, _file FROM v_{stem} "
                f"WHERE {column} IS NOT NULL")
    con.execute("CREATE TABLE defs AS SELECT label, id, min(pos) AS pos FROM (" + " UNION ALL ".join(defs) +
                ") GROUP BY label, id")
    con.execute("CREATE TABLE refs AS SELECT label, id, min(pos) AS pos, arg_min(_file, pos) AS file FROM (" +
                " UNION ALL ".join(refs) + ") GROUP BY label, id")
    # A stub is created when an id is referenced before any file defined it; it stays one if none ever does.
    con.execute("CREATE TABLE stubs_made AS SELECT r.label, r.id, r.file, d.pos IS NULL AS still_stub "
                "FROM refs r LEFT JOIN defs d USING (label, id) WHERE d.pos IS NULL OR r.pos < d.pos")
    stubs_by_file = {path_of[f]: n for f, n in con.execute(
        "SELECT file, count(*) FROM stubs_made GROUP BY file").fetchall()}

    build = ImportBuild(ImportFiles((), (), out / "import.report", id_type=ids), stubs_by_file)
    numbered = _NodeIds(con) if ids == "actual" else None
    nodes, rels = [], []
    rows: dict[Path, int] = {}
    for shape in NODE_SHAPES:
        path = out / f"nodes-{shape.label}.csv"
        count = _write_nodes(con, shape, extras[shape.stem], path, numbered)
        if count:
            nodes.append(path)
            rows[path] = count
            build.nodes[shape.label] = count
    for label, key, sources in IDENTIFIERS:
        path = out / f"nodes-{label}.csv"
        union = " UNION ".join(f"SELECT {col} AS id FROM v_{stem} WHERE {col} IS NOT NULL" for stem, col in sources)
        query = (f"SELECT DISTINCT id AS {_quote(_id_header(key, label, numbered))}, '{label}' AS \":LABEL\" "
                 f"FROM ({union})")
        count = numbered.copy(query, label, key, path) if numbered else _copy(con, query, path)
        if count:
            nodes.append(path)
            rows[path] = count
            build.nodes[label] = count
    for rel in REL_SHAPES:
        path = out / f"rels-{rel.type}-{rel.end[0]}.csv"
        count = _write_rels(con, rel, path, numbered)
        if count:
            rels.append(path)
            rows[path] = count
            build.relationships[rel.type] = build.relationships.get(rel.type, 0) + count
    multiline = tuple(path for path in nodes + rels if holds_line_breaks(path, rows[path]))
    build.files = ImportFiles(tuple(nodes), tuple(rels), out / "import.report", id_type=ids, multiline=multiline)
    log(f"shaped {sum(build.nodes.values()):,} nodes and {sum(build.relationships.values()):,} relationships")
    return build


class _NodeIds:
    """The store's node ids, handed out here for ``--id-type=actual``: each label's nodes get the next
    block of numbers, and ``ids_<label>(id, nid)`` keeps key -> number for the relationship files."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con, self.next = con, 0

    def copy(self, query: str, label: str, key: str, path: Path) -> int:
        """Write ``query``'s nodes (its key column as ``<key>:string``) with ``:ID`` numbers first."""
        table, key_column = f"numbered_{label}", _quote(f"{key}:string")
        self.con.execute(f"CREATE TABLE {table} AS SELECT {self.next} + row_number() OVER () - 1 AS \":ID\", * "
                         f"FROM ({query})")
        count = _copy(self.con, f"SELECT * FROM {table}", path)
        # Only key -> number is needed from here on; the properties are in the file.
        self.con.execute(f"CREATE TABLE ids_{label} AS SELECT {key_column} AS id, \":ID\" AS nid FROM {table}")
        self.con.execute(f"DROP TABLE {table}")
        self.next += count
        return count

    def table(self, label: str) -> str:
        """``ids_<label>``, empty if no node of ``label`` was written."""
        self.con.execute(f"CREATE TABLE IF NOT EXISTS ids_{label} (id VARCHAR, nid BIGINT)")
        return f"ids_{label}"


def _id_header(key: str, label: str, numbered: _NodeIds | None) -> str:
    """The key column's header: a plain string property beside ``:ID``, or the id in the label's space."""
    return f"{key}:string" if numbered else f"{key}:ID({label})"


def _write_nodes(con: duckdb.DuckDBPyConnection, shape: NodeShape, extras: dict[str, str], path: Path,
                 numbered: _NodeIds | None) -> int:
    spec = SPECS[shape.stem]
    header: list[str] = [f"{_quote(shape.key)} AS {_quote(_id_header(shape.key, shape.label, numbered))}"]
    columns: list[tuple[str, str, str]] = []  # (property, aggregate SQL, import type)
    props = [c for c in spec.columns if c.prop and c.kind != "ts" and c.name != shape.key]
    for c in props:
        if c.name in shape.explicit:
            continue
        columns.append((c.name, f"arg_max({_quote(c.name)}, _ord) FILTER (WHERE {_quote(c.name)} IS NOT NULL)",
                        _IMPORT_TYPE[c.kind]))
    for name, arrow_type in sorted(extras.items()):
        if name in shape.explicit or name == "stub" or name == shape.key:
            continue  # the writer's explicit SET (or the key) wins over a kept column of the same name
        x = _quote(f"x_{name}")
        agg = f"arg_max({x}, _ord) FILTER (WHERE {x} IS NOT NULL)"
        if shape.label == "Sanction" and name == "source":
            continue  # handled with the explicit coalesce below
        columns.append((name, agg, {"string": "string", "int64": "long", "double": "double",
                                    "bool": "boolean"}[arrow_type]))
    for name, agg in shape.explicit.items():
        kind = _spec_type(spec, name)
        columns.append((name, agg, _IMPORT_TYPE[kind]))
    if shape.label == "Sanction":
        extra_source = (f"arg_max({_quote('x_source')}, _ord) FILTER (WHERE {_quote('x_source')} IS NOT NULL)"
                        if "source" in extras else "NULL")
        columns.append(("source", f"coalesce({extra_source}, 'import')", "string"))
    aggregates = ", ".join([_quote(shape.key)] + [f"{agg} AS {_quote(name)}" for name, agg, _ in columns])
    con.execute(f"CREATE TABLE n_{shape.label} AS SELECT {aggregates} FROM v_{shape.stem} GROUP BY {_quote(shape.key)}")
    select = list(header)
    for name, _, import_type in columns:
        value = _DATETIME.format(_quote(name)) if import_type == "datetime" else _quote(name)
        if import_type == "string[]":  # the importer's array delimiter (its default, ';'); no item holds one
            value = f"array_to_string({_quote(name)}, '{TOPIC_SEPARATOR}')"
        select.append(f"{value} AS {_quote(f'{name}:{import_type}')}")
    if shape.stub:
        select.append('false AS "stub:boolean"')
    select.append(f"'{shape.label}' AS \":LABEL\"")
    query = f"SELECT {', '.join(select)} FROM n_{shape.label}"
    if shape.stub:
        stub_select = [f"id AS {_quote(_id_header(shape.key, shape.label, numbered))}"]
        stub_select += [f"NULL AS {_quote(f'{name}:{import_type}')}" for name, _, import_type in columns]
        stub_select += ['true AS "stub:boolean"', f"'{shape.label}' AS \":LABEL\""]
        query += (f" UNION ALL SELECT {', '.join(stub_select)} FROM stubs_made "
                  f"WHERE label = '{shape.label}' AND still_stub")
    # n_<label> stays: the detection snapshot is made from it (``snapshot.py``).
    return numbered.copy(query, shape.label, shape.key, path) if numbered else _copy(con, query, path)


def pairs_sql(rel: RelShape, for_import: bool = False) -> str:
    """The relationships of ``rel``: one row per endpoint pair (``_s``, ``_e``: the ends' keys) with its
    properties from the pair's last row, as epoch milliseconds (or, ``for_import``, as the importer's
    datetime text under ``name:datetime`` headers)."""
    (_, start), (_, end) = rel.start, rel.end
    last = [(name, f"arg_max_null({column}, _ord)") for name, column in rel.props]
    props = "".join(f", {_DATETIME.format(value)} AS {_quote(f'{name}:datetime')}" if for_import
                    else f", {value} AS {_quote(name)}" for name, value in last)
    where = f"({start}) IS NOT NULL AND ({end}) IS NOT NULL" + (f" AND {rel.where}" if rel.where else "")
    return f"SELECT ({start}) AS _s, ({end}) AS _e{props} FROM v_{rel.stem} WHERE {where} GROUP BY 1, 2"


def _rel_shape(rel_type: str, end_label: str) -> RelShape:
    return next(r for r in REL_SHAPES if r.type == rel_type and r.end[0] == end_label)


def _write_rels(con: duckdb.DuckDBPyConnection, rel: RelShape, path: Path, numbered: _NodeIds | None) -> int:
    (start_label, _), (end_label, _) = rel.start, rel.end
    pairs = pairs_sql(rel, for_import=True)
    if not numbered:
        query = (f"SELECT _s AS {_quote(f':START_ID({start_label})')}, _e AS {_quote(f':END_ID({end_label})')}, "
                 f"'{rel.type}' AS \":TYPE\", r.* EXCLUDE (_s, _e) FROM ({pairs}) r")
        return _copy(con, query, path)
    # Every end is a node (defined, an identifier or a stub). Were one missing, the outer join leaves its
    # number empty and the importer refuses the relationship (--bad-tolerance=0): loud, never dropped.
    query = (f"SELECT s.nid AS \":START_ID\", e.nid AS \":END_ID\", '{rel.type}' AS \":TYPE\", "
             f"r.* EXCLUDE (_s, _e) FROM ({pairs}) r "
             f"LEFT JOIN {numbered.table(start_label)} s ON s.id = r._s "
             f"LEFT JOIN {numbered.table(end_label)} e ON e.id = r._e")
    return _copy(con, query, path)


def holds_line_breaks(path: Path, rows: int) -> bool:
    """Whether a value in the importer CSV ``path`` (a header and ``rows`` rows, each ending in a line feed)
    holds a line break: then it has more line feeds than lines, or a carriage return. O(file size), about
    a second per gigabyte.

    The importer reads such a file only with multiline fields on, which it says "can severely degrade"
    its speed, and only the files named need it (``--multiline-fields-format=v2``)."""
    feeds = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            if b"\r" in chunk:
                return True
            feeds += chunk.count(b"\n")
    return feeds != rows + 1


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    """Write ``query``'s rows as an importer CSV (header row; quotes doubled; null as an empty field); the
    number of rows. The query runs once (COPY returns its row count); an empty result leaves no file."""
    count = con.execute(f"COPY ({query}) TO {_sql_str(str(path))} "
                        f"(HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"')").fetchone()[0]
    if not count:
        path.unlink(missing_ok=True)
    return count
