"""What a sanction decision does: the affected entities, the rule and hop that reach each, why.

Pure logic. The graph comes in through a ``Source`` with two calls, ``nodes``
and ``expand`` (one step of a rule's path for a batch of nodes); the store
implements it with bounded Cypher inside one transaction, and
``Neighbourhood`` implements it over plain data for unit tests. ``plan`` is a
breadth-first search over *effects* (one target, one action): the decision's
own targets are hop 0, whatever a propagation rule reaches from an effect at
hop h is at hop h+1, a rule never lands beyond its ``max_depth``, and every
node and relationship read is read once, so the work is O(V+E) of the
neighbourhood the rules actually explore (reads are batched per hop and step).

Semantics worth knowing (each is the safe choice; the README says the same):

* **Each decision keeps its own records.** A target already sanctioned by an
  earlier decision gets a sanction of this decision too (the preview names the
  ones in force). So revoking one decision undoes exactly what followed from
  it, and a device banned for two unrelated accounts stays banned when one of
  them wins an appeal. Counting rules (an agency with several sanctioned
  accounts, a brand's points) also cite the earlier sanctions they counted,
  and a revoke re-checks the count.
* **Justifications point back one hop.** A target reached again by another
  effect of the same hop as its first parent gets that effect as a further
  justification (a device used by two banned accounts). Reaches from the same
  or a later hop are not recorded as justifications: derivations form a DAG
  by construction (a cycle could keep both ends alive after an appeal).
* **Guards stop, never guess.** An identifier (device, IP, phone) shared by
  more accounts than a rule's ``guard.max_accounts_sharing`` is neither
  sanctioned nor expanded by that rule: it becomes a review item and a warning.
* **One violation per account per decision.** The first (shortest) reach of an
  account decides its kind and level; later reaches add justifications.
* **Approval.** Actions listed in ``approval.actions`` (permanent bans) and
  anything beyond ``approval.max_hop_without_approval`` wait for a second
  person, and so does whatever follows from a sanction that waits.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ringscope.common.errors import RingscopeError
from ringscope.sanctions import ladder
from ringscope.sanctions.policy import IDENTIFIER_LABELS, PathStep, Rule, SanctionPolicy

REVIEW = "review"
DECISION_RULE = "decision"
BRAND_RULE = "brand_points_threshold"
IMPORTED = "import"


class UnknownTarget(RingscopeError):
    """A decision names an entity that is not in the graph."""


class BadDecision(RingscopeError):
    """A decision that cannot be made as given (unknown kind, nothing to act on)."""


class TooBroad(RingscopeError):
    """A decision would reach more than the policy's limits allow."""


# --------------------------------------------------------------------------- the graph as plain data

@dataclass(frozen=True, order=True)
class NodeRef:
    label: str
    id: str

    def __str__(self) -> str:
        return f"{self.label} {self.id}"


@dataclass(frozen=True)
class Existing:
    """A sanction already on a node, not revoked (imported ones have ``source == 'import'``)."""

    sanction_id: str
    action: str | None  # the policy action it counts as (imported names mapped), None if none
    state: str  # active | pending_approval | expired | import
    source: str  # ringscope | import
    at: datetime | None  # when decided: what the ladder and the windows count
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    kind: str | None = None
    violation_id: str | None = None
    points: int | None = None

    def in_force(self, now: datetime) -> bool:
        return self.state in ("active", "pending_approval", IMPORTED) and (
            self.expires_at is None or self.expires_at > now)

    @property
    def is_violation(self) -> bool:
        """An account's violation record: a ladder sanction of ours, or any imported sanction."""
        return self.violation_id is not None or self.source == IMPORTED


@dataclass(frozen=True)
class Node:
    ref: NodeRef
    props: Mapping[str, Any] = field(default_factory=dict)
    sharing: int | None = None  # accounts on this identifier (devices, IPs, phones)
    sanctions: tuple[Existing, ...] = ()


class Source(Protocol):
    def nodes(self, refs: Sequence[NodeRef]) -> dict[NodeRef, Node]:
        """The nodes that exist among ``refs``."""

    def expand(self, refs: Sequence[NodeRef], step: PathStep, cap: int,
               sanctioned_since: datetime | None = None) -> dict[NodeRef, list[tuple[Mapping[str, Any], Node]]]:
        """For each ref, up to ``cap`` (relationship properties, node) pairs one ``step`` away that pass
        the step's filters (and, with ``sanctioned_since``, have a violation decided since then),
        in the order of the reached nodes' ids."""


def step_matches(step: PathStep, edge: Mapping[str, Any], node: Node) -> bool:
    """The filters of a path step, as the store's Cypher applies them."""
    for key, value in step.where.items():
        if node.props.get(key) != value:
            return False
    for key, bound in step.min_edge.items():
        got = edge.get(key)
        if got is None or got < bound:
            return False
    return True


