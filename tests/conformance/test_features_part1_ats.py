"""OGC API – Features – Part 1: Core, its abstract test suite (OGC 17-069r4, Annex A), against a live server.

One test per abstract test, named after it (``/conf/core/fc-limit-response`` is
``test_ats_core_fc_limit_response``), for the conformance classes Core, GeoJSON, HTML and
OpenAPI 3.0. Where an abstract test lists several requirement parts and one of them is the
subject of a known divergence, that part has a test of its own (same name plus a suffix), so
that a failure names exactly what is wrong.

The server is the test atlas of ``tests/api/conftest.py`` (real forests and cadastral plots),
enriched here with what some requirements need to be checked at all: a commons without
geometry (bbox must match it), public observations at known instants (datetime), and claims
with and without a claim date (datetime must match features without a temporal geometry).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import jsonschema
import pytest
import shapely
import shapely.geometry

import commonsmap as cm
from commonsmap.privacy import Viewer
from tests.api.conftest import ApiAtlas, LiveServer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
COLLECTIONS = ("commons", "parcels", "observations")
OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0/"

# -- the OGC schemas of Part 1 (landingPage, confClasses, collections, collection, extent, link,
#    featureCollectionGeoJSON, featureGeoJSON, geometryGeoJSON, exception), as JSON Schema ----------
LINK = {"type": "object", "required": ["href", "rel"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
                       "hreflang": {"type": "string"}, "title": {"type": "string"}, "length": {"type": "integer"}}}
LINKS = {"type": "array", "items": LINK}
LANDING_PAGE = {"type": "object", "required": ["links"],
                "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": LINKS}}
CONF_CLASSES = {"type": "object", "required": ["conformsTo"],
                "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}}
EXTENT = {"type": "object", "properties": {
    "spatial": {"type": "object", "properties": {
        "bbox": {"type": "array", "minItems": 1, "items": {
            "type": "array", "items": {"type": "number"},
            "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}]}},
        "crs": {"type": "string", "enum": [CRS84, CRS84H]}}},
    "temporal": {"type": "object", "properties": {
        "interval": {"type": "array", "minItems": 1, "items": {
            "type": "array", "minItems": 2, "maxItems": 2,
            "items": {"type": ["string", "null"], "format": "date-time"}}},
        "trs": {"type": "string", "enum": [GREGORIAN]}}}}}
COLLECTION = {"type": "object", "required": ["id", "links"], "properties": {
    "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"}, "links": LINKS,
    "extent": EXTENT, "itemType": {"type": "string"}, "crs": {"type": "array", "items": {"type": "string"}}}}
COLLECTIONS_SCHEMA = {"type": "object", "required": ["links", "collections"],
                      "properties": {"links": LINKS, "collections": {"type": "array", "items": COLLECTION}}}
POSITION = {"type": "array", "minItems": 2, "items": {"type": "number"}}
LINE = {"type": "array", "minItems": 2, "items": POSITION}
RING = {"type": "array", "minItems": 4, "items": POSITION}
POLYGON = {"type": "array", "items": RING}


def _geometry(kind: str, coordinates: dict[str, Any] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"type": {"enum": [kind]}, "bbox": {"type": "array", "minItems": 4}}
    required = ["type"]
    if coordinates is None:
        properties["geometries"] = {"type": "array", "items": {"$ref": "#/$defs/geometry"}}
        required.append("geometries")
    else:
        properties["coordinates"] = coordinates
        required.append("coordinates")
    return {"type": "object", "required": required, "properties": properties}


GEOMETRY_DEFS = {"geometry": {"oneOf": [
    _geometry("Point", POSITION), _geometry("MultiPoint", {"type": "array", "items": POSITION}),
    _geometry("LineString", LINE), _geometry("MultiLineString", {"type": "array", "items": LINE}),
    _geometry("Polygon", POLYGON), _geometry("MultiPolygon", {"type": "array", "items": POLYGON}),
    _geometry("GeometryCollection", None)]}}
FEATURE = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
    "type": {"enum": ["Feature"]}, "geometry": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/geometry"}]},
    "properties": {"type": ["object", "null"]}, "id": {"type": ["string", "integer"]}, "links": LINKS}}
FEATURE_SCHEMA = {**FEATURE, "$defs": GEOMETRY_DEFS}
FEATURE_COLLECTION = {"type": "object", "required": ["type", "features"], "$defs": GEOMETRY_DEFS, "properties": {
    "type": {"enum": ["FeatureCollection"]}, "features": {"type": "array", "items": FEATURE}, "links": LINKS,
    "timeStamp": {"type": "string", "format": "date-time"},
    "numberMatched": {"type": "integer", "minimum": 0}, "numberReturned": {"type": "integer", "minimum": 0}}}
EXCEPTION = {"type": "object", "required": ["code"],
             "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """Validate against a schema (formats checked: date-time)."""
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER) \
        .validate(instance)


# -- the server under test --------------------------------------------------------------------------------
@dataclass
class Api:
    """The live server, a client, and the test atlas behind it."""

    client: httpx.Client
    url: str
    atlas: ApiAtlas
    extra: dict[str, Any]

    def get(self, path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, params=params, **kwargs)

    def json(self, path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        response = self.get(path, params, **kwargs)
        assert response.status_code == 200, (path, params, response.status_code, response.text[:500])
        return response.json()


def enrich(path: Any, ids: dict[str, str]) -> dict[str, Any]:
    """Add what some requirements need to the fresh copy of the atlas (see the module docstring)."""
    atlas = cm.open_atlas(path)
    forests = atlas["commons"]
    points = [g.representative_point() for g in forests.geometry.iloc[6:12]]
    no_geometry = atlas.add("commons", [{"name": "Seed library catalogue", "kind": "knowledge",
                                         "sensitivity": "public"}], who="conformance").ids[0]
    instants = [f"2025-0{m}-01T12:00:00Z" for m in range(1, 7)]
    observations = atlas.add("observations", [
        {"kind": "other", "observed_at": t, "geometry": p, "sensitivity": "public", "custodian": ids["community"]}
        for t, p in zip(instants, points, strict=True)], who="conformance").ids
    polygons = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in forests.geometry.iloc[12:16]]
    claim_dates = ["2024-01-10", "2024-06-15", "2025-02-01", None]
    claims = atlas.add("claims", [
        {"name": f"claim {i}", "status": "asserted", "claimed_on": day, "geometry": g, "sensitivity": "public"}
        for i, (day, g) in enumerate(zip(claim_dates, polygons, strict=True))], who="conformance").ids
    pact = atlas.add("pacts", [{"title": "Pact for the square", "status": "proposed", "sensitivity": "public"}],
                     who="conformance").ids[0]
    return {"no_geometry": no_geometry, "observations": dict(zip(observations, instants, strict=True)),
            "claims": dict(zip(claims, claim_dates, strict=True)), "pact": pact}


@pytest.fixture
def api(api_atlas: ApiAtlas, live_server: LiveServer) -> Iterator[Api]:
    """The enriched test atlas, served; a client on it."""
    extra = enrich(api_atlas.path, api_atlas.ids)
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield Api(client, live_server.url, api_atlas, extra)


# -- helpers -------------------------------------------------------------------------------------------
def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def links(body: dict[str, Any], rel: str) -> list[dict[str, Any]]:
    return [link for link in body.get("links", []) if link.get("rel") == rel]


def one_link(body: dict[str, Any], rel: str, media: str | None = None) -> dict[str, Any]:
    found = [link for link in links(body, rel) if media is None or link.get("type") == media]
    assert found, f"no link rel={rel!r} type={media!r} in {body.get('links')}"
    return found[0]


def check_links_have_rel_and_type(body: dict[str, Any]) -> None:
    for link in body.get("links", []):
        assert link.get("rel") and link.get("type"), f"a link without rel or type: {link}"


def all_pages(api: Api, collection: str, params: dict[str, Any] | None = None,
              headers: dict[str, str] | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Every page of an items request, following the ``next`` links from the first."""
    first = api.get(f"/collections/{collection}/items", {**(params or {}), "limit": limit}, headers=headers)
    assert first.status_code == 200, first.text[:500]
    pages = [first.json()]
    while True:
        following = [link for link in links(pages[-1], "next") if link.get("type") == GEOJSON]
        if not following:
            return pages
        assert len(pages) < 1000, "next links never end"
        response = api.get(following[0]["href"], headers=headers)
        assert response.status_code == 200, (following[0]["href"], response.text[:500])
        pages.append(response.json())


def all_features(api: Api, collection: str, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, limit: int = 50) -> list[dict[str, Any]]:
    return [f for page in all_pages(api, collection, params, headers, limit) for f in page["features"]]


def ids_of(features: list[dict[str, Any]]) -> list[str]:
    return [str(f["id"]) for f in features]


def parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def openapi(api: Api) -> dict[str, Any]:
    response = api.get("/api")
    assert response.status_code == 200
    return response.json()


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operation_parameter(document: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    item = document["paths"][path]
    for parameter in item[method].get("parameters", []) + item.get("parameters", []):
        parameter = resolve(document, parameter)
        if parameter["name"] == name:
            return parameter
    raise AssertionError(f"{method.upper()} {path} does not declare the parameter {name!r}")


def check_form_parameter(parameter: dict[str, Any]) -> None:
    assert parameter["in"] == "query"
    assert parameter.get("required", False) is False
    assert parameter.get("style", "form") == "form"
    assert parameter.get("explode", True) is False, "explode must be false"


def viewer_count(api: Api, layer: str, viewer: Viewer | None = None) -> int:
    return cm.open_atlas(api.atlas.path).count(layer, viewer=viewer or Viewer.anonymous())


def intersects_box(feature: dict[str, Any], box: shapely.Geometry) -> bool:
    return feature["geometry"] is None or shapely.geometry.shape(feature["geometry"]).intersects(box)


def probe_boxes(api: Api, collection: str) -> list[tuple[float, float, float, float]]:
    """Boxes cutting through a collection: around parts of it, and across features' edges."""
    frame = cm.open_atlas(api.atlas.path)[collection]
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    width, height = maxx - minx, maxy - miny
    boxes = []
    for fx, fy, size in ((0.5, 0.5, 0.1), (0.2, 0.7, 0.05), (0.8, 0.3, 0.2), (0.33, 0.41, 0.01), (0, 0, 0.5)):
        x, y = minx + fx * width, miny + fy * height
        boxes.append((x, y, x + size * width, y + size * height))
    edge = frame.geometry.iloc[len(frame) // 2]  # a thin box along one feature's west edge, through it
    ex0, ey0, ex1, ey1 = edge.bounds
    boxes.append((ex0 - (ex1 - ex0) * 0.01, ey0, ex0 + (ex1 - ex0) * 0.02, ey1))
    return boxes


# -- concrete requests for the operations of the API definition ------------------------------------------
WRITES = ("post", "put", "patch", "delete")
PART1_PATHS = ("/", "/conformance", "/api", "/collections", "/collections/{collection_id}",
               "/collections/{collection_id}/items", "/collections/{collection_id}/items/{feature_id}")


def new_observation(api: Api) -> str:
    """A new public observation (to change or delete), written straight into the atlas."""
    atlas = cm.open_atlas(api.atlas.path)
    return atlas.add("observations", [{"kind": "other", "observed_at": "2025-07-01T12:00:00Z", "sensitivity": "public",
                                       "geometry": shapely.Point(104.9, 12.5)}], who="conformance").ids[0]


def concrete_urls(api: Api, template: str, method: str) -> list[str]:
    """URLs of ``template`` with real values for its path parameters (writes: on observations)."""
    admin = api.atlas.headers("admin")
    names = re.findall(r"{(\w+)}", template)
    if "collection_id" in names:
        if method in WRITES:
            collections = ["observations"]
        elif "/tiles" in template:
            collections = [c["id"] for c in api.json("/collections")["collections"]
                           if any(link["rel"].endswith("tilesets-vector") for link in c["links"])]
            assert collections, "tile paths in the definition, but no collection links tiles"
        else:
            collections = list(COLLECTIONS)
    else:
        collections = [""]
    urls = []
    for collection in collections:
        url = template.replace("{collection_id}", collection)
        for name in names:
            if name == "collection_id":
                continue
            if name == "feature_id":
                value = new_observation(api) if method in WRITES else \
                    api.json(f"/collections/{collection}/items", {"limit": 1}, headers=admin)["features"][0]["id"]
            elif name == "pact_id":
                value = api.extra["pact"]
            elif name == "tile_matrix_set_id":
                value = api.json("/tileMatrixSets")["tileMatrixSets"][0]["id"]
            elif name in ("tile_matrix", "tile_row", "tile_col"):
                import morecantile

                frame = cm.open_atlas(api.atlas.path)[collection]
                point = frame.geometry.dropna().iloc[0].representative_point()
                tile = morecantile.tms.get("WebMercatorQuad").tile(point.x, point.y, 12)
                value = {"tile_matrix": tile.z, "tile_row": tile.y, "tile_col": tile.x}[name]
            else:
                raise AssertionError(f"{template}: no sample value for the path parameter {name!r}; teach "
                                     "concrete_urls() one")
            url = url.replace("{" + name + "}", str(value))
        urls.append(url)
    return urls


def sample_body(api: Api, template: str, url: str, method: str) -> tuple[dict[str, str], Any]:
    """A plausible body for a write (content type, JSON)."""
    if template.endswith("/transitions"):
        choices = api.json(url, headers=api.atlas.headers("admin"))["transitions"]
        return {"Content-Type": JSON}, {"status": next(c["status"] for c in choices if c["permitted"])}
    if template.endswith("/comments"):
        return {"Content-Type": JSON}, {"text": "We support this pact."}
    if template.endswith("/reports"):
        return {"Content-Type": JSON}, {"period_from": "2025-01-01", "period_to": "2025-06-30",
                                        "indicators": {"volunteers": 12}}
    if method == "patch":
        return {"Content-Type": "application/merge-patch+json"}, {"properties": {"notes": "seen again"}}
    return {"Content-Type": GEOJSON}, {"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.9, 12.5]},
                                       "properties": {"kind": "other", "observed_at": "2025-01-01T00:00:00Z",
                                                      "sensitivity": "public"}}


# -- an HTML 5 checker (the standard library's tokenizer, and the tree rules that matter here) ----------
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                  "wbr"})
CLOSES_P = frozenset({"address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset",
                      "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
                      "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre", "section", "table", "ul"})
IMPLIED_END = frozenset({"dd", "dt", "li", "optgroup", "option", "p", "rb", "rp", "rt", "rtc", "tbody", "td",
                         "tfoot", "th", "thead", "tr"})


class Html5Check(HTMLParser):
    """Parse a page; collect its parse errors (tree-construction rules of HTML 5), links and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.hrefs: list[str] = []
        self.doctype: str | None = None
        self.seen: set[str] = set()
        self.title = ""
        self.text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        if tag in CLOSES_P and "p" in self.stack:
            self._close("p", implicit=True)
        if tag == "a":
            if "a" in self.stack:
                self.errors.append("<a> inside <a>")
            href = dict(attrs).get("href")
            if href is not None:
                self.hrefs.append(href)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag not in self.stack:
            self.errors.append(f"end tag </{tag}> with no open <{tag}> (line {self.getpos()[0]})")
            return
        self._close(tag, implicit=False)

    def _close(self, tag: str, implicit: bool) -> None:
        while self.stack:
            top = self.stack.pop()
            if top == tag:
                return
            if top not in IMPLIED_END:
                self.errors.append(f"<{top}> closed by {'<' if implicit else '</'}{tag}> (line {self.getpos()[0]})")

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "title":
            self.title += data
        if "body" in self.stack:
            self.text.append(data)

    def finish(self) -> None:
        self.close()
        left = [t for t in self.stack if t not in IMPLIED_END | {"html", "body", "head"}]
        if left:
            self.errors.append(f"elements never closed: {left}")


def html_page(api: Api, url: str, params: dict[str, Any] | None = None,
              problems: list[str] | None = None) -> Html5Check:
    """Fetch a page as HTML and check it is an HTML 5 document with a title (asserting, or into ``problems``)."""
    response = api.get(url, params)
    assert response.status_code == 200, (url, params, response.text[:300])
    assert media_type(response) == HTML, (url, response.headers.get("content-type"))
    page = Html5Check()
    page.feed(response.text)
    page.finish()
    found = []
    if page.doctype is None or page.doctype.strip().lower() != "doctype html":
        found.append(f"not an HTML 5 doctype: {page.doctype!r}")
    if not {"html", "head", "title", "body"} <= page.seen:
        found.append(f"no {sorted({'html', 'head', 'title', 'body'} - page.seen)}")
    if not page.title.strip():
        found.append("empty <title>")
    found += page.errors
    label = f"{url}?{urlencode(params or {})}"
    if problems is None:
        assert not found, f"{label}: {found}"
    else:
        problems += [f"{label}: {problem}" for problem in found]
    return page


def same_resource(base: str, href: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A link's target without its format parameter: the same resource in any encoding."""
    parts = urlsplit(urljoin(base, href))
    query = tuple(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "f"))
    return parts.path.rstrip("/") or "/", query


# ========================================================================================================
# A.2 Conformance class Core
# ========================================================================================================
def test_ats_core_http(api: Api) -> None:
    """/conf/core/http: the resources answer over HTTP 1.1; every advertised link is http(s) and answers so."""
    landing = api.json("/")
    seen = set()
    for link in landing["links"]:
        href = link["href"]
        assert urlsplit(href).scheme in ("http", "https"), href
        if href in seen:
            continue
        seen.add(href)
        response = api.get(href)
        assert response.http_version == "HTTP/1.1", (href, response.http_version)
        assert response.status_code == 200, href
    for path in ("/collections", "/collections/parcels", "/collections/parcels/items"):
        assert api.get(path).http_version == "HTTP/1.1"


def test_ats_core_http_head_and_allow(api: Api) -> None:
    """/conf/core/http, HTTP 1.1 methods (RFC 9110 §9.1, §15.5.6).

    A general-purpose server MUST support HEAD wherever it supports GET, answering as GET would
    without the body; and every 405 answer MUST carry an Allow header naming the methods the
    resource does support.
    """
    parcel = api.json("/collections/parcels/items", {"limit": 1})["features"][0]["id"]
    problems = []
    for path in ("/", "/conformance", "/api", "/collections", "/collections/parcels",
                 "/collections/parcels/queryables", "/collections/parcels/items",
                 f"/collections/parcels/items/{parcel}"):
        got = api.client.head(path)
        if got.status_code != 200:
            problems.append(f"HEAD {path} -> {got.status_code} (GET -> {api.get(path).status_code})")
        if got.status_code == 405 and "allow" not in got.headers:
            problems.append(f"HEAD {path} -> 405 without an Allow header")
    put = api.client.put("/collections/observations/items", json={})
    assert put.status_code == 405
    allowed = {m.strip().upper() for m in put.headers.get("allow", "").split(",") if m.strip()}
    if not {"GET", "POST"} <= allowed:
        problems.append(f"PUT /collections/observations/items -> 405 with Allow: {put.headers.get('allow')!r}, "
                        "but the resource supports GET and POST")
    assert not problems, "\n".join(problems)


