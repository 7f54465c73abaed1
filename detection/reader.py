"""The thin reader: the platform graph as plain frames with the input format's columns.

Detectors never see the driver. Timestamps come out of Neo4j as epoch
milliseconds (cheap to transfer) and become ``datetime64[ns, UTC]`` columns.
``GroundTruth`` is never read here.
"""

from __future__ import annotations


import pandas as pd

from ringscope.detection.frames import PlatformFrames
from ringscope.graph.database import Graph

ACCOUNTS = """
MATCH (a:Account)
OPTIONAL MATCH (a)-[:REGISTERED_FROM]->(ip:IP)
OPTIONAL MATCH (a)-[:IN_PHONE_SEGMENT]->(seg:PhoneSegment)
OPTIONAL MATCH (a)-[:HAS_PHONE]->(ph:Phone)
RETURN a.account_id AS account_id, a.nickname AS nickname,
       a.registered_at.epochMillis AS registered_at, ip.ip AS registration_ip,
       seg.segment AS phone_segment, ph.phone_hash AS phone_hash,
       a.followers AS followers, a.following AS following,
       a.default_profile AS default_profile, a.is_professional AS is_professional,
       a.bio AS bio, a.status AS status, coalesce(a.stub, false) AS stub
"""

ACCOUNT_DEVICES = """
MATCH (a:Account)-[u:USED_DEVICE]->(d:Device)
RETURN a.account_id AS account_id, d.device_id AS device_id,
       u.first_seen.epochMillis AS first_seen, u.last_seen.epochMillis AS last_seen,
       d.is_emulator AS is_emulator
"""

ACCOUNT_IPS = """
MATCH (a:Account)-[l:LOGGED_IN_FROM]->(ip:IP)
RETURN a.account_id AS account_id, ip.ip AS ip,
       l.first_seen.epochMillis AS first_seen, l.last_seen.epochMillis AS last_seen
"""

NOTES = """
MATCH (n:Note)
RETURN n.note_id AS note_id, n.account_id AS account_id, n.posted_at.epochMillis AS posted_at,
       n.brand_id AS brand_id, n.declared_commercial AS declared_commercial
"""

COMMENTS = """
MATCH (c:Comment) WHERE c.created_at IS NOT NULL
RETURN c.comment_id AS comment_id, c.account_id AS account_id, c.note_id AS note_id,
       c.created_at.epochMillis AS created_at, c.text AS text, c.reply_to AS reply_to,
       c.device_id AS device_id, c.ip AS ip
"""

ORDERS = """
MATCH (o:Order)
RETURN o.order_id AS order_id, o.brand_id AS brand_id, o.intermediary_id AS intermediary_id,
       o.account_id AS account_id, o.note_id AS note_id, o.placed_at.epochMillis AS placed_at,
       o.declared AS declared
"""

INTERMEDIARY_ACCOUNTS = """
MATCH (i:Intermediary)-[m:MANAGES]->(a:Account)
RETURN i.intermediary_id AS intermediary_id, a.account_id AS account_id, m.since.epochMillis AS since
"""

LIKES = """
MATCH (a:Account)-[l:LIKED]->(n:Note)
RETURN a.account_id AS account_id, n.note_id AS note_id, l.created_at.epochMillis AS created_at
"""

FOLLOWS = """
MATCH (a:Account)-[f:FOLLOWS]->(t:Account)
RETURN a.account_id AS account_id, t.account_id AS target_account_id, f.created_at.epochMillis AS created_at
"""

# Sanctions in force: imported ones, and ringscope's own while active (not pending
# approval, expired or revoked).
SANCTIONS = """
MATCH (s:Sanction)-[:TARGETS]->(x)
WHERE coalesce(s.state, 'active') = 'active'
RETURN s.sanction_id AS sanction_id, toLower(labels(x)[0]) AS target_type,
       coalesce(x.account_id, x.device_id, x.brand_id, x.intermediary_id, x.note_id) AS target_id,
       s.action AS action, s.reason AS reason,
       s.issued_at.epochMillis AS issued_at, s.expires_at.epochMillis AS expires_at
"""

WATERMARK = """
CALL () { MATCH (a:Account) RETURN count(a) AS accounts, max(a.registered_at) AS last_registration }
CALL () { MATCH (c:Comment) RETURN count(c) AS comments, max(c.created_at) AS last_comment }
CALL () { MATCH ()-[l:LIKED]->() RETURN count(l) AS likes }
RETURN accounts, toString(last_registration) AS last_registration, comments,
       toString(last_comment) AS last_comment, likes
"""

TIME_COLUMNS = {"registered_at", "first_seen", "last_seen", "posted_at", "created_at", "placed_at",
                "since", "issued_at", "expires_at"}


def frame(graph: Graph, cypher: str, **params) -> pd.DataFrame:
    """Run a read query and return its rows as a frame; epoch-ms columns become UTC datetimes."""
    keys, rows = graph.columns(cypher, fetch_size=20_000, **params)
    df = pd.DataFrame(rows, columns=keys)
    for column in keys:
        if column in TIME_COLUMNS:
            df[column] = pd.to_datetime(df[column], unit="ms", utc=True)
    return df


def read_platform(graph: Graph) -> PlatformFrames:
    """Everything the detectors look at, one query per kind of record."""
    return PlatformFrames(
        accounts=frame(graph, ACCOUNTS),
        account_devices=frame(graph, ACCOUNT_DEVICES),
        account_ips=frame(graph, ACCOUNT_IPS),
        notes=frame(graph, NOTES),
        comments=frame(graph, COMMENTS),
        orders=frame(graph, ORDERS),
        intermediary_accounts=frame(graph, INTERMEDIARY_ACCOUNTS),
        likes=frame(graph, LIKES),
        follows=frame(graph, FOLLOWS),
        sanctions=frame(graph, SANCTIONS),
    )


def data_watermark(graph: Graph) -> dict:
    """What the run saw: counts and the newest timestamps."""
    return dict(graph.read(WATERMARK)[0])
