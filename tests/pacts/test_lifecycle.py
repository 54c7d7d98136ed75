"""The pact lifecycle: every forbidden transition refused with nothing changed, every allowed one logged."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from shapely.geometry import box

import commonsmap as cm
from commonsmap.analysis import who_may
from commonsmap.atlas.gpkg_blob import register_functions
from commonsmap.checks import check_atlas
from commonsmap.errors import InvalidInputError, NotFoundError, VersionConflictError
from commonsmap.pacts import (
    TRANSITIONS,
    TransitionError,
    allowed_next,
    comment,
    evaluate,
    exclude_party,
    grant_rights,
    lifecycle_path,
    open_pact_dispute,
    pact_events,
    propose_pact,
    report,
    settle_pact_dispute,
    transition,
)
from commonsmap.vocabularies import PactStatus
from tests.conftest import digest

GARDEN = box(11.340, 44.490, 11.342, 44.492)  # a block in Bologna
DAY = dt.date(2026, 1, 12)


@pytest.fixture
def city(atlas: cm.Atlas) -> dict[str, str]:
    ids = atlas.add("parties", [{"name": "Comune di Bologna", "kind": "municipality"},
                                {"name": "Amici del giardino", "kind": "association"},
                                {"name": "Scuola Longhena", "kind": "association"}]).ids
    return dict(zip(["city", "friends", "school"], ids, strict=True))


def _propose(atlas: cm.Atlas, city: dict[str, str], *, pact_type: str = "ordinary", **fields: object) -> str:
    record = {"title": "Cura del giardino di via Azzurra", "pact_type": pact_type, "geometry": GARDEN,
              "interventions": ["continuous_care"], "domains": ["public_space"], "duration_months": 24,
              "indicators": ["volunteer_hours", "events"], "report_every_months": 6, **fields}
    parties = [{"party": city["friends"], "role": "proponent", "commitments": "weekly care of the beds"},
               {"party": city["school"], "role": "signatory", "commitments": "two open days a year"},
               {"party": city["city"], "role": "administration", "commitments": "water and tools"}]
    return propose_pact(atlas, record, parties, who="proposal desk", on=DAY)


def _bring_to(atlas: cm.Atlas, pact: str, status: str, pact_type: str) -> None:
    path = lifecycle_path("proposed", status, pact_type)
    assert path is not None, status
    for step in path:
        transition(atlas, pact, step, who="office", on=DAY,
                   until=DAY + dt.timedelta(days=900) if step == "extended" else None)


def _pairs(allowed: bool) -> list[tuple[str, str, str]]:
    pairs = []
    for pact_type in ("ordinary", "complex"):
        for start in PactStatus.codes():
            if lifecycle_path("proposed", start, pact_type) is None:
                continue
            following = set(allowed_next(start, pact_type))
            for end in PactStatus.codes():
                if (end in following) == allowed:
                    pairs.append((pact_type, start, end))
    return pairs


@pytest.mark.parametrize(("pact_type", "start", "end"), _pairs(allowed=True))
def test_every_allowed_transition_is_logged_with_its_actor(atlas: cm.Atlas, city: dict[str, str], pact_type: str,
                                                           start: str, end: str) -> None:
    pact = _propose(atlas, city, pact_type=pact_type)
    _bring_to(atlas, pact, start, pact_type)
    until = DAY + dt.timedelta(days=1000) if end == "extended" else None
    updated = transition(atlas, pact, end, who="Giunta", on=DAY + dt.timedelta(days=1), note="decided",
                         decision_ref="PG 42/2026", until=until)

    assert updated["status"] == end
    last = pact_events(atlas, pact).iloc[-1]
    assert (last["kind"], last["from_status"], last["to_status"]) == ("transition", start, end)
    assert (last["actor"], last["note"], last["decision_ref"]) == ("Giunta", "decided", "PG 42/2026")
    assert str(last["happened_on"])[:10] == str(DAY + dt.timedelta(days=1))
    change = atlas.history("pacts", pact).iloc[-1]
    assert change["who"] == "Giunta" and change["after"]["status"] == end


@pytest.mark.parametrize("pact_type", ["ordinary", "complex"])
def test_every_forbidden_transition_is_refused_and_nothing_changes(atlas: cm.Atlas, city: dict[str, str],
                                                                   pact_type: str) -> None:
    forbidden = [(s, e) for t, s, e in _pairs(allowed=False) if t == pact_type]
    pacts = {}
    for start in sorted({s for s, _ in forbidden}):
        pacts[start] = _propose(atlas, city, pact_type=pact_type)
        _bring_to(atlas, pacts[start], start, pact_type)
    before = digest(atlas.location)
    for start, end in forbidden:
        with pytest.raises(TransitionError) as refused:
            transition(atlas, pacts[start], end, who="office", on=DAY)
        message = str(refused.value)
        assert f"cannot go from {start!r} to {end!r}" in message and "Nothing was written" in message
        following = allowed_next(start, pact_type)
        assert (", ".join(following) if following else "it is final") in message
    assert digest(atlas.location) == before
    assert len(forbidden) > 150


def test_complex_pacts_go_through_public_notice_and_ordinary_ones_never(atlas: cm.Atlas,
                                                                        city: dict[str, str]) -> None:
    assert lifecycle_path("under_review", "approved", "complex") == ["public_notice", "co_design", "approved"]
    assert lifecycle_path("under_review", "approved", "ordinary") == ["approved"]
    complex_pact = _propose(atlas, city, pact_type="complex")
    transition(atlas, complex_pact, "under_review", who="office", on=DAY)
    with pytest.raises(TransitionError, match="public_notice"):
        transition(atlas, complex_pact, "approved", who="office")
    ordinary = _propose(atlas, city)
    transition(atlas, ordinary, "under_review", who="office", on=DAY)
    with pytest.raises(TransitionError):
        transition(atlas, ordinary, "public_notice", who="office")
    assert set(TRANSITIONS) == set(PactStatus)


def test_status_changes_only_through_the_lifecycle_and_events_are_never_edited(atlas: cm.Atlas,
                                                                              city: dict[str, str]) -> None:
    pact = _propose(atlas, city)
    before = digest(atlas.location)
    with pytest.raises(InvalidInputError, match="only through the pact lifecycle"):
        atlas.update("pacts", pact, {"status": "active"})
    event = pact_events(atlas, pact)["id"].iloc[0]
    with pytest.raises(InvalidInputError, match="is a log"):
        atlas.update("pact_events", event, {"note": "rewritten"})
    with pytest.raises(InvalidInputError, match="is a log"):
        atlas.delete("pact_events", event)
    with pytest.raises(InvalidInputError, match="who"):
        transition(atlas, pact, "under_review", who=" ")
    with pytest.raises(NotFoundError):
        transition(atlas, "no-such-pact", "under_review", who="office")
    assert digest(atlas.location) == before
    assert atlas.update("pacts", pact, {"objectives": "a garden open to all"})["objectives"] == "a garden open to all"


def test_a_stale_version_is_refused(atlas: cm.Atlas, city: dict[str, str]) -> None:
    pact = _propose(atlas, city)
    seen = atlas.get("pacts", pact)["version"]
    transition(atlas, pact, "under_review", who="office", on=DAY)
    before = digest(atlas.location)
    with pytest.raises(VersionConflictError):
        transition(atlas, pact, "awaiting_integration", who="another desk", expected_version=seen)
    assert digest(atlas.location) == before


def test_dates_follow_the_lifecycle(atlas: cm.Atlas, city: dict[str, str]) -> None:
    pact = _propose(atlas, city, pact_type="complex")
    due = transition(atlas, pact, "under_review", who="office", on=DAY)["answer_due"]
    assert str(due)[:10] == str(DAY + dt.timedelta(days=30))
    notice = transition(atlas, pact, "public_notice", who="office", on=DAY, until="2026-02-01")
    assert str(notice["notice_until"])[:10] == "2026-02-01" and notice["answer_due"] is None
    transition(atlas, pact, "co_design", who="office", on="2026-02-02")
    transition(atlas, pact, "approved", who="Giunta", on="2026-03-01")
    active = transition(atlas, pact, "active", who="office", on="2026-03-15")
    assert str(active["signed_on"])[:10] == "2026-03-15" and str(active["expires_on"])[:10] == "2028-03-15"
    with pytest.raises(TransitionError, match="new expiry"):
        transition(atlas, pact, "extended", who="office")
    with pytest.raises(TransitionError, match="after the current expiry"):
        transition(atlas, pact, "extended", who="office", until="2027-01-01")
    extended = transition(atlas, pact, "extended", who="office", until="2029-03-15")
    assert str(extended["expires_on"])[:10] == "2029-03-15"
    ended = transition(atlas, pact, "terminated_early", who="office", on="2027-06-30", note="abandoned")
    assert str(ended["expires_on"])[:10] == "2027-06-30"


def test_inconsistent_contents_are_refused(atlas: cm.Atlas, city: dict[str, str]) -> None:
    before = digest(atlas.location)
    with pytest.raises(InvalidInputError, match="needs its amount"):
        _propose(atlas, city, support=["cost_reimbursement"])
    with pytest.raises(InvalidInputError, match="cost_reimbursement is not among"):
        _propose(atlas, city, support=["training"], reimbursement_amount=300)
    with pytest.raises(InvalidInputError, match="support"):
        _propose(atlas, city, support=["a grant of money"])
    with pytest.raises(InvalidInputError, match="before it starts"):
        _propose(atlas, city, starts_on="2026-05-01", expires_on="2026-01-01")
    with pytest.raises(InvalidInputError, match="proponent"):
        propose_pact(atlas, {"title": "No proponent"}, [{"party": city["city"], "role": "administration"}],
                     who="desk")
    with pytest.raises(InvalidInputError, match="parties"):
        propose_pact(atlas, {"title": "Ghost"}, [{"party": "nobody", "role": "proponent"}], who="desk")
    assert digest(atlas.location) == before
    pact = _propose(atlas, city, support=["materials", "Rimborso dei costi"], reimbursement_amount=850.0,
                    currency="EUR")
    stored = atlas.get("pacts", pact)
    assert stored["support"] == ["materials", "cost_reimbursement"] and stored["reimbursement_amount"] == 850.0
    assert stored["parties"] == [city["friends"], city["school"]]
    roles = atlas.layer("pact_parties").set_index("party")["role"].to_dict()
    assert roles == {city["friends"]: "proponent", city["school"]: "signatory", city["city"]: "administration"}


def test_granted_rights_apply_only_while_the_pact_is_in_force(atlas: cm.Atlas, city: dict[str, str]) -> None:
    pact = _propose(atlas, city)
    _bring_to(atlas, pact, "approved", "ordinary")
    transition(atlas, pact, "active", who="office", on="2026-02-01")
    granted = grant_rights(atlas, pact, who="office", rights=["access", "management"])
    assert len(granted) == 2
    here = (11.341, 44.491)

    def holders(**kwargs: object) -> set[str]:
        answer = who_may(atlas, here, **kwargs)
        return set(answer.loc[answer["layer"] == "rights", "holder"])

    assert holders() == {city["friends"], city["school"]}
    assert holders(on="2026-01-15") == set()  # not signed yet
    transition(atlas, pact, "suspended", who="office", on="2026-04-01", note="unsafe tree")
    assert holders() == set()
    assert holders(on="2026-03-01") == {city["friends"], city["school"]}
    transition(atlas, pact, "active", who="office", on="2026-05-01")
    assert holders() == {city["friends"], city["school"]}
    transition(atlas, pact, "concluded", who="office", on="2026-12-31")
    rights = atlas.layer("rights")
    assert set(rights["valid_to"].astype(str).str[:10]) == {"2026-12-31"}
    assert holders() == set() and holders(on="2026-06-01") == {city["friends"], city["school"]}


def test_comments_are_taken_only_during_public_notice(atlas: cm.Atlas, city: dict[str, str]) -> None:
    pact = _propose(atlas, city, pact_type="complex")
    with pytest.raises(InvalidInputError, match="comments are taken only when it is public_notice"):
        comment(atlas, pact, "Good idea", who="citizen desk")
    transition(atlas, pact, "under_review", who="office", on=DAY)
    transition(atlas, pact, "public_notice", who="office", on=DAY, until="2026-01-27")
    comment(atlas, pact, "Please keep the gate open on Sundays", who="citizen desk", party=city["school"],
            on="2026-01-20")
    with pytest.raises(InvalidInputError, match="too late"):
        comment(atlas, pact, "Late", who="citizen desk", on="2026-01-28")
    comments = pact_events(atlas, pact).query("kind == 'comment'")
    assert comments["note"].tolist() == ["Please keep the gate open on Sundays"]


def test_reports_evaluation_exclusion_and_disputes(atlas: cm.Atlas, city: dict[str, str]) -> None:
    pact = _propose(atlas, city)
    with pytest.raises(InvalidInputError, match="reports are made only"):
        report(atlas, pact, {"volunteer_hours": 10}, who="friends", period_from=DAY, period_to=DAY)
    _bring_to(atlas, pact, "active", "ordinary")
    grant_rights(atlas, pact, who="office")
    with pytest.raises(InvalidInputError, match="not in the monitoring plan"):
        report(atlas, pact, {"trees_planted": 3}, who="friends", period_from="2026-01-01", period_to="2026-06-30")
    report(atlas, pact, {"volunteer_hours": 412, "events": 5}, who="friends", party=city["friends"],
           period_from="2026-01-01", period_to="2026-06-30", note="first semester", on="2026-06-30")
    with pytest.raises(InvalidInputError, match="evaluations are made only"):
        evaluate(atlas, pact, "positive", who="office")
    transition(atlas, pact, "monitoring", who="office", on="2026-07-01")
    evaluate(atlas, pact, "positive: the garden is used daily", who="evaluation board", on="2026-07-15")

    with pytest.raises(InvalidInputError, match="reason"):
        exclude_party(atlas, pact, city["school"], " ", who="office")
    with pytest.raises(InvalidInputError, match="administration"):
        exclude_party(atlas, pact, city["city"], "no reason", who="office")
    exclude_party(atlas, pact, city["school"], "open days never held", who="office", on="2026-08-01")
    assert atlas.get("pacts", pact)["parties"] == [city["friends"]]
    with pytest.raises(InvalidInputError, match="without signatories"):
        exclude_party(atlas, pact, city["friends"], "left", who="office")
    with pytest.raises(NotFoundError):
        exclude_party(atlas, pact, city["school"], "again", who="office")
    school_right = atlas.layer("rights").query(f"holder == '{city['school']}'")
    assert str(school_right["valid_to"].iloc[0])[:10] == "2026-08-01"

    dispute = open_pact_dispute(atlas, pact, "Use of the shed", parties=[city["friends"], city["school"]],
                                who="office", on="2026-08-05")
    settle_pact_dispute(atlas, dispute, "shared calendar agreed", who="mediator", on="2026-09-01")
    assert atlas.get("disputes", dispute)["status"] == "resolved"
    kinds = pact_events(atlas, pact)["kind"].tolist()
    assert kinds[-6:] == ["report", "transition", "evaluation", "exclusion", "dispute", "dispute_outcome"]
    values = pact_events(atlas, pact).query("kind == 'report'")["values"].iloc[0]
    assert values == {"volunteer_hours": 412, "events": 5}


def test_an_atlas_file_keeps_the_lifecycle_across_reopening(tmp_path: Path, city: dict[str, str],
                                                            atlas: cm.Atlas) -> None:
    pact = _propose(atlas, city)
    transition(atlas, pact, "under_review", who="office", on=DAY)
    reopened = cm.open_atlas(atlas.location)
    assert reopened.get("pacts", pact)["status"] == "under_review"
    with pytest.raises(TransitionError):
        transition(reopened, pact, "active", who="office")


def test_a_status_changed_by_another_program_is_reported(atlas: cm.Atlas, city: dict[str, str]) -> None:
    """QGIS or a field app may edit the GeoPackage directly; the atlas check notices the drift."""
    pact = _propose(atlas, city)
    transition(atlas, pact, "under_review", who="office", on=DAY)
    assert check_atlas(atlas) == []
    with sqlite3.connect(atlas.location) as connection:
        register_functions(connection)  # the GeoPackage SQL functions every GIS editor provides
        connection.execute("UPDATE pacts SET status = 'active' WHERE id = ?", (pact,))
    findings = [str(f) for f in check_atlas(cm.open_atlas(atlas.location))]
    assert findings == [f"pacts (id {pact}): field 'status': status 'active' was changed outside the lifecycle: "
                        "its last recorded change made it 'under_review'"]


def test_a_change_dated_before_the_last_one_is_refused(atlas: cm.Atlas, city: dict[str, str]) -> None:
    pact = _propose(atlas, city)
    transition(atlas, pact, "under_review", who="office", on="2026-03-01")
    before = digest(atlas.location)
    with pytest.raises(TransitionError, match="last changed status on 2026-03-01"):
        transition(atlas, pact, "approved", who="office", on="2026-02-01")
    assert digest(atlas.location) == before
    assert transition(atlas, pact, "approved", who="office", on="2026-03-01")["status"] == "approved"
