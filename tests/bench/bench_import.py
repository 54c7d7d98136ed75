"""Benchmark: import N parcel polygons into an atlas, and read them back, against bare pyogrio.

The project's target: importing 1,000,000 parcel polygons takes at most 2x a bare
``pyogrio.read_dataframe`` + ``pyogrio.write_dataframe`` of the same file, and reading the layer
back at most 1.25x a bare ``pyogrio.read_dataframe``.

Run by hand (pytest ignores this file)::

    python tests/bench/bench_import.py [--parcels N] [--workdir DIR] [--repeat R] [--profile]

Every timing is the best of ``--repeat`` runs. ``--profile`` adds one more import, into a fresh
atlas, under cProfile (not counted in the timings) and prints the top 25 cumulative entries.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import commonsmap as cm  # noqa: E402

# Around Bologna; parcels of roughly 35 m x 35 m.
CENTRE_LON, CENTRE_LAT = 11.3426, 44.4949
CELL_LON, CELL_LAT = 0.00045, 0.00032
MUNICIPALITIES = np.array(["A944", "H833", "G273", "F205", "L219"])
LAND_USES = np.array(["seminativo", "vigneto", "uliveto", "bosco ceduo", "pascolo", "ente urbano", "orto"])
LAND_USE_P = np.array([0.35, 0.12, 0.08, 0.12, 0.08, 0.2, 0.05])
OWNERS = np.array(["private", "public", "unknown"])
OWNER_P = np.array([0.8, 0.08, 0.12])


def parcels_frame(n: int, seed: int = 20240611) -> gpd.GeoDataFrame:
    """Return ``n`` parcel polygons (4 to 6 vertices each) on a jittered grid, in EPSG:4326.

    Each parcel is star-shaped around its cell's (jittered) centre, with vertices on rays at
    increasing angles pushed out to nearly the cell's edge: always a valid polygon, never
    overlapping its neighbours.
    """
    rng = np.random.default_rng(seed)
    ncols = int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    index = np.arange(n)
    row, col = index // ncols, index % ncols
    row_shift = rng.uniform(-0.5, 0.5, nrows)[row] * CELL_LON
    cx = CENTRE_LON + (col - ncols / 2) * CELL_LON + row_shift + rng.uniform(-0.05, 0.05, n) * CELL_LON
    cy = CENTRE_LAT + (row - nrows / 2) * CELL_LAT + rng.uniform(-0.05, 0.05, n) * CELL_LAT
    half_x, half_y = 0.45 * CELL_LON, 0.45 * CELL_LAT

    k = rng.choice([4, 5, 6], size=n, p=[0.6, 0.25, 0.15])
    j = np.arange(7)[None, :]
    step = 2 * np.pi / k[:, None]
    jitter = rng.uniform(-0.3, 0.3, (n, 7)) * step
    angle = np.pi / 4 + rng.uniform(-0.15, 0.15, n)[:, None] + j * step + jitter
    cos, sin = np.cos(angle), np.sin(angle)
    with np.errstate(divide="ignore"):
        reach = np.minimum(half_x / np.abs(cos), half_y / np.abs(sin))
    reach *= rng.uniform(0.85, 1.0, (n, 7))
    x = cx[:, None] + reach * cos
    y = cy[:, None] + reach * sin
    closing = np.arange(n), k
    x[closing], y[closing] = x[:, 0], y[:, 0]
    keep = j <= k[:, None]
    coords = np.column_stack([x[keep], y[keep]])
    ring_offsets = np.concatenate([[0], np.cumsum(k + 1)])
    polygons = shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords,
                                         (ring_offsets, np.arange(n + 1)))

    m_per_deg_lat = 111_132.0
    m_per_deg_lon = 111_320.0 * np.cos(np.radians(CENTRE_LAT))
    area = np.round(shapely.area(polygons) * m_per_deg_lat * m_per_deg_lon, 1)
    municipality = MUNICIPALITIES[np.minimum(index * len(MUNICIPALITIES) // n, len(MUNICIPALITIES) - 1)]
    sheet, number = index // 5000 + 1, index % 5000 + 1
    refs = [f"{m}_{s:04d}.{p:04d}" for m, s, p in zip(municipality.tolist(), sheet.tolist(), number.tolist(),
                                                     strict=True)]
    return gpd.GeoDataFrame({
        "cadastral_ref": refs,
        "land_use": rng.choice(LAND_USES, size=n, p=LAND_USE_P),
        "area_m2": area,
        "owner": rng.choice(OWNERS, size=n, p=OWNER_P),
    }, geometry=polygons, crs="EPSG:4326")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_of(repeat: int, run: Callable[[], Any],
            before: Callable[[], None] | None = None) -> tuple[float, list[float]]:
    """Run ``run`` ``repeat`` times (``before`` untimed ahead of each); return the best and all times."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times), times


