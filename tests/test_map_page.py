"""The map page, opened in a real headless browser (Debian's chromium)."""

import pytest

from tests.browser import ARTIFACTS, CHROMIUM, chromium, served


def test_page_is_served_without_a_cdn(client):
    with client.get("/") as response:
        page = response.get_data(as_text=True)
    assert "/static/leaflet/leaflet.js" in page and "http" not in page.replace("http-equiv", "")
    with client.get("/static/map/map.js") as script:
        assert "/api/v1/actors/clusters" in script.get_data(as_text=True)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by `make test`")
# Werkzeug's test server leaves static files to the garbage collector when the browser
# drops a connection it no longer needs: not this project's leak, not an error here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_map_page_shows_markers_in_a_browser(app, make_actor):
    for i, (lon, lat) in enumerate(
        [(36.82, -1.29), (-13.23, 8.48), (-74.07, 4.71), (72.79, 40.51)]
    ):
        make_actor(
            name=f"Map page actor {i}",
            location={"type": "Point", "coordinates": [lon, lat]},
            location_precision="exact",
        )
    ARTIFACTS.mkdir(exist_ok=True)
    with served(app) as base:
        dom = chromium(f"{base}/", "--dump-dom")
        chromium(f"{base}/", f"--screenshot={ARTIFACTS / 'map.png'}")
    assert 'data-markers="' in dom, dom[:500]
    markers = int(dom.split('data-markers="')[1].split('"')[0])
    assert markers >= 1
    assert "4 actors" in dom
    assert (ARTIFACTS / "map.png").stat().st_size > 10_000
