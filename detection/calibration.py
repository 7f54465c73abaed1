"""One scale for the evidence of every detector: how unlikely a finding is under its null model, in [0, 1].

A detector that states a null model (what the data would look like if nobody coordinated: registrations
drawn from the local background, co-activity from each account's own activity) computes the tail
probability ``p`` of its finding under that model and reports it as *surprise* ``S = -log10 p``.

A detector tests many candidates (every registration window of every attribute value, every pair of
accounts); among a million tests, one with ``p = 1e-6`` is expected by chance alone. The family-wise
surprise corrects for that with Bonferroni's bound: ``S_fw = S - log10(m)`` for ``m`` tests, the surprise
of "some test would have looked at least this extreme". It is conservative (tests that overlap are
counted as independent), which errs towards not flagging.

The member score is then the same function of ``S_fw`` for every detector::

    calibrated(S_fw) = min(1, max(0, S_fw) / CERTAIN_AT)

linear from 0 (no better than chance after correction) to 1 at ``CERTAIN_AT`` (a family-wise ``p`` of
1e-20). Linear so that the policy reads directly: with the detector's weight ``w`` and the policy's
``flag_threshold`` ``t``, one detector alone flags when ``S_fw >= CERTAIN_AT * t / w``
(:func:`surprise_to_flag_alone`); below that, an account needs a second detector's evidence.

Detectors with a null model so far: ``registration_bursts`` (binomial tail of an attribute value's count
in a registration window against its background share) and ``dense_blocks`` (Poisson tail of a block's
comments against what its members' own activity week by week explains, over the accounts of the view). The others score by heuristics on [0, 1] and
are listed as such in the README's table; they move to this scale as they get null models.
"""

from __future__ import annotations

import math

#: The family-wise surprise (-log10 p, after the Bonferroni correction) at which evidence counts as certain.
CERTAIN_AT = 20.0


def family_wise(surprise: float, tests: int) -> float:
    """``surprise - log10(tests)``, floored at 0: the surprise after Bonferroni's correction for ``tests``
    candidates tested (at least one). O(1)."""
    return max(0.0, float(surprise) - math.log10(max(int(tests), 1)))


def calibrated(surprise: float, tests: int = 1) -> float:
    """The member score of a finding with ``surprise`` (-log10 p under its null) among ``tests`` tests:
    ``min(1, family_wise / CERTAIN_AT)``. O(1)."""
    return min(1.0, family_wise(surprise, tests) / CERTAIN_AT)


def surprise_to_flag_alone(weight: float, flag_threshold: float) -> float | None:
    """The family-wise surprise one detector of ``weight`` needs to flag an account by itself
    (``weight * calibrated >= flag_threshold``), or None when its weight is below the threshold. O(1)."""
    if weight < flag_threshold or weight <= 0:
        return None
    return CERTAIN_AT * flag_threshold / weight
