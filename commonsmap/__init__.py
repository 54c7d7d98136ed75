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
    QueryError,
    VersionConflictError,
)
from commonsmap.geometry import geodesic_area_ha
from commonsmap.maps import commons_map
from commonsmap.maps import commons_map as map
from commonsmap.model import (
    AdminUnit,
    Claim,
    Commons,
    Consent,
    Dataset,
    Dispute,
    Objection,
    Observation,
    Pact,
    Parcel,
    Party,
    Record,
    Right,
    Source,
)
from commonsmap.privacy import Viewer
from commonsmap.tenure import holder_position

__version__ = "0.1.0"

__all__ = [
    "AdminUnit",
    "Atlas",
    "AtlasError",
    "Catalogue",
    "CatalogueError",
    "Claim",
    "Commons",
    "CommonsmapError",
    "Consent",
    "Dataset",
    "Dispute",
    "FieldSpec",
    "InvalidInputError",
    "LayerSpec",
    "NotFoundError",
    "Objection",
    "Observation",
    "Pact",
    "Parcel",
    "Party",
    "Problem",
    "QueryError",
    "Record",
    "Right",
    "Source",
    "VersionConflictError",
    "Viewer",
    "WriteResult",
    "__version__",
    "commons_map",
    "geodesic_area_ha",
    "holder_position",
    "load_catalogue",
    "map",
    "open_atlas",
]
