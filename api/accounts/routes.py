"""Sign-up, sign-in, the caller's own account and tokens; user administration; audit logs."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api import mails
from api.accounts import service, verification
from api.accounts.schemas import (
    AcceptedSchema,
    AuditEventSchema,
    AuditQueryArgsSchema,
    EmailTokenSchema,
    IssuedTokenSchema,
    LocationAccessQueryArgsSchema,
    LocationAccessSchema,
    MembershipSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    PersonalTokenSchema,
    RegisterSchema,
    SignInSchema,
    TokenSchema,
    UserPatchSchema,
    UserQueryArgsSchema,
    UserSchema,
)
from api.actors.service import get_actor
from api.auth import allowed, current_principal, signed_in
from api.db import db
from api.http import BEARER, IF_MATCH, json_response, page_response, require_if_match, version_etag
from api.permissions import require, who
from api.ratelimit import credential_limit
from api.schemas import page_schema, page_size

auth_blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1", description="Accounts, sign-in and tokens."
)
users_blp = Blueprint(
    "users",
    __name__,
    url_prefix="/api/v1/users",
    description="User administration (administrators).",
)
audit_blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit",
    description="Append-only security logs (administrators).",
)


def _secret_key() -> str:
    return current_app.config["SECRET_KEY"]


def _issued(token, secret: str):
    token.secret = secret  # transient: dumped once by IssuedTokenSchema, never stored
    return token


SIGN_UP_ACCEPTED = (
    "If this address can be used, a mail is on its way to it with a code that confirms "
    "the address. An account can sign in at once and contribute once it is confirmed."
)
RESET_ACCEPTED = "A mail is on its way to this address with what to do next."


@auth_blp.route("/auth/register")
class Register(MethodView):
    decorators = [credential_limit]

    @auth_blp.arguments(RegisterSchema)
    @auth_blp.response(202, AcceptedSchema)
    @auth_blp.alt_response(422, description="Invalid registration (e.g. a guessable password)")
    @auth_blp.alt_response(429, description="Too many attempts from this address")
    @auth_blp.alt_response(503, description="The mail could not be sent; nothing was changed")
    def post(self, data):
        """Create an account (contributor); a mail confirms the address

        Who: anyone. The answer is the same whether the address has an account or not (its
        owner gets a mail instead), so nobody can probe who is registered. Rate-limited per
        IP address. The account's mails are in the best interface language of
        Accept-Language."""
        verification.sign_up(
            db.session, data, current_principal(), current_app.config, mails.reader_language()
        )
        return {"detail": SIGN_UP_ACCEPTED}


@auth_blp.route("/auth/verify-email")
class VerifyEmail(MethodView):
    decorators = [credential_limit]

    @auth_blp.arguments(EmailTokenSchema)
    @auth_blp.response(204)
    @auth_blp.alt_response(422, description="The code is unknown, used, superseded or expired")
    @auth_blp.alt_response(429, description="Too many attempts from this address")
    def post(self, data):
        """Confirm an email address with the code from the mail

        Who: anyone holding the code (single use)."""
        verification.verify_email(
            db.session, data["token"], current_principal(), current_app.config
        )


@auth_blp.route("/me/verify-email")
class ResendVerification(MethodView):
    decorators = [credential_limit]

    @signed_in
    @auth_blp.response(202, AcceptedSchema)
    @auth_blp.alt_response(401, description="Not signed in")
    @auth_blp.alt_response(409, description="The address is verified already")
    @auth_blp.alt_response(503, description="The mail could not be sent; nothing was changed")
    @auth_blp.doc(security=BEARER)
    def post(self):
        """Send the confirmation mail again (earlier codes stop working)

        Who: any signed-in user whose address is not confirmed yet."""
        principal = current_principal()
        verification.resend_verification(db.session, principal.user, principal, current_app.config)
        return {"detail": "A new confirmation mail is on its way."}


@auth_blp.route("/auth/password-reset")
class PasswordReset(MethodView):
    decorators = [credential_limit]

    @auth_blp.arguments(PasswordResetRequestSchema)
    @auth_blp.response(202, AcceptedSchema)
    @auth_blp.alt_response(422, description="Not an email address")
    @auth_blp.alt_response(429, description="Too many attempts from this address")
    @auth_blp.alt_response(503, description="The mail could not be sent; nothing was changed")
    def post(self, data):
        """Ask for a password reset code by mail

        Who: anyone. The answer is the same whether the address has an account or not."""
        verification.request_password_reset(
            db.session,
            data["email"],
            current_principal(),
            current_app.config,
            mails.reader_language(),
        )
        return {"detail": RESET_ACCEPTED}


@auth_blp.route("/auth/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    decorators = [credential_limit]

    @auth_blp.arguments(PasswordResetSchema)
    @auth_blp.response(204)
    @auth_blp.alt_response(422, description="Bad code, or a guessable password")
    @auth_blp.alt_response(429, description="Too many attempts from this address")
    def post(self, data):
        """Choose a new password with the code from the mail

        Who: anyone holding the code (single use). Every token of the account is revoked."""
        verification.reset_password(
            db.session, data["token"], data["password"], current_principal(), current_app.config
        )


@auth_blp.route("/auth/sign-in")
class SignIn(MethodView):
    decorators = [credential_limit]

    @auth_blp.arguments(SignInSchema)
    @auth_blp.response(201, IssuedTokenSchema)
    @auth_blp.alt_response(401, description="Wrong email or password (which one is not said)")
    @auth_blp.alt_response(429, description="Too many attempts from this address")
    def post(self, data):
        """Sign in: get an access token

        Who: anyone with an active account. Rate-limited per IP address."""
        ttl = timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
        token, secret = service.sign_in(
            db.session,
            data["email"],
            data["password"],
            current_principal(),
            key=_secret_key(),
            ttl=ttl,
        )
        return _issued(token, secret)


@auth_blp.route("/auth/sign-out")
class SignOut(MethodView):
    @signed_in
    @auth_blp.response(204)
    @auth_blp.alt_response(401, description="Not signed in")
    @auth_blp.doc(security=BEARER)
    def post(self):
        """Sign out: revoke the token used for this request

        Who: any signed-in user."""
        principal = current_principal()
        service.revoke_token(db.session, principal.token, principal)


@auth_blp.route("/me")
class Me(MethodView):
    @signed_in
    @auth_blp.response(200, UserSchema)
    @auth_blp.alt_response(401, description="Not signed in")
    @auth_blp.doc(security=BEARER)
    def get(self):
        """The caller's account, role and memberships

        Who: any signed-in user."""
        return current_principal().user


@auth_blp.route("/me/tokens")
class MyTokens(MethodView):
    @signed_in
    @auth_blp.response(200, TokenSchema(many=True))
    @auth_blp.alt_response(401, description="Not signed in")
    @auth_blp.doc(security=BEARER)
    def get(self):
        """List the caller's live tokens (never their secrets)

        Who: any signed-in user."""
        return service.tokens_of(db.session, current_principal().user_id)

    @signed_in
    @auth_blp.arguments(PersonalTokenSchema)
    @auth_blp.response(201, IssuedTokenSchema)
    @auth_blp.alt_response(401, description="Not signed in")
    @auth_blp.alt_response(422, description="Invalid token request")
    @auth_blp.doc(security=BEARER)
    def post(self, data):
        """Create a personal API token for scripts and integrations

        Who: any signed-in user. The secret is in this response only."""
        token, secret = service.create_personal_token(
            db.session, current_principal(), data, key=_secret_key()
        )
        return _issued(token, secret)


@auth_blp.route("/me/tokens/<uuid:token_id>")
class MyToken(MethodView):
    @signed_in
    @auth_blp.response(204)
    @auth_blp.alt_response(401, description="Not signed in")
    @auth_blp.alt_response(404, description="No such live token of yours")
    @auth_blp.doc(security=BEARER)
    def delete(self, token_id):
        """Revoke one of the caller's tokens

        Who: any signed-in user, for their own tokens."""
        principal = current_principal()
        token = service.get_token(db.session, principal.user_id, token_id)
        service.revoke_token(db.session, token, principal)


# -- administration -------------------------------------------------------------------------

MANAGE_USERS = f"Who: {who('user.manage')}."


@users_blp.route("")
class Users(MethodView):
    @allowed("user.manage")
    @users_blp.arguments(UserQueryArgsSchema, location="query")
    @users_blp.response(200, page_schema(UserSchema, "UserPage"))
    @users_blp.alt_response(401, description="Not signed in")
    @users_blp.alt_response(403, description="Not an administrator")
    @users_blp.doc(security=BEARER, description=MANAGE_USERS)
    def get(self, args):
        """List users"""
        limit = page_size(args)
        users = service.list_users(db.session, args, limit=limit)
        return page_response(UserSchema(many=True).dump(users), offset=args["offset"], limit=limit)


@users_blp.route("/<uuid:user_id>")
class UserById(MethodView):
    @allowed("user.manage")
    @users_blp.response(200, UserSchema)
    @users_blp.alt_response(401, description="Not signed in")
    @users_blp.alt_response(403, description="Not an administrator")
    @users_blp.alt_response(404, description="No such user")
    @users_blp.doc(security=BEARER, description=MANAGE_USERS)
    def get(self, user_id):
        """Read a user"""
        user = service.get_user(db.session, user_id)
        return json_response(
            UserSchema().dump(user), headers={"ETag": f'"{version_etag(user.version)}"'}
        )

    @allowed("user.manage")
    @users_blp.arguments(UserPatchSchema)
    @users_blp.response(200, UserSchema)
    @users_blp.alt_response(401, description="Not signed in")
    @users_blp.alt_response(403, description="Not an administrator")
    @users_blp.alt_response(404, description="No such user")
    @users_blp.alt_response(
        409, description="Administrators cannot change their own role or status"
    )
    @users_blp.alt_response(412, description="If-Match does not name the current version")
    @users_blp.alt_response(428, description="If-Match missing")
    @users_blp.doc(security=BEARER, parameters=[IF_MATCH], description=MANAGE_USERS)
    def patch(self, changes, user_id):
        """Change a user's role, status (suspend: all their tokens are revoked) or name"""
        user = service.get_user(db.session, user_id)
        require_if_match(user.version)
        user = service.change_user(db.session, user, changes, current_principal())
        return json_response(
            UserSchema().dump(user), headers={"ETag": f'"{version_etag(user.version)}"'}
        )


