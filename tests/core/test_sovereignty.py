"""Data sovereignty: no output path ever shows a viewer a feature, attribute or count above its level.

Random atlases (parties, commons, claims, rights, pacts, observations and administrative units
with random sensitivity, holders, custodians and ``publish_as``) are read, fetched, counted,
exported, summed, checked for conflicts and asked "who may do what here?" by random viewers. Every answer
is compared with an oracle written here from the rule in :mod:`commonsmap.privacy` (it never
calls ``row_access``): what a viewer sees whole, what it sees generalised, and that generalised
features hide their attributes and are located no more precisely than a grid cell or a public
administrative unit, the same on every call.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

import commonsmap as cm
from commonsmap.analysis.conflicts import detect_conflicts, write_conflict_report
from commonsmap.analysis.rights import who_may
from commonsmap.analysis.statistics import area_statistics
from commonsmap.catalogue import load_catalogue
from commonsmap.errors import InvalidInputError, NotFoundError
from commonsmap.privacy import GENERALISED_COLUMN, Viewer

# -- the rule, written out independently ----------------------------------------------------------

LEVEL = {"public": 0, "internal": 1, "community": 2, "secret": 3}
SENSITIVITIES = tuple(LEVEL)
PUBLISH_AS = (None, "hidden", "grid_cell", "admin_unit")
GENERALISABLE = ("grid_cell", "admin_unit")
ROLES = ("anonymous", "signed_in", "member", "custodian", "admin")
HOLDER_FIELDS: dict[str, tuple[str, ...]] = {
    "parties": ("id",), "commons": ("holder",), "claims": ("claimant",), "rights": ("holder",),
    "pacts": ("parties",), "observations": (), "admin_units": (),
}
PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "parties": ("kind",), "commons": ("kind",), "claims": ("status",), "rights": ("kind",),
    "pacts": ("status",), "observations": ("kind",), "admin_units": (),
}
KEPT = ("sensitivity", "publish_as", "dataset")
LAYERS = ("parties", "commons", "claims", "rights", "pacts", "observations", "admin_units")
SPATIAL = ("commons", "claims", "rights", "pacts", "observations")
POLYGONAL = ("commons", "claims", "rights", "pacts")
ENDED_CLAIMS = ("rejected", "withdrawn")
CELL = 0.1  # the default generalisation cell of an EPSG:4326 atlas
GEOD = Geod(ellps="WGS84")
OUTSIDER = "Friends of the Forest"  # a custodian that is no party of the atlas

# public administrative units: a feature across 10.6-10.65 lies in no single unit but in their union, one
# north of 45.6 and east of 10.65 in none (grid cells then). "Hidden" is a unit only the administrator sees.
PUBLIC_UNITS = {"West": box(10.0, 45.0, 10.3, 45.6), "East": box(10.3, 45.0, 10.6, 45.6),
                "Far East": box(10.6, 45.0, 10.9, 45.6), "Region": box(9.9, 44.9, 10.65, 45.7)}
HIDDEN_UNIT = box(10.4, 45.1, 10.45, 45.15)


def _ids(value: Any) -> set[str]:
    """Party ids held in a stored value: a string, a list of strings, or nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return set()
    if isinstance(value, list | tuple | set | np.ndarray):
        return {str(v) for v in value if v is not None}
    return {str(value)}


@dataclass(frozen=True)
class Who:
    """A viewer as drawn: a role and, for members and custodians, party positions (-1: no party of the atlas)."""

    role: str
    parties: tuple[int, ...] = ()

    def viewer(self, party_ids: list[str]) -> Viewer:
        ids = [party_ids[i] if 0 <= i < len(party_ids) else "no-such-party" for i in self.parties]
        return {"anonymous": Viewer.anonymous, "signed_in": Viewer.signed_in, "admin": Viewer.admin,
                "member": lambda: Viewer.member(*ids), "custodian": lambda: Viewer.custodian(*ids)}[self.role]()


def holders_of(layer: str, row: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for name in (*HOLDER_FIELDS[layer], "custodian"):
        found |= _ids(row.get(name))
    return found


def sees_whole(viewer: Viewer, layer: str, row: dict[str, Any]) -> bool:
    role = viewer.role.value
    level = LEVEL[row["sensitivity"]]
    if role == "admin" or level == LEVEL["public"]:
        return True
    if level == LEVEL["internal"]:
        return role != "anonymous"
    held = bool(holders_of(layer, row) & set(viewer.parties))
    if level == LEVEL["community"]:
        return role in ("member", "custodian") and held
    return role == "custodian" and held


def sees_generalised(viewer: Viewer, layer: str, row: dict[str, Any]) -> bool:
    return (not sees_whole(viewer, layer, row) and row.get("publish_as") in GENERALISABLE
            and row["sensitivity"] != "secret")


# -- random atlases ---------------------------------------------------------------------------------

@dataclass
class Scenario:
    """Records as drawn: party references are positions in ``parties``; custodians may also be a name."""

    parties: list[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]]


