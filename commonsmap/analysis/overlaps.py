"""Overlaps between two layers of polygons, or within one: which features overlap, where, how much.

This is the engine of conflict detection (a community forest inside a land concession, a claim
over a protected area...). :func:`overlap_pairs` finds every pair of features whose polygons
share a positive area, with the shared piece, its geodesic area and its share of each feature.

How it stays fast on a million features:

* candidate pairs come from one R-tree (shapely's STRtree) built on the layer with more
  features, queried with the other layer's geometries (``intersects``, prepared);
* the boundary of each querying feature is cut into short boxes and those are looked up in the
  same tree: a feature of the tree that intersects a querying feature but whose bounding box
  meets none of its boundary boxes lies wholly inside it, so the shared piece *is* that feature;
  no intersection is computed, and its area is the feature's own;
* near a boundary, a prepared ``covers`` test still finds the features wholly inside (either
  way round); only the rest get an exact ``shapely.intersection``;
* when only the figures are asked for (``with_geometry=False``), a straddling pair of which one
  feature is convex or small (a cadastral parcel) and the other has at most a few hundred
  vertices is not intersected at all: :func:`commonsmap.analysis.clipping.clipped_areas_ha`
  clips the one by the other in numpy, every pair at once, several times faster than GEOS;
* areas come from :func:`commonsmap.analysis.areas.lonlat_area_ha`, vectorised, each feature's
  area computed once;
* the shapely steps run on a few threads (shapely releases the GIL).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from commonsmap.analysis.areas import lonlat_area_ha
from commonsmap.analysis.clipping import MAX_VERTICES, clipped_areas_ha
from commonsmap.errors import QueryError

COLUMNS = ["left_id", "right_id", "area_ha", "left_share", "right_share"]

_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7
_MIN_CHUNK = 5_000
_MAX_BOXES = 1_000_000


def _threads() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _in_chunks(func: Callable[..., np.ndarray], *arrays: np.ndarray, by: np.ndarray | None = None) -> np.ndarray:
    """Apply a vectorised shapely function to equal-length arrays, in chunks on a few threads.

    ``by`` keeps the items with the same value in one chunk: a prepared geometry must be used by
    one thread at a time (GEOS builds its indexes lazily, and not thread-safely).
    """
    n = len(arrays[0])
    workers = _threads()
    if workers == 1 or n < 2 * _MIN_CHUNK:
        return np.asarray(func(*arrays))
    chunks = min(4 * workers, n // _MIN_CHUNK)
    if by is None:
        order = np.arange(n)
        bounds = np.linspace(0, n, chunks + 1).astype(int)
    else:
        chunk_of = np.asarray(by, dtype=np.int64) % chunks
        order = np.argsort(chunk_of, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(chunk_of, minlength=chunks))])
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda ab: np.asarray(func(*(a[order[ab[0]:ab[1]]] for a in arrays))),
                              itertools.pairwise(bounds)))
    result = np.empty(n, dtype=parts[0].dtype)
    result[order] = np.concatenate(parts)
    return result


def _check(frame: gpd.GeoDataFrame, id_column: str, side: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise QueryError(f"the {side} layer must be a GeoDataFrame, not {type(frame).__name__}")
    if id_column not in frame.columns:
        raise QueryError(f"the {side} layer has no id column {id_column!r} "
                                f"(its columns: {', '.join(map(str, frame.columns))})")
    if frame.crs is None and len(frame) > 0:
        raise QueryError(f"the {side} layer declares no coordinate reference system (CRS); "
                                "set one first, e.g. frame.set_crs('EPSG:4326')")


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygons of a geometry (a collection's, say) as one Polygon or MultiPolygon, or None."""
    polygons = [p for p in shapely.get_parts(shapely.get_parts(geom))
                if shapely.get_type_id(p) == _POLYGON and not p.is_empty]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _polygonal(geoms: np.ndarray, *, repair: bool = True) -> np.ndarray:
    """Polygons and multipolygons, repaired if invalid (polygonal part only); None for anything else.

    With ``repair=False`` nothing is checked for validity yet: see :func:`_repair`.
    """
    kinds = np.asarray(shapely.get_type_id(geoms))
    out = geoms.copy()
    out[(kinds != _POLYGON) & (kinds != _MULTIPOLYGON) & (kinds != _COLLECTION)] = None
    out[shapely.is_empty(out)] = None
    for i in np.flatnonzero(kinds == _COLLECTION):
        out[i] = _polygonal_part(out[i]) if out[i] is not None else None
    if repair:
        _repair(out, np.flatnonzero(~shapely.is_missing(out)))
    return out


