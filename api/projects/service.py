"""Projects, their indicator values and their reports. The scoring itself is the metrics
library's; this module feeds it from the database."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from sqlalchemy import and_, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from api.actors.service import get_actor
from api.content import area_column
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.permissions import can, is_staff
from api.principal import Principal
from api.projects.models import IndicatorValue, Project, ProjectIndicator
from api.themes.service import check_theme_keys
from geo import filters
from metrics import Framework, FrameworkError, Value, compare, compute_report, default_framework
from metrics.data import Problem, value_from_row
from metrics.framework import measure_from_dict

BATCH = 1000
MAX_REPORTED_PROBLEMS = 1000


def _now() -> datetime:
    return datetime.now(UTC)


# -- projects -------------------------------------------------------------------------------


def create_project(session: Session, data: dict, principal: Principal) -> Project:
    data = dict(data)
    actor = get_actor(session, data.pop("actor_id"), principal)
    if not can(principal, "project.create", actor):
        raise Forbidden(
            "Only members and managers of an organisation (or moderators) create its projects."
        )
    check_theme_keys(session, data.get("themes", []))
    project = Project(id=uuid.uuid4(), actor_id=actor.id)
    _apply(project, data)
    session.add(project)
    session.flush()
    return project


def update_project(session: Session, project: Project, changes: dict) -> Project:
    if "themes" in changes:
        check_theme_keys(session, changes["themes"])
    _apply(project, dict(changes))
    project.updated_at = _now()
    session.flush()
    return project


def _apply(project: Project, data: dict) -> None:
    if "area" in data:
        project.area = area_column(data.pop("area"))
    for name, value in data.items():
        setattr(project, name, value)
    if project.start_on and project.end_on and project.end_on < project.start_on:
        raise Unprocessable(
            "end_on: is before start_on.", errors={"end_on": ["is before start_on."]}
        )


def get_project(session: Session, project_id: uuid.UUID, principal: Principal) -> Project:
    """Published projects for everyone; drafts for their organisation and moderators only."""
    project = session.get(Project, project_id)
    if project is None or not (
        project.status == "published" or can(principal, "project.edit", project)
    ):
        raise NotFound(f"No project with id {project_id}.")
    return project


def _conditions(args: dict, principal: Principal):
    if not is_staff(principal.user) or not args.get("status"):
        yield Project.status == "published"
    else:
        yield Project.status.in_(args["status"])
    if countries := args.get("country"):
        yield Project.countries.overlap(countries)
    if bbox := args.get("bbox"):
        yield filters.in_bbox(Project.area, *bbox)
    if themes := args.get("theme"):
        yield Project.themes.overlap(themes)
    if actor_ids := args.get("actor_id"):
        yield Project.actor_id.in_(actor_ids)
    if since := args.get("since"):
        yield or_(Project.end_on.is_(None), Project.end_on >= since)
    if until := args.get("until"):
        yield or_(Project.start_on.is_(None), Project.start_on <= until)


def list_projects(
    session: Session, args: dict, principal: Principal, *, limit: int
) -> list[Project]:
    stmt = select(Project).where(*_conditions(args, principal)).order_by(Project.title, Project.id)
    return list(session.scalars(stmt.limit(limit).offset(args["offset"])))


# -- indicators and values ----------------------------------------------------------------------


def framework_for(session: Session, project_id: uuid.UUID) -> Framework:
    """The standard framework plus the project's own indicators."""
    own = session.scalars(
        select(ProjectIndicator.definition).where(ProjectIndicator.project_id == project_id)
    )
    return default_framework().with_measures([measure_from_dict(d) for d in own])


def indicators_of(session: Session, project_id: uuid.UUID) -> list[dict]:
    stmt = select(ProjectIndicator.definition).where(ProjectIndicator.project_id == project_id)
    return list(session.scalars(stmt.order_by(ProjectIndicator.key)))


def declare_indicator(session: Session, project: Project, definition: dict) -> dict:
    definition = {**definition, "pillar": "lived_experiences"}
    try:
        framework_for(session, project.id).with_measures([measure_from_dict(definition)])
    except FrameworkError as exc:
        raise Unprocessable(str(exc), errors={"indicator": exc.problems}) from None
    session.add(
        ProjectIndicator(project_id=project.id, key=definition["key"], definition=definition)
    )
    session.flush()
    return definition


def _group_key(value: Value) -> str:
    return ";".join(f"{k}={v}" for k, v in value.disaggregation)


def store_values(
    session: Session,
    project: Project,
    rows: Iterable[tuple[int, dict | None, list[Problem]]],
    principal: Principal,
    *,
    replace: bool,
    conflict_on_duplicate: bool = False,
) -> int:
    """Validate every row against the project's framework and store them all, or none.
    With ``conflict_on_duplicate`` (one value posted alone), a value that only repeats a
    stored one is a Conflict rather than a bad row.

    ``rows`` is a stream of (line, raw row, problems found while parsing); batches are
    written as they come, so memory stays flat, and the request's transaction is rolled
    back if any row is bad. Raises Unprocessable listing every bad row (line, column,
    reason), up to MAX_REPORTED_PROBLEMS."""
    framework = framework_for(session, project.id)
    problems: list[Problem] = []
    duplicates: list[Problem] = []  # rows that repeat a stored value (without replace)
    first_line: dict[tuple, int] = {}
    stored = 0
    batch: list[tuple[int, Value]] = []

    def flush() -> None:
        nonlocal stored
        if batch and not problems:
            repeated = _write(session, project, batch, principal, replace=replace)
            duplicates.extend(repeated)
            problems.extend(repeated)
            stored += len(batch)
        batch.clear()

    for line, raw, parse_problems in rows:
        problems.extend(parse_problems)
        if raw is None:
            continue
        value, row_problems = value_from_row(framework, raw, line)
        problems.extend(row_problems)
        if value is None:
            continue
        key = (value.measure, value.period, value.disaggregation)
        if key in first_line:
            problems.append(
                Problem(
                    line,
                    "measure",
                    f"repeats line {first_line[key]} (same measure, period and group)",
                )
            )
            continue
        first_line[key] = line
        batch.append((line, value))
        if len(batch) >= BATCH:
            flush()
        if len(problems) >= MAX_REPORTED_PROBLEMS:
            break
    flush()
    if conflict_on_duplicate and problems and problems == duplicates:
        raise Conflict(problems[0].reason + ".")
    if problems:
        listed = [p.asdict() for p in problems[:MAX_REPORTED_PROBLEMS]]
        first = problems[0]
        raise Unprocessable(
            f"{len(problems)} problem(s); nothing was stored. "
            f"First: line {first.line}, {first.column}: {first.reason}",
            errors={"rows": listed},
        )
    return stored


