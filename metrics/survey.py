"""Raw survey responses in, indicator values out: exports of KoboToolbox or ODK (one row per
respondent) read through a saved mapping from questions and answer choices to measures.

Peacemap computes each measure's percentage, its sample size and, with a weight column,
Kish's effective sample size (Σw)² / Σw², overall and per group; the values then go
through the same rules as any other upload. Only these aggregates leave this module: the
respondents' rows are read once and forgotten (the caller may keep the mapped columns if
the organisation asks it to).

A mapping document:

    {"questions": [
        {"measure": "feels_safe", "question": "safety/feels_safe", "type": "select_one",
         "positive": ["very_safe", "safe"], "negative": ["unsafe", "very_unsafe"],
         "exclude": ["dont_know", "refused"]},
        {"measure": "takes_action", "question": "agency/actions", "type": "select_multiple",
         "positive": ["petition", "meeting"], "negative": ["none"]}],
     "weight": "weight",
     "groups": {"sex": "demographics/sex"},
     "date": "_submission_time"}

Every answer must be one of the question's choices (``positive``, ``negative`` or
``exclude``), so that a typo in the mapping or a changed form is an error, not a silent
zero. A blank answer (a skipped or irrelevant question) does not count; ``exclude``
answers (don't know, refused) do not count either. A select_multiple answer is the
space-separated list of chosen options (as both tools export it); it counts as positive
when any chosen option is positive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from metrics.data import MAX_GROUP_KEY, MAX_GROUP_VALUE, Problem
from metrics.framework import Framework

QUESTION_TYPES = ("select_one", "select_multiple")
# Where Kobo (``_submission_time``, ``today``) and ODK Central (``SubmissionDate``) put the
# date of a response, in the order tried when the mapping names none.
DATE_COLUMNS = ("_submission_time", "SubmissionDate", "today", "end", "start")
MAX_QUESTIONS = 200
MAX_CHOICES = 500


class MappingError(ValueError):
    """The mapping document is not valid; ``problems`` names each by its path."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Question:
    measure: str
    question: str
    type: str
    positive: frozenset[str]
    negative: frozenset[str]
    exclude: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Mapping:
    questions: tuple[Question, ...]
    weight: str | None = None
    groups: dict[str, str] = field(default_factory=dict)  # group key -> column
    date: str | None = None

    @property
    def columns(self) -> list[str]:
        """The columns of an export this mapping reads (and the only ones ever kept)."""
        names = [q.question for q in self.questions]
        names += [c for c in (self.weight, self.date) if c]
        names += list(self.groups.values())
        return list(dict.fromkeys(names))


def load_mapping(document, framework: Framework) -> Mapping:
    """A validated mapping for this framework (a project's: its own indicators count), or
    MappingError naming every problem by its path in the document."""
    problems: list[str] = []

    def bad(path: str, reason: str) -> None:
        problems.append(f"{path}: {reason}")

    if not isinstance(document, dict):
        raise MappingError(["the document: must be an object"])
    for key in document:
        if key not in ("questions", "weight", "groups", "date"):
            bad(key, "is not a known key (expected questions, weight, groups, date)")
    raw_questions = document.get("questions")
    if not isinstance(raw_questions, list) or not 0 < len(raw_questions) <= MAX_QUESTIONS:
        bad("questions", f"must be a list of 1 to {MAX_QUESTIONS} questions")
        raw_questions = []
    questions, measures = [], set()
    for i, raw in enumerate(raw_questions):
        path = f"questions[{i}]"
        if not isinstance(raw, dict):
            bad(path, "must be an object")
            continue
        before = len(problems)
        for key in raw:
            if key not in ("measure", "question", "type", "positive", "negative", "exclude"):
                bad(f"{path}.{key}", "is not a known key")
        measure = raw.get("measure")
        if not isinstance(measure, str) or measure not in framework.measures:
            bad(f"{path}.measure", f"must be a measure of {framework.label} or of this project")
        elif not framework.measures[measure].survey:
            bad(f"{path}.measure", f"{measure} is not a survey measure (a percentage)")
        elif measure in measures:
            bad(f"{path}.measure", f"{measure} is mapped twice")
        else:
            measures.add(measure)
        question = raw.get("question")
        if not _column_name(question):
            bad(f"{path}.question", "must be the column's header in the export (text)")
        kind = raw.get("type", "select_one")
        if kind not in QUESTION_TYPES:
            bad(f"{path}.type", f"must be one of {', '.join(QUESTION_TYPES)}")
        choices = {}
        for key in ("positive", "negative", "exclude"):
            value = raw.get(key, [] if key == "exclude" else None)
            if (
                not isinstance(value, list)
                or len(value) > MAX_CHOICES
                or not all(isinstance(c, str) and c.strip() and len(c) <= 200 for c in value)
            ):
                bad(f"{path}.{key}", "must be a list of answer choices (text)")
                value = []
            choices[key] = frozenset(c.strip() for c in value)
        if not choices["positive"] and f"{path}.positive" not in "".join(problems):
            bad(f"{path}.positive", "must name at least one choice")
        overlap = (choices["positive"] & choices["negative"]) | (
            (choices["positive"] | choices["negative"]) & choices["exclude"]
        )
        if overlap:
            bad(path, f"a choice is in two lists: {', '.join(sorted(overlap))}")
        if len(problems) == before:
            questions.append(
                Question(
                    measure,
                    question,
                    kind,
                    choices["positive"],
                    choices["negative"],
                    choices["exclude"],
                )
            )
    weight = document.get("weight")
    if weight is not None and not _column_name(weight):
        bad("weight", "must be the weight column's header (text) or absent")
    date_column = document.get("date")
    if date_column is not None and not _column_name(date_column):
        bad("date", "must be the date column's header (text) or absent")
    groups = document.get("groups", {})
    if not isinstance(groups, dict) or len(groups) > 5:
        bad("groups", "must be an object of at most 5 {group name: column}")
        groups = {}
    for name, column in groups.items():
        if not (isinstance(name, str) and 0 < len(name) <= MAX_GROUP_KEY and "=" not in name):
            bad(f"groups.{name}", f"a group name has 1 to {MAX_GROUP_KEY} characters, no '='")
        if not _column_name(column):
            bad(f"groups.{name}", "must be the column's header (text)")
    if problems:
        raise MappingError(problems)
    return Mapping(tuple(questions), weight, dict(groups), date_column)


