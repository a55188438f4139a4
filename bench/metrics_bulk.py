"""Benchmark: bulk upload of indicator values through the HTTP API.

    .venv/bin/python bench/metrics_bulk.py [--rows 10000,100000,500000]

Serves Peacemap with gunicorn (one sync worker) on a database of its own (see
bench/apiserver.py), posts a generated CSV of each size to a new project
(POST /api/v1/projects/{id}/values/bulk) and prints the time against the bars of issue 11
(100,000 rows under 10 s, 500,000 rows, about 50 MB, under 60 s), the worker's peak memory
and, as a baseline measured in the same run on the same file, PostgreSQL's own COPY of it
into a plain table (no validation), so the ratio stays meaningful on a noisy machine.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import psycopg2
from apiserver import BenchServer
from sqlalchemy.engine import make_url

from metrics import default_framework

BARS = {100_000: 10.0, 500_000: 60.0}
HEADER = "measure,period,start,end,value,sample_size,disaggregation,pillar,paired,source,note"


def write_csv(path: Path, rows: int, seed: int = 11) -> None:
    """``rows`` distinct values (measure x period) of the standard framework, about 95
    bytes a row, as an organisation's survey export would have them."""
    rng = random.Random(seed)
    measures = list(default_framework().measures.values())
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for index in range(rows):
            measure = measures[index % len(measures)]
            low, high = measure.goalposts
            value = rng.uniform(low, high) if measure.transform == "linear" else rng.uniform(1, 50)
            size = rng.randint(100, 1000) if measure.survey else ""
            period = f"wave-{index // len(measures):06d}"
            out.write(
                f"{measure.key},{period},2024-01-01,2024-03-31,{value:.3f},{size},,,false,"
                f"Household survey {index % 9},\n"
            )


def copy_baseline(url: str, path: Path) -> float:
    """Seconds for PostgreSQL to COPY the same file into a plain table."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE baseline ("
            + ", ".join(f'"{c}" text' for c in HEADER.split(","))
            + ")"
        )
        started = time.perf_counter()
        with path.open(encoding="utf-8") as handle:
            cursor.copy_expert("COPY baseline FROM STDIN WITH (FORMAT csv, HEADER)", handle)
        elapsed = time.perf_counter() - started
        connection.rollback()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000,500000")
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]

    with tempfile.TemporaryDirectory() as folder, BenchServer() as server:
        print(f"{'rows':>9} {'MB':>6} {'API s':>7} {'rows/s':>9} {'COPY s':>7} {'ratio':>6}  bar")
        for rows in sizes:
            path = Path(folder) / f"values-{rows}.csv"
            write_csv(path, rows)
            size = path.stat().st_size
            project = server.create_project(f"Bulk {rows:,}")
            with path.open("rb") as body:
                status, data, elapsed = server.request(
                    "POST",
                    f"/api/v1/projects/{project}/values/bulk",
                    body,
                    {"Content-Type": "text/csv", "Content-Length": str(size)},
                )
            assert status == 201, data[:500]
            baseline = copy_baseline(server.url, path)
            bar = BARS.get(rows)
            verdict = f"< {bar:g} s -> {'OK' if elapsed < bar else 'MISSED'}" if bar else "(no bar)"
            print(
                f"{rows:>9,} {size / 1e6:>6.1f} {elapsed:>7.2f} {rows / elapsed:>9,.0f} "
                f"{baseline:>7.2f} {elapsed / baseline:>5.1f}x  {verdict}"
            )
        print(f"gunicorn worker peak memory: {server.worker_peak_mb():.0f} MB")
        print(
            f"load average (1, 5, 15 min) at the end: {os.getloadavg()} on {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
