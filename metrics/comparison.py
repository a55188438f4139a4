"""Comparisons across projects: each project's latest theme scores with their intervals side
by side, the distribution per theme (median, quartiles) and, instead of a rank by point
estimate, the range of ranks each project's interval allows.

Every project is scored at once, one array per measure and theme (the same arithmetic, in
the same order, as ``theme_scores`` does for one project's latest period, so the results are
identical to the last bit). Memory holds a few numbers per project and measure, never an
object per value; the rows are built a chunk at a time when they are written
(``Comparison.rows``), so a comparison of 100,000 projects streams."""

from __future__ import annotations

import json
import math
import statistics
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from json.encoder import encode_basestring_ascii

import numpy as np

from metrics.framework import Framework, Measure
from metrics.report import METHOD, Value
from metrics.scoring import weighted_mean
from metrics.stats import Z95

COMPARISON_METHOD = {
    **METHOD,
    "ranks": "each project's rank per theme (1 = most peaceful) is the range of ranks its "
    "95% interval allows: best = 1 + the projects whose interval lies wholly above it, "
    "worst = the projects whose interval does not lie wholly below it. Projects whose rank "
    "ranges overlap cannot be told apart; point estimates are never ranked on their own",
}

ROWS_PER_CHUNK = 2000
_json_text = encode_basestring_ascii  # json.dumps of a str, without its checks
NAN = math.nan


class ComparisonInput:
    """Each project's latest totals as flat arrays of numbers: what scoring needs, nothing
    else. A project's totals come as its measure keys and their numbers, as the database
    sends them (``add_totals``, api.projects.service.comparison) or from ``Value`` objects
    (``add``); they are laid out one column per measure of the framework at the end, all
    at once."""

    def __init__(self, framework: Framework) -> None:
        self.framework = framework
        self.keys = list(framework.measures)
        self.ids: list[str] = []
        self.titles: list[str] = []
        self.has_values = array("b")
        self._counts = array("q")  # how many totals each project has
        self._columns = array("q")  # each total's column in the framework (-1: not in it)
        self._values_and_sizes = array("d")  # per project: its values, then its sample sizes
        self._design_effects = array("d")  # per total
        self._effective_sizes = array("d")  # per total
        self._positions: dict[str | tuple[str, ...], tuple[array, array]] = {}
        self._nan = array("d", [NAN])

    def add(self, project_id: str, title: str, totals: dict[str, Value] | None) -> None:
        """A project and its latest period's totals by measure (None: it has no values)."""
        values = (totals or {}).values()
        self.add_totals(
            project_id,
            title,
            tuple(totals or {}),
            [v.value for v in values] + [_number(v.sample_size) for v in values],
            [_number(v.design_effect) for v in values],
            [_number(v.effective_sample_size) for v in values],
            has_values=totals is not None,
        )

    def add_totals(
        self,
        project_id: str,
        title: str,
        measures: str | tuple[str, ...],
        values_and_sizes: Sequence[float] | np.ndarray,
        design_effects: Sequence[float] | np.ndarray | None,
        effective_sizes: Sequence[float] | np.ndarray | None,
        *,
        has_values: bool = True,
    ) -> None:
        """A project's totals: their measure keys (or the keys joined by commas); their
        values then their sample sizes; their design effects and effective sample sizes,
        or None where no total has one (NaN for a missing number). Numbers may come as
        float64 arrays, as the database's are read (``np.ndarray``)."""
        self.ids.append(project_id)
        self.titles.append(title)
        self.has_values.append(has_values)
        known = self._positions.get(measures)
        if known is None:  # most projects share a handful of measure sets
            keys = measures.split(",") if isinstance(measures, str) else measures
            index = {k: j for j, k in enumerate(self.keys)}
            positions = array("q", [index.get(k, -1) for k in keys if k])  # "": no keys
            known = self._positions[measures] = (positions, self._nan * len(positions))
        positions, nans = known
        self._counts.append(len(positions))
        self._columns.extend(positions)
        for target, numbers in (
            (self._values_and_sizes, values_and_sizes),
            (self._design_effects, nans if design_effects is None else design_effects),
            (self._effective_sizes, nans if effective_sizes is None else effective_sizes),
        ):
            if isinstance(numbers, np.ndarray):
                target.frombytes(numbers.astype(float, copy=False).tobytes())
            else:
                target.extend(numbers)

    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """The values (NaN where missing) and the effective sample sizes (0 where none),
        one row per project and one column per measure."""
        shape = (len(self.ids), len(self.keys))
        counts = np.frombuffer(self._counts, dtype=np.int64)
        columns = np.frombuffer(self._columns, dtype=np.int64)
        values_and_sizes = np.frombuffer(self._values_and_sizes, dtype=float)
        rows = np.repeat(np.arange(len(counts)), counts)
        # Total t of a project whose first total is f and who has L: its value is number
        # 2 f + (t - f) of the values and sizes, its sample size L further.
        first = np.repeat(np.cumsum(counts) - counts, counts)
        place = first + np.arange(len(columns))
        stride = np.repeat(counts, counts)
        known = columns >= 0
        rows, columns, place, stride = rows[known], columns[known], place[known], stride[known]
        values, sizes, design_effects, effective = (np.full(shape, NAN) for _ in range(4))
        values[rows, columns] = values_and_sizes[place]
        sizes[rows, columns] = values_and_sizes[place + stride]
        design_effects[rows, columns] = np.frombuffer(self._design_effects, dtype=float)[known]
        effective[rows, columns] = np.frombuffer(self._effective_sizes, dtype=float)[known]
        return values, effective_sizes(sizes, design_effects, effective)


