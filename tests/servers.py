"""Real servers for tests that need one: a throw-away PostgreSQL cluster they may stop and
freeze, gunicorn with the production settings, and a small HTTP client that records what
each request got and how long it took."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "tests" / "artifacts" / "logs"
BIN = Path(sys.executable).parent
OFFSET = int(os.environ.get("PEACEMAP_PORT_OFFSET") or 0)


class Cluster:
    """A PostgreSQL cluster of the tests' own, run by scripts/db.sh like the main one."""

    def __init__(self, data: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.data = data
        self.port = port
        self.env = env or {}  # more of scripts/db.sh's settings (WAL archiving)

    def _db_sh(self, *args: str) -> None:
        env = {
            **os.environ,
            "PEACEMAP_PG_DATA": str(self.data),
            "PEACEMAP_PG_PORT": str(self.port),
            "PEACEMAP_PG_FSYNC": "off",  # a stop or a freeze is not an OS crash
            **self.env,
        }
        subprocess.run(
            [str(ROOT / "scripts/db.sh"), *args], env=env, check=True, stdout=subprocess.DEVNULL
        )

    def start(self) -> None:
        self._db_sh("start")

    def stop(self, mode: str = "fast") -> None:
        self._db_sh("stop", mode)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def postmaster(self) -> int:
        return int((self.data.resolve() / "postmaster.pid").read_text().split()[0])

    @staticmethod
    def children(parent: int) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == parent:
                pids.append(int(stat.parent.name))
        return pids

    def freeze(self) -> list[int]:
        """SIGSTOP the postmaster (so it starts nothing new), then every process it started."""
        postmaster = self.postmaster()
        os.kill(postmaster, signal.SIGSTOP)
        frozen = [postmaster]
        for pid in self.children(postmaster):
            with contextlib.suppress(ProcessLookupError):  # a backend that just ended
                os.kill(pid, signal.SIGSTOP)
                frozen.append(pid)
        return frozen

    @staticmethod
    def thaw(pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def database_of_its_own(database_urls: dict, suffix: str) -> dict:
    """A database beside the tests' (``<name>_<suffix>``), set up like it (owner, app role)
    and migrated anew, for servers that must see committed data (which the other tests'
    rolled-back transactions never leave); its URLs, as ``database_urls``."""
    from sqlalchemy.engine import make_url

    from api import migrate

    def ours(url):
        if url is None:
            return None
        url = make_url(url)
        return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)

    urls = {key: ours(url) for key, url in database_urls.items()}
    migrate.upgrade(
        urls["MIGRATION_DATABASE_URL"],
        app_url=urls["DATABASE_URL"],
        admin_url=urls["ADMIN_DATABASE_URL"],
        recreate=True,
    )
    return urls


def moderator_headers(engine, key: str) -> dict[str, str]:
    """A moderator made straight in the database a server uses, and the Authorization header
    of a session token for it, hashed with ``key`` (the server's PEACEMAP_SECRET_KEY)."""
    from sqlalchemy.orm import Session

    from api.accounts.models import User
    from api.accounts.service import issue_token

    with Session(engine) as session:
        user = User(
            email=f"moderator-{uuid.uuid4().hex[:8]}@example.org",
            display_name="Test moderator",
            password_hash="not-used",
            role="moderator",
            status="active",
        )
        session.add(user)
        session.flush()
        expires = datetime.now(UTC) + timedelta(hours=1)
        _, secret = issue_token(
            session, user, kind="session", name="tests", key=key, expires_at=expires
        )
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def new_actor(name: str) -> dict:
    """A published actor's body for POST /api/v1/actors (by a moderator)."""
    return {
        "kind": "organisation",
        "name": name,
        "language": "en",
        "location": {"type": "Point", "coordinates": [-13.23, 8.48]},
        "status": "published",
    }


@dataclass
class Server:
    host: str
    port: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn(env: dict[str, str], *, timeout: float = 60) -> Iterator[Server]:
    """gunicorn with deploy/gunicorn.conf.py on an ephemeral port; yields when it answers."""
    # Kept with the run's other logs, which the run's end greps (tests/log_hygiene.py).
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log", dir=LOG_DIR)[1])
    command = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"), "wsgi:app"]
    env = {"PEACEMAP_BIND": "127.0.0.1:0", "PEACEMAP_WORKERS": "1", **env}
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not (found := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        server = Server("127.0.0.1", int(found.group(1)), log)
        while request(server, "GET", "/healthz").status != 200:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Outcome:
    method: str
    path: str
    status: int  # 0: no HTTP answer at all (connection refused, reset, timed out)
    seconds: float
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    tag: str = ""
    started: float = 0.0  # time.monotonic() when sent

    @property
    def ended(self) -> float:
        return self.started + self.seconds

    def json(self):
        return json.loads(self.body)


def request(server, method: str, path: str, body=None, headers=None, *, timeout=30, tag=""):
    started = time.monotonic()
    connection = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    payload = json.dumps(body).encode() if body is not None else None
    headers = {**({"Content-Type": "application/json"} if payload else {}), **(headers or {})}
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return Outcome(
            method,
            path,
            response.status,
            time.monotonic() - started,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            tag,
            started,
        )
    except (OSError, http.client.HTTPException):
        return Outcome(method, path, 0, time.monotonic() - started, tag=tag, started=started)
    finally:
        connection.close()


class Load:
    """Client threads that each repeat one kind of request until stopped."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def add(self, count: int, make_request, pause: float = 0.02) -> None:
        def run():
            while not self._stop.is_set():
                outcome = make_request()
                with self._lock:
                    self.outcomes.append(outcome)
                time.sleep(pause)

        self._threads += [threading.Thread(target=run, daemon=True) for _ in range(count)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class Receiver:
    """A webhook receiver on an ephemeral loopback port: records every POST and answers
    with the next status of ``answers`` (the last one repeats)."""

    def __init__(self, answers=(200,)) -> None:
        import http.server

        self.answers = list(answers)
        self.received: list[Received] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._arrived:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.answers[
                        min(len(receiver.received), len(receiver.answers)) - 1
                    ]
                    receiver._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/peacemap"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        """The first ``count`` deliveries, waiting for them up to ``timeout`` seconds."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            assert len(self.received) >= count, f"{len(self.received)} of {count} arrived"
            return self.received[:count]
