"""A demo atlas built from small cuts of real open data shipped with commonsmap.

The demo holds:

- **admin_units**: the 18 statistical zones of Bologna (Comune di Bologna, CC BY 4.0);
- **commons**: Bologna's allotment gardens (*orti*) and some named parks from OpenStreetMap (ODbL);
- **pacts**, **parties**, **pact_parties** and **pact_events**: the Ville de Paris register of
  shared gardens (ODbL), imported by :mod:`commonsmap.pacts.registers.paris`: one pact per
  garden, one party per steward association and per land owner, and the import event of each;
- **claims**, **parties** and **observations**: Amazon indigenous territories most affected by mining
  and the mining scars detected inside them in 2023 (Earth Genome / Amazon Mining Watch, CC BY 4.0);
- **parcels**: the cadastral sheets of San Felice del Molise (Agenzia delle Entrate, CC BY 4.0);
- **sources**: one row per dataset above.

The files are in :data:`DEMO_DIR`; its ``ATTRIBUTION.md`` gives each file's source, licence,
processing and the attribution the licences require, and its ``derive.py`` shows how each file
was cut. The OpenStreetMap and Paris parts stay under ODbL 1.0.

Examples
--------
>>> from commonsmap.demo import build_demo_atlas
>>> atlas = build_demo_atlas("demo-atlas.gpkg", progress=print)  # doctest: +SKIP
>>> atlas.counts()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd

from commonsmap.atlas.atlas import Atlas
from commonsmap.catalogue import default_catalogue_dir
from commonsmap.errors import AtlasError
from commonsmap.pacts.registers import import_register
from commonsmap.territories import landmark_terms

DEMO_DIR: Final[Path] = default_catalogue_dir() / "demo"
"""The folder of demo files (inside the installed ``layers`` package)."""

WHO: Final = "commonsmap demo"
"""Who the demo's writes are recorded as in the atlas history."""

CLAIM_STATUS: Final[dict[str, str]] = {
    # Brazil (FUNAI demarcation stages): Union land in the people's permanent possession, no title.
    "em estudo": "submitted",
    "delimitada": "under_review",
    "declarada": "under_review",
    "homologada": "recognised",
    "regularizada": "recognised",
    # Peru, Ecuador, Colombia: collective title or resguardo constituted by an act.
    "titulada": "titled",
    "inscrita": "titled",
    "acuerdo": "titled",
    "resolucion": "titled",
    "adecuada": "recognised",
    "ampliacion": "submitted",
    "decretada": "recognised",
    "solicitud": "submitted",
    "solicitud de titulación": "submitted",
    "sin reconocimiento": "asserted",
    # Bolivia, French Guiana (ZDUC), Venezuela.
    "ti con reconocimiento oficial": "recognised",
    "ti con reconocimiento solicitado": "submitted",
    "reconocida": "recognised",
    "demarcada": "recognised",
    "autodemarcado": "documented",
    "en proceso de autodemarcación": "asserted",
    "sin demarcación": "asserted",
}
"""Claim status for each official status of the Amazon territories (keys case-folded)."""

NO_OFFICIAL_STATUS: Final = "documented"
"""Claim status of territories whose source gives no status: mapped in a published dataset, no more."""