def test_ats_core_crs84(api: Api) -> None:
    """/conf/core/crs84: without a CRS asked for, every geometry is in CRS84 (longitude, latitude)."""
    atlas = cm.open_atlas(api.atlas.path)
    for collection in COLLECTIONS:
        expected = atlas[collection]
        by_id = dict(zip(expected["id"].astype(str), expected.geometry, strict=True))
        for feature in all_features(api, collection, headers=api.atlas.headers("admin"), limit=500):
            if feature["geometry"] is None:
                continue
            shape = shapely.geometry.shape(feature["geometry"])
            minx, miny, maxx, maxy = shape.bounds
            assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90, (collection, feature["id"])
            if feature["id"] in by_id:  # the atlas is in EPSG:4326: the very same coordinates, x = longitude
                assert shapely.equals_exact(shape, by_id[feature["id"]], tolerance=1e-9), feature["id"]
        extent = api.json(f"/collections/{collection}").get("extent")
        if extent:
            assert extent["spatial"].get("crs", CRS84) in (CRS84, CRS84H)


def test_ats_core_root_op(api: Api) -> None:
    """/conf/core/root-op: GET {root}/ answers 200 with a landing page."""
    response = api.get("/")
    assert response.status_code == 200
    assert media_type(response) == JSON
    validate(response.json(), LANDING_PAGE)


def test_ats_core_root_success(api: Api) -> None:
    """/conf/core/root-success: the landing page (JSON and HTML) links the API definition, conformance and data."""
    landing = api.json("/")
    validate(landing, LANDING_PAGE)
    check_links_have_rel_and_type(landing)
    rels = {link["rel"] for link in landing["links"]}
    assert rels & {"service-desc", "service-doc"}, rels
    assert rels & {"conformance", OGC_REL + "conformance"}, rels
    assert rels & {"data", OGC_REL + "data"}, rels
    for rel, kind in (("service-desc", OPENAPI_JSON), ("service-doc", HTML), ("conformance", JSON),
                      ("data", JSON)):
        for link in links(landing, rel):
            response = api.get(link["href"])
            assert response.status_code == 200, link
            got = response.headers["content-type"].replace(" ", "").lower()
            assert got.startswith(kind.lower()) or media_type(response) == link["type"].split(";")[0], (link, got)
    page = html_page(api, "/", {"f": "html"}, problems=[])  # its HTML 5 validity: /conf/html/content
    targets = {same_resource(api.url, h) for h in page.hrefs}
    for link in landing["links"]:
        assert same_resource(api.url, link["href"]) in targets, f"the HTML landing page lacks {link}"
    assert landing["title"] in " ".join(page.text)


def test_ats_core_api_definition_op(api: Api) -> None:
    """/conf/core/api-definition-op: every API definition link of the landing page answers 200."""
    landing = api.json("/")
    definitions = links(landing, "service-desc") + links(landing, "service-doc")
    assert definitions
    for link in definitions:
        response = api.get(link["href"])
        assert response.status_code == 200, link
        if link["rel"] == "service-desc":
            assert response.headers["content-type"].replace(" ", "").lower() == link["type"].replace(" ", "").lower()
            assert response.json()["openapi"].startswith("3.0")
        else:
            assert media_type(response) == HTML


def test_ats_core_api_definition_success(api: Api) -> None:
    """/conf/core/api-definition-success: the API definition validates against the OpenAPI 3.0 schema."""
    from openapi_spec_validator import OpenAPIV30SpecValidator

    for link in links(api.json("/"), "service-desc"):
        document = api.get(link["href"]).json()
        errors = [e.message for e in OpenAPIV30SpecValidator(document).iter_errors()]
        assert not errors, errors[:10]


def test_ats_core_conformance_op(api: Api) -> None:
    """/conf/core/conformance-op: {root}/conformance and every conformance link answer 200."""
    landing = api.json("/")
    paths = ["/conformance"] + [link["href"] for link in landing["links"]
                                if link["rel"] in ("conformance", OGC_REL + "conformance")]
    assert len(paths) > 1
    for path in paths:
        response = api.get(path)
        assert response.status_code == 200, path
        validate(response.json(), CONF_CLASSES)


def test_ats_core_conformance_success(api: Api) -> None:
    """/conf/core/conformance-success: confClasses.yaml, listing the classes implemented (those tested here)."""
    body = api.json("/conformance")
    validate(body, CONF_CLASSES)
    declared = body["conformsTo"]
    assert len(declared) == len(set(declared)), "a conformance class declared twice"
    for name in ("core", "geojson", "html", "oas30"):
        assert CONF + name in declared, name
    for uri in declared:
        assert re.fullmatch(r"http://www\.opengis\.net/spec/[\w\-]+/\d+\.\d+/conf/[\w\-]+", uri), uri
    # a class declared must be one the server implements: no Part 2 (CRS by reference) without its parameter
    if any("/ogcapi-features-2/" in uri for uri in declared):
        assert api.get("/collections/parcels/items", {"crs": CRS84}).status_code == 200


def test_ats_core_fc_md_op(api: Api) -> None:
    """/conf/core/fc-md-op: GET {root}/collections answers 200."""
    response = api.get("/collections")
    assert response.status_code == 200
    validate(response.json(), COLLECTIONS_SCHEMA)


def test_ats_core_fc_md_success(api: Api) -> None:
    """/conf/core/fc-md-success: the collections document follows collections.yaml."""
    body = api.json("/collections")
    validate(body, COLLECTIONS_SCHEMA)
    ids = [c["id"] for c in body["collections"]]
    assert len(ids) == len(set(ids))
    assert set(COLLECTIONS) <= set(ids)


def test_ats_core_fc_md_links(api: Api) -> None:
    """/conf/core/fc-md-links: self, alternate for every other encoding (HTML), and rel and type on every link."""
    body = api.json("/collections")
    check_links_have_rel_and_type(body)
    self_link = one_link(body, "self")
    assert self_link["type"] == JSON
    assert api.json(self_link["href"]) == body
    alternate = one_link(body, "alternate", HTML)
    response = api.get(alternate["href"])
    assert response.status_code == 200 and media_type(response) == HTML


def test_ats_core_fc_md_items(api: Api) -> None:
    """/conf/core/fc-md-items: every feature collection the server offers is described in /collections."""
    body = api.json("/collections")
    described = {c["id"] for c in body["collections"]}
    assert described == set(cm.open_atlas(api.atlas.path).layers())
    for collection in described:
        assert api.get(f"/collections/{collection}/items", {"limit": 1}).status_code == 200


def test_ats_core_fc_md_items_links(api: Api) -> None:
    """/conf/core/fc-md-items-links: each collection links its items in every encoding (GeoJSON, HTML)."""
    for collection in api.json("/collections")["collections"]:
        check_links_have_rel_and_type(collection)
        items = {link["type"]: link["href"] for link in links(collection, "items")}
        assert {GEOJSON, HTML} <= set(items), (collection["id"], items)
        for kind, href in items.items():
            response = api.get(href)
            assert response.status_code == 200 and media_type(response) == kind, (collection["id"], href)
            assert urlsplit(href).path == f"/collections/{collection['id']}/items"


def test_ats_core_fc_md_extent(api: Api) -> None:
    """/conf/core/fc-md-extent: a collection's extent holds every geometry (and time) of the collection."""
    for who in ("anonymous", "admin"):
        headers = api.atlas.headers(who) if who != "anonymous" else {}
        for collection in api.json("/collections", headers=headers)["collections"]:
            extent = collection.get("extent")
            if collection["id"] not in (*COLLECTIONS, "claims") or not extent:
                continue
            validate(extent, EXTENT)
            boxes = extent.get("spatial", {}).get("bbox")
            features = all_features(api, collection["id"], headers=headers, limit=1000)
            if boxes:
                box = boxes[0]
                minx, miny, maxx, maxy = (box[0], box[1], box[2], box[3]) if len(box) == 4 else \
                    (box[0], box[1], box[3], box[4])
                hull = shapely.box(minx, miny, maxx, maxy).buffer(1e-7)
                for feature in features:
                    if feature["geometry"] is not None:
                        assert hull.covers(shapely.geometry.shape(feature["geometry"])), \
                            (who, collection["id"], feature["id"], box)
            interval = extent.get("temporal", {}).get("interval")
            if interval:
                assert interval[0][0] is None or interval[0][1] is None or interval[0][0] <= interval[0][1]


def test_ats_core_sfc_md_op(api: Api) -> None:
    """/conf/core/sfc-md-op: GET /collections/{collectionId} answers 200 for every collection listed."""
    for collection in api.json("/collections")["collections"]:
        response = api.get(f"/collections/{collection['id']}")
        assert response.status_code == 200, collection["id"]
        validate(response.json(), COLLECTION)


