"""Schemathesis over the whole API description: every operation, generated requests, five response checks.

Two passes over every operation of ``/api`` (served in process, through ASGI): anonymous, and
with the administrator's key against a fresh copy of the atlas, so that POST, PUT, PATCH and
DELETE change real features. Each answer must not be a server error and must conform to the
description: its status, media type, body schema and headers.

Generated values reach the real code: ``collection_id`` (and the feature, pact and tile
matrix set ids with it) are drawn from the atlas's real names by a schemathesis hook (most
of the time; otherwise left as generated, which tests the 404s); the coverage phase's
placeholder ``0`` is replaced the same way. Most write bodies are drawn here rather than from
the description's generic schemas: GeoJSON features typed from the layer's fields (mostly
well-formed, so that writes succeed; sometimes fuzzed), geometries in range or not, pact
actions, and now and then not a feature at all. Anonymous answers must never carry the
marker of the features anonymous viewers may not see.

Bounded and deterministic: a fixed seed, derandomised generation, no example database, and
at most ``MAX_EXAMPLES`` fuzzed cases per operation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import morecantile
import pytest
import schemathesis
import shapely
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core import NotSet

import commonsmap as cm
from api.app import create_app
from api.settings import Settings
from tests.api.conftest import MARK, ApiAtlas

MAX_EXAMPLES = 30
SEED = 20240611
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_TYPES = ("application/geo+json", "application/json", "application/merge-patch+json")
CHARACTERS = st.characters(exclude_categories=("Cs",))  # no lone surrogates: they cannot be UTF-8


def text(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    return st.text(CHARACTERS, min_size=min_size, max_size=max_size)


def no_hidden_feature_for_anonymous(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> bool:
    """An anonymous answer never names a feature hidden from anonymous viewers."""
    assert MARK.encode() not in response.content, f"{MARK} in the answer to {case.method} {case.formatted_path}"
    return True


class Samples:
    """Real names in the atlas, to draw path parameters from."""

    def __init__(self, atlas_path: Any) -> None:
        atlas = cm.open_atlas(atlas_path)
        self.atlas = atlas
        self.collections = sorted(atlas.layers())
        self.writable = list(Settings().writable_layers)
        self.features: dict[str, list[str]] = {}
        for name in self.collections:
            ids = [str(i) for i in atlas[name]["id"]]
            self.features[name] = ids[:3] + ids[-2:] if len(ids) > 5 else ids
        self.pacts = self.features.get("pacts", []) or ["no-pact"]
        self.tiles: list[dict[str, Any]] = []
        quad = morecantile.tms.get("WebMercatorQuad")
        for name in ("commons", "parcels"):
            frame = atlas[name]
            point = frame.geometry.dropna().iloc[0].representative_point()
            for zoom in (0, 8, 14):
                tile = quad.tile(point.x, point.y, zoom)
                self.tiles.append({"collection_id": name, "tile_matrix_set_id": "WebMercatorQuad",
                                   "tile_matrix": str(tile.z), "tile_row": str(tile.y), "tile_col": str(tile.x)})

    def choices(self, names: set[str], writes: bool) -> list[dict[str, str]]:
        """Whole sets of real path parameters for an operation taking ``names``."""
        collections = self.writable if writes else self.collections
        if {"tile_matrix", "tile_row", "tile_col"} <= names:
            return list(self.tiles)
        out: list[dict[str, str]] = []
        if "collection_id" in names and "feature_id" in names:
            out = [{"collection_id": c, "feature_id": f} for c in collections for f in self.features.get(c, [])]
        elif "collection_id" in names:
            out = [{"collection_id": c} for c in collections]
        if "pact_id" in names:
            out = [{**o, "pact_id": p} for o in (out or [{}]) for p in self.pacts]
        if "tile_matrix_set_id" in names:
            out = [{**o, "tile_matrix_set_id": "WebMercatorQuad"} for o in (out or [{}])]
        return out

    def placeholder(self, parameters: dict[str, Any] | None, writes: bool,
                    data: st.DataObject) -> dict[str, Any] | None:
        """The coverage phase's placeholder ``0`` replaced by real values (drawn, so that runs replay)."""
        if not parameters or not any(str(v) == "0" for v in parameters.values()):
            return parameters
        choices = self.choices(set(parameters), writes)
        if not choices:
            return parameters
        chosen = data.draw(st.sampled_from(choices), label="real path parameters")
        return {**parameters, **{k: v for k, v in chosen.items() if str(parameters.get(k)) == "0"}}


