"""commonsmap: map the commons, the rights and claims on them, and the pacts that care for them.

Examples
--------
>>> import commonsmap as cm
>>> atlas = cm.Atlas.create("territory.gpkg", custodian="Comunidad X")  # doctest: +SKIP
>>> atlas.import_file("forest.geojson", layer="commons")  # doctest: +SKIP
>>> atlas["commons"]  # a GeoDataFrame  # doctest: +SKIP
"""

from commonsmap.atlas import Atlas, WriteResult, open_atlas
from commonsmap.catalogue import Catalogue, FieldSpec, LayerSpec, load_catalogue
from commonsmap.errors import (
    AtlasError,
    CatalogueError,
    CommonsmapError,
    InvalidInputError,
    NotFoundError,
    Problem,
    VersionConflictError,
)
from commonsmap.geometry import geodesic_area_ha

__version__ = "0.1.0"

__all__ = [
    "Atlas",
    "AtlasError",
    "Catalogue",
    "CatalogueError",
    "CommonsmapError",
    "FieldSpec",
    "InvalidInputError",
    "LayerSpec",
    "NotFoundError",
    "Problem",
    "VersionConflictError",
    "WriteResult",
    "__version__",
    "geodesic_area_ha",
    "load_catalogue",
    "open_atlas",
]
