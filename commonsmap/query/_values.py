"""Literal values of filters, turned into the form the atlas stores (see :mod:`commonsmap.atlas.codec`).

Dates are stored as ``YYYY-MM-DD`` text, datetimes as ``YYYY-MM-DDTHH:MM:SS.sssZ`` text in UTC,
booleans as 0/1, enums as their vocabulary code. Text of one form orders like the instants it
names, so temporal comparisons are comparisons of text with parameters of the same form.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from pygeofilter import values

from commonsmap.errors import QueryError
from commonsmap.query.queryables import Queryable
from commonsmap.vocabularies import VOCABULARIES

TEXT = frozenset({"string", "enum", "ref"})
NUMERIC = frozenset({"integer", "real"})
TEMPORAL = frozenset({"date", "datetime"})
COLLECTIONS = frozenset({"list", "enum_list", "json"})

_UTC = dt.UTC
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?")
_LAST_DAY = "9999-12-32"
"""Sorts after every stored date: the day after 9999-12-31."""

TEMPORAL_HINT = "write dates as DATE('2024-01-01') and instants as TIMESTAMP('2024-01-01T00:00:00Z')"
_HOLDS = {"string": "text", "ref": "feature ids (text)", "enum": "codes of a vocabulary (text)",
          "integer": "whole numbers", "real": "numbers", "boolean": "true or false", "date": "dates",
          "datetime": "instants (date and time)", "list": "lists", "enum_list": "lists of codes",
          "json": "JSON objects", "geometry": "geometries"}


@dataclass(frozen=True)
class CaseFolded:
    """A text literal wrapped in CASEI(...): compared without regard to case."""

    text: str


def parse_instant(text: str) -> dt.date | dt.datetime:
    """Parse a date (``YYYY-MM-DD``) or an RFC 3339 date-time into a date or a UTC datetime.

    A date-time without offset is taken as UTC; fractions of a second beyond microseconds are cut.

    Raises
    ------
    ValueError
        If the text is neither.
    """
    text = text.strip()
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid date: {exc}") from None
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) nor a date-time (e.g. 2024-01-01T12:00:00Z)")
    day, time, fraction, offset = match.groups()
    iso = f"{day}T{time}" + (f".{(fraction + '000000')[:6]}" if fraction else "")
    if offset and offset not in ("Z", "z"):
        iso += offset
    try:
        parsed = dt.datetime.fromisoformat(iso)
        return parsed.replace(tzinfo=_UTC) if parsed.tzinfo is None else parsed.astimezone(_UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None


def format_datetime(value: dt.datetime) -> str:
    """Format a datetime as the atlas stores it: ``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC."""
    utc = value.astimezone(_UTC) if value.tzinfo is not None else value
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _next_day(day: dt.date) -> str:
    try:
        return (day + dt.timedelta(days=1)).isoformat()
    except OverflowError:
        return _LAST_DAY


@dataclass(frozen=True)
class Bound:
    """Where a temporal literal falls among a column's stored values.

    A point ``lo`` (``hi`` is None) or the half-open range ``[lo, hi)``: a date compared with a
    datetime column covers the whole day; a time of day compared with a date column falls
    between two stored dates (an empty range).
    """

    lo: str
    hi: str | None = None


def bound(value: dt.date, column_type: str) -> Bound:
    """Return where a date or datetime literal falls among the values of a date or datetime column."""
    if column_type == "date":
        if isinstance(value, dt.datetime):
            if value.timetz().replace(tzinfo=None) == dt.time(0):
                return Bound(value.date().isoformat())
            after = _next_day(value.date())
            return Bound(after, after)
        return Bound(value.isoformat())
    if isinstance(value, dt.datetime):
        return Bound(format_datetime(value))
    return Bound(f"{value.isoformat()}T00:00:00.000Z", f"{_next_day(value)}T00:00:00.000Z")


def compare_bound(column: str, op: str, where: Bound, params: list[Any]) -> str:
    """Return SQL comparing a temporal column (SQL text) with a literal, appending its parameters."""
    if where.hi is None:
        params.append(where.lo)
        return f"{column} {op} ?"
    if op in ("=", "<>"):
        params.extend((where.lo, where.hi))
        return f"({column} >= ? AND {column} < ?)" if op == "=" else f"({column} < ? OR {column} >= ?)"
    sql, value = {"<": ("<", where.lo), "<=": ("<", where.hi), ">": (">=", where.hi),
                  ">=": (">=", where.lo)}[op]
    params.append(value)
    return f"{column} {sql} ?"


def in_interval(column: str, column_type: str, start: dt.date | None, end: dt.date | None,
                params: list[Any]) -> str:
    """Return SQL true when a temporal column falls in the closed interval [start, end] (None: open)."""
    parts = []
    if start is not None:
        parts.append(compare_bound(column, ">=", bound(start, column_type), params))
    if end is not None:
        parts.append(compare_bound(column, "<=", bound(end, column_type), params))
    # unbounded: true unless NULL, and NULL (not false) for NULL, so that NOT keeps NULLs out too
    return "(" + " AND ".join(parts) + ")" if parts else f"({column} = {column})"


def describe(value: Any) -> str:
    """Describe a literal for a message."""
    if isinstance(value, CaseFolded):
        value = value.text
    if value is None:
        return "null (test for missing values with IS NULL)"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dt.datetime):
        return f"the instant {format_datetime(value)}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, values.Interval):
        return "an interval"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__.lower()}"


def mismatch(queryable: Queryable, value: Any, what: str = "compared with") -> QueryError:
    """Return the error for a literal of the wrong type for a property, with a hint to fix it."""
    holds = _HOLDS.get(queryable.type, queryable.type)
    hint = ""
    if queryable.type in TEMPORAL:
        hint = f"; {TEMPORAL_HINT}"
    elif queryable.type in NUMERIC and isinstance(value, str):
        hint = "; write numbers without quotes, e.g. 12 or 3.5"
    elif queryable.type in TEXT and not isinstance(value, str):
        hint = "; put text in single quotes, e.g. 'forest'"
    elif queryable.type == "boolean":
        hint = "; use true or false"
    return QueryError(f"property {queryable.name!r} holds {holds}; it cannot be {what} {describe(value)}{hint}")


def enum_code(queryable: Queryable, text: str) -> str:
    """Return the vocabulary code of ``text`` (a code or a label) for an enum property."""
    vocabulary = VOCABULARIES.get(queryable.vocabulary or "")
    if vocabulary is None:
        return text
    try:
        return str(vocabulary.parse(text).value)
    except ValueError as exc:
        raise QueryError(f"property {queryable.name!r}: {exc}") from None


def scalar(queryable: Queryable, value: Any, *, normalise: bool = True) -> Any:
    """Return a non-temporal literal as the SQL parameter compared with a property's column.

    Raises
    ------
    QueryError
        If the literal's type does not suit the property.
    """
    kind = queryable.type
    if isinstance(value, CaseFolded) and kind in TEXT:
        return value.text
    if kind in TEXT and isinstance(value, str):
        return enum_code(queryable, value) if normalise and kind == "enum" else value
    if kind in NUMERIC and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise QueryError(f"property {queryable.name!r}: {value} is not a finite number")
        return value
    if kind == "boolean" and isinstance(value, bool):
        return int(value)
    if kind == "enum_list" and isinstance(value, str):
        return enum_code(queryable, value)
    if kind in ("list", "enum_list") and isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    if kind in ("list", "enum_list") and isinstance(value, bool):
        return int(value)
    raise mismatch(queryable, value)


def like_patterns(pattern: str) -> tuple[str, str]:
    r"""Return the SQLite ``LIKE ... ESCAPE '\'`` and ``GLOB`` forms of a CQL2 LIKE pattern.

    CQL2 patterns use ``%`` (any text), ``_`` (one character) and ``\`` to escape them. SQLite's
    LIKE ignores the case of ASCII letters, so a case-sensitive match also needs the GLOB form.
    """
    like: list[str] = []
    glob: list[str] = []
    characters = iter(pattern)
    for character in characters:
        if character in "%_":
            like.append(character)
            glob.append("*" if character == "%" else "?")
            continue
        literal = character
        if character == "\\":
            following = next(characters, None)
            if following is None:
                raise QueryError(f"the LIKE pattern {pattern!r} ends with a lone backslash; write \\\\ for a "
                                 "backslash, \\% and \\_ for a literal % or _")
            literal = following
        like.append("\\" + literal if literal in "%_\\" else literal)
        glob.append(f"[{literal}]" if literal in "*?[" else literal)
    return "".join(like), "".join(glob)
