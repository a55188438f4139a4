"""CSV out: reports (one row per measure, theme and overall score per period, then changes),
comparisons (streamed, as is their JSON), and the one writer every CSV the service produces
goes through."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator

from metrics.comparison import ROWS_PER_CHUNK, Comparison

# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(cell):
    """The cell as text a spreadsheet shows rather than runs: text that starts like a
    formula gets a leading apostrophe (OWASP's advice); numbers, including negative ones
    and numbers written as text ("-3.5"), stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


class SafeWriter:
    """``csv.writer`` whose every cell goes through ``spreadsheet_safe``: the one way the
    service writes CSV (reports, comparisons, actor exports with their HXL row)."""

    def __init__(self, out) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable], *, text_columns: int | None = None) -> None:
        """With ``text_columns``, only that many first cells of a row may hold text: the
        others are numbers or blanks, written as they are (a comparison's figures)."""
        if text_columns is None:
            for row in rows:
                self.writerow(row)
            return
        self._writer.writerows(
            [*(spreadsheet_safe(cell) for cell in row[:text_columns]), *row[text_columns:]]
            for row in rows
        )


HEADER = (
    "section",
    "key",
    "period",
    "value",
    "score",
    "low",
    "high",
    "coverage",
    "direction",
    "note",
    "sample_size",
    "effective_sample_size",
    "p_value",
    "adjusted_p_value",
)


def report_csv(report: dict) -> str:
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(HEADER)
    for key, periods in report["measures"].items():
        for period, m in periods.items():
            low, high = m.get("score_interval") or ("", "")
            writer.writerow(
                (
                    "measure",
                    key,
                    period,
                    m["value"],
                    m["score"],
                    low,
                    high,
                    "",
                    "",
                    "",
                    m.get("sample_size", ""),
                    m.get("effective_sample_size", ""),
                )
            )
    for key, periods in report["themes"].items():
        for period, t in periods.items():
            low, high = t["interval"] or ("", "")
            writer.writerow(
                (
                    "theme",
                    key,
                    period,
                    "",
                    _blank(t["score"]),
                    low,
                    high,
                    t["coverage"]["ratio"],
                    "",
                    "",
                )
            )
    for period, overall in report["overall"].items():
        writer.writerow(
            (
                "overall",
                "overall",
                period,
                "",
                _blank(overall and overall["score"]),
                *((overall or {}).get("interval") or ("", "")),
                "",
                "",
                (overall or {}).get("withheld", ""),
            )
        )
    change = report.get("change") or {"measures": {}, "themes": {}}
    for key, c in change["measures"].items():
        low, high = c.get("interval_points") or ("", "")
        writer.writerow(
            (
                "change",
                key,
                f"{change['from']}->{change['to']}",
                c.get("difference_points", ""),
                c["score_change"],
                low,
                high,
                "",
                c["direction"],
                c.get("note", ""),
                "",
                "",
                c.get("p_value", ""),
                c.get("adjusted_p_value", ""),
            )
        )
    for key, c in change["themes"].items():
        if c:
            writer.writerow(
                (
                    "theme_change",
                    key,
                    f"{change['from']}->{change['to']}",
                    "",
                    _blank(c["score_change"]),
                    "",
                    "",
                    "",
                    c["direction"],
                    _coverage_note(c),
                )
            )
    return out.getvalue()


def comparison_csv(comparison: Comparison) -> Iterator[str]:
    """A comparison as CSV, one project per row, written a chunk of rows at a time straight
    from the figures: per theme its score, interval, rank range and coverage, blank where
    there is none (as ``rows`` has None)."""
    themes = list(comparison.distribution)
    per_theme = ("score", "low", "high", "rank_best", "rank_worst", "coverage")
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["project", "title", *[f"{t}_{c}" for t in themes for c in per_theme]])
    yield _drain(out)
    for begin, has_values, chunk in comparison.chunks():
        end = begin + len(has_values)
        columns = [comparison.ids[begin:end], comparison.titles[begin:end]]
        for key in themes:
            score, low, high, coverage, best, worst = chunk[key]
            columns += [
                [s if s == s else "" for s in score],
                [a if s == s else "" for s, a in zip(score, low, strict=True)],
                [b if s == s else "" for s, b in zip(score, high, strict=True)],
                [b or "" for b in best],
                [w if b else "" for b, w in zip(best, worst, strict=True)],
                [c if v else "" for v, c in zip(has_values, coverage, strict=True)],
            ]
        writer.writerows(zip(*columns, strict=True), text_columns=2)
        yield _drain(out)


def comparison_json(comparison: Comparison) -> Iterator[str]:
    """A comparison as one JSON object, its summary first and then the projects, written a
    chunk of rows at a time (the same document ``compare`` returns, in another key order)."""
    opening = json.dumps(comparison.header(), separators=(",", ":"))
    yield opening[:-1] + ',"projects":['
    chunk, separator = [], ""
    for row in comparison.json_rows():
        chunk.append(row)
        if len(chunk) == ROWS_PER_CHUNK:
            yield separator + ",".join(chunk)
            chunk, separator = [], ","
    yield (separator + ",".join(chunk) if chunk else "") + "]}"


def _drain(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def _coverage_note(change: dict) -> str:
    if not change.get("coverage_changed"):
        return ""
    only = [
        f"only in {side}: {', '.join(change[f'only_in_{side}'])}"
        for side in ("from", "to")
        if change[f"only_in_{side}"]
    ]
    return (
        "coverage changed ("
        + "; ".join(only)
        + "): compared on "
        + (", ".join(change["measures"]) or "no common measure")
    )


def _blank(value):
    return "" if value is None else value
