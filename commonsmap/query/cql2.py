"""Compile OGC API filters (CQL2 text and JSON, property filters, ``datetime``) into safe SQLite SQL.

The SQL uses ``?`` placeholders only: every literal goes in the parameters, converted to the
form the atlas stores (:mod:`commonsmap.atlas.codec`), and column names come only from the
:class:`~commonsmap.query.queryables.Queryable` objects, quoted. Spatial tests call functions
that :func:`register_sql_functions` adds to the connection. Every problem raises
:class:`~commonsmap.errors.QueryError` with a message for the person who wrote the filter.

Examples
--------
>>> import sqlite3
>>> from commonsmap.catalogue import load_catalogue
>>> from commonsmap.query import compile_cql2, queryables_of, register_sql_functions
>>> queryables = queryables_of(load_catalogue()["commons"])
>>> where = compile_cql2("kind = 'forest' AND S_INTERSECTS(geometry, BBOX(10, 44, 12, 45))",
...                      "cql2-text", queryables, rtree="rtree_commons_geom")
>>> where.params[0]
'forest'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from commonsmap.atlas.gpkg_schema import quote
from commonsmap.errors import QueryError
from commonsmap.query._compile import Compiler
from commonsmap.query._parse import MARK, MAX_DEPTH, MAX_LENGTH, QUOTE, check_depth, parse_cql2
from commonsmap.query._spatial import register_sql_functions
from commonsmap.query._values import (
    TEMPORAL,
    TEXT,
    bound,
    compare_bound,
    enum_code,
    in_interval,
    parse_instant,
)
from commonsmap.query.queryables import Queryable, queryable

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "SqlFilter", "compile_cql2", "datetime_filter", "equality_filter",
           "register_sql_functions"]


_INTEGER = re.compile(r"[+-]?[0-9]+")
_REAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class SqlFilter:
    """A condition for an SQLite ``WHERE`` clause and its parameters.

    Attributes
    ----------
    sql : str
        SQL with ``?`` placeholders only.
    params : tuple
        One value per placeholder, in order.
    """

    sql: str
    params: tuple[Any, ...]


def _literal(temporals: list[Any]) -> Any:
    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(MARK) and value.endswith(MARK) and len(value) > 2:
            return temporals[int(value[1:-1])]
        return value.replace(QUOTE, "'") if isinstance(value, str) else value
    return resolve


def compile_cql2(expression: str | Mapping[str, Any], lang: str, queryables: Mapping[str, Queryable], *,
                 rtree: str | None) -> SqlFilter:
    """Compile a CQL2 filter into SQLite SQL.

    Parameters
    ----------
    expression : str or mapping
        The filter: CQL2 text, or CQL2 JSON as a mapping or as JSON text.
    lang : {"cql2-text", "cql2-json"}
        The filter language.
    queryables : mapping of str to Queryable
        The properties the filter may name (see :func:`~commonsmap.query.queryables_of`).
    rtree : str or None
        The layer's GeoPackage R-tree table (e.g. ``rtree_commons_geom``), which spatial tests use
        as a prefilter; None to test every feature.

    Returns
    -------
    SqlFilter
        A condition on the layer's table; run it on a connection passed to
        :func:`register_sql_functions`.

    Raises
    ------
    QueryError
        For a syntax error, an unknown property (the message lists the queryables), a literal of
        the wrong type, an unsupported operator, or a filter longer than :data:`MAX_LENGTH`
        characters or nested deeper than :data:`MAX_DEPTH` levels.
    """
    root, temporals = parse_cql2(expression, lang)
    check_depth(root)
    compiler = Compiler(queryables, rtree, _literal(temporals) if lang == "cql2-text" else lambda value: value)
    try:
        sql = compiler.condition(root)
    except RecursionError:  # not expected below MAX_DEPTH; never let it escape
        raise QueryError(f"the filter is nested more than {MAX_DEPTH} levels deep; simplify it") from None
    except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:  # a shape pygeofilter let through
        raise QueryError(f"the filter cannot be compiled: {exc}") from None
    return SqlFilter(sql, tuple(compiler.params))


def equality_filter(name: str, raw: str, queryables: Mapping[str, Queryable]) -> SqlFilter:
    """Compile an OGC API Features property filter ``?name=value`` into ``"column" = ?``.

    Parameters
    ----------
    name : str
        The property.
    raw : str
        The value as text: read as an integer, a number, ``true``/``false``, a date
        (``YYYY-MM-DD``, the whole day for a datetime property), a date-time (RFC 3339), or
        text for text, enum (code or label) and reference properties.
    queryables : mapping of str to Queryable
        The properties that may be named.

    Returns
    -------
    SqlFilter

    Raises
    ------
    QueryError
        If the property is unknown, cannot be filtered by value, or the text is not of its type.
    """
    q = queryable(name, queryables)
    column, params = quote(q.column), list[Any]()
    value: Any
    try:
        if q.type in TEMPORAL:
            return SqlFilter(compare_bound(column, "=", bound(parse_instant(raw), q.type), params), tuple(params))
        if q.type == "integer":
            if not _INTEGER.fullmatch(raw.strip()):
                raise ValueError(f"{raw!r} is not a whole number")
            value = int(raw.strip())
        elif q.type == "real":
            if not _REAL.fullmatch(raw.strip()):
                raise ValueError(f"{raw!r} is not a number")
            value = float(raw.strip())
        elif q.type == "boolean":
            value = {"true": 1, "false": 0}[raw.strip().lower()]
        elif q.type in TEXT:
            value = enum_code(q, raw) if q.type == "enum" else raw
        else:
            raise QueryError(f"property {name!r} ({q.type}) cannot be filtered by value; use a CQL2 filter")
    except (ValueError, KeyError) as exc:
        kind = {"integer": "a whole number", "real": "a number", "boolean": "true or false",
                "date": "a date such as 2024-01-01", "datetime": "a date-time such as 2024-01-01T12:00:00Z "
                "or a date"}[q.type]
        raise QueryError(f"{name}={raw!r}: expected {kind} ({exc})") from None
    return SqlFilter(f"{column} = ?", (value,))


def _interval(value: str) -> tuple[dt.date | None, dt.date | None, bool]:
    """Read a ``datetime`` parameter: (start, end, is_instant); None for an open end."""
    text = value.strip()
    if not text or len(text) > 100:
        raise QueryError(f"datetime={value[:100]!r}: expected an instant or an interval such as "
                         "2018-02-12T23:20:52Z, 2018-02-12 or 2018-02-12/.. ")
    parts = text.split("/")
    try:
        if len(parts) == 1:
            instant = parse_instant(text)
            return instant, instant, True
        if len(parts) != 2:
            raise ValueError("an interval has one '/' between its start and end")
        start, end = (None if p.strip() in ("", "..") else parse_instant(p) for p in parts)
    except ValueError as exc:
        raise QueryError(f"datetime={value!r}: {exc}; e.g. 2018-02-12T23:20:52Z, 2018-02-12 or "
                         "2018-02-12T00:00:00Z/..") from None
    if start is None and end is None:
        raise QueryError(f"datetime={value!r}: an interval needs a start or an end (it cannot be '../..')")
    if start is not None and end is not None and bound(start, "datetime").lo > _end_text(end):
        raise QueryError(f"datetime={value!r}: the interval starts after it ends")
    return start, end, False


def _end_text(end: dt.date) -> str:
    where = bound(end, "datetime")
    return where.hi or where.lo


def datetime_filter(value: str, fields: Sequence[Queryable]) -> SqlFilter:
    """Compile the OGC API Features ``datetime`` parameter.

    Parameters
    ----------
    value : str
        An instant (``2018-02-12T23:20:52Z``, or a date ``2018-02-12`` meaning the whole day) or a
        closed interval ``start/end`` whose either side may be open (``..`` or empty).
    fields : sequence of Queryable
        One date or datetime property (the feature's instant, which must fall in the interval or
        on the instant), or two: the start and end of the feature's own validity, either NULL
        when open; the feature matches when its interval meets the requested one.

    Returns
    -------
    SqlFilter

    Raises
    ------
    QueryError
        If the text is not an instant or interval, or the fields are not one or two temporal ones.
    """
    if not 1 <= len(fields) <= 2 or any(f.type not in TEMPORAL for f in fields):
        raise QueryError("datetime filters one date/datetime property or two (start and end of validity); "
                         f"got {[f'{f.name} ({f.type})' for f in fields]}")
    start, end, instant = _interval(value)
    params: list[Any] = []
    if len(fields) == 1:
        field = fields[0]
        column = quote(field.column)
        if instant and start is not None:
            sql = compare_bound(column, "=", bound(start, field.type), params)
        else:
            sql = in_interval(column, field.type, start, end, params)
        return SqlFilter(sql, tuple(params))
    (first, last), parts = fields, []
    if end is not None:
        parts.append(f"({quote(first.column)} IS NULL OR "
                     f"{compare_bound(quote(first.column), '<=', bound(end, first.type), params)})")
    if start is not None:
        parts.append(f"({quote(last.column)} IS NULL OR "
                     f"{compare_bound(quote(last.column), '>=', bound(start, last.type), params)})")
    return SqlFilter("(" + " AND ".join(parts) + ")", tuple(params))