def _repair(geoms: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Repair in place those of ``geoms[which]`` that are invalid (polygonal part only); return their indices."""
    which = which[~shapely.is_missing(geoms[which])]
    invalid = which[~_in_chunks(shapely.is_valid, geoms[which])]
    for i in invalid:
        repaired = shapely.make_valid(geoms[i])
        geoms[i] = repaired if shapely.get_type_id(repaired) in (_POLYGON, _MULTIPOLYGON) else _polygonal_part(repaired)
    return invalid


def _boundary_boxes(geoms: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes covering the boundary of each geometry, none longer than ``step``; and their owners.

    The boxes enclose the straight segments between consecutive vertices (long segments cut into
    pieces), so a geometry's boundary lies within the union of its boxes. Segments joining one
    ring to the next of the same geometry are boxed too, which is harmless (more boxes, not fewer).
    """
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    same = owner[1:] == owner[:-1]
    x0, y0, x1, y1 = coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]
    owner = owner[:-1][same]
    pieces = np.maximum(1, np.ceil(np.hypot(x1 - x0, y1 - y0) / step)).astype(np.int64)
    segment = np.repeat(np.arange(len(pieces)), pieces)
    k = np.arange(len(segment)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    t0, t1 = k / pieces[segment], (k + 1) / pieces[segment]
    dx, dy = (x1 - x0)[segment], (y1 - y0)[segment]
    ax, ay = x0[segment] + t0 * dx, y0[segment] + t0 * dy
    bx, by = x0[segment] + t1 * dx, y0[segment] + t1 * dy
    boxes = shapely.box(np.minimum(ax, bx), np.minimum(ay, by), np.maximum(ax, bx), np.maximum(ay, by))
    return boxes, owner[segment]


def _box_step(query: np.ndarray, tree_bounds: np.ndarray) -> float:
    """Length of a boundary box: about twice a typical tree feature, fewer than _MAX_BOXES boxes."""
    present = ~np.isnan(tree_bounds[:, 0])
    xmin, ymin, xmax, ymax = tree_bounds[present].T
    sizes = np.hypot(xmax - xmin, ymax - ymin)
    step = 2 * float(np.median(sizes)) if len(sizes) else 1.0
    total = float(np.sum(shapely.length(query[~shapely.is_missing(query)])))
    return max(step, total / _MAX_BOXES, np.finfo(float).tiny)


def _near_boundary(query: np.ndarray, tree: shapely.STRtree, tree_bounds: np.ndarray,
                   qi: np.ndarray, ti: np.ndarray) -> np.ndarray:
    """Tell, for each pair (qi, ti), whether a boundary box of query feature ``qi`` meets the box of ``ti``."""
    if len(qi) == 0:
        return np.zeros(0, dtype=bool)
    involved = np.unique(qi)
    step = _box_step(query[involved], tree_bounds)
    boxes, owner = _boundary_boxes(query[involved], step)
    owner = involved[owner]
    found = _tree_query(tree, boxes)
    n_tree = np.int64(len(tree_bounds))
    near_keys = np.unique(owner[found[0]].astype(np.int64) * n_tree + found[1])
    keys = qi.astype(np.int64) * n_tree + ti
    at = np.minimum(np.searchsorted(near_keys, keys), max(len(near_keys) - 1, 0))
    return near_keys[at] == keys if len(near_keys) else np.zeros(len(keys), dtype=bool)


def _tree_query(tree: shapely.STRtree, geoms: np.ndarray, predicate: str | None = None) -> np.ndarray:
    """``tree.query(geoms, predicate)`` on a few threads: an array (2, pairs) of (geoms, tree) indices."""
    workers = _threads()
    if workers == 1 or len(geoms) < 2 * _MIN_CHUNK:
        return np.asarray(tree.query(geoms, predicate=predicate))
    starts = np.linspace(0, len(geoms), min(4 * workers, len(geoms) // _MIN_CHUNK) + 1).astype(int)

    def run(start: int, stop: int) -> np.ndarray:
        found = np.asarray(tree.query(geoms[start:stop], predicate=predicate))
        found[0] += start
        return found

    with ThreadPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(run, starts[:-1], starts[1:])), axis=1)


def _query_pairs(query: np.ndarray, tree: shapely.STRtree,
                 predicate: str | None = "intersects") -> tuple[np.ndarray, np.ndarray]:
    """Pairs (query index, tree index) of intersecting geometries (of meeting boxes without ``predicate``).

    The querying geometries are dealt round-robin to a few threads, so that big and small ones mix.
    """
    workers = _threads()
    order = np.concatenate([np.arange(start, len(query), 4 * workers) for start in range(4 * workers)])
    order = order[~shapely.is_missing(query[order])]
    if workers == 1 or len(order) < 2:
        found = tree.query(query[order], predicate=predicate)
        return order[found[0]], found[1]
    slices = np.array_split(order, min(len(order), 4 * workers))
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda idx: tree.query(query[idx], predicate=predicate), slices))
    qi = np.concatenate([idx[r[0]] for idx, r in zip(slices, results, strict=True)])
    ti = np.concatenate([r[1] for r in results])
    return qi, ti


