"""Projects, their indicator values and their reports. The scoring itself is the metrics
library's; this module feeds it from the database."""

from __future__ import annotations

import binascii
import csv
import io
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Float, Text, cast, func, literal_column, null, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.actors.service import get_actor
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.permissions import can, is_staff
from api.principal import Principal
from api.projects.models import IndicatorValue, LatestTotals, Project, ProjectIndicator
from api.projects.placement import place_project_area
from api.themes.service import check_theme_keys
from api.visibility import PUBLIC, is_public
from geo import filters
from metrics import Framework, FrameworkError, Value, compute_report, default_framework
from metrics.comparison import Comparison, ComparisonInput
from metrics.data import Problem, group_text, value_from_row
from metrics.framework import default_framework_document, load_framework, measure_from_dict

BATCH = 5000  # rows per COPY
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
    _apply(session, project, data)
    session.add(project)
    session.flush()
    return project


def update_project(session: Session, project: Project, changes: dict) -> Project:
    if "themes" in changes:
        check_theme_keys(session, changes["themes"])
    _apply(session, project, dict(changes))
    project.updated_at = _now()
    session.flush()
    return project


def _apply(session: Session, project: Project, data: dict) -> None:
    if "area" in data:
        place_project_area(project, data.pop("area"), session.get(Actor, project.actor_id))
    for name, value in data.items():
        setattr(project, name, value)
    if project.start_on and project.end_on and project.end_on < project.start_on:
        raise Unprocessable(
            "end_on: is before start_on.", errors={"end_on": ["is before start_on."]}
        )


def get_project(session: Session, project_id: uuid.UUID, principal: Principal) -> Project:
    """Public projects for everyone (api.visibility: published, not hidden, their
    organisation public); the others for their organisation and moderators only."""
    project = session.get(Project, project_id)
    if project is None or not (
        is_public(session, "project", project.id) or can(principal, "project.edit", project)
    ):
        raise NotFound(f"No project with id {project_id}.")
    return project


def _conditions(args: dict, principal: Principal | None):
    """Filters on projects; ``principal`` None: the public's view whoever asks."""
    if principal is None or not is_staff(principal.user):
        yield PUBLIC["project"]
    else:
        yield Project.status.in_(args.get("status") or ["published"])
    if countries := args.get("country"):
        yield Project.countries.overlap(countries)
    if bbox := args.get("bbox"):
        yield filters.in_bbox(Project.public_area, *bbox)
    if themes := args.get("theme"):
        yield Project.themes.overlap(themes)
    if actor_ids := args.get("actor_id"):
        yield Project.actor_id.in_(actor_ids)
    if since := args.get("since"):
        yield or_(Project.end_on.is_(None), Project.end_on >= since)
    if until := args.get("until"):
        yield or_(Project.start_on.is_(None), Project.start_on <= until)


def organisation_projects(session: Session, actor: Actor, principal: Principal) -> list[Project]:
    """An organisation's projects: all of them, drafts too, for its members and staff (who
    may create its projects); the public ones for everyone else."""
    stmt = select(Project).where(Project.actor_id == actor.id)
    if not can(principal, "project.create", actor):
        stmt = stmt.where(PUBLIC["project"])
    return list(session.scalars(stmt.order_by(Project.title, Project.id)))


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


def effective_framework_document(session: Session, project_id: uuid.UUID) -> dict:
    """The document of the framework this project's reports are computed with: the
    standard one plus the project's own indicators, as ``python -m metrics report
    --framework`` takes it, so that anyone can reproduce the report offline."""
    document = default_framework_document()
    document["measures"] = [*document["measures"], *indicators_of(session, project_id)]
    load_framework(document)  # the document given out is one the command accepts
    return document


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


