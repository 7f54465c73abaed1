"""Who is on the platform: accounts, their devices, their IP addresses and phones.

Organic users register over six years (more recently, more of them), keep their
own phones, and log in from a home line and the mobile network. Two kinds of
innocent sharing are planted on purpose: public NAT addresses (cafés, campus
networks; a campus also sees a wave of freshman registrations each September)
and family tablets used by 2-4 relatives. Farms are built by the functions named
after them; see ``simulate.platform`` for what each one mimics.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.simulate import text
from ringscope.simulate.clock import ACTIVITY_START, DAY, HOUR, MINUTE, NOW, PLATFORM_START, spread, with_rhythm
from ringscope.common.memory import release_memory
from ringscope.simulate.world import ROLE, STATUS, Farm, World

# ---------------------------------------------------------------- phones

NORMAL_PREFIXES = np.array([134, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159, 182, 183, 187, 188,
                            130, 131, 132, 155, 156, 185, 186, 133, 153, 180, 181, 189, 177, 199, 191, 173])
VIRTUAL_PREFIXES = np.array([170, 171, 165, 167])


def organic_phones(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(7-digit segment, 11-digit number): carrier prefixes, 2% on virtual operators like real people."""
    prefix = np.where(rng.random(n) < 0.02, rng.choice(VIRTUAL_PREFIXES, n), rng.choice(NORMAL_PREFIXES, n))
    seg = prefix * 10000 + rng.integers(0, 10000, n)
    return seg, seg * 10000 + rng.integers(0, 10000, n)


def farm_phones(rng: np.random.Generator, n: int, virtual_share: float, n_segments: int) -> tuple[np.ndarray, np.ndarray]:
    """SIM cards bought in batches: a few 7-digit segments, near-consecutive numbers inside each."""
    prefixes = np.where(rng.random(n_segments) < virtual_share,
                        rng.choice(VIRTUAL_PREFIXES, n_segments), rng.choice(NORMAL_PREFIXES, n_segments))
    segments = prefixes * 10000 + rng.integers(0, 10000, n_segments)
    which = rng.integers(0, n_segments, n)
    step = int(rng.integers(1, 3))
    suffix = (int(rng.integers(0, 10000)) + np.arange(n) * step) % 10000
    seg = segments[which]
    return seg, seg * 10000 + suffix


# ---------------------------------------------------------------- IP addresses

RESIDENTIAL_A = np.array([36, 39, 42, 49, 58, 59, 60, 61, 101, 106, 110, 111, 113, 114, 115, 116, 118, 119,
                          121, 122, 123, 124, 125, 171, 175, 180, 182, 218, 219, 220, 221, 222])
MOBILE_A = np.array([39, 111, 112, 117, 120, 223, 183])
CLOUD_AB = np.array([[47, 96], [47, 100], [47, 104], [121, 40], [139, 224], [119, 23], [114, 55],
                     [106, 14], [81, 68], [8, 134], [120, 78], [101, 132]])


def random_ips(rng: np.random.Generator, n: int, first_octets: np.ndarray) -> np.ndarray:
    """Random addresses under the given first octets (host part never .0 or .255)."""
    high = rng.choice(first_octets, n).astype(np.int64) << 24
    return high | (rng.integers(0, 2**16, n) << 8) | rng.integers(1, 255, n)


def subnet(rng: np.random.Generator, cloud: bool) -> int:
    """The base address of a /24: a cloud provider's range or a residential one."""
    if cloud:
        a, b = CLOUD_AB[int(rng.integers(0, len(CLOUD_AB)))]
        return (int(a) << 24) | (int(b) << 16) | (int(rng.integers(0, 256)) << 8)
    return int(random_ips(rng, 1, RESIDENTIAL_A)[0]) & ~255


def in_subnet(rng: np.random.Generator, base: int, n: int) -> np.ndarray:
    return base + rng.integers(1, 255, n)


# ---------------------------------------------------------------- devices

