"""``ringscope evidence export``, ``ringscope evidence verify`` and ``ringscope evidence key``."""

from __future__ import annotations

import argparse
import sys
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
    from ringscope.evidence.keys import trusted_keys
    from ringscope.evidence.verify import verify_pack

    result = verify_pack(Path(args.pack), trusted_keys(key_file=Path(args.key) if args.key else None))
    if result.ok:
        say(f"ok: {result.summary()}")
        return 0
    for problem in result.problems:
        say(f"FAILED: {problem}")
    return 1


def cmd_key(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.evidence.keys import publishable_key

    key = publishable_key()
    warn(f"ringscope: Ed25519 key {key.key_id} ({key.source}); publish it, verifiers pass it with --key")
    if key.note:
        warn(f"ringscope: note: {key.note}")
    sys.stdout.write(key.pem.decode("ascii"))
    sys.stdout.flush()
    return 0


def register(subparsers) -> None:
    evidence = subparsers.add_parser("evidence", help="evidence packs: export one, verify one")
    sub = evidence.add_subparsers(dest="evidence_command", required=True, metavar="ACTION")

    export = sub.add_parser(
        "export", help="write an evidence pack (zip) for a cluster, a case or an account",
        description="Write one zip with manifest.json, report.html/.pdf, the graph (interactive HTML, GraphML, "
                    "nodes.csv/edges.csv, picture), the data, sanctions and the audit excerpt. Personal data is "
                    "masked unless --unmasked (needs the export_unmasked permission). Signed with "
                    "RINGSCOPE_EVIDENCE_SIGNING_KEY (Ed25519 PEM) or RINGSCOPE_EVIDENCE_HMAC_KEY when set, else "
                    "with the installation's own Ed25519 key (`ringscope evidence key` prints it).")
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
        description="Prints `ok: ...` (exit 0), saying whether the signature was checked against a trusted key, "
                    "only against the public key inside the pack, or not at all; or one FAILED line per "
                    "problem, naming the file (exit 1). Trusted keys: --key, else RINGSCOPE_EVIDENCE_VERIFY_KEY "
                    "(Ed25519) and RINGSCOPE_EVIDENCE_HMAC_KEY. With a trusted key, an unsigned pack or one "
                    "signed by any other key fails.")
    verify.add_argument("pack", metavar="PACK.zip")
    verify.add_argument("--key", metavar="PUB.pem", help="the exporter's published Ed25519 public key (PEM): the "
                                                         "signature must be by this key")
    verify.set_defaults(func=cmd_verify)

    key = sub.add_parser(
        "key", help="print the installation's public signing key (PEM), to publish",
        description="Prints the Ed25519 public key evidence packs are signed with (the installation's own key "
                    "in RINGSCOPE_HOME/keys, made on first use, or the public half of "
                    "RINGSCOPE_EVIDENCE_SIGNING_KEY). Verifiers pass it to `ringscope evidence verify --key`.")
    key.set_defaults(func=cmd_key)
