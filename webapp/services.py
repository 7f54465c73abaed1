"""What pages call: one driver per process, cached reads, and errors turned into messages.

Pages never touch the driver: they call these wrappers around ``queries/``
(and the sanctions, evidence and audit services). ``get_graph`` is the one
``st.cache_resource`` around ``graph.database.connect()``; reads that do not
change between clicks are cached with ``st.cache_data`` (keyed by run id,
cluster id, search text ...), briefly where a sanction can change them.

Every call goes through ``guard``: a database that is down, a query that
timed out, or an entity that was deleted becomes an ``AppError`` with a clear
message; the page shows it with ``st.error`` and stays usable.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

import streamlit as st

from ringscope.common.errors import DatabaseError, DatabaseUnavailable, QueryTimeout, RingscopeError, SettingError
from ringscope.detection import history
from ringscope.queries import bans, entities, neighbours, overview, search, trending
from ringscope.queries.neighbours import Expansion, NeighbourCounts

T = TypeVar("T")
APP_QUERY_TIMEOUT_S = float(os.environ.get("RINGSCOPE_APP_QUERY_TIMEOUT_S", "20"))


class AppError(Exception):
    """Something the user should read: the page shows it and carries on."""


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, AppError):
        return str(exc)
    if isinstance(exc, DatabaseUnavailable):
        return ("The database is not reachable right now (it may be restarting). "
                f"Try again in a moment; nothing you did was lost. ({exc})")
    if isinstance(exc, (ConnectionError, OSError)):
        return ("The database is not reachable right now (it may be restarting). "
                "Try again in a moment; nothing you did was lost.")
    if isinstance(exc, QueryTimeout):
        return ("The query took longer than the app allows "
                f"({APP_QUERY_TIMEOUT_S:.0f} s). Narrow it down (a relationship type, a time range) and try again.")
    if isinstance(exc, DatabaseError):
        return str(exc)[:1].upper() + str(exc)[1:]
    if isinstance(exc, RingscopeError):
        return str(exc)
    return f"Unexpected error: {type(exc).__name__}: {exc}"


def guard(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn``; any database or ringscope error becomes an ``AppError`` with a clear message."""
    try:
        return fn(*args, **kwargs)
    except AppError:
        raise
    except (RingscopeError, OSError, ConnectionError) as exc:
        raise AppError(describe_error(exc)) from exc


@contextmanager
def shown_errors() -> Iterator[None]:
    """``with shown_errors():`` -- an AppError inside shows as a red box and the page carries on."""
    try:
        yield
    except AppError as exc:
        st.error(str(exc), icon=":material/error:")


@st.cache_resource(show_spinner=False)
def _connect():
    from ringscope.graph.database import connect
    from ringscope.graph.settings import load_settings

    settings = load_settings()
    settings = dataclasses.replace(settings, query_timeout_s=min(settings.query_timeout_s, APP_QUERY_TIMEOUT_S))
    graph = connect(settings)
    threading.Thread(target=warm_up, args=(graph,), name="ringscope-warm-up", daemon=True).start()
    if run_watch_seconds() > 0:
        threading.Thread(target=watch_runs, args=(graph,), name="ringscope-run-watch", daemon=True).start()
    return graph


def warm_up(graph) -> None:
    """Have Neo4j plan the app's statements once, in the background, so the first clicks do not pay
    for query planning (up to a second for the larger statements, measured)."""
    probe = "__warm_up__"
    steps = [
        lambda: overview.latest_run(graph),
        lambda: overview.top_clusters(graph, probe, 1),
        lambda: search.search(graph, probe),
        lambda: neighbours.neighbour_counts(graph, f"Account:{probe}"),
        lambda: neighbours.expand(graph, f"Account:{probe}", limit=1),
        lambda: neighbours.cluster_graph(graph, probe),
        lambda: entities.details(graph, f"Account:{probe}", probe),
        lambda: bans.banned_devices(graph, 1),
        lambda: bans.accounts_on_device(graph, probe),
    ]
    for step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001 - a warm-up never matters enough to fail anything
            pass
    for page in ("overview", "search", "explorer", "entity", "bans", "sanctions"):
        try:  # the first visit to a page should not pay for importing it (and the component's bundle)
            importlib.import_module(f"ringscope.webapp.views.{page}")
        except Exception:  # noqa: BLE001
            pass


