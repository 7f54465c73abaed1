"""Signing in: the team's users file (bcrypt hashes) or OIDC through ``st.login`` when configured.

No page renders for someone signed out: ``app.main`` shows only the sign-in
page until ``current_actor()`` returns someone. With OIDC (an ``[auth]``
section in ``.streamlit/secrets.toml``), the identity provider says who the
person is and the users file still says what role they have: a user entry
without a ``password_hash`` signs in only that way; someone the file does not
list is refused.
"""

from __future__ import annotations

import streamlit as st

from ringscope.auth.lockout import Lockout, default_path
from ringscope.auth.roles import Actor
from ringscope.auth.users import PasswordTooLong, authenticate, load_users

ACTOR_KEY = "actor"


def current_actor() -> Actor | None:
    """Who is signed in, checked against the users file on every run: a user removed from the file is
    signed out at their next click, and a changed role applies at once."""
    actor = st.session_state.get(ACTOR_KEY)
    if isinstance(actor, Actor):
        record = load_users().get(actor.name)
        if record is None:
            sign_out()
            st.session_state["auth_error"] = "You were signed out: your user is no longer in the team's users file."
            return None
        if record.role != actor.role:
            actor = Actor(actor.name, record.role)
            st.session_state[ACTOR_KEY] = actor
        return actor
    oidc = _oidc_actor()
    if oidc is not None:
        st.session_state[ACTOR_KEY] = oidc
    return oidc


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _oidc_actor() -> Actor | None:
    if not oidc_configured():
        return None
    try:
        user = st.user
        if not user.is_logged_in:
            return None
        name = user.get("email") or user.get("preferred_username") or user.get("name")
    except Exception:
        return None
    record = load_users().get(str(name)) if name else None
    if record is None:
        st.session_state["auth_error"] = (f"{name} signed in with the identity provider but is not in the team's "
                                          "users file; an admin must add them with a role.")
        return None
    return Actor(str(name), record.role)


def sign_in(name: str, password: str, lockout: Lockout | None = None) -> Actor | None:
    """Check a name and password against the users file. Failures count per user name in a file
    (``auth/lockout.py``), so a new browser session or another app process meets the same lockout."""
    lockout = lockout or Lockout(default_path())
    name = (name or "").strip()
    wait = lockout.seconds_left(name)
    if wait > 0:
        st.session_state["auth_error"] = (f"Too many failed attempts for this user name; try again in "
                                          f"{wait:.0f} seconds.")
        return None
    try:
        actor = authenticate(name, password) if name and password else None
    except PasswordTooLong as exc:
        lockout.failed(name)
        st.session_state["auth_error"] = f"Wrong user name or password ({exc})."
        return None
    if actor is None:
        lockout.failed(name)
        st.session_state["auth_error"] = "Wrong user name or password."
        return None
    lockout.succeeded(name)
    st.session_state.pop("auth_error", None)
    st.session_state[ACTOR_KEY] = actor
    return actor


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if oidc_configured():
        try:
            if st.user.is_logged_in:
                st.logout()
        except Exception:
            pass


def sign_in_page() -> None:
    st.title("ringscope")
    st.caption("Sign in to investigate fake-account farms and paid comment rings.")
    with st.form("sign_in", clear_on_submit=False):
        name = st.text_input("User name", key="sign_in_name")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        if sign_in(name, password):
            st.rerun()
    if oidc_configured():
        st.button("Sign in with your organisation's account", on_click=st.login)
    if st.session_state.get("auth_error"):
        st.error(st.session_state["auth_error"])
