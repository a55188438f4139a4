"""The Find job's knowledge pages: the resource library with its search, and local
observations. Queries load with the API's schemas and go through the API's service
functions (which apply the one visibility rule per content type)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template, request
from flask_babel import get_locale

from api.auth import current_principal
from api.db import db
from api.observations import service as observations
from api.observations.schemas import ObservationQueryArgsSchema, ObservationSchema
from api.resources import service as resources
from api.resources.routes import _represent as represent_resources
from api.resources.schemas import ResourceQueryArgsSchema
from api.web import forms, labels
from api.web.find import by_field, theme_options
from api.web.routes import blp

PAGE_SIZE = 20


def _listing(schema, names: tuple[str, ...], search):
    """A GET form's filters loaded with the API's schema, one page more than shown asked
    for (so that "next" is only offered when there is more), and the paging links."""
    values = {k: v.strip() for k, v in request.args.items() if v.strip() and k in names}
    offset = request.args.get("offset", "0")
    try:
        args = forms.load(schema, {**values, "offset": offset, "limit": str(PAGE_SIZE + 1)})
    except forms.Invalid as refusal:
        return values, [], {}, by_field(refusal.errors)
    rows = search(args)
    at = args["offset"]

    def link(to: int) -> str:
        return "?" + urlencode({**values, "offset": to} if to else values)

    paging = {
        "offset": at,
        "previous": link(max(at - PAGE_SIZE, 0)) if at else None,
        "next": link(at + PAGE_SIZE) if len(rows) > PAGE_SIZE else None,
    }
    return values, rows[:PAGE_SIZE], paging, {}


@blp.get("/library")
def library():
    """Reports, evaluations, briefs, tools, data sets and lessons from failure, searchable."""
    values, rows, paging, errors = _listing(
        ResourceQueryArgsSchema(),
        ("q", "type", "theme", "language", "country"),
        lambda args: resources.search_resources(db.session, args, limit=PAGE_SIZE + 1),
    )
    html = render_template(
        "find/library.html",
        values=values,
        errors=errors,
        resources=represent_resources(rows, str(get_locale()), listed=True),
        paging=paging,
        type_options=[(k, str(v)) for k, v in labels.RESOURCE_TYPES.items()],
        theme_options=theme_options(),
    )
    return html, 422 if errors else 200


@blp.get("/library/<uuid:resource_id>")
def resource_page(resource_id):
    resource = resources.get_resource(db.session, resource_id, current_principal())
    (data,) = represent_resources([resource], str(get_locale()))
    return render_template("find/resource.html", resource=data)


@blp.get("/observations")
def observation_list():
    """First-hand observations, newest first, named by country (never a point)."""
    values, rows, paging, errors = _listing(
        ObservationQueryArgsSchema(),
        ("theme", "country", "language"),
        lambda args: observations.search_observations(db.session, args, limit=PAGE_SIZE + 1),
    )
    html = render_template(
        "find/observations.html",
        values=values,
        errors=errors,
        observations=ObservationSchema(many=True, exclude=("location",)).dump(rows),
        paging=paging,
        theme_options=theme_options(),
    )
    return html, 422 if errors else 200
