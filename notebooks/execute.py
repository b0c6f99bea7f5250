"""Execute the study notebooks in place, outputs and figures included.

    python notebooks/execute.py                 # every notebook, full mode
    python notebooks/execute.py divide_by_m     # one
    REGJAX_QUICK=1 python notebooks/execute.py  # CI-sized (do not commit those outputs)

Each notebook runs with ``notebooks/`` as its working directory, so its study writes
its PNGs into ``notebooks/figures/`` (the README gallery shows them). The test suite
re-executes every notebook in quick mode (``tests/test_notebooks.py``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path, cwd: Path, timeout: int = 3600) -> nbformat.NotebookNode:
    """Run every cell of the notebook at ``path`` with working directory ``cwd``."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": cwd}}
    )
    client.execute()
    return notebook


def main(names: list[str]) -> None:
    paths = [HERE / f"{name}.ipynb" for name in names] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        start = time.perf_counter()
        notebook = execute(path, HERE)
        nbformat.write(notebook, path)
        print(f"{path.name}: {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