def show(label: str, best: float, times: list[float], extra: str = "") -> None:
    runs = "" if len(times) == 1 else "  (runs: " + ", ".join(f"{t:.2f}" for t in times) + ")"
    print(f"  {label:<44} {best:8.2f} s{extra}{runs}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, default=1_000_000,
                        help="number of parcels (default 1,000,000)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to write the files (kept); default a temporary folder, removed after")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each timing; the best is reported")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one more import with cProfile and print the top 25 entries")
    args = parser.parse_args(argv)
    n, repeat = args.parcels, max(1, args.repeat)

    if args.workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="commonsmap-bench-"))
        cleanup = True
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
        cleanup = False
    try:
        print(f"commonsmap {cm.__version__}, pyogrio {pyogrio.__version__}, "
              f"GDAL {pyogrio.__gdal_version_string__}, geopandas {gpd.__version__}, "
              f"pandas {pd.__version__}, shapely {shapely.__version__}")
        print(f"parcels: {n:,}   repeat: {repeat}   workdir: {workdir}", flush=True)
        source = workdir / f"parcels_{n}.gpkg"
        source.unlink(missing_ok=True)

        print("generating", flush=True)
        start = time.perf_counter()
        frame = parcels_frame(n)
        made = time.perf_counter() - start
        start = time.perf_counter()
        pyogrio.write_dataframe(frame, source, layer="parcels", driver="GPKG", use_arrow=True)
        written = time.perf_counter() - start
        vertices = int(shapely.get_num_coordinates(frame.geometry.values).sum())
        del frame
        print(f"  frame {made:.2f} s + write {written:.2f} s; {vertices:,} vertices; source file "
              f"{source.stat().st_size / 1e6:.1f} MB; peak RSS {peak_rss_mb():.0f} MB", flush=True)

        copy = workdir / "bare_copy.gpkg"
        print("baselines: bare pyogrio read + write of the same file", flush=True)

        def bare(use_arrow: bool) -> None:
            df = pyogrio.read_dataframe(source, use_arrow=use_arrow)
            pyogrio.write_dataframe(df, copy, use_arrow=use_arrow)

        def remove_copy() -> None:
            copy.unlink(missing_ok=True)

        bare_default, runs = best_of(repeat, lambda: bare(False), remove_copy)
        show("read+write (defaults)", bare_default, runs)
        bare_arrow, runs = best_of(repeat, lambda: bare(True), remove_copy)
        show("read+write (use_arrow=True)", bare_arrow, runs)
        remove_copy()

        print("commonsmap import", flush=True)
        atlas_path = workdir / "atlas.gpkg"
        current: dict[str, cm.Atlas] = {}

        def fresh_atlas() -> None:
            for path in workdir.glob("atlas.gpkg*"):
                path.unlink()
            current["atlas"] = cm.Atlas.create(atlas_path)

        def do_import() -> None:
            result = current["atlas"].import_file(source, "parcels", mapping={"owner": "owner_kind"},
                                                  unknown="keep")
            assert result.count == n, result.count

        imported, runs = best_of(repeat, do_import, fresh_atlas)
        show("atlas.import_file", imported, runs, f"   {n / imported:,.0f} features/s")
        atlas = cm.open_atlas(atlas_path)
        with closing(sqlite3.connect(atlas_path)) as connection:
            entries = connection.execute("SELECT count(*) FROM commonsmap_history").fetchone()[0]
        print(f"  atlas file {atlas_path.stat().st_size / 1e6:.1f} MB; "
              f"parcels {atlas.counts()['parcels']:,}; history entries {entries:,}; "
              f"peak RSS {peak_rss_mb():.0f} MB", flush=True)

        print("reading the parcels layer back", flush=True)
        read_default, runs = best_of(repeat, lambda: pyogrio.read_dataframe(atlas_path, layer="parcels"))
        show("bare pyogrio.read_dataframe (defaults)", read_default, runs)
        read_arrow, runs = best_of(
            repeat, lambda: pyogrio.read_dataframe(atlas_path, layer="parcels", use_arrow=True))
        show("bare pyogrio.read_dataframe (use_arrow=True)", read_arrow, runs)
        layer: list[Any] = []
        read_atlas, runs = best_of(repeat, lambda: layer.append(atlas.layer("parcels")), layer.clear)
        show("atlas.layer('parcels')", read_atlas, runs)
        assert len(layer[0]) == n
        layer.clear()
        print(f"  peak RSS {peak_rss_mb():.0f} MB", flush=True)

        print()
        print(f"import  / bare read+write (default)   = {imported / bare_default:.2f}x  (limit 2x)")
        print(f"import  / bare read+write (arrow)     = {imported / bare_arrow:.2f}x")
        print(f"read    / bare read (default)         = {read_atlas / read_default:.2f}x  (limit 1.25x)")
        print(f"read    / bare read (arrow)           = {read_atlas / read_arrow:.2f}x")
        print(f"import rate {n / imported:,.0f} features/s; "
              f"atlas file {atlas_path.stat().st_size / 1e6:.1f} MB; "
              f"peak RSS {peak_rss_mb():.0f} MB", flush=True)

        if args.profile:
            print("\nprofiling one more import (into a fresh atlas; not part of the timings)", flush=True)
            fresh_atlas()
            profiler = cProfile.Profile()
            profiler.enable()
            do_import()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue(), flush=True)
    finally:
        if cleanup:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
