from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_principal
from api.db import db
from api.http import json_response, page_response
from api.resources import service
from api.resources.schemas import LangArgsSchema, ResourceQueryArgsSchema, ResourceSchema
from api.schemas import LIST_OMITTED, page_schema, page_size
from api.translations import localise, requested_language, translations_for

blp = Blueprint(
    "resources",
    __name__,
    url_prefix="/api/v1/resources",
    description="The library: reports, evaluations, briefs, tools, datasets, lessons from failure. "
    "Contributed through /api/v1/contributions and moderated.",
)


def _represent(resources, lang_arg, *, listed: bool = False) -> list[dict]:
    translations = translations_for(db.session, "resource", [r.id for r in resources])
    wanted = requested_language(lang_arg)
    schema = ResourceSchema(exclude=LIST_OMITTED if listed else ())
    return [
        localise(schema.dump(r), "resource", r.language, translations.get(r.id, {}), wanted)
        for r in resources
    ]


@blp.route("")
class Resources(MethodView):
    @blp.arguments(ResourceQueryArgsSchema, location="query")
    @blp.response(200, page_schema(ResourceSchema, "ResourcePage"))
    @blp.alt_response(422, description="Invalid query parameter")
    def get(self, args):
        """Search the library

        Who: anyone."""
        limit = page_size(args)
        resources = service.search_resources(db.session, args, limit=limit)
        return page_response(
            _represent(resources, args.get("lang"), listed=True),
            offset=args["offset"],
            limit=limit,
        )


@blp.route("/<uuid:resource_id>")
class ResourceById(MethodView):
    @blp.arguments(LangArgsSchema, location="query")
    @blp.response(200, ResourceSchema)
    @blp.alt_response(404, description="No such resource")
    def get(self, args, resource_id):
        """Read a resource

        Who: anyone (hidden ones: moderators and admins)."""
        resource = service.get_resource(db.session, resource_id, current_principal())
        return json_response(_represent([resource], args.get("lang"))[0])