def _intersecting_pairs(tg: np.ndarray, qg: np.ndarray) -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
    """The R-tree of ``tg`` and the pairs (query, tree) of intersecting features of two layers.

    Only the tree features whose box meets a query feature's box are checked for validity (and
    repaired, in place): the others can overlap nothing, since a repair never leaves the box.
    The query features must be valid and prepared.
    """
    tree = shapely.STRtree(tg)
    qi, ti = _query_pairs(qg, tree, predicate=None)
    if len(_repair(tg, _used(ti, len(tg)))):
        tree = shapely.STRtree(tg)
        qi, ti = _query_pairs(qg, tree, predicate=None)
    order = np.argsort(qi, kind="stable")
    qi, ti = qi[order], ti[order]
    meets = _in_chunks(shapely.intersects, qg[qi], tg[ti], by=qi)
    return tree, qi[meets], ti[meets]


def _polygonal_pieces(pieces: np.ndarray) -> np.ndarray:
    """Keep the polygonal part of each intersection (None when it is only lines or points)."""
    kinds = np.asarray(shapely.get_type_id(pieces))
    out = pieces.copy()
    out[(kinds != _POLYGON) & (kinds != _MULTIPOLYGON)] = None
    out[shapely.is_empty(out)] = None
    for i in np.flatnonzero(kinds == _COLLECTION):
        out[i] = _polygonal_part(pieces[i])
    return out


