"""A process killed (SIGKILL) in the middle of a large import leaves the atlas as it was before.

The atlas must open, validate as a GeoPackage and hold exactly the data (counts, ids, geometries,
history) from before the import; and it must still be writable (no stale lock or journal).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

import commonsmap as cm
from tests.conftest import assert_valid_geopackage, digest

ROOT = Path(__file__).resolve().parents[2]
LARGE = 300_000
WRITING = "validating and writing"

CHILD = """
import sys
import commonsmap as cm

atlas = cm.open_atlas(sys.argv[1])

def progress(step):
    print(step, flush=True)

atlas.import_file(sys.argv[2], "parcels", unknown="keep", progress=progress, who="doomed import")
print("finished", flush=True)
"""


def _parcels(n: int, start: int = 0) -> gpd.GeoDataFrame:
    """``n`` small square parcels in a grid near Bologna (EPSG:4326), with unique references."""
    index = np.arange(start, start + n)
    x0 = 11.30 + (index % 1000) * 0.0004
    y0 = 44.45 + (index // 1000) * 0.0003
    return gpd.GeoDataFrame({
        "cadastral_ref": [f"A944_{i // 5000 + 1:04d}.{i % 5000 + 1:04d}" for i in index.tolist()],
        "land_use": np.where(index % 3 == 0, "seminativo", "vigneto"),
        "area_m2": np.full(n, 900.0),
    }, geometry=shapely.box(x0, y0, x0 + 0.00035, y0 + 0.00026), crs="EPSG:4326")


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "parcels_large.gpkg"
    pyogrio.write_dataframe(_parcels(LARGE), path, layer="parcels", driver="GPKG", use_arrow=True)
    return path


def _stderr(proc: subprocess.Popen[str]) -> str:
    return proc.stderr.read() if proc.stderr else ""


def _snapshot(atlas: cm.Atlas) -> tuple[dict[str, int], list[str], list[bytes], int]:
    parcels = atlas.layer("parcels").sort_values("id")
    return (atlas.counts(), parcels["id"].tolist(), shapely.to_wkb(parcels.geometry.values).tolist(),
            len(atlas.history()))


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str,
              timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the import ended (exit {proc.returncode}) before {what}: {_stderr(proc)}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.mark.slow
@pytest.mark.parametrize(("moment", "seed"), [("staging", 7), ("copying", 11)])
def test_sigkill_during_a_large_import_leaves_the_atlas_as_before(
        tmp_path: Path, data: Path, large_file: Path, moment: str, seed: int) -> None:
    folder = tmp_path / "atlas"
    path = folder / "atlas.gpkg"
    atlas = cm.Atlas.create(path, custodian="Test community")
    plots = atlas.import_file(data / "bubenec_plots.gpkg", "parcels", mapping={"ID": "cadastral_ref"},
                              unknown="keep", who="ana")
    atlas.update("parcels", plots.ids[0], {"designation": "designated"}, who="ana", note="set aside")
    atlas.delete("parcels", plots.ids[1], who="ana")
    before = _snapshot(atlas)
    before_digest = digest(path)
    size = path.stat().st_size
    assert before[0]["parcels"] == 406
    assert before[3] == 409  # 407 inserts, an update, a delete

    rng = random.Random(seed)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(large_file)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        steps = []
        while WRITING not in steps:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                pytest.fail(f"the import ended (exit {proc.wait()}) before writing: {_stderr(proc)}")
            steps.append(line.strip())
        if moment == "copying":
            # The copy into the atlas has begun once the file grows (the page cache spills).
            _wait_for(lambda: path.stat().st_size > size + 4_000_000, proc, "the rows reached the file")
        time.sleep(rng.uniform(0.2, 0.6) if moment == "staging" else rng.uniform(0.0, 0.05))
        assert proc.poll() is None, "the import finished before it could be killed"
        grown = path.stat().st_size - size
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert "finished" not in steps
    journal = folder / "atlas.gpkg-journal"
    if moment == "staging":
        # Validation and GDAL's staging file come before any write to the atlas: it was never touched.
        assert sorted(p.name for p in folder.iterdir()) == ["atlas.gpkg"]
        assert grown == 0 and digest(path) == before_digest
    else:
        # Killed inside the copy transaction: SQLite's hot journal holds the pages to roll back.
        assert sorted(p.name for p in folder.iterdir()) == ["atlas.gpkg", journal.name]
        assert grown > 4_000_000 and journal.read_bytes()[:8] != bytes(8)

    reopened = cm.open_atlas(path)
    assert sorted(p.name for p in folder.iterdir()) == ["atlas.gpkg"]
    assert digest(path) == before_digest
    assert_valid_geopackage(path)
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    after = _snapshot(reopened)
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert after[2] == before[2]
    assert after[3] == before[3]
    assert not set(reopened.history()["who"].dropna()) - {"ana"}

    small = tmp_path / "small.gpkg"
    pyogrio.write_dataframe(_parcels(50, start=LARGE), small, layer="parcels", driver="GPKG", use_arrow=True)
    result = reopened.import_file(small, "parcels", unknown="keep", who="bea")
    assert result.count == 50
    assert reopened.counts() == {**before[0], "parcels": before[0]["parcels"] + 50}
    assert len(reopened.history()) == before[3] + 50
    assert_valid_geopackage(path)
    assert sorted(p.name for p in folder.iterdir()) == ["atlas.gpkg"]
