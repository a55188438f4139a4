"""Every mapped table, imported in one place for Alembic and the app."""

from api.accounts.models import AccessToken, AuditEvent, LocationAccess, Membership, User
from api.actors.models import Actor
from api.db import Base
from api.themes.models import Theme

__all__ = [
    "AccessToken",
    "Actor",
    "AuditEvent",
    "Base",
    "LocationAccess",
    "Membership",
    "Theme",
    "User",
]
