"""From values to 0-100 scores: normalisation against fixed goalposts, aggregation of
measures into themes and themes into an overall score. See METHODOLOGY.md."""

from __future__ import annotations

import math
from collections.abc import Iterable

from metrics.framework import Measure
from metrics.stats import wilson_interval


def normalise(measure: Measure, value: float) -> float:
    """The score (0-100, 100 = most peaceful) of ``value`` against the measure's goalposts."""
    low, high = measure.goalposts
    x = value
    if measure.transform == "log":
        # Values below the lower goalpost (zero deaths, say) score as the goalpost.
        x, low, high = math.log(max(value, low)), math.log(low), math.log(high)
    score = min(100.0, max(0.0, (x - low) / (high - low) * 100.0))
    return score if measure.higher_is_better else 100.0 - score


def value_interval(
    measure: Measure, value: float, effective_n: float | None
) -> tuple[float, float] | None:
    """95% Wilson interval of a survey percentage, in percent, for the effective sample size
    (the sample size divided by the design effect); None when not a survey value."""
    if not measure.survey or not effective_n:
        return None
    low, high = wilson_interval(value / 100.0, effective_n)
    return low * 100.0, high * 100.0


def score_interval(
    measure: Measure, interval: tuple[float, float] | None
) -> tuple[float, float] | None:
    """The score interval: normalisation is monotone, so the ends map to the ends."""
    if interval is None:
        return None
    ends = sorted((normalise(measure, interval[0]), normalise(measure, interval[1])))
    return ends[0], ends[1]


def weighted_mean(scores: Iterable[tuple[float, float]], method: str) -> float:
    """Weighted mean of (score, weight) pairs, weights renormalised over those given.

    - ``arithmetic``: sum(w s) / sum(w), fully compensating;
    - ``geometric``: prod(s ** (w / sum(w))), the standard weighted geometric mean (the
      HDI's): less compensating, and a score of 0 anywhere makes it 0;
    - ``geometric_shifted``: prod((s + 1) ** (w / sum(w))) - 1, less compensating yet a
      single 0 does not wipe out the rest.
    Both geometric means never exceed the arithmetic mean (AM-GM)."""
    pairs = scores if isinstance(scores, list) else list(scores)
    if method == "arithmetic":  # the common case, in one pass: comparisons call this a lot
        total = weighted = 0.0
        for score, weight in pairs:
            total += weight
            weighted += score * weight
        return weighted / total
    total = sum(weight for _, weight in pairs)
    if method == "geometric":
        if any(score <= 0 for score, _ in pairs):
            return 0.0
        log_mean = sum(weight * math.log(score) for score, weight in pairs) / total
        return min(100.0, math.exp(log_mean))
    if method == "geometric_shifted":
        log_mean = sum(weight * math.log(score + 1.0) for score, weight in pairs) / total
        return min(100.0, max(0.0, math.exp(log_mean) - 1.0))
    raise ValueError(f"unknown aggregation {method!r}")
