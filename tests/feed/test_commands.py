"""`ringscope sanction feed` end to end: JSON lines with cursors, resuming, the webhook, one-line mistakes."""

from __future__ import annotations

import json

import pytest

import ringscope.commands.cli as cli
from ringscope.watch import service as watch
from tests.feed.conftest import SECRET
from tests.sanctions.conftest import ALICE, accounts, day
from tests.watch.test_service import WATCH

pytestmark = pytest.mark.neo4j


def run(capsys, *args):
    code = cli.main(["sanction", "feed", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def room(graph, use_test_db, monkeypatch, tmp_path):
    """Two stays (far in the future, so nothing the command expires first touches them); nobody named reads."""
    monkeypatch.delenv("RINGSCOPE_ACTOR", raising=False)
    monkeypatch.setenv("RINGSCOPE_USERS", str(tmp_path / "no-users.yaml"))
    accounts(graph, "c1", "c2")
    watch.add(graph, ALICE, "c1", "call 13812345678", WATCH, now=day(400))
    watch.add(graph, ALICE, "c2", "second look", WATCH, now=day(401))
    return graph


def test_json_lines_carry_the_cursor_to_resume_from(room, capsys):
    code, out, _ = run(capsys, "--format", "jsonl")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(e["event"], e["target_id"], e["silent"]) for e in events] == [
        ("throttle.placed", "c1", True), ("throttle.placed", "c2", True)]
    assert events[0]["reason"] == "call 138********"  # nobody known reads: masked
    code, out, _ = run(capsys, "--since", str(events[0]["cursor"]))  # jsonl is the default
    assert code == 0 and [json.loads(line)["target_id"] for line in out.splitlines()] == ["c2"]
    code, out, _ = run(capsys, "--since", str(events[1]["cursor"]))
    assert code == 0 and out == ""
    code, out, _ = run(capsys, "--format", "text", "--limit", "1")
    assert code == 0 and f"1 events; resume with --since {events[0]['cursor']} (more follow)" in out
    code, out, _ = run(capsys, "--format", "json")
    assert code == 0 and json.loads(out)["cursor"] == events[1]["cursor"]


def test_the_webhook_from_the_command_line(room, capsys, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORM_HOOK_SECRET", SECRET)
    state = tmp_path / "cursor"
    receiver.answer(502)
    code, out, err = run(capsys, "--webhook", receiver.url, "--secret-env", "PLATFORM_HOOK_SECRET",
                         "--state", str(state), "--backoff", "0")
    assert code == 0, err
    report = json.loads(out)  # the default format is for machines: one JSON line saying what was delivered
    assert (report["events"], report["batches"], report["attempts"], report["since"]) == (2, 1, 2, 0)
    assert [len(b["events"]) for b in receiver.taken] == [2] and state.read_text() == f"{report['cursor']}\n"
    code, out, err = run(capsys, "--webhook", receiver.url, "--secret-env", "PLATFORM_HOOK_SECRET",
                         "--state", str(state), "--format", "text")
    assert code == 0 and out.startswith("delivered 0 events in 0 batches (0 requests) to http://127.0.0.1:")
    assert f"cursor {report['cursor']} -> {report['cursor']} saved in {state}" in out and "t0ps3cret" not in out


@pytest.mark.parametrize("args,code,message", [
    (["--since", "abc"], 2, "ringscope: error: --since must be a cursor: a whole number from 0"),
    (["--since", "-1"], 2, "ringscope: error: --since must be a cursor"),
    (["--since", "99999"], 2, "ringscope: error: --since: 99999 is not a cursor of this audit log"),
    (["--limit", "0"], 2, "ringscope: error: --limit must be a whole number from 1 to 10000"),
    (["--state", "x"], 2, "ringscope: error: --state goes with --webhook"),
    (["--webhook", "http://127.0.0.1:9/hook"], 2, "ringscope: error: --webhook needs --state FILE"),
    (["--webhook", "ftp://example.org/hook", "--state", "{tmp}/s"], 2,
     "ringscope: error: --webhook must be an http:// or https:// URL"),
    (["--webhook", "http://127.0.0.1:9/hook", "--state", "{tmp}/s", "--secret-env", "NO_SUCH_FEED_SECRET"], 2,
     "ringscope: error: NO_SUCH_FEED_SECRET is not set"),
    (["--webhook", "{closed}", "--state", "{tmp}/s", "--attempts", "2", "--backoff", "0"], 1,
     "ringscope: error: the webhook --webhook {closed} did not take the batch 0-"),
])
def test_mistakes_are_one_line_naming_the_setting(room, capsys, tmp_path, monkeypatch, closed_url, args, code,
                                                  message):
    monkeypatch.setenv("RINGSCOPE_FEED_SECRET", SECRET)
    monkeypatch.delenv("NO_SUCH_FEED_SECRET", raising=False)
    args = [a.format(tmp=tmp_path, closed=closed_url) for a in args]
    got, out, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert got == code and len(lines) == 1 and lines[0].startswith(message.format(closed=closed_url)), err
    if "--state" in args and (tmp_path / "s").exists():
        assert (tmp_path / "s").read_text() == "0\n"  # never moved past what was not taken
