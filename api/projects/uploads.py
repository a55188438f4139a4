"""Upload bodies of every format as raw rows, (line, row, problems with the file's shape),
for the one validation path of values (``metrics.data.value_from_row``): CSV, NDJSON, a
JSON array and an XLSX workbook. Each is read as a stream, so memory stays flat whatever
the upload's size (a workbook goes through a spooled temporary file: zip needs to seek)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

import openpyxl

from metrics.data import COLUMNS, TEXT_COLUMNS, Problem, csv_rows, header_problems

CSV = "text/csv"
NDJSON = "application/x-ndjson"
JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = (JSON, NDJSON, CSV, XLSX)

MAX_LINE_CHARS = 131_072  # an NDJSON line, as the CSV reader's limit for one field
# A workbook is a zip: refuse one that would unpack to more than this (a zip bomb).
MAX_XLSX_UNPACKED_BYTES = 500_000_000

Rows = Iterator[tuple[int, dict | None, list[Problem]]]


def rows_of(body: io.RawIOBase, mimetype: str) -> Rows:
    """The raw rows of an upload body of one of FORMATS."""
    if mimetype == CSV:
        return csv_rows(_text(body))
    if mimetype == NDJSON:
        return _ndjson_rows(_text(body))
    if mimetype == XLSX:
        return _xlsx_rows(body)
    return _json_rows(body)


def _text(body) -> io.TextIOWrapper:
    # utf-8-sig takes Excel's "CSV UTF-8" BOM; bytes that are not UTF-8 become lone
    # surrogates, which the validation names per cell rather than failing the whole file.
    return io.TextIOWrapper(body, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _ndjson_rows(lines) -> Rows:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if len(text) > MAX_LINE_CHARS:
            yield number, None, [Problem(number, "line", f"is over {MAX_LINE_CHARS:,} characters")]
            continue
        try:
            item = json.loads(text)
        except (ValueError, RecursionError):
            yield number, None, [Problem(number, "line", "is not valid JSON")]
            continue
        yield _item(number, item)


def _item(number: int, item) -> tuple[int, dict | None, list[Problem]]:
    if not isinstance(item, dict):
        return number, None, [Problem(number, "item", "must be a JSON object")]
    return number, item, []


def _json_rows(body) -> Rows:
    """Items of a JSON array, decoded one at a time from a sliding window of the body:
    never the whole body at once. (ijson's C parser was tried: an integer of 5,000 digits
    crashes the process.)"""
    window = _Window(_text(body))
    if window.next_char() != "[":
        yield 1, None, [Problem(1, "body", "must be a JSON array of values")]
        return
    window.at += 1
    number = 0
    following = window.next_char()
    if following == "]":
        window.at += 1
    while following != "]":
        number += 1
        item, ok = window.decode()
        if not ok:
            yield number, None, [Problem(number, "item", "is not valid JSON")]
            return
        yield _item(number, item)
        following = window.next_char()
        window.at += 1
        if following not in (",", "]"):
            yield number + 1, None, [Problem(number + 1, "item", "is not valid JSON")]
            return
    if window.next_char():
        yield number + 1, None, [Problem(number + 1, "body", "has text after the array")]


class _Window:
    """The part of a text stream being decoded, read on in chunks as needed."""

    def __init__(self, text) -> None:
        self.text, self.window, self.at, self.ended = text, "", 0, False
        self.decoder = json.JSONDecoder()

    def more(self) -> bool:
        chunk = self.text.read(65_536)
        self.window, self.at, self.ended = self.window[self.at :] + chunk, 0, not chunk
        return bool(chunk)

    def next_char(self) -> str:
        """The next character that is not blank ('' at the end)."""
        while True:
            while self.at < len(self.window) and self.window[self.at] in " \t\r\n":
                self.at += 1
            if self.at < len(self.window) or not self.more():
                return self.window[self.at : self.at + 1]

    def decode(self) -> tuple[object, bool]:
        """(the next JSON value, True), or (None, False) if there is none."""
        self.next_char()
        while True:
            try:
                item, end = self.decoder.raw_decode(self.window, self.at)
            except json.JSONDecodeError:
                if len(self.window) - self.at <= MAX_LINE_CHARS and self.more():
                    continue  # the value goes on in the next chunk
                return None, False
            except (ValueError, RecursionError):  # too many digits; too deeply nested
                return None, False
            if end == len(self.window) and not self.ended and self.more():
                continue  # a number may go on in the next chunk
            self.at = end
            return item, True


def _xlsx_rows(body) -> Rows:
    """The first sheet of a workbook: a header row, then one value per row, as in CSV."""
    yield from _sheet_rows(first_sheet(body))


def first_sheet(body) -> Iterator[tuple | Problem]:
    """The rows of cells of a workbook's first sheet, streamed; a Problem (and the end)
    when the body is not a workbook that can be read. Shared by every XLSX upload."""
    with tempfile.SpooledTemporaryFile(max_size=4_000_000) as spooled:
        shutil.copyfileobj(body, spooled, 1 << 20)
        spooled.seek(0)
        try:
            with zipfile.ZipFile(spooled) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile:
            yield Problem(1, "body", "is not an XLSX workbook")
            return
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            yield Problem(1, "body", "unpacks to more than the upload limit allows")
            return
        spooled.seek(0)
        try:
            workbook = openpyxl.load_workbook(spooled, read_only=True, data_only=True)
            yield from workbook.worksheets[0].iter_rows(values_only=True)
            workbook.close()
        # A malformed workbook can fail anywhere inside openpyxl; it is the client's input.
        except Exception:
            yield Problem(1, "body", "is not a readable XLSX workbook")


def _sheet_rows(cells) -> Rows:
    first = next(cells, ())
    if isinstance(first, Problem):
        yield 1, None, [first]
        return
    header = [str(c).strip() if c is not None else "" for c in first]
    while header and header[-1] == "":
        header.pop()
    problems = header_problems(header)
    if problems:
        yield 1, None, problems
        return
    width = len(header)
    for number, values in enumerate(cells, start=2):
        if isinstance(values, Problem):
            yield 1, None, [values]
            return
        if all(c is None or c == "" for c in values):
            continue
        if any(c not in (None, "") for c in values[width:]):
            yield number, None, [Problem(number, "line", "has more cells than the header")]
            continue
        row = {name: _cell(name, cell) for name, cell in zip(header, values, strict=False)}
        yield number, {k: v for k, v in row.items() if v is not None}, []


def table_rows(body, mimetype: str) -> Rows:
    """Rows of any table (a survey export: CSV with the delimiter of the file, ',' ';' or
    tab, as KoboToolbox and ODK write them; or XLSX), keyed by their header, cells as they
    are. The header must name each column once."""
    if mimetype == XLSX:
        cells = first_sheet(body)
    else:
        text = _text(body)
        first = text.readline()
        delimiter = max(",;\t", key=first.count)
        cells = _csv_cells(itertools.chain([first], text), delimiter)
    head = next(cells, ())
    if isinstance(head, Problem):
        yield 1, None, [head]
        return
    header = [str(c).strip() if c is not None else "" for c in head]
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if not any(header) or repeated:
        reason = "column appears more than once" if repeated else "the header row is empty"
        yield 1, None, [Problem(1, (repeated or ["body"])[0][:64], reason)]
        return
    for number, values in enumerate(cells, start=2):
        if isinstance(values, Problem):
            yield values.line if values.line > 1 else 1, None, [values]
            if values.line == 1:
                return
            continue
        if all(c is None or c == "" for c in values):
            continue
        yield number, {h: c for h, c in zip(header, values, strict=False) if h}, []


def _csv_cells(lines, delimiter: str) -> Iterator[list | Problem]:
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            limit = csv.field_size_limit()
            yield Problem(reader.line_num, "line", f"has a field over {limit:,} characters")


def _cell(column: str, cell):
    """A spreadsheet cell as the value rules take it: text columns as text (a period typed
    as 2024 is the text "2024"), dates as dates, numbers as numbers."""
    if cell is None or column not in COLUMNS:
        return cell
    if column in TEXT_COLUMNS or column == "disaggregation":
        if isinstance(cell, float) and cell.is_integer():
            return str(int(cell))
        if isinstance(cell, datetime | date):
            return cell.isoformat()[:10]
        return str(cell)
    return cell
