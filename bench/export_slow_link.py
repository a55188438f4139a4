"""A whole-map export read over a slow link, through the production stack.

    scripts/prod.sh start            # nginx in front of gunicorn, on the local database
    .venv/bin/python bench/export_slow_link.py --expect 1000000 --rate-kb 2000

Reads ``/api/v1/actors/export?format=geojsonl`` as a phone would (gzip accepted) at no more
than ``--rate-kb`` KB/s on the wire, decompresses as it goes and counts the features. The bar
is completion: every public actor arrives and the stream ends with a whole feature, however
long the transfer outlasts the worker timeout. Prints what it measured against that bar.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time
import zlib


def read_slowly(host: str, port: int, path: str, rate_kb: float) -> dict:
    connection = http.client.HTTPConnection(host, port, timeout=120)
    connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = connection.getresponse()
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status} {response.read()[:300]!r}")
    gzipped = response.getheader("Content-Encoding") == "gzip"
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    chunk = 16_384
    wire = lines = 0
    tail = b""
    started = time.monotonic()
    while block := response.read(chunk):
        wire += len(block)
        data = inflate.decompress(block) if inflate else block
        lines += data.count(b"\n")
        tail = (tail + data)[-65_536:]
        # Keep to the link's rate: sleep until this many bytes would have arrived.
        ahead = wire / (rate_kb * 1000) - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    if inflate:
        tail = (tail + inflate.flush())[-65_536:]
    elapsed = time.monotonic() - started
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return {
        "seconds": elapsed,
        "wire_bytes": wire,
        "gzip": gzipped,
        "lines": lines,
        "last_is_feature": json.loads(last).get("type") == "Feature",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    offset = int(os.environ.get("PEACEMAP_PORT_OFFSET", "0"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=58080 + offset, help="nginx of prod.sh")
    parser.add_argument("--expect", type=int, required=True, help="public actors in the map")
    parser.add_argument("--rate-kb", type=float, default=2000, help="link speed, KB/s")
    args = parser.parse_args()
    result = read_slowly(
        args.host, args.port, "/api/v1/actors/export?format=geojsonl", args.rate_kb
    )
    complete = result["lines"] == args.expect and result["last_is_feature"]
    print(
        f"export of {args.expect:,} actors at <= {args.rate_kb:,.0f} KB/s: "
        f"{result['lines']:,} features, {result['wire_bytes'] / 1e6:,.1f} MB on the wire "
        f"(gzip: {result['gzip']}), {result['seconds']:,.0f} s "
        f"({result['wire_bytes'] / 1e3 / result['seconds']:,.0f} KB/s)"
    )
    print(
        f"bar: the whole export arrives, ending with a whole feature: "
        f"{'met' if complete else 'NOT MET'}"
    )
    raise SystemExit(0 if complete else 1)


if __name__ == "__main__":
    main()
