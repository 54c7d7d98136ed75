"""The open register of collaboration pacts: one row per pact, as the public may see it.

:func:`export_register` writes it as CSV, GeoJSON or GeoPackage with the columns of
:data:`REGISTER_COLUMNS` (described, with their types and the status codes, in
``docs/pact_register.md``) and the licence of the data it holds:

* GeoJSON: top-level ``"license"``, ``"attribution"`` and ``"sources"`` members;
* GeoPackage: the layer's description (``gpkg_contents``) and its metadata (``gpkg_metadata``,
  keys ``LICENSE``, ``ATTRIBUTION``, ``SOURCES``, ``LANG``);
* CSV: a text file beside it with the same name and ``.txt`` (``register.csv`` →
  ``register.txt``) giving the licence, attribution, sources and the columns.

What goes in is what ``viewer`` (anonymous by default) sees whole: a pact shown to it only in
generalised form is left out, as are the parties, links, events and datasets it may not see;
secret records never, whoever asks. The licence of each pact is its dataset's (``datasets``
layer, when the viewer sees that record); for pacts without one, the ``licence`` argument, else
the atlas's own licence.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS, Transformer

from commonsmap.days import optional_day
from commonsmap.errors import InvalidInputError
from commonsmap.geometry import geodesic_area_ha
from commonsmap.pacts.contents import SIGNING_ROLES
from commonsmap.pacts.queries import pact_districts, polygonal, representative_points, visible
from commonsmap.privacy import Viewer
from commonsmap.vocabularies import LANGUAGES, PactRole, PactStatus

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

REGISTER_COLUMNS: dict[str, str] = {
    "id": "The pact's stable id in the atlas.",
    "title": "The pact's title.",
    "status": "Status code: where the pact stands in its lifecycle (codes and labels below).",
    "status_label": "The status in words, in the register's language.",
    "pact_type": "ordinary or complex (complex pacts go through public notice).",
    "interventions": "Kinds of care: occasional_care, continuous_care, shared_management, regeneration.",
    "domains": "Fields of action: public_space, building, social_innovation, urban_creativity, digital.",
    "district": "The pact's district; if it names none, the administrative unit containing it.",
    "proponent": "Who proposed the pact: the proponent parties' names, else the pact's proponent field.",
    "signatories": "Names of the parties that sign the pact (proponents and signatories not excluded).",
    "support": "Forms of support from the closed list (fee_exemption, municipal_space, materials, staff_support, "
               "training, cost_reimbursement, public_recognition).",
    "reimbursement_amount": "Amount of the reimbursement of costs, if the pact gives one.",
    "currency": "ISO 4217 code of reimbursement_amount, e.g. EUR.",
    "signed_on": "When the pact was signed.",
    "starts_on": "When the pact took effect.",
    "expires_on": "When the pact expires (after an extension, the new date).",
    "parcels": "Cadastral references of the parcels the pact covers.",
    "area_ha": "Geodesic area of the pact's polygons, in hectares (empty for pacts mapped as points).",
    "lat": "Latitude (EPSG:4326) of a point inside the pact's area (the point itself for point pacts).",
    "lon": "Longitude (EPSG:4326) of the same point.",
    "reference": "Protocol number or decision reference.",
    "url": "Where the pact's document can be read.",
    "last_change": "Date of the latest event of the pact (status change, report, evaluation...).",
    "register_name": "The external register the pact was imported from, if any.",
    "register_id": "The pact's id in that register.",
}
"""The register's columns, in order, with what each holds."""

REGISTER_LAYER = "pact_register"
"""Name of the layer (GeoPackage) or collection (GeoJSON) the register is written as."""

_LIST_COLUMNS = ("interventions", "domains", "signatories", "support", "parcels")
_DATE_COLUMNS = ("signed_on", "starts_on", "expires_on", "last_change")
_FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
_WGS84 = CRS.from_epsg(4326)


