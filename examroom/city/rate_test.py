"""The statistical test behind the rate warnings: an exact two-sided binomial test.

A unit (a course, or an examiner at a course) had ``k`` of ``n`` attempts with some property
(passed, manual 不合格, device fault, override); the rest of the city had a rate ``p0``. Under
"the unit is like the rest", k is Binomial(n, p0). The two-sided p-value is the probability of
every outcome no more likely than k (the convention of R's binom.test and scipy.stats.binomtest),
summed in log space so thousands of attempts neither overflow nor underflow.

Why exact and not a z-test: a course's week holds tens of attempts and rates near 0 (device
faults, overrides) are common; the normal approximation is poor there, the exact test is not.
The minimum sample and the threshold are settings (``[warnings]`` of the city file).
"""

from __future__ import annotations

import math

# Outcomes whose probability is within this relative distance of the observed one count as
# "as likely" (float residue; the same tolerance scipy uses).
RELATIVE_TOLERANCE = 1e-7


def log_pmf(i: int, n: int, p: float) -> float:
    if p == 0.0:
        return 0.0 if i == 0 else -math.inf
    if p == 1.0:
        return 0.0 if i == n else -math.inf
    return (math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
            + i * math.log(p) + (n - i) * math.log1p(-p))


def binomial_two_sided(k: int, n: int, p0: float) -> float:
    """P-value of observing k of n under Binomial(n, p0), two-sided (outcomes no likelier than k)."""
    if not 0 <= k <= n:
        raise ValueError(f"k must be within 0..n, got k={k}, n={n}")
    if not 0.0 <= p0 <= 1.0:
        raise ValueError(f"p0 must be a probability, got {p0}")
    if n == 0:
        return 1.0
    observed = log_pmf(k, n, p0)
    if observed == -math.inf:
        return 0.0
    limit = observed + math.log1p(RELATIVE_TOLERANCE)
    terms = [lp for lp in (log_pmf(i, n, p0) for i in range(n + 1)) if lp <= limit]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(lp - top) for lp in terms))
