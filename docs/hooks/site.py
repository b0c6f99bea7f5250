"""MkDocs hooks: the repository's notebooks and figures as pages, MathJax shipped offline.

- ``on_files`` adds ``notebooks/*.ipynb`` (rendered by mkdocs-jupyter, not executed),
  their figures and the README's images under the same paths as in the repository, so
  that README sections included with pymdownx.snippets keep working links.
- ``on_post_build`` copies MathJax 3 from the ``django-static-mathjax`` wheel (a PyPI
  package, in the ``docs`` extra) into ``site/assets/mathjax``: the built site renders
  its math with no network.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

# Repository paths published as they are (README links to them by these paths).
PUBLISHED = ("notebooks/*.ipynb", "notebooks/figures/*.png", "docs/*.png")
MATHJAX_DEST = "assets/mathjax"


def mathjax_dir() -> Path:
    """MathJax 3's ``es5`` directory inside the installed ``django-static-mathjax``."""
    spec = importlib.util.find_spec("mathjax")
    for location in (spec.submodule_search_locations or []) if spec else []:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / "tex-chtml.js").is_file():
            return es5
    raise PluginError(
        "MathJax not found: the docs need the `django-static-mathjax` package "
        "(pip install -e '.[docs]')"
    )


@event_priority(100)  # before mkdocs-jupyter's on_files, which claims the notebooks
def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = Path(config.config_file_path).parent
    for pattern in PUBLISHED:
        for path in sorted(root.glob(pattern)):
            files.append(
                File(
                    path.relative_to(root).as_posix(),
                    src_dir=str(root),
                    dest_dir=config.site_dir,
                    use_directory_urls=config.use_directory_urls,
                )
            )
    return files


def on_post_build(config: MkDocsConfig) -> None:
    shutil.copytree(mathjax_dir(), Path(config.site_dir) / MATHJAX_DEST, dirs_exist_ok=True)
