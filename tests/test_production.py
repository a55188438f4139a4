"""The production-shaped stack (scripts/prod.sh: nginx in front of gunicorn), started as
the README says and attacked as hostile or unlucky clients would: hundreds of slow
clients, oversized and malformed requests, and a long export read over a slow link."""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest
from sqlalchemy import create_engine

from seeds.bulk import load_rows
from seeds.synthetic import generate
from tests.conftest import DATA_KEY
from tests.servers import ROOT, Server, database_of_its_own, moderator_headers, request

RUN = ROOT / ".prod-test"  # under the checkout: nginx's unprivileged user must reach it
EXPORT_ACTORS = 20_000
WORKER_TIMEOUT_S = 3
CACHE_SECONDS = 2  # PEACEMAP_PUBLIC_CACHE_SECONDS: how long the proxy keeps public answers
STACK_SECRET_KEY = "production-test-secret-0123456789abcdefghij"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def database(database_urls):
    """A database of the stack's own, with the actors its export streams."""
    urls = database_of_its_own(database_urls, "prod")
    engine = create_engine(urls["MIGRATION_DATABASE_URL"])
    with engine.raw_connection() as connection:
        load_rows(connection, generate(EXPORT_ACTORS, 7))
        connection.commit()
    engine.dispose()
    return urls


@pytest.fixture(scope="module")
def stack(database):
    run = RUN
    http_port, gunicorn_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database["DATABASE_URL"],
        "PEACEMAP_MIGRATION_DATABASE_URL": database["MIGRATION_DATABASE_URL"],
        "PEACEMAP_SECRET_KEY": STACK_SECRET_KEY,
        "PEACEMAP_PUBLIC_CACHE_SECONDS": str(CACHE_SECONDS),
        "PEACEMAP_DATA_KEY": DATA_KEY,  # the key the test run sealed its rows with
        "PEACEMAP_PROD_DIR": str(run),
        "PEACEMAP_HTTP_PORT": str(http_port),
        "PEACEMAP_GUNICORN_PORT": str(gunicorn_port),
        "PEACEMAP_WORKERS": "1",
        "PEACEMAP_THREADS": "4",
        # Far shorter than the export takes to read: worker timeouts must fit streaming.
        "PEACEMAP_WORKER_TIMEOUT": str(WORKER_TIMEOUT_S),
    }
    script = str(ROOT / "scripts/prod.sh")
    subprocess.run([script, "start"], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        yield Server("127.0.0.1", http_port, run / "gunicorn.log"), gunicorn_port
    finally:
        subprocess.run([script, "stop"], env=env, check=True, stdout=subprocess.DEVNULL)
    assert subprocess.run([script, "status"], env=env, stdout=subprocess.DEVNULL).returncode == 3


def _raw(server, data: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection((server.host, server.port), timeout=15) as sock:
        sock.sendall(data)
        received = b""
        # nginx may reset the connection after its answer (a body it will not read).
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_the_stack_serves_through_nginx_and_is_ready(stack):
    server, _ = stack
    ready = request(server, "GET", "/readyz")
    assert ready.status == 200
    assert ready.headers["server"] == "nginx"
    page = request(server, "GET", "/api/v1/actors?limit=3")
    assert page.status == 200
    assert page.json()["count"] == 3


def test_the_logs_place_nobody(stack):
    """Neither nginx's access log nor gunicorn's keeps search coordinates or tile x/y."""
    server, _ = stack
    assert request(server, "GET", "/api/v1/actors?near=36.8219,-1.2921&radius_km=5").status == 200
    assert request(server, "GET", "/api/v1/tiles/14/9876/8123.mvt").status in (200, 204)
    time.sleep(0.5)  # gunicorn's log is written by its worker
    for log in ("nginx-access.log", "gunicorn-access.log"):
        text = (RUN / log).read_text()
        assert "/api/v1/tiles/14/" in text
        assert "36.8219" not in text
        # Tile x and y nowhere (word bounds: request ids are hex and may hold the digits).
        assert not re.search(r"\b(9876|8123)\b", text)


def test_one_request_id_from_nginx_into_the_app_logs(stack):
    """nginx names each request ($request_id), the app keeps that id, and both logs carry
    it: an operator follows one request from the proxy's log into the app's."""
    server, _ = stack
    answer = request(server, "GET", "/api/v1/actors?limit=1&kind=network")
    request_id = answer.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    time.sleep(0.5)  # gunicorn's log is written by its worker
    assert request_id in (RUN / "nginx-access.log").read_text()
    app_lines = [
        json.loads(line)
        for line in (RUN / "gunicorn-access.log").read_text().splitlines()
        if request_id in line
    ]
    assert [line["request_id"] for line in app_lines] == [request_id]
    refused = request(server, "GET", "/api/v1/" + "x" * 9000)  # refused by nginx itself
    assert refused.status == 414 and re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])