def _value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values for one property: mostly of its type, sometimes not."""
    kind, fmt = schema.get("type"), schema.get("format")
    good: st.SearchStrategy[Any]
    if "enum" in schema:
        good = st.sampled_from(schema["enum"])
    elif fmt == "date-time":
        good = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)).map(
            lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    elif fmt == "date":
        good = st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)).map(str)
    elif kind == "string":
        good = text(max_size=30)
    elif kind == "integer":
        good = st.integers(-(10**12), 10**12)
    elif kind == "number":
        good = st.floats(allow_nan=False, allow_infinity=False)
    elif kind == "array":
        good = st.lists(text(max_size=12), max_size=3)
    elif kind == "object":
        good = st.dictionaries(text(max_size=10), st.booleans() | text(max_size=10), max_size=3)
    else:
        good = st.none()
    junk = st.none() | st.booleans() | st.integers() | text(max_size=12) | st.lists(st.integers(), max_size=2) | \
        st.floats(allow_nan=False, allow_infinity=False)
    return st.one_of(good, good, good, junk)


LON, LAT = st.floats(-180, 180), st.floats(-90, 90)
GEOMETRIES = st.one_of(
    st.none(),
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, LON, LAT),
    st.builds(lambda x, y, w, h: {"type": "Polygon", "coordinates": [[[x, y], [x + w, y], [x + w, y + h], [x, y + h],
                                                                      [x, y]]]},
              st.floats(-170, 170), st.floats(-80, 80), st.floats(0.0001, 5), st.floats(0.0001, 5)),
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.floats(allow_nan=False, allow_infinity=False),
              st.floats(allow_nan=False, allow_infinity=False)),
    st.fixed_dictionaries({"type": st.sampled_from(["Point", "LineString", "Polygon", "Nonsense"]),
                           "coordinates": st.lists(st.floats(-10, 10), max_size=3)}),
)


def _valid_value(samples: Samples, field: Any) -> st.SearchStrategy[Any] | None:
    """Well-formed values of a field (None: leave the field out of well-formed bodies)."""
    members = [m.value for m in field.vocab] if field.vocab is not None else []
    kinds: dict[str, st.SearchStrategy[Any]] = {
        "string": text(min_size=1, max_size=30), "integer": st.integers(0, 10_000),
        "real": st.floats(-1e6, 1e6), "boolean": st.booleans(),
        "date": st.dates(dt.date(1950, 1, 1), dt.date(2090, 1, 1)).map(str),
        "datetime": st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2090, 1, 1)).map(
            lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))}
    if field.type == "enum":
        return st.just(members[0]) if field.name == "status" else st.sampled_from(members)
    if field.type == "enum_list":
        return st.lists(st.sampled_from(members), unique=True, max_size=3)
    if field.type == "ref":
        real = samples.features.get(field.ref or "", [])
        return st.sampled_from(real) if real else None
    return kinds.get(field.type)


def _valid_geometry(kind: str | None, required: bool) -> st.SearchStrategy[Any]:
    point = st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.floats(100, 110), st.floats(10, 15))
    area = st.builds(lambda x, y, w: {"type": "MultiPolygon", "coordinates": [[[[x, y], [x + w, y], [x + w, y + w],
                                                                               [x, y + w], [x, y]]]]},
                     st.floats(100, 110), st.floats(10, 15), st.floats(0.001, 0.5))
    if kind is None:
        return st.none()
    shapes = {"Point": point, "MultiPolygon": area}.get(kind, point | area)
    return shapes if required else shapes | st.none()


def feature_bodies(samples: Samples, collection: str) -> st.SearchStrategy[Any]:
    """Request bodies for writes to ``collection``: well-formed features, fuzzed ones, and not features at all."""
    fuzzed_properties: st.SearchStrategy[dict[str, Any]] = st.dictionaries(text(max_size=8), text(max_size=8),
                                                                           max_size=3)
    valid: list[st.SearchStrategy[Any]] = []  # none for a collection that does not exist
    if collection in samples.collections:
        spec = samples.atlas.spec(collection)
        from api.routers.collections import _JSON_TYPES

        typed = {f.name: {**_JSON_TYPES.get(f.type, {}), **({"enum": [m.value for m in f.vocab]}
                                                           if f.vocab is not None and f.type == "enum" else {})}
                 for f in spec.all_fields if f.name not in ("id", "created", "updated")}
        required = {f.name: _value(typed[f.name]) for f in spec.fields if f.required}
        optional = {name: _value(schema) for name, schema in typed.items() if name not in required}
        fuzzed_properties = st.fixed_dictionaries(required, optional=optional)
        good = {f.name: _valid_value(samples, f) for f in spec.fields}
        if all(good[f.name] is not None for f in spec.fields if f.required):
            properties = st.fixed_dictionaries(
                {f.name: good[f.name] for f in spec.fields if f.required},
                optional={name: value for name, value in good.items() if value is not None and name not in
                          {f.name for f in spec.fields if f.required}} |
                {"sensitivity": st.sampled_from(["public", "internal", "community", "secret"])})
            valid.append(st.fixed_dictionaries({"type": st.just("Feature"), "properties": properties,
                                                "geometry": _valid_geometry(spec.geometry, spec.geometry_required)}))
    fuzzed = st.fixed_dictionaries({"type": st.just("Feature"), "geometry": GEOMETRIES,
                                    "properties": fuzzed_properties}, optional={"id": text(min_size=1, max_size=12)})
    other = st.one_of(st.just({}), st.lists(st.integers(), max_size=2), text(max_size=10),
                      st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.just([])}))
    # the choice as a number, 0 (well-formed) being the simplest: mostly well-formed, then fuzzed, then other
    return st.integers(0, 9).flatmap(lambda n: (valid[0] if valid and n < 6 else fuzzed if n < 9 else other))


def action_bodies(samples: Samples, path: str) -> st.SearchStrategy[Any]:
    """Request bodies of the pact actions (status changes, comments, reports), well-formed or not."""
    day = st.dates(dt.date(2000, 1, 1), dt.date(2060, 1, 1)).map(str)
    parties = st.sampled_from(samples.features.get("parties", []) or ["nobody"])
    if path.endswith("/transitions"):
        from commonsmap.vocabularies import PactStatus

        good = st.fixed_dictionaries({"status": st.sampled_from([m.value for m in PactStatus])},
                                     optional={"note": text(max_size=30), "decision": text(max_size=20),
                                               "on": day, "until": day})
    elif path.endswith("/comments"):
        good = st.fixed_dictionaries({"text": text(min_size=1, max_size=60)}, optional={"party": parties})
    else:
        good = st.fixed_dictionaries({"period_from": day, "period_to": day,
                                      "indicators": st.dictionaries(text(min_size=1, max_size=10),
                                                                    st.integers(0, 100) | text(max_size=10),
                                                                    max_size=3)},
                                     optional={"text": text(max_size=40), "party": parties})
    junk = st.dictionaries(text(max_size=10), st.none() | st.integers() | text(max_size=10), max_size=4)
    return st.integers(0, 9).flatmap(lambda n: good if n < 7 else junk if n < 9 else st.lists(st.integers(),
                                                                                              max_size=2))


def _config(headers: dict[str, str] | None = None) -> schemathesis.Config:
    data: dict[str, Any] = {"seed": SEED, "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
                            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none",
                                           "no-shrink": True},  # a failure is reported as found: bounded time
                            "phases": {"stateful": {"enabled": False}}}
    if headers:  # every request with the key: none made up from the security scheme
        data["headers"] = headers
        data["generation"]["with-security-parameters"] = False
    return schemathesis.Config.from_dict(data)


def _schema(api_atlas: ApiAtlas, samples: Samples, headers: dict[str, str] | None) -> Any:
    app = create_app(api_atlas.path)
    schema = schemathesis.openapi.from_asgi("/api", app, config=_config(headers))
    writes = headers is not None

    @schema.hook
    def flatmap_path_parameters(ctx: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> Any:
        if not path_parameters:
            return st.just(path_parameters)
        choices = samples.choices(set(path_parameters), writes and ctx.operation.method.upper() in WRITES)
        if not choices:
            return st.just(path_parameters)
        # nine times in ten a real set of names, else what schemathesis made up (the 404s)
        return st.integers(0, 9).flatmap(lambda n: st.just(path_parameters) if n == 0 else
                                         st.sampled_from(choices).map(lambda c: {**path_parameters, **c}))

    return schema


def enrich(api_atlas: ApiAtlas) -> None:
    """A few features in each layer that can be written, for PUT, PATCH and DELETE to find."""
    atlas = cm.open_atlas(api_atlas.path)
    forests = atlas["commons"].geometry.iloc[10:13]
    shapes = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in forests]
    community = api_atlas.ids["community"]
    with atlas.transaction(who="schemathesis") as tx:
        tx.add("observations", [{"kind": "fire", "observed_at": f"2025-0{i + 1}-01T00:00:00Z", "sensitivity": "public",
                                 "geometry": g.representative_point()} for i, g in enumerate(shapes)])
        tx.add("claims", [{"name": f"claim {i}", "status": "asserted", "geometry": g, "claimant": community}
                          for i, g in enumerate(shapes)])
        tx.add("rights", [{"kind": "right", "holder": community, "geometry": g, "access": True} for g in shapes])
        tx.add("sources", [{"title": f"minutes {i}", "kind": "document", "sensitivity": "public"} for i in range(3)])
        tx.add("pacts", [{"title": f"pact {i}", "status": "proposed", "geometry": g} for i, g in enumerate(shapes)])


@pytest.fixture
def samples(api_atlas: ApiAtlas) -> Samples:
    """Real names of the fresh copy of the test atlas (with features in the layers that can be written)."""
    enrich(api_atlas)
    return Samples(api_atlas.path)


@pytest.fixture
def anonymous_schema(api_atlas: ApiAtlas, samples: Samples) -> Any:
    """The API description of a fresh copy of the test atlas, every request anonymous."""
    return _schema(api_atlas, samples, None)


@pytest.fixture
def admin_schema(api_atlas: ApiAtlas, samples: Samples) -> Any:
    """The API description of a fresh copy of the test atlas, every request with the administrator's key."""
    return _schema(api_atlas, samples, api_atlas.headers("admin"))


