r"""Gradients of a validation loss with respect to λ, by implicit differentiation.

Let :math:`\theta^*(\lambda)` minimize the training cost :math:`J(\theta, \lambda)` and
:math:`V(\theta)` be a validation loss. At the minimizer :math:`\nabla_\theta
J(\theta^*, \lambda) = 0`; differentiating that identity in λ (the implicit function
theorem) gives :math:`H\,\partial\theta^*/\partial\lambda = -\partial_\lambda\nabla_\theta
J` with :math:`H = \nabla^2_\theta J(\theta^*, \lambda)`, so

.. math::

    \frac{dV}{d\lambda} = -\,\partial_\lambda\big\langle \nabla_\theta J(\theta^*,
        \lambda),\ u\big\rangle, \qquad H u = \nabla_\theta V(\theta^*).

The solver that found θ* is never unrolled: only θ* is used. The linear system is solved
by conjugate gradients on Hessian-vector products (forward-over-reverse ``jax.jvp`` of
``jax.grad``), so nothing of size (number of parameters)² is formed. λ may be a scalar
or a pytree of per-group λ (a prefix of the parameters, as in
:func:`regjax.penalties.l2`); the derivative has λ's structure.

References:
  Y. Bengio, "Gradient-based optimization of hyperparameters", Neural Computation 12
  (2000); F. Pedregosa, "Hyperparameter optimization with approximate gradient", ICML
  2016; M. Blondel et al., "Efficient and modular implicit differentiation", NeurIPS
  2022 (jaxopt).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from jax.typing import ArrayLike

from regjax import _checks, losses, models, paths, selection, solvers
from regjax._cg import cg
from regjax._tuning import Evaluation, HypergradWarning, Objective, Tuned, TuneStep, tune
from regjax._typing import Cost, Lam, Params

__all__ = [
    "Evaluation",
    "HypergradWarning",
    "TuneStep",
    "Tuned",
    "cross_validation",
    "holdout",
    "path_cv",
    "tune",
    "val_loss_and_grad",
]


def _tree_dot(u: Params, v: Params) -> jax.Array:
    return sum((jnp.vdot(a, b) for a, b in zip(jax.tree.leaves(u), jax.tree.leaves(v))),
               start=jnp.zeros(()))  # fmt: skip


def val_loss_and_grad(
    cost: Cost,
    params_star: Params,
    lam: Lam,
    train_args: tuple[Any, ...],
    val_cost: Callable[..., jax.Array],
    val_args: tuple[Any, ...],
    *,
    tol: float | None = None,
    max_iter: int | None = None,
) -> tuple[jax.Array, Lam]:
    r"""The validation loss at θ* and its derivative with respect to λ.

    Args:
      cost: the training cost ``cost(params, *train_args, lam)`` (any of
        :mod:`regjax.costs`, or one built with :func:`regjax.costs.regularized`).
      params_star: a minimizer of ``cost(·, *train_args, lam)`` (from any solver; the
        derivative is as accurate as θ* is stationary).
      lam: λ ≥ 0, a scalar or a pytree of per-group λ.
      train_args: the training data, e.g. ``(X, y)``.
      val_cost: ``val_cost(params, *val_args) -> scalar``.
      val_args: the validation data.
      tol: CG stops when ‖Hu − ∇V‖ ≤ tol·‖∇V‖ (default 1e-10 in float64, 1e-5 in
        float32, whose round-off CG cannot go below).
      max_iter: most CG iterations (default: twice the number of parameters, plus 10;
        in exact arithmetic CG needs at most their number).

    Returns:
      ``(V(θ*), dV/dλ)``, the derivative with λ's structure. An eager call warns
      (:class:`HypergradWarning`) if CG did not reach ``tol`` (H not positive definite,
      or too few iterations).

    Example:
      >>> X = jnp.array([[0.0], [1.0], [2.0], [3.0]]); y = jnp.array([0.1, 0.9, 2.2, 2.8])
      >>> theta = rj.closed_form.ridge_solution(X, y, 1.0)
      >>> mse = lambda p, X, y: jnp.mean((rj.models.linear(p, X) - y) ** 2)
      >>> v, dv = val_loss_and_grad(rj.costs.linear_regression, theta, 1.0, (X, y),
      ...                           mse, (X, y))
      >>> bool(dv > 0)     # more shrinkage worsens the fit to the training data itself
      True
    """
    _checks.check_lam(lam)
    flat, _ = ravel_pytree(params_star)
    dtype = flat.dtype if jnp.issubdtype(flat.dtype, jnp.floating) else jnp.zeros(()).dtype
    lam = jax.tree.map(lambda v: jnp.asarray(v, dtype), lam)
    max_iter = 2 * flat.size + 10 if max_iter is None else max_iter
    tol = (1e-10 if dtype == jnp.float64 else 1e-5) if tol is None else tol
    _checks.check_int(max_iter, "max_iter", low=1)
    _checks.check_tol(tol)

    def grad_theta(p: Params, lam: Lam) -> Params:
        return jax.grad(cost)(p, *train_args, lam)

    def hvp(v: Params) -> Params:
        return jax.jvp(lambda p: grad_theta(p, lam), (params_star,), (v,))[1]

    value, dval = jax.value_and_grad(val_cost)(params_star, *val_args)
    target = tol * jnp.sqrt(_tree_dot(dval, dval))
    solve = cg(hvp, dval, dot=_tree_dot, target=target, max_iter=max_iter)
    u = jax.lax.stop_gradient(solve.x)
    dlam = jax.grad(lambda lam: -_tree_dot(grad_theta(params_star, lam), u))(lam)
    if _checks.is_concrete(solve.converged) and not bool(solve.converged):
        warnings.warn(
            f"val_loss_and_grad: CG reached a relative residual of "
            f"{float(np.asarray(solve.residual / jnp.maximum(target / tol, 1e-300))):.1e}, "
            f"not {tol:g}, in {int(solve.iterations)} iterations: is θ* a minimizer and "
            "the cost strictly convex there (λ > 0)?",
            HypergradWarning,
            stacklevel=2,
        )
    return value, dlam


def _lbfgs(cost: Cost, dtype: Any) -> Callable[..., tuple[Params, jax.Array]]:
    """The default fit of :func:`cross_validation`: L-BFGS to max|∇J| ≤ 1e-10 (float64)
    or 1e-5 (float32), from the given start."""
    tol = 1e-10 if dtype == jnp.float64 else 1e-5

    @jax.jit
    def fit(params: Params, lam: Lam, *args: Any) -> tuple[Params, jax.Array]:
        with jax.numpy_dtype_promotion("standard"):  # optax.lbfgs mixes int32 and int64
            params, info = solvers.optax_fit(cost, optax.lbfgs(), params, *args, lam=lam,
                                             max_steps=5000, tol=tol, return_info=True)  # fmt: skip
        return params, info.converged

    return fit


def cross_validation(
    cost: Cost,
    params0: Params,
    folds: Sequence[tuple[tuple[Any, ...], tuple[Any, ...]]],
    val_cost: Callable[..., jax.Array],
    *,
    fit: Callable[..., Params] | None = None,
) -> Objective:
    r"""The objective V(λ) = mean over folds k of ``val_cost(θ_k*(λ), *val_args_k)``.

    θ_k* minimizes ``cost(θ, *train_args_k, λ)``; its hypergradient is
    :func:`val_loss_and_grad`'s (implicit, CG on Hessian-vector products), averaged.

    Args:
      cost: the training cost ``cost(params, *train_args, lam)``.
      params0: where the first solve of every fold starts.
      folds: ``[(train_args, val_args), ...]``, e.g. ``[((X_tr, y_tr), (X_va, y_va))]``.
      val_cost: ``val_cost(params, *val_args) -> scalar``.
      fit: ``fit(params_start, lam, *train_args) -> params``, a minimizer to a tight
        tolerance (the hypergradient is as accurate as θ* is stationary); default
        L-BFGS (``optax.lbfgs``) to max|∇J| ≤ 1e-10 in float64.

    Returns:
      An objective for :func:`tune`.
    """
    if not folds:
        raise ValueError("folds must hold at least one (train_args, val_args) pair")
    for k, fold in enumerate(folds):
        if not (isinstance(fold, tuple | list) and len(fold) == 2):
            raise TypeError(f"folds[{k}] must be a pair (train_args, val_args), got {fold!r}")
    _checks.check_float_params(params0)
    default = _lbfgs(cost, ravel_pytree(params0)[0].dtype) if fit is None else None

    def solve(start: Params, lam: Lam, *args: Any) -> tuple[Params, Any]:
        if default is not None:
            return default(start, lam, *args)
        assert fit is not None
        return fit(start, lam, *args), True

    def objective(lam: Lam, warm: Any) -> Evaluation:
        starts = warm or [params0] * len(folds)
        values, grads, solutions, ok = [], [], [], True
        for (train_args, val_args), start in zip(folds, starts):
            params, converged = solve(start, lam, *train_args)
            ok = ok and bool(converged)
            value, dlam = val_loss_and_grad(cost, params, lam, tuple(train_args), val_cost,
                                            tuple(val_args))  # fmt: skip
            values.append(float(value))
            grads.append(dlam)
            solutions.append(params)
        grad = jax.tree.map(lambda *g: sum(g) / len(g), *grads)
        return Evaluation(float(np.mean(values)), grad, solutions, len(folds), ok)

    return objective


def holdout(
    cost: Cost,
    params0: Params,
    train_args: tuple[Any, ...],
    val_cost: Callable[..., jax.Array],
    val_args: tuple[Any, ...],
    *,
    fit: Callable[..., Params] | None = None,
) -> Objective:
    """The objective V(λ) = ``val_cost(θ*(λ), *val_args)`` on one hold-out set:
    :func:`cross_validation` with the single fold ``(train_args, val_args)``."""
    return cross_validation(cost, params0, [(train_args, val_args)], val_cost, fit=fit)


# the path solver and mean data loss (the validation score) of each built-in model
MODELS: dict[str, tuple[Callable[..., paths.Path], Callable[..., jax.Array]]] = {
    "linear": (paths.linear, losses.squared_error),
    "logistic": (paths.logistic, losses.binary_cross_entropy),
    "softmax": (paths.softmax, losses.softmax_cross_entropy),
}


def path_cv(
    model: str,
    X: ArrayLike,
    y: ArrayLike,
    *,
    folds: int = 5,
    key: jax.Array,
    l1_ratio: float = 0.0,
    tol: float = 1e-8,
) -> Objective:
    r"""The K-fold CV loss of a built-in model as an objective of one scalar λ.

    V(λ) is the mean over folds of the validation set's mean data loss (½ squared
    error, binary or softmax cross-entropy) at the fold's path solution
    (:mod:`regjax.paths`, penalty ρ = ``l1_ratio``), with the folds of
    :func:`regjax.cross_validate` for the same ``key``. Every fold is solved in one
    ``vmap``-ped program, warm-started from the previous solutions, and dV/dλ is
    ``jax.grad`` through the path solver: the implicit derivative (on the support of w
    for ρ > 0), never an unrolled solver.

    Args:
      model: ``"linear"``, ``"logistic"`` or ``"softmax"``.
      X: inputs (m, n).
      y: targets (m,): values, labels in {0, 1}, or classes in [0, K).
      folds: K ≥ 2.
      key: the fold shuffle (as for :func:`regjax.cross_validate`).
      l1_ratio: ρ of the penalty (0: L2, the default; ``"linear"`` needs ρ > 0 or
        uses the exact ridge path).
      tol: the path solver's tolerance.

    Returns:
      An objective for :func:`tune`.
    """
    _checks.check_choice(model, "model", MODELS)
    solver, data_loss = MODELS[model]
    X, y = _checks.data(X, y, ndims=(1,))
    options: dict[str, Any] = {"l1_ratio": l1_ratio, "tol": tol}
    if model == "softmax":
        options["num_classes"] = int(np.max(np.asarray(y))) + 1
    train_idx, val_idx = selection.fold_rows(key, X.shape[0], folds)
    X = X.astype(jax.dtypes.canonicalize_dtype(jnp.float64))
    y = y if model == "softmax" else y.astype(X.dtype)

    def fold(lam: jax.Array, tr: jax.Array, va: jax.Array, init: Any) -> tuple[jax.Array, Any]:
        path = solver(
            X[tr], y[tr], lam[None], **options, **({} if init is None else {"init": init})
        )
        params = jax.tree.map(lambda a: a[0], path.params)
        return data_loss(models.linear(params, X[va]), y[va]), (path.params, path.converged)

    def mean_loss(lam: jax.Array, init: Any) -> tuple[jax.Array, Any]:
        per_fold = jax.vmap(fold, in_axes=(None, 0, 0, 0 if init is not None else None))
        values, aux = per_fold(lam, jnp.asarray(train_idx), jnp.asarray(val_idx), init)
        return jnp.mean(values), aux

    program = jax.jit(jax.value_and_grad(mean_loss, has_aux=True))

    def objective(lam: Lam, warm: Any) -> Evaluation:
        (value, (solutions, converged)), grad = program(jnp.asarray(lam, X.dtype), warm)
        return Evaluation(float(value), grad, solutions, len(train_idx),
                          bool(np.all(np.asarray(converged))))  # fmt: skip

    return objective
