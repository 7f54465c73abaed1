"""The tool's own Neo4j: real Neo4j Community embedded in a JVM that we start and stop.

Neither Docker nor Neo4j's download site is reachable on our machines, but
Maven Central is: ``pom.xml`` beside this file pins the Neo4j version, Maven
copies its jars into the data home once, and ``Launcher.java`` (run as a
single-file Java program, no build step) starts a DatabaseManagementService
with Bolt on 127.0.0.1.

Layout under ``RINGSCOPE_HOME`` (default ``~/.local/share/ringscope``)::

    lib-<version>/     the jars (filled by Maven once)
    db/                Neo4j's data and logs
    password           the generated password of user neo4j (mode 0600)
    server.pid         the JVM's process id while it runs
    launcher.log       the JVM's stdout and stderr
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ringscope.common.errors import ServerError
from ringscope.graph.settings import LocalServer

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LAUNCHER = HERE / "Launcher.java"
MIN_JAVA = 17
INSTALL_JAVA = "apt-get install openjdk-17-jre-headless (or set RINGSCOPE_JAVA to a java 17+ binary)"
INSTALL_MAVEN = "apt-get install maven"


def neo4j_version() -> str:
    """The pinned Neo4j version, read from the pom so there is one source of truth."""
    match = re.search(r"<neo4j.version>([^<]+)</neo4j.version>", POM.read_text())
    if not match:
        raise ServerError(f"{POM}: no <neo4j.version> property")
    return match.group(1)


@dataclass(frozen=True)
class ServerState:
    pid: int | None
    running: bool  # the JVM process is alive
    port_open: bool  # something answers on the Bolt port


def find_java(server: LocalServer) -> str:
    """The java binary to use, checked to be version 17 or newer."""
    candidates = []
    if server.java:
        candidates.append(server.java)
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    if shutil.which("java"):
        candidates.append(shutil.which("java"))
    for java in candidates:
        major = _java_major(java)
        if major is not None and major >= MIN_JAVA:
            return java
    found = ", ".join(f"{c} ({_java_major(c) or 'unusable'})" for c in candidates) or "none"
    raise ServerError(f"Java {MIN_JAVA} or newer is needed to run Neo4j; found: {found}. Install: {INSTALL_JAVA}")


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def lib_dir(server: LocalServer) -> Path:
    return server.home / f"lib-{neo4j_version()}"


def ensure_jars(server: LocalServer, log=print) -> Path:
    """Copy Neo4j's jars from Maven Central into the data home, once."""
    lib = lib_dir(server)
    marker = lib / ".complete"
    if marker.exists():
        return lib
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServerError(f"Maven is needed once to fetch Neo4j {neo4j_version()} from Maven Central. Install: {INSTALL_MAVEN}")
    partial = lib.with_name(lib.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log(f"fetching Neo4j {neo4j_version()} jars from Maven Central into {lib} (once) ...")
    # Maven works in a copy of the pom under the home: the installed package may be read-only.
    work = server.home / "maven"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(POM, work / "pom.xml")
    cmd = [mvn, "-B", "-q", "-f", str(work / "pom.xml"), "dependency:copy-dependencies",
           f"-DoutputDirectory={partial}", f"-Dmdep.outputDirectory={partial}"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
    if done.returncode != 0 or not any(partial.glob("neo4j-bolt-*.jar")):
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ServerError(f"Maven could not fetch the Neo4j jars (exit {done.returncode}):\n{tail}")
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)
    marker.write_text(neo4j_version())
    shutil.rmtree(work, ignore_errors=True)
    return lib


def ensure_password(server: LocalServer) -> str:
    """The local server's password: generated once, stored readable only by the user."""
    existing = server.password()
    if existing:
        return existing
    server.home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    fd = os.open(server.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password


def _pid_file(server: LocalServer) -> Path:
    return server.home / "server.pid"


def _log_file(server: LocalServer) -> Path:
    return server.home / "launcher.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) is not alive. But the leader of a
    # JVM whose main thread has returned shows "Z" too while its other threads
    # still shut the database down and hold the port: count the threads.
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if ":" in line)
        zombie = fields.get("State", "").strip().startswith("Z")
        return not zombie or int(fields.get("Threads", "1").strip() or 1) > 1
    except (OSError, ValueError):
        return True


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def state(server: LocalServer) -> ServerState:
    pid = None
    try:
        pid = int(_pid_file(server).read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    running = pid is not None and _alive(pid)
    return ServerState(pid=pid if running else None, running=running, port_open=port_open(server.bolt_port))


def log_tail(server: LocalServer, lines: int = 30) -> str:
    parts = []
    for path in (_log_file(server), server.home / "db" / "logs" / "debug.log"):
        if path.exists():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path} (last {len(text)} lines)\n" + "\n".join(text))
    return "\n".join(parts) or "(no log written)"


def exit_cause(server: LocalServer) -> str | None:
    """Why the local server is gone, when its JVM is not running and its launcher log's last lines say it
    exited for lack of memory (it runs with -XX:+ExitOnOutOfMemoryError): the hint a "cannot reach Neo4j"
    gives then, naming the setting to raise. None otherwise. O(the log's last lines)."""
    path = _log_file(server)
    if state(server).running or not path.exists():
        return None
    for line in reversed(path.read_text(errors="replace").splitlines()[-20:]):
        if "OutOfMemoryError" in line:
            what = line.split("due to", 1)[-1].strip()
            return (f"the local Neo4j exited: {what} ({path}); give it a larger heap with RINGSCOPE_NEO4J_HEAP "
                    f"(now {server.heap}) and start it again with `ringscope db start`")
        if "Neo4j ready" in line:  # started again since
            return None
    return None


def make_private(root: Path) -> None:
    """Folders 0700 and files 0600 under ``root`` (and ``root``'s parent, the tool's home), so the store,
    its logs and the password are readable by the user alone (a store made before this was 0644/0755)."""
    os.chmod(root.parent, 0o700)
    for folder, dirs, files in os.walk(root):
        os.chmod(folder, 0o700)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o600)


