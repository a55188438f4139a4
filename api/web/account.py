"""Pages of the Contribute job's accounts: sign in and out, sign up with a confirmed
address, a new password by mail. Each calls the accounts service the API's endpoint calls
(its checks, audit log, mails and enumeration safety) under the same rate limit. A web
sign-in is a session token of the account, like the API's, whose secret lives in the
session cookie (api.auth reads it on the web blueprint only)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import timedelta
from functools import wraps

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.views import MethodView
from flask_babel import gettext as _

from api import mails
from api.accounts import service, verification
from api.accounts.schemas import (
    EmailTokenSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    RegisterSchema,
    SignInSchema,
)
from api.auth import SESSION_TOKEN, current_principal
from api.db import db
from api.errors import ProblemError
from api.ratelimit import credential_limit
from api.web import forms
from api.web.routes import FORM, blp, local_path

# Kept across a sign-in and a sign-out: the reader's choices, not who they are.
KEPT_ACROSS_SIGN_IN = ("lang",)


@blp.context_processor
def _who_is_reading():
    """The signed-in reader (``me``) for the header, or None."""
    return {"me": current_principal().user}


def renew_session(**values: str) -> None:
    """A new session for a new principal: everything else the old cookie held (its CSRF
    token above all) is dropped, so that nothing planted before the sign-in carries over."""
    kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    session.update(kept, **values)


def signed_in_page(view):
    """A page for signed-in readers: anyone else is sent to sign in, and back afterwards."""

    @wraps(view)
    def checked(*args, **kwargs):
        if current_principal().is_anonymous:
            return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")), 303)
        return view(*args, **kwargs)

    return checked


class AccountForm(MethodView, ABC):
    """A form page on one service call: GET shows it, POST loads it with the API's schema
    and calls ``act``; a refusal shows the form again, with what was typed."""

    body_types = FORM
    template: str
    schema: type

    def get(self):
        return render_template(self.template, values=request.args, errors={})

    @credential_limit  # the API's counter for sign-in, sign-up and codes, per address
    def post(self):
        try:
            return self.act(forms.load(self.schema(), forms.posted()))
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again(self.template, refusal)

    @abstractmethod
    def act(self, data: dict):
        """Do what the form asks with its loaded data; returns the page to answer with."""


class SignIn(AccountForm):
    template = "account/sign_in.html"
    schema = SignInSchema

    def act(self, data):
        """Sign in: a new session holding a new session token of the account."""
        _, secret = service.sign_in(
            db.session,
            data["email"],
            data["password"],
            current_principal(),
            key=current_app.config["SECRET_KEY"],
            ttl=timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]),
        )
        renew_session(**{SESSION_TOKEN: secret})
        return redirect(local_path(request.form.get("next", "/")), code=303)


class SignOut(MethodView):
    body_types = FORM

    def post(self):
        """Sign out: the token is revoked, so a copy of the cookie signs nobody in."""
        principal = current_principal()
        if principal.token is not None:
            service.revoke_token(db.session, principal.token, principal)
        renew_session()
        return redirect("/", code=303)


class SignUp(AccountForm):
    template = "account/sign_up.html"
    schema = RegisterSchema

    def act(self, data):
        """Sign up; the same answer whether the address had an account or not."""
        verification.sign_up(
            db.session, data, current_principal(), current_app.config, mails.reader_language()
        )
        return redirect(url_for("web.check_email", sent="sign-up"), code=303)


class VerifyEmail(AccountForm):
    template = "account/verify_email.html"
    schema = EmailTokenSchema

    def act(self, data):
        """Confirm the address with the code from the mail (the link fills it in)."""
        verification.verify_email(
            db.session, data["token"], current_principal(), current_app.config
        )
        flash(_("Your email address is confirmed: you can contribute now."))
        if current_principal().is_anonymous:
            return redirect(url_for("web.sign_in", next="/contribute"), code=303)
        return redirect("/contribute", code=303)


class ResendVerification(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    @credential_limit
    def post(self):
        """Send the confirmation mail again (earlier codes stop working)."""
        principal = current_principal()
        try:
            verification.resend_verification(
                db.session, principal.user, principal, current_app.config
            )
            flash(
                _("A new confirmation mail is on its way to %(email)s.", email=principal.user.email)
            )
        except ProblemError as problem:
            flash(forms.in_words(problem.detail))
        return redirect(local_path(request.form.get("next", "/")), code=303)


class PasswordReset(AccountForm):
    template = "account/reset_password.html"
    schema = PasswordResetRequestSchema

    def act(self, data):
        """Ask for a code by mail; the same answer whether the address has an account."""
        verification.request_password_reset(
            db.session,
            data["email"],
            current_principal(),
            current_app.config,
            mails.reader_language(),
        )
        return redirect(url_for("web.check_email", sent="reset"), code=303)


class PasswordResetConfirm(AccountForm):
    template = "account/reset_password_confirm.html"
    schema = PasswordResetSchema

    def act(self, data):
        """A new password: every sign-in of the account ends, this browser's too."""
        verification.reset_password(
            db.session, data["token"], data["password"], current_principal(), current_app.config
        )
        renew_session()
        flash(_("Your password is changed. Sign in with it."))
        return redirect(url_for("web.sign_in"), code=303)


@blp.get("/check-your-email")
def check_email():
    """What happens next after a sign-up or a reset request, whatever the address."""
    return render_template("account/check_email.html", sent=request.args.get("sent"))


for path, view in (
    ("/sign-in", SignIn),
    ("/sign-out", SignOut),
    ("/sign-up", SignUp),
    ("/verify-email", VerifyEmail),
    ("/verify-email/resend", ResendVerification),
    ("/reset-password", PasswordReset),
    ("/reset-password/confirm", PasswordResetConfirm),
):
    endpoint = path.strip("/").replace("-", "_").replace("/", "_")
    blp.add_url_rule(path, view_func=view.as_view(endpoint))
