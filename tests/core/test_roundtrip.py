"""Round trips: real files imported, exported in every format, imported again, equal within 1e-7 degrees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import commonsmap as cm

TOLERANCE = 1e-7
EXPORTS = ["gpkg", "geojson", "csv", "shp", "zip", "kml"]
COMPARED_SYSTEM = ["id", "sensitivity", "custodian", "created", "extra"]

SOURCES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "geojson": ("kh_community_forests.geojson", "commons", {"values": {"kind": "forest"}, "unknown": "keep"}),
    "gpkg": ("bubenec_plots.gpkg", "parcels",
             {"mapping": {"ID": "cadastral_ref"}, "values": {"cadastral_unit": "730106"}, "unknown": "keep"}),
    "shp": ("bologna_zones.shp", "admin_units",
            {"mapping": {"nomezona": "name", "codzona": "code"}, "values": {"kind": "zone"}, "unknown": "keep"}),
    "zip": ("bologna_zones.zip", "admin_units",
            {"mapping": {"nomezona": "name", "codzona": "code"}, "values": {"kind": "zone"}, "unknown": "drop"}),
    "kml": ("kh_forest_applications.kml", "observations",
            {"values": {"kind": "other", "observed_at": "2014-02-02T17:00:00Z"}, "unknown": "keep"}),
    "kmz": ("kh_forest_applications.kmz", "observations",
            {"values": {"kind": "other", "observed_at": "2014-02-02T17:00:00Z"}, "unknown": "keep"}),
    "gpx": ("kh_forest_waypoints.gpx", "observations",
            {"values": {"kind": "other", "observed_at": "2014-02-02T17:00:00Z"}, "mapping": {"desc": "notes"},
             "unknown": "keep"}),
    "csv": ("palermo_pacts.csv", "pacts",
            {"mapping": {"Titolo proposta": "title"}, "values": {"status": "active"}, "unknown": "keep"}),
    "mapeo": ("mapeo_export.geojson", "observations", {}),
}


def _same_value(a: Any, b: Any) -> bool:
    missing_a = a is None or (not isinstance(a, list | dict) and pd.isna(a))
    missing_b = b is None or (not isinstance(b, list | dict) and pd.isna(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    if isinstance(a, pd.Timestamp) or isinstance(b, pd.Timestamp):
        return pd.Timestamp(a) == pd.Timestamp(b)
    return bool(a == b)


def assert_same_layer(expected: pd.DataFrame, actual: pd.DataFrame, spec: cm.LayerSpec,
                      system: list[str] = COMPARED_SYSTEM) -> None:
    assert len(expected) == len(actual)
    expected = expected.set_index("id", drop=False).sort_index()
    actual = actual.set_index("id", drop=False).loc[expected.index]
    names = [f.name for f in spec.fields] + system
    for name in names:
        for key, a, b in zip(expected.index, expected[name], actual[name], strict=True):
            assert _same_value(a, b), f"{spec.name}.{name} of {key}: {a!r} != {b!r}"
    if spec.is_spatial:
        for key, a, b in zip(expected.index, expected.geometry, actual.geometry, strict=True):
            if a is None:
                assert b is None
                continue
            assert shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=TOLERANCE), key


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("export", EXPORTS)
def test_real_file_round_trip(source: str, export: str, data: Path, tmp_path: Path) -> None:
    file, layer, options = SOURCES[source]
    original = cm.Atlas.create(tmp_path / "original.gpkg", custodian="Comunidad")
    original.import_file(data / file, layer, **options)
    spec = original.spec(layer)
    columns = None
    if export in ("shp", "zip") and original[layer]["extra"].map(lambda v: len(json.dumps(v)) > 254).any():
        with pytest.raises(cm.InvalidInputError, match="a Shapefile holds 254 at most"):
            original.export(layer, tmp_path / f"out.{export}")
        columns = [f for f in spec.field_names if f != "extra"]
    exported = original.export(layer, tmp_path / f"out.{export}", columns=columns)
    copy = cm.Atlas.create(tmp_path / "copy.gpkg", custodian="Someone else")
    for path in exported:
        copy.import_file(path, layer, unknown="error" if export != "kml" else "drop")
    compared = COMPARED_SYSTEM if columns is None else [c for c in COMPARED_SYSTEM if c != "extra"]
    assert_same_layer(original[layer], copy[layer], spec, compared)


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=40).map(str.strip).filter(bool)
coordinates = st.tuples(st.floats(-179, 178, allow_nan=False), st.floats(-89, 88, allow_nan=False))
boxes = st.builds(lambda c, w, h: shapely.box(c[0], c[1], c[0] + w, c[1] + h), coordinates,
                  st.floats(1e-4, 1.0), st.floats(1e-4, 1.0))
records = st.fixed_dictionaries({
    "name": names,
    "kind": st.sampled_from(["forest", "pasture", "river", "garden", "square"]),
    "ownership": st.one_of(st.none(), st.sampled_from(["communal", "municipal", "unknown"])),
    "description": st.one_of(st.none(), names),
    "ostrom_principles": st.one_of(st.none(), st.dictionaries(st.sampled_from(["boundaries", "monitoring"]),
                                                              st.booleans(), min_size=1)),
    "sensitivity": st.sampled_from(["public", "internal", "community"]),
    "geometry": boxes,
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(records, min_size=1, max_size=8), export=st.sampled_from(["gpkg", "geojson", "csv", "shp"]))
def test_any_commons_round_trip(rows: list[dict[str, Any]], export: str, tmp_path_factory: pytest.TempPathFactory
                                ) -> None:
    folder = tmp_path_factory.mktemp("prop")
    original = cm.Atlas.create(folder / "a.gpkg", custodian="Cooperativa")
    original.add("commons", gpd.GeoDataFrame(rows, geometry="geometry", crs=4326))
    exported = original.export("commons", folder / f"out.{export}")
    copy = cm.Atlas.create(folder / "b.gpkg")
    for path in exported:
        copy.import_file(path, "commons")
    assert_same_layer(original["commons"], copy["commons"], original.spec("commons"))
