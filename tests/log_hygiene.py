"""What no log line may carry (README, "What the logs keep"): coordinates, credentials
and contacts. ``make test`` greps every log its run wrote with these patterns: the app's
own lines (tests/artifacts/logs/pytest.log), every gunicorn and nginx the tests started,
and the PostgreSQL, Redis and replica servers' logs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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


def logs_written_since(moment: float, root: Path = ROOT) -> Iterator[Path]:
    """Every *.log file under the checkout that was written to after ``moment``."""
    for path in root.rglob("*.log"):
        parts = set(path.relative_to(root).parts)
        if parts & (SKIPPED_PARTS | MAIL_SERVER_LOGS):
            continue
        try:
            if path.is_file() and path.stat().st_mtime >= moment:
                yield path
        except PermissionError:
            continue


def findings(paths: Iterable[Path]) -> list[str]:
    """One line per offending log line: file, line number, what it carries (never the
    value itself: this report may end up in a CI log)."""
    found = []
    for path in paths:
        with path.open(errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                kinds = [kind for kind, pattern in FORBIDDEN.items() if pattern.search(line)]
                if kinds:
                    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    found.append(f"{where}:{number}: {', '.join(kinds)}")
    return found
