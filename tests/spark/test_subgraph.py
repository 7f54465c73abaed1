"""``ringscope ingest --subgraph RUN --source LAKE`` and ``--subgraph-of KIND:ID``: the hop selection on a
lake of known topology (from a run's accounts and from nodes of every kind), the sub-lake it writes, and the
whole command on the 10,000-account lake into a graph that holds only the run (or only the node's
neighbourhood)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

import ringscope.commands.cli as cli
from ringscope.detection.config import DEFAULT_POLICY
from ringscope.spark.engine import SPARK_AFTER_FLAGGING, SPARK_DETECTORS
from ringscope.spark.source import PlatformSource
from ringscope.spark.subgraph import (
    HOP_LINKS, Step, account_seeds, hop_steps, seeds_in_lake, select_neighbourhood, subgraph_rows,
)
from ringscope.spark.subgraph_load import DIGEST_FILE, write_sublake
from tests.spark.lakes import write_lake

T = "2024-07-01T10:00:00+08:00"


def _frame(columns: str, *rows) -> pd.DataFrame:
    return pd.DataFrame([list(r) for r in rows], columns=columns.split())


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory):
    """Seeds s1, s2. s1 used device d1 (a1 too), logged in from 10.0.0.1 (a2 too), shares phone P1 with a12,
    wrote n1 (a4 commented, a5 liked) and n4 (b1..b5 commented), commented on n1 from device d9, follows a9
    (who used d3) and s2, is managed by m1 (with a11). s2 registered from 10.0.0.2 (a3 too), commented on
    a6's note n2 in reply to a7, liked a8's note n3, is followed by a10. a1 also used d2."""
    accounts = ["s1", "s2", *[f"a{i}" for i in range(1, 13)], *[f"b{i}" for i in range(1, 6)], "x1", "w1"]
    registration = {"s2": "10.0.0.2", "a3": "10.0.0.2"}
    phones = {"s1": "P1", "a12": "P1"}
    return write_lake(
        tmp_path_factory.mktemp("small") / "lake",
        accounts=_frame("account_id registered_at registration_ip phone_hash status",
                        *[(a, T, registration.get(a), phones.get(a), "active") for a in accounts]),
        devices=_frame("device_id model is_emulator", *[(d, "Mi 9", False) for d in ("d1", "d2", "d3", "d9", "dz")]),
        account_devices=_frame("account_id device_id first_seen last_seen",
                               ("s1", "d1", T, T), ("a1", "d1", T, T), ("a1", "d2", T, T), ("a9", "d3", T, T)),
        account_ips=_frame("account_id ip first_seen last_seen", ("s1", "10.0.0.1", T, T), ("a2", "10.0.0.1", T, T)),
        brands=_frame("brand_id name", ("br1", "One"), ("br2", "Two"), ("br3", "Three")),
        intermediaries=_frame("intermediary_id name kind registered", ("m1", "M1", "mcn", False),
                              ("m2", "M2", "agency", True)),
        intermediary_accounts=_frame("intermediary_id account_id since", ("m1", "s1", T), ("m1", "a11", T)),
        notes=_frame("note_id account_id posted_at brand_id", ("n1", "s1", T, None), ("n2", "a6", T, None),
                     ("n3", "a8", T, None), ("n4", "s1", T, None), ("nx", "w1", T, "br1")),
        comments=_frame("comment_id account_id note_id created_at text reply_to device_id",
                        ("c1", "a4", "n1", T, "nice", None, None), ("c2", "a7", "n2", T, "q?", None, None),
                        ("c3", "s2", "n2", T, "dm me", "c2", None), ("c9", "s1", "n1", T, "hi", None, "d9"),
                        *[(f"c{3 + i}", f"b{i}", "n4", T, "wow", None, None) for i in range(1, 6)]),
        likes=_frame("account_id note_id created_at", ("a5", "n1", T), ("s2", "n3", T)),
        follows=_frame("account_id target_account_id created_at", ("s1", "a9", T), ("a10", "s2", T),
                       ("s1", "s2", T)),
        orders=_frame("order_id brand_id intermediary_id account_id note_id declared",
                      ("o1", "br1", "m2", "s1", None, False), ("o2", "br2", None, None, "n2", True),
                      ("o3", "br1", "m1", "x1", "nx", False), ("o4", "br3", None, "a5", None, False)),
        sanctions=_frame("sanction_id target_type target_id action issued_at",
                         ("z1", "account", "s1", "ban", T), ("z2", "device", "d1", "ban", T),
                         ("z3", "account", "a5", "mute", T), ("z4", "brand", "br1", "warn", T),
                         ("z5", "note", "n4", "remove", T)),
        labels=_frame("account_id is_fake", *[(a, a.startswith("s")) for a in accounts]),
        trending=_frame("captured_at rank topic score", (T, 1, "#护肤", 9100), (T, 2, "#穿搭", 8000)),
    )


SEEDS = account_seeds(["s1", "s2"])
TRENDING = {"#护肤", "#穿搭"}  # the small lake's trending list: it comes whole with a run's selection


@pytest.fixture(scope="module")
def hoods(spark, small_lake):
    """The small lake's neighbourhood of the seeds at 0, 1 and 2 hops (selected once for the module)."""
    source = PlatformSource(spark, str(small_lake))
    return source, {hops: select_neighbourhood(source, SEEDS, hops, 1000) for hops in (0, 1, 2)}


