"""Links of OGC API answers: self, alternate formats, paging."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"


def root(request: Request) -> str:
    """The server's base URL, without a trailing slash (honours a mount point)."""
    return str(request.base_url).rstrip("/")


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, Any]:
    """One link object."""
    body: dict[str, Any] = {"href": href, "rel": rel, "type": media_type}
    if title:
        body["title"] = title
    return body


def url(request: Request, path: str, params: dict[str, Any] | None = None) -> str:
    """An absolute URL on this server."""
    query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
    return f"{root(request)}{path}" + (f"?{query}" if query else "")


def self_links(request: Request, path: str, json_type: str = JSON, html: bool = False,
               params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """``self`` and ``alternate`` links of a resource in JSON and HTML."""
    params = dict(params or {})
    as_json = link(url(request, path, {**params, "f": "json" if json_type == JSON else "geojson"}),
                   "alternate" if html else "self", json_type, "this document as JSON")
    as_html = link(url(request, path, {**params, "f": "html"}), "self" if html else "alternate", HTML,
                   "this document as HTML")
    return [as_html, as_json] if html else [as_json, as_html]
