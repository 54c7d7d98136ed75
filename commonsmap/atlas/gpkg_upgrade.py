"""Bring an existing GeoPackage atlas up to the catalogue: new layers, new fields.

When the catalogue gains a layer or a field (a new file or a new ``[[fields]]`` entry in
``layers/``), atlases made before open as they were and are upgraded in place: missing layers
are created, missing columns added (empty), and the history triggers rebuilt so that they
record the new fields. Nothing is removed: a column the catalogue no longer names stays in
the file. The column changes are one transaction; a crash leaves the file as it was.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from pyproj import CRS

from commonsmap.atlas.gpkg_schema import (
    META_TABLE,
    add_commonsmap_objects,
    add_publish_index,
    create_layer,
    history_triggers,
    publish_index_name,
    quote,
)
from commonsmap.catalogue import Catalogue, FieldSpec, LayerSpec
from commonsmap.errors import AtlasError
from commonsmap.privacy import OPAQUE_KEY

_SQL_TYPES = {"integer": "INTEGER", "real": "REAL", "boolean": "BOOLEAN", "date": "DATE", "datetime": "DATETIME"}


def _sql_type(field: FieldSpec) -> str:
    return _SQL_TYPES.get(field.type, "TEXT")


def _unindexed(connection: sqlite3.Connection, catalogue: Catalogue, new_layers: list[LayerSpec]) -> list[LayerSpec]:
    indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return [layer for layer in catalogue.values()
            if layer not in new_layers and publish_index_name(layer) not in indexes]


def _missing(connection: sqlite3.Connection,
             catalogue: Catalogue) -> tuple[list[LayerSpec], dict[str, list[FieldSpec]]]:
    tables = {row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents")}
    new_layers = [layer for name, layer in catalogue.items() if name not in tables]
    new_fields: dict[str, list[FieldSpec]] = {}
    for name, layer in catalogue.items():
        if name not in tables:
            continue
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({quote(name)})")}
        absent = [f for f in layer.all_fields if f.name not in columns]
        if absent:
            new_fields[name] = absent
    return new_layers, new_fields


def _has_opaque_key(connection: sqlite3.Connection) -> bool:
    return connection.execute(f"SELECT 1 FROM {META_TABLE} WHERE key = ?", (OPAQUE_KEY,)).fetchone() is not None


def upgrade_atlas_file(path: Path, catalogue: Catalogue, crs: CRS) -> list[str]:
    """Add the layers and fields of ``catalogue`` that the atlas file lacks; return what was done."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        new_layers, new_fields = _missing(connection, catalogue)
        unindexed = _unindexed(connection, catalogue, new_layers)
        has_key = _has_opaque_key(connection)
    finally:
        connection.close()
    if not new_layers and not new_fields and not unindexed and has_key:
        return []
    if not os.access(path, os.W_OK):
        raise AtlasError(f"{path} was made with an older catalogue and needs new layers or fields, "
                         "but the file is read-only; open a writable copy once to upgrade it")
    done: list[str] = []
    for layer in new_layers:
        create_layer(path, layer, crs)
        done.append(f"added layer {layer.name!r}")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        for layer in new_layers:
            add_commonsmap_objects(connection, layer)
        if not has_key:
            connection.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)",
                               (OPAQUE_KEY, secrets.token_hex(32)))
            done.append("added a secret key for the ids of generalised features")
        for name, fields in new_fields.items():
            for field in fields:
                connection.execute(f"ALTER TABLE {quote(name)} ADD COLUMN {quote(field.name)} {_sql_type(field)}")
                done.append(f"added field {field.name!r} to layer {name!r}")
            layer = catalogue[name]
            for suffix in ("_insert", "_update", "_delete"):
                connection.execute(f"DROP TRIGGER IF EXISTS {quote('commonsmap_history_' + name + suffix)}")
            for trigger in history_triggers(layer):
                connection.execute(trigger)
        for layer in unindexed:
            add_publish_index(connection, layer)
            done.append(f"indexed the generalised features of layer {layer.name!r}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()
    return done
