"""Starting the app: ``serve`` runs ``streamlit run app.py``; ``ensure_admin`` creates the first admin.

``ringscope up`` calls both: if the users file is empty, ``ensure_admin``
creates user ``admin`` with a generated password, prints it once and keeps it
in a file readable only by you beside the users file (``<users>.admin-password``).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ringscope.auth.users import load_users, save_user, users_path

# The entry script ships with the package (``ringscope/app.py``), beside ``webapp/``.
APP = Path(__file__).resolve().parent.parent / "app.py"


def command(port: int = 8501, headless: bool = True) -> list[str]:
    """The ``streamlit run`` command line with the server flags the app wants."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--server.address", os.environ.get("RINGSCOPE_APP_ADDRESS", "127.0.0.1"),
        "--server.fileWatcherType", "none",  # no reloading under investigators' feet
        "--server.runOnSave", "false",
        # Streamlit runs a full gc.collect(2) after every script run by default; with a 1M-account run's
        # caches in the process that cost ~0.1 s of every click (py-spy, benchmarks/results/app_browser.md).
        # Python's own generational collector still runs.
        "--runner.postScriptGC", "false",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        "--server.maxUploadSize", "50",
        "--theme.base", "light",
    ]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 90) -> bool:
    """Wait for the app at ``url`` to answer its health check; False if ``server`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return True
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.3)


def serve(port: int = 8501, headless: bool = True) -> subprocess.Popen | int:
    """Run the app. Headless: start it in the background and return the process (the caller waits or stops
    it). Not headless: run it in the foreground (a browser opens) and return its exit code."""
    args = command(port, headless)
    # The caller's working directory stays: Streamlit reads .streamlit/secrets.toml (OIDC) from there.
    if headless:
        return subprocess.Popen(args)
    return subprocess.call(args)


def ensure_admin(path: Path | str | None = None) -> str | None:
    """If the users file has no users, create ``admin`` with a generated password; return it (else None).

    The password is also stored in :func:`admin_password_file` with mode 0600;
    saying it is the caller's job.
    """
    path = Path(path) if path else users_path()
    if load_users(path):
        return None
    password = secrets.token_urlsafe(15)
    save_user("admin", "admin", password, path)
    secret = admin_password_file(path)
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    os.chmod(secret, 0o600)
    return password


def admin_password_file(users: Path) -> Path:
    """Where :func:`ensure_admin` keeps the first admin's password: ``<users file>.admin-password``."""
    return users.with_name(users.name + ".admin-password")
