"""The sanction policy file (``policy/sanctions.yaml``): validated, with errors naming the key at fault.

Everything the sanction ladder, the brand points, credit, propagation and
approval do comes from here; the code holds no figure of its own. Shape errors
come from pydantic (``extra="forbid"``, so a misspelt key is refused); the
cross-checks in ``_check`` catch what a schema cannot: a ladder action that is
not in the catalogue, a relationship that ``graph/model.py`` does not know or
that does not join the labels a rule says, a status no status list holds.
``RINGSCOPE_SANCTION_POLICY`` names another file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal


from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ringscope import policy as policy_files
from ringscope.common.errors import SettingError
from ringscope.common.policyfile import first_error, read_yaml
from ringscope.graph.model import ACCOUNT_STATUSES, NODES, RELATIONSHIPS, SANCTION_TARGETS

DEFAULT_POLICY = policy_files.SANCTIONS

TARGET_LABELS = tuple(sorted(set(SANCTION_TARGETS.values())))
# Labels of identifiers several accounts can share: the propagation guard counts accounts on them.
IDENTIFIER_LABELS = ("Device", "IP", "Phone", "PhoneSegment")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Windows(_Model):
    escalation_days: int = Field(ge=1)
    record_days: int = Field(ge=1)


class ViolationKind(_Model):
    severity: Literal["normal", "severe"]
    description: str = ""


class ActionSpec(_Model):
    target: str
    status: str | None = None
    merge: bool = False
    instant: bool = False
    imported_as: tuple[str, ...] = ()
    description: str = ""


class LadderAction(_Model):
    action: str
    days: int | None = Field(default=None, ge=1)  # None: permanent (or instant)
    points: int | None = Field(default=None, ge=1)


class LadderStep(_Model):
    level: int = Field(ge=1)
    name: str
    actions: tuple[LadderAction, ...] = Field(min_length=1)


class DirectAction(_Model):
    action: str
    days: int | None = Field(default=None, ge=1)


class BrandPolicy(_Model):
    points_per_undeclared_promotion: int = Field(ge=1)
    window_days: int = Field(ge=1)
    threshold: int = Field(ge=1)
    action: str
    days: int | None = Field(default=None, ge=1)
    points_days: int | None = Field(default=None, ge=1)


class Recovery(_Model):
    points: int = Field(ge=0)
    every_days: int = Field(ge=1)


class Exam(_Model):
    points: int = Field(ge=0)
    cooldown_days: int = Field(default=0, ge=0)


class CreditPolicy(_Model):
    initial: int
    maximum: int
    minimum: int = 0
    recovery: Recovery
    exam: Exam

    @model_validator(mode="after")
    def _bounds(self) -> "CreditPolicy":
        if not self.minimum <= self.initial <= self.maximum:
            raise ValueError("need minimum <= initial <= maximum")
        return self


class Trigger(_Model):
    label: str
    actions: tuple[str, ...] = ()
    violation: bool = False  # any ladder violation of the entity triggers the rule
    kinds: tuple[str, ...] = ()  # with violation: only violations of these kinds trigger it (none given: any)


class PathStep(_Model):
    rel: str
    direction: Literal["out", "in"]
    label: str
    where: dict[str, bool | int | float | str] = Field(default_factory=dict)  # equalities on the node reached
    min_edge: dict[str, float] = Field(default_factory=dict)  # lower bounds on the relationship's properties


class When(_Model):
    registered: Literal["before_ban", "after_ban"] | None = None
    min_sanctioned_accounts: int | None = Field(default=None, ge=1)


class Then(_Model):
    action: str | None = None
    days: int | None = Field(default=None, ge=1)
    points_per_path: int | None = Field(default=None, ge=1)
    violation: str | None = None  # a violation kind, or "decision": the decision's own kind
    review: bool = False

    @model_validator(mode="after")
    def _one(self) -> "Then":
        if sum([self.action is not None, self.violation is not None, self.review]) != 1:
            raise ValueError("give exactly one of action, violation, review: true")
        return self


class Guard(_Model):
    max_accounts_sharing: int = Field(ge=1)


class Rule(_Model):
    name: str
    description: str = ""
    from_: Trigger = Field(alias="from")
    path: tuple[PathStep, ...] = Field(min_length=1)
    when: When | None = None
    then: Then
    max_depth: int = Field(ge=1)
    guard: Guard | None = None


class Approval(_Model):
    actions: tuple[str, ...] = ()
    max_hop_without_approval: int = Field(ge=0)


class Limits(_Model):
    max_fanout: int = Field(ge=1)
    max_effects: int = Field(ge=1)
    preview_ttl_hours: float = Field(gt=0)


class SanctionPolicy(_Model):
    version: int
    windows: Windows
    violation_kinds: dict[str, ViolationKind] = Field(min_length=1)
    actions: dict[str, ActionSpec]
    statuses: dict[str, tuple[str, ...]]
    ladder: tuple[LadderStep, ...] = Field(min_length=1)
    direct: dict[str, DirectAction] = Field(default_factory=dict)
    brands: BrandPolicy
    credit: CreditPolicy
    propagation: tuple[Rule, ...] = ()
    approval: Approval
    limits: Limits

    @property
    def top_level(self) -> int:
        return self.ladder[-1].level

    def step(self, level: int) -> LadderStep:
        return self.ladder[level - 1]

    def is_severe(self, kind: str) -> bool:
        return self.violation_kinds[kind].severity == "severe"

    def action_for_imported(self, imported: str) -> str | None:
        """Our action an imported sanction's action name counts as (case-insensitive), if any."""
        name = (imported or "").lower()
        if name in self.actions:
            return name
        for action, spec in self.actions.items():
            if name in spec.imported_as:
                return action
        return None

    def rule(self, name: str) -> Rule:
        for rule in self.propagation:
            if rule.name == name:
                return rule
        raise KeyError(name)


