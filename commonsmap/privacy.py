"""Who may see what: viewers, their levels, and the one filter every output goes through.

A feature's ``sensitivity`` says who may see it: ``public`` (anyone), ``internal`` (signed-in
viewers), ``community`` (members of a party that holds it), ``secret`` (that party's
custodians). The parties that hold a feature are named by its layer's ``holder_fields`` and by
its ``custodian``. A viewer below a feature's level sees nothing of it, unless the feature is
marked ``publish_as`` ``grid_cell`` or ``admin_unit``: then it sees a generalised form (see
:mod:`commonsmap.generalise`). Secret features are never generalised.

:func:`visible` is the single place this rule is applied; the atlas's reads, exports,
statistics and conflict reports all call it, and so do the API and the maps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from commonsmap.catalogue import LayerSpec
from commonsmap.errors import QueryError
from commonsmap.vocabularies import SENSITIVITY_ORDER, ViewerRole

GENERALISABLE = ("grid_cell", "admin_unit")
"""``publish_as`` values that let a feature be shown, generalised, to viewers below its level."""

OPAQUE_KEY = "opaque_key"
"""Metadata entry holding the atlas's secret key for the ids of generalised features."""

SECRET_METADATA_PREFIXES = (OPAQUE_KEY, "api_key:")
"""Metadata entries that are secrets of the atlas (its opaque-id key, its API keys): never shown."""

GENERALISED_COLUMN = "generalised"
"""Column added to frames read for a viewer: true for rows shown in generalised form."""

_LEVEL = {name: index for index, name in enumerate(SENSITIVITY_ORDER)}
_PUBLIC, _INTERNAL, _COMMUNITY, _SECRET = (_LEVEL[n] for n in ("public", "internal", "community", "secret"))


@dataclass(frozen=True)
class Viewer:
    """Someone looking at the atlas: a role and, for members and custodians, their parties.

    Build one with the class methods: ``Viewer.anonymous()``, ``Viewer.signed_in()``,
    ``Viewer.member(party_id, ...)``, ``Viewer.custodian(party_id, ...)``, ``Viewer.admin()``.

    Attributes
    ----------
    role : ViewerRole
        anonymous < signed_in < member < custodian < admin.
    parties : frozenset of str
        Ids of the parties the viewer belongs to (members) or looks after (custodians).
    name : str, optional
        Who it is, for the history of writes.
    """

    role: ViewerRole = ViewerRole.ANONYMOUS
    parties: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", ViewerRole(ViewerRole.parse(self.role)))
        object.__setattr__(self, "parties", frozenset(str(p) for p in self.parties))
        if self.role in (ViewerRole.MEMBER, ViewerRole.CUSTODIAN) and not self.parties:
            raise QueryError(f"a {self.role.value} viewer needs the id of at least one party")

    @classmethod
    def anonymous(cls) -> Viewer:
        """Anyone on the internet: public features only."""
        return cls(ViewerRole.ANONYMOUS)

    @classmethod
    def signed_in(cls, name: str | None = None) -> Viewer:
        """A signed-in user: public and internal features."""
        return cls(ViewerRole.SIGNED_IN, name=name)

    @classmethod
    def member(cls, *parties: str, name: str | None = None) -> Viewer:
        """A member of ``parties``: also their ``community`` features."""
        return cls(ViewerRole.MEMBER, frozenset(parties), name)

    @classmethod
    def custodian(cls, *parties: str, name: str | None = None) -> Viewer:
        """A custodian of ``parties``: also their ``community`` and ``secret`` features."""
        return cls(ViewerRole.CUSTODIAN, frozenset(parties), name)

    @classmethod
    def admin(cls, name: str | None = None) -> Viewer:
        """The atlas's administrator: everything."""
        return cls(ViewerRole.ADMIN, name=name)

    @property
    def general_level(self) -> int:
        """The highest sensitivity (as an index) the viewer sees on any feature."""
        if self.role is ViewerRole.ADMIN:
            return _SECRET
        return _PUBLIC if self.role is ViewerRole.ANONYMOUS else _INTERNAL

    @property
    def own_level(self) -> int:
        """The highest sensitivity (as an index) the viewer sees on features its parties hold."""
        return {ViewerRole.MEMBER: _COMMUNITY, ViewerRole.CUSTODIAN: _SECRET}.get(self.role, self.general_level)

    @property
    def sees_everything(self) -> bool:
        """Whether nothing is hidden from this viewer."""
        return self.role is ViewerRole.ADMIN

    def levels(self, own: bool = False) -> list[str]:
        """Sensitivity codes visible on features in general, or on features its parties hold."""
        return list(SENSITIVITY_ORDER[: (self.own_level if own else self.general_level) + 1])


ADMIN = Viewer.admin()


