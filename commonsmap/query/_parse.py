"""Read CQL2 text and JSON with pygeofilter, within limits, into an AST and the temporal literals it names.

pygeofilter's CQL2 text grammar lacks a few things of the standard. ``NOT (condition)`` is
added to its grammar (:func:`_text_parser`); the rest a pass over the text's tokens supplies
before parsing: ``''`` inside a quoted text, temporal functions written
``T_AFTER(a, b)``, and ``DATE``/``TIMESTAMP``/``INTERVAL`` literals read strictly (with open
``'..'`` interval ends), each replaced by a marked text literal the compiler resolves.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import shapely.geometry
from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from pygeofilter import ast, values
from pygeofilter.cql2 import BINARY_OP_PREDICATES_MAP
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text
from pygeofilter.parsers.cql2_text import parser as cql2_text_module

from commonsmap.errors import QueryError
from commonsmap.query._spatial import bbox_geometry
from commonsmap.query._values import parse_instant

MAX_LENGTH = 20_000
"""Longest filter accepted, in characters (of the JSON text for cql2-json)."""
MAX_DEPTH = 50
"""Deepest nesting accepted (a chain of ANDs or of ORs counts as one level)."""

QUOTE = "\ue000"
"""Stands for a quote inside a text literal while pygeofilter parses."""
MARK = "\ue001"
"""Wraps the index of a temporal literal read here."""

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_:.]*|\s+|.", re.DOTALL)
_TEMPORAL_LITERALS = {"DATE": 1, "TIMESTAMP": 1, "INTERVAL": 2}
_TEMPORAL_FUNCTION = re.compile(r"T_[A-Z]+")
_JSON_OPS = frozenset(BINARY_OP_PREDICATES_MAP) | {"and", "or", "not", "isNull", "between", "like", "in", "casei",
                                                   "t_disjoint"}
_AMBIGUOUS = "T_OVERLAPS is not supported (only T_INTERSECTS, T_AFTER, T_BEFORE, T_DISJOINT, T_EQUALS)"


def too_deep() -> QueryError:
    return QueryError(f"the filter is nested more than {MAX_DEPTH} levels deep; simplify it")


def too_long(length: int) -> QueryError:
    return QueryError(f"the filter is {length} characters long; the limit is {MAX_LENGTH}")


def _significant(tokens: list[str], index: int) -> int:
    while index < len(tokens) and tokens[index].isspace():
        index += 1
    return index


def _call(tokens: list[str], start: int) -> tuple[list[str], int]:
    """Split the arguments of the call whose "(" is at ``start``; return them and the index after ")"."""
    depth, index = 0, start
    args: list[str] = []
    current: list[str] = []
    while index < len(tokens):
        token = tokens[index]
        if token == "(":
            depth += 1
            if depth == 1:
                index += 1
                continue
        elif token == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args, index + 1
        elif token == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            index += 1
            continue
        current.append(token)
        index += 1
    raise QueryError("a parenthesis is not closed")


def _temporal_literal(keyword: str, args: list[str]) -> Any:
    example = {"DATE": "DATE('2024-01-01')", "TIMESTAMP": "TIMESTAMP('2024-01-01T00:00:00Z')",
               "INTERVAL": "INTERVAL('2024-01-01', '..')"}[keyword]
    texts = [a[1:-1].strip() for a in args if len(a) >= 2 and a[0] == a[-1] == "'"]
    if len(texts) != len(args) or len(args) != _TEMPORAL_LITERALS[keyword]:
        raise QueryError(f"{keyword} takes {_TEMPORAL_LITERALS[keyword]} quoted value(s), e.g. {example}")
    try:
        if keyword == "INTERVAL":
            start, end = (None if t in ("..", "") else parse_instant(t) for t in texts)
            return values.Interval(start, end)
        instant = parse_instant(texts[0])
    except ValueError as exc:
        raise QueryError(f"{keyword}: {exc}; e.g. {example}") from None
    if (keyword == "DATE") == isinstance(instant, dt.datetime):
        raise QueryError(f"{keyword}({args[0]}): write dates as DATE('2024-01-01') and instants as "
                         "TIMESTAMP('2024-01-01T00:00:00Z')")
    return instant


def prepare_text(text: str) -> tuple[str, list[Any]]:
    """Return CQL2 text rewritten for pygeofilter, and the temporal literals its marks refer to."""
    if QUOTE in text or MARK in text:
        raise QueryError("the filter contains private-use characters (U+E000, U+E001), which are not allowed")
    tokens = _TOKEN.findall(text)
    temporals: list[Any] = []
    read: list[str] = []
    index, depth = 0, 0
    while index < len(tokens):
        token, upper = tokens[index], tokens[index].upper()
        following = _significant(tokens, index + 1)
        if token.startswith("'") and len(token) >= 2 and token.endswith("'"):
            token = "'" + token[1:-1].replace("''", QUOTE) + "'"
        elif upper in _TEMPORAL_LITERALS and following < len(tokens) and tokens[following] == "(":
            args, index = _call(tokens, following)
            temporals.append(_temporal_literal(upper, args))
            read.append(f"'{MARK}{len(temporals) - 1}{MARK}'")
            continue
        elif upper == "T_OVERLAPS":
            raise QueryError(_AMBIGUOUS)
        elif token == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise too_deep()
        elif token == ")":
            depth -= 1
        read.append(token)
        index += 1
    return _infix_temporal(read), temporals


def _infix_temporal(tokens: list[str]) -> str:
    """Rewrite ``T_AFTER(a, b)`` as ``(a T_AFTER b)``, the form pygeofilter's grammar reads.

    ``T_DISJOINT(a, b)``, which that grammar lacks, becomes ``(NOT (a T_INTERSECTS b))``.
    """
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = _significant(tokens, index + 1)
        if (_TEMPORAL_FUNCTION.fullmatch(token.upper()) and following < len(tokens)
                and tokens[following] == "("):
            args, after = _call(tokens, following)
            if len(args) == 2 and token.upper() == "T_DISJOINT":  # not in pygeofilter's grammar
                out.append(f"(NOT ({args[0]} T_INTERSECTS {args[1]}))")
                index = after
                continue
            if len(args) == 2:
                out.append(f"({args[0]} {token.upper()} {args[1]})")
                index = after
                continue
        out.append(token)
        index += 1
    return "".join(out)


def _json_depth(root: Any) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > 2 * MAX_DEPTH + 10:
            raise too_deep()
        children = node.values() if isinstance(node, Mapping) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _json_node(node: Any) -> Any:
    """Check and convert a CQL2 JSON node where pygeofilter reads too leniently or wrongly."""
    if isinstance(node, list):
        return [_json_node(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    try:
        if "bbox" in node:
            return values.Geometry(dict(shapely.geometry.mapping(bbox_geometry(list(node["bbox"])))))
        if "type" in node and ("coordinates" in node or "geometries" in node):
            return values.Geometry(dict(node))
        if "date" in node or "timestamp" in node:
            key = "date" if "date" in node else "timestamp"
            instant = parse_instant(str(node[key]))
            if (key == "date") == isinstance(instant, dt.datetime):
                raise ValueError(f"{node[key]!r} is not a {key}")
            return instant
        if "interval" in node:
            if not isinstance(node["interval"], list) or len(node["interval"]) != 2:
                raise ValueError("an interval is a list of two instants, e.g. {\"interval\": [\"2024-01-01\", \"..\"]}")
            start, end = (None if t == ".." else parse_instant(str(t)) for t in node["interval"])
            return values.Interval(start, end)
    except (ValueError, TypeError) as exc:
        raise QueryError(f"cql2-json: {exc}") from None
    if "op" not in node:
        return {key: _json_node(value) for key, value in node.items()}
    op = node["op"]
    op = "isNull" if str(op).lower() == "isnull" else str(op).lower()
    if op == "t_overlaps":
        raise QueryError(_AMBIGUOUS)
    if op not in _JSON_OPS:
        raise QueryError(f"cql2-json: unknown operator {node['op']!r}")
    args = node.get("args")
    if op == "t_disjoint":  # not in pygeofilter's operators
        return {"op": "not", "args": [{"op": "t_intersects", "args": _json_node(args)}]}
    if op == "between" and isinstance(args, list) and len(args) == 3:
        args = [args[0], [args[1], args[2]]]
    return {**node, "op": op, "args": _json_node(args)}


@functools.cache
def _text_parser() -> Callable[[str], Any]:
    """Return pygeofilter's CQL2 text parser, with ``NOT (condition)`` as the standard allows.

    pygeofilter 0.4 only reads ``NOT (predicate)``, so ``NOT (a = 1 OR b = 2)`` would be a syntax
    error; its grammar and transformer are reused with that one rule widened.
    """
    grammar = Path(cql2_text_module.__file__).with_name("grammar.lark").read_text(encoding="utf-8")
    widened, count = re.subn(r'"NOT"i "\(" predicate "\)"', '"NOT"i "(" condition ")"', grammar)
    if count != 1:  # another pygeofilter version: use its parser as it is
        return parse_text
    parser = Lark(widened, parser="lalr", maybe_placeholders=False, transformer=cql2_text_module.CQLTransformer(),
                  import_paths=[str(Path(cql2_text_module.__file__).parents[1])])
    return parser.parse


def _syntax_error(exc: UnexpectedInput, original: str, prepared: str) -> QueryError:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        what = "the filter ends too early"
    elif isinstance(exc, UnexpectedToken):
        shown = str(exc.token.value).replace(QUOTE, "''")
        what = f"unexpected {re.sub(f'{MARK}[0-9]+{MARK}', 'temporal literal', shown)!r}"
    elif isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream or 0
        what = f"unexpected character {prepared[position:position + 1] or 'at the end'!r}"
    else:
        what = "cannot read the filter"
    context = ""
    if original == prepared and getattr(exc, "column", None) not in (None, -1):
        what += f" at column {exc.column}"
        context = "\n" + exc.get_context(original).rstrip()
    return QueryError(f"cql2-text syntax error: {what}. A valid filter looks like: "
                      f"name LIKE 'Bosque%' AND NOT (kind IN ('forest', 'river')){context}")


def parse_cql2(expression: str | Mapping[str, Any], lang: str) -> tuple[Any, list[Any]]:
    """Parse a CQL2 filter into a pygeofilter AST and its temporal literals (for cql2-text).

    Raises
    ------
    QueryError
        On any problem, with a message for the person who wrote the filter.
    """
    if lang == "cql2-text":
        if not isinstance(expression, str):
            raise QueryError("a cql2-text filter is text; send JSON objects as filter-lang=cql2-json")
        if len(expression) > MAX_LENGTH:
            raise too_long(len(expression))
        if not expression.strip():
            raise QueryError("the filter is empty")
        prepared, temporals = prepare_text(expression)
        try:
            return _text_parser()(prepared), temporals
        except UnexpectedInput as exc:
            raise _syntax_error(exc, expression, prepared) from None
        except Exception as exc:  # pygeofilter and lark raise many kinds: none may escape
            raise QueryError(f"cql2-text: cannot read the filter: {exc}") from None
    if lang != "cql2-json":
        raise QueryError(f"unknown filter language {lang!r}; use cql2-text or cql2-json")
    if isinstance(expression, str):
        if len(expression) > MAX_LENGTH:
            raise too_long(len(expression))
        try:
            expression = json.loads(expression)
        except RecursionError:
            raise too_deep() from None
        except ValueError as exc:
            raise QueryError(f"cql2-json: the filter is not valid JSON: {exc}") from None
    if not isinstance(expression, Mapping):
        raise QueryError("a cql2-json filter is a JSON object, e.g. {\"op\": \"=\", \"args\": "
                         "[{\"property\": \"name\"}, \"x\"]}")
    _json_depth(expression)
    length = len(json.dumps(expression, default=str))
    if length > MAX_LENGTH:
        raise too_long(length)
    try:
        return parse_json(_json_node(expression)), []
    except QueryError:
        raise
    except Exception as exc:  # pygeofilter raises many kinds: none may escape
        raise QueryError(f"cql2-json: the filter is not valid CQL2 JSON: {exc}") from None


def check_depth(root: Any) -> None:
    """Refuse an AST nested more than :data:`MAX_DEPTH` levels (chains of AND or of OR count once)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise too_deep()
        try:
            children = node.get_sub_nodes() if isinstance(node, ast.Node) else node if isinstance(node, list) else []
        except (TypeError, AttributeError):  # a malformed node: the compiler reports it
            children = []
        chain = isinstance(node, ast.And | ast.Or)
        stack.extend((child, depth if chain and type(child) is type(node) else depth + 1) for child in children)
