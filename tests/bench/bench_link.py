"""Benchmark: link 10,000 pacts to 1,000,000 cadastral parcels, against a bare sjoin + intersection.

The project's target: :func:`commonsmap.pacts.parcels.parcel_links` (the frame-level linker,
built on :func:`commonsmap.analysis.overlaps.overlap_pairs`) takes at most half the time of a
bare ``geopandas.sjoin(pacts, parcels, predicate="intersects")`` followed by an exact
``shapely.intersection`` for every pair, on the same data, with the same (geodesic) areas.

Run by hand (pytest ignores this file)::

    python tests/bench/bench_link.py [--parcels 1000000] [--pacts 10000] [--seed 20260412] [--one-thread]

The parcels are a city grid, in EPSG:4326 around Bologna: blocks of 70 to 160 m by 50 to 110 m
between streets 10 to 20 m wide, each block cut by slanted lines into two rows of lots 8 to
40 m wide (one block in twelve is a single big parcel: a school, a park), one lot in four with a
fifth vertex on the street, about one in eight L-shaped (concave). The pacts are irregular
polygons of 10 to 64 vertices whose radius is log-uniform from 12 m to 260 m (a few to a few
hundred parcels each); one in ten is a whole block drawn a little into the street, one in twenty
is exactly one parcel, copied from the cadastre. One run of each; the benchmark checks that both
give the same links (slivers of at most :data:`~commonsmap.pacts.parcels.MIN_SHARE` of a parcel
dropped on both sides) and prints how far their shares and areas differ.
"""

from __future__ import annotations

import argparse
import os
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

from commonsmap.analysis.areas import lonlat_area_ha  # noqa: E402
from commonsmap.pacts.parcels import MIN_SHARE, parcel_links  # noqa: E402

CENTRE_LON, CENTRE_LAT = 11.3426, 44.4949
M_PER_DEG_LAT = 111_132.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(CENTRE_LAT))


