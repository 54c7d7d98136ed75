"""Fixtures of the API tests: a real atlas from real data, API keys, and a live server on 127.0.0.1.

The atlas (built once per session) holds:

- parties: a community (``community``), an association (``association``), the municipality;
- commons: 40 Cambodian community forests (real boundaries, ODC-BY), mostly public, with
  ``hidden_community`` (community, held by the community), ``hidden_secret`` (secret, held by
  the community) and ``generalised_site`` (community, shown to others as a grid cell);
  each hidden feature's name carries the marker ``SECRETMARK`` so that tests can look for it
  in raw answers;
- parcels: 407 real Bubeneč (Prague) cadastral plots (CC BY 4.0);
- observations and a source held by the community.

Keys: ``admin``, ``custodian`` and ``member`` of the community, ``other`` (custodian of the
association), ``signed_in``.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
import uvicorn

import commonsmap as cm
from api.app import create_app
from api.settings import Settings
from commonsmap.keys import add_key

DATA = Path(__file__).resolve().parents[1] / "data"
MARK = "SECRETMARK"


@dataclass(frozen=True)
class ApiAtlas:
    """The test atlas: its file, the ids of notable features, and keys by role."""

    path: Path
    ids: dict[str, str]
    keys: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        """Request headers carrying the key of ``who``."""
        return {"Authorization": f"Bearer {self.keys[who]}"}


def build_api_atlas(path: Path) -> ApiAtlas:
    """Build the test atlas at ``path`` (see the module docstring)."""
    atlas = cm.Atlas.create(path, custodian="Test municipality", licence="CC-BY-4.0", title="API test atlas")
    ids: dict[str, str] = {}
    parties = atlas.add("parties", [
        {"name": "Comunidad del bosque", "kind": "community"},
        {"name": "Associazione Orti", "kind": "association"},
        {"name": "Comune di prova", "kind": "municipality"},
    ], who="setup").ids
    ids.update(community=parties[0], association=parties[1], municipality=parties[2])
    forests = gpd.read_file(DATA / "kh_community_forests.geojson")
    commons = gpd.GeoDataFrame({"name": forests["name"].astype(str), "kind": "forest"},
                               geometry=forests.geometry.values, crs=forests.crs)
    commons["sensitivity"] = "public"
    commons["holder"] = None
    special = {0: ("hidden_community", "community", None), 1: ("hidden_secret", "secret", None),
               2: ("generalised_site", "community", "grid_cell")}
    commons["publish_as"] = None
    for row, (label, level, publish) in special.items():
        commons.loc[row, "name"] = f"{label} {MARK}"
        commons.loc[row, "sensitivity"] = level
        commons.loc[row, "publish_as"] = publish
        commons.loc[row, "holder"] = ids["community"]
    added = atlas.add("commons", commons, who="setup").ids
    for row, (label, _, _) in special.items():
        ids[label] = added[row]
    ids["public_commons"] = added[5]
    plots = gpd.read_file(DATA / "bubenec_plots.gpkg")
    parcels = gpd.GeoDataFrame({"cadastral_ref": [f"{k}/{i}" for k, i in zip(plots["KATUZE_KOD"], plots["ID"],
                                                                                     strict=True)]},
                               geometry=plots.geometry.values, crs=plots.crs)
    atlas.add("parcels", parcels, who="setup")
    centre = forests.geometry.iloc[5].representative_point()
    ids["observation"] = atlas.add("observations", {"kind": "other", "observed_at": "2026-03-02T10:00:00Z",
                                                    "geometry": centre, "custodian": ids["community"],
                                                    "notes": "field visit"}, who="setup").ids[0]
    keys = {
        "admin": add_key(atlas, "admin", name="municipal GIS office"),
        "custodian": add_key(atlas, "custodian", parties=[ids["community"]], name="community custodian"),
        "member": add_key(atlas, "member", parties=[ids["community"]], name="community member"),
        "other": add_key(atlas, "custodian", parties=[ids["association"]], name="association custodian"),
        "signed_in": add_key(atlas, "signed_in", name="a citizen"),
    }
    return ApiAtlas(path, ids, keys)


@pytest.fixture(scope="session")
def api_atlas_template(tmp_path_factory: pytest.TempPathFactory) -> ApiAtlas:
    """The test atlas, built once; copy it (``api_atlas``) before writing to it."""
    return build_api_atlas(tmp_path_factory.mktemp("api") / "api.gpkg")


@pytest.fixture
def api_atlas(api_atlas_template: ApiAtlas, tmp_path: Path) -> ApiAtlas:
    """A fresh copy of the test atlas for one test."""
    path = tmp_path / "api.gpkg"
    shutil.copyfile(api_atlas_template.path, path)
    return ApiAtlas(path, api_atlas_template.ids, api_atlas_template.keys)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """A real uvicorn server on 127.0.0.1, in a thread of the test process."""

    def __init__(self, path: Path, settings: Settings | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(path, settings), host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(api_atlas: ApiAtlas) -> Iterator[LiveServer]:
    """The test atlas (a fresh copy) served on 127.0.0.1."""
    with LiveServer(api_atlas.path) as server:
        yield server
