"""The documentation site (mkdocs.yml, docs/) and the README's code.

`make test` builds the site into site/ with warnings as errors (`make docs`) and
installs Debian's Chromium; these tests serve site/ on 127.0.0.1, open pages in headless
Chromium and read the DOM it leaves: the math is typeset by MathJax (served from the
site itself), the notebooks' figures and the README's figures are there and load, and no
page loads anything from another host. Run alone (`pytest tests/test_docs.py`) they
rebuild the site into a temporary directory when site/ is missing or older than its
sources. Without mkdocs or Chromium they skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# What the site is built from: a site older than any of these is rebuilt.
SOURCES = ("mkdocs.yml", "README.md", "docs", "src/regjax", "notebooks")
SOURCE_SUFFIXES = {".yml", ".md", ".py", ".ipynb", ".png", ".js"}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these three its background connections hang on a closed network
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
)


def _require(ok: object, reason: str) -> None:
    """Skip for want of a tool, locally; fail under CI, where make test installs it."""
    if not ok:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: make test should have provided it)")
        pytest.skip(reason)


def _newest_source() -> float:
    files = []
    for name in SOURCES:
        path = ROOT / name
        files += [path] if path.is_file() else list(path.rglob("*"))
    return max(f.stat().st_mtime for f in files if f.suffix in SOURCE_SUFFIXES)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """site/ as `make docs` built it, or a fresh strict build when it is missing or stale."""
    built = SITE / "sitemap.xml"
    if built.is_file() and built.stat().st_mtime >= _newest_source():
        return SITE
    _require(
        importlib.util.find_spec("mkdocs"), "mkdocs is not installed: pip install -e '.[docs]'"
    )
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-4000:]}"
    return out


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site and records every request's path and status."""

    def log_request(self, code="-", size="-"):
        self.server.requests.append((urlsplit(self.path).path, int(code)))

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=site))
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def chromium():
    path = next(
        (p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and Path(p).is_file()),
        None,
    )
    _require(path, "Chromium is not installed (make test installs Debian's `chromium`)")
    return path


