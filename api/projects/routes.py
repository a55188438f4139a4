"""Projects, indicator values (single and bulk) and reports: the peace impact calculator."""

from __future__ import annotations

import io
import re

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_principal, signed_in
from api.db import db
from api.errors import Unprocessable
from api.http import BEARER, IF_MATCH, json_response, page_response, require_if_match, version_etag
from api.idempotency import DOC as IDEMPOTENCY_KEY
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent
from api.language import interface_language
from api.permissions import require, who
from api.projects import service, surveys, uploads
from api.projects.schemas import (
    BulkResultSchema,
    ComparisonArgsSchema,
    ComparisonSchema,
    FrameworkSchema,
    IndicatorSchema,
    KeptResponseSchema,
    ProjectCreateSchema,
    ProjectQueryArgsSchema,
    ProjectSchema,
    ProjectWriteSchema,
    ReportArgsSchema,
    ReportSchema,
    StoredSurveyMappingSchema,
    StoredValueSchema,
    SurveyImportArgsSchema,
    SurveyImportResultSchema,
    SurveyMappingSchema,
    ValueArgsSchema,
    ValueListArgsSchema,
    ValueSchema,
)
from api.schemas import LIST_OMITTED, page_schema, page_size
from api.web.labels import chart_words
from metrics import charts
from metrics.export import comparison_csv, comparison_json, report_csv
from metrics.framework import default_framework_document

EDITORS = f"Who: {who('project.edit')}."
READERS = "Who: anyone for published projects; drafts: their organisation, moderators and admins."

blp = Blueprint(
    "projects",
    __name__,
    url_prefix="/api/v1",
    description="Projects post indicator data and get peace-metrics reports "
    "(method: metrics/METHODOLOGY.md).",
)


def _editable(project_id):
    principal = current_principal()
    project = service.get_project(db.session, project_id, principal)
    require(principal, "project.edit", project)
    return project, principal


@blp.route("/projects")
class Projects(MethodView):
    @blp.arguments(ProjectQueryArgsSchema, location="query")
    @blp.response(200, page_schema(ProjectSchema, "ProjectPage"))
    @blp.doc(description=READERS)
    def get(self, args):
        """List projects"""
        limit = page_size(args)
        rows = service.list_projects(db.session, args, current_principal(), limit=limit)
        return page_response(
            ProjectSchema(many=True, exclude=LIST_OMITTED).dump(rows),
            offset=args["offset"],
            limit=limit,
        )

    @signed_in
    @blp.arguments(ProjectCreateSchema)
    @blp.response(201, ProjectSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Not a member of that organisation")
    @blp.alt_response(404, description="No such organisation")
    @blp.alt_response(422, description="Invalid project")
    @blp.doc(security=BEARER, description=f"Who: {who('project.create')}.")
    def post(self, data):
        """Create a project for an organisation"""
        project = service.create_project(db.session, data, current_principal())
        headers = {
            "Location": url_for("projects.ProjectById", project_id=project.id, _external=True),
            "ETag": f'"{version_etag(project.version)}"',
        }
        return json_response(ProjectSchema().dump(project), 201, headers=headers)


@blp.route("/projects/<uuid:project_id>")
class ProjectById(MethodView):
    @blp.response(200, ProjectSchema)
    @blp.alt_response(404, description="No such project that you may see")
    @blp.doc(description=READERS)
    def get(self, project_id):
        """Read a project"""
        project = service.get_project(db.session, project_id, current_principal())
        return json_response(
            ProjectSchema().dump(project), headers={"ETag": f'"{version_etag(project.version)}"'}
        )

    @signed_in
    @blp.arguments(ProjectWriteSchema(partial=True))
    @blp.response(200, ProjectSchema)
    @blp.alt_response(403, description="Not of the project's organisation")
    @blp.alt_response(404, description="No such project that you may see")
    @blp.alt_response(412, description="Stale If-Match")
    @blp.alt_response(428, description="If-Match missing")
    @blp.doc(security=BEARER, parameters=[IF_MATCH], description=EDITORS)
    def patch(self, changes, project_id):
        """Change a project"""
        project, _ = _editable(project_id)
        require_if_match(project.version)
        project = service.update_project(db.session, project, changes)
        return json_response(
            ProjectSchema().dump(project), headers={"ETag": f'"{version_etag(project.version)}"'}
        )


@blp.route("/projects/<uuid:project_id>/indicators")
class Indicators(MethodView):
    @blp.response(200, IndicatorSchema(many=True))
    @blp.alt_response(404, description="No such project that you may see")
    @blp.doc(description=READERS)
    def get(self, project_id):
        """The project's own lived-experience indicators"""
        project = service.get_project(db.session, project_id, current_principal())
        return service.indicators_of(db.session, project.id)

    @signed_in
    @blp.arguments(IndicatorSchema)
    @blp.response(201, IndicatorSchema)
    @blp.alt_response(403, description="Not of the project's organisation")
    @blp.alt_response(422, description="Invalid indicator (or its key is taken)")
    @blp.doc(security=BEARER, description=EDITORS)
    def post(self, data, project_id):
        """Declare an indicator of the project's own, with theme, unit, polarity and goalposts"""
        project, _ = _editable(project_id)
        return service.declare_indicator(db.session, project, data)


@blp.route("/projects/<uuid:project_id>/values")
class Values(MethodView):
    @blp.arguments(ValueListArgsSchema, location="query")
    @blp.response(200, StoredValueSchema(many=True))
    @blp.alt_response(404, description="No such project that you may see")
    @blp.doc(description=READERS)
    def get(self, args, project_id):
        """The project's indicator values (corrections keep the superseded ones)"""
        project = service.get_project(db.session, project_id, current_principal())
        return service.list_values(
            db.session, project.id, include_superseded=args["include_superseded"]
        )

    @signed_in
    @idempotent
    @blp.arguments(ValueArgsSchema, location="query")
    @blp.arguments(ValueSchema)
    @blp.response(201, BulkResultSchema)
    @blp.alt_response(403, description="Not of the project's organisation")
    @blp.alt_response(
        409, description="A value exists for this measure, period and group (send replace=true)"
    )
    @blp.alt_response(422, description="Invalid value for the framework")
    @blp.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY], description=EDITORS)
    def post(self, args, value, project_id):
        """Post one indicator value"""
        project, principal = _editable(project_id)
        stored = service.store_values(
            db.session,
            project,
            [(1, value, [])],
            principal,
            replace=args["replace"],
            conflict_on_duplicate=True,
        )
        return json_response({"stored": stored}, 201)


