"""What every study shares: float64, seeds, progress, slopes with bootstrap bands, PNGs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from regjax import figures, losses


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """float64 with standard dtype promotion: every study compares numbers to math."""
    with jax.enable_x64(True), jax.numpy_dtype_promotion("standard"):
        yield


def seeds(key: Any) -> tuple[jax.Array, np.random.Generator]:
    """A JAX key and a numpy generator from one seed (an int or a ``jax.random`` key)."""
    if isinstance(key, int | np.integer):
        return jax.random.key(int(key)), np.random.default_rng(int(key))
    data = np.asarray(jax.random.key_data(key)).ravel()
    return key, np.random.default_rng(data.astype(np.uint64))


def reporter(progress: Callable[[str], None] | None) -> Callable[[str], None]:
    """``progress``, or a callable that says nothing."""
    return progress or (lambda stage: None)


class Slope(NamedTuple):
    """A fitted slope of log y against log x, with a bootstrap 95% band.

    Attributes:
      value: least-squares slope of mean(log y) against log x.
      low, high: the 2.5% and 97.5% bootstrap quantiles (repetitions resampled).
      se: the bootstrap standard error.
    """

    value: float
    low: float
    high: float
    se: float


def band(slope: Slope, digits: int = 2) -> str:
    """A slope and its band as text.

    Example:
      >>> band(Slope(0.012, -0.02, 0.04, 0.015))
      '+0.01 [-0.02, +0.04]'
    """
    v, lo, hi = slope.value, slope.low, slope.high
    return f"{v:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def log_slope(x: Any, y: Any, *, rng: np.random.Generator, boot: int = 2000) -> Slope:
    """The slope of log y against log x, where ``y`` holds repetitions (R, K) at the
    K points ``x``, with its band from resampling the R repetitions.

    Example:
      >>> x = np.array([10.0, 100.0, 1000.0])
      >>> y = x[None] ** -1.0 * np.exp(np.random.default_rng(0).normal(0, 0.1, (50, 3)))
      >>> s = log_slope(x, y, rng=np.random.default_rng(1))
      >>> round(s.value, 1), bool(s.low < s.value < s.high), bool(s.se < 0.01)
      (-1.0, True, True)
    """
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    centred = lx - lx.mean()

    def fit(rows: np.ndarray) -> np.ndarray:
        return (rows.mean(axis=-2) @ centred) / (centred @ centred)

    draws = fit(ly[rng.integers(0, len(ly), size=(boot, len(ly)))])
    low, high = np.quantile(draws, [0.025, 0.975])
    return Slope(float(fit(ly)), float(low), float(high), float(draws.std()))


def save(fig: Any, out: str | Path, filename: str) -> Path:
    """Write ``fig`` as ``out/filename`` (directory created) and close it."""
    path = Path(out) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    figures.pyplot().close(fig)
    return path


def log_argmin(grid: Any, loss: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sub-grid minimizer along the last axis of ``loss`` on the log-uniform ``grid``.

    The vertex of the parabola (in log grid) through the lowest point and its neighbours;
    non-finite losses (diverged lanes) count as +inf. Returns it and whether it is interior.

    Example:
      >>> grid = np.logspace(-2, 2, 9)
      >>> best, interior = log_argmin(grid, (np.log(grid) - np.log(3.0)) ** 2)
      >>> round(float(best), 6), bool(interior)
      (3.0, True)
    """
    grid = np.asarray(grid, float)
    loss = np.asarray(loss, float)
    loss = np.where(np.isfinite(loss), loss, np.inf)
    i = loss.argmin(-1)
    j = np.clip(i, 1, len(grid) - 2)[..., None]
    l0, l1, l2 = (np.take_along_axis(loss, j + d, -1)[..., 0] for d in (-1, 0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.nan_to_num(0.5 * (l0 - l2) / (l0 - 2 * l1 + l2), posinf=0.0, neginf=0.0)
    interior = (i > 0) & (i < len(grid) - 1)
    shift = np.where(interior, np.clip(shift, -0.5, 0.5), 0.0)
    return grid[i] * np.exp(shift * np.log(grid[1] / grid[0])), interior


class CurveOptimum(NamedTuple):
    """The minimizer of a mean curve at each of K points x, with bootstrap 95% bands.

    Attributes:
      best: (K,) the minimizer of the mean over repetitions (:func:`log_argmin`).
      low, high: (K,) its 2.5% and 97.5% bootstrap quantiles (repetitions resampled).
      interior: (K,) whether ``best`` lies inside the grid.
      slope: the slope of log best against log x, its band from the same resamples.
    """

    best: np.ndarray
    low: np.ndarray
    high: np.ndarray
    interior: np.ndarray
    slope: Slope


def curve_optimum(
    x: Any, grid: Any, loss: Any, *, rng: np.random.Generator, boot: int = 1000
) -> CurveOptimum:
    """The minimizer over ``grid`` of the mean of ``loss`` (R repetitions, K points, G grid)
    at each x, and the slope of its log against log x; every band resamples the R
    repetitions (the mean curve, not each repetition's own minimizer, is what is
    minimized: one repetition's optimum is far noisier than the optimum of the mean).

    Example:
      >>> x, grid = np.array([1.0, 10.0, 100.0]), np.logspace(-2, 2, 41)
      >>> noise = np.random.default_rng(0).normal(0, 0.01, (30, 3, 1))
      >>> loss = (np.log(grid) - np.log(x)[:, None] / 2) ** 2 + noise
      >>> opt = curve_optimum(x, grid, loss, rng=np.random.default_rng(1))
      >>> [round(float(b), 2) for b in opt.best], round(opt.slope.value, 3)
      ([1.0, 3.16, 10.0], 0.5)
    """
    loss = np.asarray(loss, float)
    reps = len(loss)
    counts = rng.multinomial(reps, np.full(reps, 1 / reps), size=boot)  # (B, R)
    draws = log_argmin(grid, np.einsum("br,rkg->bkg", counts, loss) / reps)[0]  # (B, K)
    best, interior = log_argmin(grid, loss.mean(0))
    lx = np.log(np.asarray(x, float))
    lx -= lx.mean()
    slopes = np.log(draws) @ lx / (lx @ lx)
    lo, hi = np.quantile(slopes, [0.025, 0.975])
    slope = Slope(float(np.log(best) @ lx / (lx @ lx)), float(lo), float(hi), float(slopes.std()))
    low, high = np.quantile(draws, [0.025, 0.975], axis=0)
    return CurveOptimum(best, low, high, interior, slope)


_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)


def logistic_test_loss(w: jax.Array, params: Any) -> jax.Array:
    r"""Expected cross-entropy of ``params`` (``{"w", "b"}``) on fresh x ~ N(0, I),
    y ~ Bernoulli(σ(x·w)): exact up to quadrature.

    z = x·w and ẑ = x·ŵ + b̂ are jointly Gaussian; write z = s₁t₁, ẑ = c·t₁ + s₂t₂ + b̂
    with t ~ N(0, I₂) and sum σ(z)ℓ(ẑ, 1) + (1 − σ(z))ℓ(ẑ, 0) on a 40 × 40 Gauss–Hermite grid.

    Example:
      >>> rng = np.random.default_rng(0)
      >>> w, X = rng.normal(size=3), rng.normal(size=(200_000, 3))
      >>> y = rng.uniform(size=len(X)) < 1 / (1 + np.exp(-X @ w))
      >>> zhat = X @ (w + 0.3) + 0.2; sampled = np.mean(np.logaddexp(0, zhat) - y * zhat)
      >>> with float64():
      ...     exact = logistic_test_loss(jnp.asarray(w), {"w": jnp.asarray(w + 0.3), "b": 0.2})
      >>> bool(abs(float(exact) - sampled) < 0.005)
      True
    """
    s1 = jnp.linalg.norm(w)
    c = w @ params["w"] / s1
    s2 = jnp.sqrt(jnp.maximum(params["w"] @ params["w"] - c**2, 0.0))
    t, a = jnp.asarray(_NODES), jnp.asarray(_WEIGHTS / np.sqrt(2 * np.pi))
    z, zhat = s1 * t[:, None], c * t[:, None] + s2 * t[None, :] + params["b"]
    p = jax.nn.sigmoid(z)
    terms = p * losses.logistic_terms(zhat, 1.0) + (1 - p) * losses.logistic_terms(zhat, 0.0)
    return a @ terms @ a
