"""Pact actions over HTTP: status changes, comments, reports, and a pact's events.

Every action goes through the library, with its rules: the lifecycle of
:mod:`commonsmap.pacts.lifecycle` (a forbidden change is 409 and lists the allowed ones), the
permissions of :mod:`commonsmap.permissions`, and the viewer rules of :mod:`commonsmap.privacy`
(a pact the viewer may not see is 404, exactly as a missing one). Who acts is the key's holder.

Events are records of ``pact_events`` with their own sensitivity: a viewer gets those it may
see, their ``actor`` only when signed in, and neither party nor actor of an event whose party
it may not see. A comment is recorded at the pact's level, raised to ``internal`` when made
for no party and to ``community`` when made for a party that is a person: a natural person
is never named to viewers who may not see them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import AtlasDep, ViewerDep, WriterDep
from api.errors import ApiError
from api.geojson import GEOJSON, JSON, dumps, feature_object
from api.links import link, self_links, url
from api.openapi import document
from api.params import check_known
from api.routers.items import etag
from commonsmap.atlas.atlas import Atlas
from commonsmap.atlas.store import Selection
from commonsmap.errors import NotFoundError, PermissionDeniedError
from commonsmap.features import FeatureQuery, feature, feature_page
from commonsmap.pacts import allowed_next, comment, report, transition
from commonsmap.pacts.contents import SIGNING_ROLES
from commonsmap.permissions import check_comment, check_report, check_transition
from commonsmap.privacy import Viewer
from commonsmap.query import equality_filter, queryables_of
from commonsmap.vocabularies import SENSITIVITY_ORDER, PactRole, PactStatus, ViewerRole

CONFORMANCE: tuple[str, ...] = ()
PACT = "/collections/pacts/items/{pact_id}"
Body = dict[str, tuple[type, bool]]
TRANSITION_BODY: Body = {"status": (str, True), "note": (str, False), "decision": (str, False),
                         "on": (str, False), "until": (str, False)}
COMMENT_BODY: Body = {"text": (str, True), "party": (str, False)}
REPORT_BODY: Body = {"period_from": (str, True), "period_to": (str, True), "indicators": (dict, True),
                     "text": (str, False), "party": (str, False)}
"""Request bodies: each member's JSON type and whether it is required (any other member is refused)."""
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

document("GET", PACT + "/transitions", params=("f",), types=(JSON,))
document("POST", PACT + "/transitions", params=(), types=(GEOJSON,))
document("POST", PACT + "/comments", params=(), types=(JSON,))
document("POST", PACT + "/reports", params=(), types=(JSON,))
document("GET", PACT + "/events", params=("f",), types=(JSON,))

router = APIRouter(tags=["Pacts"])


async def _body(request: Request, fields: Body) -> dict[str, Any]:
    """The JSON object of the request, checked against ``fields`` (400 naming what is wrong)."""
    check_known(request.query_params, set())
    if request.headers.get("content-type", "").split(";")[0].strip() != JSON:
        raise ApiError(415, "UnsupportedMediaType", f"send the body as {JSON}")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "InvalidValue", f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidValue", "the body must be a JSON object")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise ApiError(400, "InvalidValue", f"unknown member(s) {', '.join(unknown)}; this body takes "
                                            f"{', '.join(fields)}")
    for name, (kind, required) in fields.items():
        value = body.get(name)
        if value is None and required:
            raise ApiError(400, "InvalidValue", f"the body needs {name!r}")
        if value is not None and not isinstance(value, kind):
            raise ApiError(400, "InvalidValue", f"{name} must be {'text' if kind is str else 'an object'}")
    return body


def _day(body: dict[str, Any], name: str) -> dt.date | None:
    raw = body.get(name)
    if raw is None:
        return None
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "InvalidValue", f"{name} must be a date as YYYY-MM-DD, not {raw!r}") from None


def _json_only(request: Request) -> None:
    check_known(request.query_params, {"f"})
    if request.query_params.get("f", "json") != "json":
        raise ApiError(400, "InvalidParameterValue", "this resource is JSON only: f=json")


def _who(viewer: Viewer) -> str:
    return viewer.name or f"an API key ({viewer.role.value})"


def _pact(atlas: Atlas, pact_id: str, viewer: Viewer) -> dict[str, Any]:
    """The pact, if the viewer sees it whole (else 404, as if it did not exist)."""
    record, _, generalised = feature(atlas, "pacts", pact_id, viewer)
    if generalised:
        raise NotFoundError(f"no feature {pact_id!r} in layer 'pacts'")
    return record


def _parties(atlas: Atlas, pact_id: str, role: str | None = None) -> set[str]:
    """The pact's current parties: its signatories, or those in ``role``."""
    rows = atlas.store.select("pact_parties", Selection('"pact" = ?', (pact_id,)), ["party", "role", "excluded_on"])
    roles = SIGNING_ROLES if role is None else {role}
    return {str(party) for party, kind, excluded in rows if kind in roles and excluded is None}


def _permitted(viewer: Viewer, pact: dict[str, Any], target: str, proponents: set[str]) -> bool:
    try:
        check_transition(viewer, pact, target, proponents)
    except PermissionDeniedError:
        return False
    return True


def _sees(atlas: Atlas, layer: str, feature_id: str, viewer: Viewer) -> bool:
    try:
        return not feature(atlas, layer, feature_id, viewer)[2]
    except NotFoundError:
        return False


def _links(request: Request, pact_id: str, action: str) -> list[dict[str, Any]]:
    path = f"/collections/pacts/items/{pact_id}"
    return [self_links(request, f"{path}/{action}")[0], link(url(request, path), "related", GEOJSON, "the pact")]


def _shown(atlas: Atlas, events: list[dict[str, Any]], viewer: Viewer) -> list[dict[str, Any]]:
    """Events as the viewer may read them: no actor unless signed in, no party it may not see."""
    parties = {str(e["party"]) for e in events if e.get("party")}
    hidden = {p for p in parties if not _sees(atlas, "parties", p, viewer)}
    shown = [dict(event) for event in events]
    for event in shown:
        if viewer.role is ViewerRole.ANONYMOUS or event.get("party") in hidden:
            event["actor"] = None
        if event.get("party") in hidden:
            event["party"] = None
    return shown


def _event_answer(request: Request, atlas: Atlas, event_id: str, viewer: Viewer) -> Response:
    location = url(request, f"/collections/pact_events/items/{event_id}")
    try:
        record = _shown(atlas, [feature(atlas, "pact_events", event_id, viewer)[0]], viewer)[0]
    except NotFoundError:  # recorded above what its author may see: say only that it exists
        record = {"id": event_id}
    return Response(dumps(record), status_code=201, media_type=JSON, headers={"Location": location})


@router.get(PACT + "/transitions", summary="Statuses a pact may move to", response_model=None)
def transitions(request: Request, pact_id: str, atlas: AtlasDep, viewer: ViewerDep) -> Response:
    """The statuses the lifecycle allows the pact to move to now, with labels and whether you may make each."""
    _json_only(request)
    pact = _pact(atlas, pact_id, viewer)
    proponents = _parties(atlas, pact_id, PactRole.PROPONENT.value)
    following = [{"status": s, "label": PactStatus(s).label(), "permitted": _permitted(viewer, pact, s, proponents)}
                 for s in allowed_next(pact["status"], pact.get("pact_type"))]
    body = {"pact": pact_id, "status": pact["status"], "label": PactStatus(pact["status"]).label(),
            "pact_type": pact.get("pact_type"), "transitions": following, "links": _links(request, pact_id,
                                                                                           "transitions")}
    return Response(dumps(body), media_type=JSON, headers={"ETag": etag(pact.get("version"))})


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match", "*").strip()
    text = raw.removeprefix("W/").strip('"')
    if raw != "*" and not text.isdigit():
        raise ApiError(412, "PreconditionFailed", f"If-Match {raw!r} is not an ETag of this server")
    return None if raw == "*" else int(text)