@blp.route("/projects/<uuid:project_id>/values/bulk")
class BulkValues(MethodView):
    body_types = uploads.FORMATS
    upload = True

    @signed_in
    @idempotent
    @blp.arguments(ValueArgsSchema, location="query")
    @blp.response(201, BulkResultSchema)
    @blp.alt_response(403, description="Not of the project's organisation")
    @blp.alt_response(413, description="Upload too large")
    @blp.alt_response(415, description="Not JSON, NDJSON, CSV or XLSX")
    @blp.alt_response(
        422, description="Bad rows: every one listed with line, column and reason; nothing stored"
    )
    @blp.doc(
        security=BEARER,
        parameters=[IDEMPOTENCY_KEY],
        description=EDITORS + " Body: a JSON array of values, NDJSON (one value per line), CSV "
        "(columns measure, period, start, end, value, sample_size, design_effect, "
        "effective_sample_size, disaggregation as k=v;k=v, "
        "pillar, paired, source, note; a UTF-8 BOM is fine) or an XLSX workbook (its first "
        "sheet, with the same header row). Every format is streamed and goes through the same "
        "rules and limits; unknown columns or fields are errors. All rows are stored or none.",
        requestBody={
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Value"}}
                },
                uploads.NDJSON: {"schema": {"type": "string"}},
                uploads.CSV: {"schema": {"type": "string"}},
                uploads.XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        },
    )
    def post(self, args, project_id):
        """Post many indicator values at once"""
        project, principal = _editable(project_id)
        stored = service.store_values(
            db.session,
            project,
            uploads.rows_of(_body_stream(), request.mimetype),
            principal,
            replace=args["replace"],
        )
        return json_response({"stored": stored}, 201)


MAPPING_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _mapping_name(name: str) -> str:
    if not MAPPING_NAME.fullmatch(name):
        raise Unprocessable(
            "name: 1 to 64 lower-case letters, digits, '-' or '_'.",
            errors={"name": ["1 to 64 lower-case letters, digits, '-' or '_'."]},
        )
    return name


