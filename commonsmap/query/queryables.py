"""The properties of a layer a filter may name (its OGC API "queryables"), and where each is stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from commonsmap.atlas.gpkg_schema import GEOMETRY_COLUMN
from commonsmap.catalogue import LayerSpec
from commonsmap.errors import QueryError

GEOMETRY = "geometry"
"""Name of the queryable that stands for a spatial layer's geometry."""

NOT_QUERYABLE = frozenset({"extra", "publish_as"})
"""System fields a filter may not name: free-form attributes and how hidden features are shown."""


@dataclass(frozen=True)
class Queryable:
    """A property a filter may name.

    Attributes
    ----------
    name : str
        The name used in filters.
    type : str
        A catalogue field type (``string``, ``integer``, ``real``, ``boolean``, ``date``,
        ``datetime``, ``enum``, ``enum_list``, ``list``, ``json``, ``ref``) or ``"geometry"``.
    column : str
        The SQLite column holding it (``geom`` for the geometry).
    vocabulary : str or None
        For ``enum`` and ``enum_list`` properties, the vocabulary whose codes are stored: values
        in filters are matched to its codes (labels are accepted too).
    """

    name: str
    type: str
    column: str
    vocabulary: str | None = None


def queryables_of(spec: LayerSpec) -> dict[str, Queryable]:
    """Return the properties of a layer that filters may name.

    Parameters
    ----------
    spec : LayerSpec
        The layer, as declared in the catalogue.

    Returns
    -------
    dict of str to Queryable
        Every field (system fields first) except ``extra`` and ``publish_as``, then
        ``geometry`` (column ``geom``) when the layer is spatial.
    """
    found = {f.name: Queryable(f.name, f.type, f.name, f.vocabulary)
             for f in spec.all_fields if f.name not in NOT_QUERYABLE}
    if spec.is_spatial:
        found[GEOMETRY] = Queryable(GEOMETRY, "geometry", GEOMETRY_COLUMN)
    return found


def queryable(name: str, queryables: Mapping[str, Queryable]) -> Queryable:
    """Return the queryable called ``name``.

    Raises
    ------
    QueryError
        If there is none; the message lists the names a filter may use.
    """
    found = queryables.get(name) if isinstance(name, str) else None
    if found is None:
        raise QueryError(f"unknown property {name!r}; the properties you can filter on are: "
                         f"{', '.join(queryables) or '(none)'}")
    return found