def test_ats_core_sfc_md_success(api: Api) -> None:
    """/conf/core/sfc-md-success: id, title, description and extent as in /collections; links as required."""
    for listed in api.json("/collections")["collections"]:
        alone = api.json(f"/collections/{listed['id']}")
        validate(alone, COLLECTION)
        for key in ("id", "title", "description", "extent", "itemType", "crs"):
            assert alone.get(key) == listed.get(key), (listed["id"], key)
        check_links_have_rel_and_type(alone)
        assert {link["type"] for link in links(alone, "items")} >= {GEOJSON, HTML}


def test_ats_core_fc_op(api: Api) -> None:
    """/conf/core/fc-op: GET /collections/{collectionId}/items answers 200 for every collection."""
    for collection in api.json("/collections")["collections"]:
        response = api.get(f"/collections/{collection['id']}/items")
        assert response.status_code == 200, collection["id"]
        assert media_type(response) == GEOJSON
        validate(response.json(), FEATURE_COLLECTION)


def test_ats_core_fc_limit_definition(api: Api) -> None:
    """/conf/core/fc-limit-definition: limit is an optional integer query parameter, form style, not exploded."""
    parameter = operation_parameter(openapi(api), "/collections/{collection_id}/items", "get", "limit")
    check_form_parameter(parameter)
    schema = parameter["schema"]
    assert schema["type"] == "integer"
    assert schema.get("minimum", 1) >= 1
    if "maximum" in schema and "default" in schema:
        assert schema.get("minimum", 1) <= schema["default"] <= schema["maximum"]


def test_ats_core_fc_limit_response(api: Api) -> None:
    """/conf/core/fc-limit-response: never more features than limit, nor than the maximum of the definition."""
    schema = operation_parameter(openapi(api), "/collections/{collection_id}/items", "get", "limit")["schema"]
    maximum, default = schema.get("maximum"), schema.get("default")
    total = viewer_count(api, "parcels")
    assert total == 407
    for limit in (1, 2, 7, 10, 50, 406, 407, 408, 1000, maximum):
        if limit is None:
            continue
        body = api.json("/collections/parcels/items", {"limit": limit})
        assert len(body["features"]) <= limit
        assert len(body["features"]) == min(limit, total)  # nothing held back either, with so few features
        if maximum is not None:
            assert len(body["features"]) <= maximum
    body = api.json("/collections/parcels/items")
    if default is not None:
        assert len(body["features"]) == min(default, total)
    for collection in ("commons", "observations"):
        body = api.json(f"/collections/{collection}/items", {"limit": 3}, headers=api.atlas.headers("admin"))
        assert len(body["features"]) <= 3


def test_ats_core_fc_bbox_definition(api: Api) -> None:
    """/conf/core/fc-bbox-definition: bbox is an optional array of 4 to 6 numbers, form style, not exploded."""
    parameter = operation_parameter(openapi(api), "/collections/{collection_id}/items", "get", "bbox")
    check_form_parameter(parameter)
    schema = parameter["schema"]
    assert schema["type"] == "array"
    assert schema["minItems"] == 4 and schema["maxItems"] == 6
    assert schema["items"]["type"] == "number"


def test_ats_core_fc_bbox_response(api: Api) -> None:
    """/conf/core/fc-bbox-response: only — and every one of — the features whose geometry intersects the box.

    The expected answer is computed from every feature of the collection (no bbox), with
    shapely: intersects, exactly, not by envelope. The geometries are in CRS84 without a
    bbox-crs; the six-number form (with heights) selects the same features.
    """
    for collection in ("commons", "parcels", "observations"):
        headers = api.atlas.headers("admin") if collection == "observations" else {}
        everything = all_features(api, collection, headers=headers, limit=1000)
        spatial = [f for f in everything if f["geometry"] is not None]
        for box in probe_boxes(api, collection):
            area = shapely.box(*box)
            expected = {str(f["id"]) for f in spatial if intersects_box(f, area)}
            got = all_features(api, collection, {"bbox": ",".join(map(repr, box))}, headers=headers)
            got_spatial = {str(f["id"]) for f in got if f["geometry"] is not None}
            assert len(ids_of(got)) == len(set(ids_of(got))), "a feature returned twice"
            assert got_spatial == expected, (collection, box, sorted(got_spatial ^ expected)[:5])
            for feature in got:
                if feature["geometry"] is not None:
                    x0, y0, x1, y1 = shapely.geometry.shape(feature["geometry"]).bounds
                    assert -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
            six = f"{box[0]!r},{box[1]!r},-100,{box[2]!r},{box[3]!r},9000"
            assert set(ids_of(all_features(api, collection, {"bbox": six}, headers=headers))) == set(ids_of(got))
    whole = api.json("/collections/parcels/items", {"bbox": "-180,-90,180,90", "limit": 1000})
    assert whole["numberMatched"] == 407


def test_ats_core_fc_bbox_response_features_without_geometry(api: Api) -> None:
    """/conf/core/fc-bbox-response, part C: bbox matches every feature without a spatial geometry, too."""
    no_geometry = api.extra["no_geometry"]
    everything = ids_of(all_features(api, "commons", limit=1000))
    assert no_geometry in everything
    for box in ("-180,-90,180,90", "104,11,105,13", "0,0,1,1"):
        got = ids_of(all_features(api, "commons", {"bbox": box}))
        assert no_geometry in got, f"GET /collections/commons/items?bbox={box} leaves out {no_geometry} (no geometry)"


def test_ats_core_fc_bbox_response_antimeridian(api: Api) -> None:
    """/conf/core/fc-bbox-response, part F: a box across the antimeridian has its west edge east of its east edge."""
    everything = all_features(api, "commons", limit=1000)
    # from 100°E eastwards across 180° to 170°W: holds all the Cambodian forests
    response = api.get("/collections/commons/items", {"bbox": "100,-60,-170,60", "limit": 1000})
    assert response.status_code == 200, f"GET /collections/commons/items?bbox=100,-60,-170,60 -> " \
                                        f"{response.status_code} {response.text}"
    assert set(ids_of(response.json()["features"])) == set(ids_of(everything))
    response = api.get("/collections/commons/items", {"bbox": "170,-60,-170,60", "limit": 1000})
    assert response.status_code == 200
    assert {f["id"] for f in response.json()["features"] if f["geometry"] is not None} == set()


def test_ats_core_fc_time_definition(api: Api) -> None:
    """/conf/core/fc-time-definition: datetime is an optional string query parameter, form style, not exploded."""
    parameter = operation_parameter(openapi(api), "/collections/{collection_id}/items", "get", "datetime")
    check_form_parameter(parameter)
    assert parameter["schema"]["type"] == "string"


def _in_interval(instant: dt.datetime, start: dt.datetime | None, end: dt.datetime | None) -> bool:
    return (start is None or start <= instant) and (end is None or instant <= end)


def test_ats_core_fc_time_response(api: Api) -> None:
    """/conf/core/fc-time-response: only features whose time meets the instant or interval; the whole syntax.

    Instants and closed intervals, open at either end with ``..`` or an empty string, and
    RFC 3339 date-times with offsets and fractions.
    """
    headers = api.atlas.headers("admin")
    everything = all_features(api, "observations", headers=headers, limit=1000)
    times = {str(f["id"]): parse_time(f["properties"]["observed_at"]) for f in everything}
    assert len(times) == 7
    utc = dt.UTC
    t = dt.datetime
    cases: list[tuple[str, dt.datetime | None, dt.datetime | None]] = [
        ("2025-03-01T12:00:00Z", t(2025, 3, 1, 12, tzinfo=utc), t(2025, 3, 1, 12, tzinfo=utc)),
        ("2025-03-01T14:00:00+02:00", t(2025, 3, 1, 12, tzinfo=utc), t(2025, 3, 1, 12, tzinfo=utc)),
        ("2025-03-01T12:00:00.000Z", t(2025, 3, 1, 12, tzinfo=utc), t(2025, 3, 1, 12, tzinfo=utc)),
        ("2025-03-01T12:00:01Z", t(2025, 3, 1, 12, 0, 1, tzinfo=utc), t(2025, 3, 1, 12, 0, 1, tzinfo=utc)),
        ("2025-02-01T00:00:00Z/2025-04-01T00:00:00Z", t(2025, 2, 1, tzinfo=utc), t(2025, 4, 1, tzinfo=utc)),
        ("2025-02-01T12:00:00Z/2025-04-01T12:00:00Z", t(2025, 2, 1, 12, tzinfo=utc), t(2025, 4, 1, 12, tzinfo=utc)),
        ("../2025-03-01T12:00:00Z", None, t(2025, 3, 1, 12, tzinfo=utc)),
        ("/2025-03-01T12:00:00Z", None, t(2025, 3, 1, 12, tzinfo=utc)),
        ("2025-03-01T12:00:00Z/..", t(2025, 3, 1, 12, tzinfo=utc), None),
        ("2025-03-01T12:00:00Z/", t(2025, 3, 1, 12, tzinfo=utc), None),
        ("2025-01-01T00:00:00Z/2030-01-01T00:00:00Z", t(2025, 1, 1, tzinfo=utc), t(2030, 1, 1, tzinfo=utc)),
        ("2030-01-01T00:00:00Z/..", t(2030, 1, 1, tzinfo=utc), None),
    ]
    for value, start, end in cases:
        expected = {i for i, when in times.items() if _in_interval(when, start, end)}
        got = all_features(api, "observations", {"datetime": value}, headers=headers)
        assert set(ids_of(got)) == expected, (value, sorted(times[i] for i in set(ids_of(got)) ^ expected))
        for feature in got:
            assert _in_interval(parse_time(feature["properties"]["observed_at"]), start, end)
    # the time of features without a declared time is when they last changed: nothing of the future
    assert api.json("/collections/parcels/items", {"datetime": "2100-01-01T00:00:00Z/.."})["numberMatched"] == 0
    assert api.json("/collections/parcels/items", {"datetime": "../2100-01-01T00:00:00Z"})["numberMatched"] == 407


