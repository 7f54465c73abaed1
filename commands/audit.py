"""``ringscope audit verify|show``: the hash-chained audit log."""

from __future__ import annotations

import argparse

from ringscope.commands.output import add_format, emit, fmt_of, say
from ringscope.graph.settings import Settings


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.audit.log import verify
    from ringscope.graph.database import connect

    result = verify(connect(settings))
    if result.ok:
        say("ok")
        return 0
    say(f"broken: {result.problem}")
    return 1


def cmd_audit_show(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.audit.log import entries
    from ringscope.graph.database import connect

    rows = [[e.seq, e.at, e.actor, e.role, e.action, e.target_type, e.target_id, e.reason, e.details]
            for e in entries(connect(settings), actor=args.actor, action=args.action, target_id=args.target,
                             limit=args.limit)]
    emit(rows, ["seq", "at", "actor", "role", "action", "target_type", "target_id", "reason", "details"],
         fmt_of(args))
    return 0


def register(sub) -> None:
    aud = sub.add_parser("audit", help="the audit log of sanctions, approvals and exports")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = aud_sub.add_parser("verify", help="check the audit log's hash chain")
    verify.set_defaults(func=cmd_audit_verify)
    show = aud_sub.add_parser("show", help="entries, newest first")
    show.add_argument("--actor", help="only entries by this user")
    show.add_argument("--action")
    show.add_argument("--target")
    show.add_argument("--limit", type=int, default=50)
    add_format(show, default="csv")
    show.set_defaults(func=cmd_audit_show)
