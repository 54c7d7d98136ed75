"""Areas of overlap without building the overlap: polygons clipped by convex pieces, in numpy.

:func:`commonsmap.analysis.overlaps.overlap_pairs` needs, for the pairs of features that straddle
each other's boundary, only the area they share when it is asked for figures
(``with_geometry=False``). GEOS computes each intersection as a full overlay, some 10 to 20 µs a
pair however small the features. When one feature of a pair is convex, or concave with few
vertices (most cadastral parcels are one or the other), and the other is not too big,
:func:`clipped_areas_ha` clips the other by it with the Sutherland–Hodgman algorithm, over every
pair at once:

* a concave feature is cut into the fan of triangles from the first vertex of each of its rings:
  a ring's winding number is the sum of its triangles', so the area inside the feature is the
  sum of the areas inside the triangles, each counted with the sign of its turn;
* each ring of the clipped feature (the exterior and the holes of every part) is one job per
  convex piece; a ring whose box misses the piece's box is skipped;
* runs of vertices beyond one side of the piece's box are cut to their two ends: the ring changes
  only beyond that side, where the piece is not;
* the ring is clipped by the half-plane of each edge of the piece in turn; the signed area of
  what is left is that of the ring's part inside the piece, whatever the ring's shape (holes
  count negative);
* the algorithm joins separate pieces with edges that run along the piece's boundary and
  straight back; such spikes add nothing in the plane but a sliver on the ellipsoid, so they are
  removed;
* areas are geodesic, by the formula of :func:`commonsmap.analysis.areas.lonlat_area_ha`; one
  below :data:`NOISE` of the clipper's area is rounding noise (two features drawn along the same
  line) and counts as none.

The result differs from the geodesic area of GEOS's exact intersection only where joining edges
or triangle sides split an edge of the result (on the ellipsoid an edge cut in two is not quite
the same line): by less than 1e-5 of the clipper's area in the project's tests and benchmark,
ten times less than either differs from a planar area in an equal-area projection.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from pyproj import CRS

from commonsmap.analysis.areas import _R2_HA, _lonlat, _lonlat_transformer, _ring_areas

_POLYGON, _MULTIPOLYGON = 3, 6
MAX_VERTICES = 256
"""Features with more vertices are not clipped here: copying them once per pair would cost more than GEOS."""
MAX_FAN = 24
"""Concave features with more vertices are not cut into triangles: each would be clipped too many times."""
_CHUNK_VERTICES = 2_000_000
_TURN_TOLERANCE = 1e-12
_SPIKE_TOLERANCE = 1e-10
NOISE = 1e-9
"""A clipped area below this fraction of the convex polygon's is rounding noise (a shared boundary): none."""


def _convex_table(polygons: np.ndarray) -> tuple[np.ndarray, ...]:
    """The open exterior ring of each geometry of one ring, and whether it is convex and which way it turns.

    Returns ``x, y, start, count`` (the vertices of each polygon of one ring, without the closing
    one; none for anything else) and ``orientation``: ``1`` for a convex polygon without holes
    (or a multipolygon of one such part) whose exterior runs anticlockwise, ``-1`` clockwise,
    ``0`` for anything else.
    """
    n = len(polygons)
    chosen = polygons.copy()
    chosen[~np.isin(np.asarray(shapely.get_type_id(polygons)), (_POLYGON, _MULTIPOLYGON))] = None
    coords, owner = shapely.get_coordinates(chosen, return_index=True)
    total = np.bincount(owner, minlength=n)
    first = np.cumsum(total) - total
    # One ring (no hole, one part) when the first vertex comes back only at the very end.
    back = np.flatnonzero((coords == coords[first[owner]]).all(axis=1))
    back = back[back != first[owner[back]]]
    closes = np.full(n, len(coords))
    np.minimum.at(closes, owner[back], back)
    single = (total >= 4) & (closes == first + total - 1)
    keep = np.zeros(len(coords), dtype=bool)
    keep[np.repeat(single, total)] = True
    keep[(first + total - 1)[single]] = False
    count = np.where(single, total - 1, 0)
    start = np.cumsum(count) - count
    x, y = coords[keep, 0], coords[keep, 1]
    # Each edge and the next one round the ring must turn the same way (or go straight on).
    edge_owner = owner[keep]
    following = np.arange(len(x)) + 1
    last = (start + count - 1)[single]
    following[last] = start[single]
    ex, ey = x[following] - x, y[following] - y
    cross = ex * ey[following] - ey * ex[following]
    tolerance = _TURN_TOLERANCE * np.hypot(ex, ey) * np.hypot(ex[following], ey[following])
    left = np.bincount(edge_owner, weights=cross > tolerance, minlength=n) > 0
    right = np.bincount(edge_owner, weights=cross < -tolerance, minlength=n) > 0
    orientation = np.where(left & ~right, 1.0, np.where(right & ~left, -1.0, 0.0))
    orientation[~single] = 0.0
    return x, y, start, count, orientation


