"""Reports: a project's scores per measure and theme with intervals, coverage and change
over time; comparisons across projects. Plain data in, plain dicts out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from metrics.framework import Framework, Measure
from metrics.scoring import normalise, score_interval, value_interval, weighted_mean
from metrics.stats import holm, newcombe_difference, newcombe_p_value

LEVEL = 0.05  # two-sided; every "significant" and "improved/worsened" is at this level

METHOD = {
    "normalisation": "min-max against fixed goalposts (log scale where stated), clipped to 0-100, "
    "flipped where higher is worse; 100 = most peaceful",
    "value_interval": "95% Wilson score interval for survey percentages, on the effective "
    "sample size (n / design effect, or Kish's n for weighted samples)",
    "change_interval": "95% Newcombe hybrid score interval for the difference of two "
    "independent proportions (effective sample sizes)",
    "theme_interval": "bounds from the measures' interval ends (conservative: assumes their "
    "errors move together)",
    "theme_change": "only survey measures present in both periods are tested; a theme "
    "improved or worsened when a measure's change is significant after Holm's adjustment "
    "within the theme (family-wise error at most 5%); scores compared on the measures present "
    "in both periods, with any change of coverage flagged",
    "overall": "given only when every theme meets its minimum coverage",
    "reference": "metrics/METHODOLOGY.md",
}


@dataclass(frozen=True)
class Value:
    """One observation of a measure for one period (and maybe one group)."""

    measure: str
    period: str
    start: date
    end: date
    value: float
    sample_size: int | None = None
    disaggregation: tuple[tuple[str, str], ...] = ()
    pillar: str | None = None
    paired: bool = False  # the same respondents at baseline and later
    source: str = ""
    note: str = ""
    # Cluster or weighted surveys: either the design effect (variance against a simple random
    # sample of the same size) or the effective sample size itself; intervals use the latter.
    design_effect: float | None = None
    effective_sample_size: float | None = None

    @property
    def effective_n(self) -> float | None:
        if self.sample_size is None:
            return None
        if self.effective_sample_size is not None:
            return self.effective_sample_size
        if self.design_effect is not None:
            return self.sample_size / self.design_effect
        return float(self.sample_size)


@dataclass
class _Period:
    label: str
    start: date
    end: date
    values: dict[str, Value] = field(default_factory=dict)  # totals (no disaggregation) by measure
    groups: list[Value] = field(default_factory=list)  # disaggregated values


def _periods(values: Iterable[Value]) -> list[_Period]:
    periods: dict[str, _Period] = {}
    for v in values:
        period = periods.setdefault(v.period, _Period(v.period, v.start, v.end))
        period.start, period.end = min(period.start, v.start), max(period.end, v.end)
        if v.disaggregation:
            period.groups.append(v)
        else:
            period.values[v.measure] = v
    return sorted(periods.values(), key=lambda p: (p.start, p.end, p.label))


def score_value(measure: Measure, v: Value) -> dict:
    interval = value_interval(measure, v.value, v.effective_n)
    result = {
        "value": v.value,
        "unit": measure.unit,
        "score": round(normalise(measure, v.value), 2),
    }
    if v.sample_size:
        result["sample_size"] = v.sample_size
        if v.effective_n != v.sample_size:
            result["effective_sample_size"] = round(v.effective_n, 1)
            result["design_effect"] = round(v.sample_size / v.effective_n, 3)
    if interval is not None:
        low, high = score_interval(measure, interval)
        result["value_interval"] = [round(interval[0], 2), round(interval[1], 2)]
        result["score_interval"] = [round(low, 2), round(high, 2)]
    return result


@dataclass(frozen=True)
class _ThemeResult:
    score: float | None  # unrounded; None without data
    interval: tuple[float, float] | None
    present: list[str]
    missing: list[str]

    @property
    def coverage(self) -> float:
        return len(self.present) / (len(self.present) + len(self.missing))


def _theme(framework: Framework, theme, values: dict[str, Value], intervals: bool) -> _ThemeResult:
    present, missing, points, lows, highs = [], [], [], [], []
    for m in framework.measures_of(theme.key):
        v = values.get(m.key)
        if v is None:
            missing.append(m.key)
            continue
        present.append(m.key)
        point = normalise(m, v.value)
        points.append((point, m.weight))
        if intervals:
            # Measures without sampling error contribute their point score to both ends.
            low, high = score_interval(m, value_interval(m, v.value, v.effective_n)) or (
                point,
                point,
            )
            lows.append((low, m.weight))
            highs.append((high, m.weight))
    if not present:  # no data is not a score of zero
        return _ThemeResult(None, None, [], missing)
    interval = None
    if intervals:
        interval = (
            weighted_mean(lows, theme.aggregation),
            weighted_mean(highs, theme.aggregation),
        )
    return _ThemeResult(weighted_mean(points, theme.aggregation), interval, present, missing)


def _themes(
    framework: Framework, values: dict[str, Value], *, intervals: bool = True
) -> dict[str, _ThemeResult]:
    return {t.key: _theme(framework, t, values, intervals) for t in framework.themes}


def _rounded(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [round(interval[0], 2), round(interval[1], 2)]


def _theme_dict(theme, result: _ThemeResult) -> dict:
    coverage = {
        "present": result.present,
        "missing": result.missing,
        "ratio": round(result.coverage, 3),
        "minimum": theme.minimum_coverage,
    }
    if result.score is None:
        return {"score": None, "interval": None, "coverage": coverage}
    return {
        "score": round(result.score, 2),
        "interval": _rounded(result.interval),
        "aggregation": theme.aggregation,
        "coverage": coverage,
    }


def theme_scores(
    framework: Framework, values: dict[str, Value], *, intervals: bool = True
) -> dict[str, dict]:
    """Each theme's score, interval bounds (unless not wanted) and coverage from one
    period's totals."""
    return {
        t.key: _theme_dict(t, _theme(framework, t, values, intervals)) for t in framework.themes
    }


