"""Figures of a λ sweep: the validation curve and the coefficient paths (matplotlib).

matplotlib is an optional dependency (``pip install regjax[plot]``); it is imported
when a figure is drawn, with the non-interactive ``Agg`` backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["coefficient_paths", "validation_curve"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError("figures need matplotlib: pip install 'regjax[plot]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def validation_curve(cv: Any, path: str | Path, *, title: str = "", ylabel: str = "loss") -> Path:
    """Plot training and validation loss (mean ± one standard deviation over the folds)
    against λ, marking the best λ and the one-standard-error λ; save a PNG.

    Args:
      cv: a :class:`regjax.sweep.CVResult`.
      path: where to write the PNG.
      title: figure title.
      ylabel: what the score is.

    Returns:
      The path written.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    lams = np.asarray(cv.lams)
    ax.plot(lams, cv.train, "o-", ms=3, color="tab:blue", label="training (mean over folds)")
    ax.plot(lams, cv.val_mean, "o-", ms=3, color="tab:red", label="validation (mean ± sd)")
    ax.fill_between(
        lams, cv.val_mean - cv.val_std, cv.val_mean + cv.val_std, color="tab:red", alpha=0.15
    )
    ax.axvline(cv.best_lam, color="k", ls="--", lw=1, label=f"best λ = {cv.best_lam:.3g}")
    ax.axvline(cv.lam_1se, color="gray", ls=":", lw=1.5, label=f"1-SE λ = {cv.lam_1se:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("λ  (cost = mean loss + λ/(2m)·‖w‖²)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def coefficient_paths(
    lams: Any, weights: Any, path: str | Path, *, title: str = "", marks: tuple[float, ...] = ()
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
    """
    plt = _pyplot()
    lams = np.asarray(lams)
    weights = np.asarray(weights).reshape(len(lams), -1)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    ax.plot(lams, weights, lw=1)
    for lam in marks:
        ax.axvline(lam, color="k", ls="--", lw=1)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("λ")
    ax.set_ylabel("coefficient")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
