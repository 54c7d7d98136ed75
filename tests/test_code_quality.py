"""The code stays ruff- and mypy-clean, the library never imports the web layer, the wheel is whole."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
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
    names = zipfile.ZipFile(wheel).namelist()
    assert "layers/commons.toml" in names and "layers/demo/ATTRIBUTION.md" in names
    assert "api/__init__.py" in names
    environment = tmp_path / "venv"
    venv.create(environment, system_site_packages=True, with_pip=True)
    python = environment / "bin" / "python"
    installed = _run(str(python), "-m", "pip", "install", "--no-deps", "--force-reinstall", str(wheel))
    assert installed.returncode == 0, installed.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    demo = _run(str(environment / "bin" / "commonsmap"), "demo", "--out", "demo.gpkg", cwd=work)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    located = _run(str(python), "-c", "import commonsmap, layers; print(commonsmap.__file__, layers.__file__)",
                   cwd=work)
    assert str(environment) in located.stdout, located.stdout
    assert (work / "demo.gpkg").stat().st_size > 100_000