def test_ats_core_fc_time_response_features_without_time(api: Api) -> None:
    """/conf/core/fc-time-response, part C: datetime matches every feature without a temporal geometry, too.

    Claims have one temporal property, ``claimed_on``, which a claim may lack.
    """
    undated = [i for i, day in api.extra["claims"].items() if day is None]
    assert len(undated) == 1
    assert undated[0] in ids_of(all_features(api, "claims"))
    for value in ("2024-06-15T00:00:00Z/2024-06-16T00:00:00Z", "2024-03-01T00:00:00Z/..", "../2030-01-01T00:00:00Z"):
        got = ids_of(all_features(api, "claims", {"datetime": value}))
        assert undated[0] in got, f"GET /collections/claims/items?datetime={value} leaves out the claim " \
                                  f"{undated[0]}, which has no claimed_on"


def check_feature_collection(api: Api, response: httpx.Response, requested_limit: int | None = None) -> None:
    """The parts of /conf/core/fc-response that every answer must pass (delegating as the ATS says)."""
    assert response.status_code == 200
    assert media_type(response) == GEOJSON
    body = response.json()
    validate(body, FEATURE_COLLECTION)
    assert all(f["type"] == "Feature" for f in body["features"])
    if "numberReturned" in body:
        assert body["numberReturned"] == len(body["features"])
    if "numberMatched" in body:
        assert body["numberMatched"] >= len(body["features"])
    if requested_limit is not None:
        assert len(body["features"]) <= requested_limit
    if "links" in body:
        check_links_have_rel_and_type(body)
        one_link(body, "self", GEOJSON)
        one_link(body, "alternate", HTML)
    if "timeStamp" in body:
        parse_time(body["timeStamp"])


def test_ats_core_fc_response(api: Api) -> None:
    """/conf/core/fc-response: a FeatureCollection of Features, only the ones selected, in every encoding."""
    requests = [("commons", {}), ("commons", {"limit": 5, "offset": 3}), ("parcels", {"limit": 100}),
                ("parcels", {"bbox": "14.40,50.10,14.41,50.11"}),
                ("observations", {"datetime": "2025-03-01T12:00:00Z"}),
                ("commons", {"kind": "knowledge"}), ("parcels", {"limit": 5, "offset": 10_000})]
    for collection, params in requests:
        response = api.get(f"/collections/{collection}/items", params)
        check_feature_collection(api, response, params.get("limit", 10))
        body = response.json()
        if "kind" in params:
            assert body["features"] and all(f["properties"]["kind"] == "knowledge" for f in body["features"])
        if "offset" in params and params["offset"] >= 407:
            assert body["features"] == [] and body["numberReturned"] == 0
        html = api.get(f"/collections/{collection}/items", {**params, "f": "html"})
        assert html.status_code == 200 and media_type(html) == HTML


def test_ats_core_fc_links(api: Api) -> None:
    """/conf/core/fc-links: self, alternate, rel and type; next pages through the selection, prev goes back."""
    cases = [("parcels", {}, 50), ("parcels", {"bbox": "14.395,50.095,14.41,50.105"}, 7),
             ("commons", {"kind": "forest"}, 4), ("observations", {"datetime": "2025-01-15T00:00:00Z/.."}, 2)]
    for collection, params, limit in cases:
        path = f"/collections/{collection}/items"
        first = api.json(path, {**params, "limit": limit})
        check_links_have_rel_and_type(first)
        self_link = one_link(first, "self", GEOJSON)
        again = api.json(self_link["href"])
        assert ids_of(again["features"]) == ids_of(first["features"]), "self does not lead to this page"
        alternate = api.get(one_link(first, "alternate", HTML)["href"])
        assert alternate.status_code == 200 and media_type(alternate) == HTML
        pages = all_pages(api, collection, params, limit=limit)
        seen = [fid for page in pages for fid in ids_of(page["features"])]
        matched = first["numberMatched"]
        assert len(seen) == len(set(seen)) == matched, (collection, params, len(seen), len(set(seen)), matched)
        expected = all_features(api, collection, params, limit=1000)
        assert seen == ids_of(expected)
        for index, page in enumerate(pages):
            assert len(page["features"]) <= limit
            assert bool(links(page, "next")) == (index < len(pages) - 1)
            if index:
                previous = [link for link in links(page, "prev") if link["type"] == GEOJSON]
                assert previous, "no prev link on a page after the first"
                back = api.json(previous[0]["href"])
                assert ids_of(back["features"]) == ids_of(pages[index - 1]["features"])
            for link in links(page, "next") + links(page, "prev"):
                query = dict(parse_qsl(urlsplit(link["href"]).query))
                for name, value in params.items():  # the selection is kept while paging
                    assert query.get(name) == str(value), (link, name)


def test_ats_core_fc_timeStamp(api: Api) -> None:  # noqa: N802
    """/conf/core/fc-timeStamp: the time the answer was generated."""
    for collection in COLLECTIONS:
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        body = api.json(f"/collections/{collection}/items")
        after = dt.datetime.now(dt.UTC)
        assert "timeStamp" in body
        validate(body["timeStamp"], {"type": "string", "format": "date-time"})
        stamp = parse_time(body["timeStamp"])
        assert before - dt.timedelta(seconds=1) <= stamp <= after + dt.timedelta(seconds=1), \
            (before, body["timeStamp"], after)


def test_ats_core_fc_numberMatched(api: Api) -> None:  # noqa: N802
    """/conf/core/fc-numberMatched: the number of features selected, all pages together."""
    atlas = cm.open_atlas(api.atlas.path)
    cases = [("parcels", {}, {}), ("parcels", {"bbox": "14.395,50.095,14.41,50.105"}, {}),
             ("commons", {}, {}), ("commons", {"kind": "forest"}, {}), ("commons", {}, api.atlas.headers("admin")),
             ("observations", {}, {}), ("observations", {}, api.atlas.headers("admin")),
             ("observations", {"datetime": "2025-02-01T00:00:00Z/2025-05-01T00:00:00Z"}, {}),
             ("parcels", {"bbox": "0,0,1,1"}, {})]
    for collection, params, headers in cases:
        body = api.json(f"/collections/{collection}/items", params, headers=headers)
        assert "numberMatched" in body
        every = all_features(api, collection, params, headers=headers, limit=30)
        assert body["numberMatched"] == len(every) == len(set(ids_of(every))), (collection, params)
    assert api.json("/collections/parcels/items")["numberMatched"] == atlas.count("parcels") == 407
    assert api.json("/collections/commons/items")["numberMatched"] == atlas.count("commons", viewer=Viewer.anonymous())
    admin = api.json("/collections/commons/items", headers=api.atlas.headers("admin"))
    assert admin["numberMatched"] == atlas.count("commons")


def test_ats_core_fc_numberReturned(api: Api) -> None:  # noqa: N802
    """/conf/core/fc-numberReturned: the number of features in the answer."""
    for collection, params in (("parcels", {}), ("parcels", {"limit": 400, "offset": 100}),
                               ("parcels", {"limit": 5, "offset": 405}), ("parcels", {"bbox": "0,0,1,1"}),
                               ("commons", {"limit": 1000}), ("observations", {})):
        body = api.json(f"/collections/{collection}/items", params)
        assert body["numberReturned"] == len(body["features"]), (collection, params)
    assert api.json("/collections/parcels/items", {"limit": 5, "offset": 405})["numberReturned"] == 2


def test_ats_core_f_op(api: Api) -> None:
    """/conf/core/f-op: GET /collections/{collectionId}/items/{featureId} answers 200 for a large subset."""
    for collection, headers, step in (("commons", {}, 1), ("commons", api.atlas.headers("admin"), 1),
                                      ("parcels", {}, 9), ("observations", api.atlas.headers("admin"), 1)):
        for feature in all_features(api, collection, headers=headers, limit=500)[::step]:
            response = api.get(f"/collections/{collection}/items/{feature['id']}", headers=headers)
            assert response.status_code == 200, (collection, feature["id"], response.text[:300])
            alone = response.json()
            validate(alone, FEATURE_SCHEMA)
            assert alone["id"] == feature["id"]
            assert alone["properties"] == feature["properties"]
            if feature["geometry"] is None:
                assert alone["geometry"] is None
            else:
                assert shapely.geometry.shape(alone["geometry"]).equals(shapely.geometry.shape(feature["geometry"]))


