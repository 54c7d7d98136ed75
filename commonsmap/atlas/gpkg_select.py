"""Fast selections on a GeoPackage atlas with :mod:`sqlite3`: pages of raw rows and counts.

The web layer reads small pages many times a second, so this path skips GDAL and frames:
one read-only connection per thread, the layer's R-tree for bounding boxes, an exact
intersection test (in a SQL function) only for features whose box straddles the query's
edge, and a progress handler that stops a query past its time limit.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from commonsmap.atlas import gpkg_blob
from commonsmap.atlas.gpkg_schema import GEOMETRY_COLUMN, quote
from commonsmap.atlas.store import Bbox, Selection, bbox_parts
from commonsmap.catalogue import LayerSpec
from commonsmap.errors import QueryError, QueryTimeoutError
from commonsmap.query.cql2 import register_sql_functions

_PROGRESS_STEPS = 2000
"""SQLite virtual-machine steps between two checks of the time limit."""

_IN_MEMORY_CANDIDATES = 500
"""Up to this many bbox candidates (or twice the rows a page needs), a page is cut in memory:
one read, and the exact test vectorised, rather than an SQL count and an SQL page."""


@functools.lru_cache(maxsize=64)
def _prepared_box(minx: float, miny: float, maxx: float, maxy: float) -> shapely.Geometry:
    box = shapely.box(minx, miny, maxx, maxy)
    shapely.prepare(box)
    return box


def _blob_intersects_box(blob: bytes | None, minx: float, miny: float, maxx: float, maxy: float) -> int:
    if blob is None:
        return 0
    geometry = gpkg_blob.decode([blob])[0]
    return int(geometry is not None and shapely.intersects(_prepared_box(minx, miny, maxx, maxy), geometry))


def _wkb(blob: bytes | None) -> bytes | None:
    return None if blob is None else bytes(blob[gpkg_blob.wkb_offset(blob):])


def connect_for_reading(path: Path) -> sqlite3.Connection:
    """Open a read-only connection with the SQL functions selections use."""
    connection = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None,
                                 check_same_thread=False, timeout=30)
    connection.execute("PRAGMA query_only = 1")
    connection.create_function("cm_bbox_intersects", 5, _blob_intersects_box, deterministic=True)
    register_sql_functions(connection)  # the filter language's own functions
    return connection


class SelectionReader:
    """Pages and counts of a GeoPackage atlas's layers, on one read connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect_for_reading(self.path)
            self._local.connection = connection
        return connection

    @contextmanager
    def _limited(self, timeout: float | None) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        if timeout is None:
            yield connection
            return
        deadline = time.monotonic() + timeout
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
        try:
            yield connection
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise QueryTimeoutError(f"the query ran longer than {timeout:g} s and was stopped; ask for a "
                                        "smaller area, a narrower filter or a smaller page") from exc
            raise
        finally:
            connection.set_progress_handler(None, 0)

    def select(self, spec: LayerSpec, selection: Selection, columns: list[str], *, limit: int | None,
               offset: int, timeout: float | None) -> list[tuple[Any, ...]]:
        """Raw values of ``columns`` (``"geometry"`` as WKB) for the selected rows, in ``fid`` order."""
        sql, params = _from_where(spec, selection)
        sql = f"SELECT {_columns(columns)} {sql} ORDER BY t.fid"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params = (*params, -1 if limit is None else int(limit), int(offset))
        with self._limited(timeout) as connection:
            return _as_wkb(connection.execute(sql, params).fetchall(), columns)

    def page(self, spec: LayerSpec, selection: Selection, columns: list[str], *, limit: int | None,
             offset: int, timeout: float | None) -> tuple[list[tuple[Any, ...]], int]:
        """One page of selected rows and the number of rows selected."""
        if selection.bbox is not None and spec.is_spatial and spec.geometry_required:
            boxes = _boxes(selection.bbox)
            with self._limited(timeout) as connection:
                candidates = connection.execute(
                    f"SELECT count(*) FROM {quote(_rtree(spec))} AS r WHERE {_overlaps(boxes)}",
                    [v for b in boxes for v in (b[0], b[2], b[1], b[3])]).fetchone()[0]
            needed = offset + (candidates if limit is None else limit)
            if candidates <= max(2 * needed, _IN_MEMORY_CANDIDATES):
                return self._page_in_memory(spec, selection, columns, limit=limit, offset=offset, timeout=timeout)
        count = self.count(spec, selection, timeout=timeout)
        rows = self.select(spec, selection, columns, limit=limit, offset=offset, timeout=timeout) \
            if offset < count and limit != 0 else []
        return rows, count

    def _page_in_memory(self, spec: LayerSpec, selection: Selection, columns: list[str], *, limit: int | None,
                        offset: int, timeout: float | None) -> tuple[list[tuple[Any, ...]], int]:
        """A page cut in memory: the bbox's candidates read once, the exact test vectorised."""
        assert selection.bbox is not None
        boxes = _boxes(selection.bbox)
        sql, params = _from_where(spec, selection, exact=False)
        inside = " OR ".join("(r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?)" for _ in boxes)
        sql = f"SELECT {_columns(columns)}, ({inside}), t.{quote(GEOMETRY_COLUMN)} {sql} ORDER BY t.fid"
        inside_params = [v for b in boxes for v in (b[0], b[2], b[1], b[3])]
        with self._limited(timeout) as connection:
            rows = connection.execute(sql, (*inside_params, *params)).fetchall()
        straddling = [i for i, row in enumerate(rows) if not row[-2]]
        keep = [True] * len(rows)
        if straddling:
            shapes = gpkg_blob.decode([rows[i][-1] for i in straddling])
            hits = np.zeros(len(straddling), dtype=bool)
            for box in boxes:
                hits |= shapely.intersects(_prepared_box(*box), shapes)
            for index, hit in zip(straddling, hits, strict=True):
                keep[index] = bool(hit)
        matched = [row[:-2] for row, kept in zip(rows, keep, strict=True) if kept]
        end = None if limit is None else offset + limit
        return _as_wkb(matched[offset:end], columns), len(matched)

    def count(self, spec: LayerSpec, selection: Selection, *, timeout: float | None) -> int:
        """Number of selected rows."""
        sql, params = _from_where(spec, selection)
        with self._limited(timeout) as connection:
            return int(connection.execute(f"SELECT count(*) {sql}", params).fetchone()[0])

    def bounds(self, spec: LayerSpec, selection: Selection) -> Bbox | None:
        """Bounds of the selected rows, from the R-tree (rounded outwards to single precision)."""
        if not spec.is_spatial:
            return None
        sql, params = _from_where(spec, selection)
        if selection.bbox is not None:
            raise QueryError("the bounds of a selection are taken over the whole layer, without a bbox")
        sql = sql.replace(f"FROM {quote(spec.name)} AS t",
                          f"FROM {quote(spec.name)} AS t JOIN {quote(_rtree(spec))} AS r ON r.id = t.fid", 1)
        found = self._connection().execute(f"SELECT min(r.minx), min(r.miny), max(r.maxx), max(r.maxy) {sql}",
                                           params).fetchone()
        return None if found is None or found[0] is None else (found[0], found[1], found[2], found[3])


