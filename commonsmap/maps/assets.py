"""Leaflet and its plugins, bundled, so folium maps make no request to the internet.

folium links its JavaScript and CSS from CDNs. :func:`offline_html` rewrites a rendered
folium page so that each such link is either inlined (one standalone file) or points
at a local base URL where the web layer serves :data:`ASSET_DIR` with :func:`asset_file`.
The bundled files are listed, with versions and licences, in ``static/README.md``.
"""

from __future__ import annotations

import base64
import posixpath
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import folium

from commonsmap.errors import InvalidInputError, NotFoundError

ASSET_DIR: Path = Path(__file__).parent / "static"

#: (package, file name) as they appear in a CDN URL -> path of the bundled file in ASSET_DIR.
#: The package may carry a version (``leaflet@1.9.3``) or be followed by one (cdnjs);
#: a ``.min`` name maps to the file npm ships when npm has no minified one (and the reverse).
KNOWN_ASSETS: dict[tuple[str, str], str] = {
    ("leaflet", "leaflet.js"): "leaflet/leaflet.js",
    ("leaflet", "leaflet.css"): "leaflet/leaflet.css",
    ("leaflet.fullscreen", "Control.FullScreen.min.js"): "leaflet.fullscreen/Control.FullScreen.js",
    ("leaflet.fullscreen", "Control.FullScreen.js"): "leaflet.fullscreen/Control.FullScreen.js",
    ("leaflet.fullscreen", "Control.FullScreen.css"): "leaflet.fullscreen/Control.FullScreen.css",
    ("leaflet-measure", "leaflet-measure.min.js"): "leaflet-measure/leaflet-measure.min.js",
    ("leaflet-measure", "leaflet-measure.js"): "leaflet-measure/leaflet-measure.min.js",
    ("leaflet-measure", "leaflet-measure.min.css"): "leaflet-measure/leaflet-measure.css",
    ("leaflet-measure", "leaflet-measure.css"): "leaflet-measure/leaflet-measure.css",
    ("leaflet.locatecontrol", "L.Control.Locate.min.js"): "leaflet.locatecontrol/L.Control.Locate.min.js",
    ("leaflet.locatecontrol", "L.Control.Locate.min.css"): "leaflet.locatecontrol/L.Control.Locate.min.css",
    ("leaflet-locatecontrol", "L.Control.Locate.min.js"): "leaflet.locatecontrol/L.Control.Locate.min.js",
    ("leaflet-locatecontrol", "L.Control.Locate.min.css"): "leaflet.locatecontrol/L.Control.Locate.min.css",
    ("leaflet-search", "leaflet-search.min.js"): "leaflet-search/lib/leaflet-search.min.js",
    ("leaflet-search", "leaflet-search.min.css"): "leaflet-search/lib/leaflet-search.min.css",
    ("leaflet.vectorgrid", "Leaflet.VectorGrid.bundled.js"): "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    ("leaflet.vectorgrid", "Leaflet.VectorGrid.bundled.min.js"): "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
}

# folium's Popup builds its content with `$(html)[0]` and Map(objects_to_stay_in_front) calls
# `$(document).ready(f)`: the only jQuery a map needs once jQuery is dropped. Defined only if absent.
_DOLLAR_SHIM = """<script>
window.$ = window.$ || function (x) {
  if (typeof x === "string") {
    var t = document.createElement("template");
    t.innerHTML = x.trim();
    return Array.prototype.slice.call(t.content.childNodes);
  }
  return {ready: function (f) {
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", f); } else { f(); }
  }};
};
</script>"""

# Leaflet finds its default marker images through the CSS url(); a data: URI defeats that.
_MARKER_IMAGES = {"iconUrl": "marker-icon.png", "iconRetinaUrl": "marker-icon-2x.png", "shadowUrl": "marker-shadow.png"}

_IMAGE_TYPES = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml"}
_REMOTE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_FETCHING_RELS = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest"}


def asset_file(relative: str) -> Path:
    """The bundled file at a path relative to :data:`ASSET_DIR`.

    Parameters
    ----------
    relative : str
        A path such as ``"leaflet/leaflet.js"``, with forward slashes.

    Returns
    -------
    Path
        The file, inside ASSET_DIR.

    Raises
    ------
    InvalidInputError
        If the path is absolute or leads outside ASSET_DIR.
    NotFoundError
        If no bundled file has that path.
    """
    plain = relative and not relative.startswith("/") and not any(c in relative for c in "\\:\x00")
    if not plain or ".." in PurePosixPath(relative).parts:
        raise InvalidInputError(f"map asset path {relative!r} is not a plain relative path inside the bundle")
    root = ASSET_DIR.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise InvalidInputError(f"map asset path {relative!r} leads outside the bundle")
    if not path.is_file():
        raise NotFoundError(f"no bundled map asset {relative!r}")
    return path


def asset_for_url(url: str) -> str | None:
    """The bundled file standing for a CDN URL, if there is one.

    Parameters
    ----------
    url : str
        An http(s) or protocol-relative URL, as folium writes it.

    Returns
    -------
    str or None
        The path relative to ASSET_DIR, or None if the URL is not a known asset.
    """
    if not _REMOTE.match(url):
        return None
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if not segments:
        return None
    packages = {s.split("@", 1)[0].lower() for s in segments[:-1]}
    for package in packages:
        found = KNOWN_ASSETS.get((package, segments[-1]))
        if found is not None:
            return found
    return None


