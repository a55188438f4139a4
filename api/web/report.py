"""Pages of the Report job: an organisation's projects, a project's own indicators and its
values (one by form, many by a CSV or XLSX upload with every bad row shown by line and
column), its report (scores, intervals, coverage, change and the chart with its text
alternative) and the comparison of projects, each downloadable as CSV, JSON and SVG.

Every page calls the projects service the API calls, with its permission rules (who may see
a draft, who may post values) and the one validation path of values (metrics.data through
api.projects.uploads); the downloads are the API's own exports."""

from __future__ import annotations

from abc import ABC, abstractmethod

from flask import Response, flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy import select

from api.actors.models import Actor
from api.actors.service import get_actor
from api.auth import current_principal
from api.db import db
from api.errors import ProblemError, Unprocessable
from api.http import json_response
from api.idempotency import idempotent
from api.permissions import can, require
from api.projects import service, uploads
from api.projects.schemas import ComparisonArgsSchema, IndicatorSchema, ValueSchema
from api.web import forms, labels
from api.web.account import signed_in_page
from api.web.routes import FORM, blp
from metrics import charts
from metrics.export import comparison_csv, comparison_json, report_csv

UPLOADS = {".csv": uploads.CSV, ".xlsx": uploads.XLSX}
COMPARISON_FILTERS = ("country", "theme", "actor_id", "since", "until")
SHOWN = 200  # projects on one page of the comparison; the downloads hold them all
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "svg": charts.FORMATS["svg"],
}


@blp.app_context_processor
def _report_words():
    return {
        "theme_names": labels.THEMES,
        "polarity_names": labels.POLARITIES,
        "directions": labels.DIRECTIONS,
    }


@blp.get("/report")
@signed_in_page
def report_home():
    """The reader's organisations, whose projects they report on, and the comparison."""
    user = current_principal().user
    ids = [m.actor_id for m in user.memberships]
    organisations = db.session.scalars(
        select(Actor).where(Actor.id.in_(ids)).order_by(Actor.name)
    ).all()
    return render_template("report/home.html", organisations=organisations)


@blp.get("/organisations/<uuid:actor_id>/projects")
def organisation_projects(actor_id):
    """An organisation's projects: drafts too for its members."""
    principal = current_principal()
    actor = get_actor(db.session, actor_id, principal)
    return render_template(
        "report/projects.html",
        organisation=actor,
        projects=service.organisation_projects(db.session, actor, principal),
    )


# -- a project: its indicators and values ---------------------------------------------------


def _project_page(project_id, *, errors=None, rows=None, status=200, form_name=None):
    principal = current_principal()
    project = service.get_project(db.session, project_id, principal)
    framework = service.effective_framework_document(db.session, project.id)
    values = request.form.to_dict() if form_name else {}
    return render_template(
        "report/project.html",
        project=project,
        editable=can(principal, "project.edit", project),
        indicators=service.indicators_of(db.session, project.id),
        measures=[(m["key"], m["name"]) for m in framework["measures"]],
        stored=service.list_values(db.session, project.id, include_superseded=False),
        errors=errors or {},
        values=values,
        form_name=form_name,
        rows=rows or [],
    ), status


@blp.get("/projects/<uuid:project_id>")
def project_page(project_id):
    """A project: its own indicators, its values, and the forms to add more."""
    return _project_page(project_id)


def _editable(project_id):
    principal = current_principal()
    project = service.get_project(db.session, project_id, principal)
    require(principal, "project.edit", project)
    return project, principal


