"""HTTP endpoints for actor profiles: parse, call the service, represent."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.actors import service
from api.actors.models import Actor
from api.actors.schemas import (
    ActorCreateSchema,
    ActorItemArgsSchema,
    ActorListSchema,
    ActorPatchSchema,
    ActorPrivateSchema,
    ActorQueryArgsSchema,
    ActorSchema,
)
from api.auth import allowed, current_principal, signed_in
from api.db import db
from api.http import (
    BEARER,
    GEOJSON,
    IF_MATCH,
    json_response,
    link_header,
    page_response,
    require_if_match,
    version_etag,
    wants_geojson,
)
from api.permissions import require, who
from api.privacy import PRIVATE_FIELDS, disclose
from api.revisions.service import Provenance
from api.schemas import LIST_OMITTED, geojson_schemas, page_size
from api.translations import localise, requested_language, translations_for

blp = Blueprint(
    "actors",
    __name__,
    url_prefix="/api/v1/actors",
    description="Profiles of organisations, practitioners, academics, networks, funders, "
    "government bodies and media working on peace. Public locations are generalised.",
)

ActorFeatureSchema, ActorFeatureCollectionSchema = geojson_schemas(ActorPrivateSchema, "Actor")
GEOJSON_DOC = {
    "description": "The same as a GeoJSON FeatureCollection (f=geojson or Accept)",
    "schema": ActorFeatureCollectionSchema,
}


@lru_cache(maxsize=256)
def _schema(fields: tuple[str, ...] | None, private: bool, listed: bool = False) -> ActorSchema:
    schema = ActorPrivateSchema if private else ActorSchema
    if fields is None:
        return schema(exclude=LIST_OMITTED if listed else ())
    return schema(only={"id", *fields})


def represent(
    actor: Actor,
    fields=None,
    distance_km: float | None = None,
    *,
    private=False,
    translations: dict | None = None,
    wanted: tuple[str, ...] | str = (),
    listed: bool = False,
) -> dict:
    """``listed``: for a list page, which leaves heavy properties out unless asked for."""
    data = _schema(tuple(sorted(fields)) if fields else None, private, listed).dump(actor)
    if distance_km is not None and (not fields or "distance_km" in fields):
        data["distance_km"] = round(distance_km, 3)
    localise(data, "actor", actor.language, translations or {}, wanted)
    if fields:  # only what was asked for, the language properties included
        data = {key: value for key, value in data.items() if key == "id" or key in fields}
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


def _etag(
    actor: Actor,
    args: dict,
    wanted: tuple[str, ...],
    translations: dict | None,
    private: dict | None,
) -> str:
    """Version-based, so it serves If-Match; a variant suffix keeps representations apart.
    Translations change the representation but not the version, so they are part of it;
    so are private fields, which change without a new version (api.privacy)."""
    fields = ",".join(sorted(args.get("fields") or ()))
    stamps = ",".join(
        f"{lang}@{t.updated_at.timestamp()}" for lang, t in sorted((translations or {}).items())
    )
    secret = repr(sorted(private.items())) if private is not None else ""
    variant = "|".join(
        [args.get("f") or "", fields, args.get("include") or "", ",".join(wanted), stamps, secret]
    )
    if variant == "|||||":
        return version_etag(actor.version)
    digest = hashlib.blake2b(variant.encode(), digest_size=4).hexdigest()
    return f"{version_etag(actor.version)};{digest}"


@blp.route("")
class Actors(MethodView):
    shared_cache = True  # anonymous pages of the list (api.http)

    @blp.arguments(ActorQueryArgsSchema, location="query")
    @blp.response(
        200, ActorListSchema, headers={"Link": {"description": "RFC 8288 pagination links"}}
    )
    @blp.doc(responses={"200": {"content": {GEOJSON: GEOJSON_DOC}}})
    @blp.alt_response(422, description="Invalid query parameter")
    def get(self, args):
        """Search and list actors

        Who: anyone (published actors); moderators and admins may filter by status.
        Filters combine with AND; list values (comma-separated or repeated) with OR.
        Spatial filters and distances use each actor's public location."""
        limit = page_size(args)
        page = service.search_actors(db.session, args, current_principal(), limit=limit)
        translations = translations_for(db.session, "actor", [actor.id for actor, _ in page.items])
        wanted = requested_language(args.get("lang"))
        items = [
            represent(
                actor,
                args.get("fields"),
                km,
                translations=translations.get(actor.id),
                wanted=wanted,
                listed=True,
            )
            for actor, km in page.items
        ]
        if not wants_geojson(args.get("f")):
            return page_response(items, offset=args["offset"], limit=limit, total=page.total)
        body = {
            "type": "FeatureCollection",
            "features": [as_feature(item) for item in items],
            "numberMatched": page.total,
            "numberReturned": len(items),
        }
        headers = {"Link": link_header(args["offset"], limit, len(items), page.total)}
        return json_response(body, mimetype=GEOJSON, headers=headers)

    @allowed("actor.create")
    @blp.arguments(ActorCreateSchema)
    @blp.response(201, ActorSchema, headers={"Location": {"description": "URL of the new actor"}})
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Not allowed to create actors directly")
    @blp.alt_response(413, description="Request body too large")
    @blp.alt_response(415, description="Body is not JSON")
    @blp.alt_response(422, description="Invalid actor")
    @blp.doc(security=BEARER, description=f"Who: {who('actor.create')}.")
    def post(self, data):
        """Create an actor"""
        provenance = Provenance(author_id=current_principal().user_id)
        actor = service.create_actor(db.session, data, provenance)
        headers = {
            "Location": url_for("actors.ActorById", actor_id=actor.id, _external=True),
            "ETag": f'"{version_etag(actor.version)}"',
        }
        return json_response(represent(actor), 201, headers=headers)


