from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import allowed
from api.db import db
from api.http import BEARER
from api.permissions import who
from api.themes import service
from api.themes.schemas import ThemeSchema

blp = Blueprint(
    "themes",
    __name__,
    url_prefix="/api/v1/themes",
    description="The theme vocabulary: the five framework themes and the sectors actors work in.",
)


@blp.route("")
class Themes(MethodView):
    @blp.response(200, ThemeSchema(many=True))
    def get(self):
        """List the themes actors and resources can be tagged with

        Who: anyone."""
        return service.list_themes(db.session)

    @allowed("theme.create")
    @blp.arguments(ThemeSchema)
    @blp.response(201, ThemeSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Not an administrator")
    @blp.alt_response(409, description="A theme with this key exists")
    @blp.alt_response(422, description="Invalid theme")
    @blp.doc(security=BEARER, description=f"Who: {who('theme.create')}.")
    def post(self, data):
        """Add a theme to the vocabulary"""
        return service.add_theme(db.session, data)
