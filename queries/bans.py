"""Device-linked bans: banned devices, the accounts on them, and which registered after the ban.

A device counts as banned when a ban sanction in force targets it (``device_ban``)
or when it was used by an account a ban sanction targets (the ban's time is then
the account's ban). An account on a banned device that registered after the ban
(or first used the device after it) is the classic ban-evasion signal.
"""

from __future__ import annotations

from dataclasses import dataclass

from ringscope.graph.database import Graph
from ringscope.queries.neighbours import INACTIVE_STATES, PENDING_STATES

_IN_FORCE = ("s.action CONTAINS 'ban' AND (s.expires_at IS NULL OR s.expires_at > datetime()) "
             "AND NOT coalesce(s.state, s.status, 'active') IN $inactive "
             "AND NOT coalesce(s.state, s.status, 'active') IN $pending AND s.revoked_at IS NULL")

BANNED_DEVICES = f"""
CALL () {{
  MATCH (s:Sanction)-[:TARGETS]->(d:Device) WHERE {_IN_FORCE}
  RETURN d, s.issued_at AS at, s.sanction_id AS sanction_id, 'device ban' AS via
  UNION ALL
  MATCH (s:Sanction)-[:TARGETS]->(b:Account)-[:USED_DEVICE]->(d:Device) WHERE {_IN_FORCE}
  RETURN d, s.issued_at AS at, s.sanction_id AS sanction_id, 'ban of account ' + b.account_id AS via
}}
WITH d, min(at) AS banned_at, collect(DISTINCT sanction_id) AS sanctions, collect(DISTINCT via) AS vias
CALL (d, banned_at) {{
  MATCH (a:Account)-[u:USED_DEVICE]->(d)
  RETURN count(a) AS accounts,
         count(CASE WHEN a.registered_at > banned_at OR u.first_seen > banned_at THEN 1 END) AS after_ban
}}
RETURN d.device_id AS device_id, toString(banned_at) AS banned_at, sanctions, vias, accounts, after_ban
ORDER BY after_ban DESC, accounts DESC, device_id LIMIT $limit
"""

ACCOUNTS_ON_DEVICE = f"""
MATCH (d:Device {{device_id: $device_id}})
CALL (d) {{ OPTIONAL MATCH (s:Sanction)-[:TARGETS]->(d) WHERE {_IN_FORCE} RETURN min(s.issued_at) AS t1 }}
CALL (d) {{
  OPTIONAL MATCH (s:Sanction)-[:TARGETS]->(:Account)-[:USED_DEVICE]->(d) WHERE {_IN_FORCE}
  RETURN min(s.issued_at) AS t2
}}
WITH d, CASE WHEN t1 IS NULL THEN t2 WHEN t2 IS NULL OR t1 < t2 THEN t1 ELSE t2 END AS banned_at
MATCH (a:Account)-[u:USED_DEVICE]->(d)
RETURN a.account_id AS account_id, a.nickname AS nickname, a.status AS status,
       toString(a.registered_at) AS registered_at, toString(u.first_seen) AS first_seen,
       toString(banned_at) AS banned_at,
       coalesce(banned_at IS NOT NULL AND a.registered_at > banned_at, false) AS registered_after_ban,
       coalesce(banned_at IS NOT NULL AND u.first_seen > banned_at, false) AS arrived_after_ban
ORDER BY a.registered_at DESC LIMIT $limit
"""


@dataclass(frozen=True)
class BannedDevice:
    device_id: str
    banned_at: str | None
    sanctions: tuple[str, ...]
    vias: tuple[str, ...]
    accounts: int
    after_ban: int


@dataclass(frozen=True)
class AccountOnDevice:
    account_id: str
    nickname: str | None
    status: str | None
    registered_at: str | None
    first_seen: str | None
    banned_at: str | None
    registered_after_ban: bool
    arrived_after_ban: bool


def _states() -> dict:
    return {"inactive": list(INACTIVE_STATES), "pending": list(PENDING_STATES)}


def banned_devices(graph: Graph, limit: int = 200) -> list[BannedDevice]:
    """Banned devices, those with accounts that came after the ban first."""
    return [BannedDevice(r["device_id"], r["banned_at"], tuple(r["sanctions"]), tuple(r["vias"]), r["accounts"],
                         r["after_ban"]) for r in graph.read(BANNED_DEVICES, limit=limit, **_states())]


def accounts_on_device(graph: Graph, device_id: str, limit: int = 200) -> list[AccountOnDevice]:
    return [AccountOnDevice(**r)
            for r in graph.read(ACCOUNTS_ON_DEVICE, device_id=device_id, limit=limit, **_states())]
