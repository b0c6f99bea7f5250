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
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from regjax import _checks
from regjax._cg import cg
from regjax._typing import Cost, Lam, Params

__all__ = ["HypergradWarning", "val_loss_and_grad"]


class HypergradWarning(UserWarning):
    """The linear system of the implicit derivative was not solved to its tolerance."""


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
