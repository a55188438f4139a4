"""The web application's foundation and its actor page: pages in the reader's language,
right to left in Arabic, sessions by cookie with CSRF on forms, a strict CSP, and never a
location more exact than the public may see."""

from __future__ import annotations

import re
import uuid

import pytest

from api.moderation.models import Translation

# Somewhere in Nairobi, with digits no generalised location would share.
SECRET_POINT = {"type": "Point", "coordinates": [36.817123, -1.286389]}


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def actor(make_actor):
    return make_actor(
        name="Amani Women's Circle",
        summary="Mediation between neighbourhoods.",
        location=SECRET_POINT,
        working_languages=["sw", "en"],
    )


def test_actor_page_shows_the_public_profile(client, actor):
    response = client.get(f"/actors/{actor.id}", headers={"Accept-Language": "en"})

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Amani Women&#39;s Circle</h1>" in html
    assert "Mediation between neighbourhoods." in html
    assert "Unverified" in html
    assert "<li>Kenya</li>" in html
    assert "<li>Swahili</li>" in html


def test_map_profile_link_opens_the_actor_page_not_json(client):
    page = client.get("/").get_data(as_text=True)
    script_url = re.search(r'src="(/assets/[0-9a-f]+/find-map\.js)"', page).group(1)
    with client.get(script_url) as response:
        script = response.get_data(as_text=True)

    assert 'href="/actors/${encodeURIComponent(id)}"' in script
    assert "/api/v1/actors/${" not in script


@pytest.mark.parametrize(
    ("accept_language", "lang", "direction", "word"),
    [
        ("en-GB,en;q=0.8", "en", "ltr", "Language"),
        ("fr-CH, fr;q=0.9", "fr", "ltr", "Langue"),
        ("es", "es", "ltr", "Idioma"),
        ("ar-EG,ar;q=0.9,en;q=0.5", "ar", "rtl", "اللغة"),
        ("ru", "ru", "ltr", "Язык"),
        ("sw-KE", "sw", "ltr", "Lugha"),
        ("de-DE", "en", "ltr", "Language"),  # no catalogue: English
    ],
)
def test_interface_language_follows_accept_language(
    client, actor, accept_language, lang, direction, word
):
    response = client.get(f"/actors/{actor.id}", headers={"Accept-Language": accept_language})

    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert f'<label for="lang">{word}</label>' in html
    assert "Accept-Language" in response.headers["Vary"]


def test_country_and_kind_are_named_in_the_readers_language(client, actor):
    html = client.get(f"/actors/{actor.id}", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )

    assert "<li>Kenya</li>" in html
    assert "<li>swahili</li>" in html
    assert "Organisation" in html


def test_original_text_is_labelled_with_its_language(client, actor):
    html = client.get(f"/actors/{actor.id}", headers={"Accept-Language": "es"}).get_data(
        as_text=True
    )

    assert '<h1 lang="en" dir="auto">' in html
    assert "inglés" in html  # "This text is in its original language: English", in Spanish


def test_translation_is_shown_in_the_readers_language(client, session, actor):
    session.add(
        Translation(
            target_type="actor",
            target_id=actor.id,
            language="fr",
            texts={"name": "Cercle des femmes Amani", "summary": "Médiation entre quartiers."},
        )
    )
    session.commit()

    html = client.get(f"/actors/{actor.id}", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )

    assert "<h1>Cercle des femmes Amani</h1>" in html
    assert "Médiation entre quartiers." in html
    assert "Traduit depuis la langue d\u2019origine : anglais." in html