def _number(number: float | None) -> float:
    return NAN if number is None else number


def effective_sizes(
    sample_sizes: np.ndarray, design_effects: np.ndarray, effective: np.ndarray
) -> np.ndarray:
    """``Value.effective_n`` over arrays, 0 where there is none (as scoring treats None):
    the effective sample size if given, else the sample size over the design effect, else
    the sample size."""
    with np.errstate(invalid="ignore"):
        n = np.where(
            np.isnan(effective),
            np.where(np.isnan(design_effects), sample_sizes, sample_sizes / design_effects),
            effective,
        )
    return np.where(np.isnan(sample_sizes) | np.isnan(n), 0.0, n)


def latest_totals(values: Iterable[Value]) -> dict[str, Value] | None:
    """The totals of a project's latest period by measure (``_periods(values)[-1].values``
    in one light pass), or None when the project has no values at all."""
    values = values if isinstance(values, list | tuple) else list(values)
    spans: dict[str, list[date]] = {}
    for v in values:
        span = spans.get(v.period)
        if span is None:
            spans[v.period] = [v.start, v.end]
        else:
            if v.start < span[0]:
                span[0] = v.start
            if v.end > span[1]:
                span[1] = v.end
    if not spans:
        return None
    latest = max(spans, key=lambda label: (spans[label][0], spans[label][1], label))
    return {v.measure: v for v in values if v.period == latest and not v.disaggregation}


@dataclass(frozen=True)
class _ThemeColumns:
    """One theme's figures for every project, rounded as they are shown (NaN: no score)."""

    score: np.ndarray
    low: np.ndarray
    high: np.ndarray
    coverage: np.ndarray
    best: np.ndarray  # rank range; 0 where the project has no score
    worst: np.ndarray
    ranked: int  # how many projects are ranked


