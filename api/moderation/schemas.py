import marshmallow as ma
from marshmallow import validate as v

from api import limits
from api.content import DISCLAIMERS
from api.fields import (
    CountryCode,
    DelimitedList,
    LanguageTag,
    Mapping,
    Timestamp,
    unique,
    validate_bbox,
)
from api.moderation.models import CONTRIBUTION_KINDS, FLAG_REASONS, STATES, TARGET_TYPES
from api.moderation.workflow import ALL_DECISIONS
from api.privacy import redact_changes
from api.schemas import PageArgsSchema

PROPOSABLE = tuple(k for k in CONTRIBUTION_KINDS if k != "flag_review")


class ContributionCreateSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=v.OneOf(PROPOSABLE))
    target_type = ma.fields.String(
        validate=v.OneOf(("actor", "resource")),
        metadata={"description": "translation: what is translated (actor_edit: always actor)"},
    )
    target_id = ma.fields.UUID(metadata={"description": "actor_edit and translation: the item"})
    payload = Mapping(
        max_properties=50,
        required=True,
        metadata={
            "description": "new_actor: an actor; actor_edit: the fields to change; new_resource: "
            "a resource; new_observation: an observation; translation: {language, texts}"
        },
    )

    @ma.validates_schema
    def target_needed(self, data, **kwargs):
        if data.get("kind") in ("actor_edit", "translation") and "target_id" not in data:
            raise ma.ValidationError(f"is required for {data['kind']}.", "target_id")
        if data.get("kind") == "translation" and "target_type" not in data:
            raise ma.ValidationError("is required for a translation.", "target_type")


def proposal_variants(payload_schemas: dict[str, ma.Schema]) -> dict:
    """The documented body of a proposal: one variant per kind, each with its own payload
    schema (the one the payload is validated with), told apart by ``kind``."""
    variants = {}
    for kind, payload in payload_schemas.items():
        fields = {
            "kind": ma.fields.String(required=True, validate=v.OneOf((kind,))),
            "payload": ma.fields.Nested(payload, required=True),
        }
        if kind in ("actor_edit", "translation"):
            fields["target_id"] = ma.fields.UUID(required=True)
        if kind == "translation":
            fields["target_type"] = ma.fields.String(
                required=True, validate=v.OneOf(("actor", "resource"))
            )
        name = "".join(part.title() for part in kind.split("_")) + "Contribution"
        variants[kind] = ma.Schema.from_dict(fields, name=name)
    return {
        "oneOf": list(variants.values()),
        "discriminator": {
            "propertyName": "kind",
            "mapping": {
                kind: f"#/components/schemas/{schema.__name__}" for kind, schema in variants.items()
            },
        },
    }


class ConsentSchema(ma.Schema):
    consent = ma.fields.Boolean(required=True)
    reason = ma.fields.String(
        validate=v.Length(1, 2000), metadata={"description": "Shown to the author if refused"}
    )


class ResubmitSchema(ma.Schema):
    payload = Mapping(max_properties=50, required=True)


class TranslationProposalSchema(ma.Schema):
    language = LanguageTag(required=True)
    texts = Mapping(
        max_properties=4,
        keys=ma.fields.String(validate=v.OneOf(("name", "summary", "description", "title"))),
        values=ma.fields.String(validate=v.Length(1, 20_000)),
        required=True,
        validate=v.Length(min=1),
    )


class ContributionSchema(ma.Schema):
    id = ma.fields.UUID()
    kind = ma.fields.String()
    state = ma.fields.String()
    target_type = ma.fields.String(allow_none=True)
    target_id = ma.fields.UUID(allow_none=True)
    base_version = ma.fields.Integer(allow_none=True)
    payload = ma.fields.Dict()
    reason = ma.fields.String(allow_none=True, metadata={"description": "The moderator's reason"})
    language = ma.fields.String(allow_none=True)
    themes = ma.fields.List(ma.fields.String())
    country = ma.fields.String(allow_none=True)
    privacy = ma.fields.Dict(
        allow_none=True,
        metadata={
            "description": "An edit that lowers the actor's privacy: lowers (fields) and "
            "consent (awaiting, granted, refused, no_manager, by_manager)"
        },
    )
    submitted_at = ma.fields.AwareDateTime()
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    updated_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


