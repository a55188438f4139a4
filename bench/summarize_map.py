"""Turn bench/map_peers.sh's results.jsonl into a table with ratios to each peer and the
bars of the issue: bbox >= 2x the faster peer (p99 < 150 ms), item >= the faster peer,
world >= 20x the peers, tiles >= 2x tipg (p99 < 150 ms), no errors."""

import json
import sys
from collections import defaultdict
from pathlib import Path


def bar(scenario: str) -> tuple[float, float | None, tuple[str, ...]]:
    """(minimum ratio, p99 ceiling in ms, peers compared) for a scenario."""
    if scenario.startswith("tiles"):
        return 2.0, 150, ("tipg",)
    return {
        "bbox": (2.0, 150, ("pygeoapi", "tipg")),
        "world": (20.0, None, ("pygeoapi", "tipg")),
    }.get(scenario, (1.0, None, ("pygeoapi", "tipg")))


def errors(wrk: dict) -> int:
    return sum(wrk[k] for k in ("non2xx", "err_connect", "err_read", "err_write", "err_timeout"))


def main(path: str) -> None:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    by = defaultdict(dict)
    for row in rows:
        by[row["scenario"]][row["server"]] = row
    columns = ("scenario", "server", "req/s", "p50 ms", "p99 ms", "errors", "bytes/resp")
    print("| " + " | ".join((*columns, "x pygeoapi", "x tipg", "bar")) + " |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for scenario in sorted(by):
        servers = by[scenario]
        for name in ("peacemap", "pygeoapi", "tipg"):
            if name not in servers:
                continue
            w = servers[name]["wrk"]
            ratios, verdict = ["", ""], ""
            if name == "peacemap":
                for i, peer in enumerate(("pygeoapi", "tipg")):
                    if peer in servers:
                        ratios[i] = f"{w['rps'] / servers[peer]['wrk']['rps']:.2f}"
                want, ceiling, compared = bar(scenario)
                best = max(
                    (servers[p]["wrk"]["rps"] for p in compared if p in servers), default=None
                )
                met = (
                    best is not None
                    and w["rps"] >= want * best
                    and (ceiling is None or w["lat_p99_ms"] < ceiling)
                    and errors(w) == 0
                )
                limit = f", p99<{ceiling}" if ceiling else ""
                verdict = f"{'met' if met else 'MISSED'} (>={want}x{limit})"
            size = servers[name]["bytes_per_response"]
            print(
                f"| {scenario} | {name} | {w['rps']:.1f} | {w['lat_p50_ms']:.1f} "
                f"| {w['lat_p99_ms']:.1f} | {errors(w)} | {size:,} "
                f"| {ratios[0]} | {ratios[1]} | {verdict} |"
            )
    peak = max((r["peak_rss_mb"] for r in rows if r["server"] == "peacemap"), default=0)
    per_process = peak / 3
    print(f"\nPeacemap peak memory (master + 2 workers): {peak} MB, ~{per_process:.0f} MB each.")


if __name__ == "__main__":
    main(sys.argv[1])
