"""CQL2 filters (OGC API - Features Part 3) on a collection's public properties, as SQL.

``cql2-text`` is read by the ``cql2`` library (cql2-rs, the parser tipg and stac-fastapi
use) into the standard's JSON form; ``cql2-json`` is that form already. One translator
turns it into one SQLAlchemy expression that PostgreSQL evaluates, never a Python loop over
rows. What a filter may name is the collection's queryables document (``queryables``) and
nothing else: a private column is as unknown as a misspelt one, and the only geometry is
the public one. Every literal is checked against what it is compared with before any SQL
exists, so a bad filter is a 400 naming the rule, never a database error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import cql2
from geoalchemy2.shape import from_shape
from sqlalchemy import ColumnElement, Enum, Text, and_, cast, false, func, literal, not_, or_, true
from sqlalchemy.dialects.postgresql import ARRAY

from api import limits
from api.errors import ProblemError
from api.fields import bounded_instant
from api.ogc.collections import Collection, queryables
from geo.geojson import SRID, GeometryError, parse_geometry

TEXT, JSON = "cql2-text", "cql2-json"
LANGUAGES = (TEXT, JSON)
# The parser recurses natively (no RecursionError: a crash) as deep as its input nests. The
# longest filter (limits.QUERY_VALUE characters) nested as deep as it can needs under 64 MB
# of stack; the parser's thread gets this much address space, used only as far as needed.
PARSER_STACK_BYTES = 256 * 1024 * 1024

STRING, NUMBER, BOOLEAN, TIMESTAMP, DATE, ARRAY_, GEOMETRY = (
    "string",
    "number",
    "boolean",
    "timestamp",
    "date",
    "array",
    "geometry",
)
_ORDERED = (STRING, NUMBER, TIMESTAMP, DATE)


class ParameterError(ProblemError):
    """A filter (or a sort) that cannot be applied; the message names the parameter and
    the rule it breaks."""

    def __init__(self, rule: str, parameter: str = "filter"):
        super().__init__(f"{parameter}: {rule}", errors={parameter: [rule]})


@dataclass(frozen=True)
class Operand:
    sql: ColumnElement
    kind: str
    name: str  # how error messages call it: a property's name or a literal's kind


def to_sql(collection: Collection, text: str, language: str = TEXT) -> ColumnElement[bool]:
    """The SQL condition of a CQL2 filter on ``collection``, or ParameterError."""
    return _Translator(collection).condition(parse(text, language))


def parse(text: str, language: str = TEXT):
    """The filter in CQL2 JSON form, within the input boundary's JSON rules (depth, text)."""
    if len(text) > limits.QUERY_VALUE:
        raise ParameterError(f"must be at most {limits.QUERY_VALUE} characters.")
    try:
        if language == JSON:
            return limits.load_json(text, "filter")
        document = _in_deep_stack(_text_to_json, text)
        limits.check_document(document, "filter")
        return document
    except limits.InputError as exc:
        raise ParameterError(exc.rule) from None


def _text_to_json(text: str):
    try:
        return cql2.parse_text(text).to_json()
    except Exception as exc:  # the parser's only error type is Exception
        where = str(exc).split("\n", 1)[0].strip(" ->")
        raise ParameterError(
            f"is not CQL2 text (at {where}; e.g. kind = 'government' AND "
            "updated_at > TIMESTAMP('2025-01-01T00:00:00Z'))."
        ) from None


_STACK_LOCK = threading.Lock()


