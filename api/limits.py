"""Input limits, declared once: what any value entering the service may be.

The request boundary (``api.boundary``) applies the text and JSON rules to the path,
the query string, the headers and JSON bodies; the field classes of ``api.fields`` apply
the ranges and lengths and show them in the OpenAPI document. The text rule itself (no
NUL, no lone surrogates) is ``metrics.data.text_problem``, the one uploads (CSV, NDJSON,
XLSX) apply to every cell through ``metrics.data.value_from_row``: one rule for every
way text comes in. Nothing here knows Flask, so any reader of input can use it.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from metrics.data import text_problem

# -- what PostgreSQL columns hold ---------------------------------------------------------
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1  # integer
INT8_MIN, INT8_MAX = -(2**63), 2**63 - 1  # bigint (and OFFSET / LIMIT)
# timestamptz is wider, but Python's datetime stops at year 9999: a value PostgreSQL
# stores past it cannot be read back (a token whose expiry is 10000-01-01 breaks every
# request that carries it). A day of margin keeps any local-time rendering in range.
EARLIEST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
LATEST_INSTANT = datetime(9999, 12, 30, tzinfo=UTC)
EARLIEST_DATE = date(1, 1, 1)
LATEST_DATE = date(9999, 12, 31)
# PostgreSQL accepts UTC offsets up to ±15:59 (ISO 8601 allows no more in practice).
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)

# -- sizes of texts -----------------------------------------------------------------------
CODE = 64  # keys, kinds, vocabularies
SHORT_TEXT = 200  # names, titles, labels
TEXT = 2_000  # notes, reasons
LONG_TEXT = 20_000  # descriptions
QUERY_LIST_ITEMS = 100  # values of one list parameter (theme=a,b,...)
PAGE_SIZE_MAX = 1_000  # the most items a page holds (PEACEMAP_PAGE_LIMIT_MAX may lower it)
OFFSET_MAX = 1_000_000  # deeper pages are for exports and delta sync, not offsets
QUERY_VALUE = 8_000  # any one query-string value (a GeoJSON `intersects` is the longest)
HEADER_VALUE = 8_000

# -- how much one account may ask of the service -------------------------------------------
# Subscriptions of one person (or one organisation): each event is one delivery per
# matching subscription, so this bounds what one account can make the worker send.
SUBSCRIPTIONS_PER_OWNER = 50

# -- shapes of JSON -----------------------------------------------------------------------
MAX_JSON_DEPTH = 32  # the deepest document the API takes (GeoJSON in a payload is ~6)
MAX_INTEGER_DIGITS = 19  # enough for bigint; a JSON integer of thousands of digits is refused
MAX_NUMBER_CHARS = 40  # a float literal longer than this is not a measurement


class InputError(ValueError):
    """A value broke a rule of the boundary. ``field`` names where (a parameter, a header,
    a dotted path in a JSON body, a CSV column), ``rule`` says which, readable by people."""

    def __init__(self, field: str, rule: str, *, malformed: bool = False):
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule
        # Malformed: the input could not even be read (bad UTF-8, bad JSON syntax), as
        # opposed to a readable value that breaks a rule.
        self.malformed = malformed


def text_rule(value: str) -> str | None:
    """The rule a text breaks, or None: the service's one text rule (``metrics.data``)."""
    return text_problem(value)


def check_text(value: str, field: str) -> str:
    if rule := text_rule(value):
        raise InputError(field, rule)
    return value


def decode_utf8(raw: bytes, field: str) -> str:
    """Bytes that must be UTF-8 text: invalid sequences (including encoded surrogates)
    are refused, never replaced."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            field, f"must be UTF-8 text (invalid byte at {exc.start}).", malformed=True
        ) from None
    return check_text(text, field)


def _parse_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _JSONRule(f"has an integer of more than {MAX_INTEGER_DIGITS} digits.")
    return int(literal)


def _parse_float(literal: str) -> float:
    number = float(literal) if len(literal) <= MAX_NUMBER_CHARS else float("inf")
    if number in (float("inf"), float("-inf")):
        raise _JSONRule("has a number too large to represent.")
    return number


def _parse_constant(name: str):
    raise _JSONRule(f"has {name}, which is not JSON.")


class _JSONRule(ValueError):
    pass


def load_json(raw: bytes | str, field: str = "body"):
    """Parse a JSON document as the API accepts it: UTF-8, at most ``MAX_JSON_DEPTH``
    deep, no integers beyond bigint's digits, no infinities or NaN, and every text
    (keys too) free of NUL characters and lone surrogates. Raises ``InputError`` naming
    the field (the dotted path inside the document) and the rule."""
    text = decode_utf8(raw, field) if isinstance(raw, bytes) else raw
    try:
        document = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except _JSONRule as exc:
        raise InputError(field, f"{exc}") from None
    except RecursionError:
        raise InputError(field, f"must not be nested more than {MAX_JSON_DEPTH} deep.") from None
    except ValueError as exc:
        raise InputError(field, f"is not valid JSON ({exc}).", malformed=True) from None
    check_document(document, field)
    return document


def check_document(document, field: str = "body") -> None:
    """The text and depth rules on an already parsed JSON document. Paths inside it are
    named from its top (``payload.name``, ``items[2].reason``); ``field`` names the
    document itself."""
    stack = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            check_text(value, path or field)
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise InputError(
                    path or field, f"must not be nested more than {MAX_JSON_DEPTH} deep."
                )
            if isinstance(value, dict):
                for key, item in value.items():
                    check_text(key, path or field)
                    stack.append((item, f"{path}.{key}" if path else key, depth + 1))
            else:
                stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