@dataclass
class World:
    """A built atlas, what it stores (read with no viewer) and the marker strings of every feature."""

    atlas: cm.Atlas
    folder: Path
    party_ids: list[str]
    truth: dict[str, dict[str, dict[str, Any]]]  # layer -> id -> stored row (geometry under "geometry")
    markers: dict[tuple[str, str], tuple[str, ...]]

    @property
    def all_ids(self) -> set[str]:
        return {i for rows in self.truth.values() for i in rows}

    def whole(self, layer: str, viewer: Viewer) -> set[str]:
        return {i for i, row in self.truth[layer].items() if sees_whole(viewer, layer, row)}

    def generalised(self, layer: str, viewer: Viewer) -> dict[str, str]:
        """Opaque id -> real id of the features the viewer should see generalised."""
        return {self.atlas.opaque_id(layer, i): i for i, row in self.truth[layer].items()
                if sees_generalised(viewer, layer, row)}

    def hidden_markers(self, viewer: Viewer) -> set[str]:
        """Marker strings of every feature, in any layer, the viewer may not see whole."""
        return {m for (layer, i), found in self.markers.items()
                if not sees_whole(viewer, layer, self.truth[layer][i]) for m in found}


coordinate_x = st.integers(0, 750)  # thousandths of a degree east of 10.0
coordinate_y = st.integers(0, 500)  # thousandths of a degree north of 45.0


@st.composite
def boxes(draw: st.DrawFn) -> BaseGeometry:
    x, y = draw(coordinate_x), draw(coordinate_y)
    width, height = draw(st.integers(1, 120)), draw(st.integers(1, 120))
    return box(10 + x / 1000, 45 + y / 1000, 10 + (x + width) / 1000, 45 + (y + height) / 1000)


@st.composite
def points(draw: st.DrawFn) -> BaseGeometry:
    return Point(10 + draw(coordinate_x) / 1000, 45 + draw(coordinate_y) / 1000)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    counter = itertools.count()
    n_parties = draw(st.integers(2, 3))

    def marker() -> str:
        return f"SECRETNAME{next(counter):04d}Z"

    def party() -> st.SearchStrategy[int | None]:
        return st.none() | st.integers(0, n_parties - 1)

    def system() -> dict[str, Any]:
        return {"sensitivity": draw(st.sampled_from(SENSITIVITIES)), "publish_as": draw(st.sampled_from(PUBLISH_AS)),
                "custodian": draw(party() | st.just(OUTSIDER))}

    parties = [{"name": marker(), "notes": marker(), "kind": "community", **system()} for _ in range(n_parties)]
    records: dict[str, list[dict[str, Any]]] = {}
    records["commons"] = [{"name": marker(), "description": marker(),
                           "kind": draw(st.sampled_from(["forest", "pasture"])), "holder": draw(party()),
                           "geometry": draw(st.none() | boxes() | boxes()), **system()}
                          for _ in range(draw(st.integers(0, 4)))]
    records["claims"] = [{"name": marker(), "description": marker(), "claimant": draw(party()),
                          "status": draw(st.sampled_from(["asserted", "recognised", "disputed", "rejected"])),
                          "geometry": draw(boxes()), **system()} for _ in range(draw(st.integers(0, 5)))]
    records["rights"] = [{"description": marker(), "quota": marker(),
                          "kind": draw(st.sampled_from(["right", "restriction"])),
                          "holder": draw(st.integers(0, n_parties - 1)),
                          "commons": draw(st.none() | st.integers(0, max(len(records["commons"]) - 1, 0)))
                          if records["commons"] else None,
                          "access": True, "exclusion": draw(st.booleans()),
                          "geometry": draw(st.none() | boxes()), **system()} for _ in range(draw(st.integers(0, 4)))]
    records["pacts"] = [{"title": marker(), "work": marker(), "status": "active",
                         "parties": sorted(draw(st.sets(st.integers(0, n_parties - 1), max_size=2))),
                         "geometry": draw(boxes()), **system()} for _ in range(draw(st.integers(0, 3)))]
    records["observations"] = [{"kind": "logging", "observed_at": "2024-03-01T10:00:00Z", "observer": marker(),
                                "notes": marker(), "geometry": draw(points()), **system()}
                               for _ in range(draw(st.integers(0, 4)))]
    return Scenario(parties, records)


def whos(n_parties: int = 3) -> st.SearchStrategy[Who]:
    chosen = st.lists(st.integers(-1, n_parties - 1), min_size=1, max_size=2, unique=True).map(tuple)
    return st.one_of(st.sampled_from([Who("anonymous"), Who("signed_in"), Who("admin")]),
                     st.builds(Who, st.sampled_from(["member", "custodian"]), chosen))


MARKED = {"parties": ("name", "notes"), "commons": ("name", "description"), "claims": ("name", "description"),
          "rights": ("description", "quota"), "pacts": ("title", "work"), "observations": ("observer", "notes"),
          "admin_units": ("name",)}