def violation_times(sanctions: Iterable[Existing], since: datetime | None = None) -> dict[str, datetime]:
    """Violations among an entity's sanctions (one per violation id; imported sanctions one each) -> when."""
    out: dict[str, datetime] = {}
    for s in sanctions:
        if not s.is_violation or s.at is None or (since is not None and s.at < since):
            continue
        key = s.violation_id or s.sanction_id
        out[key] = min(out.get(key, s.at), s.at)
    return out


class Neighbourhood:
    """A ``Source`` over plain data: nodes and typed, directed edges (for tests and replays)."""

    def __init__(self, nodes: Sequence[Node], edges: Sequence[tuple[NodeRef, str, NodeRef, Mapping[str, Any]]]):
        self._nodes = {n.ref: n for n in nodes}
        self._out: dict[tuple[NodeRef, str], list[tuple[Mapping[str, Any], NodeRef]]] = {}
        self._in: dict[tuple[NodeRef, str], list[tuple[Mapping[str, Any], NodeRef]]] = {}
        for start, rel, end, props in edges:
            self._out.setdefault((start, rel), []).append((props, end))
            self._in.setdefault((end, rel), []).append((props, start))
        shares = {"Device": "USED_DEVICE", "IP": "LOGGED_IN_FROM", "Phone": "HAS_PHONE"}
        for ref, node in list(self._nodes.items()):
            if node.sharing is None and ref.label in shares:
                accounts = {s.id for _, s in self._in.get((ref, shares[ref.label]), []) if s.label == "Account"}
                self._nodes[ref] = Node(ref, node.props, len(accounts), node.sanctions)

    def nodes(self, refs):
        return {r: self._nodes[r] for r in refs if r in self._nodes}

    def expand(self, refs, step, cap, sanctioned_since=None):
        index = self._out if step.direction == "out" else self._in
        out = {}
        for ref in refs:
            found = []
            for props, other in index.get((ref, step.rel), []):
                node = self._nodes.get(other)
                if node is None or other.label != step.label or not step_matches(step, props, node):
                    continue
                if sanctioned_since is not None and not violation_times(node.sanctions, sanctioned_since):
                    continue
                found.append((props, node))
            found.sort(key=lambda pair: pair[1].ref.id)
            out[ref] = found[:cap]
        return out


# --------------------------------------------------------------------------- the decision and the plan

@dataclass(frozen=True)
class Decision:
    """What an officer decides: a violation kind on some targets (or a cluster), and why."""

    kind: str
    targets: tuple[NodeRef, ...] = ()  # Account, Note, Device, Brand, Intermediary
    cluster: str | None = None
    min_score: float | None = None  # overrides the cluster rule's score bound
    reason: str = ""
    evidence: tuple[str, ...] = ()

    def identity(self) -> dict[str, Any]:
        """What makes two decisions the same decision (free text aside)."""
        return {"kind": self.kind, "targets": sorted(f"{t.label}:{t.id}" for t in self.targets),
                "cluster": self.cluster, "min_score": self.min_score}

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "targets": [[t.label, t.id] for t in self.targets], "cluster": self.cluster,
                "min_score": self.min_score, "reason": self.reason, "evidence": list(self.evidence)}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "Decision":
        return Decision(d["kind"], tuple(NodeRef(l, i) for l, i in d.get("targets", ())), d.get("cluster"),
                        d.get("min_score"), d.get("reason", ""), tuple(d.get("evidence", ())))


@dataclass(frozen=True)
class Step:
    """One node of a justifying path and the relationship that leads on from it (None at the end)."""

    label: str
    id: str
    rel: str | None = None
    direction: str | None = None  # "out": (this)-[rel]->(next); "in": (this)<-[rel]-(next)

    def text(self) -> str:
        arrow = "" if self.rel is None else (f" -{self.rel}-> " if self.direction == "out" else f" <-{self.rel}- ")
        return f"{self.label} {self.id}{arrow}"


def path_text(path: Sequence[Step]) -> str:
    return "".join(s.text() for s in path)


@dataclass(frozen=True)
class Effect:
    """One thing a decision does to one entity: a sanction with an action, or a review item."""

    key: str  # "Label:id:action", unique in the plan
    target: NodeRef
    action: str  # a policy action, or "review"
    kind: str  # the violation kind behind it
    rule: str  # "decision", a propagation rule's name, or "brand_points_threshold"
    hop: int
    path: tuple[Step, ...]  # from the decision's root to the target
    level: int | None = None  # ladder level (account violations)
    days: int | None = None  # None: permanent, or instant
    points: int | None = None  # credit points taken, or brand points given
    violation: str | None = None  # "Account:id" for the actions of one ladder violation
    parents: tuple[str, ...] = ()  # keys of the effects in this plan it follows from
    existing_parents: tuple[str, ...] = ()  # sanctions already in the graph it also rests on (counting rules)
    justification: str = "any"  # "any" | "accounts>=N" | "points>=N"
    history: tuple[str, ...] = ()  # sanctions already in the graph that set its level / count
    in_force: tuple[str, ...] = ()  # sanctions with the same action already in force on the target
    needs_approval: bool = False
    approval_reasons: tuple[str, ...] = ()
    note: str = ""  # why, in words (guard, condition)

    @property
    def is_review(self) -> bool:
        return self.action == REVIEW


