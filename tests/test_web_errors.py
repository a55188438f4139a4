"""Errors a person can act on, through real requests in another language than English: a
page the reader may not open (403), an unexpected failure in a web view (500), and a form
sent again with changes after the back button (its idempotency key already used)."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid

from flask import url_for
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, UUIDConverter

from api.idempotency import FORM_FIELD
from api.moderation.models import Contribution, IdempotencyRecord
from api.observability import JsonFormatter
from api.resources import service as resources
from tests.conftest import form_token
from tests.test_web_contribute import NEW_ACTOR

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_page_the_reader_may_not_open_is_a_translated_403_with_a_way_on(
    client, make_user, web_sign_in
):
    web_sign_in(client, make_user())  # a contributor, not a moderator

    response = client.get("/moderate", headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "fr"})

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Vous ne pouvez pas voir cette page</h1>" in html
    assert '<html lang="fr"' in html
    assert 'href="/"' in html  # the way on


def test_an_unexpected_failure_in_a_web_view_is_a_translated_500_logged_with_the_request_id(
    app, client, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(resources, "search_resources", broken)
    # As in production: the failure is answered, not raised into the test client.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    logging.getLogger("peacemap").addHandler(handler)
    try:
        response = client.get(
            "/library",
            headers={"Accept-Language": "ar", "X-Request-Id": "req-web-500-check"},
        )
    finally:
        logging.getLogger("peacemap").removeHandler(handler)

    assert response.status_code == 500
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>حدث خطأ ما</h1>" in html
    assert "hunter2" not in html and "Traceback" not in html and "RuntimeError" not in html
    error_id = re.search(r"[0-9a-f]{32}", html.split('class="error-id"')[1])[0]
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    failure = next(entry for entry in logged if error_id in entry["message"])
    assert failure["request_id"] == "req-web-500-check"
    assert "hunter2" in failure["exception"]  # the traceback is in the log, not the page


# -- a form sent again with changes after the back button ----------------------------------


def _a_value(converter):
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, AnyConverter):
        return min(converter.items)
    return "actor"


def _idempotent_forms(app) -> list[tuple[str, dict]]:
    """Every web form whose POST is idempotent, with values for its path's parts."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        post = getattr(getattr(view, "view_class", None), "post", None)
        if not rule.endpoint.startswith("web.") or not getattr(post, "idempotent", False):
            continue
        values = {name: _a_value(converter) for name, converter in rule._converters.items()}
        found.append((rule.endpoint, values))
    return found


def test_every_idempotent_web_form_is_found(app):
    endpoints = {endpoint for endpoint, _ in _idempotent_forms(app)}

    # The forms of each job that create or decide something (more may come; none may go).
    assert {
        "web.contact",
        "web.propose_actor",
        "web.moderate_batch",
        "web.flag_actor",
    } <= endpoints, endpoints
    assert len(endpoints) >= 10, endpoints


def test_every_form_sent_again_with_changes_gets_a_page_not_json_nor_a_second_write(
    app, client, session, make_user, web_sign_in
):
    admin = make_user("admin")
    web_sign_in(client, admin)
    forms = _idempotent_forms(app)
    for endpoint, _ in forms:
        key = f"used-{endpoint}"
        session.add(
            IdempotencyRecord(
                user_id=admin.id,
                key=key,
                request_hash="the first sending of this form",
                status=303,
                body="",
                headers={"Location": "/contribute/mine"},
            )
        )
    session.commit()
    before = session.scalar(select(func.count()).select_from(Contribution))

    for endpoint, values in forms:
        with app.test_request_context():
            path = url_for(endpoint, **values)
        response = client.post(
            path,
            data={"csrf_token": form_token(client), FORM_FIELD: f"used-{endpoint}", "x": "1"},
            headers={"Accept-Language": "es"},
            content_type="multipart/form-data",  # every web form takes it (uploads need it)
        )

        assert response.status_code == 422, (path, response.status_code)
        assert response.mimetype == "text/html", path
        html = response.get_data(as_text=True)
        assert "<h1>Este formulario ya se envió</h1>" in html, path
        assert 'href="/contribute/mine"' in html, path  # what the first sending did
        assert f'href="{path}"' in html, path  # the form anew, with a fresh key

    assert session.scalar(select(func.count()).select_from(Contribution)) == before


def test_a_proposal_changed_after_the_back_button_is_not_sent_twice(
    client, session, make_user, web_sign_in
):
    author = make_user()
    web_sign_in(client, author)
    form = client.get("/contribute/actor").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)[1]
    sent = {**NEW_ACTOR, "csrf_token": form_token(client), FORM_FIELD: key}

    first = client.post("/contribute/actor", data=sent)
    assert first.status_code == 303, first.get_data(as_text=True)[:3000]
    # Back to the form as the browser kept it (the same key), a change, and send again.
    again = client.post(
        "/contribute/actor",
        data={**sent, "name": "Another name"},
        headers={"Accept-Language": "fr"},
    )

    assert again.status_code == 422
    assert again.mimetype == "text/html"
    html = again.get_data(as_text=True)
    assert "<h1>Ce formulaire a déjà été envoyé</h1>" in html
    assert f'href="{first.headers["Location"]}"' in html
    mine = session.scalars(select(Contribution).where(Contribution.author_id == author.id)).all()
    assert len(mine) == 1


def test_a_form_kept_across_a_sign_in_gets_a_page_that_leads_back_not_json(
    client, session, make_user, web_sign_in
):
    author = make_user()
    web_sign_in(client, author)
    form = client.get("/contribute/actor").get_data(as_text=True)
    kept = {
        **NEW_ACTOR,
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form)[1],
        FORM_FIELD: re.search(r'name="idempotency_key" value="([^"]+)"', form)[1],
    }
    web_sign_in(client, author)  # signed in again elsewhere: a new session, new tokens

    # The back button to the kept page, then send it.
    response = client.post(
        "/contribute/actor",
        data=kept,
        headers={
            "Accept": BROWSER_ACCEPT,
            "Accept-Language": "fr",
            "Referer": "http://localhost/contribute/actor",
        },
    )

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Ce formulaire ne peut plus être envoyé</h1>" in html
    assert 'href="/contribute/actor"' in html
    mine = session.scalars(select(Contribution).where(Contribution.author_id == author.id)).all()
    assert mine == []


def test_a_forged_post_from_elsewhere_is_refused_and_leads_nowhere_off_the_site(client):
    response = client.post(
        "/language",
        data={"lang": "ru", "next": "/"},
        headers={"Accept": BROWSER_ACCEPT, "Referer": "https://attacker.example/page"},
    )

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "attacker.example" not in html
    assert '<a href="/">' in html
