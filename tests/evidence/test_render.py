"""Rendering without the database: HTML escaping, the PDF without a CJK font, graph views."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ringscope.evidence.fonts import Fonts
from ringscope.evidence.graphs import GraphEdge, GraphNode, make_graph, select_view
from ringscope.evidence.report import Heading, Paragraph, Table, render_html, render_pdf

BLOCKS = [Heading("报告 <script>alert(1)</script>", 1), Paragraph("加V信 & <b>私我</b>", "alert"),
          Table(("a", "b"), (("<i>x</i>", "评论"),), "1 more not shown")]


def test_html_escapes_everything():
    page = render_html("t", BLOCKS).decode("utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;私我&lt;/b&gt;" in page and "&lt;i&gt;x&lt;/i&gt;" in page


def test_the_pdf_degrades_without_a_cjk_font(tmp_path):
    pdf = render_pdf("t", BLOCKS, Fonts(None, 0, None, None))
    assert pdf.startswith(b"%PDF")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "no CJK font was found" in text and "?V?" in text


def test_views_keep_accounts_and_what_ties_them_within_the_limit():
    accounts = [GraphNode(f"Account:a{i}", "Account", f"a{i}", {}) for i in range(50)]
    hub = GraphNode("Device:d1", "Device", "d1", {})
    loners = [GraphNode(f"Note:n{i}", "Note", f"n{i}", {}) for i in range(100)]
    edges = [GraphEdge(a.id, hub.id, "USED_DEVICE", {}) for a in accounts]
    edges += [GraphEdge(accounts[i % 50].id, n.id, "POSTED", {}) for i, n in enumerate(loners)]
    graph = make_graph(accounts + [hub] + loners, edges, [a.id for a in accounts])
    view = select_view(graph, 40)
    labels = [n.label for n in view.nodes]
    assert view.shown == 40 and view.total == 151 and "Device" in labels and labels.count("Account") == 20
    assert "40 of 151 nodes shown" in view.caption()
    assert set(view.positions) == {n.id for n in view.nodes}
    assert select_view(graph, 40).positions == view.positions  # seeded