# The upload's valid rows go to a temporary table (COPY, in batches), where the checks
# that need every row (repeats inside the upload, values already stored) and the write are
# each one statement: the cost grows with the number of rows, not with its square.
_UPLOAD_TABLE = """
CREATE TEMPORARY TABLE IF NOT EXISTS upload_values (
    line integer NOT NULL, measure text NOT NULL, period text NOT NULL,
    start_on date NOT NULL, end_on date NOT NULL, value double precision NOT NULL,
    sample_size integer, design_effect double precision, effective_sample_size double precision,
    disaggregation jsonb NOT NULL, group_key text NOT NULL,
    pillar text NOT NULL, paired boolean NOT NULL, source text NOT NULL, note text NOT NULL
) ON COMMIT DROP"""
_COPY = (
    "COPY upload_values FROM STDIN WITH (FORMAT csv, "
    "FORCE_NULL (sample_size, design_effect, effective_sample_size))"
)
_SAME_KEY = "v.measure = u.measure AND v.period = u.period AND v.group_key = u.group_key"
_REPEATS = text(
    """SELECT line, first, count(*) OVER () AS total FROM (
        SELECT line, min(line) OVER (PARTITION BY measure, period, group_key) AS first
        FROM upload_values) d
    WHERE line <> first ORDER BY line LIMIT :limit"""
)
_STORED = text(
    f"""SELECT u.line, u.measure, u.period, u.group_key, count(*) OVER () AS total
    FROM upload_values u JOIN indicator_values v
      ON v.project_id = :project AND v.superseded_at IS NULL AND {_SAME_KEY}
    ORDER BY u.line LIMIT :limit"""
)
_SUPERSEDE = text(
    f"""UPDATE indicator_values v SET superseded_at = :now FROM upload_values u
    WHERE v.project_id = :project AND v.superseded_at IS NULL AND {_SAME_KEY}"""
)
_INSERT = text(
    """INSERT INTO indicator_values (project_id, measure, period, start_on, end_on, value,
        sample_size, design_effect, effective_sample_size, disaggregation, group_key, pillar,
        paired, source, note, created_by)
    SELECT :project, measure, period, start_on, end_on, value, sample_size, design_effect,
        effective_sample_size, disaggregation, group_key, pillar, paired, source, note, :user
    FROM upload_values"""
)
_LINK_SUPERSEDED = text(
    """UPDATE indicator_values old SET superseded_by = v.id FROM indicator_values v
    WHERE old.project_id = :project AND old.superseded_at = :now AND old.superseded_by IS NULL
      AND v.project_id = :project AND v.superseded_at IS NULL AND v.measure = old.measure
      AND v.period = old.period AND v.group_key = old.group_key"""
)


class _Problems:
    """Problems of an upload: every one counted, the first MAX_REPORTED_PROBLEMS kept."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.total = 0

    def add(self, problems: Iterable[Problem], total: int | None = None) -> None:
        added = 0
        for problem in problems:
            added += 1
            if len(self.kept) < MAX_REPORTED_PROBLEMS:
                self.kept.append(problem)
        self.total += added if total is None else total


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

    ``rows`` is a stream of (line, raw row, problems found while parsing), from any upload
    format; each row goes through ``value_from_row``, the valid ones are copied to a
    temporary table in batches (memory stays flat), and the checks across rows run there.
    Raises Unprocessable listing every bad row (line, column, reason), up to
    MAX_REPORTED_PROBLEMS, repeats of stored values included."""
    framework = framework_for(session, project.id)
    connection = session.connection()
    # The checks across rows sort or hash the whole upload: in memory (this transaction
    # only) rather than in batches on disk.
    connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    connection.exec_driver_sql(_UPLOAD_TABLE)
    connection.exec_driver_sql("TRUNCATE upload_values")
    cursor = connection.connection.dbapi_connection.cursor()
    problems = _Problems()
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    valid = pending = 0

    def copy() -> None:
        buffer.seek(0)
        cursor.copy_expert(_COPY, buffer)
        buffer.seek(0)
        buffer.truncate()

    for line, raw, parse_problems in rows:
        problems.add(parse_problems)
        if raw is None:
            continue
        value, row_problems = value_from_row(framework, raw, line)
        if value is None:
            problems.add(row_problems)
            continue
        writer.writerow(_copy_row(line, value))
        valid += 1
        pending += 1
        if pending >= BATCH:
            copy()
            pending = 0
    if pending:
        copy()
    if not valid and not problems.total:
        problems.add([Problem(1, "body", "has no values")])
    connection.exec_driver_sql("ANALYZE upload_values")
    limit = {"limit": MAX_REPORTED_PROBLEMS}
    repeats = connection.execute(_REPEATS, limit).all()
    problems.add(
        (
            Problem(r.line, "measure", f"repeats line {r.first} (same measure, period and group)")
            for r in repeats
        ),
        repeats[0].total if repeats else 0,
    )
    stored = [] if replace else connection.execute(_STORED, {**limit, "project": project.id}).all()
    duplicates = [
        Problem(
            r.line,
            "measure",
            f"{r.measure} already has a value for period {r.period!r}"
            f"{' and this group' if r.group_key else ''}: send replace=true to correct it",
        )
        for r in stored
    ]
    problems.add(duplicates, stored[0].total if stored else 0)
    if conflict_on_duplicate and duplicates and problems.total == len(duplicates):
        raise Conflict(duplicates[0].reason + ".")
    if problems.total:
        listed = sorted(problems.kept, key=lambda p: p.line)[:MAX_REPORTED_PROBLEMS]
        first = listed[0]
        raise Unprocessable(
            f"{problems.total} problem(s); nothing was stored. "
            f"First: line {first.line}, {first.column}: {first.reason}",
            errors={"rows": [p.asdict() for p in listed]},
        )
    now = _now()
    ids = {"project": project.id, "now": now}
    if replace:
        connection.execute(_SUPERSEDE, ids)
    inserted = connection.execute(_INSERT, {**ids, "user": principal.user_id}).rowcount
    if replace:
        connection.execute(_LINK_SUPERSEDED, ids)
    connection.exec_driver_sql("DROP TABLE upload_values")
    return inserted