@dataclass(frozen=True)
class HopCount:
    hop: int
    entities: int
    sanctions: int
    reviews: int


@dataclass(frozen=True)
class Plan:
    decision: Decision
    decision_key: str
    policy_version: int
    effects: tuple[Effect, ...]
    warnings: tuple[str, ...]
    counts: tuple[HopCount, ...]

    @property
    def needs_approval(self) -> bool:
        return any(e.needs_approval for e in self.effects)

    @property
    def sanctions(self) -> tuple[Effect, ...]:
        return tuple(e for e in self.effects if not e.is_review)

    @property
    def reviews(self) -> tuple[Effect, ...]:
        return tuple(e for e in self.effects if e.is_review)

    def content(self) -> dict[str, Any]:
        return {"decision": self.decision.as_dict(), "decision_key": self.decision_key,
                "policy_version": self.policy_version, "effects": [asdict(e) for e in self.effects],
                "warnings": list(self.warnings)}

    def fingerprint(self) -> str:
        return hashlib.sha256(canonical(self.content()).encode("utf-8")).hexdigest()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def plan_from_content(content: Mapping[str, Any]) -> Plan:
    """A plan back from ``Plan.content()`` (a stored preview)."""
    effects = []
    for e in content["effects"]:
        e = dict(e)
        e["target"] = NodeRef(**e["target"])
        e["path"] = tuple(Step(**s) for s in e["path"])
        for name in ("parents", "existing_parents", "history", "in_force", "approval_reasons"):
            e[name] = tuple(e[name])
        effects.append(Effect(**e))
    return Plan(Decision.from_dict(content["decision"]), content["decision_key"], content["policy_version"],
                tuple(effects), tuple(content["warnings"]), _counts(effects))


def diff(before: Plan, after: Plan, limit: int = 12) -> list[str]:
    """What differs between two plans of the same decision, in words (for a stale preview)."""
    out = []
    old = {e.key: e for e in before.effects}
    new = {e.key: e for e in after.effects}
    for key in sorted(new.keys() - old.keys()):
        e = new[key]
        out.append(f"now also {e.action} {e.target} (hop {e.hop}, {e.rule})")
    for key in sorted(old.keys() - new.keys()):
        e = old[key]
        out.append(f"no longer {e.action} {e.target} (was hop {e.hop}, {e.rule})")
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        if a == b:
            continue
        changed = [f for f in ("level", "days", "points", "hop", "rule", "parents", "existing_parents",
                               "history", "in_force", "needs_approval", "path", "justification", "note")
                   if getattr(a, f) != getattr(b, f)]
        what = ", ".join(_change(f, getattr(a, f), getattr(b, f)) for f in changed)
        out.append(f"{b.action} {b.target}: {what}")
    for w in sorted(set(after.warnings) - set(before.warnings)):
        out.append(f"new warning: {w}")
    for w in sorted(set(before.warnings) - set(after.warnings)):
        out.append(f"warning gone: {w}")
    if before.decision_key != after.decision_key and not out:
        out.append("the sanctions the decision rests on changed")
    if len(out) > limit:
        out = out[:limit] + [f"... and {len(out) - limit} more"]
    return out


def _change(name: str, old: Any, new: Any) -> str:
    if name == "history":
        added = sorted(set(new) - set(old))
        gone = sorted(set(old) - set(new))
        bits = [f"+{x}" for x in added] + [f"-{x}" for x in gone]
        return f"history {' '.join(bits)}"
    if name == "path":
        return f"path {path_text(old)} -> {path_text(new)}"
    return f"{name} {old} -> {new}"


# --------------------------------------------------------------------------- the search

@dataclass
class _Draft:
    key: str
    target: NodeRef
    action: str
    kind: str
    rule: str
    hop: int
    path: tuple[Step, ...]
    level: int | None = None
    days: int | None = None
    points: int | None = None
    violation: str | None = None
    parents: list[str] = field(default_factory=list)
    existing_parents: list[str] = field(default_factory=list)
    justification: str = "any"
    history: tuple[str, ...] = ()
    in_force: tuple[str, ...] = ()
    note: str = ""
    paths_counted: set = field(default_factory=set)  # brand points: one per distinct path
    why: list[str] = field(default_factory=list)  # the orders behind it, in words (paths through an Order)

    def freeze(self, needs: bool, reasons: tuple[str, ...]) -> Effect:
        return Effect(self.key, self.target, self.action, self.kind, self.rule, self.hop, self.path, self.level,
                      self.days, self.points, self.violation, tuple(self.parents),
                      tuple(sorted(set(self.existing_parents))), self.justification, self.history, self.in_force,
                      needs, reasons, self.note)


