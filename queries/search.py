"""Search any account, device, IP, brand, agency, note or comment by id or by name, and land on it.

Ids: an exact or prefix match on each label's unique key (the uniqueness
constraint's index serves ``STARTS WITH``). Names and text: the fulltext index
``entity_text`` (schema migration 7) over account nicknames, brand and agency
names, note titles and comment text, with the CJK analyzer (bigrams, so
Chinese words match). User text only ever travels as a parameter; Lucene's
operators in it are escaped, so a search cannot turn into a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ringscope.graph.database import Graph
from ringscope.graph.model import NODES
from ringscope.graph.schema import TEXT_INDEX

SEARCHABLE_BY_ID = ("Account", "Device", "IP", "Brand", "Intermediary", "Note", "Comment", "Order",
                    "Sanction", "Cluster", "Phone")
# Ids that are personal data: found by prefix only for someone who may see them unmasked; otherwise only
# the whole id finds them (a viewer would otherwise read a full IP back in ~40 prefix searches).
PERSONAL_IDS = ("IP", "Phone")
FULLTEXT_INDEX = TEXT_INDEX


def _by_id(personal_prefix: bool) -> str:
    parts = []
    for label in SEARCHABLE_BY_ID:
        key = NODES[label].key
        match = f"n.{key} = $q" if label in PERSONAL_IDS and not personal_prefix else f"n.{key} STARTS WITH $q"
        parts.append(
            f"CALL () {{ MATCH (n:{label}) WHERE {match} "
            f"RETURN n.{key} AS key ORDER BY key LIMIT $limit }} "
            f"WITH key, '{label}' AS label "
            f"MATCH (n:{label} {{{key}: key}}) "
            f"RETURN label, key, coalesce(n.nickname, n.name, n.title, left(n.text, 60), n.action, n.detector) "
            f"AS caption, CASE WHEN key = $q THEN 2.0 ELSE 1.0 END AS score")
    return "\nUNION ALL\n".join(parts)


BY_ID = _by_id(personal_prefix=True)
BY_ID_PERSONAL_EXACT = _by_id(personal_prefix=False)

BY_TEXT = f"""
CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEX}', $q, {{limit: $limit}}) YIELD node, score
RETURN CASE WHEN node:Account THEN 'Account' WHEN node:Brand THEN 'Brand'
            WHEN node:Intermediary THEN 'Intermediary' WHEN node:Note THEN 'Note' ELSE 'Comment' END AS label,
       coalesce(node.account_id, node.brand_id, node.intermediary_id, node.note_id, node.comment_id) AS key,
       coalesce(node.nickname, node.name, node.title, left(node.text, 60)) AS caption, score
"""

_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)')


@dataclass(frozen=True)
class SearchHit:
    label: str
    key: str
    caption: str | None
    score: float
    how: str  # id | text

    @property
    def uid(self) -> str:
        return f"{self.label}:{self.key}"


TEXT_INDEX_STATE = """
SHOW INDEXES YIELD name, state, populationPercent WHERE name = $name
RETURN state, populationPercent AS percent
"""


@dataclass(frozen=True)
class TextIndex:
    """The fulltext index's state: ``ONLINE``, ``POPULATING`` (after a bulk load, for a minute or two at
    1 M accounts), ``FAILED``, or ``MISSING``."""

    state: str
    percent: float

    @property
    def online(self) -> bool:
        return self.state == "ONLINE"


def text_index(graph: Graph) -> TextIndex:
    """Whether search by name and text can answer now (a query on a populating index blocks ~30 s, then
    fails)."""
    rows = graph.read(TEXT_INDEX_STATE, name=FULLTEXT_INDEX)
    if not rows:
        return TextIndex("MISSING", 0.0)
    return TextIndex(rows[0]["state"], float(rows[0]["percent"] or 0.0))


def lucene_escape(text: str) -> str:
    """Plain words for the fulltext index: every Lucene operator escaped, AND/OR/NOT lowered."""
    escaped = _LUCENE_SPECIAL.sub(r"\\\1", text.strip())
    return " ".join(w.lower() if w in ("AND", "OR", "NOT") else w for w in escaped.split())


def search(graph: Graph, text: str, limit: int = 20, personal_prefix: bool = False) -> list[SearchHit]:
    """Id matches first (exact before prefix), then name and text matches by relevance (only while the
    text index is online: ``text_index`` says when it is not).

    IPs and phone hashes match by prefix only with ``personal_prefix`` (a reader who may see them unmasked).
    """
    text = (text or "").strip()
    if not text:
        return []
    query = BY_ID if personal_prefix else BY_ID_PERSONAL_EXACT
    hits = [SearchHit(r["label"], r["key"], r["caption"], r["score"], "id")
            for r in graph.read(query, q=text, limit=limit)]
    hits.sort(key=lambda h: (-h.score, h.label, h.key))
    query = lucene_escape(text)
    if query and len(hits) < limit and text_index(graph).online:
        seen = {h.uid for h in hits}
        for r in graph.read(BY_TEXT, q=query, limit=limit):
            hit = SearchHit(r["label"], r["key"], r["caption"], r["score"], "text")
            if hit.uid not in seen:
                hits.append(hit)
    return hits[:limit]
