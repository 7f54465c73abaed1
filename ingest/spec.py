"""The input format (``shared/spec/input-format.md``, version 1) as data.

One ``FileSpec`` per kind of file: its columns, which are required, how each
value is read, and whether it becomes a property of the file's node or only a
link to another node. Validation and the writers both work from this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.graph.model import ACCOUNT_STATUSES, INTERMEDIARY_KINDS, SANCTION_TARGETS

FORMAT_VERSION = 1

# Value kinds: id (non-empty string, exact), text (any string), count (integer >= 0),
# bool (true/false, 1/0, yes/no), ts (ISO 8601), enum (one of `choices`).


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    prop: bool = True  # stored as a property of the file's node (else only used as a link)
    extension: bool = False  # not in the v1 spec; a documented ringscope extension


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


def _c(name, kind="text", required=False, choices=(), prop=True, extension=False) -> Column:
    return Column(name, kind, required, tuple(choices), prop, extension)


SPECS: dict[str, FileSpec] = {
    s.stem: s
    for s in (
        FileSpec("accounts", (
            _c("account_id", "id", True),
            _c("nickname"),
            _c("registered_at", "ts", True),
            _c("registration_ip", prop=False),
            _c("phone_segment", prop=False),
            _c("phone_hash", prop=False),
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
            _c("brand_id", "id", True), _c("name"), _c("category"),
        ), "advertisers"),
        FileSpec("intermediaries", (
            _c("intermediary_id", "id", True), _c("name"),
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
        ), "posts"),
        FileSpec("comments", (
            _c("comment_id", "id", True), _c("account_id", "id", True, prop=False),
            _c("note_id", "id", True, prop=False), _c("created_at", "ts", True), _c("text"),
            _c("reply_to", "id", prop=False), _c("device_id", "id", prop=False),
            _c("ip", "id", prop=False),
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
            _c("target_id", "id", True), _c("action", "text", True), _c("reason"),
            _c("issued_at", "ts", True), _c("expires_at", "ts"),
        ), "sanctions already in force"),
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
    "sanctions", "labels",
)
assert set(LOAD_ORDER) == set(SPECS)

SUFFIXES: dict[str, str] = {
    ".csv": "csv", ".csv.gz": "csv",
    ".jsonl": "jsonl", ".jsonl.gz": "jsonl", ".ndjson": "jsonl", ".ndjson.gz": "jsonl",
    ".parquet": "parquet",
}
