"""Survey exports (KoboToolbox, ODK) into indicator values: a project's saved mappings, and
the import that aggregates an export through one (metrics.survey) and stores the values
through the same rules as every other upload. The respondents' rows are not stored unless
the organisation asks, and then only the mapped columns."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.orm import Session

from api.errors import NotFound, Unprocessable
from api.principal import Principal
from api.projects.models import Project, SurveyMapping, SurveyResponse
from api.projects.service import MAX_REPORTED_PROBLEMS, framework_for, store_values
from metrics.data import Problem
from metrics.survey import Mapping, MappingError, aggregate, load_mapping

KEEP_BATCH = 1000


def save_mapping(session: Session, project: Project, name: str, document: dict) -> dict:
    """Create or replace the project's mapping of this name, checked against its framework
    (standard measures and its own indicators)."""
    _load(session, project.id, document)
    values = {"project_id": project.id, "name": name, "mapping": document}
    session.execute(
        upsert(SurveyMapping)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["project_id", "name"],
            set_={"mapping": document, "updated_at": datetime.now(UTC)},
        )
    )
    return {"name": name, **document}


def get_mapping(session: Session, project_id: uuid.UUID, name: str) -> dict:
    document = session.scalar(
        select(SurveyMapping.mapping).where(
            SurveyMapping.project_id == project_id, SurveyMapping.name == name
        )
    )
    if document is None:
        raise NotFound(f"This project has no survey mapping named {name!r}.")
    return document


def list_mappings(session: Session, project_id: uuid.UUID) -> list[dict]:
    rows = session.execute(
        select(SurveyMapping.name, SurveyMapping.mapping)
        .where(SurveyMapping.project_id == project_id)
        .order_by(SurveyMapping.name)
    )
    return [{"name": name, **mapping} for name, mapping in rows]


def _load(session: Session, project_id: uuid.UUID, document: dict) -> Mapping:
    try:
        return load_mapping(document, framework_for(session, project_id))
    except MappingError as exc:
        raise Unprocessable(
            f"The mapping is not valid: {exc.problems[0]}", errors={"mapping": exc.problems}
        ) from None


def import_survey(
    session: Session,
    project: Project,
    rows: Iterable[tuple[int, dict | None, list[Problem]]],
    principal: Principal,
    *,
    mapping_name: str,
    period: str,
    start: date | None,
    end: date | None,
    replace: bool,
    keep_responses: bool,
) -> dict:
    """Aggregate an export through the named mapping and store the values, all or none.
    Raises Unprocessable naming every bad line of the export (line, column, reason)."""
    framework = framework_for(session, project.id)
    mapping = _load(session, project.id, get_mapping(session, project.id, mapping_name))
    parse_problems: list[Problem] = []
    upload_id = uuid.uuid4()

    def readable() -> Iterator[tuple[int, dict]]:
        for line, row, problems in rows:
            parse_problems.extend(problems)
            if row is not None:
                yield line, row

    responses = readable()
    if keep_responses:
        responses = _kept(session, project.id, upload_id, mapping, responses)
    result = aggregate(mapping, responses, minimum_group_size=framework.minimum_sample_size)
    problems = sorted(parse_problems + result.problems, key=lambda p: p.line)
    start, end = start or result.start, end or result.end
    if not problems and (start is None or end is None):
        problems.append(
            Problem(
                1,
                "start" if start is None else "end",
                "no date in the export: give start and end",
            )
        )
    if problems:
        first = problems[0]
        raise Unprocessable(
            f"{len(problems)} problem(s) in the export; nothing was stored. "
            f"First: line {first.line}, {first.column}: {first.reason}",
            errors={"rows": [p.asdict() for p in problems[:MAX_REPORTED_PROBLEMS]]},
        )
    source = f"survey export, mapping {mapping_name!r}: {result.respondents} responses" + (
        ", weighted (Kish effective n)" if mapping.weight else ""
    )
    values = [
        {**row, "period": period, "start": start, "end": end, "source": source}
        for row in result.rows
    ]
    try:
        stored = store_values(
            session,
            project,
            ((i, dict(v), []) for i, v in enumerate(values, start=1)),
            principal,
            replace=replace,
        )
    except Unprocessable as exc:
        # The computed values broke a rule (a stored value without replace=true, an
        # effective sample size under the minimum): name each by measure and group, not by
        # a line the organisation never saw.
        rows = [
            {**row, "line": None, "value": _label(values[row["line"] - 1])}
            for row in (exc.errors or {}).get("rows", [])
        ]
        first = rows[0] if rows else {"value": "", "column": "", "reason": exc.detail}
        raise Unprocessable(
            f"{len(rows)} computed value(s) cannot be stored; nothing was stored. "
            f"First: {first['value']}, {first['column']}: {first['reason']}",
            errors={"values": rows},
        ) from None
    return {
        "stored": stored,
        "respondents": result.respondents,
        "period": period,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "values": [{**v, "start": start.isoformat(), "end": end.isoformat()} for v in values],
        "suppressed": result.suppressed,
        "responses_kept": str(upload_id) if keep_responses else None,
    }


def _kept(
    session: Session,
    project_id: uuid.UUID,
    upload_id: uuid.UUID,
    mapping: Mapping,
    responses: Iterator[tuple[int, dict]],
) -> Iterator[tuple[int, dict]]:
    """Pass the responses on, keeping each one's mapped columns only (in batches): a
    name, a phone number, a place or a free-text answer in the export is never stored."""
    columns = mapping.columns
    while batch := list(itertools.islice(responses, KEEP_BATCH)):
        session.execute(
            insert(SurveyResponse),
            [
                {
                    "project_id": project_id,
                    "upload_id": upload_id,
                    "line": line,
                    "answers": {c: _json_cell(row.get(c)) for c in columns if c in row},
                }
                for line, row in batch
            ],
        )
        yield from batch


def _label(value: dict) -> str:
    group = ";".join(f"{k}={v}" for k, v in sorted(value["disaggregation"].items()))
    return value["measure"] + (f" ({group})" if group else "")


def _json_cell(cell):
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return cell


def kept_responses(session: Session, project_id: uuid.UUID, upload_id: uuid.UUID) -> list[dict]:
    rows = session.execute(
        select(SurveyResponse.line, SurveyResponse.answers)
        .where(SurveyResponse.project_id == project_id, SurveyResponse.upload_id == upload_id)
        .order_by(SurveyResponse.line)
    )
    found = [{"line": line, "answers": answers} for line, answers in rows]
    if not found:
        raise NotFound(f"No kept responses for upload {upload_id}.")
    return found
