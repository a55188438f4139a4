"""HTTP endpoints for actor profiles: parse, call the service, represent."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.actors import service
from api.actors.models import Actor
from api.actors.schemas import (
    ActorCreateSchema,
    ActorListSchema,
    ActorPatchSchema,
    ActorQueryArgsSchema,
    ActorRepresentationArgsSchema,
    ActorSchema,
)
from api.auth import Viewer, admin_only, current_viewer
from api.db import db
from api.http import (
    GEOJSON,
    json_response,
    link_header,
    require_if_match,
    version_etag,
    wants_geojson,
)

blp = Blueprint(
    "actors",
    __name__,
    url_prefix="/api/v1/actors",
    description="Profiles of organisations, practitioners, academics, networks, funders, "
    "government bodies and media working on peace. Public locations are generalised.",
)

ADMIN = [{"bearerAuth": []}]
GEOJSON_DOC = {"description": "The same as a GeoJSON FeatureCollection (f=geojson or Accept)"}


@lru_cache(maxsize=256)
def _schema(fields: tuple[str, ...] | None, private: bool) -> ActorSchema:
    exclude = () if private else ("contact",)
    only = None if fields is None else tuple({"id", *fields} - set(exclude))
    return ActorSchema(only=only, exclude=() if only else exclude)


def represent(actor: Actor, viewer: Viewer, fields, distance_km: float | None = None) -> dict:
    data = _schema(tuple(sorted(fields)) if fields else None, viewer.sees_private).dump(actor)
    if distance_km is not None and (not fields or "distance_km" in fields):
        data["distance_km"] = round(distance_km, 3)
    return data


def as_feature(properties: dict) -> dict:
    properties = dict(properties)
    geometry = properties.pop("location", None)
    return {
        "type": "Feature",
        "id": properties["id"],
        "geometry": geometry,
        "properties": properties,
    }


def _etag(actor: Actor, args: dict, viewer: Viewer) -> str:
    """Version-based, so it serves If-Match; a variant suffix keeps representations apart."""
    variant = [
        args.get("f") or "",
        ",".join(sorted(args.get("fields") or ())),
        str(viewer.sees_private),
    ]
    if variant == ["", "", "False"]:
        return version_etag(actor.version)
    digest = hashlib.blake2b("|".join(variant).encode(), digest_size=4).hexdigest()
    return f"{version_etag(actor.version)};{digest}"


@blp.route("")
class Actors(MethodView):
    @blp.arguments(ActorQueryArgsSchema, location="query")
    @blp.response(
        200, ActorListSchema, headers={"Link": {"description": "RFC 8288 pagination links"}}
    )
    @blp.doc(responses={"200": {"content": {GEOJSON: GEOJSON_DOC}}})
    @blp.alt_response(422, description="Invalid query parameter")
    def get(self, args):
        """Search and list actors

        Filters combine with AND; list values (comma-separated or repeated) with OR.
        Spatial filters and distances use each actor's public location."""
        viewer = current_viewer()
        limit = args.get("limit") or current_app.config["PAGE_LIMIT_DEFAULT"]
        page = service.search_actors(db.session, args, viewer, limit=limit)
        items = [represent(actor, viewer, args.get("fields"), km) for actor, km in page.items]
        headers = {"Link": link_header(args["offset"], limit, len(items), page.total)}
        if wants_geojson(args.get("f")):
            body = {
                "type": "FeatureCollection",
                "features": [as_feature(item) for item in items],
                "numberMatched": page.total,
                "numberReturned": len(items),
            }
            return json_response(body, mimetype=GEOJSON, headers=headers)
        body = {
            "items": items,
            "count": len(items),
            "total": page.total,
            "limit": limit,
            "offset": args["offset"],
        }
        return json_response(body, headers=headers)

    @admin_only
    @blp.arguments(ActorCreateSchema)
    @blp.response(201, ActorSchema, headers={"Location": {"description": "URL of the new actor"}})
    @blp.alt_response(401, description="No or invalid administrator token")
    @blp.alt_response(413, description="Request body too large")
    @blp.alt_response(415, description="Body is not JSON")
    @blp.alt_response(422, description="Invalid actor")
    @blp.doc(security=ADMIN)
    def post(self, data):
        """Create an actor (administrators until accounts exist)"""
        viewer = current_viewer()
        actor = service.create_actor(db.session, data)
        headers = {
            "Location": url_for("actors.ActorById", actor_id=actor.id, _external=True),
            "ETag": f'"{version_etag(actor.version)}"',
        }
        return json_response(represent(actor, viewer, None), 201, headers=headers)


@blp.route("/<uuid:actor_id>")
class ActorById(MethodView):
    @blp.arguments(ActorRepresentationArgsSchema, location="query")
    @blp.response(
        200, ActorSchema, headers={"ETag": {"description": "Use in If-Match to change it"}}
    )
    @blp.doc(responses={"200": {"content": {GEOJSON: {"description": "As a GeoJSON Feature"}}}})
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    @blp.alt_response(404, description="No published actor with this id")
    def get(self, args, actor_id):
        """Read an actor"""
        viewer = current_viewer()
        actor = service.get_actor(db.session, actor_id, viewer)
        data = represent(actor, viewer, args.get("fields"))
        headers = {"ETag": f'"{_etag(actor, args, viewer)}"'}
        if wants_geojson(args.get("f")):
            return json_response(as_feature(data), mimetype=GEOJSON, headers=headers)
        return json_response(data, headers=headers)

    @admin_only
    @blp.arguments(ActorPatchSchema(partial=True))
    @blp.response(200, ActorSchema)
    @blp.alt_response(401, description="No or invalid administrator token")
    @blp.alt_response(404, description="No actor with this id")
    @blp.alt_response(412, description="If-Match does not name the current version")
    @blp.alt_response(415, description="Body is not JSON")
    @blp.alt_response(422, description="Invalid change")
    @blp.alt_response(428, description="If-Match header missing")
    @blp.doc(
        security=ADMIN,
        parameters=[
            {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}
        ],
    )
    def patch(self, changes, actor_id):
        """Change some fields of an actor"""
        viewer = current_viewer()
        actor = service.get_actor(db.session, actor_id, viewer)
        require_if_match(actor.version)
        actor = service.update_actor(db.session, actor, changes)
        headers = {"ETag": f'"{version_etag(actor.version)}"'}
        return json_response(represent(actor, viewer, None), headers=headers)

    @admin_only
    @blp.response(204)
    @blp.alt_response(401, description="No or invalid administrator token")
    @blp.alt_response(404, description="No actor with this id")
    @blp.alt_response(412, description="If-Match does not name the current version")
    @blp.alt_response(428, description="If-Match header missing")
    @blp.doc(
        security=ADMIN,
        parameters=[
            {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}
        ],
    )
    def delete(self, actor_id):
        """Archive an actor (it disappears from public lists; nothing is deleted)"""
        viewer = current_viewer()
        actor = service.get_actor(db.session, actor_id, viewer)
        require_if_match(actor.version)
        service.archive_actor(db.session, actor)
        return "", 204