@router.post(PACT + "/transitions", summary="Change a pact's status", response_model=None)
async def change_status(request: Request, pact_id: str, atlas: AtlasDep, viewer: WriterDep) -> Response:
    """Move the pact to ``status`` (with ``note``, ``decision``, ``on``, ``until``); send If-Match with its ETag."""
    body = await _body(request, TRANSITION_BODY)
    on, until = _day(body, "on"), _day(body, "until")
    expected = _if_match(request)
    pact = _pact(atlas, pact_id, viewer)
    if expected is not None and expected != int(pact["version"]):
        raise ApiError(412, "PreconditionFailed", f"pact {pact_id!r} changed since your ETag \"{expected}\": "
                                                  "read it again")
    try:
        target = PactStatus.parse(body["status"]).value
    except (ValueError, KeyError):
        target = body["status"]  # the lifecycle refuses it, listing the statuses
    check_transition(viewer, pact, target, _parties(atlas, pact_id, PactRole.PROPONENT.value))
    transition(atlas, pact_id, body["status"], who=_who(viewer), on=on, note=body.get("note"),
               decision_ref=body.get("decision"), until=until, expected_version=int(pact["version"]))
    record, geometry, _ = feature(atlas, "pacts", pact_id, viewer)
    geometry = request.app.state.crs_bridge.to_crs84([geometry])[0] if geometry is not None else None
    return Response(dumps(feature_object(record, geometry, False)), media_type=GEOJSON,
                    headers={"ETag": etag(record.get("version"))})


def _own_party(viewer: Viewer, asked: str | None, allowed: set[str] | None = None) -> str | None:
    """The party the viewer acts for: the one asked (its own), else its first (among ``allowed``)."""
    if asked is not None:
        if viewer.role is not ViewerRole.ADMIN and asked not in viewer.parties:
            raise ApiError(403, "Forbidden", f"you do not act for party {asked!r}")
        if allowed is not None and asked not in allowed:
            raise ApiError(400, "InvalidValue", f"party {asked!r} is not a signatory of this pact")
        return asked
    mine = sorted(viewer.parties & allowed if allowed is not None else viewer.parties)
    return mine[0] if mine else None


def _comment_level(atlas: Atlas, pact: dict[str, Any], party: str | None) -> str:
    """A comment's sensitivity: the pact's, raised when the commenter is a natural person."""
    levels = [pact.get("sensitivity") or "public"]
    if party is None:
        levels.append("internal")
    elif (atlas.store.get("parties", party) or {}).get("kind") == "person":
        levels.append("community")
    return max(levels, key=SENSITIVITY_ORDER.index)


@router.post(PACT + "/comments", summary="Comment on a pact on public notice", status_code=201,
             response_model=None)
async def add_comment(request: Request, pact_id: str, atlas: AtlasDep, viewer: WriterDep) -> Response:
    """Comment (``text``, optionally for one of your ``party``) while the pact is on public notice."""
    body = await _body(request, COMMENT_BODY)
    pact = _pact(atlas, pact_id, viewer)
    check_comment(viewer)
    party = _own_party(viewer, body.get("party"))
    event_id = comment(atlas, pact_id, body["text"], who=_who(viewer), party=party,
                       sensitivity=_comment_level(atlas, pact, party))
    return _event_answer(request, atlas, event_id, viewer)


@router.post(PACT + "/reports", summary="Report on a signed pact", status_code=201, response_model=None)
async def add_report(request: Request, pact_id: str, atlas: AtlasDep, viewer: WriterDep) -> Response:
    """Report the ``indicators`` of a period (``period_from``, ``period_to``), with a ``text``; signatories only."""
    body = await _body(request, REPORT_BODY)
    start, end = _day(body, "period_from"), _day(body, "period_to")
    _pact(atlas, pact_id, viewer)
    signers = _parties(atlas, pact_id)
    check_report(viewer, signers)
    party = _own_party(viewer, body.get("party"), signers)
    event_id = report(atlas, pact_id, body["indicators"], who=_who(viewer), period_from=start, period_to=end,
                      party=party, note=body.get("text"))
    return _event_answer(request, atlas, event_id, viewer)


@router.get(PACT + "/events", summary="What happened to a pact", response_model=None)
def events(request: Request, pact_id: str, atlas: AtlasDep, viewer: ViewerDep) -> Response:
    """The pact's events you may see (status changes, comments, reports, ...), in the order they happened."""
    _json_only(request)
    _pact(atlas, pact_id, viewer)
    condition = equality_filter("pact", pact_id, queryables_of(atlas.spec("pact_events")))
    page = feature_page(atlas, "pact_events", FeatureQuery(filters=(condition,), limit=None), viewer)
    records = [r for r, coarse in zip(page.records, page.generalised, strict=True) if not coarse]
    records.sort(key=lambda r: (str(r.get("happened_on") or ""), str(r.get("created") or "")))
    body = {"pact": pact_id, "events": _shown(atlas, records, viewer), "numberReturned": len(records),
            "links": _links(request, pact_id, "events")}
    return Response(dumps(body), media_type=JSON)
