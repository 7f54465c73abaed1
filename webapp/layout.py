"""Where the explorer draws a graph's nodes, computed on the server so the browser does not run physics.

A cluster drawing of a few hundred accounts and what they share took the
browser ~0.6 s to settle with vis-network's own physics (at 1M accounts,
``benchmarks/results/app_browser.md``), on every open of the cluster. The same
kind of force-directed picture computed here costs a fraction of that once,
is cached with the cluster's drawing, and is filled by the app's run watcher
for the top cluster before anyone opens it.
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Iterable, Sequence

import numpy as np

SPRING_PX = 90.0  # the ideal edge length, in the drawing's pixels (vis-network's springLength in graph.js)


def spring_positions(nodes: Sequence[Hashable], edges: Iterable[tuple[Hashable, Hashable]], *,
                     iterations: int = 60, seed: str | int = 0,
                     spring: float = SPRING_PX) -> dict[Hashable, tuple[float, float]]:
    """Force-directed positions (in pixels) for ``nodes`` joined by ``edges``.

    Fruchterman and Reingold, "Graph drawing by force-directed placement", Software: Practice and
    Experience 21(11), 1991: every pair repels with k²/d, every edge attracts with d²/k, each node moves
    at most the current temperature, which cools linearly; k is ``spring``. A pull to the centre keeps
    separate components in one disc (the original bounds the frame instead). Edges to nodes not in
    ``nodes`` and self-loops are ignored. The same nodes, edges and ``seed`` give the same positions.

    Time O(iterations · n²) and memory O(n²) with numpy (dense pairwise distances): ~0.1 s for 600
    nodes here. Meant for what the explorer draws (at most a few thousand nodes), not for a platform.
    """
    order = list(nodes)
    n = len(order)
    if n == 0:
        return {}
    if n == 1:
        return {order[0]: (0.0, 0.0)}
    index = {node: i for i, node in enumerate(order)}
    pairs = {(index[a], index[b]) for a, b in edges if a in index and b in index and a != b}
    src = np.fromiter((a for a, _ in pairs), dtype=np.intp, count=len(pairs))
    dst = np.fromiter((b for _, b in pairs), dtype=np.intp, count=len(pairs))
    k = float(spring)
    seed_int = seed if isinstance(seed, int) else zlib.crc32(str(seed).encode("utf-8"))
    rng = np.random.default_rng(seed_int)
    side = k * np.sqrt(n)
    pos = rng.uniform(-side / 2, side / 2, size=(n, 2))
    temperature = side / 10
    cooling = temperature / (iterations + 1)
    # A pull to the centre growing linearly with the distance: against the pairs' k²/d repulsion it holds
    # the nodes in a disc of even density (radius k·sqrt(n/gravity), ~1.25 k between neighbours), so the
    # small components of a cluster fill the picture instead of being pushed to its rim.
    gravity = 2.0
    x, y = pos[:, 0].copy(), pos[:, 1].copy()
    floor = (0.01 * k) ** 2
    for _ in range(iterations):
        dx = x[:, None] - x[None, :]  # i minus j
        dy = y[:, None] - y[None, :]
        push = dx * dx
        push += dy * dy
        np.maximum(push, floor, out=push)
        np.divide(k * k, push, out=push)  # repulsion k²/d along the unit vector (dx, dy)/d: (dx, dy)·k²/d²
        np.fill_diagonal(push, 0.0)
        mx = (dx * push).sum(axis=1)
        my = (dy * push).sum(axis=1)
        if len(src):
            ex, ey = x[src] - x[dst], y[src] - y[dst]
            stretch = np.maximum(np.hypot(ex, ey), 0.01 * k) / k  # attraction d²/k along the unit vector
            np.subtract.at(mx, src, ex * stretch)
            np.subtract.at(my, src, ey * stretch)
            np.add.at(mx, dst, ex * stretch)
            np.add.at(my, dst, ey * stretch)
        mx -= x * gravity
        my -= y * gravity
        size = np.maximum(np.hypot(mx, my), 1e-9)
        step = np.minimum(size, temperature) / size
        x += mx * step
        y += my * step
        temperature -= cooling
    pos = np.column_stack([x, y])
    pos -= pos.mean(axis=0)
    return {node: (round(float(x), 1), round(float(y), 1)) for node, (x, y) in zip(order, pos)}


def ring_around(center: tuple[float, float], count: int) -> list[tuple[float, float]]:
    """``count`` positions on a ring around ``center``: where an expansion's new nodes go, so nothing drawn
    before moves. The same ring as ``ringPositions`` in ``components/graph.js`` (which places them in the
    browser when the drawing is already on screen), radius 120 + 60·sqrt(count) pixels. O(count)."""
    if count <= 0:
        return []
    radius = 120 + 60 * np.sqrt(count)
    angles = 2 * np.pi * np.arange(count) / count
    return [(round(float(center[0] + radius * np.cos(a)), 1), round(float(center[1] + radius * np.sin(a)), 1))
            for a in angles]
