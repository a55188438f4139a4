"""Every mapped table, imported in one place for Alembic and the app."""

from api.actors.models import Actor
from api.db import Base
from api.themes.models import Theme

__all__ = ["Actor", "Base", "Theme"]
