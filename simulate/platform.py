"""A synthetic RED/Xiaohongshu-like platform under attack, written in the ringscope input format.

``simulate(out_dir, accounts, seed, fmt)`` writes one data set (accounts, devices,
account_devices, account_ips, brands, intermediaries, intermediary_accounts,
orders, notes, comments, likes, follows, sanctions, reports, trending, labels, note_labels, drift_labels, trending_labels) and
returns a ``SimulationSummary``. The same seed and size always give byte-identical files:
all randomness comes from ``numpy.random.default_rng(seed)`` (and, for users' reports and
note bodies, generators of their own seeded from it), the reference
"now" is fixed (2025-06-30T00:00:00+08:00) and nothing reads the wall clock.

Memory is bounded: accounts, devices, links and notes are held in compact
columns, while comments, likes and follows go to scratch files as they are
made (``simulate.spill``) and every file is written in slices
(``simulate.dataset``, ``simulate.write``). A platform of up to
``Blocks.one_piece`` accounts (1,048,576) is generated in one piece, with the
draws it always had; a larger one in parts (``world.Blocks``), each an
independent sample of the same distributions, everything planted drawn once
for the whole platform.

The generative model
====================

Organic platform (~93% of accounts)
-----------------------------------
- Registrations over 2019..now, growing; activity (notes, comments, likes) in the
  last year. Activity per user is heavy-tailed (lognormal, a third are lurkers),
  note popularity is heavy-tailed, and times of day follow an evening-heavy
  China-time rhythm. Follows go to popular creators and brands.
- Own phones (10% switched phones), a home line plus the carriers' NAT pool.
- Innocent sharing, so naive rules misfire (label roles in parentheses):
  public NAT addresses of cafés and campuses shared by tens to hundreds of
  strangers, with a September wave of freshman registrations from the campus
  address (``organic_shared_nat``); family tablets shared by 2-4 relatives who
  also share a home line (``organic_family_device``); some real users keep the
  default 小红薯xxxx nickname and profile, use virtual-operator numbers or a PC
  emulator, comment "链接呢" or praise a product, review a brand unpaid; a few
  are limited, muted, suspended or even banned for abuse.
- Brands have official accounts that post their own (undeclared, unpaid) notes.
- Honest controls: creators signed to registered MCNs post declared commercial
  notes for brands, with declared orders (``declared_creator``).

Planted fraud (~7% of accounts, farms of 5 to 300, ``labels.farm_type``)
------------------------------------------------------------------------
- ``bulk_farm``: batch registration scripts (接码/注册机): dozens to hundreds of
  sign-ups minutes apart from one or a few addresses in one /24 (often a cloud
  range), on shared emulators or a phone wall (one cheap model, 4-15 accounts per
  device), SIMs from one to three virtual-operator segments with near-consecutive
  numbers, templated nicknames (小红薯 + hex, user_8342 sequences, stem + counter),
  default profiles. Used to like a client brand's notes in bursts, follow its
  official account, write a few templated seeding notes, follow each other.
- ``aged_farm``: "素人号" nurtured for months: registration spread over a quarter
  to a year in the organic rhythm, organic nicknames and bios, organic-looking
  background likes/comments/follows, few links left (one device per 5-10
  accounts, a few phone segments, one or two residential /24s). They post
  undeclared seeding notes (种草) for client brands (``notes.brand_id`` set,
  ``declared_commercial`` false) and warm up each other's notes.
- ``comment_ring``: water army (水军) for comment control (控评): a few registration
  batches, shared emulators and a proxy pool. On the client brands' notes, 5-25
  members comment within minutes of one another, in office hours, with templated
  praise with small edits and emoji, lures off the platform (私我优惠, 加V信 + the
  ring's WeChat id, Q + QQ number) and scripted two-account acts (姐妹，我搜xx怎么没
  搜到啊 answered via ``reply_to`` by 链接私你了). They also spam lures on popular
  organic notes and like what they comment on.
- ``evasion``: a spam farm banned in one sweep (``status`` banned, ``sanctions``
  permanent_ban per account and device_ban per device), followed days later by
  new accounts registered on the same banned devices and the same /24, which
  carry on spamming.
- ``engagement_farm``: like/follow sellers: emulator clusters behind one or two
  cloud addresses. Buyers (small organic creators, some brand accounts; role
  ``engagement_buyer``) receive most of the farm as followers and likes within a
  few hours, out of proportion to their audience.
- Brands with underwater budgets are served by unregistered studios/agencies
  (sometimes a registered agency on the side) that run the farms
  (``intermediary_accounts``) and take undeclared orders (``declared`` false);
  only some orders surface. The platform already removed some ad notes, warned
  a brand and blacklisted a studio.

Ids never reveal fakeness: accounts, devices, brands, intermediaries and orders
are numbered by a seeded permutation; notes, comments and sanctions in time
order (the extra copied notes of engagement farms after all the others). ``labels``
(ground truth, never for detectors) has ``account_id``, ``is_fake``, ``farm_id`` and
the extension columns ``farm_type`` and ``role``; ``note_labels`` (the same) names the
planted copied notes and what they copy (``simulate.bodies``); ``drift_labels`` (the same) the honest
accounts a comment ring hires for a stretch of time, and the stretch (``simulate.drift``).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ringscope.simulate import activity, automated, bodies, commerce, drift, farmed, population, reports, trending
from ringscope.simulate.activity import LinkIndex
from ringscope.simulate.clock import DAY, HOUR
from ringscope.simulate.dataset import STEMS, dataset_tables, event_logs
from ringscope.simulate.spill import park
from ringscope.simulate.world import FARM_TYPES, Blocks, Farm, World, release_memory, split
from ringscope.simulate.write import FORMATS, normalise_format, write_kind

MIN_ACCOUNTS = 100
SCRATCH_PREFIX = ".simulate-scratch-"


@dataclass
class SimulationSummary:
    out_dir: Path
    fmt: str
    accounts: int
    seed: int
    files: dict[str, int] = field(default_factory=dict)        # file (or Parquet folder) name -> rows written
    parts: dict[str, int] = field(default_factory=dict)        # Parquet folder name -> part files in it
    seconds: float = 0.0
    farms: dict[str, int] = field(default_factory=dict)        # farm type -> number of farms
    fake_accounts: dict[str, int] = field(default_factory=dict)  # farm type -> accounts

    def lines(self) -> list[str]:
        """A human-readable summary, one line per file, then the planted farms."""
        out = [f"{name}/: {rows} rows in {self.parts[name]} part files" if name in self.parts else f"{name}: {rows} rows"
               for name, rows in self.files.items()]
        out.append("farms: " + ", ".join(f"{k} {v} ({self.fake_accounts.get(k, 0)} accounts)" for k, v in self.farms.items()))
        out.append(f"{self.accounts} accounts, seed {self.seed}, {self.fmt}, {self.seconds:.1f} s -> {self.out_dir}")
        return out


def build_world(accounts: int, seed: int, scratch: Path, blocks: Blocks = Blocks()) -> World:
    """Generate the whole platform: entities in memory, events into scratch files under `scratch`."""
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"accounts must be at least {MIN_ACCOUNTS} (got {accounts})")
    rng = np.random.default_rng(seed)
    w = World(rng, accounts, **event_logs(scratch, accounts, blocks))
    w.seed = seed
    parts = blocks.parts(accounts)
    plan = commerce.plan_farms(rng, accounts)
    n_brands = int(np.clip(accounts // 5000, 6, 200))
    n_organic = accounts - sum(size for _, size in plan) - n_brands
    commerce.make_brands(w, n_brands)
    commerce.make_intermediaries(w, len(plan))
    w.cgnat_pool = population.random_ips(rng, max(64, accounts // 3), population.MOBILE_A)

    for size in split(n_organic, parts):
        population.organic_accounts(w, size)
        population.close_links(w)
        release_memory()
    population.brand_accounts(w)
    for number, (kind, size) in enumerate(plan, start=1):
        farm = Farm(number, kind, start=w.accounts.n, size=size, brands=np.zeros(0, np.int64))
        commerce.assign_business(w, farm)
        population.FARM_BUILDERS[kind](w, farm)
        w.farms.append(farm)
    population.close_links(w)
    assert w.accounts.n == accounts
    w.A = w.accounts.frozen(release=True)
    w.links_dev = population.joined_links(w.link_parts.pop("device"))
    w.links_ip = population.joined_links(w.link_parts.pop("ip"))
    w.dev_index = LinkIndex(w.links_dev["account"], w.links_dev["first"], accounts)
    w.ip_index = LinkIndex(w.links_ip["account"], w.links_ip["first"], accounts)
    release_memory()

    write_notes(w, accounts, parts)
    w.parked["notes"] = park(scratch, "note-titles", {"title": w.N.pop("title")}, blocks.write_rows)
    release_memory()
    w.actor_cdf = activity.actor_weights(w)
    del w.A["act_w"], w.A["creator_w"]  # not needed any more; pop_w still is (buyers, follows)
    w.note_cdf = np.cumsum(w.N["weight"])
    w.note_index = activity.NoteIndex(w.N, accounts, len(w.brand_names))
    activity.background_likes(w, int(3.0 * accounts), parts)
    activity.background_comments(w, int(2.8 * accounts), parts)
    activity.background_follows(w, int(1.85 * accounts), parts)
    plant_activity(w)
    w.actor_cdf = w.note_cdf = None
    del w.A["pop_w"]
    release_memory()

    for farm in w.farms:
        commerce.farm_intermediary_accounts(w, farm)
        if farm.kind == "evasion":
            commerce.evasion_bans(w, farm)
    commerce.status_sanctions(w)
    commerce.content_sanctions(w)
    reports.plant_reports(w, seed)  # its own generator: everything above is unchanged by it
    w.note_texts = bodies.plant_note_texts(w, seed)  # note bodies, topics, copies: their own generator too
    automated.plant_automated(w, seed)  # its own generator too; after reports (it changes roles)
    farmed.plant_farmed(w, seed)  # its own generator too; after the note bodies (its notes follow theirs)
    # its own generator too; after the programs and the farmed accounts (it buys from the farms they leave)
    w.trending = trending.plant_trending(w, seed)
    drift.plant_drift(w, seed)  # honest accounts hired by comment rings for a stretch: its own generator too
    w.dev_index = w.ip_index = w.note_index = w.buyer_pool = None  # only the generators need them
    release_memory()
    return w


def write_notes(w: World, accounts: int, parts: int = 1) -> None:
    """All notes: organic, official brand notes, declared campaigns, underwater seeding."""
    activity.organic_notes(w, int(0.28 * accounts), parts)
    activity.official_notes(w)
    commerce.declared_campaigns(w)
    for farm in w.farms:
        if farm.kind == "aged_farm":
            w.seeding[farm.number] = activity.seeding_notes(w, farm, 0.8, (1, 4), (14 * DAY, 3650 * DAY))
        elif farm.kind == "bulk_farm":
            w.seeding[farm.number] = activity.seeding_notes(w, farm, 0.3, (1, 1), (HOUR, 10 * DAY))
    w.N = w.notes.frozen(release=True)


def plant_activity(w: World) -> None:
    """Each farm does its job."""
    rng = w.rng
    for farm in w.farms:
        if farm.kind == "bulk_farm":
            activity.brand_boost(w, farm)
            activity.farm_follow_each_other(w, farm)
        elif farm.kind == "aged_farm":
            activity.aged_mutual_boost(w, farm, w.seeding.get(farm.number, np.zeros(0, np.int64)))
        elif farm.kind == "comment_ring":
            activity.comment_ring_campaigns(w, farm)
            activity.farm_follow_each_other(w, farm)
        elif farm.kind == "evasion":
            activity.evasion_spam(w, farm)
            activity.farm_follow_each_other(w, farm)
        elif farm.kind == "engagement_farm":
            buyers = activity.engagement_buyers(w, int(rng.integers(1, 4)))
            if rng.random() < 0.3:
                brand_account = w.brand_account[int(farm.brands[0])]
                w.A["role"][brand_account] = population.ROLE["engagement_buyer"]
                buyers = np.r_[buyers, brand_account]
            activity.engagement_bursts(w, farm, buyers)
            activity.brand_boost(w, farm)
            activity.farm_follow_each_other(w, farm)


def clear_previous(out_dir: Path) -> None:
    """Remove what a previous run left in out_dir (any format), so only one of each kind remains.

    Files `stem.fmt`, and the part files of Parquet folders `stem/` (the folder too, once empty).
    """
    for stem in STEMS:
        for fmt in FORMATS:
            (out_dir / f"{stem}.{fmt}").unlink(missing_ok=True)
        folder = out_dir / stem
        if folder.is_dir():
            for part in folder.glob("part-*.parquet"):
                part.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()


def simulate(out_dir: Path, accounts: int, seed: int, fmt: str = "csv.gz", blocks: Blocks = Blocks()) -> SimulationSummary:
    """Write a synthetic platform data set with planted farms into out_dir.

    Memory is bounded by `blocks` and a few hundred bytes per account, not by the
    number of events: these go through a scratch folder inside out_dir, removed at the end.
    """
    started = time.perf_counter()
    fmt = normalise_format(fmt)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(SCRATCH_PREFIX + "*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX, dir=out_dir) as scratch:
        w = build_world(accounts, seed, Path(scratch), blocks)
        clear_previous(out_dir)
        summary = SimulationSummary(out_dir=out_dir, fmt=fmt, accounts=accounts, seed=seed)
        for stem, tables in dataset_tables(w, blocks):
            name, rows, parts = write_kind(tables, out_dir, stem, fmt, blocks.part_rows)
            summary.files[name] = rows
            if parts:
                summary.parts[name] = parts
            release_memory()
    summary.farms = {kind: sum(f.kind == kind for f in w.farms) for kind in FARM_TYPES}
    sizes = Counter()
    for f in w.farms:
        sizes[f.kind] += f.size
    summary.fake_accounts = {kind: sizes[kind] for kind in FARM_TYPES}
    summary.seconds = time.perf_counter() - started
    return summary
