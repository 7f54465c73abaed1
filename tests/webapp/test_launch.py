"""Starting the app and the first admin."""

from __future__ import annotations

import stat

from ringscope.webapp.launch import command, ensure_admin
from ringscope.auth.users import authenticate, load_users


def test_ensure_admin_creates_one_admin_once(tmp_path):
    users = tmp_path / "users.yaml"
    password = ensure_admin(users)
    assert password and len(password) >= 16
    assert load_users(users)["admin"].role == "admin"
    assert authenticate("admin", password, users).role == "admin"
    secret = tmp_path / "users.yaml.admin-password"
    assert secret.read_text().strip() == password
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert ensure_admin(users) is None  # not empty any more: nothing created


def test_serve_command_line():
    args = command(8600, headless=True)
    assert args[1:4] == ["-m", "streamlit", "run"] and args[4].endswith("app.py")
    assert args[args.index("--server.port") + 1] == "8600"
    assert args[args.index("--server.headless") + 1] == "true"
    assert args[args.index("--server.fileWatcherType") + 1] == "none"
