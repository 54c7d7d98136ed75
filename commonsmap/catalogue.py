"""The layer catalogue: one declarative TOML file per layer, read by stores, API and maps.

A layer file names the layer's fields and their types, which are required, the geometry
type, the default sensitivity, the style, the popup fields and labels in several languages.
Every layer also carries the system fields of :data:`SYSTEM_FIELDS` (stable id, times,
version, sensitivity, custodian, extra attributes), which the atlas manages.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from commonsmap.errors import CatalogueError
from commonsmap.vocabularies import LANGUAGES, VOCABULARIES, Vocabulary

FieldType = Literal[
    "string", "integer", "real", "boolean", "date", "datetime", "enum", "enum_list", "list", "json", "ref"
]
GeometryType = Literal["Point", "MultiPoint", "LineString", "MultiLineString", "MultiPolygon", "Geometry"]

Labels = dict[str, str]
VocabularyClass = type[Vocabulary]


class FieldSpec(BaseModel):
    """One attribute of a layer, as declared in the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: FieldType
    label: Labels
    required: bool = False
    vocabulary: str | None = None
    ref: str | None = None
    description: str = ""
    system: bool = False

    @model_validator(mode="after")
    def _check_vocabulary(self) -> FieldSpec:
        if self.type in ("enum", "enum_list"):
            if self.vocabulary not in VOCABULARIES:
                raise ValueError(f"field {self.name!r}: unknown vocabulary {self.vocabulary!r}")
        elif self.vocabulary is not None:
            raise ValueError(f"field {self.name!r}: a vocabulary only goes with type enum or enum_list")
        if self.type == "ref" and not self.ref:
            raise ValueError(f"field {self.name!r}: a ref field names the layer it refers to")
        if "en" not in self.label:
            raise ValueError(f"field {self.name!r}: an English label is required")
        return self

    @property
    def vocab(self) -> VocabularyClass | None:
        """The field's vocabulary class, for enum fields."""
        return VOCABULARIES[self.vocabulary] if self.vocabulary else None

    def title(self, lang: str = "en") -> str:
        """Return the field's label in ``lang`` (English when missing)."""
        return self.label.get(lang) or self.label["en"]


class Style(BaseModel):
    """How the maps draw a layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    color: str = "#3388ff"
    fill_color: str | None = None
    fill_opacity: float = 0.3
    weight: float = 2.0
    radius: float = 6.0
    dash_array: str | None = None
    category_field: str | None = None
    category_colors: dict[str, str] = Field(default_factory=dict)


class LayerSpec(BaseModel):
    """A layer of the atlas, as declared in one catalogue file.

    ``holder_fields`` name the fields holding the parties whose members may see the layer's
    ``community`` features (``"id"`` for the parties layer itself); ``public_fields`` the fields
    a generalised feature keeps when shown to viewers below its sensitivity.

    ``workflow_fields`` change only through the library's workflow named in ``workflow`` (a
    pact's status only through its lifecycle); an ``append_only`` layer is a log whose records
    are never updated or deleted.

    ``temporal`` names the field that dates a feature (an instant), or the two fields that
    bound its validity (start, end): what a ``datetime`` filter of the API applies to.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Labels
    description: Labels = Field(default_factory=dict)
    geometry: GeometryType | None = None
    geometry_required: bool = False
    default_sensitivity: str = "public"
    editable: bool = True
    append_only: bool = False
    workflow_fields: tuple[str, ...] = ()
    workflow: str = ""
    temporal: tuple[str, ...] = ()
    popup: tuple[str, ...] = ()
    title_field: str | None = None
    holder_fields: tuple[str, ...] = ()
    public_fields: tuple[str, ...] = ()
    style: Style = Field(default_factory=Style)
    fields: tuple[FieldSpec, ...]

    @model_validator(mode="after")
    def _check(self) -> LayerSpec:
        names = [f.name for f in self.fields]
        clashes = sorted(set(names) & {f.name for f in SYSTEM_FIELDS})
        if clashes:
            raise ValueError(f"fields {clashes} are system fields the atlas manages")
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"fields declared twice: {duplicated}")
        unknown = [p for p in self.popup if p not in names and p not in {f.name for f in SYSTEM_FIELDS}]
        if unknown:
            raise ValueError(f"popup names unknown fields {unknown}")
        if self.title_field is not None and self.title_field not in names:
            raise ValueError(f"title_field {self.title_field!r} is not a field")
        for setting in ("holder_fields", "public_fields", "workflow_fields"):
            strangers = [n for n in getattr(self, setting) if n not in names and n != "id"]
            if strangers:
                raise ValueError(f"{setting} names unknown fields {strangers}")
        if self.temporal:
            kinds = {f.name: f.type for f in self.fields}
            if len(self.temporal) > 2 or any(kinds.get(n) not in ("date", "datetime") for n in self.temporal):
                raise ValueError("temporal names one date or datetime field (an instant) or two (start and end)")
        VOCABULARIES["sensitivity"](self.default_sensitivity)
        if self.geometry_required and self.geometry is None:
            raise ValueError("geometry_required needs a geometry type")
        return self

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        """System fields followed by the layer's own fields, in storage order."""
        return SYSTEM_FIELDS + self.fields

    @property
    def field_names(self) -> list[str]:
        """Names of every stored attribute (system fields first)."""
        return [f.name for f in self.all_fields]

    def field(self, name: str) -> FieldSpec:
        """Return the field called ``name``.

        Raises
        ------
        KeyError
            If the layer has no such field.
        """
        for spec in self.all_fields:
            if spec.name == name:
                return spec
        raise KeyError(f"layer {self.name!r} has no field {name!r}")

    def title(self, lang: str = "en") -> str:
        """Return the layer's label in ``lang`` (English when missing)."""
        return self.label.get(lang) or self.label["en"]

    @property
    def is_spatial(self) -> bool:
        """Whether the layer stores a geometry."""
        return self.geometry is not None