def test_ats_core_f_success(api: Api) -> None:
    """/conf/core/f-success: self, alternate (HTML) and collection links, rel and type on each; featureGeoJSON."""
    for collection in ("commons", "parcels"):
        for feature in api.json(f"/collections/{collection}/items", {"limit": 5})["features"]:
            path = f"/collections/{collection}/items/{feature['id']}"
            body = api.json(path)
            validate(body, FEATURE_SCHEMA)
            check_links_have_rel_and_type(body)
            self_link = one_link(body, "self", GEOJSON)
            assert urlsplit(self_link["href"]).path == path
            assert api.json(self_link["href"]) == body
            html = api.get(one_link(body, "alternate", HTML)["href"])
            assert html.status_code == 200 and media_type(html) == HTML
            parent = one_link(body, "collection")
            assert urlsplit(parent["href"]).path == f"/collections/{collection}"
            assert api.json(parent["href"])["id"] == collection


INVALID = [
    ("/collections/parcels/items", {"limit": "0"}), ("/collections/parcels/items", {"limit": "-1"}),
    ("/collections/parcels/items", {"limit": "abc"}), ("/collections/parcels/items", {"limit": "1.5"}),
    ("/collections/parcels/items", {"limit": "10001"}), ("/collections/parcels/items", {"offset": "-1"}),
    ("/collections/parcels/items", {"offset": "x"}),
    ("/collections/parcels/items", {"bbox": "1,2,3"}), ("/collections/parcels/items", {"bbox": "a,b,c,d"}),
    ("/collections/parcels/items", {"bbox": "1,2,3,4,5"}), ("/collections/parcels/items", {"bbox": "0,10,1,5"}),
    ("/collections/parcels/items", {"bbox": "0,-91,1,5"}), ("/collections/parcels/items", {"bbox": "1,2,3,4,5,6,7"}),
    ("/collections/parcels/items", {"bbox": "nan,1,2,3"}),
    ("/collections/parcels/items", {"bbox": "14,50,15,51", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}),
    ("/collections/parcels/items", {"datetime": "yesterday"}),
    ("/collections/parcels/items", {"datetime": "2025-05-01T00:00:00Z/2025-02-01T00:00:00Z"}),
    ("/collections/parcels/items", {"datetime": "../.."}), ("/collections/parcels/items", {"datetime": "2025-13-01"}),
    ("/collections/parcels/items", {"datetime": "2025-01-01T00:00:00Z/2025-02-01T00:00:00Z/2025-03-01T00:00:00Z"}),
    ("/collections/parcels/items", {"filter": "cadastral_ref = "}),
    ("/collections/parcels/items", {"filter": "cadastral_ref = 'x'", "filter-lang": "sql"}),
    ("/collections/parcels/items", {"cadastral_ref": "x", "version": "one"}),
]


def test_ats_core_query_param_invalid(api: Api) -> None:
    """/conf/core/query-param-invalid: a parameter with an invalid value is answered 400 (an OGC exception)."""
    parcel = api.json("/collections/parcels/items", {"limit": 1})["features"][0]["id"]
    cases = list(INVALID)
    for path in ("/", "/conformance", "/api", "/collections", "/collections/parcels", "/collections/parcels/queryables",
                 "/collections/parcels/items", f"/collections/parcels/items/{parcel}"):
        cases += [(path, {"f": "xml"}), (path, {"f": ""})]
    problems = []
    for path, params in cases:
        response = api.get(path, params)
        if response.status_code != 400:
            problems.append(f"GET {path}?{urlencode(params)} -> {response.status_code}")
            continue
        assert media_type(response) == JSON
        validate(response.json(), EXCEPTION)
    assert not problems, "\n".join(problems)


def test_ats_core_query_param_invalid_empty_values(api: Api) -> None:
    """/conf/core/query-param-invalid: an empty bbox or datetime is not a valid value either.

    ``bbox=`` is not four or six numbers, ``datetime=`` is neither a date-time nor an interval
    (the grammar of /req/core/fc-time-response): they must be refused, not ignored.
    """
    problems = []
    for params in ({"bbox": ""}, {"datetime": ""}, {"limit": ""}, {"bbox": ","}, {"datetime": "/"}):
        response = api.get("/collections/parcels/items", params)
        if response.status_code != 400:
            problems.append(f"GET /collections/parcels/items?{urlencode(params)} -> {response.status_code} "
                            f"(numberMatched {response.json().get('numberMatched')})")
    assert not problems, "\n".join(problems)


def test_ats_core_query_param_unknown(api: Api) -> None:
    """/conf/core/query-param-unknown: a parameter the API definition does not specify is answered 400.

    Every operation of the definition, writes included (with the administrator's key and a
    valid body: the refusal must come from the parameter, and nothing is written).
    """
    document = openapi(api)
    admin = api.atlas.headers("admin")
    before = cm.open_atlas(api.atlas.path).history()
    problems = []
    for template, operations in document["paths"].items():
        for method in operations:
            for url in concrete_urls(api, template, method)[:1]:
                kwargs: dict[str, Any] = {"params": {"surprise": "1"}}
                if method in WRITES:
                    headers, body = sample_body(api, template, url, method)
                    kwargs["headers"] = {**admin, **headers}
                    if method != "delete":
                        kwargs["content"] = json.dumps(body)
                response = api.client.request(method.upper(), url, **kwargs)
                if response.status_code != 400:
                    problems.append(f"{method.upper()} {url}?surprise=1 -> {response.status_code}")
                elif media_type(response) == JSON:
                    validate(response.json(), EXCEPTION)
    after = cm.open_atlas(api.atlas.path).history()
    written = after[~after["entry"].isin(before["entry"])] if "entry" in after else after.iloc[len(before):]
    assert written["who"].ne("municipal GIS office").all(), "a refused write changed the atlas"
    assert not problems, "\n".join(problems)


def test_ats_core_query_param_unknown_undocumented_filters(api: Api) -> None:
    """/conf/core/query-param-unknown: every parameter the server accepts is specified in the API definition.

    The items operation accepts ``property=value`` for each queryable (e.g. ``cadastral_ref``);
    /req/core/query-param-unknown refuses parameters "not specified in the API definition",
    and /rec/core/fc-filters asks for such parameters to be described there. A parameter the
    server accepts but the definition does not specify leaves clients (and this rule) in the dark.
    """
    document = openapi(api)
    operation = document["paths"]["/collections/{collection_id}/items"]["get"]
    declared = {resolve(document, p)["name"] for p in operation.get("parameters", [])}
    accepted = []
    for collection in ("parcels", "commons"):
        for name in api.json(f"/collections/{collection}/queryables")["properties"]:
            if name in declared or name == "geometry":
                continue
            value = {"version": "1", "created": "2020-01-01T00:00:00Z",
                     "updated": "2020-01-01T00:00:00Z"}.get(name, "x")
            response = api.get(f"/collections/{collection}/items", {name: value})
            if response.status_code == 200:
                accepted.append(f"{collection}: {name}")
    assert not accepted, f"accepted (200) but not specified in the API definition: {accepted}"


# ========================================================================================================
# A.3 Conformance class GeoJSON
# ========================================================================================================
def test_ats_geojson_definition(api: Api) -> None:
    """/conf/geojson/definition: GeoJSON for feature content, JSON for every other resource."""
    parcel = api.json("/collections/parcels/items", {"limit": 1})["features"][0]["id"]
    features = ["/collections/parcels/items", f"/collections/parcels/items/{parcel}"]
    others = ["/", "/conformance", "/collections", "/collections/parcels"]
    for path in features:
        for request in ({"headers": {"Accept": GEOJSON}}, {"params": {"f": "geojson"}}, {"params": {"f": "json"}},
                        {"headers": {"Accept": f"{GEOJSON}, {JSON};q=0.9"}}, {}):
            response = api.client.get(path, **request)
            assert response.status_code == 200 and media_type(response) == GEOJSON, (path, request)
    for path in others:
        for request in ({"headers": {"Accept": JSON}}, {"params": {"f": "json"}}, {}):
            response = api.client.get(path, **request)
            assert response.status_code == 200 and media_type(response) == JSON, (path, request)


def test_ats_geojson_content(api: Api) -> None:
    """/conf/geojson/content: FeatureCollection and Feature objects, links as foreign members, valid geometry."""
    for collection in COLLECTIONS:
        body = api.json(f"/collections/{collection}/items", {"limit": 100}, headers=api.atlas.headers("admin"))
        validate(body, FEATURE_COLLECTION)
        assert isinstance(body["links"], list)
        for feature in body["features"]:
            assert set(feature) <= {"type", "id", "geometry", "properties", "links", "bbox"}, set(feature)
            assert feature["properties"] is None or "id" not in feature["properties"] or \
                feature["properties"]["id"] == feature["id"]
            if feature["geometry"] is not None:
                shape = shapely.geometry.shape(feature["geometry"])
                assert not shape.is_empty
                for ring in shapely.get_rings(shapely.get_parts(shape)) if shape.geom_type.endswith("Polygon") else []:
                    coordinates = shapely.get_coordinates(ring)
                    assert (coordinates[0] == coordinates[-1]).all() and len(coordinates) >= 4
        alone = api.json(f"/collections/{collection}/items/{body['features'][0]['id']}",
                         headers=api.atlas.headers("admin")) if body["features"] else None
        if alone is not None:
            validate(alone, FEATURE_SCHEMA)
            assert isinstance(alone["links"], list)
    validate(api.json("/"), LANDING_PAGE)
    validate(api.json("/conformance"), CONF_CLASSES)
    validate(api.json("/collections"), COLLECTIONS_SCHEMA)
    validate(api.json("/collections/parcels"), COLLECTION)


