"""Pact actions over HTTP follow the library's rules: lifecycle, permissions, visibility, nothing written on refusal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

import commonsmap as cm
from api.app import create_app
from commonsmap.keys import add_key
from commonsmap.pacts import comment, propose_pact, transition
from commonsmap.privacy import Viewer
from tests.api.conftest import ApiAtlas
from tests.conftest import digest

PLOT = box(104.90, 11.55, 104.91, 11.56)  # a block in Phnom Penh
ADMIN_NAME = "municipal GIS office"


def propose(api_atlas: ApiAtlas, *, pact_type: str = "ordinary", sensitivity: str = "public",
            moved_to: tuple[str, ...] = ()) -> str:
    """Propose a pact of the community (the municipality administers it), moved on by the library."""
    atlas = cm.open_atlas(api_atlas.path)
    ids = api_atlas.ids
    record = {"title": "Cura dell'orto", "pact_type": pact_type, "geometry": PLOT, "sensitivity": sensitivity,
              "duration_months": 12, "indicators": ["volunteer_hours", "events"], "report_every_months": 6}
    parties = [{"party": ids["community"], "role": "proponent"},
               {"party": ids["municipality"], "role": "administration"}]
    pact = propose_pact(atlas, record, parties, who="proposal desk")
    for status in moved_to:
        transition(atlas, pact, status, who="office")
    return pact


def url(pact: str, action: str) -> str:
    """The URL of an action on a pact."""
    return f"/collections/pacts/items/{pact}/{action}"


@pytest.fixture
def client(api_atlas: ApiAtlas) -> Any:
    with TestClient(create_app(api_atlas.path)) as test_client:
        yield test_client


def test_an_ordinary_pact_goes_through_its_lifecycle_over_http(api_atlas: ApiAtlas, client: TestClient) -> None:
    pact = propose(api_atlas)
    admin = api_atlas.headers("admin")
    offered = client.get(url(pact, "transitions"), headers=admin)
    assert offered.status_code == 200
    assert {t["status"] for t in offered.json()["transitions"]} == {"under_review", "withdrawn", "rejected",
                                                                     "archived"}
    assert all(t["permitted"] and t["label"] for t in offered.json()["transitions"])
    tag = offered.headers["ETag"]
    for status in ("under_review", "approved", "active"):
        answer = client.post(url(pact, "transitions"), headers={**admin, "If-Match": tag},
                             json={"status": status, "note": f"to {status}", "decision": f"PG {status}"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/geo+json")
        assert answer.json()["properties"]["status"] == status and answer.headers["ETag"] != tag
        tag = answer.headers["ETag"]
    assert answer.json()["properties"]["signed_on"] is not None
    events = client.get(url(pact, "events"), headers=admin).json()["events"]
    assert [e["to_status"] for e in events] == ["proposed", "under_review", "approved", "active"]
    assert [e["actor"] for e in events[1:]] == [ADMIN_NAME] * 3
    assert [e["decision_ref"] for e in events[1:]] == ["PG under_review", "PG approved", "PG active"]
    history = client.get(f"/collections/pacts/items/{pact}/history", headers=admin).json()["entries"]
    changes = [e for e in history if e["op"] == "update"]
    assert [e["after"]["status"] for e in changes] == ["under_review", "approved", "active"]
    assert {e["who"] for e in changes} == {ADMIN_NAME}
    public = client.get(url(pact, "events")).json()["events"]  # a public pact: its events, no names
    assert len(public) == 4 and {e["actor"] for e in public} == {None}


def test_a_forbidden_transition_is_409_listing_the_allowed_ones_and_writes_nothing(api_atlas: ApiAtlas,
                                                                                    client: TestClient) -> None:
    pact = propose(api_atlas)
    admin = api_atlas.headers("admin")
    client.get(url(pact, "transitions"), headers=admin)
    before = digest(api_atlas.path)
    refused = client.post(url(pact, "transitions"), headers=admin, json={"status": "active"})
    assert refused.status_code == 409 and refused.json()["code"] == "Conflict"
    assert "it may go to: archived, rejected, under_review, withdrawn" in refused.json()["description"]
    unknown = client.post(url(pact, "transitions"), headers=admin, json={"status": "flying"})
    assert unknown.status_code == 409 and "is not a pact status" in unknown.json()["description"]
    assert digest(api_atlas.path) == before


def test_only_the_administration_moves_a_pact_and_a_proponent_custodian_may_withdraw(
        api_atlas: ApiAtlas, client: TestClient) -> None:
    pact = propose(api_atlas)
    before = digest(api_atlas.path)
    assert client.post(url(pact, "transitions"), json={"status": "under_review"}).status_code == 401
    for who in ("member", "signed_in", "custodian", "other"):
        answer = client.post(url(pact, "transitions"), headers=api_atlas.headers(who), json={"status": "under_review"})
        assert answer.status_code == 403, who
    other = client.post(url(pact, "transitions"), headers=api_atlas.headers("other"), json={"status": "withdrawn"})
    assert other.status_code == 403
    assert digest(api_atlas.path) == before
    offered = client.get(url(pact, "transitions"), headers=api_atlas.headers("custodian")).json()["transitions"]
    assert [t["status"] for t in offered if t["permitted"]] == ["withdrawn"]
    withdrawn = client.post(url(pact, "transitions"), headers=api_atlas.headers("custodian"),
                            json={"status": "withdrawn", "note": "we found another garden"})
    assert withdrawn.status_code == 200 and withdrawn.json()["properties"]["status"] == "withdrawn"


def test_a_stale_if_match_is_412_and_writes_nothing(api_atlas: ApiAtlas, client: TestClient) -> None:
    pact = propose(api_atlas)
    admin = api_atlas.headers("admin")
    first = client.get(url(pact, "transitions"), headers=admin).headers["ETag"]
    assert client.post(url(pact, "transitions"), headers={**admin, "If-Match": first},
                       json={"status": "under_review"}).status_code == 200
    before = digest(api_atlas.path)
    stale = client.post(url(pact, "transitions"), headers={**admin, "If-Match": first}, json={"status": "approved"})
    assert stale.status_code == 412 and stale.json()["code"] == "PreconditionFailed"
    assert client.post(url(pact, "transitions"), headers={**admin, "If-Match": "soon"},
                       json={"status": "approved"}).status_code == 412
    assert digest(api_atlas.path) == before
    assert cm.open_atlas(api_atlas.path).get("pacts", pact)["status"] == "under_review"


def test_comments_only_during_public_notice_and_people_stay_unnamed(api_atlas: ApiAtlas, client: TestClient) -> None:
    pact = propose(api_atlas, pact_type="complex", moved_to=("under_review",))
    citizen = api_atlas.headers("signed_in")
    early = client.post(url(pact, "comments"), headers=citizen, json={"text": "bello"})
    assert early.status_code == 400 and "public_notice" in early.json()["description"]
    transition(cm.open_atlas(api_atlas.path), pact, "public_notice", who="office")
    assert client.post(url(pact, "comments"), json={"text": "anonymous"}).status_code == 401
    made = client.post(url(pact, "comments"), headers=citizen, json={"text": "please keep the old fig tree"})
    assert made.status_code == 201, made.text
    assert made.headers["Location"].endswith(f"/collections/pact_events/items/{made.json()['id']}")
    assert made.json()["kind"] == "comment" and made.json()["actor"] == "a citizen"
    association = client.post(url(pact, "comments"), headers=api_atlas.headers("other"), json={"text": "we help"})
    assert association.status_code == 201 and association.json()["party"] == api_atlas.ids["association"]
    anonymous = client.get(url(pact, "events")).json()["events"]
    assert [e["note"] for e in anonymous if e["kind"] == "comment"] == ["we help"]  # not the citizen's
    assert "a citizen" not in client.get(url(pact, "events")).text
    signed_in = client.get(url(pact, "events"), headers=citizen).json()["events"]
    assert {e["actor"] for e in signed_in if e["kind"] == "comment"} == {"a citizen", "association custodian"}


def test_a_person_party_comment_is_seen_only_by_that_person_and_the_administration(api_atlas: ApiAtlas) -> None:
    atlas = cm.open_atlas(api_atlas.path)
    person = atlas.add("parties", {"name": "Maria Rossi", "kind": "person", "sensitivity": "community"},
                       who="setup").ids[0]
    key = add_key(atlas, "member", parties=[person], name="Maria Rossi")
    pact = propose(api_atlas, pact_type="complex", moved_to=("under_review", "public_notice"))
    with TestClient(create_app(api_atlas.path)) as client:
        made = client.post(url(pact, "comments"), headers={"Authorization": f"Bearer {key}"},
                           json={"text": "I water the beds"})
        assert made.status_code == 201 and made.json()["party"] == person
        for who in (None, "signed_in", "other", "member"):
            answer = client.get(url(pact, "events"), headers=api_atlas.headers(who) if who else {})
            assert answer.status_code == 200 and "Maria" not in answer.text and person not in answer.text, who
        admin = client.get(url(pact, "events"), headers=api_atlas.headers("admin")).json()["events"]
        assert [e["actor"] for e in admin if e["kind"] == "comment"] == ["Maria Rossi"]
        # a comment the library recorded as public still names no one the viewer may not see
        comment(atlas, pact, "the fig tree is mine", who="Maria Rossi", party=person)
        for who in (None, "signed_in", "member"):
            answer = client.get(url(pact, "events"), headers=api_atlas.headers(who) if who else {})
            shown = [e for e in answer.json()["events"] if e["kind"] == "comment"]
            assert [(e["note"], e["party"], e["actor"]) for e in shown] == [("the fig tree is mine", None, None)], who
        admin = client.get(url(pact, "events"), headers=api_atlas.headers("admin")).json()["events"]
        assert [e["party"] for e in admin if e["kind"] == "comment"] == [person, person]


def test_reports_come_from_signatories_only(api_atlas: ApiAtlas, client: TestClient) -> None:
    pact = propose(api_atlas, moved_to=("under_review", "approved", "active"))
    body = {"period_from": "2026-01-01", "period_to": "2026-06-30", "indicators": {"volunteer_hours": 120},
            "text": "a good half year"}
    before = digest(api_atlas.path)
    for who in ("other", "signed_in"):
        assert client.post(url(pact, "reports"), headers=api_atlas.headers(who), json=body).status_code == 403, who
    assert client.post(url(pact, "reports"), json=body).status_code == 401
    assert digest(api_atlas.path) == before
    made = client.post(url(pact, "reports"), headers=api_atlas.headers("member"), json=body)
    assert made.status_code == 201, made.text
    event = made.json()
    assert event["kind"] == "report" and event["values"] == {"volunteer_hours": 120}
    assert event["party"] == api_atlas.ids["community"] and event["actor"] == "community member"
    assert event["period_from"] == "2026-01-01" and event["note"] == "a good half year"
    stranger = client.post(url(pact, "reports"), headers=api_atlas.headers("member"),
                           json={**body, "indicators": {"trees_planted": 3}})
    assert stranger.status_code == 400 and "trees_planted" in stranger.json()["description"]


def test_a_community_pact_is_not_found_for_those_who_may_not_see_it(api_atlas: ApiAtlas, client: TestClient) -> None:
    pact = propose(api_atlas, sensitivity="community", moved_to=("under_review",))
    missing = client.get(url("no-such-pact", "events")).json()
    for who in (None, "signed_in", "other"):
        headers = api_atlas.headers(who) if who else {}
        for action in ("events", "transitions"):
            answer = client.get(url(pact, action), headers=headers)
            assert answer.status_code == 404, (who, action)
            assert answer.json()["description"] == missing["description"].replace("no-such-pact", pact)
    assert client.post(url(pact, "transitions"), headers=api_atlas.headers("other"),
                       json={"status": "withdrawn"}).status_code == 404
    member = client.get(url(pact, "events"), headers=api_atlas.headers("member"))
    assert member.status_code == 200
    assert [e["to_status"] for e in member.json()["events"]] == ["proposed", "under_review"]


@pytest.mark.parametrize(("body", "needle"), [
    ({"status": "under_review", "why": "x", "when": "y"}, "when, why"),
    ({"status": 5}, "status must be text"),
    ({"note": "no status"}, "'status'"),
    ({"status": "under_review", "on": "12/01/2026"}, "YYYY-MM-DD"),
    ([1, 2], "JSON object"),
])
def test_bodies_are_checked(api_atlas: ApiAtlas, client: TestClient, body: Any, needle: str) -> None:
    pact = propose(api_atlas)
    before = digest(api_atlas.path)
    answer = client.post(url(pact, "transitions"), headers=api_atlas.headers("admin"), json=body)
    assert answer.status_code == 400 and needle in answer.json()["description"]
    comment = client.post(url(pact, "comments"), headers=api_atlas.headers("admin"), json={"text": "x", "tone": 1})
    assert comment.status_code == 400 and "tone" in comment.json()["description"]
    report = client.post(url(pact, "reports"), headers=api_atlas.headers("admin"),
                         json={"period_from": "2026-01-01", "period_to": "2026-02-01", "indicators": [1]})
    assert report.status_code == 400 and "indicators must be an object" in report.json()["description"]
    text = client.post(url(pact, "transitions"), headers={**api_atlas.headers("admin"), "content-type": "text/plain"},
                       content=b"under_review")
    assert text.status_code == 415
    assert client.get(url(pact, "events"), params={"page": 2}).status_code == 400
    assert digest(api_atlas.path) == before


def test_the_actions_are_in_the_api_description(client: TestClient) -> None:
    paths = client.get("/api").json()["paths"]
    for action in ("transitions", "comments", "reports", "events"):
        assert "/collections/pacts/items/{pact_id}/" + action in paths
    post = paths["/collections/pacts/items/{pact_id}/transitions"]["post"]
    assert {"401", "403", "409", "412"} <= set(post["responses"])
    assert "application/geo+json" in post["responses"]["200"]["content"]


def test_the_events_of_a_hidden_pact_are_hidden_wherever_they_are_read(api_atlas: ApiAtlas,
                                                                        client: TestClient) -> None:
    pact = propose(api_atlas, sensitivity="community", moved_to=("under_review", "approved"))
    generic = f"/collections/pact_events/items?pact={pact}&limit=100"
    assert client.get(generic).json()["numberMatched"] == 0
    assert client.get(generic, headers=api_atlas.headers("signed_in")).json()["numberMatched"] == 0
    assert client.get(generic, headers=api_atlas.headers("other")).json()["numberMatched"] == 0
    # members of the pact's signing parties see its events as they see the pact
    member = client.get(generic, headers=api_atlas.headers("member")).json()
    assert member["numberMatched"] == 3
    assert {f["properties"]["to_status"] for f in member["features"]} == {"proposed", "under_review", "approved"}
    assert cm.open_atlas(api_atlas.path).layer("pact_events", viewer=Viewer.anonymous(),
                                               where=f"pact = '{pact}'").empty
