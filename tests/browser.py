"""Debian's headless Chromium driven from the command line, on an app served in a thread."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,700",
    "--virtual-time-budget=15000",
    "--run-all-compositor-stages-before-draw",
]


@contextmanager
def served(app) -> Iterator[str]:
    """The app on an ephemeral loopback port, for the length of the block; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def chromium(url: str, *action: str, flags=FLAGS) -> str:
    """Run Chromium once on ``url`` with a fresh profile (``--dump-dom`` or
    ``--screenshot=…``); returns what it printed."""
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *flags, f"--user-data-dir={profile}", *action, url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
