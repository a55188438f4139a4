"""The Find job in a real browser (tests/browser.py): the layout at a phone's width in the
languages with the longest words, error pages, and the journeys of people looking for
partners; axe-core on every page; screenshots under tests/artifacts."""

from __future__ import annotations

import time

import pytest

from api.observations.schemas import ObservationCreateSchema
from api.observations.service import create_observation
from api.resources.schemas import ResourceCreateSchema
from api.resources.service import create_resource
from api.revisions.service import Provenance
from tests.test_web_find import SECRET_POINT

# Werkzeug's test server leaves a static file to the garbage collector when the browser
# drops a connection it no longer needs: not this project's leak, not an error here.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def test_header_fits_a_phone_in_every_language(phone, make_actor):
    actor = make_actor(name="Header check")
    phone.open(f"/actors/{actor.id}")
    for language in ("ru", "sw", "fr", "ar"):
        phone.choose("lang", language)
        phone.submit("#lang")  # its form's button
        assert phone.find("html").get_attribute("lang") == language
        assert phone.overflows() == [], language
        header = phone.find(".site-header").rect
        phone.screenshot(f"header-{language}")
        assert header["width"] <= phone.width and header["height"] < 200, (language, header)
        links = phone.find_all(".site-nav a")
        assert len(links) == 6 and all(link.is_displayed() for link in links)
    phone.screenshot("header-ar")
    phone.assert_accessible()


def test_missing_page_is_a_page_with_a_way_back(browser):
    browser.open("/no-such-page")
    assert browser.find("h1").text == {"ar": "الصفحة غير موجودة"}.get(
        browser.language, "Page not found"
    )
    assert browser.overflows() == []
    browser.assert_accessible()
    browser.screenshot("404")
    browser.click('main a[href="/"]')
    assert browser.path == "/"


def _place_actors(make_actor):
    kisumu = make_actor(
        name="Kisumu Youth Forum",
        kind="network",
        themes=["youth", "mediation_dialogue"],
        location={"type": "Point", "coordinates": [34.76, -0.09]},
        location_precision="locality",
        working_languages=["sw", "en"],
    )
    make_actor(
        name="Bogotá Memory House",
        themes=["transitional_justice"],
        location={"type": "Point", "coordinates": [-74.07, 4.71]},
        working_languages=["es"],
    )
    make_actor(name="Hidden Draft Forum", kind="network", status="draft")
    return kisumu


def test_reader_finds_a_partner_on_the_map_page(browser, make_actor):
    """The Find journey: filter the list, open a profile; at each step the page is
    accessible and nothing hidden shows."""
    kisumu = _place_actors(make_actor)
    browser.open("/")
    browser.wait(lambda: browser.find("#map").get_attribute("data-markers"))
    assert browser.overflows() == []
    browser.assert_accessible()
    browser.screenshot("find-map")
    assert "Hidden Draft Forum" not in browser.driver.page_source

    browser.choose("kind", "network")
    browser.fill("q", "Kisumu")
    browser.submit("q")
    names = [a.text for a in browser.find_all(".result h3 a")]
    assert names == ["Kisumu Youth Forum"]
    browser.wait(lambda: browser.find("#map").get_attribute("data-markers") == "1")
    browser.assert_accessible()
    browser.screenshot("find-list")

    browser.click(".result h3 a")
    assert browser.path == f"/actors/{kisumu.id}"
    browser.assert_accessible()


def test_list_and_filters_work_without_javascript(phone, make_actor):
    _place_actors(make_actor)
    phone.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        phone.open("/")
        phone.choose("theme", "transitional_justice")
        phone.submit("theme")
        assert [a.text for a in phone.find_all(".result h3 a")] == ["Bogotá Memory House"]
        assert "Transitional justice" in phone.text(".result .tags")
        phone.screenshot("find-no-js")
    finally:
        phone.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_map_page_first_load_fits_a_phones_budget(phone, make_actor):
    _place_actors(make_actor)
    phone.open("/")
    phone.wait(lambda: phone.find("#map").get_attribute("data-markers"))
    loaded = phone.network()
    total = phone.transferred()
    assert total <= 150_000, [(r["bytes"], r["url"].rsplit("/", 1)[-1][:30]) for r in loaded]
    assert not [r for r in loaded if not r["url"].startswith(phone.base)]  # nothing foreign


def test_profile_page_fits_its_budget(phone, make_actor):
    kisumu = _place_actors(make_actor)
    phone.open(f"/actors/{kisumu.id}")
    assert phone.transferred() <= 30_000


