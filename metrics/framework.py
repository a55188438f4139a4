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
AGGREGATIONS = ("arithmetic", "geometric")
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
    """A validated Framework from a JSON file path or an already-parsed document."""
    document = (
        source if isinstance(source, dict) else json.loads(Path(source).read_text(encoding="utf-8"))
    )
    problems: list[str] = []
    for key in ("id", "version", "name", "themes", "measures"):
        if key not in document:
            problems.append(f"missing {key!r}")
    if problems:
        raise FrameworkError(problems)
    themes = []
    for raw in document["themes"]:
        theme = Theme(
            raw.get("key", ""),
            raw.get("name", raw.get("key", "")),
            raw.get("aggregation", "arithmetic"),
        )
        if not theme.key:
            problems.append("a theme has no key")
        if theme.aggregation not in AGGREGATIONS:
            problems.append(
                f"theme {theme.key!r}: aggregation must be one of {', '.join(AGGREGATIONS)}"
            )
        themes.append(theme)
    theme_keys = {t.key for t in themes}
    if len(theme_keys) != len(themes):
        problems.append("theme keys must be unique")
    pillars = tuple(document.get("pillars", Framework.pillars))
    measures: dict[str, Measure] = {}
    for raw in document["measures"]:
        try:
            measure = measure_from_dict(raw)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"measure {raw.get('key', '?')!r}: {exc}")
            continue
        if measure.key in measures:
            problems.append(f"measure {measure.key!r} is defined twice")
        problems += _measure_problems(measure, theme_keys, pillars)
        measures[measure.key] = measure
    for theme in themes:
        if not any(m.theme == theme.key for m in measures.values()):
            problems.append(f"theme {theme.key!r} has no measure")
    overall = document.get("overall", {})
    if overall.get("aggregation", "arithmetic") not in AGGREGATIONS:
        problems.append(f"overall aggregation must be one of {', '.join(AGGREGATIONS)}")
    if problems:
        raise FrameworkError(problems)
    return Framework(
        id=document["id"],
        version=str(document["version"]),
        name=document["name"],
        themes=tuple(themes),
        measures=measures,
        pillars=pillars,
        minimum_sample_size=int(document.get("minimum_sample_size", 30)),
        overall_aggregation=overall.get("aggregation", "arithmetic"),
        overall_label=overall.get("label", "Overall"),
    )


def measure_from_dict(raw: dict) -> Measure:
    return Measure(
        key=raw["key"],
        name=raw.get("name", raw["key"]),
        theme=raw["theme"],
        pillar=raw.get("pillar", "aligned_measures"),
        unit=raw["unit"],
        polarity=raw["polarity"],
        valid_range=tuple(float(v) for v in raw["valid_range"]),
        goalposts=tuple(float(v) for v in raw["goalposts"]),
        transform=raw.get("transform", "linear"),
        weight=float(raw.get("weight", 1)),
        survey=bool(raw.get("survey", raw["unit"] == PERCENT)),
        source=raw.get("source", ""),
    )


def _measure_problems(
    measure: Measure, theme_keys: set[str], pillars: tuple[str, ...]
) -> list[str]:
    problems = []
    name = f"measure {measure.key!r}"
    if measure.theme not in theme_keys:
        problems.append(f"{name}: unknown theme {measure.theme!r}")
    if measure.pillar not in pillars:
        problems.append(f"{name}: unknown pillar {measure.pillar!r}")
    if measure.polarity not in POLARITIES:
        problems.append(f"{name}: polarity must be one of {', '.join(POLARITIES)}")
    if measure.transform not in TRANSFORMS:
        problems.append(f"{name}: transform must be one of {', '.join(TRANSFORMS)}")
    low, high = measure.goalposts if len(measure.goalposts) == 2 else (math.nan, math.nan)
    if not low < high:
        problems.append(f"{name}: goalposts must be [min, max] with min < max")
    if measure.transform == "log" and not low > 0:
        problems.append(f"{name}: log goalposts must be positive")
    if len(measure.valid_range) != 2 or not measure.valid_range[0] <= measure.valid_range[1]:
        problems.append(f"{name}: valid_range must be [min, max]")
    if not measure.weight > 0:
        problems.append(f"{name}: weight must be positive")
    if measure.survey and measure.unit != PERCENT:
        problems.append(f"{name}: survey measures are percentages (unit 'percent')")
    return problems
