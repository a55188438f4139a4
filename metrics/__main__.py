"""python -m metrics report --framework FILE --data FILE.csv [--format json|csv]

Computes, offline, the same report the API gives for a project, from a framework file and
the CSV the bulk upload takes, so that anyone can reproduce a report without the server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from metrics.data import duplicates, read_csv
from metrics.export import report_csv
from metrics.framework import FrameworkError, default_framework, load_framework
from metrics.report import compute_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="compute a project's report")
    report.add_argument("--framework", type=Path, help="framework JSON (default: the shipped one)")
    report.add_argument("--data", type=Path, required=True, help="values CSV (as the bulk upload)")
    report.add_argument("--format", choices=("json", "csv"), default="json")
    report.add_argument(
        "--baseline", help="period label to compare from (default: baseline or the first)"
    )
    report.add_argument("--latest", help="period label to compare to (default: the last)")
    args = parser.parse_args(argv)

    try:
        framework = load_framework(args.framework) if args.framework else default_framework()
    except FrameworkError as exc:
        for problem in exc.problems:
            print(f"framework: {problem}", file=sys.stderr)
        return 2
    values, problems = [], []
    with args.data.open(newline="", encoding="utf-8") as handle:
        for line, value, row_problems in read_csv(framework, handle):
            problems += row_problems
            if value is not None:
                values.append((line, value))
    problems += duplicates(values)
    if problems:
        for p in problems:
            print(f"{args.data}:{p.line}: {p.column}: {p.reason}", file=sys.stderr)
        return 1
    try:
        result = compute_report(
            framework, [v for _, v in values], baseline=args.baseline, latest=args.latest
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    sys.stdout.write(
        report_csv(result) if args.format == "csv" else json.dumps(result, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
