"""A feature's history over HTTP: every write to it, as the viewer may see it.

The history of a feature is served only to a viewer who may see the feature now (else 404,
exactly as for a missing one). Each entry gives its operation, time, author, note and the
feature's state before and after it; a state the viewer may not see (its sensitivity, or the
parties holding it, then) is replaced by null and the entry flagged ``"withheld": true``,
with its note, which may tell what was hidden. The author (``who``) is shown only to viewers
who are signed in. An insert records no state of its own: its ``after`` is the state the
next write found, or the feature as it is now.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import pandas as pd
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.crs import CrsBridge
from api.deps import AtlasDep, ViewerDep
from api.geojson import GEOJSON, JSON, dumps
from api.html import render, wants_html
from api.links import link, root, self_links, url
from api.openapi import document
from api.params import check_known
from commonsmap.catalogue import LayerSpec
from commonsmap.errors import NotFoundError
from commonsmap.features import feature, json_ready
from commonsmap.privacy import Viewer, row_access

CONFORMANCE: tuple[str, ...] = ()
PATH = "/collections/{collection_id}/items/{feature_id}/history"
QUIET = frozenset({"updated", "version"})
"""Fields every write changes: not listed among an entry's changes."""

document("GET", PATH, params=("f",), types=(JSON, "text/html"))

router = APIRouter(tags=["Data"])


def visible_state(state: dict[str, Any] | None, spec: LayerSpec, viewer: Viewer) -> bool:
    """Whether ``viewer`` may see a past state of a feature of ``spec`` whole (by the rules of privacy).

    Parameters
    ----------
    state : dict or None
        The feature's fields then (``None``: there was none).
    spec : LayerSpec
        The feature's layer.
    viewer : Viewer
        Who is looking.

    Returns
    -------
    bool
        True for a state the viewer may see (or no state at all).
    """
    if state is None:
        return True
    frame = pd.DataFrame([{k: v for k, v in state.items() if k != "geometry"}])
    return bool(row_access(frame, spec, viewer)[0][0])


def _state_json(state: dict[str, Any] | None, bridge: CrsBridge) -> dict[str, Any] | None:
    if state is None:
        return None
    body = {k: json_ready(v) for k, v in state.items() if k != "geometry"}
    if "geometry" in state:
        shape = state["geometry"]
        body["geometry"] = None if shape is None else orjson.Fragment(shapely.to_geojson(bridge.to_crs84([shape])[0]))
    return body


def _changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    if after is None:
        return []
    names = [n for n in after if n not in QUIET]
    if before is None:
        return [n for n in names if after[n] is not None]
    return [n for n in names if n != "geometry" and json_ready(before.get(n)) != json_ready(after[n])] + \
        (["geometry"] if "geometry" in after and not _same_shape(before.get("geometry"), after["geometry"]) else [])


def _same_shape(one: Any, other: Any) -> bool:
    if one is None or other is None:
        return one is other
    return bool(shapely.equals_exact(one, other, 0.0))


def history_entries(frame: pd.DataFrame, current: dict[str, Any] | None, spec: LayerSpec, viewer: Viewer,
                    bridge: CrsBridge) -> list[dict[str, Any]]:
    """The entries of a feature's history (``Atlas.history``) as ``viewer`` may read them, oldest first.

    Parameters
    ----------
    frame : DataFrame
        The feature's history, oldest first.
    current : dict or None
        The feature now (the state after its last insert, when nothing changed it since).
    spec : LayerSpec
        The feature's layer.
    viewer : Viewer
        Who is looking.
    bridge : CrsBridge
        To give geometries in CRS84.

    Returns
    -------
    list of dict
        ``op``, ``at``, ``who``, ``note``, ``before``, ``after``, ``changed``, ``withheld`` and
        ``withheld_states`` of each entry.
    """
    rows = frame.to_dict("records")
    signed_in = "internal" in viewer.levels()
    entries = []
    for index, row in enumerate(rows):
        states = {"before": row["before"], "after": row["after"]}
        if row["op"] == "insert" and states["after"] is None:
            states["after"] = rows[index + 1]["before"] if index + 1 < len(rows) else current
        hidden = [side for side, state in states.items() if not visible_state(state, spec, viewer)]
        for side in hidden:
            states[side] = None
        entries.append({
            "op": row["op"], "at": json_ready(row["at"]), "who": json_ready(row["who"]) if signed_in else None,
            "note": None if hidden else json_ready(row["note"]),
            "before": _state_json(states["before"], bridge), "after": _state_json(states["after"], bridge),
            "changed": None if hidden else _changed(states["before"], states["after"]),
            "withheld": bool(hidden), "withheld_states": hidden})
    return entries


def _html_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for entry in entries:
        before, after = entry["before"] or {}, entry["after"] or {}
        changes = [{"field": n, "before": "" if n == "geometry" else before.get(n, ""),
                    "after": "(changed)" if n == "geometry" else after.get(n)} for n in entry["changed"] or []]
        rows.append({**entry, "changes": changes})
    return rows


@router.get(PATH, summary="A feature's history", response_model=None)
def history(request: Request, collection_id: str, feature_id: str, atlas: AtlasDep, viewer: ViewerDep,
            limit: Annotated[int | None, Query(ge=1, description="Only the last N entries.")] = None) -> Response:
    """Every write to the feature, oldest first, with the states you may see (``limit``: the last N)."""
    check_known(request.query_params, {"f", "limit"})
    spec = atlas.spec(collection_id)
    if feature(atlas, collection_id, feature_id, viewer)[2]:  # generalised: its history would locate it
        raise NotFoundError(f"no feature {feature_id!r} in layer {collection_id!r}")
    frame = atlas.history(collection_id, feature_id)
    entries = history_entries(frame, atlas.store.get(collection_id, feature_id), spec, viewer,
                              request.app.state.crs_bridge)
    entries = entries[-limit:] if limit else entries
    html = wants_html(request)
    item = f"/collections/{collection_id}/items/{feature_id}"
    links = [*self_links(request, item + "/history", JSON, html, {"limit": limit}),
             link(url(request, item), "related", GEOJSON, "the feature")]
    if html:
        return render(request, "history.html", title=f"History of {spec.title()}: {feature_id}", root=root(request),
                      links=links, entries=_html_rows(entries), feature_href=url(request, item, {"f": "html"}))
    body = {"collection": collection_id, "id": feature_id, "entries": entries, "numberReturned": len(entries),
            "links": links}
    return Response(dumps(body), media_type=JSON)
