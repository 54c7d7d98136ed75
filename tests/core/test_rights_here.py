""""Who may do what here?": hand-built cases with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon, box

import commonsmap as cm
from commonsmap.analysis.rights import who_may
from commonsmap.errors import QueryError
from commonsmap.privacy import Viewer


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> tuple[cm.Atlas, dict[str, str]]:
    """A forest (0..1 x 0..1) and a pasture (2..3 x 0..1) with known rights, claims and a pact."""
    path: Path = tmp_path_factory.mktemp("village") / "village.gpkg"
    atlas = cm.Atlas.create(path)
    ids: dict[str, str] = {}
    with atlas.transaction(who="test") as tx:
        a, b, c = tx.add("parties", [{"name": "Comunidad A", "kind": "community"},
                                     {"name": "Cooperativa B", "kind": "cooperative"},
                                     {"name": "Municipio C", "kind": "municipality"}]).ids
        forest, pasture = tx.add("commons", [
            {"name": "Forest", "kind": "forest", "geometry": box(0, 0, 1, 1)},
            {"name": "Pasture", "kind": "pasture", "geometry": box(2, 0, 3, 1), "sensitivity": "secret",
             "custodian": a}]).ids
        rights = tx.add("rights", [
            {"kind": "right", "holder": a, "commons": forest, "access": True, "withdrawal": True,
             "management": True, "exclusion": True, "basis": "customary", "description": "forest of A"},
            {"kind": "right", "holder": b, "commons": forest, "access": True, "withdrawal": True,
             "months": [6, 7, 8], "valid_from": "2020-01-01", "basis": "licence", "description": "summer grazing"},
            {"kind": "restriction", "holder": c, "commons": forest, "geometry": box(0, 0, 0.5, 0.5),
             "valid_to": "2019-12-31", "basis": "statutory", "description": "no logging"},
            {"kind": "responsibility", "holder": a, "commons": pasture, "description": "fire watch"},
            {"kind": "right", "holder": a, "commons": forest, "access": True, "withdrawal": True,
             "sensitivity": "community", "description": "medicinal plants"},
        ]).ids
        claims = tx.add("claims", [
            {"name": "Territory of A", "claimant": a, "status": "recognised", "basis": "ancestral_occupation",
             "claimed_on": "2010-05-01", "geometry": box(-0.5, -0.5, 1.5, 1.5)},
            {"name": "Claim of B", "claimant": b, "status": "rejected", "geometry": box(0, 0, 1, 1)},
        ]).ids
        pact = tx.add("pacts", [{"title": "Care of the clearing", "status": "active", "parties": [c, a],
                                 "signed_on": "2022-01-01", "expires_on": "2027-12-31",
                                 "geometry": box(0.8, 0.8, 1.2, 1.2)}]).ids[0]
    ids.update(a=a, b=b, c=c, forest=forest, pasture=pasture, pact=pact, claim=claims[0],
               **{f"r{i + 1}": r for i, r in enumerate(rights)})
    return atlas, ids


def _records(answer) -> set[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    return set(zip(answer["record_id"], answer["holder"], strict=True))


def test_in_summer_the_holder_of_the_forest_and_the_graziers(village) -> None:  # type: ignore[no-untyped-def]
    atlas, ids = village
    answer = who_may(atlas, Point(0.25, 0.25), on="2024-07-15")
    assert _records(answer) == {(ids["r1"], ids["a"]), (ids["r2"], ids["b"]), (ids["r5"], ids["a"]),
                                (ids["claim"], ids["a"])}
    positions = dict(zip(answer["record_id"], answer["position"], strict=True))
    assert positions[ids["r1"]] == "proprietor"
    assert positions[ids["r2"]] == "authorized_user"
    assert positions[ids["claim"]] == "claimant"
    assert set(answer["holder_name"]) == {"Comunidad A", "Cooperativa B"}


def test_out_of_season_and_after_expiry(village) -> None:  # type: ignore[no-untyped-def]
    atlas, ids = village
    winter = who_may(atlas, Point(0.25, 0.25), on="2024-01-15")
    assert ids["r2"] not in set(winter["record_id"])  # grazing only June to August
    assert ids["r3"] not in set(winter["record_id"])  # the restriction ended in 2019
    old = who_may(atlas, Point(0.25, 0.25), on="2018-03-01")
    assert ids["r3"] in set(old["record_id"]) and ids["r2"] not in set(old["record_id"])
    restriction = old[old["record_id"] == ids["r3"]].iloc[0]
    assert restriction["kind"] == "restriction" and restriction["holder_name"] == "Municipio C"


def test_without_a_date_every_record_whatever_its_dates(village) -> None:  # type: ignore[no-untyped-def]
    atlas, ids = village
    answer = who_may(atlas, Point(0.25, 0.25))
    assert {ids["r1"], ids["r2"], ids["r3"], ids["r5"], ids["claim"]} == set(answer["record_id"])


def test_a_pact_answers_for_each_of_its_parties(village) -> None:  # type: ignore[no-untyped-def]
    atlas, ids = village
    answer = who_may(atlas, Point(0.9, 0.9), on="2024-07-15")
    pact = answer[answer["layer"] == "pacts"]
    assert set(pact["holder"]) == {ids["a"], ids["c"]} and set(pact["record_id"]) == {ids["pact"]}
    assert who_may(atlas, Point(0.9, 0.9), on="2030-01-01").query("layer == 'pacts'").empty


def test_a_polygon_touching_only_along_an_edge_does_not_count(village) -> None:  # type: ignore[no-untyped-def]
    atlas, ids = village
    answer = who_may(atlas, box(1, 0, 2, 1))  # shares an edge with the forest and with the pasture
    assert set(answer["record_id"]) == {ids["claim"], ids["pact"]}  # they cover some of it; the commons do not


def test_the_rejected_claim_never_answers(village) -> None:  # type: ignore[no-untyped-def]
    atlas, _ = village
    answer = who_may(atlas, Point(0.5, 0.5))
    assert "Claim of B" not in set(answer["title"])


def test_viewers_learn_only_what_they_may_see(village) -> None:  # type: ignore[no-untyped-def]
    atlas, ids = village
    anonymous = who_may(atlas, Point(0.25, 0.25), viewer=Viewer.anonymous())
    assert ids["r5"] not in set(anonymous["record_id"])  # community right of A
    member = who_may(atlas, Point(0.25, 0.25), viewer=Viewer.member(ids["a"]))
    assert ids["r5"] in set(member["record_id"])
    # the pasture is secret: a right on it cannot be placed by those who may not see the pasture
    assert who_may(atlas, Point(2.5, 0.5), viewer=Viewer.member(ids["a"])).empty
    custodian = who_may(atlas, Point(2.5, 0.5), viewer=Viewer.custodian(ids["a"]))
    assert set(custodian["record_id"]) == {ids["r4"]}
    assert custodian["kind"].tolist() == ["responsibility"]


def test_place_in_another_crs_and_bad_places(village) -> None:  # type: ignore[no-untyped-def]
    atlas, ids = village
    import pyproj

    x, y = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform(0.25, 0.25)
    answer = who_may(atlas, Point(x, y), crs="EPSG:3857", on="2024-07-15")
    assert ids["r1"] in set(answer["record_id"])
    assert ids["r1"] in set(who_may(atlas, (0.25, 0.25))["record_id"])
    with pytest.raises(QueryError, match="valid geometry"):
        who_may(atlas, Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]))  # a bowtie
    with pytest.raises(QueryError, match="shapely Point"):
        who_may(atlas, "here")