def _resolve(record: dict[str, Any], party_ids: list[str], commons_ids: list[str]) -> dict[str, Any]:
    out = dict(record)
    for name in ("holder", "claimant"):
        if name in out and out[name] is not None:
            out[name] = party_ids[out[name]]
    if isinstance(out.get("custodian"), int):
        out["custodian"] = party_ids[out["custodian"]]
    if "parties" in out:
        out["parties"] = [party_ids[i] for i in out["parties"]] or None
    if out.get("commons") is not None:
        out["commons"] = commons_ids[out["commons"]]
    return {k: v for k, v in out.items() if v is not None}


def build(template: Path, folder: Path, scenario: Scenario) -> World:
    target = folder / "atlas.gpkg"
    shutil.copyfile(template, target)  # a copy of an empty atlas: much faster than creating one
    atlas = cm.Atlas.open(target)
    marks: dict[tuple[str, str], tuple[str, ...]] = {}

    def add(tx: Any, layer: str, rows: list[dict[str, Any]]) -> list[str]:
        if not rows:
            return []
        ids = tx.add(layer, rows).ids
        for feature_id, row in zip(ids, rows, strict=True):
            marks[(layer, feature_id)] = tuple(row[n] for n in MARKED[layer] if n in row)
        return ids

    with atlas.transaction(who="test") as tx:
        add(tx, "admin_units", [{"name": name, "kind": "municipality", "geometry": shape}
                                for name, shape in PUBLIC_UNITS.items()]
            + [{"name": "SECRETNAME-UNIT-Z", "kind": "district", "geometry": HIDDEN_UNIT, "sensitivity": "community"}])
        party_ids = add(tx, "parties", [_resolve({k: v for k, v in p.items() if not isinstance(v, int)}, [], [])
                                        for p in scenario.parties])
        # custodians of parties name other parties: set them once every party has an id
        for feature_id, drawn in zip(party_ids, scenario.parties, strict=True):
            if isinstance(drawn["custodian"], int):
                tx.update("parties", feature_id, {"custodian": party_ids[drawn["custodian"]]})
        commons_ids = add(tx, "commons", [_resolve(r, party_ids, []) for r in scenario.records["commons"]])
        for layer in ("claims", "rights", "pacts", "observations"):
            add(tx, layer, [_resolve(r, party_ids, commons_ids) for r in scenario.records[layer]])
    truth: dict[str, dict[str, dict[str, Any]]] = {}
    for layer in LAYERS:
        frame = atlas.layer(layer)
        rows = frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame
        geometries = list(frame.geometry) if isinstance(frame, gpd.GeoDataFrame) else [None] * len(frame)
        truth[layer] = {r["id"]: {**r, "geometry": g} for r, g in zip(rows.to_dict("records"), geometries, strict=True)}
    return World(atlas, folder, party_ids, truth, marks)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty atlas file, copied for every example."""
    path = tmp_path_factory.mktemp("template") / "empty.gpkg"
    cm.Atlas.create(path)
    return path


@contextmanager
def world_of(template: Path, scenario: Scenario) -> Iterator[World]:
    with tempfile.TemporaryDirectory() as folder:
        yield build(template, Path(folder), scenario)


SCALE = float(os.environ.get("COMMONSMAP_SOVEREIGNTY_SCALE", "1"))
"""Multiply every example count by this (e.g. 10 for a long search); each example builds an atlas."""


def examples(count: int) -> settings:
    return settings(deadline=None, database=None, max_examples=max(1, round(count * SCALE)))


# -- checks -----------------------------------------------------------------------------------------

def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, list | np.ndarray) and len(value) == 0


def _on_grid(value: float) -> bool:
    return abs(value / CELL - round(value / CELL)) < 1e-6


def _coarse(shape: BaseGeometry, publish_as: str) -> bool:
    """Whether a generalised geometry is grid cells or (a union of) public administrative units."""
    if all(_on_grid(v) for v in shape.bounds) and shape.equals(box(*shape.bounds)):
        return True
    if publish_as != "admin_unit":
        return False
    units = list(PUBLIC_UNITS.values())
    if any(shape.equals(u) for u in units):
        return True
    touched = [u for u in units if u.intersects(shape) and u.intersection(shape).area > 0]
    return bool(touched) and shape.equals(shapely.union_all(touched))


def check_layer(world: World, layer: str, viewer: Viewer, seen: dict[str, bytes]) -> pd.DataFrame:
    """Property 1 for one layer and viewer; ``seen`` collects generalised geometries across calls and viewers."""
    frame = world.atlas.layer(layer, viewer=viewer)
    assert GENERALISED_COLUMN in frame.columns
    assert frame["id"].is_unique
    flags = frame[GENERALISED_COLUMN].astype(bool).to_numpy()
    whole, coarse = frame[~flags], frame[flags]
    truth = world.truth[layer]
    expected_whole = world.whole(layer, viewer)
    assert set(whole["id"]) <= expected_whole, f"{layer}: shown whole above the viewer's level"
    assert set(whole["id"]) == expected_whole, f"{layer}: features the viewer may see are missing"
    spatial = isinstance(frame, gpd.GeoDataFrame)
    for row in whole.to_dict("records"):
        stored = truth[row["id"]]
        for name in MARKED[layer]:
            assert row[name] == stored[name] or (_missing(row[name]) and _missing(stored[name]))
        if spatial and stored["geometry"] is not None:
            assert row[frame.geometry.name].equals(stored["geometry"])

    expected = world.generalised(layer, viewer)
    assert set(coarse["id"]) == set(expected), f"{layer}: generalised rows differ from the rule"
    kept = {"id", GENERALISED_COLUMN, *KEPT, *PUBLIC_FIELDS[layer]}
    for position, row in enumerate(coarse.to_dict("records")):
        real = expected[row["id"]]
        stored = truth[real]
        assert stored["sensitivity"] != "secret" and stored["publish_as"] in GENERALISABLE
        assert row["id"].startswith("g-") and row["id"] not in world.all_ids
        for name, value in row.items():
            if name in kept or (spatial and name == frame.geometry.name):
                continue
            assert _missing(value), f"{layer}: generalised row shows {name}={value!r}"
        for name in ("sensitivity", "publish_as", *PUBLIC_FIELDS[layer]):
            assert row[name] == stored[name]
        if not spatial:
            continue
        shape = coarse.geometry.iloc[position]
        if stored["geometry"] is None or stored["geometry"].is_empty:
            assert shape is None or shape.is_empty
            continue
        assert shape.covers(stored["geometry"]), f"{layer}: generalised shape does not contain the feature"
        assert _coarse(shape, stored["publish_as"]), f"{layer}: generalised shape {shape.wkt} is not coarse"
        assert seen.setdefault(row["id"], shape.wkb) == shape.wkb, "a generalised shape changed between calls"

    shown = set(frame["id"])
    for i, row in truth.items():  # spelt out once more: secret features reach only their custodians and the admin
        if row["sensitivity"] != "secret":
            continue
        assert world.atlas.opaque_id(layer, i) not in shown, f"{layer}: a secret feature shown generalised"
        if i in shown:
            assert viewer.role.value == "admin" or (viewer.role.value == "custodian"
                                                    and holders_of(layer, row) & set(viewer.parties))
    return frame


def check_get(world: World, viewer: Viewer) -> None:
    """``get`` for a viewer: a feature it may not see whole is missing, exactly like an absent one."""
    absent = "00000000-0000-7000-8000-000000000000"
    for layer in LAYERS:
        with pytest.raises(NotFoundError) as missing:
            world.atlas.get(layer, absent, viewer=viewer)
        for i, row in world.truth[layer].items():
            if sees_whole(viewer, layer, row):
                assert world.atlas.get(layer, i, viewer=viewer)["id"] == i
            else:
                with pytest.raises(NotFoundError) as hidden:
                    world.atlas.get(layer, i, viewer=viewer)
                assert str(hidden.value).replace(i, absent) == str(missing.value)
            with pytest.raises(NotFoundError):
                world.atlas.get(layer, world.atlas.opaque_id(layer, i), viewer=viewer)


@given(scenario=scenarios(), who=st.lists(whos(), min_size=2, max_size=2))
@examples(10)
def test_reads_show_each_viewer_exactly_its_level(template: Path, scenario: Scenario, who: list[Who]) -> None:
    with world_of(template, scenario) as world:
        seen: dict[str, bytes] = {}
        for drawn in who:
            viewer = drawn.viewer(world.party_ids)
            for layer in LAYERS:
                first = check_layer(world, layer, viewer, seen)
                if world.generalised(layer, viewer):
                    second = check_layer(world, layer, viewer, seen)  # same ids, same shapes, every time
                    assert list(first["id"]) == list(second["id"])
            check_get(world, viewer)


@given(scenario=scenarios(), who=whos())
@examples(6)
def test_counts_match_what_is_read(template: Path, scenario: Scenario, who: Who) -> None:
    with world_of(template, scenario) as world:
        viewer = who.viewer(world.party_ids)
        counts = world.atlas.counts(viewer)
        assert set(counts) == set(world.atlas.layers())
        for layer in LAYERS:
            assert counts[layer] == len(world.whole(layer, viewer)) + len(world.generalised(layer, viewer))
            assert world.atlas.count(layer, viewer=viewer) == counts[layer]
            assert world.atlas.count(layer) == len(world.truth[layer])
        assert sum(world.atlas.counts().values()) == sum(map(len, world.truth.values()))
        rights = world.atlas.layer("rights", viewer=viewer, bbox=(10.0, 45.0, 10.2, 45.2))
        assert world.atlas.count("rights", viewer=viewer, bbox=(10.0, 45.0, 10.2, 45.2)) == len(rights)


# -- exports ----------------------------------------------------------------------------------------

FORMATS = {"gpkg": "out.gpkg", "geojson": "out.geojson", "csv": "out.csv", "shp": "out.zip", "kml": "out.kml"}


def _read_export(path: Path, fmt: str) -> pd.DataFrame:
    """The exported rows (id and sensitivity columns at least) as written in the file."""
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if fmt == "geojson":
        document = json.loads(path.read_text(encoding="utf-8"))
        return pd.DataFrame([f["properties"] for f in document["features"]], columns=["id", "sensitivity"])
    if fmt == "shp":  # one Shapefile per geometry family (observations: points, and generalised cells)
        parts = [pyogrio.read_dataframe(path, layer=name) for name, _ in pyogrio.list_layers(path)]
        return pd.concat(parts, ignore_index=True).rename(columns={"sensitivit": "sensitivity"})
    return pyogrio.read_dataframe(path)


def _raw_text(paths: Iterable[Path]) -> bytes:
    """Every byte written, zip members decompressed."""
    chunks: list[bytes] = []
    for path in paths:
        for file in [path, path.with_suffix(".prj")]:
            if not file.exists():
                continue
            if file.suffix == ".zip":
                with zipfile.ZipFile(file) as archive:
                    chunks += [archive.read(name) for name in archive.namelist()]
            else:
                chunks.append(file.read_bytes())
    return b"\n".join(chunks)


def _assert_no_marker(raw: bytes, markers: set[str], what: str) -> None:
    leaked = sorted(m for m in markers if m.encode() in raw)
    assert not leaked, f"{what} contains {leaked}"


@given(scenario=scenarios(), who=whos(), layer=st.sampled_from(SPATIAL))
@examples(10)
def test_exports_hold_only_what_the_viewer_may_see(template: Path, scenario: Scenario, who: Who, layer: str) -> None:
    with world_of(template, scenario) as world:
        viewer = who.viewer(world.party_ids)
        truth = world.truth[layer]
        not_secret = {i for i, row in truth.items() if row["sensitivity"] != "secret"}
        expected = (world.whole(layer, viewer) & not_secret) | set(world.generalised(layer, viewer))
        secret = ({i for i in truth if i not in not_secret}
                  | {world.atlas.opaque_id(layer, i) for i in truth if i not in not_secret})
        hidden = world.hidden_markers(viewer)
        for fmt, name in FORMATS.items():
            written = world.atlas.export(layer, world.folder / fmt / name, viewer=viewer)
            rows = _read_export(written[0], fmt)
            assert set(rows["id"]) <= expected, f"{fmt}: ids beyond the viewer's view"
            assert set(rows["id"]) == expected, f"{fmt}: exported ids differ from the viewer's view"
            assert not set(rows["id"]) & secret
            assert "secret" not in set(rows.get("sensitivity", ()))  # (an empty KML file declares no fields)
            _assert_no_marker(_raw_text(written), hidden, f"{fmt} export for {viewer}")
        # without a viewer (the file's owner), and for the administrator: still never a secret feature
        secret_markers = {m for (lay, i), found in world.markers.items()
                          if world.truth[lay][i]["sensitivity"] == "secret" for m in found}
        for owner, fmt in ((None, "gpkg"), (None, "geojson"), (Viewer.admin(), "csv")):
            written = world.atlas.export(layer, world.folder / f"owner-{fmt}" / FORMATS[fmt], viewer=owner)
            rows = _read_export(written[0], fmt)
            assert set(rows["id"]) == not_secret
            _assert_no_marker(_raw_text(written), secret_markers, f"{fmt} export without viewer")


# -- statistics, conflicts, who may -----------------------------------------------------------------

def _area_ha(shape: BaseGeometry | None) -> float:
    if shape is None or shape.is_empty:
        return 0.0
    return abs(GEOD.geometry_area_perimeter(shape)[0]) / 10_000


@given(scenario=scenarios(), who=whos(), layer=st.sampled_from(POLYGONAL))
@examples(12)
def test_area_statistics_count_only_whole_visible_features(template: Path, scenario: Scenario, who: Who,
                                                           layer: str) -> None:
    with world_of(template, scenario) as world:
        viewer = who.viewer(world.party_ids)
        visible = {i: world.truth[layer][i] for i in world.whole(layer, viewer)}
        total = area_statistics(world.atlas, layer, viewer=viewer)
        assert int(total.loc["total", "count"]) == len(visible)
        reference = sum(_area_ha(row["geometry"]) for row in visible.values())
        assert float(total.loc["total", "area_ha"]) == pytest.approx(reference, rel=1e-3, abs=1e-6)

        by_party = area_statistics(world.atlas, layer, by="party", viewer=viewer)
        held: dict[Any, int] = {}
        for row in visible.values():
            for party in sorted(_ids(row[HOLDER_FIELDS[layer][0]])) or [None]:
                held[party] = held.get(party, 0) + 1
        listed = {None if _missing(k) else k: int(c) for k, c in by_party["count"].items()}
        assert listed == held, "a party group counts features the viewer may not see"
        visible_parties = world.whole("parties", viewer)
        for party, name in by_party["name"].items():
            if _missing(party) or party not in visible_parties:
                assert _missing(name), f"the name of a party the viewer may not see: {name!r}"
            else:
                assert name == world.truth["parties"][party]["name"]

        column = PUBLIC_FIELDS[layer][0]
        by_kind = area_statistics(world.atlas, layer, by=column, viewer=viewer)
        assert int(by_kind["count"].sum()) == len(visible)
        assert set(by_kind.index) <= {row[column] for row in visible.values()}

        by_unit = area_statistics(world.atlas, layer, by="admin_unit", viewer=viewer)
        units = world.whole("admin_units", viewer)
        assert set(by_unit.index) <= units
        for unit, row in by_unit.iterrows():
            shape = world.truth["admin_units"][unit]["geometry"]
            inside = [v["geometry"] for v in visible.values() if v["geometry"] is not None
                      and v["geometry"].intersects(shape)]
            assert 0 < int(row["count"]) <= len(inside)
            assert float(row["area_ha"]) <= sum(map(_area_ha, inside)) * (1 + 1e-3) + 1e-6
            assert row["name"] == world.truth["admin_units"][unit]["name"]


MINE = gpd.GeoDataFrame({"name": ["Mining concession"]}, geometry=[box(10.2, 45.1, 10.5, 45.4)], crs=4326)


def _pairs(report: pd.DataFrame, kinds: Iterable[str]) -> set[tuple[str, str, str]]:
    chosen = report[report["kind"].isin(list(kinds))]
    return set(zip(chosen["kind"], chosen["left_id"], chosen["right_id"], strict=True))


@given(scenario=scenarios(), who=whos())
@examples(12)
def test_conflict_reports_name_only_whole_visible_features(template: Path, scenario: Scenario, who: Who) -> None:
    with world_of(template, scenario) as world:
        viewer = who.viewer(world.party_ids)
        report = detect_conflicts(world.atlas, viewer=viewer, context={"mine": MINE})
        whole = {layer: world.whole(layer, viewer) for layer in LAYERS}
        names = {"claims": "name", "pacts": "title", "rights": "description"}
        for row in report.to_dict("records"):
            for side in ("left", "right"):
                layer, feature = row[f"{side}_layer"], row[f"{side}_id"]
                if layer == "mine":
                    assert feature == "mine:0" and row[f"{side}_name"] == "Mining concession"
                    continue
                assert feature in whole[layer], f"{row['kind']}: {layer} {feature} is not whole-visible"
                if layer in names:
                    assert row[f"{side}_name"] == world.truth[layer][feature][names[layer]]
        # the viewer's report is the administrator's, restricted to what the viewer sees whole
        full = detect_conflicts(world.atlas, viewer=Viewer.admin(), context={"mine": MINE})
        fixed = ("claim_claim", "claim_pact", "claim_context")
        layer_of = {"claim_claim": "claims", "claim_pact": "pacts", "claim_context": "mine"}
        expected = {(k, a, b) for k, a, b in _pairs(full, fixed)
                    if a in whole["claims"] and (layer_of[k] == "mine" or b in whole[layer_of[k]])}
        assert _pairs(report, fixed) == expected
        assert _pairs(report, ["exclusive_rights"]) <= _pairs(full, ["exclusive_rights"])
        hidden = world.hidden_markers(viewer)
        for name in ("report.csv", "report.geojson"):
            written = write_conflict_report(report, world.folder / name)
            _assert_no_marker(written.read_bytes(), hidden, f"conflict report {name}")


@st.composite
def places(draw: st.DrawFn) -> tuple[int | None, BaseGeometry]:
    """A random point, or (by position) a point inside one of the polygons of the atlas."""
    return draw(st.none() | st.integers(0, 20)), draw(points())


def _who_may_expected(world: World, viewer: Viewer, here: BaseGeometry) -> set[tuple[str, str]]:
    whole = {layer: world.whole(layer, viewer) for layer in LAYERS}
    found: set[tuple[str, str]] = set()
    for i in whole["rights"]:
        row = world.truth["rights"][i]
        place = row["geometry"]
        if place is None or place.is_empty:
            commons = row["commons"]
            place = world.truth["commons"][commons]["geometry"] \
                if not _missing(commons) and commons in whole["commons"] else None
        if place is not None and place.intersects(here):
            found.add(("rights", i))
    for i in whole["claims"]:
        row = world.truth["claims"][i]
        if row["status"] not in ENDED_CLAIMS and row["geometry"].intersects(here):
            found.add(("claims", i))
    for i in whole["pacts"]:
        if world.truth["pacts"][i]["geometry"].intersects(here):
            found.add(("pacts", i))
    return found


@given(scenario=scenarios(), who=whos(), place=places())
@examples(15)
def test_who_may_answers_only_with_whole_visible_records(template: Path, scenario: Scenario, who: Who,
                                                         place: tuple[int | None, BaseGeometry]) -> None:
    with world_of(template, scenario) as world:
        viewer = who.viewer(world.party_ids)
        shapes = [row["geometry"] for layer in POLYGONAL for row in world.truth[layer].values()
                  if row["geometry"] is not None]
        pick, here = place
        if pick is not None and pick < len(shapes):
            here = shapes[pick].representative_point()
        answer = who_may(world.atlas, here, viewer=viewer)
        got = set(zip(answer["layer"], answer["record_id"], strict=True))
        assert got == _who_may_expected(world, viewer, here)
        visible_parties = world.whole("parties", viewer)
        for row in answer.to_dict("records"):
            if not _missing(row["holder_name"]):  # a party's name only when the viewer sees the party whole
                assert row["holder"] in visible_parties
                assert row["holder_name"] == world.truth["parties"][row["holder"]]["name"]
            if not _missing(row["commons_name"]):
                assert row["commons"] in world.whole("commons", viewer)
        _assert_no_marker(answer.to_csv().encode(), world.hidden_markers(viewer), "who_may's answer")


# -- explicit cases ---------------------------------------------------------------------------------

def test_the_oracle_uses_the_catalogue_holder_and_public_fields() -> None:
    catalogue = load_catalogue()
    for layer in LAYERS:
        assert tuple(catalogue[layer].holder_fields) == HOLDER_FIELDS[layer]
        assert tuple(catalogue[layer].public_fields) == PUBLIC_FIELDS[layer]


@pytest.fixture(scope="module")
def hillside(tmp_path_factory: pytest.TempPathFactory) -> tuple[cm.Atlas, dict[str, str]]:
    """Party A holds one claim of each sensitivity (all published as grid cells), and a commons by admin unit."""
    atlas = cm.Atlas.create(tmp_path_factory.mktemp("hillside") / "hillside.gpkg")
    with atlas.transaction(who="test") as tx:
        tx.add("admin_units", [{"name": name, "kind": "municipality", "geometry": shape}
                               for name, shape in PUBLIC_UNITS.items()])
        a, b = tx.add("parties", [{"name": "Comunidad A", "kind": "community"},
                                  {"name": "Comunidad B", "kind": "community"}]).ids
        claims = tx.add("claims", [{"name": f"claim {s}", "claimant": a, "status": "asserted", "sensitivity": s,
                                    "publish_as": "grid_cell", "geometry": box(10.12, 45.12, 10.14, 45.14)}
                                   for s in SENSITIVITIES]).ids
        grove = tx.add("commons", [{"name": "Sacred grove", "kind": "forest", "sensitivity": "community",
                                    "holder": a, "publish_as": "admin_unit",
                                    "geometry": box(10.01, 45.01, 10.02, 45.02)}]).ids[0]
    return atlas, {"a": a, "b": b, "grove": grove, **dict(zip(SENSITIVITIES, claims, strict=True))}


def test_each_role_sees_its_levels(hillside: tuple[cm.Atlas, dict[str, str]]) -> None:
    atlas, ids = hillside
    expected = {"anonymous": ({"public"}, {"internal", "community"}),
                "signed_in": ({"public", "internal"}, {"community"}),
                "member_a": ({"public", "internal", "community"}, set()),
                "member_b": ({"public", "internal"}, {"community"}),
                "custodian_a": (set(SENSITIVITIES), set()),
                "custodian_b": ({"public", "internal"}, {"community"}),
                "admin": (set(SENSITIVITIES), set())}
    viewers = {"anonymous": Viewer.anonymous(), "signed_in": Viewer.signed_in(), "member_a": Viewer.member(ids["a"]),
               "member_b": Viewer.member(ids["b"]), "custodian_a": Viewer.custodian(ids["a"]),
               "custodian_b": Viewer.custodian(ids["b"]), "admin": Viewer.admin()}
    for key, viewer in viewers.items():
        frame = atlas.layer("claims", viewer=viewer)
        whole, coarse = expected[key]
        assert set(frame.loc[~frame[GENERALISED_COLUMN], "id"]) == {ids[s] for s in whole}, key
        coarse_ids = {atlas.opaque_id("claims", ids[s]) for s in coarse}
        assert set(frame.loc[frame[GENERALISED_COLUMN], "id"]) == coarse_ids, key
        assert atlas.count("claims", viewer=viewer) == len(whole) + len(coarse)


def test_a_secret_feature_is_never_generalised(hillside: tuple[cm.Atlas, dict[str, str]]) -> None:
    atlas, ids = hillside
    for viewer in (Viewer.anonymous(), Viewer.signed_in(), Viewer.member(ids["a"]), Viewer.custodian(ids["b"])):
        frame = atlas.layer("claims", viewer=viewer)
        assert "secret" not in set(frame["sensitivity"])
        assert atlas.opaque_id("claims", ids["secret"]) not in set(frame["id"])


def test_secret_features_never_leave_through_an_export(hillside: tuple[cm.Atlas, dict[str, str]],
                                                        tmp_path: Path) -> None:
    atlas, ids = hillside
    with pytest.raises(InvalidInputError, match="secret"):
        atlas.export("claims", tmp_path / "all.geojson", max_sensitivity="secret", viewer=Viewer.admin())
    for viewer in (None, Viewer.admin(), Viewer.custodian(ids["a"])):
        written = atlas.export("claims", tmp_path / "claims.geojson", viewer=viewer)
        document = json.loads(written[0].read_text(encoding="utf-8"))
        assert ids["secret"] not in {f["properties"]["id"] for f in document["features"]}
        assert b"claim secret" not in written[0].read_bytes()


def test_a_bbox_cannot_locate_a_generalised_feature_within_its_cell(hillside: tuple[cm.Atlas, dict[str, str]]) -> None:
    atlas, ids = hillside
    anonymous = Viewer.anonymous()
    hidden = atlas.opaque_id("claims", ids["community"])  # true place 10.12..10.14 x 45.12..45.14, cell 10.1..10.2
    cell = box(10.1, 45.1, 10.2, 45.2)
    everywhere = atlas.layer("claims", viewer=anonymous)
    assert everywhere.set_index("id").geometry[hidden].equals(cell)
    on_it = (10.125, 45.125, 10.13, 45.13)
    beside_it = (10.16, 45.16, 10.19, 45.19)  # in the cell, away from the claim
    corner = (10.1, 45.1, 10.11, 45.11)
    outside = (10.21, 45.21, 10.3, 45.3)
    for bbox in (on_it, beside_it, corner):
        frame = atlas.layer("claims", viewer=anonymous, bbox=bbox)
        assert hidden in set(frame["id"]), bbox
        assert frame.set_index("id").geometry[hidden].equals(cell)
        assert atlas.count("claims", viewer=anonymous, bbox=bbox) == len(frame)
    frame = atlas.layer("claims", viewer=anonymous, bbox=outside)
    assert hidden not in set(frame["id"])
    assert ids["community"] not in set(frame["id"])
    # the grove is shown as its municipality: any bbox in West finds it, anything outside does not
    grove = atlas.opaque_id("commons", ids["grove"])
    assert grove in set(atlas.layer("commons", viewer=anonymous, bbox=(10.25, 45.5, 10.26, 45.55))["id"])
    assert grove not in set(atlas.layer("commons", viewer=anonymous, bbox=(10.66, 45.0, 10.7, 45.1))["id"])


@given(bbox=st.tuples(st.integers(0, 300), st.integers(0, 300), st.integers(1, 120), st.integers(1, 120)))
@settings(deadline=None, database=None, max_examples=40)
def test_random_bboxes_find_a_generalised_feature_exactly_when_they_meet_its_cell(
        hillside: tuple[cm.Atlas, dict[str, str]], bbox: tuple[int, int, int, int]) -> None:
    atlas, ids = hillside
    x, y, w, h = bbox
    window = (10 + x / 1000, 45 + y / 1000, 10 + (x + w) / 1000, 45 + (y + h) / 1000)
    frame = atlas.layer("claims", viewer=Viewer.anonymous(), bbox=window)
    cell = box(10.1, 45.1, 10.2, 45.2)
    for level in ("internal", "community"):
        assert (atlas.opaque_id("claims", ids[level]) in set(frame["id"])) == cell.intersects(box(*window))
    assert (ids["public"] in set(frame["id"])) == box(10.12, 45.12, 10.14, 45.14).intersects(box(*window))
    never = {ids["internal"], ids["community"], ids["secret"], atlas.opaque_id("claims", ids["secret"])}
    assert not never & set(frame["id"])


def test_an_export_of_nothing_is_still_a_shapefile(tmp_path: Path) -> None:
    atlas = cm.Atlas.create(tmp_path / "empty.gpkg")
    written = atlas.export("claims", tmp_path / "claims.zip")
    with zipfile.ZipFile(written[0]) as archive:
        assert any(name.endswith(".shp") for name in archive.namelist())
    assert len(pyogrio.read_dataframe(written[0])) == 0


def test_a_geopackage_export_may_mix_whole_and_generalised_features(tmp_path: Path) -> None:
    atlas = cm.Atlas.create(tmp_path / "atlas.gpkg")
    place = box(10.0, 45.0, 10.001, 45.001)
    atlas.add("claims", [{"name": "Open claim", "status": "asserted", "geometry": place},
                         {"name": "Inner claim", "status": "asserted", "geometry": place,
                          "sensitivity": "internal", "publish_as": "grid_cell"}])
    written = atlas.export("claims", tmp_path / "claims.gpkg", viewer=Viewer.anonymous())
    frame = pyogrio.read_dataframe(written[0])
    assert list(frame[GENERALISED_COLUMN]) == [False, True]
    assert "Inner claim" not in set(frame["name"])


def test_a_geopackage_export_of_only_generalised_features(tmp_path: Path) -> None:
    atlas = cm.Atlas.create(tmp_path / "atlas.gpkg")
    atlas.add("claims", [{"name": "Inner claim", "status": "asserted", "geometry": box(10.0, 45.0, 10.001, 45.001),
                          "sensitivity": "internal", "publish_as": "grid_cell"}])
    written = atlas.export("claims", tmp_path / "claims.gpkg", viewer=Viewer.anonymous())
    frame = pyogrio.read_dataframe(written[0])
    assert list(frame["id"]) == [atlas.opaque_id("claims", atlas.layer("claims")["id"].iloc[0])]
    assert "Inner claim" not in set(frame["name"])
