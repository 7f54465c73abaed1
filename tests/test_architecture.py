"""The house rules as checks: layers (import-linter contracts in pyproject.toml), one package name,
declared dependencies that are the imported ones (deptry)."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The folders installed as `ringscope.<folder>` (pyproject's package list): never imported as top-level names.
PACKAGE_FOLDERS = sorted({p.split(".")[1] for p in tomllib.loads((REPO / "pyproject.toml").read_text())
                          ["tool"]["setuptools"]["packages"] if "." in p})


def _python_files():
    for path in REPO.rglob("*.py"):
        parts = path.relative_to(REPO).parts
        if parts[0].startswith(".") or parts[0] in ("build", "test-output"):
            continue
        yield path


def test_the_layer_contracts_hold():
    done = subprocess.run([str(BIN / "lint-imports"), str(REPO / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_everything_is_imported_as_ringscope():
    """`import graph` would work in a checkout (the root is on sys.path in tests) and fail installed."""
    assert {"graph", "queries", "ingest", "commands", "webapp"} <= set(PACKAGE_FOLDERS)
    bad = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            bad += [f"{path.relative_to(REPO)}:{node.lineno}: {n}" for n in names
                    if n.split(".")[0] in PACKAGE_FOLDERS]
    assert bad == []


def test_declared_dependencies_are_the_imported_ones():
    done = subprocess.run([str(BIN / "deptry"), "."], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_no_undefined_names_or_unused_imports():
    done = subprocess.run([str(BIN / "ruff"), "check", "--output-format", "concise", "."], capture_output=True,
                          text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


NOT_INSTALLED = {"tests", "benchmarks", "scripts"}


def test_every_package_folder_is_installed():
    """A folder with an __init__.py missing from pyproject's package list would be left out of the wheel: every
    top-level folder of the checkout that is a package (a new one too), and every package inside them."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {p.parent.name for p in REPO.glob("*/__init__.py")} - NOT_INSTALLED
    found = {"ringscope." + ".".join(p.parent.relative_to(REPO).parts)
             for folder in folders for p in (REPO / folder).rglob("__init__.py")}
    assert found - listed == set()


# The modules of these packages that do I/O; every other module in them is pure (plain data in, plain
# data out) and must not reach the database, even through another module.
IO_MODULES = {
    "ringscope.detection": {"reader", "run", "history", "lock"},
    "ringscope.sanctions": {"store", "service"},
    "ringscope.evidence": {"collect", "export"},
    "ringscope.watch": {"store", "service"},
    "ringscope.sweep": {"store", "service"},
    "ringscope.health": {"store", "service", "effect_store", "enforce"},
    "ringscope.reports": {"store", "service"},
    "ringscope.appeals": {"store", "service"},
    "ringscope.feed": {"service"},
}
DATABASE = ("ringscope.graph.database", "ringscope.graph.server", "ringscope.graph.admin", "ringscope.queries",
            "ringscope.audit.log", "neo4j")


def test_detectors_and_the_sanction_and_evidence_logic_never_reach_the_database():
    import grimp

    graph = grimp.build_graph(*IO_MODULES, "ringscope.graph", "ringscope.queries", "ringscope.audit",
                              "ringscope.common", "ringscope.policy", "ringscope.auth",
                              include_external_packages=True, cache_dir=None)
    database = {m for m in graph.modules if m.startswith(DATABASE)}
    problems = []
    for package, io in IO_MODULES.items():
        io_modules = {f"{package}.{name}" for name in io}
        for module in sorted(graph.find_children(package)):
            if module in io_modules:
                continue
            reached = graph.find_upstream_modules(module) & (database | io_modules)
            if reached:
                chain = graph.find_shortest_chain(module, sorted(reached)[0])
                problems.append(" -> ".join(chain))
    assert problems == []