class ProjectForm(MethodView, ABC):
    """A form of the project page: a refusal comes back on that page, what was typed kept,
    nothing of it written."""

    body_types = FORM
    decorators = [signed_in_page]
    name: str

    @idempotent
    def post(self, project_id):
        project, principal = _editable(project_id)
        try:
            with db.session.begin_nested():  # a refusal undoes this act alone
                message = self.act(project, principal)
        except forms.Invalid as invalid:
            return _project_page(
                project_id, errors=invalid.errors, status=invalid.status, form_name=self.name
            )
        except ProblemError as problem:
            errors = forms.problem_messages(problem)
            rows = (problem.errors or {}).get("rows", [])
            if rows:  # every bad row is listed on the page, by line and column
                errors = {
                    "file": [
                        _("%(count)d row(s) are not right; nothing was stored.", count=len(rows))
                    ]
                }
            return _project_page(
                project_id, errors=errors, rows=rows, status=problem.status, form_name=self.name
            )
        flash(message)
        return redirect(url_for("web.project_page", project_id=project.id), 303)

    @abstractmethod
    def act(self, project, principal) -> str:
        """Do what the form asks on the project; returns what the flash says."""


class PostValue(ProjectForm):
    name = "value"

    def act(self, project, principal):
        """One value, as POST /api/v1/projects/{id}/values stores it."""
        typed = {k: v for k, v in forms.posted().items() if k != "replace"}
        value = forms.load(ValueSchema(), typed)
        service.store_values(
            db.session,
            project,
            [(1, value, [])],
            principal,
            replace=request.form.get("replace") == "true",
            conflict_on_duplicate=True,
        )
        return _("The value is stored.")


class UploadValues(ProjectForm):
    body_types = ("multipart/form-data",)
    upload = True  # the upload limit, as for the API's bulk upload (api.boundary)
    name = "upload"

    def act(self, project, principal):
        """A CSV or XLSX file of values: all stored, or none and every bad row listed."""
        upload = request.files.get("file")
        extension = "." + (upload.filename or "").rsplit(".", 1)[-1].lower() if upload else ""
        if upload is None or not upload.filename or extension not in UPLOADS:
            raise forms.Invalid({"file": [_("Choose a CSV or XLSX file.")]})
        stored = service.store_values(
            db.session,
            project,
            uploads.rows_of(upload.stream, UPLOADS[extension]),
            principal,
            replace=request.form.get("replace") == "true",
        )
        return _("%(count)d values are stored.", count=stored)


class DeclareIndicator(ProjectForm):
    name = "indicator"

    def act(self, project, principal):
        """An indicator of the project's own, as POST /api/v1/projects/{id}/indicators."""
        typed = forms.posted()
        pairs = {
            field: [typed.pop(f"{field}_low", None), typed.pop(f"{field}_high", None)]
            for field in ("valid_range", "goalposts")
        }
        definition = forms.load(IndicatorSchema(), typed | pairs)
        service.declare_indicator(db.session, project, definition)
        return _("The indicator %(name)s is declared.", name=definition["name"])


for _path, _view, _name in (
    ("values", PostValue, "project_value"),
    ("upload", UploadValues, "project_upload"),
    ("indicators", DeclareIndicator, "project_indicator"),
):
    blp.add_url_rule(f"/projects/<uuid:project_id>/{_path}", view_func=_view.as_view(_name))


# -- the report and the comparison ------------------------------------------------------------


def _report(project_id):
    project = service.get_project(db.session, project_id, current_principal())
    choice = {k: request.args[k] for k in ("baseline", "latest") if request.args.get(k)}
    return (
        project,
        choice,
        service.project_report(
            db.session, project, baseline=choice.get("baseline"), latest=choice.get("latest")
        ),
    )


@blp.get("/projects/<uuid:project_id>/report")
def report_page(project_id):
    """A project's report: scores with intervals, coverage, change, and the chart."""
    errors, status = {}, 200
    try:
        project, choice, report = _report(project_id)
    except ProblemError as problem:
        if problem.status != 422:
            raise
        # An unknown baseline or latest period: the report of all periods, and why.
        errors, status = forms.problem_messages(problem), 422
        project = service.get_project(db.session, project_id, current_principal())
        choice, report = {}, service.project_report(db.session, project, baseline=None, latest=None)
    periods = [p["label"] for p in report["periods"]]
    return render_template(
        "report/report.html",
        project=project,
        report=report,
        values=choice,
        errors=errors,
        period_options=list(zip(periods, periods, strict=True)),
        downloads={
            fmt: url_for("web.report_download", project_id=project.id, fmt=fmt, **choice)
            for fmt in DOWNLOADS
        },
    ), status