def test_the_proxy_keeps_public_answers_and_a_hidden_actor_leaves_it_within_the_bound(
    stack, database
):
    """Public tiles and list pages are served from nginx's cache; a moderator hides an
    actor, and within PEACEMAP_PUBLIC_CACHE_SECONDS no reader gets it from the cache."""
    server, _ = stack
    listed = request(server, "GET", "/api/v1/actors?limit=1&sort=name&f=geojson")
    actor = listed.json()["features"][0]
    lon, lat = actor["geometry"]["coordinates"]
    z = 12
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    public = {
        "list": f"/api/v1/actors?q={urllib.parse.quote(actor['properties']['name'])}",
        "tile": f"/api/v1/tiles/{z}/{x}/{y}.mvt",
    }
    for path in public.values():
        first, second = request(server, "GET", path), request(server, "GET", path)
        assert first.status == second.status == 200, (path, first.status)
        assert second.headers["x-cache"] == "HIT", (path, second.headers)
        assert second.headers["cache-control"] == f"public, max-age={CACHE_SECONDS}"
        assert second.body == first.body
    engine = create_engine(database["DATABASE_URL"])
    signed_in = moderator_headers(engine, STACK_SECRET_KEY)
    engine.dispose()
    # Credentials and cookies go past the cache, both ways.
    for headers in (signed_in, {"Cookie": "peacemap_lsn=0/1"}):
        mine = request(server, "GET", public["list"], None, headers)
        assert mine.headers["x-cache"] == "BYPASS" and "private" in mine.headers["cache-control"]
    before = {name: request(server, "GET", path).body for name, path in public.items()}
    hidden = request(
        server,
        "POST",
        f"/api/v1/moderation/items/actor/{actor['id']}/hide",
        {"reason": "Endangers its members where they meet."},
        signed_in,
    )
    assert hidden.status == 204, hidden.body
    try:
        time.sleep(CACHE_SECONDS + 1)
        after = {name: request(server, "GET", path) for name, path in public.items()}
    finally:  # the other tests of the stack count every actor
        shown = request(
            server,
            "POST",
            f"/api/v1/moderation/items/actor/{actor['id']}/unhide",
            {"reason": "Reviewed: safe to show again."},
            signed_in,
        )
        assert shown.status == 204, shown.body
    assert after["list"].status == 200 and actor["id"].encode() not in after["list"].body
    assert after["tile"].status in (200, 204) and actor["id"].encode() not in after["tile"].body
    assert after["tile"].body != before["tile"], "the tile changed once the actor was hidden"


def test_the_host_is_part_of_the_cache_key(stack):
    """The app writes absolute links from the Host: a request with a forged Host must
    not fill the cache that other readers are served from."""
    server, _ = stack
    path = "/api/v1/ogc/collections/actors/items?limit=1&bbox=-20,-40,60,40"
    forged = request(server, "GET", path, None, {"Host": "attacker.example"})
    assert forged.status == 200 and b"attacker.example" in forged.body
    honest = request(server, "GET", path)
    assert honest.status == 200 and b"attacker.example" not in honest.body