def _column_name(name) -> bool:
    return isinstance(name, str) and 0 < len(name.strip()) <= 300


@dataclass
class _Tally:
    """Running sums of one measure in one group: Σw, Σw·x, Σw², n."""

    n: int = 0
    weights: float = 0.0
    positive: float = 0.0
    squares: float = 0.0

    def add(self, weight: float, positive: bool) -> None:
        self.n += 1
        self.weights += weight
        self.squares += weight * weight
        if positive:
            self.positive += weight


@dataclass
class Aggregates:
    """What an export gives: one row per measure (and group), never a respondent's row."""

    respondents: int
    start: date | None
    end: date | None
    rows: list[dict]  # as value rows (measure, value, sample_size, effective_sample_size, …)
    suppressed: list[dict]  # groups too small to publish (and to keep people anonymous)
    problems: list[Problem]


def aggregate(
    mapping: Mapping,
    rows: Iterable[tuple[int, dict]],
    *,
    minimum_group_size: int,
) -> Aggregates:
    """Percentages, sample sizes and (weighted) Kish effective sample sizes of every
    mapped measure, overall and per group, from an export's rows (line, {header: cell}).
    Groups with fewer respondents than ``minimum_group_size`` are suppressed: too few to
    estimate, and too few to keep people anonymous."""
    problems: list[Problem] = []
    tallies: dict[tuple[str, tuple], _Tally] = {}
    respondents = 0
    first_day = last_day = None
    date_columns = (mapping.date,) if mapping.date else DATE_COLUMNS
    header_checked = False
    for line, row in rows:
        if not header_checked:
            header_checked = True
            missing = [c for c in mapping.columns if c not in row and c != mapping.date]
            if mapping.date and mapping.date not in row:
                missing.append(mapping.date)
            if missing:
                reason = "column of the mapping is missing from the export"
                return Aggregates(
                    0, None, None, [], [], [Problem(1, c[:64], reason) for c in missing]
                )
        respondents += 1
        weight = 1.0
        if mapping.weight:
            weight = _weight(row.get(mapping.weight))
            if weight is None:
                problems.append(
                    Problem(line, mapping.weight[:64], "the weight must be a positive number")
                )
                continue
        day = next((d for c in date_columns if (d := _day(row.get(c))) is not None), None)
        if day is not None:
            first_day = day if first_day is None or day < first_day else first_day
            last_day = day if last_day is None or day > last_day else last_day
        groups = [()]
        for name, column in mapping.groups.items():
            label = _text(row.get(column))
            if label:
                if len(label) > MAX_GROUP_VALUE or ";" in label or "=" in label:
                    problems.append(Problem(line, column[:64], "is not a usable group label"))
                    continue
                groups.append(((name, label),))
        for question in mapping.questions:
            answer = _text(row.get(question.question))
            if not answer:
                continue  # skipped or not relevant: not a respondent of this question
            chosen = answer.split() if question.type == "select_multiple" else [answer]
            unknown = [
                c
                for c in chosen
                if c not in question.positive | question.negative | question.exclude
            ]
            if unknown:
                problems.append(
                    Problem(
                        line,
                        question.question[:64],
                        f"the answer {unknown[0][:40]!r} is not one of the mapping's choices",
                    )
                )
                continue
            if all(c in question.exclude for c in chosen):
                continue  # don't know, refused
            positive = any(c in question.positive for c in chosen)
            for group in groups:
                tallies.setdefault((question.measure, group), _Tally()).add(weight, positive)
    if not respondents and not problems:
        problems.append(Problem(1, "body", "has no responses"))
    out, suppressed = [], []
    for (measure, group), tally in sorted(tallies.items()):
        if group and tally.n < minimum_group_size:
            suppressed.append(
                {"measure": measure, "disaggregation": dict(group), "respondents": tally.n}
            )
            continue
        row = {
            "measure": measure,
            "value": round(100 * tally.positive / tally.weights, 4),
            "sample_size": tally.n,
            "disaggregation": dict(group),
        }
        if mapping.weight:
            row["effective_sample_size"] = round(tally.weights**2 / tally.squares, 2)
        out.append(row)
    return Aggregates(respondents, first_day, last_day, out, suppressed, problems)


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _weight(cell) -> float | None:
    try:
        weight = float(cell) if not isinstance(cell, bool) else math.nan
    except (TypeError, ValueError):
        return None
    return weight if math.isfinite(weight) and weight > 0 else None


def _day(cell) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None