# (model, os, is_emulator, pool). Pools: phone (everyday phones), tablet, emulator, cheap (phone walls).
DEVICE_CATALOG = [
    ("iPhone 15 Pro", "iOS 17.5", False, "phone", 9), ("iPhone 15", "iOS 17.4", False, "phone", 8),
    ("iPhone 14", "iOS 17.3", False, "phone", 9), ("iPhone 13", "iOS 16.6", False, "phone", 9),
    ("iPhone 12", "iOS 16.3", False, "phone", 5), ("iPhone 11", "iOS 15.7", False, "phone", 3),
    ("HUAWEI Mate 60 Pro", "HarmonyOS 4.0", False, "phone", 6), ("HUAWEI P60", "HarmonyOS 4.0", False, "phone", 4),
    ("HUAWEI nova 11", "HarmonyOS 3.0", False, "phone", 4), ("Xiaomi 14", "Android 14", False, "phone", 5),
    ("Redmi K70", "Android 14", False, "phone", 4), ("Redmi Note 12", "Android 13", False, "phone", 4),
    ("OPPO Reno11", "Android 14", False, "phone", 4), ("OPPO Find X7", "Android 14", False, "phone", 2),
    ("vivo X100", "Android 14", False, "phone", 4), ("vivo S18", "Android 14", False, "phone", 3),
    ("HONOR 90", "Android 13", False, "phone", 3), ("HONOR Magic6", "Android 14", False, "phone", 2),
    ("OnePlus 12", "Android 14", False, "phone", 2), ("Samsung Galaxy S24", "Android 14", False, "phone", 1),
    ("Redmi 9A", "Android 10", False, "phone", 1), ("vivo Y3s", "Android 11", False, "phone", 1),
    ("iPad Air 5", "iPadOS 17.4", False, "tablet", 4), ("iPad 9", "iPadOS 16.7", False, "tablet", 4),
    ("HUAWEI MatePad 11", "HarmonyOS 3.0", False, "tablet", 3), ("Xiaomi Pad 6", "Android 13", False, "tablet", 2),
    ("MuMu 12", "Android 12", True, "emulator", 3), ("LDPlayer 9", "Android 9", True, "emulator", 3),
    ("BlueStacks 5", "Android 11", True, "emulator", 2), ("Nox 7", "Android 9", True, "emulator", 2),
    ("Android SDK built for x86", "Android 11", True, "emulator", 1), ("SM-G9650", "Android 9", True, "emulator", 2),
    ("Redmi 9A", "Android 10", False, "cheap", 3), ("vivo Y3s", "Android 11", False, "cheap", 2),
    ("OPPO A5", "Android 9", False, "cheap", 2), ("HONOR Play 5", "Android 11", False, "cheap", 2),
]


def _pool(name: str) -> tuple[np.ndarray, np.ndarray]:
    idx = np.array([i for i, d in enumerate(DEVICE_CATALOG) if d[3] == name])
    weight = np.array([DEVICE_CATALOG[i][4] for i in idx], dtype=float)
    return idx, weight / weight.sum()


DEVICE_POOLS = {name: _pool(name) for name in ("phone", "tablet", "emulator", "cheap")}


def new_devices(w: World, n: int, pool: str, one_model: bool = False) -> np.ndarray:
    """Create n devices drawn from a pool; a phone wall buys one model in bulk (one_model)."""
    idx, weight = DEVICE_POOLS[pool]
    size = 1 if one_model else n
    models = w.rng.choice(idx, size=size, p=weight)
    base = w.devices.add(model=np.broadcast_to(models, (n,)).astype(np.int16))
    return base + np.arange(n)


def recent_last(rng: np.random.Generator, first: np.ndarray, upper: np.ndarray | int = NOW) -> np.ndarray:
    """A last-seen time between first and upper, usually recent (active users)."""
    return spread(rng, first, np.maximum(upper, np.asarray(first) + 1), skew=0.25)


