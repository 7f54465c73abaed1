"""Who is acting: one rule for every command.

``--actor NAME``, else ``RINGSCOPE_ACTOR``, else the OS user; the role comes
from the users file (``ringscope users``). A name given explicitly must be in
the file. With no users file at all (a fresh install) the OS user acts as an
investigator (masked data; whatever needs approval waits). Reading commands
without a known user show masked data.
"""

from __future__ import annotations

import argparse
import getpass
import os

from ringscope.auth.roles import Actor
from ringscope.auth.users import UnknownUser, actor_for, load_users, users_path
from ringscope.commands.output import warn

ACTOR_ENV = "RINGSCOPE_ACTOR"
FALLBACK_ROLE = "investigator"


def add_actor(parser: argparse.ArgumentParser, what: str = "who acts") -> None:
    parser.add_argument("--actor", metavar="NAME",
                        help=f"{what}: a user of the users file (default ${ACTOR_ENV}, else the OS user)")


def resolve_actor(args: argparse.Namespace, *, acting: bool = True) -> Actor | None:
    """The acting user; for a reading command (``acting=False``) None when nobody known is named."""
    explicit = getattr(args, "actor", None) or os.environ.get(ACTOR_ENV)
    if explicit:
        return actor_for(explicit)
    user = getpass.getuser()
    users = load_users()
    if user in users:
        return Actor(user, users[user].role)
    if not acting:
        return None
    if users:
        raise UnknownUser(f"the OS user {user!r} is not in the users file {users_path()}: "
                          f"name yourself with --actor or {ACTOR_ENV}")
    warn(f"ringscope: no users file ({users_path()}): acting as OS user {user!r} with role {FALLBACK_ROLE}; "
         "name yourself with --actor")
    return Actor(user, FALLBACK_ROLE)
