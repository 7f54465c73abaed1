"""Who holds the detection lock, and when its process is known to be gone (no database: the lock's use is in
test_run.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

from ringscope.detection.lock import Holder, stat_start


def test_this_process_holds_a_live_lock():
    me = Holder.this_process("run-me")
    assert me.pid == os.getpid() and me.pid_started is not None and me.host
    assert not me.is_gone()


def test_a_finished_process_is_gone():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert replace(Holder.this_process("run-dead"), pid=child.pid).is_gone()


def test_a_reused_process_id_is_gone():
    # The same pid, started at another time: the holder ended and the id went to a later process.
    me = Holder.this_process("run-old")
    assert replace(me, pid_started=me.pid_started - 1).is_gone()


def test_a_holder_elsewhere_or_unknown_may_still_run():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead_here = replace(Holder.this_process("run-x"), pid=child.pid)
    assert not replace(dead_here, host="another-machine").is_gone()  # cannot be looked at from here
    assert not Holder("run-before-holders-were-recorded").is_gone()


def test_the_start_time_is_read_past_a_command_name_with_spaces_and_parentheses():
    fields = " ".join(str(n) for n in range(3, 22))  # fields 3..21
    assert stat_start(f"4242 (a (b) c) {fields} 987654 23 24") == 987654
    assert stat_start("4242 (truncated") is None
