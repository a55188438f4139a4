"""Real OGC API clients against the served app: OWSLib and GDAL's OAPIF driver send their
filters to the server, which applies them (the requests it received carry the filter, and
only the matching features travel)."""

import json
import shutil
import subprocess
from urllib.parse import parse_qs, urlencode

import pytest

from tests.browser import served

MATCHING = 2  # government bodies among the actors below


@pytest.fixture
def actors(make_actor):
    for i, (kind, lon, lat) in enumerate(
        [
            ("government", -13.234, 8.484),
            ("government", -74.07, 4.71),
            ("organisation", 36.82, -1.29),
            ("academic", 72.79, 40.51),
            ("organisation", -11.15, 7.85),
        ]
    ):
        make_actor(
            name=f"Client test actor {i}",
            kind=kind,
            location={"type": "Point", "coordinates": [lon, lat]},
        )


class Recorder:
    """The WSGI app, noting the path and query of every request it answers: the server's
    own record of what a client asked for."""

    def __init__(self, app):
        self.app = app
        self.requests: list[tuple[str, dict]] = []

    def __call__(self, environ, start_response):
        query = parse_qs(environ.get("QUERY_STRING", ""))
        self.requests.append((environ["PATH_INFO"], query))
        return self.app(environ, start_response)

    def items_queries(self) -> list[dict]:
        return [q for path, q in self.requests if path.endswith("/collections/actors/items")]


def test_owslib_filters_sorts_and_selects_on_the_server(app, actors):
    from owslib.ogcapi.features import Features

    recorder = Recorder(app)
    with served(recorder) as base:
        api = Features(f"{base}/api/v1/ogc")
        assert "actors" in api.feature_collections()
        assert "kind" in api.collection_queryables("actors")["properties"]
        found = api.collection_items(
            "actors",
            filter="kind = 'government'",
            sortby=("name", "desc"),
            properties="name,kind",
            limit=100,
        )
    assert found["numberMatched"] == found["numberReturned"] == MATCHING
    assert [f["properties"]["name"] for f in found["features"]] == [
        "Client test actor 1",
        "Client test actor 0",
    ]
    assert all(set(f["properties"]) == {"name", "kind"} for f in found["features"])
    (query,) = recorder.items_queries()
    assert query["filter"] == ["kind = 'government'"] and query["sortby"] == ["-name"]


@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="GDAL is installed by `make test`")
def test_gdal_filters_on_the_server(app, actors, tmp_path):
    """GDAL's OAPIF driver carries the query of its connection string into every items
    request: a CQL2 filter there is applied by the server. (GDAL 3.6 evaluates an OGR
    ``-where`` on its own side, after fetching every feature.)"""
    recorder = Recorder(app)
    out = tmp_path / "government.geojson"
    with served(recorder) as base:
        query = urlencode({"filter": "kind = 'government'", "filter-lang": "cql2-text"})
        result = subprocess.run(
            [
                "ogr2ogr",
                "-f",
                "GeoJSON",
                str(out),
                f"OAPIF:{base}/api/v1/ogc/collections/actors?{query}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    features = json.loads(out.read_text())["features"]
    assert sorted(f["properties"]["name"] for f in features) == [
        "Client test actor 0",
        "Client test actor 1",
    ]
    assert all(f["properties"]["kind"] == "government" for f in features)
    items = recorder.items_queries()
    assert items and all(q["filter"] == ["kind = 'government'"] for q in items), items
