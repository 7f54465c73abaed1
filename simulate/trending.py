"""The trending list and what moves it: heat campaigns (what ``trending_heat`` looks for), and organic look-alikes.

Over the last ``LIST_DAYS`` days the platform captures its trending list every hour (the top ``LIST_SIZE``
topics by the comments, x3, and likes on notes carrying them in the last 3 hours, plus a slowly drifting base
for the evergreen theme hashtags, which stand for the searches and views the export does not hold). What
happens on it:

- **Viral trends** (look-alikes, ``viral``): a new hashtag catches on; organic users post notes with it and
  comment and like them, rising for a few hours and fading over a day (gamma-shaped), hundreds of distinct
  people, some of them new users.
- **Celebrity events** (camouflage, ``celebrity``): a star's concert; a fan base (1.5 % of organic accounts)
  posts about two of the star's hashtags (a note per five fans) and comments and likes within minutes of the
  start (timing no rule may take as lockstep), and again days later on one of them, so the same fans engage
  several risen topics. People's comments are the platform's organic comments (``text.organic_comments``).
- **Heat operations** (``heat``, ground truth: role ``heat_campaign``): an operator runs a pool of 35-65 accounts
  (times the square root of the platform's size in 20,000s, so that two waves lift a topic onto the list), bought
  organic accounts with their own history (``is_fake`` true, farm ``F`` numbered after the farms) and
  members of one bulk farm (keeping their farm), and pushes 3-4 topics for clients days apart: a brand's launch
  hashtag, and for one operation a hashtag riding a star's concert (``#<star>同款``) the same evening, mixed with
  the fans' organic hype. For each: a few notes by pool accounts 4-6 h before the wanted rise, then three waves
  of comments and likes (70 % of the pool, 1-2 each within 25 minutes of the dispatch) in the 4 h before it;
  after the rise the list brings organic engagement for hours, and the pool stops.

Everything is drawn from a generator of its own (the seed and ``TRENDING_STREAM``) after the rest of the platform
is made, and written after the platform's rows (notes, comments, likes numbered after theirs): every other file
keeps its rows; ``labels`` changes the bought accounts (and the pool's bulk-farm members' role), and
``trending`` and ``trending_labels`` (the ground truth per topic, evaluation only) are new. O(events planted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ringscope.common.memory import release_memory
from ringscope.simulate.automated import _links_used
from ringscope.simulate.clock import DAY, HOUR, MINUTE, NOW
from ringscope.simulate.encode import iso_times, splitmix64
from ringscope.simulate.text import organic_comments
from ringscope.simulate.world import FIRST_FAKE_ROLE, ROLE, World

TRENDING_STREAM = 1412  # 1409 is the drift crews', 1410 the clients', 1411 the farmed accounts'
LIST_DAYS = 30
LIST_SIZE = 20
SCORE_HOURS = 3
COMMENT_WEIGHT = 3
LIST_START = NOW - LIST_DAYS * DAY
EVERGREEN = 150.0

STARS = ("林晚", "周屿", "苏念", "陈遇", "许之夏", "江辰")
VIRAL = ("猫咪跳水挑战", "城市夜跑打卡", "一人食100天", "县城咖啡地图", "旧物改造大赛", "外婆的菜谱",
         "地铁穿搭图鉴", "周末逃离计划", "打工人午餐盒", "阳台菜园", "宠物证件照", "早八伪素颜")
PRODUCTS = ("新品", "联名款", "限定礼盒", "首发")
CHEERS = ("冲鸭", "支持支持", "必须上热搜", "太期待了", "已经下单了", "姐妹们冲", "绝绝子", "买它", "真的好看",
          "蹲一个", "已种草", "爱了爱了")
CHEER_TAILS = ("！", "！！", "～", "👍", "🔥🔥", "💪", "❤️", "")
ORGANIC_LINES = ("刚刷到这个，太有意思了", "哈哈哈我也想试试", "这个真的火了", "求教程", "好羡慕", "我家也是这样",
                 "收藏了慢慢看", "第一次见，学到了", "楼主好厉害", "好真实啊", "看哭了", "明天就去")
FAN_LINES = ("今晚的舞台太燃了", "哭了，终于等到", "现场的氛围绝了", "新歌单曲循环中", "谁懂啊这个高音", "爱你一辈子",
             "这次的造型好绝", "已经买了周边")


@dataclass
class Trending:
    """What ``plant_trending`` made: extra notes, comments and likes (internal indices, Unix seconds), the list's
    rows, and the ground truth per topic."""

    notes: dict = field(default_factory=dict)      # author, posted (arrays); topic, title, text (Arrow strings)
    comments: dict = field(default_factory=dict)   # account, note (extra index), t, device, ip (arrays); text (Arrow)
    likes: dict = field(default_factory=dict)      # account, note (extra index), t
    snapshots: dict = field(default_factory=dict)  # captured_at, rank, topic, score
    truth: list = field(default_factory=list)      # (topic, kind, operation)
    operation: np.ndarray | None = None            # per account: the heat operation it works for, -1 none


class _Plan:
    """The notes and events the trends make, kept as one array chunk per call (and the comments' texts as Arrow
    strings): at 10 M accounts they are ~1 M notes and ~11 M events, which as Python objects per event took the
    simulator's process to 9 GiB (benchmarks/results/spark_detection.md, 2026-12-05). The generator's draws are
    the same, in the same order, as when they were made one event at a time, so the files are unchanged."""

    def __init__(self, w: World, rng: np.random.Generator):
        self.w, self.rng = w, rng
        # per ``post``: authors, posted, topic, its lines, each note's line index
        self.note_chunks: list[tuple[np.ndarray, np.ndarray, str, tuple[str, ...], np.ndarray]] = []
        # per ``engage``: accounts, notes, times, is-comment, the comments' texts (in event order)
        self.event_chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, pa.Array]] = []
        self.n_notes = 0
        self._posted: np.ndarray = np.zeros(0, np.int64)
        self.truth: list[tuple[str, str, str]] = []

    def _registered(self, accounts: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Which of the (account, time) rows come after the account's registration (an hour or more)."""
        return np.asarray(self.w.A["reg"])[np.asarray(accounts, np.int64)] + HOUR <= np.asarray(times)

    def posted(self) -> np.ndarray:
        """When each note planted so far was posted, by its index. O(notes) after a ``post``."""
        if self._posted.size != self.n_notes:
            self._posted = np.concatenate([c[1] for c in self.note_chunks])
        return self._posted

    def post(self, authors: np.ndarray, times: np.ndarray, topic: str, lines: tuple[str, ...]) -> np.ndarray:
        first = self.n_notes
        ok = self._registered(authors, times)
        authors = np.asarray(authors)[ok].astype(np.int64)
        times = np.asarray(times)[ok].astype(np.int64)  # truncated, as int() of each did
        which = np.array([int(self.rng.integers(len(lines))) for _ in range(authors.size)], np.int64)
        self.note_chunks.append((authors, times, topic, lines, which))
        self.n_notes += authors.size
        return np.arange(first, self.n_notes)

    def engage(self, accounts: np.ndarray, times: np.ndarray, notes: np.ndarray, lines: tuple[str, ...] | None,
               comment_share: float = 0.45) -> None:
        """Each event on a note of ``notes`` posted before it (the first note when none was); none by an account
        not registered yet."""
        if not len(notes):
            return
        ok = self._registered(accounts, times)
        accounts, times = np.asarray(accounts)[ok].astype(np.int64), np.asarray(times)[ok].astype(np.int64)
        all_posted = self.posted()
        posted = all_posted[notes]
        order = np.argsort(posted, kind="stable")
        notes, posted = notes[order], posted[order]
        before = np.maximum(np.searchsorted(posted, times, side="right"), 1)
        chosen = notes[(self.rng.random(times.size) * before).astype(np.int64)]
        comment = self.rng.random(times.size) < comment_share
        said = int(comment.sum())
        # People write as the platform's people do (``text.organic_comments``); an operation's workers cheer.
        if lines is None:
            texts = organic_comments(self.rng, said, list(self.w.brand_names) or ["品牌"])
        else:
            texts = pa.array([lines[int(self.rng.integers(len(lines)))]
                              + CHEER_TAILS[int(self.rng.integers(len(CHEER_TAILS)))] for _ in range(said)], pa.string())
        at = np.maximum(times, all_posted[chosen] + 30)
        self.event_chunks.append((accounts, chosen.astype(np.int64), at, comment, texts))


