"""Intervals for survey proportions: Wilson (one proportion) and Newcombe's hybrid score
interval (difference of two independent proportions). Newcombe, R. G. (1998). Two-sided
confidence intervals for the single proportion; Interval estimation for the difference
between independent proportions. Statistics in Medicine 17, 857-872 and 873-890."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson_interval(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion ``p`` (0..1) observed in ``n``.

    ``n`` may be an effective sample size (a cluster survey's n divided by its design
    effect, or Kish's n of a weighted sample): not necessarily a whole number."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= p <= 1:
        raise ValueError("p must be within 0..1")
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z / (1 + z2 / n)) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(
    p1: float, n1: float, p2: float, n2: float, z: float = Z95
) -> tuple[float, float, float]:
    """p1 - p2 and its 95% hybrid score interval (Newcombe 1998, method 10)."""
    l1, u1 = wilson_interval(p1, n1, z)
    l2, u2 = wilson_interval(p2, n2, z)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, lower, upper


def newcombe_p_value(p1: float, n1: float, p2: float, n2: float) -> float:
    """The two-sided p-value that matches Newcombe's interval: the smallest level at which
    the interval for p1 - p2 excludes 0 (found by bisection on z; the score interval
    widens monotonically with z). 1 when the proportions are equal."""
    if p1 == p2:
        return 1.0

    def excludes_zero(z: float) -> bool:
        _, low, high = newcombe_difference(p1, n1, p2, n2, z)
        return low > 0 or high < 0

    low_z, high_z = 0.0, 40.0
    if excludes_zero(high_z):
        return 0.0
    for _ in range(50):  # z to within 4e-14
        middle = (low_z + high_z) / 2
        if excludes_zero(middle):
            low_z = middle
        else:
            high_z = middle
    return math.erfc(low_z / math.sqrt(2))


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment (Holm 1979): adjusted p-values that keep the chance of
    any false finding in the family at or under the level, whatever the dependence
    between the tests. A test is significant at 5% when its adjusted p-value is < 0.05."""
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    m = len(ordered)
    adjusted, running = {}, 0.0
    for i, (key, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - i) * p))
        adjusted[key] = running
    return adjusted
