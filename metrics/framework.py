"""A framework is data: themes, measures with goalposts and transforms, weights and the
aggregation method. Load and validate it; a different framework needs no code change."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from importlib.resources import files
from pathlib import Path

POLARITIES = ("higher_is_better", "higher_is_worse")
TRANSFORMS = ("linear", "log")
# "geometric" is the standard weighted geometric mean (as the HDI's): a score of 0 on any part
# makes the whole 0. "geometric_shifted" is prod((s + 1) ** w) - 1: less compensating than
# the arithmetic mean, yet a single 0 does not wipe out the rest. See METHODOLOGY.md.
AGGREGATIONS = ("arithmetic", "geometric", "geometric_shifted")
PERCENT = "percent"


class FrameworkError(ValueError):
    """The framework document is not valid; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Measure:
    key: str
    name: str
    theme: str
    pillar: str
    unit: str
    polarity: str
    valid_range: tuple[float, float]
    goalposts: tuple[float, float]
    transform: str = "linear"
    weight: float = 1.0
    survey: bool = False  # a proportion of respondents: needs a sample size, gets intervals
    source: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.polarity == "higher_is_better"


@dataclass(frozen=True)
class Theme:
    key: str
    name: str
    aggregation: str = "arithmetic"
    # The share of the theme's measures (0-1) that must have data before an overall score
    # that includes this theme is given; 0 means any data at all.
    minimum_coverage: float = 0.0


@dataclass(frozen=True)
class Framework:
    id: str
    version: str
    name: str
    themes: tuple[Theme, ...]
    measures: dict[str, Measure]
    pillars: tuple[str, ...] = ("aligned_measures", "lived_experiences", "expert_observations")
    minimum_sample_size: int = 30
    overall_aggregation: str = "arithmetic"
    overall_label: str = "Overall"
    extra_keys: frozenset[str] = field(default_factory=frozenset)

    def measures_of(self, theme: str) -> list[Measure]:
        return self._by_theme.get(theme, [])

    @cached_property
    def _by_theme(self) -> dict[str, list[Measure]]:
        grouped: dict[str, list[Measure]] = {}
        for measure in self.measures.values():
            grouped.setdefault(measure.theme, []).append(measure)
        return grouped

    @property
    def label(self) -> str:
        return f"{self.id} {self.version}"

    def with_measures(self, measures: list[Measure]) -> Framework:
        """This framework plus a project's own indicators (lived experiences)."""
        problems = []
        for measure in measures:
            if measure.key in self.measures:
                problems.append(f"measure {measure.key!r} already exists in {self.label}")
            problems += _measure_problems(measure, {t.key for t in self.themes}, self.pillars)
        if problems:
            raise FrameworkError(problems)
        merged = {**self.measures, **{m.key: m for m in measures}}
        return replace(
            self, measures=merged, extra_keys=self.extra_keys | {m.key for m in measures}
        )


def default_framework_document() -> dict:
    return json.loads(files("metrics").joinpath("frameworks/peace-impact-v1.json").read_text())


@lru_cache(maxsize=1)
def default_framework() -> Framework:
    return load_framework(default_framework_document())


def load_framework(source: str | Path | dict) -> Framework:
    """A validated Framework from a JSON file path or an already-parsed document.

    Raises FrameworkError listing every problem, each named by its path in the document
    (``measures[3].goalposts``), whatever the document holds: never another exception."""
    document = source if isinstance(source, dict) else _read_document(Path(source))
    if not isinstance(document, dict):
        raise FrameworkError(["the document: must be a JSON object"])
    check = _Checker()
    check.keys(document, "", TOP_KEYS, required=("id", "version", "name", "themes", "measures"))
    identity = {
        key: check.text(document, key, key) for key in ("id", "version", "name") if key in document
    }
    pillars = tuple(
        check.text_list(document, "pillars", "pillars", default=list(Framework.pillars))
    )
    themes = [
        theme
        for i, raw in enumerate(check.items(document, "themes", "themes"))
        if (theme := _theme(check, raw, f"themes[{i}]")) is not None
    ]
    theme_keys = [t.key for t in themes]
    for key in {k for k in theme_keys if theme_keys.count(k) > 1}:
        check.problem("themes", f"the key {key!r} is used twice")
    measures: dict[str, Measure] = {}
    for i, raw in enumerate(check.items(document, "measures", "measures")):
        measure = _measure(check, raw, f"measures[{i}]", set(theme_keys), pillars)
        if measure is None:
            continue
        if measure.key in measures:
            check.problem(f"measures[{i}].key", f"{measure.key!r} is defined twice")
        measures[measure.key] = measure
    for i, theme in enumerate(themes):
        if not any(m.theme == theme.key for m in measures.values()):
            check.problem(f"themes[{i}]", f"theme {theme.key!r} has no measure")
    minimum_sample_size = check.number(
        document, "minimum_sample_size", "minimum_sample_size", default=30, low=1, whole=True
    )
    overall = check.mapping(document, "overall", "overall")
    check.keys(overall, "overall", OVERALL_KEYS)
    overall_aggregation = check.choice(
        overall, "aggregation", "overall.aggregation", AGGREGATIONS, default="arithmetic"
    )
    overall_label = check.text(overall, "label", "overall.label", default="Overall")
    check.raise_if_any()
    return Framework(
        id=identity["id"],
        version=identity["version"],
        name=identity["name"],
        themes=tuple(themes),
        measures=measures,
        pillars=pillars,
        minimum_sample_size=int(minimum_sample_size),
        overall_aggregation=overall_aggregation,
        overall_label=overall_label,
    )


