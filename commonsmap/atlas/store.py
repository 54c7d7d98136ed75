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