def _rtree(spec: LayerSpec) -> str:
    return f"rtree_{spec.name}_{GEOMETRY_COLUMN}"


def _columns(columns: list[str]) -> str:
    return ", ".join(f"t.{quote(GEOMETRY_COLUMN if c == 'geometry' else c)}" for c in columns)


def _as_wkb(rows: list[tuple[Any, ...]], columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows with their GeoPackage geometry blob (if selected) turned into plain WKB."""
    if "geometry" not in columns:
        return rows
    index = columns.index("geometry")
    return [(*row[:index], _wkb(row[index]), *row[index + 1:]) for row in rows]


def _overlaps(boxes: list[Bbox]) -> str:
    """R-tree condition: the feature's box overlaps one of ``boxes`` (params: minx, maxx, miny, maxy each)."""
    return " OR ".join("(r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?)" for _ in boxes)


def _from_where(spec: LayerSpec, selection: Selection, exact: bool = True) -> tuple[str, tuple[Any, ...]]:
    """The FROM and WHERE clauses of a selection.

    A bbox joins the layer's R-tree (and, with ``exact``, tests the geometry of features whose
    box straddles the query's edge). Features without a geometry match a bbox too (OGC API –
    Features, /req/core/fc-bbox-response C): in layers whose geometry is optional, they are
    added to the R-tree's matches.
    """
    clauses: list[str] = []
    params: list[Any] = []
    source = f"FROM {quote(spec.name)} AS t"
    if selection.bbox is not None:
        if not spec.is_spatial:
            raise QueryError(f"layer {spec.name!r} has no geometry: a bbox cannot select from it")
        boxes = _boxes(selection.bbox)
        spatial = [f"({_overlaps(boxes)})"]
        spatial_params: list[Any] = [v for b in boxes for v in (b[0], b[2], b[1], b[3])]
        if exact:  # boxes wholly inside the query need no exact test; the R-tree's boxes are rounded outwards
            spatial.append("(" + " OR ".join(
                f"(r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?) "
                f"OR cm_bbox_intersects(t.{quote(GEOMETRY_COLUMN)}, ?, ?, ?, ?)" for _ in boxes) + ")")
            spatial_params += [v for b in boxes for v in (b[0], b[2], b[1], b[3], b[0], b[1], b[2], b[3])]
        joined = f"{quote(spec.name)} AS t JOIN {quote(_rtree(spec))} AS r ON r.id = t.fid"
        if spec.geometry_required:
            source = f"FROM {joined}"
            clauses += spatial
            params += spatial_params
        else:
            source = (f"FROM (SELECT t.* FROM {joined} WHERE {' AND '.join(spatial)} UNION ALL "
                      f"SELECT * FROM {quote(spec.name)} WHERE {quote(GEOMETRY_COLUMN)} IS NULL) AS t")
            params += spatial_params
    if selection.where:
        clauses.append(f"({selection.where})")
        params += list(selection.params)
    if clauses:
        source += " WHERE " + " AND ".join(clauses)
    return source, tuple(params)


def _boxes(bbox: Bbox) -> list[Bbox]:
    try:
        return bbox_parts(bbox)
    except ValueError as error:
        raise QueryError(str(error)) from None