class ContributionReviewSchema(ContributionSchema):
    """What moderators see besides: author, claim, possible duplicates, the diff of an edit."""

    author_id = ma.fields.UUID(allow_none=True)
    claimed_by = ma.fields.UUID(allow_none=True)
    claimed_until = ma.fields.AwareDateTime(allow_none=True)
    decided_by = ma.fields.UUID(allow_none=True)
    duplicates = ma.fields.List(ma.fields.Dict())
    urgent = ma.fields.Boolean(
        metadata={"description": "flag_review: someone may be in danger and the item is up"}
    )
    diff = ma.fields.Dict(
        metadata={
            "description": "Edits: per field, base, current and proposed values, and conflict"
        }
    )
    flags = ma.fields.List(ma.fields.Dict(), metadata={"description": "flag_review: the flags"})
    checks = ma.fields.Dict(
        metadata={
            "description": "Detail view of an edit: how the proposal fits the private fields "
            "(e.g. country_holds_exact_location); the read is logged"
        }
    )


class DecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=v.OneOf(ALL_DECISIONS))
    reason = ma.fields.String(
        validate=v.Length(1, 2000),
        metadata={"description": "Required to reject, request changes, dismiss or hide"},
    )
    merge_into = ma.fields.UUID(metadata={"description": "merge: the existing actor"})
    resolutions = Mapping(
        max_properties=50,
        keys=ma.fields.String(validate=v.Length(1, limits.CODE)),
        values=ma.fields.String(validate=v.OneOf(("proposed", "current"))),
        metadata={"description": "Edits whose actor changed since: which value wins, per field"},
    )
    disclaimers = ma.fields.List(
        ma.fields.String(validate=v.OneOf(DISCLAIMERS)),
        validate=[v.Length(1, len(DISCLAIMERS)), unique],
    )


class BatchItemSchema(DecisionSchema):
    id = ma.fields.UUID(required=True)


class BatchDecisionSchema(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(BatchItemSchema), required=True, validate=v.Length(1, 100)
    )


class BatchResultSchema(ma.Schema):
    id = ma.fields.UUID()
    ok = ma.fields.Boolean()
    status = ma.fields.Integer()
    state = ma.fields.String(allow_none=True)
    detail = ma.fields.String(allow_none=True)


class BatchResultsSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(BatchResultSchema))


class QueueArgsSchema(PageArgsSchema):
    kind = DelimitedList(ma.fields.String(validate=v.OneOf(CONTRIBUTION_KINDS)))
    state = DelimitedList(
        ma.fields.String(validate=v.OneOf(STATES)),
        metadata={"description": "Default: submitted,in_review"},
    )
    country = DelimitedList(CountryCode())
    bbox = DelimitedList(
        ma.fields.Float(allow_nan=False),
        max_items=4,
        metadata={"description": "west,south,east,north"},
    )
    theme = DelimitedList(ma.fields.String(validate=v.Length(1, 64)))
    language = DelimitedList(LanguageTag())
    older_than_hours = ma.fields.Float(validate=v.Range(min=0))
    newer_than_hours = ma.fields.Float(validate=v.Range(min=0))
    sort = ma.fields.String(load_default="oldest", validate=v.OneOf(("oldest", "newest")))
    urgent = ma.fields.Boolean(
        metadata={
            "description": "true: only flag reviews where someone may be in danger and the "
            "item is still up (they always come first)"
        }
    )

    @ma.validates("bbox")
    def check_bbox(self, bbox, **kwargs):
        validate_bbox(bbox)


class QueuePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ContributionReviewSchema))
    counts = ma.fields.Dict(
        metadata={"description": "Contributions per state, for the same filters"}
    )
    count = ma.fields.Integer()
    total = ma.fields.Integer(
        allow_none=True, metadata={"description": "Items matching, when cheap to count; else null"}
    )
    limit = ma.fields.Integer()
    offset = ma.fields.Integer()


