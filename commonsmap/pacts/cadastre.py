"""A municipality's cadastre in the atlas: parcels imported with their references, references read.

A pact names the parcels it covers by their cadastral references (``pacts.parcels``); the
``parcels`` layer holds the cadastre, one feature per parcel with its ``cadastral_ref``.
:func:`import_cadastre` brings a cadastre file (GeoPackage, Shapefile, GeoJSON...) into that
layer, building each reference from one column or from a template of columns; references are
compared through :func:`normalise_ref`.

Italian references (Agenzia delle Entrate, INSPIRE ``NATIONALCADASTRALREFERENCE`` and
``NATIONALCADASTRALZONINGREFERENCE``) read as ``CCCCS_FFFFAS.PPPP``: the comune's Belfiore code
(``H833``, San Felice del Molise), the census section (a letter, or nothing: ``_``), the sheet
(*foglio*, four digits), its *allegato* and *sviluppo* (one character each, ``0`` when none),
then, for a parcel, a dot and the *particella*. ``H833_001300`` is sheet 13 of San Felice;
``H833_0013A0`` its allegato A; ``H833_001300.123`` parcel 123 on sheet 13. A pact that names a
sheet covers every parcel of that sheet (see :mod:`commonsmap.pacts.parcels`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from commonsmap.catalogue import LayerSpec
from commonsmap.errors import InvalidInputError, Problem
from commonsmap.geometry import OnInvalid
from commonsmap.io.importing import ImportResult
from commonsmap.io.mapping import field_aliases
from commonsmap.io.readers import read_file
from commonsmap.vocabularies import Designation

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

REF_COLUMNS = ("cadastral_ref", "NATIONALCADASTRALREFERENCE", "nationalCadastralReference",
               "NATIONALCADASTRALZONINGREFERENCE", "nationalCadastralZoningReference", "REFCAT", "refcat")
"""Columns taken as the cadastral reference when ``ref`` is not given, in this order."""

_SET_BY_IMPORT = ("cadastral_ref", "designation")
_ITALIAN = re.compile(r"([A-Z]\d{3})([A-Z])?_?(\d{4})([0-9A-Z])([0-9A-Z])(?:\.([0-9A-Z]+))?")
_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class ItalianRef:
    """An Italian cadastral reference, read by :func:`parse_italian_ref`.

    Attributes
    ----------
    comune : str
        The comune's Belfiore (cadastral) code, e.g. ``H833``.
    sezione : str or None
        The census section (a letter), None when the comune has none.
    foglio : int
        The sheet number.
    allegato, sviluppo : str or None
        The sheet's annex and development letters, None when ``0``.
    particella : str or None
        The parcel number on the sheet; None for a reference to a whole sheet.
    """

    comune: str
    sezione: str | None
    foglio: int
    allegato: str | None
    sviluppo: str | None
    particella: str | None

    @property
    def sheet(self) -> str:
        """The canonical reference of the sheet, e.g. ``H833_001300``."""
        return f"{self.comune}{self.sezione or '_'}{self.foglio:04d}{self.allegato or '0'}{self.sviluppo or '0'}"

    @property
    def code(self) -> str:
        """The canonical reference, e.g. ``H833_001300.123`` (the sheet's for a sheet)."""
        return self.sheet if self.particella is None else f"{self.sheet}.{self.particella}"

    @property
    def is_sheet(self) -> bool:
        """Whether the reference names a whole sheet rather than one parcel."""
        return self.particella is None


def _italian(value: Any) -> ItalianRef | None:
    text = re.sub(r"\s+", "", str(value)).upper()
    found = _ITALIAN.fullmatch(text)
    if found is None:
        return None
    comune, sezione, foglio, allegato, sviluppo, particella = found.groups()
    if particella is not None and particella.isdigit():
        particella = particella.lstrip("0") or "0"
    return ItalianRef(comune, sezione, int(foglio), None if allegato == "0" else allegato,
                      None if sviluppo == "0" else sviluppo, particella)


def parse_italian_ref(value: str) -> ItalianRef:
    """Read an Italian cadastral reference: comune, section, sheet, allegato, sviluppo, parcel.

    Spaces and case do not matter; leading zeros of the parcel number are dropped.

    Raises
    ------
    InvalidInputError
        If ``value`` is not of the form ``CCCCS_FFFFAS`` or ``CCCCS_FFFFAS.PPPP``.

    Examples
    --------
    >>> ref = parse_italian_ref("H833_001300.123")
    >>> ref.comune, ref.foglio, ref.allegato, ref.particella, ref.sheet
    ('H833', 13, None, '123', 'H833_001300')
    >>> parse_italian_ref("h833_0013a0").allegato, parse_italian_ref("H833_0013A0").is_sheet
    ('A', True)
    >>> parse_italian_ref("A124A001200.0345").code  # census section A
    'A124A001200.345'
    """
    parsed = _italian(value)
    if parsed is None:
        raise InvalidInputError(f"{value!r} is not an Italian cadastral reference: expected the comune's code, "
                                "an optional section letter, '_', the sheet's four digits, its allegato and "
                                "sviluppo (e.g. H833_001300) and, for a parcel, '.' and its number "
                                "(H833_001300.123)")
    return parsed


def normalise_ref(value: Any) -> str:
    """Return the form in which cadastral references are compared.

    Italian references take their canonical form (see :class:`ItalianRef`); any other is
    trimmed, its runs of spaces made one, and upper-cased.

    Examples
    --------
    >>> normalise_ref(" h833_001300.0123 "), normalise_ref("730106 / 760"), normalise_ref("730106/760")
    ('H833_001300.123', '730106 / 760', '730106/760')
    """
    parsed = _italian(value)
    if parsed is not None:
        return parsed.code
    return " ".join(str(value).split()).upper()


def sheet_of(value: Any) -> str | None:
    """The canonical sheet of an Italian reference (a parcel's or a sheet's own); None for others."""
    parsed = _italian(value)
    return None if parsed is None else parsed.sheet


def _as_text(column: pd.Series) -> pd.Series:
    """A column's values as text: whole numbers stored as reals without '.0', strings trimmed."""
    present = column.dropna()
    if pd.api.types.is_float_dtype(column) and len(present) and bool((present % 1 == 0).all()):
        column = column.astype("Int64")
    text = column.astype(object).where(column.notna(), None)
    return text.map(lambda v: None if v is None else str(v).strip() or None)


def column_values(frame: pd.DataFrame, spec: str, what: str) -> pd.Series:
    """Values of a column, or of a template of columns (``"{KATUZE_KOD}/{ID}"``), as text.

    A row lacking any of the columns a template names gets no value (None).

    Raises
    ------
    InvalidInputError
        If the column, or a column the template names, is not in the frame.
    """
    columns = [str(c) for c in frame.columns if not isinstance(frame, gpd.GeoDataFrame) or c != frame.geometry.name]
    if spec in frame.columns:
        return _as_text(frame[spec]).reset_index(drop=True)
    if "{" not in spec:
        raise InvalidInputError(f"{what}: the file has no column {spec!r}; its columns are: {', '.join(columns)}. "
                                "Name a column, or a template of columns such as '{UNIT}/{NUMBER}'")
    try:
        parts = list(string.Formatter().parse(spec))
    except ValueError as exc:
        raise InvalidInputError(f"{what}: {spec!r} is not a template of columns ({exc})") from exc
    unknown = [name for _, name, _, _ in parts if name is not None and name not in frame.columns]
    if unknown or all(name is None for _, name, _, _ in parts):
        raise InvalidInputError(f"{what}: template {spec!r} names no column of the file ({', '.join(unknown)}); "
                                f"its columns are: {', '.join(columns)}")
    result = pd.Series([""] * len(frame), dtype=object)
    missing = np.zeros(len(frame), dtype=bool)
    for literal, name, format_spec, _ in parts:
        result = result + literal
        if name is None:
            continue
        values = _as_text(frame[name])
        if format_spec:
            raw = frame[name].reset_index(drop=True)
            values = raw.map(lambda v, f=format_spec: None if pd.isna(v) else format(v, f))
        missing |= values.isna().to_numpy()
        result = result + values.fillna("")
    return result.where(~missing, None)


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _field_columns(frame: pd.DataFrame, mapping: Mapping[str, str], spec: LayerSpec, fields: list[str],
                   geometry: str) -> dict[str, str]:
    """``{file column: parcel field}``: the mapping given, then columns named like a field or its labels."""
    renames = dict(mapping)
    aliases = {alias: name for alias, name in field_aliases(spec).items() if name in fields}
    for column in frame.columns:
        if column in renames or column == geometry:
            continue
        matched = aliases.get(_key(str(column)))
        if matched is not None and matched not in renames.values():
            renames[column] = matched
    return renames


def _italian_unit(ref: str | None) -> str | None:
    """The comune's code (and census section) of an Italian reference; None for others."""
    parsed = None if ref is None else _italian(ref)
    return None if parsed is None else f"{parsed.comune}{parsed.sezione or ''}"


def _extra(frame: pd.DataFrame) -> pd.Series:
    """The file's other columns as one JSON object per row (keys as in the file)."""
    if frame.shape[1] == 0:
        return pd.Series([None] * len(frame), dtype=object)
    text = frame.reset_index(drop=True).to_json(orient="records", lines=True, date_format="iso",
                                                force_ascii=False, default_handler=str)
    return pd.Series(text.split("\n")[: len(frame)], dtype=object)


def _check_refs(refs: pd.Series, taken: set[str], problems: list[Problem]) -> None:
    for row in np.flatnonzero(refs.isna().to_numpy()):
        problems.append(Problem("no cadastral reference (a column it is built from is empty)", row=int(row),
                                field="cadastral_ref"))
    keys = refs.dropna().map(normalise_ref)
    repeated = keys[keys.duplicated(keep=False)]
    for key, rows in repeated.groupby(repeated).groups.items():
        listed = ", ".join(str(int(r)) for r in rows[:10]) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
        problems.append(Problem(f"cadastral reference {key!r} appears {len(rows)} times (rows {listed}); "
                                "a reference must name one parcel", row=int(rows[0]), field="cadastral_ref"))
    clashing = keys[keys.isin(taken)]
    for at, key in zip(clashing.index, clashing, strict=True):
        problems.append(Problem(f"cadastral reference {key!r} is already in the atlas's parcels", row=int(at),
                                field="cadastral_ref"))


def import_cadastre(atlas: Atlas, path: str | Path, *, layer: str | None = None, ref: str | None = None,
                    unit: str | None = None, who: str, designation: str = "not_designated",
                    mapping: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
                    crs: object | None = None, on_invalid: OnInvalid = "repair",
                    note: str | None = None) -> ImportResult:
    """Import a cadastre file into the ``parcels`` layer: all its parcels, or none.

    Parameters
    ----------
    atlas : Atlas
        The atlas to write to.
    path : str or Path
        The cadastre: GeoPackage, Shapefile (or zipped), GeoJSON, FlatGeobuf... of polygons.
    layer : str, optional
        The layer to read from a file that holds several.
    ref : str, optional
        Where the cadastral reference comes from: a column (``"NATIONALCADASTRALREFERENCE"``) or
        a template of columns (``"{KATUZE_KOD}/{ID}"``, format specs allowed:
        ``"{sheet:04d}.{number}"``). By default the first of :data:`REF_COLUMNS` in the file.
    unit : str, optional
        The cadastral unit (``cadastral_unit``): a column or a template, like ``ref``. By
        default, for Italian references, the comune's code (and section).
    who : str
        Who imports: recorded in the history of every parcel.
    designation : str, default "not_designated"
        The designation of every imported parcel (``under_pact`` is refused: pacts set it).
    mapping : mapping of str to str, optional
        ``{file column: parcel field}`` for ``owner_kind``, ``land_use``, ``address``...;
        columns named like a field (or one of its labels) are matched by themselves.
    values : mapping of str to object, optional
        Values for every parcel, e.g. ``{"owner_kind": "public"}``.
    crs : optional
        The file's CRS when it declares none.
    on_invalid : {"repair", "reject"}, default "repair"
        Invalid polygons are repaired (and reported) or refused.
    note : str, optional
        Recorded in the history.

    Returns
    -------
    ImportResult
        The parcels' ids, where they came from, repairs and notes.

    Raises
    ------
    InvalidInputError
        Naming the file and every row at fault (no reference, a reference repeated or already in
        the atlas, a geometry that is not a polygon...); the atlas is unchanged.

    Notes
    -----
    Geometries are reprojected to the atlas CRS. Every column of the file that fills no field
    (the reference's own columns too) is kept verbatim in the parcel's ``extra`` attributes.
    """
    if not who or not str(who).strip():
        raise InvalidInputError("an import must say who makes it: who=...")
    name = Path(path).name
    chosen = Designation.parse(designation).value
    if chosen == Designation.UNDER_PACT.value:
        raise InvalidInputError("parcels are put under pact by the pacts in force that cover them, not by an import",
                                source=name)
    frame, source = read_file(path, layer=layer)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise InvalidInputError("the file has no geometries: a cadastre needs its parcels' polygons", source=name)
    if len(frame) == 0:
        raise InvalidInputError("the file holds no parcels", source=name)
    if frame.crs is None and crs is None:
        raise InvalidInputError("the file declares no coordinate reference system (CRS); give it, e.g. "
                                "crs='EPSG:3857'", source=name)
    frame = frame.reset_index(drop=True)
    geometry = frame.geometry.name
    if ref is None:
        ref = next((c for c in REF_COLUMNS if c in frame.columns), None)
        if ref is None:
            columns = ", ".join(str(c) for c in frame.columns if c != geometry)
            raise InvalidInputError(f"no column holds the cadastral reference ({', '.join(REF_COLUMNS)}); name the "
                                    f"column or a template of columns with ref=..., e.g. ref='{{UNIT}}/{{NUMBER}}'. "
                                    f"The file's columns: {columns}", source=name)
    try:
        refs = column_values(frame, ref, "ref")
        units = column_values(frame, unit, "unit") if unit is not None else refs.map(_italian_unit)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.problems, source=name) from None

    problems: list[Problem] = []
    existing = atlas.store.read("parcels", columns=["cadastral_ref"]) if atlas.count("parcels") else None
    taken = set() if existing is None else set(existing["cadastral_ref"].dropna().map(normalise_ref))
    _check_refs(refs, taken, problems)
    kinds = frame.geometry.geom_type
    for row in np.flatnonzero(frame.geometry.notna().to_numpy() & ~kinds.isin(_POLYGONAL).to_numpy()):
        problems.append(Problem(f"a parcel must be a polygon, not a {kinds.iloc[row]}", row=int(row)))
    spec = atlas.spec("parcels")
    own = [f.name for f in spec.fields if f.name not in _SET_BY_IMPORT]
    for column, target in (mapping or {}).items():
        if column not in frame.columns:
            problems.append(Problem(f"the file has no column {column!r} to map onto {target!r}"))
        if target not in own:
            problems.append(Problem(f"{target!r} is not a parcel field the file may fill ({', '.join(own)})",
                                    field=target))
    for target in values or {}:
        if target not in own:
            problems.append(Problem(f"{target!r} is not a parcel field ({', '.join(own)})", field=target))
    if problems:
        raise InvalidInputError(problems, source=name)

    renames = _field_columns(frame, mapping or {}, spec, own, geometry)
    if unit is not None:
        renames = {c: t for c, t in renames.items() if t != "cadastral_unit"}
    rest = [c for c in frame.columns if c != geometry and c not in renames]
    parcels = pd.DataFrame({target: frame[column].to_numpy() for column, target in renames.items()})
    parcels["cadastral_ref"] = refs.to_numpy()
    if "cadastral_unit" not in parcels.columns:
        parcels["cadastral_unit"] = units.to_numpy()
    parcels["designation"] = chosen
    for target, value in (values or {}).items():
        parcels[target] = parcels[target].where(parcels[target].notna(), value) if target in parcels else value
    parcels["extra"] = _extra(frame[rest]).to_numpy()
    result_frame = gpd.GeoDataFrame(parcels, geometry=frame.geometry.to_numpy(), crs=frame.crs)
    try:
        written = atlas.add("parcels", result_frame, who=who, note=note or f"cadastre imported from {name}",
                            on_invalid=on_invalid, crs=crs)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.problems, source=name) from None
    notes = [f"{column!r} -> {target!r}" for column, target in renames.items()]
    notes.append(f"cadastral_ref from {ref!r}" + (f", cadastral_unit from {unit!r}" if unit else ""))
    if rest:
        notes.append(f"kept in extra: {', '.join(map(str, rest))}")
    return ImportResult("parcels", written.ids, source, written.report, notes)
