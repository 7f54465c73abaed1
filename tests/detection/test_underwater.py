"""Underwater promotion via undeclared orders; intermediaries with many flagged accounts."""

import pandas as pd

from ringscope.detection.underwater import detect_flagged_intermediaries, detect_underwater, underwater_links

T = pd.Timestamp("2024-05-01", tz="UTC")


def _data():
    notes = pd.DataFrame({
        "note_id": ["n1", "n2", "n3", "n4", "n5", "n6"],
        "account_id": ["k1", "k2", "k3", "k1", "k4", "k2"],
        "posted_at": [T + pd.Timedelta(days=d) for d in (3, 5, 6, 8, 4, 200)],
        "brand_id": ["B", "B", "B", "C", "B", "B"],
        "declared_commercial": ["false", "false", "true", "false", "false", "false"],
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3"],
        "brand_id": ["B", "C", "B"],
        "intermediary_id": ["mcn1", "mcn1", "mcn2"],
        "account_id": [None, None, None],
        "note_id": [None, None, None],
        "placed_at": [T, T, T],
        "declared": ["false", "true", "false"],
    })
    ia = pd.DataFrame({"intermediary_id": ["mcn1", "mcn1", "mcn1", "mcn2"],
                       "account_id": ["k1", "k2", "k3", "k9"], "since": [None] * 4})
    return notes, orders, ia


def test_underwater_cites_order_note_brand_intermediary():
    notes, orders, ia = _data()
    findings = detect_underwater(notes, orders, ia)
    assert len(findings) == 1
    f = findings[0]
    assert f.members == ("k1", "k2")  # k3's note is declared; k4 is not managed; n6 is outside the window
    ev = {e.kind: e.ids for e in f.reasons[0].evidence}
    assert ev["order"] == ("o1",)
    assert ev["note"] == ("n1", "n2")
    assert ev["brand"] == ("B",)
    assert ev["intermediary"] == ("mcn1",)
    assert f.reasons[0].code == "underwater_order" and "o1" in f.reasons[0].text


def test_declared_order_is_not_underwater():
    notes, orders, ia = _data()
    links = underwater_links(notes, orders, ia)
    assert "o2" not in set(links["order_id"])  # brand C order was declared


def test_direct_order_naming_the_note():
    notes, orders, ia = _data()
    direct = pd.DataFrame({"order_id": ["o9"], "brand_id": ["B"], "intermediary_id": [None], "account_id": ["k4"],
                           "note_id": ["n5"], "placed_at": [None], "declared": [False]})
    f = detect_underwater(notes, direct, ia)
    assert [x.members for x in f] == [("k4",)] and f[0].score >= 0.9
    assert {e.kind: e.ids for e in f[0].reasons[0].evidence}["order"] == ("o9",)


def test_an_order_placed_with_someone_else_that_names_a_note_does_not_implicate_its_author():
    """A comment ring's agency hired by brand B to flood note n5 names the note; its author k4 is not the
    agency's and took no order: n5 is the work's target, not a paid note. Placed with an agency that
    manages the author, the same order does implicate the author."""
    notes, orders, ia = _data()
    ring = pd.DataFrame({"order_id": ["o7"], "brand_id": ["B"], "intermediary_id": ["ring_mcn"],
                         "account_id": [None], "note_id": ["n5"], "placed_at": [T], "declared": [False]})
    assert detect_underwater(notes, ring, ia) == []
    managed = pd.concat([ia, pd.DataFrame({"intermediary_id": ["ring_mcn"], "account_id": ["k4"], "since": [None]})])
    f = detect_underwater(notes, ring, managed)
    assert [x.members for x in f] == [("k4",)] and f[0].score >= 0.9


def test_deterministic():
    notes, orders, ia = _data()
    assert detect_underwater(notes, orders, ia) == detect_underwater(notes.iloc[::-1], orders.iloc[::-1], ia.iloc[::-1])


def test_intermediary_running_flagged_accounts():
    ia = pd.DataFrame({"intermediary_id": ["m1"] * 5 + ["m2"] * 10,
                       "account_id": [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(10)]})
    flagged = {"a0", "a1", "a2", "a3", "b0", "zzz"}
    f = detect_flagged_intermediaries(ia, flagged)
    assert len(f) == 1 and f[0].members == ("a0", "a1", "a2", "a3")
    assert {e.kind: e.ids for e in f[0].reasons[0].evidence}["intermediary"] == ("m1",)
    assert abs(f[0].score - 5 / 7) < 1e-6
