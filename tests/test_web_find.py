"""The Find job's pages and the layout every page shares: navigation to every job, error
pages for people (HTML, translated) while the API keeps problem+json."""

from __future__ import annotations

import uuid

import pytest

from api.web.errors import error_page

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_every_page_links_to_every_job(client, make_actor):
    html = client.get(f"/actors/{make_actor().id}").get_data(as_text=True)

    nav = html.split('<nav class="site-nav"')[1].split("</nav>")[0]
    for path in ("/", "/library", "/observations", "/contribute", "/moderate", "/report"):
        assert f'href="{path}"' in nav


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "Page not found"),
        ("fr", "Page introuvable"),
        ("es", "Página no encontrada"),
        ("ar", "الصفحة غير موجودة"),
        ("ru", "Страница не найдена"),
        ("sw", "Ukurasa haupatikani"),
    ],
)
def test_a_missing_page_is_an_html_page_in_the_readers_language(client, language, title):
    response = client.get(
        "/no-such-page", headers={"Accept": BROWSER_ACCEPT, "Accept-Language": language}
    )

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html
    assert 'href="/"' in html  # the way back
    assert "Content-Security-Policy" in response.headers


def test_an_actor_nobody_may_see_is_the_same_404_page_as_a_missing_one(client, make_actor):
    hidden = make_actor(status="draft", name="Hidden Draft Circle")
    hidden_id = str(hidden.id)

    pages = [
        client.get(f"/actors/{actor_id}", headers={"Accept": BROWSER_ACCEPT})
        for actor_id in (hidden_id, uuid.uuid4())
    ]

    assert [p.status_code for p in pages] == [404, 404]
    assert all(p.mimetype == "text/html" for p in pages)
    assert "Hidden Draft Circle" not in pages[0].get_data(as_text=True)


def test_the_api_and_non_browsers_keep_problem_json(client):
    for path, accept in (
        ("/api/v1/nowhere", BROWSER_ACCEPT),
        ("/no-such-page", "application/json"),
        ("/no-such-page", "*/*"),
    ):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json", (path, accept)


@pytest.mark.parametrize(
    ("status", "language", "title"),
    [(403, "fr", "Vous ne pouvez pas voir cette page"), (500, "ar", "حدث خطأ ما")],
)
def test_forbidden_and_failed_web_pages_are_translated_html(app, status, language, title):
    path = f"/actors/{uuid.uuid4()}"  # a web page's address
    with app.test_request_context(path, headers={"Accept-Language": language}):
        page = error_page(status, "0123abcd" if status == 500 else None)

    assert page.status_code == status
    html = page.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html
    assert ("0123abcd" in html) == (status == 500)


def test_an_api_error_never_becomes_a_page(app):
    with app.test_request_context("/api/v1/actors", headers={"Accept": BROWSER_ACCEPT}):
        assert error_page(404) is None
