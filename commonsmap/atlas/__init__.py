"""Atlases and their stores: the GeoPackage file (embedded default) behind one interface."""

from commonsmap.atlas.atlas import Atlas, open_atlas
from commonsmap.atlas.gpkg_store import GeoPackageStore
from commonsmap.atlas.store import Store, StoreTransaction, WriteContext
from commonsmap.atlas.writing import AtlasTransaction, WriteResult

__all__ = ["Atlas", "AtlasTransaction", "GeoPackageStore", "Store", "StoreTransaction", "WriteContext",
           "WriteResult", "open_atlas"]