def _in_deep_stack(function, *args):
    """``function(*args)`` on a thread of its own with PARSER_STACK_BYTES of stack."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except ProblemError as exc:
            outcome["error"] = exc

    with _STACK_LOCK:  # threading.stack_size is process-wide: set it only for this thread
        previous = threading.stack_size(PARSER_STACK_BYTES)
        try:
            thread = threading.Thread(target=run, name="cql2-parser")
            thread.start()
        finally:
            threading.stack_size(previous)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# Allen's interval relations, as CQL2 defines its temporal operators, on (start, end).
_TEMPORAL = {
    "t_after": lambda s1, e1, s2, e2: s1 > e2,
    "t_before": lambda s1, e1, s2, e2: e1 < s2,
    "t_contains": lambda s1, e1, s2, e2: and_(s1 < s2, e1 > e2),
    "t_disjoint": lambda s1, e1, s2, e2: or_(s1 > e2, e1 < s2),
    "t_during": lambda s1, e1, s2, e2: and_(s1 > s2, e1 < e2),
    "t_equals": lambda s1, e1, s2, e2: and_(s1 == s2, e1 == e2),
    "t_finishedby": lambda s1, e1, s2, e2: and_(s1 < s2, e1 == e2),
    "t_finishes": lambda s1, e1, s2, e2: and_(s1 > s2, e1 == e2),
    "t_intersects": lambda s1, e1, s2, e2: and_(s1 <= e2, e1 >= s2),
    "t_meets": lambda s1, e1, s2, e2: e1 == s2,
    "t_metby": lambda s1, e1, s2, e2: s1 == e2,
    "t_overlappedby": lambda s1, e1, s2, e2: and_(s1 > s2, s1 < e2, e1 > e2),
    "t_overlaps": lambda s1, e1, s2, e2: and_(s1 < s2, e1 > s2, e1 < e2),
    "t_startedby": lambda s1, e1, s2, e2: and_(s1 == s2, e1 > e2),
    "t_starts": lambda s1, e1, s2, e2: and_(s1 == s2, e1 < e2),
}
_SPATIAL = {
    "s_intersects": func.ST_Intersects,
    "s_disjoint": func.ST_Disjoint,
    "s_contains": func.ST_Contains,
    "s_within": func.ST_Within,
    "s_touches": func.ST_Touches,
    "s_crosses": func.ST_Crosses,
    "s_overlaps": func.ST_Overlaps,
    "s_equals": func.ST_Equals,
}
_COMPARISONS = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ARRAYS = {
    "a_equals": lambda a, b: a == b,
    "a_contains": lambda a, b: a.contains(b),
    "a_containedby": lambda a, b: a.contained_by(b),
    "a_overlaps": lambda a, b: a.overlap(b),
}
_ARITHMETIC = {"+", "-", "*", "/", "%", "^", "div"}


class _Translator:
    def __init__(self, collection: Collection):
        self.collection = collection
        self.queryables = queryables(collection)["properties"]

    def condition(self, node) -> ColumnElement[bool]:
        if isinstance(node, bool):
            return true() if node else false()
        if isinstance(node, dict) and set(node) == {"property"}:
            subject = self.operand(node)
            if subject.kind != BOOLEAN:
                raise ParameterError(f"{subject.name} is not true or false: compare it.")
            return subject.sql
        op, args = _operation(node)
        if op is None:
            raise ParameterError("must be a condition (true or false for each feature).")
        if op in ("and", "or"):
            if len(args) < 2:
                raise ParameterError(f"{op.upper()} joins two conditions or more.")
            return (and_ if op == "and" else or_)(*(self.condition(arg) for arg in args))
        if op == "not":
            _arity(op, args, 1)
            return not_(self.condition(args[0]))
        if op in _COMPARISONS:
            _arity(op, args, 2)
            left, right = self.operand(args[0]), self.operand(args[1])
            for side in (left, right):
                if side.kind in (ARRAY_, GEOMETRY):
                    use = "A_EQUALS" if side.kind == ARRAY_ else "S_EQUALS"
                    raise ParameterError(
                        f"{op} compares single values; {side.name} is not one: {use}."
                    )
            self.same_kind(left, right, op)
            if op not in ("=", "<>") and left.kind not in _ORDERED:
                raise ParameterError(f"{op} compares ordered values, not {left.name}.")
            return _COMPARISONS[op](left.sql, right.sql)
        if op == "like":
            _arity(op, args, 2)
            subject, pattern = self.operand(args[0]), self.operand(args[1])
            if subject.kind != STRING or pattern.kind != STRING:
                raise ParameterError("LIKE matches a text with a text pattern (% and _).")
            return subject.sql.like(pattern.sql, escape="\\")
        if op == "between":
            _arity(op, args, 3)
            subject, low, high = (self.operand(arg) for arg in args)
            if subject.kind not in _ORDERED:
                raise ParameterError(f"BETWEEN needs an ordered value, not {subject.name}.")
            self.same_kind(subject, low, "BETWEEN")
            self.same_kind(subject, high, "BETWEEN")
            return subject.sql.between(low.sql, high.sql)
        if op == "in":
            _arity(op, args, 2)
            subject, items = self.operand(args[0]), args[1]
            if subject.kind in (ARRAY_, GEOMETRY) or not isinstance(items, list) or not items:
                raise ParameterError("IN takes a single value and a list of values.")
            if len(items) > limits.QUERY_LIST_ITEMS:
                raise ParameterError(f"IN takes at most {limits.QUERY_LIST_ITEMS} values.")
            values = [self.operand(item) for item in items]
            for value in values:
                self.same_kind(subject, value, "IN")
            return subject.sql.in_([value.sql for value in values])
        if op == "isnull":
            _arity("isNull", args, 1)
            return self.operand(args[0]).sql.is_(None)
        if op in _SPATIAL:
            _arity(op, args, 2)
            return _SPATIAL[op](self.geometry(args[0], op), self.geometry(args[1], op))
        if op in _TEMPORAL:
            _arity(op, args, 2)
            return _TEMPORAL[op](*self.interval(args[0], op), *self.interval(args[1], op))
        if op in _ARRAYS:
            _arity(op, args, 2)
            left, right = self.array(args[0], op), self.array(args[1], op)
            if isinstance(args[0], list):  # a literal array takes the property's type
                left = self.array(args[0], op, like=right)
            elif isinstance(args[1], list):
                right = self.array(args[1], op, like=left)
            return _ARRAYS[op](left, right)
        raise ParameterError(f"{_describe(op)} is not supported in a condition.")

    # -- operands ------------------------------------------------------------------------

    def property(self, name) -> Operand:
        schema = self.queryables.get(name) if isinstance(name, str) else None
        if schema is None:
            raise ParameterError(
                f"{name!r} is not a queryable property of {self.collection.id}; the queryables "
                f"are {', '.join(self.queryables)} (see its queryables document)."
            )
        if name == "geometry":
            return Operand(self.collection.geometry, GEOMETRY, name)
        return Operand(as_text(self.collection.properties[name]), _kind(schema), name)

    def operand(self, node) -> Operand:
        """A property or a literal, with the kind of value it is."""
        match node:
            case {"property": name}:
                return self.property(name)
            case {"op": "casei", "args": [argument]}:
                inner = self.operand(argument)
                if inner.kind != STRING:
                    raise ParameterError(f"CASEI takes text, and {inner.name} is not text.")
                return Operand(func.lower(inner.sql), STRING, f"CASEI({inner.name})")
            case bool():
                return Operand(literal(node), BOOLEAN, "a boolean")
            case int() | float():
                return Operand(literal(node), NUMBER, "a number")
            case str():
                return Operand(literal(node, Text), STRING, "a text")
            case {"timestamp": str(value)}:
                return Operand(literal(_timestamp(value)), TIMESTAMP, "a timestamp")
            case {"date": str(value)}:
                return Operand(literal(_date(value)), DATE, "a date")
        op, _ = _operation(node)
        raise ParameterError(f"{_describe(op) if op else 'this'} cannot be used as a value here.")

    @staticmethod
    def same_kind(left: Operand, right: Operand, operator: str) -> None:
        if left.kind != right.kind:
            hint = {
                TIMESTAMP: " (write TIMESTAMP('2025-01-01T00:00:00Z'))",
                DATE: " (write DATE('2025-01-01'))",
            }.get(left.kind, "")
            raise ParameterError(
                f"{operator} compares {left.name} ({left.kind}) with {right.name} "
                f"({right.kind}){hint}."
            )

    def geometry(self, node, operator: str) -> ColumnElement:
        match node:
            case {"property": name}:
                subject = self.property(name)
                if subject.kind != GEOMETRY:
                    raise ParameterError(f"{operator} takes geometries; {name} is not one.")
                return subject.sql
            case {"bbox": [west, south, east, north]} if all(
                isinstance(n, int | float) and not isinstance(n, bool)
                for n in (west, south, east, north)
            ):
                if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
                    raise ParameterError(f"{operator}: a BBOX is west, south, east, north.")
                return func.ST_MakeEnvelope(west, south, east, north, SRID)
            case {"type": str(), "coordinates": list()}:
                try:
                    shape = parse_geometry(node)
                except GeometryError as exc:
                    raise ParameterError(f"{operator}: the geometry {exc}.") from None
                return from_shape(shape, srid=SRID)
        raise ParameterError(
            f"{operator} takes the geometry property, GeoJSON or WKT geometries and BBOX."
        )

    def interval(self, node, operator: str) -> tuple:
        """(start, end) of an instant, a day or an interval ('..': open)."""
        match node:
            case {"property": name}:
                subject = self.property(name)
                if subject.kind != TIMESTAMP:
                    raise ParameterError(f"{operator} takes instants; {name} is not one.")
                return subject.sql, subject.sql
            case {"timestamp": str(value)}:
                instant = literal(_timestamp(value))
                return instant, instant
            case {"date": str(value)}:
                day = _date(value)
                return _day(day, time.min), _day(day, time.max)
            case {"interval": [str(start), str(end)]}:
                return _end(start, time.min), _end(end, time.max)
        raise ParameterError(f"{operator} takes a date-time property, instants and intervals.")

    def array(self, node, operator: str, like: ColumnElement | None = None) -> ColumnElement:
        match node:
            case {"property": name}:
                subject = self.property(name)
                if subject.kind != ARRAY_:
                    raise ParameterError(f"{operator} takes arrays; {name} is not one.")
                return subject.sql
            case list() if all(isinstance(item, str) for item in node):
                if len(node) > limits.QUERY_LIST_ITEMS:
                    raise ParameterError(
                        f"an array takes at most {limits.QUERY_LIST_ITEMS} values."
                    )
                return literal(node, like.type if like is not None else ARRAY(Text))
        raise ParameterError(f"{operator} takes an array property and arrays of texts.")


def as_text(column: ColumnElement) -> ColumnElement:
    """A vocabulary (a PostgreSQL enum) compared and sorted as the text it shows: 'x' is
    then simply no kind, not a database error, and kinds sort alphabetically."""
    return cast(column, Text) if isinstance(column.type, Enum) else column


def _operation(node) -> tuple[str | None, list]:
    if isinstance(node, dict) and isinstance(node.get("op"), str):
        args = node.get("args", [])
        if not isinstance(args, list):
            raise ParameterError(f"the args of {node['op']} must be an array.")
        return node["op"].lower(), args
    return None, []


def _arity(op: str, args: list, count: int) -> None:
    if len(args) != count:
        raise ParameterError(f"{op.upper()} takes {count} argument(s), not {len(args)}.")


def _kind(schema: dict) -> str:
    if schema.get("type") == "string":
        return {"date-time": TIMESTAMP, "date": DATE}.get(schema.get("format"), STRING)
    if schema.get("type") == "integer":
        return NUMBER
    return schema.get("type", STRING)


def _timestamp(value: str) -> datetime:
    def refuse(_key):
        return ParameterError(
            "a TIMESTAMP has a UTC offset within ±15:59 and falls in the years 1 to 9999."
        )

    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParameterError(f"{value[:40]!r} is not an RFC 3339 date-time.") from None
    return bounded_instant(instant, refuse)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"{value[:40]!r} is not a date (YYYY-MM-DD).") from None


def _day(day: date, at: time):
    return literal(datetime.combine(day, at, UTC))


def _end(value: str, at: time):
    """An interval's end: '..' (open), a date (its first or last moment) or a date-time."""
    if value == "..":
        return literal(limits.EARLIEST_INSTANT if at == time.min else limits.LATEST_INSTANT)
    if len(value) == 10:
        return _day(_date(value), at)
    return literal(_timestamp(value))


def _describe(op: str) -> str:
    if op in _ARITHMETIC:
        return "arithmetic"
    if op == "accenti":
        return "ACCENTI"
    return f"the function or operator {op[:40]!r}"
