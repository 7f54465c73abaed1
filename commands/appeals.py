"""``ringscope appeals file|list|grant|deny|stats``: appeals against sanctions (``appeals/``), the same service the
app's Appeals page uses.

Who acts is resolved as for every command (``commands/actor.py``): filing needs ``file_appeal`` (investigators,
approvers, admins), a verdict ``decide_appeal`` (approvers, admins) and someone who took no part in the decision
appealed. Statements, reasons and material references are shown masked unless the reader may see personal data.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import add_format, emit, fmt_of, say

LIST_STATES = ("filed", "granted", "denied", "all")
HEADER = ["appeal_id", "state", "filed_at", "age_days", "kind", "detector", "subject", "target", "appellant",
          "statement", "material", "filed_by", "decided_by", "decided_at", "decision_reason", "revoked",
          "sanctions", "path", "cluster_id", "run_id"]
STATS_HEADER = ["by", "group", "appealed", "decided", "granted", "granted_share", "low_95", "high_95", "rest_share",
                "flagged", "note"]


def _graph(settings):
    from ringscope.graph.database import connect

    return connect(settings)


def _time(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def appeal_rows(appeals, actor, now: datetime) -> list[list]:
    from ringscope.auth.masking import render_reason

    def masked(text: str | None) -> str:
        return render_reason(text or "", actor)

    return [[a.appeal_id, a.state, _time(a.filed_at), round(a.age_days(now), 1), a.kind, a.detector,
             a.subject_id, f"{a.target_label}:{a.target_id}", masked(a.appellant), masked(a.statement),
             ";".join(masked(m) for m in a.material), a.filed_by, a.decided_by or "", _time(a.decided_at),
             masked(a.decision_reason), ";".join(a.revoked),
             ";".join(f"{s.sanction_id}:{s.action}:{s.state}" for s in a.sanctions),
             " | ".join(s.path for s in a.sanctions if s.path), a.cluster_id or "", a.run_id or ""]
            for a in appeals]


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def stats_rows(stats) -> list[list]:
    groups = [("all", stats.overall)] + [("kind", s) for s in stats.by_kind] + \
             [("detector", s) for s in stats.by_detector]
    return [[by, s.group, s.appealed, s.decided, s.granted, _share(s.share), _share(s.low), _share(s.high),
             _share(s.rest_share), str(s.flagged).lower(), s.note] for by, s in groups]


def _say_verdict(verdict, fmt: str, actor) -> None:
    a = verdict.appeal
    if fmt != "text":
        emit(appeal_rows([a], actor, datetime.now(timezone.utc)), HEADER, fmt)
    elif verdict.already:
        say(f"appeal {a.appeal_id} was {a.state} already (by {a.decided_by}); nothing changed")
    elif verdict.revocation is not None:
        r = verdict.revocation
        say(f"appeal {a.appeal_id} granted: {len(r.revoked)} revoked (cascade included)"
            + (": " + ", ".join(f"{x.id} {x.action} on {x.target.label} {x.target.id} ({x.via})" for x in r.revoked)
               if r.revoked else "; it had been revoked already"))
        for s in r.statuses:
            say(f"  {s.target.label} {s.target.id}: status {s.status}"
                + (f", credit {s.credit}" if s.credit is not None else ""))
    else:
        say(f"appeal {a.appeal_id} denied; the sanctions stay as they are")


def cmd_file(args: argparse.Namespace, settings) -> int:
    from ringscope.appeals import service

    actor = resolve_actor(args)
    appeal = service.file(_graph(settings), actor, args.subject, args.statement, args.material or (),
                          appellant=args.appellant)
    if fmt_of(args) == "text":
        say(f"appeal {appeal.appeal_id} filed against {appeal.subject_id} ({appeal.kind}, detector "
            f"{appeal.detector}) on {appeal.target_label} {appeal.target_id}; in the queue")
    else:
        emit(appeal_rows([appeal], actor, datetime.now(timezone.utc)), HEADER, fmt_of(args))
    return 0


def cmd_list(args: argparse.Namespace, settings) -> int:
    from ringscope.appeals import service

    actor = resolve_actor(args, acting=False)
    states = None if args.state == "all" else [args.state]
    appeals = service.appeals(_graph(settings), states, args.kind, limit=args.limit)
    emit(appeal_rows(appeals, actor, datetime.now(timezone.utc)), HEADER, fmt_of(args))
    return 0


def cmd_grant(args: argparse.Namespace, settings) -> int:
    from ringscope.appeals import service

    actor = resolve_actor(args)
    _say_verdict(service.grant(_graph(settings), actor, args.appeal, args.reason), fmt_of(args), actor)
    return 0


def cmd_deny(args: argparse.Namespace, settings) -> int:
    from ringscope.appeals import service

    actor = resolve_actor(args)
    _say_verdict(service.deny(_graph(settings), actor, args.appeal, args.reason), fmt_of(args), actor)
    return 0


def cmd_stats(args: argparse.Namespace, settings) -> int:
    from ringscope.appeals import service

    stats = service.stats(_graph(settings), args.min_decided)
    if fmt_of(args) != "text":
        emit(stats_rows(stats), STATS_HEADER, fmt_of(args))
        return 0
    o = stats.overall
    say(f"appeals: {o.appealed}, decided {o.decided}, granted {o.granted}"
        + (f" ({o.share:.0%}; the platform reports ~{stats.platform_share:.0%})" if o.share is not None else ""))
    say(f"a group is flagged when it has {stats.min_decided}+ decided appeals and the 95 % interval of its granted "
        "share lies above the share of all the others")
    emit(stats_rows(stats), STATS_HEADER, "text")
    flagged = [s.group for s in stats.by_detector if s.flagged]
    if flagged:
        say(f"overturned far more often than the rest: detector {', '.join(flagged)} (a calibration problem)")
    return 0


def _whole(low: int, high: int):
    """An argparse type: a whole number in [low, high], else one line saying so (before anything connects)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"a whole number from {low} to {high}, not {text!r}")
        return value
    return parse