def _write(
    session: Session,
    project: Project,
    batch: list[tuple[int, Value]],
    principal: Principal,
    *,
    replace: bool,
) -> list[Problem]:
    keys = [(v.measure, v.period, _group_key(v)) for _, v in batch]
    found = session.execute(
        select(
            IndicatorValue.measure,
            IndicatorValue.period,
            IndicatorValue.group_key,
            IndicatorValue.id,
        ).where(
            IndicatorValue.project_id == project.id,
            IndicatorValue.superseded_at.is_(None),
            tuple_(IndicatorValue.measure, IndicatorValue.period, IndicatorValue.group_key).in_(
                keys
            ),
        )
    )
    current = {(measure, period, group): id_ for measure, period, group, id_ in found}
    if current and not replace:
        return [
            Problem(
                line,
                "measure",
                f"{v.measure} already has a value for period {v.period!r}"
                f"{' and this group' if v.disaggregation else ''}: send replace=true to correct it",
            )
            for (line, v), key in zip(batch, keys, strict=True)
            if key in current
        ]
    now = _now()
    if current:
        session.execute(
            update(IndicatorValue)
            .where(IndicatorValue.id.in_(current.values()))
            .values(superseded_at=now)
        )
    inserted = session.execute(
        insert(IndicatorValue).returning(
            IndicatorValue.id,
            IndicatorValue.measure,
            IndicatorValue.period,
            IndicatorValue.group_key,
        ),
        [
            {
                "project_id": project.id,
                "measure": v.measure,
                "period": v.period,
                "start_on": v.start,
                "end_on": v.end,
                "value": v.value,
                "sample_size": v.sample_size,
                "disaggregation": dict(v.disaggregation),
                "group_key": _group_key(v),
                "pillar": v.pillar,
                "paired": v.paired,
                "source": v.source,
                "note": v.note,
                "created_by": principal.user_id,
            }
            for _, v in batch
        ],
    ).all()
    for row in inserted:
        if (old := current.get((row.measure, row.period, row.group_key))) is not None:
            session.execute(
                update(IndicatorValue).where(IndicatorValue.id == old).values(superseded_by=row.id)
            )
    return []


def list_values(
    session: Session, project_id: uuid.UUID, *, include_superseded: bool
) -> list[IndicatorValue]:
    stmt = select(IndicatorValue).where(IndicatorValue.project_id == project_id)
    if not include_superseded:
        stmt = stmt.where(IndicatorValue.superseded_at.is_(None))
    return list(
        session.scalars(
            stmt.order_by(IndicatorValue.start_on, IndicatorValue.measure, IndicatorValue.id)
        )
    )


def _as_value(row) -> Value:
    return Value(
        measure=row.measure,
        period=row.period,
        start=row.start_on,
        end=row.end_on,
        value=row.value,
        sample_size=row.sample_size,
        disaggregation=tuple(sorted((row.disaggregation or {}).items())),
        pillar=row.pillar,
        paired=row.paired,
        source=row.source,
        note=row.note,
    )


# -- reports ------------------------------------------------------------------------------------


def project_report(
    session: Session, project: Project, *, baseline: str | None, latest: str | None
) -> dict:
    values = [_as_value(v) for v in list_values(session, project.id, include_superseded=False)]
    try:
        report = compute_report(
            framework_for(session, project.id), values, baseline=baseline, latest=latest
        )
    except ValueError as exc:
        raise Unprocessable(
            str(exc), errors={"baseline" if "baseline" in str(exc) else "latest": [str(exc)]}
        ) from None
    report["project"] = {
        "id": str(project.id),
        "title": project.title,
        "actor_id": str(project.actor_id),
        "countries": project.countries,
        "population": project.population,
    }
    return report


def comparison(session: Session, args: dict, principal: Principal) -> dict:
    """Published projects matching the filters, compared on the standard framework (projects'
    own indicators are not comparable across projects, so they stay out)."""
    framework = default_framework()
    projects = select(Project.id, Project.title).where(*_conditions(args, principal)).subquery()
    rows = session.execute(
        select(projects.c.title, IndicatorValue)
        .join(
            IndicatorValue,
            and_(
                IndicatorValue.project_id == projects.c.id, IndicatorValue.superseded_at.is_(None)
            ),
        )
        .where(IndicatorValue.measure.in_(list(framework.measures)))
        .order_by(IndicatorValue.project_id)
        .execution_options(yield_per=5000)
    )

    def grouped() -> Iterator[tuple[str, str, list[Value]]]:
        for project_id, group in itertools.groupby(rows, key=lambda r: r[1].project_id):
            group = list(group)
            yield str(project_id), group[0][0], [_as_value(r[1]) for r in group]

    return compare(framework, grouped())
