"""The API description in OpenAPI 3.0, as OGC API – Features asks (FastAPI writes 3.1).

FastAPI's schema is rewritten once: ``openapi: 3.0.3``; JSON Schema 2020-12 constructs that
3.0 lacks (``anyOf`` with ``null``, ``const``, ``examples``) turned into their 3.0 forms;
the OGC query parameters declared with their schemas and ``style: form, explode: false``;
and every operation documented with the errors it answers (400, 404, ...), as OGC
exceptions.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.settings import Settings

EXCEPTION_SCHEMA = {"type": "object", "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}
ERRORS = {"400": "Bad request: a parameter or the body is wrong", "401": "An API key is needed or is not valid",
          "403": "The key's role may not do this", "404": "No such resource (or none you may see)",
          "405": "Not allowed on this resource", "406": "Format not available", "409": "Conflict with the state",
          "412": "The feature changed since your ETag", "413": "Request body too large",
          "415": "Unsupported body type", "500": "Server error"}
READ_ERRORS = ("400", "401", "404", "406", "500")
OPERATIONS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}
"""``(METHOD, path)`` → (OGC query parameters, media types of the success answer); see :func:`document`."""


def document(method: str, path: str, *, params: tuple[str, ...] = ("f",),
             types: tuple[str, ...] = ("application/json", "text/html")) -> None:
    """Declare an operation's OGC query parameters and the media types it answers with."""
    OPERATIONS[(method.upper(), path)] = (params, types)
WRITE_ERRORS = ("400", "401", "403", "404", "405", "409", "412", "413", "415", "500")


def _params(settings: Settings) -> dict[str, dict[str, Any]]:
    form = {"in": "query", "required": False, "style": "form", "explode": False}
    return {
        "limit": {**form, "name": "limit", "description": "How many features per page.",
                  "schema": {"type": "integer", "minimum": 1, "maximum": settings.max_limit,
                             "default": settings.default_limit}},
        "offset": {**form, "name": "offset", "description": "How many matching features to skip.",
                   "schema": {"type": "integer", "minimum": 0, "default": 0}},
        "bbox": {**form, "name": "bbox", "description": "minx,miny,maxx,maxy in CRS84 (longitude, latitude).",
                 "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
        "bbox-crs": {**form, "name": "bbox-crs", "schema": {"type": "string", "format": "uri",
                                                            "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]}},
        "datetime": {**form, "name": "datetime", "description": "An instant or an interval (start/end, '..' open).",
                     "schema": {"type": "string"}},
        "filter": {**form, "name": "filter", "description": "A CQL2 filter.", "schema": {"type": "string"}},
        "filter-lang": {**form, "name": "filter-lang", "schema": {"type": "string",
                                                                  "enum": ["cql2-text", "cql2-json"]}},
        "filter-crs": {**form, "name": "filter-crs", "schema": {"type": "string", "format": "uri",
                                                                "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]}},
        "f": {**form, "name": "f", "description": "The format of the answer.",
              "schema": {"type": "string", "enum": ["json", "geojson", "html"]}},
        "crs": {**form, "name": "crs", "description": "The CRS of the answer: CRS84 only.",
                "schema": {"type": "string", "format": "uri", "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]}},
    }


def _format_param(parameter: dict[str, Any], types: tuple[str, ...]) -> dict[str, Any]:
    """The ``f`` parameter offering exactly the formats the operation answers in."""
    formats = ["json"] + (["geojson"] if "application/geo+json" in types else []) + \
        (["html"] if "text/html" in types else [])
    return {**parameter, "schema": {"type": "string", "enum": formats}}


def _queryable_params(app: FastAPI) -> dict[str, dict[str, Any]]:
    """``property=value`` filters: one parameter per queryable of any collection (named in the items operation)."""
    from commonsmap.query import queryables_of

    catalogue = app.state.atlas.catalogue
    owners: dict[str, list[str]] = {}
    for layer in catalogue:
        for name, queryable in queryables_of(catalogue[layer]).items():
            if queryable.type != "geometry":
                owners.setdefault(name, []).append(layer)
    return {f"queryable:{name}": {"in": "query", "name": name, "required": False, "style": "form", "explode": False,
                                  "description": f"Only features whose {name} equals this value (collections "
                                                 f"{', '.join(layers)}; refused elsewhere).",
                                  "schema": {"type": "string"}} for name, layers in sorted(owners.items())}


def _request_body(path: str, method: str) -> dict[str, Any]:
    """The body a write takes: a GeoJSON Feature on items, a JSON object on pact actions."""
    feature = {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
        "geometry": {"type": "object", "nullable": True}, "properties": {"type": "object", "nullable": True}}}
    if path.endswith("/items") or path.endswith("/items/{feature_id}"):
        types = ["application/geo+json", "application/json"] + (["application/merge-patch+json"]
                                                                if method == "patch" else [])
        return {"required": True, "content": {t: {"schema": feature} for t in types}}
    return {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}


def _downgrade(node: Any) -> Any:
    """JSON Schema 2020-12 → the OpenAPI 3.0 schema dialect."""
    if isinstance(node, list):
        return [_downgrade(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _downgrade(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            out.pop(key)
            if len(rest) == 1:
                out.update(rest[0])
            else:
                out[key] = rest
            out["nullable"] = True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "examples" in out and isinstance(out["examples"], list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    out.pop("$schema", None)
    return out


def openapi_30(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The app's OpenAPI 3.0 description (built once, then kept)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schema = _downgrade(schema)
    schema["openapi"] = "3.0.3"
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["exception"] = EXCEPTION_SCHEMA
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "An API key made with `commonsmap keys add`."},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                         "description": "The same API key, in a header of its own."}}
    params = {**_params(settings), **_queryable_params(app)}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            declared, types = OPERATIONS.get((method.upper(), path), ((), ()))
            if "properties" in declared:
                declared = tuple(n for n in declared if n != "properties") + tuple(
                    k for k in params if k.startswith("queryable:") and k.split(":", 1)[1] not in declared)
            operation.setdefault("parameters", []).extend(_format_param(params[n], types) if n == "f" else params[n]
                                                          for n in declared if n not in names)
            responses = operation.setdefault("responses", {})
            for status, answer in responses.items():
                if status.startswith("2") and status != "204":
                    answer["content"] = {t: {"schema": {}} for t in types or ("application/json",)}
                elif status == "204":
                    answer.pop("content", None)
            responses.pop("422", None)
            codes = WRITE_ERRORS if method in ("post", "put", "patch", "delete") else READ_ERRORS
            for code in codes:
                responses.setdefault(code, {"description": ERRORS[code], "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}})
            writes = method in ("post", "put", "patch", "delete")
            # reads work without a key (anonymous) and show more with one
            operation["security"] = ([] if writes else [{}]) + [{"bearer": []}, {"apiKeyHeader": []}]
            if method in ("post", "put", "patch") and "requestBody" not in operation:
                operation["requestBody"] = _request_body(path, method)
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    app.openapi_schema = schema
    return schema
