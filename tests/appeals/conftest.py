"""The appeal tests reuse the sanction tests' small graphs and users file (alice investigator, bob and carol
approvers, vic viewer)."""

from tests.sanctions.conftest import users_file  # noqa: F401  (a fixture, used by name)