# ========================================================================================================
# A.4 Conformance class HTML
# ========================================================================================================
def _get_operations(api: Api) -> list[str]:
    """A concrete URL for every GET operation of Features (Part 1, and Part 3's queryables) in the definition."""
    document = openapi(api)
    urls = []
    for template, operations in document["paths"].items():
        if "get" in operations and (template in PART1_PATHS or template.endswith("/queryables")):
            urls += concrete_urls(api, template, "get")
    return sorted(set(urls))


def test_ats_html_definition(api: Api) -> None:
    """/conf/html/definition: every GET operation of Features answers text/html when HTML is asked for."""
    problems = []
    admin = api.atlas.headers("admin")
    for url in _get_operations(api):
        for request in ({"params": {"f": "html"}, "headers": admin},
                        {"headers": {**admin, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}}):
            response = api.client.get(url, **request)
            if response.status_code != 200 or media_type(response) != HTML:
                problems.append(f"GET {url} {request.get('params', '')} {request['headers'].get('Accept', '')} -> "
                                f"{response.status_code} {response.headers.get('content-type')}")
    page = api.get("/api.html")
    assert page.status_code == 200 and media_type(page) == HTML
    assert not problems, "\n".join(problems)


def test_ats_html_content(api: Api) -> None:
    """/conf/html/content: HTML 5 pages carrying the information and every link of the JSON answer.

    Every page parses as HTML 5 without tree-construction errors, has a title, shows the
    resource's information (titles, descriptions, conformance classes, feature ids, numbers,
    property values), has an ``<a>`` for every link of the JSON answer (the same target in any
    encoding), and every ``<a>`` to this server answers 200. Every text/html link of the JSON
    answers resolves to an HTML page.
    """
    commons = api.json("/collections/commons/items", {"limit": 5})
    feature = commons["features"][0]
    parcel = api.json("/collections/parcels/items", {"limit": 1})["features"][0]
    resources: list[tuple[str, dict[str, Any], list[str]]] = [
        ("/", {}, []), ("/conformance", {}, []), ("/collections", {}, []),
        ("/collections/commons", {}, []), ("/collections/parcels", {}, []),
        ("/collections/commons/items", {"limit": 5}, []),
        ("/collections/parcels/items", {"limit": 20, "offset": 20}, []),
        (f"/collections/commons/items/{feature['id']}", {}, []),
        (f"/collections/parcels/items/{parcel['id']}", {}, []), ("/collections/commons/queryables", {}, []),
    ]
    problems: list[str] = []
    checked: set[str] = set()
    for path, params, _ in resources:
        body = api.json(path, params)
        page = html_page(api, path, {**params, "f": "html"}, problems)
        text = " ".join(page.text)
        information: list[str] = []
        if path == "/":
            information += [body["title"], body["description"]]
        if path == "/conformance":
            information += body["conformsTo"]
        if path == "/collections":
            information += [c["title"] for c in body["collections"]]
        if path.count("/") == 2 and path.startswith("/collections/"):
            information += [body["title"], body["description"]]
        if path.endswith("/items"):
            information += [str(f["id"]) for f in body["features"]]
            information += [str(body["numberMatched"]), str(body["numberReturned"])]
        if "/items/" in path:
            information += [str(body["id"])] + [str(v) for v in body["properties"].values()
                                                if v is not None and not isinstance(v, dict | list | bool)]
        if path.endswith("/queryables"):
            information += list(body["properties"])
        for item in information:
            if item not in text:
                problems.append(f"{path}?f=html does not show {item!r}")
        targets = {same_resource(api.url, h) for h in page.hrefs}
        json_links = list(body.get("links", []))
        for collection in body.get("collections", []):
            json_links += collection.get("links", [])
        for link in json_links:
            if same_resource(api.url, link["href"]) not in targets:
                problems.append(f"{path}?f=html has no <a> for the link {link['rel']} {link['href']}")
            if link.get("type") == HTML and link["href"] not in checked:
                checked.add(link["href"])
                response = api.get(link["href"])
                if response.status_code != 200 or media_type(response) != HTML:
                    problems.append(f"text/html link {link['href']} -> {response.status_code}")
        for href in page.hrefs:
            absolute = urljoin(api.url + path, href)
            if absolute.startswith(api.url) and absolute not in checked:
                checked.add(absolute)
                response = api.get(absolute)
                if response.status_code != 200:
                    problems.append(f"{path}?f=html links {href} -> {response.status_code}")
    for path, params in (("/api.html", {}), ("/api", {"f": "html"})):
        page = html_page(api, path, params, problems)
        for template in openapi(api)["paths"]:
            if template not in " ".join(page.text):
                problems.append(f"{path} does not show {template}")
    assert not problems, "\n".join(problems)


# ========================================================================================================
# A.5 Conformance class OpenAPI 3.0
# ========================================================================================================
@dataclass
class Call:
    """One request of the API definition's operations, as it went."""

    method: str
    template: str
    url: str
    status: int
    content_type: str
    body: Any


def _documented(document: dict[str, Any], call: Call) -> tuple[bool, dict[str, Any] | None]:
    """Whether the status is documented for the operation, and the documented content of the answer's type."""
    responses = document["paths"][call.template][call.method.lower()]["responses"]
    answer = responses.get(str(call.status)) or responses.get(f"{str(call.status)[0]}XX") or responses.get("default")
    if answer is None:
        return False, None
    answer = resolve(document, answer)
    content = answer.get("content")
    if not content:
        return True, {} if not call.content_type else None
    got = call.content_type.replace(" ", "").lower()
    for kind, media in content.items():
        kind = kind.replace(" ", "").lower()
        if got == kind or got.split(";")[0] == kind or (kind.split(";")[0] == got.split(";")[0] and ";" not in got):
            return True, media
    return True, None


def _exercise(api: Api) -> list[Call]:
    """Requests that make every operation answer its successes and the errors the server can give.

    For every operation of the definition: a valid call (anonymous and with the
    administrator's key), a bad key, each path parameter in turn replaced by one that does not
    exist, a bad ``f``; for writes, no key, a key whose role may not write, a body of the wrong
    type, broken JSON, a body over the limit; then particular cases (stale If-Match, a layer
    that cannot be edited, ...).
    """
    document = openapi(api)
    admin, signed_in = api.atlas.headers("admin"), api.atlas.headers("signed_in")
    bad_key = {"Authorization": "Bearer not-a-key"}
    plan: list[tuple[str, str, str, dict[str, Any]]] = []
    for template, operations in document["paths"].items():
        for method in operations:
            verb = method.upper()
            for url in concrete_urls(api, template, method):
                missing = [url.replace(v, "nope", 1) for v in url.strip("/").split("/")[1:] if v not in
                           ("items", "tiles", "pacts", "transitions", "comments", "reports", "events", "history",
                            "queryables")]
                if method == "get":
                    plan += [(verb, template, url, {}), (verb, template, url, {"headers": admin}),
                             (verb, template, url, {"headers": bad_key}),
                             (verb, template, url, {"headers": {"Accept": "text/html"}})]
                    plan += [(verb, template, url, {"params": {"f": f}}) for f in ("json", "html", "pdf")]
                    plan += [(verb, template, other, {"headers": admin}) for other in missing]
                    continue
                headers, body = sample_body(api, template, url, method)
                content = {} if method == "delete" else {"content": json.dumps(body)}
                plan += [(verb, template, url, {"headers": headers, **content}),
                         (verb, template, url, {"headers": {**bad_key, **headers}, **content}),
                         (verb, template, url, {"headers": {**signed_in, **headers}, **content})]
                plan += [(verb, template, other, {"headers": {**admin, **headers}, **content}) for other in missing]
                if method != "delete":
                    plan += [(verb, template, url, {"headers": {**admin, "Content-Type": "text/csv"},
                                                    "content": "a,b"}),
                             (verb, template, url, {"headers": {**admin, **headers}, "content": "{"}),
                             (verb, template, url, {"headers": {**admin, **headers},
                                                    "content": b"[" + b"1," * (3 * 1024 * 1024) + b"1]"})]
                if "{feature_id}" in template:
                    plan += [(verb, template, url, {"headers": {**admin, **headers, "If-Match": '"99"'}, **content})]
                plan += [(verb, template, url, {"headers": {**admin, **headers}, **content})]
    items, item = "/collections/{collection_id}/items", "/collections/{collection_id}/items/{feature_id}"
    parcel = api.json("/collections/parcels/items", {"limit": 1})["features"][0]["id"]
    geo = {**admin, "Content-Type": GEOJSON}
    _, point = sample_body(api, items, "", "post")
    plan += [("GET", items, "/collections/parcels/items", {"params": {"limit": 0}}),
             ("GET", items, "/collections/parcels/items", {"params": {"filter": "nope = 1"}}),
             ("POST", items, "/collections/parcels/items", {"headers": geo, "json": point}),
             ("PUT", item, f"/collections/parcels/items/{parcel}", {"headers": geo, "json": point}),
             ("DELETE", item, f"/collections/parcels/items/{parcel}", {"headers": admin}),
             ("PATCH", item, f"/collections/observations/items/{new_observation(api)}",
              {"headers": geo, "json": {"properties": {"value": "many"}}}),
             ("DELETE", item, f"/collections/observations/items/{new_observation(api)}",
              {"headers": {**admin, "If-Match": '"7"'}})]
    calls = []
    for method, template, url, kwargs in plan:
        response = api.client.request(method, url, **kwargs)
        try:
            body = response.json() if response.content and "json" in media_type(response) else response.text
        except ValueError:
            body = response.text
        calls.append(Call(method, template, f"{url}?{urlencode(kwargs.get('params', {}))}", response.status_code,
                          response.headers.get("content-type", ""), body))
    return calls


