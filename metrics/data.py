"""Indicator values in and out: parsing and validating rows (the CSV of the bulk upload and
of the command line), checked against a framework. Every problem names its line and column."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from metrics.framework import Framework
from metrics.report import Value

_SURROGATE = re.compile("[\ud800-\udfff]")

COLUMNS = (
    "measure",
    "period",
    "start",
    "end",
    "value",
    "sample_size",
    "design_effect",
    "effective_sample_size",
    "disaggregation",
    "pillar",
    "paired",
    "source",
    "note",
)
REQUIRED = ("measure", "period", "start", "end", "value")

# The limits of one value, whatever the format it came in (CSV, NDJSON, JSON, XLSX, the
# command line): declared here once; the API's schemas and the database columns follow them.
MAX_LENGTH = {
    "measure": 64,
    "period": 64,
    "pillar": 40,
    "source": 1000,
    "note": 2000,
}
MAX_GROUP_KEY = 40  # sex=…, age=…
MAX_GROUP_VALUE = 100
MAX_GROUPS_TEXT = 500  # the whole canonical group, "age=18-24;sex=female"
MAX_SAMPLE_SIZE = 1_000_000_000
MAX_DESIGN_EFFECT = 100.0  # far above any real survey's (cluster surveys: about 1.5 to 10)
TEXT_COLUMNS = tuple(MAX_LENGTH)
_COLUMN_SET = frozenset(COLUMNS)


@dataclass(frozen=True)
class Problem:
    line: int  # 1 = the header in a CSV or XLSX sheet; the item's position (from 1) in JSON
    column: str
    reason: str

    def asdict(self) -> dict:
        return {"line": self.line, "column": self.column, "reason": self.reason}


def parse_disaggregation(text: str) -> tuple[tuple[str, str], ...]:
    """``sex=female;age=18-24`` → sorted pairs (an empty string is the total)."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ValueError(f"{_shown(part)} is not key=value")
        if len(key) > MAX_GROUP_KEY or len(value) > MAX_GROUP_VALUE:
            raise ValueError(
                f"group keys have at most {MAX_GROUP_KEY} characters, "
                f"their values at most {MAX_GROUP_VALUE}"
            )
        pairs.append((key, value))
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a group key is repeated")
    pairs.sort()
    if len(group_text(pairs)) > MAX_GROUPS_TEXT:
        raise ValueError(f"the group has more than {MAX_GROUPS_TEXT} characters in all")
    return tuple(pairs)


def group_text(pairs) -> str:
    """The canonical text of a group (sorted ``k=v`` joined by ``;``), '' for the total."""
    return ";".join(f"{k}={v}" for k, v in pairs)