def nodes_by_hop(hood) -> dict[int, dict[str, set[str]]]:
    found: dict[int, dict[str, set[str]]] = {}
    for row in hood.nodes.collect():
        found.setdefault(row["hop"], {}).setdefault(row["kind"], set()).add(row["id"])
    return found


def test_every_link_leads_both_ways_except_from_a_note_to_its_likers():
    steps = hop_steps()
    assert len(steps) == 2 * len(HOP_LINKS) - 1
    assert Step("likes", "account_id", "account", "note_id", "note") in steps
    assert not [s for s in steps if s.kind == "likes" and s.target_kind == "account"]
    assert Step("follows", "target_account_id", "account", "account_id", "account") in steps
    assert Step("accounts", "registration_ip", "ip", "account_id", "account") in steps


HOP_1 = {"account": {"a9", "a10"}, "device": {"d1"}, "ip": {"10.0.0.1", "10.0.0.2"}, "phone": {"P1"},
         "note": {"n1", "n2", "n3", "n4"}, "intermediary": {"m1"}}
HOP_2 = {"account": {"a1", "a2", "a3", "a4", "a6", "a7", "a8", "a11", "a12", "b1", "b2", "b3", "b4", "b5"},
         "device": {"d3"}}


def test_hops_reach_exactly_the_nodes_of_the_topology(hoods):
    _, hood_at = hoods
    assert nodes_by_hop(hood_at[0]) == {0: {"account": {"s1", "s2"}}}
    assert nodes_by_hop(hood_at[1]) == {0: {"account": {"s1", "s2"}}, 1: HOP_1}
    hood = hood_at[2]
    # not a5 (it only liked), not d2 (a1's other device: hop 3), not x1 or w1 (named by an order only)
    assert nodes_by_hop(hood) == {0: {"account": {"s1", "s2"}}, 1: HOP_1, 2: HOP_2}
    assert hood.seeds_in_lake == 2
    assert [(h.hop, h.reached, h.capped) for h in hood.hops] == [
        (0, {"account": 2}, {}),
        (1, {"account": 2, "device": 1, "ip": 2, "phone": 1, "note": 4, "intermediary": 1}, {}),
        (2, {"account": 14, "device": 1}, {}),
    ]


def test_the_cap_keeps_the_same_smallest_by_hash_of_a_crowded_note_and_counts_it(spark, small_lake):
    from pyspark.sql import functions as F

    source = PlatformSource(spark, str(small_lake))
    hood = select_neighbourhood(source, SEEDS, 2, 3)
    commenters = spark.createDataFrame([(f"b{i}",) for i in range(1, 6)], "id string")
    expected = {r["id"] for r in commenters.orderBy(F.xxhash64("id"), "id").limit(3).collect()}
    reached = nodes_by_hop(hood)[2]["account"]
    assert reached == (HOP_2["account"] - {"b1", "b2", "b3", "b4", "b5"}) | expected
    assert hood.hops[2].capped == {"note": 1}  # n4: five new commenters, three kept


KEYS = {"accounts": ("account_id",), "devices": ("device_id",), "brands": ("brand_id",),
        "intermediaries": ("intermediary_id",), "notes": ("note_id",), "comments": ("comment_id",),
        "orders": ("order_id",), "account_devices": ("account_id", "device_id"), "account_ips": ("account_id", "ip"),
        "intermediary_accounts": ("intermediary_id", "account_id"), "likes": ("account_id", "note_id"),
        "follows": ("account_id", "target_account_id"), "sanctions": ("sanction_id",), "labels": ("account_id",),
        "trending": ("topic",)}


