"""Detection quality and speed on simulated platforms, through the real path.

    python -m benchmarks.detection_simulated --accounts 10000 100000 [--speed-only 1000000]
        [--from-files 1000000]
    RINGSCOPE_HOME=... RINGSCOPE_BOLT_PORT=... python -m benchmarks.detection_simulated --accounts \
        --through-commands 20000 [--work DIR]

For each size: ``ringscope simulate`` (seed 7), ingest into a dedicated local
Neo4j, ``ringscope detect`` with the default policy, then compare the flagged
accounts with the ``labels`` file: precision, recall and F1 overall and per
farm type, and how many organic accounts that share a NAT IP or a family
device are flagged (the false positives naive rules produce). Time per
detector and in total, peak memory of Python and the JVM. Results are
appended to ``benchmarks/results/detection_simulated.md``.

``--through-commands N``: the commands a user runs, each a new process, against the Neo4j of the caller's
environment (``RINGSCOPE_HOME``/``RINGSCOPE_BOLT_PORT``; started with ``ringscope db start`` if it is not
running, emptied with ``ringscope reset``): ``ringscope simulate --accounts N --seed 7 --format csv.gz``,
``ringscope ingest``, ``ringscope detect`` and ``ringscope flagged --run latest --format csv``, scored
against the labels as above, with the farmed declared accounts of issue #15 item 5 apart: the precision and
recall of role ``farmed_declared`` among the flagged, the flag rate of its honest look-alikes, and, from a
second ``ringscope detect --policy`` with ``farmed_declared`` disabled on the same graph, how every role's
figure moved because of it.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from benchmarks.common import (append_results, bench_server, jvm_peak_mib, load_average, machine, python_peak_mib,
                               run_ringscope, fake_mask, simulated_table)
from ringscope.detection.config import load_detection_policy
from ringscope.detection.run import detect
from ringscope.graph.admin import reset
from ringscope.graph.database import close_all
from ringscope.graph.server import local
from ringscope.ingest.load import IngestOptions, ingest
from ringscope.queries.detection import flagged

RESULTS = Path(__file__).resolve().parent / "results" / "detection_simulated.md"


def read_labels(dataset: Path) -> pd.DataFrame:
    """The labels (of csv.gz files or a Parquet lake), with the honest accounts a ring hired for a stretch
    (``drift_labels``, simulate/drift.py) in groups of their own, ``drifting (returned)`` and ``drifting
    (stayed)``: still honest (``is_fake`` false, so counted among the honest accounts flagged), but their group
    says why a run over the whole history flags them."""
    labels = simulated_table(dataset, "labels")
    if labels is None:
        raise FileNotFoundError(f"{dataset}: no labels.csv.gz or labels/ (a simulated platform's ground truth)")
    drift = simulated_table(dataset, "drift_labels")
    if drift is not None and "role" in labels:
        kinds = drift.set_index("account_id")["kind"]
        hired = labels["account_id"].isin(kinds.index)
        labels.loc[hired, "role"] = "drifting (" + labels.loc[hired, "account_id"].map(kinds) + ")"
    return labels


def evaluate(labels: pd.DataFrame, flagged: set[str]) -> list[str]:
    """Markdown rows: overall and per farm type / organic role."""
    labels = labels.copy()
    labels["is_fake"] = fake_mask(labels)
    labels["flagged"] = labels["account_id"].isin(flagged)
    tp = int((labels.flagged & labels.is_fake).sum())
    fp = int((labels.flagged & ~labels.is_fake).sum())
    fn = int((~labels.flagged & labels.is_fake).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    honest = int((~labels.is_fake).sum())
    rows = [f"Overall: {tp + fp:,} flagged, precision **{precision:.3f}**, recall **{recall:.3f}**, "
            f"F1 **{f1:.3f}** ({tp:,} true, {fp:,} false positives, {fn:,} missed); honest accounts flagged: "
            f"{fp / max(honest, 1) * 10_000:.2f} per 10,000", "",
            "| group | accounts | flagged | share flagged |", "|---|---:|---:|---:|"]
    column = "role" if "role" in labels else "farm_type"
    for group, part in labels.groupby(labels[column].fillna("organic")):
        rows.append(f"| {group}{' (fake)' if part.is_fake.all() else ''} | {len(part):,} | "
                    f"{int(part.flagged.sum()):,} | {part.flagged.mean():.3f} |")
    return rows


def honest_by_cause(labels: pd.DataFrame, printed: pd.DataFrame) -> list[str]:
    """Markdown rows: the honest accounts flagged, counted by their group and the detectors ``ringscope flagged``
    names for them (``printed``: its CSV, ``account_id`` and ``detectors``), most first. At millions of accounts
    the list of each one (:func:`why_honest_flagged`) is too long to read; this says where they come from."""
    fake = fake_mask(labels)
    column = "role" if "role" in labels else "farm_type"
    group = dict(zip(labels["account_id"], labels[column].replace("", "organic").fillna("organic")))
    honest = printed[printed["account_id"].isin(set(labels.loc[~fake, "account_id"]))]
    if honest.empty:
        return ["No honest account flagged.", ""]
    counts = (honest.assign(group=honest["account_id"].map(group), detectors=honest["detectors"].fillna(""))
              .groupby(["group", "detectors"]).size().sort_values(ascending=False))
    return (["Honest accounts flagged, by group and the detectors that flag them:", "",
             "| group | detectors | accounts |", "|---|---|---:|"]
            + [f"| {g} | {d} | {n:,} |" for (g, d), n in counts.items()] + [""])


def why_honest_flagged(labels: pd.DataFrame, details: dict, limit: int = 200) -> list[str]:
    """Markdown rows: every honest account flagged (up to ``limit``), its group, risk, detectors and
    strongest reason, as ``ringscope flagged`` prints them (issue #13 item 6: why each was flagged).

    ``details``: account id -> an object with ``score``, ``detectors`` and ``reasons``
    (``FlaggedAccount`` from the graph, ``AccountRisk`` from the files)."""
    labels = labels.copy()
    fake = fake_mask(labels)
    column = "role" if "role" in labels else "farm_type"
    group = dict(zip(labels["account_id"], labels[column].replace("", "organic").fillna("organic")))
    honest = sorted((a for a in set(labels.loc[~fake, "account_id"]) & set(details)),
                    key=lambda a: (-details[a].score, a))
    if not honest:
        return ["No honest account flagged.", ""]
    rows = [f"Honest accounts flagged, and why ({len(honest)}; strongest reason, shortened):", "",
            "| account | group | risk | detectors | reason |", "|---|---|---:|---|---|"]
    for a in honest[:limit]:
        d = details[a]
        reason = (d.reasons[0] if d.reasons else "").replace("|", "/")
        reason = reason if len(reason) <= 220 else reason[:217] + "..."
        rows.append(f"| {a} | {group.get(a, '?')} | {d.score:.2f} | {', '.join(d.detectors)} | {reason} |")
    if len(honest) > limit:
        rows.append(f"| ... {len(honest) - limit} more | | | | |")
    return rows + [""]


def score_from_files(n: int, work: Path) -> list[str]:
    """Quality of the default policy on the simulated files of size ``n``, no database."""
    from benchmarks.detection_speed import read_frames
    from ringscope.detection.pipeline import account_risks, flagged_ids, run_all
    from ringscope.simulate.platform import simulate

    dataset = work / f"sim-{n}"
    if not (dataset / "accounts.csv.gz").exists():
        simulate(dataset, accounts=n, seed=7, fmt="csv.gz")
    policy = load_detection_policy()
    started = time.monotonic()
    frames = read_frames(dataset)
    read_s = time.monotonic() - started
    results = run_all(frames, policy)
    risks = account_risks(results, policy, frames)
    flagged = flagged_ids(risks, policy)
    total = time.monotonic() - started
    lines = [f"### {n:,} accounts, scored from the files (no database)", "",
             f"Read {read_s:,.1f} s, detectors {', '.join(f'{r.name} {r.seconds:,.1f} s' for r in results)}; "
             f"{total:,.1f} s in total; {len(flagged):,} accounts flagged. "
             f"Peak memory: Python {python_peak_mib():,.0f} MiB; load average {load_average()}", ""]
    labels = read_labels(dataset)
    return (lines + evaluate(labels, flagged) + [""]
            + why_honest_flagged(labels, {a: risks[a] for a in flagged}))


FARMED = "farmed_declared"
LOOK_ALIKES = ("declared_viral", "declared_with_assistant", "creator_assistant")


def farmed_rows(labels: pd.DataFrame, printed: pd.DataFrame, without: pd.DataFrame) -> list[str]:
    """Markdown rows: role farmed_declared among the flagged (``printed``: ``ringscope flagged --format csv``
    with the shipped policy; ``without``: the same with farmed_declared disabled), the look-alikes' flag
    rate, and every role's flagged count with and without the detector."""
    role = dict(zip(labels["account_id"], labels["role"].replace("", "organic")))
    detectors = dict(zip(printed["account_id"], printed["detectors"].fillna("").str.split(";")))
    by_detector = {a for a, names in detectors.items() if FARMED in names}
    farmed = {a for a, r in role.items() if r == FARMED}
    flagged, before = set(printed["account_id"]), set(without["account_id"])
    tp = len(by_detector & farmed)
    rows = [f"Role {FARMED} ({len(farmed)} planted): {len(farmed & flagged)} flagged (recall "
            f"**{len(farmed & flagged) / max(len(farmed), 1):.3f}**; {len(farmed & before)} without the detector); "
            f"accounts whose reasons list {FARMED}: {len(by_detector)}, {tp} of them {FARMED} (precision "
            f"**{tp / max(len(by_detector), 1):.3f}**; the others: "
            f"{dict(sorted(pd.Series([role.get(a, '?') for a in by_detector - farmed]).value_counts().items()))})",
            ""]
    for group in LOOK_ALIKES:
        members = {a for a, r in role.items() if r == group}
        rows.append(f"- look-alike {group}: {len(members & flagged)} of {len(members)} flagged "
                    f"({len(members & flagged) / max(len(members), 1):.1%}), {len(members & by_detector)} by "
                    f"{FARMED}; {len(members & before)} without the detector")
    rows += ["", f"| role | accounts | flagged | flagged without {FARMED} | moved |", "|---|---:|---:|---:|---:|"]
    for group in sorted(set(role.values())):
        members = {a for a, r in role.items() if r == group}
        now, then = len(members & flagged), len(members & before)
        rows.append(f"| {group} | {len(members):,} | {now:,} | {then:,} | {now - then:+,} |")
    return rows + [""]


# Issue #15's forms: the role the simulator plants, the detector made for it, and the honest look-alikes it plants.
FORMS = (("ai_operated", "automated_accounts", ("scheduled_poster",)),
         ("farmed_declared", "farmed_declared", ("declared_viral", "declared_with_assistant", "creator_assistant")),
         ("heat_campaign", "trending_heat", ()))


def form_rows(labels: pd.DataFrame, printed: pd.DataFrame) -> list[str]:
    """Per form of issue #15, what ``flagged`` printed: recall of the planted role (by any detector, and by the
    form's own), the precision of the form's detector (its accounts of the role; of any fake role), and the
    look-alikes flagged. Markdown lines."""
    role = dict(zip(labels["account_id"], labels["role"]))
    fake = dict(zip(labels["account_id"], fake_mask(labels)))
    flagged = set(printed["account_id"])
    rows = ["| form (role) | planted | flagged | by its detector | detector's accounts | of the role | of any fake "
            "role | look-alikes flagged |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for planted_role, detector, look_alikes in FORMS:
        members = {a for a, r in role.items() if r == planted_role}
        by = set(printed["account_id"][printed["detectors"].str.split(";").map(lambda d: detector in d)])
        alike = "; ".join(f"{g} {len({a for a, r in role.items() if r == g} & flagged)} of "
                          f"{sum(1 for r in role.values() if r == g)}" for g in look_alikes) or "-"
        rows.append(f"| {planted_role} (`{detector}`) | {len(members):,} | {len(members & flagged):,} "
                    f"({len(members & flagged) / max(len(members), 1):.3f}) | {len(members & by):,} | {len(by):,} | "
                    f"{len(by & members) / max(len(by), 1):.3f} | {sum(fake.get(a, False) for a in by) / max(len(by), 1):.3f} "
                    f"| {alike} |")
    return rows + [""]


def through_commands(n: int, work: Path, reuse_loaded: bool = False) -> list[str]:
    """simulate, ingest, detect, flagged as a user runs them (new processes) on the caller's Neo4j; then
    detect and flagged again with farmed_declared disabled. Markdown lines. ``reuse_loaded``: when the graph
    already holds ``n`` accounts (an earlier run of this loaded them), no reset and no ingest: detect and
    flagged on it (for a change to detection only; the lines say the load was reused)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    if "RINGSCOPE_HOME" not in env or "RINGSCOPE_BOLT_PORT" not in env:
        raise SystemExit("--through-commands needs RINGSCOPE_HOME and RINGSCOPE_BOLT_PORT (a Neo4j of your own)")
    dataset = work / f"sim-{n}"
    timings: dict[str, float] = {}

    def timed(step: str, *args: str) -> str:
        started = time.monotonic()
        out = run_ringscope(list(args), env)
        timings[step] = time.monotonic() - started
        return out

    if not (dataset / "accounts.csv.gz").exists():
        timed("simulate", "simulate", str(dataset), "--accounts", str(n), "--seed", "7", "--format", "csv.gz")
    given = work / f"given-{n}"  # the tool is given the platform's files, never the labels
    given.mkdir(parents=True, exist_ok=True)
    for path in dataset.iterdir():
        if path.is_file() and "labels." not in path.name:  # labels, note_labels, drift_labels, trending_labels
            target = given / path.name
            if not target.exists():
                shutil.copyfile(path, target)  # a copy: ingest never follows a symbolic link
    # a server this run starts is stopped after it (a 2 GiB JVM left behind once sat beside a 10 M Spark run)
    started_here = "not running" in run_ringscope(["db", "status"], env, check=False)
    run_ringscope(["db", "start"], env)
    try:
        counts = dict(line.split(",", 1) for line in run_ringscope(["stats", "--format", "csv"], env).split()[1:])
        reused = reuse_loaded and counts.get("Account") == str(n)
        if not reused:
            run_ringscope(["reset", "--yes"], env)
            loaded = timed("ingest", "ingest", str(given), "--rejects-dir", str(work / "rejects"))
            if "total: 0 rows" in loaded:
                raise SystemExit(f"ringscope ingest loaded nothing from {given}:\n{loaded[-2000:]}")
        run_id = timed("detect", "detect", "--quiet").strip().splitlines()[-1]
        printed = pd.read_csv(io.StringIO(timed("flagged", "flagged", "--run", "latest", "--format", "csv")),
                              dtype=str, keep_default_na=False)
        policy = work / "detection-without-farmed.yaml"
        text = (Path(__file__).resolve().parents[1] / "policy" / "detection.yaml").read_text(encoding="utf-8")
        marker = "  farmed_declared:"
        head, tail = text.split(marker, 1)
        policy.write_text(head + marker + tail.replace("    weight:", "    enabled: false\n    weight:", 1),
                          encoding="utf-8")
        run_without = timed("detect without farmed_declared", "detect", "--quiet", "--policy", str(policy))
        without = pd.read_csv(io.StringIO(run_ringscope(["flagged", "--run", "latest", "--format", "csv"], env)),
                              dtype=str, keep_default_na=False)
        labels = read_labels(dataset)  # read only now
        lines = [f"### {n:,} accounts through the commands (`ringscope simulate --accounts {n} --seed 7 --format "
                 f"csv.gz`, `ingest`, `detect`, `flagged --run latest --format csv`)", "",
                 ("The graph an earlier run loaded from the same files, reused (`--reuse-loaded`). " if reused else "")
                 + "Whole commands: " + ", ".join(f"{k} {v:,.0f} s" for k, v in timings.items())
                 + f"; run {run_id} (without farmed_declared: {run_without.strip().splitlines()[-1]}); "
                 f"load average {load_average()}", ""]
        lines += evaluate(labels, set(printed["account_id"])) + [""]
        lines += honest_by_cause(labels, printed)
        lines += form_rows(labels, printed)
        lines += farmed_rows(labels, printed, without)
        details = {}
        for row in printed.itertuples(index=False):
            details[row.account_id] = type("Printed", (), {"score": float(row.score), "detectors":
                                                           row.detectors.split(";"), "reasons": [row.reasons]})
        return lines + why_honest_flagged(labels, details)
    finally:
        if started_here:
            run_ringscope(["db", "stop"], env)


def run(sizes: list[int], speed_only: list[int], work: Path, heap: str, pagecache: str, port: int,
        keep: bool, reuse: bool = False) -> str:
    settings, graph = bench_server(work, port, heap, pagecache)
    policy = load_detection_policy()
    lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "", f"Machine: {machine()}",
             f"Neo4j {graph.server_version()}, heap {heap}, page cache {pagecache}; "
             "data: `ringscope simulate --seed 7`; default policy (`policy/detection.yaml`)", ""]
    from ringscope.simulate.platform import simulate

    for n in sorted(set(sizes) | set(speed_only)):
        dataset = work / f"sim-{n}"
        if not (dataset / "accounts.csv.gz").exists():
            simulate(dataset, accounts=n, seed=7, fmt="csv.gz")
        loaded = graph.read("MATCH (a:Account) RETURN count(a) AS n")[0]["n"]
        if reuse and loaded == n:
            rows, ingest_s = loaded, float("nan")  # the graph already holds this platform
            ingest_note = "already loaded"
        else:
            reset(graph)
            started = time.monotonic()
            report = ingest(graph, dataset, IngestOptions(rejects_dir=work / "rejects", restart=True))
            ingest_s = time.monotonic() - started
            rows = report.rows_loaded
            ingest_note = f"ingest {ingest_s:,.0f} s"
        started = time.monotonic()
        summary = detect(graph, policy)
        detect_s = time.monotonic() - started
        lines += [f"### {n:,} accounts ({rows:,} {'accounts' if reuse and loaded == n else 'rows'}; {ingest_note})", "",
                  f"Detection run {summary.run_id}: {detect_s:,.1f} s in total, {summary.clusters:,} clusters, "
                  f"{summary.flagged:,} accounts flagged", "",
                  "| step | seconds |", "|---|---:|"]
        lines += [f"| {step} | {seconds:,.1f} |" for step, seconds in summary.durations.items()]
        lines += ["", f"Peak memory: Python {python_peak_mib():,.0f} MiB, JVM {jvm_peak_mib(settings):,.0f} MiB; "
                      f"load average {load_average()}", ""]
        if n in sizes:
            labels = read_labels(dataset)
            printed = {f.account_id: f for f in flagged(graph, summary.run_id)}
            lines += evaluate(labels, set(printed)) + [""] + why_honest_flagged(labels, printed)
        print("\n".join(lines), flush=True)
    close_all()
    if not keep:
        local.stop(settings.local)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--speed-only", type=int, nargs="*", default=[], help="sizes timed but not scored")
    parser.add_argument("--from-files", type=int, nargs="*", default=[],
                        help="sizes scored straight from the simulated files, without Neo4j")
    parser.add_argument("--work", default="/tmp/ringscope-bench")
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--pagecache", default="6g")
    parser.add_argument("--port", type=int, default=7720)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--through-commands", type=int, nargs="*", default=[],
                        help="sizes run through the ringscope commands on the Neo4j of RINGSCOPE_HOME/_BOLT_PORT")
    parser.add_argument("--reuse-loaded", action="store_true",
                        help="skip the load when the benchmark database (or, with --through-commands, the "
                             "caller's) already holds that many accounts")
    args = parser.parse_args()
    text = ""
    if args.accounts or args.speed_only:
        text = run(args.accounts, args.speed_only, Path(args.work), args.heap, args.pagecache, args.port,
                   args.keep, args.reuse_loaded)
    if args.from_files:
        lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC (from the files)", "",
                 f"Machine: {machine()}", "data: `ringscope simulate --seed 7`; default policy", ""]
        for n in args.from_files:
            lines += score_from_files(n, Path(args.work))
            print("\n".join(lines), flush=True)
        text += "\n".join(lines) + "\n"
    if args.through_commands:
        lines = [f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC (through the commands)", "",
                 f"Machine: {machine()}", "data: `ringscope simulate --seed 7`; default policy", ""]
        for n in args.through_commands:
            lines += through_commands(n, Path(args.work), args.reuse_loaded)
            print("\n".join(lines), flush=True)
        text += "\n".join(lines) + "\n"
    append_results(RESULTS, text)
    print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
