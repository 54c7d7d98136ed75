"""GDAL's OGC API – Features driver (OAPIF), through pyogrio, reads the served atlas as the atlas itself reads.

GDAL calls hold the GIL, so the server runs in a process of its own (the app of
``api.app.create_app`` under uvicorn, with its access log kept, to see the pages GDAL asked for).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pyogrio
import pytest
import shapely

import commonsmap as cm
from commonsmap.privacy import Viewer
from tests.api.conftest import MARK, ApiAtlas, api_atlas_template, free_port  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = ("import sys, uvicorn; from api.app import create_app; "
          "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), log_level='info', "
          "access_log=True)")
PAGE_SIZE = 50


@dataclass
class Served:
    """The test atlas served by a uvicorn process; its access log."""

    url: str
    atlas: ApiAtlas
    log: Path

    @property
    def source(self) -> str:
        return f"OAPIF:{self.url}"

    def requests(self) -> list[str]:
        """The request lines of the access log so far."""
        return re.findall(r'"GET ([^ ]+) HTTP/1\.1"', self.log.read_text(encoding="utf-8", errors="replace"))


@pytest.fixture(scope="module")
def served(api_atlas_template: ApiAtlas, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:  # noqa: F811
    folder = tmp_path_factory.mktemp("gdal")
    path = folder / "api.gpkg"
    shutil.copyfile(api_atlas_template.path, path)
    port = free_port()
    log = folder / "access.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-c", LAUNCH, str(path), str(port)], cwd=ROOT,
                                   stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/conformance", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield Served(url, ApiAtlas(path, api_atlas_template.ids, api_atlas_template.keys), log)
    finally:
        process.terminate()
        process.wait(timeout=20)


def server_ids(served: Served, layer: str, params: dict[str, str]) -> list[str]:
    """The ids of every feature the server answers for an items query, page after page."""
    ids: list[str] = []
    following: str | None = f"{served.url}/collections/{layer}/items"
    query: dict[str, str] | None = {**params, "limit": "100"}
    while following:
        body = httpx.get(following, params=query, timeout=60).json()
        ids += [str(f["id"]) for f in body["features"]]
        following = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        query = None
    return ids


def test_list_layers_lists_every_collection(served: Served) -> None:
    layers = pyogrio.list_layers(served.source)
    names = [str(name) for name, _ in layers]
    collections = [c["id"] for c in httpx.get(f"{served.url}/collections", timeout=30).json()["collections"]]
    assert sorted(names) == sorted(collections) == sorted(cm.open_atlas(served.atlas.path).layers())
    kinds = {str(name): str(kind) for name, kind in layers}
    assert kinds["parcels"] == "MultiPolygon"


def test_read_parcels_pages_through_every_parcel(served: Served) -> None:
    before = len(served.requests())
    frame = pyogrio.read_dataframe(served.source, layer="parcels", PAGE_SIZE=PAGE_SIZE)
    pages = [r for r in served.requests()[before:] if r.startswith("/collections/parcels/items?")
             and f"limit={PAGE_SIZE}" in r]
    assert len(pages) >= math.ceil(407 / PAGE_SIZE), pages  # GDAL followed the next links, page after page
    atlas = cm.open_atlas(served.atlas.path)["parcels"]
    assert len(frame) == len(atlas) == 407
    assert frame["id"].is_unique
    assert set(frame["id"]) == set(atlas["id"])
    assert frame.crs is not None and (frame.crs.equals("OGC:CRS84") or frame.crs.to_epsg() == 4326)
    got = frame.set_index("id").loc[atlas["id"]]
    assert list(got["cadastral_ref"]) == list(atlas["cadastral_ref"])
    assert list(got["custodian"]) == list(atlas["custodian"])
    assert (pd.to_numeric(got["version"]) == atlas["version"].to_numpy()).all()
    assert (got.geometry.geom_type == "MultiPolygon").all()
    assert shapely.equals_exact(got.geometry.to_numpy(), atlas.geometry.to_numpy(), tolerance=1e-9).all()
    metric = got.geometry.set_crs(4326, allow_override=True).to_crs(32633)  # UTM 33N, for Prague
    expected_metric = atlas.geometry.to_crs(32633)
    areas, expected_areas = metric.area.to_numpy(), expected_metric.area.to_numpy()  # square metres
    assert abs(areas - expected_areas).max() < 1e-3
    assert (metric.centroid.distance(expected_metric.centroid, align=False) < 1e-3).all()  # millimetres


def test_bbox_read_matches_the_server_and_shapely(served: Served) -> None:
    atlas = cm.open_atlas(served.atlas.path)["parcels"]
    for row, half in ((0, 0.001), (150, 0.0005), (300, 0.003)):  # boxes around parcels, cutting through others
        centre = atlas.geometry.iloc[row].representative_point()
        box = (centre.x - half, centre.y - half * 0.7, centre.x + half, centre.y + half * 0.7)
        expected = set(atlas["id"][atlas.geometry.intersects(shapely.box(*box))])
        assert 0 < len(expected) < 407
        by_server = server_ids(served, "parcels", {"bbox": ",".join(map(repr, box))})
        by_gdal = pyogrio.read_dataframe(served.source, layer="parcels", bbox=box, PAGE_SIZE=PAGE_SIZE)
        assert len(by_server) == len(set(by_server))
        assert set(by_gdal["id"]) == set(by_server) == expected, box


def test_anonymous_read_of_commons_shows_no_secret(served: Served) -> None:
    frame = pyogrio.read_dataframe(served.source, layer="commons", PAGE_SIZE=PAGE_SIZE)
    cells = frame.drop(columns="geometry").astype(str)
    assert not cells.apply(lambda column: column.str.contains(MARK)).any().any()
    ids = set(frame["id"])
    for hidden in ("hidden_community", "hidden_secret", "generalised_site"):
        assert served.atlas.ids[hidden] not in ids
    atlas = cm.open_atlas(served.atlas.path)
    assert len(frame) == atlas.count("commons", viewer=Viewer.anonymous())
    generalised = frame[frame["id"].str.startswith("g-")]
    assert len(generalised) == 1  # the generalised site, as its grid cell, under an opaque id
    site = atlas.get("commons", served.atlas.ids["generalised_site"])["geometry"]
    assert not generalised.geometry.iloc[0].equals(site)
    assert generalised.geometry.iloc[0].contains(site.representative_point()) or \
        generalised.geometry.iloc[0].intersects(site)
