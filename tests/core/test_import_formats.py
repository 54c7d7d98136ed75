"""Every supported input format imports from a real file, with its CRS handled and fields mapped."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import commonsmap as cm
from tests.conftest import assert_valid_geopackage


def test_geojson_with_invalid_polygons_is_repaired_and_reported(atlas: cm.Atlas, data: Path) -> None:
    source = gpd.read_file(data / "kh_community_forests.geojson")
    broken = [i for i, g in enumerate(source.geometry) if not g.is_valid]
    result = atlas.import_file(data / "kh_community_forests.geojson", "commons", values={"kind": "forest"},
                               unknown="keep", who="field team")
    assert result.count == len(source)
    assert sorted(p.row for p in result.report.repairs) == broken and len(broken) == 4
    assert all("make_valid" in str(p) for p in result.report.repairs)
    commons = atlas["commons"]
    assert commons.geometry.is_valid.all()
    assert list(commons["name"]) == list(source["name"])
    assert commons["extra"].iloc[0]["province"] == source["province"].iloc[0]


def test_shapefile_and_zipped_shapefile(atlas: cm.Atlas, data: Path) -> None:
    mapping = {"nomezona": "name", "codzona": "code"}
    plain = atlas.import_file(data / "bologna_zones.shp", "admin_units", mapping=mapping,
                              values={"kind": "zone"}, unknown="drop")
    zipped = atlas.import_file(data / "bologna_zones.zip", "admin_units", mapping=mapping,
                               values={"kind": "zone"}, unknown="drop")
    assert plain.count == zipped.count == 18
    units = atlas["admin_units"]
    first, second = units.iloc[:18], units.iloc[18:]
    assert list(first["name"]) == list(second["name"])
    assert all(a.equals(b) for a, b in zip(first.geometry, second.geometry, strict=True))


def test_geopackage_in_web_mercator_is_reprojected(atlas: cm.Atlas, data: Path) -> None:
    plots = gpd.read_file(data / "bubenec_plots.gpkg")
    result = atlas.import_file(data / "bubenec_plots.gpkg", "parcels", mapping={"ID": "cadastral_ref"},
                               values={"cadastral_unit": "730106"}, unknown="keep")
    assert result.count == len(plots) == 407
    parcels = atlas["parcels"]
    expected = plots.to_crs(4326).geometry
    assert parcels.crs.to_epsg() == 4326
    assert all(a.equals_exact(shapely.MultiPolygon(shapely.get_parts(b)) if b.geom_type == "Polygon" else b, 1e-9)
               for a, b in zip(parcels.geometry, expected, strict=True))
    assert any("reprojected" in n for n in result.report.notes)


def test_kml_and_kmz(atlas: cm.Atlas, data: Path, tmp_path: Path) -> None:
    values = {"kind": "other", "observed_at": "2014-02-02"}
    kml = atlas.import_file(data / "kh_forest_applications.kml", "observations", values=values, unknown="keep")
    other = cm.Atlas.create(tmp_path / "other.gpkg")
    kmz = other.import_file(data / "kh_forest_applications.kmz", "observations", values=values, unknown="keep")
    assert kml.count == kmz.count == 30
    from_kml, from_kmz = atlas["observations"], other["observations"]
    assert np.allclose(shapely.get_coordinates(from_kml.geometry), shapely.get_coordinates(from_kmz.geometry),
                       atol=1e-7)
    assert from_kml["extra"].iloc[0]["Name"] == "Phnom Chub"
    assert from_kmz["id"].iloc[0] == "kh_forest_applications.1"
    with pytest.raises(cm.InvalidInputError, match="already in layer 'observations'"):
        other.import_file(data / "kh_forest_applications.kmz", "observations", values=values, unknown="keep")


def test_gpx_waypoints_and_tracks(atlas: cm.Atlas, data: Path) -> None:
    points = atlas.import_file(data / "kh_forest_waypoints.gpx", "observations",
                               values={"kind": "other", "observed_at": "2014-02-02"},
                               mapping={"desc": "notes"}, unknown="keep")
    assert points.count == 20 and points.source.layer == "waypoints"
    assert atlas["observations"]["notes"].iloc[0] == "Approved by MAFF"
    track = atlas.import_file(data / "kh_forest_track.gpx", "commons", values={"kind": "forest"})
    assert track.source.layer == "tracks"
    assert atlas["commons"].geometry.iloc[0].geom_type == "MultiLineString"


def test_csv_with_latitude_longitude_columns(atlas: cm.Atlas, data: Path) -> None:
    result = atlas.import_file(data / "palermo_pacts.csv", "pacts",
                               mapping={"Titolo proposta": "title", "Stato di avanzamento": "reference"},
                               values={"status": "active"}, unknown="keep")
    assert result.count == 73
    pacts = atlas["pacts"]
    assert pacts.geometry.notna().all()
    first = pacts.geometry.iloc[0]
    assert (round(first.x, 6), round(first.y, 6)) == (13.366252, 38.119309)
    assert any("WGS84" in n for n in result.source.notes)
    assert pacts["extra"].iloc[0]["Indirizzo"] == "Piazza Fonderia"
    assert pacts["id"].iloc[0] == "001"


def test_csv_with_wkt_needs_a_crs(atlas: cm.Atlas, tmp_path: Path) -> None:
    path = tmp_path / "sheets.csv"
    path.write_text("cadastral_ref,wkt\nH833_0013,\"POLYGON ((14.6 41.8, 14.7 41.8, 14.7 41.9, 14.6 41.8))\"\n")
    with pytest.raises(cm.InvalidInputError, match="no coordinate reference system"):
        atlas.import_file(path, "parcels")
    result = atlas.import_file(path, "parcels", crs="EPSG:4326")
    assert result.count == 1 and atlas["parcels"].geometry.iloc[0].geom_type == "MultiPolygon"


def test_mapeo_export_becomes_observations(atlas: cm.Atlas, data: Path) -> None:
    result = atlas.import_file(data / "mapeo_export.geojson", "observations")
    assert result.count == 15 and result.source.format == "Mapeo GeoJSON"
    observations = atlas["observations"]
    assert set(observations["kind"]) == {"other"}
    assert observations["extra"].iloc[0]["category"] == "community-forest"
    assert observations["attachments"].iloc[0] == ["0000000000000000.jpg"]
    assert str(observations["observed_at"].iloc[0].date()) == "2014-02-02"


def test_comapeo_style_nested_tags(atlas: cm.Atlas, data: Path, tmp_path: Path) -> None:
    source = json.loads((data / "mapeo_export.geojson").read_text())
    for feature in source["features"]:
        props = feature["properties"]
        feature["properties"] = {"created_at": props["$created"], "attachments": [{"id": "a1", "type": "photo"}],
                                 "tags": {"categoryId": "logging", "notes": props["notes"]}}
    path = tmp_path / "comapeo.geojson"
    path.write_text(json.dumps(source))
    atlas.import_file(path, "observations")
    observations = atlas["observations"]
    assert set(observations["kind"]) == {"logging"}
    assert observations["attachments"].iloc[0] == ["a1"]


def test_labels_in_other_languages_match_fields(atlas: cm.Atlas, tmp_path: Path) -> None:
    path = tmp_path / "partes.csv"
    path.write_text("Nombre,Tipo,Miembros\nComunidad San Juan,Comunidad,85\nCooperativa Sol,Cooperativa,12\n")
    result = atlas.import_file(path, "parties")
    assert result.count == 2
    parties = atlas["parties"]
    assert list(parties["kind"]) == ["community", "cooperative"]
    assert list(parties["members_count"]) == [85, 12]
    assert_valid_geopackage(atlas.location)
