"""The importer's command line (``graph/server/local.py``), without running it."""

from pathlib import Path

from ringscope.graph.server.local import _multiline_options


def test_the_importer_reads_only_the_named_files_as_multiline_by_their_escaped_names():
    assert _multiline_options(()) == ["--multiline-fields=false"]
    # The folder is a plain path to the importer, the name a pattern (a dash or dot in the folder must stay).
    assert _multiline_options((Path("/h/rs-1.0/import/nodes-Account.csv"), Path("/h/rs-1.0/import/rels-X.csv"))) == [
        "--multiline-fields-format=v2",
        r"--multiline-fields=/h/rs-1.0/import/nodes\-Account\.csv,/h/rs-1.0/import/rels\-X\.csv"]
    assert _multiline_options((Path("/h/a,b/import/nodes-Account.csv"),)) == ["--multiline-fields=true"]
