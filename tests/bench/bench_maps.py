"""Benchmark: map pages of atlases of 1,000 to 1,000,000 parcels, their size and their time to first render.

The project's target: at 1,000,000 parcels the map page is under 2 MB and renders in the browser.

For each size, two pages of the layer ``parcels``:

* the standalone map, as ``commonsmap map ATLAS out.html --layer parcels`` writes it
  (``commons_map(atlas, ["parcels"], viewer=Viewer.admin())`` then ``save_map``), opened from
  a ``file://`` URL; its build time is that of ``open_atlas`` + ``commons_map`` + ``save_map`` in
  this process;
* the API's map page, ``GET /map`` of ``commonsmap serve ATLAS`` (one worker, a subprocess on
  127.0.0.1), which draws large layers as a picture, then as vector tiles of the same server
  from their detail zoom; its build time is that of the first ``GET /map`` (the server keeps the
  page, so the browser's loads get it ready made).

Each page is loaded ``--runs`` times in headless Chromium (Playwright, a fresh context each time);
the time to first render is ``await window.commonsmap.ready`` (``performance.now()`` once every
layer shown has drawn: pictures loaded, tiles in view loaded), the median is printed, with the
page's load event. A run fails on a console error, a page error, or a request to any host but
127.0.0.1 / localhost (``file:`` and ``data:`` URLs are fine). For the largest sizes
(``--detail-sizes``), the API page is then zoomed, once, to the layer's detail zoom at the map's
centre, and the time until its vector tiles have loaded is printed, with the tiles' statuses.

Run by hand (pytest ignores this file)::

    python tests/bench/bench_maps.py [--sizes 1000,10000,100000,1000000] [--runs 3] [--seed 20260412]
        [--detail-sizes 100000,1000000]

Atlases are built with ``build_atlas`` of bench_api.py (``city_parcels`` of bench_link.py: "about" N
parcels, all ``public``) and kept under /tmp/commonsmap-bench-maps/; an atlas of the same size and
seed that bench_api.py left under /tmp/commonsmap-bench-api/ is used as it is. Pages, the servers'
logs and the figures (JSON) are written there too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import commonsmap as cm  # noqa: E402
from commonsmap.maps.overview import picture  # noqa: E402
from tests.bench import bench_api  # noqa: E402

WORKDIR = Path("/tmp/commonsmap-bench-maps")
SIZES = (1_000, 10_000, 100_000, 1_000_000)
TARGET_BYTES = 2_000_000
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
TILE_PATH = "/tiles/WebMercatorQuad/"
PAGE_TIMEOUT_MS = 300_000

ZOOM_IN = """async (timeoutMs) => {
    const cm = window.commonsmap, entry = cm.layers.parcels, layer = entry.drawn;
    if (!entry.detailZoom || !layer) { return null; }
    const start = performance.now();
    const loaded = new Promise((done) => layer.once("load", () => done(true)));
    const timeout = new Promise((done) => setTimeout(() => done(false), timeoutMs));
    cm.map.setView(cm.map.getCenter(), entry.detailZoom, {animate: false});
    const ok = await Promise.race([loaded, timeout]);
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    return {ms: performance.now() - start, loaded: ok, zoom: cm.map.getZoom(), detailZoom: entry.detailZoom,
            shown: cm.map.hasLayer(layer)};
}"""

LOADED = """() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const resources = performance.getEntriesByType("resource");
    return {load: nav ? nav.loadEventEnd : null, domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
            resources: resources.length,
            resourceBytes: resources.reduce((sum, r) => sum + (r.encodedBodySize || 0), 0)};
}"""


def atlas_path(n: int, seed: int) -> Path:
    """The cached atlas of about ``n`` parcels: ours, or bench_api's, or a new one of ours."""
    ours = WORKDIR / f"atlas_{n}_{seed}.gpkg"
    theirs = bench_api.WORKDIR / f"atlas_{n}_{seed}.gpkg"
    if ours.exists() or not theirs.exists():
        if not ours.exists():
            print(f"atlas: building about {n:,} parcels", flush=True)
            bench_api.build_atlas(ours, n, seed)
        return ours
    return theirs


