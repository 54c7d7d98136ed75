"""Claims and their objection period, conflicts, disputes, statistics, consents and datasets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

import commonsmap as cm
from commonsmap.analysis.conflicts import detect_conflicts, open_dispute, write_conflict_report
from commonsmap.analysis.statistics import area_statistics, overlap_statistics
from commonsmap.catalogue import default_catalogue_dir, load_catalogue
from commonsmap.cli import app
from commonsmap.errors import InvalidInputError, QueryError
from commonsmap.privacy import Viewer
from commonsmap.territories import decide_objection, landmark_terms, lodge_objection, objections, open_objection_period
from tests.conftest import assert_valid_geopackage

GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_ha(geometry) -> float:  # type: ignore[no-untyped-def]
    return abs(GEOD.geometry_area_perimeter(geometry)[0]) / 10_000


@pytest.fixture
def land(atlas: cm.Atlas) -> dict[str, str]:
    """Two communities whose claims half overlap, a third party, parcels, a pact and exclusive rights."""
    with atlas.transaction(who="test") as tx:
        a, b, c = tx.add("parties", [{"name": "Comunidad A", "kind": "community"},
                                     {"name": "Pueblo B", "kind": "indigenous_people"},
                                     {"name": "Empresa C", "kind": "company"}]).ids
        claim_a, claim_b, claim_a2, rejected = tx.add("claims", [
            {"name": "Territorio A", "claimant": a, "status": "asserted", "geometry": box(0, 0, 0.2, 0.2)},
            {"name": "Territorio B", "claimant": b, "status": "recognised", "geometry": box(0.1, 0, 0.3, 0.2)},
            {"name": "Ampliación A", "claimant": a, "status": "submitted", "geometry": box(0.15, 0.1, 0.25, 0.3)},
            {"name": "Rechazada C", "claimant": c, "status": "rejected", "geometry": box(0, 0, 0.3, 0.3)},
        ]).ids
        parcel = tx.add("parcels", [{"cadastral_ref": "P-1", "geometry": box(0.05, 0.05, 0.06, 0.06)}]).ids[0]
        pact = tx.add("pacts", [{"title": "Huerta", "status": "active",
                                 "geometry": box(0.19, 0.19, 0.21, 0.21)}]).ids[0]
        forest = tx.add("commons", [{"name": "Bosque", "kind": "forest", "geometry": box(0, 0, 0.3, 0.3)}]).ids[0]
        rights = tx.add("rights", [
            {"kind": "right", "holder": a, "commons": forest, "exclusion": True, "months": [1, 2, 3, 4, 5, 6],
             "valid_from": "2010-01-01", "description": "A excludes in the first half"},
            {"kind": "right", "holder": b, "commons": forest, "exclusion": True, "months": [6, 7, 8, 9],
             "geometry": box(0.1, 0.1, 0.2, 0.2), "description": "B excludes in summer"},
            {"kind": "right", "holder": c, "commons": forest, "alienation": True, "months": [10, 11],
             "description": "C sells in autumn"},
            {"kind": "right", "holder": b, "commons": forest, "access": True, "description": "B walks"},
            {"kind": "right", "holder": c, "commons": forest, "exclusion": True, "valid_to": "2001-01-01",
             "months": [1], "description": "C excluded long ago"},
            {"kind": "right", "holder": a, "commons": forest, "exclusion": True, "valid_from": "2002-01-01",
             "months": [10], "description": "A again, later"},
        ]).ids
    return dict(a=a, b=b, c=c, claim_a=claim_a, claim_b=claim_b, claim_a2=claim_a2, rejected=rejected,
                parcel=parcel, pact=pact, forest=forest, **{f"r{i}": r for i, r in enumerate(rights)})


def test_landmark_terms_follow_the_claim_status() -> None:
    assert landmark_terms("titled") == ("acknowledged", "documented")
    assert landmark_terms("Presentado") == ("not_acknowledged", "claim_submitted")
    assert landmark_terms("asserted") == ("not_acknowledged", "customary_tenure")


def test_objections_are_kept_beside_the_claim(atlas: cm.Atlas, land: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError, match="no objection period"):
        lodge_objection(atlas, land["claim_a"], land["b"], "our fishing grounds", lodged_on="2025-01-10")
    open_objection_period(atlas, land["claim_a"], "2025-03-31", who="registrar")
    claim_before = atlas.get("claims", land["claim_a"])
    first = lodge_objection(atlas, land["claim_a"], land["b"], "our fishing grounds", lodged_on="2025-01-10",
                            geometry=box(0.1, 0, 0.2, 0.2))
    second = lodge_objection(atlas, land["claim_a"], land["c"], "our concession", lodged_on="2025-03-31")
    assert atlas.get("claims", land["claim_a"]) == claim_before  # never overwritten
    with pytest.raises(InvalidInputError, match="ended on 2025-03-31"):
        lodge_objection(atlas, land["claim_a"], land["c"], "late", lodged_on="2025-04-01")
    with pytest.raises(InvalidInputError, match="its own claim"):
        lodge_objection(atlas, land["claim_a"], land["a"], "self", lodged_on="2025-01-01")
    decide_objection(atlas, first, "dismissed", decision="the grounds lie outside the claim", decided_on="2025-05-02")
    listed = objections(atlas, land["claim_a"])
    assert listed["id"].tolist() == [first, second]
    assert listed["status"].tolist() == ["dismissed", "lodged"]
    assert str(listed["decided_on"].iloc[0].date()) == "2025-05-02"
    assert atlas.get("claims", land["claim_a"]) == claim_before
    assert len(atlas.history("objections")) == 3  # two lodged, one decided


def test_conflict_report_areas_shares_and_kinds(atlas: cm.Atlas, land: dict[str, str]) -> None:
    report = detect_conflicts(atlas)
    claims = report[report["kind"] == "claim_claim"]
    pairs = {frozenset((r.left_id, r.right_id)) for r in claims.itertuples()}
    # A/B overlap, and B/A-extension; A's two claims are not a conflict; the rejected claim takes no part
    assert pairs == {frozenset((land["claim_a"], land["claim_b"])), frozenset((land["claim_b"], land["claim_a2"]))}
    ab = claims[claims[["left_id", "right_id"]].isin([land["claim_a"]]).any(axis=1)].iloc[0]
    expected = geodesic_ha(box(0.1, 0, 0.2, 0.2))
    assert ab["area_ha"] == pytest.approx(expected, rel=1e-6)
    assert ab["left_share"] == pytest.approx(0.5, rel=1e-4) and ab["right_share"] == pytest.approx(0.5, rel=1e-4)
    parcel = report[report["kind"] == "claim_parcel"].iloc[0]
    assert parcel["right_name"] == "P-1" and parcel["right_share"] == pytest.approx(1.0)
    assert set(report.loc[report["kind"] == "claim_pact", "left_id"]) == {land["claim_a"], land["claim_b"],
                                                                          land["claim_a2"]}
    exclusive = report[report["kind"] == "exclusive_rights"]
    found = {frozenset((r.left_id, r.right_id)): r.months for r in exclusive.itertuples()}
    assert found == {frozenset((land["r0"], land["r1"])): [6], frozenset((land["r2"], land["r5"])): [10]}
    assert set(overlap_statistics(report).index) == {"claim_claim", "claim_parcel", "claim_pact", "exclusive_rights"}


def test_context_layers_from_files_and_frames(atlas: cm.Atlas, land: dict[str, str], tmp_path: Path) -> None:
    concessions = gpd.GeoDataFrame({"NOME": ["Mina 1", "Mina 2"]},
                                   geometry=[box(0.26, 0.05, 0.35, 0.15), box(5, 5, 6, 6)], crs=4326)
    concessions.to_crs(3857).to_file(tmp_path / "mines.gpkg")
    report = detect_conflicts(atlas, against=[], context={"mining": tmp_path / "mines.gpkg",
                                                          "reserve": gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)],
                                                                                      crs=4326)})
    mining = report[report["right_layer"] == "mining"]
    assert mining["right_name"].tolist() == ["Mina 1"] and mining["left_id"].tolist() == [land["claim_b"]]
    assert mining["area_ha"].iloc[0] == pytest.approx(geodesic_ha(box(0.26, 0.05, 0.3, 0.15)), rel=1e-4)
    assert len(report[report["right_layer"] == "reserve"]) == 3
    with pytest.raises(QueryError, match="no CRS"):
        detect_conflicts(atlas, context={"x": gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)])})
    with pytest.raises(QueryError, match="cannot check claims against"):
        detect_conflicts(atlas, against=["concessions"])


def test_report_files_and_a_dispute_from_a_conflict(atlas: cm.Atlas, land: dict[str, str], tmp_path: Path) -> None:
    report = detect_conflicts(atlas, against=["claims", "rights"])
    csv = pd.read_csv(write_conflict_report(report, tmp_path / "report.csv"))
    assert len(csv) == len(report) and csv["wkt"].str.startswith(("POLYGON", "MULTIPOLYGON")).all()
    geojson = json.loads(write_conflict_report(report, tmp_path / "report.geojson").read_text())
    assert len(geojson["features"]) == len(report)
    with pytest.raises(QueryError, match="report format"):
        write_conflict_report(report, tmp_path / "report.xlsx")
    row = report[report["kind"] == "claim_claim"].iloc[0]
    dispute = atlas.get("disputes", open_dispute(atlas, row, forum="Asamblea", opened_on="2025-06-01"))
    assert dispute["forum"] == "assembly" and dispute["status"] == "open"
    assert set(dispute["subjects"]) == {f"claims:{row['left_id']}", f"claims:{row['right_id']}"}
    assert set(dispute["parties"]) == {row["left_party"], row["right_party"]}
    assert dispute["geometry"].equals(row["geometry"]) or dispute["geometry"].area == pytest.approx(
        row["geometry"].area)
    assert dispute["area_ha"] == pytest.approx(row["area_ha"])


def test_area_statistics(atlas: cm.Atlas, land: dict[str, str]) -> None:
    atlas.add("admin_units", [{"name": "West", "kind": "municipality", "geometry": box(0, 0, 0.15, 1)},
                              {"name": "East", "kind": "municipality", "geometry": box(0.15, 0, 1, 1)}])
    by_status = area_statistics(atlas, "claims", by="status")
    assert by_status.loc["recognised", "area_ha"] == pytest.approx(geodesic_ha(box(0.1, 0, 0.3, 0.2)), rel=1e-6)
    assert by_status["count"].sum() == 4
    by_party = area_statistics(atlas, "claims", by="party")
    assert by_party.loc[land["a"], "name"] == "Comunidad A" and by_party.loc[land["a"], "count"] == 2
    by_unit = area_statistics(atlas, "claims", by="admin_unit").set_index("name")
    west = geodesic_ha(box(0, 0, 0.15, 0.2)) + geodesic_ha(box(0.1, 0, 0.15, 0.2)) + geodesic_ha(box(0, 0, 0.15, 0.3))
    assert by_unit.loc["West", "area_ha"] == pytest.approx(west, rel=1e-4)
    total = area_statistics(atlas, "claims")
    assert total.loc["total", "count"] == 4
    with pytest.raises(QueryError, match="no field"):
        area_statistics(atlas, "claims", by="colour")
    with pytest.raises(QueryError, match="no geometry"):
        area_statistics(atlas, "parties")


def test_statistics_count_only_what_the_viewer_sees(atlas: cm.Atlas, land: dict[str, str]) -> None:
    atlas.update("claims", land["claim_b"], {"sensitivity": "community"})
    assert area_statistics(atlas, "claims", viewer=Viewer.anonymous()).loc["total", "count"] == 3
    assert area_statistics(atlas, "claims", viewer=Viewer.member(land["b"])).loc["total", "count"] == 4
    report = detect_conflicts(atlas, viewer=Viewer.anonymous(), against=["claims"])
    assert report.empty  # every overlap involves B's community claim


def test_consents_and_datasets(atlas: cm.Atlas, land: dict[str, str]) -> None:
    minutes = atlas.add("sources", {"title": "Acta de asamblea 2025-02-01", "kind": "document"}).ids[0]
    dataset = atlas.add("datasets", {"title": "Mapa comunitario A", "licence": "Community terms of A",
                                     "custodian_party": land["a"],
                                     "reciprocity_terms": "Share any result back with the assembly"}).ids[0]
    consent = atlas.add("consents", {"granted_by": land["a"], "scope": ["collect", "store"],
                                     "method": "assembly minutes",
                                     "granted_on": "2025-02-01", "expires_on": "2027-02-01", "record": minutes,
                                     "consent_dataset": dataset}).ids[0]
    stored = atlas.get("consents", consent)
    assert stored["scope"] == ["collect", "store"] and stored["method"] == "assembly_minutes"
    atlas.update("claims", land["claim_a"], {"dataset": dataset})
    with pytest.raises(InvalidInputError, match="not the id of a feature in layer 'datasets'"):
        atlas.update("claims", land["claim_a"], {"dataset": "no-such-dataset"})
    with pytest.raises(InvalidInputError, match="publish"):
        atlas.add("consents", {"granted_by": land["a"], "scope": ["publish", "sell"], "method": "oral",
                               "granted_on": "2025-02-01"})


def test_cli_conflicts_who_and_stats(atlas: cm.Atlas, land: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    path = atlas.location
    out = tmp_path / "conflicts.csv"
    result = runner.invoke(app, ["conflicts", path, "-o", str(out), "--min-area", "1"])
    assert result.exit_code == 0, result.output
    assert "exclusive_rights" in result.output and len(pd.read_csv(out)) > 0
    result = runner.invoke(app, ["who", path, "--at", "0.05,0.05", "--on", "2024-02-01"])
    assert result.exit_code == 0 and "Comunidad" in result.output and "claimant" in result.output
    result = runner.invoke(app, ["stats", path, "claims", "--by", "status", "--as", "anonymous"])
    assert result.exit_code == 0 and "recognised" in result.output
    result = runner.invoke(app, ["who", path, "--at", "somewhere"])
    assert result.exit_code == 1 and "neither LON,LAT nor WKT" in result.output
    result = runner.invoke(app, ["stats", path, "claims", "--as", "member"])
    assert result.exit_code == 1 and "at least one party" in result.output
    atlas.update("claims", land["claim_b"], {"sensitivity": "community"})
    for viewer, count in (("anonymous", 3), (f"member:{land['b']}", 4)):
        exported = tmp_path / f"claims-{count}.geojson"
        result = runner.invoke(app, ["export", path, "claims", str(exported), "--as", viewer])
        assert result.exit_code == 0, result.output
        assert len(json.loads(exported.read_text())["features"]) == count


def test_an_atlas_made_with_an_older_catalogue_is_upgraded_on_open(tmp_path: Path) -> None:
    old = tmp_path / "layers"
    shutil.copytree(default_catalogue_dir(), old, ignore=shutil.ignore_patterns("demo", "*.py", "__pycache__"))
    for name in ("objections", "disputes", "consents", "pact_events", "pact_parties", "pact_parcels"):
        (old / f"{name}.toml").unlink()
    claims = (old / "claims.toml").read_text()
    (old / "claims.toml").write_text(claims[: claims.index('[[fields]]\nname = "identity"')])
    path = tmp_path / "old.gpkg"
    before = cm.Atlas.create(path, catalogue=load_catalogue(old))
    claim = before.add("claims", {"name": "Old claim", "status": "asserted", "geometry": box(0, 0, 1, 1)}).ids[0]
    assert "identity" not in before["claims"].columns

    upgraded = cm.open_atlas(path)
    assert "added layer 'objections'" in upgraded.store.upgrades
    assert "added field 'identity' to layer 'claims'" in upgraded.store.upgrades
    assert upgraded.get("claims", claim)["name"] == "Old claim"
    upgraded.update("claims", claim, {"identity": "community"})
    assert upgraded.history("claims", claim).iloc[-1]["after"]["identity"] == "community"
    assert_valid_geopackage(path)
    assert cm.open_atlas(path).store.upgrades == []


def test_conflicts_on_real_territories_match_an_independent_overlay(atlas: cm.Atlas, data: Path) -> None:
    """FUNAI indigenous lands as claims against strict protected areas and SIGMINE mining processes."""
    lands = gpd.read_file(data / "overlap_brazil.gpkg", layer="indigenous_lands")
    areas_ = gpd.read_file(data / "overlap_brazil.gpkg", layer="protected_areas_integral")
    mines = gpd.read_file(data / "overlap_brazil.gpkg", layer="sigmine_amapa")
    name = next(c for c in ("TERRA_IND", "terra_ind", "name") if c in lands.columns)
    claims = lands.assign(name=lands[name].astype(str), status="recognised")[["name", "status", "geometry"]]
    ids = atlas.add("claims", claims).ids
    report = detect_conflicts(atlas, against=[], context={"protected": areas_, "mining": mines})
    for label, context in (("protected", areas_), ("mining", mines)):
        left = gpd.GeoDataFrame({"claim": ids}, geometry=atlas["claims"].set_index("id").loc[ids].geometry.values,
                                crs=4326)
        right = context.to_crs(4326).assign(context=[f"{label}:{i}" for i in range(len(context))])
        right["geometry"] = right.geometry.make_valid()
        reference = gpd.overlay(left, right[["context", "geometry"]], how="intersection", keep_geom_type=True)
        reference["area_ha"] = [geodesic_ha(g) for g in reference.geometry]
        reference = reference[reference["area_ha"] > 1e-6].groupby(["claim", "context"])["area_ha"].sum()
        ours = report[report["right_layer"] == label].set_index(["left_id", "right_id"])["area_ha"]
        ours = ours[ours > 1e-6]
        assert set(ours.index) == set(reference.index), label
        relative = (ours.sort_index() - reference.sort_index()).abs() / reference.sort_index()
        assert (relative < 1e-3).all(), relative.max()
        assert len(ours) > 5


def test_a_feature_hidden_from_a_viewer_is_missing_to_it(atlas: cm.Atlas, land: dict[str, str]) -> None:
    atlas.update("claims", land["claim_b"], {"sensitivity": "community"})
    with pytest.raises(cm.NotFoundError) as hidden:
        atlas.get("claims", land["claim_b"], viewer=Viewer.anonymous())
    with pytest.raises(cm.NotFoundError) as absent:
        atlas.get("claims", "no-such-claim", viewer=Viewer.anonymous())
    assert str(hidden.value).replace(land["claim_b"], "X") == str(absent.value).replace("no-such-claim", "X")
    assert atlas.get("claims", land["claim_b"], viewer=Viewer.member(land["b"]))["name"] == "Territorio B"


def test_consent_gaps_list_what_is_published_without_consent(atlas: cm.Atlas, land: dict[str, str]) -> None:
    from commonsmap.consent import consent_gaps, current_consents

    gaps = consent_gaps(atlas, on="2025-06-01")
    assert {land["a"], land["b"]} <= set(gaps["party"])  # their public claims and rights
    atlas.add("consents", [
        {"granted_by": land["a"], "scope": ["publish"], "method": "assembly_minutes", "granted_on": "2025-01-01",
         "expires_on": "2026-01-01"},
        {"granted_by": land["b"], "scope": ["publish"], "method": "written", "granted_on": "2025-01-01",
         "withdrawn_on": "2025-03-01"},
    ])
    assert set(current_consents(atlas, "publish", on="2025-06-01")["granted_by"]) == {land["a"]}
    gaps = consent_gaps(atlas, on="2025-06-01")
    assert land["a"] not in set(gaps["party"]) and land["b"] in set(gaps["party"])
    assert land["a"] in set(consent_gaps(atlas, on="2026-06-01")["party"])  # expired
    assert set(gaps.loc[gaps["party"] == land["b"], "id"]) >= {land["claim_b"], land["r1"]}


def test_generalised_ids_cannot_be_linked_to_real_ids(tmp_path: Path) -> None:
    """Two atlases holding the same feature give it different opaque ids: the hash is keyed per atlas."""
    first = cm.Atlas.create(tmp_path / "one.gpkg")
    feature = first.add("claims", {"name": "Sacred place", "status": "asserted", "sensitivity": "community",
                                   "publish_as": "grid_cell", "geometry": box(0, 0, 0.01, 0.01)}).ids[0]
    shutil.copyfile(tmp_path / "one.gpkg", tmp_path / "copy.gpkg")
    second = cm.Atlas.create(tmp_path / "two.gpkg")
    second.add("claims", first.layer("claims"))
    shown = first.layer("claims", viewer=Viewer.anonymous())["id"].tolist()
    assert shown == [first.opaque_id("claims", feature)] and feature not in shown[0]
    assert second.layer("claims", viewer=Viewer.anonymous())["id"].tolist() != shown
    assert cm.open_atlas(tmp_path / "copy.gpkg").layer("claims", viewer=Viewer.anonymous())["id"].tolist() == shown
