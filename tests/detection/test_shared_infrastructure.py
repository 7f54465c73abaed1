"""Shared-infrastructure detector: rare identifiers link, infrastructure does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ringscope.detection.findings import ClusterFinding
from ringscope.detection.shared_infrastructure import (
    SharedInfrastructureParams,
    candidate_components,
    clusters_in_components,
    detect_shared_infrastructure,
    identifier_weight,
    infrastructure_links,
    weighted_account_pairs,
)


def links(rows):
    return pd.DataFrame(rows, columns=["account_id", "kind", "identifier"])


def farm_rows(prefix="f", n=20, devices=("devA", "devB", "devC")):
    return [(f"{prefix}{i:02d}", "device", d) for i in range(n) for d in devices]


def nat_rows(n=300, ip="10.0.0.1"):
    rows = [(f"u{i:03d}", "registration_ip", ip) for i in range(n)]
    rows += [(f"u{i:03d}", "login_ip", ip) for i in range(n)]
    return rows


def test_weight_decreases_and_is_zero_above_cap():
    w = identifier_weight(np.array([1, 2, 3, 10, 50, 51, 300]), 1.0, 50)
    assert w[0] == 0.0
    assert w[1] == pytest.approx(1.0)
    assert w[1] > w[2] > w[3] > w[4] >= 0.0
    assert w[5] == 0.0 and w[6] == 0.0


def test_campus_nat_shared_by_300_accounts_links_nobody():
    assert detect_shared_infrastructure(links(nat_rows())) == []
    pairs, _ = weighted_account_pairs(links(nat_rows()))
    assert pairs.empty  # above the cap: not a single pair materialised


def test_twenty_accounts_on_three_devices_form_one_cluster_with_the_devices_cited():
    findings = detect_shared_infrastructure(links(farm_rows() + nat_rows()))
    assert len(findings) == 1
    f = findings[0]
    assert isinstance(f, ClusterFinding)
    assert f.members == tuple(f"f{i:02d}" for i in range(20))
    assert f.score > 0.8
    (reason,) = f.reasons
    assert reason.code == "shared_device"
    assert reason.evidence[0].kind == "device"
    assert reason.evidence[0].ids == ("devA", "devB", "devC")
    assert "devA" in reason.text and "10.0.0.1" not in reason.text


def test_one_shared_login_ip_alone_is_not_enough_but_corroborates():
    weak = links([(a, "login_ip", "1.2.3.4") for a in ("a", "b", "c")])
    assert detect_shared_infrastructure(weak) == []
    both = pd.concat([weak, links([(a, "registration_ip", "5.6.7.8") for a in ("a", "b", "c")])])
    pairs, _ = weighted_account_pairs(both)
    assert len(pairs) == 3 and (pairs["weight"] >= 0.5).all() and (pairs["shared"] == 2).all()
    assert detect_shared_infrastructure(both) == []  # a household: linked, but scores < 0.4
    (f,) = detect_shared_infrastructure(both, SharedInfrastructureParams(min_score=0.0))
    assert f.members == ("a", "b", "c") and f.score < 0.4
    assert {r.code for r in f.reasons} == {"shared_login_ip", "shared_registration_ip"}
    assert {e.kind for r in f.reasons for e in r.evidence} == {"ip", "registration_ip"}


def test_family_tablet_is_not_reported_but_a_device_farm_is():
    people = ("mum", "dad", "kid", "gran")
    family = links([(a, kind, ident) for a in people for kind, ident in
                    (("device", "tablet"), ("registration_ip", "home"), ("login_ip", "home"))])
    assert detect_shared_infrastructure(family) == []
    (f,) = detect_shared_infrastructure(family, SharedInfrastructureParams(min_score=0.0))
    assert f.members == tuple(sorted(people)) and f.score < 0.4
    (farm,) = detect_shared_infrastructure(links(farm_rows(n=12, devices=("only",))))
    assert farm.score > 0.5
    # five accounts on two shared phones is no longer a family
    (small,) = detect_shared_infrastructure(links(farm_rows(n=5, devices=("p1", "p2"))))
    assert small.score > 0.5


def test_fringe_member_scores_lower_and_pairs_are_dropped():
    rows = farm_rows(n=6, devices=("d1",))
    rows += [("f05", "phone", "ph1"), ("edge", "phone", "ph1")]  # edge hangs on one phone
    rows += [("p1", "device", "pair"), ("p2", "device", "pair")]  # a pair: below min size
    (f,) = detect_shared_infrastructure(links(rows))
    assert "edge" in f.members and "p1" not in f.members
    assert f.member_score("edge") < f.member_score("f00") <= f.score


def test_many_ids_are_cited_with_and_n_more():
    rows = [(a, "phone", f"ph{j:02d}") for j in range(30) for a in ("x", "y", "z")]
    (f,) = detect_shared_infrastructure(links(rows))
    assert "and 10 more" in f.reasons[0].text
    assert len(f.reasons[0].evidence[0].ids) == 30


def test_big_component_is_split_deterministically():
    rows = []
    for c in range(4):  # four farms of 40, chained by one weak bridge each
        rows += farm_rows(prefix=f"c{c}_", n=40, devices=(f"c{c}a", f"c{c}b"))
        rows += [(f"c{c}_00", "phone", f"bridge{c}"), (f"c{(c + 1) % 4}_00", "phone", f"bridge{c}")]
    frame = links(rows)
    first = detect_shared_infrastructure(frame, SharedInfrastructureParams(max_component_size=50))
    shuffled = frame.sample(frac=1.0, random_state=7)
    second = detect_shared_infrastructure(shuffled, SharedInfrastructureParams(max_component_size=50))
    assert [f.key for f in first] == [f.key for f in second]
    assert [f.score for f in first] == [f.score for f in second]
    assert len(first) == 4
    assert all(len({m.split("_")[0] for m in f.members}) == 1 for f in first)


def test_links_from_input_frames():
    accounts = pd.DataFrame({"account_id": ["a", "b"], "registration_ip": ["1.1.1.1", None],
                             "phone_hash": ["h", "h"]})
    devices = pd.DataFrame({"account_id": ["a", "a"], "device_id": ["d", "d"]})
    ips = pd.DataFrame({"account_id": ["b"], "ip": ["2.2.2.2"]})
    out = infrastructure_links(accounts, devices, ips)
    assert sorted(set(map(tuple, out.to_numpy().tolist()))) == [
        ("a", "device", "d"), ("a", "phone", "h"), ("a", "registration_ip", "1.1.1.1"),
        ("b", "login_ip", "2.2.2.2"), ("b", "phone", "h")]


def test_one_address_used_to_register_and_to_log_in_counts_once():
    rows = [(a, kind, "7.7.7.7") for a in ("a", "b", "c")
            for kind in ("registration_ip", "login_ip")]
    pairs, _ = weighted_account_pairs(links(rows))
    reg_only, _ = weighted_account_pairs(links([r for r in rows if r[1] == "registration_ip"]))
    assert pairs["weight"].tolist() == reg_only["weight"].tolist()
    assert (pairs["shared"] == 1).all()


def test_scoring_components_one_batch_at_a_time_finds_what_one_run_over_everything_finds():
    # What the Spark engine relies on: after the whole-platform stages, any set of whole components is
    # scored alone to the same findings, a Louvain-split component and a household included.
    rows = farm_rows("f", 20) + farm_rows("g", 12, ("devX",)) + nat_rows(60)
    # 120 accounts on overlapping devices of about 10: one component of 120, split by Louvain
    rows += [(f"big{i:03d}", "device", f"dev{i // 10}") for i in range(120)]
    rows += [(f"big{i:03d}", "device", f"dev{(i + 5) // 10}b") for i in range(120)]
    rows += [("h1", "device", "tablet"), ("h2", "device", "tablet"), ("h3", "device", "tablet")]
    frame = links(rows)
    params = SharedInfrastructureParams(max_component_size=50, min_score=0.0)
    whole = detect_shared_infrastructure(frame, params)
    members, used, strong = candidate_components(frame, params)
    roots = members["component"].unique()
    assert len(roots) >= 4 and members["component"].value_counts().max() > 50, "a component Louvain splits"
    batches = []
    for batch in (roots[0::2], roots[1::2]):
        mine = members[members["component"].isin(batch)]
        batches += clusters_in_components(mine, used[used["account"].isin(mine["account"])],
                                          strong[strong["a"].isin(mine["account"])], params)
    assert sorted(batches, key=lambda f: (-f.score, f.key)) == whole
    assert len(whole) >= 4