def sensitivities(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as con:
        return dict(con.execute("SELECT sensitivity, count(*) FROM parcels GROUP BY 1").fetchall())


def standalone(path: Path, out: Path) -> dict[str, Any]:
    """Write the standalone map of ``parcels`` to ``out``; its timings, size and how the layer is drawn.

    Then, apart (not in the build time), the parts: reading the layer and drawing its picture once more.
    """
    start = time.perf_counter()
    atlas = cm.open_atlas(path)
    opened = time.perf_counter()
    m = cm.maps.commons_map(atlas, ["parcels"], viewer=cm.Viewer.admin())
    built = time.perf_counter()
    cm.maps.save_map(m, out)
    saved = time.perf_counter()
    result = {"build_s": saved - start, "open_s": opened - start, "map_s": built - opened, "save_s": saved - built,
              "bytes": out.stat().st_size, "mode": m.commonsmap_layers["parcels"].mode,
              "features": m.commonsmap_layers["parcels"].expected}
    del m
    start = time.perf_counter()
    frame = atlas.layer("parcels", viewer=cm.Viewer.admin())
    result["read_s"] = time.perf_counter() - start
    if result["mode"] != "inline":
        start = time.perf_counter()
        picture(frame, atlas.spec("parcels"))
        result["picture_s"] = time.perf_counter() - start
    return result


@contextmanager
def server(path: Path, port: int, log: Path, timeout: float = 300) -> Iterator[str]:
    """``commonsmap serve`` on 127.0.0.1:``port``; yield its base URL once ``GET /`` answers; stop it after."""
    command = [*bench_api.commonsmap_cli(), "serve", str(path), "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"commonsmap serve exited ({process.returncode}); the end of {log}:\n"
                                   + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
            try:
                bench_api.get(base + "/")
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"commonsmap serve did not answer within {timeout:.0f} s") from error
                time.sleep(0.25)
        yield base
    finally:
        bench_api.stop(process)


def local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOCAL_HOSTS


def load_page(browser: Any, url: str, zoom: bool) -> dict[str, Any]:
    """Open ``url`` in a fresh context; the time to first render and what went wrong; zoomed in if ``zoom``."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    remote: list[str] = []
    failed: list[str] = []
    tiles: list[int] = []
    requests = [0]

    def on_request(request: Any) -> None:
        requests[0] += 1
        if not local(request.url):
            remote.append(request.url)

    def on_response(response: Any) -> None:
        if TILE_PATH in response.url:
            tiles.append(response.status)

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    try:
        start = time.perf_counter()
        page.goto(url, timeout=PAGE_TIMEOUT_MS)
        ready = page.evaluate("window.commonsmap.ready")
        wall = time.perf_counter() - start
        result: dict[str, Any] = {"ready_ms": ready, "wall_s": wall, **page.evaluate(LOADED),
                                  "mode": page.evaluate("window.commonsmap.layers.parcels.mode"),
                                  "detail_zoom": page.evaluate("window.commonsmap.layers.parcels.detailZoom"),
                                  "zoom": page.evaluate("window.commonsmap.map.getZoom()"),
                                  "tiles_initial": list(tiles), "requests": requests[0]}
        if zoom:
            before = len(tiles)
            result["detail"] = page.evaluate(ZOOM_IN, PAGE_TIMEOUT_MS // 2)
            result["tiles_detail"] = tiles[before:]
    finally:
        result_errors = {"errors": list(errors), "remote": list(remote), "failed": list(failed)}
        context.close()
    return {**result, **result_errors}


def browse(browser: Any, url: str, runs: int, zoom: bool) -> dict[str, Any]:
    loads = [load_page(browser, url, zoom and i == runs - 1) for i in range(runs)]
    ready = [r["ready_ms"] for r in loads]
    summary = {"runs": loads, "ready_ms": statistics.median(ready), "ready_min": min(ready), "ready_max": max(ready),
               "load_ms": statistics.median(r["load"] for r in loads), "mode": loads[-1]["mode"],
               "detail_zoom": loads[-1]["detail_zoom"], "zoom": loads[-1]["zoom"],
               "errors": sorted({e for r in loads for e in r["errors"]}),
               "remote": sorted({u for r in loads for u in r["remote"]}),
               "failed": sorted({u for r in loads for u in r["failed"]}),
               "requests": loads[-1]["requests"], "resource_bytes": loads[-1]["resourceBytes"]}
    if zoom:
        summary["detail"] = loads[-1]["detail"]
        summary["tiles_detail"] = loads[-1]["tiles_detail"]
    return summary


def describe() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores, {model}; load average {os.getloadavg()[0]:.2f} (1 min) at the start; "
            f"Python {platform.python_version()}, commonsmap {cm.__version__}; {chromium}")


def megabytes(n: float) -> str:
    return f"{n / 1e6:,.2f} MB" if n >= 1e5 else f"{n / 1e3:,.0f} kB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="about how many parcels, comma-separated (default 1000,10000,100000,1000000)")
    parser.add_argument("--runs", type=int, default=3, help="page loads of each page; the median counts (default 3)")
    parser.add_argument("--seed", type=int, default=20260412, help="seed of the atlases (default 20260412)")
    parser.add_argument("--detail-sizes", default="100000,1000000",
                        help="sizes whose API page is zoomed to the detail zoom once (default 100000,1000000)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    detail_sizes = {int(s) for s in args.detail_sizes.split(",") if s}
    WORKDIR.mkdir(parents=True, exist_ok=True)
    print(describe(), flush=True)

    from playwright.sync_api import sync_playwright

    rows: list[dict[str, Any]] = []
    ok = True
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for n in sizes:
            path = atlas_path(n, args.seed)
            seen = sensitivities(path)
            print(f"\n{n:,} parcels: {path} ({path.stat().st_size / 1e6:,.0f} MB), sensitivity {seen}; the machine "
                  f"was {bench_api.idle_share():.0%} idle just before", flush=True)
            if set(seen) != {"public"}:
                print("  error: not every parcel is public: the anonymous /map would not show them all")
                ok = False

            out = WORKDIR / f"standalone_{n}_{args.seed}.html"
            built = standalone(path, out)
            print(f"  standalone: {megabytes(built['bytes'])} in {built['build_s']:.2f} s (open {built['open_s']:.2f}"
                  f" + commons_map {built['map_s']:.2f} + save_map {built['save_s']:.2f}); apart: reading the layer "
                  f"{built['read_s']:.2f} s" + (f", its picture {built['picture_s']:.2f} s" if "picture_s" in built
                                                 else "") + f"; {out}", flush=True)
            shown = browse(browser, out.as_uri(), args.runs, zoom=False)
            rows.append({"n": n, "features": built["features"], "page": "standalone", "bytes": built["bytes"],
                         "build_s": built["build_s"], **shown})

            port = bench_api.free_port()
            log = WORKDIR / f"serve_{n}.log"
            started = time.perf_counter()
            with server(path, port, log) as base:
                up = time.perf_counter() - started
                start = time.perf_counter()
                status, _, body = bench_api.get(base + "/map")
                cold = time.perf_counter() - start
                start = time.perf_counter()
                bench_api.get(base + "/map")
                warm = time.perf_counter() - start
                (WORKDIR / f"api_map_{n}_{args.seed}.html").write_bytes(body)
                print(f"  API /map: status {status}, {megabytes(len(body))}; first GET {cold:.2f} s, again (kept) "
                      f"{warm * 1e3:.0f} ms; server up in {up:.1f} s; log {log}", flush=True)
                if status != 200:
                    print(f"  error: GET /map answered {status}: {body[:300]!r}")
                    ok = False
                    continue
                served = browse(browser, base + "/map", args.runs, zoom=n in detail_sizes)
            said = [line for line in log.read_text(errors="replace").splitlines()
                    if "Traceback" in line or "ERROR" in line or "Exception" in line]
            if said:
                print(f"  server log: {len(said)} error lines, e.g. {said[0]}")
                served["errors"].append(f"server log: {said[0]}")
            rows.append({"n": n, "features": built["features"], "page": "API /map", "bytes": len(body),
                         "build_s": cold, **served})
            for row in rows[-2:]:
                extra = f", {row['resource_bytes'] / 1e3:,.0f} kB of assets/tiles" if row["resource_bytes"] else ""
                readies = ", ".join(f"{r['ready_ms']:.0f}" for r in row["runs"])
                loads = ", ".join(f"{r['load']:.0f}" for r in row["runs"])
                print(f"  {row['page']}: {row['mode']}, ready {readies} ms, load event {loads} ms; zoom "
                      f"{row['zoom']}, detail zoom {row['detail_zoom']}; {row['requests']} requests until ready{extra}",
                      flush=True)
                for problem in row["errors"] + [f"remote request: {u}" for u in row["remote"]] + [
                        f"request failed: {u}" for u in row["failed"]]:
                    print(f"    ! {problem[:300]}")
                if row.get("detail"):
                    d, statuses = row["detail"], row["tiles_detail"]
                    print(f"    zoomed to {d['zoom']} (detail {d['detailZoom']}, tiles shown {d['shown']}, loaded "
                          f"{d['loaded']}): {d['ms']:.0f} ms, tile statuses "
                          f"{dict(sorted({s: statuses.count(s) for s in statuses}.items()))}", flush=True)
        browser.close()

    (WORKDIR / "results.json").write_text(json.dumps(rows, indent=1, default=str))
    print(f"\nsummary (median of {args.runs} page loads in headless Chromium, 1280x800; build = commons_map + "
          f"save_map in this process for the file, first GET /map for the API; {os.cpu_count()} cores)")
    head = (f"  {'parcels':>9} {'page':<11}{'drawn as':<9}{'HTML':>10}{'build s':>9}{'load ms':>9}{'ready ms':>9}"
            f"{'(min-max)':>13}{'problems':>9}{'detail z':>9}{'tiles ms':>9}{'200/other':>10}")
    print(head)
    print("  " + "-" * (len(head) - 2))
    for row in rows:
        problems = len(row["errors"]) + len(row["remote"]) + len(row["failed"])
        ok &= problems == 0
        d = row.get("detail")
        statuses = row.get("tiles_detail", [])
        good = sum(s == 200 for s in statuses)
        detail = (f"{d['zoom']:>9g}{d['ms']:>9.0f}{f'{good}/{len(statuses) - good}':>10}" if d
                  else f"{'-':>9}{'-':>9}{'-':>10}")
        if d and not (d["loaded"] and d["shown"]):
            ok = False
        spread = f"({row['ready_min']:.0f}-{row['ready_max']:.0f})"
        print(f"  {row['features']:>9,} {row['page']:<11}{row['mode']:<9}{megabytes(row['bytes']):>10}"
              f"{row['build_s']:>9.2f}{row['load_ms']:>9.0f}{row['ready_ms']:>9.0f}"
              f"{spread:>13}{problems:>9}{detail}")
    largest = [row for row in rows if row["n"] == 1_000_000]
    for row in largest:
        under = row["bytes"] < TARGET_BYTES
        rendered = not row["errors"] and row["ready_ms"] is not None
        print(f"  1M {row['page']}: {megabytes(row['bytes'])} {'<' if under else '>='} 2 MB: "
              f"{bench_api.MET[under]}; renders in the browser ({row['ready_ms']:.0f} ms, no errors): "
              f"{bench_api.MET[rendered]}")
    if not ok:
        print("  PROBLEMS: see the lines marked ! above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
