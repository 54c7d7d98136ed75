"""Writes to an atlas: validation against the catalogue, fresh ids and references, in one transaction.

:class:`AtlasTransaction` is what :meth:`Atlas.transaction` yields: every ``add``, ``update`` and
``delete`` made through it commits together, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from commonsmap.atlas.store import Row, StoreTransaction
from commonsmap.catalogue import Catalogue, LayerSpec
from commonsmap.errors import InvalidInputError, NotFoundError, Problem, VersionConflictError
from commonsmap.geometry import OnInvalid
from commonsmap.model import Record
from commonsmap.validation import UnknownFields, ValidationReport, validate_frame

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas


@dataclass
class WriteResult:
    """What a write did: the ids written, and the validation report (repairs, notes)."""

    layer: str
    ids: list[str]
    report: ValidationReport = field(default_factory=ValidationReport)

    @property
    def count(self) -> int:
        """Number of features written."""
        return len(self.ids)


class AtlasTransaction:
    """Writes to an atlas that commit together (see :meth:`Atlas.transaction`)."""

    def __init__(self, atlas: Atlas, store_transaction: StoreTransaction) -> None:
        self._atlas = atlas
        self._tx = store_transaction

    def add(self, layer: str, data: Any, *, unknown: UnknownFields = "error", on_invalid: OnInvalid = "repair",
            crs: object | None = None) -> WriteResult:
        """Validate and insert features; see :meth:`Atlas.add`."""
        spec = self._atlas.catalogue[layer]
        frame = _as_frame(data, spec, self._atlas.crs)
        clean, report = validate_frame(frame, spec, atlas_crs=self._atlas.crs, custodian=self._atlas.custodian,
                                       unknown=unknown, on_invalid=on_invalid, crs=crs)
        _check_new_ids(self._tx, spec, clean)
        _check_references(self._tx, self._atlas.catalogue, spec, clean)
        self._tx.insert(layer, clean)
        return WriteResult(layer, clean["id"].tolist(), report)

    def get(self, layer: str, feature_id: str) -> Row:
        """Return one feature as this transaction sees it.

        Raises
        ------
        NotFoundError
            If the layer has no such feature.
        """
        self._atlas.catalogue[layer]
        row = self._tx.get(layer, feature_id)
        if row is None:
            raise NotFoundError(f"no feature {feature_id!r} in layer {layer!r}")
        return row

    def find(self, layer: str, field: str, values: list[Any]) -> list[Row]:
        """Return the features whose ``field`` holds one of ``values``, as this transaction sees them."""
        return self._tx.find(layer, field, list(values)) if values else []

    def update(self, layer: str, feature_id: str, changes: Mapping[str, Any], *,
               expected_version: int | None = None, op: str | None = None, workflow: bool = False,
               on_invalid: OnInvalid = "repair") -> Row:
        """Change some attributes (or the ``geometry``) of a feature; see :meth:`Atlas.update`.

        ``workflow=True`` is for the library's workflows (a pact's lifecycle), which alone may
        change a layer's ``workflow_fields``.
        """
        spec = self._atlas.catalogue[layer]
        _check_editable(spec, changes, workflow=workflow or op == "restore")
        current = self._tx.get(layer, feature_id)
        if current is None:
            raise NotFoundError(f"no feature {feature_id!r} in layer {layer!r}")
        managed = {"id", "created", "updated", "version"} & set(changes)
        if managed:
            raise InvalidInputError(f"fields {sorted(managed)} are managed by the atlas and cannot be set")
        # Only what changes is validated and written: the rest of the row is stored, hence valid.
        # Required fields come along so that clearing one is refused.
        names = [n for n in spec.field_names if n in changes or (spec.field(n).required and n in current)]
        frame: pd.DataFrame = pd.DataFrame([{n: changes[n] if n in changes else current[n] for n in names}],
                                           columns=names)
        strangers = [n for n in changes if n not in spec.field_names and n != "geometry"]
        if strangers:
            frame = frame.assign(**{n: [changes[n]] for n in strangers})
        new_geometry = spec.is_spatial and ("geometry" in changes or spec.geometry_required)
        if new_geometry:
            geometry = changes["geometry"] if "geometry" in changes else current.get("geometry")
            frame = gpd.GeoDataFrame(frame, geometry=[geometry], crs=self._atlas.crs)
        clean, _ = validate_frame(frame, spec, atlas_crs=self._atlas.crs, custodian=self._atlas.custodian,
                                  on_invalid=on_invalid)
        _check_references(self._tx, self._atlas.catalogue, spec, clean)
        row = clean.iloc[0].to_dict()
        values = {name: row[name] for name in names if name in changes}
        values["version"] = int(current["version"] or 0) + 1
        values["updated"] = self._tx.context.at
        if new_geometry and "geometry" in changes:
            values["geometry"] = clean.geometry.iloc[0]
        self._tx.update(layer, feature_id, values, expected_version=expected_version, op=op)
        updated = self._tx.get(layer, feature_id)
        assert updated is not None
        return updated

    def delete(self, layer: str, feature_id: str, *, expected_version: int | None = None) -> None:
        """Delete a feature (its history is kept); see :meth:`Atlas.delete`."""
        _check_editable(self._atlas.catalogue[layer], {}, workflow=False, deleting=True)
        current = self._tx.get(layer, feature_id)
        if current is None:
            raise NotFoundError(f"no feature {feature_id!r} in layer {layer!r}")
        if expected_version is not None and current["version"] != expected_version:
            raise VersionConflictError(f"feature {feature_id!r} of layer {layer!r} is at version "
                                       f"{current['version']}, not {expected_version}: reload it and retry")
        self._tx.delete(layer, feature_id)


def _check_editable(spec: LayerSpec, changes: Mapping[str, Any], *, workflow: bool, deleting: bool = False) -> None:
    if spec.append_only:
        raise InvalidInputError(f"layer {spec.name!r} is a log: its records are never "
                                f"{'deleted' if deleting else 'changed'}")
    guarded = sorted(set(spec.workflow_fields) & set(changes))
    if guarded and not workflow:
        raise InvalidInputError(f"field {', '.join(guarded)} of layer {spec.name!r} is changed only through "
                                f"{spec.workflow or 'the library'}")


def _check_new_ids(tx: StoreTransaction, spec: LayerSpec, frame: pd.DataFrame) -> None:
    taken = tx.existing_ids(spec.name, frame["id"].tolist())
    if taken:
        rows = frame.index[frame["id"].isin(taken)]
        raise InvalidInputError([Problem(f"id {frame['id'][r]!r} is already in layer {spec.name!r}",
                                         row=int(r), field="id") for r in rows])


def _check_references(tx: StoreTransaction, catalogue: Catalogue, spec: LayerSpec, frame: pd.DataFrame) -> None:
    problems: list[Problem] = []
    for field_spec in spec.all_fields:
        if field_spec.type != "ref" or field_spec.ref is None or field_spec.ref not in catalogue:
            continue
        values = frame[field_spec.name].dropna()
        wanted = sorted(set(values))
        if not wanted:
            continue
        found = tx.existing_ids(field_spec.ref, wanted)
        if field_spec.ref == spec.name:
            found |= set(frame["id"])
        for row, value in values.items():
            if value not in found:
                problems.append(Problem(f"{value!r} is not the id of a feature in layer {field_spec.ref!r}",
                                        row=int(row), field=field_spec.name))  # type: ignore[call-overload]
    if problems:
        raise InvalidInputError(problems)


def _as_frame(data: Any, spec: LayerSpec, crs: Any) -> pd.DataFrame:
    """Turn records into a frame; geometries given as Python objects are in the atlas CRS."""
    if isinstance(data, pd.DataFrame):
        return data
    given = [data] if isinstance(data, Mapping | Record) else list(data)
    records: list[Mapping[str, Any]] = [r.to_row() if isinstance(r, Record) else r for r in given]
    if not records:
        return pd.DataFrame()
    if spec.is_spatial and any("geometry" in r for r in records):
        geometries = [r.get("geometry") for r in records]
        attributes = pd.DataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in records])
        return gpd.GeoDataFrame(attributes, geometry=geometries, crs=crs)
    return pd.DataFrame(records)
