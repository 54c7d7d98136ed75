"""Create the tables of a GeoPackage atlas from the layer catalogue.

GDAL (through pyogrio) creates every layer so the file follows the GeoPackage standard
(contents, geometry columns, spatial reference systems, R-tree spatial index); commonsmap then
adds a unique index on each layer's ``id``, its own metadata, and the history triggers that
record every write, including writes made by other programs such as QGIS.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyogrio
from pyproj import CRS

from commonsmap.catalogue import Catalogue, LayerSpec
from commonsmap.privacy import OPAQUE_KEY

GEOMETRY_COLUMN = "geom"
HISTORY_TABLE = "commonsmap_history"
CONTEXT_TABLE = "commonsmap_context"
META_TABLE = "commonsmap_meta"
SCHEMA_VERSION = "1"


_ARROW_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "real": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("ms", tz="UTC"),
}

_HISTORY_SCHEMA = pa.schema([
    ("layer", pa.string()), ("feature_id", pa.string()), ("op", pa.string()),
    ("at", pa.string()), ("who", pa.string()), ("changeset", pa.string()), ("note", pa.string()),
    ("before", pa.string()), ("before_geom", pa.binary()),
    ("after", pa.string()), ("after_geom", pa.binary()),
])


def quote(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def arrow_schema(layer: LayerSpec) -> pa.Schema:
    """Return the Arrow schema of a layer's attributes (and its WKB geometry column)."""
    fields = [(f.name, _ARROW_TYPES.get(f.type, pa.string())) for f in layer.all_fields]
    if layer.is_spatial:
        fields.append((GEOMETRY_COLUMN, pa.binary()))
    return pa.schema(fields)


def create_layer(path: Path, layer: LayerSpec, crs: CRS) -> None:
    """Create one empty layer with GDAL (contents, geometry column, R-tree), appending to ``path``."""
    table = arrow_schema(layer).empty_table()
    if layer.is_spatial:
        geometry_type = "Unknown" if layer.geometry == "Geometry" else layer.geometry
        pyogrio.write_arrow(table, path, layer=layer.name, driver="GPKG", geometry_name=GEOMETRY_COLUMN,
                            geometry_type=geometry_type, crs=crs.to_wkt(), append=path.exists(),
                            layer_options={"DESCRIPTION": layer.description.get("en", ""),
                                           "IDENTIFIER": layer.name})
    else:
        pyogrio.write_arrow(table, path, layer=layer.name, driver="GPKG", geometry_name=None,
                            geometry_type=None, crs=None, append=path.exists(),
                            layer_options={"DESCRIPTION": layer.description.get("en", ""),
                                           "IDENTIFIER": layer.name})


def _json_object(layer: LayerSpec, row: str) -> str:
    pairs = ", ".join(f"'{f.name}', {row}.{quote(f.name)}" for f in layer.all_fields)
    return f"json_object({pairs})"


def history_triggers(layer: LayerSpec) -> list[str]:
    """Return the SQL of the triggers that write a layer's history."""
    table = quote(layer.name)
    ctx = f"(SELECT {{}} FROM {CONTEXT_TABLE} WHERE id = 1)"
    at = f"coalesce({ctx.format('at')}, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    who, changeset, note = (ctx.format(c) for c in ("who", "changeset", "note"))
    op = ctx.format("op")
    geom_old = f"OLD.{GEOMETRY_COLUMN}" if layer.is_spatial else "NULL"
    geom_new = f"NEW.{GEOMETRY_COLUMN}" if layer.is_spatial else "NULL"
    columns = "layer, feature_id, op, at, who, changeset, note, before, before_geom, after, after_geom"
    name = f"commonsmap_history_{layer.name}"
    return [
        f"CREATE TRIGGER {quote(name + '_insert')} AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {HISTORY_TABLE} ({columns}) VALUES ('{layer.name}', NEW.id, "
        f"coalesce({op}, 'insert'), {at}, {who}, {changeset}, {note}, NULL, NULL, NULL, NULL); END",
        f"CREATE TRIGGER {quote(name + '_update')} AFTER UPDATE ON {table} BEGIN "
        f"INSERT INTO {HISTORY_TABLE} ({columns}) VALUES ('{layer.name}', NEW.id, "
        f"coalesce({op}, 'update'), {at}, {who}, {changeset}, {note}, "
        f"{_json_object(layer, 'OLD')}, {geom_old}, {_json_object(layer, 'NEW')}, {geom_new}); END",
        f"CREATE TRIGGER {quote(name + '_delete')} AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {HISTORY_TABLE} ({columns}) VALUES ('{layer.name}', OLD.id, "
        f"coalesce({op}, 'delete'), {at}, {who}, {changeset}, {note}, "
        f"{_json_object(layer, 'OLD')}, {geom_old}, NULL, NULL); END",
    ]


def publish_index_name(layer: LayerSpec) -> str:
    """Name of the index that finds a layer's features published in generalised form."""
    return f"{layer.name}_publish_as"


def add_publish_index(connection: sqlite3.Connection, layer: LayerSpec) -> None:
    """Index the few features marked ``publish_as`` (a partial index: unmarked rows cost nothing).

    Every read for a viewer looks for them, so on a large layer this is a lookup, not a scan.
    """
    connection.execute(f"CREATE INDEX IF NOT EXISTS {quote(publish_index_name(layer))} ON {quote(layer.name)} "
                       "(publish_as) WHERE publish_as IS NOT NULL")


def add_commonsmap_objects(connection: sqlite3.Connection, layer: LayerSpec) -> None:
    """Add what commonsmap keeps on a layer GDAL created: a unique index on ``id`` and the history triggers."""
    connection.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {quote(layer.name + '_id')} ON {quote(layer.name)} (id)")
    add_publish_index(connection, layer)
    for trigger in history_triggers(layer):
        connection.execute(trigger)


def create_atlas_file(path: Path, catalogue: Catalogue, crs: CRS, meta: dict[str, str]) -> None:
    """Create a new GeoPackage atlas at ``path`` (which must not exist yet)."""
    for layer in catalogue.values():
        create_layer(path, layer, crs)
    pyogrio.write_arrow(_HISTORY_SCHEMA.empty_table(), path, layer=HISTORY_TABLE, driver="GPKG",
                        geometry_name=None, geometry_type=None, crs=None, append=True,
                        layer_options={"DESCRIPTION": "Every write to every layer: who, when, before, after."})
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        connection.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY NOT NULL, value TEXT)")
        connection.execute(
            f"CREATE TABLE {CONTEXT_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT, who TEXT, "
            "changeset TEXT, op TEXT, note TEXT)")
        connection.execute(f"INSERT INTO {CONTEXT_TABLE} (id) VALUES (1)")
        connection.execute(f"CREATE INDEX commonsmap_history_feature ON {HISTORY_TABLE} (layer, feature_id)")
        for layer in catalogue.values():
            add_commonsmap_objects(connection, layer)
        connection.executemany(f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)",
                               {**meta, "schema_version": SCHEMA_VERSION,
                                OPAQUE_KEY: secrets.token_hex(32)}.items())
        connection.execute("COMMIT")
    finally:
        connection.close()