def strip_unused_defaults(m: folium.Map) -> None:
    """Keep only Leaflet among the map's default assets.

    jQuery, Bootstrap, Glyphicons, Font Awesome and the awesome-markers files are dropped
    (so ``folium.Icon`` markers are not supported). The two uses of ``$`` in folium's own
    templates (Popup content, ``objects_to_stay_in_front``) are covered by a tiny inline
    shim added to the page header, defined only if the page has no ``$``.

    Parameters
    ----------
    m : folium.Map
        The map; its instance attributes are changed, the class is not.
    """
    m.default_js = [(name, url) for name, url in folium.Map.default_js if name == "leaflet"]
    m.default_css = [(name, url) for name, url in folium.Map.default_css if name == "leaflet_css"]
    root = m.get_root()
    if isinstance(root, folium.Figure):
        root.header.add_child(folium.Element(_DOLLAR_SHIM), name="commonsmap_dollar_shim")


def offline_html(html: str, *, base_url: str | None = None) -> str:
    """Rewrite a rendered folium page so that its scripts and stylesheets need no internet.

    Parameters
    ----------
    html : str
        The page, as ``m.get_root().render()`` returns it.
    base_url : str, optional
        Where ASSET_DIR is served (e.g. ``"/static/maps"``). If None, every asset is
        inlined, CSS images as ``data:`` URIs, and the page is a single standalone file.

    Returns
    -------
    str
        The page; folium's inline scripts and all other markup are left as they are.

    Raises
    ------
    InvalidInputError
        If a script or stylesheet comes from an http(s) or ``//`` URL that is not bundled.
    """
    scanner = _TagScanner()
    scanner.feed(html)
    scanner.close()
    out: list[str] = []
    done = 0
    for start, end, kind, url in scanner.found:
        relative = asset_for_url(url)
        if relative is None:
            if _REMOTE.match(url):
                raise InvalidInputError(f"the map loads {url} from the internet and it is not a bundled asset")
            continue
        out.append(html[done:start])
        out.append(_replacement(kind, relative, base_url))
        done = end
    out.append(html[done:])
    return "".join(out)


def _replacement(kind: str, relative: str, base_url: str | None) -> str:
    if base_url is not None:
        url = escape(f"{base_url.rstrip('/')}/{relative}", quote=True)
        return f'<script src="{url}"></script>' if kind == "script" else f'<link rel="stylesheet" href="{url}"/>'
    text = asset_file(relative).read_text(encoding="utf-8")
    if kind == "script":
        extra = _leaflet_marker_fix() if relative == KNOWN_ASSETS[("leaflet", "leaflet.js")] else ""
        return _script(text) + extra
    css = re.sub(r"</(style)", r"<\\/\1", _inline_css_images(text, relative), flags=re.IGNORECASE)
    return f"<style>\n{css}\n</style>"


def _script(code: str) -> str:
    """A script element for inline code; a ``</script`` inside cannot end it early."""
    return "<script>\n" + re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE) + "\n</script>"


def _inline_css_images(css: str, css_relative: str) -> str:
    def to_data(match: re.Match[str]) -> str:
        target = match.group(2).strip()
        if target.startswith(("data:", "#")) or _REMOTE.match(target):
            return match.group(0)
        relative = posixpath.normpath(posixpath.join(posixpath.dirname(css_relative), target))
        inside = not relative.startswith("..") and (ASSET_DIR / relative).is_file()
        return f'url("{_data_uri(relative)}")' if inside else match.group(0)

    return _CSS_URL.sub(to_data, css)


def _data_uri(relative: str) -> str:
    mime = _IMAGE_TYPES.get(PurePosixPath(relative).suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(asset_file(relative).read_bytes()).decode('ascii')}"


def _leaflet_marker_fix() -> str:
    options = ",".join(f'{key}:"{_data_uri("leaflet/images/" + name)}"' for key, name in _MARKER_IMAGES.items())
    return "\n" + _script(f"L.Icon.Default.imagePath = ''; L.Icon.Default.mergeOptions({{{options}}});")


class _TagScanner(HTMLParser):
    """Finds each script with a src and each fetching link, with its span in the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, int, str, str]] = []  # (start, end, "script" or "link", URL)
        self._open_script: tuple[int, str] | None = None
        self._line_starts = [0]
        self._data = ""

    def feed(self, data: str) -> None:
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", data)]
        self._data = data
        super().feed(data)

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        start = self._offset()
        end = start + len(self.get_starttag_text() or "")
        if tag == "script" and values.get("src"):
            self._open_script = (start, values["src"].strip())
        elif tag == "link" and values.get("href") and _FETCHING_RELS & set(values.get("rel", "").lower().split()):
            self.found.append((start, end, "link", values["href"].strip()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self._open_script is not None:  # <script src="…"/>: the element is the tag itself
            start, url = self._open_script
            self.found.append((start, start + len(self.get_starttag_text() or ""), "script", url))
            self._open_script = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open_script is not None:
            start, url = self._open_script
            end = self._data.index(">", self._offset()) + 1
            self.found.append((start, end, "script", url))
            self._open_script = None
