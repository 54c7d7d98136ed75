"""Geodesic areas, CRS handling, the layer catalogue and the vocabularies."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS, Geod

import commonsmap as cm
from commonsmap.catalogue import parse_layer_file
from commonsmap.vocabularies import LANGUAGES, VOCABULARIES, CommonsKind, Sensitivity


def test_geodesic_area_of_real_polygons_matches_pyproj_geod(atlas: cm.Atlas, data: Path) -> None:
    atlas.import_file(data / "bologna_zones.shp", "admin_units", mapping={"nomezona": "name", "codzona": "code"},
                      values={"kind": "zone"}, unknown="drop")
    atlas.import_file(data / "bubenec_plots.gpkg", "parcels", mapping={"ID": "cadastral_ref"}, unknown="drop")
    geod = Geod(ellps="WGS84")
    for layer, source in (("admin_units", gpd.read_file(data / "bologna_zones.shp")),
                          ("parcels", gpd.read_file(data / "bubenec_plots.gpkg"))):
        stored = atlas[layer]
        ours = cm.geodesic_area_ha(stored.geometry)
        reference = [abs(geod.geometry_area_perimeter(g)[0]) / 1e4 for g in source.to_crs(4326).geometry]
        assert ours == pytest.approx(reference, rel=1e-4)
        equal_area = source.to_crs("+proj=laea +lat_0=45 +lon_0=11 +ellps=WGS84").area.to_numpy() / 1e4
        if layer == "admin_units":
            assert ours == pytest.approx(equal_area, rel=1e-4)
    assert cm.geodesic_area_ha(gpd.GeoSeries([shapely.Point(0, 0), None], crs=4326)).tolist() == [0, 0]
    with pytest.raises(cm.InvalidInputError, match="no CRS"):
        cm.geodesic_area_ha(gpd.GeoSeries([shapely.box(0, 0, 1, 1)]))


def test_an_atlas_in_a_projected_crs(tmp_path: Path, data: Path) -> None:
    atlas = cm.Atlas.create(tmp_path / "utm.gpkg", crs="EPSG:32632")
    atlas.import_file(data / "bologna_zones.shp", "admin_units", mapping={"nomezona": "name"},
                      values={"kind": "zone"}, unknown="drop")
    units = atlas["admin_units"]
    assert units.crs == CRS.from_epsg(32632)
    assert 670_000 < units.total_bounds[0] < 690_000
    with pytest.raises(cm.AtlasError, match="EPSG code"):
        cm.Atlas.create(tmp_path / "custom.gpkg", crs="+proj=laea +lat_0=45 +lon_0=11")


def test_catalogue_layers_have_labels_in_every_language() -> None:
    catalogue = cm.load_catalogue()
    assert {"parties", "commons", "rights", "claims", "parcels", "pacts", "sources", "observations",
            "admin_units"} <= set(catalogue)
    for spec in catalogue.values():
        assert set(LANGUAGES) <= set(spec.label)
        for field in spec.all_fields:
            assert set(LANGUAGES) <= set(field.label), (spec.name, field.name)
    assert catalogue["commons"].field("kind").vocab is CommonsKind


@pytest.mark.parametrize(("text", "message"), [
    ('name = "x"\nlabel = {en="X"}\nfields = []\n', "lacks languages"),
    ('name = "x"\nlabel = {en="X", es="X", it="X", pt="X"}\nfields = [{name="id", type="string", label={en="I"}}]\n',
     "system fields"),
    ('name = "x"\nlabel = {en="X", es="X", it="X", pt="X"}\n'
     'fields = [{name="k", type="enum", vocabulary="colours", label={en="K"}}]\n', "unknown vocabulary"),
    ('name = "y"\nlabel = {en="X", es="X", it="X", pt="X"}\nfields = []\n', "must be named after it"),
    ('name = "x"\nlabel = {en="X", es="X", it="X", pt="X"}\nfields = []\ncolour = "red"\n', "Extra inputs"),
    ('name = "x"\nlabel = {en="X"', "cannot read the layer file"),
])
def test_malformed_catalogue_files_are_refused_with_the_file_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(cm.CatalogueError, match=message) as caught:
        parse_layer_file(path)
    assert "x.toml" in str(caught.value)


def test_vocabularies_parse_codes_and_labels_in_any_language() -> None:
    assert CommonsKind.parse("Bosque") is CommonsKind.FOREST
    assert CommonsKind.parse("  street-section ") is CommonsKind.STREET_SECTION
    assert Sensitivity("secret").label("pt") and Sensitivity.SECRET.label("xx") == Sensitivity.SECRET.label("en")
    with pytest.raises(ValueError, match="use one of: forest"):
        CommonsKind.parse("volcano")
    for vocabulary in VOCABULARIES.values():
        for member in vocabulary:
            assert all(member.label(lang) for lang in LANGUAGES)