class Comparison:
    """A comparison's figures for every project, held as arrays; ``as_dict`` or
    ``header`` + ``rows`` give the representation."""

    def __init__(self, totals: ComparisonInput) -> None:
        framework = self.framework = totals.framework
        self.ids, self.titles = totals.ids, totals.titles
        self.has_values = np.frombuffer(totals.has_values, dtype=np.int8).astype(bool)
        values, sizes = totals.matrices()
        arrays = {
            key: (np.ascontiguousarray(values[:, j]), np.ascontiguousarray(sizes[:, j]))
            for j, key in enumerate(totals.keys)
        }
        del values, sizes
        count = len(self.ids)
        self.themes: dict[str, _ThemeColumns] = {}
        self.distribution: dict[str, dict] = {}
        self.caveats: list[str] = []
        for theme in framework.themes:
            score, low, high, coverage = _theme_arrays(framework, theme, arrays, count)
            score, low, high = (_round(a) for a in (score, low, high))
            indices = np.flatnonzero(~np.isnan(score) & self.has_values)
            coverages = set(coverage[indices].tolist())
            self.distribution[theme.key] = _distribution(
                np.sort(score[indices], kind="stable").tolist()
            )
            if len(coverages) > 1:
                self.caveats.append(
                    f"{theme.key}: projects cover different measures "
                    f"(coverage from {min(coverages):.0%} to "
                    f"{max(coverages):.0%}): their scores rest on different evidence."
                )
            best, worst = np.zeros(count, dtype=int), np.zeros(count, dtype=int)
            best[indices], worst[indices] = _rank_ranges(low[indices], high[indices])
            self.distribution[theme.key]["distinguishable"] = int(
                np.count_nonzero(best[indices] == worst[indices])
            )
            self.themes[theme.key] = _ThemeColumns(
                score, low, high, coverage, best, worst, len(indices)
            )

    def header(self) -> dict:
        """Everything but the projects' rows."""
        framework = self.framework
        return {
            "framework": {"id": framework.id, "version": framework.version, "name": framework.name},
            "method": COMPARISON_METHOD,
            "distribution": self.distribution,
            "caveats": self.caveats,
        }

    def chunks(self, start: int = 0, stop: int | None = None):
        """Per chunk of projects: its first index, whether each has values, and per theme
        the lists of its figures (score, low, high, coverage, best, worst)."""
        stop = len(self.ids) if stop is None else stop
        for begin in range(start, stop, ROWS_PER_CHUNK):
            end = min(begin + ROWS_PER_CHUNK, stop)
            yield (
                begin,
                self.has_values[begin:end].tolist(),
                {
                    key: [
                        getattr(columns, name)[begin:end].tolist()
                        for name in ("score", "low", "high", "coverage", "best", "worst")
                    ]
                    for key, columns in self.themes.items()
                },
            )

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[dict]:
        """The projects' rows in order, built a chunk at a time."""
        stop = len(self.ids) if stop is None else stop
        for begin, has_values, chunk in self.chunks(start, stop):
            for i, values in enumerate(has_values):
                row = {
                    "project": self.ids[begin + i],
                    "title": self.titles[begin + i],
                    "scores": {},
                    "intervals": {},
                    "coverage": {},
                    "rank": {},
                }
                for key, (score, low, high, coverage, best, worst) in chunk.items():
                    if values:
                        scored = score[i] == score[i]
                        row["scores"][key] = score[i] if scored else None
                        row["intervals"][key] = [low[i], high[i]] if scored else None
                        row["coverage"][key] = coverage[i]
                    row["rank"][key] = (
                        {"best": best[i], "worst": worst[i], "of": self.themes[key].ranked}
                        if best[i]
                        else None
                    )
                yield row

    def json_rows(self) -> Iterator[str]:
        """``json.dumps(row, separators=(",", ":"))`` of each row of ``rows``, written
        straight from the figures (a tenth of the time: 100,000 rows are a lot of dicts)."""
        keys = {key: json.dumps(key) + ":" for key in self.themes}
        for begin, has_values, chunk in self.chunks():
            parts = [[], [], [], []]  # scores, intervals, coverage, rank: text per theme
            for key, (score, low, high, coverage, best, worst) in chunk.items():
                name, ranked = keys[key], self.themes[key].ranked
                parts[0].append([f"{name}{s!r}" if s == s else f"{name}null" for s in score])
                parts[1].append(
                    [
                        f"{name}[{a!r},{b!r}]" if s == s else f"{name}null"
                        for s, a, b in zip(score, low, high, strict=True)
                    ]
                )
                parts[2].append([f"{name}{c!r}" for c in coverage])
                parts[3].append(
                    [
                        f'{name}{{"best":{b},"worst":{w},"of":{ranked}}}' if b else f"{name}null"
                        for b, w in zip(best, worst, strict=True)
                    ]
                )
            # Each part's text per project: its themes' texts joined.
            scores, intervals, coverage, rank = (
                [",".join(themes) for themes in zip(*part, strict=True)] for part in parts
            )
            end = begin + len(has_values)
            for i, (project_id, title, values) in enumerate(
                zip(self.ids[begin:end], self.titles[begin:end], has_values, strict=True)
            ):
                yield (
                    f'{{"project":{_json_text(project_id)},"title":{_json_text(title)},'
                    f'"scores":{{{scores[i] if values else ""}}},'
                    f'"intervals":{{{intervals[i] if values else ""}}},'
                    f'"coverage":{{{coverage[i] if values else ""}}},"rank":{{{rank[i]}}}}}'
                )

    def as_dict(self) -> dict:
        header = self.header()
        return {
            "framework": header["framework"],
            "method": header["method"],
            "projects": list(self.rows()),
            "distribution": header["distribution"],
            "caveats": header["caveats"],
        }

    def scores_of(self, theme: str) -> list[float]:
        """The scores of the projects scored on ``theme``, in the projects' order."""
        score = self.themes[theme].score
        return score[~np.isnan(score) & self.has_values].tolist()

    def row_of(self, project_id: str) -> dict | None:
        try:
            i = self.ids.index(project_id)
        except ValueError:
            return None
        return next(self.rows(i, i + 1))


