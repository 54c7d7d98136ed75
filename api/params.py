"""Query parameters of the items routes, parsed without HTTP (so they are tested as plain functions).

OGC API – Features: ``limit``, ``offset``, ``bbox`` (four or six numbers, CRS84), ``datetime``
(an instant or an interval on the layer's time fields), ``property=value`` for each queryable,
and Part 3's ``filter`` with ``filter-lang`` (``cql2-text`` or ``cql2-json``). Anything else
is refused, naming the parameters that are understood.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from api.errors import ApiError
from api.settings import Settings
from commonsmap.catalogue import LayerSpec
from commonsmap.errors import QueryError
from commonsmap.features import FeatureQuery
from commonsmap.query import Queryable, SqlFilter, compile_cql2, datetime_filter, equality_filter, queryables_of

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84_ALIASES = frozenset({CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326", "CRS84"})
FORMATS = frozenset({"json", "geojson", "html"})
COMMON_PARAMS = frozenset({"f"})
ITEM_PARAMS = frozenset({"f", "crs"})
ITEMS_PARAMS = frozenset({"limit", "offset", "bbox", "bbox-crs", "datetime", "filter", "filter-lang",
                          "filter-crs", "f", "crs"})


@dataclass(frozen=True)
class ItemsRequest:
    """An items request, understood: the feature query and what the links must repeat."""

    query: FeatureQuery
    crs84_bbox: tuple[float, float, float, float] | None
    kept: dict[str, str]


def check_known(params: Mapping[str, str], allowed: frozenset[str] | set[str]) -> None:
    """Refuse query parameters the route does not understand."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ApiError(400, "InvalidParameterValue",
                       f"unknown query parameter(s) {', '.join(unknown)}; this resource takes "
                       f"{', '.join(sorted(allowed)) or 'none'}")


def parse_int(params: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    """An integer parameter within ``[low, high]``."""
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "InvalidParameterValue", f"{name} must be an integer, not {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(400, "InvalidParameterValue", f"{name} must be {bound}; got {value}")
    return value


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` (or six numbers with heights, which are ignored) in CRS84."""
    try:
        numbers = [float(p) for p in raw.split(",")]
    except ValueError:
        raise ApiError(400, "InvalidParameterValue", f"bbox must be 4 or 6 comma-separated numbers, not {raw!r}") \
            from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise ApiError(400, "InvalidParameterValue", f"bbox must be 4 or 6 comma-separated numbers, not {raw!r}")
    minx, miny, maxx, maxy = (numbers[0], numbers[1], numbers[2], numbers[3]) if len(numbers) == 4 else \
        (numbers[0], numbers[1], numbers[3], numbers[4])
    if miny > maxy:
        raise ApiError(400, "InvalidParameterValue", "bbox: the southern edge must not lie north of the northern one")
    if miny < -90 or maxy > 90 or minx < -180 or maxx > 180:
        raise ApiError(400, "InvalidParameterValue", "bbox is in CRS84: longitudes within ±180, latitudes within ±90")
    return minx, miny, maxx, maxy


def check_crs(params: Mapping[str, str]) -> None:
    """Answers are in CRS84: a ``crs`` parameter may ask for nothing else."""
    crs = params.get("crs")
    if crs is not None and crs not in CRS84_ALIASES:
        raise ApiError(400, "InvalidParameterValue", f"crs {crs!r} is not offered; features are given in {CRS84}")


def _or_timeless(condition: SqlFilter, fields: list[Queryable]) -> SqlFilter:
    """Features without any time match a datetime too (OGC API – Features, /req/core/fc-time-response B)."""
    timeless = " AND ".join(f'"{field.column}" IS NULL' for field in fields)
    return SqlFilter(f"(({condition.sql}) OR ({timeless}))", condition.params)


def time_fields(spec: LayerSpec, queryables: Mapping[str, Queryable]) -> list[Queryable]:
    """The fields the ``datetime`` parameter applies to (the layer's declared time, else its ``updated``)."""
    return [queryables[name] for name in (spec.temporal or ("updated",))]


def parse_items(params: Mapping[str, str], spec: LayerSpec, settings: Settings) -> ItemsRequest:
    """Understand the query parameters of ``/collections/{layer}/items``.

    Raises
    ------
    ApiError
        400, naming the parameter and what it must be.
    """
    queryables = queryables_of(spec)
    properties = {name for name, q in queryables.items() if q.type != "geometry"}
    check_known(params, ITEMS_PARAMS | properties)
    empty = sorted(name for name, value in params.items() if not value.strip())
    if empty:
        raise ApiError(400, "InvalidParameterValue", f"parameter(s) {', '.join(empty)} given without a value")
    check_crs(params)
    fmt = params.get("f")
    if fmt is not None and fmt not in FORMATS:
        raise ApiError(400, "InvalidParameterValue", f"f must be one of {', '.join(sorted(FORMATS))}")
    limit = parse_int(params, "limit", settings.default_limit, 1, settings.max_limit)
    offset = parse_int(params, "offset", 0, 0, None)
    bbox = None
    if params.get("bbox"):
        crs = params.get("bbox-crs", CRS84)
        if crs not in CRS84_ALIASES:
            raise ApiError(400, "InvalidParameterValue", f"bbox-crs {crs!r} is not supported; use {CRS84}")
        bbox = parse_bbox(params["bbox"])
        if not spec.is_spatial:
            raise ApiError(400, "InvalidParameterValue", f"{spec.name} has no geometry: it cannot be selected by bbox")
    filters: list[SqlFilter] = []
    try:
        for name in sorted(properties & set(params)):
            filters.append(equality_filter(name, params[name], queryables))
        if params.get("datetime"):
            filters.append(_or_timeless(datetime_filter(params["datetime"], time_fields(spec, queryables)),
                                        time_fields(spec, queryables)))
        if params.get("filter"):
            lang = params.get("filter-lang", "cql2-text")
            if lang not in ("cql2-text", "cql2-json"):
                raise ApiError(400, "InvalidParameterValue", "filter-lang must be cql2-text or cql2-json")
            crs = params.get("filter-crs", CRS84)
            if crs not in CRS84_ALIASES:
                raise ApiError(400, "InvalidParameterValue", f"filter-crs {crs!r} is not supported; use {CRS84}")
            rtree = f"rtree_{spec.name}_geom" if spec.is_spatial else None
            filters.append(compile_cql2(params["filter"], lang, queryables, rtree=rtree))
    except QueryError as error:
        raise ApiError(400, "InvalidParameterValue", str(error)) from None
    kept = {k: v for k, v in params.items() if k not in ("limit", "offset", "f")}
    query = FeatureQuery(bbox=bbox, filters=tuple(filters), limit=limit, offset=offset,
                         timeout=settings.query_timeout)
    return ItemsRequest(query, bbox, kept)
