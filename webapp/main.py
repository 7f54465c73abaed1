"""The app's frame: page config, sign-in gate, navigation by role.

``app.py`` calls ``main()``. Signed out, the only page is the sign-in page.
Signed in, the pages the role may use are listed; the admin page (users,
policy, the raw Cypher console) only for admins.
"""

from __future__ import annotations

import importlib

import streamlit as st

from ringscope.webapp.signin import current_actor, sign_in_page, sign_out

# name -> (module in app.views, title, icon, permission needed or None)
PAGE_SPECS = {
    "overview": ("overview", "Overview", ":material/dashboard:", None),
    "search": ("search", "Search", ":material/search:", None),
    "explorer": ("explorer", "Graph explorer", ":material/hub:", None),
    "entity": ("entity", "Entity", ":material/badge:", None),
    "bans": ("bans", "Device-linked bans", ":material/phonelink_lock:", None),
    "watch": ("watch", "Observation room", ":material/visibility:", None),
    "trending": ("trending", "Trending list", ":material/trending_up:", None),
    "sweep": ("sweep", "Sweep back", ":material/manage_search:", None),
    "sanctions": ("sanctions", "Sanctions", ":material/gavel:", "preview_sanction"),
    "appeals": ("appeals", "Appeals", ":material/balance:", None),
    "evidence": ("evidence", "Evidence", ":material/inventory_2:", "export_masked"),
    "audit": ("audit", "Audit", ":material/policy:", None),
    "admin": ("admin", "Admin", ":material/admin_panel_settings:", "manage_users"),
}


def _page_function(module_name: str):
    def render() -> None:
        importlib.import_module(f"ringscope.webapp.views.{module_name}").render()
    render.__name__ = f"page_{module_name}"
    return render


def render_page(name: str) -> None:
    """Render one page by name, behind the same sign-in and role checks (used by tests)."""
    actor = current_actor()
    if actor is None:
        sign_in_page()
        return
    module, _title, _icon, permission = PAGE_SPECS[name]
    if permission and not actor.can(permission):
        st.error(f"Your role ({actor.role}) does not allow this page.")
        return
    importlib.import_module(f"ringscope.webapp.views.{module}").render()


def main() -> None:
    st.set_page_config(page_title="ringscope", page_icon=":material/hub:", layout="wide")
    from ringscope.webapp import services

    services.start_background()
    actor = current_actor()
    if actor is None:
        st.navigation([st.Page(sign_in_page, title="Sign in", url_path="signin", default=True)],
                      position="hidden").run()
        return
    from ringscope.webapp.views import common

    pages = {}
    for name, (module, title, icon, permission) in PAGE_SPECS.items():
        if permission and not actor.can(permission):
            continue
        pages[name] = st.Page(_page_function(module), title=title, icon=icon, url_path=name,
                              default=(name == "overview"))
    common.PAGES.clear()
    common.PAGES.update(pages)
    with st.sidebar:
        st.markdown(f"**{actor.name}** · {actor.role}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            sign_out()
            st.rerun()
    st.navigation(list(pages.values())).run()
