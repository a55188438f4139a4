"""What no log line may carry (README, "What the logs keep"): coordinates, credentials
and contacts. ``make test`` greps every log its run wrote with these patterns: the app's
own lines (tests/artifacts/logs/pytest.log), every gunicorn and nginx the tests started,
and the PostgreSQL, Redis and replica servers' logs."""

from __future__ import annotations

import re
from pathlib import Path

from tests.servers import ROOT

# A search coordinate or a point to four or more decimals (about 11 m); timings in the
# logs have three decimals at most.
COORDINATE = r"(?<![\w.:])-?\d{1,3}\.\d{4,}(?![\d])"
FORBIDDEN = {
    "coordinate": re.compile(COORDINATE),
    "token": re.compile(r"\b(?:pm|whsec)_[A-Za-z0-9_\-+/=]{16,}"),
    "email address": re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
    "phone number": re.compile(r"\+\d{1,3}[ \-]?\d[\d \-]{6,}\d"),
}
SKIPPED_PARTS = {".venv", "node_modules", ".git", "bench"}
# The mail server's own log: addresses are what a mail server exists to handle.
MAIL_SERVER_LOGS = {".smtp"}


def log_sizes(root: Path = ROOT) -> dict[Path, int]:
    """Every *.log file under the checkout, with its size now: what a run writes after this
    is what it is judged on (a server's log outlives runs)."""
    sizes = {}
    for path in root.rglob("*.log"):
        if set(path.relative_to(root).parts) & (SKIPPED_PARTS | MAIL_SERVER_LOGS):
            continue
        try:
            if path.is_file():
                sizes[path] = path.stat().st_size
        except PermissionError:
            continue
    return sizes


def findings(before: dict[Path, int], root: Path = ROOT) -> list[str]:
    """One line per offending log line written since ``before`` (log_sizes at the start):
    file, line number, what it carries, never the value itself (this report may end up in
    a CI log). A log that shrank was started anew and is read whole."""
    found = []
    for path, size in log_sizes(root).items():
        start = before.get(path, 0)
        if size < start:  # started anew
            start = 0
        if size == start:
            continue
        with path.open("rb") as log:
            head = log.read(start)
            for number, line in enumerate(log, head.count(b"\n") + 1):
                text = line.decode(errors="replace")
                kinds = [kind for kind, pattern in FORBIDDEN.items() if pattern.search(text)]
                if kinds:
                    found.append(f"{path.relative_to(root)}:{number}: {', '.join(kinds)}")
    return found