@blp.route("/<uuid:actor_id>")
class ActorById(MethodView):
    @blp.arguments(ActorItemArgsSchema, location="query")
    @blp.response(
        200, ActorPrivateSchema, headers={"ETag": {"description": "Use in If-Match to change it"}}
    )
    @blp.doc(
        responses={
            "200": {
                "content": {
                    GEOJSON: {"description": "As a GeoJSON Feature", "schema": ActorFeatureSchema}
                }
            }
        }
    )
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    @blp.alt_response(403, description="include=private by someone not allowed to see it")
    @blp.alt_response(404, description="No actor with this id that you may see")
    def get(self, args, actor_id):
        """Read an actor

        Who: anyone for published actors; moderators, admins and the actor's members for
        others. `include=private` (contact, exact location): moderators, admins and the
        actor's managers; each read of a generalised actor's exact location is logged."""
        principal = current_principal()
        actor = service.get_actor(db.session, actor_id, principal)
        private = args.get("include") == "private"
        if private:
            require(principal, "actor.read_private", actor)
        wanted = requested_language(args.get("lang"))
        translations = translations_for(db.session, "actor", [actor.id]).get(actor.id)
        data = represent(
            actor, args.get("fields"), private=private, translations=translations, wanted=wanted
        )
        secrets = None
        if private:
            secrets = {k: data[k] for k in ("exact_location", "contact", "exact_area") if k in data}
            disclose(db.session, principal, "actor", actor.id, PRIVATE_FIELDS["actor"])
        headers = {"ETag": f'"{_etag(actor, args, wanted, translations, secrets)}"'}
        if wants_geojson(args.get("f")):
            return json_response(as_feature(data), mimetype=GEOJSON, headers=headers)
        return json_response(data, headers=headers)

    @signed_in
    @blp.arguments(ActorPatchSchema(partial=True))
    @blp.response(200, ActorSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Not allowed to change this actor (or these fields)")
    @blp.alt_response(404, description="No actor with this id that you may see")
    @blp.alt_response(412, description="If-Match does not name the current version")
    @blp.alt_response(415, description="Body is not JSON")
    @blp.alt_response(422, description="Invalid change")
    @blp.alt_response(428, description="If-Match header missing")
    @blp.doc(
        security=BEARER,
        parameters=[IF_MATCH],
        description=f"Who: {who('actor.update')}; status and verified: {who('actor.moderate')}.",
    )
    def patch(self, changes, actor_id):
        """Change some fields of an actor"""
        principal = current_principal()
        actor = service.get_actor(db.session, actor_id, principal)
        require(principal, "actor.update", actor)
        if {"status", "verified"} & changes.keys():
            require(principal, "actor.moderate", actor)
        require_if_match(actor.version)
        actor = service.update_actor(
            db.session, actor, changes, Provenance(author_id=principal.user_id)
        )
        return json_response(represent(actor), headers={"ETag": f'"{version_etag(actor.version)}"'})

    @signed_in
    @blp.response(204)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Not allowed to archive actors")
    @blp.alt_response(404, description="No actor with this id that you may see")
    @blp.alt_response(412, description="If-Match does not name the current version")
    @blp.alt_response(428, description="If-Match header missing")
    @blp.doc(security=BEARER, parameters=[IF_MATCH], description=f"Who: {who('actor.archive')}.")
    def delete(self, actor_id):
        """Archive an actor (it disappears from public lists; nothing is deleted)"""
        principal = current_principal()
        actor = service.get_actor(db.session, actor_id, principal)
        require(principal, "actor.archive", actor)
        require_if_match(actor.version)
        service.archive_actor(db.session, actor, Provenance(author_id=principal.user_id))
