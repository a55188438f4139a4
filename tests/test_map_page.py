"""The map page at `/` (api/web/find.py) in a real browser (tests/browser.py): clusters on
the shipped base layer, served without any CDN."""

import re

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def test_page_is_served_without_a_cdn(client):
    with client.get("/") as response:
        page = response.get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert any(src.endswith("/leaflet/leaflet.js") for src in scripts)
    assert all(src.startswith("/assets/") for src in scripts)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    script = next(src for src in scripts if src.endswith("find-map.js"))
    with client.get(script) as response:
        assert "/api/v1/actors/clusters" in response.get_data(as_text=True)


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
    desktop.wait(lambda: desktop.find("#map").get_attribute("data-markers"))
    assert int(desktop.find("#map").get_attribute("data-markers")) >= 1
    assert "4 actors on the map" in desktop.text(".map-status")
    # The shipped base layer: country outlines drawn (SVG/canvas paths), no tile images.
    assert desktop.find_all(".leaflet-overlay-pane canvas, .leaflet-overlay-pane path")
    assert not desktop.find_all("img.leaflet-tile")
    assert desktop.screenshot("map").stat().st_size > 10_000