def keys_of(rows) -> dict[str, set]:
    found = {}
    for kind, df in rows.items():
        keys = {tuple(r[c] for c in KEYS[kind]) for r in df.collect()}
        if keys:
            found[kind] = {k[0] if len(k) == 1 else k for k in keys}
    return found


def test_hop_0_keeps_the_seeds_own_rows_and_what_they_name(hoods):
    source, hood_at = hoods
    rows = keys_of(subgraph_rows(source, hood_at[0], with_trending=True))
    assert rows == {"accounts": {"s1", "s2"}, "follows": {("s1", "s2")}, "orders": {"o1"},
                    "brands": {"br1"}, "intermediaries": {"m2"}, "sanctions": {"z1", "z4"},
                    "labels": {"s1", "s2"}, "trending": TRENDING}  # the list whole, at any hop


def test_hop_1_keeps_the_links_between_selected_nodes_and_the_rows_of_everything_they_name(hoods, small_lake):
    source, hood_at = hoods
    rows = subgraph_rows(source, hood_at[1], with_trending=True)
    # authors of selected notes (a6, a8), of a replied-to comment (a7), of an order's note (w1) and an
    # order's account (x1) come as rows, never stubs; so do the device a comment names (d9) and brands
    named = {"s1", "s2", "a9", "a10", "a6", "a7", "a8", "w1", "x1"}
    assert keys_of(rows) == {
        "accounts": named, "labels": named,
        "devices": {"d1", "d9"}, "brands": {"br1", "br2"}, "intermediaries": {"m1", "m2"},
        "notes": {"n1", "n2", "n3", "n4", "nx"},
        "comments": {"c2", "c3", "c9"},  # c2: the comment c3 replies to
        "orders": {"o1", "o2", "o3"},  # naming s1, naming n2, taken by m1
        "account_devices": {("s1", "d1")}, "account_ips": {("s1", "10.0.0.1")},
        "intermediary_accounts": {("m1", "s1")}, "likes": {("s2", "n3")},
        "follows": {("s1", "a9"), ("a10", "s2"), ("s1", "s2")},
        "sanctions": {"z1", "z2", "z4", "z5"},  # not z3: a5 is not kept
        "trending": TRENDING,
    }
    assert rows["accounts"].columns == pd.read_parquet(small_lake / "accounts").columns.tolist()


def test_the_sub_lake_holds_the_rows_as_the_lake_has_them_and_an_unchanged_kind_keeps_its_files(hoods, small_lake,
                                                                                              tmp_path):
    source, hood_at = hoods
    rows = subgraph_rows(source, hood_at[1])
    written = write_sublake(rows, tmp_path / "sub")
    assert [(k.kind, k.rows, k.kept) for k in written][:3] == [("accounts", 9, False), ("devices", 2, False),
                                                               ("brands", 2, False)]
    comments = pd.read_parquet(tmp_path / "sub" / "comments").sort_values("comment_id").reset_index(drop=True)
    lake = pd.read_parquet(small_lake / "comments")
    assert comments.equals(lake[lake.comment_id.isin(["c2", "c3", "c9"])].sort_values("comment_id")
                           .reset_index(drop=True))
    times = {p: p.stat().st_mtime_ns for p in (tmp_path / "sub").rglob("*.parquet")}
    again = write_sublake(subgraph_rows(source, hood_at[1]), tmp_path / "sub")
    assert all(k.kept for k in again) and [k.rows for k in again] == [k.rows for k in written]
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "sub").rglob("*.parquet")} == times
    wider = write_sublake(subgraph_rows(source, hood_at[2]), tmp_path / "sub")
    # hop 2 adds accounts, their links and comments; the notes, orders, likes, follows ... stay the same
    assert {k.kind for k in wider if k.kept} == {"brands", "intermediaries", "notes", "orders", "likes", "follows",
                                                "sanctions"}
    assert (tmp_path / "sub" / "accounts" / DIGEST_FILE).is_file()


def test_a_lake_with_only_the_required_columns_is_enough(spark, tmp_path):
    lake = write_lake(
        tmp_path / "bare",
        accounts=_frame("account_id registered_at", ("s1", T), ("a1", T), ("a2", T)),
        notes=_frame("note_id account_id posted_at", ("n1", "a1", T)),
        comments=_frame("comment_id account_id note_id created_at", ("c1", "s1", "n1", T), ("c2", "a2", "n1", T)),
        orders=_frame("order_id brand_id", ("o1", "br1")),
    )
    source = PlatformSource(spark, str(lake))
    rows = keys_of(subgraph_rows(source, select_neighbourhood(source, account_seeds(["s1"]), 1, 1000)))
    assert rows == {"accounts": {"s1", "a1"}, "notes": {"n1"}, "comments": {"c1"}}