def start(server: LocalServer, timeout_s: float = 180.0, log=print) -> bool:
    """Start the local Neo4j and wait until Bolt answers. False if it already ran."""
    current = state(server)
    if current.running:
        if not _wait_for_bolt(server, current.pid, timeout_s):
            raise ServerError(f"Neo4j (pid {current.pid}) runs but Bolt on port {server.bolt_port} does not answer.\n{log_tail(server)}")
        return False
    if current.port_open:
        raise ServerError(
            f"port {server.bolt_port} is already in use by another process; "
            "stop it or choose another port with RINGSCOPE_BOLT_PORT"
        )
    java = find_java(server)
    lib = ensure_jars(server, log=log)
    password = ensure_password(server)
    (server.home / "db").mkdir(parents=True, exist_ok=True)
    make_private(server.home / "db")
    env = dict(os.environ, RINGSCOPE_NEO4J_PASSWORD=password)
    cmd = [
        java, f"-Xmx{server.heap}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
        "-Dfile.encoding=UTF-8", "-cp", f"{lib}/*", str(LAUNCHER),
        str(server.home / "db"), str(server.bolt_port), str(server.pagecache_bytes),
    ]
    with open(_log_file(server), "ab") as out:
        # umask 077: every store file, transaction log and log Neo4j creates is the user's alone.
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=server.home, start_new_session=True, umask=0o077)
    _pid_file(server).write_text(str(proc.pid))
    if not _wait_for_bolt(server, proc.pid, timeout_s):
        exited = proc.poll()
        if exited is None:
            _terminate(proc.pid, 20)
        _pid_file(server).unlink(missing_ok=True)
        why = f"exited with code {exited}" if exited is not None else f"did not open Bolt within {timeout_s:.0f} s"
        raise ServerError(f"Neo4j {why}.\n{log_tail(server)}")
    return True


def _wait_for_bolt(server: LocalServer, pid: int, timeout_s: float) -> bool:
    """Wait until a signed-in Bolt session works (the password is set after the port opens)."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return False
        if port_open(server.bolt_port):
            try:
                with GraphDatabase.driver(server.uri, auth=("neo4j", server.password() or "")) as driver:
                    driver.verify_connectivity()
                return True
            except (AuthError, ServiceUnavailable, Neo4jError, OSError):
                pass
        time.sleep(0.5)
    return False


def _terminate(pid: int, timeout_s: float) -> bool:
    """SIGTERM (Neo4j shuts down cleanly in its shutdown hook), SIGKILL if it hangs."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False