def _withheld(framework: Framework, themes: dict[str, _ThemeResult]) -> list[str]:
    """Why no overall score can be given: themes without data or below their minimum."""
    reasons = []
    for theme in framework.themes:
        result = themes[theme.key]
        if result.score is None:
            reasons.append(f"{theme.key}: no data")
        elif result.coverage < theme.minimum_coverage:
            reasons.append(
                f"{theme.key}: {len(result.present)} of "
                f"{len(result.present) + len(result.missing)} measures "
                f"({result.coverage:.0%}), below the framework's minimum of "
                f"{theme.minimum_coverage:.0%}"
            )
    return reasons


def overall_score(framework: Framework, themes: dict[str, _ThemeResult]) -> dict:
    """Given only when every theme has data and meets its minimum coverage; clearly
    labelled, with the reasons when withheld."""
    result = {
        "score": None,
        "interval": None,
        "label": framework.overall_label,
        "aggregation": framework.overall_aggregation,
    }
    if reasons := _withheld(framework, themes):
        return {**result, "withheld": "; ".join(reasons)}
    method = framework.overall_aggregation
    scores = [t.score for t in themes.values()]
    result["score"] = round(weighted_mean(((s, 1.0) for s in scores), method), 2)
    if all(t.interval is not None for t in themes.values()):
        result["interval"] = [
            round(weighted_mean(((t.interval[end], 1.0) for t in themes.values()), method), 2)
            for end in (0, 1)
        ]
    return result


def measure_change(measure: Measure, before: Value, after: Value) -> dict:
    """The change of one measure. Survey percentages are tested (Newcombe's interval and the
    matching p-value); other measures have no sampling uncertainty here and are not."""
    score_change = normalise(measure, after.value) - normalise(measure, before.value)
    change = {"from": before.value, "to": after.value, "score_change": round(score_change, 2)}
    if measure.survey and before.effective_n and after.effective_n:
        args = (after.value / 100, after.effective_n, before.value / 100, before.effective_n)
        difference, low, high = newcombe_difference(*args)
        significant = low > 0 or high < 0
        better = (difference > 0) == measure.higher_is_better
        change.update(
            difference_points=round(difference * 100, 2),
            interval_points=[round(low * 100, 2), round(high * 100, 2)],
            p_value=round(newcombe_p_value(*args), 6),
            significant=significant,
            direction=("improved" if better else "worsened") if significant else NO_CHANGE,
        )
        if before.paired or after.paired:
            change["note"] = (
                "The samples are paired (the same respondents): this interval for independent "
                "samples ignores their correlation and is wider than a paired method's."
            )
    else:
        change.update(
            significant=None,
            direction=NOT_TESTED,
            note="No sampling uncertainty for this measure: its change is shown (score_change) "
            "but not tested, and does not decide the theme's direction.",
        )
    return change


NO_CHANGE, NOT_TESTED, NOT_COMPARABLE = "no clear change", "not tested", "not comparable"


def theme_direction(directions: list[str]) -> str:
    """The theme's verdict from its tested measures' directions (after adjustment)."""
    improved, worsened = "improved" in directions, "worsened" in directions
    if improved and worsened:
        return "mixed"
    if improved:
        return "improved"
    if worsened:
        return "worsened"
    return NO_CHANGE


