"""The list queries clients call most use their indexes (issue 14).

Each request goes through the API as a client sends it; every statement it runs on the
actors table is captured and EXPLAINed on a table of 20,000 synthetic actors (analysed, so
the planner weighs real statistics), with sequential scans priced out
(``enable_seqscan = off``), so a plan without the expected index means no index matches
the expression the service builds: at 1,000,000 actors that is a scan of the table on
every request (seconds, not milliseconds).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, event

from seeds.bulk import load_rows
from seeds.synthetic import generate

ROWS = 20_000
NAIROBI = "36.82,-1.29"

# (request, the index (or one of the indexes) each of its statements on actors must use;
# None: any index, as long as the table is not scanned. Broad text and theme filters match
# a fifth of the map: the planner rightly walks the name-ordered index and stops at the
# page's end.)
COMMON_QUERIES = {
    "near_radius_distance": (
        f"/api/v1/actors?near={NAIROBI}&radius_km=25&sort=distance",
        "ix_actors_public_geography",
    ),
    "near_default_radius": (f"/api/v1/actors?near={NAIROBI}", "ix_actors_public_geography"),
    # text search: each way of matching stops at the page's end on the name-ordered index
    # (a broad word; its capped count on any published-actor index) or finds its few
    # matches through its own index (a rare one)
    "text_search": (
        "/api/v1/actors?q=peace",
        {"ix_actors_status_name", "ix_actors_status_updated", "ix_actors_search_vector"},
    ),
    "text_search_rare_word": (
        "/api/v1/actors?q=mombasa",
        {"ix_actors_name_words", "ix_actors_search_vector", "ix_actors_name_trgm"},
    ),
    "theme": ("/api/v1/actors?theme=gender", None),
    "theme_and_country": ("/api/v1/actors?theme=gender&country=KE", "ix_actors_theme_places"),
    "bbox": ("/api/v1/actors?bbox=36.6,-1.5,37.0,-1.1", "ix_actors_public_location"),
    "updated_since": (
        "/api/v1/actors?updated_since={since}",
        {"ix_actors_status_updated", "ix_actors_updated"},
    ),
    "changes_feed": ("/api/v1/actors/changes?limit=200", "ix_actors_updated"),
    "kind": ("/api/v1/actors?kind=funder", None),
    "language": ("/api/v1/actors?language=fr", "ix_actors_working_languages"),
    # the live tile path at the zooms of the benchmark, filtered as the map filters it
    "tile_z10_theme": ("/api/v1/tiles/10/616/515.mvt?theme=gender", "ix_actors_public_location"),
    "tile_z12_kind": ("/api/v1/tiles/12/2466/2062.mvt?kind=funder", "ix_actors_public_location"),
    # a low-zoom tile reads the cell table; a cell of one finds its actor through the index
    "low_zoom_tile": ("/api/v1/tiles/3/4/4.mvt", "ix_actors_public_location"),
    "ogc_bbox": (
        "/api/v1/ogc/collections/actors/items?bbox=36.6,-1.5,37.0,-1.1",
        "ix_actors_public_location",
    ),
}


@pytest.fixture(scope="module")
def many_actors(app, database_urls):
    """20,000 synthetic actors, committed and analysed by the tables' owner (statistics
    need committed rows, and only the owner may ANALYZE) for this module only."""
    rows = list(generate(ROWS, seed=14))
    owner = create_engine(database_urls["MIGRATION_DATABASE_URL"])
    try:
        with owner.connect() as connection:
            load_rows(connection.connection.dbapi_connection, rows)
            connection.commit()
            connection.exec_driver_sql("ANALYZE actors")
            connection.commit()
        yield
    finally:
        with owner.connect() as connection:
            ids = [str(row["id"]) for row in rows]
            connection.exec_driver_sql(
                "DELETE FROM actors WHERE id = ANY(%(ids)s::uuid[])", {"ids": ids}
            )
            connection.commit()
            connection.exec_driver_sql("ANALYZE actors")
            connection.commit()
        owner.dispose()


@pytest.fixture
def statements_on_actors(connection):
    """The statements (with their parameters) that read the actors table in the block."""
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and " actors" in statement:
            captured.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    yield captured
    event.remove(connection, "before_cursor_execute", capture)


def plan_of(connection, statement: str, parameters) -> dict:
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    try:
        explained = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        return explained.scalar()[0]["Plan"]
    finally:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = on")


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


@pytest.mark.parametrize("name", COMMON_QUERIES)
def test_common_list_query_uses_its_index(
    name, client, connection, many_actors, statements_on_actors
):
    path, index = COMMON_QUERIES[name]
    # After every loaded row: a client that synced recently, a narrow range of updated_at.
    since = quote((datetime.now(UTC) + timedelta(hours=1)).isoformat())
    path = path.format(since=since)
    reply = client.get(path)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert statements_on_actors, "the request ran no query on actors"
    for statement, parameters in statements_on_actors:
        plan = plan_of(connection, statement, parameters)
        on_actors = [n for n in nodes(plan) if n.get("Relation Name") == "actors"]
        scans = {n["Node Type"] for n in on_actors}
        # a Bitmap Index Scan names its index but not its table: the actors' index names do
        indexes = {n.get("Index Name") for n in nodes(plan)}
        shown = json.dumps(plan, indent=1)[:4000]
        assert "Seq Scan" not in scans, f"{name}: scans actors:\n{statement}\n{shown}"
        wanted = {index} if isinstance(index, str) else index or set()
        assert not wanted or wanted & indexes, (
            f"{name}: does not use {index}:\n{statement}\n{shown}"
        )