@users_blp.route("/<uuid:user_id>/tokens")
class UserTokens(MethodView):
    @allowed("user.manage")
    @users_blp.response(200, TokenSchema(many=True))
    @users_blp.alt_response(401, description="Not signed in")
    @users_blp.alt_response(403, description="Not an administrator")
    @users_blp.doc(security=BEARER, description=MANAGE_USERS)
    def get(self, user_id):
        """List a user's live tokens"""
        return service.tokens_of(db.session, service.get_user(db.session, user_id).id)


@users_blp.route("/<uuid:user_id>/tokens/<uuid:token_id>")
class UserToken(MethodView):
    @allowed("user.manage")
    @users_blp.response(204)
    @users_blp.alt_response(401, description="Not signed in")
    @users_blp.alt_response(403, description="Not an administrator")
    @users_blp.alt_response(404, description="No such live token of this user")
    @users_blp.doc(security=BEARER, description=MANAGE_USERS)
    def delete(self, user_id, token_id):
        """Revoke a user's token"""
        service.revoke_token(
            db.session, service.get_token(db.session, user_id, token_id), current_principal()
        )


@users_blp.route("/<uuid:user_id>/memberships/<uuid:actor_id>")
class UserMembership(MethodView):
    @signed_in
    @users_blp.arguments(MembershipSchema)
    @users_blp.response(200, MembershipSchema)
    @users_blp.alt_response(401, description="Not signed in")
    @users_blp.alt_response(403, description="Not allowed to manage this actor's members")
    @users_blp.alt_response(404, description="No such user or actor")
    @users_blp.doc(security=BEARER, description=f"Who: {who('membership.manage')}.")
    def put(self, data, user_id, actor_id):
        """Make a user a member or manager of an organisation actor"""
        principal = current_principal()
        actor = get_actor(db.session, actor_id, principal)
        require(principal, "membership.manage", actor)
        user = service.get_user(db.session, user_id)
        return service.set_membership(db.session, user, actor.id, data["role"], principal)

    @signed_in
    @users_blp.response(204)
    @users_blp.alt_response(401, description="Not signed in")
    @users_blp.alt_response(403, description="Not allowed to manage this actor's members")
    @users_blp.alt_response(404, description="No such user, actor or membership")
    @users_blp.doc(security=BEARER, description=f"Who: {who('membership.manage')}.")
    def delete(self, user_id, actor_id):
        """Remove a user from an organisation actor"""
        principal = current_principal()
        actor = get_actor(db.session, actor_id, principal)
        require(principal, "membership.manage", actor)
        service.remove_membership(
            db.session, service.get_user(db.session, user_id), actor.id, principal
        )


