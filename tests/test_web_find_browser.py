"""The Find job in a real browser (tests/browser.py): the layout at a phone's width in the
languages with the longest words, error pages, and the journeys of people looking for
partners; axe-core on every page; screenshots under tests/artifacts."""

from __future__ import annotations

import pytest

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
