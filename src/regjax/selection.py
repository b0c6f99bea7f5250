r"""Choosing λ: grids, sweeps, cross-validation, selection rules, device sharding.

A grid of G values of λ is one computation: ``jit(vmap(fit))`` over λ, with the λ
axis split over a ``jax.sharding.Mesh`` when there are several devices (and several
processes under ``jax.distributed.initialize``). λ is a traced value, so a new grid of
the same length never recompiles.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from regjax import _checks, _sharding, paths, solvers
from regjax._format import number, table
from regjax._typing import Data, Devices, Fit, PyTree, Score

__all__ = [
    "CVResult",
    "DivergedLanesWarning",
    "cross_validate",
    "finite_lanes",
    "fold_rows",
    "lambda_grid",
    "lambda_max",
    "one_standard_error",
    "sweep",
]


MODELS = ("linear", "logistic", "softmax")


class DivergedLanesWarning(solvers.ConvergenceWarning):
    """Some λ lanes of a sweep or a cross-validation produced NaN or inf (the other
    lanes are unaffected); a :class:`regjax.solvers.ConvergenceWarning`, naming the λ."""


def lambda_max(
    X: ArrayLike, y: ArrayLike, *, model: str = "logistic", penalty: str = "l1"
) -> float:
    r"""The smallest λ (library convention) at which every penalized weight is zero (L1).

    At w = 0 with the intercept at its optimum (b = ȳ for ``linear``,
    b = logit(ȳ) for ``logistic``, the log class frequencies for ``softmax``) the data
    gradient is :math:`g = \frac{1}{m}X^\top(h_0 - y)` (y one-hot for softmax); the L1
    penalty λ/m‖w‖₁ keeps w = 0 while :math:`\lambda/m \ge \lVert g\rVert_\infty`, so
    :math:`\lambda_{\max} = \lVert X^\top(h_0 - y)\rVert_\infty`. For L2 no finite λ
    zeroes the weights; the glmnet start is used, λ_max(L1)/10⁻³ (glmnet's α floored at
    0.001).

    Args:
      X: inputs, shape (m, n).
      y: targets (m,): real (``linear``), {0, 1} (``logistic``), classes (``softmax``).
      model: ``"linear"``, ``"logistic"`` or ``"softmax"``.
      penalty: ``"l1"`` or ``"l2"``.

    Returns:
      λ_max, a float.

    Example:
      >>> X = np.array([[1.0], [-1.0]]); y = np.array([1.0, 0.0])
      >>> lambda_max(X, y)   # |Xᵀ(0.5 − y)| = |−0.5 − 0.5|
      1.0
    """
    _checks.check_choice(model, "model", MODELS)
    _checks.check_choice(penalty, "penalty", ("l1", "l2"))
    X_, y_ = _checks.data(X, y, ndims=(1,))  # finite X and y, one y per row
    Xn, yn = np.asarray(X_, dtype=np.float64), np.asarray(y_)
    if model == "logistic":
        _checks.check_binary(yn)
    if model == "softmax":
        if not np.issubdtype(yn.dtype, np.integer) or yn.min() < 0:
            raise ValueError("y must hold integer classes >= 0 for model='softmax'")
    if np.all(yn == yn[0]):
        raise ValueError(f"y is constant (every entry is {yn[0]}): w = 0 at every λ")
    if model == "softmax":
        yn = np.eye(int(yn.max()) + 1)[yn]
    yn = yn.astype(np.float64)
    h0 = np.broadcast_to(yn.mean(axis=0), yn.shape)  # σ(logit ȳ) = ȳ; softmax(log p̄) = p̄
    value = float(np.max(np.abs(Xn.T @ (h0 - yn))))
    if value == 0.0:
        raise ValueError("X'(ȳ − y) is zero: every λ gives w = 0 (is y constant?)")
    return value if penalty == "l1" else value / 1e-3


def lambda_grid(
    X: ArrayLike,
    y: ArrayLike,
    *,
    model: str = "logistic",
    num: int = 50,
    min_ratio: float = 1e-4,
    penalty: str = "l2",
) -> jax.Array:
    r"""A descending, log-spaced λ grid from :func:`lambda_max` to λ_max·min_ratio.

    .. math::

        \lambda_k = \lambda_{\max}\cdot r^{k/(\mathrm{num}-1)}, \qquad k = 0..\mathrm{num}-1.

    Args:
      X: inputs, shape (m, n) (glmnet standardizes X first; do so if you compare).
      y: targets, shape (m,) (labels in {0, 1} for ``logistic``).
      model: ``"logistic"``, ``"linear"`` or ``"softmax"``.
      num: number of λ values, ≥ 2.
      min_ratio: r, in (0, 1).
      penalty: ``"l2"`` (glmnet's ridge start) or ``"l1"`` (exact λ_max).

    Returns:
      λ values, shape (num,), descending.

    Example:
      >>> X = np.array([[1.0], [-1.0]]); y = np.array([1.0, 0.0])
      >>> [round(float(v), 6) for v in lambda_grid(X, y, num=3, min_ratio=1e-2, penalty="l1")]
      [1.0, 0.1, 0.01]
    """
    _checks.check_int(num, "num", low=2)
    _checks.check_fraction(min_ratio, "min_ratio", open_=True)
    top = lambda_max(X, y, model=model, penalty=penalty)
    return jnp.asarray(top * np.logspace(0.0, np.log10(min_ratio), num))


def finite_lanes(result: PyTree) -> np.ndarray:
    """Which λ lanes of a sweep result hold only finite values, shape (G,).

    Example:
      >>> finite_lanes({"w": np.array([[1.0], [np.nan]])}).tolist()
      [True, False]
    """
    return np.asarray(_checks.finite_lanes(result))


def sweep(
    fit: Fit, lams: ArrayLike, *args: Data, devices: Devices = None, batch_size: int | None = None
) -> PyTree:
    r"""Solve for every λ at once: ``jit(vmap(fit))(lams, *args)``, sharded over devices.

    With D > 1 devices the grid is padded to a multiple of D (repeating its last value)
    and split along a one-axis ``Mesh`` named ``"lam"``; ``args`` are replicated. Under
    ``jax.distributed.initialize`` every process passes the same ``lams`` and ``args``,
    each computes its devices' slice, and the result is gathered on every process
    (``multihost_utils.process_allgather``). A new grid of the same length never
    retraces.

    A lane whose result holds NaN or inf is reported with a :class:`DivergedLanesWarning`;
    lanes are independent under ``vmap``, so the others are unaffected.

    Args:
      fit: ``fit(lam, *args) -> pytree``, pure and traceable; pass the same function
        object again to reuse the compiled sweep.
      lams: λ grid, shape (G,).
      *args: the rest of ``fit``'s arguments (data, initial parameters…), shared by
        every λ.
      devices: ``None`` (all devices), an int (the first k devices), a platform name
        (``"cpu"``, ``"gpu"``: that platform's devices), a device or a list of devices.
      batch_size: how many λ each device solves at once: k at a time under ``vmap``,
        the batches one after another in one program (``lax.map(..., batch_size=k)``;
        k = 1 loops over λ, k ≥ G is the plain ``vmap``). ``None`` chooses: every λ,
        except on a CPU when batching makes ``fit``'s matrix products (≥ 1e4 FLOPs per
        λ) batched ones, as a network trained at each λ does; XLA runs those slower on
        a CPU than one λ at a time, so there k = 1 (``bench/bench_mlp_sweep.py``).

    Returns:
      ``fit``'s output with a leading axis of length G.

    Example:
      >>> fit = lambda lam, X, y: rj.closed_form.ridge_solution(X, y, lam)
      >>> X = jnp.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0]
      >>> sweep(fit, jnp.array([0.0, 2.0]), X, y)["w"].round(3)
      Array([[2.],
             [1.]], dtype=float32)
    """
    if not callable(fit):
        raise TypeError(f"fit must be a callable fit(lam, *args), got {fit!r}")
    lams = _checks.as_grid(lams)
    batch_size = _sharding.check_batch_size(batch_size)
    chosen = _sharding.resolve_devices(devices)
    run = _sharding.compiled(fit, len(args), chosen, batch_size)
    if len(chosen) == 1 and jax.process_count() == 1:
        if lams.devices() != {chosen[0]}:  # no copy when already there
            lams = jax.device_put(lams, chosen[0])
        out, finite = run(lams, *args)
    else:
        out, finite = _sharding.sharded(run, lams, args, chosen)
    ok = np.asarray(finite)  # computed inside the program: one small transfer
    if not ok.all():
        bad = np.asarray(lams)[~ok]
        warnings.warn(
            f"{int((~ok).sum())} of {len(ok)} λ lanes diverged (NaN/inf): λ = {bad.tolist()}",
            DivergedLanesWarning,
            stacklevel=2,
        )
    return out


class CVResult(NamedTuple):
    """Cross-validation over a λ grid (scores are losses: lower is better).

    Attributes:
      lams: the grid, shape (G,).
      train: mean training score per λ, shape (G,).
      val_mean: mean validation score per λ over the folds, shape (G,).
      val_std: standard deviation of the validation score over the folds (ddof = 1).
      best_lam: the λ of the smallest ``val_mean``.
      lam_1se: the largest λ whose ``val_mean`` is within one standard error
        (``val_std/√folds``) of the best.
      val: every fold's validation score, shape (folds, G).
    """

    lams: np.ndarray
    train: np.ndarray
    val_mean: np.ndarray
    val_std: np.ndarray
    best_lam: float
    lam_1se: float
    val: np.ndarray

    def __str__(self) -> str:
        """One row per λ (train, validation mean ± std over the folds), the best λ and
        the one-standard-error λ marked (``print(result)``)."""
        marks = {self.best_lam: "best", self.lam_1se: "1se"}
        if self.best_lam == self.lam_1se:
            marks = {self.best_lam: "best, 1se"}
        rows = [
            [number(float(lam)), f"{t:.6g}", f"{v:.6g} ± {s:.2g}", marks.get(float(lam), "")]
            for lam, t, v, s in zip(self.lams, self.train, self.val_mean, self.val_std)
        ]
        head = (
            f"CVResult: {self.val.shape[0]} folds, {len(self.lams)} λ; best λ = "
            f"{number(self.best_lam)}, one-standard-error λ = {number(self.lam_1se)}"
        )
        return f"{head}\n{table(['λ', 'train', 'validation', 'chosen'], rows)}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython and notebooks
        printer.text(str(self))


def one_standard_error(
    lams: ArrayLike, val_mean: ArrayLike, val_std: ArrayLike, folds: int
) -> tuple[float, float]:
    r"""(best λ, one-standard-error λ) from cross-validation scores (lower is better).

    best = argmin mean; λ_1se = the largest λ with mean ≤ mean(best) + std(best)/√folds
    (Breiman et al. 1984; Hastie, Tibshirani & Friedman, ESL §7.10). Non-finite scores
    never win.

    Example:
      >>> one_standard_error([1.0, 10.0, 100.0], [0.30, 0.31, 0.50], [0.04, 0.04, 0.04], 4)
      (1.0, 10.0)
    """
    lams = np.asarray(_checks.as_grid(lams), dtype=np.float64)
    _checks.check_int(folds, "folds", low=2)
    mean, std = np.asarray(val_mean, dtype=np.float64), np.asarray(val_std, dtype=np.float64)
    if mean.shape != lams.shape or std.shape != lams.shape:
        raise ValueError(f"val_mean and val_std must have the shape of lams {lams.shape}")
    mean = np.where(np.isfinite(mean), mean, np.inf)
    if not np.isfinite(mean).any():
        raise ValueError("every λ has a non-finite validation score")
    best = int(np.argmin(mean))
    if not np.isfinite(std[best]) or std[best] < 0:
        raise ValueError(f"val_std at the best λ = {lams[best]} must be finite and >= 0")
    threshold = mean[best] + std[best] / np.sqrt(folds)
    within = mean <= threshold
    return float(lams[best]), float(np.max(lams[within]))


_CVS: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()


def _fit_all(fit: Fit, batched: bool, lams: jax.Array, X: jax.Array, y: jax.Array) -> tuple:
    """Every λ's parameters, whether each converged, and whether each is finite, (G,)."""
    if batched:
        out = fit(lams, X, y)
    else:
        out = jax.vmap(fit, in_axes=(0, None, None))(lams, X, y)
    params = out.params if isinstance(out, paths.Path) else out
    finite = _checks.finite_lanes(params)
    return params, (out.converged if isinstance(out, paths.Path) else finite), finite


