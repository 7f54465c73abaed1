"""Old and new detector code on the same frames: every finding compared field by field.

    python -m benchmarks.detection_equality --data /tmp/sim-100000 [--base main] [--detectors lockstep ...]

The frames are read once from a simulated platform's files (as
``benchmarks/detection_speed.py`` reads them) and saved; then the detectors of
``--base`` (a git revision: its tree is extracted to a temporary folder and
imported as ``ringscope`` in a child process) and those of this checkout each
run in a child process over those same frames, as ``detection.pipeline.run_all``
runs them (the one ``after_flagging`` last, over the accounts that code's own
results flag). Every finding is compared: detector, members, score, member
scores, member reasons and each reason's code, text and evidence. Prints one
line per detector (findings, seconds old / new, differences) and the first
differences in full; exits 1 when anything differs. Nothing is written to
``benchmarks/results``: the report quotes what it prints. ``--shuffle`` hands
the new code the rows in a shuffled order, to show that no detector depends on
the order the reader returns rows in.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child: ``ringscope`` is whichever tree PYTHONPATH puts first.
RUNNER = r"""
import pickle, sys, time
import pandas as pd
from ringscope.detection.config import load_detection_policy
from ringscope.detection.frames import PlatformFrames
from ringscope.detection.pipeline import DETECTORS, DetectorResult, account_risks, validate_params
from ringscope.detection.scoring import FlaggedAccounts
frames_path, out_path, only = sys.argv[1], sys.argv[2], [n for n in sys.argv[3].split(",") if n]
loaded = pickle.load(open(frames_path, "rb"))
if sys.argv[4] == "shuffle":  # the rows in another order: findings must not depend on it
    loaded = {k: v.sample(frac=1.0, random_state=1).reset_index(drop=True) for k, v in loaded.items()}
frames = PlatformFrames(**loaded)
policy = load_detection_policy()
params = validate_params(policy)
results, out = [], {}
for late in (False, True):
    for name, det in DETECTORS.items():
        if name not in params or det.after_flagging != late:
            continue
        args = (FlaggedAccounts.of(account_risks(results, policy, frames), policy.flag_threshold),) if late else ()
        if only and name not in only:
            continue
        started = time.process_time()
        findings = det.adapter(frames, *args, params[name])
        seconds = time.process_time() - started
        results.append(DetectorResult(name, findings, seconds))
        out[name] = (findings, seconds)
        print(f"  {name}: {len(findings)} findings, {seconds:.1f} s CPU", flush=True)
pickle.dump(out, open(out_path, "wb"), protocol=pickle.HIGHEST_PROTOCOL)
"""


def _tree_of(revision: str, into: Path) -> Path:
    """``revision``'s files under ``into/ringscope`` (the repository root is the package)."""
    target = into / "ringscope"
    target.mkdir(parents=True)
    archive = into / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), revision], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return into


def _run(label: str, path_root: Path, frames: Path, out: Path, only: list[str], shuffle: bool = False) -> dict:
    print(f"{label}:", flush=True)
    env = {**os.environ, "PYTHONPATH": str(path_root)}
    subprocess.run([sys.executable, "-c", RUNNER, str(frames), str(out), ",".join(only),
                    "shuffle" if shuffle else "keep"], check=True, env=env, cwd=path_root)
    with open(out, "rb") as handle:
        return pickle.load(handle)


def _reason_diff(a, b) -> list[str]:
    out = []
    if a.code != b.code:
        out.append(f"code {a.code!r} != {b.code!r}")
    if a.text != b.text:
        out.append(f"text\n      old: {a.text}\n      new: {b.text}")
    if len(a.evidence) != len(b.evidence):
        out.append(f"{len(a.evidence)} evidence items != {len(b.evidence)}")
    for i, (x, y) in enumerate(zip(a.evidence, b.evidence)):
        if x.kind != y.kind or tuple(x.ids) != tuple(y.ids):
            only_x, only_y = set(x.ids) - set(y.ids), set(y.ids) - set(x.ids)
            out.append(f"evidence {i} ({x.kind}/{y.kind}): {len(x.ids)} vs {len(y.ids)} ids, "
                       f"{len(only_x)} only old, {len(only_y)} only new"
                       + (" (same ids, other order)" if not only_x and not only_y else ""))
    return out