def test_a_required_column_missing_is_named_before_any_selection(spark, tmp_path):
    from ringscope.spark.source import SourceError
    from ringscope.spark.subgraph import lake_frames

    lake = write_lake(tmp_path / "broken", accounts=_frame("account_id registered_at", ("s1", T)),
                      sanctions=_frame("sanction_id target_id action issued_at", ("z1", "s1", "ban", T)))
    with pytest.raises(SourceError, match=r"sanctions: required column 'target_type' is missing"):
        lake_frames(PlatformSource(spark, str(lake)))


# --------------------------------------------------------------------------- seeds of any kind (--subgraph-of)


@pytest.mark.parametrize("seed, reached", [
    (("device", "d1"), {"account": {"s1", "a1"}}),
    (("ip", "10.0.0.2"), {"account": {"s2", "a3"}}),  # a registration IP, named by no login
    (("ip", "10.0.0.1"), {"account": {"s1", "a2"}}),
    (("phone", "P1"), {"account": {"s1", "a12"}}),
    (("note", "n2"), {"account": {"a6", "a7", "s2"}}),  # its author and commenters
    (("note", "n3"), {"account": {"a8"}}),  # its author, never its likers (s2)
    (("intermediary", "m1"), {"account": {"s1", "a11"}}),
    (("account", "a9"), {"account": {"s1"}, "device": {"d3"}}),
])
def test_a_seed_of_any_kind_reaches_its_accounts_at_the_first_hop(spark, small_lake, seed, reached):
    source = PlatformSource(spark, str(small_lake))
    hood = select_neighbourhood(source, [seed], 1, 1000)
    assert nodes_by_hop(hood) == {0: {seed[0]: {seed[1]}}, 1: reached}
    assert hood.hops[0].reached == {seed[0]: 1} and hood.seeds_in_lake == 1


def test_seeds_are_in_the_lake_by_their_own_row_or_a_row_naming_them(spark, small_lake):
    source = PlatformSource(spark, str(small_lake))
    present = [("account", "s1"), ("device", "d1"), ("device", "dz"), ("ip", "10.0.0.2"), ("phone", "P1"),
               ("note", "n1"), ("intermediary", "m1"), ("intermediary", "m2")]
    absent = [("account", "zz"), ("device", "dq"), ("ip", "s1"), ("note", "c1"), ("phone", "p1")]
    found = seeds_in_lake(source, present + absent)
    assert found.found == len(present) and set(found.missing) == set(absent)
    with pytest.raises(ValueError, match="unknown kind brand"):
        seeds_in_lake(source, [("brand", "br1")])


def test_a_device_seed_keeps_its_own_row_its_links_and_the_rows_they_name(spark, small_lake):
    source = PlatformSource(spark, str(small_lake))
    assert keys_of(subgraph_rows(source, select_neighbourhood(source, [("device", "d1")], 0, 1000))) == {
        "devices": {"d1"}, "sanctions": {"z2"}}
    rows = keys_of(subgraph_rows(source, select_neighbourhood(source, [("device", "d1")], 1, 1000)))
    assert rows == {"accounts": {"s1", "a1"}, "labels": {"s1", "a1"}, "devices": {"d1"},
                    "account_devices": {("s1", "d1"), ("a1", "d1")},
                    "orders": {"o1"}, "brands": {"br1"}, "intermediaries": {"m2"},  # o1 names s1
                    "sanctions": {"z1", "z2", "z4"}}
    # an IP at hop 0 has no row of its own; at hop 1 its accounts come with the rows naming it
    assert keys_of(subgraph_rows(source, select_neighbourhood(source, [("ip", "10.0.0.1")], 0, 1000))) == {}
    ip_rows = keys_of(subgraph_rows(source, select_neighbourhood(source, [("ip", "10.0.0.1")], 1, 1000)))
    assert ip_rows["account_ips"] == {("s1", "10.0.0.1"), ("a2", "10.0.0.1")}


# --------------------------------------------------------------------------- the command, end to end


