"""The layout of DESIGN.md: layers, one home per idea, module sizes, what `import` pulls in."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "regjax"

# DESIGN.md's layers, lowest first; an import never goes up. The private helpers sit
# with their users: _typing and _checks below everything, the engines with paths.
LAYERS = [
    {"_typing", "_traced", "_checks", "_format"},
    {"conventions", "losses", "models", "prox", "data"},
    {"penalties", "_masks"},
    {"costs"},
    {"closed_form", "checking", "_ridge"},
    {
        "transforms",
        "optimizers",
        "solvers",
        "paths",
        "_glm",
        "_cg",
        "_newton",
        "_proximal",
        "_screening",
        "_implicit",
        "_sharding",
    },
    {"selection", "hypergrad", "_tuning"},
    {"experiments", "figures"},
    {"cli"},
]
LAYER = {name: k for k, names in enumerate(LAYERS) for name in names}


def _imports(path: Path) -> set[str]:
    """The regjax modules a file imports (top-level names under regjax)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "regjax":
                if len(parts) > 1:
                    found.add(parts[1])
                else:
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "regjax" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_every_module_has_a_layer():
    names = {p.relative_to(SRC).parts[0].removesuffix(".py") for p in SRC.rglob("*.py")}
    assert names - {"__init__", "__main__"} <= set(LAYER)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_import_goes_up(path):
    owner = path.relative_to(SRC).parts[0].removesuffix(".py")
    if owner in ("__init__", "__main__"):
        return
    for name in _imports(path) - {owner}:
        assert LAYER[name] <= LAYER[owner], f"{owner} (layer {LAYER[owner]}) imports {name}"


def test_no_module_reaches_into_another_modules_private_names():
    """``module._helper`` of another regjax module is never used (private modules, whose
    names are public within the package, are imported whole)."""
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "regjax":
                aliases.update({a.asname or a.name: a.name for a in node.names})
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("regjax."):
                package = SRC.joinpath(*node.module.split(".")[1:])
                for alias in node.names:
                    private_module = (package / f"{alias.name}.py").exists()
                    assert not alias.name.startswith("_") or private_module, (
                        f"{path}: imports {alias.name}"
                    )
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in aliases and node.attr.startswith("_"):
                    pytest.fail(f"{path}:{node.lineno} uses {node.value.id}.{node.attr}")


def test_modules_and_functions_stay_readable():
    """STYLE.md: a module under 450 lines, a function under 80."""
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        assert text.count("\n") + 1 <= 450, f"{path} has {text.count(chr(10)) + 1} lines"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                assert size <= 80, f"{path}:{node.lineno} {node.name} has {size} lines"


def test_import_regjax_pulls_in_neither_matplotlib_nor_the_cli():
    code = (
        "import sys, regjax; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib' "
        "or m.startswith('regjax.cli')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_package_ships_its_type_information():
    assert (SRC / "py.typed").exists()
    import tomllib

    meta = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text())
    assert "py.typed" in meta["tool"]["setuptools"]["package-data"]["regjax"]