def test_ats_oas30_completeness(api: Api) -> None:
    """/conf/oas30/completeness: every status and answer the server gives is described for its operation."""
    document = openapi(api)
    calls = _exercise(api)
    statuses = {c.status for c in calls}
    assert {200, 201, 204, 400, 401, 403, 404, 405, 412, 413, 415} <= statuses, statuses
    problems = []
    for call in calls:
        documented, media = _documented(document, call)
        if not documented:
            problems.append(f"{call.method} {call.url} -> {call.status}: status not described for {call.template}")
        elif media is None:
            problems.append(f"{call.method} {call.url} -> {call.status} {call.content_type}: media type not described")
    assert not problems, "\n".join(problems)


def test_ats_oas30_exceptions_codes(api: Api) -> None:
    """/conf/oas30/exceptions-codes: every error the server answers is described, with the body it has."""
    document = openapi(api)
    problems = []
    for call in _exercise(api):
        if call.status < 400:
            continue
        documented, media = _documented(document, call)
        if not documented or media is None:
            problems.append(f"{call.method} {call.url} -> {call.status} {call.content_type}: not described")
            continue
        schema = resolve(document, media.get("schema", {})) if media.get("schema") else None
        assert schema, f"{call.template} {call.status}: no schema for the error"
        validate(call.body, EXCEPTION)
        try:
            jsonschema.validate(call.body, {**schema, "components": document.get("components", {})})
        except jsonschema.ValidationError as error:
            problems.append(f"{call.method} {call.url} -> {call.status}: {error.message}")
    assert not problems, "\n".join(problems)


def test_ats_oas30_oas_definition_1(api: Api) -> None:
    """/conf/oas30/oas-definition-1: the definition in JSON (the OpenAPI 3.0 media type) and as HTML."""
    for request in ({}, {"headers": {"Accept": OPENAPI_JSON}}, {"params": {"f": "json"}}):
        response = api.client.get("/api", **request)
        assert response.status_code == 200
        kind = response.headers["content-type"].replace(" ", "").lower()
        assert kind.split(";")[0] == "application/vnd.oai.openapi+json" and "version=3.0" in kind, kind
        assert response.json()["openapi"].startswith("3.0.")
    landing = api.json("/")
    assert one_link(landing, "service-desc")["type"] == OPENAPI_JSON
    for url in [one_link(landing, "service-doc", HTML)["href"], "/api?f=html"]:
        response = api.get(url)
        assert response.status_code == 200 and media_type(response) == HTML, url


def test_ats_oas30_oas_definition_2(api: Api) -> None:
    """/conf/oas30/oas-definition-2: the JSON definition conforms to OpenAPI 3.0."""
    from openapi_spec_validator import OpenAPIV30SpecValidator

    document = openapi(api)
    assert re.fullmatch(r"3\.0\.\d+", document["openapi"])
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OpenAPIV30SpecValidator(document).iter_errors()]
    assert not errors, errors[:10]


F_MEDIA = {"json": (JSON, GEOJSON, "application/schema+json", "application/vnd.oai.openapi+json"),
           "geojson": (GEOJSON,), "html": (HTML,)}


def test_ats_oas30_oas_impl(api: Api) -> None:
    """/conf/oas30/oas-impl: every path and operation of the definition works as described.

    Each path is built with real collections, features, pacts and tiles; each GET is called
    with each of its query parameters' enumerated values (and defaults, minimums, maximums
    and a sample), and must answer a success it describes, in a media type it describes (an
    ``f`` whose media type no success of the operation has may be refused with a described
    error). Writes are made with the administrator's key, as the security requirements say
    (bearer), with a plausible body, and must succeed.
    """
    document = openapi(api)
    admin = api.atlas.headers("admin")
    problems: list[str] = []
    samples = {"bbox": "104,11,106,13", "datetime": "2025-01-01T00:00:00Z/..", "filter": "version = 1"}
    companions = {"bbox-crs": {"bbox": samples["bbox"]},
                  "filter-crs": {"filter": "S_INTERSECTS(geometry, POINT(104.9 12.5))"},
                  "filter-lang": {"filter": "version = 1"}}
    cql2_json = json.dumps({"op": "=", "args": [{"property": "version"}, 1]})

    def check(method: str, template: str, url: str, response: httpx.Response, success: bool | None) -> None:
        call = Call(method, template, url, response.status_code, response.headers.get("content-type", ""), None)
        documented, media = _documented(document, call)
        allowed = range(200, 300) if success else range(400, 500) if success is False else range(200, 500)
        if not documented or media is None or response.status_code not in allowed:
            problems.append(f"{method} {url} -> {response.status_code} {call.content_type} {response.text[:150]}")

    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            successes = {kind.split(";")[0] for status, answer in operation["responses"].items()
                         if status.startswith("2") for kind in resolve(document, answer).get("content", {})}
            for url in concrete_urls(api, template, method):
                if method in WRITES:
                    headers, body = sample_body(api, template, url, method)
                    response = api.client.request(method.upper(), url, headers={**admin, **headers},
                                                  content=None if method == "delete" else json.dumps(body))
                    check(method.upper(), template, url, response,
                          success=not template.endswith(("/comments", "/reports")))
                    continue
                check("GET", template, url, api.get(url, headers=admin), success=True)
                for parameter in operation.get("parameters", []):
                    parameter = resolve(document, parameter)
                    if parameter["in"] != "query":
                        continue
                    schema = resolve(document, parameter.get("schema", {}))
                    values = list(schema.get("enum", []))
                    values += [schema[k] for k in ("default", "minimum", "maximum") if k in schema]
                    if parameter["name"] in samples:
                        values.append(samples[parameter["name"]])
                    for value in values:
                        params = {**companions.get(parameter["name"], {}), parameter["name"]: value}
                        if parameter["name"] == "filter-lang" and value == "cql2-json":
                            params["filter"] = cql2_json
                        # an f whose media type no success has: a described error, or a described success
                        success = True if parameter["name"] != "f" or set(F_MEDIA.get(value, ())) & successes else None
                        check("GET", template, f"{url}?{urlencode(params)}", api.get(url, params, headers=admin),
                              success)
    assert not problems, "\n".join(problems)


def test_ats_oas30_oas_impl_format_values(api: Api) -> None:
    """/conf/oas30/oas-impl: every value the definition enumerates for ``f`` is one the operation serves.

    An operation whose ``f`` lists ``html`` or ``geojson`` but which answers only JSON (and
    refuses the others with 400 or 406) describes a capability it does not have: give each
    operation the ``f`` values it serves.
    """
    document = openapi(api)
    admin = api.atlas.headers("admin")
    problems = []
    for template, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        formats = [resolve(document, p) for p in operation.get("parameters", []) if resolve(document, p)["name"] == "f"]
        if not formats:
            continue
        url = concrete_urls(api, template, "get")[0]
        for value in resolve(document, formats[0].get("schema", {})).get("enum", []):
            response = api.get(url, {"f": value}, headers=admin)
            if not 200 <= response.status_code < 300:
                problems.append(f"GET {url}?f={value} -> {response.status_code} {response.text[:120]}")
    assert not problems, "\n".join(problems)


def test_ats_oas30_oas_impl_request_bodies(api: Api) -> None:
    """/conf/oas30/oas-impl: operations that need a body describe it (requestBody), with its media types.

    POST, PUT and PATCH on features answer 415 without a GeoJSON body: an operation called
    exactly as described (no body) can never succeed, and no client can learn what to send.
    """
    document = openapi(api)
    missing = []
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch"):
                body = resolve(document, operation.get("requestBody", {}))
                kinds = {GEOJSON, JSON, "application/merge-patch+json"}
                if not body.get("content") or not kinds & set(body["content"]):
                    missing.append(f"{method.upper()} {template}")
    assert not missing, f"no requestBody described: {missing}"


def test_ats_oas30_security(api: Api) -> None:
    """/conf/oas30/security: every authentication the API takes is a security scheme, used by its operations.

    The server takes ``Authorization: Bearer <key>`` and ``X-API-Key: <key>``, on every
    operation (reads show a key holder what anonymous viewers do not see, and refuse a bad
    key with 401).
    """
    document = openapi(api)
    schemes = document.get("components", {}).get("securitySchemes", {})
    admin_key = api.atlas.keys["admin"]
    assert api.get("/collections/commons/items", {"limit": 1000},
                   headers={"X-API-Key": admin_key}).json()["numberMatched"] > \
        api.json("/collections/commons/items", {"limit": 1000})["numberMatched"]
    problems = []
    if not any(s.get("type") == "http" and s.get("scheme", "").lower() == "bearer" for s in schemes.values()):
        problems.append("no http bearer security scheme")
    if not any(s.get("type") == "apiKey" and s.get("in") == "header" and s.get("name", "").lower() == "x-api-key"
               for s in schemes.values()):
        problems.append("the X-API-Key header is accepted but described by no security scheme")
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            requirements = operation.get("security", document.get("security"))
            if template.startswith("/collections/{collection_id}/items") and not requirements:
                problems.append(f"{method.upper()} {template} takes keys but has no security requirement")
    assert not problems, "\n".join(problems)
