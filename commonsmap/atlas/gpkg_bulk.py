"""Large inserts into a GeoPackage atlas: GDAL writes a staging file, SQLite copies it in one transaction.

Encoding a million rows value by value in Python is what makes a naive import slow. Here the
validated frame becomes an Arrow table (vectorised), GDAL writes it to a staging GeoPackage in a
temporary folder (with its own R-tree, built in bulk), and a single SQLite transaction on the
atlas copies rows, spatial index entries and history rows with ``INSERT ... SELECT``. The atlas is
only touched by that transaction, so a failure or a killed process leaves it as it was.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from commonsmap.atlas.codec import JSON_TYPES, format_datetime
from commonsmap.atlas.gpkg_schema import GEOMETRY_COLUMN, HISTORY_TABLE, arrow_schema, quote
from commonsmap.atlas.store import WriteContext
from commonsmap.catalogue import FieldSpec, LayerSpec

STAGING = "staging"
"""The schema name the staging file is attached under."""


def _json_text(series: pd.Series) -> pa.Array:
    values = [None if v is None or (isinstance(v, float) and np.isnan(v)) else
              v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str) for v in series]
    return pa.array(values, type=pa.string())


def _column(series: pd.Series, spec: FieldSpec, arrow_type: pa.DataType) -> pa.Array:
    if spec.type in JSON_TYPES:
        if series.isna().all():
            return pa.nulls(len(series), type=pa.string())
        if pd.api.types.infer_dtype(series, skipna=True) == "string":  # already JSON text
            return pa.array(series, type=pa.string(), from_pandas=True)
        return _json_text(series)
    if spec.type == "date":
        return pa.array(pd.to_datetime(series).astype("datetime64[ms]"), from_pandas=True).cast(pa.date32())
    if spec.type == "datetime":
        stamps = pd.to_datetime(series, utc=True).astype("datetime64[ms, UTC]")
        return pa.array(stamps, type=arrow_type, from_pandas=True)
    if spec.type == "boolean":
        return pa.array(series.astype("boolean"), type=arrow_type, from_pandas=True)
    if spec.type == "integer":
        return pa.array(series.astype("Int64"), type=arrow_type, from_pandas=True)
    if spec.type == "real":
        return pa.array(series.astype("float64"), type=arrow_type, from_pandas=True)
    return pa.array(series.astype(object), type=pa.string(), from_pandas=True)


def to_arrow(frame: pd.DataFrame, spec: LayerSpec) -> pa.Table:
    """Return a validated layer frame as an Arrow table of the layer's schema (geometry as WKB)."""
    schema = arrow_schema(spec)
    arrays = [_column(frame[field.name], field, schema.field(field.name).type) for field in spec.all_fields]
    if spec.is_spatial:
        geometries = np.asarray(frame.geometry.values, dtype=object)
        arrays.append(pa.array(shapely.to_wkb(geometries, output_dimension=2, flavor="iso"), type=pa.binary()))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_staging(frame: pd.DataFrame, spec: LayerSpec, srs_id: int, path: Path) -> None:
    """Write validated rows to a new staging GeoPackage at ``path`` (with its spatial index)."""
    geometry_type = "Unknown" if spec.geometry == "Geometry" else spec.geometry
    pyogrio.write_arrow(to_arrow(frame, spec), path, layer=spec.name, driver="GPKG",
                        geometry_name=GEOMETRY_COLUMN, geometry_type=geometry_type, crs=f"EPSG:{srs_id}")


def copy_staged(connection: sqlite3.Connection, spec: LayerSpec, context: WriteContext) -> int:
    """Copy the staged rows, their R-tree entries and their history rows into the atlas.

    The connection has the staging file attached as :data:`STAGING` and a write transaction open;
    the layer's insert triggers (spatial index, feature count, history) must be suspended.
    """
    table, staged = quote(spec.name), f"{STAGING}.{quote(spec.name)}"
    offset = connection.execute(
        f"SELECT max(coalesce((SELECT seq FROM main.sqlite_sequence WHERE name = ?), 0), "
        f"coalesce((SELECT max(fid) FROM main.{table}), 0))", (spec.name,)).fetchone()[0]
    columns = ", ".join(quote(name) for name in [*spec.field_names, GEOMETRY_COLUMN])
    connection.execute(f"INSERT INTO main.{table} (fid, {columns}) SELECT fid + ?, {columns} FROM {staged} "
                       "ORDER BY fid", (offset,))
    _copy_spatial_index(connection, f"rtree_{spec.name}_{GEOMETRY_COLUMN}", offset)
    connection.execute(
        f"INSERT INTO main.{HISTORY_TABLE} (layer, feature_id, op, at, who, changeset, note) "
        f"SELECT ?, id, 'insert', ?, ?, ?, ? FROM {staged} ORDER BY fid",
        (spec.name, format_datetime(context.at), context.who, context.changeset, context.note))
    count = int(connection.execute(f"SELECT count(*) FROM {staged}").fetchone()[0])
    for name in (spec.name, HISTORY_TABLE):
        connection.execute("UPDATE main.gpkg_ogr_contents SET feature_count = "
                           f"(SELECT count(*) FROM main.{quote(name)}) WHERE lower(table_name) = lower(?)", (name,))
    return count


def _copy_spatial_index(connection: sqlite3.Connection, rtree: str, offset: int) -> None:
    """Fill the atlas R-tree from the staged one.

    Into an empty index with no fid offset the staged R-tree is the right one as it stands, so its
    node tables are copied whole (GDAL built it in bulk); otherwise entries are inserted one by one.
    """
    shadows = ("node", "rowid", "parent")
    empty = connection.execute(f"SELECT count(*) FROM main.{quote(rtree + '_rowid')}").fetchone()[0] == 0
    same_nodes = connection.execute(
        f"SELECT (SELECT length(data) FROM main.{quote(rtree + '_node')} WHERE nodeno = 1) = "
        f"(SELECT length(data) FROM {STAGING}.{quote(rtree + '_node')} WHERE nodeno = 1)").fetchone()[0]
    if offset == 0 and empty and same_nodes:
        for shadow in shadows:
            table = quote(f"{rtree}_{shadow}")
            connection.execute(f"DELETE FROM main.{table}")
            connection.execute(f"INSERT INTO main.{table} SELECT * FROM {STAGING}.{table}")
        return
    connection.execute(f"INSERT INTO main.{quote(rtree)} SELECT id + ?, minx, maxx, miny, maxy "
                       f"FROM {STAGING}.{quote(rtree)}", (offset,))

