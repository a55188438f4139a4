"""The Find job's pages and the layout every page shares: navigation to every job, error
pages for people (HTML, translated) while the API keeps problem+json."""

from __future__ import annotations

import re
import uuid

import pytest

from api.observations.schemas import ObservationCreateSchema
from api.observations.service import create_observation
from api.resources.schemas import ResourceCreateSchema
from api.resources.service import create_resource
from api.revisions.service import Provenance
from api.web.errors import error_page

# Somewhere in Nairobi, with digits no generalised location would share.
SECRET_POINT = {"type": "Point", "coordinates": [36.817123, -1.286389]}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_every_page_links_to_every_job(client, make_actor):
    html = client.get(f"/actors/{make_actor().id}").get_data(as_text=True)

    nav = html.split('<nav class="site-nav"')[1].split("</nav>")[0]
    for path in ("/", "/library", "/observations", "/contribute", "/moderate", "/report"):
        assert f'href="{path}"' in nav


def test_the_actor_page_shows_the_area_of_work_and_its_extent(client, make_actor):
    area = {
        "type": "Polygon",
        "coordinates": [[[36.5, -1.5], [37.0, -1.5], [37.0, -1.0], [36.5, -1.5]]],
    }
    drawn = client.get(f"/actors/{make_actor(area=area).id}").get_data(as_text=True)
    without = client.get(f"/actors/{make_actor().id}").get_data(as_text=True)

    assert 'aria-labelledby="area-of-work area-extent"' in drawn
    assert "From latitude -1.5 to -1.0 and longitude 36.5 to 37.0." in drawn
    assert '<path d="M36.50000 1.50000 L37.00000 1.50000 L37.00000 1.00000' in drawn
    assert "Area of work" not in without


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


# -- the map page and its list ---------------------------------------------------------------


def _results(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/actors/[^"]+"[^>]*>([^<]+)</a></h3>', html)


def test_map_page_lists_actors_with_filters_that_work_without_javascript(client, make_actor):
    make_actor(
        name="Kisumu Youth Forum", kind="network", themes=["youth"], working_languages=["sw"]
    )
    make_actor(
        name="Bogotá Memory House",
        kind="organisation",
        themes=["transitional_justice"],
        location={"type": "Point", "coordinates": [-74.07, 4.71]},
        working_languages=["es"],
    )
    make_actor(name="Hidden Draft Forum", kind="network", themes=["youth"], status="draft")

    everything = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    by_kind = client.get("/?kind=network").get_data(as_text=True)
    by_theme = client.get("/?theme=transitional_justice").get_data(as_text=True)
    by_country = client.get("/?country=CO").get_data(as_text=True)
    by_language = client.get("/?language=sw").get_data(as_text=True)
    by_text = client.get("/?q=memory").get_data(as_text=True)
    near = client.get("/?near=Nairobi&radius_km=300").get_data(as_text=True)

    assert {"Kisumu Youth Forum", "Bogotá Memory House"} <= set(_results(everything))
    assert _results(by_kind) == ["Kisumu Youth Forum"]
    assert _results(by_theme) == ["Bogotá Memory House"]
    assert _results(by_country) == ["Bogotá Memory House"]
    assert _results(by_language) == ["Kisumu Youth Forum"]
    assert _results(by_text) == ["Bogotá Memory House"]
    assert _results(near) == ["Kisumu Youth Forum"]
    assert "km away" in near
    for html in (everything, by_kind, by_language, near):
        assert "Hidden Draft Forum" not in html
    # The form is a GET form whose fields keep the choice; themes are named, not keys.
    assert '<form class="filters" method="get" action="/"' in by_kind
    assert '<option value="network" selected>' in by_kind
    assert "Transitional justice" in by_theme and ">transitional_justice<" not in by_theme


def test_theme_names_are_translated(client, make_actor):
    make_actor(name="Forum des jeunes", themes=["youth", "mediation_dialogue"])

    html = client.get("/?q=Forum", headers={"Accept-Language": "fr"}).get_data(as_text=True)

    assert "<li>Jeunesse</li>" in html and "<li>Médiation et dialogue</li>" in html


def test_map_list_pages_through_results(client, make_actor):
    for i in range(23):
        make_actor(name=f"Paging Circle {i:02d}", kind="academic")

    first = client.get("/?kind=academic").get_data(as_text=True)
    second = client.get("/?kind=academic&offset=20").get_data(as_text=True)

    assert len(_results(first)) == 20 and len(_results(second)) == 3
    assert "23 actors" in first
    assert 'href="/?kind=academic&amp;offset=20" rel="next"' in first
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert set(_results(first)).isdisjoint(_results(second))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("near=Atlantis", "near"),
        ("near=200,100", "near"),
        ("kind=warlord", "kind"),
        ("q=" + "x" * 201, "q"),
        ("offset=-1", "offset"),
    ],
)
def test_bad_filters_are_named_in_an_error_summary_never_a_500(client, query, field):
    response = client.get(f"/?{query}")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    if field != "offset":
        assert f'href="#f-{field.replace("_", "-")}"' in html  # the summary links to the field
        assert f'id="f-{field.replace("_", "-")}"' in html


