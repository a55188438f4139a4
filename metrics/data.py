"""Indicator values in and out: parsing and validating rows (the CSV of the bulk upload and
of the command line), checked against a framework. Every problem names its line and column."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from metrics.framework import Framework
from metrics.report import Value

COLUMNS = (
    "measure",
    "period",
    "start",
    "end",
    "value",
    "sample_size",
    "disaggregation",
    "pillar",
    "paired",
    "source",
    "note",
)
REQUIRED = ("measure", "period", "start", "end", "value")


@dataclass(frozen=True)
class Problem:
    line: int  # 1 = the header in a CSV; the item's position (from 1) in a JSON list
    column: str
    reason: str

    def asdict(self) -> dict:
        return {"line": self.line, "column": self.column, "reason": self.reason}


def parse_disaggregation(text: str) -> tuple[tuple[str, str], ...]:
    """``sex=female;age=18-24`` → sorted pairs (an empty string is the total)."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{part!r} is not key=value")
        pairs.append((key.strip(), value.strip()))
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a group key is repeated")
    return tuple(sorted(pairs))


def value_from_row(
    framework: Framework, row: dict, line: int
) -> tuple[Value | None, list[Problem]]:
    """One row (strings, or JSON values) as a validated Value, or the problems with it."""
    problems: list[Problem] = []

    def bad(column: str, reason: str) -> None:
        problems.append(Problem(line, column, reason))

    for column in REQUIRED:
        if row.get(column) in (None, ""):
            bad(column, "is required")
    if problems:
        return None, problems
    measure = framework.measures.get(str(row["measure"]))
    if measure is None:
        bad(
            "measure",
            f"{row['measure']!r} is not a measure of {framework.label} or of this project",
        )
    start = _date(row["start"], "start", bad)
    end = _date(row["end"], "end", bad)
    if start and end and end < start:
        bad("end", "is before start")
    value = _number(row["value"], "value", bad)
    sample_size = None
    if row.get("sample_size") not in (None, ""):
        sample_size = _number(row["sample_size"], "sample_size", bad)
        if sample_size is not None and (sample_size != int(sample_size) or sample_size < 1):
            bad("sample_size", "must be a whole number of respondents, at least 1")
            sample_size = None
    try:
        raw_groups = row.get("disaggregation") or ""
        if isinstance(raw_groups, dict):
            raw_groups = ";".join(f"{k}={v}" for k, v in raw_groups.items())
        groups = parse_disaggregation(str(raw_groups))
    except ValueError as exc:
        bad("disaggregation", str(exc))
        groups = ()
    pillar = row.get("pillar") or None
    paired = row.get("paired") is True or str(row.get("paired") or "").strip().lower() in (
        "true",
        "1",
        "yes",
    )
    if measure is not None:
        low, high = measure.valid_range
        if value is not None and not low <= value <= high:
            bad("value", f"{value:g} is outside the valid range {low:g}..{high:g} ({measure.unit})")
        if measure.survey:
            if sample_size is None and not any(p.column == "sample_size" for p in problems):
                bad("sample_size", f"is required for the survey measure {measure.key}")
            elif sample_size is not None and sample_size < framework.minimum_sample_size:
                bad(
                    "sample_size",
                    f"must be at least {framework.minimum_sample_size} for a survey measure",
                )
        if pillar is not None and pillar not in framework.pillars:
            bad("pillar", f"must be one of {', '.join(framework.pillars)}")
    if problems:
        return None, problems
    return (
        Value(
            measure=measure.key,
            period=str(row["period"]).strip(),
            start=start,
            end=end,
            value=value,
            sample_size=int(sample_size) if sample_size is not None else None,
            disaggregation=groups,
            pillar=pillar or measure.pillar,
            paired=paired,
            source=str(row.get("source") or ""),
            note=str(row.get("note") or ""),
        ),
        [],
    )


def _date(raw, column, bad) -> date | None:
    try:
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
    except ValueError:
        bad(column, f"{raw!r} is not a date (YYYY-MM-DD)")
        return None


def _number(raw, column, bad) -> float | None:
    if isinstance(raw, bool):
        bad(column, "must be a number")
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        bad(column, f"{raw!r} is not a number")
        return None
    if not math.isfinite(number):
        bad(column, "must be a finite number")
        return None
    return number


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict | None, list[Problem]]]:
    """Raw rows of a CSV stream, one at a time (constant memory): (line, row, problems
    with the header)."""
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
    unknown = [c for c in reader.fieldnames or () if c not in COLUMNS]
    if missing or unknown:
        problems = [Problem(1, c, "column is missing from the header") for c in missing]
        problems += [
            Problem(1, c, f"unknown column; expected some of {', '.join(COLUMNS)}") for c in unknown
        ]
        yield 1, None, problems
        return
    for row in reader:
        yield reader.line_num, row, []


def read_csv(
    framework: Framework, lines: Iterable[str]
) -> Iterator[tuple[int, Value | None, list[Problem]]]:
    """Validated values of a CSV stream, one at a time: (line, value, problems)."""
    for line, row, problems in csv_rows(lines):
        if row is None:
            yield line, None, problems
            continue
        value, problems = value_from_row(framework, row, line)
        yield line, value, problems


def duplicates(values: Iterable[tuple[int, Value]]) -> list[Problem]:
    """Rows that repeat a (measure, period, group) of an earlier row."""
    seen: dict[tuple, int] = {}
    problems = []
    for line, v in values:
        key = (v.measure, v.period, v.disaggregation)
        if key in seen:
            problems.append(
                Problem(
                    line, "measure", f"repeats line {seen[key]} (same measure, period and group)"
                )
            )
        else:
            seen[key] = line
    return problems