def whole_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop generalised rows: they stand for features the viewer may neither locate nor read."""
    if GENERALISED_COLUMN in frame.columns:
        return frame[~frame[GENERALISED_COLUMN].astype(bool)].reset_index(drop=True)
    return frame


def holders(frame: pd.DataFrame, spec: LayerSpec) -> list[set[str]]:
    """Return, for each row, the ids of the parties that hold it (holder fields and custodian)."""
    names = [n for n in (*spec.holder_fields, "custodian") if n in frame.columns]
    result: list[set[str]] = [set() for _ in range(len(frame))]
    for name in names:
        for row, value in enumerate(frame[name].tolist()):
            result[row].update(_ids(value))
    return result


def held_by(frame: pd.DataFrame, spec: LayerSpec, parties: frozenset[str]) -> np.ndarray:
    """Which rows are held by any of ``parties`` (vectorised for plain reference columns)."""
    result = np.zeros(len(frame), dtype=bool)
    for name in (*spec.holder_fields, "custodian"):
        if name not in frame.columns:
            continue
        column = frame[name]
        if name not in ("id", "custodian") and spec.field(name).type in ("list", "enum_list", "json"):
            result |= np.fromiter((bool(set(_ids(v)) & parties) for v in column), dtype=bool, count=len(frame))
        else:
            result |= column.astype(object).isin(parties).to_numpy()
    return result


def _ids(value: Any) -> Iterable[str]:
    if value is None:
        return ()
    if isinstance(value, list | tuple | set | np.ndarray):
        return (str(v) for v in value if v is not None)
    if isinstance(value, float) and np.isnan(value):
        return ()
    return (str(value),)


def row_access(frame: pd.DataFrame, spec: LayerSpec, viewer: Viewer) -> tuple[np.ndarray, np.ndarray]:
    """Decide for each row whether the viewer sees it whole, generalised, or not at all.

    Returns
    -------
    full, generalised : numpy.ndarray of bool
        ``full`` rows are shown as stored; ``generalised`` rows only in generalised form. A row
        is never both; rows in neither are hidden.
    """
    count = len(frame)
    if viewer.sees_everything:
        return np.ones(count, dtype=bool), np.zeros(count, dtype=bool)
    level = frame["sensitivity"].map(_LEVEL).fillna(_SECRET).to_numpy(dtype=int) if count else np.zeros(0, int)
    full = level <= viewer.general_level
    if viewer.parties and viewer.own_level > viewer.general_level:
        full |= held_by(frame, spec, viewer.parties) & (level <= viewer.own_level)
    publish = frame["publish_as"].to_numpy(dtype=object) if "publish_as" in frame.columns else np.full(count, None)
    generalisable = np.isin(publish, GENERALISABLE) & (level < _SECRET)
    return full, generalisable & ~full


def sql_prefilter(spec: LayerSpec, viewer: Viewer) -> str | None:
    """An SQL condition selecting (a superset of) the rows the viewer sees whole; None for everything.

    It only narrows what is read from the store; :func:`row_access` decides exactly.
    """
    if viewer.sees_everything:
        return None
    general = _in("sensitivity", viewer.levels())
    if not viewer.parties or viewer.own_level <= viewer.general_level:
        return general
    own_clauses: list[str] = []
    for name in (*spec.holder_fields, "custodian"):
        field_type = "string" if name in ("id", "custodian") else spec.field(name).type
        if field_type in ("list", "enum_list", "json"):
            own_clauses.extend(f"{_quote(name)} LIKE {_literal('%' + _like(_json_string(p)) + '%')} ESCAPE '\\'"
                               for p in sorted(viewer.parties))
        else:
            own_clauses.append(_in(name, sorted(viewer.parties)))
    own = f"({_in('sensitivity', viewer.levels(own=True))} AND ({' OR '.join(own_clauses)}))"
    return f"({general} OR {own})"


def shown_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """The atlas metadata without its secrets (see :data:`SECRET_METADATA_PREFIXES`)."""
    return {k: v for k, v in metadata.items() if not k.startswith(SECRET_METADATA_PREFIXES)}


def prefilter_is_exact(viewer: Viewer) -> bool:
    """Whether :func:`sql_prefilter` selects exactly the rows the viewer sees whole (not a superset).

    True unless the viewer sees more on its own parties' features, which the SQL condition
    finds by matching text: those reads are checked again by :func:`row_access`.
    """
    return viewer.sees_everything or not viewer.parties or viewer.own_level <= viewer.general_level


def generalisable_filter() -> str:
    """SQL condition of rows that may appear generalised (to be checked again by :func:`row_access`)."""
    return f"{_in('publish_as', list(GENERALISABLE))} AND sensitivity <> 'secret'"


def opaque_id(layer: str, feature_id: str, key: str) -> str:
    """A stable id for a generalised feature that does not reveal the feature's own id.

    A keyed hash (HMAC-SHA-256 with the atlas's own secret key): the same on every call, and
    impossible to link to the real id, even by a viewer who sees that id in another record
    (a right naming a hidden commons, a dispute naming a hidden claim).
    """
    digest = hmac.new(key.encode(), f"{layer}:{feature_id}".encode(), hashlib.sha256).hexdigest()
    return "g-" + digest[:24]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _in(column: str, values: list[str]) -> str:
    if not values:
        return "0"
    return f"{_quote(column)} IN ({', '.join(_literal(v) for v in values)})"


def parse_viewer(text: str) -> Viewer:
    """Read a viewer from text: ``anonymous``, ``signed_in``, ``member:ID[,ID]``, ``custodian:ID[,ID]``, ``admin``.

    Examples
    --------
    >>> parse_viewer("member:0190a1b2").parties
    frozenset({'0190a1b2'})
    """
    role, _, parties = text.partition(":")
    ids = frozenset(p.strip() for p in parties.split(",") if p.strip())
    try:
        return Viewer(ViewerRole(ViewerRole.parse(role.strip())), ids)
    except ValueError as exc:
        raise QueryError(f"unknown viewer {text!r}: use anonymous, signed_in, member:PARTY_ID, "
                                "custodian:PARTY_ID or admin") from exc