def test_map_page_carries_no_location_finer_than_public(client, make_actor):
    make_actor(name="Secret Point Circle", location=SECRET_POINT, location_precision="region")

    html = client.get("/?q=Secret").get_data(as_text=True)

    assert "Secret Point Circle" in html
    assert "36.817" not in html and "1.2863" not in html
    for number in re.findall(r"-?\d+\.\d+", html):
        assert abs(float(number)) < 1, number


def test_base_layer_is_configurable_and_the_csp_lets_only_its_tiles_in(app, client):
    default = client.get("/")
    assert 'data-tiles=""' in default.get_data(as_text=True)
    assert "img-src 'self' data:;" in default.headers["Content-Security-Policy"]

    app.config.update(
        BASEMAP_URL="https://tiles.example.org/{z}/{x}/{y}.png",
        BASEMAP_ATTRIBUTION="© OpenStreetMap contributors",
    )
    try:
        configured = client.get("/")
    finally:
        app.config.update(BASEMAP_URL=None, BASEMAP_ATTRIBUTION="")
    html = configured.get_data(as_text=True)
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in html
    assert "© OpenStreetMap contributors" in html
    assert (
        "img-src 'self' data: https://tiles.example.org;"
        in configured.headers["Content-Security-Policy"]
    )


# -- the library and observations -------------------------------------------------------------


@pytest.fixture
def make_resource(app, session):
    def make(**overrides):
        payload = {
            "type": "evaluation",
            "title": "What worked in Kisumu's youth dialogues",
            "summary": "An evaluation of three years of dialogue between young people.",
            "url": "https://example.org/kisumu.pdf",
            "language": "en",
            "themes": ["youth"],
            "countries": ["KE"],
            **overrides,
        }
        with app.app_context():
            data = ResourceCreateSchema().load(payload)
        resource = create_resource(session, data, Provenance())
        session.commit()
        return resource

    return make


@pytest.fixture
def make_observation(app, session):
    def make(**overrides):
        payload = {
            "text": "Neighbours are building houses of cement again.",
            "language": "en",
            "observed_on": "2025-03-01",
            "location": SECRET_POINT,
            "location_precision": "exact",
            "themes": ["investment"],
            **overrides,
        }
        with app.app_context():
            data = ObservationCreateSchema().load(payload)
        observation = create_observation(
            session, data, Provenance(), disclaimers=["community_reported"]
        )
        session.commit()
        return observation

    return make


def test_library_searches_resources_and_names_their_type_and_themes(client, make_resource):
    make_resource()
    make_resource(
        title="Lessons from a failed ceasefire",
        type="lesson_from_failure",
        themes=["security_disarmament"],
        summary="What we got wrong.",
    )

    everything = client.get("/library").get_data(as_text=True)
    found = client.get("/library?q=ceasefire").get_data(as_text=True)
    by_type = client.get("/library?type=evaluation").get_data(as_text=True)

    assert "What worked in Kisumu" in everything and "failed ceasefire" in everything
    assert "failed ceasefire" in found and "Kisumu" not in found
    assert "Kisumu" in by_type and "ceasefire" not in by_type
    assert "Lesson from failure" in found and "Security and disarmament" in found


def test_resource_page_in_french_names_type_theme_and_country(client, make_resource):
    resource = make_resource()

    html = client.get(f"/library/{resource.id}", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )

    assert "What worked in Kisumu" in html
    assert "Évaluation" in html and "Jeunesse" in html and "Kenya" in html
    assert 'href="https://example.org/kisumu.pdf"' in html


def test_hidden_resource_and_observation_appear_on_no_page(
    client, session, make_resource, make_observation
):
    resource = make_resource(title="Hidden Ledger of Names")
    resource.hidden = True
    session.commit()
    observation = make_observation(text="Hidden sighting of the convoy")  # a new app context
    observation.hidden = True
    session.commit()
    resource_id, observation_id = resource.id, observation.id

    assert client.get(f"/library/{resource_id}").status_code == 404
    assert "Hidden Ledger" not in client.get("/library").get_data(as_text=True)
    assert "Hidden Ledger" not in client.get("/library?q=ledger").get_data(as_text=True)
    assert "Hidden sighting" not in client.get("/observations").get_data(as_text=True)
    assert str(observation_id) not in client.get("/observations").get_data(as_text=True)


def test_observations_are_named_by_country_never_by_point(client, make_observation):
    make_observation()

    html = client.get("/observations").get_data(as_text=True)

    assert "houses of cement" in html
    assert "Kenya" in html and "Reported by the community" in html
    for number in re.findall(r"-?\d+\.\d+", html):
        assert abs(float(number)) < 1, number


def test_library_pages_and_refuses_bad_filters_by_field(client, make_resource):
    for i in range(21):
        make_resource(title=f"Paged brief {i:02d}", type="brief")

    first = client.get("/library?type=brief").get_data(as_text=True)
    second = client.get("/library?type=brief&offset=20").get_data(as_text=True)
    bad = client.get("/library?type=rumour")

    assert first.count('class="result"') == 20 and second.count('class="result"') == 1
    assert 'href="?type=brief&amp;offset=20" rel="next"' in first
    assert bad.status_code == 422 and 'href="#f-type"' in bad.get_data(as_text=True)