class _Planner:
    def __init__(self, decision: Decision, source: Source, policy: SanctionPolicy, now: datetime):
        self.d, self.src, self.p, self.now = decision, source, policy, now
        self.drafts: dict[str, _Draft] = {}
        self.order: list[str] = []
        self.queue: deque[str] = deque()
        self.nodes: dict[NodeRef, Node] = {}
        self.warnings: list[str] = []
        self.fired: set[tuple[str, NodeRef]] = set()
        self.count_candidates: dict[tuple[str, NodeRef], dict[NodeRef, tuple[str, tuple[Step, ...]]]] = {}
        self.count_existing: dict[tuple[str, NodeRef], dict[NodeRef, list[str]]] = {}
        self.count_paths: dict[tuple[str, NodeRef], list[tuple[Step, ...]]] = {}  # the reaches, for the note
        self.notes_without_throttle: list[NodeRef] = []
        self.depth_stops: dict[str, int] = {}
        self.author_paths: dict[NodeRef, tuple[Step, ...]] = {}
        self.sanctioned: set[NodeRef] = set()  # targets this plan sanctions (not just reviews)
        self.cap = policy.limits.max_fanout
        self.read: dict[tuple[NodeRef, tuple], list[tuple[Mapping[str, Any], Node]]] = {}

    # --- reading
    def _remember(self, node: Node) -> Node:
        self.nodes.setdefault(node.ref, node)
        return self.nodes[node.ref]

    def _expand(self, refs: Sequence[NodeRef], step: PathStep, sanctioned_since: datetime | None = None):
        """One step from many nodes in one read; each (node, step) is read once per plan."""
        sig = (step.rel, step.direction, step.label, tuple(sorted(step.where.items())),
               tuple(sorted(step.min_edge.items())), sanctioned_since)
        missing = sorted({r for r in refs if (r, sig) not in self.read})
        if missing:
            got = self.src.expand(missing, step, self.cap + 1, sanctioned_since)
            for ref in missing:
                pairs = list(got.get(ref, ()))
                if len(pairs) > self.cap:
                    raise TooBroad(f"{ref} has more than {self.cap} {step.label} neighbours over {step.rel} "
                                   f"(limits.max_fanout): narrow the decision or sanction them in parts")
                self.read[(ref, sig)] = [(edge, self._remember(node)) for edge, node in pairs]
        return {r: self.read[(r, sig)] for r in refs}

    # --- adding effects
    def _add(self, draft: _Draft) -> _Draft:
        if draft.key in self.drafts:
            raise AssertionError(draft.key)
        if len(self.drafts) >= self.p.limits.max_effects:
            raise TooBroad(f"the decision would touch more than {self.p.limits.max_effects} entities "
                           "(limits.max_effects): narrow it or sanction in parts")
        self.drafts[draft.key] = draft
        self.order.append(draft.key)
        if draft.action != REVIEW:
            self.queue.append(draft.key)
            self.sanctioned.add(draft.target)
        return draft

    def _justify(self, draft: _Draft, parent: str | None) -> None:
        """A further reach of an existing effect: a justification when it comes from one hop closer."""
        if parent is None or parent in draft.parents:
            return
        if self.drafts[parent].hop < draft.hop:
            draft.parents.append(parent)

    def _in_force(self, node: Node, action: str) -> tuple[str, ...]:
        return tuple(sorted(s.sanction_id for s in node.sanctions if s.action == action and s.in_force(self.now)))

    def action(self, node: Node, action: str, *, kind: str, rule: str, hop: int, path: tuple[Step, ...],
               parent: str | None, days: int | None = None, points: int | None = None, level: int | None = None,
               violation: str | None = None, note: str = "") -> _Draft:
        key = f"{node.ref.label}:{node.ref.id}:{action}"
        if key in self.drafts:
            draft = self.drafts[key]
            self._justify(draft, parent)
            return draft
        return self._add(_Draft(key, node.ref, action, kind, rule, hop, path, level, days, points, violation,
                                [parent] if parent else [], in_force=self._in_force(node, action), note=note))

    def review(self, node: Node, *, kind: str, rule: str, hop: int, path: tuple[Step, ...], parent: str | None,
               note: str) -> None:
        key = f"{node.ref.label}:{node.ref.id}:{REVIEW}"
        if key in self.drafts:
            draft = self.drafts[key]
            self._justify(draft, parent)
            if note and note not in draft.note:
                draft.note = f"{draft.note}; {note}" if draft.note else note
            return
        self._add(_Draft(key, node.ref, REVIEW, kind, rule, hop, path, parents=[parent] if parent else [], note=note))

    def violation(self, account: Node, kind: str, *, rule: str, hop: int, path: tuple[Step, ...],
                  parent: str | None, notes: Sequence[tuple[Node, tuple[Step, ...]]] = (), note: str = "") -> None:
        """A ladder violation of an account: its level from its history, the step's actions."""
        group = f"Account:{account.ref.id}"
        existing = [d for d in self.drafts.values() if d.violation == group]
        if existing:
            for d in existing:
                self._justify(d, parent)
            return
        since = self.now - timedelta(days=self.p.windows.record_days)
        history = violation_times(account.sanctions, since)
        level = ladder.escalation_level(kind, history.values(), self.now, self.p)
        counted = tuple(sorted(s.sanction_id for s in account.sanctions
                               if s.is_violation and (s.violation_id or s.sanction_id) in history))
        for act in ladder.ladder_actions(level, self.p):
            spec = self.p.actions[act.action]
            if spec.target == "Note":
                if not notes:
                    self.notes_without_throttle.append(account.ref)
                for note_node, note_path in notes:
                    d = self.action(note_node, act.action, kind=kind, rule=rule, hop=hop, path=note_path, parent=parent,
                                    days=act.days, points=act.points, level=level, violation=group)
                    d.history = counted
                continue
            d = self.action(account, act.action, kind=kind, rule=rule, hop=hop, path=path, parent=parent,
                            days=act.days, points=act.points, level=level, violation=group, note=note)
            d.history = counted

    def points(self, brand: Node, points: int, *, kind: str, rule: str, hop: int, path: tuple[Step, ...],
               parent: str | None) -> None:
        """Brand points, one award per distinct path (an undeclared order through the agency)."""
        draft = self.action(brand, "brand_points", kind=kind, rule=rule, hop=hop, path=path, parent=parent,
                            points=0, days=self.p.brands.points_days)
        signature = tuple((s.label, s.id) for s in path)
        if signature not in draft.paths_counted and (draft.hop == hop):
            draft.paths_counted.add(signature)
            draft.points = (draft.points or 0) + points
            self._because(draft, path)

    # --- roots
    def roots(self) -> None:
        if self.d.kind not in self.p.violation_kinds:
            raise BadDecision(f"--kind {self.d.kind!r} is not a violation kind of the sanction policy "
                              f"({', '.join(self.p.violation_kinds)})")
        refs = list(self.d.targets) + ([NodeRef("Cluster", self.d.cluster)] if self.d.cluster else [])
        if not refs:
            raise BadDecision("a decision needs a target: an account, note, device, brand, intermediary or cluster")
        found = self.src.nodes(refs)
        missing = [r for r in refs if r not in found]
        if missing:
            raise UnknownTarget(f"no {missing[0].label} with id {missing[0].id!r} in the graph"
                                + (f" (and {len(missing) - 1} more missing)" if len(missing) > 1 else ""))
        for node in found.values():
            self._remember(node)
        notes = [self.nodes[r] for r in self.d.targets if r.label == "Note"]
        authors: dict[NodeRef, list[tuple[Node, tuple[Step, ...]]]] = {}
        if notes:
            posted = PathStep(rel="POSTED", direction="in", label="Account")
            got = self._expand([n.ref for n in notes], posted)
            for note in notes:
                if not got.get(note.ref):
                    raise UnknownTarget(f"{note.ref} has no author in the graph: name the account with --account")
                for _, author in got[note.ref]:
                    authors.setdefault(author.ref, []).append(
                        (note, (Step("Account", author.ref.id, "POSTED", "out"), Step("Note", note.ref.id))))
                    self.author_paths.setdefault(
                        author.ref, (Step("Note", note.ref.id, "POSTED", "in"), Step("Account", author.ref.id)))
        kind = self.d.kind
        for ref in self.d.targets:
            node = self.nodes[ref]
            path = (Step(ref.label, ref.id),)
            if ref.label == "Account":
                self.violation(node, kind, rule=DECISION_RULE, hop=0, path=path, parent=None,
                               notes=authors.pop(ref, []))
            elif ref.label in ("Device", "Intermediary"):
                direct = self.p.direct.get(ref.label)
                if direct is None:
                    raise BadDecision(f"the sanction policy has no direct.{ref.label} action")
                self.action(node, direct.action, kind=kind, rule=DECISION_RULE, hop=0, path=path, parent=None,
                            days=direct.days)
            elif ref.label == "Brand":
                self.points(node, self.p.brands.points_per_undeclared_promotion, kind=kind, rule=DECISION_RULE,
                            hop=0, path=path, parent=None)
            elif ref.label != "Note":
                raise BadDecision(f"{ref.label} cannot be sanctioned directly")
        for author_ref, author_notes in sorted(authors.items()):
            self.violation(self.nodes[author_ref], kind, rule=DECISION_RULE, hop=0,
                           path=self.author_paths[author_ref], parent=None, notes=author_notes)
        if self.d.cluster:
            cluster = self.nodes[NodeRef("Cluster", self.d.cluster)]
            rules = [r for r in self.p.propagation if r.from_.label == "Cluster"]
            if not rules:
                raise BadDecision("the sanction policy has no rule from a Cluster: cluster decisions are off")
            for rule in rules:
                self.follow(rule, [(cluster, None, (Step("Cluster", cluster.ref.id),))], hop=1)

    # --- rules
    def _triggered(self, draft: _Draft) -> list[Rule]:
        out = []
        for rule in self.p.propagation:
            t = rule.from_
            if t.label != draft.target.label:
                continue
            if draft.action in t.actions or (t.violation and draft.violation is not None
                                             and (not t.kinds or draft.kind in t.kinds)):
                out.append(rule)
        return out

    def _guarded(self, rule: Rule, node: Node) -> bool:
        g = rule.guard
        return (g is not None and node.ref.label in IDENTIFIER_LABELS and node.sharing is not None
                and node.sharing > g.max_accounts_sharing)

    def _guard_stop(self, rule: Rule, node: Node, hop: int, path: tuple[Step, ...], parent: str | None) -> None:
        limit = rule.guard.max_accounts_sharing
        note = (f"{node.ref} is shared by {node.sharing} accounts (more than {limit}): "
                f"rule {rule.name} does not propagate through it")
        self.warnings.append(f"{note}; sent to review")
        self.review(node, kind=self.d.kind, rule=rule.name, hop=hop, path=path, parent=parent, note=note)

    def _ban_time(self, device: Node) -> datetime | None:
        """When a banned device was banned: the earliest ban in force, else None (banned by this decision,
        i.e. now: every account on it was there before)."""
        times = [s.issued_at or s.at for s in device.sanctions
                 if s.action == "device_ban" and s.in_force(self.now) and (s.issued_at or s.at)]
        return min(times) if times else None

    def follow(self, rule: Rule, starts: Sequence[tuple[Node, str | None, tuple[Step, ...]]], hop: int) -> None:
        """Apply one rule from many nodes at once; each start's effect (its parent) is at ``hop - 1``.
        Every step of the rule's path is one batched read for the whole frontier."""
        if hop > rule.max_depth:
            self.depth_stops[rule.name] = rule.max_depth
            return
        frontier = []
        for start, parent, path in starts:
            if self._guarded(rule, start):
                self._guard_stop(rule, start, hop - 1, path, parent)
            else:
                frontier.append((start, start, path, parent))
        for i, step in enumerate(rule.path):
            if not frontier:
                return
            if step.label == "Account" and rule.from_.label == "Cluster" and self.d.min_score is not None:
                step = step.model_copy(update={"min_edge": {**step.min_edge, "score": self.d.min_score}})
            last = i == len(rule.path) - 1
            got = self._expand([n.ref for _, n, _, _ in frontier], step)
            nxt = []
            for start, node, node_path, parent in frontier:
                here = node_path[:-1] + (Step(node.ref.label, node.ref.id, step.rel, step.direction),)
                for edge, other in got.get(node.ref, []):
                    other_path = here + (Step(other.ref.label, other.ref.id),)
                    if self._guarded(rule, other):
                        self._guard_stop(rule, other, hop, other_path, parent)
                    elif last:
                        self.land(rule, start, other, edge, hop=hop, path=other_path, parent=parent)
                    else:
                        nxt.append((start, other, other_path, parent))
            frontier = nxt

    def land(self, rule: Rule, start: Node, node: Node, edge: Mapping[str, Any], *, hop: int,
             path: tuple[Step, ...], parent: str | None) -> None:
        then, when = rule.then, rule.when
        kind = self.d.kind if then.violation in (None, "decision") else then.violation
        note = ""
        if when and when.registered:
            # The plan must not depend on the clock beyond the ladder's windows (preview and apply run at
            # different instants), so a ban by this decision is "now" without a timestamp in the note.
            banned_at = self._ban_time(start)
            registered = node.props.get("registered_at") or edge.get("first_seen")
            after = registered is not None and banned_at is not None and registered > banned_at
            if (when.registered == "after_ban") != after:
                return
            ban = f"the device ban of {banned_at.isoformat()}" if banned_at else "the device ban of this decision"
            note = (f"registered {registered.isoformat() if registered else 'at an unknown time'}, "
                    f"{'after' if after else 'before'} {ban}")
        if when and when.min_sanctioned_accounts:
            self.count_rule(rule, start, node, hop=hop, path=path, parent=parent)
            return
        if then.review:
            if node.ref in self.sanctioned or self._in_force(node, "permanent_ban"):
                return  # sanctioned by this decision, or already banned: nothing for a person to look at
            self.review(node, kind=kind, rule=rule.name, hop=hop, path=path, parent=parent, note=note)
        elif then.violation is not None:
            self.violation(node, kind, rule=rule.name, hop=hop, path=path, parent=parent, note=note)
        elif then.points_per_path:
            self.points(node, then.points_per_path, kind=kind, rule=rule.name, hop=hop, path=path, parent=parent)
        else:
            draft = self.action(node, then.action, kind=kind, rule=rule.name, hop=hop, path=path, parent=parent,
                                days=then.days, note=note)
            if draft.rule == rule.name and draft.hop == hop and self.order_words(path):
                self._because(draft, path)
                draft.note = _joined(note, draft.why)

    def order_words(self, path: Sequence[Step]) -> str | None:
        """Why a path through an order reaches its end, in words: "declared order o3 for Brand b1 through
        sanctioned account a1", "undeclared order o1 for Brand b1 taken by sanctioned agency m1"; None when
        the path passes no order."""
        at = next((i for i in range(len(path) - 1, -1, -1) if path[i].label == "Order"), None)
        if at is None:
            return None  # (the last order on the path: the one the last rule followed, from the node before it)
        order = self.nodes.get(NodeRef("Order", path[at].id))
        declared = order.props.get("declared") if order is not None else None
        words = {True: "declared order", False: "undeclared order"}.get(declared, "order")
        text = f"{words} {path[at].id}"
        end, start = path[-1], path[at - 1] if at > 0 else path[at]
        if end.label == "Brand":
            text += f" for Brand {end.id}"
        elif end.label == "Intermediary":
            text += f" taken by Intermediary {end.id}"
        elif end.label == "Account":
            text += f" carried out by Account {end.id}"
        if start.label == "Account":
            text += f" through sanctioned account {start.id}"
        elif start.label == "Intermediary":
            text += f" taken by sanctioned agency {start.id}"
        elif start.label == "Brand":
            text += f" placed by sanctioned Brand {start.id}"
        return text

    def _because(self, draft: _Draft, path: Sequence[Step]) -> None:
        words = self.order_words(path)
        if words and words not in draft.why:
            draft.why.append(words)

    def count_rule(self, rule: Rule, start: Node, node: Node, *, hop: int, path: tuple[Step, ...],
                   parent: str | None) -> None:
        """A rule that lands once enough accounts around the target are sanctioned (this decision's and
        earlier ones within ``windows.record_days``)."""
        slot = (rule.name, node.ref)
        candidates = self.count_candidates.setdefault(slot, {})
        if len(self.count_paths.get(slot, ())) < 50 and path not in self.count_paths.get(slot, ()):
            self.count_paths.setdefault(slot, []).append(path)
        if start.ref not in candidates and parent is not None:
            candidates[start.ref] = (parent, path)
        if slot not in self.count_existing:
            self.count_existing[slot] = self._sanctioned_behind(rule, node)
        existing = self.count_existing[slot]
        accounts = set(existing) | set(candidates)
        need = rule.when.min_sanctioned_accounts
        if len(accounts) < need:
            return
        key = f"{node.ref.label}:{node.ref.id}:{rule.then.action}"
        first = key not in self.drafts
        if first:
            first_parent, first_path = candidates[min(candidates, key=lambda r: (self.drafts[candidates[r][0]].hop, r))]
            draft = self.action(node, rule.then.action, kind=self.d.kind, rule=rule.name, hop=hop, path=first_path,
                                parent=first_parent, days=rule.then.days)
            draft.justification = f"accounts>={need}"
            draft.existing_parents = sorted({s for ref, ids in existing.items() if ref not in candidates for s in ids})
            draft.history = tuple(draft.existing_parents)
        draft = self.drafts[key]
        for ref, (p, _) in candidates.items():
            if p not in draft.parents and self.drafts[p].hop < draft.hop:
                draft.parents.append(p)
        if draft.rule == rule.name:
            for counted in self.count_paths[slot]:
                self._because(draft, counted)
        whose = ("of the accounts it manages" if len(rule.path) == 1 else
                 "accounts that reach it through " + ", ".join(f"a {_where_words(st)}{st.label}"
                                                               for st in rule.path[:-1]))
        draft.note = _joined(f"{len(accounts)} {whose} are sanctioned (rule: {need} or more)", draft.why)

    def _sanctioned_behind(self, rule: Rule, node: Node) -> dict[NodeRef, list[str]]:
        """The accounts with a violation within ``windows.record_days`` (of the rule's kinds, if it names
        any; imported sanctions always count) that the rule's path leads back to from ``node`` -> their
        violations' sanction ids. The path walked backwards, step by step, with the filters of each node
        it passes (e.g. only declared orders)."""
        since = self.now - timedelta(days=self.p.windows.record_days)
        kinds = rule.from_.kinds
        frontier = [node.ref]
        for j in range(len(rule.path) - 1, -1, -1):
            step = rule.path[j]
            before = rule.path[j - 1] if j > 0 else None
            back = PathStep(rel=step.rel, direction="out" if step.direction == "in" else "in",
                            label=before.label if before else rule.from_.label,
                            where=dict(before.where) if before else {})
            got = self._expand(frontier, back, sanctioned_since=since if before is None else None)
            if before is not None:
                frontier = sorted({other.ref for ref in frontier for _, other in got.get(ref, [])})
                continue
            out: dict[NodeRef, list[str]] = {}
            for ref in frontier:
                for _, other in got.get(ref, []):
                    ids = sorted(s.sanction_id for s in other.sanctions if s.is_violation and s.at and s.at >= since
                                 and (not kinds or s.kind is None or s.kind in kinds))
                    if ids:
                        out[other.ref] = ids
            return out
        return {}

    # --- the search
    def run(self) -> Plan:
        self.roots()
        while self.queue:
            # One hop at a time (the queue's hops never decrease): each rule runs once per hop,
            # from every effect of that hop it is triggered by.
            hop = self.drafts[self.queue[0]].hop
            layer = []
            while self.queue and self.drafts[self.queue[0]].hop == hop:
                layer.append(self.drafts[self.queue.popleft()])
            for rule in self.p.propagation:
                starts = []
                for draft in layer:
                    slot = (rule.name, draft.target)
                    if slot in self.fired or rule not in self._triggered(draft):
                        continue  # (another action of the same entity: the rule already ran from it)
                    self.fired.add(slot)
                    starts.append((self.nodes[draft.target], draft.key, draft.path))
                if starts:
                    self.follow(rule, starts, hop + 1)
        self.brand_thresholds()
        return self.finish()

    def brand_thresholds(self) -> None:
        b = self.p.brands
        since = self.now - timedelta(days=b.window_days)
        for key in list(self.order):
            draft = self.drafts[key]
            if draft.action != "brand_points":
                continue
            node = self.nodes[draft.target]
            earlier = [s for s in node.sanctions if s.action == "brand_points" and s.at and s.at >= since]
            total = sum(s.points or 0 for s in earlier) + (draft.points or 0)
            draft.history = tuple(sorted(s.sanction_id for s in earlier))
            draft.note = _joined(f"{total} points within {b.window_days} days (threshold {b.threshold})", draft.why)
            if not ladder.brand_banned(total, self.p):
                continue
            ban = self.action(node, b.action, kind=draft.kind, rule=BRAND_RULE, hop=draft.hop, path=draft.path,
                              parent=None, days=b.days, note=draft.note)
            ban.parents = [key]
            ban.existing_parents = [s.sanction_id for s in earlier]
            ban.history = draft.history
            ban.justification = f"points>={b.threshold}"

    def finish(self) -> Plan:
        a = self.p.approval
        needs: dict[str, tuple[str, ...]] = {}
        # Parents always come before their children in self.order (a child is made while expanding
        # a parent, or, for the brand threshold, after its points), so one pass settles approval.
        for key in self.order:
            d = self.drafts[key]
            reasons = []
            if d.action != REVIEW:
                if d.action in a.actions:
                    reasons.append(f"{d.action} needs approval")
                if d.hop > a.max_hop_without_approval:
                    reasons.append(f"hop {d.hop} is beyond {a.max_hop_without_approval}")
                if any(needs.get(p) for p in d.parents):
                    reasons.append("follows from a sanction awaiting approval")
            needs[key] = tuple(reasons)
        if self.notes_without_throttle:
            first = self.notes_without_throttle[0]
            self.warnings.append(f"{len(self.notes_without_throttle)} account(s) at a ladder step that throttles "
                                 f"the note concerned have no note named (e.g. {first}): only the account's "
                                 "actions apply; name notes with --note")
        for rule, depth in sorted(self.depth_stops.items()):
            self.warnings.append(f"rule {rule} stopped at its max_depth {depth}")
        ordered = sorted((self.drafts[k].freeze(bool(needs[k]), needs[k]) for k in self.order),
                         key=lambda e: (e.hop, e.target, e.action))
        identity = {"decision": self.d.identity(), "policy": self.p.version,
                    "history": sorted({h for e in ordered for h in e.history})}
        decision_key = hashlib.sha256(canonical(identity).encode("utf-8")).hexdigest()[:24]
        return Plan(self.d, decision_key, self.p.version, tuple(ordered), tuple(dict.fromkeys(self.warnings)),
                    _counts(ordered))