@blp.route("/projects/<uuid:project_id>/survey-mappings")
class SurveyMappings(MethodView):
    @blp.response(200, StoredSurveyMappingSchema(many=True))
    @blp.alt_response(404, description="No such project that you may see")
    @blp.doc(description=READERS)
    def get(self, project_id):
        """The project's saved mappings of survey exports to measures"""
        project = service.get_project(db.session, project_id, current_principal())
        return surveys.list_mappings(db.session, project.id)


@blp.route("/projects/<uuid:project_id>/survey-mappings/<string:name>")
class SurveyMappingByName(MethodView):
    @blp.response(200, StoredSurveyMappingSchema)
    @blp.alt_response(404, description="No such project or mapping")
    @blp.doc(description=READERS)
    def get(self, project_id, name):
        """One saved mapping"""
        project = service.get_project(db.session, project_id, current_principal())
        return {"name": name, **surveys.get_mapping(db.session, project.id, name)}

    @signed_in
    @blp.arguments(SurveyMappingSchema)
    @blp.response(200, StoredSurveyMappingSchema)
    @blp.alt_response(403, description="Not of the project's organisation")
    @blp.alt_response(404, description="No such project that you may see")
    @blp.alt_response(
        422, description="Invalid mapping: every problem named by its path (questions[1].measure)"
    )
    @blp.doc(
        security=BEARER,
        description=EDITORS + " Which question of the form (its column in the export) gives "
        "which survey measure, and which answer choices count for it, against it, or not at "
        "all (don't know); an optional weight column and breakdowns (method: "
        "metrics/survey.py).",
    )
    def put(self, document, project_id, name):
        """Save a mapping of a KoboToolbox or ODK form to measures"""
        project, _ = _editable(project_id)
        return surveys.save_mapping(db.session, project, _mapping_name(name), document)


