"""Map a file's columns onto a layer's fields.

Explicit pairs come first (``{"NOMBRE": "name"}``); other columns match a field when their
name equals the field's name or one of its labels in any language (ignoring case, spaces and
hyphens), or the field's name cut to ten characters as Shapefiles store it. Constant values can
fill fields the file lacks (``{"kind": "forest"}``). Columns with no value in any row are left
out, since they carry nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from commonsmap.catalogue import LayerSpec
from commonsmap.errors import InvalidInputError, Problem

_SHAPEFILE_NAME_LENGTH = 10


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def shapefile_names(layer: LayerSpec) -> dict[str, str]:
    """Return ``{field: name of at most ten characters}``, unique within the layer, for Shapefiles.

    Exports write these names and imports recognise them, so a Shapefile round trip keeps every field.
    """
    names: dict[str, str] = {}
    for spec in layer.all_fields:
        short, number = spec.name[:_SHAPEFILE_NAME_LENGTH], 0
        while short in names.values():
            number += 1
            suffix = f"_{number}"
            short = spec.name[: _SHAPEFILE_NAME_LENGTH - len(suffix)] + suffix
        names[spec.name] = short
    return names


def field_aliases(layer: LayerSpec) -> dict[str, str]:
    """Return ``{normalised alias: field name}`` for automatic matching."""
    aliases: dict[str, str] = {}
    short = shapefile_names(layer)
    for spec in layer.all_fields:
        aliases.setdefault(_key(spec.name), spec.name)
    for spec in layer.all_fields:
        aliases.setdefault(_key(short[spec.name]), spec.name)
    for spec in layer.all_fields:
        for label in spec.label.values():
            aliases.setdefault(_key(label), spec.name)
    return aliases


def map_columns(frame: pd.DataFrame, layer: LayerSpec, mapping: Mapping[str, str] | None = None,
                values: Mapping[str, Any] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Rename a frame's columns to the layer's field names and add constant values.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        Rows as read from a file.
    layer : LayerSpec
        The target layer.
    mapping : mapping of str to str, optional
        ``{file column: field}``; the fields must exist and the columns be in the file.
    values : mapping of str to object, optional
        ``{field: value}`` for every row (e.g. ``{"kind": "forest", "sensitivity": "community"}``).

    Returns
    -------
    frame, notes
        The renamed frame (unmatched columns keep their names) and what was matched.

    Raises
    ------
    InvalidInputError
        For mappings naming unknown columns or fields, or two columns mapped to one field.
    """
    mapping = dict(mapping or {})
    values = dict(values or {})
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    columns = [c for c in frame.columns if c != geometry]
    problems: list[Problem] = []
    fields = set(layer.field_names)
    for column, target in mapping.items():
        if column not in frame.columns:
            problems.append(Problem(f"the file has no column {column!r}; its columns are: "
                                    f"{', '.join(map(str, columns))}"))
        if target not in fields:
            problems.append(Problem(f"layer {layer.name!r} has no field {target!r}", field=target))
    for target in values:
        if target not in fields:
            problems.append(Problem(f"layer {layer.name!r} has no field {target!r}", field=target))
    if problems:
        raise InvalidInputError(problems)
    empty = [c for c in columns if c not in mapping and frame[c].isna().all()]
    frame = frame.drop(columns=empty)
    aliases = field_aliases(layer)
    renames: dict[str, str] = dict(mapping)
    for column in frame.columns:
        if column in renames or column == geometry:
            continue
        matched = aliases.get(_key(str(column)))
        if matched is not None and matched not in renames.values() and matched not in mapping.values():
            renames[column] = matched
    targets = list(renames.values())
    clashes = sorted({t for t in targets if targets.count(t) > 1})
    if clashes:
        raise InvalidInputError([Problem(f"several columns map onto field {t!r}: "
                                         f"{', '.join(c for c, v in renames.items() if v == t)}", field=t)
                                 for t in clashes])
    renamed = frame.rename(columns=renames)
    for target, value in values.items():
        if target in renamed.columns:
            renamed[target] = renamed[target].where(renamed[target].notna(), value)
        else:
            renamed[target] = [value] * len(renamed)
    notes = [f"{c!r} -> {t!r}" for c, t in renames.items() if c != t]
    if empty:
        notes.append(f"empty columns left out: {', '.join(map(str, empty))}")
    return renamed, notes