def _labels(en: str, es: str, it: str, pt: str) -> Labels:
    return {"en": en, "es": es, "it": it, "pt": pt}


SYSTEM_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(name="id", type="string", system=True, label=_labels("Id", "Id", "Id", "Id"),
              description="Stable identifier of the record, never reused."),
    FieldSpec(name="created", type="datetime", system=True,
              label=_labels("Created", "Creado", "Creato", "Criado")),
    FieldSpec(name="updated", type="datetime", system=True,
              label=_labels("Updated", "Actualizado", "Aggiornato", "Atualizado")),
    FieldSpec(name="version", type="integer", system=True,
              label=_labels("Version", "Versión", "Versione", "Versão"),
              description="Incremented on every change; used for optimistic concurrency."),
    FieldSpec(name="sensitivity", type="enum", vocabulary="sensitivity", system=True,
              label=_labels("Sensitivity", "Sensibilidad", "Sensibilità", "Sensibilidade")),
    FieldSpec(name="custodian", type="string", system=True,
              label=_labels("Custodian", "Custodio", "Custode", "Guardião"),
              description="Who looks after the record: a party id or name."),
    FieldSpec(name="publish_as", type="enum", vocabulary="generalisation", system=True,
              label=_labels("Shown to others as", "Mostrado a otros como", "Mostrato agli altri come",
                            "Mostrado aos outros como"),
              description="How viewers below the feature's sensitivity see it: not at all (empty or hidden), "
                          "as the coarse grid cell that holds it, or as its enclosing administrative unit."),
    FieldSpec(name="dataset", type="ref", ref="datasets", system=True,
              label=_labels("Dataset", "Conjunto de datos", "Insieme di dati", "Conjunto de dados"),
              description="The dataset the record belongs to, which carries its licence and terms of use."),
    FieldSpec(name="extra", type="json", system=True,
              label=_labels("Other attributes", "Otros atributos", "Altri attributi", "Outros atributos"),
              description="Attributes of an imported file that the catalogue does not name, kept verbatim."),
)
"""Fields every layer carries and the atlas manages."""


class Catalogue(Mapping[str, LayerSpec]):
    """The layers of an atlas, read from a folder of TOML files.

    Parameters
    ----------
    layers : mapping of str to LayerSpec
        The layers by name.
    """

    def __init__(self, layers: Mapping[str, LayerSpec]) -> None:
        self._layers = dict(layers)
        self._check_refs()

    def _check_refs(self) -> None:
        for layer in self._layers.values():
            for spec in layer.fields:  # system references (``dataset``) are checked only where the layer exists
                if spec.ref is not None and spec.ref not in self._layers:
                    raise CatalogueError(f"layer {layer.name!r}, field {spec.name!r}: "
                                         f"refers to unknown layer {spec.ref!r}")

    def __getitem__(self, name: str) -> LayerSpec:
        try:
            return self._layers[name]
        except KeyError:
            raise CatalogueError(f"no layer {name!r} in the catalogue; layers are: "
                                 f"{', '.join(self._layers)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def __repr__(self) -> str:
        return f"Catalogue({', '.join(self._layers)})"


def parse_layer_file(path: Path) -> LayerSpec:
    """Read and check one catalogue file.

    Raises
    ------
    CatalogueError
        Naming the file and what is wrong in it.
    """
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path.name}: cannot read the layer file: {exc}") from exc
    try:
        spec = LayerSpec.model_validate(data)
    except ValidationError as exc:
        raise CatalogueError(f"{path.name}: {exc}") from exc
    if spec.name != path.stem:
        raise CatalogueError(f"{path.name}: declares layer {spec.name!r}; the file must be named after it")
    missing = [lang for lang in LANGUAGES if lang not in spec.label]
    if missing:
        raise CatalogueError(f"{path.name}: the layer label lacks languages {missing}")
    return spec


def default_catalogue_dir() -> Path:
    """Return the folder of the catalogue shipped with commonsmap (the ``layers`` package)."""
    return Path(str(resources.files("layers")))


@cache
def _load(directory: Path) -> Catalogue:
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogueError(f"no layer files (*.toml) in {directory}")
    return Catalogue({spec.name: spec for spec in map(parse_layer_file, files)})


def load_catalogue(directory: str | Path | None = None) -> Catalogue:
    """Load the layer catalogue.

    Parameters
    ----------
    directory : str or Path, optional
        A folder of layer files; the catalogue shipped with commonsmap by default.

    Returns
    -------
    Catalogue
        The layers by name, in file-name order.
    """
    return _load(Path(directory).resolve() if directory else default_catalogue_dir())
