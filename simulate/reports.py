"""Users' reports (the ``reports`` file, an extension of the input format): organic reports and coordinated
mass-reporting.

- Organic: about one account in 200 files one report over the activity year, 60 % against a planted fake it met
  (verified by the platform 70 % of the time) and 40 % against an honest account (found unfounded, ``verified``
  false, 70 % of the time); the rest is not checked yet (empty ``verified``).
- Coordinated mass-reporting: half of the comment rings (water army) also attack: 5 to 40 of their members report
  one honest account (a competitor's creator) within six hours, found unfounded or not checked. The reporters are
  the ring's members, so a detection run puts them in one cluster and ``reports/`` shows the burst as a signal
  about them, not against the target (ground truth: the reporters are fakes of that farm in ``labels``).

Drawn from a generator of their own (the seed and ``REPORTS_STREAM``) after the rest of the platform is made, so
every other file is byte-identical to what it was before reports existed. O(reports).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ringscope.simulate.clock import ACTIVITY_START, HOUR, NOW
from ringscope.simulate.encode import id_width, iso_times, prefixed_ids
from ringscope.simulate.world import FIRST_FAKE_ROLE, World

REPORTS_STREAM = 1404
ORGANIC_REASONS = ("虚假宣传", "垃圾广告", "引流到站外", "冒充他人", "spam", "fake reviews")
ATTACK_REASONS = ("虚假宣传", "抄袭", "违规营销")
UNKNOWN, UNFOUNDED, VERIFIED = -1, 0, 1


def plant_reports(w: World, seed: int) -> None:
    """Fill ``w.reports`` (reporter, target, at, verified, reason; account indices and Unix seconds)."""
    rng = np.random.default_rng([seed, REPORTS_STREAM])
    fake = w.A["role"].astype(np.int64) >= FIRST_FAKE_ROLE
    honest, fakes = np.flatnonzero(~fake), np.flatnonzero(fake)
    k = max(10, w.n_accounts // 200)
    reporter = rng.choice(honest, k)
    against_fake = rng.random(k) < 0.6
    target = np.where(against_fake, rng.choice(fakes, k), rng.choice(honest, k))
    at = rng.integers(ACTIVITY_START, NOW, k)
    checked = rng.random(k) < 0.7
    verified = np.where(checked, np.where(against_fake, VERIFIED, UNFOUNDED), UNKNOWN)
    reason = rng.integers(0, len(ORGANIC_REASONS), k)
    parts = [(reporter, target, at, verified, np.array(ORGANIC_REASONS, dtype=object)[reason])]
    for farm in w.farms:
        if farm.kind != "comment_ring" or rng.random() >= 0.5:
            continue
        n = int(min(farm.size, rng.integers(5, 41)))
        members = rng.choice(farm.members, n, replace=False)
        start = int(rng.integers(ACTIVITY_START, NOW - 6 * HOUR))
        times = start + np.sort(rng.integers(0, 6 * HOUR, n))
        victim = np.full(n, rng.choice(honest))
        attack_verified = np.where(rng.random(n) < 0.5, UNFOUNDED, UNKNOWN)
        reasons = np.array(ATTACK_REASONS, dtype=object)[rng.integers(0, len(ATTACK_REASONS), n)]
        parts.append((members, victim, times, attack_verified, reasons))
    columns = [np.concatenate([p[i] for p in parts]) for i in range(5)]
    keep = columns[0] != columns[1]  # nobody reports themselves
    w.reports = dict(zip(("reporter", "target", "at", "verified", "reason"), (c[keep] for c in columns)))


def reports_table(w: World, accounts) -> pa.Table:
    """The reports file, in time order, numbered r000001... in that order."""
    R = w.reports
    order = np.lexsort((R["target"], R["reporter"], R["at"]))
    n = order.size
    verified = R["verified"][order]
    return pa.table({
        "report_id": prefixed_ids("r", np.arange(1, n + 1), id_width(n)),
        "reporter_account_id": accounts.of(R["reporter"][order]),
        "target_type": pa.array(["account"] * n, pa.string()),
        "target_id": accounts.of(R["target"][order]),
        "reason": pa.array(R["reason"][order].tolist(), pa.string()),
        "created_at": iso_times(R["at"][order]),
        "verified": pa.array(verified == VERIFIED, pa.bool_(), mask=verified == UNKNOWN),
    })