_SOURCES: Final[dict[str, dict[str, Any]]] = {
    "zones": {
        "title": "Zone del Comune di Bologna", "kind": "map", "author": "Comune di Bologna",
        "licence": "CC-BY-4.0", "uri": "https://opendata.comune.bologna.it/explore/dataset/zone-del-comune-di-bologna/",
        "description": "The 18 statistical zones of Bologna, via isaaclucky/bologna_geospatial@3da6f1de.",
    },
    "osm": {
        "title": "OpenStreetMap landuse of the Comune di Bologna", "kind": "map", "date": "2025-03-12",
        "author": "OpenStreetMap contributors", "licence": "ODbL-1.0", "uri": "https://www.openstreetmap.org/copyright",
        "description": "landuse=allotments and named parks, from the extract 037006_Bologna-2025-03-12 "
                       "via isaaclucky/bologna_geospatial@3da6f1de.",
    },
    "paris": {
        "title": "Jardins partagés (Ville de Paris)", "kind": "document", "date": "2023-09-01",
        "author": "Ville de Paris", "licence": "ODbL-1.0",
        "uri": "https://opendata.paris.fr/explore/dataset/jardins-partages/",
        "description": "Register of shared gardens, export of September 2023 via "
                       "antonfoch/GreenMeet@bee9667a; contact e-mails removed.",
    },
    "territories": {
        "title": "Indigenous territories affected by mining (Amazon Mining Watch)", "kind": "map",
        "author": "Earth Genome", "licence": "CC-BY-4.0", "uri": "https://amazonminingwatch.org",
        "description": "Harmonised from national and RAISG sources, "
                       "via earthrise-media/mining-detector@bbbcb2d7.",
    },
    "mining": {
        "title": "Mining newly detected in 2023 (Amazon Mining Watch)", "kind": "map",
        "author": "Earth Genome", "licence": "CC-BY-4.0", "uri": "https://amazonminingwatch.org",
        "description": "Mining scars first detected in 2023 satellite imagery, "
                       "via earthrise-media/mining-detector@bbbcb2d7.",
    },
    "cadastre": {
        "title": "Fogli catastali di San Felice del Molise (H833)", "kind": "map",
        "author": "Agenzia delle Entrate", "licence": "CC-BY-4.0",
        "uri": "https://github.com/YIN-Renlong/san-felice-del-molise-cadastral-map",
        "description": "INSPIRE CadastralZoning sheets, via "
                       "YIN-Renlong/san-felice-del-molise-cadastral-map@655d317e.",
    },
}

Progress = Callable[[str], None]


def _read(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO_DIR / name)


