"""The extent of what a viewer may see of a layer: never the extent of features hidden from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commonsmap.atlas.store import Bbox, Selection
from commonsmap.privacy import Viewer, prefilter_is_exact, sql_prefilter

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas


def _union(boxes: list[Bbox]) -> Bbox | None:
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def visible_extent(atlas: Atlas, layer: str, viewer: Viewer) -> Bbox | None:
    """Bounds (in the atlas CRS) of the features of ``layer`` that ``viewer`` sees, whole or generalised.

    Returns None for a layer without geometry or with nothing visible.
    """
    spec = atlas.catalogue[layer]
    if not spec.is_spatial:
        return None
    boxes: list[Bbox] = []
    if prefilter_is_exact(viewer):
        found = atlas.store.selected_bounds(layer, Selection(sql_prefilter(spec, viewer)))
        if found is not None:
            boxes.append(found)
        if not viewer.sees_everything:
            coarse = atlas.generalised(layer, viewer)
            if len(coarse) and coarse.geometry.notna().any():
                boxes.append(tuple(float(v) for v in coarse.geometry.total_bounds))  # type: ignore[arg-type]
    else:
        frame = atlas.layer(layer, viewer=viewer)
        if len(frame) and frame.geometry.notna().any():
            boxes.append(tuple(float(v) for v in frame.geometry.total_bounds))  # type: ignore[arg-type]
    return _union(boxes)
