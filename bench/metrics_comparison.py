"""Benchmark: a comparison report over 10,000 and 100,000 projects (ten measures, three
periods each) through the HTTP API in every format it serves, and the library on the
same data, in the same run.

    .venv/bin/python bench/metrics_comparison.py [--sizes 10000,100000] [--deep 30]

For each size, PostgreSQL is loaded with that many published projects (bench/apiserver.py:
gunicorn, one sync worker, production settings, its own database) and
``GET /api/v1/reports/comparison`` is timed in JSON, CSV, SVG and PNG (best of two) against
the bars of issue 11: under 2 s for 10,000 projects and under 15 s for 100,000. The
worker's peak resident memory is measured per workload (fresh workers for each).

Memory must not grow with the number of value rows: ``--deep N`` loads the first size
again with N periods per project (ten times the value rows for N = 30) and the worker's
peak must stay within 10% of the three-period one. The growth per project from the first
size to the second is printed too.

Then the library (``metrics.compare``) on the same projects read back as ``Value``
objects: its time (bar: 10,000 projects under 2 s), a one-pass baseline over the values
measured in the same run (the ratio stays meaningful on a noisy, shared machine), its own
allocations (tracemalloc), and a check that the API's projects, scores, intervals, rank
ranges and distribution equal the library's.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
import tracemalloc
from datetime import date, timedelta

from apiserver import BenchServer
from sqlalchemy import create_engine, select, text

from metrics import Value, compare, default_framework

API_BARS = {10_000: 2.0, 100_000: 15.0}
LIBRARY_BARS = {10_000: 2.0}
DEEP_MEMORY_RATIO = 1.10
FORMATS = ("json", "csv", "svg", "png")
TYPES = {"json": "application/json", "csv": "text/csv", "svg": "image/svg+xml", "png": "image/png"}


def periods(count: int) -> list[tuple[str, date]]:
    """``count`` periods, a month apart (three: baseline, midline, endline)."""
    if count == 3:
        return [
            ("baseline", date(2024, 1, 1)),
            ("midline", date(2024, 12, 1)),
            ("endline", date(2025, 11, 1)),
        ]
    return [(f"round-{i:02d}", date(2020, 1, 1) + timedelta(days=30 * i)) for i in range(count)]


def load_projects(server, count: int, period_count: int = 3, seed: float = 0.7) -> int:
    """``count`` published projects with ten measures per period, made by PostgreSQL (as
    the tables' owner, as a bulk load would be); returns the number of value rows."""
    framework = default_framework()
    measures = ", ".join(
        f"('{m.key}', {m.goalposts[0]}, {m.goalposts[1]}, {str(m.survey).lower()}, "
        f"'{m.pillar}', {str(m.transform == 'log').lower()})"
        for m in framework.measures.values()
    )
    days = ", ".join(
        f"('{label}', date '{day.isoformat()}')" for label, day in periods(period_count)
    )
    engine = create_engine(server.urls["MIGRATION_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE projects CASCADE"))
        connection.execute(text("SELECT setseed(:seed)"), {"seed": seed})
        connection.execute(
            text(
                "INSERT INTO projects (id, actor_id, title, countries, status) "
                "SELECT md5('project' || g)::uuid, :actor, 'Project ' || g, '{SL}', 'published' "
                "FROM generate_series(1, :count) g"
            ),
            {"actor": server.actor_id, "count": count},
        )
        rows = connection.execute(
            text(
                f"""INSERT INTO indicator_values (project_id, measure, period, start_on, end_on,
                    value, sample_size, pillar)
                SELECT md5('project' || g)::uuid, m.key, p.label, p.day, p.day,
                    CASE WHEN m.log THEN power(10, -1 + 3 * random())
                         ELSE m.low + (m.high - m.low) * random() END,
                    CASE WHEN m.survey THEN 100 + floor(random() * 900)::int END, m.pillar
                FROM generate_series(1, :count) g
                CROSS JOIN (VALUES {measures}) m(key, low, high, survey, pillar, log)
                CROSS JOIN (VALUES {days}) p(label, day)"""
            ),
            {"count": count},
        ).rowcount
        for table in ("projects", "indicator_values", "latest_totals"):
            connection.execute(text(f"ANALYZE {table}"))
    engine.dispose()
    return rows


def library_view(server) -> list:
    """The projects and values the API compares, read back for the library."""
    from api.projects.models import IndicatorValue, Project

    engine = create_engine(server.urls["MIGRATION_DATABASE_URL"])
    with engine.connect() as connection:
        titles = dict(connection.execute(select(Project.id, Project.title)).all())
        rows = connection.execute(
            select(
                IndicatorValue.project_id,
                IndicatorValue.measure,
                IndicatorValue.period,
                IndicatorValue.start_on,
                IndicatorValue.end_on,
                IndicatorValue.value,
                IndicatorValue.sample_size,
            ).order_by(IndicatorValue.project_id)
        )
        projects = [
            (
                str(project_id),
                titles[project_id],
                [Value(r[1], r[2], r[3], r[4], r[5], r[6]) for r in group],
            )
            for project_id, group in itertools.groupby(rows, key=lambda r: r[0])
        ]
    engine.dispose()
    return projects


def verdict(figure: float, bar: float | None, unit: str = "s") -> str:
    if bar is None:
        return "(no bar)"
    return f"(bar < {bar:g} {unit}) -> {'met' if figure < bar else 'NOT MET'}"


def api_formats(server, count: int) -> tuple[dict, float]:
    """Each format's best time of two; the JSON document; the worker's peak memory."""
    server.restart_workers()
    document = None
    for fmt in FORMATS:
        timings = []
        for _ in range(2):
            status, body, elapsed = server.request(
                "GET", f"/api/v1/reports/comparison?format={fmt}"
            )
            assert status == 200, body[:300]
            timings.append(elapsed)
        best = min(timings)
        print(
            f"  API {fmt:>4}: best {best:6.2f} s of 2 {verdict(best, API_BARS.get(count))}; "
            f"{len(body) / 1e6:.1f} MB; load {os.getloadavg()[0]:.1f}"
        )
        if fmt == "json":
            document = json.loads(body)
            assert len(document["projects"]) == count
        elif fmt == "csv":
            assert body.count(b"\n") == count + 1
    return document, server.worker_peak_mb()


def where_time_goes(server) -> None:
    """The API's work in this process, step by step (best of two): reading and scoring,
    then writing or drawing each format. What an API figure has beyond these is HTTP,
    gunicorn and the request's own pipeline."""
    from api.db import db
    from api.projects import service
    from metrics import charts
    from metrics.export import comparison_csv, comparison_json

    def best(work):
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            result = work()
            timings.append(time.perf_counter() - started)
        return min(timings), result

    def read_and_score():
        try:
            return service.comparison(db.session, {})
        finally:
            db.session.rollback()

    with server.app.app_context():
        seconds, comparison = best(read_and_score)
        steps = {"read and score": seconds}
        steps["write json"] = best(lambda: "".join(comparison_json(comparison)))[0]
        steps["write csv"] = best(lambda: "".join(comparison_csv(comparison)))[0]
        for fmt in ("svg", "png"):
            steps[f"draw {fmt}"] = best(lambda f=fmt: charts.comparison_chart(comparison, f))[0]
    print(
        "  in one process: "
        + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in steps.items())
        + f"; load {os.getloadavg()[0]:.1f}"
    )


