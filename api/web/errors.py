"""Error pages for people: a 403, 404 or 500 of a web page is an HTML page in the reader's
language, with the way back (the security headers too where no web route matched); the
API and every other error keep problem+json (api.errors builds both, in one place). A web
form sent again with changes under a used idempotency key gets a page of its own."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from api.errors import problem_response
from api.idempotency import KeyReused
from api.web.routes import blp, local_path, secure_headers

PAGES = {
    403: (
        _l("You may not see this page"),
        _l("Your account does not allow this. If you think it should, sign in with another."),
    ),
    404: (
        _l("Page not found"),
        _l("The address may be mistyped, or what it showed was removed or is not public."),
    ),
    429: (
        _l("Too many attempts"),
        _l("Too many requests came from this address. Wait a minute, then try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("Peacemap could not show this page. Please try again in a moment."),
    ),
}
NOT_PAGES = ("/api/", "/static/", "/healthz", "/readyz", "/metrics")


def for_people() -> bool:
    """A page of the web application, or an address that matched nothing, asked for by a
    browser (which prefers HTML): not the API, whose clients get problem+json."""
    if request.blueprint == "web":
        return True
    if request.url_rule is not None or request.path.startswith(NOT_PAGES):
        return False
    offered = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return offered == "text/html"


def error_page(status: int, error_id: str | None = None) -> Response | None:
    """The HTML page for this status, or None when problem+json is the answer."""
    if status not in PAGES or not for_people():
        return None
    title, advice = PAGES[status]
    try:
        html = render_template(
            "error.html", status=status, title=title, advice=advice, error_id=error_id
        )
    except Exception:  # the failure may be one the layout needs too: the plain answer then
        return None
    return secure_headers(Response(html, status=status, mimetype="text/html"))


@blp.errorhandler(KeyReused)
def already_sent(error: KeyReused):
    """A form sent again with changes after the back button: its key already did what the
    first sending asked (api.idempotency), so nothing is done again; the reader is shown
    where that went, or the form anew (a fresh key, for a new request)."""
    result = local_path(error.result) if error.result else None
    html = render_template("already_sent.html", result=result, form=request.path)
    return html, error.status


@blp.errorhandler(CSRFError)
def form_too_old(error: CSRFError):
    """A form whose CSRF token no longer holds: open for hours, or kept by the back button
    across a sign-in or sign-out (a new session). A browser gets a page that says nothing
    was done and leads back to the page the form was on, for a fresh one; anything else
    (a foreign site's forged post is answered the same either way) keeps problem+json."""
    offered = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if offered != "text/html":
        return problem_response(error.code, error.description)
    came_from = urlsplit(request.referrer or "")
    same_site = came_from.netloc in ("", request.host)
    back = local_path(came_from.path + (f"?{came_from.query}" if came_from.query else ""))
    html = render_template("form_too_old.html", back=back if same_site else "/")
    return html, error.code
