"""Searches by distance use the geography index: found by bench/load.py, where every
`near=` search scanned the whole table (2 s at 50,000 actors, statement timeouts under
load) because the query cast to another expression than the index's."""

from __future__ import annotations

from sqlalchemy import func, select, text

from api.actors.models import Actor
from geo import filters


def test_near_searches_can_use_the_geography_index(session):
    query = select(func.count()).where(filters.within_km(Actor.public_location, -13.23, 8.48, 200))
    sql = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    session.execute(text("SET LOCAL enable_seqscan = off"))  # what an index allows, at any size
    plan = "\n".join(session.scalars(text(f"EXPLAIN {sql}")))
    assert "ix_actors_public_geography" in plan, plan
