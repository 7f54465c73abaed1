"""``webapp.pulls``: background pulls read from their output, joined, limited (no database, no Spark: the
child here is a small Python program standing in for the command; the real command runs in
``tests/webapp/test_lake.py``)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import pytest

from ringscope.webapp.pulls import PullRefused, PullRequest, Pulls


@dataclass(frozen=True)
class ScriptedRequest(PullRequest):
    script: str = ""

    def argv(self) -> list[str]:
        return [sys.executable, "-c", self.script]


def wait(pull, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while pull.status().state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    return pull.status()


def request(entity_id: str, script: str, hops: int = 1) -> ScriptedRequest:
    return ScriptedRequest("account", entity_id, hops, "/lake", "ivy", "investigator", script=script)


def test_the_command_line_is_the_ringscope_ingest_of_the_node():
    argv = PullRequest("ip", "203.0.113.9", 2, "/data/lake", "ivy", "investigator").argv()
    assert argv[1:] == ["-m", "ringscope.commands", "ingest", "--subgraph-of", "ip:203.0.113.9", "--source",
                        "/data/lake", "--hops", "2", "--mode", "incremental", "--no-progress"]


def test_a_pull_that_finishes_gives_its_summary_and_one_that_fails_its_error(tmp_path):
    pulls = Pulls(tmp_path / "pulls", limit=2)
    ok = pulls.start(request("a1", "import sys; print('subgraph of account:a1: 1 seeds'); "
                                   "print('selecting the 1-hop neighbourhood', file=sys.stderr); print('total: 9 rows')"))
    status = wait(ok)
    assert status.state == "done" and status.summary == ("subgraph of account:a1: 1 seeds", "total: 9 rows")
    assert status.progress == "total: 9 rows" and status.error == ""
    assert (tmp_path / "pulls" / f"{ok.pull_id}.out").stat().st_mode & 0o077 == 0  # the user's alone
    bad = pulls.start(request("a2", "import sys; print('26/12/04 10:00:00 WARN NativeCodeLoader: x', "
                                    "file=sys.stderr); print('ringscope: error: --subgraph-of account:a2: not in "
                                    "the lake at /lake (no accounts row)', file=sys.stderr); sys.exit(1)"))
    status = wait(bad)
    assert status.state == "failed"
    assert status.error == "--subgraph-of account:a2: not in the lake at /lake (no accounts row)"
    crashed = wait(pulls.start(request("a3", "import sys; print('Killed', file=sys.stderr); sys.exit(137)")))
    assert crashed.state == "failed" and crashed.error == "the command stopped with exit code 137: Killed"


def test_the_same_pull_is_joined_and_at_most_the_limit_run_at_once(tmp_path):
    pulls = Pulls(tmp_path / "pulls", limit=1)
    slow = "import time; time.sleep(30)"
    first = pulls.start(request("a1", slow))
    try:
        assert pulls.start(request("a1", slow)) is first  # the same entity, hops and lake: joined
        assert pulls.running_for(request("a1", slow)) is first
        assert pulls.running_of("account", "a1", "/lake") is first  # what another session's page finds
        assert pulls.running_of("account", "a1", "/other-lake") is None
        with pytest.raises(PullRefused, match=r"1 pull\(s\) already running \(the first: account by ivy"):
            pulls.start(request("a2", slow))
        with pytest.raises(PullRefused):
            pulls.start(request("a1", slow, hops=2))  # other hops: another pull
        assert first.status().state == "running" and first.status().progress == "starting Spark"
    finally:
        first.process.kill()
        first.process.wait()
    assert pulls.running() == []
    done = wait(pulls.start(request("a2", "print('ok')")))
    assert done.state == "done"
