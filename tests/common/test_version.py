"""What a detector's kept findings are keyed by: the code it runs (``code_closure``, ``code_digest``)."""

from __future__ import annotations

from ringscope.common.version import code_closure, code_digest


def test_the_closure_follows_every_import_statement_and_only_those(tmp_path):
    root = tmp_path / "ringscope"
    (root / "spark").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "spark" / "__init__.py").write_text("")
    (root / "spark" / "mine.py").write_text(
        "import os\nfrom ringscope.spark import helper\n\ndef later():\n    import ringscope.util\n")
    (root / "spark" / "helper.py").write_text("from ringscope.spark.deep import VALUE\n")
    (root / "spark" / "deep.py").write_text("VALUE = 1\n")
    (root / "spark" / "other.py").write_text("VALUE = 2\n")
    (root / "util.py").write_text("")
    closure = code_closure("ringscope.spark.mine", root)
    assert sorted(closure) == ["ringscope", "ringscope.spark", "ringscope.spark.deep", "ringscope.spark.helper",
                               "ringscope.spark.mine", "ringscope.util"]


def test_a_detectors_digest_covers_what_it_imports_and_not_the_other_detectors():
    lockstep = code_closure("ringscope.spark.lockstep")
    assert "ringscope.detection.lockstep" in lockstep and "ringscope.spark.source" in lockstep
    assert "ringscope.spark.comment_templates" not in lockstep and "ringscope.spark.engine" not in lockstep
    assert "ringscope.spark.comment_templates" in code_closure("ringscope.spark.copied_notes")
    assert code_digest("ringscope.spark.lockstep") != code_digest("ringscope.spark.copied_notes")
    assert code_digest("ringscope.spark.lockstep") == code_digest("ringscope.spark.lockstep")


def test_the_libraries_in_a_key_are_the_package_s_own_dependencies():
    """A library only a benchmark installs (the `bench` extra's scikit-learn) must not be in a detector's key:
    installing it would change every key and throw away every kept finding of a long run."""
    import re
    import tomllib
    from pathlib import Path

    from ringscope.common.version import RESULT_LIBRARIES

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["spark"]]
    names = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() for d in declared}
    assert set(RESULT_LIBRARIES) <= names, set(RESULT_LIBRARIES) - names
