"""A Peacemap served by gunicorn on a database of its own, for benchmarks through the HTTP
API: ``with BenchServer() as server: server.post(...)``.

The database is ``peacemap_bench`` on the project's PostgreSQL (``make db`` starts it;
DATABASE_URL and its companions, or PEACEMAP_PG_PORT / PEACEMAP_PORT_OFFSET, choose it as
for the app), created anew and migrated as the owner; the service connects as its
least-privileged role. gunicorn listens on a free port of the loopback.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import create_app, migrate  # noqa: E402
from api.accounts.models import User  # noqa: E402
from api.accounts.service import issue_token, set_membership  # noqa: E402
from api.actors.schemas import ActorCreateSchema  # noqa: E402
from api.actors.service import create_actor  # noqa: E402
from api.config import from_environment  # noqa: E402
from api.crypto import generate_key  # noqa: E402
from api.db import db  # noqa: E402
from api.principal import ANONYMOUS  # noqa: E402

SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnop"


DATABASE_URL_KEYS = ("DATABASE_URL", "MIGRATION_DATABASE_URL", "ADMIN_DATABASE_URL")
ENVIRONMENT_NAMES = {
    "DATABASE_URL": "DATABASE_URL",
    "MIGRATION_DATABASE_URL": "PEACEMAP_MIGRATION_DATABASE_URL",
    "ADMIN_DATABASE_URL": "PEACEMAP_ADMIN_DATABASE_URL",
}


def bench_database_urls() -> dict[str, str | None]:
    """The configuration's three roles' URLs, on the database ``peacemap_bench``."""
    config = from_environment()
    return {
        key: make_url(config[key])
        .set(database="peacemap_bench")
        .render_as_string(hide_password=False)
        if config[key]
        else None
        for key in DATABASE_URL_KEYS
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BenchServer:
    def __init__(self, *, workers: int = 1, timeout: int = 300) -> None:
        self.urls = bench_database_urls()
        self.url = self.urls["DATABASE_URL"]  # the service's role, least privileged
        self.workers, self.timeout = workers, timeout
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        # gunicorn's own messages, shown if it fails to start; closed in __exit__.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.headers: dict[str, str] = {}

    def __enter__(self) -> BenchServer:
        migrate.upgrade(
            self.urls["MIGRATION_DATABASE_URL"],
            app_url=self.url,
            admin_url=self.urls["ADMIN_DATABASE_URL"],
            recreate=True,
        )
        # Exact locations are sealed under a data key outside the database (api.crypto):
        # the set-up and the server share a new one.
        self.data_key = generate_key("bench")
        self.app = create_app({**self.urls, "SECRET_KEY": SECRET_KEY, "DATA_KEY": self.data_key})
        with self.app.app_context():
            actor = create_actor(
                db.session,
                ActorCreateSchema().load(
                    {
                        "kind": "organisation",
                        "name": "Benchmark Peace Platform",
                        "language": "en",
                        "location": {"type": "Point", "coordinates": [-11.19, 7.88]},
                        "status": "published",
                    }
                ),
            )
            user = User(
                email=f"bench-{uuid.uuid4().hex[:8]}@example.org",
                display_name="Benchmark",
                password_hash="!",  # never signs in: a token is issued directly
                role="contributor",
                status="active",
            )
            db.session.add(user)
            db.session.flush()
            set_membership(db.session, user, actor.id, "member", ANONYMOUS)
            _, secret = issue_token(
                db.session, user, key=SECRET_KEY, kind="personal", name="bench", expires_at=None
            )
            db.session.commit()
            self.actor_id = str(actor.id)
        self.headers = {"Authorization": f"Bearer {secret}"}
        env = {
            **os.environ,
            **{ENVIRONMENT_NAMES[k]: v for k, v in self.urls.items() if v},
            "PEACEMAP_SECRET_KEY": SECRET_KEY,
            "PEACEMAP_DATA_KEY": self.data_key,
            "PEACEMAP_RATELIMIT_ENABLED": "false",  # one client, many requests: by design
            "PEACEMAP_ENV": "production",
        }
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "--workers",
                str(self.workers),
                "--timeout",
                str(self.timeout),
                "--bind",
                f"127.0.0.1:{self.port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/api/v1/metrics/framework")
                return self
            except OSError:
                time.sleep(0.2)
        self.log.seek(0)
        raise RuntimeError("gunicorn did not start:\n" + self.log.read().decode(errors="replace"))

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()

    def request(self, method: str, path: str, body=None, headers=None):
        """(status, body bytes, seconds) of one request; ``body`` may be a file."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        started = time.perf_counter()
        connection.request(method, path, body=body, headers={**self.headers, **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        connection.close()
        return response.status, data, elapsed

    def create_project(self, title: str) -> str:
        body = json.dumps(
            {"actor_id": self.actor_id, "title": title, "countries": ["SL"], "status": "published"}
        )
        status, data, _ = self.request(
            "POST", "/api/v1/projects", body, {"Content-Type": "application/json"}
        )
        assert status == 201, data
        return json.loads(data)["id"]

    def _workers(self) -> list[str]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return children.read_text().split()

    def worker_peak_mb(self) -> float:
        """The highest peak resident memory of gunicorn's workers so far."""
        peaks = []
        for pid in self._workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks, default=0.0)

    def restart_workers(self) -> None:
        """Fresh workers (gunicorn reloads them on SIGHUP), to measure one workload's peak
        memory from a clean start: a worker keeps what its earlier requests made it grow."""
        old = set(self._workers())
        os.kill(self.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            workers = set(self._workers())
            if workers and not workers & old:
                try:
                    self.request("GET", "/api/v1/metrics/framework")
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not restart its workers")
