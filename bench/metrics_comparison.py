"""Benchmark: a comparison report over 10,000 projects, ten measures, three periods each.

    .venv/bin/python bench/metrics_comparison.py [--projects 10000] [--repeat 3]

Prints the time and peak memory of metrics.compare (targets on the reference 2-core
machine: under 2 s and under 300 MB) and, as a baseline measured in the same run on the
same data, the time of one plain pass over the values (sum of the values), so the ratio
stays meaningful on a noisy, shared machine.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
import tracemalloc
from datetime import date

from metrics import Value, compare, default_framework

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
