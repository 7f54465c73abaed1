"""``ringscope sweep --cluster ID``: the sweep back (回扫) of a confirmed cluster (``sweep/``), the same service the
app uses.

Lists the accounts outside the cluster that match its pattern (devices, IP ranges, agency, registration bursts,
comment templates, over-used phone segments), strongest first, with the evidence; ``--watch`` places them in
the observation room (audited, one stay each). Reasons are masked unless the reader may see personal data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import add_format, emit, emit_json, fmt_of, say, warn
from ringscope.common.errors import SettingError

HEADER = ["account_id", "score", "kinds", "registered_at", "before_run", "run_risk", "status", "sanctioned",
          "on_watch", "evidence"]


def _score(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise SettingError(f"--min-score must be a number above 0 and at most 1, not {text!r}")
    return value


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise SettingError(f"--limit must be a whole number of at least 1, not {text!r}")
    return int(text)


def rows(result, actor) -> list[list]:
    from ringscope.auth.masking import render_reason

    return [[f.account_id, f"{f.score:.3f}", ";".join(f.candidate.kinds),
             f.registered_at.isoformat(timespec="minutes") if f.registered_at else "", str(f.before_run).lower(),
             "" if f.run_risk is None else f"{f.run_risk:.3f}", f.status or "", str(f.sanctioned).lower(),
             str(f.on_watch).lower(), render_reason(" | ".join(e.reason for e in f.candidate.evidence), actor)]
            for f in result.found]


def _summary(result) -> list[str]:
    c = result.cluster
    lines = [f"cluster {c.cluster_id} ({c.detector}, run {c.run_id or '?'}): {c.size} members, "
             f"{result.confirmed} of the {result.members_read} read confirmed (sanctioned, banned or suspended)"]
    parts = []
    for t in result.pattern:
        part = f"{t.kind.replace('_', ' ')}: {t.count}"
        if t.skipped:
            part += f" ({len(t.skipped)} too common to search)"
        parts.append(part)
    lines.append("pattern: " + ", ".join(parts))
    before = sum(f.before_run for f in result.found)
    unseen = sum(f.run_risk is None for f in result.found)
    lines.append(f"{len(result.found)} accounts at or above score {result.min_score:g} ({before} registered before "
                 f"the run, {unseen} the run did not score); {result.below} more with weaker evidence")
    lines.extend(result.notes)
    return lines


def cmd_sweep(args: argparse.Namespace, settings) -> int:
    from ringscope.graph.database import connect
    from ringscope.sweep import service
    from ringscope.sweep.policy import load_sweep_policy

    policy = load_sweep_policy(Path(args.policy) if args.policy else None)
    actor = resolve_actor(args, acting=bool(args.watch))
    watch_policy = None
    if args.watch:
        from ringscope.detection.config import load_detection_policy

        actor.require("watch_account")
        watch_policy = load_detection_policy(Path(args.detection_policy) if args.detection_policy else None).watch
    graph = connect(settings)
    result = service.sweep(graph, args.cluster, policy, unconfirmed=args.unconfirmed,
                           min_score=_score(args.min_score), limit=_limit(args.limit))
    fmt = fmt_of(args)
    table = rows(result, actor)
    if fmt == "json":
        emit_json({"summary": _summary(result), "header": HEADER, "rows": table})
    else:
        (say if fmt == "text" else warn)("\n".join(_summary(result)))
        emit(table, HEADER, fmt)
    if args.watch:
        placed, left = service.place_on_watch(graph, actor, result, watch_policy, days=_days(args.days))
        (say if fmt == "text" else warn)(
            f"placed under observation: {len(placed)}; left as they were (sanctioned or already watched): "
            f"{len(left)}")
    return 0


def _days(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise SettingError(f"--days must be a whole number of days, not {text!r}")
    return int(text)


def register(subparsers) -> None:
    sw = subparsers.add_parser("sweep", help="the sweep back of a confirmed cluster: accounts anywhere in the "
                                             "history that match its pattern, with the evidence")
    sw.add_argument("--cluster", required=True, metavar="ID", help="the confirmed cluster (see `ringscope clusters`)")
    sw.add_argument("--min-score", metavar="X", help="list accounts at or above this score (default: the policy's "
                                                     "min_score)")
    sw.add_argument("--limit", metavar="N", help="at most N accounts (default: the policy's max_candidates)")
    sw.add_argument("--unconfirmed", action="store_true", help="sweep a cluster none of whose members is "
                                                                "sanctioned yet")
    sw.add_argument("--watch", action="store_true", help="place the accounts listed under observation (audited; "
                                                         "sanctioned or already watched ones are left)")
    sw.add_argument("--days", metavar="N", help="with --watch: length of each stay (default: the detection "
                                                "policy's watch.days)")
    sw.add_argument("--policy", help="sweep policy file (default: $RINGSCOPE_SWEEP_POLICY, else the shipped "
                                     "policy/sweep.yaml)")
    sw.add_argument("--detection-policy", help="with --watch: the detection policy whose `watch` section applies")
    add_actor(sw, "who reads (decides what is masked) and, with --watch, who places")
    add_format(sw)
    sw.set_defaults(func=cmd_sweep)
