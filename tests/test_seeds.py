"""Demo data and the synthetic bulk loader."""

from collections import Counter

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import func, select

from api.actors.models import ACTOR_KINDS, Actor
from api.themes.models import Theme
from seeds.bulk import load_rows
from seeds.demo import demo_features, load_demo
from seeds.synthetic import generate


def test_demo_data_covers_the_field(app, session):
    with app.app_context():
        created = load_demo(session)
        session.commit()
        assert load_demo(session) == 0  # idempotent
    assert created == len(demo_features()) >= 150
    actors = session.scalars(select(Actor)).all()
    assert {a.kind for a in actors} == set(ACTOR_KINDS)
    assert {t for a in actors for t in a.themes} == set(session.scalars(select(Theme.key))) - {
        "peace_tech"
    }
    precisions = Counter(a.location_precision for a in actors)
    assert set(precisions) == {"exact", "locality", "region", "country"}
    assert len({a.language for a in actors}) >= 6
    countries = {a.country for a in actors}
    assert {"SL", "CO", "KG", "TJ", "MM", "KE", "BA", "XK"} <= countries


def test_demo_practitioners_in_conflict_zones_are_never_exact(app, session):
    with app.app_context():
        load_demo(session)
        session.commit()
    practitioners = session.scalars(select(Actor).where(Actor.kind == "practitioner")).all()
    assert practitioners and all(a.location_precision != "exact" for a in practitioners)


def test_synthetic_generator_is_deterministic():
    first = list(generate(500, seed=7))
    assert first == list(generate(500, seed=7))
    assert first != list(generate(500, seed=8))
    assert all(-180 <= r["lon"] <= 180 and -90 <= r["lat"] <= 90 for r in first)


def test_bulk_load_copies_rows_with_public_locations(session, connection):
    rows = list(generate(1200, seed=3))
    progress = []
    loaded = load_rows(connection.connection.dbapi_connection, rows, progress=progress.append)
    assert loaded == 1200 and progress[-1] == 1200
    # Loading again skips the existing ids.
    load_rows(connection.connection.dbapi_connection, rows[:10])
    assert session.scalar(select(func.count()).select_from(Actor)) == 1200
    # The exact point is sealed (api.crypto): it opens to the row's point, and no
    # generalised actor is published at it.
    by_id = {str(r["id"]): r for r in rows}
    for actor in session.scalars(select(Actor).where(Actor.id.in_([r["id"] for r in rows[:200]]))):
        exact = to_shape(actor.location)
        row = by_id[str(actor.id)]
        assert exact.equals_exact(Point(float(row["lon"]), float(row["lat"])), 1e-9)
        if actor.location_precision != "exact":
            assert not exact.equals_exact(to_shape(actor.public_location), 1e-9)
    found = session.scalar(select(Actor).where(Actor.id == rows[0]["id"]))
    assert found.search_vector  # generated column filled by the database