@blp.route("/projects/<uuid:project_id>/surveys")
class SurveyImports(MethodView):
    body_types = (uploads.CSV, uploads.XLSX)
    upload = True

    @signed_in
    @idempotent
    @blp.arguments(SurveyImportArgsSchema, location="query")
    @blp.response(201, SurveyImportResultSchema)
    @blp.alt_response(403, description="Not of the project's organisation")
    @blp.alt_response(404, description="No such project or mapping")
    @blp.alt_response(413, description="Upload too large")
    @blp.alt_response(415, description="Not CSV or XLSX")
    @blp.alt_response(
        422,
        description="Bad lines of the export (line, column, reason), or computed values that "
        "break a rule; nothing stored",
    )
    @blp.doc(
        security=BEARER,
        parameters=[IDEMPOTENCY_KEY],
        description=EDITORS + " Body: a KoboToolbox or ODK export, one row per respondent "
        "(CSV with ',' ';' or tab, or XLSX). Through the saved mapping, Peacemap computes each "
        "measure's percentage, sample size and, with a weight column, Kish's effective sample "
        "size, overall and per group, and stores these values like any upload (all or none). "
        "Groups under the framework's minimum sample size are suppressed. The respondents' "
        "rows are not stored unless keep_responses=true, and then only the mapped columns.",
        requestBody={
            "required": True,
            "content": {
                uploads.CSV: {"schema": {"type": "string"}},
                uploads.XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        },
    )
    def post(self, args, project_id):
        """Import raw survey responses (KoboToolbox, ODK) as indicator values"""
        project, principal = _editable(project_id)
        result = surveys.import_survey(
            db.session,
            project,
            uploads.table_rows(_body_stream(), request.mimetype),
            principal,
            mapping_name=args["mapping"],
            period=args["period"],
            start=args.get("start"),
            end=args.get("end"),
            replace=args["replace"],
            keep_responses=args["keep_responses"],
        )
        return json_response(result, 201)


@blp.route("/projects/<uuid:project_id>/surveys/<uuid:upload_id>/responses")
class KeptResponses(MethodView):
    @signed_in
    @blp.response(200, KeptResponseSchema(many=True))
    @blp.alt_response(403, description="Not of the project's organisation")
    @blp.alt_response(404, description="No such project or no responses kept")
    @blp.doc(security=BEARER, description=EDITORS)
    def get(self, project_id, upload_id):
        """Respondents' answers kept from an import (keep_responses=true): mapped columns only"""
        project, _ = _editable(project_id)
        return json_response(surveys.kept_responses(db.session, project.id, upload_id))


def _body_stream():
    # With an Idempotency-Key the body was already read whole, to fingerprint the request.
    return (
        io.BytesIO(request.get_data())
        if request.headers.get(IDEMPOTENCY_HEADER)
        else request.stream
    )


def _chart_or_data(data: dict, fmt: str, to_csv, chart) -> Response:
    if fmt == "csv":
        return Response(to_csv(data), mimetype="text/csv")
    if fmt in charts.FORMATS:
        return _chart_response(lambda words: chart(data, fmt, words=words), fmt)
    return json_response(data)


def _chart_response(draw, fmt: str) -> Response:
    """A chart in the reader's interface language (Accept-Language, as problem details)."""
    language = interface_language()
    response = Response(draw(chart_words(language)), mimetype=charts.FORMATS[fmt])
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


@blp.route("/projects/<uuid:project_id>/report")
class Report(MethodView):
    @blp.arguments(ReportArgsSchema, location="query")
    @blp.response(200, ReportSchema)
    @blp.alt_response(404, description="No such project that you may see")
    @blp.alt_response(422, description="Unknown baseline or latest period")
    @blp.doc(
        description=READERS + " Scores per measure and theme with 95% intervals, coverage, change "
        "from baseline to latest, the framework version and method, and the data used. "
        "format=csv, or a five-theme radar chart as svg or png.",
        responses={"200": {"content": {"text/csv": {}, "image/svg+xml": {}, "image/png": {}}}},
    )
    def get(self, args, project_id):
        """A project's peace metrics report"""
        project = service.get_project(db.session, project_id, current_principal())
        report = service.project_report(
            db.session, project, baseline=args.get("baseline"), latest=args.get("latest")
        )
        return _chart_or_data(report, args["format"], report_csv, charts.radar_chart)


@blp.route("/reports/comparison")
class Comparison(MethodView):
    @blp.arguments(ComparisonArgsSchema, location="query")
    @blp.response(200, ComparisonSchema)
    @blp.alt_response(422, description="Invalid filter")
    @blp.doc(
        description="Who: anyone (published projects). Each project's latest theme scores "
        "with their 95% intervals side by side, their distribution (median, quartiles) and the "
        "range of ranks each project's interval allows (overlapping ranges cannot be told "
        "apart), with caveats where coverage differs. format=csv, or a chart as svg or png "
        "(highlight= marks one project). JSON and CSV are streamed (the JSON's summary comes "
        "before its projects): 100,000 projects take seconds, not minutes.",
        responses={"200": {"content": {"text/csv": {}, "image/svg+xml": {}, "image/png": {}}}},
    )
    def get(self, args):
        """Compare projects by country, area, theme, organisation and period"""
        result = service.comparison(db.session, args)
        fmt = args["format"]
        if fmt in charts.FORMATS:
            highlight = str(args["highlight"]) if args.get("highlight") else None
            return _chart_response(
                lambda words: charts.comparison_chart(result, fmt, highlight, words), fmt
            )
        # Scored already: the projects' rows are written as they are sent.
        if fmt == "csv":
            return Response(comparison_csv(result), mimetype="text/csv")
        return Response(comparison_json(result), mimetype="application/json")


@blp.route("/projects/<uuid:project_id>/framework")
class ProjectFramework(MethodView):
    @blp.response(200, FrameworkSchema)
    @blp.alt_response(404, description="No such project that you may see")
    @blp.doc(
        description=READERS + " The standard framework plus the project's own indicators: save "
        "it and run `python -m metrics report --framework it.json --data values.csv` to "
        "reproduce the project's report offline."
    )
    def get(self, project_id):
        """The framework a project's reports are computed with"""
        project = service.get_project(db.session, project_id, current_principal())
        return json_response(service.effective_framework_document(db.session, project.id))


@blp.route("/metrics/framework")
class CurrentFramework(MethodView):
    @blp.response(200, FrameworkSchema)
    def get(self):
        """The framework reports are computed with: themes, measures, goalposts, weights

        Who: anyone."""
        return json_response(default_framework_document())
