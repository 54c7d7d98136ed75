"""CQL2 text/JSON, property and datetime filters compiled to SQL and run against a real GeoPackage atlas."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import commonsmap as cm
from commonsmap.catalogue import load_catalogue
from commonsmap.errors import QueryError
from commonsmap.query import (
    Queryable,
    SqlFilter,
    compile_cql2,
    datetime_filter,
    equality_filter,
    queryables_of,
    register_sql_functions,
)

# An L-shaped commons: its bounding box covers (12..14, 12..14), its geometry does not.
L_SHAPE = shapely.Polygon([(10, 10), (14, 10), (14, 11), (11, 11), (11, 14), (10, 14)])
CORNER = shapely.box(12, 12, 13, 13)

COMMONS = [
    {"name": "Bosque Alto", "kind": "forest", "description": "old growth", "geometry": shapely.box(0, 0, 1, 1)},
    {"name": "bosque bajo", "kind": "Bosque", "geometry": shapely.box(2, 0, 3, 1)},
    {"name": "Río 100%", "kind": "river", "description": "flows", "geometry": L_SHAPE},
    {"name": "Sant'Anna", "kind": "garden", "geometry": shapely.Point(0.5, 5)},
    {"name": "Prado_1", "kind": "pasture"},
    {"name": "PradoX1", "kind": "pasture", "description": "a\\b"},
]
PARTIES = [
    {"name": "Cooperativa", "kind": "cooperative", "members_count": 10, "roles": ["president", "treasurer"]},
    {"name": "Comunidad", "kind": "community", "members_count": 340, "roles": ["president"]},
    {"name": "Asociación", "kind": "association", "members_count": 55},
    {"name": "Persona", "kind": "person"},
]
# validity: R1 2020-∞, R2 2018–2019, R3 ∞–2021-06-30, R4 always, R5 2022
RIGHTS = [
    {"description": "R1", "kind": "right", "access": True, "withdrawal": True, "valid_from": "2020-01-01",
     "months": [1, 2, 3]},
    {"description": "R2", "kind": "right", "access": False, "valid_from": "2018-01-01", "valid_to": "2019-12-31",
     "months": [6]},
    {"description": "R3", "kind": "restriction", "access": True, "valid_to": "2021-06-30"},
    {"description": "R4", "kind": "responsibility"},
    {"description": "R5", "kind": "right", "access": False, "valid_from": "2022-01-01", "valid_to": "2022-12-31",
     "months": [2, 12]},
]
OBSERVATIONS = [
    {"notes": "O1", "kind": "mining", "observed_at": "2024-03-02T10:00:00Z", "value": 1.5},
    {"notes": "O2", "kind": "mining", "observed_at": "2024-03-02T23:30:00Z", "value": 20.0},
    {"notes": "O3", "kind": "fire", "observed_at": "2024-03-03T00:00:00Z"},
    {"notes": "O4", "kind": "fire", "observed_at": "2023-12-31T12:00:00+02:00", "value": -3.0},
]


@dataclass
class World:
    path: Path
    connection: sqlite3.Connection
    labels: dict[str, dict[str, str]]  # layer -> id -> label
    queryables: dict[str, dict[str, Queryable]]

    def run(self, layer: str, where: SqlFilter) -> set[str]:
        """Run the filter; return the labels of the matching features (each stands for its id)."""
        rows = self.connection.execute(f'SELECT id FROM "{layer}" WHERE {where.sql}', where.params).fetchall()
        return {self.labels[layer][row[0]] for row in rows}

    def cql(self, layer: str, expression: Any, lang: str = "cql2-text", rtree: bool = True) -> set[str]:
        compiled = compile_cql2(expression, lang, self.queryables[layer],
                                rtree=f"rtree_{layer}_geom" if rtree else None)
        assert "?" in compiled.sql or not compiled.params
        return self.run(layer, compiled)

    def count(self, layer: str) -> int:
        return int(self.connection.execute(f'SELECT count(*) FROM "{layer}"').fetchone()[0])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("query") / "a.gpkg"
    atlas = cm.Atlas.create(path)
    labels: dict[str, dict[str, str]] = {}
    party_ids = atlas.add("parties", PARTIES, who="test").ids
    labels["parties"] = dict(zip(party_ids, (p["name"] for p in PARTIES), strict=True))
    rights = [{**r, "holder": party_ids[0], "geometry": shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])}
              for r in RIGHTS]
    labels["rights"] = dict(zip(atlas.add("rights", rights, who="test").ids, (r["description"] for r in RIGHTS),
                                strict=True))
    observations = [{**o, "geometry": shapely.Point(i, i)} for i, o in enumerate(OBSERVATIONS)]
    labels["observations"] = dict(zip(atlas.add("observations", observations, who="test").ids,
                                      (o["notes"] for o in OBSERVATIONS), strict=True))
    labels["commons"] = dict(zip(atlas.add("commons", COMMONS, who="test").ids, (c["name"] for c in COMMONS),
                                 strict=True))
    connection = sqlite3.connect(path)
    register_sql_functions(connection)
    queryables = {name: queryables_of(atlas.spec(name)) for name in labels}
    yield World(path, connection, labels, queryables)
    connection.close()


ALL_COMMONS = {c["name"] for c in COMMONS}


def test_queryables_of_a_layer() -> None:
    commons = queryables_of(load_catalogue()["commons"])
    assert "extra" not in commons and "publish_as" not in commons
    assert commons["geometry"] == Queryable("geometry", "geometry", "geom")
    assert commons["name"] == Queryable("name", "string", "name")
    assert commons["kind"].vocabulary == "commons_kind" and commons["created"].type == "datetime"
    assert list(commons)[:3] == ["id", "created", "updated"]
    assert "geometry" not in queryables_of(load_catalogue()["parties"])


# -- comparisons: text and JSON give the same features --------------------------------------

def _prop(name: str) -> dict[str, str]:
    return {"property": name}


CASES = [
    ("commons", "name = 'Bosque Alto'", {"op": "=", "args": [_prop("name"), "Bosque Alto"]}, {"Bosque Alto"}),
    ("commons", "name <> 'Bosque Alto'", {"op": "<>", "args": [_prop("name"), "Bosque Alto"]},
     ALL_COMMONS - {"Bosque Alto"}),
    ("commons", "name = 'Sant''Anna'", {"op": "=", "args": [_prop("name"), "Sant'Anna"]}, {"Sant'Anna"}),
    ("commons", "'Bosque Alto' = name", {"op": "=", "args": ["Bosque Alto", _prop("name")]}, {"Bosque Alto"}),
    ("commons", "kind = 'forest'", {"op": "=", "args": [_prop("kind"), "forest"]}, {"Bosque Alto", "bosque bajo"}),
    ("commons", "kind = 'Bosque'", {"op": "=", "args": [_prop("kind"), "Bosque"]}, {"Bosque Alto", "bosque bajo"}),
    ("commons", "kind IN ('river', 'garden')", {"op": "in", "args": [_prop("kind"), ["river", "garden"]]},
     {"Río 100%", "Sant'Anna"}),
    ("commons", "kind NOT IN ('forest', 'pasture')",
     {"op": "not", "args": [{"op": "in", "args": [_prop("kind"), ["forest", "pasture"]]}]},
     {"Río 100%", "Sant'Anna"}),
    ("commons", "description IS NULL", {"op": "isNull", "args": [_prop("description")]},
     {"bosque bajo", "Sant'Anna", "Prado_1"}),
    ("commons", "description IS NOT NULL", {"op": "not", "args": [{"op": "isNull", "args": [_prop("description")]}]},
     {"Bosque Alto", "Río 100%", "PradoX1"}),
    ("commons", "NOT (kind = 'forest' OR kind = 'pasture')",
     {"op": "not", "args": [{"op": "or", "args": [{"op": "=", "args": [_prop("kind"), "forest"]},
                                                  {"op": "=", "args": [_prop("kind"), "pasture"]}]}]},
     {"Río 100%", "Sant'Anna"}),
    ("commons", "kind = 'pasture' AND NOT (name = 'Prado_1') OR kind = 'garden'",
     {"op": "or", "args": [{"op": "and", "args": [{"op": "=", "args": [_prop("kind"), "pasture"]},
                                                  {"op": "not", "args": [{"op": "=", "args": [_prop("name"),
                                                                                              "Prado_1"]}]}]},
                           {"op": "=", "args": [_prop("kind"), "garden"]}]},
     {"PradoX1", "Sant'Anna"}),
    ("commons", "name < 'C'", {"op": "<", "args": [_prop("name"), "C"]}, {"Bosque Alto"}),
    ("parties", "members_count < 55", {"op": "<", "args": [_prop("members_count"), 55]}, {"Cooperativa"}),
    ("parties", "members_count <= 55", {"op": "<=", "args": [_prop("members_count"), 55]},
     {"Cooperativa", "Asociación"}),
    ("parties", "members_count > 55", {"op": ">", "args": [_prop("members_count"), 55]}, {"Comunidad"}),
    ("parties", "members_count >= 10.5", {"op": ">=", "args": [_prop("members_count"), 10.5]},
     {"Comunidad", "Asociación"}),
    ("parties", "100 > members_count", {"op": ">", "args": [100, _prop("members_count")]},
     {"Cooperativa", "Asociación"}),
    ("parties", "members_count BETWEEN 10 AND 55", {"op": "between", "args": [_prop("members_count"), 10, 55]},
     {"Cooperativa", "Asociación"}),
    ("parties", "members_count NOT BETWEEN 10 AND 55",
     {"op": "not", "args": [{"op": "between", "args": [_prop("members_count"), [10, 55]]}]}, {"Comunidad"}),
    ("parties", "members_count IN (10, 340)", {"op": "in", "args": [_prop("members_count"), [10, 340]]},
     {"Cooperativa", "Comunidad"}),
    ("parties", "members_count IS NULL", {"op": "isNull", "args": [_prop("members_count")]}, {"Persona"}),
    ("parties", "roles IS NULL", {"op": "isNull", "args": [_prop("roles")]}, {"Asociación", "Persona"}),
    ("rights", "access = true", {"op": "=", "args": [_prop("access"), True]}, {"R1", "R3"}),
    ("rights", "access = false", {"op": "=", "args": [_prop("access"), False]}, {"R2", "R5"}),
    ("rights", "access <> true", {"op": "<>", "args": [_prop("access"), True]}, {"R2", "R5"}),
    ("rights", "access IS NULL", {"op": "isNull", "args": [_prop("access")]}, {"R4"}),
    ("rights", "access = true AND withdrawal = true",
     {"op": "and", "args": [{"op": "=", "args": [_prop("access"), True]},
                            {"op": "=", "args": [_prop("withdrawal"), True]}]}, {"R1"}),
    ("rights", "valid_from >= DATE('2020-01-01')",
     {"op": ">=", "args": [_prop("valid_from"), {"date": "2020-01-01"}]}, {"R1", "R5"}),
    ("rights", "valid_from > DATE('2020-01-01')", {"op": ">", "args": [_prop("valid_from"), {"date": "2020-01-01"}]},
     {"R5"}),
    ("rights", "valid_to = DATE('2019-12-31')", {"op": "=", "args": [_prop("valid_to"), {"date": "2019-12-31"}]},
     {"R2"}),
    ("rights", "valid_from < TIMESTAMP('2020-01-01T12:00:00Z')",
     {"op": "<", "args": [_prop("valid_from"), {"timestamp": "2020-01-01T12:00:00Z"}]}, {"R1", "R2"}),
    ("rights", "valid_from > TIMESTAMP('2020-01-01T12:00:00Z')",
     {"op": ">", "args": [_prop("valid_from"), {"timestamp": "2020-01-01T12:00:00Z"}]}, {"R5"}),
    ("rights", "valid_from = TIMESTAMP('2020-01-01T00:00:00Z')",
     {"op": "=", "args": [_prop("valid_from"), {"timestamp": "2020-01-01T00:00:00Z"}]}, {"R1"}),
    ("rights", "valid_from BETWEEN DATE('2018-01-01') AND DATE('2020-01-01')",
     {"op": "between", "args": [_prop("valid_from"), {"date": "2018-01-01"}, {"date": "2020-01-01"}]},
     {"R1", "R2"}),
    ("rights", "valid_to IN (DATE('2019-12-31'), DATE('2022-12-31'))",
     {"op": "in", "args": [_prop("valid_to"), [{"date": "2019-12-31"}, {"date": "2022-12-31"}]]}, {"R2", "R5"}),
    ("observations", "observed_at = DATE('2024-03-02')",
     {"op": "=", "args": [_prop("observed_at"), {"date": "2024-03-02"}]}, {"O1", "O2"}),
    ("observations", "observed_at <> DATE('2024-03-02')",
     {"op": "<>", "args": [_prop("observed_at"), {"date": "2024-03-02"}]}, {"O3", "O4"}),
    ("observations", "observed_at <= DATE('2024-03-02')",
     {"op": "<=", "args": [_prop("observed_at"), {"date": "2024-03-02"}]}, {"O1", "O2", "O4"}),
    ("observations", "observed_at > DATE('2024-03-02')",
     {"op": ">", "args": [_prop("observed_at"), {"date": "2024-03-02"}]}, {"O3"}),
    ("observations", "observed_at < DATE('2024-03-02')",
     {"op": "<", "args": [_prop("observed_at"), {"date": "2024-03-02"}]}, {"O4"}),
    ("observations", "observed_at = TIMESTAMP('2024-03-02T12:00:00+02:00')",
     {"op": "=", "args": [_prop("observed_at"), {"timestamp": "2024-03-02T12:00:00+02:00"}]}, {"O1"}),
    ("observations", "observed_at >= TIMESTAMP('2024-03-02T10:00:00.001Z')",
     {"op": ">=", "args": [_prop("observed_at"), {"timestamp": "2024-03-02T10:00:00.001Z"}]}, {"O2", "O3"}),
    ("observations", "observed_at < TIMESTAMP('2023-12-31T10:00:01Z')",
     {"op": "<", "args": [_prop("observed_at"), {"timestamp": "2023-12-31T10:00:01Z"}]}, {"O4"}),
    ("observations", "value > 1 AND value < 20.5",
     {"op": "and", "args": [{"op": ">", "args": [_prop("value"), 1]}, {"op": "<", "args": [_prop("value"), 20.5]}]},
     {"O1", "O2"}),
    ("observations", "value < -1", {"op": "<", "args": [_prop("value"), -1]}, {"O4"}),
    ("observations", "INCLUDE", None, {"O1", "O2", "O3", "O4"}),
]


@pytest.mark.parametrize(("layer", "text", "json_form", "expected"), CASES,
                         ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_text_and_json_filters_select_the_expected_features(world: World, layer: str, text: str,
                                                            json_form: dict[str, Any] | None,
                                                            expected: set[str]) -> None:
    assert world.cql(layer, text) == expected
    if json_form is not None:
        assert world.cql(layer, json_form, "cql2-json") == expected
        assert world.cql(layer, json.dumps(json_form), "cql2-json") == expected
        assert world.cql(layer, {"filter-lang": "cql2-json", "filter": json_form}, "cql2-json") == expected


def test_literals_never_enter_the_sql_text(world: World) -> None:
    compiled = compile_cql2("name = 'Bosque Alto' AND version >= 1 AND created < TIMESTAMP('2999-01-01T00:00:00Z')",
                            "cql2-text", world.queryables["commons"], rtree=None)
    assert compiled.sql == '("name" = ? AND "version" >= ? AND "created" < ?)'
    assert compiled.params == ("Bosque Alto", 1, "2999-01-01T00:00:00.000Z")


# -- LIKE ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("name LIKE 'Bosque%'", {"Bosque Alto"}),  # case-sensitive, unlike SQLite's plain LIKE
    ("name LIKE '%osque%'", {"Bosque Alto", "bosque bajo"}),
    ("name LIKE 'Prado_1'", {"Prado_1", "PradoX1"}),
    ("name LIKE 'Prado\\_1'", {"Prado_1"}),
    ("name LIKE '%100\\%'", {"Río 100%"}),
    ("name LIKE '%100%'", {"Río 100%"}),
    ("name LIKE 'R_o%'", {"Río 100%"}),
    ("name LIKE 'Sant''%'", {"Sant'Anna"}),
    ("name LIKE '*'", set()),
    ("name NOT LIKE '%o%'", {"Sant'Anna"}),
    ("description LIKE 'a\\\\b'", {"PradoX1"}),
    ("CASEI(name) LIKE CASEI('BOSQUE%')", {"Bosque Alto", "bosque bajo"}),
    ("CASEI(name) LIKE CASEI('RÍO%')", {"Río 100%"}),
    ("CASEI(name) = CASEI('PRADO_1')", {"Prado_1"}),
    ("CASEI(name) IN (CASEI('SANT''ANNA'), CASEI('BOSQUE BAJO'))", {"Sant'Anna", "bosque bajo"}),
])
def test_like_matches_cql2_wildcards_with_escapes(world: World, text: str, expected: set[str]) -> None:
    assert world.cql("commons", text) == expected


def test_like_in_json_and_its_sql(world: World) -> None:
    like = {"op": "like", "args": [_prop("name"), "Prado\\_%"]}
    assert world.cql("commons", like, "cql2-json") == {"Prado_1"}
    casei = {"op": "like", "args": [{"op": "casei", "args": [_prop("name")]},
                                    {"op": "casei", "args": ["bosque%"]}]}
    assert world.cql("commons", casei, "cql2-json") == {"Bosque Alto", "bosque bajo"}
    compiled = compile_cql2("name LIKE 'a%'", "cql2-text", world.queryables["commons"], rtree=None)
    assert "LIKE ? ESCAPE '\\'" in compiled.sql and compiled.params == ("a%", "a*")


# -- arrays (cql2-json) ----------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "op", "prop", "items", "expected"), [
    ("parties", "a_contains", "roles", ["president"], {"Cooperativa", "Comunidad"}),
    ("parties", "a_contains", "roles", ["president", "treasurer"], {"Cooperativa"}),
    ("parties", "a_overlaps", "roles", ["treasurer", "secretary"], {"Cooperativa"}),
    ("rights", "a_contains", "months", [2], {"R1", "R5"}),
    ("rights", "a_overlaps", "months", [6, 12], {"R2", "R5"}),
])
def test_array_predicates(world: World, layer: str, op: str, prop: str, items: list[Any],
                          expected: set[str]) -> None:
    assert world.cql(layer, {"op": op, "args": [_prop(prop), items]}, "cql2-json") == expected


# -- spatial ------------------------------------------------------------------------------

SPATIAL = [
    ("S_INTERSECTS(geometry, POLYGON((0.5 0.5, 2.5 0.5, 2.5 2, 0.5 2, 0.5 0.5)))",
     {"op": "s_intersects", "args": [_prop("geometry"), shapely.geometry.mapping(
         shapely.box(0.5, 0.5, 2.5, 2))]}, {"Bosque Alto", "bosque bajo"}),
    ("S_INTERSECTS(geometry, BBOX(0.4, 0.4, 0.6, 6))",
     {"op": "s_intersects", "args": [_prop("geometry"), {"bbox": [0.4, 0.4, 0.6, 6]}]},
     {"Bosque Alto", "Sant'Anna"}),
    ("S_INTERSECTS(POINT(0.5 5), geometry)",
     {"op": "s_intersects", "args": [{"type": "Point", "coordinates": [0.5, 5]}, _prop("geometry")]},
     {"Sant'Anna"}),
    # the corner inside the L's bounding box but outside the L: the R-tree passes it, the exact test must not
    ("S_INTERSECTS(geometry, POLYGON((12 12, 13 12, 13 13, 12 13, 12 12)))",
     {"op": "s_intersects", "args": [_prop("geometry"), shapely.geometry.mapping(CORNER)]}, set()),
    ("S_INTERSECTS(geometry, BBOX(12, 12, 13, 13))",
     {"op": "s_intersects", "args": [_prop("geometry"), {"bbox": [12, 12, 13, 13]}]}, set()),
    ("BBOX(geometry, 12, 12, 13, 13)", None, set()),
    ("BBOX(geometry, 10.5, 12, 13, 13)", None, {"Río 100%"}),
    ("S_INTERSECTS(geometry, BBOX(10.5, 12, 13, 13))",
     {"op": "s_intersects", "args": [_prop("geometry"), {"bbox": [10.5, 12, 13, 13]}]}, {"Río 100%"}),
    ("S_DISJOINT(geometry, BBOX(-1, -1, 1.5, 1.5))",
     {"op": "s_disjoint", "args": [_prop("geometry"), {"bbox": [-1, -1, 1.5, 1.5]}]},
     {"bosque bajo", "Río 100%", "Sant'Anna"}),
    ("S_WITHIN(geometry, BBOX(-1, -1, 4, 2))",
     {"op": "s_within", "args": [_prop("geometry"), {"bbox": [-1, -1, 4, 2]}]}, {"Bosque Alto", "bosque bajo"}),
    ("S_CONTAINS(geometry, POINT(2.5 0.5))",
     {"op": "s_contains", "args": [_prop("geometry"), {"type": "Point", "coordinates": [2.5, 0.5]}]},
     {"bosque bajo"}),
    ("S_CONTAINS(BBOX(-1, -1, 4, 2), geometry)", None, {"Bosque Alto", "bosque bajo"}),
    ("S_INTERSECTS(geometry, MULTIPOINT((0.5 0.5), (12.5 12.5), (10.5 13)))", None, {"Bosque Alto", "Río 100%"}),
    ("kind = 'forest' AND S_INTERSECTS(geometry, BBOX(0, 0, 10, 10))", None, {"Bosque Alto", "bosque bajo"}),
    ("geometry IS NULL", {"op": "isNull", "args": [_prop("geometry")]}, {"Prado_1", "PradoX1"}),
]


@pytest.mark.parametrize(("text", "json_form", "expected"), SPATIAL, ids=[s[0] for s in SPATIAL])
def test_spatial_predicates(world: World, text: str, json_form: dict[str, Any] | None, expected: set[str]) -> None:
    assert world.cql("commons", text) == expected
    assert world.cql("commons", text, rtree=False) == expected
    if json_form is not None:
        assert world.cql("commons", json_form, "cql2-json") == expected


def test_spatial_sql_has_an_rtree_prefilter_and_an_exact_test(world: World) -> None:
    compiled = compile_cql2("S_INTERSECTS(geometry, BBOX(12, 12, 13, 13))", "cql2-text",
                            world.queryables["commons"], rtree="rtree_commons_geom")
    assert compiled.sql == ('("fid" IN (SELECT id FROM "rtree_commons_geom" WHERE maxx >= ? AND minx <= ? '
                            'AND maxy >= ? AND miny <= ?) AND cm_intersects("geom", ?))')
    assert compiled.params[:4] == (12.0, 13.0, 12.0, 13.0)
    assert shapely.from_wkb(compiled.params[4]).equals(CORNER)
    # the prefilter alone lets the L through: the exact test is what excludes it
    prefilter = world.connection.execute(
        'SELECT count(*) FROM "commons" WHERE "fid" IN (SELECT id FROM "rtree_commons_geom" '
        "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)", compiled.params[:4]).fetchone()[0]
    assert prefilter == 1
    no_rtree = compile_cql2("S_INTERSECTS(geometry, BBOX(12, 12, 13, 13))", "cql2-text",
                            world.queryables["commons"], rtree=None)
    assert no_rtree.sql == '(cm_intersects("geom", ?))'


def test_an_antimeridian_bbox_is_split() -> None:
    qs = {"geometry": Queryable("geometry", "geometry", "geom")}
    compiled = compile_cql2({"op": "s_intersects", "args": [_prop("geometry"), {"bbox": [170, -10, -170, 10]}]},
                            "cql2-json", qs, rtree=None)
    literal = shapely.from_wkb(compiled.params[-1])
    assert literal.intersects(shapely.Point(175, 0)) and literal.intersects(shapely.Point(-175, 0))
    assert not literal.intersects(shapely.Point(0, 0))


# -- temporal predicates --------------------------------------------------------------------

TEMPORAL = [
    ("rights", "T_INTERSECTS(valid_from, INTERVAL('2019-06-01', '2020-06-01'))",
     {"op": "t_intersects", "args": [_prop("valid_from"), {"interval": ["2019-06-01", "2020-06-01"]}]}, {"R1"}),
    ("rights", "T_INTERSECTS(valid_from, INTERVAL('2019-06-01', '..'))",
     {"op": "t_intersects", "args": [_prop("valid_from"), {"interval": ["2019-06-01", ".."]}]}, {"R1", "R5"}),
    ("rights", "T_AFTER(valid_from, DATE('2019-01-01'))",
     {"op": "t_after", "args": [_prop("valid_from"), {"date": "2019-01-01"}]}, {"R1", "R5"}),
    ("rights", "T_BEFORE(valid_from, DATE('2020-01-01'))",
     {"op": "t_before", "args": [_prop("valid_from"), {"date": "2020-01-01"}]}, {"R2"}),
    ("rights", "T_BEFORE(DATE('2020-01-01'), valid_from)", None, {"R5"}),
    ("rights", "T_DISJOINT(valid_from, INTERVAL('2017-01-01', '2020-12-31'))",
     {"op": "t_disjoint", "args": [_prop("valid_from"), {"interval": ["2017-01-01", "2020-12-31"]}]}, {"R5"}),
    ("observations", "T_INTERSECTS(observed_at, DATE('2024-03-02'))",
     {"op": "t_intersects", "args": [_prop("observed_at"), {"date": "2024-03-02"}]}, {"O1", "O2"}),
    ("observations",
     "T_INTERSECTS(observed_at, INTERVAL('2024-03-02T10:00:00Z', '2024-03-03T00:00:00Z'))",
     {"op": "t_intersects", "args": [_prop("observed_at"),
                                     {"interval": ["2024-03-02T10:00:00Z", "2024-03-03T00:00:00Z"]}]},
     {"O1", "O2", "O3"}),
    ("observations", "T_AFTER(observed_at, INTERVAL('..', '2024-03-02'))",
     {"op": "t_after", "args": [_prop("observed_at"), {"interval": ["..", "2024-03-02"]}]}, {"O3"}),
    ("observations", "observed_at T_BEFORE TIMESTAMP('2024-03-02T10:00:00Z')", None, {"O4"}),
    ("observations", "T_EQUALS(observed_at, TIMESTAMP('2024-03-03T00:00:00Z'))", None, {"O3"}),
]


@pytest.mark.parametrize(("layer", "text", "json_form", "expected"), TEMPORAL, ids=[t[1] for t in TEMPORAL])
def test_temporal_predicates(world: World, layer: str, text: str, json_form: dict[str, Any] | None,
                             expected: set[str]) -> None:
    assert world.cql(layer, text) == expected
    if json_form is not None:
        assert world.cql(layer, json_form, "cql2-json") == expected


# -- ?name=value ----------------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "name", "raw", "expected"), [
    ("commons", "name", "Sant'Anna", {"Sant'Anna"}),
    ("commons", "name", "x' OR '1'='1", set()),
    ("commons", "kind", "Bosque", {"Bosque Alto", "bosque bajo"}),
    ("parties", "members_count", "340", {"Comunidad"}),
    ("rights", "access", "TRUE", {"R1", "R3"}),
    ("rights", "access", "false", {"R2", "R5"}),
    ("rights", "valid_to", "2021-06-30", {"R3"}),
    ("observations", "observed_at", "2024-03-02", {"O1", "O2"}),
    ("observations", "observed_at", "2024-03-02T10:00:00Z", {"O1"}),
    ("observations", "observed_at", "2024-03-02T11:00:00+01:00", {"O1"}),
    ("observations", "value", "20", {"O2"}),
])
def test_equality_filter(world: World, layer: str, name: str, raw: str, expected: set[str]) -> None:
    assert world.run(layer, equality_filter(name, raw, world.queryables[layer])) == expected


@pytest.mark.parametrize(("layer", "name", "raw", "message"), [
    ("parties", "members_count", "ten", "expected a whole number"),
    ("parties", "members_count", "1_000", "expected a whole number"),
    ("observations", "value", "nan", "expected a number"),
    ("rights", "access", "yes", "expected true or false"),
    ("rights", "valid_to", "30/06/2021", "expected a date"),
    ("commons", "kind", "forrest", "use one of: forest"),
    ("parties", "roles", "president", "cannot be filtered by value"),
    ("commons", "nome", "x", "unknown property 'nome'"),
])
def test_equality_filter_errors(world: World, layer: str, name: str, raw: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        equality_filter(name, raw, world.queryables[layer])


# -- datetime= ------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-02", {"O1", "O2"}),
    ("2024-03-02T10:00:00Z", {"O1"}),
    ("2024-03-02T10:00:00.000Z", {"O1"}),
    ("2024-03-02T11:00:00Z/..", {"O2", "O3"}),
    ("2024-03-02T11:00:00Z/", {"O2", "O3"}),
    ("../2024-03-02", {"O1", "O2", "O4"}),
    ("/2024-03-01", {"O4"}),
    ("2024-03-02/2024-03-02", {"O1", "O2"}),
    ("2023-12-31T10:00:00Z/2024-03-02T10:00:00Z", {"O1", "O4"}),
])
def test_datetime_filter_on_one_field(world: World, value: str, expected: set[str]) -> None:
    field = world.queryables["observations"]["observed_at"]
    assert world.run("observations", datetime_filter(value, [field])) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2019-06-01", {"R2", "R3", "R4"}),
    ("2019-06-01T12:00:00Z", {"R2", "R3", "R4"}),
    ("2020-01-01", {"R1", "R3", "R4"}),
    ("2019-12-31", {"R2", "R3", "R4"}),
    ("2021-01-01/2021-12-31", {"R1", "R3", "R4"}),
    ("2023-01-01/..", {"R1", "R4"}),
    ("../2017-12-31", {"R3", "R4"}),
    ("2021-07-01T00:00:00Z/2022-01-01T00:00:00Z", {"R1", "R4", "R5"}),
])
def test_datetime_filter_on_a_validity_interval(world: World, value: str, expected: set[str]) -> None:
    fields = [world.queryables["rights"]["valid_from"], world.queryables["rights"]["valid_to"]]
    assert world.run("rights", datetime_filter(value, fields)) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("yesterday", "is not a date"),
    ("2024-13-01", "not a valid date"),
    ("2024-02-30T00:00:00Z", "not a valid date-time"),
    ("../..", "needs a start or an end"),
    ("2024-02-01/2024-01-01", "starts after it ends"),
    ("2024-01-01/2024-02-01/2024-03-01", "one '/'"),
    ("", "expected an instant or an interval"),
])
def test_datetime_filter_errors(world: World, value: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        datetime_filter(value, [world.queryables["observations"]["observed_at"]])
    with pytest.raises(QueryError, match="one date/datetime property or two"):
        datetime_filter("2024-01-01", [world.queryables["observations"]["value"]])


# -- injection ------------------------------------------------------------------------------

@pytest.mark.parametrize("attempt", [
    "name = 'x'' OR 1=1 --'",
    "name = 'x'' OR ''1''=''1'",
    "name LIKE '%'' OR 1=1 --'",
    "name IN ('a'');DROP TABLE commons;--')",
    {"op": "=", "args": [_prop("name"), "x' OR 1=1 --"]},
    {"op": "=", "args": [_prop("name"), "x\"; DROP TABLE commons; --"]},
])
def test_injected_values_are_only_values(world: World, attempt: Any) -> None:
    before = world.count("commons")
    assert world.cql("commons", attempt, "cql2-text" if isinstance(attempt, str) else "cql2-json") == set()
    assert world.count("commons") == before == len(COMMONS)


@pytest.mark.parametrize(("attempt", "lang"), [
    ('"id; DROP TABLE commons" = \'x\'', "cql2-text"),
    ("name = 'x'; DROP TABLE commons; --", "cql2-text"),
    ("name = 'x' OR 1=1", "cql2-text"),
    ({"op": "=", "args": [_prop('name" OR 1=1 --'), "x"]}, "cql2-json"),
    ({"op": "=", "args": [_prop("name"), {"property": "1); DROP TABLE commons; --"}]}, "cql2-json"),
])
def test_injected_names_and_sql_are_refused(world: World, attempt: Any, lang: str) -> None:
    with pytest.raises(QueryError):
        compile_cql2(attempt, lang, world.queryables["commons"], rtree="rtree_commons_geom")
    assert world.count("commons") == len(COMMONS)


def test_column_names_are_quoted() -> None:
    odd = {"odd": Queryable("odd", "string", 'na"me')}
    assert compile_cql2("odd = 'x'", "cql2-text", odd, rtree=None).sql == '"na""me" = ?'


# -- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "expression", "lang", "message"), [
    ("commons", "nome = 'x'", "cql2-text", r"unknown property 'nome'; .*id, created, updated, .*name, kind"),
    ("commons", {"op": "=", "args": [_prop("nome"), "x"]}, "cql2-json", "unknown property 'nome'"),
    ("commons", "name = ", "cql2-text", "syntax error: the filter ends too early"),
    ("commons", "name = 'x' kind = 'forest'", "cql2-text", "syntax error: unexpected 'kind' at column 12"),
    ("commons", "name = 'x' AND", "cql2-text", "syntax error: the filter ends too early"),
    ("commons", "name == 'x'", "cql2-text", "syntax error"),
    ("commons", "", "cql2-text", "the filter is empty"),
    ("commons", "{not json", "cql2-json", "not valid JSON"),
    ("commons", {"op": "frobnicate", "args": []}, "cql2-json", "unknown operator 'frobnicate'"),
    ("commons", {"op": "=", "args": [_prop("name")]}, "cql2-json", "not valid CQL2 JSON"),
    ("commons", "name = 'x'", "sql", "unknown filter language 'sql'"),
    ("commons", "version = 'one'", "cql2-text", "holds whole numbers; .* the text 'one'; write numbers without"),
    ("commons", "name = 5", "cql2-text", "holds text; .* the number 5; put text in single quotes"),
    ("commons", "created > '2024-01-01'", "cql2-text", r"holds instants .* DATE\('2024-01-01'\)"),
    ("rights", "access = 1", "cql2-text", "true or false"),
    ("rights", "access > false", "cql2-text", "compare it with = or <> only"),
    ("commons", "kind = 'forrest'", "cql2-text", "'forrest' is not a CommonsKind term; use one of: forest, water"),
    ("commons", "version LIKE '1%'", "cql2-text", "LIKE applies to text properties"),
    ("parties", "roles = 'president'", "cql2-text", "can only be tested with IS NULL or A_CONTAINS"),
    ("commons", "ostrom_principles = 'x'", "cql2-text", "can only be tested with IS NULL"),
    ("commons", "geometry = 'x'", "cql2-text", "spatial operators"),
    ("commons", "S_INTERSECTS(name, POINT(0 0))", "cql2-text", "compares the geometry property"),
    ("commons", "S_INTERSECTS(geometry, 'x')", "cql2-text", "needs a geometry literal"),
    ("commons", "S_TOUCHES(geometry, POINT(0 0))", "cql2-text", "S_TOUCHES is not supported"),
    ("commons", "S_INTERSECTS(geometry, SRID=3857;POINT(0 0))", "cql2-text", "SRID"),
    ("commons", "S_INTERSECTS(geometry, BBOX(0, 5, 1, 4))", "cql2-text", "bounding box .* not valid"),
    ("commons", "version = 1 + 1", "cql2-text", "arithmetic"),
    ("commons", "1 = 1", "cql2-text", "needs a property on one side"),
    ("commons", "created T_OVERLAPS INTERVAL('2024-01-01', '..')", "cql2-text", "T_OVERLAPS is not supported"),
    ("commons", "T_AFTER(name, DATE('2024-01-01'))", "cql2-text", "compares a date or datetime property"),
    ("commons", "created > DATE('2024-02-30')", "cql2-text", "DATE: .*2024-02-30"),
    ("commons", "created > TIMESTAMP('20240101T000000Z')", "cql2-text", "TIMESTAMP: .* is not a date"),
    ("commons", "created > DATE('2024-01-01T00:00:00Z')", "cql2-text", "write dates as DATE"),
    ("commons", "created = INTERVAL('2024-01-01', '..')", "cql2-text", "an INTERVAL goes with T_INTERSECTS"),
    ("commons", {"op": "=", "args": [_prop("created"), {"timestamp": "yesterday"}]}, "cql2-json", "yesterday"),
    ("commons", "name LIKE 'abc\\'", "cql2-text", "lone backslash"),
    ("commons", "CASEI(version) = 1", "cql2-text", "CASEI takes a text property"),
    ("commons", "UPPER(name) = 'X'", "cql2-text", "function 'upper' is not supported"),
    ("commons", "name = '\ue001' ", "cql2-text", "private-use characters"),
])
def test_errors_say_what_is_wrong(world: World, layer: str, expression: Any, lang: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        compile_cql2(expression, lang, world.queryables[layer], rtree=None)


def test_nesting_and_length_are_limited(world: World) -> None:
    qs = world.queryables["commons"]
    deep_text = "NOT (" * 60 + "name = 'x'" + ")" * 60
    with pytest.raises(QueryError, match="nested more than 50 levels"):
        compile_cql2(deep_text, "cql2-text", qs, rtree=None)
    deep_json: dict[str, Any] = {"op": "=", "args": [_prop("name"), "x"]}
    for _ in range(60):
        deep_json = {"op": "not", "args": [deep_json]}
    with pytest.raises(QueryError, match="nested more than 50 levels"):
        compile_cql2(deep_json, "cql2-json", qs, rtree=None)
    with pytest.raises(QueryError, match="the limit is 20000"):
        compile_cql2("[" * 100_000, "cql2-json", qs, rtree=None)  # refused by length before json.loads
    with pytest.raises(QueryError, match="nested more than 50 levels"):
        compile_cql2("[" * 5000 + "]" * 5000, "cql2-json", qs, rtree=None)
    very_deep: Any = "x"
    for _ in range(5000):
        very_deep = [very_deep]
    with pytest.raises(QueryError, match="nested more than 50 levels"):
        compile_cql2({"op": "in", "args": [_prop("name"), very_deep]}, "cql2-json", qs, rtree=None)
    with pytest.raises(QueryError, match="20001 characters long; the limit is 20000"):
        compile_cql2("name = '" + "x" * 19_992 + "'", "cql2-text", qs, rtree=None)
    # 45 levels of NOT are fine
    assert world.cql("commons", "NOT (" * 45 + "name = 'x'" + ")" * 45) == ALL_COMMONS


def test_long_flat_chains_compile_and_run(world: World) -> None:
    many_or = " OR ".join(["version=9"] * 1200 + ["name = 'Prado_1'"])
    assert len(many_or) < 20_000
    assert world.cql("commons", many_or) == {"Prado_1"}
    many_and = {"op": "and", "args": [{"op": ">=", "args": [_prop("version"), 1]}] * 300}
    assert world.cql("commons", many_and, "cql2-json") == ALL_COMMONS


def test_sql_functions_handle_nulls_and_bad_blobs() -> None:
    connection = sqlite3.connect(":memory:")
    register_sql_functions(connection)
    wkb = shapely.to_wkb(shapely.box(0, 0, 1, 1))
    assert connection.execute("SELECT cm_intersects(NULL, ?)", (wkb,)).fetchone()[0] == 0
    assert connection.execute("SELECT cm_intersects(?, ?)", (b"not a blob", wkb)).fetchone()[0] is None
    assert connection.execute("SELECT cm_casefold('ÑANDÚ')").fetchone()[0] == "ñandú"
    connection.close()


# -- whatever the input: a QueryError, or SQL that SQLite runs -------------------------------

_TOKENS = ["name", "kind", "version", "created", "geometry", "description", "nome", '"id; DROP TABLE commons"',
           "=", "<>", "<", ">=", "LIKE", "IN", "BETWEEN", "AND", "OR", "NOT", "IS", "NULL", "(", ")", ",", "+",
           "S_INTERSECTS", "S_DISJOINT", "T_AFTER", "T_DISJOINT", "T_INTERSECTS", "BBOX", "DATE", "TIMESTAMP",
           "INTERVAL", "CASEI", "A_CONTAINS", "'x'", "'it''s'", "'%\\_'", "'..'", "'2024-01-01'",
           "'2024-01-01T00:00:00Z'", "5", "-2.5", "true", "POINT(0 0)", "POLYGON((0 0, 1 0, 1 1, 0 0))", "'", ";",
           "--", "\\"]


def _run_or_refuse(world: World, expression: Any, lang: str) -> None:
    try:
        compiled = compile_cql2(expression, lang, world.queryables["commons"], rtree="rtree_commons_geom")
    except QueryError as exc:
        assert exc.message
        return
    assert compiled.sql.count("?") == len(compiled.params)
    world.run("commons", compiled)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=12))
def test_token_soup_is_refused_or_runs(world: World, tokens: list[str]) -> None:
    _run_or_refuse(world, " ".join(tokens), "cql2-text")
    assert world.count("commons") == len(COMMONS)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_refused_or_runs(world: World, text: str) -> None:
    _run_or_refuse(world, text, "cql2-text")
    _run_or_refuse(world, text, "cql2-json")


_JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                         st.sampled_from(["x", "..", "2024-01-01", "forest"]),
                         st.sampled_from([_prop("name"), _prop("version"), _prop("geometry"), _prop("created"),
                                          _prop("nome"), {"date": "2024-01-01"}, {"timestamp": "bad"},
                                          {"interval": ["..", "2024-01-01"]}, {"bbox": [0, 0, 1, 1]},
                                          {"type": "Point", "coordinates": [0, 0]}, {"bbox": "x"}]))
_JSON_OPS = ["=", "<>", "<", "and", "or", "not", "like", "in", "between", "isNull", "s_intersects", "s_within",
             "t_after", "t_disjoint", "a_contains", "casei", "frob"]
_JSON = st.recursive(_JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.builds(lambda op, args: {"op": op, "args": args}, st.sampled_from(_JSON_OPS), st.lists(inner, max_size=3))),
    max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.builds(lambda op, args: {"op": op, "args": args}, st.sampled_from(_JSON_OPS), st.lists(_JSON, max_size=3)))
def test_any_json_is_refused_or_runs(world: World, expression: dict[str, Any]) -> None:
    _run_or_refuse(world, expression, "cql2-json")
