"""Every mapped table, imported in one place for Alembic and the app."""

from api.accounts.models import AccessToken, AuditEvent, LocationAccess, Membership, User
from api.actors.models import Actor
from api.db import Base
from api.moderation.models import (
    Contribution,
    Flag,
    IdempotencyRecord,
    ModerationEvent,
    Translation,
)
from api.observations.models import Observation
from api.projects.models import IndicatorValue, Project, ProjectIndicator
from api.resources.models import Resource
from api.revisions.models import Revision
from api.themes.models import Theme
from api.webhooks.models import Delivery, DeliveryAttempt, Subscription

__all__ = [
    "AccessToken",
    "Actor",
    "AuditEvent",
    "Base",
    "Contribution",
    "Delivery",
    "DeliveryAttempt",
    "Flag",
    "IdempotencyRecord",
    "IndicatorValue",
    "LocationAccess",
    "Membership",
    "ModerationEvent",
    "Observation",
    "Project",
    "ProjectIndicator",
    "Resource",
    "Revision",
    "Subscription",
    "Theme",
    "Translation",
    "User",
]
