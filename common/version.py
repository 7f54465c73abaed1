"""The code version recorded with detection runs and evidence packs."""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path


@cache
def code_version() -> str:
    """``<package version>+<git commit>`` in a checkout, the package version when installed."""
    try:
        version = metadata.version("ringscope")
    except metadata.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return f"{version}+{commit}" if commit else version


# Libraries whose versions can change what a detector finds (numerical routines, sorting, Arrow conversions,
# the compiled peel). Only what the package itself depends on: a library a benchmark installs beside it (the
# `bench` extra brought scikit-learn, once named here) changed every key and threw away every kept finding.
RESULT_LIBRARIES = ("numpy", "pandas", "pyarrow", "scipy", "pyspark", "networkx", "numba")


def code_closure(module: str, root: Path | None = None) -> dict[str, Path]:
    """The ringscope modules ``module`` imports, directly or not, with itself and their parent packages: every
    ``import`` statement of those files (inside functions too), read with ``ast``, never run. ``root``: the
    package's folder (this one's by default). O(files read)."""
    import ast

    root = root or Path(__file__).resolve().parent.parent  # the ringscope package

    def path_of(name: str) -> Path | None:
        parts = name.split(".")
        if parts[0] != "ringscope":
            return None
        base = root.joinpath(*parts[1:])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        path = path_of(name)
        if path is None or name in seen:
            continue
        seen[name] = path
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo.append(node.module)
                todo += [f"{node.module}.{alias.name}" for alias in node.names]  # the submodules it names
        todo += [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]  # parents' __init__
    return seen


@cache
def code_digest(module: str) -> str:
    """A digest of the code ``module`` (a ``ringscope.…`` module) runs: the source of every file of its
    ``code_closure``, with the package's version and the versions of ``RESULT_LIBRARIES``. A change to any of
    those files changes it; a change elsewhere (another detector, the app, the README) does not.
    O(size of the files imported)."""
    import hashlib

    digest = hashlib.sha256()
    for name, path in sorted(code_closure(module).items()):
        digest.update(f"{name}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    for library in ("ringscope", *RESULT_LIBRARIES):
        try:
            digest.update(f"{library}={metadata.version(library)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=none\0".encode())
    return digest.hexdigest()