def _to_lonlat(x: np.ndarray, y: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    return CENTRE_LON + (x - side / 2) / M_PER_DEG_LON, CENTRE_LAT + (y - side / 2) / M_PER_DEG_LAT


def _line(left: np.ndarray, right: np.ndarray, x: np.ndarray, x0: np.ndarray, width: np.ndarray,
          block: np.ndarray) -> np.ndarray:
    """The height at ``x`` of each block's line from (x0, left) to (x0 + width, right)."""
    return left[block] + (right[block] - left[block]) * ((x - x0[block]) / width[block])


def city_parcels(n: int, seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return about ``n`` parcels on a city grid and the blocks they lie in (both EPSG:4326)."""
    rng = np.random.default_rng(seed)
    per_block = 11.07  # about: two rows of lots 8 to 40 m wide across 70 to 160 m
    blocks_per_side = int(np.ceil(np.sqrt(n / per_block)))
    widths = rng.uniform(70, 160, blocks_per_side)
    heights = rng.uniform(50, 110, blocks_per_side)
    streets_x = rng.uniform(10, 20, blocks_per_side)
    streets_y = rng.uniform(10, 20, blocks_per_side)
    x0s = np.concatenate([[0], np.cumsum(widths + streets_x)[:-1]])
    y0s = np.concatenate([[0], np.cumsum(heights + streets_y)[:-1]])
    side = float(max(x0s[-1] + widths[-1], y0s[-1] + heights[-1]))
    bx, by = np.meshgrid(np.arange(blocks_per_side), np.arange(blocks_per_side))
    bx, by = bx.ravel(), by.ravel()
    x0, y0 = x0s[bx], y0s[by]
    x1, y1 = x0 + widths[bx], y0 + heights[by]
    xs, ys = [], []
    counts: list[np.ndarray] = []
    total = 0
    nblocks = len(bx)
    # A slanted line splits each block into a front and a back row.
    mid_left = y0 + (y1 - y0) * rng.uniform(0.4, 0.6, nblocks)
    mid_right = y0 + (y1 - y0) * rng.uniform(0.4, 0.6, nblocks)
    single = rng.uniform(size=nblocks) < 1 / 12
    for row in (0, 1):
        bottom_l = y0 if row == 0 else mid_left
        bottom_r = y0 if row == 0 else mid_right
        top_l = np.where(single, y1, mid_left) if row == 0 else y1
        top_r = np.where(single, y1, mid_right) if row == 0 else y1
        width = x1 - x0
        # Cut positions along the block: lots 8 to 40 m wide, each cut slanted by up to 4 m.
        lots = np.maximum(1, np.round(width / rng.uniform(8, 40, nblocks))).astype(np.int64)
        lots[single] = 1 if row == 0 else 0
        has = lots > 0
        lots_h = lots[has]
        block = np.repeat(np.flatnonzero(has), lots_h)
        k = np.arange(len(block)) - np.repeat(np.cumsum(lots_h) - lots_h, lots_h)
        share = rng.uniform(0.7, 1.3, len(block))
        first = k == 0
        last = k == lots[block] - 1
        # Each cut is computed once and shared by the lots on its two sides.
        cum = np.cumsum(share)
        at_start = np.repeat(cum[np.flatnonzero(first)] - share[first], lots_h)
        whole = np.repeat(cum[np.flatnonzero(last)], lots_h) - at_start
        right_t = np.where(last, 1.0, (cum - at_start) / whole)
        left_t = np.concatenate([[0.0], right_t[:-1]])
        left_t[first] = 0.0
        w = width[block]
        lot_width = (right_t - left_t) * w
        narrower = np.minimum(lot_width, np.concatenate([lot_width[1:], [np.inf]]))
        slant = rng.uniform(-1, 1, len(block)) * np.minimum(4.0, 0.3 * narrower)
        slant[last] = 0.0
        cut_b = x0[block] + right_t * w
        cut_t = cut_b + slant
        xr_b, xr_t = cut_b, cut_t
        xl_b = np.concatenate([[0.0], cut_b[:-1]])
        xl_t = np.concatenate([[0.0], cut_t[:-1]])
        xl_b[first] = x0[block][first]
        xl_t[first] = x0[block][first]
        xr_b[last] = x1[block][last]
        xr_t[last] = x1[block][last]

        yb_l = _line(bottom_l, bottom_r, xl_b, x0, width, block)
        yb_r = _line(bottom_l, bottom_r, xr_b, x0, width, block)
        yt_l, yt_r = _line(top_l, top_r, xl_t, x0, width, block), _line(top_l, top_r, xr_t, x0, width, block)
        # One lot in four has a fifth vertex, pushed up to 1.5 m into the street; in the front
        # row, two in five of the others (12 m wide or more) are L-shaped: the right part of their
        # front is set back 2 to 5 m from the street (a concave parcel).
        draw = rng.uniform(size=len(block))
        bulge = (draw < 0.25) & ~single[block]
        notch = (row == 0) & (draw >= 0.25) & (draw < 0.55) & ~single[block] & (xr_b - xl_b >= 12)
        px = np.full((len(block), 6), np.nan)
        py = np.full((len(block), 6), np.nan)
        mx = (xl_b + xr_b) / 2
        push = rng.uniform(0.3, 1.5, len(block))
        keep = np.ones((len(block), 6), dtype=bool)
        if row == 0:
            street_y = (yb_l + yb_r) / 2 - push
            px[:, :5] = np.column_stack([xl_b, mx, xr_b, xr_t, xl_t])
            py[:, :5] = np.column_stack([yb_l, street_y, yb_r, yt_r, yt_l])
            keep[:, 5] = notch
            keep[~bulge & ~notch, 1] = False
            setback = rng.uniform(2, 5, len(block))
            y_mid = _line(bottom_l, bottom_r, mx, x0, width, block)
            u = setback / (yt_r - yb_r)  # the set-back corner stays on the lot's (slanted) right side
            px[notch] = np.column_stack([xl_b, mx, mx, xr_b + u * (xr_t - xr_b), xr_t, xl_t])[notch]
            py[notch] = np.column_stack([yb_l, y_mid, y_mid + setback, yb_r + setback, yt_r, yt_l])[notch]
        else:
            mxt = (xl_t + xr_t) / 2
            street_y = (yt_l + yt_r) / 2 + push
            px[:, :5] = np.column_stack([xl_b, xr_b, xr_t, mxt, xl_t])
            py[:, :5] = np.column_stack([yb_l, yb_r, yt_r, street_y, yt_l])
            keep[:, 5] = False
            keep[~bulge, 3] = False
        nverts = keep.sum(axis=1)
        ring_x = np.concatenate([px, px[:, :1]], axis=1)
        ring_y = np.concatenate([py, py[:, :1]], axis=1)
        ring_keep = np.concatenate([keep, np.ones((len(block), 1), dtype=bool)], axis=1)
        xs.append(ring_x[ring_keep])
        ys.append(ring_y[ring_keep])
        counts.append(nverts + 1)
        total += len(block)
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = _to_lonlat(x, y, side)
    count = np.concatenate(counts)
    offsets = np.concatenate([[0], np.cumsum(count)])
    polygons = shapely.from_ragged_array(shapely.GeometryType.POLYGON, np.column_stack([lon, lat]),
                                         (offsets, np.arange(total + 1)))
    parcels = gpd.GeoDataFrame({"id": [f"P{i:07d}" for i in range(total)]}, geometry=polygons, crs="EPSG:4326")
    blx0, bly0 = _to_lonlat(x0, y0, side)
    blx1, bly1 = _to_lonlat(x1, y1, side)
    blocks = gpd.GeoDataFrame(geometry=shapely.box(blx0, bly0, blx1, bly1), crs="EPSG:4326")
    return parcels, blocks


def city_pacts(parcels: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, count: int, seed: int) -> gpd.GeoDataFrame:
    """Return ``count`` pact polygons over the parcels (EPSG:4326): irregular areas, blocks and single parcels.

    A few more are drawn and the first ``count`` valid ones kept (two vertices of an irregular
    area may fall at the same angle).
    """
    wanted, count = count, count + count // 100 + 10
    rng = np.random.default_rng(seed + 1)
    xmin, ymin, xmax, ymax = parcels.total_bounds
    kind = rng.choice(["area", "block", "parcel"], size=count, p=[0.85, 0.10, 0.05])
    geoms = np.empty(count, dtype=object)
    areas = np.flatnonzero(kind == "area")
    radius = np.exp(rng.uniform(np.log(12), np.log(260), len(areas)))
    vertices = np.clip((2 * np.pi * radius / 25).astype(int), 10, 64)
    cx = rng.uniform(xmin, xmax, len(areas))
    cy = rng.uniform(ymin, ymax, len(areas))
    for i, r, v, x, y in zip(areas, radius, vertices, cx, cy, strict=True):
        angle = np.sort(rng.uniform(0, 2 * np.pi, v))
        reach = r * rng.uniform(0.6, 1.0, v)
        ring = np.column_stack([x + reach * np.cos(angle) / M_PER_DEG_LON, y + reach * np.sin(angle) / M_PER_DEG_LAT])
        geoms[i] = shapely.Polygon(ring)
    chosen = np.flatnonzero(kind == "block")
    picked = blocks.geometry.values[rng.integers(0, len(blocks), len(chosen))]
    margin = rng.uniform(1, 4, len(chosen)) / M_PER_DEG_LAT
    geoms[chosen] = shapely.buffer(np.asarray(picked, dtype=object), margin, join_style="mitre")
    chosen = np.flatnonzero(kind == "parcel")
    geoms[chosen] = np.asarray(parcels.geometry.values, dtype=object)[rng.integers(0, len(parcels), len(chosen))]
    frame = gpd.GeoDataFrame({"kind": kind}, geometry=geoms, crs="EPSG:4326")
    frame = frame[frame.is_valid].iloc[:wanted].reset_index(drop=True)
    frame.insert(0, "id", [f"pact-{i:05d}" for i in range(len(frame))])
    return frame


def bare_links(pacts: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> pd.DataFrame:
    """The baseline: sjoin on intersects, then an exact intersection of every pair, geodesic areas."""
    joined = gpd.sjoin(pacts[["id", "geometry"]], parcels[["id", "geometry"]], predicate="intersects",
                       lsuffix="pact", rsuffix="parcel")
    pact_geoms = np.asarray(joined.geometry.values, dtype=object)
    parcel_index = joined["index_parcel"].to_numpy()
    parcel_geoms = np.asarray(parcels.geometry.values, dtype=object)[parcel_index]
    pieces = shapely.intersection(pact_geoms, parcel_geoms)
    crs = parcels.crs
    piece_area = lonlat_area_ha(pieces, crs)
    used = np.unique(parcel_index)
    parcel_area = np.zeros(len(parcels))
    parcel_area[used] = lonlat_area_ha(np.asarray(parcels.geometry.values, dtype=object)[used], crs)
    share = piece_area / parcel_area[parcel_index]
    frame = pd.DataFrame({"pact": joined["id_pact"].to_numpy(), "parcel": joined["id_parcel"].to_numpy(),
                          "share": share, "area_ha": piece_area})
    return frame[frame["area_ha"] > 0].reset_index(drop=True)


def compare(ours: pd.DataFrame, reference: pd.DataFrame) -> tuple[int, int, float, float]:
    """Links only one side found, links only the other found, the largest share difference (absolute,
    as a fraction of the parcel) and the largest relative area difference of pieces of 1% of their parcel or more.
    """
    merged = ours.merge(reference, on=["pact", "parcel"], how="outer", suffixes=("_ours", "_ref"), indicator=True)
    only_ours = int((merged["_merge"] == "left_only").sum())
    only_ref = int((merged["_merge"] == "right_only").sum())
    both = merged[merged["_merge"] == "both"]
    share_abs = float(np.max(np.abs(both["share_ours"] - both["share_ref"]))) if len(both) else 0.0
    big = both[both["share_ref"] >= 0.01]
    area_rel = float(np.max(np.abs(big["area_ha_ours"] - big["area_ha_ref"]) / big["area_ha_ref"])) if len(big) else 0.0
    return only_ours, only_ref, share_abs, area_rel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, default=1_000_000, help="about how many parcels (default 1,000,000)")
    parser.add_argument("--pacts", type=int, default=10_000, help="how many pacts (default 10,000)")
    parser.add_argument("--seed", type=int, default=20260412, help="seed of the synthetic city (default 20260412)")
    parser.add_argument("--one-thread", action="store_true",
                        help="run the linker on one thread (it uses up to 8, as many as there are cores)")
    args = parser.parse_args(argv)
    if args.one_thread:
        os.cpu_count = lambda: 1  # the engine sizes its thread pools from the number of cores
    print(f"geopandas {gpd.__version__}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
          f"pandas {pd.__version__}, numpy {np.__version__}; the linker runs on up to {os.cpu_count()} threads, "
          "the baseline on one", flush=True)

    start = time.perf_counter()
    parcels, blocks = city_parcels(args.parcels, args.seed)
    pacts = city_pacts(parcels, blocks, args.pacts, args.seed)
    made_s = time.perf_counter() - start
    xmin, ymin, xmax, ymax = parcels.total_bounds
    print(f"{len(parcels):,} parcels in {len(blocks):,} blocks over {(xmax - xmin) * M_PER_DEG_LON / 1000:.1f} x "
          f"{(ymax - ymin) * M_PER_DEG_LAT / 1000:.1f} km; {len(pacts):,} pacts "
          f"({', '.join(f'{k} {v:,}' for k, v in pacts['kind'].value_counts().items())}); made in {made_s:.1f} s",
          flush=True)

    start = time.perf_counter()
    ours = parcel_links(pacts, parcels, method="geometry")
    ours_s = time.perf_counter() - start
    whole = int((ours["share"] == 1.0).sum())
    per_pact = ours.groupby("pact").size()
    print(f"  parcel_links (ours)              {ours_s:8.2f} s   {len(ours):,} links, {whole:,} parcels wholly "
          f"inside a pact; parcels per pact: median {per_pact.median():.0f}, max {per_pact.max():,}", flush=True)

    start = time.perf_counter()
    reference = bare_links(pacts, parcels)
    bare_s = time.perf_counter() - start
    slivers = reference["share"] <= MIN_SHARE
    print(f"  sjoin + intersection (baseline)  {bare_s:8.2f} s   {len(reference):,} pairs with a positive area, "
          f"{int(slivers.sum()):,} of them slivers (share <= {MIN_SHARE:g}, dropped as by parcel_links)", flush=True)
    reference = reference[~slivers]

    only_ours, only_ref, share_abs, area_rel = compare(ours[["pact", "parcel", "share", "area_ha"]], reference)
    same = only_ours == 0 and only_ref == 0
    close = share_abs <= 1e-5 and area_rel <= 1e-3
    print(f"  check: same links {'yes' if same else 'NO'} (only ours {only_ours:,}, only baseline {only_ref:,}); "
          f"largest share difference {share_abs:.1e} of a parcel (limit 1e-5), largest relative area difference "
          f"{area_rel:.1e} on pieces of 1% of their parcel or more (limit 1e-3): {'ok' if close else 'FAIL'}")
    ratio = bare_s / ours_s
    print(f"  baseline / ours: {ratio:.2f}x (target >= 2x) {'ok' if ratio >= 2 else 'BELOW TARGET'}")
    return 0 if same and close else 1


if __name__ == "__main__":
    sys.exit(main())
