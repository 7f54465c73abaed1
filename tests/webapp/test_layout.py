"""The explorer's server-side layout: plain functions over node and edge lists."""

from __future__ import annotations

import math

from ringscope.webapp.layout import SPRING_PX, ring_around, spring_positions


def _dist(a, b):
    return math.hypot(a[0] - b[0], a[1] - b[1])


def test_connected_nodes_end_near_the_spring_length_and_apart_from_the_rest():
    # ten pairs: each pair is joined, the pairs are not joined to each other
    nodes = [f"n{i}" for i in range(20)]
    edges = [(f"n{2 * i}", f"n{2 * i + 1}") for i in range(10)]
    pos = spring_positions(nodes, edges, seed="c1")
    joined = [_dist(pos[a], pos[b]) for a, b in edges]
    apart = [_dist(pos[f"n{2 * i}"], pos[f"n{2 * j}"]) for i in range(10) for j in range(i + 1, 10)]
    assert max(joined) < 1.5 * SPRING_PX
    assert sorted(apart)[len(apart) // 2] > 2 * max(joined)  # the pairs stay separate groups
    assert min(_dist(pos[a], pos[b]) for a in nodes for b in nodes if a < b) > 0.2 * SPRING_PX  # no pile-up


def test_the_same_input_gives_the_same_picture_and_bad_edges_are_ignored():
    nodes = ["a", "b", "c"]
    first = spring_positions(nodes, [("a", "b"), ("b", "c")], seed="x")
    again = spring_positions(nodes, [("b", "c"), ("a", "b"), ("a", "a"), ("a", "gone")], seed="x")
    assert first == again
    assert spring_positions(nodes, [("a", "b")], seed="y") != spring_positions(nodes, [("a", "b")], seed="x")
    assert spring_positions([], []) == {} and spring_positions(["only"], []) == {"only": (0.0, 0.0)}


def test_a_ring_is_centred_on_its_node_with_evenly_spaced_places():
    ring = ring_around((100.0, -50.0), 8)
    assert len(ring) == 8 and ring_around((0, 0), 0) == []
    radii = {round(_dist(p, (100.0, -50.0))) for p in ring}
    assert radii == {round(120 + 60 * math.sqrt(8))}
    gaps = {round(_dist(ring[i], ring[(i + 1) % 8])) for i in range(8)}
    assert len(gaps) == 1