def _organic(w: World) -> np.ndarray:
    return np.flatnonzero(np.asarray(w.A["role"]) < FIRST_FAKE_ROLE)


def _plain(w: World) -> np.ndarray:
    """Ordinary people (role organic): what an operation buys (not creators under contract, not shared devices)."""
    return np.flatnonzero(np.asarray(w.A["role"]) == ROLE["organic"])


def plant_trending(w: World, seed: int) -> Trending:
    """Viral trends, celebrity events and heat operations in the list's last ``LIST_DAYS`` days, and the list's
    hourly captures (see the module). Marks the operations' accounts ``heat_campaign``."""
    rng = np.random.default_rng([seed, TRENDING_STREAM])
    # The operations' shapes (pool sizes, which farm, how many topics) from a generator of their own, so they
    # do not depend on how many draws the organic events took (a platform made in parts has other organic rows).
    shape = np.random.default_rng([seed, TRENDING_STREAM, 1])
    n = w.n_accounts
    plan = _Plan(w, rng)
    organic = _organic(w)
    operation = np.full(n, -1, np.int64)
    if organic.size < 50:
        return Trending(operation=operation)
    scale = n / 20_000

    # viral trends: organic people, rising for hours, fading over a day
    for i in range(int(np.clip(n // 2500, 4, 40))):
        topic = f"#{VIRAL[i % len(VIRAL)]}" + (f"{i // len(VIRAL) + 1}" if i >= len(VIRAL) else "")
        start = int(rng.integers(LIST_START + DAY, NOW - 2 * DAY))
        volume = int(max(60, 300 * scale * rng.lognormal(0, 0.4)))
        people = rng.choice(organic, max(20, volume // 2), replace=False)
        notes = plan.post(rng.choice(people, max(3, volume // 25)), start + rng.gamma(1.5, HOUR, max(3, volume // 25)),
                          topic, ORGANIC_LINES)
        who = rng.choice(people, volume)
        plan.engage(who, start + rng.gamma(2.0, 3 * HOUR, volume).astype(np.int64), notes, None)
        plan.truth.append((topic, "viral", ""))

    # celebrity events: fans of a star around a concert, two hashtags, and one again days later
    stars = []
    for i in range(int(np.clip(n // 10_000, 1, len(STARS)))):
        star = STARS[i]
        fans = rng.choice(organic, max(30, int(0.015 * organic.size)), replace=False)
        day = int(rng.integers(3, LIST_DAYS - 8))
        concert = LIST_START + day * DAY + 20 * HOUR - 8 * HOUR  # 20:00 China time
        stars.append((star, concert, fans))
        for topic, at in ((f"#{star}演唱会", concert), (f"#{star}新歌", concert),
                          (f"#{star}新歌", concert + int(rng.integers(3, 7)) * DAY)):
            # fans post about it by the dozen (one note per five fans), over the two hours before the show
            m = max(6, fans.size // 5)
            notes = plan.post(rng.choice(fans, m), at - rng.uniform(0, 2 * HOUR, m), topic, FAN_LINES)
            k = int(fans.size * rng.uniform(1.0, 2.0))
            plan.engage(rng.choice(fans, k), at + rng.exponential(40 * MINUTE, k).astype(np.int64), notes, None)
            if (topic, "celebrity", "") not in plan.truth:
                plan.truth.append((topic, "celebrity", ""))

    # heat operations
    bulk = [f for f in w.farms if f.kind == "bulk_farm"]
    n_ops = int(np.clip(n // 10_000, 1, 8))
    brands = list(w.brand_names) or ["品牌"]
    taken = np.zeros(n, bool)
    plain = _plain(w)
    pushed_topics: set[str] = set()
    # Not the authors of notes others copied (simulate.bodies): their originals stay honest people's.
    texts = w.note_texts
    copied = np.r_[texts.source[texts.source >= 0], texts.extra["source"][texts.extra["source"] >= 0]] \
        if texts is not None else np.zeros(0, np.int64)
    # a source may be an extra note itself (simulate.farmed copies notes after the bodies' own copies)
    authors = np.r_[np.asarray(w.N["author"]), texts.extra["author"]] if texts is not None else np.asarray(w.N["author"])
    plain = np.setdiff1d(plain, authors[copied.astype(np.int64)])
    for op in range(n_ops):
        grow = max(1.0, scale) ** 0.5  # a larger platform's list takes a larger pool to enter
        # A pool large enough that two waves lift a topic past the list's 20th (about 35 accounts at 20,000,
        # times ``grow``): an operation that could not would sell nothing. Bought people make up for a farm's
        # members when no bulk farm is free.
        want_bought, from_farm = int(shape.integers(25, 46) * grow), int(shape.integers(10, 21) * grow)
        # a farm whose members are all still plain bulk accounts (not a program's, not raised to take declared
        # orders by simulate.farmed)
        free = [f for f in bulk if np.all(np.asarray(w.A["role"])[f.members] == ROLE["bulk_farm"])
                and not taken[f.members].any()]
        farm = free[int(shape.integers(len(free)))] if free else None
        from_farm = min(farm.size, from_farm) if farm is not None else 0
        want_bought = max(want_bought, int(35 * grow) - from_farm)
        free_people = plain[~taken[plain]]
        members = [rng.choice(free_people, min(free_people.size, want_bought), replace=False)]
        if farm is not None:
            members.append(rng.choice(farm.members, from_farm, replace=False))
        pool = np.sort(np.concatenate(members))
        taken[pool] = True
        operation[pool] = op
        targets = []
        for j in range(int(shape.integers(3, 5))):
            for _ in range(20):  # a topic no other operation pushes
                brand = brands[int(rng.integers(len(brands)))]
                topic = f"#{brand}{PRODUCTS[int(rng.integers(len(PRODUCTS)))]}"
                if topic not in pushed_topics:
                    break
            pushed_topics.add(topic)
            targets.append((topic, None))
        if op == 0 and stars:
            star, concert, _ = stars[0]
            targets[0] = (f"#{star}同款", concert + 30 * MINUTE)
        day = int(rng.integers(1, 5))
        for j, (topic, at) in enumerate(targets):
            rise = at if at is not None else \
                LIST_START + (day + 6 * j) * DAY + int(rng.integers(10, 22)) * HOUR - 8 * HOUR
            if rise >= NOW - DAY:
                continue
            notes = plan.post(rng.choice(pool, 3), rise - rng.uniform(4 * HOUR, 6 * HOUR, 3), topic, CHEERS)
            pushed = 0
            for dispatch in (rise - 4 * HOUR, rise - int(2.5 * HOUR), rise - HOUR):
                workers = rng.choice(pool, int(0.8 * pool.size), replace=False)
                who = np.repeat(workers, rng.integers(1, 3, workers.size))
                plan.engage(who, dispatch + rng.uniform(0, 25 * MINUTE, who.size).astype(np.int64), notes, CHEERS,
                            comment_share=0.6)
                pushed += who.size
            early = rng.choice(organic, max(3, pushed // 6))
            plan.engage(early, rise - rng.uniform(0, 6 * HOUR, early.size).astype(np.int64), notes, None)
            later = rng.choice(organic, int(pushed * rng.uniform(0.8, 1.5)))
            plan.engage(later, rise + rng.gamma(1.5, 2 * HOUR, later.size).astype(np.int64), notes, None)
            plan.truth.append((topic, "heat", f"H{op + 1:02d}"))

    role = np.asarray(w.A["role"])
    role[operation >= 0] = ROLE["heat_campaign"]
    return _finish(w, plan, operation, rng)


def _bodies(seed: int, lines: pa.Array) -> pa.Array:
    """Each note's body: its opening line, then an organic body drawn as ``simulate.bodies`` draws one (by
    hashing, from keys of this stream's own), cut to ``bodies.MAX_BODY`` characters; made in slices, so that
    only one slice's bodies are Python strings at a time. O(notes)."""
    from ringscope.simulate.bodies import MAX_BODY, RENDER_ROWS, Recipe, organic_bodies

    if not len(lines):
        return pa.array([], pa.string())
    with np.errstate(over="ignore"):
        salt = splitmix64(np.array([seed * 0x100000001B3 + TRENDING_STREAM], np.uint64))[0]
        keys = splitmix64(np.arange(len(lines), dtype=np.uint64) ^ salt) | np.uint64(1)
    parts = []
    for start in range(0, len(lines), RENDER_ROWS):
        cut = slice(start, start + RENDER_ROWS)
        body, _ = organic_bodies(Recipe(keys[cut], np.zeros(keys[cut].size, np.uint64)))
        parts.append(pa.array([f"{line}。{text}"[:MAX_BODY]
                               for line, text in zip(lines[cut].to_pylist(), body.to_pylist())], pa.string()))
        release_memory()  # the slice's intermediate texts, before the next slice takes as much again
    return pa.concat_arrays(parts)


def _notes(plan: _Plan, seed: int) -> dict:
    """The planted notes as columns: authors and times as arrays, topic, title and text as Arrow strings."""
    if not plan.note_chunks:
        return {"author": np.zeros(0, np.int64), "posted": np.zeros(0, np.int64), "topic": pa.array([], pa.string()),
                "title": pa.array([], pa.string()), "text": pa.array([], pa.string())}
    topics, titles, opening = [], [], []
    for authors, _, topic, lines, which in plan.note_chunks:
        picks = pa.array(which)
        topics.append(pa.array([topic], pa.string()).take(pa.array(np.zeros(authors.size, np.int64))))
        titles.append(pa.array([f"{topic[1:]}｜{line}"[:20] for line in lines], pa.string()).take(picks))
        opening.append(pa.array(list(lines), pa.string()).take(picks))
    return {"author": np.concatenate([c[0] for c in plan.note_chunks]),
            "posted": np.concatenate([c[1] for c in plan.note_chunks]),
            "topic": pa.concat_arrays(topics), "title": pa.concat_arrays(titles),
            "text": _bodies(seed, pa.concat_arrays(opening))}


def _finish(w: World, plan: _Plan, operation: np.ndarray, rng: np.random.Generator) -> Trending:
    N = _notes(plan, w.seed)
    chunks = plan.event_chunks
    account, note, t, kind = ((np.concatenate([c[i] for c in chunks]) if chunks else np.zeros(0, np.int64))
                              for i in range(4))
    kind = kind.astype(bool)
    texts = pa.concat_arrays([c[4] for c in chunks]) if chunks else pa.array([], pa.string())
    plan.event_chunks, chunks = [], None  # the chunks' copies, before the sorts below take as much again
    keep = t < NOW
    comment = kind & keep
    comment_text = texts.filter(pa.array(keep[kind]))
    comments = {"account": account[comment], "note": note[comment], "t": t[comment]}
    order = np.lexsort((comments["account"], comments["t"]))
    comments = {k: v[order] for k, v in comments.items()}
    comments["text"] = comment_text.take(pa.array(order))
    comments["device"] = _links_used(w, "device", rng, comments["account"], comments["t"])
    comments["ip"] = _links_used(w, "ip", rng, comments["account"], comments["t"])
    like = ~kind & keep
    pairs = np.stack([account[like], note[like]], axis=1)
    like_keys = np.unique(pairs, axis=0, return_index=True)[1] if pairs.size else np.zeros(0, np.int64)
    likes = {"account": account[like][like_keys], "note": note[like][like_keys], "t": t[like][like_keys]}
    order = np.lexsort((likes["account"], likes["t"]))
    likes = {k: v[order] for k, v in likes.items()}
    snapshots = _list(N, comments, likes, rng, w.n_accounts / 20_000)
    return Trending(notes=N, comments=comments, likes=likes, snapshots=snapshots, truth=plan.truth,
                    operation=operation)


def _list(N: dict, comments: dict, likes: dict, rng: np.random.Generator, scale: float) -> dict:
    """The hourly captures: top ``LIST_SIZE`` by weighted engagement in the last ``SCORE_HOURS`` hours, with the
    evergreen hashtags (every theme's and the general ones) on a drifting base that keeps the list full: the
    ``LIST_SIZE``-th of them stands near ``EVERGREEN`` (times the square root of the platform's size in 20,000s),
    about two waves of a heat operation's pool."""
    from ringscope.simulate.bodies import GENERAL_TAGS, THEMES

    topics = sorted(set(pc.unique(N["topic"]).to_pylist()))
    index = {t: i for i, t in enumerate(topics)}
    note_topic = pc.index_in(N["topic"], pa.array(topics, pa.string())).to_numpy(zero_copy_only=False).astype(np.int64)
    hours = np.arange(LIST_START // HOUR + 1, NOW // HOUR + 1) * HOUR
    score = np.zeros((len(topics), hours.size))
    for ev, weight in ((comments, COMMENT_WEIGHT), (likes, 1)):
        if not ev["t"].size:
            continue
        topic = note_topic[ev["note"]]
        slot = np.searchsorted(hours, ev["t"], side="right")  # first capture after the event
        for lag in range(SCORE_HOURS):
            s = slot + lag
            ok = s < hours.size
            np.add.at(score, (topic[ok], s[ok]), weight)
    evergreen = [t for t in dict.fromkeys([tag for tags, _, _ in THEMES for tag in tags] + list(GENERAL_TAGS))
                 if t not in index]
    drift = np.exp(np.clip(np.cumsum(rng.normal(0, 0.03, (len(evergreen), hours.size)), axis=1), -0.3, 0.3))
    base = EVERGREEN * max(1.0, scale) ** 0.5 * rng.uniform(0.4, 1.3, (len(evergreen), 1)) / 1.1 * drift
    names = topics + evergreen
    allscore = np.vstack([score, base])
    rows = {"captured_at": [], "rank": [], "topic": [], "score": []}
    for h in range(hours.size):
        col = allscore[:, h]
        top = np.argsort(-col, kind="stable")[:LIST_SIZE]
        top = top[col[top] > 0]
        rows["captured_at"].append(np.full(top.size, hours[h], np.int64))
        rows["rank"].append(np.arange(1, top.size + 1))
        rows["topic"].extend(names[i] for i in top)
        rows["score"].append(np.round(col[top] * 100).astype(np.int64))
    return {"captured_at": np.concatenate(rows["captured_at"]), "rank": np.concatenate(rows["rank"]),
            "topic": rows["topic"], "score": np.concatenate(rows["score"])}


def trending_table(t: Trending) -> pa.Table:
    S = t.snapshots
    if not S:
        return pa.table({"captured_at": pa.array([], pa.string()), "rank": pa.array([], pa.int64()),
                         "topic": pa.array([], pa.string()), "score": pa.array([], pa.int64())})
    return pa.table({"captured_at": iso_times(S["captured_at"]), "rank": pa.array(S["rank"], pa.int64()),
                     "topic": pa.array(S["topic"], pa.string()), "score": pa.array(S["score"], pa.int64())})


def truth_table(t: Trending) -> pa.Table:
    """Ground truth per planted topic (evaluation only): its kind (viral, celebrity, heat) and operation."""
    return pa.table({"topic": pa.array([x[0] for x in t.truth], pa.string()),
                     "kind": pa.array([x[1] for x in t.truth], pa.string()),
                     "operation": pa.array([x[2] or None for x in t.truth], pa.string())})

