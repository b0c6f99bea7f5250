"""Embedded data sets and synthetic generators; nothing is downloaded at run time.

The three real data sets are copies of the ones scikit-learn ships (BSD-3-Clause
licence; the original sources are the UCI repository and Efron et al. 2004), stored
gzipped inside this package:

* :func:`load_breast_cancer` — Wisconsin diagnostic breast cancer, 569 × 30, binary;
* :func:`load_digits` — 8×8 handwritten digits, 1797 × 64, ten classes;
* :func:`load_diabetes` — diabetes progression, 442 × 10, regression.

Arrays come back as NumPy float64 (labels as int64 where they are classes); convert
with ``jnp.asarray`` under the dtype you want.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from importlib import resources
from typing import NamedTuple

import numpy as np

from regjax import _checks

__all__ = [
    "DATASETS",
    "Dataset",
    "load",
    "load_breast_cancer",
    "load_diabetes",
    "load_digits",
    "make_classification",
    "make_regression",
    "standardize",
]


class Dataset(NamedTuple):
    """A data set: inputs X (m, n), targets y (m,), and its task."""

    X: np.ndarray
    y: np.ndarray
    task: str  # "binary", "multiclass" or "regression"
    name: str


def _read(name: str) -> bytes:
    return gzip.decompress((resources.files("regjax") / "datasets" / name).read_bytes())


def standardize(X: np.ndarray) -> np.ndarray:
    """Columns centred to mean 0 and scaled to unit standard deviation (constant columns
    are only centred).

    Example:
      >>> standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
      array([[-1.,  0.],
             [ 1.,  0.]])
    """
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def load_breast_cancer(*, standardized: bool = True) -> Dataset:
    """Wisconsin diagnostic breast cancer: 569 examples, 30 features, y = 1 for benign.

    Example:
      >>> data = load_breast_cancer()
      >>> data.X.shape, int(data.y.sum())
      ((569, 30), 357)
    """
    table = np.loadtxt(io.BytesIO(_read("breast_cancer.csv.gz")), delimiter=",", skiprows=1)
    X, y = table[:, :-1], table[:, -1]
    return Dataset(standardize(X) if standardized else X, y, "binary", "breast_cancer")


def load_digits(*, scaled: bool = True) -> Dataset:
    """8×8 digits: 1797 examples, 64 pixel features (0–16; divided by 16 when ``scaled``),
    integer labels 0–9.

    Example:
      >>> data = load_digits()
      >>> data.X.shape, data.y.dtype, float(data.X.max())
      ((1797, 64), dtype('int64'), 1.0)
    """
    table = np.loadtxt(io.BytesIO(_read("digits.csv.gz")), delimiter=",")
    X, y = table[:, :-1], table[:, -1].astype(np.int64)
    return Dataset(X / 16.0 if scaled else X, y, "multiclass", "digits")


def load_diabetes(*, standardized: bool = True) -> Dataset:
    """Diabetes progression (Efron et al. 2004): 442 examples, 10 features, real target.

    Example:
      >>> data = load_diabetes()
      >>> data.X.shape, float(data.y[0])
      ((442, 10), 151.0)
    """
    table = np.loadtxt(io.BytesIO(_read("diabetes.txt.gz")))
    X, y = table[:, :-1], table[:, -1]
    return Dataset(standardize(X) if standardized else X, y, "regression", "diabetes")


DATASETS: dict[str, Callable[[], Dataset]] = {
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
    "diabetes": load_diabetes,
}


def load(name: str) -> Dataset:
    """Load an embedded data set by name (``breast_cancer``, ``digits``, ``diabetes``).

    Example:
      >>> load("diabetes").task
      'regression'
    """
    _checks.check_choice(name, "name", DATASETS)
    return DATASETS[name]()


def _design(rng: np.random.Generator, m: int, n: int, correlation: float) -> np.ndarray:
    if m <= 0 or n <= 0:
        raise ValueError(f"m and n must be > 0, got m={m}, n={n}")
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation must be in [0, 1), got {correlation}")
    shared = rng.standard_normal((m, 1))
    return np.sqrt(1 - correlation) * rng.standard_normal((m, n)) + np.sqrt(correlation) * shared


def make_classification(
    m: int, n: int, *, seed: int = 0, correlation: float = 0.0, signal: float = 1.0
) -> Dataset:
    r"""Synthetic logistic data: X ~ N(0, Σ) (equicorrelated), w ~ N(0, signal²/n),
    b ~ N(0, 1)·0.5, y ~ Bernoulli(σ(Xw + b)).

    Example:
      >>> data = make_classification(100, 5, seed=1)
      >>> data.X.shape, sorted(set(data.y.tolist()))
      ((100, 5), [0.0, 1.0])
    """
    rng = np.random.default_rng(seed)
    X = _design(rng, m, n, correlation)
    w = rng.standard_normal(n) * signal / np.sqrt(n) * 3.0
    b = 0.5 * rng.standard_normal()
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    y = (rng.random(m) < p).astype(np.float64)
    return Dataset(X, y, "binary", f"classification_{m}x{n}")


def make_regression(
    m: int, n: int, *, seed: int = 0, correlation: float = 0.0, noise: float = 1.0
) -> Dataset:
    r"""Synthetic linear data: y = Xw + b + noise·ε, w ~ N(0, 1), ε ~ N(0, 1).

    Example:
      >>> make_regression(50, 3).X.shape
      (50, 3)
    """
    rng = np.random.default_rng(seed)
    X = _design(rng, m, n, correlation)
    w = rng.standard_normal(n)
    y = X @ w + rng.standard_normal() + noise * rng.standard_normal(m)
    return Dataset(X, y, "regression", f"regression_{m}x{n}")
