"""The package as users install it: ``python -m build`` makes an sdist and a wheel (the
wheel built from the sdist, so the sdist is complete), and the wheel installed into a
fresh virtualenv with only the core dependencies (jax, jaxlib, optax, numpy) imports
and runs the command; ``regjax sweep`` there still prints its table and says plainly
that figures need ``regjax[plot]``.

It needs the package registry (the fresh virtualenv installs the core dependencies,
from pip's cache when they are there), as ``make test`` does.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import regjax

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    assert out.returncode == 0, f"{command} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", where, ROOT)
    return where


def test_build_makes_an_sdist_and_a_wheel_with_the_data_and_the_command(dist):
    version = regjax.__version__
    (wheel,) = dist.glob(f"regjax-{version}-py3-none-any.whl")
    (sdist,) = dist.glob(f"regjax-{version}.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("regjax/py.typed", "regjax/cli/__init__.py", "regjax/datasets/"):
        assert any(n.startswith(needed) for n in names), needed
    assert any(n.endswith(".gz") and n.startswith("regjax/datasets/") for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "regjax = regjax.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
    members = tarfile.open(sdist).getnames()
    assert f"regjax-{version}/README.md" in members
    assert f"regjax-{version}/pyproject.toml" in members


def test_the_wheel_in_a_fresh_venv_with_only_the_core_dependencies(dist, tmp_path):
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)  # no system site-packages: nothing of this venv
    python, command = env / "bin" / "python", env / "bin" / "regjax"
    (wheel,) = dist.glob("regjax-*.whl")
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    installed = _run(python, "-m", "pip", "list", "--format=freeze").stdout.lower()
    assert "jax==" in installed and "optax==" in installed
    for extra in ("matplotlib", "scikit-learn", "flax", "pytest"):
        assert f"{extra}==" not in installed, f"{extra} came in with the core install"

    where = _run(python, "-c", "import regjax; print(regjax.__version__, regjax.__file__)")
    version, path = where.stdout.split()
    assert version == regjax.__version__
    assert str(env) in path, "imported regjax from outside the fresh venv"
    assert _run(command, "--version").stdout.strip() == f"regjax {regjax.__version__}"

    converted = _run(command, "convert", "1", "--from", "ng", "--to", "sum", "--m", "10")
    assert converted.stdout.splitlines()[-1].split()[:2] == ["sum", "1"]  # same number
    checked = _run(command, "check", cwd=tmp_path)
    assert " 0 failed" in checked.stdout

    swept = _run(command, "sweep", "--quick", "--quiet", "--out", tmp_path, cwd=tmp_path)
    assert "regjax[plot]" in swept.stdout + swept.stderr
    assert "best" in swept.stdout  # the table and the chosen λ were printed
    assert not list(tmp_path.glob("*.png"))
