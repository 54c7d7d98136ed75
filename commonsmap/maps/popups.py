"""Popups of the map's features, from the catalogue's popup fields and the feature's relations.

A commons shows the rights on it and the pacts that care for it; a claim its status and how
many sources back it; a pact its status, parties and dates. Every name shown comes from a
feature the viewer may see: a relation the viewer may not see is left out, never shown as an
id. Every value is HTML-escaped here, once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from commonsmap.atlas import Atlas
from commonsmap.catalogue import FieldSpec, LayerSpec
from commonsmap.maps.labels import word
from commonsmap.privacy import GENERALISED_COLUMN, Viewer

NAMED_LAYERS = ("parties", "commons", "pacts", "claims")
"""Layers whose features other features refer to by id, shown by their title."""


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, list | tuple | np.ndarray):
        return len(value) > 0
    if isinstance(value, float | np.floating) and np.isnan(value):
        return False
    return not (value is pd.NaT or (isinstance(value, pd.Timestamp) and pd.isna(value)))


def _items(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    return [value]


@dataclass
class Relations:
    """What the popups say about a feature's relations, as the viewer may see them.

    Attributes
    ----------
    names : dict
        ``{layer: {id: title}}`` of the features others refer to.
    rights_on : dict
        ``{commons id: [right description, …]}``.
    pacts_on : dict
        ``{commons id: [pact title, …]}``.
    parties_of : dict
        ``{pact id: [party name (role), …]}``.
    """

    names: dict[str, dict[str, str]] = field(default_factory=dict)
    rights_on: dict[str, list[str]] = field(default_factory=dict)
    pacts_on: dict[str, list[str]] = field(default_factory=dict)
    parties_of: dict[str, list[str]] = field(default_factory=dict)


def _titles(atlas: Atlas, layer: str, viewer: Viewer) -> dict[str, str]:
    if layer not in atlas.layers():
        return {}
    spec = atlas.spec(layer)
    frame = atlas.layer(layer, viewer=viewer)
    whole = frame[~frame[GENERALISED_COLUMN].astype(bool)] if GENERALISED_COLUMN in frame else frame
    title = spec.title_field or "id"
    return {str(i): str(t) for i, t in zip(whole["id"], whole[title], strict=True) if _present(t)}


def relations(atlas: Atlas, layers: Iterable[str], viewer: Viewer, lang: str) -> Relations:
    """Gather, as ``viewer`` may see them, the relations the popups of ``layers`` show."""
    wanted = set(layers)
    found = Relations()
    for name in NAMED_LAYERS:
        found.names[name] = _titles(atlas, name, viewer)
    present = set(atlas.layers())
    if "commons" in wanted and "rights" in present:
        rights = atlas.layer("rights", viewer=viewer)
        spec = atlas.spec("rights")
        rights_on: dict[str, list[str]] = defaultdict(list)
        for row in rights.to_dict("records"):
            if _present(row.get("commons")) and not row.get(GENERALISED_COLUMN):
                kind = display_value(spec.field("kind"), row.get("kind"), lang, found.names) or ""
                holder = display_value(spec.field("holder"), row.get("holder"), lang, found.names)
                rights_on[str(row["commons"])].append(f"{kind} ({holder})" if holder else kind)
        found.rights_on = dict(rights_on)
    if "commons" in wanted and "pacts" in present:
        pacts = atlas.layer("pacts", viewer=viewer)
        status_field = atlas.spec("pacts").field("status")
        pacts_on: dict[str, list[str]] = defaultdict(list)
        for row in pacts.to_dict("records"):
            if row.get(GENERALISED_COLUMN) or not _present(row.get("commons")):
                continue
            status = display_value(status_field, row.get("status"), lang, found.names)
            for commons_id in _items(row["commons"]):
                pacts_on[str(commons_id)].append(f"{row['title']} ({status})")
        found.pacts_on = dict(pacts_on)
    if "pacts" in wanted and "pact_parties" in present:
        members = atlas.layer("pact_parties", viewer=viewer)
        role_field = atlas.spec("pact_parties").field("role")
        parties_of: dict[str, list[str]] = defaultdict(list)
        for row in members.to_dict("records"):
            party = found.names["parties"].get(str(row.get("party")))
            if party and not row.get(GENERALISED_COLUMN):
                role = display_value(role_field, row.get("role"), lang, found.names)
                parties_of[str(row["pact"])].append(f"{party} ({role})" if role else party)
        found.parties_of = dict(parties_of)
    return found


def display_value(spec: FieldSpec, value: Any, lang: str, names: Mapping[str, Mapping[str, str]]) -> str | None:
    """Return a field's value as people read it (labels, names, dates), or None to leave it out.

    A reference to a feature the viewer may not see gives None: its id is never shown.
    """
    if not _present(value):
        return None
    vocab = spec.vocab
    if spec.type in ("enum", "enum_list") and vocab is not None:
        labels = vocab.labels(lang)
        return ", ".join(labels.get(str(v), str(v)) for v in _items(value))
    if spec.type == "ref":
        shown = [names.get(spec.ref or "", {}).get(str(v)) for v in _items(value)]
        return ", ".join(s for s in shown if s) or None
    if spec.type == "boolean":
        return word("yes" if bool(value) else "no", lang)
    if spec.type == "date" and isinstance(value, dt.date | pd.Timestamp | np.datetime64):
        return str(pd.Timestamp(value).date())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if spec.type == "list":
        return ", ".join(str(v) for v in _items(value))
    if spec.type == "json":
        return None
    return str(value)


def _row(label: str, value: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"


def _extras(spec: LayerSpec, row: Mapping[str, Any], lang: str, found: Relations) -> list[tuple[str, str]]:
    feature_id = str(row.get("id"))
    if spec.name == "commons":
        return [(word("rights", lang), "; ".join(found.rights_on.get(feature_id, [])) or word("none", lang)),
                (word("pacts", lang), "; ".join(found.pacts_on.get(feature_id, [])) or word("none", lang))]
    if spec.name == "claims":
        count = len(_items(row["sources"])) if _present(row.get("sources")) else 0
        return [(word("evidence", lang), f"{count} {word('sources', lang)}")]
    if spec.name == "pacts":
        parties = found.parties_of.get(feature_id)
        if parties is None and _present(row.get("parties")):
            parties = [found.names["parties"][str(p)] for p in _items(row["parties"])
                       if str(p) in found.names["parties"]]
        return [(word("parties", lang), "; ".join(parties or []) or word("none", lang))]
    return []


POPUP_EXTRA_FIELDS = {"pacts": ("starts_on",)}
"""Fields a layer's popup shows beyond the catalogue's list (a pact's dates)."""


def popup_html(spec: LayerSpec, row: Mapping[str, Any], lang: str, found: Relations | None) -> str:
    """Return the popup of one feature: its title, its popup fields, and its relations.

    Without ``found`` (a page of features, not a map of the atlas), relations are left out.
    """
    names = found.names if found is not None else {}
    title = row.get(spec.title_field) if spec.title_field else None
    head = f"<h4>{escape(spec.title(lang))}</h4>"
    if _present(title):
        head = f"<h4>{escape(str(title))}</h4><p class='cm-layer'>{escape(spec.title(lang))}</p>"
    if row.get(GENERALISED_COLUMN):
        head += f"<p class='cm-generalised'>{escape(word('generalised', lang))}</p>"
    rows = []
    for name in (*spec.popup, *POPUP_EXTRA_FIELDS.get(spec.name, ())):
        if name == spec.title_field:
            continue
        shown = display_value(spec.field(name), row.get(name), lang, names)
        if shown is not None:
            rows.append(_row(spec.field(name).title(lang), shown))
    if found is not None and not row.get(GENERALISED_COLUMN):
        rows.extend(_row(label, value) for label, value in _extras(spec, row, lang, found))
    return head + (f"<table>{''.join(rows)}</table>" if rows else "")
