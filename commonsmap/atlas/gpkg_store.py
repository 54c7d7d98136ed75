"""The GeoPackage store: an atlas in one OGC GeoPackage file.

Reads go through pyogrio (GDAL), which uses the file's R-tree for bounding-box queries.
Writes go through :mod:`sqlite3` in one transaction per :meth:`GeoPackageStore.transaction`:
a failed or killed write leaves the file as it was (SQLite's rollback journal). History rows
are written by triggers inside the file, so edits made with other programs are kept too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from commonsmap.atlas import codec, gpkg_blob, gpkg_bulk
from commonsmap.atlas.gpkg_schema import (
    CONTEXT_TABLE,
    GEOMETRY_COLUMN,
    HISTORY_TABLE,
    META_TABLE,
    create_atlas_file,
    quote,
)
from commonsmap.atlas.gpkg_select import SelectionReader
from commonsmap.atlas.gpkg_upgrade import upgrade_atlas_file
from commonsmap.atlas.store import Row, Selection, Store, StoreTransaction, WriteContext
from commonsmap.catalogue import Catalogue, LayerSpec
from commonsmap.errors import AtlasError, InvalidInputError, NotFoundError, VersionConflictError

BULK_ROWS = 2000
"""Above this many rows an insert maintains the spatial index in bulk rather than by trigger."""

_BUSY_TIMEOUT_MS = 30_000
_BULK_CACHE_KIB = 256 * 1024


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(Path(path).resolve().as_uri(), uri=True, isolation_level=None,
                                 timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    gpkg_blob.register_functions(connection)
    return connection


class GeoPackageStore(Store):
    """An atlas stored in one GeoPackage file.

    Parameters
    ----------
    path : str or Path
        An existing atlas file (see :meth:`create` for a new one).
    catalogue : Catalogue
        The layer catalogue the atlas was created with.
    """

    def __init__(self, path: str | Path, catalogue: Catalogue) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.catalogue = catalogue
        if not self.path.is_file():
            raise AtlasError(f"no atlas at {self.path}")
        try:
            with open(self.path, "rb") as handle:
                magic = handle.read(16)
            if magic != b"SQLite format 3\x00":
                raise AtlasError(f"{self.path} is not a GeoPackage (not an SQLite file)")
            meta = self.metadata()
        except sqlite3.DatabaseError as exc:
            raise AtlasError(f"{self.path} is not a commonsmap atlas: {exc}") from exc
        if "crs" not in meta:
            raise AtlasError(f"{self.path} is a GeoPackage but not a commonsmap atlas (no {META_TABLE})")
        self.crs = CRS.from_user_input(meta["crs"])
        self.srs_id = int(self.crs.to_epsg() or 0)
        self._roll_back_interrupted_write()
        self.upgrades = upgrade_atlas_file(self.path, catalogue, self.crs)
        """What opening the atlas added to it to match the catalogue (new layers and fields)."""
        self._selections = SelectionReader(self.path)

    @classmethod
    def create(cls, path: str | Path, catalogue: Catalogue, crs: CRS, meta: dict[str, str]) -> GeoPackageStore:
        """Create a new atlas file; refuse to overwrite an existing file."""
        target = Path(path)
        if target.exists():
            raise AtlasError(f"{target} exists already; choose another path or open it")
        if crs.to_epsg() is None:
            raise AtlasError("the atlas CRS must have an EPSG code (e.g. EPSG:4326)")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.stem}.creating.gpkg")
        partial.unlink(missing_ok=True)
        try:
            create_atlas_file(partial, catalogue, crs, {**meta, "crs": f"EPSG:{crs.to_epsg()}"})
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return cls(target, catalogue)

    # -- reading ---------------------------------------------------------------------------
    def read(self, layer: str, *, where: str | None = None, bbox: tuple[float, float, float, float] | None = None,
             columns: list[str] | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
        spec = self.catalogue[layer]
        self._roll_back_interrupted_write()
        frame = pyogrio.read_dataframe(self.path, layer=layer, where=where, bbox=bbox, columns=columns,
                                       use_arrow=True, read_geometry=spec.is_spatial)
        return _normalise(frame, spec)

    def select(self, layer: str, selection: Selection, columns: list[str], *, limit: int | None = None,
               offset: int = 0, timeout: float | None = None) -> list[tuple[Any, ...]]:
        return self._selections.select(self.catalogue[layer], selection, columns, limit=limit, offset=offset,
                                       timeout=timeout)

    def select_page(self, layer: str, selection: Selection, columns: list[str], *, limit: int | None,
                    offset: int = 0, timeout: float | None = None) -> tuple[list[tuple[Any, ...]], int]:
        return self._selections.page(self.catalogue[layer], selection, columns, limit=limit, offset=offset,
                                     timeout=timeout)

    def count_selected(self, layer: str, selection: Selection, *, timeout: float | None = None) -> int:
        return self._selections.count(self.catalogue[layer], selection, timeout=timeout)

    def selected_bounds(self, layer: str, selection: Selection) -> tuple[float, float, float, float] | None:
        return self._selections.bounds(self.catalogue[layer], selection)

    def change_stamp(self) -> object:
        """SQLite's file change counter (bytes 24-27 of the header, bumped by every commit), size and time."""
        with open(self.path, "rb") as handle:
            header = handle.read(28)
            stat = os.fstat(handle.fileno())
        return header[24:28], stat.st_size, stat.st_mtime_ns

    def _roll_back_interrupted_write(self) -> None:
        """Let SQLite roll back a write cut off by a crash (a hot journal): GDAL reads refuse such a file."""
        with self._reader() as connection:
            connection.execute("SELECT count(*) FROM gpkg_contents").fetchone()

    def get(self, layer: str, feature_id: str) -> Row | None:
        with self._reader() as connection:
            return _fetch(connection, self.catalogue[layer], feature_id)

    def existing_ids(self, layer: str, ids: list[str]) -> set[str]:
        self.catalogue[layer]
        with self._reader() as connection:
            return _existing_ids(connection, layer, ids)

    def count(self, layer: str, where: str | None = None) -> int:
        self.catalogue[layer]
        with self._reader() as connection:
            sql = f"SELECT count(*) FROM {quote(layer)}" + (f" WHERE {where}" if where else "")
            return int(connection.execute(sql).fetchone()[0])

    def history(self, layer: str | None = None, feature_id: str | None = None,
                last: int | None = None) -> pd.DataFrame:
        clauses: list[str] = []
        params: list[Any] = []
        if layer is not None:
            clauses.append("layer = ?")
            params.append(layer)
        if feature_id is not None:
            clauses.append("feature_id = ?")
            params.append(feature_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._reader() as connection:
            frame = pd.read_sql_query(
                f"SELECT fid AS entry, layer, feature_id, op, at, who, changeset, note, before, before_geom, "
                f"after, after_geom FROM {HISTORY_TABLE}{where} ORDER BY fid DESC"
                + ("" if last is None else f" LIMIT {int(last)}"), connection, params=params)
        frame = frame.iloc[::-1].reset_index(drop=True)
        frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
        layers = frame["layer"].tolist()
        for side in ("before", "after"):
            states = zip(layers, frame[side].tolist(), frame[f"{side}_geom"].tolist(), strict=True)
            frame[side] = pd.Series([_state(self.catalogue, *state) for state in states], dtype=object)
        return frame.drop(columns=["before_geom", "after_geom"])

    def history_count(self) -> int:
        with self._reader() as connection:
            return int(connection.execute(f"SELECT count(*) FROM {HISTORY_TABLE}").fetchone()[0])

    def metadata(self) -> dict[str, str]:
        with self._reader() as connection:
            try:
                return dict(connection.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
            except sqlite3.OperationalError:
                return {}

    def set_metadata(self, values: dict[str, str]) -> None:
        with self._writer() as connection:
            connection.executemany(f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)",
                                   values.items())

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self, context: WriteContext) -> Iterator[StoreTransaction]:
        connection = _connect(self.path)
        transaction = _Transaction(self, connection, context)
        try:
            yield transaction
            transaction.commit()
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()
            transaction.cleanup()

    @contextmanager
    def _writer(self) -> Iterator[sqlite3.Connection]:
        connection = _connect(self.path)
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            connection.close()

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        connection = _connect(self.path)
        try:
            yield connection
        finally:
            connection.close()


