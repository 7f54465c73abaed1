"""``ringscope sanction ...``: preview, apply, approve, revoke, expire, feed, list, history, exam, pending, policy.

A thin layer over ``sanctions.service``: parse, resolve who acts
(``commands/actor.py``), call, print. Output is aligned text by default,
``--format csv`` for scripts (warnings then go to stderr), ``--format json``
for everything the service returned. Identifiers
that are personal data (IPs, phones) are masked unless the actor may see them.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import add_format, emit, emit_json, fmt_of, plain, say, warn
from ringscope.common.errors import SettingError

TARGET_OPTIONS = (("account", "Account"), ("note", "Note"), ("device", "Device"), ("brand", "Brand"),
                  ("intermediary", "Intermediary"))


def _graph(settings):
    from ringscope.graph.database import connect

    return connect(settings)


def _shown(label: str, key: str, actor) -> str:
    from ringscope.auth.masking import mask_identifier

    return mask_identifier(label, key, actor)


def _path(path, actor) -> str:
    out = []
    for s in path:
        arrow = "" if s.rel is None else (f" -{s.rel}-> " if s.direction == "out" else f" <-{s.rel}- ")
        out.append(f"{s.label} {_shown(s.label, s.id, actor)}{arrow}")
    return "".join(out)




def _decision(args: argparse.Namespace):
    from ringscope.sanctions.propagation import Decision, NodeRef

    targets = []
    for option, label in TARGET_OPTIONS:
        for key in getattr(args, option) or ():
            targets.append(NodeRef(label, key))
    if args.min_score is not None and not args.cluster:
        raise SettingError("--min-score goes with --cluster")
    if args.min_score is not None and not 0.0 <= args.min_score <= 1.0:
        raise SettingError("--min-score must be between 0 and 1")
    if not targets and not args.cluster:
        raise SettingError("name what to sanction: --account, --note, --device, --brand, --intermediary "
                           "or --cluster")
    return Decision(args.kind, tuple(targets), args.cluster, args.min_score, args.reason or "",
                    tuple(args.evidence or ()))


# --------------------------------------------------------------------------- preview

EFFECT_HEADER = ["hop", "id", "target_type", "target_id", "action", "level", "days", "points", "approval", "rule",
                 "path", "note"]


def _effect_rows(preview, actor) -> list[list[Any]]:
    rows = []
    for e in preview.effects:
        rows.append([e.hop, preview.ids[e.key], e.target.label, _shown(e.target.label, e.target.id, actor), e.action,
                     e.level if e.level is not None else "", "permanent" if e.days is None and e.action not in (
                         "review", "credit_deduction") else (e.days if e.days is not None else ""),
                     e.points if e.points else "", "needs approval" if e.needs_approval else "",
                     e.rule, _path(e.path, actor), e.note])
    return rows


def cmd_preview(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    actor = resolve_actor(args)
    decision = _decision(args)
    preview = service.preview(_graph(settings), decision, actor)
    if fmt_of(args) == "json":
        emit_json(preview)
        return 0
    rows = _effect_rows(preview, actor)
    if fmt_of(args) == "csv":
        emit([[preview.preview_id] + r for r in rows], ["preview_id"] + EFFECT_HEADER, "csv")
        for w in preview.warnings:
            warn(f"warning: {w}")
        return 0
    p = preview.plan
    what = ", ".join(f"{t.label} {_shown(t.label, t.id, actor)}" for t in decision.targets)
    if decision.cluster:
        what = ", ".join(filter(None, [what, f"Cluster {decision.cluster}"
                                       + (f" (min score {decision.min_score})" if decision.min_score is not None
                                          else "")]))
    say(f"preview {preview.preview_id}: {decision.kind} on {what} (policy v{p.policy_version})")
    say(f"{len(p.sanctions)} sanctions, {len(p.reviews)} review items"
         + ("; needs a second person's approval" if p.needs_approval else "") + "; nothing has been written")
    say("per hop: " + "; ".join(f"hop {c.hop}: {c.entities} entities ({c.sanctions} sanctions, "
                                 f"{c.reviews} reviews)" for c in p.counts))
    if rows:
        emit(rows, EFFECT_HEADER, "text")
    for w in preview.warnings:
        say(f"warning: {w}")
    say(f"apply with: ringscope sanction apply --preview {preview.preview_id}")
    return 0


# --------------------------------------------------------------------------- apply / approve / revoke / expire

def cmd_apply(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    actor = resolve_actor(args)
    result = service.apply(_graph(settings), args.preview, actor)
    if fmt_of(args) == "json":
        emit_json(result)
        return 0
    if result.already_applied:
        say(f"{result.preview_id} was already applied by {result.applied_by} at {result.applied_at.isoformat()}; "
             "nothing written")
        return 0
    if fmt_of(args) == "csv":
        emit([[result.preview_id, i, "pending_approval" if i in result.pending_ids else
               ("open" if i.startswith("R-") else "active")] for i in result.sanction_ids + result.review_ids],
             ["preview_id", "id", "state"], "csv")
        return 0
    say(f"applied {result.preview_id}: {len(result.sanction_ids)} sanctions "
         f"({len(result.pending_ids)} awaiting a second person's approval), {len(result.review_ids)} review items")
    if result.pending_ids:
        say(f"approve with: ringscope sanction approve {result.preview_id} --actor OTHER_PERSON")
    return 0


def cmd_approve(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    result = service.approve(_graph(settings), args.preview_id, resolve_actor(args), reason=args.reason or "")
    if fmt_of(args) == "json":
        emit_json(result)
    elif result.already_approved:
        say(f"{result.preview_id} was already approved by {result.approved_by}")
    else:
        say(f"approved {result.preview_id}: {len(result.activated)} sanctions active from "
             f"{result.approved_at.isoformat()}")
    return 0


def cmd_revoke(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    actor = resolve_actor(args)
    result = service.revoke(_graph(settings), args.ids, actor, args.reason)
    if fmt_of(args) == "json":
        emit_json(result)
        return 0
    if result.already_revoked:
        say("already revoked; nothing changed")
        return 0
    rows = [[r.id, r.kind, r.target.label, _shown(r.target.label, r.target.id, actor), r.action, r.via]
            for r in result.revoked]
    header = ["id", "kind", "target_type", "target_id", "action", "via"]
    if fmt_of(args) == "csv":
        emit(rows, header, "csv")
        return 0
    say(f"revoked {sum(1 for r in result.revoked if r.kind == 'sanction')} sanctions, withdrew "
         f"{sum(1 for r in result.revoked if r.kind == 'review')} review items")
    emit(rows, header, "text")
    for s in result.statuses:
        say(f"{s.target.label} {_shown(s.target.label, s.target.id, actor)} is now {s.status}"
             + (f" (credit {s.credit})" if s.credit is not None else ""))
    return 0


def cmd_expire(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    result = service.expire_due(_graph(settings), actor=resolve_actor(args, acting=False))
    if fmt_of(args) == "json":
        emit_json(result)
    else:
        say(f"{len(result.expired)} sanctions expired")
        for s in result.statuses:
            say(f"{s.target.label} {s.target.id} is now {s.status}")
    return 0


# --------------------------------------------------------------------------- the outbound feed

FEED_HEADER = ["cursor", "at", "event", "id", "state", "in_force", "target_type", "target_id", "action", "level",
               "days", "ends_at", "reach_factor", "silent", "commercial", "decision_id", "by", "reason"]
SECRET_ENV = "RINGSCOPE_FEED_SECRET"


def cmd_feed(args: argparse.Namespace, settings) -> int:
    """Pull: print the events after --since. Push (--webhook): deliver them, the cursor kept in --state."""
    from ringscope.feed import service, webhook
    from ringscope.feed.cursor import CursorFile, parse_cursor

    since = parse_cursor(args.since)
    reader = resolve_actor(args, acting=False)
    if args.webhook is None:
        for option in ("state", "batch", "attempts", "timeout", "backoff"):
            if getattr(args, option) is not None:
                raise SettingError(f"--{option} goes with --webhook")
        page = service.read(_graph(settings), since, reader=reader, limit=args.limit)
        _print_feed(page, fmt_of(args))
        return 0
    if args.state is None:
        raise SettingError("--webhook needs --state FILE: the file that keeps the cursor delivered so far")
    endpoint = webhook.endpoint(args.webhook, os.environ.get(args.secret_env), args.secret_env,
                                timeout=10.0 if args.timeout is None else args.timeout,
                                attempts=6 if args.attempts is None else args.attempts,
                                backoff=1.0 if args.backoff is None else args.backoff)
    with CursorFile(args.state) as state:
        report = service.deliver(_graph(settings), endpoint, state, since=since, reader=reader,
                                 batch=100 if args.batch is None else args.batch)
    if fmt_of(args) in ("json", "jsonl"):
        say(json.dumps(plain(report), ensure_ascii=False, sort_keys=True))
    else:
        say(f"delivered {report.events} events in {report.batches} batches ({report.attempts} requests) to "
            f"{endpoint.shown}; cursor {report.since} -> {report.cursor} saved in {args.state}")
    return 0


def _print_feed(page, fmt: str) -> None:
    if fmt == "jsonl":
        for event in page.events:
            say(event.json())
        return
    if fmt == "json":
        say(json.dumps({"since": page.since, "cursor": page.cursor, "more": page.more,
                        "events": [e.as_dict() for e in page.events]}, ensure_ascii=False, indent=2))
        return
    rows = [[e.as_dict()[k] for k in FEED_HEADER] for e in page.events]
    emit(rows, FEED_HEADER, fmt)
    if fmt == "text":
        say(f"{len(page.events)} events; resume with --since {page.cursor}" + (" (more follow)" if page.more else ""))


# --------------------------------------------------------------------------- reading

SANCTION_HEADER = ["sanction_id", "target_type", "target_id", "action", "state", "kind", "level", "decided_at",
                   "expires_at", "decided_by", "approved_by", "rule", "hop", "preview_id", "derived_from", "reason"]


def _sanction_rows(records, actor) -> list[list[Any]]:
    def t(x):
        return x.isoformat() if x else ""
    return [[s.sanction_id, s.target.label if s.target else "", _shown(s.target.label, s.target.id, actor)
             if s.target else "", s.action, s.state, s.kind or "", s.level or "", t(s.decided_at or s.issued_at),
             t(s.expires_at), s.decided_by or "", s.approved_by or "", s.rule or "",
             "" if s.hop is None else s.hop, s.preview_id or "", ";".join(s.derived_from), s.reason]
            for s in records]


def cmd_list(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    actor = resolve_actor(args, acting=False)
    records = service.list_sanctions(_graph(settings), state=args.state, preview_id=args.preview,
                                     target_id=args.target, limit=args.limit)
    if fmt_of(args) == "json":
        emit_json(records)
    elif fmt_of(args) == "csv":
        emit(_sanction_rows(records, actor), SANCTION_HEADER, "csv")
    else:
        emit(_sanction_rows(records, actor), SANCTION_HEADER, "text")
    return 0


def _one_target(args: argparse.Namespace):
    from ringscope.sanctions.propagation import NodeRef

    given = [(label, getattr(args, option)) for option, label in TARGET_OPTIONS if getattr(args, option)]
    if len(given) != 1:
        raise SettingError("name exactly one of --account, --note, --device, --brand, --intermediary")
    return NodeRef(given[0][0], given[0][1])


def cmd_history(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    actor = resolve_actor(args, acting=False)
    h = service.history(_graph(settings), _one_target(args))
    if fmt_of(args) == "json":
        emit_json(h)
        return 0
    if fmt_of(args) == "csv":
        emit(_sanction_rows(h.sanctions, actor), SANCTION_HEADER, "csv")
        return 0
    say(f"{h.target.label} {_shown(h.target.label, h.target.id, actor)}: status {h.status or 'unknown'}"
         + (f" (before ringscope: {h.base_status})" if h.base_status and h.base_status != h.status else "")
         + (f"; in force: {', '.join(h.restrictions)}" if h.restrictions else ""))
    if h.credit is not None:
        nxt = f"; next recovery {h.credit.next_recovery_at.date().isoformat()}" if h.credit.next_recovery_at else ""
        say(f"credit {h.credit.value}{nxt}; a new violation now would be level {h.next_level}")
    if h.brand_points is not None:
        say(f"brand points in the window: {h.brand_points}")
    if h.sanctions:
        emit(_sanction_rows(h.sanctions, actor), SANCTION_HEADER, "text")
    for r in h.reviews:
        say(f"review {r.review_id} ({r.state}) by rule {r.rule}, decision {r.preview_id}: {r.note}")
    return 0


def cmd_pending(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    items = service.pending(_graph(settings), limit=args.limit)
    if fmt_of(args) == "json":
        emit_json(items)
        return 0
    rows = [[p.preview_id, p.applied_by, p.applied_at.isoformat(), p.decision.kind,
             " ".join(f"{t.label}:{t.id}" for t in p.decision.targets)
             + (f" Cluster:{p.decision.cluster}" if p.decision.cluster else ""), p.pending]
            for p in items]
    header = ["preview_id", "applied_by", "applied_at", "kind", "targets", "pending"]
    emit(rows, header, fmt_of(args))
    return 0


def cmd_exam(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions import service

    result = service.exam(_graph(settings), args.account, resolve_actor(args))
    if fmt_of(args) == "json":
        emit_json(result)
    else:
        say(f"exam {result.exam_id} recorded for account {result.account_id}: credit {result.credit_before} -> "
             f"{result.credit_after}")
    return 0


def cmd_policy(args: argparse.Namespace, settings) -> int:
    from ringscope.sanctions.policy import load_sanction_policy, policy_path

    policy = load_sanction_policy()
    if fmt_of(args) == "json":
        say(json.dumps(policy.model_dump(by_alias=True), ensure_ascii=False, indent=2))
        return 0
    say(f"sanction policy {policy_path()} version {policy.version}")
    say(f"escalation window {policy.windows.escalation_days} days; a violation weighs "
         f"{policy.windows.record_days} days")
    for step in policy.ladder:
        acts = ", ".join(a.action + (f" {a.days}d" if a.days else (" permanent" if not policy.actions[a.action].instant
                                                                   and not a.points else ""))
                         + (f" {a.points} points" if a.points else "") for a in step.actions)
        say(f"level {step.level} ({step.name}): {acts}")
    severe = [k for k, v in policy.violation_kinds.items() if v.severity == "severe"]
    say(f"severe kinds (straight to level {policy.top_level}): {', '.join(severe)}")
    b = policy.brands
    say(f"brands: {b.points_per_undeclared_promotion} points per undeclared promotion; {b.threshold}+ within "
         f"{b.window_days} days: {b.action} {b.days} days")
    c = policy.credit
    say(f"credit: starts {c.initial}, +{c.recovery.points} per {c.recovery.every_days} days without violation, "
         f"+{c.exam.points} per passed exam")
    for rule in policy.propagation:
        guard = f", guard: more than {rule.guard.max_accounts_sharing} accounts -> review" if rule.guard else ""
        say(f"rule {rule.name}: {rule.description} (max depth {rule.max_depth}{guard})")
    say(f"approval: {', '.join(policy.approval.actions)} and anything beyond hop "
         f"{policy.approval.max_hop_without_approval}")
    return 0


# --------------------------------------------------------------------------- parser

def register(subparsers) -> None:
    sx = subparsers.add_parser("sanction", help="preview, apply, approve and revoke sanctions "
                                                "(policy/sanctions.yaml or RINGSCOPE_SANCTION_POLICY)")
    sub = sx.add_subparsers(dest="sanction_command", required=True, metavar="ACTION")

    def common(p, actor_help="who acts"):
        add_actor(p, actor_help)
        add_format(p)

    def targets(p, many: bool):
        for option, label in TARGET_OPTIONS:
            if many:
                p.add_argument(f"--{option}", action="append", metavar="ID", help=f"a {label} (repeatable)")
            else:
                p.add_argument(f"--{option}", metavar="ID", help=f"a {label}")

    pv = sub.add_parser("preview", help="everything a decision would do, with the rule, hop and path behind each; "
                                        "writes nothing but the preview record")
    targets(pv, many=True)
    pv.add_argument("--cluster", metavar="CLUSTER_ID", help="a detected cluster: its members above --min-score")
    pv.add_argument("--min-score", type=float, help="member score bound for --cluster (default: the policy's)")
    pv.add_argument("--kind", required=True, help="violation kind (see `ringscope sanction policy`)")
    pv.add_argument("--reason", required=True, help="why: recorded on every sanction and in the audit log")
    pv.add_argument("--evidence", action="append", metavar="REF", help="an evidence reference (repeatable)")
    common(pv)
    pv.set_defaults(func=cmd_preview)

    ap = sub.add_parser("apply", help="do exactly what a preview showed (refused if the graph changed since)")
    ap.add_argument("--preview", required=True, metavar="PREVIEW_ID")
    common(ap)
    ap.set_defaults(func=cmd_apply)

    av = sub.add_parser("approve", help="a second person activates a decision's sanctions awaiting approval")
    av.add_argument("preview_id", metavar="PREVIEW_ID")
    av.add_argument("--reason", help="recorded in the audit log")
    common(av)
    av.set_defaults(func=cmd_approve)

    rv = sub.add_parser("revoke", help="an appeal granted: revoke sanctions (or a whole decision by its preview id) "
                                       "and what follows from them with no other justification")
    rv.add_argument("ids", nargs="+", metavar="ID", help="sanction ids (S-...) or preview ids (P-...)")
    rv.add_argument("--reason", required=True)
    common(rv)
    rv.set_defaults(func=cmd_revoke)

    ex = sub.add_parser("expire", help="end the sanctions whose time is up (run it from cron; statuses follow)")
    common(ex, "recorded as who expired them (default: system)")
    ex.set_defaults(func=cmd_expire)

    ls = sub.add_parser("list", help="sanctions, newest first")
    ls.add_argument("--state", choices=["pending_approval", "active", "expired", "revoked", "import"])
    ls.add_argument("--preview", metavar="PREVIEW_ID")
    ls.add_argument("--target", metavar="ID")
    ls.add_argument("--limit", type=int, default=200)
    common(ls)
    ls.set_defaults(func=cmd_list)

    hi = sub.add_parser("history", help="one entity: status, credit, sanctions, review items")
    targets(hi, many=False)
    common(hi)
    hi.set_defaults(func=cmd_history)

    pe = sub.add_parser("pending", help="decisions awaiting a second person's approval")
    pe.add_argument("--limit", type=int, default=200)
    common(pe)
    pe.set_defaults(func=cmd_pending)

    xm = sub.add_parser("exam", help="record a passed community-rules exam (restores credit)")
    xm.add_argument("--account", required=True, metavar="ID")
    common(xm)
    xm.set_defaults(func=cmd_exam)

    fd = sub.add_parser("feed", help="what changed in force (restrictions, silent throttles, content-health "
                                     "effects, approvals, revocations, expiries), each once, in order, for the "
                                     "platform's enforcement: printed after a cursor, or pushed to a webhook")
    fd.add_argument("--since", metavar="CURSOR", help="the cursor of the last event processed (default 0: from the "
                                                      "beginning); with --webhook, only until --state exists")
    fd.add_argument("--limit", type=int, default=1000, help="events at most (1-10000; default 1000); run again "
                                                            "from the last cursor for more")
    fd.add_argument("--webhook", metavar="URL", help="POST the events, signed, in batches to this http(s) URL")
    fd.add_argument("--secret-env", metavar="VAR", default=SECRET_ENV,
                    help=f"the variable holding the webhook's shared HMAC secret (default {SECRET_ENV})")
    fd.add_argument("--state", metavar="FILE", help="with --webhook: the file keeping the cursor delivered so far "
                                                    "(moved only after a 2xx)")
    fd.add_argument("--batch", type=int, help="with --webhook: events per POST (default 100)")
    fd.add_argument("--attempts", type=int, help="with --webhook: tries per batch, the first included (default 6)")
    fd.add_argument("--timeout", type=float, help="with --webhook: seconds per try (default 10)")
    fd.add_argument("--backoff", type=float, help="with --webhook: the first retry waits up to this many seconds, "
                                                  "each next one up to twice as long, at most 60 (default 1)")
    add_actor(fd, "who reads (decides what is masked)")
    add_format(fd, default="jsonl", choices=("jsonl", "json", "csv", "text"))
    fd.set_defaults(func=cmd_feed)

    po = sub.add_parser("policy", help="the sanction policy in force, validated")
    add_format(po, choices=("text", "json"))
    po.set_defaults(func=cmd_policy)
