"""Time each detector on simulated platforms, straight from the files (no database).

    python -m benchmarks.detection_speed --accounts 10000 100000 1000000

For each size: ``simulate(dir, accounts=N, seed=7)`` (unless the files are
already there), read the files with pandas into frames with the columns
``detection/reader.py`` produces (timestamps as UTC datetimes, ``stub`` false
for every account, ``is_emulator`` joined onto account_devices, MERGEd
relationships deduplicated), then run every detector of
``detection.pipeline.DETECTORS`` with the default policy's parameters, those
marked ``after_flagging`` (``intermediary_flagged_accounts``) last, over the
accounts the others flag, as ``run_all`` does.

Each detector runs in a child process forked after the frames are read, so
it sees the same frames and its peak memory (``ru_maxrss``) is its own: the
frames plus what the detector allocates.  Wall and CPU seconds
(``time.process_time``, all threads) are both reported: on a shared machine
the wall time depends on the load, the CPU time much less.  A detector that
exceeds ``--timeout`` is stopped and reported as such.  Results are appended
to ``benchmarks/results/detection_speed.md``; this measures the algorithms
only, ``benchmarks/detection_simulated.py`` the whole path through Neo4j.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import select
import signal
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from benchmarks.common import load_average, machine, python_peak_mib
from ringscope.detection.config import load_detection_policy
from ringscope.detection.pipeline import DETECTORS, DetectorResult, account_risks, validate_params
from ringscope.detection.scoring import FlaggedAccounts
from ringscope.detection.frames import PlatformFrames

RESULTS = Path(__file__).resolve().parent / "results" / "detection_speed.md"


def _read(dataset: Path, stem: str, columns: list[str], times: tuple[str, ...] = ()) -> pd.DataFrame:
    matches = sorted(dataset.glob(f"{stem}.csv*"))
    if not matches:
        raise FileNotFoundError(f"{dataset}: no {stem}.csv or {stem}.csv.gz")
    df = pd.read_csv(matches[0])
    for column in times:
        df[column] = pd.to_datetime(df[column], utc=True)
    for column in columns:  # an optional column the files lack is missing everywhere, as the graph gives it
        if column not in df:
            df[column] = pd.Series([None] * len(df), index=df.index, dtype=object)
    return df[columns]


def read_frames(dataset: Path) -> PlatformFrames:
    """The simulated files as the frames ``detection.reader.read_platform`` returns from Neo4j."""
    accounts = _read(dataset, "accounts", ["account_id", "nickname", "registered_at", "registration_ip",
                                           "phone_segment", "phone_hash", "followers", "following",
                                           "default_profile", "is_professional", "bio", "status"],
                     ("registered_at",))
    accounts["stub"] = False
    devices = _read(dataset, "devices", ["device_id", "is_emulator"])
    account_devices = _read(dataset, "account_devices", ["account_id", "device_id", "first_seen", "last_seen"],
                            ("first_seen", "last_seen"))
    account_devices = account_devices.drop_duplicates(["account_id", "device_id"], keep="last")
    account_devices = account_devices.merge(devices, on="device_id", how="inner").reset_index(drop=True)
    account_ips = _read(dataset, "account_ips", ["account_id", "ip", "first_seen", "last_seen"],
                        ("first_seen", "last_seen")).drop_duplicates(["account_id", "ip"], keep="last")
    notes = _read(dataset, "notes", ["note_id", "account_id", "posted_at", "brand_id", "declared_commercial",
                                     "title", "text", "topics", "client", "posted_via"], ("posted_at",))
    # a note's topics are a list in the frames (the graph's list property); the CSV separates them with ';'
    notes["topics"] = [t.split(";") if isinstance(t, str) and t else None for t in notes["topics"]]
    comments = _read(dataset, "comments", ["comment_id", "account_id", "note_id", "created_at", "text",
                                           "reply_to", "device_id", "ip", "client", "posted_via"], ("created_at",))
    comments = comments[comments["created_at"].notna()].reset_index(drop=True)
    orders = _read(dataset, "orders", ["order_id", "brand_id", "intermediary_id", "account_id", "note_id",
                                       "placed_at", "declared"], ("placed_at",))
    intermediary_accounts = _read(dataset, "intermediary_accounts", ["intermediary_id", "account_id", "since"],
                                  ("since",)).drop_duplicates(["intermediary_id", "account_id"], keep="last")
    likes = _read(dataset, "likes", ["account_id", "note_id", "created_at"], ("created_at",))
    likes = likes.drop_duplicates(["account_id", "note_id"], keep="last")
    follows = _read(dataset, "follows", ["account_id", "target_account_id", "created_at"], ("created_at",))
    follows = follows.drop_duplicates(["account_id", "target_account_id"], keep="last")
    sanctions = _read(dataset, "sanctions", ["sanction_id", "target_type", "target_id", "action", "reason",
                                             "issued_at", "expires_at"], ("issued_at", "expires_at"))
    trending = (_read(dataset, "trending", ["captured_at", "rank", "topic", "score"], ("captured_at",))
                if sorted(dataset.glob("trending.csv*")) else pd.DataFrame())
    return PlatformFrames(
        trending=trending,
        accounts=accounts.reset_index(drop=True), account_devices=account_devices,
        account_ips=account_ips.reset_index(drop=True), notes=notes, comments=comments, orders=orders,
        intermediary_accounts=intermediary_accounts.reset_index(drop=True), likes=likes.reset_index(drop=True),
        follows=follows.reset_index(drop=True), sanctions=sanctions,
    )


def _findings(result) -> list:
    """A detector's findings, whether it returned them alone or with ratings (``RatedFindings``)."""
    return list(getattr(result, "findings", result) or [])


