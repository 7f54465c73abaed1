"""The simulated platform held in memory: column accumulators, codes, farms.

Entities refer to each other by internal integer index (account 17, note 342);
ids such as ``a000123`` are assigned only when the tables are written, from a
seeded permutation, so an id says nothing about how a row was generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

STATUSES = ("active", "limited", "muted", "suspended", "banned")
STATUS = {s: i for i, s in enumerate(STATUSES)}

FARM_TYPES = ("bulk_farm", "aged_farm", "comment_ring", "evasion", "engagement_farm")
ORGANIC_ROLES = ("organic", "organic_shared_nat", "organic_family_device", "engagement_buyer", "declared_creator")
ROLES = ORGANIC_ROLES + FARM_TYPES
ROLE = {r: i for i, r in enumerate(ROLES)}
FIRST_FAKE_ROLE = len(ORGANIC_ROLES)

# Note kinds (internal only; the notes file carries brand_id and declared_commercial).
NOTE_ORGANIC, NOTE_REVIEW, NOTE_OFFICIAL, NOTE_DECLARED, NOTE_SEEDING = range(5)

SANCTION_TARGETS = ("account", "device", "brand", "intermediary", "note")
TARGET = {t: i for i, t in enumerate(SANCTION_TARGETS)}


class Chunks:
    """Column-wise row accumulator: ``add`` appends aligned columns and returns the first new row's index."""

    def __init__(self, *names: str):
        self.names = names
        self.parts: dict[str, list] = {name: [] for name in names}
        self.n = 0

    def add(self, **columns) -> int:
        if set(columns) != set(self.names):
            raise ValueError(f"columns {sorted(columns)} != {sorted(self.names)}")
        lengths = {len(v) for v in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"ragged columns: {lengths}")
        base = self.n
        for name, values in columns.items():
            self.parts[name].append(values)
        self.n += lengths.pop()
        return base

    def column(self, name: str):
        parts = self.parts[name]
        if parts and isinstance(parts[0], (pa.Array, pa.ChunkedArray)):
            return pa.chunked_array(parts, type=pa.string()).combine_chunks()
        if not parts:
            return np.zeros(0)
        return np.concatenate(parts)

    def frozen(self, release: bool = False) -> dict:
        """All columns concatenated (numpy arrays or Arrow string arrays); release drops the chunks."""
        columns = {name: self.column(name) for name in self.names}
        if release:
            self.parts = {name: [] for name in self.names}
            self.n = 0
        return columns


@dataclass
class Farm:
    """One planted operation: a contiguous block of account indices plus its business."""

    number: int
    kind: str
    start: int
    size: int
    brands: np.ndarray                 # client brands (indices)
    intermediary: int = -1             # who runs it, -1 if unknown to the platform
    ban_time: int = 0                  # evasion: when the first generation was banned
    n_banned: int = 0                  # evasion: the first n_banned members were banned
    wx: str = ""                       # off-platform contact the ring advertises
    qq: str = ""

    @property
    def farm_id(self) -> str:
        return f"F{self.number:04d}"

    @property
    def members(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.size)


@dataclass
class World:
    rng: np.random.Generator
    n_accounts: int
    brand_names: list[str] = field(default_factory=list)
    brand_categories: list[str] = field(default_factory=list)
    brand_account: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    underwater_brands: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    declared_brands: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    inter_names: list[str] = field(default_factory=list)
    inter_kinds: list[str] = field(default_factory=list)
    inter_registered: list[bool] = field(default_factory=list)
    farms: list[Farm] = field(default_factory=list)
    cgnat_pool: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    A: dict = field(default_factory=dict)   # frozen accounts, once population is complete
    N: dict = field(default_factory=dict)   # frozen notes, once all notes are written

    def __post_init__(self):
        self.accounts = Chunks("reg", "reg_ip", "seg", "phone", "default_profile", "professional", "status",
                               "nickname", "bio", "role", "farm", "act_w", "pop_w", "creator_w")
        self.devices = Chunks("model")
        self.account_devices = Chunks("account", "device", "first", "last")
        self.account_ips = Chunks("account", "ip", "first", "last")
        self.intermediary_accounts = Chunks("intermediary", "account", "since")
        self.notes = Chunks("author", "posted", "brand", "declared", "title", "weight", "kind")
        self.comments = Chunks("account", "note", "t", "text", "reply", "dev_row", "ip_row")
        self.likes = Chunks("account", "note", "t")
        self.follows = Chunks("account", "target", "t")
        self.orders = Chunks("brand", "intermediary", "account", "note", "placed", "declared")
        self.sanctions = Chunks("target_type", "target", "action", "reason", "issued", "expires")
        # Set once the population is complete (see simulate.platform.build_world).
        self.links_dev: dict = {}
        self.links_ip: dict = {}
        self.dev_index = None
        self.ip_index = None
        self.actor_cdf = None
        self.note_cdf = None
        self.note_index = None
        self.buyer_pool = None
        self.seeding: dict = {}

    def add_intermediary(self, name: str, kind: str, registered: bool) -> int:
        self.inter_names.append(name)
        self.inter_kinds.append(kind)
        self.inter_registered.append(registered)
        return len(self.inter_names) - 1