def library(framework, projects, through_api: dict) -> None:
    count = len(projects)
    timings, baselines = [], []
    for _ in range(2):
        started = time.perf_counter()
        sum(v.value for _, _, values in projects for v in values)
        baselines.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = compare(framework, projects)
        timings.append(time.perf_counter() - started)
    tracemalloc.start()
    compare(framework, projects)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best, base = min(timings), min(baselines)
    print(
        f"  library compare: best {best:.2f} s of 2 {verdict(best, LIBRARY_BARS.get(count))}; "
        f"one-pass baseline {base:.3f} s, ratio {best / base:.0f}x; "
        f"its own allocations {traced_peak / 2**20:.0f} MB"
    )
    same = sorted(through_api["projects"], key=lambda p: p["project"]) == sorted(
        result["projects"], key=lambda p: p["project"]
    ) and (through_api["distribution"] == result["distribution"])
    print(f"  API equals the library (scores, intervals, rank ranges, distribution): {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--deep", type=int, default=30, help="periods of the deep run; 0: none")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    framework = default_framework()
    peaks = {}
    with BenchServer() as server:
        runs = [(count, 3) for count in sizes] + ([(sizes[0], args.deep)] if args.deep else [])
        for count, period_count in runs:
            started = time.perf_counter()
            rows = load_projects(server, count, period_count)
            print(
                f"{count:,} projects x {period_count} periods ({rows:,} value rows), "
                f"loaded in {time.perf_counter() - started:.0f} s:"
            )
            document, peaks[count, period_count] = api_formats(server, count)
            print(f"  gunicorn worker peak memory: {peaks[count, period_count]:.0f} MB")
            where_time_goes(server)
            if period_count == 3:
                projects = library_view(server)
                library(framework, projects, document)
                del projects
            del document
    first = sizes[0]
    if args.deep:
        ratio = peaks[first, args.deep] / peaks[first, 3]
        print(
            f"memory against value rows: {first:,} projects x {args.deep} periods peaked at "
            f"{ratio:.2f}x the 3-period run ({args.deep // 3}x the value rows) "
            f"{verdict(ratio, DEEP_MEMORY_RATIO, 'x')}"
        )
    for count in sizes[1:]:
        growth = (peaks[count, 3] - peaks[first, 3]) * 2**20 / (count - first)
        print(
            f"memory against projects: {first:,} -> {count:,} projects added "
            f"{peaks[count, 3] - peaks[first, 3]:.0f} MB, {growth:.0f} bytes per project "
            f"({growth / 30:.0f} per value row of the 3-period data)"
        )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