def stop(server: LocalServer, timeout_s: float = 90.0) -> bool:
    """Stop the local Neo4j cleanly. False if it was not running."""
    current = state(server)
    if not current.running:
        _pid_file(server).unlink(missing_ok=True)
        return False
    clean = _terminate(current.pid, timeout_s)
    # the port closes as the process goes; wait for it so an immediate start does not see it taken
    deadline = time.monotonic() + 15
    while port_open(server.bolt_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    _pid_file(server).unlink(missing_ok=True)
    if not clean:
        raise ServerError(f"Neo4j (pid {current.pid}) did not stop within {timeout_s:.0f} s and was killed")
    return True


# --- the store itself: emptied or built offline while the server is down -------------------------------

DATABASE = "neo4j"  # Community serves one user database


def store_dirs(server: LocalServer) -> tuple[Path, Path]:
    """The user database's store and transaction logs (the system database, with the password, stays)."""
    data = server.home / "db" / "data"
    return data / "databases" / DATABASE, data / "transactions" / DATABASE


def snapshot_dir(server: LocalServer) -> Path:
    """Where a bulk load leaves its columnar copy of the platform data (``graph/snapshot.py``); it
    describes one store, so it goes whenever the store does."""
    return server.home / "snapshot"


def wipe_store(server: LocalServer, timeout_s: float = 180.0, log=print) -> None:
    """Empty the user database in seconds: stop Neo4j, delete its store and logs, start it again.

    Community refuses DROP/CREATE DATABASE, so deleting the folders while the JVM is down is the
    way; Neo4j creates an empty store on start. The caller re-runs the schema step.
    """
    stop(server)
    for folder in (*store_dirs(server), snapshot_dir(server)):
        shutil.rmtree(folder, ignore_errors=True)
    start(server, timeout_s=timeout_s, log=log)  # running again either way: the caller connects next


@dataclass(frozen=True)
class ImportFiles:
    """Input of Neo4j's offline importer: header+data CSV files per node label and relationship type."""

    nodes: tuple[Path, ...]
    relationships: tuple[Path, ...]
    report: Path  # where the importer writes what it could not import
    # "actual": the files carry the store's own node ids (``:ID``, ``:START_ID``), so the importer keeps no
    # id map; "string": ids in named spaces (``account_id:ID(Account)``) that the importer maps.
    id_type: str = "string"
    # Files with a line break inside a value: the importer reads only these as multiline (slower).
    multiline: tuple[Path, ...] = ()


def _multiline_options(paths: tuple[Path, ...]) -> list[str]:
    """The importer's options to read only ``paths`` as multiline (the others are read in parallel). In the
    list, a file's name is a pattern (so it is escaped) and its folder a plain path; a comma separates
    entries, so a folder with a comma in it has every file read as multiline instead."""
    if not paths:
        return ["--multiline-fields=false"]
    if any("," in str(p) for p in paths):
        return ["--multiline-fields=true"]
    return ["--multiline-fields-format=v2",
            "--multiline-fields=" + ",".join(str(p.parent / re.escape(p.name)) for p in paths)]


def import_store(server: LocalServer, files: ImportFiles, *, off_heap: str, threads: int | None = None,
                 timeout_s: float = 180.0, log=print) -> str:
    """Build the user database from ``files`` with Neo4j's own importer (``neo4j-admin database import
    full``, in the jars we already have: ``org.neo4j.cli.AdminTool``), then start the server.

    The server is stopped first (the importer needs the store to itself) and the existing store is
    overwritten. The importer's summary is returned; a failure raises ``ServerError`` with its output.
    """
    java = find_java(server)
    lib = ensure_jars(server, log=log)
    ensure_password(server)
    stop(server)
    shutil.rmtree(snapshot_dir(server), ignore_errors=True)  # it described the store replaced here
    (server.home / "db").mkdir(parents=True, exist_ok=True)
    cmd = [java, f"-Xmx{server.heap}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Dfile.encoding=UTF-8",
           "-cp", f"{lib}/*", "org.neo4j.cli.AdminTool", "database", "import", "full", DATABASE,
           "--overwrite-destination=true", f"--max-off-heap-memory={off_heap}", "--bad-tolerance=0", "--verbose",
           "--skip-bad-relationships=false", "--skip-duplicate-nodes=false",
           f"--id-type={files.id_type}", f"--report-file={files.report}"]
    cmd += _multiline_options(files.multiline)
    if threads:
        cmd.append(f"--threads={threads}")
    cmd += [f"--nodes={p}" for p in files.nodes]
    cmd += [f"--relationships={p}" for p in files.relationships]
    env = dict(os.environ, NEO4J_HOME=str(server.home / "db"))
    env.pop("NEO4J_CONF", None)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=server.home, umask=0o077)
    output = (done.stdout + "\n" + done.stderr).strip()
    if done.returncode != 0 or "IMPORT DONE" not in output:
        causes = [line.strip() for line in output.splitlines() if line.lstrip().startswith("Caused by:")]
        why = causes[-1].split(": ", 2)[-1] if causes else "\n".join(output.splitlines()[-15:])
        raise ServerError(f"Neo4j's importer failed (exit {done.returncode}): {why}\n(the full output: run "
                          f"with --keep-staging and read {files.report.parent})")
    start(server, timeout_s=timeout_s, log=log)
    return output[output.index("IMPORT DONE"):]
