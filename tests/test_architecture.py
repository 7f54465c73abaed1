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


def test_every_package_folder_is_installed():
    """A folder with an __init__.py missing from pyproject's package list would be left out of the wheel."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"ringscope." + ".".join(p.parent.relative_to(REPO).parts)
             for folder in PACKAGE_FOLDERS for p in (REPO / folder).rglob("__init__.py")}
    assert found - listed == set()