def _cv_program(fit: Fit, scores: tuple[Score, ...], batched: bool) -> Callable[..., Any]:
    """jit(vmap over folds) of: fit every λ, then every score on both parts."""

    def one_fold(lams: jax.Array, X: jax.Array, y: jax.Array, tr: jax.Array, va: jax.Array) -> Any:
        X_tr, y_tr, X_va, y_va = X[tr], y[tr], X[va], y[va]
        params, ok, finite = _fit_all(fit, batched, lams, X_tr, y_tr)

        def on(Xs: jax.Array, ys: jax.Array) -> jax.Array:  # (S, G)
            out = [jax.vmap(f, in_axes=(0, None, None))(params, Xs, ys) for f in scores]
            if any(v.shape != lams.shape for v in out):  # a score's (G,) under vmap
                raise ValueError(f"score must return a scalar, got {[v.shape[1:] for v in out]}")
            return jnp.stack(out)

        return on(X_tr, y_tr), on(X_va, y_va), ok, finite

    program = jax.jit(jax.vmap(one_fold, in_axes=(None, None, None, 0, 0)))
    try:
        _CVS.setdefault(fit, {})[(scores, batched)] = program
    except TypeError:
        pass
    return program


def fold_rows(key: jax.Array, m: int, folds: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows (F, m − ⌊m/F⌋), validation rows (F, ⌊m/F⌋)) of a shuffled split: the
    folds of :func:`cross_validate` (the m mod F rows left over always train)."""
    _checks.check_key(key)
    _checks.check_int(m, "m", low=2)
    _checks.check_int(folds, "folds", low=2, high=m)
    perm = np.asarray(jax.random.permutation(key, m))
    size = m // folds
    val_idx = perm[: folds * size].reshape(folds, size)
    leftover = perm[folds * size :]
    train_idx = np.stack(
        [np.concatenate([np.delete(val_idx, k, axis=0).ravel(), leftover]) for k in range(folds)]
    )
    return train_idx, val_idx


def _report(
    grid: np.ndarray, ok: np.ndarray, finite: np.ndarray, train: np.ndarray, val: np.ndarray
) -> None:
    """Warn naming each λ that diverged (NaN or inf parameters or scores in some fold:
    its mean score is NaN, never chosen) or, finite, did not converge in some fold."""
    diverged = ~np.all(finite, axis=0) | ~np.all(np.isfinite(np.concatenate([train, val])), (0, 1))
    stuck = ~np.all(ok, axis=0) & ~diverged
    for lanes, what, category in (
        (diverged, "diverged (NaN or inf parameters or scores) in some fold, so their mean "
         "score is NaN and never chosen", DivergedLanesWarning),
        (stuck, "did not converge in some fold", solvers.ConvergenceWarning),
    ):  # fmt: skip
        if lanes.any():
            message = f"{int(lanes.sum())} of {len(grid)} λ {what}: λ = {grid[lanes].tolist()}"
            warnings.warn(f"cross_validate: {message}", category, stacklevel=3)


def _summary(lams: np.ndarray, train: np.ndarray, val: np.ndarray) -> CVResult:
    folds = val.shape[0]
    with np.errstate(invalid="ignore"):  # an inf score (reported by _report) gives NaN
        val_mean, val_std = val.mean(axis=0), val.std(axis=0, ddof=1)
    best, lam_1se = one_standard_error(lams, val_mean, val_std, folds)
    return CVResult(lams, train.mean(axis=0), val_mean, val_std, best, lam_1se, val)


CVResults: TypeAlias = Any
"""What :func:`cross_validate` returns: a :class:`CVResult`, or for a dict of scores a
dict of them with the same keys (an alias: the type checker cannot tell which)."""


def cross_validate(
    fit: Fit,
    score: Score | Mapping[str, Score],
    X: ArrayLike,
    y: ArrayLike,
    lams: ArrayLike,
    *,
    folds: int = 5,
    key: jax.Array,
    batched: bool = False,
) -> CVResults:
    r"""K-fold cross-validation of a whole λ grid: folds × λ in one computation.

    The rows are shuffled with ``key`` and cut into ``folds`` validation blocks of
    ⌊m/folds⌋ rows (the m mod folds rows left over always stay in training, so every
    fold has the same shapes and one ``vmap`` covers them). Then, for each fold and
    each λ, ``params = fit(lam, X_train, y_train)`` and the scores
    ``score(params, X, y)`` on both parts. Several scores (a dict) share one fit of
    every fold × λ. A λ whose fit did not converge (a :class:`regjax.paths.Path` says
    so) or is not finite in some fold is named in a
    :class:`regjax.solvers.ConvergenceWarning`; its scores are kept as they are.

    Args:
      fit: ``fit(lam, X, y) -> params`` (or, with ``batched=True``,
        ``fit(lams, X, y)`` with a leading G axis, e.g. a path solver returning a
        :class:`regjax.paths.Path`).
      score: ``score(params, X, y) -> scalar`` loss, lower is better (e.g. the
        unregularized mean loss, or the error rate); or a dict of them.
      X: inputs, shape (m, n).
      y: targets, shape (m,) or (m, k).
      lams: λ grid, shape (G,).
      folds: K ≥ 2.
      key: ``jax.random`` key for the shuffle.
      batched: whether ``fit`` takes the whole grid at once.

    Returns:
      A :class:`CVResult`, or for a dict of scores a dict of them (same keys).

    Example:
      >>> X = jax.random.normal(jax.random.key(0), (40, 3)); y = X @ jnp.ones(3)
      >>> fit = lambda lam, X, y: rj.closed_form.ridge_solution(X, y, lam)
      >>> score = lambda p, X, y: jnp.mean((X @ p["w"] + p["b"] - y) ** 2)
      >>> cv = cross_validate(fit, score, X, y, jnp.array([0.01, 100.0]), key=jax.random.key(1))
      >>> round(cv.best_lam, 6)
      0.01
    """
    X, y = _checks.data(X, y)
    lams = _checks.as_grid(lams)
    named = dict(score) if isinstance(score, Mapping) else {"score": score}
    if not named or not all(callable(f) for f in named.values()):
        raise TypeError(f"score must be a callable or a dict of callables, got {score!r}")
    train_idx, val_idx = fold_rows(key, X.shape[0], folds)
    scores = tuple(named.values())
    program = _CVS.get(fit, {}).get((scores, batched)) or _cv_program(fit, scores, batched)
    train, val, ok, finite = program(lams, X, y, jnp.asarray(train_idx), jnp.asarray(val_idx))
    train, val = np.asarray(train, dtype=np.float64), np.asarray(val, dtype=np.float64)
    _report(np.asarray(lams), np.asarray(ok), np.asarray(finite), train, val)
    grid = np.asarray(lams)
    results = {name: _summary(grid, train[:, s], val[:, s]) for s, name in enumerate(named)}
    return results if isinstance(score, Mapping) else results["score"]
