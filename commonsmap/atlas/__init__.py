"""Atlases and their stores: the GeoPackage file (embedded default) behind one interface."""

from commonsmap.atlas.atlas import Atlas, AtlasTransaction, WriteResult, open_atlas
from commonsmap.atlas.gpkg_store import GeoPackageStore
from commonsmap.atlas.store import Store, StoreTransaction, WriteContext

__all__ = ["Atlas", "AtlasTransaction", "GeoPackageStore", "Store", "StoreTransaction", "WriteContext",
           "WriteResult", "open_atlas"]
