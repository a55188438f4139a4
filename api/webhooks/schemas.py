"""What subscriptions and their delivery log look like through the API."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import validate as v

from api.fields import CountryCode, GeoJSONGeometry, HttpUrl, validate_bbox
from api.webhooks.models import DELIVERY_STATUSES, DIGESTS, TOPICS

TOPIC_DOC = (
    "contributions: the outcomes of your contributions (or, with actor_id, of those about "
    "your organisation's profile); actors: changes to public actor profiles; library: new "
    "public library resources"
)


class SubscriptionCreateSchema(ma.Schema):
    topic = ma.fields.String(
        required=True, validate=v.OneOf(TOPICS), metadata={"description": TOPIC_DOC}
    )
    actor_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "Subscribe for this organisation (you must manage it)"},
    )
    area = GeoJSONGeometry(
        allowed=("Polygon", "MultiPolygon"),
        allow_none=True,
        metadata={"description": "Only items whose public location or area intersects it"},
    )
    bbox = ma.fields.List(
        ma.fields.Float(),
        validate=[v.Length(4, 4), validate_bbox],
        allow_none=True,
        metadata={"description": "west,south,east,north: the same as an area, as a box"},
    )
    country = CountryCode(allow_none=True)
    theme = ma.fields.String(allow_none=True, validate=v.Length(1, 64))
    url = HttpUrl(
        allow_none=True,
        metadata={"description": "Where to POST signed webhooks (public http(s) addresses)"},
    )
    digest = ma.fields.String(
        allow_none=True,
        validate=v.OneOf(DIGESTS),
        metadata={"description": "Instead of a url: an email digest, daily or weekly"},
    )

    @ma.validates_schema
    def one_channel(self, data, **kwargs):
        if bool(data.get("url")) == bool(data.get("digest")):
            raise ma.ValidationError(
                "give either a url (webhooks) or a digest (email), not both.", "url"
            )
        if data.get("area") is not None and data.get("bbox") is not None:
            raise ma.ValidationError("give an area or a bbox, not both.", "bbox")
        filtered = any(data.get(k) is not None for k in ("area", "bbox", "country", "theme"))
        if data["topic"] == "contributions" and filtered:
            raise ma.ValidationError(
                "area, bbox, country and theme filter actors and library only.", "topic"
            )


class SubscriptionPatchSchema(ma.Schema):
    paused = ma.fields.Boolean(
        required=True, metadata={"description": "Pause (deliveries wait) or resume"}
    )


class SubscriptionSchema(ma.Schema):
    id = ma.fields.UUID()
    topic = ma.fields.String()
    actor_id = ma.fields.UUID(allow_none=True)
    area = GeoJSONGeometry(allowed=("Polygon", "MultiPolygon"), allow_none=True)
    country = ma.fields.String(allow_none=True)
    theme = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    digest = ma.fields.String(allow_none=True)
    paused = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime(format="iso", default_timezone=UTC)


class SubscriptionCreatedSchema(SubscriptionSchema):
    secret = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The webhook signing secret (whsec_...): shown this once, keep it. "
            "Verify each delivery's webhook-signature with it (Standard Webhooks)."
        },
    )


class DeliveryAttemptSchema(ma.Schema):
    attempted_at = ma.fields.AwareDateTime(format="iso", default_timezone=UTC)
    response_code = ma.fields.Integer(
        allow_none=True, metadata={"description": "null: no HTTP answer"}
    )
    error = ma.fields.String(allow_none=True)
    duration_ms = ma.fields.Integer()


class DeliverySchema(ma.Schema):
    id = ma.fields.UUID()
    webhook_id = ma.fields.String(metadata={"description": "The webhook-id header sent"})
    event_type = ma.fields.String()
    target_type = ma.fields.String()
    target_id = ma.fields.UUID()
    occurred_at = ma.fields.AwareDateTime(format="iso", default_timezone=UTC)
    status = ma.fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = ma.fields.Integer(metadata={"description": "Attempts made in all"})
    response_code = ma.fields.Integer(
        allow_none=True, metadata={"description": "Of the last attempt"}
    )
    next_attempt_at = ma.fields.AwareDateTime(format="iso", default_timezone=UTC, allow_none=True)
    finished_at = ma.fields.AwareDateTime(format="iso", default_timezone=UTC, allow_none=True)
    attempt_log = ma.fields.List(ma.fields.Nested(DeliveryAttemptSchema))
