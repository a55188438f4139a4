"""geo/: GeoJSON parsing, countries and location generalisation (no database)."""

import pytest
from shapely.geometry import Point, box

from geo.countries import contains, countries, country_at
from geo.geojson import GeometryError, parse_geometry
from geo.places import find_place
from geo.privacy import Precision, public_point


def polygon(*ring):
    return {"type": "Polygon", "coordinates": [list(map(list, ring))]}


def test_parses_a_valid_polygon():
    geometry = parse_geometry(polygon((0, 0), (1, 0), (1, 1), (0, 0)))
    assert geometry.equals(box(0, 0, 1, 1).intersection(geometry))
    assert geometry.area == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("POINT(1 2)", "must be a GeoJSON geometry object"),
        ({"type": "Circle", "coordinates": [0, 0]}, "type must be one of"),
        ({"type": "Point"}, "coordinates must be an array"),
        ({"type": "Point", "coordinates": [1]}, "[longitude, latitude]"),
        ({"type": "Point", "coordinates": ["1", "2"]}, "[longitude, latitude]"),
        ({"type": "Point", "coordinates": [True, 2]}, "[longitude, latitude]"),
        ({"type": "Point", "coordinates": [181, 0]}, "longitude 181.0 is outside -180..180"),
        ({"type": "Point", "coordinates": [0, -90.5]}, "latitude -90.5 is outside -90..90"),
        ({"type": "Point", "coordinates": [0, 0], "crs": "x"}, "unexpected member(s): crs"),
        ({"type": "Polygon", "coordinates": [[0, 0], [1, 1]]}, "nested as the type requires"),
        (polygon((0, 0), (1, 0), (1, 1), (0, 1)), "must be closed"),
        (polygon((0, 0), (1, 0), (0, 0)), "at least 4 positions"),
        ({"type": "Polygon", "coordinates": []}, "at least one ring"),
        (polygon((0, 0), (1, 1), (1, 0), (0, 1), (0, 0)), "Self-intersection"),
        ({"type": "MultiPoint", "coordinates": []}, "is empty"),
        ({"type": "LineString", "coordinates": [[0, 0]]}, "not a valid LineString"),
    ],
)
def test_rejects_invalid_geometry_with_the_reason(value, reason):
    with pytest.raises(GeometryError, match=None) as error:
        parse_geometry(value)
    assert reason in str(error.value)


def test_rejects_a_geometry_over_the_vertex_limit():
    ring = [[i / 100, 0] for i in range(60)] + [[0.3, 1], [0, 0]]
    with pytest.raises(GeometryError, match="vertices; the limit is 50"):
        parse_geometry({"type": "Polygon", "coordinates": [ring]}, max_vertices=50)


def test_restricts_geometry_types():
    with pytest.raises(GeometryError, match="type must be one of Point"):
        parse_geometry(polygon((0, 0), (1, 0), (1, 1), (0, 0)), allowed=("Point",))


def test_accepts_poles_and_the_antimeridian():
    assert parse_geometry({"type": "Point", "coordinates": [180, 90]}).equals(Point(180, 90))
    assert parse_geometry({"type": "Point", "coordinates": [-180, -90]}).equals(Point(-180, -90))
    cap = parse_geometry(polygon((-180, 80), (180, 80), (180, 90), (-180, 90), (-180, 80)))
    assert cap.bounds == (-180, 80, 180, 90)


def test_country_lookup():
    assert country_at(36.82, -1.29) == "KE"
    assert country_at(-74.07, 4.71) == "CO"
    assert country_at(-30.0, 0.0) is None  # mid-Atlantic
    assert contains("SL", -13.234, 8.484)  # Freetown, on the coast
    assert not contains("SL", 36.82, -1.29)
    assert "XK" in countries()


def test_exact_precision_publishes_the_point_rounded_to_a_metre():
    assert public_point(36.8219123, -1.2920659, "exact", "KE") == (36.82191, -1.29207)


def test_locality_snaps_to_the_centre_of_its_tenth_degree_cell():
    assert public_point(36.8219, -1.2921, Precision.LOCALITY, "KE") == (36.85, -1.25)
    # Every point of the cell gets the same public point: nothing to average out.
    assert public_point(36.8001, -1.2999, "locality", "KE") == (36.85, -1.25)


def test_region_snaps_to_the_centre_of_its_one_degree_cell():
    assert public_point(36.82, -1.29, "region", "KE") == (36.5, -1.5)


def test_country_precision_publishes_the_country_point():
    assert public_point(36.82, -1.29, "country", "KE") == countries()["KE"].point
    assert contains("KE", *countries()["KE"].point)


def test_generalised_point_stays_in_its_country_when_the_cell_centre_is_not():
    # Freetown is on the coast: most of its 1° cell is the Atlantic, too little to hide in;
    # the neighbouring cell inland, wholly in Sierra Leone, stands for it.
    lon, lat = public_point(-13.234, 8.484, "region", "SL")
    assert contains("SL", lon, lat)
    assert -13 <= lon <= -12 and 8 <= lat <= 9
    # A point right by a border keeps its own country's side.
    lon, lat = public_point(19.62, 44.15, "region", "BA")  # near the Drina, BA/RS border
    assert country_at(lon, lat) == "BA"


def test_generalisation_at_the_edges_of_the_world():
    assert public_point(180, 90, "locality", None) == (179.95, 89.95)
    assert public_point(-180, -90, "region", None) == (-179.5, -89.5)


def test_places_are_found_by_name_in_any_case_and_accent():
    assert find_place("  bogota ") == pytest.approx((-74.08175, 4.60971))
    assert find_place("Nairobi, KE") == pytest.approx((36.81667, -1.28333))
    assert find_place("Kenya") == find_place("ke") == countries()["KE"].point
    assert find_place("Kenia", {"Kenia": "KE"}) == countries()["KE"].point


def test_an_unknown_place_or_a_wrong_country_is_not_guessed():
    for text in ("Atlantis", "Nairobi, UG", ""):
        with pytest.raises(LookupError):
            find_place(text)
