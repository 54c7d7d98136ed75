"""Who may change what: the rules every write from outside the atlas file goes through.

The atlas file's owner writes freely in a notebook; the web layer, which acts for many
people, asks these functions first. The rules follow the roles of :mod:`commonsmap.privacy`:

- anonymous viewers write nothing;
- signed-in viewers may comment on a pact during its public notice;
- members of a party may add observations and sources their party holds, and report on and
  comment on the pacts their party signed;
- custodians of a party may also create, replace, update and delete the features their
  party holds (it must still hold them afterwards), and propose pacts;
- the administrator may change anything editable, and alone moves pacts through their
  lifecycle (the administration decides; a proponent's custodian may withdraw its proposal).

A viewer is never told more in a refusal than it may see: a feature it may not see is
"not found", whatever the write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from commonsmap.catalogue import LayerSpec
from commonsmap.errors import PermissionDeniedError
from commonsmap.privacy import Viewer, held_by
from commonsmap.vocabularies import ViewerRole

MEMBER_LAYERS = frozenset({"observations", "sources"})
"""Layers where members (not only custodians) may add their party's records."""

WITHDRAWAL = "withdrawn"


def holds(spec: LayerSpec, record: Mapping[str, Any], parties: frozenset[str]) -> bool:
    """Whether one of ``parties`` holds ``record`` (a holder field or its custodian names it)."""
    frame = pd.DataFrame([{k: v for k, v in record.items() if k != "geometry"}])
    for name in (*spec.holder_fields, "custodian"):
        if name not in frame.columns:
            frame[name] = None
    return bool(held_by(frame, spec, parties)[0])


def check_write(viewer: Viewer, spec: LayerSpec, *, before: Mapping[str, Any] | None,
                after: Mapping[str, Any] | None) -> None:
    """Refuse a create (``before`` None), change, or delete (``after`` None) the viewer may not make.

    Raises
    ------
    PermissionDeniedError
        Saying which role or party the write needs.
    """
    action = "create" if before is None else "delete" if after is None else "change"
    if not spec.editable:
        raise PermissionDeniedError(f"layer {spec.name!r} is not editable")
    if viewer.role is ViewerRole.ADMIN:
        return
    if viewer.role in (ViewerRole.ANONYMOUS, ViewerRole.SIGNED_IN):
        raise PermissionDeniedError(f"to {action} {spec.name} you need a member's, custodian's or "
                                    "administrator's key")
    if viewer.role is ViewerRole.MEMBER and (action != "create" or spec.name not in MEMBER_LAYERS):
        raise PermissionDeniedError(f"members may only add {' and '.join(sorted(MEMBER_LAYERS))}; to {action} "
                                    f"{spec.name} you need a custodian's or administrator's key")
    for label, record in (("before", before), ("after", after)):
        if record is not None and not holds(spec, record, viewer.parties):
            where = "it" if label == "before" else "the result"
            raise PermissionDeniedError(f"your parties do not hold {where}: set custodian (or "
                                        f"{', '.join(spec.holder_fields) or 'custodian'}) to one of your parties")


def check_transition(viewer: Viewer, pact: Mapping[str, Any], target: str, proponents: set[str]) -> None:
    """Refuse a lifecycle change the viewer may not make (see the module's rules)."""
    if viewer.role is ViewerRole.ADMIN:
        return
    if target == WITHDRAWAL and viewer.role is ViewerRole.CUSTODIAN and viewer.parties & proponents:
        return
    raise PermissionDeniedError("only the administration moves a pact through its lifecycle (a proponent's "
                                "custodian may withdraw it)")


def check_comment(viewer: Viewer) -> None:
    """Refuse a comment from an anonymous viewer (comments carry who made them)."""
    if viewer.role is ViewerRole.ANONYMOUS:
        raise PermissionDeniedError("sign in (use a key) to comment: a comment records who made it")


def check_report(viewer: Viewer, signatories: set[str]) -> None:
    """Refuse a report on a pact from anyone but its signatories' members and custodians, or the administrator."""
    if viewer.role is ViewerRole.ADMIN:
        return
    if viewer.role in (ViewerRole.MEMBER, ViewerRole.CUSTODIAN) and viewer.parties & signatories:
        return
    raise PermissionDeniedError("only the pact's signatories (or the administration) report on it")
