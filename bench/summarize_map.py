"""Turn bench/map_peers.sh's results.jsonl into a table with every bar, met or not.

    python bench/summarize_map.py RESULTS_JSONL
    python bench/summarize_map.py --pgbench SCENARIO PGBENCH_DIR   # one results.jsonl row

Bars (issue 14, on the 2-core machine, same run, no cache in front): bbox items >= 120
req/s with p99 < 150 ms; single item >= 1,000 req/s; world (limit 1000) >= 170 req/s;
tiles >= 2x tipg where tipg ran, with p99 < 150 ms; each list query (and the changes feed)
p50 < 50 ms and p99 < 150 ms; every scenario within 2x of its raw-SQL ceiling (req/s at
least half of what pgbench does with the same statements); no errors. The earlier peer
bars stay: bbox >= 2x the faster peer, world >= 20x, item >= the faster peer.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

PEERS = ("pygeoapi", "tipg")
CEILING_FRACTION = 0.5  # "within 2x of the raw-SQL ceiling"


def bars(scenario: str, w: dict, servers: dict) -> list[tuple[str, bool | None]]:
    """(bar, met) for Peacemap's figures in a scenario; met is None when not measured."""

    def rps_of(peer):
        return servers[peer]["wrk"]["rps"] if peer in servers else None

    def at_least(ratio, peers):
        best = max((r for r in map(rps_of, peers) if r), default=None)
        return None if best is None else w["rps"] >= ratio * best

    if not w.get("requests"):  # nothing answered in the whole run: no latency to speak of
        return [("any answer", False)]
    p50, p99, rps = w["lat_p50_ms"], w["lat_p99_ms"], w["rps"]
    found = []
    if scenario == "bbox":
        found += [(">=120 req/s", rps >= 120), ("p99<150", p99 < 150)]
        found += [(">=2x peers", at_least(2.0, PEERS))]
    elif scenario == "item":
        found += [(">=1000 req/s", rps >= 1000), (">=1x peers", at_least(1.0, PEERS))]
    elif scenario == "world":
        found += [(">=170 req/s", rps >= 170), (">=20x peers", at_least(20.0, PEERS))]
    elif scenario.startswith("tiles"):
        found += [("p99<150", p99 < 150), (">=2x tipg", at_least(2.0, ("tipg",)))]
    elif scenario.startswith("list") or scenario == "changes_feed":
        found += [("p50<50", p50 < 50), ("p99<150", p99 < 150)]
    if "sql" in servers:
        found.append(("<=2x SQL", rps >= CEILING_FRACTION * servers["sql"]["wrk"]["rps"]))
    found.append(("no errors", errors(w) == 0))
    return found


def errors(wrk: dict) -> int:
    kinds = ("non2xx", "err_connect", "err_read", "err_write", "err_timeout")
    return sum(wrk.get(k, 0) for k in kinds)


def pgbench_row(scenario: str, folder: str) -> dict:
    """pgbench's per-transaction logs (-l) as a wrk-like row: rate and latency percentiles."""
    report = Path(folder, "pgbench.txt").read_text()
    latencies, failed = [], 0
    for log in Path(folder).glob("pgbench_log.*"):
        for line in log.read_text().splitlines():
            field = line.split()[2]
            if field.isdigit():
                latencies.append(int(field) / 1000)
            else:
                failed += 1
    tps = re.search(r"tps = ([\d.]+)", report)
    aborted = len(re.findall(r"aborted", report))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "server": "sql",
        "scenario": scenario,
        "bytes_per_response": 0,
        "peak_rss_mb": 0,
        "wrk": {
            "requests": len(latencies),
            "rps": float(tps.group(1)) if tps else 0.0,
            "lat_p50_ms": cuts[49],
            "lat_p99_ms": cuts[98],
            "err_read": failed + aborted,
        },
    }


def main(path: str) -> None:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    by = defaultdict(dict)
    for row in rows:
        by[row["scenario"]][row["server"]] = row
    columns = ("scenario", "server", "req/s", "p50 ms", "p99 ms", "errors", "bytes/resp")
    print("| " + " | ".join((*columns, "x pygeoapi", "x tipg", "x SQL", "bars")) + " |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    missed = []
    for scenario in sorted(by):
        servers = by[scenario]
        for name in ("peacemap", *PEERS, "sql"):
            if name not in servers:
                continue
            w = servers[name]["wrk"]
            ratios, verdict = ["", "", ""], ""
            if name == "peacemap":
                for i, other in enumerate((*PEERS, "sql")):
                    if other in servers and servers[other]["wrk"]["rps"]:
                        ratios[i] = f"{w['rps'] / servers[other]['wrk']['rps']:.2f}"
                checks = bars(scenario, w, servers)
                verdict = ", ".join(
                    f"{label} {'n/a' if met is None else 'met' if met else 'NOT MET'}"
                    for label, met in checks
                )
                missed += [f"{scenario}: {label}" for label, met in checks if met is False]
            label = "SQL ceiling (pgbench)" if name == "sql" else name
            size = servers[name]["bytes_per_response"]
            print(
                f"| {scenario} | {label} | {w['rps']:.1f} | {w['lat_p50_ms']:.1f} "
                f"| {w['lat_p99_ms']:.1f} | {errors(w)} | {size:,} "
                f"| {ratios[0]} | {ratios[1]} | {ratios[2]} | {verdict} |"
            )
    peak = max((r["peak_rss_mb"] for r in rows if r["server"] == "peacemap"), default=0)
    print(f"\nPeacemap peak memory (master + 2 workers): {peak} MB, ~{peak / 3:.0f} MB each.")
    print(f"Bars not met: {len(missed)}" + "".join(f"\n- {m}" for m in missed))


if __name__ == "__main__":
    if sys.argv[1] == "--pgbench":
        print(json.dumps(pgbench_row(sys.argv[2], sys.argv[3])))
    else:
        main(sys.argv[1])
