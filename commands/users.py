"""``ringscope users list|add``: the team's users file."""

from __future__ import annotations

import argparse
import getpass
import os

from ringscope.commands.output import add_format, emit, fmt_of, say
from ringscope.common.errors import SettingError
from ringscope.graph.settings import Settings


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from ringscope.auth.users import load_users, save_user, users_path

    if args.users_command == "list":
        rows = [[name, record.role, "password" if record.password_hash else "oidc only"]
                for name, record in sorted(load_users().items())]
        emit(rows, ["user", "role", "sign_in"], fmt_of(args))
        return 0
    password = None
    if not args.no_password:
        password = os.environ.get("RINGSCOPE_NEW_PASSWORD") or _ask_password(args.name)
        if len(password) < 8:
            raise SettingError("the password must have at least 8 characters")
    save_user(args.name, args.role, password)
    say(f"{args.name} ({args.role}) saved in {users_path()}")
    return 0


def _ask_password(name: str) -> str:
    """The new password, typed at the terminal; no terminal (a script, cron, CI) is a message, not a traceback."""
    try:
        return getpass.getpass(f"password for {name}: ")
    except EOFError:
        raise SettingError(f"no password given for {name}: type it at a terminal, set RINGSCOPE_NEW_PASSWORD, "
                           "or use --no-password for a user who signs in through OIDC only") from None


def register(sub) -> None:
    usr = sub.add_parser("users", help="the team's users and roles (users.yaml in RINGSCOPE_HOME, "
                                       "or RINGSCOPE_USERS)")
    usr_sub = usr.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    lst = usr_sub.add_parser("list", help="names and roles")
    add_format(lst)
    lst.set_defaults(func=cmd_users)
    add = usr_sub.add_parser("add", help="add or change a user (asks for the password; "
                                         "or RINGSCOPE_NEW_PASSWORD)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["viewer", "investigator", "approver", "admin"])
    add.add_argument("--no-password", action="store_true", help="sign in through OIDC only")
    add.set_defaults(func=cmd_users)
