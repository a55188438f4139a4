"""Reports: a project's scores per measure and theme with intervals, coverage and change
over time; comparisons across projects. Plain data in, plain dicts out."""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from metrics.framework import Framework, Measure
from metrics.scoring import normalise, score_interval, value_interval, weighted_mean
from metrics.stats import newcombe_difference

METHOD = {
    "normalisation": "min-max against fixed goalposts (log scale where stated), clipped to 0-100, "
    "flipped where higher is worse; 100 = most peaceful",
    "value_interval": "95% Wilson score interval for survey percentages",
    "change_interval": "95% Newcombe hybrid score interval for the difference of two "
    "independent proportions",
    "theme_interval": "bounds from the measures' interval ends (conservative: assumes their "
    "errors move together)",
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
    interval = value_interval(measure, v.value, v.sample_size)
    result = {
        "value": v.value,
        "unit": measure.unit,
        "score": round(normalise(measure, v.value), 2),
    }
    if v.sample_size:
        result["sample_size"] = v.sample_size
    if interval is not None:
        low, high = score_interval(measure, interval)
        result["value_interval"] = [round(interval[0], 2), round(interval[1], 2)]
        result["score_interval"] = [round(low, 2), round(high, 2)]
    return result


def theme_scores(
    framework: Framework, values: dict[str, Value], *, intervals: bool = True
) -> dict[str, dict]:
    """Each theme's score, interval bounds (unless not wanted) and coverage from one
    period's totals."""
    themes = {}
    for theme in framework.themes:
        defined = framework.measures_of(theme.key)
        present = [m for m in defined if m.key in values]
        coverage = {
            "present": [m.key for m in present],
            "missing": [m.key for m in defined if m.key not in values],
            "ratio": round(len(present) / len(defined), 3),
        }
        if not present:  # no data is not a score of zero
            themes[theme.key] = {"score": None, "interval": None, "coverage": coverage}
            continue
        points = [(normalise(m, values[m.key].value), m.weight) for m in present]
        result = {
            "score": round(weighted_mean(points, theme.aggregation), 2),
            "interval": None,
            "aggregation": theme.aggregation,
            "coverage": coverage,
        }
        if intervals:
            lows, highs = [], []
            for m, (point, weight) in zip(present, points, strict=True):
                v = values[m.key]
                bounds = score_interval(m, value_interval(m, v.value, v.sample_size)) or (
                    point,
                    point,
                )
                lows.append((bounds[0], weight))
                highs.append((bounds[1], weight))
            result["interval"] = [
                round(weighted_mean(lows, theme.aggregation), 2),
                round(weighted_mean(highs, theme.aggregation), 2),
            ]
        themes[theme.key] = result
    return themes


def overall_score(framework: Framework, themes: dict[str, dict]) -> dict | None:
    """Only when every theme has data; clearly labelled."""
    scores = [t["score"] for t in themes.values()]
    if any(score is None for score in scores):
        return None
    return {
        "score": round(weighted_mean(((s, 1.0) for s in scores), framework.overall_aggregation), 2),
        "label": framework.overall_label,
        "aggregation": framework.overall_aggregation,
    }


def measure_change(measure: Measure, before: Value, after: Value) -> dict:
    score_change = normalise(measure, after.value) - normalise(measure, before.value)
    change = {"from": before.value, "to": after.value, "score_change": round(score_change, 2)}
    if measure.survey and before.sample_size and after.sample_size:
        difference, low, high = newcombe_difference(
            after.value / 100, after.sample_size, before.value / 100, before.sample_size
        )
        significant = low > 0 or high < 0
        better = (difference > 0) == measure.higher_is_better
        change.update(
            difference_points=round(difference * 100, 2),
            interval_points=[round(low * 100, 2), round(high * 100, 2)],
            significant=significant,
            direction=("improved" if better else "worsened")
            if significant
            else "no significant change",
        )
        if before.paired or after.paired:
            change["note"] = (
                "The samples are paired (the same respondents): this interval for independent "
                "samples ignores their correlation and is wider than a paired method's."
            )
    else:
        change.update(
            significant=None,
            direction="improved"
            if score_change > 0
            else "worsened"
            if score_change < 0
            else "unchanged",
            note="No sampling uncertainty for this measure: the change is not tested for "
            "significance.",
        )
    return change


def theme_direction(directions: list[str]) -> str:
    improved, worsened = "improved" in directions, "worsened" in directions
    if improved and worsened:
        return "mixed"
    if improved:
        return "improved"
    if worsened:
        return "worsened"
    return "no significant change"


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
        themes = theme_scores(framework, period.values)
        for key, result in themes.items():
            report["themes"].setdefault(key, {})[period.label] = result
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
        report["change"] = _change(framework, first, last, report["themes"])
    return report


def _change(framework: Framework, first: _Period, last: _Period, themes: dict) -> dict:
    measures = {
        key: measure_change(framework.measures[key], first.values[key], last.values[key])
        for key in first.values.keys() & last.values.keys()
    }
    theme_changes = {}
    for theme in framework.themes:
        before, after = themes[theme.key].get(first.label), themes[theme.key].get(last.label)
        if not before or not after or before["score"] is None or after["score"] is None:
            theme_changes[theme.key] = None
            continue
        directions = [
            c["direction"] for k, c in measures.items() if framework.measures[k].theme == theme.key
        ]
        theme_changes[theme.key] = {
            "from": before["score"],
            "to": after["score"],
            "score_change": round(after["score"] - before["score"], 2),
            "direction": theme_direction(directions),
        }
    return {
        "from": first.label,
        "to": last.label,
        "measures": dict(sorted(measures.items())),
        "themes": theme_changes,
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
    }


# -- comparison ---------------------------------------------------------------------------------


def latest_theme_scores(framework: Framework, values: Iterable[Value]) -> dict[str, dict]:
    """Theme scores of a project's latest period (the light path used by comparisons)."""
    periods = _periods(values)
    return theme_scores(framework, periods[-1].values, intervals=False) if periods else {}


def compare(framework: Framework, projects: Iterable[tuple[str, str, Iterable[Value]]]) -> dict:
    """Each project's latest theme scores side by side, the distribution per theme (median,
    quartiles) and each project's position in it (percentile rank)."""
    rows = []
    for project_id, title, values in projects:
        themes = latest_theme_scores(framework, values)
        rows.append(
            {
                "project": project_id,
                "title": title,
                "scores": {k: t["score"] for k, t in themes.items()},
                "coverage": {k: t["coverage"]["ratio"] for k, t in themes.items()},
            }
        )
    distribution, caveats = {}, []
    for theme in framework.themes:
        scores = sorted(
            r["scores"].get(theme.key) for r in rows if r["scores"].get(theme.key) is not None
        )
        coverages = {
            r["coverage"].get(theme.key) for r in rows if r["scores"].get(theme.key) is not None
        }
        distribution[theme.key] = _distribution(scores)
        if len(coverages) > 1:
            caveats.append(
                f"{theme.key}: projects cover different measures "
                f"(coverage from {min(coverages):.0%} to "
                f"{max(coverages):.0%}): their scores rest on different evidence."
            )
        for row in rows:
            score = row["scores"].get(theme.key)
            row.setdefault("position", {})[theme.key] = (
                None if score is None else _percentile_rank(scores, score)
            )
    return {
        "framework": {"id": framework.id, "version": framework.version, "name": framework.name},
        "method": METHOD,
        "projects": rows,
        "distribution": distribution,
        "caveats": caveats,
    }


def _distribution(scores: list[float]) -> dict:
    if not scores:
        return {"n": 0, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    q1, median, q3 = (
        statistics.quantiles(scores, n=4, method="inclusive")
        if len(scores) > 1
        else (scores[0],) * 3
    )
    return {
        "n": len(scores),
        "median": round(median, 2),
        "q1": round(q1, 2),
        "q3": round(q3, 2),
        "min": scores[0],
        "max": scores[-1],
    }


def _percentile_rank(sorted_scores: list[float], score: float) -> float:
    """Share of projects scoring below, counting ties as half (0-100)."""
    below = bisect.bisect_left(sorted_scores, score)
    equal = bisect.bisect_right(sorted_scores, score) - below
    return round((below + equal / 2) / len(sorted_scores) * 100, 1)