def _status_mib(field: str) -> float:
    """``field`` (VmRSS, VmHWM) of this process's /proc status, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _in_child(work, out_path: Path, write_fd: int) -> None:
    """Run ``work()`` in a forked child; the parent gets (wall, cpu, peak MiB, MiB over the child's start)
    and the pickled result. "Over the start": VmHWM after the work less VmRSS before it, with the
    high-water mark reset at the fork (``clear_refs`` 5), i.e. what the detector allocated beyond the
    frames it shares with the parent."""
    Path("/proc/self/clear_refs").write_text("5")
    start_mib = _status_mib("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    try:
        result = work()
        status = "ok"
    except BaseException as error:  # report, never propagate out of the child
        result, status = None, f"error: {type(error).__name__}: {error}"
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    with open(out_path, "wb") as handle:
        pickle.dump({"status": status, "wall": wall, "cpu": cpu, "peak_mib": python_peak_mib(),
                     "over_mib": _status_mib("VmHWM") - start_mib, "result": result}, handle)
    os.write(write_fd, b"x")
    os._exit(0)


def timed(work, timeout: float, scratch: Path) -> dict:
    """Fork, run ``work`` in the child, wait at most ``timeout`` seconds."""
    out_path = scratch / f"result-{time.monotonic_ns()}.pickle"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _in_child(work, out_path, write_fd)
    os.close(write_fd)
    started = time.perf_counter()
    ready, _, _ = select.select([read_fd], [], [], timeout)
    os.close(read_fd)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return {"status": "timeout", "wall": time.perf_counter() - started, "cpu": float("nan"),
                "peak_mib": float("nan"), "over_mib": float("nan"), "result": None}
    os.waitpid(pid, 0)
    with open(out_path, "rb") as handle:
        report = pickle.load(handle)
    out_path.unlink()
    return report


def run_size(n: int, work: Path, timeout: float, detectors: list[str] | None) -> list[str]:
    dataset = work / f"sim-{n}"
    if not (dataset / "accounts.csv.gz").exists() and not (dataset / "accounts.csv").exists():
        from ringscope.simulate.platform import simulate

        started = time.perf_counter()
        simulate(dataset, accounts=n, seed=7)
        print(f"simulated {n:,} accounts in {time.perf_counter() - started:,.0f} s", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    frames = read_frames(dataset)
    read_wall, read_cpu = time.perf_counter() - started, time.process_time() - cpu
    base_mib = python_peak_mib()
    frames_mib = frames.nbytes() / 2 ** 20
    sizes = frames.sizes()
    print(f"{n:,} accounts: read {read_wall:,.1f} s ({', '.join(f'{k} {v:,}' for k, v in sizes.items())})",
          flush=True)
    policy = load_detection_policy()
    params = validate_params(policy)
    lines = [f"### {n:,} accounts", "",
             f"Frames ({read_wall:,.0f} s wall, {read_cpu:,.0f} s CPU to read; {base_mib:,.0f} MiB peak after "
             f"reading; the frames take {frames_mib:,.0f} MiB, `PlatformFrames.nbytes`): "
             + ", ".join(f"{k} {v:,}" for k, v in sizes.items()), "",
             "| detector | wall s | CPU s | findings | accounts in findings | peak RSS MiB (frames included) "
             "| MiB over the child's start | x frames (`Detector.memory`) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    results: list[DetectorResult] = []
    with tempfile.TemporaryDirectory(prefix="detection-speed-") as scratch:
        for name, detector in DETECTORS.items():
            if name not in params or detector.after_flagging or (detectors and name not in detectors):
                continue
            report = timed(lambda: detector.adapter(frames, params[name]), timeout, Path(scratch))
            found = _findings(report["result"])
            results.append(DetectorResult(name, found, report["wall"]))
            members = len({a for f in found for a in f.members})
            status = "" if report["status"] == "ok" else f" ({report['status']})"
            wall = f"> {timeout:,.0f}" if report["status"] == "timeout" else f"{report['wall']:,.1f}"
            lines.append(f"| {name}{status} | {wall} | {report['cpu']:,.1f} | {len(found):,} | {members:,} | "
                         f"{report['peak_mib']:,.0f} | {report['over_mib']:,.0f} | "
                         f"{report['over_mib'] / frames_mib:.2f} |")
            print(lines[-1], flush=True)
        for name, detector in DETECTORS.items():
            if name not in params or not detector.after_flagging or (detectors and name not in detectors):
                continue  # named in --detectors: run over the accounts the detectors run here flag
            flagged = FlaggedAccounts.of(account_risks(results, policy, frames), policy.flag_threshold)
            report = timed(lambda: detector.adapter(frames, flagged, params[name]), timeout, Path(scratch))
            found = _findings(report["result"])
            lines.append(f"| {name} ({len(flagged):,} accounts flagged by the others{' run here' if detectors else ''}) | "
                         f"{report['wall']:,.1f} | {report['cpu']:,.1f} | {len(found):,} | "
                         f"{len({a for f in found for a in f.members}):,} | {report['peak_mib']:,.0f} | "
                         f"{report['over_mib']:,.0f} | {report['over_mib'] / frames_mib:.2f} |")
            print(lines[-1], flush=True)
    lines += ["", f"Load average when done: {load_average()}", ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ringscope-detection-speed",
                        help="where the simulated data sets are kept (reused when present)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per detector before it is stopped")
    parser.add_argument("--detectors", nargs="*", help="only these detectors (default: every enabled one)")
    parser.add_argument("--note", action="append", default=[], help="a line to add under the tables")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"Machine: {machine()}",
             "Data: `simulate(dir, accounts=N, seed=7)` read from its files with pandas (no database); "
             "default policy (`policy/detection.yaml`); each detector in a forked child process "
             "(peak RSS = frames + the detector's own allocations)", ""]
    for n in args.accounts:
        lines += run_size(n, args.work, args.timeout, args.detectors)
    lines += [f"- {note}" for note in args.note] + ([""] if args.note else [])
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with open(args.results, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"appended to {args.results}; peak of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