def _where_words(step: PathStep) -> str:
    """A path step's filters as an adjective: "declared ", "undeclared ", "" (none)."""
    words = []
    for key, value in sorted(step.where.items()):
        words.append(key if value is True else f"un{key}" if value is False else f"{key} {value}")
    return " ".join(words) + (" " if words else "")


def _joined(note: str, why: Sequence[str], limit: int = 5) -> str:
    """A note and the orders behind it (the first ``limit``, then how many more)."""
    if not why:
        return note
    shown = "; ".join(why[:limit]) + (f"; and {len(why) - limit} more" if len(why) > limit else "")
    return f"{note}: {shown}" if note else shown


def _counts(effects: Sequence[Effect]) -> tuple[HopCount, ...]:
    by_hop: dict[int, list[Effect]] = {}
    for e in effects:
        by_hop.setdefault(e.hop, []).append(e)
    return tuple(HopCount(h, len({e.target for e in es}), sum(1 for e in es if not e.is_review),
                          sum(1 for e in es if e.is_review)) for h, es in sorted(by_hop.items()))


def plan(decision: Decision, source: Source, policy: SanctionPolicy, now: datetime) -> Plan:
    """Everything ``decision`` would do at ``now``; reads through ``source``, writes nothing."""
    return _Planner(decision, source, policy, now).run()
