"""Peace metrics: framework documents in, scores out. No Flask, no database.

    from metrics import default_framework, load_framework, compute_report, compare, Value
    framework = load_framework("my-framework.json")   # or default_framework()
    report = compute_report(framework, values)         # values: Value(...) per measure/period

See METHODOLOGY.md for the method and ``python -m metrics report --help`` for the command.
"""

from metrics.comparison import compare
from metrics.framework import (
    Framework,
    FrameworkError,
    Measure,
    Theme,
    default_framework,
    load_framework,
)
from metrics.report import Value, compute_report

__all__ = [
    "Framework",
    "FrameworkError",
    "Measure",
    "Theme",
    "Value",
    "compare",
    "compute_report",
    "default_framework",
    "load_framework",
]
