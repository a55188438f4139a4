"""Intervals for survey proportions: Wilson (one proportion) and Newcombe's hybrid score
interval (difference of two independent proportions). Newcombe, R. G. (1998). Two-sided
confidence intervals for the single proportion; Interval estimation for the difference
between independent proportions. Statistics in Medicine 17, 857-872 and 873-890."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson_interval(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion ``p`` (0..1) observed in ``n``."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= p <= 1:
        raise ValueError("p must be within 0..1")
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z / (1 + z2 / n)) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(
    p1: float, n1: int, p2: float, n2: int, z: float = Z95
) -> tuple[float, float, float]:
    """p1 - p2 and its 95% hybrid score interval (Newcombe 1998, method 10)."""
    l1, u1 = wilson_interval(p1, n1, z)
    l2, u2 = wilson_interval(p2, n2, z)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, lower, upper