@audit_blp.route("/events")
class AuditEvents(MethodView):
    @allowed("audit.read")
    @audit_blp.arguments(AuditQueryArgsSchema, location="query")
    @audit_blp.response(200, page_schema(AuditEventSchema, "AuditEventPage"))
    @audit_blp.alt_response(401, description="Not signed in")
    @audit_blp.alt_response(403, description="Not an administrator")
    @audit_blp.doc(security=BEARER, description=f"Who: {who('audit.read')}.")
    def get(self, args):
        """Security events, newest first: sign-ins, failures, role changes, suspensions, tokens"""
        limit = page_size(args)
        events = service.audit_events(db.session, args, limit=limit)
        return page_response(
            AuditEventSchema(many=True).dump(events), offset=args["offset"], limit=limit
        )


@audit_blp.route("/location-access")
class LocationAccessLog(MethodView):
    @allowed("audit.read")
    @audit_blp.arguments(LocationAccessQueryArgsSchema, location="query")
    @audit_blp.response(200, page_schema(LocationAccessSchema, "LocationAccessPage"))
    @audit_blp.alt_response(401, description="Not signed in")
    @audit_blp.alt_response(403, description="Not an administrator")
    @audit_blp.doc(security=BEARER, description=f"Who: {who('audit.read')}.")
    def get(self, args):
        """Who read which actor's exact location, and when"""
        limit = page_size(args)
        rows = service.location_accesses(db.session, args, limit=limit)
        return page_response(
            LocationAccessSchema(many=True).dump(rows), offset=args["offset"], limit=limit
        )
