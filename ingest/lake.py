"""The platform's lake read without Spark: is entity KIND:ID there, and what is its row (#16).

The lake is the input format as Parquet (``ringscope simulate --format
parquet``, ``ringscope convert ... --format parquet``, a platform's export): a
folder of part files per kind, or one ``<kind>.parquet``. Neo4j holds only
what investigators opened; the app asks this module whether an id the graph
lacks is in the lake, fast enough for a page render, and offers to pull its
neighbourhood (``ringscope ingest --subgraph-of KIND:ID``, on Spark).

**Where a node is** (``PLACES``, plain data, also what ``spark.subgraph``
counts a seed as present by): an account, a device, a note or an
intermediary has a row of its own (``accounts``, ``devices``, ``notes``,
``intermediaries``); a device or an intermediary named only by a link row
(``account_devices``, ``intermediary_accounts``) is there too, and an IP or a
phone hash, which have no file of their own, are there when a login
(``account_ips``), a registration (``accounts.registration_ip``) or an account
(``accounts.phone_hash``) names them. The first place holding the id gives
the row shown.

**How it reads** (pyarrow, no Spark, nothing loaded whole): per file, the
row groups whose statistics may hold the id (pushdown on the id column:
a lake written in id order, as Spark and ``simulate`` write it, has one such
row group per file), of which only the id column is read; the full row only
of the row group that has it, and the search stops at the first match. A
place not in id order (an IP, a phone hash) costs a read of that one column:
~0.1 s for an account, device or note at 1 M and 10 M accounts alike, up to
1.3 s for an IP at 10 M (``benchmarks/results/lake_lookup.md``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from ringscope.common.errors import RingscopeError

NODE_KINDS = ("account", "device", "ip", "phone", "note", "intermediary")


@dataclass(frozen=True)
class Place:
    """Rows of the lake's ``kind`` whose ``column`` holds a node's id; ``own``: the row is the node's own
    (its ``accounts`` row), not a row that names it (a login naming an IP)."""

    kind: str
    column: str
    own: bool


PLACES: dict[str, tuple[Place, ...]] = {
    "account": (Place("accounts", "account_id", True),),
    "device": (Place("devices", "device_id", True), Place("account_devices", "device_id", False)),
    "ip": (Place("account_ips", "ip", False), Place("accounts", "registration_ip", False)),
    "phone": (Place("accounts", "phone_hash", False),),
    "note": (Place("notes", "note_id", True),),
    "intermediary": (Place("intermediaries", "intermediary_id", True),
                     Place("intermediary_accounts", "intermediary_id", False)),
}
assert tuple(PLACES) == NODE_KINDS


class LakeError(RingscopeError):
    """The lake cannot be read (no such place, no accounts, a file that is not Parquet), or a kind it has no
    nodes of."""


@dataclass(frozen=True)
class LakeEntity:
    """Node ``kind``:``id`` as the lake has it: the first ``row`` found (every column as the file has it) in
    the lake's ``found_in`` kind; ``own``: that row is the node's own, not a row naming it. ``seconds``: how
    long the lookup took."""

    kind: str
    id: str
    found_in: str
    row: dict[str, Any]
    own: bool
    seconds: float


def lookup(lake: str, kind: str, entity_id: str) -> LakeEntity | None:
    """``kind``:``entity_id`` in the lake at ``lake`` (a local folder, or a URI pyarrow opens: ``file://``,
    ``s3://``, ``s3a://``, ``gs://``, ``hdfs://``), or None when no place of ``PLACES[kind]`` holds it.
    Reads row-group statistics, the id column of the row groups they do not rule out, and one row group
    whole; O(rows of the id column not ruled out) at worst. Raises ``LakeError`` naming the path for a
    lake that is not there or not Parquet."""
    if kind not in PLACES:
        raise LakeError(f"{kind!r} is not a kind of node the lake is searched for (kinds: {', '.join(NODE_KINDS)})")
    started = time.monotonic()
    filesystem, base = _open(lake)
    for place in PLACES[kind]:
        row = _first_row(filesystem, base, place, str(entity_id))
        if row is not None:
            return LakeEntity(kind, str(entity_id), place.kind, row, place.own, time.monotonic() - started)
    return None


def lookup_any(lake: str, entity_id: str, kinds: tuple[str, ...] = NODE_KINDS) -> list[LakeEntity]:
    """``entity_id`` as a node of each of ``kinds`` the lake holds it as (usually one), in ``kinds`` order:
    an id typed into a search box, kind unknown. ``lookup`` per kind."""
    return [found for kind in kinds if (found := lookup(lake, kind, entity_id)) is not None]


def _open(lake: str):
    """(file system, base path) of ``lake``; a lake without ``accounts`` is refused, naming the path."""
    import pyarrow.fs as pafs

    text = lake.strip()
    if not text:
        raise LakeError("no lake given (a folder of the input format as Parquet)")
    try:
        if "://" in text:
            filesystem, base = pafs.FileSystem.from_uri(text.replace("s3a://", "s3://", 1))
        else:
            filesystem, base = pafs.LocalFileSystem(), os.path.abspath(text)
    except Exception as exc:  # pyarrow raises several types for a URI it cannot open
        raise LakeError(f"{lake}: cannot open it ({_first_line(exc)})") from exc
    if _location(filesystem, base, "accounts") is None:
        raise LakeError(f"{lake}: no accounts/ folder or accounts.parquet; a lake is the input format as Parquet "
                        f"(ringscope simulate --format parquet writes one)")
    return filesystem, base.rstrip("/")


def _location(filesystem, base: str, kind: str) -> str | None:
    """``kind``'s folder or ``<kind>.parquet`` under ``base``; None when the lake has neither."""
    import pyarrow.fs as pafs

    for candidate in (f"{base.rstrip('/')}/{kind}", f"{base.rstrip('/')}/{kind}.parquet"):
        try:
            if filesystem.get_file_info(candidate).type != pafs.FileType.NotFound:
                return candidate
        except OSError as exc:
            raise LakeError(f"{candidate}: cannot look at it ({_first_line(exc)})") from exc
    return None


def _first_row(filesystem, base: str, place: Place, entity_id: str) -> dict[str, Any] | None:
    """The first row of ``place`` whose id column equals ``entity_id``; None when there is none (or the
    lake lacks the kind or the optional column)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    where = _location(filesystem, base, place.kind)
    if where is None:
        return None
    try:
        dataset = ds.dataset(where, format="parquet", filesystem=filesystem)  # skips names starting . or _
        if place.column not in dataset.schema.names:
            return None
        column_type = dataset.schema.field(place.column).type
        try:
            value = pa.scalar(entity_id).cast(column_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            return None  # an id that is not a value of the column's type (text in a numeric column)
        wanted = ds.field(place.column) == value
        for fragment in dataset.get_fragments():
            for piece in fragment.split_by_row_group(wanted):  # the row groups the statistics do not rule out
                if piece.to_table(columns=[place.column], filter=wanted).num_rows:
                    return piece.to_table(filter=wanted).slice(0, 1).to_pylist()[0]
    except (OSError, pa.ArrowException) as exc:
        raise LakeError(f"{where}: not readable as Parquet ({_first_line(exc)})") from exc
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]