def finding_differences(old: list, new: list) -> list[str]:
    """Every field of every finding, in order; [] when the two lists are equal."""
    diffs = []
    if len(old) != len(new):
        diffs.append(f"{len(old)} findings != {len(new)}")
        by_key_old = {f.key: f for f in old}
        by_key_new = {f.key: f for f in new}
        diffs += [f"only old: {k} ({len(by_key_old[k].members)} members)" for k in sorted(set(by_key_old) - set(by_key_new))][:10]
        diffs += [f"only new: {k} ({len(by_key_new[k].members)} members)" for k in sorted(set(by_key_new) - set(by_key_old))][:10]
        return diffs
    for i, (a, b) in enumerate(zip(old, new)):
        where = f"finding {i} ({a.key})"
        if a.detector != b.detector:
            diffs.append(f"{where}: detector {a.detector} != {b.detector}")
        if a.members != b.members:
            diffs.append(f"{where}: members differ ({len(set(a.members) - set(b.members))} only old, "
                         f"{len(set(b.members) - set(a.members))} only new)")
        if a.score != b.score:
            diffs.append(f"{where}: score {a.score!r} != {b.score!r}")
        if a.member_scores != b.member_scores:
            changed = [m for m in set(a.member_scores) | set(b.member_scores)
                       if a.member_scores.get(m) != b.member_scores.get(m)]
            diffs.append(f"{where}: {len(changed)} member scores differ, e.g. {sorted(changed)[:3]}")
        if a.member_reasons != b.member_reasons:
            diffs.append(f"{where}: member reasons differ")
        if len(a.reasons) != len(b.reasons):
            diffs.append(f"{where}: {len(a.reasons)} reasons != {len(b.reasons)}")
        for j, (x, y) in enumerate(zip(a.reasons, b.reasons)):
            diffs += [f"{where}, reason {j}: {d}" for d in _reason_diff(x, y)]
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="a folder written by `ringscope simulate`")
    parser.add_argument("--base", default="main", help="the git revision whose detectors are the reference")
    parser.add_argument("--detectors", nargs="*", default=[], help="only these (policy keys); default all")
    parser.add_argument("--shuffle", action="store_true",
                        help="give the new code every frame's rows in a shuffled order (shows the findings do not "
                             "depend on the order the reader returns rows in)")
    parser.add_argument("--work", type=Path, default=None, help="where frames and results go (default: a temp dir)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT.parent))
    from benchmarks.detection_speed import read_frames

    work = Path(args.work or tempfile.mkdtemp(prefix="ringscope-equality-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    frames = read_frames(args.data)
    frames_path = work / "frames.pkl"
    with open(frames_path, "wb") as handle:
        pickle.dump({f.name: getattr(frames, f.name) for f in fields(frames)}, handle,
                    protocol=pickle.HIGHEST_PROTOCOL)
    print(f"frames of {args.data} ({', '.join(f'{k} {v:,}' for k, v in frames.sizes().items())}) "
          f"read in {time.monotonic() - started:.0f} s", flush=True)
    del frames
    with tempfile.TemporaryDirectory(prefix="ringscope-base-") as tmp:
        old = _run(f"old ({args.base})", _tree_of(args.base, Path(tmp)), frames_path, work / "old.pkl",
                   args.detectors)
        checkout = Path(tmp) / "checkout"
        checkout.mkdir()
        (checkout / "ringscope").symlink_to(ROOT)
        new = _run("new (this checkout)" + (", rows shuffled" if args.shuffle else ""), checkout, frames_path,
                   work / "new.pkl", args.detectors, args.shuffle)
    bad = 0
    print("\n| detector | findings | accounts in findings | old s CPU | new s CPU | differences |")
    print("|---|---:|---:|---:|---:|---|")
    details = []
    for name in old:
        (fo, so), (fn, sn) = old[name], new.get(name, ([], float("nan")))
        diffs = finding_differences(fo, fn)
        bad += bool(diffs)
        accounts = len({m for f in fn for m in f.members})
        print(f"| {name} | {len(fn):,} | {accounts:,} | {so:.1f} | {sn:.1f} | {len(diffs) or 'none'} |")
        details += [f"{name}: {d}" for d in diffs[:20]]
    if details:
        print("\n" + "\n".join(details))
    print(f"\n{'all findings equal' if not bad else f'{bad} detectors differ'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