def compare(framework: Framework, projects: Iterable[tuple[str, str, Iterable[Value]]]) -> dict:
    """Each project's latest theme scores with their intervals side by side, the
    distribution per theme and the range of ranks each project's interval allows."""
    totals = ComparisonInput(framework)
    for project_id, title, values in projects:
        totals.add(project_id, title, latest_totals(values))
    return Comparison(totals).as_dict()


def _round(x: np.ndarray) -> np.ndarray:
    """Python's ``round(x, 2)`` of every element, which is correctly rounded (NumPy's is
    not): the nearest double to k / 100 for the same integer k, so only the elements whose
    hundredfold lies within a hair of a tie are left to Python to decide."""
    scaled = x * 100.0
    rounded = np.rint(scaled) / 100.0
    with np.errstate(invalid="ignore"):
        near_tie = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6
    for i in np.flatnonzero(near_tie).tolist():
        rounded[i] = round(float(x[i]), 2)
    return rounded


# math.log itself for each element (NumPy's own log may differ in the last bit on some
# processors), without a Python loop around it.
_log = np.frompyfunc(math.log, 1, 1)


def _normalise_array(measure: Measure, x: np.ndarray) -> np.ndarray:
    """``normalise`` over an array, operation for operation (log values by ``math.log``)."""
    low, high = measure.goalposts
    if measure.transform == "log":
        x = _log(np.maximum(x, low)).astype(float)
        low, high = math.log(low), math.log(high)
    score = np.minimum(100.0, np.maximum(0.0, (x - low) / (high - low) * 100.0))
    return score if measure.higher_is_better else 100.0 - score


def _wilson_array(p: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``wilson_interval`` over arrays, operation for operation."""
    if np.any(n <= 0):
        raise ValueError("n must be positive")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must be within 0..1")
    z = Z95
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z / (1 + z2 / n)) * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def _measure_arrays(measure: Measure, x: np.ndarray, n: np.ndarray):
    """Which projects have the measure (``x`` is NaN where not), its point score and the
    score interval's ends (the point where it has no sampling error), as ``_theme``
    computes them one project at a time."""
    present = ~np.isnan(x)
    x = np.where(present, x, measure.goalposts[0])  # a harmless stand-in, masked out later
    point = _normalise_array(measure, x)
    low = high = point
    tested = present & (n != 0) if measure.survey else np.zeros_like(present)
    if tested.any():
        ends = _wilson_array(x[tested] / 100.0, n[tested])
        a, b = (_normalise_array(measure, end * 100.0) for end in ends)
        low, high = point.copy(), point.copy()
        low[tested], high[tested] = np.minimum(a, b), np.maximum(a, b)
    return present, point, low, high


def _theme_arrays(framework: Framework, theme, arrays: dict, count: int):
    """Every project's theme score, interval ends (NaN without data) and coverage ratio."""
    measures = framework.measures_of(theme.key)
    if not measures:
        nothing = np.full(count, math.nan)
        return nothing, nothing, nothing, nothing
    parts = [_measure_arrays(m, *arrays[m.key]) for m in measures]
    present_count = np.zeros(count, dtype=int)
    for present, *_ in parts:
        present_count += present
    ratios = np.array([round(c / len(measures), 3) for c in range(len(measures) + 1)])
    coverage = ratios[present_count]
    results = []
    for column in (1, 2, 3):  # point, low, high
        if theme.aggregation == "arithmetic":
            # weighted_mean's running sums, measure by measure in the framework's order
            # (adding 0.0 for an absent measure changes no sum).
            total = np.zeros(count)
            weighted = np.zeros(count)
            for m, part in zip(measures, parts, strict=True):
                present = part[0]
                total = total + np.where(present, m.weight, 0.0)
                weighted = weighted + np.where(present, part[column] * m.weight, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                result = weighted / total
        else:
            columns = [part[column].tolist() for part in parts]
            masks = [part[0].tolist() for part in parts]
            result = np.array(
                [
                    weighted_mean(
                        [(columns[j][i], m.weight) for j, m in enumerate(measures) if masks[j][i]],
                        theme.aggregation,
                    )
                    if present_count[i]
                    else math.nan
                    for i in range(count)
                ],
                dtype=float,
            )
        result[present_count == 0] = math.nan
        results.append(result)
    return (*results, coverage)


def _rank_ranges(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each (low, high): the best and worst rank (1 = highest) among all, in n log n."""
    n = len(low)
    sorted_lows, sorted_highs = np.sort(low), np.sort(high)
    best = 1 + n - np.searchsorted(sorted_lows, high, side="right")
    worst = n - np.searchsorted(sorted_highs, low, side="left")
    return best, worst


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