def _trickle(sockets: list[socket.socket], stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        for sock in sockets:
            with contextlib.suppress(OSError):  # nginx may drop it: then it is done
                sock.send(b"a")


def test_hundreds_of_slow_clients_delay_nobody(stack):
    """300 connections send a byte every two seconds: 150 still in their headers, 150 in a
    body they announced. nginx holds them all; gunicorn's 4 threads never see them."""
    server, _ = stack
    attackers = []
    for index in range(300):
        sock = socket.create_connection((server.host, server.port), timeout=10)
        if index % 2:
            sock.sendall(b"GET /api/v1/actors HTTP/1.1\r\nHost: peacemap\r\nX-Slow: ")
        else:
            sock.sendall(
                b"POST /api/v1/contributions HTTP/1.1\r\nHost: peacemap\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
        attackers.append(sock)
    stop = threading.Event()
    trickler = threading.Thread(target=_trickle, args=(attackers, stop, 2.0), daemon=True)
    trickler.start()
    try:
        outcomes = []
        started = time.monotonic()
        while time.monotonic() - started < 8:
            outcomes.append(request(server, "GET", "/api/v1/actors?limit=5", timeout=10))
            time.sleep(0.1)
    finally:
        stop.set()
        trickler.join()
        for sock in attackers:
            sock.close()
    assert len(outcomes) > 10
    assert {o.status for o in outcomes} == {200}
    assert max(o.seconds for o in outcomes) < 2.0, sorted(o.seconds for o in outcomes)[-3:]


def test_slow_clients_would_block_gunicorn_alone(stack):
    """The control: the same attack straight at gunicorn takes all its threads, which is
    why it only ever listens behind nginx."""
    _, gunicorn_port = stack
    direct = Server("127.0.0.1", gunicorn_port, ROOT)
    attackers = []
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", gunicorn_port), timeout=10)
        sock.sendall(b"GET /api/v1/actors HTTP/1.1\r\nHost: peacemap\r\nX-Slow: ")
        attackers.append(sock)
    try:
        time.sleep(0.5)
        blocked = request(direct, "GET", "/healthz", timeout=3)
    finally:
        for sock in attackers:
            sock.close()
    assert blocked.status == 0  # no answer within 3 s


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /api/v1/actors?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: p\r\n\r\n", 414),
        (b"GET /api/v1/actors HTTP/1.1\r\nHost: p\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n", 431),
        (
            b"POST /api/v1/contributions HTTP/1.1\r\nHost: p\r\nContent-Type: application/json"
            b"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            400,
        ),
        (
            b"POST /api/v1/projects/1/values/bulk HTTP/1.1\r\nHost: p\r\nContent-Type: text/csv"
            b"\r\nContent-Length: 900000000\r\n\r\n",
            413,
        ),
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
    ],
    ids=["request-line-too-long", "headers-too-large", "bad-chunking", "body-too-large", "garbage"],
)
def test_errors_of_the_proxy_itself_are_problem_json(stack, raw, status):
    server, _ = stack
    got, headers, body = _raw(server, raw)
    assert got == status
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]


def test_every_error_page_of_the_proxy_is_a_problem():
    pages = sorted((ROOT / "deploy/problems").glob("*.json"))
    assert {page.stem for page in pages} >= {"400", "408", "413", "414", "431", "502", "504"}
    for page in pages:
        problem = json.loads(page.read_text())
        assert problem["status"] == int(page.stem)
        assert set(problem) == {"type", "title", "status", "detail"}


def _read_slowly(host: str, port: int, path: str, *, chunk: int, pause: float) -> bytes:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 200
    received = bytearray()
    while data := response.read(chunk):
        received += data
        time.sleep(pause)
    connection.close()
    return bytes(received)


@pytest.mark.parametrize("through", ["nginx", "gunicorn"])
def test_a_long_export_completes_on_a_slow_link(stack, through):
    """20,000 actors read at about 1 MB/s take longer than the worker timeout, through the
    proxy and straight from gunicorn (whose gthread workers are not killed mid-stream)."""
    server, gunicorn_port = stack
    port = server.port if through == "nginx" else gunicorn_port
    started = time.monotonic()
    body = _read_slowly(
        "127.0.0.1", port, "/api/v1/actors/export?format=geojsonl", chunk=32_768, pause=0.03
    )
    elapsed = time.monotonic() - started
    lines = body.decode().splitlines()
    assert len(lines) == EXPORT_ACTORS
    assert json.loads(lines[-1])["type"] == "Feature"
    assert elapsed > WORKER_TIMEOUT_S
