"""The code stays ruff- and mypy-clean, the library never imports the web layer, the wheel is whole."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", "commonsmap", "api", "tests", "layers")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = _run(sys.executable, "-m", "mypy", "commonsmap", "api")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_library_never_imports_the_web_layer() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(api|fastapi|starlette)\b", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "commonsmap").rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.slow
def test_installed_from_a_wheel_it_finds_its_catalogue_and_builds_the_demo(tmp_path: Path) -> None:
    built = _run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", str(tmp_path / "dist"))
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("commonsmap-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "layers/commons.toml" in names and "layers/demo/ATTRIBUTION.md" in names
    assert "api/__init__.py" in names and "api/templates/base.html" in names
    assert "commonsmap = commonsmap.cli:app" in entry_points
    assert "serve = api.cli:register" in entry_points
    site = tmp_path / "site"
    installed = _run(sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel))
    assert installed.returncode == 0, installed.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(site)}
    located = subprocess.run([sys.executable, "-c", "import commonsmap, layers; print(commonsmap.__file__, "
                              "layers.__file__)"], cwd=work, env=environment, capture_output=True, text=True)
    assert located.stdout.count(str(site)) == 2, located.stdout + located.stderr
    demo = subprocess.run([sys.executable, "-m", "commonsmap.cli", "demo", "--out", "demo.gpkg"], cwd=work,
                          env=environment, capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (work / "demo.gpkg").stat().st_size > 100_000
    # and serves it, templates and all, from the installed wheel
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "commonsmap.cli", "serve", "demo.gpkg", "--port", str(port)],
                              cwd=work, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        page = None
        for _ in range(200):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/collections?f=html", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        assert page is not None and b"Commons" in page, server.stdout.read1() if server.stdout else b""
    finally:
        server.terminate()
        server.wait(timeout=20)
