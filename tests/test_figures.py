"""regjax.figures: the validation curve and the coefficient paths are valid PNGs that draw
what they are given (read back from the matplotlib axes)."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import PNG_MAGIC

from regjax import figures
from regjax.selection import CVResult

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture
def axes(monkeypatch):
    """Every Axes a figure function draws on (the figure is closed when it returns)."""
    drawn = []
    subplots = plt.subplots

    def recording(*args, **kwargs):
        fig, ax = subplots(*args, **kwargs)
        drawn.append(ax)
        return fig, ax

    monkeypatch.setattr(plt, "subplots", recording)
    return drawn


def _cv() -> CVResult:
    val_mean = np.array([0.42, 0.40, 0.45, 0.50])  # se = 0.05/√3: 1-SE threshold 0.429
    return CVResult(
        lams=np.array([100.0, 10.0, 1.0, 0.1]),
        train=np.array([0.41, 0.35, 0.30, 0.25]),
        val_mean=val_mean,
        val_std=np.full(4, 0.05),
        best_lam=10.0,
        lam_1se=100.0,
        val=np.tile(val_mean, (3, 1)),
    )


def test_validation_curve_writes_a_png(tmp_path, axes):
    cv = _cv()
    out = tmp_path / "cv.png"
    written = figures.validation_curve(cv, out, title="a title", ylabel="mean loss")
    assert written == out
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000
    (ax,) = axes
    lines = ax.get_lines()  # training, validation, best λ, 1-SE λ
    assert len(lines) == 4
    np.testing.assert_array_equal(lines[0].get_xdata(), cv.lams)
    np.testing.assert_array_equal(lines[0].get_ydata(), cv.train)
    np.testing.assert_array_equal(lines[1].get_ydata(), cv.val_mean)
    assert list(lines[2].get_xdata()) == [cv.best_lam] * 2
    assert list(lines[3].get_xdata()) == [cv.lam_1se] * 2
    assert ax.get_xscale() == "log"
    assert ax.get_title() == "a title" and ax.get_ylabel() == "mean loss"


@pytest.mark.parametrize("shape", [(5, 3), (5, 3, 4)])
def test_coefficient_paths_draws_every_column(tmp_path, axes, shape):
    lams = np.logspace(2, -2, shape[0])
    weights = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    out = tmp_path / "path.png"
    written = figures.coefficient_paths(lams, weights, out, title="paths", marks=(1.0,))
    assert written == out
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000
    (ax,) = axes
    columns = int(np.prod(shape[1:]))  # (G, n, k): every one of the n·k columns
    lines = ax.get_lines()
    assert len(lines) == columns + 1 + 1  # the paths, one mark, the zero line
    flat = weights.reshape(shape[0], -1)
    for j in range(columns):
        np.testing.assert_array_equal(lines[j].get_xdata(), lams)
        np.testing.assert_array_equal(lines[j].get_ydata(), flat[:, j])
    assert list(lines[columns].get_xdata()) == [1.0, 1.0]  # the mark
    assert ax.get_xscale() == "log" and ax.get_title() == "paths"
