"""Walk a pygeofilter AST into parametrised SQLite SQL.

Column names come only from :class:`Queryable` objects (quoted); every literal becomes a ``?``
parameter, converted to the form the atlas stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from pygeofilter import ast, values
from pygeofilter.cql2 import ARRAY_PREDICATES_MAP, SPATIAL_PREDICATES_MAP, TEMPORAL_PREDICATES_MAP

from commonsmap.atlas.gpkg_schema import quote
from commonsmap.errors import QueryError
from commonsmap.query._spatial import bbox_geometry, geometry_literal, spatial_sql
from commonsmap.query._values import (
    NUMERIC,
    TEMPORAL,
    TEMPORAL_HINT,
    TEXT,
    CaseFolded,
    bound,
    compare_bound,
    in_interval,
    like_patterns,
    mismatch,
    scalar,
)
from commonsmap.query.queryables import Queryable, queryable

_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SPATIAL = {ast.GeometryIntersects: "intersects", ast.GeometryDisjoint: "disjoint",
            ast.GeometryWithin: "within", ast.GeometryContains: "contains"}
_TEMPORAL = {ast.TimeOverlaps: "intersects", ast.TimeAfter: "after", ast.TimeBefore: "before",
             ast.TimeDisjoint: "disjoint", ast.TimeEquals: "equals"}
_SWAPPED = {"within": "contains", "contains": "within", "after": "before", "before": "after"}
_NAMES = {cls: name.upper() for table in (SPATIAL_PREDICATES_MAP, TEMPORAL_PREDICATES_MAP, ARRAY_PREDICATES_MAP)
          for name, cls in table.items()}
_FAMILY = {**dict.fromkeys(TEXT, "text"), **dict.fromkeys(NUMERIC, "number"), "boolean": "boolean",
           "date": "date", "datetime": "datetime"}


@dataclass(frozen=True)
class Prop:
    """A property named in the filter (``casei``: wrapped in CASEI)."""

    q: Queryable
    casei: bool = False

    @property
    def sql(self) -> str:
        column = quote(self.q.column)
        return f"cm_casefold({column})" if self.casei else column


def _flatten(node: ast.Node) -> list[ast.Node]:
    """Return the operands of a chain of ANDs (or of ORs), in order, without recursion."""
    operands, stack = [], [node]
    while stack:
        item = stack.pop()
        if type(item) is type(node):
            stack.extend((item.rhs, item.lhs))
        else:
            operands.append(item)
    return operands


def _join(parts: list[str], op: str) -> str:
    """Join conditions with AND or OR, grouped in a balanced tree: SQLite limits expression depth to 1000."""
    if len(parts) <= 8:
        return "(" + f" {op} ".join(parts) + ")"
    middle = len(parts) // 2
    return f"({_join(parts[:middle], op)} {op} {_join(parts[middle:], op)})"


def _unsupported(node: Any) -> QueryError:
    name = _NAMES.get(type(node), type(node).__name__)
    return QueryError(f"{name} is not supported. Supported: = <> < <= > >=, AND, OR, NOT, LIKE, IN, BETWEEN, "
                      "IS [NOT] NULL, CASEI, S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS, BBOX, "
                      "T_INTERSECTS, T_AFTER, T_BEFORE, T_DISJOINT, T_EQUALS, and in cql2-json A_CONTAINS "
                      "and A_OVERLAPS")


class Compiler:
    """Turn one filter's AST into SQL, collecting its parameters in :attr:`params`.

    Parameters
    ----------
    queryables : mapping of str to Queryable
        What the filter may name.
    rtree : str or None
        The layer's R-tree table, for spatial prefilters.
    literal : callable
        Resolves a literal as pygeofilter produced it (marked temporal literals, escaped quotes).
    """

    def __init__(self, queryables: Mapping[str, Queryable], rtree: str | None,
                 literal: Callable[[Any], Any]) -> None:
        self.queryables = queryables
        self.rtree = rtree
        self.literal = literal
        self.params: list[Any] = []

    # -- operands ----------------------------------------------------------------------------
    def operand(self, node: Any) -> Any:
        """Return a Prop, or a literal (text, number, boolean, date, datetime, interval, geometry, list)."""
        if isinstance(node, ast.Attribute):
            return Prop(queryable(node.name, self.queryables))
        if isinstance(node, ast.Function):
            return self.function(node)
        if isinstance(node, ast.Arithmetic):
            raise QueryError("arithmetic (+ - * /) is not supported in filters")
        if isinstance(node, ast.Node):
            raise QueryError(f"a condition ({_NAMES.get(type(node), type(node).__name__)}) cannot be used as a value")
        if isinstance(node, list):
            return [self.operand(item) for item in node]
        value = self.literal(node)
        geometry = geometry_literal(value)
        return value if geometry is None else geometry

    def function(self, node: ast.Function) -> Any:
        name = str(node.name).lower()
        if name == "lower" and len(node.arguments) == 1:  # pygeofilter reads CASEI as lower
            inner = self.operand(node.arguments[0])
            if isinstance(inner, Prop) and inner.q.type in TEXT:
                return Prop(inner.q, casei=True)
            if isinstance(inner, str):
                return CaseFolded(inner.casefold())
            raise QueryError("CASEI takes a text property or a quoted text, e.g. CASEI(name) = CASEI('bosque')")
        if name == "bbox":
            return bbox_geometry([self.literal(a) for a in node.arguments])
        raise QueryError(f"function {node.name!r} is not supported; the functions are CASEI and BBOX")

    def prop(self, node: Any, what: str) -> Prop:
        found = self.operand(node)
        if not isinstance(found, Prop):
            raise QueryError(f"{what} needs a property on its left, e.g. name {what} ...")
        return found

    # -- conditions --------------------------------------------------------------------------
    def condition(self, node: Any) -> str:
        """Return the SQL of a condition."""
        if isinstance(node, ast.And | ast.Or):
            return _join([self.condition(n) for n in _flatten(node)], node.op.value)
        if isinstance(node, ast.Not):
            return f"(NOT {self.condition(node.sub_node)})"
        if isinstance(node, ast.Include):
            return "0" if node.not_ else "1"
        handlers: list[tuple[type, Callable[[Any], str]]] = [
            (ast.Comparison, self.comparison), (ast.Between, self.between), (ast.Like, self.like),
            (ast.In, self.in_), (ast.IsNull, self.is_null), (ast.BBox, self.bbox),
            (ast.SpatialComparisonPredicate, self.spatial), (ast.TemporalPredicate, self.temporal),
            (ast.ArrayPredicate, self.array)]
        for kind, handler in handlers:
            if isinstance(node, kind):
                return handler(node)
        if isinstance(node, ast.Node):
            raise _unsupported(node)
        raise QueryError(f"the filter must be a condition, not {node!r}; e.g. name = 'x'")

    def comparison(self, node: ast.Comparison) -> str:
        op = node.op.value
        left, right = self.operand(node.lhs), self.operand(node.rhs)
        if not isinstance(left, Prop):
            left, right, op = right, left, _FLIP[op]
        if not isinstance(left, Prop):
            raise QueryError(f"a comparison needs a property on one side, e.g. name {op} 'x'")
        if isinstance(right, Prop):
            family = _FAMILY.get(left.q.type)
            if family is None or family != _FAMILY.get(right.q.type) or (family == "boolean" and op not in ("=", "<>")):
                raise QueryError(f"properties {left.q.name!r} ({left.q.type}) and {right.q.name!r} "
                                 f"({right.q.type}) cannot be compared with {op}")
            return f"{left.sql} {op} {right.sql}"
        return self.compare(left, op, right)

    def compare(self, prop: Prop, op: str, value: Any) -> str:
        kind = prop.q.type
        if kind in TEMPORAL:
            return compare_bound(prop.sql, op, self.bound(prop.q, value), self.params)
        if kind not in _FAMILY:
            raise QueryError(f"property {prop.q.name!r} ({kind}) can only be tested with IS NULL"
                             + (" or A_CONTAINS / A_OVERLAPS (cql2-json)" if kind in ("list", "enum_list") else "")
                             + (" or spatial operators such as S_INTERSECTS" if kind == "geometry" else ""))
        if kind == "boolean" and op not in ("=", "<>"):
            raise QueryError(f"property {prop.q.name!r} is true or false: compare it with = or <> only")
        self.params.append(scalar(prop.q, value, normalise=op in ("=", "<>") and not prop.casei))
        return f"{prop.sql} {op} ?"

    def bound(self, q: Queryable, value: Any) -> Any:
        if isinstance(value, dt.date):
            return bound(value, q.type)
        if isinstance(value, values.Interval):
            raise QueryError(f"property {q.name!r}: an INTERVAL goes with T_INTERSECTS, T_AFTER, T_BEFORE, "
                             "T_DISJOINT; use DATE or TIMESTAMP in comparisons")
        raise mismatch(q, value)

    def between(self, node: ast.Between) -> str:
        prop = self.prop(node.lhs, "BETWEEN")
        low, high = self.operand(node.low), self.operand(node.high)
        if prop.q.type in TEMPORAL:
            sql = f"({self.compare(prop, '>=', low)} AND {self.compare(prop, '<=', high)})"
        elif prop.q.type in TEXT | NUMERIC:
            self.params.extend((scalar(prop.q, low, normalise=False), scalar(prop.q, high, normalise=False)))
            sql = f"{prop.sql} BETWEEN ? AND ?"
        else:
            raise QueryError(f"BETWEEN does not apply to property {prop.q.name!r} ({prop.q.type})")
        return f"(NOT {sql})" if node.not_ else sql

    def like(self, node: ast.Like) -> str:
        prop = self.prop(node.lhs, "LIKE")
        pattern = self.operand(node.pattern)
        if prop.q.type not in TEXT:
            raise QueryError(f"LIKE applies to text properties; {prop.q.name!r} is {prop.q.type}")
        if not isinstance(pattern, str | CaseFolded):
            raise mismatch(prop.q, pattern, "matched with LIKE against")
        folded = prop.casei or isinstance(pattern, CaseFolded) or node.nocase
        text = pattern.text if isinstance(pattern, CaseFolded) else pattern
        like, glob = like_patterns(text.casefold() if folded else text)
        if folded:
            self.params.append(like)
            sql = f"cm_casefold({quote(prop.q.column)}) LIKE ? ESCAPE '\\'"
        else:  # SQLite's LIKE ignores the case of ASCII letters: GLOB keeps the match case-sensitive
            self.params.extend((like, glob))
            sql = f"({prop.sql} LIKE ? ESCAPE '\\' AND {prop.sql} GLOB ?)"
        return f"(NOT {sql})" if node.not_ else sql

    def in_(self, node: ast.In) -> str:
        prop = self.prop(node.lhs, "IN")
        items = [self.operand(item) for item in node.sub_nodes] if isinstance(node.sub_nodes, list) else []
        if not items:
            raise QueryError("IN needs at least one value")
        if prop.q.type in TEMPORAL:
            sql = _join([self.compare(prop, "=", item) for item in items], "OR")
            return f"(NOT {sql})" if node.not_ else sql
        if prop.q.type not in _FAMILY:
            return self.compare(prop, "=", items[0])  # raises the error for this type
        self.params.extend(scalar(prop.q, item, normalise=not prop.casei) for item in items)
        return f"{prop.sql} {'NOT IN' if node.not_ else 'IN'} ({', '.join('?' * len(items))})"

    def is_null(self, node: ast.IsNull) -> str:
        prop = self.prop(node.lhs, "IS NULL")
        return f"{quote(prop.q.column)} IS {'NOT ' if node.not_ else ''}NULL"

    def _geometry_prop(self, prop: Any, operator: str) -> Prop:
        if not isinstance(prop, Prop) or prop.q.type != "geometry":
            names = [q.name for q in self.queryables.values() if q.type == "geometry"]
            raise QueryError(f"{operator} compares the geometry property ({', '.join(names) or 'none here'}) "
                             "with a geometry literal, e.g. S_INTERSECTS(geometry, POLYGON((...)))")
        return prop

    def bbox(self, node: ast.BBox) -> str:
        prop = self._geometry_prop(self.operand(node.lhs), "BBOX")
        box = bbox_geometry([node.minx, node.miny, node.maxx, node.maxy], node.crs)
        return spatial_sql("intersects", prop.q.column, box, self.rtree, self.params)

    def spatial(self, node: ast.SpatialComparisonPredicate) -> str:
        relation = _SPATIAL.get(type(node))
        if relation is None:
            raise _unsupported(node)
        left, right = self.operand(node.lhs), self.operand(node.rhs)
        if not isinstance(left, Prop):
            left, right, relation = right, left, _SWAPPED.get(relation, relation)
        prop = self._geometry_prop(left, _NAMES[type(node)])
        if not isinstance(right, shapely.Geometry):
            raise QueryError(f"{_NAMES[type(node)]} needs a geometry literal: POINT(...), POLYGON((...)), "
                             "BBOX(minx, miny, maxx, maxy) or a GeoJSON geometry")
        return spatial_sql(relation, prop.q.column, right, self.rtree, self.params)

    def temporal(self, node: ast.TemporalPredicate) -> str:
        relation = _TEMPORAL.get(type(node))
        if relation is None:
            raise _unsupported(node)
        left, right = self.operand(node.lhs), self.operand(node.rhs)
        if not isinstance(left, Prop):
            left, right, relation = right, left, _SWAPPED.get(relation, relation)
        if not isinstance(left, Prop) or left.q.type not in TEMPORAL or isinstance(right, Prop):
            raise QueryError(f"{_NAMES[type(node)]} compares a date or datetime property with DATE(...), "
                             f"TIMESTAMP(...) or INTERVAL(...): {TEMPORAL_HINT}")
        column, kind = left.sql, left.q.type
        if isinstance(right, dt.date):
            op = {"intersects": "=", "equals": "=", "after": ">", "before": "<", "disjoint": "<>"}[relation]
            return compare_bound(column, op, self.bound(left.q, right), self.params)
        if not isinstance(right, values.Interval):
            raise mismatch(left.q, right)
        start, end = right.start, right.end
        if relation in ("intersects", "disjoint"):
            sql = in_interval(column, kind, start, end, self.params)
            return sql if relation == "intersects" else f"(NOT {sql})"
        if relation == "equals":
            raise QueryError("T_EQUALS compares a property with an instant, not with an interval")
        edge = end if relation == "after" else start
        if edge is None:
            return "0"  # nothing is after an interval without end, nor before one without start
        return compare_bound(column, ">" if relation == "after" else "<", bound(edge, kind), self.params)

    def array(self, node: ast.ArrayPredicate) -> str:
        joiner = {ast.ArrayContains: "AND", ast.ArrayOverlaps: "OR"}.get(type(node))
        if joiner is None:
            raise _unsupported(node)
        prop, items = self.operand(node.lhs), self.operand(node.rhs)
        if not isinstance(prop, Prop) or prop.q.type not in ("list", "enum_list"):
            raise QueryError(f"{_NAMES[type(node)]} takes a list property and a list of values, e.g. "
                             '{"op": "a_contains", "args": [{"property": "roles"}, ["president"]]}')
        if not isinstance(items, list) or not items:
            raise QueryError(f"{_NAMES[type(node)]} needs a non-empty list of values")
        column = quote(prop.q.column)
        tests = []
        for item in items:
            self.params.append(scalar(prop.q, item))
            tests.append(f"(CASE WHEN json_valid({column}) THEN EXISTS (SELECT 1 FROM json_each({column}) "
                         "WHERE value = ?) ELSE 0 END)")
        return _join(tests, joiner)
