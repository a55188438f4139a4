"""The actor page in a real browser (tests/browser.py): on a phone in English and Arabic,
accessible, within its byte budget; screenshots under tests/artifacts."""

import matplotlib.image
import numpy
import pytest

# Werkzeug's test server leaves a static file to the garbage collector when the browser
# drops a connection it no longer needs: not this project's leak, not an error here.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.mark.parametrize("profile", ["phone", "arabic"])
def test_actor_page_renders_on_a_phone_in_english_and_arabic(request, profile, make_actor):
    browser = request.getfixturevalue(profile)
    actor = make_actor(
        name="Amani Women's Circle, Nairobi",
        summary="Mediation between neighbourhoods after the elections.",
        working_languages=["sw", "en"],
    )
    browser.open(f"/actors/{actor.id}")
    direction = "rtl" if browser.language == "ar" else "ltr"
    root = browser.find("html")
    assert (root.get_attribute("lang"), root.get_attribute("dir")) == (browser.language, direction)
    assert "Amani Women's Circle, Nairobi" in browser.text("h1")
    assert browser.overflows() == []
    browser.assert_accessible()
    image = matplotlib.image.imread(browser.screenshot("actor"))
    assert image.shape[1] == 390, image.shape
    # The stylesheet applied (the CSP lets our own file through): the header's blue rule.
    blue = (image[..., 2] > 0.5) & (image[..., 0] < 0.2)
    assert numpy.count_nonzero(blue) > 390


def test_harness_counts_bytes_and_finds_accessibility_violations(phone, make_actor):
    """The harness's own proof: the network log sums what crossed the wire (the page and
    its stylesheet, compressed), and axe-core, run in the page, reports a real violation."""
    actor = make_actor(name="Harness check", summary="x" * 400)
    phone.open(f"/actors/{actor.id}")
    loaded = {r["url"].rsplit("/", 1)[-1]: r for r in phone.network()}
    assert {str(actor.id), "web.css"} <= set(loaded), loaded
    total = phone.transferred()
    assert total == sum(r["bytes"] for r in phone.network())
    assert 1_000 < total < 30_000, total
    phone.assert_accessible()
    # An image without a text alternative is a critical violation axe-core must find.
    phone.js("document.querySelector('main').append(document.createElement('img'))")
    assert "image-alt" in {v["id"] for v in phone.axe() if v["impact"] == "critical"}
