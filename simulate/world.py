"""The simulated platform: column accumulators, codes, farms, and how much is generated at once.

Entities refer to each other by internal integer index (account 17, note 342);
ids such as ``a000123`` are assigned only when the tables are written, from a
seeded permutation, so an id says nothing about how a row was generated.
Accounts, devices, their links and notes are held in memory; comments, likes
and follows go to scratch files as they are generated (``simulate.spill``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa

from ringscope.common.memory import release_memory

if TYPE_CHECKING:
    from ringscope.simulate.spill import Spill

STATUSES = ("active", "limited", "muted", "suspended", "banned")
STATUS = {s: i for i, s in enumerate(STATUSES)}

FARM_TYPES = ("bulk_farm", "aged_farm", "comment_ring", "evasion", "engagement_farm")
# declared_viral, declared_with_assistant, creator_assistant: honest look-alikes of farmed declared accounts
# (simulate/farmed.py); scheduled_poster: of a program's accounts (simulate/automated.py).
ORGANIC_ROLES = ("organic", "organic_shared_nat", "organic_family_device", "engagement_buyer", "declared_creator",
                 "scheduled_poster", "declared_viral", "declared_with_assistant", "creator_assistant")
# ai_operated: members of a bulk farm a program runs (simulate/automated.py); a fake role, not a farm type.
# farmed_declared: farm accounts raised to an audience and taking declared orders (simulate/farmed.py); heat_campaign:
# accounts a heat operation runs (simulate/trending.py): bought organic accounts and bulk-farm members. Fake roles,
# not farm types (the labels keep their farm's, if any).
ROLES = ORGANIC_ROLES + FARM_TYPES + ("ai_operated", "farmed_declared", "heat_campaign")
ROLE = {r: i for i, r in enumerate(ROLES)}
FIRST_FAKE_ROLE = len(ORGANIC_ROLES)

# Note kinds (internal only; the notes file carries brand_id and declared_commercial).
NOTE_ORGANIC, NOTE_REVIEW, NOTE_OFFICIAL, NOTE_DECLARED, NOTE_SEEDING = range(5)

SANCTION_TARGETS = ("account", "device", "brand", "intermediary", "note")
TARGET = {t: i for i, t in enumerate(SANCTION_TARGETS)}


@dataclass(frozen=True)
class Blocks:
    """How much of the platform is generated, held and written at once; memory follows these, not the platform.

    A platform of up to ``one_piece`` accounts is generated in one piece, with the draws
    it always had (same seed, same files as before streaming). A larger one is generated
    in parts of ``part_accounts`` accounts' worth: organic accounts in blocks, organic
    notes and the background likes, comments and follows in as many parts, each an
    independent sample of the same distributions, so the statistics are those of one
    piece while the random stream differs.
    """

    one_piece: int = 1 << 20      # up to 1,048,576 accounts: one piece
    part_accounts: int = 1 << 18  # above: 262,144 accounts' worth per part
    flush_rows: int = 1 << 20     # comments, likes or follows held in memory before they go to the scratch files
    bucket_rows: int = 1 << 20    # rows per scratch bucket read back at once (about)
    write_rows: int = 500_000     # rows encoded and written at once
    part_rows: int = 1_000_000    # rows per Parquet part file

    def parts(self, n_accounts: int) -> int:
        return 1 if n_accounts <= self.one_piece else -(-n_accounts // self.part_accounts)

    def buckets(self, expected_rows: float) -> int:
        return int(np.clip(np.ceil(expected_rows / self.bucket_rows), 1, 512))


def split(n: int, parts: int) -> list[int]:
    """n as `parts` near-equal sizes, larger first: split(10, 3) -> [4, 3, 3]."""
    return [n // parts + (i < n % parts) for i in range(parts)]


class Rows(Protocol):
    """Where generated rows go: ``Chunks`` in memory, or ``spill.EventLog`` to scratch files."""

    n: int

    def add(self, **columns) -> int: ...


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
        """All columns concatenated (numpy arrays or Arrow string arrays); release drops the chunks.

        Released column by column, so the rows are never held twice over.
        """
        columns = {}
        for name in self.names:
            columns[name] = self.column(name)
            if release:
                self.parts[name] = []
                release_memory()  # the chunks' memory, before the next column takes as much again
        if release:
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
    # Events: columns (account, note, t, text, reply, device, ip), (account, note, t), (account, target, t);
    # and the accounts' columns only the files need (reg_ip, seg, phone, default_profile, farm, nickname,
    # bio). simulate.platform gives spill.EventLogs (scratch files).
    comments: Rows | None = None
    likes: Rows | None = None
    follows: Rows | None = None
    account_files: Rows | None = None
    cgnat_pool: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    A: dict = field(default_factory=dict)   # frozen accounts, once population is complete
    N: dict = field(default_factory=dict)   # frozen notes, once all notes are written
    # Note titles, not needed until the files are written, in scratch files meanwhile (simulate.spill.park).
    parked: dict[str, Spill] = field(default_factory=dict)
    # Note bodies, topics and planted copies (simulate.bodies.NoteTexts), once the platform is made.
    note_texts: Any = None
    # The trending list and what was planted on it (simulate.trending.Trending), once the platform is made.
    trending: Any = None
    seed: int = 0

    def __post_init__(self):
        self.accounts = Chunks("reg", "professional", "status", "role", "act_w", "pop_w", "creator_w")
        self.devices = Chunks("model")
        self.account_devices = Chunks("account", "device", "first", "last")
        self.account_ips = Chunks("account", "ip", "first", "last")
        self.intermediary_accounts = Chunks("intermediary", "account", "since")
        self.notes = Chunks("author", "posted", "brand", "declared", "title", "weight", "kind")
        self.orders = Chunks("brand", "intermediary", "account", "note", "placed", "declared")
        self.sanctions = Chunks("target_type", "target", "action", "reason", "issued", "expires")
        # Consolidated links, one part per closed range of accounts (population.close_links), then
        # joined once the population is complete (see simulate.platform.build_world).
        self.link_parts: dict[str, list[dict]] = {"device": [], "ip": []}
        self.links_dev: dict = {}
        self.links_ip: dict = {}
        # Comments seen from a link before its first_seen: (rows, times), applied when writing.
        self.earlier_use: dict[str, list] = {"device": [], "ip": []}
        self.dev_index = None
        self.ip_index = None
        self.actor_cdf = None
        self.note_cdf = None
        self.note_index = None
        self.buyer_pool = None
        self.seeding: dict = {}
        self.reports: dict = {}  # simulate.reports: reporter, target, at, verified, reason
        self.automated: dict = {}  # simulate.automated: account, note, t, text of the comments a program posts
        self.drift: dict = {}  # simulate.drift: the comments of honest accounts hired for a stretch, and the truth
        self.farmed: dict = {}  # simulate.farmed: the extra (declared) orders of farmed accounts and look-alikes

    def add_intermediary(self, name: str, kind: str, registered: bool) -> int:
        self.inter_names.append(name)
        self.inter_kinds.append(kind)
        self.inter_registered.append(registered)
        return len(self.inter_names) - 1