def test_switcher_keeps_the_choice_in_a_secure_session_cookie(client, actor):
    page = client.get(f"/actors/{actor.id}", headers={"Accept-Language": "en"})
    token = _csrf_token(page.get_data(as_text=True))

    switched = client.post(
        "/language",
        data={"lang": "ar", "next": f"/actors/{actor.id}", "csrf_token": token},
    )

    assert switched.status_code == 303
    assert switched.headers["Location"] == f"/actors/{actor.id}"
    cookie = switched.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # The cookie outweighs Accept-Language from now on.
    html = client.get(f"/actors/{actor.id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert '<html lang="ar" dir="rtl">' in html


def test_form_posted_without_its_csrf_token_is_refused(client, actor):
    """A foreign site making the reader's browser post a form: refused, nothing kept."""
    refused = client.post("/language", data={"lang": "ru", "next": "/"})

    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
    assert "CSRF" in refused.get_json()["detail"]
    html = client.get(f"/actors/{actor.id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert '<html lang="en"' in html


def test_form_with_a_forged_csrf_token_is_refused(client, actor):
    client.get(f"/actors/{actor.id}")

    refused = client.post("/language", data={"lang": "ru", "csrf_token": "forged"})

    assert refused.status_code == 400


def test_switcher_refuses_an_unknown_language_naming_the_field(client, actor):
    token = _csrf_token(client.get(f"/actors/{actor.id}").get_data(as_text=True))

    refused = client.post("/language", data={"lang": "xx", "csrf_token": token})

    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["detail"].startswith("lang:")


@pytest.mark.parametrize(
    "target", ["//evil.example/phish", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_switcher_never_redirects_off_the_site(client, actor, target):
    token = _csrf_token(client.get(f"/actors/{actor.id}").get_data(as_text=True))

    switched = client.post("/language", data={"lang": "fr", "next": target, "csrf_token": token})

    assert switched.status_code == 303
    assert switched.headers["Location"] == "/"


def test_session_cookie_is_secure_in_production(app):
    """Development serves plain http on localhost; production only over TLS."""
    from api.web import init_app

    flask_app = type(app)("probe")
    flask_app.config.update(ENV_NAME="production", SECRET_KEY="x" * 40)
    init_app(flask_app)

    assert flask_app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_pages_carry_a_csp_without_inline_script_or_style(client, actor):
    response = client.get(f"/actors/{actor.id}")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handler


@pytest.mark.parametrize("precision", ["exact", "locality", "region", "country"])
def test_page_never_carries_a_location_more_exact_than_the_public_sees(
    client, make_actor, precision
):
    actor = make_actor(location=SECRET_POINT, location_precision=precision)

    html = client.get(f"/actors/{actor.id}").get_data(as_text=True)

    # The page shows no coordinates at all: where an actor works is named by country.
    for number in re.findall(r"-?\d+\.\d+", html):
        assert abs(float(number)) < 1, f"a coordinate-like number {number} in the page"
    assert "36.81" not in html
    assert "1.28" not in html


def test_actor_the_public_may_not_see_is_not_found(client, make_actor):
    draft = make_actor(status="draft")

    assert client.get(f"/actors/{draft.id}").status_code == 404
    assert client.get(f"/actors/{uuid.uuid4()}").status_code == 404


def test_stylesheet_is_fingerprinted_and_cached_for_good(client, actor):
    html = client.get(f"/actors/{actor.id}").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)

    with client.get(href) as sheet:
        sheet.get_data()

    assert re.fullmatch(r"/assets/[0-9a-f]{12}/web\.css", href)
    assert sheet.status_code == 200
    assert sheet.mimetype == "text/css"
    assert sheet.cache_control.immutable
    assert sheet.cache_control.max_age >= 365 * 24 * 3600
    assert client.get("/assets/000000000000/web.css").status_code == 404
    assert client.get("/assets/000000000000/../__init__.py").status_code == 404


@pytest.mark.parametrize(
    "base",
    ["api.web.account:AccountForm", "api.web.moderate:ItemAction", "api.web.report:ProjectForm"],
)
def test_form_base_classes_are_abstract(base):
    """The bases of the form pages cannot be made without an act() (real ABCs)."""
    import importlib

    module, name = base.split(":")
    with pytest.raises(TypeError, match="abstract"):
        getattr(importlib.import_module(module), name)()
