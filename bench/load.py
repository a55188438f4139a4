"""Benchmark: a mixed read/write load through the production stack (nginx -> gunicorn).

    .venv/bin/python bench/load.py [--clients 32] [--writers 4] [--seconds 30]
        [--actors 50000] [--warmup 5]

Sets up a database of its own (peacemap_load, the same roles as `make run`), fills it with
synthetic actors once, creates one account per client (signed-in callers are limited per
account, so 32 clients from one address are not throttled as one), starts the stack with
scripts/prod.sh (its own run folder, bench/.work/prod-load), and runs the clients over
keep-alive connections: readers search (text, country, near), read single actors, page
OGC items by bbox and fetch vector tiles; writers (moderators) create published actors.
Prints throughput, error rate and p50/p99 per kind and overall, against the bar of issue
10: zero errors. The load generator runs on the same machine and takes CPU of its own.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from api import crypto, migrate  # noqa: E402
from api.accounts.models import User  # noqa: E402
from api.accounts.service import issue_token  # noqa: E402
from api.actors.models import Actor  # noqa: E402
from api.config import from_environment  # noqa: E402
from seeds.bulk import load_rows  # noqa: E402
from seeds.synthetic import generate  # noqa: E402

SECRET_KEY = "bench-load-secret-key-0123456789abcdefghijklmnop"
RUN = ROOT / "bench/.work/prod-load"
PLACES = [(-13.23, 8.48), (-74.07, 4.71), (36.82, -1.29), (96.16, 16.8), (69.28, 41.31)]
COUNTRIES = ["SL", "CO", "KE", "MM", "UZ", "BA", "RS", "XK"]


def database_urls() -> dict[str, str | None]:
    config = from_environment()

    def load(key):
        return (
            make_url(config[key]).set(database="peacemap_load").render_as_string(False)
            if config[key]
            else None
        )

    return {k: load(k) for k in ("DATABASE_URL", "MIGRATION_DATABASE_URL", "ADMIN_DATABASE_URL")}


def prepare(urls: dict, actors: int, clients: int, writers: int) -> tuple[list, list]:
    """Schema, actors (once) and one account with a token per client."""
    crypto.install(crypto.keyring_from_config({}))  # the development key, as prod.sh uses
    migrate.upgrade(
        urls["MIGRATION_DATABASE_URL"],
        app_url=urls["DATABASE_URL"],
        admin_url=urls["ADMIN_DATABASE_URL"],
    )
    owner = create_engine(urls["MIGRATION_DATABASE_URL"])
    with Session(owner) as session:
        present = session.scalar(select(func.count()).select_from(Actor))
    if present < actors:
        print(f"Loading {actors - present:,} synthetic actors ...", flush=True)
        with owner.raw_connection() as connection:
            load_rows(connection, generate(actors - present, present + 1))
            connection.commit()
        with owner.connect() as connection:
            connection.exec_driver_sql("ANALYZE actors")
            connection.commit()
    owner.dispose()
    app = create_engine(urls["DATABASE_URL"])
    headers = []
    with Session(app) as session:
        for index in range(clients):
            role = "moderator" if index < writers else "contributor"
            user = User(
                email=f"load-{uuid.uuid4().hex[:12]}@bench.example",
                display_name=f"Load {index}",
                password_hash="not-used",
                role=role,
                status="active",
            )
            session.add(user)
            session.flush()
            expires = datetime.now(UTC) + timedelta(hours=2)
            _, secret = issue_token(
                session, user, kind="session", name="load", key=SECRET_KEY, expires_at=expires
            )
            headers.append({"Authorization": f"Bearer {secret}"})
        sample = [str(i) for i in session.scalars(select(Actor.id).limit(500))]
        session.commit()
    app.dispose()
    return headers, sample


def stack(command: str, urls: dict, env_extra: dict) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": urls["DATABASE_URL"],
        "PEACEMAP_MIGRATION_DATABASE_URL": urls["MIGRATION_DATABASE_URL"],
        "PEACEMAP_SECRET_KEY": SECRET_KEY,
        "PEACEMAP_PROD_DIR": str(RUN),
        **env_extra,
    }
    subprocess.run([str(ROOT / "scripts/prod.sh"), command], env=env, check=True)


def reader_request(rng: random.Random, sample: list[str]) -> tuple[str, str]:
    choice = rng.random()
    if choice < 0.3:
        lon, lat = rng.choice(PLACES)
        return "search", f"/api/v1/actors?near={lon},{lat}&radius_km=200&limit=20"
    if choice < 0.45:
        return "search", f"/api/v1/actors?country={rng.choice(COUNTRIES)}&limit=20"
    if choice < 0.55:
        return "search", f"/api/v1/actors?q={rng.choice(['peace', 'youth', 'women', 'dialogue'])}"
    if choice < 0.75:
        return "read", f"/api/v1/actors/{rng.choice(sample)}"
    if choice < 0.9:
        lon, lat = rng.choice(PLACES)
        bbox = f"{lon - 1},{lat - 1},{lon + 1},{lat + 1}"
        return "ogc", f"/api/v1/ogc/collections/actors/items?bbox={bbox}&limit=50"
    z = 5
    x, y = rng.randrange(2**z), rng.randrange(2**z)
    return "tile", f"/api/v1/tiles/{z}/{x}/{y}.mvt"


def client(port, headers, sample, writer, stop, measuring, results, seed):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        if writer:
            kind, method, path = "write", "POST", "/api/v1/actors"
            lon, lat = rng.choice(PLACES)
            body = json.dumps(
                {
                    "kind": "organisation",
                    "name": f"Load test centre {uuid.uuid4().hex[:8]}",
                    "language": "en",
                    "location": {"type": "Point", "coordinates": [lon, lat]},
                    "status": "published",
                }
            )
            extra = {"Content-Type": "application/json"}
        else:
            (kind, path), method, body, extra = reader_request(rng, sample), "GET", None, {}
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers={**headers, **extra})
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = time.perf_counter() - started
        if measuring.is_set():
            results.append((kind, status, elapsed))
    connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--actors", type=int, default=50_000)
    args = parser.parse_args()

    offset = int(os.environ.get("PEACEMAP_PORT_OFFSET") or 0)
    port = int(os.environ.get("PEACEMAP_HTTP_PORT") or 58080 + offset)
    urls = database_urls()
    headers, sample = prepare(urls, args.actors, args.clients, args.writers)
    RUN.mkdir(parents=True, exist_ok=True)
    stack("start", urls, {})
    stop, measuring, results = threading.Event(), threading.Event(), []
    threads = [
        threading.Thread(
            target=client,
            args=(port, headers[i], sample, i < args.writers, stop, measuring, results, i),
            daemon=True,
        )
        for i in range(args.clients)
    ]
    try:
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)
        measuring.set()
        started = time.perf_counter()
        time.sleep(args.seconds)
        measuring.clear()
        measured = time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        stack("stop", urls, {})

    print(
        f"\n{args.clients} clients ({args.writers} writing), {measured:.0f} s measured after "
        f"{args.warmup:.0f} s warm-up, {args.actors:,} actors, nginx -> gunicorn "
        f"({os.environ.get('PEACEMAP_WORKERS', '2')} workers x "
        f"{os.environ.get('PEACEMAP_THREADS', '4')} threads)\n"
    )
    print(f"{'kind':<8}{'requests':>10}{'req/s':>9}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
    kinds = ["search", "read", "ogc", "tile", "write"]
    for kind in [*kinds, "all"]:
        rows = [r for r in results if kind in ("all", r[0])]
        if not rows:
            continue
        errors = sum(1 for _, status, _ in rows if not 200 <= status < 400)
        times = [elapsed * 1000 for _, _, elapsed in rows]
        print(
            f"{kind:<8}{len(rows):>10,}{len(rows) / measured:>9.1f}{errors:>8}"
            f"{statistics.median(times):>9.1f}{percentile(times, 0.99):>9.1f}"
        )
    errors = [status for _, status, _ in results if not 200 <= status < 400]
    rate = len(errors) / max(len(results), 1)
    by_status = {s: errors.count(s) for s in sorted(set(errors))}
    verdict = "met" if not errors else "NOT met"
    print(f"\nerror rate {rate:.4%} {by_status or ''}; bar (zero errors): {verdict}")


if __name__ == "__main__":
    main()
