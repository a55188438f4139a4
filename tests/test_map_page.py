"""The map page, opened in a real browser (tests/browser.py)."""

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def test_page_is_served_without_a_cdn(client):
    with client.get("/") as response:
        page = response.get_data(as_text=True)
    assert "/static/leaflet/leaflet.js" in page and "http" not in page.replace("http-equiv", "")
    with client.get("/static/map/map.js") as script:
        assert "/api/v1/actors/clusters" in script.get_data(as_text=True)


def test_map_page_shows_markers_in_a_browser(desktop, make_actor):
    for i, (lon, lat) in enumerate(
        [(36.82, -1.29), (-13.23, 8.48), (-74.07, 4.71), (72.79, 40.51)]
    ):
        make_actor(
            name=f"Map page actor {i}",
            location={"type": "Point", "coordinates": [lon, lat]},
            location_precision="exact",
        )
    desktop.open("/")
    desktop.wait(lambda: desktop.find("body").get_attribute("data-markers"))
    assert int(desktop.find("body").get_attribute("data-markers")) >= 1
    assert "4 actors" in desktop.text("#status")
    assert desktop.screenshot("map").stat().st_size > 10_000
