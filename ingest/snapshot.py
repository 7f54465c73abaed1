"""What detection reads, written from the bulk load's shaping database (``shape.py``) as Parquet.

Each frame of ``detection.frames.PlatformFrames`` is the SQL twin of the
statement ``detection/reader.py`` runs against the graph, over the tables the
importer's files were made from: the node tables ``n_<Label>`` (one row per
key, properties as the load leaves them), the stubs (``stubs_made``) and the
relationship pairs (``shape.pairs_sql``, the same SQL the relationship files
use). So a frame read here equals the one read from the freshly imported
graph; ``tests/ingest/test_snapshot.py`` compares every frame, and the
detection run made from each, on the simulated platform and on a dataset
with stubs, duplicates and kept columns.

Timestamps stay epoch milliseconds (the reader turns them into UTC datetimes,
as it does for the graph's). Rows come in the order of their frame's key,
as the reader's key-range slices return them. O(rows log rows), out of core.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from ringscope.graph.model import SANCTION_TARGETS

PairsSql = Callable[[str, str], str]  # (relationship type, end label) -> SQL of its pairs (_s, _e, props)


def _stubs(label: str, key: str) -> str:
    return f"SELECT id AS {key}, true AS stub FROM stubs_made WHERE label = '{label}' AND still_stub"


def _nodes(label: str, key: str, columns: str) -> str:
    """A label's nodes (defined ones and stubs) with ``columns`` (null on stubs)."""
    return (f"SELECT {columns}, false AS stub FROM n_{label} "
            f"UNION ALL BY NAME {_stubs(label, key)}")


def frame_queries(pairs: PairsSql) -> dict[str, str]:
    """Frame name -> SQL giving its columns, in the reader's column order."""
    account_props = ("nickname, registered_at, followers, following, default_profile, is_professional, bio, "
                     "status")
    # One pair per (sanction, target) for each kind of target; the target's label, lower-cased, is its type.
    targets = " UNION ALL ".join(
        f"SELECT _s, _e, '{label.lower()}' AS target_type FROM ({pairs('TARGETS', label)})"
        for label in SANCTION_TARGETS.values())
    return {
        "accounts": f"""
            SELECT a.account_id, a.nickname, a.registered_at, ip._e AS registration_ip, seg._e AS phone_segment,
                   ph._e AS phone_hash, a.followers, a.following, a.default_profile, a.is_professional, a.bio,
                   a.status, a.stub
            FROM ({_nodes('Account', 'account_id', 'account_id, ' + account_props)}) a
            LEFT JOIN ({pairs('REGISTERED_FROM', 'IP')}) ip ON ip._s = a.account_id
            LEFT JOIN ({pairs('IN_PHONE_SEGMENT', 'PhoneSegment')}) seg ON seg._s = a.account_id
            LEFT JOIN ({pairs('HAS_PHONE', 'Phone')}) ph ON ph._s = a.account_id
            ORDER BY a.account_id, registration_ip, phone_segment, phone_hash""",
        "account_devices": f"""
            SELECT u._s AS account_id, u._e AS device_id, u.first_seen, u.last_seen, d.is_emulator
            FROM ({pairs('USED_DEVICE', 'Device')}) u LEFT JOIN n_Device d ON d.device_id = u._e
            ORDER BY account_id, device_id""",
        "account_ips": f"""
            SELECT _s AS account_id, _e AS ip, first_seen, last_seen
            FROM ({pairs('LOGGED_IN_FROM', 'IP')}) ORDER BY account_id, ip""",
        "notes": f"""
            SELECT note_id, account_id, posted_at, brand_id, declared_commercial, text, topics, client, posted_via
            FROM ({_nodes('Note', 'note_id', 'note_id, account_id, posted_at, brand_id, declared_commercial, text, '
                                             'topics, client, posted_via')})
            ORDER BY note_id""",
        # A comment without its time is a stub (referenced by a reply, never defined): the reader skips it.
        "comments": """
            SELECT comment_id, account_id, note_id, created_at, text, reply_to, device_id, ip, client, posted_via
            FROM n_Comment WHERE created_at IS NOT NULL ORDER BY comment_id""",
        "orders": f"""
            SELECT order_id, brand_id, intermediary_id, account_id, note_id, placed_at, declared
            FROM ({_nodes('Order', 'order_id',
                          'order_id, brand_id, intermediary_id, account_id, note_id, placed_at, declared')})
            ORDER BY order_id""",
        "intermediary_accounts": f"""
            SELECT _s AS intermediary_id, _e AS account_id, since
            FROM ({pairs('MANAGES', 'Account')}) ORDER BY intermediary_id, account_id""",
        "likes": f"""
            SELECT _s AS account_id, _e AS note_id, created_at
            FROM ({pairs('LIKED', 'Note')}) ORDER BY account_id, note_id""",
        "follows": f"""
            SELECT _s AS account_id, _e AS target_account_id, created_at
            FROM ({pairs('FOLLOWS', 'Account')}) ORDER BY account_id, target_account_id""",
        # Every imported sanction is in force: ``state`` is ringscope's own property (an input column of
        # that name is never kept), and a bulk-loaded store holds no sanction of ringscope's yet.
        "sanctions": f"""
            SELECT s.sanction_id, t.target_type, t._e AS target_id, s.action, s.reason, s.issued_at,
                   s.expires_at
            FROM n_Sanction s JOIN ({targets}) t ON t._s = s.sanction_id
            ORDER BY s.sanction_id, target_type, target_id""",
        "trending": """
            SELECT captured_at, rank, topic, score FROM n_TrendingEntry ORDER BY entry_id""",
    }


def write_frames(con: duckdb.DuckDBPyConnection, pairs: PairsSql, folder: Path) -> dict[str, int]:
    """Write every frame as ``folder/<frame>.parquet``; rows per frame."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for frame, query in frame_queries(pairs).items():
        path = str(folder / f"{frame}.parquet").replace("'", "''")
        rows[frame] = con.execute(f"COPY ({query}) TO '{path}' (FORMAT PARQUET)").fetchone()[0]
    return rows