anonymous = schemathesis.pytest.from_fixture("anonymous_schema")
admin = schemathesis.pytest.from_fixture("admin_schema")


def _prepare(case: schemathesis.Case, data: st.DataObject, samples: Samples, writes: bool) -> None:
    """Real path parameters for the coverage phase's placeholders; realistic bodies for most writes."""
    case.path_parameters = samples.placeholder(case.path_parameters, writes and case.method.upper() in WRITES, data)
    if case.method.upper() not in ("POST", "PUT", "PATCH"):
        return
    declared = case.operation.schema.get_request_payload_content_types(case.operation)
    # without a body in the description, always ours; with one, ours two times in three, else the generated one
    if isinstance(case.body, NotSet) or data.draw(st.integers(0, 2), label="realistic body") > 0:
        case.media_type = data.draw(st.sampled_from(declared or BODY_TYPES), label="media type")
        path = case.operation.path
        if path.startswith("/collections/pacts/items/{pact_id}/"):
            case.body = data.draw(action_bodies(samples, path), label="body")
        else:
            collection = str((case.path_parameters or {}).get("collection_id"))
            case.body = data.draw(feature_bodies(samples, collection), label="body")


@anonymous.parametrize()
@anonymous.given(data=st.data())
def test_every_operation_anonymously(case: schemathesis.Case, data: st.DataObject, samples: Samples) -> None:
    _prepare(case, data, samples, writes=False)
    case.call_and_validate(checks=[*CHECKS, no_hidden_feature_for_anonymous])


@admin.parametrize()
@admin.given(data=st.data())
def test_every_operation_with_the_admin_key(case: schemathesis.Case, data: st.DataObject, samples: Samples) -> None:
    _prepare(case, data, samples, writes=True)
    case.call_and_validate(checks=CHECKS)