def _ranks(values: pd.Series) -> np.ndarray:
    """Rank of each value in sorted order (missing values last), for a deterministic sort."""
    try:
        order = np.asarray(values.argsort(kind="stable"))
    except TypeError:  # values of mixed types: pandas sorts them its own way
        codes, uniques = pd.factorize(values, sort=True)
        return np.where(codes < 0, len(uniques), codes)
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def _used(indices: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of ``indices`` (all in range(size)), sorted."""
    mask = np.zeros(size, dtype=bool)
    mask[indices] = True
    return np.flatnonzero(mask)


def _box_within(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """Whether each box (xmin, ymin, xmax, ymax) of ``inner`` lies within the matching box of ``outer``."""
    return ((outer[:, 0] <= inner[:, 0]) & (outer[:, 1] <= inner[:, 1])
            & (outer[:, 2] >= inner[:, 2]) & (outer[:, 3] >= inner[:, 3]))


def _covers(outer: np.ndarray, inner: np.ndarray, outer_bounds: np.ndarray, inner_bounds: np.ndarray,
            outer_index: np.ndarray) -> np.ndarray:
    """``shapely.covers(outer, inner)``, tested only where the boxes allow it; ``outer_index`` identifies ``outer``."""
    result = np.zeros(len(outer), dtype=bool)
    possible = np.flatnonzero(_box_within(inner_bounds, outer_bounds))
    if len(possible):
        result[possible] = _in_chunks(shapely.covers, outer[possible], inner[possible], by=outer_index[possible])
    return result


def _clipped(tg: np.ndarray, qg: np.ndarray, qi: np.ndarray, ti: np.ndarray, crs: CRS, tree_area: np.ndarray,
             query_area: np.ndarray) -> tuple[np.ndarray, ...]:
    """Areas of straddling pairs clipped in numpy: by their tree feature, else by their query feature.

    A pair is clipped by one of its features when the other has at most
    :data:`~commonsmap.analysis.clipping.MAX_VERTICES` vertices and it is convex or small (see
    :func:`~commonsmap.analysis.clipping.clipped_areas_ha`). Returns the areas and which pairs
    were clipped.
    """
    area, done = np.zeros(len(qi)), np.zeros(len(qi), dtype=bool)
    vertices = np.zeros(len(qg), dtype=np.int64)
    used = _used(qi, len(qg))
    vertices[used] = shapely.get_num_coordinates(qg[used])
    small = np.flatnonzero(vertices[qi] <= MAX_VERTICES)
    area[small], done[small] = clipped_areas_ha(qg, qi[small], tg, ti[small], crs, clipper_ha=tree_area)
    rest = np.flatnonzero(~done)
    small = rest[np.asarray(shapely.get_num_coordinates(tg[ti[rest]])) <= MAX_VERTICES]
    area[small], done[small] = clipped_areas_ha(tg, ti[small], qg, qi[small], crs, clipper_ha=query_area)
    return area, done


def _pieces(tg: np.ndarray, qg: np.ndarray, crs: CRS, same_layer: bool,
            tree_is_left: bool, with_geometry: bool = True) -> tuple[np.ndarray, ...]:
    """Pairs (query, tree) of overlapping features, their shared pieces and areas, the features' areas.

    Returns ``qi, ti, piece, area, left_area, right_area``; ``area`` may be 0 (pairs that touch).
    Without geometry, the pieces of pairs clipped in numpy are missing.
    """
    if same_layer:
        tree = shapely.STRtree(tg)
        qi, ti = _query_pairs(qg, tree)
        keep = qi < ti
        qi, ti = qi[keep], ti[keep]
    else:
        tree, qi, ti = _intersecting_pairs(tg, qg)
    tree_bounds, query_bounds = shapely.bounds(tg), shapely.bounds(qg)
    # A tree feature whose box meets none of the boundary boxes of its query feature lies inside
    # it: the box is connected, misses the boundary and meets the interior (multipolygons too).
    # Near a boundary, the (prepared) query feature may still cover it; and the other way round.
    candidate = np.flatnonzero(_box_within(tree_bounds[ti], query_bounds[qi]))
    inside_q = np.zeros(len(qi), dtype=bool)
    inside_q[candidate] = ~_near_boundary(qg, tree, tree_bounds, qi[candidate], ti[candidate])
    near = np.flatnonzero(~inside_q)
    inside_q[near] = _covers(qg[qi[near]], tg[ti[near]], query_bounds[qi[near]], tree_bounds[ti[near]],
                             qi[near])
    near = np.flatnonzero(~inside_q)
    inside_t = np.zeros(len(qi), dtype=bool)
    inside_t[near] = _covers(tg[ti[near]], qg[qi[near]], tree_bounds[ti[near]], query_bounds[qi[near]],
                             ti[near])
    exact = np.flatnonzero(~inside_q & ~inside_t)

    # Areas: each feature's once; a piece that is a whole feature has that feature's area.
    tree_area = np.zeros(len(tg))
    used_tree = _used(ti, len(tg))
    tree_area[used_tree] = lonlat_area_ha(tg[used_tree], crs)
    if same_layer:
        query_area = tree_area
        used_query = np.setdiff1d(_used(qi, len(qg)), used_tree, assume_unique=True)
    else:
        query_area = np.zeros(len(qg))
        used_query = _used(qi, len(qg))
    query_area[used_query] = lonlat_area_ha(qg[used_query], crs)

    clipped = np.zeros(len(qi))
    if not with_geometry and len(exact):
        clipped[exact], done = _clipped(tg, qg, qi[exact], ti[exact], crs, tree_area, query_area)
        fast, exact = exact[done], exact[~done]
    else:
        fast = np.zeros(0, dtype=np.int64)
    piece = np.empty(len(qi), dtype=object)
    piece[inside_q] = tg[ti[inside_q]]
    piece[inside_t] = qg[qi[inside_t]]
    piece[exact] = _polygonal_pieces(_in_chunks(shapely.intersection, qg[qi[exact]], tg[ti[exact]]))

    area = np.zeros(len(qi))
    area[inside_q] = tree_area[ti[inside_q]]
    area[inside_t] = query_area[qi[inside_t]]
    area[exact] = lonlat_area_ha(piece[exact], crs)
    area[fast] = clipped[fast]
    left_area, right_area = (tree_area, query_area) if tree_is_left else (query_area, tree_area)
    return qi, ti, piece, area, left_area, right_area


def _empty(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame, left_id: str, right_id: str,
           with_geometry: bool) -> pd.DataFrame:
    frame = pd.DataFrame({
        "left_id": left[left_id].iloc[:0].reset_index(drop=True),
        "right_id": right[right_id].iloc[:0].reset_index(drop=True),
        "area_ha": np.zeros(0), "left_share": np.zeros(0), "right_share": np.zeros(0),
    })
    if not with_geometry:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=left.crs), crs=left.crs)


def overlap_pairs(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame | None = None, *,
                  left_id: str = "id", right_id: str = "id", with_geometry: bool = True,
                  min_area_ha: float = 0.0) -> pd.DataFrame:
    """Find every pair of features whose polygons overlap, with the shared piece and its area.

    Parameters
    ----------
    left : GeoDataFrame
        The first layer (community forests, claims...). Its CRS is the output's.
    right : GeoDataFrame, optional
        The second layer (concessions, protected areas, parcels...), in any CRS (reprojected to
        left's). If omitted, the overlaps of ``left`` with itself: each unordered pair once, never
        a feature with itself.
    left_id, right_id : str
        The columns that identify the features of each layer (``right_id`` is ignored for a
        self-overlap).
    with_geometry : bool
        Return the shared pieces as a GeoDataFrame (the default), or only the figures as a
        DataFrame.
    min_area_ha : float
        Drop the pairs whose shared area is at most this many hectares. Pairs that only touch
        (along a boundary, at a point) are never returned.

    Returns
    -------
    GeoDataFrame or DataFrame
        One row per overlapping pair, sorted by ``left_id`` then ``right_id``: ``left_id``,
        ``right_id`` (the values of the id columns), ``area_ha`` (geodesic area of the shared
        piece on the WGS84 ellipsoid, hectares), ``left_share`` and ``right_share`` (that area
        over the geodesic area of the left and of the right feature, 0 to 1) and, with
        ``with_geometry``, ``geometry`` (the shared piece, in left's CRS).

    Raises
    ------
    QueryError
        If a layer is not a GeoDataFrame, has features but no CRS, or lacks its id column.

    Notes
    -----
    Invalid polygons are repaired with shapely's ``make_valid`` (keeping their polygonal part)
    before the overlaps are computed; points, lines, empty and missing geometries are ignored.
    Areas agree with :meth:`pyproj.Geod.geometry_area_perimeter` to better than 1e-4 relative
    (see :mod:`commonsmap.analysis.areas`). Without geometry, pairs clipped in numpy (see
    :mod:`commonsmap.analysis.clipping`) may differ from GEOS's intersection by about 1e-5 of the
    convex feature's area, and their shared areas below 1e-9 of it (rounding noise along a
    boundary drawn twice) count as none.

    Examples
    --------
    >>> from commonsmap.analysis.overlaps import overlap_pairs
    >>> conflicts = overlap_pairs(forests, concessions, left_id="name", right_id="Id")  # doctest: +SKIP
    >>> conflicts[conflicts["left_share"] > 0.5]  # forests more than half under a concession  # doctest: +SKIP
    """
    _check(left, left_id, "left")
    same_layer = right is None
    if right is None:
        right, right_id = left, left_id
    else:
        _check(right, right_id, "right")
    if len(left) == 0 or len(right) == 0:
        return _empty(left, right, left_id, right_id, with_geometry)
    crs = CRS.from_user_input(left.crs)
    # The R-tree holds the layer with more features; the other one queries it. The tree's
    # features are checked for validity only where they may meet a query feature.
    tree_is_left = len(left) > len(right)
    if same_layer:
        tg = qg = _polygonal(np.asarray(left.geometry.values, dtype=object))
    else:
        right_geoms = right.geometry if right.crs.equals(crs) else right.geometry.to_crs(crs)
        lg = np.asarray(left.geometry.values, dtype=object)
        rg = np.asarray(right_geoms.values, dtype=object)
        tg, qg = (lg, rg) if tree_is_left else (rg, lg)
        tg, qg = _polygonal(tg, repair=False), _polygonal(qg)
    to_release = qg[~shapely.is_missing(qg) & ~shapely.is_prepared(qg)]
    shapely.prepare(to_release)
    try:
        qi, ti, piece, area, left_area, right_area = _pieces(tg, qg, crs, same_layer, tree_is_left, with_geometry)
    finally:
        shapely.destroy_prepared(to_release)
    li, ri = (ti, qi) if tree_is_left else (qi, ti)

    keep = np.flatnonzero((area > 0) & (area > min_area_ha))
    li, ri, area, piece = li[keep], ri[keep], area[keep], piece[keep]
    order = np.lexsort((_ranks(right[right_id])[ri], _ranks(left[left_id])[li]))
    li, ri, area, piece = li[order], ri[order], area[order], piece[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        left_share = np.minimum(area / left_area[li], 1.0)
        right_share = np.minimum(area / right_area[ri], 1.0)
    frame = pd.DataFrame({
        "left_id": left[left_id].take(li).reset_index(drop=True),
        "right_id": right[right_id].take(ri).reset_index(drop=True),
        "area_ha": area, "left_share": left_share, "right_share": right_share,
    })
    if not with_geometry:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(piece, crs=crs), crs=crs)