def register(subparsers) -> None:
    from ringscope.appeals.rules import MIN_DECIDED

    ap = subparsers.add_parser("appeals", help="appeals against sanctions: file, the queue, grant (revokes with "
                                               "the cascade) or deny, and the granted share by kind and detector")
    sub = ap.add_subparsers(dest="appeals_command", required=True, metavar="ACTION")

    fl = sub.add_parser("file", help="record an appeal against a sanction or a decision; it joins the queue")
    fl.add_argument("subject", metavar="SANCTION_OR_PREVIEW_ID",
                    help="the sanction appealed, or a decision's preview id (its own sanctions)")
    fl.add_argument("--statement", required=True, help="what the appellant says (recorded and audited)")
    fl.add_argument("--material", action="append", metavar="REF",
                    help="a reference to material the appellant submitted (repeatable)")
    fl.add_argument("--appellant", help="who appeals: the account holder (default) or its representative")
    add_actor(fl)
    add_format(fl)
    fl.set_defaults(func=cmd_file)

    ls = sub.add_parser("list", help="appeals, oldest first (default: the queue of filed ones)")
    ls.add_argument("--state", choices=LIST_STATES, default="filed")
    ls.add_argument("--kind", metavar="KIND", help="only this violation kind")
    ls.add_argument("--limit", type=_whole(1, 100_000), default=1000, metavar="N")
    add_actor(ls, "who reads (decides what is masked)")
    add_format(ls)
    ls.set_defaults(func=cmd_list)

    for name, func, what in (("grant", cmd_grant, "grant: revoke what the appeal is against, with the cascade"),
                             ("deny", cmd_deny, "deny, saying why; the sanctions stay")):
        p = sub.add_parser(name, help=what)
        p.add_argument("appeal", metavar="APPEAL_ID")
        p.add_argument("--reason", required=True, help="why: recorded on the appeal and in the audit log")
        add_actor(p)
        add_format(p)
        p.set_defaults(func=func)

    st = sub.add_parser("stats", help="the granted share by violation kind and by detector; a detector overturned "
                                      "far more often than the rest is flagged")
    st.add_argument("--min-decided", type=_whole(1, 1_000_000), default=MIN_DECIDED, metavar="N",
                    help=f"decided appeals a group and the rest need before it is judged (default {MIN_DECIDED})")
    add_format(st)
    st.set_defaults(func=cmd_stats)
