"""Read the GeoJSON that Mapeo and CoMapeo export, as rows for the observations layer.

Mapeo Desktop writes each observation's tags flat in ``properties`` with ``$created``,
``$modified``, ``$photos`` and ``categoryId``; mapeo-schema documents (and CoMapeo exports)
nest them under ``tags`` with ``created_at``/``createdAt`` and ``attachments``. Both become
rows with ``kind`` (from the category, ``other`` when the category is not in the vocabulary),
``observed_at``, ``notes`` and ``attachments``; every other tag is kept under ``extra``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely

from commonsmap.vocabularies import ObservationKind

MARKERS = (b'"$created"', b'"categoryId"', b'"created_at"', b'"createdAt"')
_CREATED = ("$created", "created_at", "createdAt", "timestamp")
_SKIP = {"$modified", "$version", "$photos", "attachments", "id", "docId", "versionId", "schemaName",
         "deviceId", "links", "userId", "type", "schemaVersion", "updated_at", "updatedAt", "metadata"}


def is_mapeo_export(document: Any) -> bool:
    """Whether a parsed GeoJSON document looks like a Mapeo or CoMapeo export."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return False
    features = document.get("features") or []
    if not features:
        return False
    properties = features[0].get("properties") or {}
    keys = set(properties) | set(properties.get("tags") or {})
    return bool(keys & {"$created", "categoryId"}) or ("tags" in properties and bool(keys & set(_CREATED)))


def _attachments(properties: dict[str, Any]) -> list[str]:
    items = properties.get("$photos") or properties.get("attachments") or []
    names = []
    for item in items:
        names.append(str(item.get("id") or item.get("name") or item.get("driveDiscoveryId") or item)
                     if isinstance(item, dict) else str(item))
    return names


def _kind(category: Any) -> str:
    try:
        return ObservationKind.parse(category).value if category else ObservationKind.OTHER.value
    except ValueError:
        return ObservationKind.OTHER.value


def from_mapeo(document: dict[str, Any]) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Convert a Mapeo/CoMapeo FeatureCollection into observation rows (EPSG:4326)."""
    rows, geometries = [], []
    for feature in document["features"]:
        properties = dict(feature.get("properties") or {})
        tags = dict(properties.pop("tags", None) or {})
        merged = {**properties, **tags}
        created = next((merged[k] for k in _CREATED if merged.get(k)), None)
        category = merged.get("categoryId") or merged.get("presetRef") or merged.get("category")
        extra = {k: v for k, v in merged.items()
                 if k not in _SKIP and k not in _CREATED and k not in ("notes", "categoryId")}
        extra["category"] = category
        extra["mapeo_id"] = feature.get("id") or properties.get("id") or properties.get("docId")
        rows.append({"kind": _kind(category), "observed_at": created, "notes": merged.get("notes"),
                     "attachments": _attachments(properties) or None,
                     "extra": {k: v for k, v in extra.items() if v not in (None, "", [])} or None})
        geometries.append(shapely.geometry.shape(feature["geometry"]) if feature.get("geometry") else None)
    notes = [f"Mapeo export: {len(rows)} observations; categories outside the vocabulary became 'other' "
             "(the original category is kept in extra)"]
    return gpd.GeoDataFrame(rows, geometry=geometries, crs="EPSG:4326"), notes
