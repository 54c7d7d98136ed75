"""The atlas: every layer of a community's or a city's commons, behind one interface.

An :class:`Atlas` validates what comes in (catalogue, geometry, references), hands clean
frames to its store in transactions, and reads layers back as GeoDataFrames. It never knows
which store it runs on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from commonsmap.atlas.codec import utc_now
from commonsmap.atlas.gpkg_store import GeoPackageStore
from commonsmap.atlas.store import Row, Store, WriteContext
from commonsmap.atlas.writing import AtlasTransaction, WriteResult
from commonsmap.catalogue import Catalogue, LayerSpec, load_catalogue
from commonsmap.derived import add_derived
from commonsmap.errors import AtlasError, InvalidInputError, NotFoundError
from commonsmap.generalise import default_cell_size
from commonsmap.generalise import generalise as generalise_rows
from commonsmap.geometry import OnInvalid, parse_crs
from commonsmap.io.importing import ImportResult
from commonsmap.privacy import (
    GENERALISED_COLUMN,
    OPAQUE_KEY,
    Viewer,
    generalisable_filter,
    opaque_id,
    row_access,
    sql_prefilter,
)
from commonsmap.validation import UnknownFields
from commonsmap.vocabularies import SENSITIVITY_ORDER

PathLike = str | Path


def sensitivity_levels(max_sensitivity: str) -> list[str]:
    """Return the sensitivity levels up to and including ``max_sensitivity``."""
    if max_sensitivity not in SENSITIVITY_ORDER:
        raise InvalidInputError(f"unknown sensitivity {max_sensitivity!r}; use one of {SENSITIVITY_ORDER}")
    return list(SENSITIVITY_ORDER[: SENSITIVITY_ORDER.index(max_sensitivity) + 1])


class Atlas:
    """An atlas of commons: layers, history and metadata in one store.

    Use :meth:`create` for a new atlas and :func:`open_atlas` (or :meth:`open`) for an
    existing one. Layers read back as GeoDataFrames: ``atlas["commons"]``.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._generalised_cache: dict[tuple[Any, ...], tuple[object, gpd.GeoDataFrame | pd.DataFrame]] = {}

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def create(cls, path: PathLike, *, crs: object = "EPSG:4326", custodian: str | None = None,
               licence: str | None = None, title: str | None = None,
               catalogue: Catalogue | None = None) -> Atlas:
        """Create a new atlas in a GeoPackage file.

        Parameters
        ----------
        path : str or Path
            The file to create (``.gpkg``); it must not exist.
        crs : str, int or pyproj.CRS, default "EPSG:4326"
            The CRS every geometry is stored in; it must have an EPSG code.
        custodian : str, optional
            Who looks after the data (a party's name or id); the default custodian of records.
        licence : str, optional
            The licence of the dataset, e.g. ``"CC-BY-4.0"`` or the community's own terms.
        title : str, optional
            A title for the atlas.
        catalogue : Catalogue, optional
            The layer catalogue; the one shipped with commonsmap by default.

        Returns
        -------
        Atlas
        """
        meta = {k: v for k, v in {"custodian": custodian, "licence": licence, "title": title}.items() if v}
        store = GeoPackageStore.create(path, catalogue or load_catalogue(), parse_crs(crs), meta)
        return cls(store)

    @classmethod
    def open(cls, path: PathLike, *, catalogue: Catalogue | None = None) -> Atlas:
        """Open an existing atlas file."""
        return cls(GeoPackageStore(path, catalogue or load_catalogue()))

    # -- description --------------------------------------------------------------------------
    @property
    def catalogue(self) -> Catalogue:
        """The layer catalogue of the atlas."""
        return self.store.catalogue

    @property
    def crs(self) -> Any:
        """The CRS geometries are stored in (a :class:`pyproj.CRS`)."""
        return self.store.crs

    @property
    def location(self) -> str:
        """Where the atlas is stored (a file path or a database URL)."""
        return self.store.location

    @property
    def metadata(self) -> dict[str, str]:
        """Atlas metadata: custodian, licence, title, crs."""
        return self.store.metadata()

    @property
    def custodian(self) -> str | None:
        """The atlas's default custodian."""
        return self.metadata.get("custodian")

    def layers(self) -> list[str]:
        """Names of the layers, in catalogue order."""
        return list(self.catalogue)

    def spec(self, layer: str) -> LayerSpec:
        """The catalogue entry of a layer."""
        return self.catalogue[layer]

    def counts(self, viewer: Viewer | None = None) -> dict[str, int]:
        """Number of features in each layer (those ``viewer`` may see, when given)."""
        return {name: self.count(name, viewer=viewer) for name in self.catalogue}

    def __repr__(self) -> str:
        return f"Atlas({self.location!r}, {self.crs.to_string()})"

    # -- reading ------------------------------------------------------------------------------
    def layer(self, name: str, *, bbox: tuple[float, float, float, float] | None = None,
              where: str | None = None, max_sensitivity: str = "secret",
              viewer: Viewer | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
        """Read a layer as a GeoDataFrame (a DataFrame for layers without geometry).

        Parameters
        ----------
        name : str
            The layer, e.g. ``"commons"``.
        bbox : tuple of float, optional
            ``(minx, miny, maxx, maxy)`` in the atlas CRS; uses the spatial index.
        where : str, optional
            An SQL filter on attributes, e.g. ``"kind = 'forest'"``. It is trusted code, never
            user input (the API translates its filters itself). Generalised features do not
            take part in attribute filters.
        max_sensitivity : str, default "secret"
            Leave out features more sensitive than this level.
        viewer : Viewer, optional
            Who is looking (see :mod:`commonsmap.privacy`): the layer as that viewer may see
            it, with a boolean ``generalised`` column. Without a viewer, the whole layer (the
            atlas file's owner sees everything).
        """
        levels = sensitivity_levels(max_sensitivity)
        clauses = [f"({where})"] if where else []
        restricted = len(levels) < len(SENSITIVITY_ORDER)
        if restricted:
            clauses.append("sensitivity IN (" + ", ".join(f"'{lvl}'" for lvl in levels) + ")")
        if viewer is None:
            frame = self.store.read(name, where=" AND ".join(clauses) or None, bbox=bbox)
        else:
            frame = self._read_for(viewer, name, clauses, bbox, generalise=where is None)
        if restricted:  # again after reading: a ``where`` that closes its parenthesis cannot widen the levels
            frame = frame[frame["sensitivity"].isin(levels)].reset_index(drop=True)
        return add_derived(name, frame)

    def _read_for(self, viewer: Viewer, name: str, clauses: list[str],
                  bbox: tuple[float, float, float, float] | None, generalise: bool) -> gpd.GeoDataFrame | pd.DataFrame:
        """Read what ``viewer`` sees of a layer: whole features, then generalised ones."""
        spec = self.catalogue[name]
        prefilter = sql_prefilter(spec, viewer)
        whole = self.store.read(name, where=" AND ".join(clauses + ([prefilter] if prefilter else [])) or None,
                                bbox=bbox)
        full, _ = row_access(whole, spec, viewer)
        whole = whole[full].reset_index(drop=True)
        whole[GENERALISED_COLUMN] = False
        if not generalise or viewer.sees_everything:
            return whole
        coarse = self.generalised(name, viewer)
        if bbox is not None and isinstance(coarse, gpd.GeoDataFrame):
            coarse = coarse[coarse.geometry.intersects(shapely.box(*bbox))]
        if coarse.empty:
            return whole
        if whole.empty:  # an empty read has plainer column types than real rows: keep the generalised rows' own
            return coarse.reset_index(drop=True)
        combined = pd.concat([whole, coarse], ignore_index=True)
        if isinstance(whole, gpd.GeoDataFrame):
            return gpd.GeoDataFrame(combined, geometry=whole.geometry.name, crs=self.crs)
        return combined

    def generalised(self, name: str, viewer: Viewer) -> gpd.GeoDataFrame | pd.DataFrame:
        """The features of a layer that ``viewer`` may see only in generalised form, generalised.

        Kept in memory until the atlas changes (see :meth:`Store.change_stamp`), since the web
        layer asks for them on every page.
        """
        spec = self.catalogue[name]
        stamp = self.store.change_stamp()
        key = (name, viewer.role, viewer.parties)
        cached = self._generalised_cache.get(key)
        if stamp is not None and cached is not None and cached[0] == stamp:
            return cached[1]
        candidates = self.store.read(name, where=generalisable_filter())
        _, shown = row_access(candidates, spec, viewer)
        candidates = candidates[shown].reset_index(drop=True)
        if candidates.empty:
            coarse = candidates.assign(**{GENERALISED_COLUMN: pd.Series(dtype=bool)})
        else:
            units = self.store.read("admin_units", where="sensitivity = 'public'") \
                if "admin_units" in self.catalogue and spec.is_spatial else None
            coarse = generalise_rows(candidates, spec, cell_size=self.generalisation_cell, key=self._opaque_key,
                                     admin_units=units)
        if stamp is not None:
            if len(self._generalised_cache) > 256:
                self._generalised_cache.clear()
            self._generalised_cache[key] = (stamp, coarse)
        return coarse

    @property
    def _opaque_key(self) -> str:
        key = self.metadata.get(OPAQUE_KEY)
        if not key:
            raise AtlasError(f"{self.location} has no key for opaque ids; open it writable once to add one")
        return key

    def opaque_id(self, layer: str, feature_id: str) -> str:
        """The id a feature has when shown generalised (stable, and unlinkable to its real id)."""
        return opaque_id(layer, feature_id, self._opaque_key)

    @property
    def generalisation_cell(self) -> float:
        """Size of the grid cells generalised features are shown in, in units of the atlas CRS."""
        configured = self.metadata.get("generalisation_cell")
        return float(configured) if configured else default_cell_size(self.crs)

    def count(self, name: str, *, viewer: Viewer | None = None, bbox: tuple[float, float, float, float] | None = None,
              where: str | None = None) -> int:
        """Number of features of a layer that ``viewer`` may see (generalised ones included)."""
        if (viewer is None or viewer.sees_everything) and bbox is None and where is None:
            return self.store.count(name)
        return len(self.layer(name, viewer=viewer, bbox=bbox, where=where))

    def __getitem__(self, name: str) -> gpd.GeoDataFrame | pd.DataFrame:
        return self.layer(name)

    def get(self, layer: str, feature_id: str, *, viewer: Viewer | None = None) -> Row:
        """Return one feature as a dict (geometry under ``"geometry"``).

        With a ``viewer``, a feature it may not see whole is reported missing, exactly as a
        feature that does not exist, so that nothing can be learnt from the answer.

        Raises
        ------
        NotFoundError
            If the layer has no such feature (or none the viewer may see).
        """
        row = self.store.get(layer, feature_id)
        if row is not None and viewer is not None and not viewer.sees_everything:
            full, _ = row_access(pd.DataFrame([{k: v for k, v in row.items() if k != "geometry"}]),
                                 self.catalogue[layer], viewer)
            row = row if bool(full[0]) else None
        if row is None:
            raise NotFoundError(f"no feature {feature_id!r} in layer {layer!r}")
        return row

    # -- writing ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, who: str | None = None, note: str | None = None) -> Iterator[AtlasTransaction]:
        """Group writes so that they commit together, or not at all.

        Examples
        --------
        >>> with atlas.transaction(who="maria") as tx:  # doctest: +SKIP
        ...     party = tx.add("parties", {"name": "Comunidad X", "kind": "community"}).ids[0]
        ...     tx.add("rights", {"kind": "right", "holder": party, "access": True})
        """
        context = WriteContext(who=who, at=utc_now(), changeset=str(uuid.uuid4()), note=note)
        with self.store.transaction(context) as store_transaction:
            yield AtlasTransaction(self, store_transaction)

    def add(self, layer: str, data: Any, *, who: str | None = None, note: str | None = None,
            unknown: UnknownFields = "error", on_invalid: OnInvalid = "repair",
            crs: object | None = None) -> WriteResult:
        """Validate and add features to a layer, in one transaction.

        Parameters
        ----------
        layer : str
            The target layer.
        data : GeoDataFrame, DataFrame, dict or list of dicts
            The features; columns named after the layer's fields (geometry in ``geometry``).
        who : str, optional
            Who is writing; recorded in the history.
        note : str, optional
            Why; recorded in the history.
        unknown : {"error", "keep", "drop"}, default "error"
            Columns the layer does not declare: refuse, keep in ``extra``, or drop.
        on_invalid : {"repair", "reject"}, default "repair"
            Invalid geometries are repaired with ``make_valid`` (reported) or refused.
        crs : optional
            CRS of the data if it declares none.

        Returns
        -------
        WriteResult

        Raises
        ------
        InvalidInputError
            Listing every problem; nothing is written.
        """
        with self.transaction(who=who, note=note) as tx:
            return tx.add(layer, data, unknown=unknown, on_invalid=on_invalid, crs=crs)

    def update(self, layer: str, feature_id: str, changes: Mapping[str, Any], *, who: str | None = None,
               note: str | None = None, expected_version: int | None = None,
               on_invalid: OnInvalid = "repair") -> Row:
        """Change attributes (or ``geometry``) of one feature; returns it as now stored.

        ``on_invalid`` says what to do with an invalid new geometry, as in :meth:`add`.

        Raises
        ------
        NotFoundError
            If there is no such feature.
        VersionConflictError
            If ``expected_version`` is given and the feature has changed since.
        """
        with self.transaction(who=who, note=note) as tx:
            return tx.update(layer, feature_id, changes, expected_version=expected_version, on_invalid=on_invalid)

    def delete(self, layer: str, feature_id: str, *, who: str | None = None, note: str | None = None,
               expected_version: int | None = None) -> None:
        """Delete one feature; its history (and so its last state) is kept."""
        with self.transaction(who=who, note=note) as tx:
            tx.delete(layer, feature_id, expected_version=expected_version)

    # -- files ---------------------------------------------------------------------------------
    def import_file(self, path: PathLike, layer: str, **options: Any) -> ImportResult:
        """Import a file into a layer: every row is written, or none.

        Parameters
        ----------
        path : str or Path
            GeoJSON, GeoPackage, Shapefile (or zipped), KML/KMZ, GPX, CSV with lon/lat or WKT,
            FlatGeobuf, or a Mapeo/CoMapeo GeoJSON export.
        layer : str
            The target layer.
        **options
            ``source_layer``, ``mapping``, ``values``, ``crs``, ``unknown``, ``on_invalid``,
            ``who``, ``note``, ``progress``: see :func:`commonsmap.io.import_file`.

        Returns
        -------
        ImportResult
        """
        from commonsmap.io.importing import import_file

        return import_file(self, path, layer, **options)

    def export(self, layer: str, path: PathLike, *, fmt: str | None = None, max_sensitivity: str = "community",
               where: str | None = None, columns: list[str] | None = None,
               viewer: Viewer | None = None) -> list[Path]:
        """Export a layer to GeoPackage, GeoJSON, CSV, Shapefile (``.shp`` or ``.zip``) or KML.

        Parameters
        ----------
        layer : str
            The layer.
        path : str or Path
            The output file; its extension names the format unless ``fmt`` is given.
        fmt : {"gpkg", "geojson", "csv", "shp", "kml"}, optional
            The format.
        max_sensitivity : {"public", "internal", "community"}, default "community"
            Leave out features above this level. Secret features are never exported.
        where : str, optional
            An SQL filter on attributes.
        columns : list of str, optional
            Write only these fields (with ``id`` and the geometry).
        viewer : Viewer, optional
            Export what this viewer may see (generalised features in their generalised form).

        Returns
        -------
        list of Path
            The files written.
        """
        from commonsmap.io.exporting import EXPORTABLE_SENSITIVITY, export_frame

        if max_sensitivity not in EXPORTABLE_SENSITIVITY:
            raise InvalidInputError(f"exports go up to {EXPORTABLE_SENSITIVITY[-1]!r} features at most; "
                                    "secret features never leave the atlas through an export")
        frame = self.layer(layer, max_sensitivity=max_sensitivity, where=where, viewer=viewer)
        frame = frame[frame["sensitivity"].isin(EXPORTABLE_SENSITIVITY)].reset_index(drop=True)
        return export_frame(frame, self.catalogue[layer], path, fmt, columns)

    # -- history ------------------------------------------------------------------------------
    def history(self, layer: str | None = None, feature_id: str | None = None,
                last: int | None = None) -> pd.DataFrame:
        """Every write, oldest first: entry, layer, feature_id, op, at, who, changeset, note, before, after.

        ``before`` and ``after`` are dicts of the feature's fields (geometry included). An
        insert records no ``after``: the inserted state is the ``before`` of the next change,
        or the current feature. ``last`` keeps only the most recent entries.
        """
        return self.store.history(layer, feature_id, last)

    def state_at(self, layer: str, feature_id: str, at: Any) -> Row | None:
        """Return the feature as it was at time ``at`` (None if it did not exist then)."""
        when = pd.Timestamp(at)
        when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
        entries = self.history(layer, feature_id)
        if entries.empty:
            raise NotFoundError(f"feature {feature_id!r} of layer {layer!r} has no history")
        later = entries[entries["at"] > when]
        if later.empty:
            return self.store.get(layer, feature_id)
        first = later.iloc[0]
        if first["op"] == "insert":
            return None
        before: Row | None = first["before"]
        return before

    def restore(self, layer: str, feature_id: str, at: Any, *, who: str | None = None,
                note: str | None = None) -> Row:
        """Bring a feature back to its state at time ``at`` (recorded as a new write).

        Raises
        ------
        NotFoundError
            If the feature did not exist at that time.
        """
        past = self.state_at(layer, feature_id, at)
        if past is None:
            raise NotFoundError(f"feature {feature_id!r} of layer {layer!r} did not exist at {at}")
        spec = self.catalogue[layer]
        values = {k: v for k, v in past.items() if k not in ("id", "created", "updated", "version")}
        with self.transaction(who=who, note=note or f"restored to its state at {at}") as tx:
            if self.store.get(layer, feature_id) is None:
                frame: pd.DataFrame = pd.DataFrame([{k: v for k, v in past.items() if k != "geometry"}])
                if spec.is_spatial:
                    frame = gpd.GeoDataFrame(frame, geometry=[past.get("geometry")], crs=self.crs)
                tx.add(layer, frame)
            else:
                tx.update(layer, feature_id, values, op="restore")
        return self.get(layer, feature_id)

def open_atlas(path: PathLike) -> Atlas:
    """Open an existing atlas.

    Parameters
    ----------
    path : str or Path
        A GeoPackage atlas file.

    Returns
    -------
    Atlas
    """
    return Atlas.open(path)
