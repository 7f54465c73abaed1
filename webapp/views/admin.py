"""Admin: users and roles, the policies in force, and a read-only Cypher console (admins only)."""

from __future__ import annotations

import streamlit as st

from ringscope.queries import console
from ringscope.webapp import services
from ringscope.webapp.views.common import require, table
from ringscope.auth.roles import ROLES
from ringscope.auth.users import MAX_PASSWORD_BYTES, load_users, save_user, users_path

CONSOLE_ROWS = 200


def render() -> None:
    who = require("manage_users")
    st.title("Admin")
    tab_users, tab_policy, tab_cypher = st.tabs(["Users", "Policies", "Cypher (read-only)"])
    with tab_users:
        _users()
    with tab_policy:
        _policies()
    with tab_cypher:
        _console(who)


def _users() -> None:
    path = users_path()
    users = load_users(path)
    st.caption(f"Users file: `{path}`")
    table([{"user": name, "role": rec.role, "sign-in": "password" if rec.password_hash else "OIDC only"}
                  for name, rec in sorted(users.items())], hide_index=True, key="admin_users")
    with st.form("add_user", clear_on_submit=True):
        st.markdown("**Add or change a user**")
        name = st.text_input("User name")
        role = st.selectbox("Role", ROLES)
        password = st.text_input("Password (empty: sign-in through OIDC only)", type="password")
        if st.form_submit_button("Save"):
            if not name.strip():
                st.error("A user name is needed.")
            elif password and len(password) < 10:
                st.error("Use a password of at least 10 characters.")
            elif password and len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
                st.error(f"A password may have at most {MAX_PASSWORD_BYTES} bytes (UTF-8).")
            else:
                save_user(name.strip(), role, password or None, path)
                st.success(f"Saved {name.strip()} ({role}).")


def _policies() -> None:
    from ringscope.detection.config import load_detection_policy

    with services.shown_errors():
        st.markdown("**Detection policy**")
        st.json(load_detection_policy().model_dump(), expanded=False)
    try:
        from ringscope.sanctions.policy import load_sanction_policy

        st.markdown("**Sanction policy**")
        st.json(load_sanction_policy().model_dump(), expanded=False)
    except Exception as exc:  # noqa: BLE001 - shown, not fatal
        st.caption(f"Sanction policy not available: {exc}")
    st.caption("Policies are files (see the README); edit them and bump their version to change them.")


def _console(who) -> None:
    st.caption(f"Plain reads of the graph only: a statement that writes, loads files or URLs (LOAD CSV), shows "
               f"server state or calls a procedure outside a short list is refused before it runs. At most "
               f"{CONSOLE_ROWS} rows are shown.")
    text = st.text_area("Cypher", key="admin_cypher", height=120,
                        placeholder="MATCH (a:Account {status: 'banned'}) RETURN a.account_id LIMIT 10")
    if st.button("Run", key="admin_run") and text.strip():
        with services.shown_errors():
            result = services.guard(console.run_read_only, services.get_graph(), who, text, CONSOLE_ROWS)
            table(result.rows, key="admin_rows")
            st.caption(f"{result.total} rows"
                       + (f", first {CONSOLE_ROWS} shown" if result.total > CONSOLE_ROWS else ""))
