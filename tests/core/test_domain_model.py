"""The domain records made from the catalogue, and the holder position derived from the rights bundle."""

from __future__ import annotations

import pytest
import shapely
from pydantic import ValidationError

import commonsmap as cm
from commonsmap.vocabularies import HolderPosition


@pytest.mark.parametrize(("bundle", "position"), [
    ({}, None),
    ({"access": True}, HolderPosition.AUTHORIZED_ENTRANT),
    ({"access": True, "withdrawal": True}, HolderPosition.AUTHORIZED_USER),
    ({"access": True, "withdrawal": True, "management": True}, HolderPosition.CLAIMANT),
    ({"access": True, "withdrawal": True, "management": True, "exclusion": True}, HolderPosition.PROPRIETOR),
    (dict.fromkeys(("access", "withdrawal", "management", "exclusion", "alienation"), True), HolderPosition.OWNER),
    ({"access": True, "withdrawal": True, "exclusion": True}, HolderPosition.AUTHORIZED_USER),
    ({"withdrawal": True, "management": True}, None),
])
def test_holder_position_follows_the_bundle(bundle: dict[str, bool], position: HolderPosition | None) -> None:
    assert cm.holder_position(bundle) == position
    assert cm.Right(kind="right", holder="p", **bundle).position == position


def test_positions_are_derived_on_read_and_never_stored(atlas: cm.Atlas) -> None:
    party = atlas.add("parties", cm.Party(name="Pescadores de Tonle Sap", kind="Cooperativa")).ids[0]
    fishery = atlas.add("commons", cm.Commons(name="Community fishery", kind="fishery",
                                              geometry=shapely.box(104, 12, 104.5, 12.5))).ids[0]
    atlas.add("rights", [
        cm.Right(kind="right", holder=party, commons=fishery, access=True, withdrawal=True, months=[11, 12, 1]),
        cm.Right(kind="right", holder=party, commons=fishery, access=True, withdrawal=True, management=True,
                 exclusion=True),
    ])
    rights = atlas["rights"]
    assert list(rights["position"]) == ["authorized_user", "proprietor"]
    assert rights["months"].iloc[0] == [11, 12, 1]
    assert "position" not in atlas.spec("rights").field_names
    again = cm.Atlas.create(atlas.location.replace("atlas.gpkg", "copy.gpkg"))
    again.add("parties", atlas["parties"])
    again.add("commons", atlas["commons"])
    result = again.add("rights", atlas["rights"])
    assert any("derived attributes left out" in note for note in result.report.notes)


def test_records_validate_with_the_catalogue_vocabularies() -> None:
    assert cm.Commons(name="Bosque", kind="Bosque").kind == "forest"
    assert cm.Pact(title="Orti", status="Attivo", interventions=["Rigenerazione"]).interventions == ["regeneration"]
    with pytest.raises(ValidationError, match="'guild' is not a PartyKind term"):
        cm.Party(name="x", kind="guild")
    with pytest.raises(ValidationError, match="colour"):
        cm.Commons(name="x", kind="forest", colour="red")
    with pytest.raises(ValidationError, match="geometry"):
        cm.Claim(name="x", status="asserted")
    assert cm.Claim(name="x", status="asserted", geometry=shapely.box(0, 0, 1, 1)).layer == "claims"