def link_devices(w: World, accounts, devices, first, last=None) -> None:
    accounts = np.asarray(accounts, dtype=np.int64)
    first = np.minimum(np.broadcast_to(np.asarray(first, dtype=np.int64), accounts.shape), NOW - MINUTE)
    last = recent_last(w.rng, first) if last is None else np.maximum(np.asarray(last, dtype=np.int64), first)
    w.account_devices.add(account=accounts, device=np.asarray(devices, dtype=np.int64), first=first, last=last)


def link_ips(w: World, accounts, ips, first, last=None) -> None:
    accounts = np.asarray(accounts, dtype=np.int64)
    first = np.minimum(np.broadcast_to(np.asarray(first, dtype=np.int64), accounts.shape), NOW - MINUTE)
    last = recent_last(w.rng, first) if last is None else np.maximum(np.asarray(last, dtype=np.int64), first)
    w.account_ips.add(account=accounts, ip=np.asarray(ips, dtype=np.int64), first=first, last=last)


# ---------------------------------------------------------------- accounts

def add_accounts(w: World, *, reg, reg_ip, seg, phone, nickname, default_profile, role, farm=-1,
                 bio=None, status=None, professional=None, act_w=None, pop_w=None, creator_w=None) -> np.ndarray:
    """Append accounts; returns their indices. Omitted columns get farm-like defaults."""
    n = len(reg)
    full = lambda v, fill, dtype: np.broadcast_to(np.asarray(fill if v is None else v, dtype=dtype), (n,)).copy()  # noqa: E731
    w.account_files.add(  # columns only the files need: straight to the scratch files
        reg_ip=full(reg_ip, -1, np.int64), seg=full(seg, 0, np.int32), phone=full(phone, 0, np.int64),
        default_profile=full(default_profile, False, bool), farm=full(farm, -1, np.int32), nickname=nickname,
        bio=bio if bio is not None else pa.array([""] * n, type=pa.string()))
    base = w.accounts.add(
        reg=np.asarray(reg, dtype=np.int64), professional=full(professional, False, bool),
        status=full(status, STATUS["active"], np.int8), role=full(role, 0, np.int8), act_w=full(act_w, 0.0, float),
        pop_w=full(pop_w, 0.02, float), creator_w=full(creator_w, 0.0, float),
    )
    return base + np.arange(n)


def organic_registration_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """Growth: registrations spread over 2019..now, more of them recently, in the daily rhythm."""
    t = spread(rng, np.full(n, PLATFORM_START), NOW - 2 * DAY, skew=0.6)
    return with_rhythm(rng, t, PLATFORM_START, NOW - DAY)


