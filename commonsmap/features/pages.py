"""Pages of features as a viewer may see them: the provider behind the web layer and notebooks.

:func:`feature_page` answers "the features of this layer in this box, matching these
filters, from this offset, so many at a time" with the number matched, for one viewer. What
the viewer may see is decided by :mod:`commonsmap.privacy` exactly as for every other output:
its SQL condition narrows the read, :func:`~commonsmap.privacy.row_access` has the last word
whenever that condition is not exact for the viewer, and features the viewer may see only
generalised come from :meth:`Atlas.generalised`. Generalised features follow the whole ones,
never take part in attribute filters, and carry their opaque id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from commonsmap.atlas.codec import JSON_TYPES
from commonsmap.atlas.store import Bbox, Selection, bbox_parts
from commonsmap.catalogue import LayerSpec
from commonsmap.derived import DERIVED, add_derived
from commonsmap.errors import NotFoundError
from commonsmap.privacy import GENERALISED_COLUMN, Viewer, prefilter_is_exact, row_access, sql_prefilter
from commonsmap.query.cql2 import SqlFilter

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

Record = dict[str, Any]


@dataclass(frozen=True)
class FeatureQuery:
    """What to read of a layer.

    Attributes
    ----------
    bbox : tuple of float, optional
        ``(minx, miny, maxx, maxy)`` in the atlas CRS: features whose geometry intersects it.
    filters : tuple of SqlFilter
        Attribute conditions, all of which must hold (see :mod:`commonsmap.query`).
    limit : int, optional
        The page size; None for every feature.
    offset : int
        How many matching features to skip.
    timeout : float, optional
        Seconds each read may take before it is stopped with ``QueryTimeoutError``.
    """

    bbox: Bbox | None = None
    filters: tuple[SqlFilter, ...] = ()
    limit: int | None = 10
    offset: int = 0
    timeout: float | None = None


@dataclass
class FeaturePage:
    """One page of features: JSON-ready attributes and shapely geometries, and the number matched."""

    layer: str
    records: list[Record]
    geometries: list[Any]
    number_matched: int
    generalised: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    def to_frame(self, crs: Any = None) -> pd.DataFrame:
        """The page as a GeoDataFrame (a DataFrame for layers without geometry)."""
        import geopandas as gpd

        frame = pd.DataFrame(self.records)
        frame[GENERALISED_COLUMN] = self.generalised
        if any(g is not None for g in self.geometries) or not self.records:
            return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(self.geometries, crs=crs), crs=crs)
        return frame


def _converters(spec: LayerSpec, names: list[str]) -> list[tuple[int, str]]:
    types = {f.name: f.type for f in spec.all_fields}
    return [(i, types[n]) for i, n in enumerate(names) if types.get(n) in JSON_TYPES or types.get(n) == "boolean"]


def _records(spec: LayerSpec, names: list[str], rows: list[tuple[Any, ...]]) -> list[Record]:
    """Raw stored values as JSON-ready records (JSON text parsed, 0/1 as booleans)."""
    converters = _converters(spec, names)
    records = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        for index, kind in converters:
            value = row[index]
            if value is not None:
                record[names[index]] = bool(value) if kind == "boolean" else \
                    json.loads(value) if isinstance(value, str) else value
        records.append(record)
    if spec.name in DERIVED and records:
        derived = add_derived(spec.name, pd.DataFrame(records))
        for name in DERIVED[spec.name]:
            for record, value in zip(records, derived[name], strict=True):
                record[name] = None if _missing(value) else value
    return records


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def json_ready(value: Any) -> Any:
    """A value read through pandas, as JSON takes it: timestamps as ISO text, missing as None."""
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None and value == value.normalize():
            return value.strftime("%Y-%m-%d")
        return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if value.tzinfo \
            else value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | dict):
        return value
    return None if _missing(value) else value


def _generalised_records(frame: pd.DataFrame) -> tuple[list[Record], list[Any]]:
    names = [c for c in frame.columns if c not in ("geometry", GENERALISED_COLUMN)]
    records = [{n: json_ready(v) for n, v in zip(names, row, strict=True)}
               for row in frame[names].itertuples(index=False, name=None)]
    geometries = list(frame.geometry.values) if "geometry" in frame.columns else [None] * len(frame)
    return records, geometries


def _generalised(atlas: Atlas, spec: LayerSpec, viewer: Viewer, query: FeatureQuery) -> pd.DataFrame:
    if viewer.sees_everything or query.filters:
        return pd.DataFrame()
    coarse = atlas.generalised(spec.name, viewer)
    if query.bbox is not None and spec.is_spatial and len(coarse):
        parts = shapely.union_all([shapely.box(*part) for part in bbox_parts(query.bbox)])
        coarse = coarse[coarse.geometry.intersects(parts) | coarse.geometry.isna()]
    return coarse


def _selection(spec: LayerSpec, viewer: Viewer, query: FeatureQuery) -> Selection:
    selection = Selection(bbox=query.bbox)
    for condition in query.filters:
        selection = selection.narrowed(condition.sql, condition.params)
    return selection.narrowed(sql_prefilter(spec, viewer))


def _visible_ids(atlas: Atlas, spec: LayerSpec, viewer: Viewer, selection: Selection,
                 timeout: float | None) -> list[str]:
    """Ids of the selected rows the viewer sees whole, in order (for viewers the SQL condition does not settle)."""
    columns = ["id", "sensitivity", "custodian", "publish_as", *[h for h in spec.holder_fields if h != "id"]]
    rows = atlas.store.select(spec.name, selection, columns, timeout=timeout)
    frame = pd.DataFrame(_records(spec, columns, rows), columns=columns)
    full, _ = row_access(frame, spec, viewer)
    return [str(i) for i in frame["id"][full]]


def feature_page(atlas: Atlas, layer: str, query: FeatureQuery, viewer: Viewer) -> FeaturePage:
    """Return one page of a layer's features as ``viewer`` may see them, with the number matched.

    Parameters
    ----------
    atlas : Atlas
        The atlas to read.
    layer : str
        The layer.
    query : FeatureQuery
        Box, filters, page.
    viewer : Viewer
        Who is looking.

    Returns
    -------
    FeaturePage
        Whole features first (in the order they were written), then generalised ones.
    """
    spec = atlas.catalogue[layer]
    selection = _selection(spec, viewer, query)
    names = spec.field_names
    columns = names + (["geometry"] if spec.is_spatial else [])
    rows: list[tuple[Any, ...]] = []
    if prefilter_is_exact(viewer):
        rows, matched_whole = atlas.store.select_page(layer, selection, columns, limit=query.limit,
                                                      offset=query.offset, timeout=query.timeout)
    else:
        visible = _visible_ids(atlas, spec, viewer, selection, query.timeout)
        matched_whole = len(visible)
        end = None if query.limit is None else query.offset + query.limit
        wanted = visible[query.offset:end]
        if wanted:
            marks = ", ".join("?" * len(wanted))
            rows = atlas.store.select(layer, Selection(f"t.id IN ({marks})", tuple(wanted)), columns,
                                      timeout=query.timeout)
    records = _records(spec, names, [r[:len(names)] for r in rows])
    geometries = list(shapely.from_wkb([r[-1] for r in rows])) if spec.is_spatial and rows else [None] * len(rows)
    flags = [False] * len(records)
    coarse = _generalised(atlas, spec, viewer, query)
    room = None if query.limit is None else query.limit - len(records)
    if len(coarse) and (room is None or room > 0):
        start = max(0, query.offset - matched_whole)
        part = coarse.iloc[start:] if room is None else coarse.iloc[start:start + room]
        more, shapes = _generalised_records(part)
        records += more
        geometries += shapes
        flags += [True] * len(more)
    return FeaturePage(layer, records, geometries, matched_whole + len(coarse), flags)


def feature(atlas: Atlas, layer: str, feature_id: str, viewer: Viewer) -> tuple[Record, Any, bool]:
    """Return one feature as ``viewer`` may see it: (record, geometry, generalised).

    A generalised feature is found by its opaque id. A feature the viewer may not see is
    reported missing exactly as one that does not exist.

    Raises
    ------
    NotFoundError
        If there is no such feature, or none the viewer may see.
    """
    spec = atlas.catalogue[layer]
    if feature_id.startswith("g-") and not viewer.sees_everything:
        coarse = atlas.generalised(layer, viewer)
        found = coarse[coarse["id"] == feature_id] if len(coarse) else coarse
        if len(found):
            records, geometries = _generalised_records(found)
            return records[0], geometries[0], True
        raise NotFoundError(f"no feature {feature_id!r} in layer {layer!r}")
    selection = Selection("t.id = ?", (feature_id,)).narrowed(sql_prefilter(spec, viewer))
    names = spec.field_names
    rows = atlas.store.select(layer, selection, names + (["geometry"] if spec.is_spatial else []))
    if rows and not prefilter_is_exact(viewer):
        frame = pd.DataFrame(_records(spec, names, [rows[0][:len(names)]]), columns=names)
        if not row_access(frame, spec, viewer)[0][0]:
            rows = []
    if not rows:
        raise NotFoundError(f"no feature {feature_id!r} in layer {layer!r}")
    record = _records(spec, names, [rows[0][:len(names)]])[0]
    geometry = shapely.from_wkb(rows[0][-1]) if spec.is_spatial and rows[0][-1] is not None else None
    return record, geometry, False
