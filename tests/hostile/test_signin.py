"""Hostile sign-in: guessing from fresh sessions, timing, overlong passwords, removed users, four eyes."""

import statistics
import time

import pytest
from streamlit.testing.v1 import AppTest

from ringscope.auth.lockout import Lockout
from ringscope.auth.roles import Actor
from ringscope.auth.users import PasswordTooLong, authenticate, save_user
from ringscope.common.errors import SettingError
from tests.webapp.conftest import PASSWORD
from tests.webapp.test_pages import APP, TIMEOUT, errors, page


def _attempt(name: str, password: str) -> AppTest:
    """A sign-in from a brand-new browser session."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_the_lockout_holds_across_browser_sessions(app_db, users_file, tmp_path, monkeypatch):
    monkeypatch.setenv("RINGSCOPE_HOME", str(tmp_path))  # the lockout file of this test alone
    save_user("lou", "viewer", PASSWORD, users_file)
    for _ in range(5):
        assert "Wrong user name or password." in errors(_attempt("lou", "guess"))
    locked = _attempt("lou", PASSWORD)  # a new session, the right password: still refused
    assert "actor" not in locked.session_state
    assert any("Too many failed attempts" in e for e in errors(locked))
    assert "actor" in _attempt("ivy", PASSWORD).session_state  # other names are not affected


def test_lockout_counts_per_name_and_runs_out(tmp_path):
    lockout = Lockout(tmp_path / "failures.json", max_failures=3, lockout_s=60)
    for i in range(3):
        lockout.failed("mallory", now=1000.0 + i)
    assert lockout.seconds_left("mallory", now=1010.0) == pytest.approx(52.0)
    assert lockout.seconds_left("alice", now=1010.0) == 0
    assert lockout.seconds_left("mallory", now=1100.0) == 0
    assert lockout.failed("mallory", now=1100.0) == 1  # a fresh count after the lockout ran out
    lockout.succeeded("mallory")
    assert lockout.seconds_left("mallory") == 0
    assert "mallory" not in (tmp_path / "failures.json").read_text()  # names are stored as digests
    assert (tmp_path / "failures.json").stat().st_mode & 0o777 == 0o600


def test_unknown_and_known_names_take_the_same_time(tmp_path):
    path = tmp_path / "users.yaml"
    save_user("alice", "investigator", "correct-horse-battery", path)

    def median(name: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert authenticate(name, "wrong password", path) is None
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    known, unknown = median("alice"), median("nobody")
    # Today's main answered an unknown name ~100x faster; equal cost means within a factor of 2 either way.
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_a_password_over_72_bytes_is_refused_with_a_message(app_db, tmp_path, monkeypatch):
    monkeypatch.setenv("RINGSCOPE_HOME", str(tmp_path))
    long = "密" * 30  # 90 bytes in UTF-8
    with pytest.raises(PasswordTooLong, match="at most 72 bytes"):
        authenticate("ivy", long)
    with pytest.raises(SettingError, match="at most 72 bytes"):
        save_user("x", "viewer", long, tmp_path / "users.yaml")
    at = _attempt("ivy", long)
    assert not at.exception and "actor" not in at.session_state
    assert any("at most 72 bytes" in e for e in errors(at))


def test_a_user_removed_from_the_file_is_signed_out_at_the_next_click(app_db, users_file, tmp_path, monkeypatch):
    users = tmp_path / "users.yaml"
    users.write_text(users_file.read_text())
    monkeypatch.setenv("RINGSCOPE_USERS", str(users))
    at = page("overview", "investigator")
    assert not errors(at) and at.session_state["actor"] == Actor("ivy", "investigator")
    save_user("ivy", "viewer", None, users)  # demoted: the new role applies at once
    at.run()
    assert at.session_state["actor"] == Actor("ivy", "viewer")
    users.write_text(users.read_text().replace("ivy:", "ivy-gone:"))  # removed
    at.run()
    assert "actor" not in at.session_state
    assert at.title[0].value == "ringscope"  # the sign-in page


@pytest.mark.neo4j
def test_the_author_of_a_decision_cannot_approve_it_through_another_applier(graph):
    from ringscope.sanctions import service
    from ringscope.sanctions.propagation import Decision, NodeRef
    from tests.sanctions.conftest import accounts

    accounts(graph, "fe1")
    author, applier = Actor("bob", "approver"), Actor("carol", "approver")
    decision = Decision("farm_operation", (NodeRef("Account", "fe1"),), None, None, "farm", ())
    shown = service.preview(graph, decision, author)
    service.apply(graph, shown.preview_id, applier)
    with pytest.raises(service.ApprovalError, match="bob previewed decision"):
        service.approve(graph, shown.preview_id, author)
    with pytest.raises(service.ApprovalError, match="carol applied decision"):
        service.approve(graph, shown.preview_id, applier)
    assert service.approve(graph, shown.preview_id, Actor("dave", "admin")).activated
