"""Which sanctions a revocation takes with it: pure logic over the derivation graph.

A derived sanction (or review item) is revoked when its justification no
longer holds once the revoked ones are gone:

* ``any``: at least one parent survives (a device banned for two banned
  accounts stays banned when one of them wins an appeal);
* ``accounts>=N``: the surviving parents still target N distinct accounts
  (an agency sanctioned for managing N sanctioned accounts);
* ``points>=N``: the surviving parents' points still add up to N (a brand's
  cooperation ban).

"Surviving" means not revoked: an expired parent still justifies what followed
from it (the violation happened; only its punishment is over). A sanction
without parents (an officer's own decision) is only revoked when named.
The result is a fixpoint: O((V+E) x rounds) over the derivation closure, and
since derivations form a DAG (see propagation.py) the rounds are bounded by its
depth.

``derivation_chain`` walks the same graph the other way: what a sanction
derives from, nearest first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Parent:
    id: str
    state: str
    target_id: str | None = None
    points: int | None = None


@dataclass(frozen=True)
class Derived:
    id: str
    state: str
    parents: tuple[Parent, ...]
    justification: str = "any"


def justified(item: Derived, revoked: set[str]) -> bool:
    surviving = [p for p in item.parents if p.id not in revoked and p.state != "revoked"]
    mode = item.justification or "any"
    if mode.startswith("accounts>="):
        return len({p.target_id for p in surviving}) >= int(mode.split(">=")[1])
    if mode.startswith("points>="):
        return sum(p.points or 0 for p in surviving) >= int(mode.split(">=")[1])
    return bool(surviving)


def cascade(roots: Iterable[str], closure: Mapping[str, Derived]) -> list[str]:
    """The ids to revoke: ``roots`` and, in order, every item of ``closure`` whose justification falls."""
    order = list(dict.fromkeys(roots))
    revoked = set(order)
    changed = True
    while changed:
        changed = False
        for item in sorted(closure.values(), key=lambda d: d.id):
            if item.id in revoked or item.state == "revoked" or not item.parents:
                continue
            if not justified(item, revoked):
                revoked.add(item.id)
                order.append(item.id)
                changed = True
    return order


def derivation_chain(sanction_id: str, parents: Mapping[str, Sequence[str]], limit: int) -> tuple[str, ...]:
    """The sanctions ``sanction_id`` derives from, breadth-first (parents, then theirs ...), each once, at
    most ``limit``. ``parents`` maps a sanction to those it derives from; one it does not list ends a branch
    (its id is still named)."""
    seen, chain, todo = {sanction_id}, [], deque(parents.get(sanction_id, ()))
    while todo and len(chain) < limit:
        parent = todo.popleft()
        if parent in seen:
            continue
        seen.add(parent)
        chain.append(parent)
        todo.extend(parents.get(parent, ()))
    return tuple(chain)