def _shown(raw, limit: int = 40) -> str:
    """A bad input quoted in a problem, cut short: a reason never echoes a megabyte."""
    text = repr(raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_problem(text: str) -> str | None:
    """The one text rule of the service, or None when the text keeps it: no NUL characters
    (PostgreSQL text cannot hold them) and no lone surrogates (bytes that were not UTF-8,
    decoded with surrogateescape, or a lone \\u-escape: not Unicode, not encodable as
    UTF-8). Uploads check every cell with it; ``api.limits`` applies it to the path, query
    string, headers and JSON bodies of every request."""
    if "\x00" in text:
        return "contains a NUL character"
    if _SURROGATE.search(text):
        return "is not valid UTF-8 text"
    return None


def _text_problem(text: str, limit: int | None) -> str | None:
    """What is wrong with one text cell, if anything (the same for every format)."""
    if reason := text_problem(text):
        return reason
    if limit is not None and len(text) > limit:
        return f"has {len(text):,} characters; at most {limit:,}"
    return None


def value_from_row(
    framework: Framework, row: dict, line: int
) -> tuple[Value | None, list[Problem]]:
    """One row (strings from CSV, or JSON or spreadsheet values) as a validated Value, or
    every problem with it. The one validation path of every upload format."""
    problems: list[Problem] = []

    def bad(column: str, reason: str) -> None:
        problems.append(Problem(line, column, reason))

    if not _COLUMN_SET.issuperset(row):
        for column in row:
            if column not in _COLUMN_SET:
                bad(str(column)[:64], f"unknown field; expected some of {', '.join(COLUMNS)}")
    for column, limit in MAX_LENGTH.items():
        raw = row.get(column)
        if raw is None or (type(raw) is str and len(raw) <= limit and raw.isprintable()):
            continue  # the common case, checked first: a short printable text
        if not isinstance(raw, str):
            bad(column, "must be text")
        elif reason := _text_problem(raw, limit):
            bad(column, reason)
    for column in REQUIRED:
        raw = row.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            bad(column, "is required")
    if problems:
        return None, problems
    measure = framework.measures.get(row["measure"])
    if measure is None:
        bad(
            "measure",
            f"{_shown(row['measure'])} is not a measure of {framework.label} or of this project",
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
        elif sample_size is not None and sample_size > MAX_SAMPLE_SIZE:
            bad("sample_size", f"must be at most {MAX_SAMPLE_SIZE:,}")
            sample_size = None
    design_effect = _positive(row, "design_effect", bad, MAX_DESIGN_EFFECT)
    effective_size = _positive(row, "effective_sample_size", bad, MAX_SAMPLE_SIZE)
    if design_effect is not None and effective_size is not None:
        bad("effective_sample_size", "give design_effect or effective_sample_size, not both")
    groups = _groups(row.get("disaggregation"), bad)
    pillar = row.get("pillar") or None
    paired = _boolean(row.get("paired"), bad)
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
            elif sample_size is not None and (design_effect or effective_size):
                effective = effective_size or sample_size / design_effect
                if effective < framework.minimum_sample_size:
                    column = "design_effect" if design_effect else "effective_sample_size"
                    bad(
                        column,
                        f"the effective sample size {effective:.1f} is below the framework's "
                        f"minimum of {framework.minimum_sample_size} for a survey measure",
                    )
        elif design_effect is not None or effective_size is not None:
            column = "design_effect" if design_effect is not None else "effective_sample_size"
            bad(column, f"only survey measures have one ({measure.key} is not a survey measure)")
        if pillar is not None and pillar not in framework.pillars:
            bad("pillar", f"must be one of {', '.join(framework.pillars)}")
    if problems:
        return None, problems
    return (
        Value(
            measure=measure.key,
            period=row["period"].strip(),
            start=start,
            end=end,
            value=value,
            sample_size=int(sample_size) if sample_size is not None else None,
            disaggregation=groups,
            pillar=pillar or measure.pillar,
            paired=paired,
            source=row.get("source") or "",
            note=row.get("note") or "",
            design_effect=design_effect,
            effective_sample_size=effective_size,
        ),
        [],
    )


def _positive(row: dict, column: str, bad, high: float) -> float | None:
    if row.get(column) in (None, ""):
        return None
    number = _number(row[column], column, bad)
    if number is not None and not 0 < number <= high:
        bad(column, f"must be above 0 and at most {high:,g}")
        return None
    return number


def _groups(raw, bad) -> tuple[tuple[str, str], ...]:
    """The group from ``k=v;k=v`` text or a JSON object of texts."""
    if raw is None or raw == "":
        return ()
    if isinstance(raw, dict):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
            bad("disaggregation", "keys and values must be text")
            return ()
        raw = ";".join(f"{k}={v}" for k, v in raw.items())
    elif not isinstance(raw, str):
        bad("disaggregation", "must be k=v;k=v text or an object")
        return ()
    if reason := _text_problem(raw, None):
        bad("disaggregation", reason)
        return ()
    try:
        return parse_disaggregation(raw)
    except ValueError as exc:
        bad("disaggregation", str(exc))
        return ()


def _boolean(raw, bad) -> bool:
    if raw is None or raw == "" or isinstance(raw, bool):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    bad("paired", "must be true or false")
    return False


def _date(raw, column, bad) -> date | None:
    if isinstance(raw, datetime):  # a spreadsheet's date cell
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(raw.strip() if isinstance(raw, str) else str(raw))
    except ValueError:
        bad(column, f"{_shown(raw)} is not a date (YYYY-MM-DD)")
        return None


def _number(raw, column, bad) -> float | None:
    if isinstance(raw, bool):
        bad(column, "must be a number")
        return None
    try:
        number = float(raw)
    except OverflowError:  # a JSON integer with hundreds of digits
        bad(column, "must be a finite number")
        return None
    except (TypeError, ValueError):
        bad(column, f"{_shown(raw)} is not a number")
        return None
    if not math.isfinite(number):
        bad(column, "must be a finite number")
        return None
    return number


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict | None, list[Problem]]]:
    """Raw rows of a CSV stream, one at a time (constant memory): (line, row, problems
    with the file's shape: its header, a row longer than the header, a field too long)."""
    reader = csv.reader(lines)
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error:
        header = []
    problems = header_problems(header)
    if problems:
        yield 1, None, problems
        return
    width = len(header)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            limit = csv.field_size_limit()
            yield (
                reader.line_num,
                None,
                [Problem(reader.line_num, "line", f"has a field over {limit:,} characters")],
            )
            continue
        if not any(fields):
            continue  # a blank line, or a spreadsheet's empty row ",,,,"
        if len(fields) > width and any(fields[width:]):
            extra = len(fields) - width
            yield (
                reader.line_num,
                None,
                [Problem(reader.line_num, "line", f"has {extra} more field(s) than the header")],
            )
            continue
        yield reader.line_num, dict(zip(header, fields, strict=False)), []


def header_problems(header: list) -> list[Problem]:
    """What is wrong with the header row of a CSV file or a spreadsheet."""
    missing = [c for c in REQUIRED if c not in header]
    unknown = [str(c) for c in header if c not in COLUMNS]
    repeated = sorted({c for c in header if c in COLUMNS and header.count(c) > 1})
    problems = [Problem(1, c, "column is missing from the header") for c in missing]
    problems += [
        Problem(1, c[:64] or "(blank)", f"unknown column; expected some of {', '.join(COLUMNS)}")
        for c in unknown
    ]
    problems += [Problem(1, c, "column appears more than once") for c in repeated]
    return problems


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
