"""Signing in: the team's users file (bcrypt hashes) or OIDC through ``st.login`` when configured.

No page renders for someone signed out: ``app.main`` shows only the sign-in
page until ``current_actor()`` returns someone. With OIDC (an ``[auth]``
section in ``.streamlit/secrets.toml``), the identity provider says who the
person is and the users file still says what role they have: a user entry
without a ``password_hash`` signs in only that way; someone the file does not
list is refused.
"""

from __future__ import annotations

import time

import streamlit as st

from ringscope.auth.roles import Actor
from ringscope.auth.users import authenticate, load_users

ACTOR_KEY = "actor"
MAX_FAILURES = 5
LOCKOUT_S = 30


def current_actor() -> Actor | None:
    actor = st.session_state.get(ACTOR_KEY)
    if isinstance(actor, Actor):
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


def sign_in(name: str, password: str) -> Actor | None:
    """Check a name and password against the users file; counts failures and locks out briefly."""
    failures, last = st.session_state.get("auth_failures", (0, 0.0))
    if failures >= MAX_FAILURES and time.monotonic() - last < LOCKOUT_S:
        st.session_state["auth_error"] = f"Too many failed attempts; wait {LOCKOUT_S} seconds."
        return None
    actor = authenticate(name.strip(), password) if name and password else None
    if actor is None:
        st.session_state["auth_failures"] = (failures + 1, time.monotonic())
        st.session_state["auth_error"] = "Wrong user name or password."
        return None
    st.session_state.pop("auth_failures", None)
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
