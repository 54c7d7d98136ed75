"""The GeoPackage atlas: create, open, write in transactions, history, restore, concurrency guard."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

import commonsmap as cm
from commonsmap.atlas.gpkg_blob import register_functions
from tests.conftest import assert_valid_geopackage, digest

FOREST = shapely.box(104.70, 11.90, 104.80, 12.00)


def _party(atlas: cm.Atlas) -> str:
    return atlas.add("parties", {"name": "Comunidad Kichwa", "kind": "indigenous_people",
                                 "members_count": 340, "roles": ["president", "treasurer"]}, who="ana").ids[0]


def test_create_writes_a_valid_geopackage_with_every_catalogue_layer(atlas: cm.Atlas) -> None:
    assert_valid_geopackage(atlas.location)
    listed = {str(name) for name, _ in pyogrio.list_layers(atlas.location)}
    assert set(atlas.catalogue) <= listed
    for name in atlas.catalogue:
        frame = pyogrio.read_dataframe(atlas.location, layer=name)
        assert len(frame) == 0
        assert set(atlas.spec(name).field_names) <= set(frame.columns)
    assert atlas.metadata["custodian"] == "Test community"
    assert atlas.crs.to_epsg() == 4326


def test_create_refuses_an_existing_file_and_open_refuses_non_atlases(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    cm.Atlas.create(path)
    with pytest.raises(cm.AtlasError, match="exists already"):
        cm.Atlas.create(path)
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database")
    with pytest.raises(cm.AtlasError, match="not a GeoPackage"):
        cm.open_atlas(text)
    plain = tmp_path / "plain.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(plain)
    with pytest.raises(cm.AtlasError, match="not a commonsmap atlas"):
        cm.open_atlas(plain)
    with pytest.raises(cm.AtlasError, match="no atlas"):
        cm.open_atlas(tmp_path / "missing.gpkg")


def test_add_and_read_back_every_field_type(atlas: cm.Atlas) -> None:
    party = _party(atlas)
    written = atlas.add("commons", {"name": "Bosque Sarayaku", "kind": "Bosque", "holder": party,
                                    "management_regime": "Community managed",
                                    "ostrom_principles": {"boundaries": True, "monitoring": False},
                                    "geometry": FOREST}, who="ana")
    commons = atlas["commons"]
    assert list(commons["id"]) == written.ids
    row = commons.iloc[0]
    assert row["kind"] == "forest" and row["management_regime"] == "community_managed"
    assert row["ostrom_principles"] == {"boundaries": True, "monitoring": False}
    assert row["version"] == 1 and row["sensitivity"] == "public" and row["custodian"] == "Test community"
    assert row.geometry.equals(FOREST)
    parties = atlas["parties"]
    assert parties.iloc[0]["roles"] == ["president", "treasurer"]
    assert parties.iloc[0]["members_count"] == 340
    stored = atlas.get("commons", written.ids[0])
    assert stored["holder"] == party and stored["geometry"].equals(FOREST)


def test_bbox_reads_use_the_spatial_index(atlas: cm.Atlas) -> None:
    boxes = [shapely.box(x, 0, x + 0.5, 0.5) for x in range(10)]
    atlas.add("commons", gpd.GeoDataFrame({"name": [f"c{i}" for i in range(10)], "kind": "pasture"},
                                          geometry=boxes, crs=4326))
    inside = atlas.layer("commons", bbox=(2.1, 0.1, 4.2, 0.4))
    assert sorted(inside["name"]) == ["c2", "c3", "c4"]
    connection = sqlite3.connect(atlas.location)
    indexed = connection.execute("SELECT count(*) FROM rtree_commons_geom").fetchone()[0]
    assert indexed == 10


def test_bulk_insert_keeps_index_counts_and_triggers(atlas: cm.Atlas) -> None:
    squares = [shapely.box(i * 0.001, 0, i * 0.001 + 0.0005, 0.0005) for i in range(3000)]
    frame = gpd.GeoDataFrame({"cadastral_ref": [f"P{i}" for i in range(3000)]}, geometry=squares, crs=4326)
    atlas.add("parcels", frame)
    connection = sqlite3.connect(atlas.location)
    assert connection.execute("SELECT count(*) FROM rtree_parcels_geom").fetchone()[0] == 3000
    assert connection.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'parcels'"
                              ).fetchone()[0] == 3000
    triggers = {r[0] for r in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'parcels'")}
    assert {"rtree_parcels_geom_insert", "trigger_insert_feature_count_parcels"} <= triggers
    assert len(atlas.layer("parcels", bbox=(0.0101, 0.0001, 0.0119, 0.0004))) == 2
    assert_valid_geopackage(atlas.location)


def test_update_bumps_version_and_guards_against_stale_writes(atlas: cm.Atlas) -> None:
    feature = atlas.add("commons", {"name": "Pasto", "kind": "pasture", "geometry": FOREST}).ids[0]
    updated = atlas.update("commons", feature, {"name": "Pasto comunal"}, who="luis", expected_version=1)
    assert updated["version"] == 2 and updated["name"] == "Pasto comunal"
    assert updated["updated"] >= updated["created"]
    before = digest(atlas.location)
    with pytest.raises(cm.VersionConflictError, match="version 2, not 1"):
        atlas.update("commons", feature, {"name": "lost"}, expected_version=1)
    with pytest.raises(cm.VersionConflictError):
        atlas.delete("commons", feature, expected_version=1)
    assert digest(atlas.location) == before
    with pytest.raises(cm.NotFoundError):
        atlas.update("commons", "no-such-id", {"name": "x"})
    with pytest.raises(cm.InvalidInputError, match="managed by the atlas"):
        atlas.update("commons", feature, {"version": 9})
    with pytest.raises(cm.InvalidInputError, match="kind"):
        atlas.update("commons", feature, {"kind": "volcano"})


def test_a_transaction_commits_everything_or_nothing(atlas: cm.Atlas) -> None:
    with atlas.transaction(who="ana") as tx:
        party = tx.add("parties", {"name": "Cooperativa", "kind": "cooperative"}).ids[0]
        tx.add("rights", {"kind": "right", "holder": party, "access": True, "withdrawal": True})
    assert atlas.counts()["rights"] == 1
    before = digest(atlas.location)
    with pytest.raises(cm.InvalidInputError, match="not the id of a feature"), atlas.transaction(who="ana") as tx:
        tx.add("parties", {"name": "Asociación", "kind": "association"})
        tx.add("rights", {"kind": "right", "holder": "nobody", "access": True})
    assert digest(atlas.location) == before
    assert atlas.counts()["parties"] == 1


def test_history_records_who_when_before_and_after(atlas: cm.Atlas) -> None:
    feature = atlas.add("commons", {"name": "Río", "kind": "river",
                                    "geometry": shapely.LineString([(0, 0), (1, 1)])}, who="ana").ids[0]
    atlas.update("commons", feature, {"name": "Río Bobonaza"}, who="luis", note="spelling")
    atlas.delete("commons", feature, who="eva")
    history = atlas.history("commons", feature)
    assert list(history["op"]) == ["insert", "update", "delete"]
    assert list(history["who"]) == ["ana", "luis", "eva"]
    assert history["note"].iloc[1] == "spelling"
    assert history["before"].iloc[1]["name"] == "Río" and history["after"].iloc[1]["name"] == "Río Bobonaza"
    assert history["before"].iloc[2]["geometry"].equals(shapely.LineString([(0, 0), (1, 1)]))
    assert history["at"].is_monotonic_increasing


def test_edits_from_other_programs_are_kept_in_history(atlas: cm.Atlas) -> None:
    feature = atlas.add("commons", {"name": "Plaza", "kind": "square", "geometry": shapely.Point(1, 1)}).ids[0]
    added_by_gdal = gpd.GeoDataFrame({"id": ["from-qgis"], "name": ["Huerto"], "kind": ["garden"]},
                                     geometry=[shapely.Point(2, 2)], crs=4326)
    pyogrio.write_dataframe(added_by_gdal, atlas.location, layer="commons", append=True)
    inserted = atlas.history("commons", "from-qgis")
    assert list(inserted["op"]) == ["insert"] and inserted["who"].iloc[0] is None
    connection = sqlite3.connect(atlas.location)
    register_functions(connection)
    with connection:
        connection.execute("UPDATE commons SET name = 'Plaza Mayor' WHERE id = ?", (feature,))
    connection.close()
    last = atlas.history("commons", feature).iloc[-1]
    assert last["op"] == "update" and last["who"] is None
    assert last["before"]["name"] == "Plaza" and last["after"]["name"] == "Plaza Mayor"


def test_any_past_state_can_be_read_and_restored(atlas: cm.Atlas) -> None:
    first = shapely.box(0, 0, 1, 1)
    feature = atlas.add("claims", {"name": "Territorio", "status": "asserted", "geometry": first}).ids[0]
    t1 = atlas.history("claims", feature)["at"].iloc[-1]
    atlas.update("claims", feature, {"status": "documented", "geometry": shapely.box(0, 0, 2, 2)}, who="a")
    t2 = atlas.history("claims", feature)["at"].iloc[-1]
    atlas.update("claims", feature, {"status": "submitted"}, who="b")
    assert atlas.state_at("claims", feature, t1 - pd.Timedelta("1s")) is None
    at_t1 = atlas.state_at("claims", feature, t1)
    assert at_t1 is not None and at_t1["status"] == "asserted"
    assert at_t1["geometry"].equals(shapely.MultiPolygon([first]))
    restored = atlas.restore("claims", feature, t1, who="c")
    assert restored["status"] == "asserted" and restored["geometry"].equals(shapely.MultiPolygon([first]))
    assert restored["version"] == 4
    assert atlas.history("claims", feature)["op"].iloc[-1] == "restore"
    at_t2 = atlas.state_at("claims", feature, t2)
    assert at_t2 is not None and at_t2["status"] == "documented"
    atlas.delete("claims", feature, who="d")
    back = atlas.restore("claims", feature, t2, who="e")
    assert back["status"] == "documented" and back["id"] == feature
    assert_valid_geopackage(atlas.location)


def test_layers_filter_by_sensitivity(atlas: cm.Atlas) -> None:
    atlas.add("commons", [
        {"name": "Public square", "kind": "square", "geometry": shapely.Point(0, 0)},
        {"name": "Sacred spring", "kind": "water", "sensitivity": "secret", "geometry": shapely.Point(1, 1)},
        {"name": "Seed bank", "kind": "seeds", "sensitivity": "community", "geometry": shapely.Point(2, 2)},
    ])
    assert list(atlas.layer("commons", max_sensitivity="public")["name"]) == ["Public square"]
    assert len(atlas.layer("commons", max_sensitivity="community")) == 2
    assert len(atlas.layer("commons")) == 3
    with pytest.raises(cm.InvalidInputError, match="unknown sensitivity"):
        atlas.layer("commons", max_sensitivity="top")


def test_pyogrio_lists_and_reads_every_layer_after_writes(atlas: cm.Atlas) -> None:
    party = _party(atlas)
    atlas.add("commons", {"name": "Huerto", "kind": "garden", "holder": party, "geometry": FOREST})
    atlas.add("observations", {"kind": "logging", "observed_at": "2024-05-01T10:00:00Z",
                               "geometry": shapely.Point(104.75, 11.95)})
    for name, _ in pyogrio.list_layers(atlas.location):
        pyogrio.read_dataframe(atlas.location, layer=name)
    assert_valid_geopackage(atlas.location)


def test_bulk_appends_to_a_layer_that_already_has_rows_and_deletions(atlas: cm.Atlas) -> None:
    def squares(start: int, count: int) -> gpd.GeoDataFrame:
        cells = [shapely.box(i * 0.001, 1, i * 0.001 + 0.0005, 1.0005) for i in range(start, start + count)]
        return gpd.GeoDataFrame({"cadastral_ref": [f"P{i}" for i in range(start, start + count)]},
                                geometry=cells, crs=4326)

    first = atlas.add("parcels", squares(0, 2500))
    atlas.delete("parcels", first.ids[-1])
    second = atlas.add("parcels", squares(2500, 2500), who="bulk")
    parcels = atlas["parcels"]
    assert len(parcels) == 4999 and first.ids[-1] not in set(parcels["id"])
    assert sorted(atlas.layer("parcels", bbox=(2.5001, 1.0001, 2.5031, 1.0004))["cadastral_ref"]) == [
        "P2500", "P2501", "P2502", "P2503"]
    assert sorted(atlas.layer("parcels", bbox=(2.4971, 1.0001, 2.4989, 1.0004))["cadastral_ref"]) == [
        "P2497", "P2498"]
    history = atlas.history("parcels")
    assert (history["op"] == "insert").sum() == 5000 and (history["op"] == "delete").sum() == 1
    assert set(history[history["who"] == "bulk"]["feature_id"]) == set(second.ids)
    connection = sqlite3.connect(atlas.location)
    assert connection.execute("SELECT count(*) FROM rtree_parcels_geom").fetchone()[0] == 4999
    assert connection.execute("SELECT count(*) FROM parcels p JOIN rtree_parcels_geom r ON r.id = p.fid"
                              ).fetchone()[0] == 4999
    counts = dict(connection.execute("SELECT table_name, feature_count FROM gpkg_ogr_contents"))
    assert counts["parcels"] == 4999 and counts["commonsmap_history"] == 5001
    assert_valid_geopackage(atlas.location)


def test_a_where_clause_cannot_widen_the_sensitivity_levels(atlas: cm.Atlas, tmp_path: Path) -> None:
    atlas.add("commons", [
        {"name": "Plaza", "kind": "square", "geometry": shapely.Point(0, 0)},
        {"name": "Sacred spring", "kind": "water", "sensitivity": "secret", "geometry": shapely.Point(1, 1)},
    ])
    escaping = "1 = 1) OR (1 = 1"
    assert list(atlas.layer("commons", where=escaping, max_sensitivity="community")["name"]) == ["Plaza"]
    written = atlas.export("commons", tmp_path / "out.geojson", where=escaping)
    assert "Sacred" not in written[0].read_text(encoding="utf-8")