def _copy_row(line: int, v: Value) -> tuple:
    """A value as a row of the COPY (CSV with text quoted: an empty text is not NULL;
    only a missing sample size, design effect or effective sample size is)."""
    return (
        line,
        v.measure,
        v.period,
        v.start.isoformat(),
        v.end.isoformat(),
        v.value,
        v.sample_size,
        v.design_effect,
        v.effective_sample_size,
        json.dumps(dict(v.disaggregation)) if v.disaggregation else "{}",
        group_text(v.disaggregation) if v.disaggregation else "",
        v.pillar,
        v.paired,
        v.source,
        v.note,
    )


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
        design_effect=row.design_effect,
        effective_sample_size=row.effective_sample_size,
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


def comparison(session: Session, args: dict) -> Comparison:
    """Public projects matching the filters, compared on the standard framework (projects'
    own indicators are not comparable across projects, so they stay out of the scores). A
    comparison is public whoever asks for it: only public projects take part.

    Each project is compared at its latest period, which the database keeps with that
    period's totals (``latest_totals``, one short row per project, kept by triggers): each
    project comes as its measure keys and its numbers in binary (``_float8s``), and the
    metrics library lays them out and scores them all at once. No object per value or
    per number is made; the projects' rows are written when the response is."""
    totals = LatestTotals.__table__.c
    session.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves here
    session.execute(text("SET LOCAL work_mem = '64MB'"))  # sorts 100,000 rows in memory
    rows = session.connection().execute(
        select(
            cast(Project.id, Text),
            Project.title,
            func.array_to_string(totals.measures, ","),
            func.cardinality(totals.measures),
            _float8s(func.array_cat(totals.vals, cast(totals.sample_sizes, ARRAY(Float)))),
            _float8s(totals.design_effects),
            _float8s(totals.effective_sample_sizes),
        )
        .join(LatestTotals, LatestTotals.project_id == Project.id)
        .where(*_conditions(args, None))
        .order_by(Project.id),
        execution_options={"stream_results": True, "yield_per": COMPARISON_CHUNK},
    )
    gathered = ComparisonInput(default_framework())
    for chunk in rows.partitions():
        # The chunk's values and sample sizes in one piece, each project's 2 x its count.
        numbers = _floats("".join(row[4] for row in chunk))
        start = 0
        for project_id, title, measures, count, _, design_effects, effective in chunk:
            gathered.add_totals(
                project_id,
                title,
                measures,
                numbers[start : start + 2 * count],
                None if design_effects is None else _floats(design_effects),
                None if effective is None else _floats(effective),
            )
            start += 2 * count
    return Comparison(gathered)


COMPARISON_CHUNK = 5000  # projects read at a time
# The elements of a float8[] as array_send writes them after its 20-byte header (one
# dimension): each a 4-byte length and 8 bytes of IEEE 754, big-endian.
_ARRAY_ELEMENTS = np.dtype([("length", ">i4"), ("number", ">f8")])


def _float8s(column):
    """A float8[] column sent exactly and cheaply: its elements in binary (array_send,
    NULLs as NaN so that every element has 8 bytes), base64-encoded. 12 bytes an element
    (so 2 x count x 12, a multiple of 3: a project's base64 has no padding and a chunk's
    can be decoded in one piece); NULL stays NULL. Parsing text numbers cost more than
    the whole scoring."""
    binary = func.array_send(
        func.array_replace(column, cast(null(), Float), literal_column("'NaN'::float8"))
    )
    return func.encode(func.substring(binary, 21), "base64")


def _floats(base64_text: str) -> np.ndarray:
    """The numbers ``_float8s`` sent, as float64."""
    elements = np.frombuffer(binascii.a2b_base64(base64_text), dtype=_ARRAY_ELEMENTS)
    return elements["number"].astype(float)
