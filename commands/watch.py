"""``ringscope watch add|release|list``: the observation room (``watch/``), the same service the app uses.

The room's policy is the ``watch`` section of the detection policy (``--policy`` or
``RINGSCOPE_DETECTION_POLICY``, else the shipped one). Who acts is resolved as for every command
(``commands/actor.py``); reasons are shown masked unless the reader may see personal data.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from ringscope.commands.actor import add_actor, resolve_actor
from ringscope.commands.output import add_format, emit, fmt_of, say
from ringscope.common.errors import SettingError

LIST_STATES = ("open", "watching", "escalated", "released", "all")
HEADER = ["account_id", "state", "reason", "origin", "placed_by", "started_at", "ends_at", "age_days", "restriction",
          "reach_factor", "notified", "runs", "last_risk", "trend", "risks", "released_at", "released_by",
          "release_reason", "stay_id"]


def _graph(settings):
    from ringscope.graph.database import connect

    return connect(settings)


def _policy(args: argparse.Namespace):
    from ringscope.detection.config import load_detection_policy

    return load_detection_policy(Path(args.policy) if args.policy else None).watch


def _days(text: str | None, policy) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise SettingError(f"--days must be a whole number from 1 to {policy.max_days} (watch.max_days), "
                           f"not {text!r}") from None


def _time(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def stay_rows(stays, policy, actor, now: datetime) -> list[list]:
    from ringscope.auth.masking import render_reason
    from ringscope.watch.room import trend

    return [[s.account_id, s.state, render_reason(s.reason, actor), s.origin, s.placed_by, _time(s.started_at),
             _time(s.ends_at), round(s.age_days(now), 1), s.restriction, s.reach_factor,
             str(s.notified).lower(), len(s.risks), f"{s.risks[-1]:.3f}" if s.risks else "",
             trend(s.risks, policy.trend_tolerance),
             ";".join(f"{r:.3f}" for r in s.risks), _time(s.released_at), s.released_by or "",
             render_reason(s.release_reason or "", actor), s.stay_id] for s in stays]


def _say_stay(what: str, stay, fmt: str, policy, actor) -> None:
    if fmt == "text":
        say(f"{what} {stay.account_id}: stay {stay.stay_id}, {stay.state}, until {_time(stay.ends_at)}; "
            f"silent restriction {stay.restriction} (reach x{stay.reach_factor}), account not notified")
    else:
        emit(stay_rows([stay], policy, actor, datetime.now(timezone.utc)), HEADER, fmt)


def cmd_add(args: argparse.Namespace, settings) -> int:
    from ringscope.watch import service

    policy = _policy(args)
    actor = resolve_actor(args)
    stay = service.add(_graph(settings), actor, args.account, args.reason, policy, days=_days(args.days, policy))
    _say_stay("placed under observation:", stay, fmt_of(args), policy, actor)
    return 0


def cmd_release(args: argparse.Namespace, settings) -> int:
    from ringscope.watch import service

    policy = _policy(args)
    actor = resolve_actor(args)
    stay = service.release(_graph(settings), actor, args.account, args.reason)
    _say_stay("released", stay, fmt_of(args), policy, actor)
    return 0


def cmd_list(args: argparse.Namespace, settings) -> int:
    from ringscope.watch import service
    from ringscope.watch.room import OPEN_STATES

    policy = _policy(args)
    actor = resolve_actor(args, acting=False)
    states = {"open": list(OPEN_STATES), "all": None}.get(args.state, [args.state])
    stays = service.stays(_graph(settings), states, account_id=args.account)
    emit(stay_rows(stays, policy, actor, datetime.now(timezone.utc)), HEADER, fmt_of(args))
    return 0


def register(subparsers) -> None:
    wx = subparsers.add_parser("watch", help="the observation room: accounts under observation with a silent "
                                             "restriction, escalated to an investigator when their risk rises")
    sub = wx.add_subparsers(dest="watch_command", required=True, metavar="ACTION")

    def common(p):
        p.add_argument("--policy", help="detection policy file whose `watch` section applies (default: "
                                        "$RINGSCOPE_DETECTION_POLICY, else the shipped one)")
        add_format(p)

    ad = sub.add_parser("add", help="place an account under observation (silent restriction; not notified)")
    ad.add_argument("account", metavar="ACCOUNT")
    ad.add_argument("--reason", required=True, help="why: recorded on the stay and in the audit log")
    ad.add_argument("--days", metavar="N", help="length of the stay (default: the policy's watch.days)")
    add_actor(ad)
    common(ad)
    ad.set_defaults(func=cmd_add)

    rl = sub.add_parser("release", help="end an account's stay (watching, or escalated: resolves the queue item)")
    rl.add_argument("account", metavar="ACCOUNT")
    rl.add_argument("--reason", required=True)
    add_actor(rl)
    common(rl)
    rl.set_defaults(func=cmd_release)

    ls = sub.add_parser("list", help="stays in the room, newest first (default: open ones, watching or escalated)")
    ls.add_argument("--state", choices=LIST_STATES, default="open")
    ls.add_argument("--account", metavar="ID", help="only this account's stays (its history)")
    add_actor(ls, "who reads (decides what is masked)")
    common(ls)
    ls.set_defaults(func=cmd_list)
