"""The planner notebooks run top to bottom, offline, draw their maps, and are stored without outputs."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "python3"
MAP_TAG = "map"
"""Cells tagged ``map`` display a map as their last expression."""

# A script or stylesheet fetched from the internet: ``<script src="https://…">`` or ``<link … href="https://…">``
# (protocol-relative ``//`` too), as written or as folium escapes it into an iframe's ``srcdoc``.
REMOTE_ASSET = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^\s\"'>]*"
                          r"|<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//[^\s\"'>]*", re.IGNORECASE)


def _remote_assets(text: str) -> list[str]:
    return REMOTE_ASSET.findall(text) + REMOTE_ASSET.findall(html.unescape(text))


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _texts(output: dict[str, Any]) -> list[str]:
    """Every piece of text in one cell output (streams, tracebacks, each data format)."""
    if output["output_type"] == "stream":
        return [output["text"]]
    if output["output_type"] == "error":
        return ["\n".join(output.get("traceback", []))]
    return [v if isinstance(v, str) else "".join(v) for v in output.get("data", {}).values()
            if isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))]


def _is_this_interpreter(argv0: str) -> bool:
    # jupyter_client replaces a bare "python" (or pythonX, pythonX.Y) with sys.executable when it starts the kernel.
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return argv0 in bare or Path(argv0).resolve() == Path(sys.executable).resolve()


@pytest.fixture(scope="session")
def kernel_name() -> str:
    """A kernel that runs this interpreter (ipykernel ships ``python3``; installed into sys.prefix if missing)."""
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        spec = None
    if spec is not None and _is_this_interpreter(spec.argv[0]):
        return KERNEL
    name = KERNEL if spec is None else "commonsmap-tests"
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", name],
                   check=True, capture_output=True, text=True, timeout=120)
    return name


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, kernel_name: str) -> Callable[[Path], nbformat.NotebookNode]:
    """Run a notebook (once per module, in a folder of its own) and return it with its outputs."""
    cache: dict[Path, nbformat.NotebookNode] = {}

    def run(path: Path) -> nbformat.NotebookNode:
        if path not in cache:
            nb = nbformat.read(path, as_version=4)
            folder = tmp_path_factory.mktemp(path.stem)
            with pytest.MonkeyPatch.context() as patch:  # the kernel's tempfile.mkdtemp() lands in the test's folder
                patch.setenv("TMPDIR", str(folder))
                NotebookClient(nb, timeout=600, kernel_name=kernel_name,
                               resources={"metadata": {"path": folder}}).execute()
            cache[path] = nb
        return cache[path]

    return run


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_cleared(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    stored = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not stored, f"{path.name}: cells {stored} keep outputs or execution counts; clear them"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_without_errors(path: Path, executed: Callable[[Path], nbformat.NotebookNode]) -> None:
    nb = executed(path)  # nbclient raises CellExecutionError on the first failing cell
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {index} did not run"
        for output in cell.outputs:
            assert output["output_type"] != "error", f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), \
                f"cell {index} wrote to stderr: {output['text'][:2000]}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_maps_are_displayed(path: Path, executed: Callable[[Path], nbformat.NotebookNode]) -> None:
    nb = executed(path)
    maps = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and MAP_TAG in c.metadata.get("tags", [])]
    assert maps, f"{path.name} has no cell tagged {MAP_TAG!r}"
    for index, cell in maps:
        pages = [o["data"]["text/html"] for o in cell.outputs
                 if o["output_type"] in ("display_data", "execute_result") and "text/html" in o.get("data", {})]
        assert pages, f"cell {index} displayed no HTML"
        assert any("leaflet" in page.lower() for page in pages), f"cell {index}: the HTML is not a Leaflet map"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_outputs_fetch_nothing(path: Path, executed: Callable[[Path], nbformat.NotebookNode]) -> None:
    nb = executed(path)
    found = {index: assets for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
             if (assets := sorted({a for o in cell.outputs for t in _texts(o) for a in _remote_assets(t)}))}
    assert not found, f"{path.name}: outputs load from the internet: {found}"
