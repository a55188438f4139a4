"""The Find job's map with its list, and actor pages (library.py has the library and
observations, contact.py writing to an actor). Each page loads its query with the API's
own schema and calls the API's service functions, so that a filter, a limit or a
visibility rule is the same here as there."""

from __future__ import annotations

import json
from functools import cache
from urllib.parse import urlencode

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from api.actors import service
from api.actors.routes import represent
from api.actors.schemas import ActorQueryArgsSchema
from api.auth import current_principal
from api.db import db
from api.themes.service import list_themes
from api.translations import translations_for
from api.web import STATIC, forms, labels
from api.web.routes import blp

PAGE_SIZE = 20
# What the map page's form may carry: the API's filters, as a person sets them.
FILTERS = ("q", "kind", "theme", "country", "language", "near", "radius_km")
RADII_KM = (25, 50, 100, 300, 1000)


@blp.app_context_processor
def _find_words():
    return {
        "theme_name": labels.theme_name,
        "resource_types": labels.RESOURCE_TYPES,
        # Pages of other jobs an actor page links to, where they exist.
        "page_exists": lambda endpoint: endpoint in current_app.view_functions,
    }


@cache
def places() -> dict[str, tuple[float, float]]:
    """Place names shipped with the map (GeoNames cities, CC-BY 4.0), by lower-case name:
    "near" accepts one of them as well as lon,lat."""
    rows = json.loads((STATIC / "map" / "places.json").read_text(encoding="utf-8"))
    return {name.casefold(): (lon, lat) for name, lon, lat in rows}


def _query(values: dict[str, str]) -> dict[str, str]:
    """The form's values as the API's query parameters: a place name near which to look
    becomes its coordinates."""
    query = {name: values[name] for name in FILTERS if name in values}
    if (near := query.get("near")) and (place := places().get(near.strip().casefold())):
        query["near"] = f"{place[0]},{place[1]}"
    if "near" not in query:
        query.pop("radius_km", None)  # the radius menu always sends one
    query["offset"] = values.get("offset", "0")
    return query


def theme_options() -> list[tuple[str, str]]:
    named = {
        theme.key: labels.theme_name(theme.key, {theme.key: theme.label})
        for theme in list_themes(db.session)
    }
    return sorted(named.items(), key=lambda item: item[1].casefold())


def by_field(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """A list parameter's messages name the item (``near.0``): the form has one field."""
    fields: dict[str, list[str]] = {}
    for name, messages in errors.items():
        fields.setdefault(name.split(".")[0], []).extend(messages)
    if "near" in fields and all(m == forms.in_words("Not a valid number.") for m in fields["near"]):
        fields["near"] = [
            _("Peacemap does not know this place: enter a city or longitude,latitude.")
        ]
    return fields


@blp.get("/")
def map_page():
    """The actor map with a list beside it; without JavaScript, the list and its filters."""
    values = {name: value.strip() for name, value in request.args.items() if value.strip()}
    query = _query(values)
    try:
        args = forms.load(ActorQueryArgsSchema(), {**query, "limit": str(PAGE_SIZE)})
    except forms.Invalid as refusal:
        return _map_page(values, query, errors=by_field(refusal.errors), status=422)
    page = service.search_actors(db.session, args, current_principal(), limit=PAGE_SIZE)
    actors = [actor for actor, _km in page.items]
    translations = translations_for(db.session, "actor", [actor.id for actor in actors])
    wanted = str(get_locale())
    found = [
        represent(
            actor,
            distance_km=km,
            translations=translations.get(actor.id),
            wanted=wanted,
            listed=True,
        )
        for actor, km in page.items
    ]
    return _map_page(values, query, actors=found, total=page.total, offset=args["offset"])


def _map_page(values, query, *, actors=(), total=0, offset=0, errors=None, status=200):
    facets = service.public_facets(db.session)
    kept = {name: value for name, value in values.items() if name in FILTERS}
    api_query = {k: v for k, v in query.items() if k != "offset"}

    def page_link(at: int) -> str:
        return "/?" + urlencode({**kept, "offset": at} if at else kept)

    html = render_template(
        "find/map.html",
        values={"radius_km": "50", **values},  # the API's default radius, shown
        errors=errors or {},
        actors=actors,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        previous=page_link(max(offset - PAGE_SIZE, 0)) if offset else None,
        next=page_link(offset + PAGE_SIZE) if total is None or offset + PAGE_SIZE < total else None,
        kind_options=[(k, str(v)) for k, v in labels.KINDS.items()],
        theme_options=theme_options(),
        country_options=sorted(
            ((c, labels.country_name(c)) for c in facets["country"]), key=lambda o: o[1]
        ),
        language_options=sorted(
            ((c, labels.language_name(c)) for c in facets["language"]), key=lambda o: o[1]
        ),
        radius_options=[(str(r), f"{r} km") for r in RADII_KM],
        map_filters="" if errors else urlencode(api_query),
        basemap_url=current_app.config.get("BASEMAP_URL") or "",
        basemap_attribution=current_app.config.get("BASEMAP_ATTRIBUTION") or "",
    )
    return html, status


@blp.get("/actors/<uuid:actor_id>")
def actor_page(actor_id):
    """An actor's public profile, in the reader's language where a translation exists."""
    actor = service.get_actor(db.session, actor_id, current_principal())
    translations = translations_for(db.session, "actor", [actor.id]).get(actor.id)
    data = represent(actor, translations=translations, wanted=str(get_locale()))
    return render_template("actor.html", actor=data, area=area_drawing(data.get("area")))


def area_drawing(area: dict | None) -> dict | None:
    """The public area of work (a represented actor's ``area``: already generalised to its
    precision) as an SVG outline to draw and its extent in whole tenths of a degree to read;
    nothing finer than the public representation."""
    if not area:
        return None
    polygons = [area["coordinates"]] if area["type"] == "Polygon" else area["coordinates"]
    rings = [ring for polygon in polygons for ring in polygon]
    xs = [x for ring in rings for x, _y in ring]
    ys = [y for ring in rings for _x, y in ring]
    west, south, east, north = min(xs), min(ys), max(xs), max(ys)
    margin = max(east - west, north - south, 0.01) * 0.05
    return {
        # SVG's y runs down: latitudes are negated.
        "path": " ".join(
            "M" + " L".join(f"{x:.5f} {-y:.5f}" for x, y in ring) + " Z" for ring in rings
        ),
        "view_box": " ".join(
            f"{n:.5f}"
            for n in (
                west - margin,
                -north - margin,
                east - west + 2 * margin,
                north - south + 2 * margin,
            )
        ),
        "extent": {
            name: f"{value:.1f}"
            for name, value in (("west", west), ("south", south), ("east", east), ("north", north))
        },
    }