class MyContributionsArgsSchema(PageArgsSchema):
    state = DelimitedList(ma.fields.String(validate=v.OneOf(STATES)))


class FlagCreateSchema(ma.Schema):
    target_type = ma.fields.String(required=True, validate=v.OneOf(TARGET_TYPES))
    target_id = ma.fields.UUID(required=True)
    reason = ma.fields.String(required=True, validate=v.OneOf(FLAG_REASONS))
    note = ma.fields.String(load_default="", validate=v.Length(max=2000))


class FlagSchema(ma.Schema):
    id = ma.fields.UUID()
    target_type = ma.fields.String()
    target_id = ma.fields.UUID()
    reason = ma.fields.String()
    note = ma.fields.String()
    state = ma.fields.String()
    resolution = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class ReporterRecordSchema(ma.Schema):
    """A reporter's record (api/moderation/standing.py), for moderators only."""

    role = ma.fields.String()
    account_age_days = ma.fields.Integer()
    approved_contributions = ma.fields.Integer()
    confirmed_flags = ma.fields.Integer()
    dismissed_flags = ma.fields.Integer()
    trust = ma.fields.Integer(metadata={"description": "confirmed flags - 2 x dismissed flags"})
    standing = ma.fields.Boolean(
        metadata={"description": "Whether one endangers_someone flag of theirs hides at once"}
    )
    flags_last_day = ma.fields.Integer()
    daily_limit = ma.fields.Integer(allow_none=True, metadata={"description": "None: staff"})
    open_urgent_flags = ma.fields.Integer()


class FlagReviewSchema(FlagSchema):
    reporter_id = ma.fields.UUID()
    review_id = ma.fields.UUID(allow_none=True)
    reporter = ma.fields.Nested(ReporterRecordSchema)


class FlagQueryArgsSchema(PageArgsSchema):
    state = ma.fields.String(load_default="open", validate=v.OneOf(("open", "resolved")))
    target_type = ma.fields.String(validate=v.OneOf(TARGET_TYPES))
    target_id = ma.fields.UUID()


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=v.Length(1, 2000))


class DisclaimersSchema(ma.Schema):
    disclaimers = ma.fields.List(
        ma.fields.String(validate=v.OneOf(DISCLAIMERS)),
        required=True,
        validate=[v.Length(max=len(DISCLAIMERS)), unique],
        metadata={"description": "The item's whole list of disclaimers (empty clears it)"},
    )
    reason = ma.fields.String(required=True, validate=v.Length(1, 2000))


class RevertSchema(ma.Schema):
    revision = ma.fields.Integer(required=True, validate=v.Range(1, limits.INT4_MAX))
    reason = ma.fields.String(required=True, validate=v.Length(1, 2000))


class RevisionSchema(ma.Schema):
    """A revision as staff see it: private values (exact location, contacts, exact area)
    are redacted; their public forms (public_location, public_area) show what moved."""

    number = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    action = ma.fields.String()
    author_id = ma.fields.UUID(allow_none=True)
    approved_by = ma.fields.UUID(allow_none=True)
    contribution_id = ma.fields.UUID(allow_none=True)
    changes = ma.fields.Dict(
        metadata={"description": 'field: [old, new]; private values are "(private)"'}
    )

    @ma.post_dump(pass_original=True)
    def redact_private(self, data, revision, **kwargs):
        data["changes"] = redact_changes(revision.target_type, data["changes"])
        return data


class ModerationEventSchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    moderator_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "None: an automatic rule"}
    )
    action = ma.fields.String()
    contribution_id = ma.fields.UUID(allow_none=True)
    target_type = ma.fields.String(allow_none=True)
    target_id = ma.fields.UUID(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()


class ModerationLogArgsSchema(PageArgsSchema):
    item = ma.fields.UUID(metadata={"description": "A contribution or a published item"})
    moderator_id = ma.fields.UUID()
    action = DelimitedList(ma.fields.String(validate=v.Length(1, 30)))
    since = Timestamp()
    until = Timestamp()
