"""``ringscope audit verify|show|anchor``: the hash-chained audit log and its anchor outside the database."""

from __future__ import annotations

import argparse
from pathlib import Path

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import add_format, emit, fmt_of, say
from ringscope.graph.settings import Settings


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.audit.log import verify
    from ringscope.evidence.manifest import sha256
    from ringscope.evidence.verify import read_manifest
    from ringscope.graph.database import connect

    pack = None
    if args.pack:
        raw, manifest = read_manifest(Path(args.pack))
        pack = (manifest.get("audit_head"), manifest.get("pack_id"), sha256(raw))
    result = verify(connect(settings), pack=pack)
    if result.ok:
        line = result.line()
        if pack is not None:
            line += f"; pack {pack[1]}: the head it saw (entry {pack[0]['seq']}) and its export are in the chain"
        say(line)
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


def cmd_audit_anchor(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.audit.log import adopt, anchor_file
    from ringscope.graph.database import connect

    actor = resolve_actor(args)
    actor.require("anchor_audit")
    entry, seqs = adopt(connect(settings), actor=actor.name, role=actor.role, reason=args.reason)
    if entry is None:
        say(f"nothing to anchor: every entry is in {anchor_file(settings)}")
    else:
        say(f"anchored {len(seqs):,} entries ({seqs[0]} to {seqs[-1]}) in {anchor_file(settings)}; "
            f"recorded as entry {entry.seq} (audit.anchor)")
    return 0


def register(sub) -> None:
    aud = sub.add_parser("audit", help="the audit log of sanctions, approvals and exports")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = aud_sub.add_parser(
        "verify", help="check the audit log's hash chain and its anchor outside the database",
        description="Recomputes the hash chain and compares it with the anchor file (RINGSCOPE_HOME/audit, or "
                    "RINGSCOPE_AUDIT_ANCHOR): every anchored entry must still be there with the hash it was written "
                    "with, and every entry older than a minute must be anchored. Prints `ok: ...` (exit 0) or "
                    "`broken: ...` naming the first problem (exit 1).")
    verify.add_argument("--pack", metavar="PACK.zip|manifest.json",
                        help="also check that the audit head this evidence pack recorded is still in the chain, "
                             "and its export after it")
    verify.set_defaults(func=cmd_audit_verify)
    show = aud_sub.add_parser("show", help="entries, newest first")
    show.add_argument("--actor", help="only entries by this user")
    show.add_argument("--action")
    show.add_argument("--target")
    show.add_argument("--limit", type=int, default=50)
    add_format(show, default="csv")
    show.set_defaults(func=cmd_audit_show)
    adopt = aud_sub.add_parser(
        "anchor", help="anchor entries the anchor file lacks, once checked (admin)",
        description="After a process stopped between its commit and writing the anchor (or on a log older than "
                    "the anchor file), `audit verify` names entries missing from the file. Check them with "
                    "`audit show`, then this adds them to the file and records an audit.anchor entry naming them. "
                    "Refused when the chain or the entries already anchored do not verify.")
    adopt.add_argument("--reason", required=True, help="what was checked (goes to the audit log)")
    add_actor(adopt, "who vouches for the entries (role admin)")
    adopt.set_defaults(func=cmd_audit_anchor)
