"""What a paired design could have detected: power of the two-sided paired
t-test from the noncentral t distribution.

With n seeds and sd s of the paired differences, the t statistic of a true
mean difference delta follows a noncentral t with n - 1 degrees of freedom and
noncentrality delta sqrt(n) / s. The test rejects when |t| exceeds the
two-sided critical value t_{1 - alpha/2, n - 1}. The sd is the one observed in
the run, so these numbers describe the run's own design (they are not a
claim about the true effect). The tests tables call these functions at the
level their verdicts need, alpha / m of each family
(:func:`alvae.analysis.stats.power_level`), not at alpha.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

POWER = 0.8          # target power
DETECT_DIFF = 0.01   # one point of a task's own metric (accuracy; AUC for multi-label tasks)
MAX_SEEDS = 10**6    # search limit of seeds_needed


def paired_power(delta: float, sd: float, n: int, alpha: float = 0.05) -> float:
    """Power of the two-sided paired t-test at level ``alpha`` for a true mean
    difference ``delta``, sd ``sd`` of the differences and ``n`` pairs. Where
    scipy's noncentral t returns NaN (far tails at large df, power near 0 or
    1) that tail uses the normal approximation instead."""
    if n < 2 or not sd > 0:
        return float("nan")
    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    nc = delta * math.sqrt(n) / sd
    upper, lower = stats.nct.sf(crit, df, nc), stats.nct.cdf(-crit, df, nc)
    if np.isnan(upper):
        upper = stats.norm.sf(crit - nc)
    if np.isnan(lower):
        lower = stats.norm.cdf(-crit - nc)
    return float(upper + lower)


def minimal_detectable_effect(sd: float, n: int, alpha: float = 0.05,
                              power: float = POWER) -> float:
    """Smallest |mean difference| the two-sided paired t-test detects with
    probability ``power`` (NaN for n < 2 or sd not > 0)."""
    if n < 2 or not sd > 0 or not np.isfinite(sd):
        return float("nan")
    f = lambda dz: paired_power(dz, 1.0, n, alpha) - power  # noqa: E731 (in units of sd)
    hi = 1.0
    while f(hi) < 0:
        hi *= 2
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-10) * sd)


def seeds_needed(delta: float, sd: float, alpha: float = 0.05, power: float = POWER,
                 max_seeds: int = MAX_SEEDS) -> float:
    """Smallest number of seeds n >= 2 whose two-sided paired t-test detects a
    mean difference ``delta`` with probability ``power``, for sd ``sd`` of the
    differences. NaN when sd is not > 0 or more than ``max_seeds`` are needed."""
    if not sd > 0 or not np.isfinite(sd) or delta == 0:
        return float("nan")
    ok = lambda n: paired_power(abs(delta), sd, n, alpha) >= power  # noqa: E731
    if ok(2):
        return 2
    lo, hi = 2, 4
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > max_seeds:
            return float("nan")
    while hi - lo > 1:  # power grows with n: ok(hi), not ok(lo)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi
