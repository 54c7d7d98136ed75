"""The maps' test atlas: the API's test atlas (real forests and parcels, secrets marked), with
relations for the popups and features whose names try to break out of the page.

Added to the API atlas:

- a secret party, holder of a right on the public commons: its name must never show;
- a public right on the public commons, held by the community (shown in the commons' popup);
- a pact caring for the public commons, signed by the association (shown in both popups);
- a public claim with two sources, and a secret claim (both over a forest);
- a commons named with markup and a closing script tag.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import commonsmap as cm
from tests.api.conftest import MARK, build_api_atlas

HOSTILE_NAME = "</script><img src=x onerror=\"window.__pwned=1\">Orto <b>bold</b> & co"
"""A name that would run script, were the page not escaping it."""


@dataclass(frozen=True)
class MapsAtlas:
    """The maps' test atlas: its file and the ids of notable features."""

    path: Path
    ids: dict[str, str]


def build_maps_atlas(path: Path) -> MapsAtlas:
    """Build the maps' test atlas at ``path`` (see the module docstring)."""
    base = build_api_atlas(path)
    ids = dict(base.ids)
    atlas = cm.open_atlas(path)
    ids["secret_party"] = atlas.add("parties", {"name": f"Secret family {MARK}", "kind": "person",
                                                "sensitivity": "secret", "custodian": ids["community"]},
                                    who="setup").ids[0]
    public = atlas.get("commons", ids["public_commons"])
    atlas.add("rights", [
        {"kind": "right", "holder": ids["community"], "commons": ids["public_commons"], "basis": "customary"},
        {"kind": "right", "holder": ids["secret_party"], "commons": ids["public_commons"],
         "basis": "customary"},
    ], who="setup")
    ids["pact"] = atlas.add("pacts", {"title": "Patto per il bosco", "status": "active", "pact_type": "ordinary",
                                      "commons": [ids["public_commons"]], "parties": [ids["association"]],
                                      "signed_on": "2025-04-01", "expires_on": "2027-03-31",
                                      "geometry": public["geometry"].representative_point()}, who="setup").ids[0]
    atlas.add("pact_parties", {"pact": ids["pact"], "party": ids["association"], "role": "proponent"}, who="setup")
    sources = atlas.add("sources", [{"title": "Community map, 2019", "kind": "map"},
                                    {"title": "Elders' testimony", "kind": "testimony"}], who="setup").ids
    forest = atlas.get("commons", ids["public_commons"])["geometry"]
    ids["claim"] = atlas.add("claims", {"name": "Territorio del bosque", "status": "documented",
                                        "claimant": ids["community"], "sources": sources,
                                        "geometry": forest.buffer(0.01)}, who="setup").ids[0]
    ids["secret_claim"] = atlas.add("claims", {"name": f"Sacred grove {MARK}", "status": "asserted",
                                               "claimant": ids["community"], "sensitivity": "secret",
                                               "custodian": ids["community"], "geometry": forest.buffer(0.005)},
                                    who="setup").ids[0]
    ids["hostile"] = atlas.add("commons", {"name": HOSTILE_NAME, "kind": "garden",
                                           "geometry": forest.centroid.buffer(0.002)}, who="setup").ids[0]
    return MapsAtlas(path, ids)


@pytest.fixture(scope="session")
def maps_atlas_template(tmp_path_factory: pytest.TempPathFactory) -> MapsAtlas:
    """The maps' test atlas, built once; copy it (``maps_atlas``) before writing to it."""
    return build_maps_atlas(tmp_path_factory.mktemp("maps") / "maps.gpkg")


@pytest.fixture
def maps_atlas(maps_atlas_template: MapsAtlas, tmp_path: Path) -> MapsAtlas:
    """A fresh copy of the maps' test atlas."""
    path = tmp_path / "maps.gpkg"
    shutil.copyfile(maps_atlas_template.path, path)
    return MapsAtlas(path, maps_atlas_template.ids)