def _download(body, fmt: str, name: str) -> Response:
    response = Response(body, content_type=DOWNLOADS[fmt])
    if fmt != "svg":  # the chart is also the page's image; its link downloads it
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@blp.get("/projects/<uuid:project_id>/report.<any(csv, json, svg):fmt>")
def report_download(project_id, fmt):
    """The report as the API exports it: CSV, JSON or the SVG chart."""
    project, _choice, report = _report(project_id)
    if fmt == "json":
        return _download(json_response(report).get_data(), fmt, f"report-{project.id}")
    body = (
        report_csv(report)
        if fmt == "csv"
        else charts.radar_chart(report, "svg", labels.chart_words())
    )
    return _download(body, fmt, f"report-{project.id}")


def _comparison():
    filters = {k: request.args[k] for k in COMPARISON_FILTERS if request.args.get(k, "").strip()}
    args = forms.load(ComparisonArgsSchema(), filters)
    return filters, args, service.comparison(db.session, args)


def _page_number(count: int) -> tuple[int, int]:
    """The page of the comparison asked for (``?page=``, from 1) and how many there are; a
    page that is not a whole number from 1 to the last is not found, and says which are."""
    pages = max(1, -(-count // SHOWN))
    asked = request.args.get("page", "1").strip() or "1"
    if not asked.isdigit() or not 1 <= int(asked) <= pages:
        raise forms.Invalid(
            {forms.FORM: [_("Choose a page from 1 to %(pages)s.", pages=pages)]}, status=404
        )
    return int(asked), pages


@blp.get("/reports/comparison")
def comparison_page():
    """Public projects compared on the standard framework, with their intervals and ranks:
    SHOWN to a page, with links to the previous and next pages (no script needed), every
    one in the downloads."""
    comparison, paging, errors, status = None, {}, {}, 200
    filters = {k: request.args[k] for k in COMPARISON_FILTERS if k in request.args}
    try:
        filters, _args, result = _comparison()
        count = len(result.ids)
        number, pages = _page_number(count)
        start = (number - 1) * SHOWN
        comparison = {
            **result.header(),
            "projects": list(result.rows(start, min(start + SHOWN, count))),
            "count": count,
        }

        def link(to: int) -> str:
            return url_for("web.comparison_page", **filters, **({"page": to} if to > 1 else {}))

        paging = {
            "first": start + 1,
            "last": start + len(comparison["projects"]),
            "number": number,
            "pages": pages,
            "previous": link(number - 1) if number > 1 else None,
            "next": link(number + 1) if number < pages else None,
        }
    except forms.Invalid as invalid:
        errors, status = invalid.errors, invalid.status
    return render_template(
        "report/comparison.html",
        comparison=comparison,
        paging=paging,
        values=filters,
        errors=errors,
        downloads={
            fmt: url_for("web.comparison_download", fmt=fmt, **filters) for fmt in DOWNLOADS
        },
    ), status


@blp.get("/reports/comparison.<any(csv, json, svg):fmt>")
def comparison_download(fmt):
    """The comparison as the API exports it, streamed: CSV, JSON or the SVG chart."""
    try:
        _filters, _args, result = _comparison()
    except forms.Invalid as invalid:
        raise Unprocessable(_("The filters are not right."), errors=invalid.errors) from None
    body = {
        "csv": comparison_csv,
        "json": comparison_json,
        "svg": lambda r: charts.comparison_chart(r, "svg", words=labels.chart_words()),
    }[fmt](result)
    return _download(body, fmt, "comparison")
