"""Pages of the Contribute job's accounts: sign in and sign out, on the accounts service
the API uses (its checks, audit log and rate limits). A web sign-in is a session token of
the account, like the API's, whose secret lives in the session cookie (api.auth reads it
on the web blueprint only)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, redirect, render_template, request, session
from flask.views import MethodView

from api.accounts import service
from api.accounts.schemas import SignInSchema
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


class SignIn(MethodView):
    body_types = FORM

    def get(self):
        """The sign-in form."""
        return render_template("account/sign_in.html", values={}, errors={}, next=_next())

    @credential_limit  # the API's sign-in counter, shared with registration, per address
    def post(self):
        """Sign in: a new session holding a new session token of the account."""
        try:
            data = forms.load(SignInSchema(), forms.posted())
            _, secret = service.sign_in(
                db.session,
                data["email"],
                data["password"],
                current_principal(),
                key=current_app.config["SECRET_KEY"],
                ttl=timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]),
            )
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again("account/sign_in.html", refusal, next=_next())
        renew_session(**{SESSION_TOKEN: secret})
        return redirect(_next(), code=303)


class SignOut(MethodView):
    body_types = FORM

    def post(self):
        """Sign out: the token is revoked, so a copy of the cookie signs nobody in."""
        principal = current_principal()
        if principal.token is not None:
            service.revoke_token(db.session, principal.token, principal)
        renew_session()
        return redirect("/", code=303)


def _next() -> str:
    return local_path(request.values.get("next", "/"))


blp.add_url_rule("/sign-in", view_func=SignIn.as_view("sign_in"))
blp.add_url_rule("/sign-out", view_func=SignOut.as_view("sign_out"))