def shared_nat_members(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Public NAT addresses (cafés, campus networks), each shared by tens to hundreds of strangers.

    Returns (member local indices, the NAT address index of each member, is_campus per NAT address).
    """
    n_ips = max(3, n // 4000)
    sizes = np.clip(rng.lognormal(math.log(120), 0.8, n_ips), 20, 600)
    sizes = np.maximum(8, (sizes * min(1.0, 0.05 * n / sizes.sum())).astype(np.int64))
    members = rng.choice(n, size=min(int(sizes.sum()), n // 2), replace=False)
    which = np.repeat(np.arange(n_ips), sizes)[: members.size]
    return members, which, rng.random(n_ips) < 0.5


def family_groups(rng: np.random.Generator, candidates: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Split a share of candidates into households of 2-4 people: (members, group of each member)."""
    want = int(share * candidates.size)
    sizes = rng.integers(2, 5, size=max(1, want // 3 + 1))
    sizes = sizes[np.cumsum(sizes) <= max(want, 2)]
    if sizes.size == 0:
        sizes = np.array([2])
    members = rng.choice(candidates, size=int(sizes.sum()), replace=False)
    return members, np.repeat(np.arange(sizes.size), sizes)


def september_registrations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Freshmen registering in the first three weeks of a September (2019-2024)."""
    years = rng.integers(2019, 2025, n)
    starts = np.array([int(np.datetime64(f"{y}-09-01T00:00:00", "s").astype(np.int64)) - 8 * HOUR for y in range(2019, 2025)])
    t = starts[years - 2019] + rng.integers(0, 21 * DAY, n)
    return with_rhythm(rng, t)


def organic_accounts(w: World, n: int) -> np.ndarray:
    """Ordinary users, with innocent NAT and family-tablet sharing planted among them."""
    rng = w.rng
    reg = organic_registration_times(rng, n)
    role = np.full(n, ROLE["organic"], dtype=np.int8)
    nat_members, nat_which, nat_campus = shared_nat_members(rng, n)
    nat_ips = random_ips(rng, nat_campus.size, RESIDENTIAL_A)
    role[nat_members] = ROLE["organic_shared_nat"]
    campus = nat_campus[nat_which] & (rng.random(nat_members.size) < 0.4)
    reg[nat_members[campus]] = september_registrations(rng, int(campus.sum()))
    fam_members, fam_group = family_groups(rng, np.flatnonzero(role == ROLE["organic"]), 0.015)
    role[fam_members] = ROLE["organic_family_device"]

    lurker = rng.random(n) < 0.35
    creator = rng.random(n) < 0.15
    creator_w = np.where(creator, rng.lognormal(0, 1.2, n), 0.0)
    default_profile = rng.random(n) < 0.08
    keep_default_nick = (default_profile & (rng.random(n) < 0.7)) | (rng.random(n) < 0.02)
    seg, phone = organic_phones(rng, n)
    status = rng.choice(5, size=n, p=[0.9925, 0.003, 0.003, 0.001, 0.0005]).astype(np.int8)
    bio = text.organic_bios(rng, n)
    bio = pc.if_else(pa.array(default_profile), "", bio)

    # Addresses: a home line (shared by a household), the carrier's NAT pool, public NAT.
    home = random_ips(rng, n, RESIDENTIAL_A)
    group_start = np.flatnonzero(np.r_[True, np.diff(fam_group) != 0])
    home[fam_members] = home[fam_members[group_start][fam_group]]
    via_mobile = rng.random(n) < 0.3
    reg_ip = np.where(via_mobile, w.cgnat_pool[rng.integers(0, w.cgnat_pool.size, n)], home)
    reg_ip[nat_members[campus]] = nat_ips[nat_which[campus]]

    idx = add_accounts(
        w, reg=reg, reg_ip=reg_ip, seg=seg, phone=phone,
        nickname=text.organic_nicknames(rng, n, keep_default_nick), default_profile=default_profile,
        role=role, bio=bio, status=status,
        professional=(rng.random(n) < 0.01) | (creator & (rng.random(n) < 0.05)),
        act_w=rng.lognormal(0, 1.3, n) * np.where(lurker, 0.08, 1.0),
        pop_w=rng.lognormal(0, 0.8, n) * (1 + 8 * creator_w), creator_w=creator_w,
    )
    organic_devices(w, idx, reg, fam_members, fam_group)
    organic_ips(w, idx, reg, reg_ip, home)
    later = nat_members[~campus]
    link_ips(w, idx[later], nat_ips[nat_which[~campus]], spread(rng, reg[later], NOW - HOUR))
    return idx


def organic_devices(w: World, idx: np.ndarray, reg: np.ndarray, fam_members: np.ndarray, fam_group: np.ndarray) -> None:
    """Own phone each; 10% changed phones; a few run an emulator on a PC; households share a tablet."""
    rng = w.rng
    link_devices(w, idx, new_devices(w, idx.size, "phone"), reg)
    second = np.flatnonzero(rng.random(idx.size) < 0.10)
    link_devices(w, idx[second], new_devices(w, second.size, "phone"), spread(rng, reg[second], NOW - HOUR))
    emu = np.flatnonzero(rng.random(idx.size) < 0.003)
    link_devices(w, idx[emu], new_devices(w, emu.size, "emulator"), spread(rng, reg[emu], NOW - HOUR))
    tablets = new_devices(w, int(fam_group.max()) + 1, "tablet")
    link_devices(w, idx[fam_members], tablets[fam_group], spread(rng, reg[fam_members], NOW - HOUR))


def organic_ips(w: World, idx, reg, reg_ip, home) -> None:
    """Registration address, the home line, a few carrier-NAT addresses, sometimes a new home."""
    rng = w.rng
    n = idx.size
    link_ips(w, idx, reg_ip, reg)
    away = np.flatnonzero(reg_ip != home)
    link_ips(w, idx[away], home[away], spread(rng, reg[away], NOW - HOUR))
    k = rng.poisson(0.6, n)
    who = np.repeat(np.arange(n), k)
    link_ips(w, idx[who], w.cgnat_pool[rng.integers(0, w.cgnat_pool.size, who.size)], spread(rng, reg[who], NOW - HOUR))
    moved = np.flatnonzero(rng.random(n) < 0.08)
    link_ips(w, idx[moved], random_ips(rng, moved.size, RESIDENTIAL_A), spread(rng, reg[moved], NOW - HOUR))


def brand_accounts(w: World) -> None:
    """Each brand's official account: organic, professional, popular, posts its own brand notes."""
    rng = w.rng
    n = len(w.brand_names)
    reg = with_rhythm(rng, spread(rng, np.full(n, PLATFORM_START), ACTIVITY_START - 30 * DAY))
    seg, phone = organic_phones(rng, n)
    suffix = [["官方旗舰店", "官方", "Official", "品牌号"][int(i)] for i in rng.integers(0, 4, n)]
    nick = pa.array([b + s for b, s in zip(w.brand_names, suffix)], type=pa.string())
    office = random_ips(rng, n, RESIDENTIAL_A)
    idx = add_accounts(w, reg=reg, reg_ip=office, seg=seg, phone=phone, nickname=nick, default_profile=np.zeros(n, bool),
                       role=ROLE["organic"], professional=True,
                       bio=pa.array([f"{b}官方账号" for b in w.brand_names], type=pa.string()),
                       act_w=0.05, pop_w=rng.lognormal(3.0, 0.7, n))
    link_devices(w, idx, new_devices(w, n, "phone"), reg)
    link_ips(w, idx, office, reg)
    w.brand_account = idx


# ---------------------------------------------------------------- farms: shared pieces

def burst_times(rng: np.random.Generator, t0: int, n: int, max_span: int) -> np.ndarray:
    """A registration script: n sign-ups seconds to minutes apart, all within max_span."""
    gap = min(rng.uniform(10, 240), max_span / max(n, 1))
    return t0 + np.cumsum(rng.exponential(gap, n)).astype(np.int64)


def assign_devices(rng: np.random.Generator, n: int, n_dev: int) -> np.ndarray:
    """Spread n accounts over n_dev devices, every device used."""
    return rng.permutation(np.arange(n) % n_dev)


def farm_device_pool(w: World, n_dev: int, emulator_share: float) -> np.ndarray:
    pool = "emulator" if w.rng.random() < emulator_share else "cheap"
    return new_devices(w, n_dev, pool, one_model=pool == "cheap")


def pool_logins(w: World, members: np.ndarray, reg: np.ndarray, pool: np.ndarray, per_account: tuple[int, int],
                last=None) -> None:
    """Each member also logs in from 0..k addresses of the farm's proxy pool."""
    rng = w.rng
    k = rng.integers(per_account[0], per_account[1] + 1, members.size)
    who = np.repeat(np.arange(members.size), k)
    first = reg[who] + rng.integers(MINUTE, 5 * DAY, who.size)
    upper = None if last is None else np.maximum(last[who], first)
    link_ips(w, members[who], pool[rng.integers(0, pool.size, who.size)], first,
             None if upper is None else spread(rng, first, upper + 1))


# ---------------------------------------------------------------- farms, one function per type

def bulk_farm(w: World, farm: Farm) -> None:
    """Freshly bulk-registered accounts: one burst, emulators, virtual numbers, templates, default profiles."""
    rng, n = w.rng, farm.size
    reg = burst_times(rng, int(rng.integers(ACTIVITY_START - 200 * DAY, NOW - 25 * DAY)), n, 6 * HOUR)
    seg, phone = farm_phones(rng, n, 0.85, int(rng.integers(1, 4)))
    net = subnet(rng, cloud=rng.random() < 0.6)
    reg_ips = in_subnet(rng, net, int(rng.integers(1, 4)))
    reg_ip = reg_ips[rng.integers(0, reg_ips.size, n)]
    status = np.where(rng.random(n) < 0.08, STATUS["limited"], STATUS["active"])
    members = add_accounts(w, reg=reg, reg_ip=reg_ip, seg=seg, phone=phone,
                           nickname=text.templated_nicknames(rng, n, int(rng.integers(0, 4))),
                           default_profile=rng.random(n) < 0.9, role=ROLE["bulk_farm"], farm=farm.number,
                           bio=text.farm_bios(rng, n), status=status)
    devices = farm_device_pool(w, math.ceil(n / rng.uniform(4, 15)), 0.7)
    link_devices(w, members, devices[assign_devices(rng, n, devices.size)], reg)
    extra = np.flatnonzero(rng.random(n) < 0.25)
    link_devices(w, members[extra], devices[rng.integers(0, devices.size, extra.size)], reg[extra] + rng.integers(MINUTE, DAY, extra.size))
    link_ips(w, members, reg_ip, reg)
    pool = in_subnet(rng, net, max(2, n // 4)) if rng.random() < 0.5 else random_ips(rng, max(2, n // 3), RESIDENTIAL_A)
    pool_logins(w, members, reg, pool, (1, 2))


def aged_farm(w: World, farm: Farm) -> None:
    """Aged, camouflaged accounts (素人号): spread-out registration, organic looks, weak shared links."""
    rng, n = w.rng, farm.size
    start = int(rng.integers(PLATFORM_START + 365 * DAY, NOW - 300 * DAY))
    end = min(start + int(rng.uniform(90, 365) * DAY), NOW - 30 * DAY)
    reg = with_rhythm(rng, spread(rng, np.full(n, start), end), start, end)
    seg, phone = farm_phones(rng, n, 0.5, int(rng.integers(2, 5)))
    nets = [subnet(rng, cloud=False) for _ in range(int(rng.integers(1, 3)))]
    net_of = rng.integers(0, len(nets), n)
    reg_ip = np.array(nets, dtype=np.int64)[net_of] + rng.integers(1, 255, n)
    default_profile = rng.random(n) < 0.15
    members = add_accounts(w, reg=reg, reg_ip=reg_ip, seg=seg, phone=phone,
                           nickname=text.organic_nicknames(rng, n, default_profile & (rng.random(n) < 0.5)),
                           default_profile=default_profile, role=ROLE["aged_farm"], farm=farm.number,
                           bio=text.organic_bios(rng, n), act_w=rng.lognormal(-0.3, 0.6, n),
                           pop_w=rng.lognormal(-0.2, 0.8, n), creator_w=0.3 * rng.lognormal(0, 0.5, n))
    devices = new_devices(w, math.ceil(n / rng.uniform(5, 10)), "phone" if rng.random() < 0.7 else "emulator")
    link_devices(w, members, devices[assign_devices(rng, n, devices.size)], reg)
    link_ips(w, members, reg_ip, reg)
    more = np.flatnonzero(rng.random(n) < 0.5)
    link_ips(w, members[more], np.array(nets, dtype=np.int64)[net_of[more]] + rng.integers(1, 255, more.size),
             spread(rng, reg[more], NOW - HOUR))
    mobile = np.flatnonzero(rng.random(n) < 0.6)
    link_ips(w, members[mobile], w.cgnat_pool[rng.integers(0, w.cgnat_pool.size, mobile.size)],
             spread(rng, reg[mobile], NOW - HOUR))


def comment_ring(w: World, farm: Farm) -> None:
    """Water-army accounts registered in a few batches, sharing emulators and a proxy pool."""
    rng, n = w.rng, farm.size
    batches = int(rng.integers(1, 4))
    starts = np.sort(rng.integers(ACTIVITY_START - 120 * DAY, NOW - 60 * DAY, batches))
    batch = np.sort(rng.integers(0, batches, n))
    reg = np.concatenate([burst_times(rng, int(starts[b]), int((batch == b).sum()), 4 * HOUR) for b in range(batches)])
    seg, phone = farm_phones(rng, n, 0.7, int(rng.integers(1, 4)))
    templated = rng.random() < 0.5
    nickname = (text.templated_nicknames(rng, n, int(rng.integers(0, 4))) if templated
                else text.organic_nicknames(rng, n, rng.random(n) < 0.1))
    cloud = rng.random() < 0.5
    pool = in_subnet(rng, subnet(rng, cloud=True), max(2, n // 3)) if cloud else random_ips(rng, max(2, n // 3), RESIDENTIAL_A)
    reg_ip = pool[rng.integers(0, pool.size, n)]
    members = add_accounts(w, reg=reg, reg_ip=reg_ip, seg=seg, phone=phone, nickname=nickname,
                           default_profile=rng.random(n) < (0.6 if templated else 0.2), role=ROLE["comment_ring"],
                           farm=farm.number, bio=text.farm_bios(rng, n), act_w=0.05 * rng.lognormal(0, 0.5, n))
    devices = farm_device_pool(w, math.ceil(n / rng.uniform(3, 8)), 0.5)
    link_devices(w, members, devices[assign_devices(rng, n, devices.size)], reg)
    link_ips(w, members, reg_ip, reg)
    pool_logins(w, members, reg, pool, (0, 2))
    farm.wx, farm.qq = text.contact_ids(rng)


def evasion_farm(w: World, farm: Farm) -> None:
    """Spammers banned together, then re-registered after the ban on the same (banned) devices."""
    rng, n = w.rng, farm.size
    n1 = max(3, round(0.55 * n))
    n2 = n - n1
    reg1 = burst_times(rng, int(rng.integers(ACTIVITY_START - 60 * DAY, NOW - 160 * DAY)), n1, 4 * HOUR)
    ban = int(reg1.max() + rng.integers(20, 90) * DAY + rng.integers(0, DAY))
    reg2 = burst_times(rng, ban + int(rng.integers(12 * HOUR, 15 * DAY)), n2, 6 * HOUR)
    reg = np.concatenate([reg1, reg2])
    seg, phone = farm_phones(rng, n, 0.8, int(rng.integers(2, 4)))
    net = subnet(rng, cloud=rng.random() < 0.5)
    reg_ip = in_subnet(rng, net, n)
    styles = rng.permutation(4)[:2]
    nickname = pa.concat_arrays([text.templated_nicknames(rng, n1, int(styles[0])),
                                 text.templated_nicknames(rng, n2, int(styles[1]))])
    status = np.r_[np.full(n1, STATUS["banned"]), np.full(n2, STATUS["active"])]
    members = add_accounts(w, reg=reg, reg_ip=reg_ip, seg=seg, phone=phone, nickname=nickname,
                           default_profile=rng.random(n) < 0.8, role=ROLE["evasion"], farm=farm.number,
                           bio=text.farm_bios(rng, n), status=status)
    gen1, gen2 = members[:n1], members[n1:]
    devices = farm_device_pool(w, math.ceil(n1 / rng.uniform(3, 8)), 0.7)
    last1 = np.minimum(recent_last(rng, reg1, ban), ban)
    link_devices(w, gen1, devices[assign_devices(rng, n1, devices.size)], reg1, last1)
    reuse = rng.random(n2) < 0.75
    fresh = new_devices(w, max(1, math.ceil((~reuse).sum() / 3)), "emulator")
    dev2 = np.where(reuse, devices[rng.integers(0, devices.size, n2)], fresh[rng.integers(0, fresh.size, n2)])
    link_devices(w, gen2, dev2, reg2)
    link_ips(w, gen1, reg_ip[:n1], reg1, last1)
    link_ips(w, gen2, reg_ip[n1:], reg2)
    pool = in_subnet(rng, net, max(2, n // 4))
    pool_logins(w, gen1, reg1, pool, (0, 2), last=last1)
    pool_logins(w, gen2, reg2, pool, (0, 2))
    farm.ban_time, farm.n_banned = ban, n1
    farm.wx, farm.qq = text.contact_ids(rng)


def engagement_farm(w: World, farm: Farm) -> None:
    """Like-and-follow sellers: emulator clusters behind one or two cloud addresses."""
    rng, n = w.rng, farm.size
    t0 = int(rng.integers(ACTIVITY_START - 150 * DAY, NOW - 45 * DAY))
    if rng.random() < 0.7:
        reg = burst_times(rng, t0, n, 8 * HOUR)
    else:
        reg = np.sort(spread(rng, np.full(n, t0), t0 + int(rng.integers(14, 42)) * DAY))
    seg, phone = farm_phones(rng, n, 0.9, int(rng.integers(1, 3)))
    net = subnet(rng, cloud=True)
    shared = in_subnet(rng, net, int(rng.integers(1, 3)))
    reg_ip = shared[rng.integers(0, shared.size, n)]
    members = add_accounts(w, reg=reg, reg_ip=reg_ip, seg=seg, phone=phone,
                           nickname=text.templated_nicknames(rng, n, int(rng.integers(0, 4))),
                           default_profile=rng.random(n) < 0.85, role=ROLE["engagement_farm"], farm=farm.number,
                           bio=text.farm_bios(rng, n))
    devices = new_devices(w, math.ceil(n / rng.uniform(10, 30)), "emulator")
    link_devices(w, members, devices[assign_devices(rng, n, devices.size)], reg)
    link_ips(w, members, reg_ip, reg)
    pool_logins(w, members, reg, in_subnet(rng, net, max(2, n // 6)), (0, 1))


FARM_BUILDERS = {
    "bulk_farm": bulk_farm,
    "aged_farm": aged_farm,
    "comment_ring": comment_ring,
    "evasion": evasion_farm,
    "engagement_farm": engagement_farm,
}


def consolidate_links(chunks, other: str) -> dict:
    """One row per (account, device or address), in that order: earliest first_seen, latest last_seen.

    Takes (and releases) the raw rows held in `chunks`. Compact types: accounts and devices
    int32, addresses uint32, times int32 (Unix seconds: every simulated time is before 2038).
    """
    links = chunks.frozen(release=True)
    account, target = np.asarray(links["account"], np.int64), np.asarray(links[other], np.int64)
    key = (account << 32) | target
    order = np.argsort(key, kind="stable")
    k = key[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if k.size else np.zeros(0, np.int64)
    first, last = np.asarray(links["first"], np.int64), np.asarray(links["last"], np.int64)
    return {"account": (k[starts] >> 32).astype(np.int32),
            other: (k[starts] & 0xFFFFFFFF).astype(np.uint32 if other == "ip" else np.int32),
            "first": (np.minimum.reduceat(first[order], starts) if k.size else first).astype(np.int32),
            "last": (np.maximum.reduceat(last[order], starts) if k.size else last).astype(np.int32)}


def close_links(w: World) -> None:
    """Consolidate the links of every account added since the last call.

    Each account's links are all added with the account, so consolidating account
    ranges one after another gives the rows one consolidation of everything would.
    """
    w.link_parts["device"].append(consolidate_links(w.account_devices, "device"))
    w.link_parts["ip"].append(consolidate_links(w.account_ips, "ip"))


def joined_links(parts: list[dict]) -> dict:
    """The consolidated parts as one table (the parts are emptied as they are joined, column by column)."""
    joined = {}
    for name in list(parts[0]):
        joined[name] = np.concatenate([part.pop(name) for part in parts])
        release_memory()
    return joined
