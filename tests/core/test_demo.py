"""The demo atlas: built from the shipped demo files only, complete, valid and well linked."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from osgeo_utils.samples import validate_gpkg

from commonsmap import Atlas, AtlasError, open_atlas
from commonsmap.catalogue import default_catalogue_dir
from commonsmap.demo import CLAIM_STATUS, DEMO_DIR, build_demo_atlas

FILES = {
    "bologna_zones.geojson": 18,
    "bologna_osm_green.geojson": 63,
    "paris_jardins_partages.geojson": 181,
    "amazon_territories.geojson": 50,
    "amazon_mining_2023.geojson": 300,
    "san_felice_fogli.geojson": 26,
}


def demo_file(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO_DIR / name)


def distinct_names(values: object) -> set[str]:
    return {str(v).strip() for v in pd.Series(values).dropna() if str(v).strip()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Atlas, list[str]]:
    path = tmp_path_factory.mktemp("demo") / "demo.gpkg"
    steps: list[str] = []
    atlas = build_demo_atlas(path, progress=steps.append)
    return path, atlas, steps


def test_demo_files_ship_with_the_catalogue() -> None:
    assert default_catalogue_dir() / "demo" == DEMO_DIR
    attribution = (DEMO_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    total = 0
    for name, count in FILES.items():
        frame = demo_file(name)
        assert len(frame) == count, name
        assert frame.crs is not None and frame.crs.to_epsg() == 4326, name
        assert name in attribution
        total += (DEMO_DIR / name).stat().st_size
    assert total < 3_000_000


def test_every_layer_has_the_features_of_its_files(built: tuple[Path, Atlas, list[str]]) -> None:
    _, atlas, steps = built
    gardens = demo_file("paris_jardins_partages.geojson")
    territories = demo_file("amazon_territories.geojson")
    expected = {
        "admin_units": len(demo_file("bologna_zones.geojson")),
        "commons": len(demo_file("bologna_osm_green.geojson")),
        "pacts": len(gardens),
        "parties": (len({" ".join(n.split()).casefold() for n in distinct_names(gardens["nom_gerant"])
                         | distinct_names(gardens["proprietaire_terrain"])})
                    + len(distinct_names(territories["ethnicities_field"]))),
        "claims": len(territories),
        "observations": len(demo_file("amazon_mining_2023.geojson")),
        "parcels": len(demo_file("san_felice_fogli.geojson")),
        "sources": 6,
        "datasets": 6,
        "rights": 0,
        "objections": 0,
        "disputes": 0,
        "consents": 0,
        "pact_events": len(gardens),  # one per pact: its status as the register gave it
        "pact_parties": int(gardens["nom_gerant"].notna().sum() + gardens["proprietaire_terrain"].notna().sum()),
        "pact_parcels": 0,
    }
    assert atlas.counts() == expected
    assert len(steps) >= len([n for n, c in expected.items() if c and not n.startswith("pact_")])


def test_every_record_names_its_dataset_and_licence(built: tuple[Path, Atlas, list[str]]) -> None:
    _, atlas, _ = built
    datasets = atlas["datasets"].set_index("id")
    assert set(datasets["licence"]) == {"CC-BY-4.0", "ODbL-1.0"}
    for layer, count in atlas.counts().items():
        if count and layer != "datasets" and layer != "parties":
            assert atlas[layer]["dataset"].isin(datasets.index).all(), layer
    claims = atlas["claims"]
    assert set(claims["identity"]) == {"indigenous"}
    titled = claims[claims["status"] == "titled"]
    assert set(titled["recognition"]) == {"acknowledged"} and set(titled["documentation"]) == {"documented"}


def test_claims_and_pacts_refer_to_existing_parties(built: tuple[Path, Atlas, list[str]]) -> None:
    _, atlas, _ = built
    parties = atlas["parties"].set_index("id")
    claims = atlas["claims"]
    territories = demo_file("amazon_territories.geojson")
    assert claims["claimant"].notna().sum() == territories["ethnicities_field"].notna().sum()
    for claimant, people in zip(claims["claimant"], claims["people"], strict=True):
        if claimant is not None and claimant == claimant:
            assert parties.loc[claimant, "kind"] == "indigenous_people"
            assert parties.loc[claimant, "name"] == people
    pacts = atlas["pacts"]
    linked = [ids for ids in pacts["parties"] if isinstance(ids, list)]
    assert len(linked) == gardens_with_steward()
    for ids in linked:
        assert len(ids) == 1 and parties.loc[ids[0], "kind"] == "association"


def gardens_with_steward() -> int:
    stewards = demo_file("paris_jardins_partages.geojson")["nom_gerant"]
    return int(stewards.map(lambda v: isinstance(v, str) and bool(v.strip())).sum())


def test_statuses_follow_the_sources(built: tuple[Path, Atlas, list[str]]) -> None:
    _, atlas, _ = built
    pacts = atlas["pacts"]
    closed = demo_file("paris_jardins_partages.geojson")["date_fermeture"].notna().sum()
    assert (pacts["status"] == "concluded").sum() == closed
    assert pacts.loc[pacts["status"] == "concluded", "expires_on"].notna().all()
    claims = atlas["claims"]
    for official, status in zip(claims["official_status"], claims["status"], strict=True):
        missing = official is None or official != official
        expected = "documented" if missing else CLAIM_STATUS[official.casefold()]
        assert status == expected


def test_observations_fall_inside_the_claims(built: tuple[Path, Atlas, list[str]]) -> None:
    _, atlas, _ = built
    observations = atlas["observations"]
    assert set(observations["sensitivity"]) == {"public"}
    assert set(observations["kind"]) == {"mining"}
    inside = gpd.sjoin(observations[["geometry"]], atlas["claims"][["geometry"]], predicate="within")
    assert inside.index.nunique() == len(observations)


def test_geometries_are_valid_and_in_wgs84(built: tuple[Path, Atlas, list[str]]) -> None:
    path, atlas, _ = built
    for layer in atlas.layers():
        frame = atlas[layer]
        if not atlas.spec(layer).is_spatial or len(frame) == 0:
            continue
        assert frame.crs.to_epsg() == 4326, layer
        geometries = frame.geometry.dropna()
        assert geometries.is_valid.all(), layer
        assert not geometries.is_empty.any(), layer
    assert validate_gpkg.check(str(path), abort_at_first_error=False, warning_msg=False) == []


def test_the_atlas_reopens_with_its_metadata(built: tuple[Path, Atlas, list[str]]) -> None:
    path, atlas, _ = built
    reopened = open_atlas(path)
    assert reopened.counts() == atlas.counts()
    assert reopened.metadata["custodian"] == "commonsmap demo"
    assert "ATTRIBUTION.md" in reopened.metadata["licence"]
    assert set(reopened.history()["who"]) == {"commonsmap demo"}


def test_an_existing_path_is_kept_unless_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "taken.gpkg"
    path.write_bytes(b"not an atlas")
    with pytest.raises(AtlasError, match="already exists"):
        build_demo_atlas(path)
    assert path.read_bytes() == b"not an atlas"
    atlas = build_demo_atlas(path, overwrite=True)
    assert atlas.counts()["claims"] == FILES["amazon_territories.geojson"]
