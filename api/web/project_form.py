"""Pages of the Report job that create and edit a project (title, description, countries,
area, period, population, themes, publish state), through the projects service and schemas
the API's ``POST /api/v1/projects`` and ``PATCH /api/v1/projects/{id}`` use, under the same
permissions (``project.create``, ``project.edit``). Its indicators are declared on the
project's page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from api.actors.service import get_actor
from api.auth import current_principal
from api.db import db
from api.errors import ProblemError
from api.idempotency import idempotent
from api.permissions import can, require
from api.projects import service
from api.projects.schemas import ProjectCreateSchema, ProjectWriteSchema
from api.themes.service import list_themes
from api.web import forms
from api.web.account import signed_in_page
from api.web.routes import FORM, blp

TEXTS = ("title", "description", "population", "start_on", "end_on", "status")
TEMPLATE = "report/project_form.html"


def project_payload(form: MultiDict) -> dict:
    return {
        **forms.texts(form, TEXTS),
        **forms.lists(form, ("themes", "countries")),
        **forms.geojson_area(form),
    }


def _as_values(project) -> MultiDict:
    values = MultiDict(
        {
            name: "" if getattr(project, name) is None else str(getattr(project, name))
            for name in TEXTS
        }
    )
    values["countries"] = ", ".join(project.countries or [])
    values["version"] = str(project.version)
    for theme in project.themes or []:
        values.add("themes", theme)
    return values  # the area is not shown again: left blank, it stays as it is


def _page(values, errors=None, status=200, **context):
    html = render_template(
        TEMPLATE, values=values, errors=errors or {}, themes=list_themes(db.session), **context
    )
    return html, status


class NewProject(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    def _organisation(self, actor_id):
        principal = current_principal()
        actor = get_actor(db.session, actor_id, principal)
        require(principal, "project.create", actor)
        return actor

    def get(self, actor_id):
        return _page(MultiDict({"status": "draft"}), organisation=self._organisation(actor_id))

    @idempotent
    def post(self, actor_id):
        organisation = self._organisation(actor_id)
        data = {**project_payload(request.form), "actor_id": str(organisation.id)}
        try:
            with db.session.begin_nested():  # a refusal writes nothing
                loaded = forms.load(ProjectCreateSchema(), data)
                project = service.create_project(db.session, loaded, current_principal())
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again(
                TEMPLATE, refusal, themes=list_themes(db.session), organisation=organisation
            )
        flash(_("The project is saved. Declare its indicators here."))
        return redirect(url_for("web.project_page", project_id=project.id), 303)


class EditProject(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    def _project(self, project_id):
        principal = current_principal()
        project = service.get_project(db.session, project_id, principal)
        require(principal, "project.edit", project)
        return project

    def get(self, project_id):
        project = self._project(project_id)
        return _page(_as_values(project), project=project)

    @idempotent
    def post(self, project_id):
        project = self._project(project_id)
        if request.form.get("version") != str(project.version):
            # The API's If-Match: a change made on a page older than the project is refused,
            # not saved over what someone else saved meanwhile.
            stale = forms.Invalid(
                {
                    forms.FORM: [
                        _(
                            "Someone changed this project since you opened the page. Open it "
                            "again to see their change, then make yours."
                        )
                    ]
                },
                status=412,
            )
            return forms.show_again(
                TEMPLATE, stale, themes=list_themes(db.session), project=project
            )
        typed = project_payload(request.form)
        # what was emptied is cleared, as a PATCH with null would
        cleared = {name: None for name in ("population", "start_on", "end_on")}
        changes = {"description": "", "countries": [], "themes": [], **cleared, **typed}
        try:
            with db.session.begin_nested():
                loaded = forms.load(ProjectWriteSchema(partial=True), changes)
                service.update_project(db.session, project, loaded)
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again(
                TEMPLATE, refusal, themes=list_themes(db.session), project=project
            )
        flash(_("The project is saved."))
        return redirect(url_for("web.project_page", project_id=project.id), 303)


def may_create_project(actor) -> bool:
    return can(current_principal(), "project.create", actor)


blp.add_app_template_global(may_create_project)
blp.add_url_rule(
    "/organisations/<uuid:actor_id>/projects/new", view_func=NewProject.as_view("new_project")
)
blp.add_url_rule("/projects/<uuid:project_id>/edit", view_func=EditProject.as_view("edit_project"))
