r"""Regularization paths of the built-in models, cross-validated: the job behind
``regjax sweep``.

For a data set, a model (``linear``, ``logistic``, ``softmax``) and a penalty (``l2``,
``l1``), :func:`run` builds the λ grid (:func:`regjax.lambda_grid`), cross-validates the
whole grid with every fold and every λ in one computation, and fits the path on all
the data. The L2 paths use the exact or batched second-order solvers
(:func:`regjax.closed_form.ridge_path`, :func:`regjax.solvers.logistic_path`,
:func:`regjax.solvers.softmax_path`); the L1 paths use :func:`l1_path`, accelerated
proximal gradient (FISTA) ``vmap``-ped over λ.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from regjax import _checks, closed_form, data, solvers
from regjax.sweep import CVResult, cross_validate, lambda_grid

__all__ = ["MODELS", "PathReport", "l1_path", "run"]

MODELS = ("linear", "logistic", "softmax")
DEFAULT_MODEL = {"regression": "linear", "binary": "logistic", "multiclass": "softmax"}


def _linear_loss(params: Any, X: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean((X @ params["w"] + params["b"] - y) ** 2) / 2


def _logistic_loss(params: Any, X: jax.Array, y: jax.Array) -> jax.Array:
    z = X @ params["w"] + params["b"]
    return jnp.mean(jax.nn.softplus(z) - y * z)


def _softmax_loss(params: Any, X: jax.Array, y: jax.Array) -> jax.Array:
    z = X @ params["w"] + params["b"]
    picked = jnp.take_along_axis(z, y[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - picked)


def _error_rate(model: str) -> Callable[..., jax.Array]:
    def error(params: Any, X: jax.Array, y: jax.Array) -> jax.Array:
        z = X @ params["w"] + params["b"]
        predicted = (z > 0).astype(y.dtype) if model == "logistic" else jnp.argmax(z, axis=1)
        return jnp.mean((predicted != y).astype(X.dtype))

    return error


LOSSES = {"linear": _linear_loss, "logistic": _logistic_loss, "softmax": _softmax_loss}


def l1_path(
    X: ArrayLike,
    y: ArrayLike,
    lams: ArrayLike,
    *,
    model: str = "linear",
    tol: float = 1e-8,
    max_iter: int = 20_000,
) -> dict[str, jax.Array]:
    r"""L1-regularized linear or logistic regression for a whole λ grid, FISTA under vmap.

    Minimizes :math:`J(w, b) = \frac1m\sum_i \ell_i + \frac{\lambda}{m}\lVert w\rVert_1`
    (ℓ = ½ squared error, or logistic loss) by accelerated proximal gradient with the
    fixed step 1/L, :math:`L = \sigma_{\max}([X\ 1])^2/m` (÷4 for logistic): the
    gradient step on the smooth part, then soft-thresholding
    :math:`w \leftarrow \mathrm{sign}(w)\max(|w| - \lambda/(mL), 0)`, which makes exact
    zeros. Each λ stops when its proximal-gradient step moves no coordinate by more than
    ``tol``·L⁻¹-scaled (the prox-gradient residual L·‖Δ‖∞ ≤ tol).

    Args:
      X: inputs, shape (m, n).
      y: targets, shape (m,).
      lams: λ grid, shape (G,).
      model: ``"linear"`` or ``"logistic"``.
      tol: tolerance on the proximal-gradient residual, per λ.
      max_iter: most iterations.

    Returns:
      ``{"w": (G, n), "b": (G,)}``.

    Example:
      >>> X = jnp.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
      >>> y = jnp.array([2.0, 0.1, -2.0, -0.1])
      >>> path = l1_path(X, y, jnp.array([1.0]))   # Lasso(alpha=1/4): w₂ is exactly 0
      >>> [round(float(v), 6) for v in path["w"][0]]
      [1.5, 0.0]

    References:
      A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for
      linear inverse problems", SIAM J. Imaging Sci. 2 (2009).
    """
    if model not in ("linear", "logistic"):
        raise ValueError(f"model must be 'linear' or 'logistic' for l1_path, got {model!r}")
    X = _checks.as_matrix(X)
    y = jnp.asarray(y, dtype=X.dtype)
    _checks.check_rows(X, y)
    lams = jnp.asarray(lams, dtype=X.dtype)
    if lams.ndim != 1:
        raise ValueError(f"lams must be 1-D (G,), got shape {lams.shape}")
    _checks.check_lam(lams, "lams")
    m, n = X.shape
    ones = jnp.ones((m, 1), X.dtype)
    lipschitz = jnp.linalg.norm(jnp.concatenate([X, ones], axis=1), ord=2) ** 2 / m
    if model == "logistic":
        lipschitz = lipschitz / 4
    loss = LOSSES[model]
    grad = jax.grad(loss)

    def solve(lam: jax.Array) -> dict[str, jax.Array]:
        threshold = lam / (m * lipschitz)

        def prox_step(p: dict[str, jax.Array]) -> dict[str, jax.Array]:
            g = grad(p, X, y)
            w = p["w"] - g["w"] / lipschitz
            w = jnp.sign(w) * jnp.maximum(jnp.abs(w) - threshold, 0)
            return {"w": w, "b": p["b"] - g["b"] / lipschitz}

        def cond(state: tuple) -> jax.Array:
            step, _, _, _, residual = state
            return (step < max_iter) & (residual > tol)

        def body(state: tuple) -> tuple:
            step, p, v, t, _ = state
            new = prox_step(v)
            t_next = (1 + jnp.sqrt(1 + 4 * t**2)) / 2
            momentum = (t - 1) / t_next
            v = jax.tree.map(lambda a, b: a + momentum * (a - b), new, p)
            change = jnp.maximum(jnp.max(jnp.abs(new["w"] - p["w"])), jnp.abs(new["b"] - p["b"]))
            return step + 1, new, v, t_next, lipschitz * change

        b0 = jnp.mean(y) if model == "linear" else jnp.zeros((), X.dtype)
        p0 = {"w": jnp.zeros(n, X.dtype), "b": b0}
        init = (0, p0, p0, jnp.ones((), X.dtype), jnp.asarray(jnp.inf, X.dtype))
        return jax.lax.while_loop(cond, body, init)[1]

    return jax.vmap(solve)(lams)


class PathReport(NamedTuple):
    """What :func:`run` found: the grid, the cross-validation, the path on all the data."""

    dataset: str
    model: str
    penalty: str
    m: int
    n: int
    cv: CVResult
    val_error: np.ndarray | None  # validation error rate per λ (classification)
    path: dict[str, np.ndarray]  # fitted on all the data: {"w": (G, ...), "b": (G, ...)}
    loo: np.ndarray | None  # ridge: exact leave-one-out error per λ
    gcv: np.ndarray | None
    seconds: dict[str, float]


def _path_fit(model: str, penalty: str, num_classes: int) -> Callable[..., Any]:
    if penalty == "l1":
        return lambda lams, X, y: l1_path(X, y, lams, model=model)
    if model == "linear":
        return lambda lams, X, y: closed_form.ridge_path(X, y, lams)
    if model == "logistic":
        return lambda lams, X, y: solvers.logistic_path(X, y, lams)
    return lambda lams, X, y: solvers.softmax_path(X, y, lams, num_classes=num_classes)


def run(
    dataset: str | data.Dataset = "breast_cancer",
    *,
    model: str | None = None,
    penalty: str = "l2",
    num: int = 30,
    min_ratio: float = 1e-4,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> PathReport:
    """Cross-validate a whole λ path of a built-in model on a data set.

    Args:
      dataset: an embedded data set's name (:data:`regjax.data.DATASETS`) or a
        :class:`regjax.data.Dataset`.
      model: ``"linear"``, ``"logistic"`` or ``"softmax"`` (default: from the task).
      penalty: ``"l2"`` or ``"l1"`` (``l1`` for linear and logistic models).
      num: grid size.
      min_ratio: smallest λ as a fraction of λ_max.
      folds: cross-validation folds.
      seed: the fold shuffle.
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`PathReport`; its CV scores are the unregularized mean data loss.

    Example:
      >>> report = run("diabetes", num=4, folds=3)   # ridge path, exact
      >>> report.model, report.cv.val.shape, report.path["w"].shape
      ('linear', (3, 4), (4, 10))
    """
    ds = data.load(dataset) if isinstance(dataset, str) else dataset
    model = model or DEFAULT_MODEL[ds.task]
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if penalty not in ("l1", "l2") or (penalty == "l1" and model == "softmax"):
        raise ValueError(f"penalty must be 'l2' or 'l1' (l1: linear/logistic), got {penalty!r}")
    if (model == "linear") != (ds.task == "regression"):
        raise ValueError(f"model {model!r} does not fit the {ds.task} data set {ds.name!r}")
    say = progress or (lambda stage: None)
    seconds: dict[str, float] = {}
    dtype = jnp.zeros(()).dtype
    X = jnp.asarray(ds.X, dtype=dtype)
    y = jnp.asarray(ds.y) if model == "softmax" else jnp.asarray(ds.y, dtype=dtype)
    num_classes = int(np.max(ds.y)) + 1 if model == "softmax" else 1

    say("λ grid")
    lams = lambda_grid(ds.X, ds.y, model=model, num=num, min_ratio=min_ratio, penalty=penalty)
    lams = lams.astype(dtype)
    fit = _path_fit(model, penalty, num_classes)

    say(f"{folds}-fold cross-validation of {num} λ (compiles first)")
    start = time.perf_counter()
    key = jax.random.key(seed)
    cv = cross_validate(fit, LOSSES[model], X, y, lams, folds=folds, key=key, batched=True)
    val_error = None
    if model != "linear":
        errors = cross_validate(
            fit, _error_rate(model), X, y, lams, folds=folds, key=key, batched=True
        )
        val_error = errors.val_mean
    seconds["cross-validation"] = time.perf_counter() - start

    say("path on all the data")
    start = time.perf_counter()
    path = jax.tree.map(np.asarray, fit(lams, X, y))
    loo = gcv = None
    if model == "linear" and penalty == "l2":
        loo, gcv = (np.asarray(v) for v in closed_form.ridge_loo_gcv(X, y, lams))
    seconds["full path"] = time.perf_counter() - start
    m, n = ds.X.shape
    return PathReport(ds.name, model, penalty, m, n, cv, val_error, path, loo, gcv, seconds)