def test_map_page_is_usable_over_slow_3g(phone, make_actor):
    """Slow 3G (400 ms, 50 KB/s): the list is there and readable as soon as the HTML has
    come; the map follows within a generous bound."""
    _place_actors(make_actor)
    phone.slow_3g()
    started = time.monotonic()
    phone.driver.get(phone.base + "/?q=Kisumu")
    phone.wait(lambda: phone.find_all(".result h3 a"), timeout=30)
    list_seconds = time.monotonic() - started
    phone.wait(lambda: phone.find("#map").get_attribute("data-markers"), timeout=90)
    map_seconds = time.monotonic() - started
    assert list_seconds < 10, list_seconds
    assert map_seconds < 60, map_seconds
    phone.screenshot("find-slow-3g")


def test_library_and_observations_in_a_browser(browser, app, session):
    with app.app_context():
        resource = ResourceCreateSchema().load(
            {
                "type": "lesson_from_failure",
                "title": "When the ceasefire failed",
                "url": "https://example.org/ceasefire.pdf",
                "language": "en",
                "themes": ["security_disarmament"],
                "countries": ["SS"],
            }
        )
        observation = ObservationCreateSchema().load(
            {
                "text": "Neighbours are building houses of cement again.",
                "language": "en",
                "observed_on": "2025-03-01",
                "location": SECRET_POINT,
                "themes": ["investment"],
            }
        )
    create_resource(session, resource, Provenance())
    create_observation(session, observation, Provenance())
    session.commit()

    browser.open("/library")
    browser.fill("q", "ceasefire")
    browser.submit("q")
    browser.assert_accessible()
    browser.screenshot("library")
    browser.click(".result h2 a")
    assert browser.path.startswith("/library/")
    browser.assert_accessible()
    browser.screenshot("resource")

    browser.open("/observations")
    assert "houses of cement" in browser.text()
    assert browser.overflows() == []
    browser.assert_accessible()
    browser.screenshot("observations")


def test_signed_in_reader_writes_to_an_actor(phone, app, make_actor, make_user, mailbox):
    from tests.conftest import PASSWORD

    org = make_actor(name="Amani Women's Circle")
    manager = make_user(manager_of=org)
    reader = make_user()
    phone.open(f"/actors/{org.id}")
    phone.click_link("Write to them through Peacemap")
    assert phone.path.startswith("/sign-in")  # sign in first, then back
    phone.fill("email", reader.email)
    phone.fill("password", PASSWORD)
    phone.submit("password")
    assert phone.path == f"/actors/{org.id}/contact"
    phone.assert_accessible()
    phone.fill("message", "Could we meet in Kisumu next month?")
    phone.submit("message")
    assert "Message sent" in phone.text("h1")
    assert manager.email not in phone.driver.page_source
    phone.assert_accessible()
    phone.screenshot("contact-sent")
    assert "Could we meet in Kisumu" in mailbox(manager.email)[0].get_content()


def test_a_manager_replies_from_the_relayed_mail(
    browser, app, make_actor, make_user, web_sign_in, mailbox
):
    import re

    from tests.conftest import PASSWORD, form_token

    org = make_actor(name="Amani Women's Circle")
    manager = make_user(manager_of=org)
    reader = make_user()
    client = web_sign_in(app.test_client(), reader)
    contact = f"/actors/{org.id}/contact"
    message = {"message": "Could we meet?", "csrf_token": form_token(client, contact)}
    assert client.post(contact, data=message).status_code == 200
    (mail,) = mailbox(manager.email)
    link = re.search(r"http://[^/]+(/contact/reply/\S+)", mail.get_content()).group(1)

    browser.open(link)
    assert browser.path.startswith("/sign-in")  # sign in first, then back
    browser.fill("email", manager.email)
    browser.fill("password", PASSWORD)
    browser.submit("password")
    assert browser.path == link
    assert browser.overflows() == []
    browser.assert_accessible()
    browser.fill("message", "Yes: Thursday at the community hall.")
    browser.submit("message")
    assert browser.find_all("#f-message") == []  # the "sent" page, in any profile's language
    assert reader.email not in browser.driver.page_source
    browser.assert_accessible()
    assert "Thursday" in mailbox(reader.email)[0].get_content()


def test_the_area_of_work_is_drawn_on_a_phone(phone, make_actor):
    area = {
        "type": "Polygon",
        "coordinates": [[[36.5, -1.5], [37.0, -1.5], [37.0, -1.0], [36.5, -1.5]]],
    }
    actor = make_actor(name="Amani Nairobi", area=area, location_precision="region")

    phone.open(f"/actors/{actor.id}")

    figure = phone.find("figure.area-of-work")
    assert "From latitude" in figure.text
    assert phone.find("figure.area-of-work svg").size["width"] > 0
    phone.assert_accessible()
    assert phone.overflows() == []
    phone.screenshot("actor-area-of-work-phone")
