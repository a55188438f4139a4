from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_principal
from api.db import db
from api.http import page_response
from api.observations import service
from api.observations.schemas import ObservationQueryArgsSchema, ObservationSchema
from api.schemas import page_schema, page_size

blp = Blueprint(
    "observations",
    __name__,
    url_prefix="/api/v1/observations",
    description="First-hand observations from places, with generalised locations and no author "
    "shown. Contributed through /api/v1/contributions and moderated.",
)


@blp.route("")
class Observations(MethodView):
    @blp.arguments(ObservationQueryArgsSchema, location="query")
    @blp.response(200, page_schema(ObservationSchema, "ObservationPage"))
    @blp.alt_response(422, description="Invalid query parameter")
    def get(self, args):
        """Search observations, newest first

        Who: anyone. Filters use public locations only."""
        limit = page_size(args)
        rows = service.search_observations(db.session, args, limit=limit)
        return page_response(
            ObservationSchema(many=True).dump(rows), offset=args["offset"], limit=limit
        )


@blp.route("/<uuid:observation_id>")
class ObservationById(MethodView):
    @blp.response(200, ObservationSchema)
    @blp.alt_response(404, description="No such observation")
    def get(self, observation_id):
        """Read an observation

        Who: anyone (hidden ones: moderators and admins)."""
        return service.get_observation(db.session, observation_id, current_principal())
