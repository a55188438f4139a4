"""The Contribute job in a real browser (tests/browser.py), the first journey of issue 13:
a newcomer signs up, reads the verification mail from the local SMTP server, confirms the
address, signs in and proposes an actor; at phone and desktop sizes and in Arabic; axe-core
on every page; screenshots under tests/artifacts."""

from __future__ import annotations

import re
import uuid

import pytest

from api.moderation.models import Contribution

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

PASSWORD = "lantern orchard quietly seventeen"


def _looked_at(browser, name: str) -> None:
    """What every page of the journey must be: accessible, no sideways scrolling, pictured."""
    browser.assert_accessible()
    assert browser.overflows() == [], browser.path
    browser.screenshot(name)


def test_newcomer_signs_up_confirms_signs_in_and_proposes_an_actor(browser, mailbox, session):
    address = f"newcomer-{uuid.uuid4().hex[:8]}@example.org"

    browser.open("/sign-up")
    _looked_at(browser, "sign-up")
    browser.fill("display_name", "Neema")
    browser.fill("email", address)
    browser.fill("password", PASSWORD)
    browser.submit("password")
    assert browser.path == "/check-your-email?sent=sign-up"
    _looked_at(browser, "check-your-email")

    mail = mailbox(address)[-1].get_content()
    link = re.search(r"https?://[^/\s]+(/verify-email\?token=\S+)", mail)[1]
    browser.open(link)
    _looked_at(browser, "verify-email")
    browser.submit("token")
    assert browser.path == "/sign-in?next=/contribute"
    assert browser.find(".notice").is_displayed()  # "your address is confirmed"
    _looked_at(browser, "sign-in")

    browser.fill("email", address)
    browser.fill("password", PASSWORD)
    browser.submit("password")
    assert browser.path == "/contribute"
    _looked_at(browser, "contribute")

    browser.click('main a[href="/contribute/actor"]')
    _looked_at(browser, "propose-actor")
    browser.choose("kind", "organisation")
    browser.fill("name", "Vijana wa Amani")
    browser.fill("summary", "Football and dialogue for young people in Nairobi.")
    browser.choose("language", "sw")
    browser.click("#f-themes", navigates=False)
    browser.fill("place", "Nairobi")
    browser.click("#f-location-precision-region", navigates=False)
    browser.submit("name")

    assert re.fullmatch(r"/my/contributions/[0-9a-f-]{36}", browser.path)
    _looked_at(browser, "proposed")
    (proposal,) = session.query(Contribution).filter_by(kind="new_actor").all()
    assert proposal.payload["name"] == "Vijana wa Amani"
    assert proposal.payload["location_precision"] == "region"
    assert proposal.state == "submitted"

    browser.click('a[href="/my/contributions"]')
    assert "Vijana wa Amani" in browser.text()
    _looked_at(browser, "my-contributions")


def test_a_refused_form_is_summarised_and_keeps_what_was_typed(phone, make_user):
    user = make_user()
    phone.open("/sign-in")
    phone.fill("email", user.email)
    phone.fill("password", "correct horse battery staple")
    phone.submit("password")
    phone.open("/contribute/actor")
    phone.fill("name", "Amani Circle")
    phone.fill("place", "Atlantis")
    phone.submit("name")

    summary = phone.find(".error-summary")
    assert "We do not know this place." in summary.text
    assert phone.field("name").get_attribute("value") == "Amani Circle"
    assert phone.field("place").get_attribute("value") == "Atlantis"
    _looked_at(phone, "propose-actor-errors")


def test_a_click_on_the_map_fills_the_coordinates_in(desktop, make_user):
    user = make_user()
    desktop.open("/sign-in")
    desktop.fill("email", user.email)
    desktop.fill("password", "correct horse battery staple")
    desktop.submit("password")
    desktop.open("/contribute/actor")
    assert desktop.find("#picker-map").get_attribute("hidden") is not None

    desktop.click(".location-picker > button", navigates=False)
    desktop.wait(lambda: desktop.find_all("#picker-map .leaflet-pane"), message="no map")
    desktop.find("#picker-map").click()  # its centre

    desktop.wait(lambda: desktop.field("latitude").get_attribute("value"), message="no point")
    latitude = float(desktop.field("latitude").get_attribute("value"))
    longitude = float(desktop.field("longitude").get_attribute("value"))
    assert -90 <= latitude <= 90 and -180 <= longitude <= 180
    desktop.js("arguments[0].scrollIntoView({block: 'center'})", desktop.find("#picker-map"))
    _looked_at(desktop, "location-picker")


def _sign_in(browser, user) -> None:
    browser.open("/sign-in")
    browser.fill("email", user.email)
    browser.fill("password", "correct horse battery staple")
    browser.submit("password")


def test_a_proposal_a_moderator_approves_appears_on_its_page_and_the_map(
    desktop, make_user, session
):
    """The journey past the newcomer's part: the moderator's approval on the Moderate pages,
    then the actor on its page and on the map."""
    _sign_in(desktop, make_user())
    desktop.open("/contribute/actor")
    desktop.choose("kind", "network")
    desktop.fill("name", "Amani Network Goma")
    desktop.choose("language", "fr")
    desktop.fill("place", "Kinshasa")
    desktop.submit("name")
    desktop.click(".account-nav button")  # sign out
    (proposal,) = session.query(Contribution).filter_by(kind="new_actor").all()

    _sign_in(desktop, make_user("moderator"))
    desktop.open(f"/moderate/contributions/{proposal.id}")
    desktop.click('form[action$="/claim"] button')
    desktop.click("#decision-approve", navigates=False)
    desktop.submit("#decision-approve")
    assert desktop.path == "/moderate"

    session.expire_all()
    actor_id = session.get(Contribution, proposal.id).target_id
    desktop.open(f"/actors/{actor_id}")
    assert desktop.find("h1").text == "Amani Network Goma"
    desktop.open("/")
    desktop.wait(lambda: desktop.find("#map").get_attribute("data-markers"), timeout=90)
    assert int(desktop.find("#map").get_attribute("data-markers")) == 1
    assert "Amani Network Goma" in desktop.text(".results")
    desktop.screenshot("approved-on-the-map")


def test_links_rows_grow_without_script_and_the_new_fields_are_checked(phone, make_user):
    user = make_user()
    phone.open("/sign-in")
    phone.fill("email", user.email)
    phone.fill("password", "correct horse battery staple")
    phone.submit("password")
    phone.open("/contribute/actor")
    phone.fill("name", "Amani Circle")
    phone.fill("founded_year", "1700")
    phone.fill("links.0.label", "Radio")
    phone.fill("links.0.url", "radio")
    phone.fill("contact.email", "amani@example.org")

    phone.click('button[name="add_row"][value="links"]')

    assert phone.field("links.1.url").get_attribute("value") == ""
    assert phone.field("links.0.label").get_attribute("value") == "Radio"
    assert phone.field("contact.email").get_attribute("value") == "amani@example.org"
    _looked_at(phone, "propose-actor-links")

    phone.submit("name")  # Enter in a field sends the form, not "add another"

    summary = phone.find(".error-summary").text
    assert "Enter a year between 1800 and" in summary
    assert "Enter a web address" in summary
    assert phone.field("links.0.url").get_attribute("value") == "radio"
    _looked_at(phone, "propose-actor-facts-errors")
