"""The platform graph: node labels, their keys, and relationship types.

Labels and relationship names in Cypher come from here, never from user text
(Cypher cannot parameterise them, so the app and the CLI pick from these sets).

    (Account)-[:USED_DEVICE {first_seen, last_seen}]->(Device)
    (Account)-[:LOGGED_IN_FROM {first_seen, last_seen}]->(IP)
    (Account)-[:REGISTERED_FROM]->(IP)
    (Account)-[:HAS_PHONE]->(Phone)-[:IN_SEGMENT]->(PhoneSegment)
    (Account)-[:IN_PHONE_SEGMENT]->(PhoneSegment)
    (Account)-[:POSTED]->(Note)-[:PROMOTES]->(Brand)
    (Account)-[:WROTE]->(Comment)-[:ON]->(Note)
    (Comment)-[:REPLIES_TO]->(Comment)
    (Comment)-[:FROM_DEVICE]->(Device), (Comment)-[:FROM_IP]->(IP)
    (Account)-[:LIKED {created_at}]->(Note)
    (Account)-[:FOLLOWS {created_at}]->(Account)
    (Intermediary)-[:MANAGES {since}]->(Account)
    (Brand)<-[:PLACED_BY]-(Order)-[:TAKEN_BY]->(Intermediary)
    (Order)-[:ASSIGNED_TO]->(Account), (Order)-[:FOR_NOTE]->(Note)
    (Sanction)-[:TARGETS]->(Account|Device|Brand|Intermediary|Note)
    (Account)-[:FILED]->(Report)-[:AGAINST]->(Account|Note|Comment)
    (DetectionRun)-[:FOUND]->(Cluster)-[:HAS_MEMBER {score}]->(Account)
    (:TrendingEntry {entry_id, topic, captured_at, rank, score}): no relationships; its topic is an item
        of the topics of the notes about it
    (Case)-[:ABOUT]->(Cluster|Account)

``GroundTruth`` nodes hold the evaluation ``labels`` file. They have no
relationships, so no detector that walks the graph can see them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NodeType:
    label: str
    key: str  # the unique id property
    what: str


NODE_TYPES: tuple[NodeType, ...] = (
    NodeType("Account", "account_id", "a platform account"),
    NodeType("Device", "device_id", "a device fingerprint"),
    NodeType("IP", "ip", "an IP address (login or registration)"),
    NodeType("Phone", "phone_hash", "a salted hash of a full phone number"),
    NodeType("PhoneSegment", "segment", "a carrier prefix of phone numbers (e.g. virtual-operator 170)"),
    NodeType("Brand", "brand_id", "an advertiser"),
    NodeType("Intermediary", "intermediary_id", "an agency, MCN or studio"),
    NodeType("Note", "note_id", "a post"),
    NodeType("Comment", "comment_id", "a comment on a note"),
    NodeType("Order", "order_id", "a paid promotion order"),
    NodeType("Sanction", "sanction_id", "a sanction on an account, device, brand, intermediary or note"),
    NodeType("Report", "report_id", "a user's report against an account, note or comment (the reports file)"),
    NodeType("TrendingEntry", "entry_id",
             "one topic on the platform's trending list at one capture (the trending file; key topic@epoch-ms)"),
    NodeType("DetectionRun", "run_id", "one run of the detectors"),
    NodeType("Cluster", "cluster_id", "a group of accounts a detector found"),
    NodeType("Case", "case_id", "an investigation"),
    NodeType("GroundTruth", "account_id", "evaluation labels (never read by detectors)"),
    # sanctions/: a spread a guard stopped, a stored preview, a passed community-rules exam
    NodeType("Review", "review_id", "an entity sent to a person for review by a sanction decision"),
    NodeType("SanctionPreview", "preview_id", "what a sanction decision would do, as the officer saw it"),
    NodeType("ExamPass", "exam_id", "an account passed the community-rules exam (restores credit)"),
)

NODES: dict[str, NodeType] = {n.label: n for n in NODE_TYPES}

RELATIONSHIPS: dict[str, tuple[str, str, str]] = {
    # type: (from label, to label, meaning)
    "USED_DEVICE": ("Account", "Device", "an account used a device"),
    "LOGGED_IN_FROM": ("Account", "IP", "an account logged in from an IP"),
    "REGISTERED_FROM": ("Account", "IP", "an account was registered from an IP"),
    "HAS_PHONE": ("Account", "Phone", "an account's phone number (hashed)"),
    "IN_SEGMENT": ("Phone", "PhoneSegment", "a phone number's carrier prefix"),
    "IN_PHONE_SEGMENT": ("Account", "PhoneSegment", "an account's phone carrier prefix"),
    "POSTED": ("Account", "Note", "an account posted a note"),
    "PROMOTES": ("Note", "Brand", "a note promotes a brand"),
    "WROTE": ("Account", "Comment", "an account wrote a comment"),
    "ON": ("Comment", "Note", "a comment is on a note"),
    "REPLIES_TO": ("Comment", "Comment", "a comment answers another"),
    "FROM_DEVICE": ("Comment", "Device", "a comment was sent from a device"),
    "FROM_IP": ("Comment", "IP", "a comment was sent from an IP"),
    "LIKED": ("Account", "Note", "an account liked a note"),
    "FOLLOWS": ("Account", "Account", "an account follows another"),
    "MANAGES": ("Intermediary", "Account", "an intermediary manages or supplies an account"),
    "PLACED_BY": ("Order", "Brand", "the brand that placed an order"),
    "TAKEN_BY": ("Order", "Intermediary", "the intermediary that took an order"),
    "ASSIGNED_TO": ("Order", "Account", "the account that carries out an order"),
    "FOR_NOTE": ("Order", "Note", "the note an order paid for"),
    "TARGETS": ("Sanction", "*", "what a sanction is on"),
    "FILED": ("Account", "Report", "the account that filed a report"),
    "AGAINST": ("Report", "*", "what a report is against: an account, a note or a comment"),
    "FOUND": ("DetectionRun", "Cluster", "a cluster a run found"),
    "HAS_MEMBER": ("Cluster", "Account", "an account in a cluster"),
    "ABOUT": ("Case", "*", "what a case is about"),
    # sanctions/
    "DERIVED_FROM": ("Sanction", "Sanction", "a sanction (or Review) that followed from another by propagation"),
    "REVIEW_OF": ("Review", "*", "what a review item is about"),
    "EXAM_OF": ("ExamPass", "Account", "the account that passed the exam"),
}

# Sanction targets in the input format, mapped to labels.
SANCTION_TARGETS: dict[str, str] = {
    "account": "Account",
    "device": "Device",
    "brand": "Brand",
    "intermediary": "Intermediary",
    "note": "Note",
}

# Report targets in the reports file (an extension of the input format), mapped to labels.
REPORT_TARGETS: dict[str, str] = {
    "account": "Account",
    "note": "Note",
    "comment": "Comment",
}

ACCOUNT_STATUSES = ("active", "limited", "muted", "suspended", "banned")
INTERMEDIARY_KINDS = ("mcn", "agency", "studio", "unknown")

# The id space of the sanctions ringscope makes (``sanctions.service.sanction_id``: "S-" and 16 hex
# digits, stored with ``source: 'ringscope'``). It is reserved: an imported sanction (the ``sanctions``
# input file) may not take such an id, so a platform record can never reach a ringscope decision.
RINGSCOPE_SANCTION_ID = re.compile(r"S-[0-9a-f]{16}")

# Properties ringscope itself keeps on the platform's nodes (the stub flag, where a sanction came
# from, what the sanctions decided: statuses, restrictions, credit, points, and the bookkeeping of
# decisions). An input file may never set them through an extra column (``--keep-unknown-columns``).
RESERVED_PROPERTIES = frozenset({
    "stub", "source", "state", "status", "base_status", "status_stale", "restrictions", "sanctions_updated_at",
    "credit", "credit_at", "brand_points", "apply_id", "preview_id", "violation_id", "decision_key",
    "derived_from",
})


# The names the tool's own bookkeeping writes: detection runs (their record, lock, clusters, scores), the
# observation room and the audit chain. A name's first use in a store commits a transaction of its own, which no
# bookmark names; a bulk load creates them all before it marks its snapshot current, so that the first
# detection run's commits are all its own (``graph/commits.py``) and the snapshot stays current after it.
# Gathered from those modules' statements and from the names three runs on the simulated platform created.
# A name missing here costs one graph read (that run's snapshot goes stale), never a wrong read.
BOOKKEEPING_LABELS = ("AuditEntry", "AuditHead", "Cluster", "CommitStamp", "DetectionLock", "DetectionRun", "WatchStay")
BOOKKEEPING_TYPES = ("FOUND", "HAS_MEMBER", "SCORED", "WATCHES")
BOOKKEEPING_PROPERTIES = (
    "account_id", "action", "actor", "as_of", "at", "change", "change_counts", "cluster_id", "clusters",
    "code_version", "compared_with", "count", "details", "detector", "detectors", "dissolved_in", "durations",
    "ends_at", "error", "escalated_at", "escalated_in", "evidence", "expires_at", "finished_at",
    "flag_threshold", "flagged", "hash", "host", "jaccard", "kept_findings", "key", "last_attempt", "last_run",
    "locked_at", "name", "note", "notified", "origin", "pid", "pid_started", "placed_by", "policy", "prev_hash",
    "previous_cluster", "previous_size", "ratings", "reach_factor", "read_from", "reason", "reasons",
    "release_reason", "released_at", "released_by", "restriction", "risks", "role", "run_id", "run_ids",
    "score", "scored", "seq", "size", "stage", "started_at", "state", "status", "stay_id", "stub", "target_id",
    "target_type", "watch_at", "watch_changes", "watch_lock", "watch_skipped", "watch_updated_at", "watermark",
    "window_days",
)


def key_of(label: str) -> str:
    """The unique id property of a label; raises KeyError for an unknown label."""
    return NODES[label].key


def identify_node(labels: Iterable[str], props: Mapping[str, Any]) -> tuple[str, str] | None:
    """(label, key value as text) of a node read as its labels and properties: the first label the model
    knows whose key is set; None for a node the model cannot name."""
    for label in labels:
        node_type = NODES.get(label)
        if node_type is not None and props.get(node_type.key) is not None:
            return label, str(props[node_type.key])
    return None
