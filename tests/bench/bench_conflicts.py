"""Benchmark: overlaps of 200 territory claims with N parcels, against a bare geopandas overlay.

The project's target: at 1,000,000 parcels, ``overlap_pairs(claims, parcels)`` takes at most a
third of a bare ``geopandas.overlay(claims, parcels, how="intersection")`` of the same layers, and
its time grows about linearly with the number of parcels.

Run by hand (pytest ignores this file)::

    python tests/bench/bench_conflicts.py [--sizes 10000,100000,1000000] [--claims 200]
                                          [--skip-overlay] [--overlay-sizes 1000000] [--profile]

The claims are irregular star-shaped territories (some with an enclave, some with an island) of
sizes spread over two orders of magnitude, scattered over the extent of the parcels, so that the
number of pairs grows with N. Each timing is one run. Where the overlay runs, the benchmark
checks that both found the same pieces with a positive area and that their total areas agree.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_import import parcels_frame, peak_rss_mb  # noqa: E402

from commonsmap.analysis.overlaps import overlap_pairs  # noqa: E402

M_PER_DEG_LAT = 111_132.0


def _star(rng: np.random.Generator, cx: float, cy: float, radius: float, vertices: int,
          wobble: float) -> tuple[np.ndarray, float, float]:
    """An irregular star-shaped ring around (cx, cy), in metres; returns it and its min/max reach."""
    angle = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    harmonics = np.arange(1, 13)
    amplitude = wobble * rng.uniform(0.3, 1.0, len(harmonics)) / harmonics ** 1.1
    phase = rng.uniform(0, 2 * np.pi, len(harmonics))
    shape = 1 + (amplitude[None, :] * np.cos(harmonics[None, :] * angle[:, None] + phase[None, :])).sum(axis=1)
    shape = np.maximum(shape, 0.25) * rng.uniform(0.97, 1.03, vertices)  # a ragged, river-like edge
    reach = radius * shape
    ring = np.column_stack([cx + reach * np.cos(angle), cy + reach * np.sin(angle)])
    return np.vstack([ring, ring[:1]]), float(reach.min()), float(reach.max())


def claims_frame(parcels: gpd.GeoDataFrame, count: int = 200, seed: int = 20260301) -> gpd.GeoDataFrame:
    """Return ``count`` irregular claim polygons over the extent of ``parcels`` (EPSG:4326).

    Radii are log-uniform from 0.5% to 10% of the side of the parcels' extent (at 1,000,000
    parcels, from about 180 m to 3.6 km: a few dozen to tens of thousands of parcels each); the
    number of vertices grows with the perimeter (one every 40 m or so, 32 to 2,000). One claim in
    ten has an enclave (a hole), one in ten a second part (an island).
    """
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = parcels.total_bounds
    lat0 = (ymin + ymax) / 2
    m_per_deg_lon = 111_320.0 * np.cos(np.radians(lat0))
    width, height = (xmax - xmin) * m_per_deg_lon, (ymax - ymin) * M_PER_DEG_LAT
    side = min(width, height)
    polygons, kinds = [], []
    for _ in range(count):
        radius = side * float(np.exp(rng.uniform(np.log(0.005), np.log(0.10))))
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        vertices = int(np.clip(2 * np.pi * radius / 40, 32, 2000))
        outer, low, high = _star(rng, cx, cy, radius, vertices, wobble=0.45)
        holes, kind = [], "plain"
        parts = [(outer, holes)]
        draw = rng.uniform()
        if draw < 0.1:
            hole, _, _ = _star(rng, cx, cy, 0.4 * low, max(16, vertices // 8), wobble=0.2)
            holes.append(hole[::-1])
            kind = "enclave"
        elif draw < 0.2:
            direction = rng.uniform(0, 2 * np.pi)
            island_radius = 0.3 * radius
            distance = high + 1.8 * island_radius + 50
            island, _, _ = _star(rng, cx + distance * np.cos(direction), cy + distance * np.sin(direction),
                                 island_radius, max(16, vertices // 3), wobble=0.2)
            parts.append((island, []))
            kind = "island"
        in_degrees = [shapely.Polygon(_to_degrees(ring, xmin, ymin, m_per_deg_lon),
                                      [_to_degrees(h, xmin, ymin, m_per_deg_lon) for h in hole_list])
                      for ring, hole_list in parts]
        polygons.append(in_degrees[0] if len(in_degrees) == 1 else shapely.MultiPolygon(in_degrees))
        kinds.append(kind)
    frame = gpd.GeoDataFrame({"id": [f"claim-{i:03d}" for i in range(count)], "kind": kinds},
                             geometry=polygons, crs="EPSG:4326")
    assert frame.is_valid.all()
    return frame


def _to_degrees(ring: np.ndarray, xmin: float, ymin: float, m_per_deg_lon: float) -> np.ndarray:
    return np.column_stack([xmin + ring[:, 0] / m_per_deg_lon, ymin + ring[:, 1] / M_PER_DEG_LAT])


def equal_area_ha(geoms: gpd.GeoSeries) -> np.ndarray:
    """Areas in a Lambert azimuthal equal-area projection centred on the data: an independent check."""
    xmin, ymin, xmax, ymax = geoms.to_crs(4326).total_bounds
    lon, lat = (xmin + xmax) / 2, (ymin + ymax) / 2
    projected = geoms.to_crs(f"+proj=laea +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")
    return projected.area.to_numpy() / 10_000.0


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux only: ``/proc/self/clear_refs``); tell whether it worked."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_mb("VmHWM") is not None


def memory_line(reset: bool) -> str:
    """Current and peak RSS; the peak since the last reset when the reset worked."""
    current, peak = _status_mb("VmRSS"), _status_mb("VmHWM")
    if not reset or current is None or peak is None:
        return f"peak RSS {peak_rss_mb():.0f} MB"
    return f"RSS {current:.0f} MB, peak during the step {peak:.0f} MB"


def bare_overlay(claims: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.overlay(claims, parcels, how="intersection")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="numbers of parcels, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--claims", type=int, default=200, help="number of claims (default 200)")
    parser.add_argument("--skip-overlay", action="store_true", help="do not run geopandas.overlay at all")
    parser.add_argument("--overlay-sizes", default=None,
                        help="sizes at which to run the overlay (default: every size)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile overlap_pairs at the largest size and print the top 30 entries")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    overlay_sizes = set(sizes) if args.overlay_sizes is None else {
        int(s.replace("_", "")) for s in args.overlay_sizes.split(",") if s}
    if args.skip_overlay:
        overlay_sizes = set()

    print(f"geopandas {gpd.__version__}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
          f"pandas {pd.__version__}, numpy {np.__version__}; claims: {args.claims}", flush=True)
    rows = []
    for n in sizes:
        parcels = parcels_frame(n)
        claims = claims_frame(parcels, args.claims)
        claim_vertices = int(shapely.get_num_coordinates(claims.geometry.values).sum())
        xmin, ymin, xmax, ymax = parcels.total_bounds
        print(f"\n{n:,} parcels over {(xmax - xmin) * 111.32 * np.cos(np.radians(ymin)):.1f} x "
              f"{(ymax - ymin) * 111.13:.1f} km; {len(claims)} claims with {claim_vertices:,} vertices; "
              f"peak RSS so far {peak_rss_mb():.0f} MB", flush=True)

        before = _status_mb("VmRSS")
        reset = reset_peak_rss()
        start = time.perf_counter()
        ours = overlap_pairs(claims, parcels, left_id="id", right_id="cadastral_ref")
        ours_s = time.perf_counter() - start
        print(f"  overlap_pairs             {ours_s:8.2f} s   {len(ours):,} pairs; "
              f"{ours['area_ha'].sum():,.1f} ha; RSS before {before or 0:.0f} MB, {memory_line(reset)}", flush=True)
        overlay_s = float("nan")
        if n in overlay_sizes:
            reset = reset_peak_rss()
            start = time.perf_counter()
            reference = bare_overlay(claims, parcels)
            overlay_s = time.perf_counter() - start
            overlay_memory = memory_line(reset)
            reference_area = equal_area_ha(reference.geometry)
            positive = reference_area > 0
            same_pairs = set(zip(reference.loc[positive, "id"], reference.loc[positive, "cadastral_ref"],
                                 strict=True)) == set(zip(ours["left_id"], ours["right_id"], strict=True))
            total_ref = float(reference_area.sum())
            rel = abs(float(ours["area_ha"].sum()) - total_ref) / total_ref
            print(f"  geopandas.overlay         {overlay_s:8.2f} s   {len(reference):,} pieces, "
                  f"{int(positive.sum()):,} with positive area; {total_ref:,.1f} ha; {overlay_memory}")
            print(f"  check: same pieces {'yes' if same_pairs else 'NO'} ({int(positive.sum()):,} vs {len(ours):,}); "
                  f"total areas differ by {rel:.2e} (limit 1e-3) {'ok' if rel < 1e-3 else 'FAIL'}", flush=True)
            del reference
        rows.append((n, len(ours), ours_s, overlay_s))
        del ours

        if args.profile and n == max(sizes):
            profiler = cProfile.Profile()
            profiler.enable()
            overlap_pairs(claims, parcels, left_id="id", right_id="cadastral_ref")
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue(), flush=True)

    print()
    print(f"{'parcels':>10} {'pairs':>10} {'ours s':>8} {'overlay s':>10} {'overlay/ours':>13} {'us/parcel':>10}")
    for n, pairs, ours_s, overlay_s in rows:
        ratio = overlay_s / ours_s
        print(f"{n:>10,} {pairs:>10,} {ours_s:>8.2f} {overlay_s:>10.2f} {ratio:>12.1f}x {ours_s / n * 1e6:>10.2f}")
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
