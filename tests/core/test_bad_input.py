"""Bad input: each case gets a clear message naming the problem, and the atlas stays byte-for-byte the same."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import commonsmap as cm
from tests.conftest import assert_valid_geopackage, digest

BOWTIE = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])


@pytest.fixture
def filled(atlas: cm.Atlas, data: Path) -> cm.Atlas:
    """An atlas that already holds real data, so an unchanged file means something."""
    atlas.import_file(data / "kh_community_forests.geojson", "commons", values={"kind": "forest"},
                      unknown="drop")
    atlas.add("parties", {"id": "p-1", "name": "Comunidad", "kind": "community"})
    return atlas


def refused(atlas: cm.Atlas, action: Callable[[], object], match: str) -> cm.InvalidInputError:
    """Run ``action``; it must raise InvalidInputError matching ``match`` and leave the file unchanged."""
    before = digest(atlas.location)
    with pytest.raises(cm.InvalidInputError, match=match) as caught:
        action()
    assert digest(atlas.location) == before
    assert "Nothing was written" in str(caught.value)
    return caught.value


def _frame(geometries: list[shapely.Geometry | None], **columns: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"f{i}" for i in range(len(geometries))], "status": "asserted", **columns},
                            geometry=geometries, crs=4326)


def test_self_intersecting_polygon_is_repaired_or_refused(filled: cm.Atlas) -> None:
    error = refused(filled, lambda: filled.add("claims", _frame([shapely.box(0, 0, 1, 1), BOWTIE]),
                                               on_invalid="reject"), "row 1: invalid geometry: Self-intersection")
    assert error.problems[0].row == 1
    result = filled.add("claims", _frame([BOWTIE]))
    assert "Self-intersection" in str(result.report.repairs[0])
    repaired = filled.get("claims", result.ids[0])["geometry"]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon" and repaired.area == pytest.approx(0.5)


def test_empty_and_missing_geometries(filled: cm.Atlas) -> None:
    refused(filled, lambda: filled.add("claims", _frame([shapely.box(0, 0, 1, 1), shapely.Polygon()])),
            "row 1: the geometry is empty")
    refused(filled, lambda: filled.add("claims", _frame([None])), "row 0: the geometry is missing")


def test_mixed_geometry_types(filled: cm.Atlas) -> None:
    mixed = _frame([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)]), shapely.Point(3, 3)])
    error = refused(filled, lambda: filled.add("claims", mixed), "cannot go in a layer of MultiPolygon")
    assert [p.row for p in error.problems] == [1, 2]


def test_missing_crs(filled: cm.Atlas, data: Path, tmp_path: Path) -> None:
    for file in data.glob("bologna_zones.*"):
        if file.suffix not in (".prj", ".zip"):
            shutil.copy(file, tmp_path / file.name)
    mapping = {"nomezona": "name"}
    refused(filled, lambda: filled.import_file(tmp_path / "bologna_zones.shp", "admin_units", mapping=mapping,
                                               values={"kind": "zone"}, unknown="drop"),
            "declares no coordinate reference system")
    refused(filled, lambda: filled.add("claims", _frame([shapely.box(0, 0, 1, 1)]).set_crs(None,
                                                                                          allow_override=True)),
            "declares no coordinate reference system")
    result = filled.import_file(tmp_path / "bologna_zones.shp", "admin_units", mapping=mapping,
                                values={"kind": "zone"}, unknown="drop", crs="EPSG:4326")
    assert result.count == 18


def test_unknown_crs(filled: cm.Atlas) -> None:
    with pytest.raises(cm.InvalidInputError, match="unknown CRS 'EPSG:999999'"):
        filled.add("claims", _frame([shapely.box(0, 0, 1, 1)]).set_crs(None, allow_override=True),
                   crs="EPSG:999999")
    with pytest.raises(cm.InvalidInputError, match="unknown CRS"):
        cm.Atlas.create(Path(filled.location).with_name("other.gpkg"), crs="not a crs")


def test_longitude_latitude_swapped_beyond_range(filled: cm.Atlas, tmp_path: Path) -> None:
    path = tmp_path / "swapped.csv"
    path.write_text("kind,observed_at,longitude,latitude\nlogging,2024-01-01,11.95,104.75\n"
                    "logging,2024-01-02,104.75,11.95\n")
    error = refused(filled, lambda: filled.import_file(path, "observations"), "look swapped")
    assert [p.row for p in error.problems] == [0]


def test_truncated_files(filled: cm.Atlas, data: Path, tmp_path: Path) -> None:
    for name in ("kh_community_forests.geojson", "bubenec_plots.gpkg", "kh_forest_applications.kml",
                 "kh_forest_waypoints.gpx"):
        whole = (data / name).read_bytes()
        cut = tmp_path / name
        cut.write_bytes(whole[: len(whole) // 2])
        refused(filled, lambda cut=cut: filled.import_file(cut, "commons", values={"kind": "forest"},
                                                           unknown="drop"), cut.name)
    for file in data.glob("bologna_zones.*"):
        if file.suffix != ".zip":
            shutil.copy(file, tmp_path / file.name)
    shp = tmp_path / "bologna_zones.shp"
    shp.write_bytes(shp.read_bytes()[:60_000])
    refused(filled, lambda: filled.import_file(shp, "admin_units", mapping={"nomezona": "name"},
                                               values={"kind": "zone"}, unknown="drop"), "incomplete|cannot read")
    empty = tmp_path / "empty.geojson"
    empty.write_bytes(b"")
    refused(filled, lambda: filled.import_file(empty, "commons"), "the file is empty")


def test_zip_without_a_layer(filled: cm.Atlas, tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("readme.txt", "only photos here")
        handle.writestr("photo.jpg", b"\xff\xd8\xff")
    refused(filled, lambda: filled.import_file(archive, "commons"), "holds no layer")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    refused(filled, lambda: filled.import_file(broken, "commons"), "not a readable ZIP")


def test_unknown_and_missing_required_fields(filled: cm.Atlas) -> None:
    frame = _frame([shapely.box(0, 0, 1, 1)], colour="red")
    refused(filled, lambda: filled.add("claims", frame), "columns not in layer 'claims': colour")
    refused(filled, lambda: filled.add("claims", frame.drop(columns="status"), unknown="drop"),
            "field 'status': required field is missing")
    refused(filled, lambda: filled.add("claims", _frame([shapely.box(0, 0, 1, 1)], status=None)),
            "row 0, field 'status': required value is missing")
    refused(filled, lambda: filled.import_file(Path(__file__), "commons"), "unknown format '.py'")
    with pytest.raises(cm.CatalogueError, match="no layer 'forests'"):
        filled.add("forests", {"name": "x"})


def test_wrong_types_and_vocabulary(filled: cm.Atlas) -> None:
    error = refused(filled, lambda: filled.add("parties", [
        {"name": "A", "kind": "community", "members_count": "many"},
        {"name": "B", "kind": "guild", "members_count": 3.5},
    ]), "2 problems|3 problems")
    reasons = {(p.row, p.field): p.reason for p in error.problems}
    assert "'many' is not an integer" in reasons[(0, "members_count")]
    assert "not an integer" in reasons[(1, "members_count")]
    assert "'guild' is not a PartyKind term" in reasons[(1, "kind")]
    refused(filled, lambda: filled.add("claims", _frame([shapely.box(0, 0, 1, 1)], claimed_on="yesterday-ish")),
            "'yesterday-ish' is not a date")


def test_duplicated_ids(filled: cm.Atlas) -> None:
    refused(filled, lambda: filled.add("parties", [{"id": "x", "name": "A", "kind": "community"},
                                                   {"id": "x", "name": "B", "kind": "community"}]),
            "row 1, field 'id': id 'x' appears more than once")
    refused(filled, lambda: filled.add("parties", {"id": "p-1", "name": "again", "kind": "community"}),
            "id 'p-1' is already in layer 'parties'")


def test_unknown_references(filled: cm.Atlas) -> None:
    refused(filled, lambda: filled.add("rights", {"kind": "right", "holder": "p-404", "access": True}),
            "'p-404' is not the id of a feature in layer 'parties'")


def test_injection_attempts_are_stored_as_text(filled: cm.Atlas) -> None:
    hostile = "x'); DROP TABLE commons; --"
    feature = filled.add("commons", {"name": hostile, "kind": "forest", "description": '"; DELETE FROM parties'}
                         ).ids[0]
    assert filled.get("commons", feature)["name"] == hostile
    assert filled.counts()["parties"] == 1
    with pytest.raises(cm.CatalogueError):
        filled.layer("commons; DROP TABLE parties")
    assert_valid_geopackage(filled.location)


def test_non_utf8_csv(filled: cm.Atlas, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,kind\nCooperativa Açaí,cooperative\n".encode("latin-1"))
    refused(filled, lambda: filled.import_file(path, "parties"), "not UTF-8")
