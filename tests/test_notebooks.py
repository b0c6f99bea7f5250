"""notebooks/: one executed notebook per study; each re-executes in quick mode."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

import regjax as rj

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
_spec = importlib.util.spec_from_file_location("execute", NOTEBOOKS / "execute.py")
assert _spec and _spec.loader
execute = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute)


def test_there_is_one_notebook_per_study():
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == set(rj.experiments.names())


@pytest.mark.parametrize("name", rj.experiments.names())
def test_the_committed_notebook_shows_its_figures_and_no_error(name):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert f'rj.experiments.run("{name}"' in "".join(cell.source for cell in code)
    outputs = [out for cell in code for out in cell.get("outputs", [])]
    assert all(cell.get("execution_count") for cell in code), "committed unexecuted"
    assert not [out for out in outputs if out.output_type == "error"]
    assert any("image/png" in out.get("data", {}) for out in outputs)


@pytest.mark.slow
@pytest.mark.parametrize("name", rj.experiments.names())
def test_the_notebook_executes_in_quick_mode(name, tmp_path, monkeypatch):
    monkeypatch.setenv("REGJAX_QUICK", "1")
    notebook = execute.execute(NOTEBOOKS / f"{name}.ipynb", tmp_path, timeout=600)
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    assert any("image/png" in out.get("data", {}) for out in outputs)
    assert sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