def compute_report(
    framework: Framework,
    values: Iterable[Value],
    *,
    baseline: str | None = None,
    latest: str | None = None,
) -> dict:
    """A project's report: every period scored, and the change from baseline to latest."""
    values = list(values)
    periods = _periods(values)
    by_label = {p.label: p for p in periods}
    for name, label in (("baseline", baseline), ("latest", latest)):
        if label is not None and label not in by_label:
            raise ValueError(f"{name} period {label!r} has no data")
    report = {
        "framework": {"id": framework.id, "version": framework.version, "name": framework.name},
        "method": {**METHOD, "theme_aggregation": {t.key: t.aggregation for t in framework.themes}},
        "periods": [
            {"label": p.label, "start": p.start.isoformat(), "end": p.end.isoformat()}
            for p in periods
        ],
        "measures": {},
        "themes": {},
        "overall": {},
        "breakdowns": {},
        "change": None,
        "data": [_row(v) for v in values],
    }
    for period in periods:
        for key, v in period.values.items():
            report["measures"].setdefault(key, {})[period.label] = score_value(
                framework.measures[key], v
            )
        themes = _themes(framework, period.values)
        for theme in framework.themes:
            report["themes"].setdefault(theme.key, {})[period.label] = _theme_dict(
                theme, themes[theme.key]
            )
        report["overall"][period.label] = overall_score(framework, themes)
        for v in period.groups:
            entry = {
                "group": dict(v.disaggregation),
                **score_value(framework.measures[v.measure], v),
            }
            report["breakdowns"].setdefault(v.measure, {}).setdefault(period.label, []).append(
                entry
            )
    if len(periods) >= 2:
        first = by_label[baseline] if baseline else by_label.get("baseline", periods[0])
        last = by_label[latest] if latest else next(p for p in reversed(periods) if p is not first)
        report["change"] = _change(framework, first, last)
    return report


def _change(framework: Framework, first: _Period, last: _Period) -> dict:
    measures = {
        key: measure_change(framework.measures[key], first.values[key], last.values[key])
        for key in first.values.keys() & last.values.keys()
    }
    theme_changes = {}
    for theme in framework.themes:
        theme_changes[theme.key] = _theme_change(framework, theme, first, last, measures)
    return {
        "from": first.label,
        "to": last.label,
        "measures": dict(sorted(measures.items())),
        "themes": theme_changes,
    }


def _theme_change(
    framework: Framework, theme, first: _Period, last: _Period, measures: dict[str, dict]
) -> dict | None:
    """Like for like: the theme's score on the measures present in both periods, its
    direction from those whose change is tested, Holm-adjusted within the theme."""
    defined = [m.key for m in framework.measures_of(theme.key)]
    before = [k for k in defined if k in first.values]
    after = [k for k in defined if k in last.values]
    if not before and not after:
        return None
    shared = [k for k in defined if k in before and k in after]
    result = {
        "measures": shared,
        "coverage_changed": before != after,
        "only_in_from": [k for k in before if k not in after],
        "only_in_to": [k for k in after if k not in before],
    }
    if result["coverage_changed"]:
        result["note"] = (
            "The theme's measures differ between the periods: the change is computed on the "
            "measures present in both, never read from the difference of coverage."
        )
    if not shared:
        unknown = dict.fromkeys(("from", "to", "score_change"))
        return {**result, **unknown, "direction": NOT_COMPARABLE}
    common = {k: first.values[k] for k in shared}, {k: last.values[k] for k in shared}
    start, end = (_theme(framework, theme, v, False).score for v in common)
    tested = {k: measures[k]["p_value"] for k in shared if "p_value" in measures[k]}
    adjusted = holm(tested)
    directions = []
    for key, p in adjusted.items():
        measures[key]["adjusted_p_value"] = round(p, 6)
        if p < LEVEL:
            better = (measures[key]["difference_points"] > 0) == framework.measures[
                key
            ].higher_is_better
            directions.append("improved" if better else "worsened")
    return {
        **result,
        "from": round(start, 2),
        "to": round(end, 2),
        "score_change": round(end - start, 2),
        "tested": sorted(tested),
        "untested": [k for k in shared if k not in tested],
        "direction": theme_direction(directions) if tested else NOT_TESTED,
    }


def _row(v: Value) -> dict:
    return {
        "measure": v.measure,
        "period": v.period,
        "start": v.start.isoformat(),
        "end": v.end.isoformat(),
        "value": v.value,
        "sample_size": v.sample_size,
        "disaggregation": dict(v.disaggregation),
        "pillar": v.pillar,
        "paired": v.paired,
        "source": v.source,
        "note": v.note,
        "design_effect": v.design_effect,
        "effective_sample_size": v.effective_sample_size,
    }