def measure_from_dict(raw: dict, path: str = "measure") -> Measure:
    """One measure (a framework's, or a project's own indicator) from its document; the
    theme and pillar are checked against a framework by ``Framework.with_measures``."""
    check = _Checker()
    measure = _measure(check, raw, path, None, None)
    check.raise_if_any()
    return measure


TOP_KEYS = (
    "id",
    "version",
    "name",
    "description",
    "themes",
    "pillars",
    "measures",
    "minimum_sample_size",
    "overall",
)
THEME_KEYS = ("key", "name", "description", "aggregation", "minimum_coverage")
MEASURE_KEYS = (
    "key",
    "name",
    "description",
    "theme",
    "pillar",
    "unit",
    "polarity",
    "valid_range",
    "goalposts",
    "transform",
    "weight",
    "survey",
    "source",
)
OVERALL_KEYS = ("aggregation", "label")


def _read_document(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FrameworkError([f"{path}: cannot be read ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise FrameworkError([f"{path}: is not UTF-8 text"]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FrameworkError(
            [f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None
    except (ValueError, RecursionError):  # huge integers, absurd nesting
        raise FrameworkError([f"{path}: not a JSON document this program can read"]) from None


def _theme(check: _Checker, raw, path: str) -> Theme | None:
    if not check.is_mapping(raw, path):
        return None
    check.keys(raw, path, THEME_KEYS, required=("key",))
    key = check.text(raw, "key", f"{path}.key")
    name = check.text(raw, "name", f"{path}.name", default=key)
    aggregation = check.choice(
        raw, "aggregation", f"{path}.aggregation", AGGREGATIONS, default="arithmetic"
    )
    minimum = check.number(
        raw, "minimum_coverage", f"{path}.minimum_coverage", default=0.0, low=0.0, high=1.0
    )
    if key is None:
        return None
    return Theme(key, name or key, aggregation or "arithmetic", minimum)


def _measure(
    check: _Checker,
    raw,
    path: str,
    theme_keys: set[str] | None,
    pillars: tuple[str, ...] | None,
) -> Measure | None:
    if not check.is_mapping(raw, path):
        return None
    before = len(check.problems)
    check.keys(raw, path, MEASURE_KEYS, required=("key", "theme", "unit", "polarity"))
    key = check.text(raw, "key", f"{path}.key")
    theme = check.text(raw, "theme", f"{path}.theme")
    if theme is not None and theme_keys is not None and theme not in theme_keys:
        check.problem(f"{path}.theme", f"{theme!r} is not one of the themes")
    pillar = check.text(raw, "pillar", f"{path}.pillar", default="aligned_measures")
    if pillar is not None and pillars is not None and pillar not in pillars:
        check.problem(f"{path}.pillar", f"{pillar!r} is not one of {', '.join(pillars)}")
    unit = check.text(raw, "unit", f"{path}.unit")
    polarity = check.choice(raw, "polarity", f"{path}.polarity", POLARITIES)
    transform = check.choice(raw, "transform", f"{path}.transform", TRANSFORMS, default="linear")
    goalposts = check.interval(raw, "goalposts", f"{path}.goalposts", strict=True)
    valid_range = check.interval(raw, "valid_range", f"{path}.valid_range", strict=False)
    if transform == "log" and goalposts is not None and not goalposts[0] > 0:
        check.problem(f"{path}.goalposts", "must be positive on a log scale")
    weight = check.number(raw, "weight", f"{path}.weight", default=1.0, low=0.0, low_open=True)
    survey = raw.get("survey", unit == PERCENT)
    if not isinstance(survey, bool):
        check.problem(f"{path}.survey", "must be true or false")
    elif survey and unit is not None and unit != PERCENT:
        check.problem(f"{path}.survey", "survey measures are percentages (unit 'percent')")
    source = check.text(raw, "source", f"{path}.source", default="", empty=True)
    name = check.text(raw, "name", f"{path}.name", default=key)
    if len(check.problems) > before:
        return None
    return Measure(
        key=key,
        name=name,
        theme=theme,
        pillar=pillar,
        unit=unit,
        polarity=polarity,
        valid_range=valid_range or (-math.inf, math.inf),
        goalposts=goalposts,
        transform=transform,
        weight=weight,
        survey=survey,
        source=source,
    )


def _measure_problems(
    measure: Measure, theme_keys: set[str], pillars: tuple[str, ...]
) -> list[str]:
    """What a measure checked on its own still needs from the framework it joins."""
    problems = []
    if measure.theme not in theme_keys:
        problems.append(f"measure {measure.key!r}: theme {measure.theme!r} is not a theme")
    if measure.pillar not in pillars:
        problems.append(f"measure {measure.key!r}: pillar {measure.pillar!r} is unknown")
    return problems


class _Checker:
    """Collects every problem of a document, each under its path, instead of stopping at
    the first or letting a KeyError or TypeError escape."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, reason: str) -> None:
        self.problems.append(f"{path or 'the document'}: {reason}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise FrameworkError(self.problems)

    def is_mapping(self, raw, path: str) -> bool:
        if isinstance(raw, dict):
            return True
        self.problem(path, "must be an object")
        return False

    def keys(self, raw, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()):
        if not self.is_mapping(raw, path):
            return
        prefix = f"{path}." if path else ""
        for key in required:
            if key not in raw:
                self.problem(f"{prefix}{key}", "is required")
        for key in raw:
            if key not in allowed:
                self.problem(
                    f"{prefix}{key}", f"is not a known key (expected some of {', '.join(allowed)})"
                )

    def mapping(self, raw, key: str, path: str) -> dict:
        value = raw.get(key, {}) if isinstance(raw, dict) else {}
        return value if self.is_mapping(value, path) else {}

    def items(self, raw, key: str, path: str) -> list:
        value = raw.get(key) if isinstance(raw, dict) else None
        if value is None:
            return []
        if not isinstance(value, list) or not value:
            self.problem(path, "must be a non-empty list")
            return []
        return value

    def text(self, raw, key, path, *, default=None, empty=False) -> str | None:
        value = raw.get(key, default) if isinstance(raw, dict) else default
        if value is None:
            if isinstance(raw, dict) and key in raw:
                self.problem(path, "must be a string")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(path, "must be a string")
            return None
        value = str(value)
        if not value.strip() and not empty:
            self.problem(path, "must not be empty")
            return None
        return value

    def text_list(self, raw, key, path, *, default: list[str]) -> list[str]:
        value = raw.get(key, default) if isinstance(raw, dict) else default
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v for v in value)
        ):
            self.problem(path, "must be a non-empty list of strings")
            return default
        return value

    def choice(self, raw, key, path, choices: tuple[str, ...], *, default=None) -> str | None:
        value = raw.get(key, default) if isinstance(raw, dict) else default
        if value is None:
            return None
        if not isinstance(value, str) or value not in choices:
            self.problem(path, f"must be one of {', '.join(choices)}")
            return None
        return value

    def number(
        self, raw, key, path, *, default, low=None, high=None, low_open=False, whole=False
    ) -> float | None:
        value = raw.get(key, default) if isinstance(raw, dict) else default
        if not _is_finite(value):
            self.problem(path, "must be a finite number")
            return None
        if whole and value != int(value):
            self.problem(path, "must be a whole number")
        if low is not None and (value <= low if low_open else value < low):
            self.problem(path, f"must be {'above' if low_open else 'at least'} {low:g}")
        if high is not None and value > high:
            self.problem(path, f"must be at most {high:g}")
        return float(value)

    def interval(self, raw, key, path, *, strict: bool) -> tuple[float, float] | None:
        if key not in raw:
            if strict:
                self.problem(path, "is required")
            return None
        value = raw[key]
        ordered = "min < max" if strict else "min <= max"
        if not isinstance(value, list) or len(value) != 2 or not all(_is_finite(v) for v in value):
            self.problem(path, f"must be [min, max]: two finite numbers with {ordered}")
            return None
        low, high = float(value[0]), float(value[1])
        if not (low < high if strict else low <= high):
            self.problem(path, f"must be ordered: {ordered} (got [{low:g}, {high:g}])")
            return None
        return low, high


def _is_finite(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False
