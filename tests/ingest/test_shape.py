"""The importer's input, numbered (``ids="actual"``, the bulk path) or keyed (``ids="string"``), is one graph.

No database: the two sets of CSV files are read back and the numbers translated to (label, key), so a
relationship that points at the wrong node, a number given twice, or a key lost from the node's
properties fails here in seconds (``test_bulk.py`` then proves the store equal to the transactional
load's, against Neo4j).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from ringscope.ingest import bulk, shape
from ringscope.ingest.load import IngestOptions, discover
from tests.ingest.datasets import tricky_dataset, write_platform


def staged(directory: Path, work: Path) -> list[shape.StagedFile]:
    files, _ = discover(directory)
    (work / "validated").mkdir(parents=True)
    options = IngestOptions(progress=False)
    return [s for _, s in bulk.validate_all(files, options, work / "rej", work / "validated") if s is not None]


def rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def keyed_graph(files) -> tuple[Counter, Counter]:
    """Nodes as (label, properties) and relationships as (type, (label, key), (label, key), properties)."""
    nodes, rels = Counter(), Counter()
    for path in files.nodes:
        header, body = rows(path)
        for row in body:
            label = row[header.index(":LABEL")]
            props = tuple(sorted((h.split(":ID(")[0] + ":string" if ":ID(" in h else h, v)
                                 for h, v in zip(header, row) if h != ":LABEL"))
            nodes[(label, props)] += 1
    for path in files.relationships:
        header, body = rows(path)
        start = next(h for h in header if h.startswith(":START_ID"))
        end = next(h for h in header if h.startswith(":END_ID"))
        for row in body:
            value = dict(zip(header, row))
            rels[(value[":TYPE"], (start[len(":START_ID("):-1], value[start]), (end[len(":END_ID("):-1], value[end]),
                  tuple(sorted((h, v) for h, v in value.items() if not h.startswith(":"))))] += 1
    return nodes, rels


def numbered_graph(files) -> tuple[Counter, Counter]:
    """The same, with every ``:ID`` number translated back to its node's (label, key)."""
    nodes, rels, node_of = Counter(), Counter(), {}
    for path in files.nodes:
        header, body = rows(path)
        key = next(h for h in header if h.endswith(":string") and h != ":LABEL")
        for row in body:
            value = dict(zip(header, row))
            assert value[":ID"] not in node_of, f"node number {value[':ID']} given twice"
            node_of[value[":ID"]] = (value[":LABEL"], value[key])
            props = tuple(sorted((h, v) for h, v in value.items() if h not in (":ID", ":LABEL")))
            nodes[(value[":LABEL"], props)] += 1
    for path in files.relationships:
        header, body = rows(path)
        for row in body:
            value = dict(zip(header, row))
            rels[(value[":TYPE"], node_of[value[":START_ID"]], node_of[value[":END_ID"]],
                  tuple(sorted((h, v) for h, v in value.items() if not h.startswith(":"))))] += 1
    return nodes, rels


def both(directory: Path, work: Path):
    stages = staged(directory, work)
    numbered = shape.build_import_files(stages, work / "actual", memory="1g", ids="actual")
    keyed = shape.build_import_files(stages, work / "string", memory="1g", ids="string")
    assert (numbered.files.id_type, keyed.files.id_type) == ("actual", "string")
    assert numbered.nodes == keyed.nodes and numbered.relationships == keyed.relationships
    assert numbered.stubs_by_file == keyed.stubs_by_file
    return numbered_graph(numbered.files), keyed_graph(keyed.files)


def test_numbered_and_keyed_files_hold_the_same_graph(tmp_path):
    (nodes_a, rels_a), (nodes_b, rels_b) = both(tricky_dataset(tmp_path / "ds"), tmp_path / "work")
    assert nodes_a == nodes_b
    assert rels_a == rels_b
    # The dataset's stubs, identifier nodes and relationships all made it (not two empty graphs).
    labels = {label for label, _ in nodes_a}
    assert {"Account", "Comment", "IP", "Phone", "PhoneSegment", "Sanction", "GroundTruth"} <= labels
    assert {t for t, *_ in rels_a} >= {"REPLIES_TO", "TARGETS", "USED_DEVICE", "FOLLOWS", "IN_SEGMENT"}


def test_the_small_platform_numbered_matches_keyed(tmp_path):
    (nodes_a, rels_a), (nodes_b, rels_b) = both(write_platform(tmp_path / "ds"), tmp_path / "work")
    assert (nodes_a, rels_a) == (nodes_b, rels_b)
    assert sum(rels_a.values()) > 0


def test_only_the_files_with_a_line_break_in_a_value_are_read_as_multiline(tmp_path):
    """The importer reads multiline files serially; a file is named only when a value holds a line break."""
    plain = tmp_path / "plain.csv"
    plain.write_text('id,name:string\n1,"a, b"\n2,""""\n')
    broken = tmp_path / "broken.csv"
    broken.write_text('id,name:string\n1,"a\nb"\n2,x\n')
    carriage = tmp_path / "carriage.csv"
    carriage.write_text('id,name:string\n1,"a\rb"\n', newline="")
    assert not shape.holds_line_breaks(plain, 2)
    assert shape.holds_line_breaks(broken, 2)
    assert shape.holds_line_breaks(carriage, 1)
    work = tmp_path / "work"
    build = shape.build_import_files(staged(tricky_dataset(tmp_path / "data"), work), work, "1g")
    # the one bio and the one note body with a line break
    assert [p.name for p in build.files.multiline] == ["nodes-Account.csv", "nodes-Note.csv"]