def _text(value: Any) -> str | None:
    """Return a stripped string, or None for missing or blank values."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def claim_status(official: Any) -> str:
    """Return the claim status for an official status text of the Amazon territories.

    Parameters
    ----------
    official : str or None
        The status as the source gives it (``"Regularizada"``, ``"Sin reconocimiento"``...).

    Returns
    -------
    str
        A ``claim_status`` code; :data:`NO_OFFICIAL_STATUS` when the source gives none.

    Raises
    ------
    KeyError
        For a status text the mapping does not know.
    """
    text = _text(official)
    return NO_OFFICIAL_STATUS if text is None else CLAIM_STATUS[text.casefold()]


def _add_parties(atlas: Atlas, names: list[str], kind: str, notes: str) -> dict[str, str]:
    """Add one party per distinct name; return ``{name: id}``."""
    distinct = list(dict.fromkeys(names))
    records = [{"name": name, "kind": kind, "notes": notes} for name in distinct]
    result = atlas.add("parties", records, who=WHO, note="demo parties")
    return dict(zip(distinct, result.ids, strict=True))


def _commons(sources: dict[str, str]) -> gpd.GeoDataFrame:
    green = _read("bologna_osm_green.geojson")
    allotment = green["landuse"] == "allotments"
    municipal = green["operator"] == "Comune di Bologna"
    unnamed = [f"Allotments, OSM {t} {i}" for t, i in zip(green["osm_type"], green["osm_id"], strict=True)]
    plots = [f"{int(p)} plots (OSM)" if _text(p) else None for p in green["plots"]]
    return green.assign(
        name=green["name"].where(green["name"].notna(), pd.Series(unnamed, index=green.index)),
        kind=["garden" if a else "park" for a in allotment],
        materiality="tangible",
        management_regime=["community_managed" if a and m else None
                           for a, m in zip(allotment, municipal, strict=True)],
        ownership=["municipal" if m else None for m in municipal],
        description=plots,
        source_id=sources["osm"],
    )


def _claims(parties: dict[str, str], sources: dict[str, str]) -> gpd.GeoDataFrame:
    territories = _read("amazon_territories.geojson").rename(columns={"country": "country_name"})
    people = [_text(p) for p in territories["ethnicities_field"]]
    statuses = [claim_status(s) for s in territories["status_field"]]
    return territories.assign(
        name=territories["name_field"],
        claimant=[parties[p] if p else None for p in people],
        basis="ancestral_occupation",
        status=statuses,
        identity="indigenous",
        recognition=[landmark_terms(s)[0] for s in statuses],
        documentation=[landmark_terms(s)[1] for s in statuses],
        official_status=territories["status_field"],
        people=people,
        country=territories["country_code"],
        sources=[[sources["territories"]]] * len(territories),
    ).drop(columns=["name_field", "status_field", "ethnicities_field", "country_code"])


def build_demo_atlas(path: str | Path, *, progress: Progress | None = None, overwrite: bool = False) -> Atlas:
    """Build the demo atlas from the files in :data:`DEMO_DIR`.

    Parameters
    ----------
    path : str or Path
        The GeoPackage to create.
    progress : callable, optional
        Called with a short description of each step.
    overwrite : bool, default False
        Replace ``path`` if it exists.

    Returns
    -------
    Atlas
        The new atlas, in EPSG:4326.

    Raises
    ------
    AtlasError
        If ``path`` exists and ``overwrite`` is false, or is not a file.
    """
    target = Path(path)
    report = progress or (lambda step: None)
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise AtlasError(f"{target} already exists; pass overwrite=True to replace it "
                             "with the demo atlas")
        if not target.is_file():
            raise AtlasError(f"{target} exists and is not a file; it cannot be replaced by the demo atlas")
        target.unlink()
    report(f"creating the atlas {target}")
    atlas = Atlas.create(target, crs="EPSG:4326", custodian=WHO, title="commonsmap demo atlas",
                         licence="ODbL-1.0 and CC-BY-4.0, see ATTRIBUTION.md")
    try:
        _fill(atlas, report)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return atlas


def _datasets(atlas: Atlas) -> dict[str, str]:
    """One dataset per source file, carrying its licence and attribution; return ``{key: id}``."""
    records = [{"title": row["title"], "licence": row["licence"], "licence_url": row["uri"],
                "attribution": row["author"], "description": row["description"]} for row in _SOURCES.values()]
    written = atlas.add("datasets", records, who=WHO, note="demo datasets")
    return dict(zip(_SOURCES, written.ids, strict=True))


def _fill(atlas: Atlas, report: Progress) -> None:
    report("datasets and sources: one per file")
    datasets = _datasets(atlas)
    records = [{**row, "sensitivity": "public", "dataset": datasets[key]} for key, row in _SOURCES.items()]
    written = atlas.add("sources", records, who=WHO, note="demo sources")
    sources = dict(zip(_SOURCES, written.ids, strict=True))

    report("admin_units: Bologna statistical zones")
    atlas.import_file(DEMO_DIR / "bologna_zones.geojson", "admin_units", who=WHO, unknown="keep",
                      mapping={"nomezona": "name", "codzona": "code", "quartiere": "parent"},
                      values={"kind": "zone", "dataset": datasets["zones"]})

    report("commons: Bologna allotments and parks (OpenStreetMap)")
    atlas.add("commons", _commons(sources).assign(dataset=datasets["osm"]),
              who=WHO, note="import of bologna_osm_green.geojson",
              unknown="keep")

    report("pacts and parties: Paris shared gardens, their stewards and land owners")
    import_register(atlas, DEMO_DIR / "paris_jardins_partages.geojson", register="paris",
                    snapshot_date=_SOURCES["paris"]["date"], who=WHO, dataset=datasets["paris"])

    report("parties: indigenous peoples of the Amazon territories")
    peoples = [t for t in map(_text, _read("amazon_territories.geojson")["ethnicities_field"]) if t]
    people_ids = _add_parties(atlas, peoples, "indigenous_people",
                              "People or peoples as named in the Amazon Mining Watch territory data")

    report("claims: Amazon indigenous territories most affected by mining")
    atlas.add("claims", _claims(people_ids, sources).assign(dataset=datasets["territories"]),
              who=WHO, note="import of amazon_territories.geojson",
              unknown="keep")

    report("observations: mining detected in 2023 inside those territories")
    atlas.import_file(DEMO_DIR / "amazon_mining_2023.geojson", "observations", who=WHO, unknown="keep",
                      mapping={"mined_area_ha": "value"},
                      values={"kind": "mining", "observed_at": "2023-12-31", "sensitivity": "public",
                              "dataset": datasets["mining"],
                              "observer": "Earth Genome (Amazon Mining Watch)",
                              "notes": "Mining scar first detected in 2023; value = mined area (ha)"})

    report("parcels: cadastral sheets of San Felice del Molise")
    atlas.import_file(DEMO_DIR / "san_felice_fogli.geojson", "parcels", who=WHO, unknown="keep",
                      mapping={"NATIONALCADASTRALZONINGREFERENCE": "cadastral_ref"},
                      values={"cadastral_unit": "H833", "owner_kind": "unknown",
                              "designation": "not_designated", "dataset": datasets["cadastre"]})
