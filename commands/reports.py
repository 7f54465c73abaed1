"""``ringscope reports --account ID | --note ID | --comment ID``: users' reports against one entity (``reports/``),
the same service as the app's entity panel: counts, coordinated bursts from one cluster, the newest reports.

The coordinated-reporting rule is the ``reports`` section of the detection policy (``--policy`` or
``RINGSCOPE_DETECTION_POLICY``, else the shipped one). Reasons are masked unless the reader may see personal data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import add_format, emit, emit_json, fmt_of, say, warn
from ringscope.common.errors import SettingError

HEADER = ["report_id", "reporter", "created_at", "verified", "coordinated", "reason"]
TARGETS = ("account", "note", "comment")


def cmd_reports(args: argparse.Namespace, settings) -> int:
    from ringscope.auth.masking import render_reason
    from ringscope.detection.config import load_detection_policy
    from ringscope.graph.database import connect
    from ringscope.reports import service

    named = [(t, getattr(args, t)) for t in TARGETS if getattr(args, t)]
    if len(named) != 1:
        raise SettingError("name one target: --account ID, --note ID or --comment ID")
    target_type, target_id = named[0]
    policy = load_detection_policy(Path(args.policy) if args.policy else None).reports
    actor = resolve_actor(args, acting=False)
    summary = service.summary(connect(settings), target_type, target_id, policy)
    coordinated = {i for b in summary.bursts for i in b.report_ids}
    rows = [[r.report_id, r.reporter, r.created_at.isoformat(), "" if r.verified is None else str(r.verified).lower(),
             str(r.report_id in coordinated).lower(), render_reason(r.reason, actor)] for r in summary.reports]
    lines = [f"{target_type} {target_id}: {summary.total} reports, {summary.verified} verified, {summary.counted} "
             f"counted against it" + (f" (the newest {summary.read} read)" if summary.read < summary.total else "")]
    lines += [f"coordinated: {b.reason}" for b in summary.bursts]
    if fmt_of(args) == "json":
        emit_json({"summary": lines, "header": HEADER, "rows": rows})
        return 0
    (say if fmt_of(args) == "text" else warn)("\n".join(lines))
    emit(rows, HEADER, fmt_of(args))
    return 0


def register(subparsers) -> None:
    rp = subparsers.add_parser("reports", help="users' reports against an account, note or comment, with "
                                               "coordinated mass-reporting from one cluster shown apart")
    rp.add_argument("--account", metavar="ID")
    rp.add_argument("--note", metavar="ID")
    rp.add_argument("--comment", metavar="ID")
    rp.add_argument("--policy", help="detection policy whose `reports` section applies (default: "
                                     "$RINGSCOPE_DETECTION_POLICY, else the shipped one)")
    add_actor(rp, "who reads (decides what is masked)")
    add_format(rp)
    rp.set_defaults(func=cmd_reports)
