"""How a run's clusters are cut into transactions (``detection.run.cluster_writes``): no database."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from ringscope.detection.run import cluster_writes


def _clusters(sizes: list[int]) -> list[dict]:
    return [{"cluster_id": f"c{i}", "members": [{"account_id": f"a{i}-{j}", "score": 0.5} for j in range(n)]}
            for i, n in enumerate(sizes)]


def _members_of(write: tuple[str, dict]) -> int:
    kind, params = write
    return sum(len(c["members"]) for c in params["clusters"]) if kind == "clusters" else len(params["members"])


def test_a_cluster_larger_than_a_transaction_is_created_first_and_filled_in_chunks():
    writes = list(cluster_writes(_clusters([3, 12, 2]), max_members=5, max_clusters=10))
    assert [(k, _members_of((k, p))) for k, p in writes] == [
        ("clusters", 3),            # c0 alone: c1's first five would pass the limit
        ("clusters", 5),            # c1 with its first five members
        ("members", 5), ("members", 2),  # the rest of c1, after c1 exists
        ("clusters", 2),            # c2
    ]
    assert [p["cluster_id"] for k, p in writes if k == "members"] == ["c1", "c1"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=30), st.integers(1, 15), st.integers(1, 6))
def test_every_member_is_written_once_and_no_transaction_holds_more_than_the_limit(sizes, limit, per):
    clusters = _clusters(sizes)
    writes = list(cluster_writes(clusters, max_members=limit, max_clusters=per))
    created: list[str] = []
    written: list[tuple[str, str]] = []
    for kind, params in writes:
        assert _members_of((kind, params)) <= limit
        if kind == "clusters":
            assert len(params["clusters"]) <= per
            created += [c["cluster_id"] for c in params["clusters"]]
            written += [(c["cluster_id"], m["account_id"]) for c in params["clusters"] for m in c["members"]]
        else:
            assert params["cluster_id"] in created  # its cluster was created by an earlier transaction
            written += [(params["cluster_id"], m["account_id"]) for m in params["members"]]
    assert created == [c["cluster_id"] for c in clusters]
    assert sorted(written) == sorted((c["cluster_id"], m["account_id"]) for c in clusters for m in c["members"])
