"""The store interface: what every storage backend of an atlas provides.

Callers (the :class:`~commonsmap.atlas.atlas.Atlas`, the CLI, the web layer) only use this
interface, so a PostGIS store can stand beside the GeoPackage one without touching them.
Stores receive frames that :mod:`commonsmap.validation` has already checked and normalised.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from commonsmap.catalogue import Catalogue

Row = dict[str, Any]
Bbox = tuple[float, float, float, float]


def bbox_parts(bbox: Bbox) -> list[Bbox]:
    """The box, or its two halves when its west edge lies east of its east edge (across the antimeridian).

    Raises
    ------
    ValueError
        If its south edge lies north of its north edge.
    """
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if miny > maxy:
        raise ValueError(f"bbox {tuple(bbox)} has its south edge north of its north edge; give minx, miny, maxx, maxy")
    if minx > maxx:
        return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    return [(minx, miny, maxx, maxy)]


@dataclass(frozen=True)
class Selection:
    """Which rows of a layer to read: a condition in the store's SQL with its parameters, and a bbox.

    ``where`` is trusted code (built by :mod:`commonsmap.query` and :mod:`commonsmap.privacy`,
    never user text); user values travel only in ``params``. A ``bbox`` keeps the features
    whose geometry intersects it (the spatial index first, then an exact test).
    """

    where: str | None = None
    params: tuple[Any, ...] = ()
    bbox: Bbox | None = None

    def narrowed(self, where: str | None, params: tuple[Any, ...] = ()) -> Selection:
        """Return the selection narrowed by one more condition."""
        if not where:
            return self
        joined = f"({self.where}) AND ({where})" if self.where else where
        return Selection(joined, self.params + tuple(params), self.bbox)


@dataclass(frozen=True)
class WriteContext:
    """Who writes, when, and why: recorded in the history of every row the write touches."""

    who: str | None
    at: pd.Timestamp
    changeset: str
    note: str | None = None


class StoreTransaction(ABC):
    """Writes that commit together or not at all."""

    context: WriteContext

    @abstractmethod
    def insert(self, layer: str, frame: gpd.GeoDataFrame | pd.DataFrame) -> int:
        """Insert validated rows; return how many were written."""

    @abstractmethod
    def get(self, layer: str, feature_id: str) -> Row | None:
        """Return one row as the transaction sees it, or None."""

    @abstractmethod
    def existing_ids(self, layer: str, ids: list[str]) -> set[str]:
        """Return those of ``ids`` that are in the layer, as the transaction sees it."""

    @abstractmethod
    def find(self, layer: str, field: str, values: list[Any]) -> list[Row]:
        """Return the rows whose (scalar) ``field`` holds one of ``values``, as the transaction sees them."""

    @abstractmethod
    def update(self, layer: str, feature_id: str, values: Row, *, expected_version: int | None = None,
               op: str | None = None) -> None:
        """Replace the given attributes (and ``geometry``) of one row.

        Raises ``VersionConflictError`` if ``expected_version`` is given and is not the row's.
        """

    @abstractmethod
    def delete(self, layer: str, feature_id: str) -> None:
        """Delete one row."""


class Store(ABC):
    """Storage of an atlas: layers from the catalogue, history and metadata."""

    catalogue: Catalogue
    crs: CRS
    location: str

    @abstractmethod
    def read(self, layer: str, *, where: str | None = None, bbox: tuple[float, float, float, float] | None = None,
             columns: list[str] | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
        """Read a layer (optionally filtered) as a frame."""

    @abstractmethod
    def get(self, layer: str, feature_id: str) -> Row | None:
        """Return one row as a dict (geometry under ``geometry``), or None."""

    @abstractmethod
    def existing_ids(self, layer: str, ids: list[str]) -> set[str]:
        """Return those of ``ids`` that are already in the layer."""

    @abstractmethod
    def count(self, layer: str, where: str | None = None) -> int:
        """Count the rows of a layer."""

    @abstractmethod
    def select(self, layer: str, selection: Selection, columns: list[str], *, limit: int | None = None,
               offset: int = 0, timeout: float | None = None) -> list[tuple[Any, ...]]:
        """Return raw stored values of ``columns`` for the selected rows, in the order they were written.

        ``"geometry"`` among the columns gives the geometry as WKB (None where missing). Values
        are as stored (text, numbers, JSON text). Raises ``QueryTimeoutError`` past ``timeout``
        seconds.
        """

    def select_page(self, layer: str, selection: Selection, columns: list[str], *, limit: int | None,
                    offset: int = 0, timeout: float | None = None) -> tuple[list[tuple[Any, ...]], int]:
        """One page of selected rows (as :meth:`select`) and the number of rows selected."""
        count = self.count_selected(layer, selection, timeout=timeout)
        rows = self.select(layer, selection, columns, limit=limit, offset=offset, timeout=timeout) \
            if offset < count and limit != 0 else []
        return rows, count

    @abstractmethod
    def count_selected(self, layer: str, selection: Selection, *, timeout: float | None = None) -> int:
        """Count the selected rows."""

    @abstractmethod
    def selected_bounds(self, layer: str, selection: Selection) -> Bbox | None:
        """The bounds (minx, miny, maxx, maxy) of the selected rows' geometries; None when there are none."""

    def change_stamp(self) -> object:
        """A value that changes whenever anything in the store changes (None: unknown, do not cache)."""
        return None

    @abstractmethod
    def history(self, layer: str | None = None, feature_id: str | None = None,
                last: int | None = None) -> pd.DataFrame:
        """Return history entries (the ``last`` ones only, if given), oldest first."""

    @abstractmethod
    def history_count(self) -> int:
        """Number of history entries."""

    @abstractmethod
    def transaction(self, context: WriteContext) -> AbstractContextManager[StoreTransaction]:
        """Open a transaction; it commits when the block ends and rolls back on error."""

    @abstractmethod
    def metadata(self) -> dict[str, str]:
        """Return the atlas metadata (custodian, licence, title, CRS...)."""

    @abstractmethod
    def set_metadata(self, values: dict[str, str]) -> None:
        """Set atlas metadata entries."""

    def layers(self) -> Iterator[str]:
        """The names of the layers, in catalogue order."""
        return iter(self.catalogue)

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release resources held by the store."""
