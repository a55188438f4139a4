"""The API's own scenarios for bench/map_peers.sh, and the SQL they send, for pgbench.

    python bench/api_workload.py paths CITIES_CSV BBOXES_TXT OUT_DIR
    python bench/api_workload.py sql OUT_DIR PATHS_TXT...

`paths` writes one file of request paths per scenario (peacemap_<scenario>.txt): the
/api/v1/actors list with its common filters, the changes feed, the live tile path at z10
and z12 (plain and filtered). Seeded, so every run replays the same requests.

`sql` replays the first paths of each file through the app (the production settings of
the environment, the bench's database) and records every statement it sends, exactly as
the driver sends it (psycopg2's ``mogrify``), from the second of two identical requests
(so caches the app keeps warm are warm, as they are under load). Each request becomes one
pgbench script (its statements in one transaction, as the app runs them):
<OUT_DIR>/<scenario>/NNN.sql, which pgbench replays straight at PostgreSQL: the ceiling.
"""

from __future__ import annotations

import csv
import math
import random
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app: wsgi, api

PER_SCENARIO = 200  # paths per scenario file
REPLAYED = 20  # of which, captured as pgbench scripts
WORDS = ("peace", "dialogue", "mediation", "justice", "youth", "nairobi", "bogota", "mensah")
TIPG_TILE = "/collections/public.actors/tiles/WebMercatorQuad/"
THEMES = ("violence", "legitimacy", "polarisation", "agency", "investment")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    lat_r = math.radians(max(-85.0511, min(85.0511, lat)))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return x, y


def scenarios(cities: list[dict], bboxes: list[str], rng: random.Random) -> dict[str, list[str]]:
    def city():
        c = rng.choice(cities)
        return float(c["lon"]) + rng.uniform(-0.1, 0.1), float(c["lat"]) + rng.uniform(-0.1, 0.1), c

    def many(make) -> list[str]:
        return [make() for _ in range(PER_SCENARIO)]

    def near() -> str:
        lon, lat, _ = city()
        return f"/api/v1/actors?near={lon:.4f},{lat:.4f}&radius_km=10&sort=distance"

    def theme_country() -> str:
        return f"/api/v1/actors?theme={rng.choice(THEMES)}&country={city()[2]['country']}"

    def tile(z: int, query: str = "") -> str:
        lon, lat, _ = city()
        x, y = tile_of(lon, lat, z)
        return f"/api/v1/tiles/{z}/{x}/{y}.mvt{query}"

    return {
        "list_near_distance": many(near),
        "list_text": many(lambda: f"/api/v1/actors?q={rng.choice(WORDS)}"),
        "list_theme_country": many(theme_country),
        "list_bbox": [f"/api/v1/actors?bbox={b}" for b in bboxes[:PER_SCENARIO]],
        "tiles_z10": many(lambda: tile(10)),
        "tiles_z12": many(lambda: tile(12)),
        "tiles_z10_theme": many(lambda: tile(10, f"?theme={rng.choice(THEMES)}")),
        "tiles_z12_theme": many(lambda: tile(12, f"?theme={rng.choice(THEMES)}")),
    }


def write_paths(cities_csv: str, bboxes_txt: str, out: str) -> None:
    from wsgi import app

    with open(cities_csv, newline="", encoding="utf-8") as f:
        cities = list(csv.DictReader(f))
    bboxes = [line for line in Path(bboxes_txt).read_text().splitlines() if line]
    found = scenarios(cities, bboxes, random.Random(14))
    client = app.test_client()
    # The changes feed as an offline client syncs it: page after page from the start.
    pages, since = [], None
    while len(pages) < PER_SCENARIO:
        path = "/api/v1/actors/changes?limit=200" + (f"&since={quote(since)}" if since else "")
        pages.append(path)
        since = client.get(path).get_json()["next"]
    found["changes_feed"] = pages
    # A client that synced a little while ago: updated_since at one of the latest changes.
    with app.app_context():
        from sqlalchemy import text

        from api.db import db

        stamps = db.session.execute(
            text(
                "SELECT updated_at FROM actors WHERE status = 'published'"
                " ORDER BY updated_at DESC, id DESC LIMIT :n"
            ),
            {"n": PER_SCENARIO * 50},
        ).scalars()
        found["list_updated_since"] = [
            f"/api/v1/actors?updated_since={quote(s.isoformat())}" for s in list(stamps)[49::50]
        ]
    for name, paths in found.items():
        Path(out, f"peacemap_{name}.txt").write_text("\n".join(paths) + "\n")
    for z in (10, 12):  # the same tiles from tipg, for the tile bar (>= 2x tipg)
        plain = found[f"tiles_z{z}"]
        tiles = [p.removeprefix("/api/v1/tiles/").removesuffix(".mvt") for p in plain]
        Path(out, f"tipg_tiles_z{z}.txt").write_text("".join(f"{TIPG_TILE}{t}\n" for t in tiles))


def capture_sql(out: str, path_files: list[str]) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from wsgi import app

    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(cursor.mogrify(statement, parameters).decode())

    client = app.test_client()
    for path_file in path_files:
        scenario = Path(path_file).stem.removeprefix("peacemap_")
        folder = Path(out, scenario)
        folder.mkdir(parents=True, exist_ok=True)
        paths = Path(path_file).read_text().splitlines()[:REPLAYED]
        for number, path in enumerate(paths):
            client.get(path)
            sent.clear()
            event.listen(Engine, "before_cursor_execute", record)
            try:
                status = client.get(path).status_code
            finally:
                event.remove(Engine, "before_cursor_execute", record)
            if not sent:
                sys.exit(f"{path}: status {status}, no statement")
            if status not in (200, 204):  # replayed all the same: wrk counts it as an error
                print(f"{path}: status {status}", file=sys.stderr)
            body = "".join(f"{statement.strip().rstrip(';')};\n" for statement in sent)
            Path(folder, f"{number:03}.sql").write_text(f"BEGIN;\n{body}COMMIT;\n")


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "paths":
        write_paths(*rest)
    else:
        capture_sql(rest[0], rest[1:])