def ported_policy(path):
    """The shipped policy with only the detectors the Spark engine runs enabled."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text())
    for name, detector in data["detectors"].items():
        detector["enabled"] = name in set(SPARK_DETECTORS) | set(SPARK_AFTER_FLAGGING)
    path.write_text(yaml.safe_dump(data))
    return str(path)


GRAPH_SHAPE = """
CALL () { MATCH (n) UNWIND labels(n) AS label RETURN 'node:' + label AS kind, count(*) AS n
          UNION ALL MATCH ()-[r]->() RETURN 'rel:' + type(r) AS kind, count(*) AS n }
RETURN kind, n ORDER BY kind
"""
MEMBERS = """
MATCH (:DetectionRun {run_id: $run_id})-[:FOUND]->(:Cluster)-[:HAS_MEMBER]->(a:Account)
RETURN DISTINCT a.account_id AS account_id, a.stub AS stub,
       COUNT { (a)-[:USED_DEVICE]->() } AS devices, COUNT { (a)-[:LOGGED_IN_FROM]->() } AS ips
"""
STUBS = "MATCH (n) WHERE n.stub = true RETURN labels(n)[0] AS label, count(*) AS n"


def ingest_subgraph(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["ingest", "--subgraph", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_runs_neighbourhood_loads_into_a_graph_holding_only_the_run_and_again_changes_nothing(
        spark, platform, graph, use_test_db, capsys, tmp_path):
    assert cli.main(["detect", "--quiet", "--policy", ported_policy(tmp_path / "policy.yaml"),
                     "--engine", "spark", "--source", str(platform)]) == 0
    run_id = capsys.readouterr().out.strip().splitlines()[-1]
    members = graph.read(MEMBERS, run_id=run_id)
    assert len(members) > 100 and all(m["stub"] for m in members)  # the run names accounts the graph lacked

    code, out, err = ingest_subgraph(capsys, run_id, "--source", str(platform), "--hops", "1")
    assert code == 0, err
    assert "hop 1: reached accounts" in out and "(incremental)" in out and "Traceback" not in err
    loaded = {m["account_id"]: m for m in graph.read(MEMBERS, run_id=run_id)}
    assert set(loaded) == {m["account_id"] for m in members}
    devices = pd.read_parquet(platform / "account_devices").drop_duplicates(["account_id", "device_id"])
    ips = pd.read_parquet(platform / "account_ips").drop_duplicates(["account_id", "ip"])
    for account_id, member in loaded.items():
        assert member["stub"] is False
        assert member["devices"] == (devices.account_id == account_id).sum()
        assert member["ips"] == (ips.account_id == account_id).sum()
    accounts = graph.read("MATCH (a:Account) RETURN count(a) AS n")[0]["n"]
    assert accounts < len(pd.read_parquet(platform / "accounts")) / 2
    assert graph.read(STUBS) == []  # every account, note, device ... named has its row from the lake
    # Notes keep the lake's body and topics (extension columns: the rows are copied as they are).
    lake_notes = pd.read_parquet(platform / "notes").set_index("note_id")
    notes = graph.read("MATCH (n:Note) RETURN n.note_id AS id, n.text AS text, n.topics AS topics")
    assert notes and all(n["text"] == lake_notes.text[n["id"]] for n in notes)
    assert all(n["topics"] == (lake_notes.topics[n["id"]].split(";") if isinstance(lake_notes.topics[n["id"]], str)
                               else None) for n in notes)
    assert any(n["topics"] for n in notes)

    shape = graph.read(GRAPH_SHAPE)
    code, out, err = ingest_subgraph(capsys, run_id, "--source", str(platform), "--hops", "1")
    assert code == 0, err
    assert "reused as it was" in out and "loaded by an earlier run: skipped" in out
    assert graph.read(GRAPH_SHAPE) == shape

    code, out, err = ingest_subgraph(capsys, run_id, "--source", str(tmp_path / "no-lake"))
    assert code == 1 and "no accounts/ folder or accounts.parquet" in err and "Traceback" not in err
    assert graph.read(GRAPH_SHAPE) == shape


def test_a_run_that_is_not_there_is_named(graph, use_test_db, capsys, tmp_path):
    code, out, err = ingest_subgraph(capsys, "run-20260101T000000Z-000000", "--source", str(tmp_path))
    assert code == 1 and "no detection run 'run-20260101T000000Z-000000'" in err and "Traceback" not in err
    code, out, err = ingest_subgraph(capsys, "latest", "--source", str(tmp_path))
    assert code == 1 and "no completed detection run yet" in err


@pytest.mark.parametrize("args, message", [
    ([], "ringscope ingest needs a dataset directory DIR, or --subgraph RUN_ID --source PATH"),
    (["--subgraph", "latest"], "--subgraph needs --source PATH"),
    (["/tmp", "--subgraph", "latest", "--source", "/tmp"], "or --subgraph RUN_ID --source PATH, not both"),
    (["/tmp", "--hops", "2"], "--hops: only with --subgraph RUN_ID"),
    (["--subgraph", "latest", "--source", "/tmp", "--hops", "5"], "--hops must be between 0 and 4 (got 5)"),
    (["--subgraph", "latest", "--source", "/tmp", "--max-per-entity", "0"], "--max-per-entity must be at least 1"),
])
def test_subgraph_arguments_that_do_not_go_together_are_one_line(capsys, args, message):
    assert cli.main(["ingest", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_nodes_neighbourhood_loads_into_an_empty_graph_and_again_changes_nothing(spark, platform, graph,
                                                                                   use_test_db, capsys):
    accounts = pd.read_parquet(platform / "accounts", columns=["account_id", "registration_ip"])
    devices = pd.read_parquet(platform / "account_devices").drop_duplicates(["account_id", "device_id"])
    account = devices.account_id.value_counts().index[0]  # the account with the most devices
    ip = accounts.registration_ip.dropna().iloc[17]
    args = ["--subgraph-of", f"account:{account}", "--subgraph-of", f"ip:{ip}", "--source", str(platform),
            "--hops", "1", "--mode", "incremental"]
    code = cli.main(["ingest", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"subgraph of account:{account}, ip:{ip}: 2 seeds (accounts 1, IPs 1; 2 in the lake" in out
    assert "hop 1: reached" in out and "Traceback" not in err
    row = graph.read("MATCH (a:Account {account_id: $id}) RETURN a.stub AS stub, "
                     "COUNT { (a)-[:USED_DEVICE]->() } AS devices", id=account)[0]
    assert row == {"stub": False, "devices": int((devices.account_id == account).sum())}
    registered = set(accounts.account_id[accounts.registration_ip == ip])
    found = {r["id"] for r in graph.read("MATCH (a:Account)-[:REGISTERED_FROM]->(:IP {ip: $ip}) "
                                         "RETURN a.account_id AS id", ip=ip)}
    assert registered <= found
    assert graph.read(STUBS) == []
    assert graph.read("MATCH (a:Account) RETURN count(a) AS n")[0]["n"] < len(accounts) / 10

    shape = graph.read(GRAPH_SHAPE)
    code = cli.main(["ingest", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "reused as it was" in out and "loaded by an earlier run: skipped" in out
    assert graph.read(GRAPH_SHAPE) == shape

    code = cli.main(["ingest", "--subgraph-of", f"ip:{ip}", "--source", str(platform), "--hops", "0"])
    out, err = capsys.readouterr()
    assert code == 0 and "an IP or a phone has no row of its own" in out and "nothing to load" in out
    assert graph.read(GRAPH_SHAPE) == shape

    code = cli.main(["ingest", "--subgraph-of", "device:no-such-device", "--source", str(platform)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert (f"--subgraph-of device:no-such-device: not in the lake at {platform} (no row of devices or "
            "account_devices.device_id names it)") in err
    assert graph.read(GRAPH_SHAPE) == shape


@pytest.mark.parametrize("args, message", [
    (["--subgraph-of", "a000001", "--source", "/tmp"], "--subgraph-of 'a000001': expected KIND:ID with KIND one of account, device"),
    (["--subgraph-of", "brand:b1", "--source", "/tmp"], "--subgraph-of 'brand:b1': expected KIND:ID"),
    (["--subgraph-of", "account:", "--source", "/tmp"], "--subgraph-of 'account:': expected KIND:ID"),
    (["--subgraph-of", "account:a1"], "--subgraph-of needs --source PATH"),
    (["--subgraph", "latest", "--subgraph-of", "account:a1", "--source", "/tmp"],
     "give --subgraph RUN_ID or --subgraph-of KIND:ID, not both"),
    (["/tmp", "--subgraph-of", "account:a1", "--source", "/tmp"],
     "or --subgraph-of KIND:ID --source PATH, not both"),
    (["--subgraph-of", "account:a1", "--source", "/tmp", "--hops", "9"], "--hops must be between 0 and 4 (got 9)"),
])
def test_subgraph_of_arguments_that_do_not_go_together_are_one_line(capsys, args, message):
    assert cli.main(["ingest", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
