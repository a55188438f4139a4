"""Browsers on another origin, in headless Chromium: a MapLibre GL JS page (the vendored
api/static/maplibre) served from a second server reads the OGC tileset and renders the
actor tiles; a web app on a configured origin signs in and proposes an actor, with
credentials, and one on any other origin cannot."""

import functools
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from api.moderation.models import Contribution
from tests.browser import ARTIFACTS, Browser, needs_browser, served, start_chromium
from tests.conftest import PASSWORD
from tests.test_ogc_clients import Recorder

MAPLIBRE = Path(__file__).resolve().parent.parent / "api" / "static" / "maplibre"

MAP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Actors on MapLibre</title>
<link rel="stylesheet" href="maplibre-gl.css"><script src="maplibre-gl.js"></script>
<style>html, body, #map { margin: 0; height: 100%; }</style></head>
<body><div id="map"></div>
<script>
const API = __API__;
(async () => {
  // The OGC tileset says where the tiles are: its templated "item" link.
  const tileset = await (await fetch(API + "/api/v1/ogc/collections/actors/tiles/WebMercatorQuad")).json();
  const item = tileset.links.find(link => link.rel === "item");
  const tiles = item.href.replace("{tileMatrix}", "{z}").replace("{tileRow}", "{y}")
    .replace("{tileCol}", "{x}");
  const map = new maplibregl.Map({
    container: "map", center: [20, 15], zoom: 1, fadeDuration: 0, attributionControl: false,
    style: {
      version: 8,
      sources: {actors: {type: "vector", tiles: [tiles], minzoom: 0, maxzoom: 22}},
      layers: [
        {id: "sea", type: "background", paint: {"background-color": "#dde8f0"}},
        {id: "actors", type: "circle", source: "actors", "source-layer": "actors",
         paint: {"circle-radius": 7, "circle-color": "#b03a2e"}},
      ],
    },
  });
  map.on("error", event => { document.body.dataset.error = String(event.error && event.error.message); });
  map.on("idle", () => {
    document.body.dataset.rendered = String(map.queryRenderedFeatures({layers: ["actors"]}).length);
  });
})().catch(error => { document.body.dataset.error = String(error); });
</script></body></html>
"""

APP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A client app</title></head>
<body><p id="out"></p>
<script>
const API = __API__;
(async () => {
  const signIn = await fetch(API + "/api/v1/auth/sign-in", {
    method: "POST", credentials: "include", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({email: __EMAIL__, password: __PASSWORD__}),
  });
  const {token} = await signIn.json();
  const proposed = await fetch(API + "/api/v1/contributions", {
    method: "POST", credentials: "include",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer " + token},
    body: JSON.stringify({kind: "new_actor", payload: {
      kind: "organisation", name: "Cross-origin Peace Circle", language: "en",
      summary: "Proposed from a browser on another origin.", themes: ["mediation_dialogue"],
      location: {type: "Point", coordinates: [36.82, -1.29]}, location_precision: "exact",
    }}),
  });
  document.body.dataset.status = String(proposed.status);
  document.body.dataset.location = proposed.headers.get("Location") || "";
})().catch(error => { document.body.dataset.error = String(error); });
</script></body></html>
"""


@contextmanager
def second_origin(root: Path) -> Iterator[str]:
    """A plain static server of ``root`` on another loopback port: another origin."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the test reads the page, not the server's log
        pass


def page(template: str, **values) -> str:
    for name, value in values.items():
        template = template.replace(f"__{name.upper()}__", json.dumps(value))
    return template


@pytest.fixture(scope="module")
def webgl_chromium():
    driver = start_chromium("desktop", webgl=True)
    yield driver
    driver.quit()


def open_page(driver, base: str, attribute: str) -> Browser:
    browser = Browser(driver, "desktop", base)
    browser.open("/index.html")
    browser.wait(
        lambda: browser.js(
            f"return document.body.dataset.{attribute} || document.body.dataset.error"
        ),
        timeout=90,
        message=f"the page set neither data-{attribute} nor data-error",
    )
    return browser


@needs_browser
# Werkzeug's test server leaves sockets to the garbage collector when the browser drops a
# connection it no longer needs: not this project's leak, not an error here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_maplibre_on_another_origin_renders_the_actor_tiles(
    app, connection, make_actor, webgl_chromium, tmp_path
):
    for i, (lon, lat) in enumerate(
        [(-74.07, 4.71), (-13.23, 8.48), (72.79, 40.51), (120.98, 14.6)]
    ):
        make_actor(
            name=f"MapLibre actor {i}", location={"type": "Point", "coordinates": [lon, lat]}
        )
    make_actor(
        name="Unpublished",
        status="draft",
        location={"type": "Point", "coordinates": [-58.38, -34.6]},
    )
    for name in ("maplibre-gl.js", "maplibre-gl.css"):
        shutil.copy(MAPLIBRE / name, tmp_path / name)
    recorder = Recorder(app)
    with served(recorder) as api, second_origin(tmp_path) as origin:
        (tmp_path / "index.html").write_text(page(MAP_PAGE, api=api))
        assert origin != api
        browser = open_page(webgl_chromium, origin, "rendered")
        assert browser.js("return document.body.dataset.error") is None
        browser.screenshot("maplibre-cross-origin")
        rendered = int(browser.js("return document.body.dataset.rendered"))
    assert rendered == 4  # the four published actors; the draft is on no tile
    tiles = [path for path, _ in recorder.requests if "/tiles/WebMercatorQuad/" in path]
    assert tiles, recorder.requests  # MapLibre took them from the OGC tileset's template
    assert (ARTIFACTS / "maplibre-cross-origin-desktop.png").stat().st_size > 5_000


@needs_browser
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_web_app_on_a_configured_origin_signs_in_and_proposes_an_actor(
    app, live_server, session, make_user, monkeypatch, webgl_chromium, tmp_path
):
    user = make_user()
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    for root in (allowed, other):
        root.mkdir()
        (root / "index.html").write_text(
            page(APP_PAGE, api=live_server, email=user.email, password=PASSWORD)
        )
    with second_origin(allowed) as origin, second_origin(other) as stranger:
        monkeypatch.setitem(app.config, "CORS_ORIGINS", frozenset({origin}))
        browser = open_page(webgl_chromium, origin, "status")
        status = browser.js("return document.body.dataset.status")
        location = browser.js("return document.body.dataset.location")
        assert (status, browser.js("return document.body.dataset.error")) == ("201", None)
        assert "/api/v1/contributions/" in location  # an exposed header, read by the page
        refused = open_page(webgl_chromium, stranger, "status")
        # The browser refuses to let a page on any other origin send the credentials.
        assert refused.js("return document.body.dataset.status") is None
        assert "Failed to fetch" in refused.js("return document.body.dataset.error")
    proposals = session.scalars(select(Contribution).where(Contribution.author_id == user.id)).all()
    assert [p.payload["name"] for p in proposals] == ["Cross-origin Peace Circle"]