@dataclass
class Register:
    """A register ready to write: its rows, and the licence and attribution of what they hold."""

    frame: gpd.GeoDataFrame
    """One row per pact, the columns of :data:`REGISTER_COLUMNS` and the pact's geometry (EPSG:4326)."""
    licence: str
    """The licence(s) of the rows, joined with `` AND `` when they come from datasets under different ones."""
    attribution: str | None
    """Whom to credit."""
    sources: list[dict[str, Any]] = field(default_factory=list)
    """Each body of data the rows come from: ``title``, ``licence``, ``licence_url``, ``attribution``, ``pacts``."""
    lang: str = "en"

    def write(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write the register to ``path`` as CSV, GeoJSON or GeoPackage (from the suffix unless ``fmt``)."""
        target = Path(path)
        chosen = register_format(target, fmt)
        target.parent.mkdir(parents=True, exist_ok=True)
        if chosen == "csv":
            self._write_csv(target)
        elif chosen == "geojson":
            self._write_geojson(target)
        else:
            self._write_gpkg(target)
        return target

    def _write_csv(self, path: Path) -> None:
        readme = path.with_suffix(".txt")
        if readme == path:
            raise InvalidInputError("a CSV register's licence is written beside it in a .txt file: give the CSV "
                                    "another suffix (.csv)")
        table = pd.DataFrame(self.frame.drop(columns="geometry"))
        for column in _LIST_COLUMNS:
            table[column] = [json.dumps(v, ensure_ascii=False) for v in table[column]]
        for column in _DATE_COLUMNS:
            table[column] = [_iso(d) for d in table[column]]
        table.to_csv(path, index=False, encoding="utf-8")
        readme.write_text(self.readme(path.name), encoding="utf-8")

    def _write_geojson(self, path: Path) -> None:
        geoms = np.asarray(self.frame.geometry.values, dtype=object)
        oriented = shapely.orient_polygons(geoms, exterior_cw=False) if len(geoms) else geoms
        features = []
        for geometry, record in zip(oriented, self._records(), strict=True):
            features.append({"type": "Feature", "id": record["id"], "properties": record,
                             "geometry": None if geometry is None else shapely.geometry.mapping(geometry)})
        document = {"type": "FeatureCollection", "name": REGISTER_LAYER, "license": self.licence,
                    "attribution": self.attribution, "sources": self.sources, "features": features}
        path.write_text(json.dumps(document, ensure_ascii=False, allow_nan=False), encoding="utf-8")

    def _write_gpkg(self, path: Path) -> None:
        table = self.frame.copy()
        for column in _LIST_COLUMNS:
            table[column] = [json.dumps(v, ensure_ascii=False) for v in table[column]]
        for column in _DATE_COLUMNS:  # GeoPackage DATE fields, not midnight datetimes
            table[column] = pd.Series([d if isinstance(d, dt.date) else None for d in table[column]],
                                      index=table.index, dtype=pd.ArrowDtype(pa.date32()))
        description = f"Open register of collaboration pacts. Licence: {self.licence}." + \
            (f" Attribution: {self.attribution}." if self.attribution else "")
        metadata = {"LICENSE": self.licence, "ATTRIBUTION": self.attribution or "",
                    "SOURCES": json.dumps(self.sources, ensure_ascii=False), "LANG": self.lang}
        pyogrio.write_dataframe(table, path, layer=REGISTER_LAYER, driver="GPKG", use_arrow=True,
                                geometry_type="Unknown", layer_options={"DESCRIPTION": description},
                                layer_metadata=metadata)

    def _records(self) -> list[dict[str, Any]]:
        records = []
        for row in pd.DataFrame(self.frame.drop(columns="geometry")).to_dict("records"):
            record = {}
            for column in REGISTER_COLUMNS:
                value = row[column]
                if column in _DATE_COLUMNS:
                    value = _iso(value)
                elif isinstance(value, float) and np.isnan(value):
                    value = None
                elif isinstance(value, np.generic):
                    value = value.item()
                record[column] = value
            records.append(record)
        return records

    def readme(self, name: str) -> str:
        """The text written beside a CSV register: what it is, its licence, sources and columns."""
        lines = [f"{name}: open register of collaboration pacts, one row per pact.", "",
                 f"Licence: {self.licence}"]
        if self.attribution:
            lines.append(f"Attribution: {self.attribution}")
        lines += ["", "Sources:"]
        for source in self.sources:
            extra = f" <{source['licence_url']}>" if source.get("licence_url") else ""
            credit = f"; attribution: {source['attribution']}" if source.get("attribution") else ""
            count = f"{source['pacts']} pact" + ("" if source["pacts"] == 1 else "s")
            lines.append(f"- {source['title']}: {source['licence']}{extra}{credit} ({count})")
        lines += ["", "Encoding UTF-8, comma-separated, one header row. Dates are ISO 8601 (YYYY-MM-DD); lists "
                  "are JSON arrays; lat/lon are WGS84 (EPSG:4326) degrees. Status labels are in "
                  f"'{self.lang}'.", "", "Columns:"]
        lines += [f"- {column}: {description}" for column, description in REGISTER_COLUMNS.items()]
        lines += ["", "Status codes:"]
        lines += [f"- {code}: {label}" for code, label in PactStatus.labels(self.lang).items()]
        return "\n".join(lines) + "\n"


def _iso(day: Any) -> str | None:
    return day.isoformat() if isinstance(day, dt.date) else None


def register_format(path: Path, fmt: str | None) -> str:
    """Return ``csv``, ``geojson`` or ``gpkg``: ``fmt`` if given, else from the file's suffix."""
    if fmt is not None:
        if fmt not in set(_FORMATS.values()):
            raise InvalidInputError(f"the register is written as csv, geojson or gpkg, not {fmt!r}")
        return fmt
    try:
        return _FORMATS[path.suffix.lower()]
    except KeyError:
        raise InvalidInputError(f"cannot tell the register's format from {path.name!r}: use .csv, .geojson or "
                                ".gpkg, or give the format") from None


def check_target(atlas: Atlas, path: Path, fmt: str | None) -> str:
    """Return the register's format for ``path``; refuse an unknown one, or the atlas's own file."""
    chosen = register_format(path, fmt)
    if path.exists() and path.resolve() == Path(atlas.location).resolve():
        raise InvalidInputError("the register cannot be written into the atlas itself: give another file")
    return chosen


def _clean(value: Any) -> Any:
    if value is None or (not isinstance(value, list | tuple | dict | np.ndarray) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_list(value: Any) -> list[Any]:
    value = _clean(value)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple | np.ndarray) else [value]


def _party_names(atlas: Atlas, viewer: Viewer) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each pact: the names of its proponents, and of its signatories, that the viewer may see."""
    links = visible(atlas, "pact_parties", viewer, exportable=True)
    parties = visible(atlas, "parties", viewer, exportable=True)
    names = dict(zip(parties["id"], parties["name"], strict=True))
    links = links[links["excluded_on"].isna() & links["party"].isin(set(names))]
    links = links.sort_values(["joined_on", "created"], kind="stable")
    proponents: dict[str, list[str]] = {}
    signatories: dict[str, list[str]] = {}
    for pact, party, role in zip(links["pact"], links["party"], links["role"], strict=True):
        if role == PactRole.PROPONENT.value and names[party] not in proponents.setdefault(pact, []):
            proponents[pact].append(names[party])
        if role in SIGNING_ROLES and names[party] not in signatories.setdefault(pact, []):
            signatories[pact].append(names[party])
    return proponents, signatories


def _parcel_refs(atlas: Atlas, viewer: Viewer) -> dict[str, list[str]]:
    """For each pact: the cadastral references of its visible parcel links."""
    links = visible(atlas, "pact_parcels", viewer, exportable=True)
    if links.empty:
        return {}
    parcels = visible(atlas, "parcels", viewer, exportable=True)
    refs = dict(zip(parcels["id"], parcels["cadastral_ref"], strict=True))
    found: dict[str, list[str]] = {}
    for pact, parcel, ref in zip(links["pact"], links["parcel"], links["cadastral_ref"], strict=True):
        text = _clean(ref) or refs.get(parcel)
        if text is not None:
            found.setdefault(pact, []).append(str(text))
    return found


def _last_changes(atlas: Atlas, viewer: Viewer) -> dict[str, Any]:
    events = visible(atlas, "pact_events", viewer, exportable=True)
    if events.empty:
        return {}
    return {str(pact): optional_day(day) for pact, day in events.groupby("pact")["happened_on"].max().items()}


def _licences(atlas: Atlas, pacts: pd.DataFrame, viewer: Viewer,
              licence: str | None) -> tuple[str, str | None, list[dict[str, Any]]]:
    """The register's licence, attribution and sources (see the module notes)."""
    datasets = visible(atlas, "datasets", viewer, exportable=True).set_index("id")
    metadata = atlas.metadata
    fallback = licence or metadata.get("licence")
    counts = pacts["dataset"].map(lambda d: d if isinstance(d, str) and d in datasets.index else None) \
        .value_counts(dropna=False)
    sources: list[dict[str, Any]] = []
    for dataset, count in counts.items():
        if isinstance(dataset, str):
            record = datasets.loc[dataset]
            sources.append({"title": record["title"], "licence": record["licence"],
                            "licence_url": _clean(record["licence_url"]),
                            "attribution": _clean(record["attribution"]), "pacts": int(count)})
        else:
            sources.append({"title": metadata.get("title") or "the atlas's own records", "licence": fallback,
                            "licence_url": None, "attribution": metadata.get("custodian"), "pacts": int(count)})
    if not sources:
        sources.append({"title": metadata.get("title") or "the atlas's own records", "licence": fallback,
                        "licence_url": None, "attribution": metadata.get("custodian"), "pacts": 0})
    unlicensed = [s for s in sources if not s["licence"]]
    if unlicensed:
        raise InvalidInputError(f"{unlicensed[0]['pacts']} pacts of the register have no licence: give one "
                                "(licence=..., --licence) or record it on their dataset or the atlas")
    licences = list(dict.fromkeys(str(s["licence"]) for s in sources))
    credits = list(dict.fromkeys(str(s["attribution"]) for s in sources if s["attribution"]))
    return " AND ".join(licences), "; ".join(credits) or None, sources


def register_table(atlas: Atlas, *, viewer: Viewer | None = None, lang: str = "en",
                   licence: str | None = None) -> Register:
    """Build the register of pacts that ``viewer`` (anonymous by default) may see; see :func:`export_register`."""
    if lang not in LANGUAGES:
        raise InvalidInputError(f"the register's language is one of {', '.join(LANGUAGES)}, not {lang!r}")
    viewer = viewer if viewer is not None else Viewer.anonymous()
    pacts = visible(atlas, "pacts", viewer, exportable=True)
    proponents, signatories = _party_names(atlas, viewer)
    parcel_refs = _parcel_refs(atlas, viewer)
    changes = _last_changes(atlas, viewer)
    districts = pact_districts(atlas, pacts, viewer).tolist()
    shapes = [polygonal(g) for g in pacts.geometry.values]
    areas = geodesic_area_ha(gpd.GeoSeries([s if s is not None else shapely.Polygon() for s in shapes],
                                           crs=atlas.crs)) if len(pacts) else np.zeros(0)
    points = representative_points(pacts.geometry)
    lon, lat = np.full(len(pacts), np.nan), np.full(len(pacts), np.nan)
    present = np.asarray([p is not None for p in points], dtype=bool)
    if present.any():
        x, y = shapely.get_x(points[present]), shapely.get_y(points[present])
        if not atlas.crs.equals(_WGS84):
            x, y = Transformer.from_crs(atlas.crs, _WGS84, always_xy=True).transform(x, y)
        lon[present], lat[present] = np.round(x, 7), np.round(y, 7)
    rows = []
    for number, pact in enumerate(pd.DataFrame(pacts.drop(columns="geometry")).to_dict("records")):
        pid = pact["id"]
        own_parcels = [str(p) for p in _as_list(pact.get("parcels"))]
        rows.append({
            "id": pid, "title": pact["title"], "status": pact["status"],
            "status_label": PactStatus.parse(pact["status"]).label(lang),
            "pact_type": _clean(pact.get("pact_type")),
            "interventions": _as_list(pact.get("interventions")), "domains": _as_list(pact.get("domains")),
            "district": districts[number],
            "proponent": "; ".join(proponents.get(pid, [])) or _clean(pact.get("proponent")),
            "signatories": signatories.get(pid, []), "support": _as_list(pact.get("support")),
            "reimbursement_amount": _clean(pact.get("reimbursement_amount")),
            "currency": _clean(pact.get("currency")),
            "signed_on": optional_day(pact.get("signed_on")), "starts_on": optional_day(pact.get("starts_on")),
            "expires_on": optional_day(pact.get("expires_on")),
            "parcels": sorted(set(parcel_refs.get(pid, [])) | set(own_parcels)),
            "area_ha": round(float(areas[number]), 4) if shapes[number] is not None else None,
            "lat": None if np.isnan(lat[number]) else float(lat[number]),
            "lon": None if np.isnan(lon[number]) else float(lon[number]),
            "reference": _clean(pact.get("reference")), "url": _clean(pact.get("url")),
            "last_change": changes.get(pid),
            "register_name": _clean(pact.get("register_name")), "register_id": _clean(pact.get("register_id")),
        })
    frame = pd.DataFrame(rows, columns=list(REGISTER_COLUMNS))
    for column in ("reimbursement_amount", "area_ha", "lat", "lon"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    geometry = gpd.GeoSeries(list(pacts.geometry.values), crs=atlas.crs).to_crs(_WGS84) if len(pacts) \
        else gpd.GeoSeries([], crs=_WGS84)
    register = gpd.GeoDataFrame(frame, geometry=geometry.values, crs=_WGS84)
    order = register.assign(_signed=[_iso(d) is None for d in register["signed_on"]],
                            _date=[_iso(d) or "" for d in register["signed_on"]])
    order = order.sort_values(["_signed", "_date", "title", "id"], kind="stable")
    register = register.loc[order.index].reset_index(drop=True)
    chosen, attribution, sources = _licences(atlas, pacts, viewer, licence)
    return Register(register, chosen, attribution, sources, lang)


def export_register(atlas: Atlas, path: str | Path, *, fmt: str | None = None, viewer: Viewer | None = None,
                    lang: str = "en", licence: str | None = None) -> Path:
    """Write the open register of pacts: one row per pact the viewer may see whole, with its licence.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    path : str or Path
        The file to write (replaced if it exists; in a GeoPackage, only the ``pact_register``
        layer is replaced). Never the atlas itself.
    fmt : {"csv", "geojson", "gpkg"}, optional
        The format; from the suffix (``.csv``, ``.geojson``/``.json``, ``.gpkg``) by default.
    viewer : Viewer, optional
        Whose register: anonymous (the public register) by default. Pacts it sees only
        generalised are left out; secret records never go out, whoever asks.
    lang : {"en", "es", "it", "pt"}, default "en"
        Language of ``status_label``.
    licence : str, optional
        Licence of the pacts whose dataset names none (by default the atlas's licence).

    Returns
    -------
    Path
        The file written (for CSV, a ``.txt`` with the licence is written beside it).

    Raises
    ------
    InvalidInputError
        If the format is unknown, the path is the atlas, or some pacts have no licence at all.
    """
    target = Path(path)
    check_target(atlas, target, fmt)
    return register_table(atlas, viewer=viewer, lang=lang, licence=licence).write(target, fmt)