def convex_orientation(geoms: np.ndarray) -> np.ndarray:
    """Tell, for each geometry, whether it is a convex polygon without holes, and which way it turns.

    Returns
    -------
    numpy.ndarray of float
        ``1`` for a convex polygon (or multipolygon of one part) whose exterior runs
        anticlockwise, ``-1`` clockwise, ``0`` for anything else (a concave polygon, holes,
        several parts, not a polygon, missing).
    """
    return _convex_table(np.asarray(geoms, dtype=object))[4]


def _neighbours(job: np.ndarray, jobs: int) -> tuple[np.ndarray, np.ndarray]:
    """The previous and next vertex of each vertex, round its ring (vertices grouped by job)."""
    counts = np.bincount(job, minlength=jobs)
    starts = np.cumsum(counts) - counts
    n = len(job)
    index = np.arange(n)
    following, previous = index + 1, index - 1
    if n:
        last = np.ones(n, dtype=bool)
        last[:-1] = job[1:] != job[:-1]
        first = np.ones(n, dtype=bool)
        first[1:] = job[1:] != job[:-1]
        following[last] = starts[job[last]]
        previous[first] = (starts + counts - 1)[job[first]]
    return previous, following


def _collapse_beyond(x: np.ndarray, y: np.ndarray, job: np.ndarray, jobs: int, box: np.ndarray,
                     sides: tuple[tuple[int, int, str], ...] = ((0, 2, "x"), (1, 3, "y")),
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop each vertex of the ring that lies, with both neighbours, beyond one side of its job's box.

    Left and right are done together (a vertex cannot be beyond both), then bottom and top: each
    run beyond a side becomes the straight edge between its ends, beyond that side too. ``box``
    holds each job's box (one row per job).
    """
    for low, high, values in sides:
        if len(x) == 0:
            break
        v = x if values == "x" else y
        below, above = v < box[job, low], v > box[job, high]
        previous, following = _neighbours(job, jobs)
        drop = (below & below[previous] & below[following]) | (above & above[previous] & above[following])
        keep = ~drop
        x, y, job = x[keep], y[keep], job[keep]
    return x, y, job


def _clip_by_edges(x: np.ndarray, y: np.ndarray, job: np.ndarray, jobs: int, clip_of_job: np.ndarray,
                   cx: np.ndarray, cy: np.ndarray, cstart: np.ndarray, ccount: np.ndarray,
                   corient: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sutherland–Hodgman: clip each job's ring by the half-plane of each edge of its convex polygon."""
    count = ccount[clip_of_job]
    start = cstart[clip_of_job]
    orient = corient[clip_of_job]
    for k in range(int(count.max(initial=0))):
        if len(x) == 0:
            break
        # The edge of each job's polygon, turned so that its inside is on the left; none (all
        # inside) for polygons with fewer edges.
        active = count > k
        a = start + np.minimum(k, count - 1)
        b = start + (k + 1) % count
        ax, ay = cx[a], cy[a]
        ex = np.where(active, (cx[b] - ax) * orient, 0.0)
        ey = np.where(active, (cy[b] - ay) * orient, 0.0)
        side = ex[job] * (y - ay[job]) - ey[job] * (x - ax[job])
        inside = side >= 0
        _, following = _neighbours(job, jobs)
        inside_next = inside[following]
        crossing = inside != inside_next
        emitted = inside_next.astype(np.int64) + crossing
        at = np.cumsum(emitted) - emitted
        total = int(at[-1] + emitted[-1])
        nx, ny, njob = np.empty(total), np.empty(total), np.empty(total, dtype=job.dtype)
        cross_at = np.flatnonzero(crossing)
        s, e = cross_at, following[cross_at]
        t = side[s] / (side[s] - side[e])
        nx[at[s]] = x[s] + t * (x[e] - x[s])
        ny[at[s]] = y[s] + t * (y[e] - y[s])
        njob[at[s]] = job[s]
        kept = np.flatnonzero(inside_next)
        to = at[kept] + crossing[kept]
        nx[to], ny[to], njob[to] = x[following[kept]], y[following[kept]], job[kept]
        x, y, job = nx, ny, njob
    return x, y, job


def _spikes(x: np.ndarray, y: np.ndarray, job: np.ndarray, jobs: int) -> np.ndarray:
    """Vertices repeated, or where their ring turns straight back (no two neighbours at once)."""
    previous, following = _neighbours(job, jobs)
    repeated = (x == x[following]) & (y == y[following])
    ax, ay = x - x[previous], y - y[previous]
    bx, by = x[following] - x, y[following] - y
    straight = np.abs(ax * by - ay * bx) <= _SPIKE_TOLERANCE * np.hypot(ax, ay) * np.hypot(bx, by)
    back = straight & (ax * bx + ay * by < 0)
    return repeated | (back & ~back[previous])


def _remove_spikes(x: np.ndarray, y: np.ndarray, job: np.ndarray,
                   jobs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove spikes until none is left, looking again only at the rings that lost one."""
    done_x, done_y, done_job = [], [], []
    while len(x):
        drop = _spikes(x, y, job, jobs)
        if not drop.any():
            break
        touched = np.zeros(jobs, dtype=bool)
        touched[job[drop]] = True
        keep = ~drop
        x, y, job = x[keep], y[keep], job[keep]
        settled = ~touched[job]
        done_x.append(x[settled])
        done_y.append(y[settled])
        done_job.append(job[settled])
        x, y, job = x[~settled], y[~settled], job[~settled]
    done_x.append(x)
    done_y.append(y)
    done_job.append(job)
    job = np.concatenate(done_job)
    order = np.argsort(job, kind="stable")
    return np.concatenate(done_x)[order], np.concatenate(done_y)[order], job[order]


def _ring_table(geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every ring of every geometry, open (without the closing vertex).

    Returns ``x, y`` (the vertices), ``start, count`` (each ring's), ``sign`` (1 for an exterior,
    -1 for a hole), ``bounds`` (each ring's box), ``first, rings`` (each geometry's first ring and
    how many it has).
    """
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    exterior = np.ones(len(rings), dtype=bool)
    exterior[1:] = ring_part[1:] != ring_part[:-1]
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    closed = np.bincount(ring_of, minlength=len(rings))
    keep = np.ones(len(coords), dtype=bool)
    keep[np.cumsum(closed) - 1] = False
    count = closed - 1
    start = np.cumsum(count) - count
    per_geom = np.bincount(part_owner[ring_part], minlength=len(geoms))
    first = np.cumsum(per_geom) - per_geom
    return (coords[keep, 0], coords[keep, 1], start, count, np.where(exterior, 1.0, -1.0), shapely.bounds(rings),
            first, per_geom)


def _areas_of_rings(x: np.ndarray, y: np.ndarray, job: np.ndarray, jobs: int, crs: CRS) -> np.ndarray:
    """Unsigned geodesic area of each job's ring (vertices sorted by job, open), in steradians."""
    counts = np.bincount(job, minlength=jobs)
    starts = np.cumsum(counts) - counts
    ring = np.flatnonzero(counts >= 3)
    closed_counts = np.where(counts >= 3, counts + 1, 0)
    total = int(closed_counts.sum())
    at = np.cumsum(closed_counts) - closed_counts
    cx, cy, cjob = np.empty(total), np.empty(total), np.empty(total, dtype=np.int64)
    take = counts >= 3
    vertex = np.flatnonzero(take[job])
    position = at[job[vertex]] + (vertex - starts[job[vertex]])
    cx[position], cy[position], cjob[position] = x[vertex], y[vertex], job[vertex]
    closing = at[ring] + counts[ring]
    cx[closing], cy[closing], cjob[closing] = x[starts[ring]], y[starts[ring]], ring
    lon, lat = _lonlat(np.column_stack([cx, cy]), _lonlat_transformer(crs))
    return _ring_areas(lon, lat, cjob, jobs)


def _clip_chunk(sx: np.ndarray, sy: np.ndarray, job_start: np.ndarray, job_count: np.ndarray,
                clip_of_job: np.ndarray, clip_tables: tuple[np.ndarray, ...], crs: CRS) -> np.ndarray:
    """Areas in steradians of a chunk of jobs: each ring (given by its vertices) clipped by its convex polygon."""
    jobs = len(job_start)
    cx, cy, cstart, ccount, corient, cbox = clip_tables
    box = cbox[clip_of_job]
    # The vertices beyond the left or right of the box, with both neighbours, first: the rings
    # are still whole, so their neighbours follow from the counts; y is read only for the rest.
    ends = np.cumsum(job_count)
    offsets = ends - job_count
    job = np.repeat(np.arange(jobs, dtype=np.int32), job_count)
    vertex = np.arange(len(job)) - np.repeat(offsets - job_start, job_count)
    x = sx[vertex]
    below, above = x < np.repeat(box[:, 0], job_count), x > np.repeat(box[:, 2], job_count)
    far = np.where(below, 1, np.where(above, 2, 0)).astype(np.int8)
    previous, following = np.roll(far, 1), np.roll(far, -1)
    if len(far):
        previous[offsets] = far[ends - 1]
        following[ends - 1] = far[offsets]
    keep = (far == 0) | (previous != far) | (following != far)
    x, vertex, job = x[keep], vertex[keep], job[keep]
    y = sy[vertex]
    x, y, job = _collapse_beyond(x, y, job, jobs, box, sides=((1, 3, "y"),))
    x, y, job = _clip_by_edges(x, y, job, jobs, clip_of_job, cx, cy, cstart, ccount, corient)
    x, y, job = _remove_spikes(x, y, job, jobs)
    return _areas_of_rings(x, y, job, jobs, crs)


def _pieces_table(polygons: np.ndarray) -> tuple[np.ndarray, ...]:
    """Convex pieces to clip by, whose signed areas add up to each polygon.

    A convex polygon is its own piece. A small concave one (at most :data:`MAX_FAN` vertices,
    holes and parts included) is cut into the fan of triangles from the first vertex of each
    ring: the winding number of a ring is the sum of its fan's, so the area of any region inside
    the polygon is the sum of its areas inside each triangle, weighted by the triangle's turn
    and the ring's (a hole's counts negative). Larger concave polygons get no pieces.

    Returns ``x, y, start, count, orientation, weight, owner`` of the pieces (orientation: the
    side their inside is on; weight: how their clipped areas add up; owner: their polygon).
    """
    cx, cy, cstart, ccount, corient = _convex_table(polygons)
    convex = np.flatnonzero(corient != 0)
    counts = np.asarray(shapely.get_num_coordinates(polygons))
    fan = np.flatnonzero((corient == 0) & (counts <= MAX_FAN) & (counts > 0)
                         & np.isin(np.asarray(shapely.get_type_id(polygons)), (_POLYGON, _MULTIPOLYGON)))
    lengths = ccount[convex]
    at = np.repeat(cstart[convex], lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths,
                                                                                   lengths))
    pieces_x, pieces_y = [cx[at]], [cy[at]]
    count = [lengths]
    orientation = [corient[convex]]
    weight = [np.ones(len(convex))]
    owner = [convex]
    if len(fan):
        rx, ry, rstart, rcount, rsign, _, _, rings = _ring_table(polygons[fan])
        ring_owner = np.repeat(fan, rings)
        # Each ring's turn (shoelace), then its triangles (v0, vi, vi+1).
        following = np.arange(len(rx)) + 1
        following[rstart + rcount - 1] = rstart
        ring_of_vertex = np.repeat(np.arange(len(rstart)), rcount)
        turn = np.sign(np.bincount(ring_of_vertex, weights=rx * ry[following] - rx[following] * ry,
                                   minlength=len(rstart)))
        triangles = np.maximum(rcount - 2, 0)
        ring_of = np.repeat(np.arange(len(rstart)), triangles)
        i = np.arange(len(ring_of)) - np.repeat(np.cumsum(triangles) - triangles, triangles) + 1
        v0, v1, v2 = rstart[ring_of], rstart[ring_of] + i, rstart[ring_of] + i + 1
        sides = (rx[v1] - rx[v0]) * (ry[v2] - ry[v0]) - (ry[v1] - ry[v0]) * (rx[v2] - rx[v0])
        sigma = np.sign(sides)
        real = sigma != 0
        corners = np.column_stack([v0, v1, v2])[real].ravel()
        pieces_x.append(rx[corners])
        pieces_y.append(ry[corners])
        count.append(np.full(int(real.sum()), 3))
        orientation.append(sigma[real])
        weight.append((turn * rsign)[ring_of][real] * sigma[real])
        owner.append(ring_owner[ring_of][real])
    # Pieces grouped by polygon.
    piece_count = np.concatenate(count).astype(np.int64)
    piece_start = np.cumsum(piece_count) - piece_count
    piece_owner = np.concatenate(owner).astype(np.int64)
    order = np.argsort(piece_owner, kind="stable")
    piece_count, piece_start = piece_count[order], piece_start[order]
    at = np.repeat(piece_start, piece_count) + (np.arange(piece_count.sum())
                                                - np.repeat(np.cumsum(piece_count) - piece_count, piece_count))
    return (np.concatenate(pieces_x)[at], np.concatenate(pieces_y)[at], np.cumsum(piece_count) - piece_count,
            piece_count, np.concatenate(orientation).astype(float)[order], np.concatenate(weight).astype(float)[order],
            piece_owner[order])


def clipped_areas_ha(subjects: np.ndarray, si: np.ndarray, clippers: np.ndarray, ci: np.ndarray, crs: CRS, *,
                     clipper_ha: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic area in hectares of ``subjects[si[k]] ∩ clippers[ci[k]]``, for each pair ``k`` it can do.

    Parameters
    ----------
    subjects : numpy.ndarray of shapely geometries
        Polygons and multipolygons (valid), in ``crs``.
    si : numpy.ndarray of int
        For each pair, the index of its subject.
    clippers : numpy.ndarray of shapely geometries
        Polygons and multipolygons (valid), in ``crs``.
    ci : numpy.ndarray of int
        For each pair, the index of its clipper.
    crs : pyproj.CRS
        The CRS of both.
    clipper_ha : numpy.ndarray, optional
        The clippers' geodesic areas in hectares, if known (they set the noise floor).

    Returns
    -------
    areas, done : numpy.ndarray
        One area per pair, in hectares (0 below :data:`NOISE` of the clipper's area), and
        whether it was computed: pairs whose clipper is convex, or concave with at most
        :data:`MAX_FAN` vertices, are (see :func:`_pieces_table`).
    """
    pairs = len(si)
    if pairs == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    used_clippers, clip_of = np.unique(ci, return_inverse=True)
    polygons = np.asarray(clippers, dtype=object)[used_clippers]
    px, py, pstart, pcount, porient, pweight, powner = _pieces_table(polygons)
    pieces_of = np.bincount(powner, minlength=len(polygons))
    done = pieces_of[clip_of] > 0
    if not done.any():
        return np.zeros(pairs), done
    first_piece = np.cumsum(pieces_of) - pieces_of
    box = np.column_stack([np.minimum.reduceat(px, pstart), np.minimum.reduceat(py, pstart),
                           np.maximum.reduceat(px, pstart), np.maximum.reduceat(py, pstart)]) if len(pstart) \
        else np.zeros((0, 4))
    clip_tables = (px, py, pstart, pcount, porient, box)
    todo = np.flatnonzero(done)
    used_subjects, subject_of = np.unique(si[todo], return_inverse=True)
    sx, sy, rstart, rcount, rsign, rbox, rfirst, rings = _ring_table(np.asarray(subjects, dtype=object)[used_subjects])

    # Jobs: each ring of each pair's subject, with each piece of its clipper, when their boxes meet.
    per_pair = rings[subject_of] * pieces_of[clip_of[todo]]
    job_pair = np.repeat(todo, per_pair)
    k = np.arange(len(job_pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    pieces_here = np.repeat(pieces_of[clip_of[todo]], per_pair)
    job_ring = np.repeat(rfirst[subject_of], per_pair) + k // pieces_here
    job_clip = first_piece[clip_of[job_pair]] + k % pieces_here
    a, b = rbox[job_ring], box[job_clip]
    meets = (a[:, 0] <= b[:, 2]) & (a[:, 2] >= b[:, 0]) & (a[:, 1] <= b[:, 3]) & (a[:, 3] >= b[:, 1])
    job_pair, job_ring, job_clip = job_pair[meets], job_ring[meets], job_clip[meets]

    # Chunks of about _CHUNK_VERTICES vertices, on a few threads (numpy releases the GIL).
    vertices = np.cumsum(rcount[job_ring])
    chunks = max(1, int(np.ceil(vertices[-1] / _CHUNK_VERTICES)) if len(vertices) else 1)
    workers = max(1, min(8, os.cpu_count() or 1))
    if len(job_ring) >= 20_000 * workers:
        chunks = max(chunks, workers)
    bounds = np.searchsorted(vertices, np.linspace(0, vertices[-1] if len(vertices) else 0, chunks + 1)[1:-1])
    edges = [0, *bounds.tolist(), len(job_ring)]

    def run(lo: int, hi: int) -> np.ndarray:
        ring = job_ring[lo:hi]
        return _clip_chunk(sx, sy, rstart[ring], rcount[ring], job_clip[lo:hi], clip_tables, crs)

    if len(edges) > 2:
        with ThreadPoolExecutor(min(workers, len(edges) - 1)) as pool:
            steradians = np.concatenate(list(pool.map(run, edges[:-1], edges[1:])))
    else:
        steradians = run(0, len(job_ring))
    area = np.bincount(job_pair, weights=steradians * rsign[job_ring] * pweight[job_clip], minlength=pairs)
    # Each clipper's own area (from its pieces if not given), for the noise floor.
    if clipper_ha is None:
        steradians = _areas_of_rings(px, py, np.repeat(np.arange(len(pcount)), pcount), len(pcount), crs)
        own = np.abs(np.bincount(powner, weights=steradians * pweight, minlength=len(polygons)))
    else:
        own = np.asarray(clipper_ha, dtype=float)[used_clippers] / _R2_HA
    area[area <= NOISE * own[clip_of]] = 0.0
    return area * _R2_HA, done
