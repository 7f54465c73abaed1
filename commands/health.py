"""``ringscope health --account ID | --brand ID | --agency ID | --distribution``: the content-health index
(``health/``), the same service the app uses.

An account: its index 0-100, band (the effect it would have), each indicator's contribution in points, and what is
not measured. A brand or an agency: the index of each account it works with, lowest first, and their distribution.
``--distribution``: the whole platform's distribution (every account, read in batches).

``ringscope health apply [--dry-run]``: the bands applied as effects (``health/enforce.py``): every account's index
computed, compared with the effects in force, the changes written and audited (``health.effect``, carried by
``ringscope sanction feed``), one summary stored for the overview. ``--dry-run`` prints what would change.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import add_format, emit, emit_json, fmt_of, say, warn

CONTRIBUTION_HEADER = ["indicator", "dimension", "value", "detail", "deduction", "points"]
GROUP_HEADER = ["account_id", "index", "band", "content_quality", "compliance", "user_feedback", "warnings"]
BIN_HEADER = ["from", "to", "accounts"]
CHANGE_HEADER = ["change", "account_id", "effect_id", "band", "index", "reach_factor", "commercial", "was", "to"]


def _account(h, fmt: str) -> None:
    from ringscope.health.index import effect_of

    table = [[c.indicator, c.dimension, f"{c.value:.3g}", c.detail, f"{c.deduction:.2f}", f"{c.points:.2f}"]
             for c in h.contributions]
    if fmt == "json":
        emit_json(h)
        return
    if fmt == "csv":
        emit(table, CONTRIBUTION_HEADER, fmt)
        return
    say(f"account {h.account_id}: content health {h.index:.1f} / 100: {effect_of(h)}")
    say("dimensions: " + ", ".join(f"{d.name} {d.points:.1f} of {d.weight:g}" for d in h.dimensions))
    for w in h.warnings:
        say(f"warning: {w}")
    emit(table, CONTRIBUTION_HEADER, fmt)
    say("not measured (the input does not carry them): "
        + "; ".join(f"{u.name} ({u.dimension}: {u.why})" for u in h.not_measured))


def _distribution_lines(d) -> list[str]:
    if not d.accounts:
        return ["no accounts"]
    return [f"{d.accounts} accounts: mean {d.mean:.1f}, median {d.median:.1f}, 10th percentile {d.p10:.1f}, "
            f"90th {d.p90:.1f}",
            "bands: " + ", ".join(f"{b} {n}" for b, n in d.bands.items())]


def _group(g, fmt: str) -> None:
    table = [[h.account_id, f"{h.index:.1f}", h.band, *(f"{d.points:.1f}" for d in h.dimensions),
              " | ".join(h.warnings)] for h in g.scored]
    what = "brand" if g.kind == "brand" else "agency"
    lines = [f"{what} {g.group_id}" + (f" ({g.name})" if g.name else "") + f": works with {g.accounts} accounts"
             + (f"; the first {len(g.scored)} by id are scored (the health policy's limits.max_group_accounts)"
                if len(g.scored) < g.accounts else ""),
             *_distribution_lines(g.distribution)]
    if fmt == "json":
        emit_json({"summary": lines, "distribution": g.distribution, "header": GROUP_HEADER, "rows": table})
        return
    (say if fmt == "text" else warn)("\n".join(lines))
    emit(table, GROUP_HEADER, fmt)


def _platform(p, fmt: str) -> None:
    d = p.distribution
    table = [[lo, hi, n] for lo, hi, n in d.bins]
    if fmt == "json":
        emit_json({"distribution": d})
        return
    (say if fmt == "text" else warn)("\n".join(_distribution_lines(d)))
    emit(table, BIN_HEADER, fmt)


def _applied(r, fmt: str) -> None:
    d = r.distribution
    sample = [[c.kind, c.account_id, c.effect_id, c.band, "" if c.index is None else f"{c.index:.1f}",
               f"{c.reach_factor:g}", str(c.commercial).lower(), c.was, c.to] for c in r.sample]
    if fmt == "json":
        emit_json({"apply_id": None if r.dry_run else r.apply_id, "at": r.at, "dry_run": r.dry_run,
                   "policy_version": r.policy_version, "distribution": d, "transitions": r.transitions,
                   "set": r.set, "cleared": r.cleared, "unchanged": r.unchanged, "skipped": r.skipped,
                   "sample": r.sample, "seconds": round(r.seconds, 3)})
        return
    verb = "would set" if r.dry_run else "set"
    lines = [("dry run, nothing written: " if r.dry_run else f"apply {r.apply_id}: ")
             + f"{d.accounts} accounts scored (policy version {r.policy_version}); {verb} {r.set} effects, "
             + ("would clear" if r.dry_run else "cleared") + f" {r.cleared}; {r.unchanged} accounts unchanged"
             + (f"; {r.skipped} changes made by another apply first" if r.skipped else ""),
             *_distribution_lines(d),
             "transitions (effect in force -> band now): "
             + (", ".join(f"{t} {n}" for t, n in r.transitions.items()) or "none")]
    (say if fmt == "text" else warn)("\n".join(lines))
    if sample:
        (say if fmt == "text" else warn)(f"the first {len(sample)} changes, by account:" if r.dry_run
                                         else f"the first {len(sample)} changes of the plan, by account:")
        emit(sample, CHANGE_HEADER, fmt)


def cmd_apply(args: argparse.Namespace, settings) -> int:
    from ringscope.detection.config import load_detection_policy
    from ringscope.graph.database import connect
    from ringscope.health import enforce
    from ringscope.health.policy import load_health_policy

    actor = resolve_actor(args)
    if not args.dry_run:
        actor.require(enforce.PERMISSION)  # refused before minutes of computing, not after
    policy = load_health_policy(Path(args.policy) if args.policy else None)
    reports = load_detection_policy(Path(args.detection_policy) if args.detection_policy else None).reports
    fmt = fmt_of(args)
    graph = connect(settings)
    _applied(enforce.apply(graph, actor, policy, dry_run=args.dry_run, reports_policy=reports,
                           log=warn if fmt == "text" else None), fmt)
    return 0


def cmd_health(args: argparse.Namespace, settings) -> int:
    if getattr(args, "health_command", None) == "apply":
        return cmd_apply(args, settings)
    if args.account is None and args.brand is None and args.agency is None and not args.distribution:
        from ringscope.common.errors import SettingError

        raise SettingError("say what to show: --account ID, --brand ID, --agency ID, --distribution, "
                           "or `ringscope health apply`")
    from ringscope.detection.config import load_detection_policy
    from ringscope.graph.database import connect
    from ringscope.health import service
    from ringscope.health.policy import load_health_policy

    policy = load_health_policy(Path(args.policy) if args.policy else None)
    reports = load_detection_policy(Path(args.detection_policy) if args.detection_policy else None).reports
    fmt = fmt_of(args)
    graph = connect(settings)
    if args.account is not None:
        _account(service.account_health(graph, args.account, policy, reports), fmt)
    elif args.brand is not None:
        _group(service.group_health(graph, "brand", args.brand, policy, reports), fmt)
    elif args.agency is not None:
        _group(service.group_health(graph, "intermediary", args.agency, policy, reports), fmt)
    else:
        _platform(service.platform_health(graph, policy, reports, log=warn if fmt == "text" else None), fmt)
    return 0


def _add_policies(parser) -> None:
    parser.add_argument("--policy", help="health policy file (default: $RINGSCOPE_HEALTH_POLICY, else the shipped "
                                         "policy/health.yaml)")
    parser.add_argument("--detection-policy", help="the detection policy whose `reports` section tells "
                                                   "coordinated reports (not counted) from the rest")


def register(subparsers) -> None:
    h = subparsers.add_parser("health", help="the content-health index 0-100: an account's (with each indicator's "
                                             "contribution), a brand's or an agency's accounts', the platform's "
                                             "distribution")
    which = h.add_mutually_exclusive_group()
    which.add_argument("--account", metavar="ID", help="one account: its index, band and each indicator's part")
    which.add_argument("--brand", metavar="ID", help="the accounts a brand works with (its notes, its orders)")
    which.add_argument("--agency", metavar="ID", help="the accounts an agency (intermediary) manages or that "
                                                      "carried its orders")
    which.add_argument("--distribution", action="store_true", help="every account of the platform: the index's "
                                                                   "distribution")
    _add_policies(h)
    add_format(h)
    h.set_defaults(func=cmd_health)
    sub = h.add_subparsers(dest="health_command", metavar="apply")
    ap = sub.add_parser("apply", help="apply the bands as effects: every account's index computed (~3 min at 100k), "
                                      "compared with the effects in force, the changes written and audited "
                                      "(boost, no_commercial, throttled; cleared on a return to normal)")
    ap.add_argument("--dry-run", action="store_true", help="print what would change (counts per transition, a "
                                                           "sample) and write nothing")
    _add_policies(ap)  # again: argparse keeps a subcommand's options only when given after its name
    add_actor(ap, "who applies (needs the apply_health_effects permission: approver, admin)")
    add_format(ap, choices=("text", "json"))
    ap.set_defaults(func=cmd_health)