def run_watch_seconds() -> float:
    """``RINGSCOPE_APP_RUN_WATCH_S``: how often the app looks for a newly completed run (0: never)."""
    value = os.environ.get("RINGSCOPE_APP_RUN_WATCH_S", "10")
    try:
        return max(0.0, float(value))
    except ValueError:
        raise SettingError(f"RINGSCOPE_APP_RUN_WATCH_S={value!r}: expected seconds, e.g. 10 (0 turns it off)")


def watch_runs(graph, every: float | None = None, rounds: int | None = None) -> None:
    """In the background, for the app's life: when a detection run completes, fill what its first visitor
    would otherwise wait for (``prefill``), and keep it filled: every ``run_watch_seconds()`` the latest run is
    looked up and ``prefill`` called again, which recomputes only what expired, and the top cluster's drawing
    (cached a minute; 0.7 s to read at 1M accounts) is read again before it expires
    (``keep_top_cluster_fresh``): a click finds it cached, or waits only for the rest of a refresh under way."""
    seen = None
    refreshed: dict[str, float] = {}
    done = 0
    while rounds is None or done < rounds:
        try:
            run = overview.latest_run(graph)
            if run is not None:
                if run.run_id != seen:
                    watch_stays.clear()  # the new run has updated the observation room
                    seen = run.run_id
                prefill(run.run_id)
                keep_top_cluster_fresh(run.run_id, refreshed, time.monotonic())
        except Exception:  # noqa: BLE001 - the database may be down; the next round tries again
            pass
        done += 1
        if rounds is None or done < rounds:
            time.sleep(run_watch_seconds() if every is None else every)


def prefill(run_id: str) -> list[str]:
    """Compute, into the app's caches, what the first visit after run ``run_id`` shows: the overview's
    clusters and changes, the top cluster's drawing, its layout and members, the banned devices. Returns what it filled."""
    filled = []
    with _quiet_outside_sessions():
        clusters = top_clusters(run_id, 100)
        filled.append("top clusters")
        changes(run_id, OVERVIEW_CHANGES)
        filled.append("changes")
        if clusters:
            cluster_graph(clusters[0].cluster_id)
            cluster_positions(clusters[0].cluster_id)
            cluster_members(clusters[0].cluster_id)
            filled.append("top cluster")
        banned_devices(300)
        filled.append("banned devices")
    return filled


CLUSTER_GRAPH_TTL_S = 60
# The top cluster's drawing is read again this often by the run watcher, before it expires from the cache:
# left to expire, the first click after it read it itself (0.7 s at 1M; one pass in ten of the browser
# benchmark). A click during the refresh waits for it (one computation per key), not for a second one.
TOP_CLUSTER_REFRESH_S = CLUSTER_GRAPH_TTL_S * 2 / 3


def keep_top_cluster_fresh(run_id: str, refreshed: dict[str, float], now: float,
                           every: float = TOP_CLUSTER_REFRESH_S) -> bool:
    """Read run ``run_id``'s top cluster's drawing again if the watcher last did more than ``every`` seconds
    before ``now`` (``refreshed``: cluster id -> when; the first sight only records it, ``prefill`` has just
    read it). Returns whether it read it."""
    clusters = top_clusters(run_id, 100)
    if not clusters:
        return False
    cluster_id = clusters[0].cluster_id
    last = refreshed.setdefault(cluster_id, now)
    if now - last < every:
        return False
    with _quiet_outside_sessions():
        cluster_graph.clear(cluster_id)
        cluster_graph(cluster_id)
    refreshed[cluster_id] = now
    return True


