"""A feature's history over HTTP: only for viewers who see the feature, with past states they may not see withheld."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import commonsmap as cm
from api.app import create_app
from tests.api.conftest import MARK, ApiAtlas
from tests.api.test_pact_actions import ADMIN_NAME, propose, url


@pytest.fixture
def client(api_atlas: ApiAtlas) -> Any:
    with TestClient(create_app(api_atlas.path)) as test_client:
        yield test_client


def history(pact_or_layer: str, feature_id: str | None = None) -> str:
    """The history URL of a pact, or of a feature of a layer."""
    if feature_id is None:
        return f"/collections/pacts/items/{pact_or_layer}/history"
    return f"/collections/{pact_or_layer}/items/{feature_id}/history"


def test_every_status_change_made_over_http_is_in_the_history_with_its_author(api_atlas: ApiAtlas,
                                                                              client: TestClient) -> None:
    pact = propose(api_atlas)
    admin = api_atlas.headers("admin")
    for status in ("under_review", "approved", "active"):
        assert client.post(url(pact, "transitions"), headers=admin, json={"status": status}).status_code == 200
    entries = client.get(history(pact), headers=admin).json()["entries"]
    assert [e["op"] for e in entries] == ["insert", "update", "update", "update"]
    assert entries[0]["who"] == "proposal desk" and entries[0]["before"] is None
    assert entries[0]["after"]["status"] == "proposed"  # an insert shows the state it made
    assert [e["who"] for e in entries[1:]] == [ADMIN_NAME] * 3
    assert [e["note"] for e in entries[1:]] == [f"pact status → {s}" for s in ("under_review", "approved", "active")]
    assert [(e["before"]["status"], e["after"]["status"]) for e in entries[1:]] == [
        ("proposed", "under_review"), ("under_review", "approved"), ("approved", "active")]
    assert "status" in entries[1]["changed"] and not any(e["withheld"] for e in entries)
    assert entries[1]["after"]["geometry"]["type"] == "Polygon"
    last = client.get(history(pact), headers=admin, params={"limit": 2}).json()
    assert last["numberReturned"] == 2 and last["entries"] == entries[-2:]
    anonymous = client.get(history(pact)).json()["entries"]  # a public pact: its history, no names
    assert len(anonymous) == 4 and {e["who"] for e in anonymous} == {None}
    assert ADMIN_NAME not in client.get(history(pact)).text
    signed_in = client.get(history(pact), headers=api_atlas.headers("signed_in")).json()["entries"]
    assert signed_in[-1]["who"] == ADMIN_NAME
    page = client.get(history(pact), headers=admin, params={"f": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<table>" in page.text and ADMIN_NAME in page.text and "under_review" in page.text
    assert ">nan<" not in page.text


def test_a_community_pact_history_and_events_are_only_for_those_holding_it(api_atlas: ApiAtlas,
                                                                          client: TestClient) -> None:
    pact = propose(api_atlas, sensitivity="community", moved_to=("under_review",))
    missing = client.get(history("no-such-pact")).json()
    for who in (None, "signed_in", "other"):
        headers = api_atlas.headers(who) if who else {}
        for path in (history(pact), url(pact, "events")):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 404, (who, path)
            assert answer.json() == {**missing, "description": missing["description"].replace("no-such-pact", pact)}
    for who in ("member", "custodian", "admin"):
        answer = client.get(history(pact), headers=api_atlas.headers(who))
        assert answer.status_code == 200 and answer.json()["numberReturned"] == 2, who
        assert client.get(url(pact, "events"), headers=api_atlas.headers(who)).json()["numberReturned"] == 2


def test_states_above_the_viewer_are_withheld(api_atlas: ApiAtlas, client: TestClient) -> None:
    atlas = cm.open_atlas(api_atlas.path)
    forest, community = api_atlas.ids["public_commons"], api_atlas.ids["community"]
    atlas.update("commons", forest, {"sensitivity": "secret", "holder": community, "name": f"sacred grove {MARK}"},
                 who="community custodian", note=f"hidden: {MARK}")
    atlas.update("commons", forest, {"sensitivity": "internal", "name": "community forest"}, who="office",
                 note="shown again to signed-in users")
    path = history("commons", forest)
    assert client.get(path).status_code == 404  # internal now: not for anonymous viewers
    for who in ("signed_in", "member", "other"):
        answer = client.get(path, headers=api_atlas.headers(who))
        assert answer.status_code == 200, who
        assert MARK not in answer.text and "sacred" not in answer.text, who
        entries = answer.json()["entries"]
        assert [e["withheld_states"] for e in entries] == [[], ["after"], ["before"]], who
        assert entries[1]["after"] is None and entries[1]["note"] is None and entries[1]["withheld"] is True
        assert entries[1]["before"]["sensitivity"] == "public" and entries[2]["after"]["name"] == "community forest"
        page = client.get(path, headers=api_atlas.headers(who), params={"f": "html"})
        assert page.status_code == 200 and MARK not in page.text and "withheld" in page.text
    for who in ("custodian", "admin"):
        entries = client.get(path, headers=api_atlas.headers(who)).json()["entries"]
        assert not any(e["withheld"] for e in entries) and entries[1]["after"]["name"] == f"sacred grove {MARK}"


def test_hidden_generalised_and_missing_features_have_no_history(api_atlas: ApiAtlas, client: TestClient) -> None:
    ids = api_atlas.ids
    opaque = cm.open_atlas(api_atlas.path).opaque_id("commons", ids["generalised_site"])
    assert client.get(f"/collections/commons/items/{opaque}").status_code == 200  # shown as a grid cell
    for feature_id in (ids["hidden_community"], ids["hidden_secret"], opaque, "no-such-forest"):
        answer = client.get(history("commons", feature_id), headers=api_atlas.headers("signed_in"))
        assert answer.status_code == 404 and answer.json()["code"] == "NotFound"
        assert MARK not in answer.text
    assert client.get(history("commons", ids["hidden_secret"]), headers=api_atlas.headers("custodian")).status_code \
        == 200
    assert client.get(history("no_such_layer", "x")).status_code == 404


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "many"}, {"page": "2"}, {"f": "xml"}])
def test_history_parameters_are_checked(api_atlas: ApiAtlas, client: TestClient, params: dict[str, str]) -> None:
    answer = client.get(history("commons", api_atlas.ids["public_commons"]), params=params)
    assert answer.status_code == 400 and answer.json()["code"] == "InvalidParameterValue"


def test_history_is_in_the_api_description(client: TestClient) -> None:
    operation = client.get("/api").json()["paths"]["/collections/{collection_id}/items/{feature_id}/history"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"limit", "f"}
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/html"}
