"""The model's helpers, without the database."""

from ringscope.graph.model import identify_node


def test_a_node_is_named_by_the_first_label_the_model_knows_whose_key_is_set():
    assert identify_node(["Account"], {"account_id": "a1", "nickname": "x"}) == ("Account", "a1")
    assert identify_node(["Stub", "PhoneSegment"], {"segment": 170}) == ("PhoneSegment", "170")  # key as text
    assert identify_node(["Device", "Account"], {"account_id": "a1"}) == ("Account", "a1")  # no device_id
    assert identify_node(["Stub"], {"id": "x"}) is None and identify_node([], {}) is None


def test_the_bookkeeping_names_cover_the_fields_of_watch_stays_and_audit_entries():
    """A name the bulk load does not create costs the first run that writes it the snapshot (graph/commits.py)."""
    from dataclasses import fields

    from ringscope.audit.chain import AuditEntry
    from ringscope.graph.model import BOOKKEEPING_PROPERTIES
    from ringscope.watch.store import STAY_FIELDS

    assert set(STAY_FIELDS) <= set(BOOKKEEPING_PROPERTIES), set(STAY_FIELDS) - set(BOOKKEEPING_PROPERTIES)
    audit = {f.name for f in fields(AuditEntry)}
    assert audit <= set(BOOKKEEPING_PROPERTIES), audit - set(BOOKKEEPING_PROPERTIES)
