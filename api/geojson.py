"""GeoJSON bodies, written straight to bytes: geometries by GEOS, attributes by orjson.

The hot path of the API (a page of features) never builds a frame or a dict of geometry
coordinates: GEOS writes each geometry's GeoJSON text once, and orjson embeds it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import shapely

from commonsmap.features import FeaturePage

GEOJSON = "application/geo+json"
JSON = "application/json"


def _geometry_texts(geometries: list[Any]) -> list[orjson.Fragment | None]:
    if not geometries:
        return []
    texts = shapely.to_geojson(np.asarray(geometries, dtype=object))
    return [None if t is None else orjson.Fragment(t) for t in texts]


def feature_object(record: dict[str, Any], geometry: Any, generalised: bool, links: list[dict[str, Any]] | None = None,
                   geometry_text: orjson.Fragment | None = None) -> dict[str, Any]:
    """One GeoJSON Feature as a dict ready for orjson (``id`` on the feature, not in the properties)."""
    properties = record.copy()
    del properties["id"]
    if generalised:
        properties["generalised"] = True
    if geometry_text is None and geometry is not None:
        geometry_text = _geometry_texts([geometry])[0]
    body: dict[str, Any] = {"type": "Feature", "id": record["id"], "geometry": geometry_text,
                            "properties": properties}
    if links:
        body["links"] = links
    return body


def feature_collection(page: FeaturePage, geometries: list[Any], links: list[dict[str, Any]],
                       time_stamp: str) -> bytes:
    """A page of features as a GeoJSON FeatureCollection with OGC API members."""
    texts = _geometry_texts(geometries)
    features = [feature_object(record, None, flag, geometry_text=text)
                for record, text, flag in zip(page.records, texts or [None] * len(page.records),
                                              page.generalised, strict=True)]
    return orjson.dumps({"type": "FeatureCollection", "features": features, "numberMatched": page.number_matched,
                         "numberReturned": len(features), "timeStamp": time_stamp, "links": links})


def dumps(body: Any) -> bytes:
    """Any JSON body."""
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
