"""The hostile-input suite: probes of the hardening review through the public surfaces (CLI, app, packs)."""

from tests.webapp.conftest import app_db, users_file  # noqa: F401 - the app's fixtures, for the app's probes