def _check(p: SanctionPolicy) -> None:
    """Cross-references; raises ValueError('key: message')."""
    for label, order in p.statuses.items():
        if label not in TARGET_LABELS:
            raise ValueError(f"statuses.{label}: not a sanction target label ({', '.join(TARGET_LABELS)})")
        if len(set(order)) != len(order) or not order:
            raise ValueError(f"statuses.{label}: needs distinct statuses, least severe first")
    unknown = [s for s in p.statuses.get("Account", ()) if s not in ACCOUNT_STATUSES]
    if unknown:
        raise ValueError(f"statuses.Account: {unknown[0]!r} is not an account status "
                         f"({', '.join(ACCOUNT_STATUSES)})")
    for name, spec in p.actions.items():
        if spec.target not in TARGET_LABELS:
            raise ValueError(f"actions.{name}.target: {spec.target!r} is not one of {', '.join(TARGET_LABELS)}")
        if spec.status is not None and spec.status not in p.statuses.get(spec.target, ()):
            raise ValueError(f"actions.{name}.status: {spec.status!r} is not in statuses.{spec.target}")
    for i, step in enumerate(p.ladder):
        if step.level != i + 1:
            raise ValueError(f"ladder.{i}.level: expected {i + 1} (levels count up from 1)")
        for j, act in enumerate(step.actions):
            where = f"ladder.{i}.actions.{j}.action"
            if act.action not in p.actions:
                raise ValueError(f"{where}: unknown action {act.action!r} (see actions)")
            if p.actions[act.action].target not in ("Account", "Note"):
                raise ValueError(f"{where}: {act.action!r} targets {p.actions[act.action].target}, "
                                 "a ladder step acts on the account and its notes")
            if act.action == "credit_deduction" and not act.points:
                raise ValueError(f"ladder.{i}.actions.{j}.points: credit_deduction needs points")
    for label, d in p.direct.items():
        if label not in ("Device", "Intermediary"):
            raise ValueError(f"direct.{label}: only Device and Intermediary take a direct action "
                             "(accounts, notes and clusters follow the ladder, brands get points)")
        if d.action not in p.actions or p.actions[d.action].target != label:
            raise ValueError(f"direct.{label}.action: {d.action!r} is not an action on {label}")
    if p.brands.action not in p.actions or p.actions[p.brands.action].target != "Brand":
        raise ValueError(f"brands.action: {p.brands.action!r} is not an action on Brand")
    if "brand_points" not in p.actions or p.actions["brand_points"].target != "Brand":
        raise ValueError("actions.brand_points: needed, with target Brand")
    if "credit_deduction" not in p.actions:
        raise ValueError("actions.credit_deduction: needed (the ladder's credit points)")
    names = set()
    for i, rule in enumerate(p.propagation):
        at = f"propagation.{i}"
        if rule.name in names:
            raise ValueError(f"{at}.name: {rule.name!r} is used twice")
        names.add(rule.name)
        if rule.from_.label not in TARGET_LABELS + ("Cluster",):
            raise ValueError(f"{at}.from.label: {rule.from_.label!r} is not a sanction target or Cluster")
        for a in rule.from_.actions:
            if a not in p.actions:
                raise ValueError(f"{at}.from.actions: unknown action {a!r}")
        if rule.from_.label != "Cluster" and not rule.from_.actions and not rule.from_.violation:
            raise ValueError(f"{at}.from: give actions or violation: true")
        if rule.from_.kinds and not rule.from_.violation:
            raise ValueError(f"{at}.from.kinds: only with violation: true (the kinds of violation that trigger it)")
        for k in rule.from_.kinds:
            if k not in p.violation_kinds:
                raise ValueError(f"{at}.from.kinds: unknown violation kind {k!r} (see violation_kinds)")
        current = rule.from_.label
        for j, step in enumerate(rule.path):
            where = f"{at}.path.{j}"
            if step.rel not in RELATIONSHIPS:
                raise ValueError(f"{where}.rel: {step.rel!r} is not a relationship type of graph/model.py")
            if step.label not in NODES:
                raise ValueError(f"{where}.label: {step.label!r} is not a label of graph/model.py")
            start, end, _ = RELATIONSHIPS[step.rel]
            if "*" in (start, end):
                raise ValueError(f"{where}.rel: {step.rel} joins any label; rules follow platform relationships")
            here, there = (start, end) if step.direction == "out" else (end, start)
            if here != current or there != step.label:
                raise ValueError(f"{where}: ({current})-[:{step.rel}]-({step.label}) going {step.direction} "
                                 f"does not fit ({start})-[:{step.rel}]->({end})")
            current = step.label
        then = rule.then
        if then.action is not None:
            if then.action not in p.actions:
                raise ValueError(f"{at}.then.action: unknown action {then.action!r}")
            if p.actions[then.action].target != current:
                raise ValueError(f"{at}.then.action: {then.action!r} targets {p.actions[then.action].target}, "
                                 f"the path ends at {current}")
        if then.violation is not None:
            if current != "Account":
                raise ValueError(f"{at}.then.violation: a violation lands on an Account, the path ends at {current}")
            if then.violation != "decision" and then.violation not in p.violation_kinds:
                raise ValueError(f"{at}.then.violation: unknown kind {then.violation!r}")
        if rule.when and rule.when.registered and (rule.from_.label != "Device" or current != "Account"):
            raise ValueError(f"{at}.when.registered: only for rules from a banned Device to Accounts")
        if rule.when and rule.when.min_sanctioned_accounts and rule.from_.label != "Account":
            raise ValueError(f"{at}.when.min_sanctioned_accounts: only for rules from an Account "
                             "(it counts the sanctioned accounts the path leads back to from the entity reached)")
        if rule.when and rule.when.min_sanctioned_accounts and rule.then.action is None:
            raise ValueError(f"{at}.when.min_sanctioned_accounts: needs then.action (the action once enough "
                             "accounts are sanctioned)")
    for a in p.approval.actions:
        if a not in p.actions:
            raise ValueError(f"approval.actions: unknown action {a!r}")


def parse_policy(raw: object, source: str = "sanction policy") -> SanctionPolicy:
    """Validate a policy given as plain data (what YAML loads)."""
    try:
        policy = SanctionPolicy.model_validate(raw)
    except ValidationError as exc:
        where, message = first_error(exc)
        raise SettingError(f"{source}: {where.replace('from_', 'from')}: {message}") from None
    try:
        _check(policy)
    except ValueError as exc:
        raise SettingError(f"{source}: {exc}") from None
    return policy


def policy_path(path: Path | None = None) -> Path:
    return Path(path or os.environ.get("RINGSCOPE_SANCTION_POLICY") or DEFAULT_POLICY)


def load_sanction_policy(path: Path | None = None) -> SanctionPolicy:
    path = policy_path(path)
    return parse_policy(read_yaml(path, "sanction policy"), f"sanction policy {path}")
