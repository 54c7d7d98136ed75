"""HTML pages of the API, from Jinja2 templates (every value escaped), and content negotiation."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from api.errors import ApiError

HTML = "text/html"


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("api", "templates"), autoescape=select_autoescape(default=True))


def wants_html(request: Request) -> bool:
    """Whether the answer should be HTML: ``f=html``, or a browser's Accept header and no ``f``."""
    fmt = request.query_params.get("f")
    if fmt is not None:
        if fmt not in ("json", "geojson", "html"):
            raise ApiError(400, "InvalidParameterValue", "f must be json, geojson or html")
        return fmt == "html"
    accept = request.headers.get("accept", "")
    return HTML in accept and "json" not in accept.split(HTML)[0]


def render(request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    """A page from ``api/templates``."""
    page = _environment().get_template(template).render(request=request, **context)
    return HTMLResponse(page, status_code=status, headers=headers)