@contextmanager
def _quiet_outside_sessions() -> Iterator[None]:
    """Cached functions called from a background thread work (the caches are the process's), but Streamlit
    warns on every call that the thread has no session; that warning is expected here."""
    import logging

    loggers = [logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def start_background() -> None:
    """Connect on the first page load, the sign-in page included, and so start the warm-up and the run
    watcher: the app prepares while the first person types their password. A database that is down is
    reported by the page that needs it, not here."""
    try:
        get_graph()
    except AppError:
        pass


def get_graph():
    """The process's one ``Graph`` (a failed connection is retried on the next call, not cached)."""
    return guard(_connect)


# --- cached reads ------------------------------------------------------------------

@st.cache_data(ttl=15, show_spinner=False)
def latest_run() -> overview.LatestRun | None:
    return guard(overview.latest_run, get_graph())


@st.cache_data(ttl=5, show_spinner=False)
def runs_in_progress() -> list:
    return guard(overview.runs_in_progress, get_graph())


@st.cache_data(ttl=3600, show_spinner=False, max_entries=64)
def top_clusters(run_id: str, limit: int = 100) -> list[overview.RankedCluster]:
    return guard(overview.top_clusters, get_graph(), run_id, limit)


OVERVIEW_CHANGES = ("new", "grown", "dissolved")  # the kinds the overview lists


@st.cache_data(ttl=3600, show_spinner=False, max_entries=16)
def changes(run_id: str, kinds: tuple[str, ...] = history.KINDS) -> history.Changes:
    return guard(history.changes, get_graph(), run_id, kinds)


@st.cache_data(ttl=60, show_spinner=False, max_entries=256)
def run_search(text: str, limit: int = 30, personal_prefix: bool = False) -> list[search.SearchHit]:
    return guard(search.search, get_graph(), text, limit, personal_prefix)


def text_index() -> search.TextIndex:
    return guard(search.text_index, get_graph())


@st.cache_data(ttl=CLUSTER_GRAPH_TTL_S, show_spinner=False, max_entries=64)
def cluster_graph(cluster_id: str, member_limit: int = 300) -> neighbours.ClusterGraph | None:
    return guard(neighbours.cluster_graph, get_graph(), cluster_id, member_limit=member_limit)


@st.cache_data(ttl=3600, show_spinner=False, max_entries=64)
def cluster_positions(cluster_id: str, member_limit: int = 300) -> dict[str, tuple[float, float]]:
    """Where the explorer draws ``cluster_graph(cluster_id)``'s nodes (``state.cluster_positions``; a cluster's
    drawing does not change once its run is stored, so this is kept an hour)."""
    from ringscope.webapp.state import cluster_positions as layout

    cluster = cluster_graph(cluster_id, member_limit)
    return layout(cluster) if cluster is not None else {}


@st.cache_data(ttl=60, show_spinner=False, max_entries=32)
def cluster_members(cluster_id: str) -> list[neighbours.MemberRow]:
    return guard(neighbours.cluster_member_rows, get_graph(), cluster_id)


@st.cache_data(ttl=30, show_spinner=False, max_entries=512)
def node(uid: str, run_id: str | None, threshold: float = 0.5) -> neighbours.GraphNode | None:
    return guard(neighbours.node, get_graph(), uid, run_id, threshold)


@st.cache_data(ttl=30, show_spinner=False, max_entries=512)
def counts(uid: str) -> NeighbourCounts | None:
    return guard(neighbours.neighbour_counts, get_graph(), uid)


@st.cache_data(ttl=30, show_spinner=False, max_entries=512)
def expand(uid: str, types: tuple[str, ...] | None, limit: int, exclude: tuple[str, ...], since: str | None,
           until: str | None, run_id: str | None, threshold: float = 0.5) -> Expansion:
    return guard(neighbours.expand, get_graph(), uid, list(types) if types else None, limit=limit,
                 exclude=list(exclude), since=since, until=until, run_id=run_id, threshold=threshold)


@st.cache_data(ttl=30, show_spinner=False, max_entries=256)
def filtered_count(uid: str, types: tuple[str, ...], since: str | None, until: str | None) -> int:
    return guard(neighbours.filtered_count, get_graph(), uid, list(types), since, until)


@st.cache_data(ttl=15, show_spinner=False, max_entries=256)
def entity_details(uid: str, run_id: str | None) -> entities.EntityDetails | None:
    return guard(entities.details, get_graph(), uid, run_id)


@st.cache_data(ttl=30, show_spinner=False)
def banned_devices(limit: int = 300) -> list[bans.BannedDevice]:
    return guard(bans.banned_devices, get_graph(), limit)


# --- the trending list and its integrity (trending_heat's ratings) -------------------------------------------

@st.cache_data(ttl=30, show_spinner=False)
def trending_span() -> trending.ListSpan:
    return guard(trending.span, get_graph())


@st.cache_data(ttl=30, show_spinner=False, max_entries=32)
def trending_captures(since, until, limit: int = 500) -> list[trending.Capture]:
    return guard(trending.captures, get_graph(), since, until, limit)


@st.cache_data(ttl=30, show_spinner=False)
def trending_ratings() -> trending.Ratings:
    return guard(trending.ratings, get_graph())


@st.cache_data(ttl=30, show_spinner=False, max_entries=64)
def trending_topic_history(topic: str) -> list[trending.RankPoint]:
    return guard(trending.topic_history, get_graph(), topic)


@st.cache_data(ttl=30, show_spinner=False, max_entries=256)
def accounts_on_device(device_id: str) -> list[bans.AccountOnDevice]:
    return guard(bans.accounts_on_device, get_graph(), device_id)


# --- the observation room (watch/): the same service as `ringscope watch` ------------------------------------

def watch_policy():
    """The ``watch`` section of the detection policy in force (``RINGSCOPE_DETECTION_POLICY`` or the shipped one);
    a bad file is a message naming the key."""
    from ringscope.detection.config import load_detection_policy

    return guard(load_detection_policy).watch


@st.cache_data(ttl=10, show_spinner=False, max_entries=16)
def watch_stays(states: tuple[str, ...] | None = None) -> list:
    """Stays of the room (``watch.service.stays``), newest first; briefly cached (runs and investigators change it)."""
    from ringscope.watch import service as watch

    return guard(watch.stays, get_graph(), list(states) if states else None)


def watch_add(who, account_id: str, reason: str, days: int | None):
    from ringscope.watch import service as watch

    stay = guard(watch.add, get_graph(), who, account_id.strip(), reason, watch_policy(), days)
    clear_caches()
    return stay


def watch_release(who, account_id: str, reason: str):
    from ringscope.watch import service as watch

    stay = guard(watch.release, get_graph(), who, account_id, reason)
    clear_caches()
    return stay


# --- users' reports (reports/): the same service as `ringscope reports` -------------------------------------

@st.cache_data(ttl=30, show_spinner=False, max_entries=256)
def report_summary(target_type: str, target_id: str):
    """``reports.service.summary`` of one account, note or comment (None when its policy section is bad)."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.reports import service as reports

    return guard(reports.summary, get_graph(), target_type, target_id, guard(load_detection_policy).reports)


# --- the content-health index (health/): the same service as `ringscope health` ------------------------------

def health_policy():
    """The health policy in force (``RINGSCOPE_HEALTH_POLICY`` or the shipped one); a bad file names the key."""
    from ringscope.health.policy import load_health_policy

    return guard(load_health_policy)


@st.cache_data(ttl=60, show_spinner=False, max_entries=256)
def account_health(account_id: str):
    """``health.service.account_health`` of one account (a few bounded reads, one fulltext search per text)."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.health import service as health

    return guard(health.account_health, get_graph(), account_id, health_policy(),
                 guard(load_detection_policy).reports)


#: Accounts of a brand or an agency the entity panel scores (the policy's max_group_accounts, at most this: each of
#: their texts is one fulltext search, and the panel must stay quick).
APP_GROUP_ACCOUNTS = 100


@st.cache_data(ttl=300, show_spinner="Scoring the accounts it works with ...", max_entries=32)
def group_health(kind: str, group_id: str):
    """``health.service.group_health`` of a brand or an intermediary, over at most ``APP_GROUP_ACCOUNTS`` of its
    accounts (the first by id); cached five minutes."""
    from ringscope.detection.config import load_detection_policy
    from ringscope.health import service as health

    policy = health_policy()
    bound = min(APP_GROUP_ACCOUNTS, policy.limits.max_group_accounts)
    policy = policy.model_copy(update={"limits": policy.limits.model_copy(update={"max_group_accounts": bound})})
    return guard(health.group_health, get_graph(), kind, group_id, policy, guard(load_detection_policy).reports)


@st.cache_data(ttl=30, show_spinner=False)
def latest_health_apply():
    """The latest ``ringscope health apply``'s summary (its distribution), or None: read, never recomputed."""
    from ringscope.health import enforce

    return guard(enforce.latest_apply, get_graph())


@st.cache_data(ttl=30, show_spinner=False, max_entries=256)
def health_effects(account_id: str) -> list:
    """The account's content-health effects: the one in force first, then the newest cleared ones (at most 5)."""
    from ringscope.health import enforce

    return guard(enforce.effects_of, get_graph(), [account_id], 5).get(account_id, [])


# --- the sweep back (sweep/): the same service as `ringscope sweep` -------------------------------------------

def sweep_policy():
    """The sweep policy in force (``RINGSCOPE_SWEEP_POLICY`` or the shipped one); a bad file names the key."""
    from ringscope.sweep.policy import load_sweep_policy

    return guard(load_sweep_policy)


@st.cache_data(ttl=60, show_spinner=False, max_entries=4)
def confirmed_clusters(run_id: str) -> list:
    from ringscope.sweep import service as sweep

    return guard(sweep.confirmed_clusters, get_graph(), run_id)


@st.cache_data(ttl=60, show_spinner="Sweeping the history for the cluster's traces ...", max_entries=16)
def sweep(cluster_id: str, unconfirmed: bool, min_score: float):
    """``sweep.service.sweep`` of one cluster (a few hundred bounded reads; cached a minute)."""
    from ringscope.sweep import service as sweep

    return guard(sweep.sweep, get_graph(), cluster_id.strip(), sweep_policy(), unconfirmed=unconfirmed,
                 min_score=min_score)


def sweep_to_watch(who, result, days: int | None) -> tuple[list[str], list[str]]:
    """Place a sweep's finds under observation (audited, one stay each): (placed, left as they were)."""
    from ringscope.sweep import service as sweep

    done = guard(sweep.place_on_watch, get_graph(), who, result, watch_policy(), days=days)
    clear_caches()
    return done
# --- appeals (appeals/): the same service as `ringscope appeals` --------------------------------------------------

@st.cache_data(ttl=10, show_spinner=False, max_entries=16)
def appeals(states: tuple[str, ...] | None = None) -> list:
    """Appeals (``appeals.service.appeals``), oldest filed first; briefly cached (verdicts change them)."""
    from ringscope.appeals import service as appeal

    return guard(appeal.appeals, get_graph(), list(states) if states else None)


@st.cache_data(ttl=10, show_spinner=False, max_entries=16)
def appeal_stats(min_decided: int):
    """The granted share by violation kind and detector (``appeals.service.stats``)."""
    from ringscope.appeals import service as appeal

    return guard(appeal.stats, get_graph(), min_decided)


def appeal_file(who, subject_id: str, statement: str, material: list[str], appellant: str | None):
    from ringscope.appeals import service as appeal

    filed = guard(appeal.file, get_graph(), who, subject_id, statement, material, appellant)
    clear_caches()
    return filed


def appeal_verdict(who, appeal_id: str, grant: bool, reason: str):
    """Grant (revokes with the cascade, in the same transaction) or deny an appeal."""
    from ringscope.appeals import service as appeal

    verdict = guard(appeal.grant if grant else appeal.deny, get_graph(), who, appeal_id, reason)
    clear_caches()
    return verdict


def clear_caches() -> None:
    """After a write (a sanction, a revocation): statuses and histories may have changed."""
    st.cache_data.clear()


@dataclasses.dataclass
class LiveServices:
    """``app.state.ExplorerServices`` over the cached queries, for one detection run."""

    run_id: str | None
    threshold: float = 0.5

    def counts(self, uid: str) -> NeighbourCounts | None:
        return counts(uid)

    def expand(self, uid: str, types: list[str] | None, limit: int, exclude: list[str], since: str | None,
               until: str | None) -> Expansion:
        return expand(uid, tuple(types) if types else None, limit, tuple(exclude), since, until, self.run_id,
                      self.threshold)


# --- the lake: entities the graph lacks, and pulling their neighbourhood (#16) ---------------------------

def lake_location() -> str | None:
    """``RINGSCOPE_LAKE``: the platform's lake (the input format as Parquet: a folder, or a URI pyarrow
    opens); None (unset or empty): the app does not look in a lake."""
    value = os.environ.get("RINGSCOPE_LAKE", "").strip()
    return value or None


def pull_limit() -> int:
    """``RINGSCOPE_APP_PULLS``: how many pulls from the lake may run at once (default 1)."""
    value = os.environ.get("RINGSCOPE_APP_PULLS", "1")
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 16:
        raise SettingError(f"RINGSCOPE_APP_PULLS={value!r}: expected how many pulls may run at once, 1-16")
    return limit


def _lake_guard(fn: Callable[..., T], *args: Any) -> T:
    from ringscope.ingest.lake import LakeError

    try:
        return fn(*args)
    except LakeError as exc:
        raise AppError(f"The lake (RINGSCOPE_LAKE) cannot be read: {exc}") from exc


@st.cache_data(ttl=60, show_spinner=False, max_entries=256)
def lake_lookup(lake: str, kind: str, entity_id: str):
    """``ingest.lake.lookup``: node ``kind``:``entity_id`` in the lake, or None (cached a minute)."""
    from ringscope.ingest.lake import lookup

    return _lake_guard(lookup, lake, kind, entity_id)


@st.cache_data(ttl=60, show_spinner=False, max_entries=256)
def lake_lookup_any(lake: str, entity_id: str) -> list:
    """``ingest.lake.lookup_any``: ``entity_id`` as every kind of node the lake holds it as (cached)."""
    from ringscope.ingest.lake import lookup_any

    return _lake_guard(lookup_any, lake, entity_id)


@st.cache_resource(show_spinner=False)
def _pulls():
    from ringscope.common.paths import ringscope_home
    from ringscope.webapp.pulls import Pulls

    return Pulls(ringscope_home() / "app-pulls", pull_limit())


def pulls():
    """The process's pulls (``webapp.pulls.Pulls``), shared by every session (a bad ``RINGSCOPE_APP_PULLS``
    is a message, retried on the next call)."""
    return guard(_pulls)


PULL_ACTION = "lake.pull"


def start_pull(who, kind: str, entity_id: str, hops: int, lake: str):
    """Pull ``kind``:``entity_id``'s neighbourhood from ``lake`` in the background for ``who`` (who must have
    ``load_data``): join the same pull if it runs; otherwise check there is room, record it in the audit log
    (who, what, hops, the lake) and start it. Returns the ``Pull``."""
    from ringscope.audit import log
    from ringscope.webapp.pulls import PullRequest

    guard(who.require, "load_data")
    registry = pulls()
    request = PullRequest(kind, entity_id, hops, lake, who.name, who.role)
    running = registry.running_for(request)
    if running is not None:
        return running
    guard(registry.check_room, request)
    guard(log.record, get_graph(), actor=who.name, role=who.role, action=PULL_ACTION, target_type=kind,
          target_id=entity_id, reason=f"pull its {hops}-hop neighbourhood from the lake",
          details={"hops": hops, "lake": lake})
    return guard(registry.start, request)
