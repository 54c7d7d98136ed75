"""Typed records of the domain, made from the layer catalogue so that the catalogue stays the one source.

``Party``, ``Commons``, ``Right``, ``Claim``, ``Parcel``, ``Pact``, ``Source``, ``Observation`` and
``AdminUnit`` are pydantic models whose fields, types and vocabularies come from the layer files in
``layers/``; they validate a record in Python before it goes to an atlas::

    import commonsmap as cm
    forest = cm.Commons(name="Bosque Sarayaku", kind="Bosque", geometry=polygon)
    atlas.add("commons", forest)

A ``Right`` also exposes its holder's ``position``, derived from the rights bundle.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, computed_field, create_model

from commonsmap.catalogue import FieldSpec, LayerSpec, load_catalogue
from commonsmap.tenure import BUNDLE, holder_position
from commonsmap.vocabularies import HolderPosition

_PYTHON_TYPES: dict[str, Any] = {"string": str, "ref": str, "integer": int, "real": float, "boolean": bool,
                                 "date": dt.date, "datetime": dt.datetime, "list": list[Any], "json": Any}


class Record(BaseModel):
    """Base of every domain record: attributes of one feature of a layer, and its geometry."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, use_enum_values=True)
    layer: Any = None

    def to_row(self) -> dict[str, Any]:
        """Return the record as a row for :meth:`commonsmap.Atlas.add` (unset fields left out)."""
        return self.model_dump(exclude_unset=True, exclude={"layer", "position"})


class RightRecord(Record):
    """A right, restriction or responsibility, with its holder's derived position."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def position(self) -> HolderPosition | None:
        """The holder's position, derived from the bundle (never entered by hand)."""
        return holder_position({name: getattr(self, name, None) for name in BUNDLE})


def _annotation(spec: FieldSpec) -> Any:
    vocab = spec.vocab
    if vocab is None:
        return _PYTHON_TYPES[spec.type]
    term: Any = Annotated[vocab, BeforeValidator(vocab.parse)]  # codes and labels in any language
    return term if spec.type == "enum" else list[term]


def record_model(layer: LayerSpec, name: str, base: type[Record] = Record) -> type[Record]:
    """Build the pydantic model of a layer's records from its catalogue entry."""
    fields: dict[str, Any] = {}
    for spec in layer.all_fields:
        annotation = _annotation(spec)
        fields[spec.name] = (annotation, ...) if spec.required else (annotation | None, None)
    if layer.is_spatial:
        fields["geometry"] = (Any, ... if layer.geometry_required else None)
    model = create_model(name, __base__=base, __doc__=layer.description.get("en", name), **fields)
    model.model_fields["layer"].default = layer.name
    model.model_rebuild(force=True)
    return model


_CATALOGUE = load_catalogue()
Party = record_model(_CATALOGUE["parties"], "Party")
Commons = record_model(_CATALOGUE["commons"], "Commons")
Right = record_model(_CATALOGUE["rights"], "Right", RightRecord)
Claim = record_model(_CATALOGUE["claims"], "Claim")
Parcel = record_model(_CATALOGUE["parcels"], "Parcel")
Pact = record_model(_CATALOGUE["pacts"], "Pact")
Source = record_model(_CATALOGUE["sources"], "Source")
Observation = record_model(_CATALOGUE["observations"], "Observation")
AdminUnit = record_model(_CATALOGUE["admin_units"], "AdminUnit")
Objection = record_model(_CATALOGUE["objections"], "Objection")
Dispute = record_model(_CATALOGUE["disputes"], "Dispute")
Consent = record_model(_CATALOGUE["consents"], "Consent")
Dataset = record_model(_CATALOGUE["datasets"], "Dataset")
