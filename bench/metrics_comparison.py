"""Benchmark: a comparison report over 10,000 projects, ten measures, three periods each,
in the library and through the HTTP API.

    .venv/bin/python bench/metrics_comparison.py [--projects 10000] [--repeat 3]
        [--api-projects 10000,100000]   (--api-projects 0: the library alone)

Prints the time and peak memory of metrics.compare (targets on the reference 2-core
machine: under 2 s and under 300 MB) and, as a baseline measured in the same run on the
same data, the time of one plain pass over the values (sum of the values), so the ratio
stays meaningful on a noisy, shared machine.

Then, in the same run, the API path: GET /api/v1/reports/comparison served by gunicorn
(one sync worker, bench/apiserver.py) over databases of 10,000 and 100,000 published
projects with the same shape (bars of issue 11: under 2 s and under 15 s), the worker's
peak memory, and a check that the API's scores equal the library's on the first size.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import time
import tracemalloc
from datetime import date

from apiserver import BenchServer
from sqlalchemy import create_engine, select, text

from metrics import Value, compare, default_framework

API_BARS = {10_000: 2.0, 100_000: 15.0}

PERIODS = (
    ("baseline", date(2024, 1, 1)),
    ("midline", date(2024, 12, 1)),
    ("endline", date(2025, 11, 1)),
)


def synthetic_projects(count: int, seed: int = 7):
    framework = default_framework()
    rng = random.Random(seed)
    projects = []
    for index in range(count):
        values = []
        for label, day in PERIODS:
            for measure in framework.measures.values():
                low, high = measure.goalposts
                value = (
                    rng.uniform(low, high)
                    if measure.transform == "linear"
                    else 10 ** rng.uniform(-1, 2)
                )
                size = rng.randint(100, 1000) if measure.survey else None
                values.append(Value(measure.key, label, day, day, value, size))
        projects.append((f"p{index}", f"Project {index}", values))
    return framework, projects


def load_projects(server, count: int, seed: float = 0.7) -> None:
    """``count`` published projects with ten measures x three periods, made by PostgreSQL
    (as the tables' owner, as a bulk load would be)."""
    framework = default_framework()
    measures = ", ".join(
        f"('{m.key}', {m.goalposts[0]}, {m.goalposts[1]}, {str(m.survey).lower()}, "
        f"'{m.pillar}', {str(m.transform == 'log').lower()})"
        for m in framework.measures.values()
    )
    periods = ", ".join(f"('{label}', date '{day.isoformat()}')" for label, day in PERIODS)
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
        connection.execute(
            text(
                f"""INSERT INTO indicator_values (project_id, measure, period, start_on, end_on,
                    value, sample_size, pillar)
                SELECT md5('project' || g)::uuid, m.key, p.label, p.day, p.day,
                    CASE WHEN m.log THEN power(10, -1 + 3 * random())
                         ELSE m.low + (m.high - m.low) * random() END,
                    CASE WHEN m.survey THEN 100 + floor(random() * 900)::int END, m.pillar
                FROM generate_series(1, :count) g
                CROSS JOIN (VALUES {measures}) m(key, low, high, survey, pillar, log)
                CROSS JOIN (VALUES {periods}) p(label, day)"""
            ),
            {"count": count},
        )
        connection.execute(text("ANALYZE projects; ANALYZE indicator_values"))
    engine.dispose()


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


def api_comparison(sizes: list[int], framework) -> None:
    with BenchServer() as server:
        for index, count in enumerate(sizes):
            load_projects(server, count)
            timings = []
            for _ in range(2):
                status, body, elapsed = server.request("GET", "/api/v1/reports/comparison")
                assert status == 200, body[:300]
                timings.append(elapsed)
            result = json.loads(body)
            assert len(result["projects"]) == count
            bar = API_BARS.get(count)
            best = min(timings)
            verdict = f"(target < {bar:g} s) -> {'OK' if best < bar else 'MISSED'}" if bar else ""
            print(
                f"API comparison, {count:,} projects: best {best:.2f} s of {len(timings)} "
                f"{verdict}; {len(body) / 1e6:.1f} MB of JSON"
            )
            if index == 0:
                projects = library_view(server)
                started = time.perf_counter()
                library = compare(framework, projects)
                elapsed = time.perf_counter() - started
                same = sorted(result["projects"], key=lambda p: p["project"]) == sorted(
                    library["projects"], key=lambda p: p["project"]
                )
                print(
                    f"  library on the same {count:,} projects: {elapsed:.2f} s; "
                    f"API/library {best / elapsed:.1f}x; same scores and positions: {same}"
                )
                del projects, library
        print(f"  gunicorn worker peak memory: {server.worker_peak_mb():.0f} MB")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--api-projects", default="10000,100000")
    args = parser.parse_args()
    api_sizes = [int(n) for n in args.api_projects.split(",") if int(n)]

    framework, projects = synthetic_projects(args.projects)
    baseline_times, compare_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        sum(v.value for _, _, values in projects for v in values)
        baseline_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = compare(framework, projects)
        compare_times.append(time.perf_counter() - started)
    tracemalloc.start()
    compare(framework, projects)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    best, base = min(compare_times), min(baseline_times)
    values = sum(len(v) for _, _, v in projects)
    print(f"projects: {len(result['projects']):,}  values: {values:,}")
    print(
        f"compare: best {best:.3f} s of {args.repeat} (target < 2 s)  -> "
        f"{'OK' if best < 2 else 'MISSED'}"
    )
    print(
        f"baseline (one pass over the values): {base:.3f} s  "
        f"ratio compare/baseline: {best / base:.1f}x"
    )
    print(
        f"peak memory: process {rss_mb:.0f} MB (target < 300 MB) -> "
        f"{'OK' if rss_mb < 300 else 'MISSED'}; "
        f"compare's own allocations {traced_peak / 2**20:.1f} MB"
    )
    del projects
    if api_sizes:
        api_comparison(api_sizes, framework)


if __name__ == "__main__":
    main()
