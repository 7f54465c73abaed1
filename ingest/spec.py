"""The input format (``shared/spec/input-format.md``, version 1) as data.

One ``FileSpec`` per kind of file: its columns, which are required, how each
value is read, and whether it becomes a property of the file's node or only a
link to another node. Validation and the writers both work from this table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from ringscope.common.errors import SettingError
from ringscope.graph.model import (
    ACCOUNT_STATUSES, INTERMEDIARY_KINDS, REPORT_TARGETS, RINGSCOPE_SANCTION_ID, SANCTION_TARGETS,
)
from ringscope.graph.settings import parse_size

FORMAT_VERSION = 1

# Value kinds: id (non-empty string, exact), text (any string), count (integer >= 0),
# bool (true/false, 1/0, yes/no), ts (ISO 8601), enum (one of `choices`), topics (a list of
# strings: in any format a text of items separated by TOPIC_SEPARATOR, or a JSON array / Parquet
# list of strings; stored as a list property).
TOPIC_SEPARATOR = ";"
# What is trimmed from each end of a topic (ASCII whitespace only: Python and Arrow agree on it exactly).
TOPIC_TRIM = " \t\n\r\x0b\x0c"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    prop: bool = True  # stored as a property of the file's node (else only used as a link)
    extension: bool = False  # not in the v1 spec; a documented ringscope extension
    # The database indexes the value (a node key, or a property graph/schema.py indexes), so it must
    # fit an index entry: at most MAX_INDEXED_BYTES of UTF-8. Every id column is indexed.
    indexed: bool = False


# ---------------------------------------------------------------------------- limits on what a file holds

# What the database and the detectors can hold, whatever the settings say:
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1  # Neo4j's integers are 64-bit
# Neo4j refuses an index entry over ~8 KB (``Property value is too large to index``); ids and indexed
# names are kept well below that.
MAX_INDEXED_BYTES = 4096
# Timestamps: the detectors read them as nanoseconds since 1970 (pandas' datetime64[ns], years
# 1677-2262), so a year-9999 date would load and then stop every detection run.
TS_MIN = datetime(1900, 1, 1, tzinfo=timezone.utc)
TS_MAX = datetime(2200, 1, 1, tzinfo=timezone.utc)  # exclusive

LINE_SETTING = "RINGSCOPE_INGEST_MAX_LINE_BYTES"
FIELD_SETTING = "RINGSCOPE_INGEST_MAX_FIELD_CHARS"
DEFAULT_MAX_LINE_BYTES = 1 << 20  # 1 MiB
DEFAULT_MAX_FIELD_CHARS = 65_536
# Over-long lines are never held whole; the rejects file keeps this much of one.
KEEP_OF_LONG_LINE = 4096


@dataclass(frozen=True)
class Limits:
    """Caps on one line (a CSV record, quoted newlines included) and one value: a row over them is
    rejected, and an over-long line is never read into memory whole."""

    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS

    def __post_init__(self) -> None:
        if self.max_line_bytes < 1024:
            raise SettingError(f"{LINE_SETTING} / --max-line-bytes must be at least 1k, not {self.max_line_bytes}")
        if self.max_field_chars < 1:
            raise SettingError(f"{FIELD_SETTING} / --max-field-chars must be at least 1, not {self.max_field_chars}")


def limits_from_env(env: Mapping[str, str] | None = None) -> Limits:
    """The caps from ``RINGSCOPE_INGEST_MAX_LINE_BYTES`` (a size: 1m, 512k) and
    ``RINGSCOPE_INGEST_MAX_FIELD_CHARS``; a bad value stops the command naming the setting."""
    env = os.environ if env is None else env
    line = env.get(LINE_SETTING) or ""
    field = env.get(FIELD_SETTING) or ""
    if field and not field.strip().isdigit():
        raise SettingError(f"{FIELD_SETTING}={field!r} is not a whole number of characters")
    return Limits(
        max_line_bytes=parse_size(LINE_SETTING, line) if line else DEFAULT_MAX_LINE_BYTES,
        max_field_chars=int(field) if field else DEFAULT_MAX_FIELD_CHARS,
    )


@dataclass(frozen=True)
class FileSpec:
    stem: str
    columns: tuple[Column, ...]
    what: str

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns)


def _c(name, kind="text", required=False, choices=(), prop=True, extension=False, indexed=False) -> Column:
    return Column(name, kind, required, tuple(choices), prop, extension, indexed or kind == "id")


SPECS: dict[str, FileSpec] = {
    s.stem: s
    for s in (
        FileSpec("accounts", (
            _c("account_id", "id", True),
            _c("nickname", indexed=True),
            _c("registered_at", "ts", True),
            # The key of an IP, PhoneSegment and Phone node.
            _c("registration_ip", prop=False, indexed=True),
            _c("phone_segment", prop=False, indexed=True),
            _c("phone_hash", prop=False, indexed=True),
            _c("followers", "count"),
            _c("following", "count"),
            _c("is_professional", "bool"),
            _c("default_profile", "bool"),
            _c("bio"),
            _c("status", "enum", choices=ACCOUNT_STATUSES),
        ), "platform accounts"),
        FileSpec("devices", (
            _c("device_id", "id", True), _c("model"), _c("os"), _c("is_emulator", "bool"),
        ), "device fingerprints"),
        FileSpec("account_devices", (
            _c("account_id", "id", True, prop=False), _c("device_id", "id", True, prop=False),
            _c("first_seen", "ts"), _c("last_seen", "ts"),
        ), "an account used a device"),
        FileSpec("account_ips", (
            _c("account_id", "id", True, prop=False), _c("ip", "id", True, prop=False),
            _c("first_seen", "ts"), _c("last_seen", "ts"),
        ), "an account logged in from an IP"),
        FileSpec("brands", (
            _c("brand_id", "id", True), _c("name", indexed=True), _c("category"),
        ), "advertisers"),
        FileSpec("intermediaries", (
            _c("intermediary_id", "id", True), _c("name", indexed=True),
            _c("kind", "enum", choices=INTERMEDIARY_KINDS), _c("registered", "bool"),
        ), "agencies, MCNs, studios"),
        FileSpec("intermediary_accounts", (
            _c("intermediary_id", "id", True, prop=False), _c("account_id", "id", True, prop=False),
            _c("since", "ts"),
        ), "an intermediary manages an account"),
        FileSpec("orders", (
            _c("order_id", "id", True), _c("brand_id", "id", True, prop=False),
            _c("intermediary_id", "id", prop=False), _c("account_id", "id", prop=False),
            _c("note_id", "id", prop=False), _c("placed_at", "ts"), _c("declared", "bool"),
        ), "paid promotions"),
        FileSpec("notes", (
            _c("note_id", "id", True), _c("account_id", "id", True, prop=False),
            _c("posted_at", "ts", True), _c("title"), _c("brand_id", "id", prop=False),
            _c("declared_commercial", "bool"),
            # Extensions (optional; v1 notes files load unchanged): the note's body, and its hashtags.
            _c("text", extension=True), _c("topics", "topics", extension=True),
            # Extensions (optional): what the note was posted with: the client (an app version, an API
            # client's name) and the way (app, web, api ...), where the platform records them.
            _c("client", extension=True), _c("posted_via", extension=True),
        ), "posts"),
        FileSpec("comments", (
            _c("comment_id", "id", True), _c("account_id", "id", True, prop=False),
            _c("note_id", "id", True, prop=False), _c("created_at", "ts", True), _c("text"),
            _c("reply_to", "id", prop=False), _c("device_id", "id", prop=False),
            _c("ip", "id", prop=False),
            # Extensions (optional; v1 comments files load unchanged): the client and the way, as for notes.
            _c("client", extension=True), _c("posted_via", extension=True),
        ), "comments on notes"),
        FileSpec("likes", (
            _c("account_id", "id", True, prop=False), _c("note_id", "id", True, prop=False),
            _c("created_at", "ts"),
        ), "likes on notes"),
        FileSpec("follows", (
            _c("account_id", "id", True, prop=False), _c("target_account_id", "id", True, prop=False),
            _c("created_at", "ts"),
        ), "follows between accounts"),
        FileSpec("sanctions", (
            _c("sanction_id", "id", True),
            _c("target_type", "enum", True, choices=tuple(SANCTION_TARGETS)),
            _c("target_id", "id", True), _c("action", "text", True, indexed=True), _c("reason"),
            _c("issued_at", "ts", True), _c("expires_at", "ts"),
        ), "sanctions already in force"),
        # An extension of the input format (optional; v1 datasets load unchanged): users' reports against an
        # account, a note or a comment, with the platform's verdict when it has checked them.
        FileSpec("reports", (
            _c("report_id", "id", True, extension=True),
            _c("reporter_account_id", "id", True, prop=False, extension=True),
            _c("target_type", "enum", True, choices=tuple(REPORT_TARGETS), extension=True),
            _c("target_id", "id", True, prop=False, extension=True),
            _c("reason", extension=True),
            _c("created_at", "ts", True, extension=True),
            _c("verified", "bool", extension=True),
        ), "users' reports against accounts, notes and comments (extension)"),
        # An extension (optional): snapshots of the platform's trending list. One row per entry of a list as
        # captured at one time: its rank (1 = top), the topic (a hashtag, as notes.topics holds it) and the
        # platform's own score. One entry per topic and capture (a later row of the same pair replaces it).
        FileSpec("trending", (
            _c("captured_at", "ts", True, extension=True),
            _c("rank", "count", True, extension=True),
            _c("topic", "id", True, extension=True),
            _c("score", "count", extension=True),
        ), "snapshots of the platform's trending list (extension)"),
        FileSpec("labels", (
            _c("account_id", "id", True), _c("is_fake", "bool", True), _c("farm_id"),
            # Extensions written by `ringscope simulate` and the converters, for
            # per-type evaluation; optional, so plain v1 label files still load.
            _c("farm_type", extension=True), _c("role", extension=True),
        ), "ground truth for evaluation only"),
    )
}

# Files whose rows define the nodes others refer to load first, so a reference
# to an id defined anywhere in the dataset never becomes a stub.
LOAD_ORDER: tuple[str, ...] = (
    "accounts", "devices", "brands", "intermediaries", "notes", "comments", "orders",
    "account_devices", "account_ips", "intermediary_accounts", "likes", "follows",
    "sanctions", "reports", "trending", "labels",
)
assert set(LOAD_ORDER) == set(SPECS)

# Files a dataset may carry that are never loaded, and what they are: ground truth for evaluation only
# (``ringscope simulate`` writes it; no detector may read it). Reported as skipped, with this reason.
EVALUATION_ONLY: dict[str, str] = {
    "note_labels": "ground truth for evaluation only (which notes are copies of which; never loaded)",
    "drift_labels": "ground truth for evaluation only (honest accounts hired for a stretch of time; never loaded)",
    "trending_labels": "ground truth for evaluation only (what moved each planted trending topic; never loaded)",
}
assert not set(EVALUATION_ONLY) & set(SPECS)

# Ids a file may not use, and why: the ids of ringscope's own sanctions (graph/model.py).
RESERVED_IDS: dict[tuple[str, str], tuple[re.Pattern[str], str]] = {
    ("sanctions", "sanction_id"): (
        RINGSCOPE_SANCTION_ID,
        "has the form ringscope gives the sanctions it makes (S- and 16 hex digits); an imported sanction "
        "may never take or change one of them, so give it an id of the platform's own",
    ),
}

SUFFIXES: dict[str, str] = {
    ".csv": "csv", ".csv.gz": "csv",
    ".jsonl": "jsonl", ".jsonl.gz": "jsonl", ".ndjson": "jsonl", ".ndjson.gz": "jsonl",
    ".parquet": "parquet",
}