class _Transaction(StoreTransaction):
    """Reads run on the connection as they come; the write lock is taken at the first write."""

    def __init__(self, store: GeoPackageStore, connection: sqlite3.Connection, context: WriteContext) -> None:
        self.store = store
        self.connection = connection
        self.context = context
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def _begin(self) -> None:
        if self.connection.in_transaction:
            return
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.execute(f"UPDATE {CONTEXT_TABLE} SET at = ?, who = ?, changeset = ?, note = ?, op = NULL",
                                (codec.format_datetime(self.context.at), self.context.who, self.context.changeset,
                                 self.context.note))

    def commit(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute(f"UPDATE {CONTEXT_TABLE} SET at = NULL, who = NULL, changeset = NULL, "
                                    "note = NULL, op = NULL")
            self.connection.execute("COMMIT")

    def cleanup(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()

    def insert(self, layer: str, frame: gpd.GeoDataFrame | pd.DataFrame) -> int:
        spec = self.store.catalogue[layer]
        if len(frame) == 0:
            return 0
        try:
            if spec.is_spatial and len(frame) >= BULK_ROWS and not self.connection.in_transaction:
                self._insert_staged(spec, frame)
            else:
                self._insert_rows(spec, frame)
        except sqlite3.IntegrityError as exc:
            raise InvalidInputError(f"cannot write to layer {layer!r}: {exc} (another writer may have added "
                                    "the same ids meanwhile)") from exc
        if spec.is_spatial:
            _extend_extent(self.connection, layer, np.asarray(frame.geometry.values, dtype=object), self.context)
        return len(frame)

    def _insert_rows(self, spec: LayerSpec, frame: pd.DataFrame) -> None:
        names = spec.field_names
        columns = [codec.to_sql(frame[name], spec.field(name)) for name in names]
        if spec.is_spatial:
            columns.append(gpkg_blob.encode(np.asarray(frame.geometry.values, dtype=object), self.store.srs_id))
            names = [*names, GEOMETRY_COLUMN]
        self._begin()
        self.connection.executemany(f"INSERT INTO {quote(spec.name)} ({', '.join(map(quote, names))}) "
                                    f"VALUES ({', '.join('?' * len(names))})", zip(*columns, strict=True))

    def _insert_staged(self, spec: LayerSpec, frame: pd.DataFrame) -> None:
        """Stage the rows with GDAL in a temporary GeoPackage, then copy them in one transaction."""
        self._scratch = tempfile.TemporaryDirectory(prefix="commonsmap-")
        staging = Path(self._scratch.name) / "staging.gpkg"
        gpkg_bulk.write_staging(frame, spec, self.store.srs_id, staging)
        # Read-only, so the copy is a transaction on the atlas alone (no super-journal beside it).
        self.connection.execute(f"ATTACH DATABASE ? AS {gpkg_bulk.STAGING}", (staging.as_uri() + "?mode=ro",))
        self._begin()
        self.connection.execute(f"PRAGMA cache_size = {-_BULK_CACHE_KIB}")
        suspended = ("rtree_%_insert", "trigger_insert_feature_count_%", "commonsmap_history_%_insert")
        with _triggers_suspended(self.connection, spec.name, suspended), \
                _triggers_suspended(self.connection, HISTORY_TABLE, ("trigger_insert_feature_count_%",)):
            gpkg_bulk.copy_staged(self.connection, spec, self.context)

    def get(self, layer: str, feature_id: str) -> Row | None:
        return _fetch(self.connection, self.store.catalogue[layer], feature_id)

    def existing_ids(self, layer: str, ids: list[str]) -> set[str]:
        self.store.catalogue[layer]
        return _existing_ids(self.connection, layer, ids)

    def find(self, layer: str, field: str, values: list[Any]) -> list[Row]:
        spec = self.store.catalogue[layer]
        field_spec = spec.field(field)
        names = spec.field_names + ([GEOMETRY_COLUMN] if spec.is_spatial else [])
        rows: list[Row] = []
        for start in range(0, len(values), 500):
            chunk = [codec.value_to_sql(v, field_spec) for v in values[start:start + 500]]
            found = self.connection.execute(
                f"SELECT {', '.join(map(quote, names))} FROM {quote(layer)} "
                f"WHERE {quote(field)} IN ({', '.join('?' * len(chunk))})", chunk)
            rows.extend(_row_from_sql(spec, dict(zip(names, raw, strict=True))) for raw in found)
        return rows

    def update(self, layer: str, feature_id: str, values: Row, *, expected_version: int | None = None,
               op: str | None = None) -> None:
        spec = self.store.catalogue[layer]
        assignments, params = [], []
        for name, value in values.items():
            if name == "geometry":
                assignments.append(quote(GEOMETRY_COLUMN))
                params.append(None if value is None else gpkg_blob.encode([value], self.store.srs_id)[0])
            else:
                assignments.append(quote(name))
                params.append(codec.value_to_sql(value, spec.field(name)))
        self._begin()
        if op is not None:
            self.connection.execute(f"UPDATE {CONTEXT_TABLE} SET op = ?", (op,))
        guard, guard_params = ("", []) if expected_version is None else (" AND version = ?", [expected_version])
        cursor = self.connection.execute(
            f"UPDATE {quote(layer)} SET {', '.join(a + ' = ?' for a in assignments)} WHERE id = ?{guard}",
            [*params, feature_id, *guard_params])
        if op is not None:
            self.connection.execute(f"UPDATE {CONTEXT_TABLE} SET op = NULL")
        if cursor.rowcount == 0:
            current = _fetch(self.connection, spec, feature_id)
            if current is None:
                raise NotFoundError(f"no feature {feature_id!r} in layer {layer!r}")
            raise VersionConflictError(f"feature {feature_id!r} of layer {layer!r} is at version "
                                       f"{current['version']}, not {expected_version}: reload it and retry")
        if "geometry" in values and values["geometry"] is not None:
            _extend_extent(self.connection, layer, np.asarray([values["geometry"]], dtype=object), self.context)

    def delete(self, layer: str, feature_id: str) -> None:
        self.store.catalogue[layer]
        self._begin()
        cursor = self.connection.execute(f"DELETE FROM {quote(layer)} WHERE id = ?", (feature_id,))
        if cursor.rowcount == 0:
            raise NotFoundError(f"no feature {feature_id!r} in layer {layer!r}")


@contextmanager
def _triggers_suspended(connection: sqlite3.Connection, layer: str, patterns: tuple[str, ...]) -> Iterator[None]:
    """Drop some of a layer's triggers for a bulk write and recreate them, in the same transaction."""
    saved: list[tuple[str, str]] = []
    for pattern in patterns:
        saved += connection.execute(
            "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ?",
            (layer, pattern)).fetchall()
    for name, _ in saved:
        connection.execute(f"DROP TRIGGER main.{quote(name)}")
    yield
    for _, sql in saved:
        connection.execute(sql)


def _extend_extent(connection: sqlite3.Connection, layer: str, geometries: Any, context: WriteContext) -> None:
    bounds = shapely.bounds(geometries)
    if np.isnan(bounds[:, 0]).all():
        return
    minx, miny = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    maxx, maxy = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    connection.execute(
        "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, :minx), :minx), "
        "min_y = min(coalesce(min_y, :miny), :miny), max_x = max(coalesce(max_x, :maxx), :maxx), "
        "max_y = max(coalesce(max_y, :maxy), :maxy), last_change = :at WHERE table_name = :layer",
        {"minx": float(minx), "miny": float(miny), "maxx": float(maxx), "maxy": float(maxy),
         "at": codec.format_datetime(context.at), "layer": layer})


def _normalise(frame: pd.DataFrame, spec: LayerSpec) -> gpd.GeoDataFrame | pd.DataFrame:
    for field in spec.all_fields:
        if field.name not in frame.columns:
            continue
        column = frame[field.name]
        if field.type in codec.JSON_TYPES:
            frame[field.name] = codec.parse_json_column(column)
        elif field.type == "integer" and column.dtype != "Int64":
            frame[field.name] = column.astype("Int64")
        elif field.type == "boolean" and column.dtype != "boolean":
            frame[field.name] = column.astype("boolean")
        elif field.type == "date" and column.dtype == object:
            frame[field.name] = pd.to_datetime(column)
    return frame


def _existing_ids(connection: sqlite3.Connection, layer: str, ids: list[str]) -> set[str]:
    if len(ids) > 5000:
        wanted = set(ids)
        return {r[0] for r in connection.execute(f"SELECT id FROM {quote(layer)}") if r[0] in wanted}
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update(r[0] for r in connection.execute(
            f"SELECT id FROM {quote(layer)} WHERE id IN ({', '.join('?' * len(chunk))})", chunk))
    return found


def _fetch(connection: sqlite3.Connection, spec: LayerSpec, feature_id: str) -> Row | None:
    names = spec.field_names + ([GEOMETRY_COLUMN] if spec.is_spatial else [])
    found = connection.execute(f"SELECT {', '.join(map(quote, names))} FROM {quote(spec.name)} WHERE id = ?",
                               (feature_id,)).fetchone()
    return None if found is None else _row_from_sql(spec, dict(zip(names, found, strict=True)))


def _row_from_sql(spec: LayerSpec, raw: dict[str, Any]) -> Row:
    row: Row = {name: codec.from_sql(raw[name], spec.field(name)) for name in spec.field_names}
    if spec.is_spatial:
        blob = raw[GEOMETRY_COLUMN]
        row["geometry"] = None if blob is None else gpkg_blob.decode([blob])[0]
    return row


def _state(catalogue: Catalogue, layer: Any, text: Any, blob: Any) -> Row | None:
    if not isinstance(text, str):
        return None
    raw = json.loads(text)
    spec = catalogue.get(layer)
    if spec is None:
        return dict(raw)
    row: Row = {name: codec.from_sql(raw.get(name), spec.field(name)) for name in spec.field_names}
    if spec.is_spatial:
        row["geometry"] = None if blob is None else gpkg_blob.decode([blob])[0]
    return row
