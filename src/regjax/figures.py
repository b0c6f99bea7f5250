"""Figures of a λ sweep: the validation curve and the coefficient paths (matplotlib).

matplotlib is an optional dependency (``pip install regjax[plot]``); it is imported
when a figure is drawn, with the non-interactive ``Agg`` backend.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from jax.typing import ArrayLike

    from regjax.selection import CVResult

__all__ = ["coefficient_paths", "pyplot", "validation_curve"]


def pyplot() -> ModuleType:
    """matplotlib.pyplot with the non-interactive Agg backend (matplotlib is an extra)."""
    try:
        import matplotlib
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError("figures need matplotlib: pip install 'regjax[plot]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(
    plt: Any, fig: Any, ax: Any, path: str | Path, xlabel: str, ylabel: str, title: str
) -> Path:
    """Log λ axis, labels, grid; write the PNG and close the figure."""
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(Path(path))
    plt.close(fig)
    return Path(path)


def validation_curve(
    cv: CVResult, path: str | Path, *, title: str = "", ylabel: str = "loss"
) -> Path:
    """Plot training and validation loss (mean ± one standard deviation over the folds)
    against λ, marking the best λ and the one-standard-error λ; save a PNG.

    Args:
      cv: a :class:`regjax.selection.CVResult`.
      path: where to write the PNG.
      title: figure title.
      ylabel: what the score is.

    Returns:
      The path written.

    Example:
      >>> import tempfile, pathlib
      >>> from regjax.selection import CVResult
      >>> lams = np.array([10.0, 1.0, 0.1])
      >>> cv = CVResult(lams, np.array([0.5, 0.3, 0.2]), np.array([0.55, 0.35, 0.4]),
      ...               np.full(3, 0.05), 1.0, 1.0, np.zeros((2, 3)))
      >>> out = pathlib.Path(tempfile.mkdtemp()) / "cv.png"
      >>> validation_curve(cv, out).read_bytes()[:4]
      b'\x89PNG'
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    lams = np.asarray(cv.lams)
    ax.plot(lams, cv.train, "o-", ms=3, color="tab:blue", label="training (mean over folds)")
    ax.plot(lams, cv.val_mean, "o-", ms=3, color="tab:red", label="validation (mean ± sd)")
    ax.fill_between(
        lams, cv.val_mean - cv.val_std, cv.val_mean + cv.val_std, color="tab:red", alpha=0.15
    )
    ax.axvline(cv.best_lam, color="k", ls="--", lw=1, label=f"best λ = {cv.best_lam:.3g}")
    ax.axvline(cv.lam_1se, color="gray", ls=":", lw=1.5, label=f"1-SE λ = {cv.lam_1se:.3g}")
    ax.legend(fontsize=8)
    return _save(plt, fig, ax, path, "λ  (cost = mean loss + λ/(2m)·‖w‖²)", ylabel, title)


def coefficient_paths(
    lams: ArrayLike,
    weights: ArrayLike,
    path: str | Path,
    *,
    title: str = "",
    marks: tuple[float, ...] = (),
) -> Path:
    """Plot each weight w_j(λ) against λ (one line per weight); save a PNG.

    Args:
      lams: λ grid, shape (G,).
      weights: shape (G, n) (or (G, n, k): every column is drawn).
      path: where to write the PNG.
      title: figure title.
      marks: λ values to mark with vertical lines (e.g. the chosen λ).

    Returns:
      The path written.

    Example:
      >>> import tempfile, pathlib
      >>> out = pathlib.Path(tempfile.mkdtemp()) / "path.png"
      >>> coefficient_paths([1.0, 10.0], [[2.0, -1.0], [1.0, -0.5]], out).exists()
      True
    """
    plt = pyplot()
    lams = np.asarray(lams)
    weights = np.asarray(weights).reshape(len(lams), -1)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    ax.plot(lams, weights, lw=1)
    for lam in marks:
        ax.axvline(lam, color="k", ls="--", lw=1)
    ax.axhline(0, color="k", lw=0.5)
    return _save(plt, fig, ax, path, "λ", "coefficient", title)