@pytest.fixture(scope="module")
def open_page(chromium, server):
    """page -> (its DOM after scripts ran, the requests it made), each page opened once."""

    @functools.cache
    def open_page(page: str) -> tuple[str, tuple[tuple[str, int], ...]]:
        start = len(server.requests)
        with tempfile.TemporaryDirectory() as profile:
            proc = subprocess.run(
                [
                    chromium,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={profile}",
                    "--dump-dom",
                    f"http://127.0.0.1:{server.server_port}/{page}",
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
        assert proc.returncode == 0 and proc.stdout, f"chromium failed on {page}: {proc.stderr}"
        return proc.stdout, tuple(server.requests[start:])

    return open_page


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


# --- math ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["conventions/", "api/closed_form/", "api/costs/"])
def test_every_formula_is_typeset_by_the_sites_own_mathjax(site, open_page, page):
    """The tour's conventions page and API pages with docstring formulas (`.. math::`)."""
    html = (site / page / "index.html").read_text()
    formulas = html.count('class="arithmatex"')
    assert formulas >= 2, f"{page} has no math to typeset"
    dom, requests = open_page(page)
    assert dom.count("<mjx-container") == formulas, "some formulas were not typeset"
    assert "<mjx-merror" not in dom, "MathJax reported a TeX error"
    assert "\\(" not in re.sub(r"<(script|style|pre|code)\b.*?</\1>", "", dom, flags=re.S)
    served = {path for path, status in requests if status == 200}
    assert "/assets/mathjax/tex-chtml.js" in served
    assert any(p.startswith("/assets/mathjax/output/chtml/fonts/") for p in served)
    assert not [r for r in requests if r[1] >= 400], f"missing files: {requests}"


# --- figures ---------------------------------------------------------------------------


def test_a_notebook_page_shows_the_notebooks_own_figures(open_page):
    notebook = json.loads((ROOT / "notebooks" / "divide_by_m.ipynb").read_text())
    expected = [
        "".join(output["data"]["image/png"]).replace("\n", "")
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert expected, "the notebook was committed without its figures"
    dom, requests = open_page("notebooks/divide_by_m/")
    shown = [
        re.sub(r"\s", "", s)
        for s in re.findall(r'<img[^>]*src="data:image/png;base64,([^"]+)"', dom)
    ]
    assert shown == expected
    for figure in shown:
        width, height = _png_size(base64.b64decode(figure))
        assert width >= 300 and height >= 200
    assert "test-optimal" in dom  # the markdown cells are there too
    assert not [r for r in requests if r[1] >= 400], f"missing files: {requests}"


def _readme_section(name: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(f"--8<-- [start:{name}]")[1].split(f"--8<-- [end:{name}]")[0]


@pytest.mark.parametrize(
    ("page", "section"), [("studies/", "studies"), ("weight_decay/", "weight-decay")]
)
def test_the_readmes_figures_are_files_of_the_site_that_load(
    site, server, open_page, page, section
):
    wanted = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", _readme_section(section))
    assert wanted, f"the README's {section} section has no figure"
    dom, requests = open_page(page)
    base = f"http://127.0.0.1:{server.server_port}/{page}"
    shown = [
        urlsplit(urljoin(base, src)).path for src in re.findall(r'<img[^>]*src="([^"]+\.png)"', dom)
    ]
    assert shown == [f"/{path}" for path in wanted]
    loaded = {path for path, status in requests if status == 200}
    for path in shown:
        assert (site / path.lstrip("/")).is_file(), path
        assert path in loaded, f"the browser did not load {path}"
        assert _png_size((site / path.lstrip("/")).read_bytes())[0] >= 300


# --- offline ---------------------------------------------------------------------------

_EXTERNAL = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=\"(?:https?:)?//[^\"]*\""
    r"|<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\""
)


def test_no_page_loads_anything_from_another_host(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        found = _EXTERNAL.findall(page.read_text(errors="replace"))
        assert not found, f"{page.relative_to(site)} loads {found}"
    for css in site.rglob("*.css"):
        text = css.read_text(errors="replace")
        assert not re.search(
            r"url\(\s*['\"]?(?:https?:)?//|@import\s+['\"]?(?:url\()?https?:", text
        ), css


# --- sources ---------------------------------------------------------------------------


def test_every_public_module_has_an_api_page():
    package = ROOT / "src" / "regjax"
    modules = sorted(
        p.stem if p.is_file() else p.name
        for p in package.iterdir()
        if not p.name.startswith("_")
        and (p.suffix == ".py" or (p / "__init__.py").is_file())
        and p.name != "cli"  # the command, documented in the architecture page
    )
    nav = (ROOT / "mkdocs.yml").read_text()
    for name in modules:
        page = ROOT / "docs" / "api" / f"{name}.md"
        assert page.is_file() and f"::: regjax.{name}" in page.read_text(), page
        assert f"api/{name}.md" in nav, f"api/{name}.md is not in mkdocs.yml's nav"


def test_the_griffe_extension_turns_rst_into_markdown():
    _require(
        importlib.util.find_spec("griffe"), "griffe is not installed: pip install -e '.[docs]'"
    )
    spec = importlib.util.spec_from_file_location("griffe_rst", ROOT / "docs/hooks/griffe_rst.py")
    rst = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rst)
    text = "Sum.\n\n.. math::\n\n    a = b\n    + c\n\nThen :math:`x\n  + y`.\n"
    assert (
        rst.math_roles(rst.math_blocks(text)) == "Sum.\n\n$$\na = b\n+ c\n$$\n\nThen \\(x + y\\).\n"
    )
    table = "=====  ===\nname   c\n=====  ===\n``ng``  λ/m\nlong   a\n       b|c\n=====  ===\n"
    assert rst.rst_tables(table) == (
        "| name | c |\n| --- | --- |\n| ``ng`` | λ/m |\n| long | a b\\|c |\n"
    )
    args = "Args:\n  b1, b2: Adam's\n    constants.\n  eps: small.\n\nReturns:\n  a, b: c.\n"
    assert rst.grouped_args(args) == (
        "Args:\n  b1: Adam's\n    constants.\n  b2: Adam's\n    constants.\n  eps: small.\n"
        "\nReturns:\n  a, b: c.\n"
    )


def _readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


@pytest.mark.slow  # about a minute of one core: compiling the README's path solvers
def test_the_readmes_python_code_runs_as_written(tmp_path):
    """Every ```python block, in order, as one script (the multi-host job aside: it needs
    several processes, and tests/test_multiprocess.py runs it); the checkify block in a
    process of its own with REGJAX_ON_ERROR=checkify, after the tour's data, where it must
    raise as it says."""
    blocks = _readme_python_blocks()
    multihost = [b for b in blocks if b.startswith("# sweep_job.py")]
    checkify = [b for b in blocks if b.startswith("# REGJAX_ON_ERROR=checkify")]
    assert len(multihost) == len(checkify) == 1
    (tmp_path / "readme.py").write_text(
        "\n".join(b for b in blocks if b not in multihost + checkify)
    )
    tour = blocks[0].splitlines()
    data = tour[: next(i for i, line in enumerate(tour) if line.startswith("params =")) + 1]
    (tmp_path / "checkify.py").write_text(
        "\n".join([*data, "from jax.experimental import checkify", "try:"])
        + "\n"
        + "".join(f"    {line}\n" for line in checkify[0].splitlines())
        + "except Exception as e:\n    assert 'lam must be finite' in str(e), e\n"
        + "else:\n    raise AssertionError('the checkify block did not raise')\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg", "JAX_PLATFORMS": "cpu"}
    for name, extra in (("checkify.py", {"REGJAX_ON_ERROR": "checkify"}), ("readme.py", {})):
        proc = subprocess.run(
            [sys.executable, "-W", "error::RuntimeWarning", name],
            cwd=tmp_path,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"{name}:\n{proc.stderr[-3000:]}"
