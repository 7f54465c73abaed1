"""``ringscope evidence export`` and ``ringscope evidence verify``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import say, warn
from ringscope.common.errors import SettingError
from ringscope.graph.settings import Settings


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.evidence.records import Subject
    from ringscope.evidence.export import export_pack
    from ringscope.graph.database import connect

    chosen = [(kind, value) for kind, value in (("cluster", args.cluster), ("case", args.case),
                                                ("account", args.account)) if value]
    if len(chosen) != 1:
        raise SettingError("name exactly one of --cluster, --case or --account")
    if args.run != "latest" and chosen[0][0] != "account":
        raise SettingError("--run applies to --account packs only (a cluster or case carries its own run)")
    actor = resolve_actor(args)
    result = export_pack(connect(settings), Subject(*chosen[0]), Path(args.out), actor, unmasked=args.unmasked,
                         run=args.run, reason=args.reason or "")
    warn(f"{result.pack_id}: {result.files} files, {result.bytes:,} bytes, "
         f"{'masked' if result.masked else 'UNMASKED PERSONAL DATA'}, "
         f"{'findings' if result.findings else 'no findings'}, "
         f"{'signed ' + result.signature if result.signature else 'not signed'}; "
         f"{sum(result.seconds.values()):.1f} s")
    say(str(result.path))
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.evidence.verify import verify_pack

    result = verify_pack(Path(args.pack))
    for note in result.notes:
        warn(f"ringscope: {note}")
    if result.ok:
        say("ok")
        return 0
    for problem in result.problems:
        say(f"FAILED: {problem}")
    return 1


def register(subparsers) -> None:
    evidence = subparsers.add_parser("evidence", help="evidence packs: export one, verify one")
    sub = evidence.add_subparsers(dest="evidence_command", required=True, metavar="ACTION")

    export = sub.add_parser(
        "export", help="write an evidence pack (zip) for a cluster, a case or an account",
        description="Write one zip with manifest.json, report.html/.pdf, the graph (interactive HTML, GraphML, "
                    "nodes.csv/edges.csv, picture), the data, sanctions and the audit excerpt. Personal data is "
                    "masked unless --unmasked (needs the export_unmasked permission). Signed when "
                    "RINGSCOPE_EVIDENCE_SIGNING_KEY (Ed25519 PEM) or RINGSCOPE_EVIDENCE_HMAC_KEY is set.")
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--cluster", metavar="CLUSTER_ID")
    target.add_argument("--case", metavar="CASE_ID")
    target.add_argument("--account", metavar="ACCOUNT_ID")
    export.add_argument("--out", required=True, metavar="PACK.zip")
    add_actor(export, "who exports")
    export.add_argument("--unmasked", action="store_true", help="show IPs and phone hashes in full "
                                                                "(approver or admin)")
    export.add_argument("--run", default="latest", metavar="RUN_ID|latest",
                        help="for --account: the detection run to report (default latest)")
    export.add_argument("--reason", help="why the pack is exported (goes to the audit log)")
    export.set_defaults(func=cmd_export)

    verify = sub.add_parser(
        "verify", help="check a pack's manifest, hashes and signature",
        description="Prints ok (exit 0) or one FAILED line per problem, naming the file (exit 1). The signature "
                    "is checked when RINGSCOPE_EVIDENCE_HMAC_KEY or RINGSCOPE_EVIDENCE_VERIFY_KEY is set; with a "
                    "key set, an unsigned pack fails.")
    verify.add_argument("pack", metavar="PACK.zip")
    verify.set_defaults(func=cmd_verify)
