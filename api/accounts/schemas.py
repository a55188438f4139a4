import marshmallow as ma
from marshmallow import validate as v

from api.accounts.models import MEMBERSHIP_ROLES, ROLES, USER_STATUSES
from api.fields import DelimitedList, Timestamp
from api.schemas import PageArgsSchema

Email = ma.fields.Email


def _new_password() -> ma.fields.String:
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=v.Length(10, 256),
        metadata={
            "description": "10 to 256 characters, not easy to guess (zxcvbn score 3 or more: "
            "common, breached-list and personal passwords are refused); a passphrase is best"
        },
    )


class RegisterSchema(ma.Schema):
    email = Email(required=True, validate=v.Length(max=254))
    display_name = ma.fields.String(required=True, validate=v.Length(1, 100))
    password = _new_password()


class AcceptedSchema(ma.Schema):
    detail = ma.fields.String(
        metadata={"description": "What happens next; the same whatever the address"}
    )


class EmailTokenSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        validate=v.Length(1, 100),
        metadata={"description": "The code from the mail (single use, expires)"},
    )


class PasswordResetRequestSchema(ma.Schema):
    email = Email(required=True, validate=v.Length(max=254))


class PasswordResetSchema(EmailTokenSchema):
    password = _new_password()


class SignInSchema(ma.Schema):
    email = Email(required=True, validate=v.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=v.Length(1, 256))


class MembershipSchema(ma.Schema):
    actor_id = ma.fields.UUID(dump_only=True)
    role = ma.fields.String(required=True, validate=v.OneOf(MEMBERSHIP_ROLES))
    created_at = ma.fields.AwareDateTime(dump_only=True)


class UserSchema(ma.Schema):
    id = ma.fields.UUID()
    email = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.String(metadata={"description": "contributor, moderator or admin"})
    status = ma.fields.String(metadata={"description": "active or suspended"})
    email_verified_at = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When the address was confirmed; null: cannot contribute yet"},
    )
    memberships = ma.fields.List(ma.fields.Nested(MembershipSchema))
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


class UserPatchSchema(ma.Schema):
    role = ma.fields.String(validate=v.OneOf(ROLES))
    status = ma.fields.String(validate=v.OneOf(USER_STATUSES))
    display_name = ma.fields.String(validate=v.Length(1, 100))

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "_schema")


class UserQueryArgsSchema(PageArgsSchema):
    role = DelimitedList(ma.fields.String(validate=v.OneOf(ROLES)))
    status = ma.fields.String(validate=v.OneOf(USER_STATUSES))
    q = ma.fields.String(
        validate=v.Length(1, 100), metadata={"description": "Part of email or name"}
    )


class TokenSchema(ma.Schema):
    id = ma.fields.UUID()
    kind = ma.fields.String(metadata={"description": "session (from sign-in) or personal"})
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "The token's first characters"})
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    last_used_at = ma.fields.AwareDateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = ma.fields.String(
        attribute="secret",
        metadata={"description": "The secret: shown this once, send as 'Authorization: Bearer …'"},
    )


class PersonalTokenSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=v.Length(1, 100))
    expires_at = Timestamp(metadata={"description": "Optional; never expires if absent"})


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    event = ma.fields.String()
    user_id = ma.fields.UUID(allow_none=True, metadata={"description": "Who acted"})
    subject_id = ma.fields.UUID(allow_none=True, metadata={"description": "Whom it concerned"})
    ip = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()


class AuditQueryArgsSchema(PageArgsSchema):
    event = DelimitedList(ma.fields.String(validate=v.Length(1, 40)))
    user_id = ma.fields.UUID(metadata={"description": "Events by or about this user"})
    since = Timestamp()
    until = Timestamp()


class LocationAccessSchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    user_id = ma.fields.UUID()
    actor_id = ma.fields.UUID(metadata={"description": "The item read (see target_type)"})
    target_type = ma.fields.String(metadata={"description": "actor, observation or contribution"})
    fields = ma.fields.List(
        ma.fields.String(), metadata={"description": "The private fields the response carried"}
    )
    endpoint = ma.fields.String(allow_none=True, metadata={"description": "Which API endpoint"})
    ip = ma.fields.String(allow_none=True)


class LocationAccessQueryArgsSchema(PageArgsSchema):
    actor_id = ma.fields.UUID()
    user_id = ma.fields.UUID()
