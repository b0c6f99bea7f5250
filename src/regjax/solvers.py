r"""Pure, vmappable fit loops for regularized costs.

Every solver here takes λ as a (possibly traced) keyword, so ``jax.vmap`` over λ fits a
whole grid in one compiled computation, and a new grid reuses it (no recompilation).
The loops that stop on a tolerance are ``jax.lax.while_loop``\ s on
:math:`\max_j|\partial J/\partial\theta_j| \le` ``tol``; under ``vmap`` each λ stops
changing once it has converged (the batched loop runs until the last one has).

- :func:`gradient_descent`: full-batch :math:`\theta \leftarrow \theta - \alpha\nabla J`.
- :func:`sgd`: minibatch SGD with the penalty on the full-data scale (see
  :func:`minibatch_cost`).
- :func:`optax_fit`: any Optax optimizer, including ``optax.lbfgs``.

Whole grids of the built-in models are :mod:`regjax.paths`. A fit loop with a tolerance
that stops at ``max_steps`` before meeting it warns (eager calls) with a
:class:`ConvergenceWarning`; ``return_info=True`` also returns its :class:`FitInfo`.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from regjax import _checks
from regjax._typing import ArrayLike, Cost, Lam, Params, ScalarOrSchedule

__all__ = [
    "ConvergenceWarning",
    "FitInfo",
    "gradient_descent",
    "minibatch_cost",
    "optax_fit",
    "sgd",
]


class FitInfo(NamedTuple):
    """Diagnostics of a fit loop.

    Attributes:
      steps: optimizer steps taken.
      grad_max: :math:`\\max_j|\\partial J/\\partial\\theta_j|` at the returned parameters.
      converged: ``grad_max <= tol``.
    """

    steps: jax.Array
    grad_max: jax.Array
    converged: jax.Array


def _grad_max(grads: Params) -> jax.Array:
    return jnp.max(jnp.stack([jnp.max(jnp.abs(g)) for g in jax.tree.leaves(grads)]))


def _lr(learning_rate: ScalarOrSchedule, step: jax.Array) -> ArrayLike:
    return learning_rate(step) if callable(learning_rate) else learning_rate


def _step(params: Params, grads: Params, lr: ArrayLike) -> Params:
    return jax.tree.map(lambda p, g: p - jnp.asarray(lr, dtype=p.dtype) * g, params, grads)


class ConvergenceWarning(UserWarning):
    """A solver stopped before meeting its tolerance, diverged (NaN or inf), or was
    given a problem with no finite minimizer; the message names the λ."""


def _check_loop(max_steps: int, tol: ArrayLike) -> None:
    _checks.check_int(max_steps, "max_steps", low=0)
    _checks.check_tol(tol, allow_zero=True)


def _finish(
    solver: str, params: Params, info: FitInfo, tol: ArrayLike, lam: Lam, return_info: bool
) -> Any:
    """Warn (eagerly) when a fit with a tolerance did not meet it; the fit's result."""
    tol_ = float(np.asarray(tol)) if _checks.is_concrete(tol) else 0.0
    if _checks.is_concrete((info, lam)) and tol_ > 0 and not bool(info.converged):
        lam_ = jax.tree.map(lambda v: np.asarray(v).tolist(), lam)
        warnings.warn(
            f"{solver}: λ = {lam_} stopped after {int(info.steps)} steps "
            f"at max|∇J| = {float(info.grad_max):.2e} > tol = {tol_:g} "
            "(raise max_steps or the learning rate)",
            ConvergenceWarning,
            stacklevel=3,
        )
    return (params, info) if return_info else params


def gradient_descent(
    cost: Cost,
    params0: Params,
    *args: Any,
    lam: Lam,
    learning_rate: ScalarOrSchedule,
    max_steps: int = 1000,
    tol: float = 0.0,
    return_info: bool = False,
) -> Any:
    r"""Full-batch gradient descent :math:`\theta_{t+1} = \theta_t - \alpha_t\nabla J(\theta_t)`.

    Runs until :math:`\max_j|\nabla_j J| \le` ``tol`` or ``max_steps`` steps (``tol=0``:
    always ``max_steps``), in a ``jax.lax.while_loop``.

    Args:
      cost: ``cost(params, *args, lam) -> scalar``, e.g. :func:`regjax.costs.logistic_regression`.
      params0: starting parameters (a pytree).
      *args: the data, passed to ``cost`` (e.g. ``X, y``).
      lam: λ (may be traced; ``vmap`` over it fits a grid).
      learning_rate: α, a scalar or a schedule ``step -> α``.
      max_steps: most steps.
      tol: gradient tolerance (max-abs).
      return_info: also return a :class:`FitInfo`.

    Returns:
      The fitted parameters, or ``(params, FitInfo)``.

    Example:
      >>> X, y = jnp.array([[0.0], [1.0], [2.0]]), jnp.array([1.0, 3.0, 5.0])
      >>> p0 = {"w": jnp.zeros(1), "b": jnp.zeros(())}
      >>> p = gradient_descent(rj.costs.linear_regression, p0, X, y, lam=0.0,
      ...                      learning_rate=0.5, max_steps=500, tol=1e-6)
      >>> round(float(p["w"][0]), 3), round(float(p["b"]), 3)
      (2.0, 1.0)
    """
    _check_loop(max_steps, tol)
    grad_fn = jax.grad(lambda p: cost(p, *args, lam))

    def cond(state: tuple) -> jax.Array:
        step, _, _, gmax = state
        return (step < max_steps) & (gmax > tol)

    def body(state: tuple) -> tuple:
        step, params, grads, _ = state
        params = _step(params, grads, _lr(learning_rate, step))
        grads = grad_fn(params)
        return step + 1, params, grads, _grad_max(grads)

    grads0 = grad_fn(params0)
    init = (jnp.zeros((), jnp.int32), params0, grads0, _grad_max(grads0))
    steps, params, _, gmax = jax.lax.while_loop(cond, body, init)
    return _finish("gradient_descent", params, FitInfo(steps, gmax, gmax <= tol), tol, lam,
                   return_info)  # fmt: skip


def minibatch_cost(cost: Cost, params: Params, *batch: Any, lam: Lam, m: int) -> jax.Array:
    r"""The cost of one minibatch, with the penalty on the full training set's scale.

    A library cost evaluated on a batch of b rows would put λ/(2b)‖w‖² on it; the
    minibatch objective of the library's convention is instead

    .. math::

        J_B(\theta) = \frac1b\sum_{i\in B}\ell_i(\theta) + \frac{\lambda}{2m}\lVert w\rVert^2,

    with m the full training-set size, which is ``cost(params, *batch, λ·b/m)``
    for any cost in the per-example convention (all of :mod:`regjax.costs`). The
    penalty is added once per step, so :math:`\mathbb E_B\nabla J_B = \nabla J`; for the
    b-sized batches of a partition of the m examples the mean of the :math:`\nabla J_B`
    is exactly :math:`\nabla J`.

    Args:
      cost: ``cost(params, *data, lam)`` in the per-example convention.
      params: the parameters.
      *batch: the batch's data (leading axis b).
      lam: the full-data λ.
      m: the full training-set size.

    Returns:
      :math:`J_B(\theta)`, a scalar.

    Example:
      >>> p = {"w": jnp.array([2.0]), "b": jnp.zeros(())}
      >>> Xb, yb = jnp.array([[0.0]]), jnp.array([0.0])   # zero loss: only the penalty
      >>> float(minibatch_cost(rj.costs.linear_regression, p, Xb, yb, lam=1.0, m=4))
      0.5
    """
    b = jax.tree.leaves(batch)[0].shape[0]
    return cost(params, *batch, lam * (b / m))


def sgd(
    cost: Cost,
    params0: Params,
    *data: Any,
    lam: Lam,
    learning_rate: ScalarOrSchedule,
    batch_size: int,
    epochs: int,
    key: jax.Array,
    return_info: bool = False,
) -> Any:
    r"""Minibatch SGD, :math:`\theta \leftarrow \theta - \alpha\nabla J_B` (:func:`minibatch_cost`).

    Each epoch shuffles the m examples and walks ⌊m/b⌋ batches of b rows (the few left
    over are dropped that epoch; another permutation includes them the next). Each
    step's objective is the batch's mean loss plus λ/(2m)‖w‖², m the full size, so the
    expected step is a full-batch gradient step. SGD's gradient is noisy, so it runs
    a fixed number of epochs rather than to a tolerance.

    Args:
      cost: ``cost(params, *data, lam)`` in the per-example convention.
      params0: starting parameters.
      *data: arrays with a leading axis of m examples (e.g. ``X, y``).
      lam: λ (may be traced).
      learning_rate: α, a scalar or a schedule ``step -> α``.
      batch_size: b, 1 ≤ b ≤ m.
      epochs: passes over the data.
      key: ``jax.random`` key for the shuffles.
      return_info: also return a :class:`FitInfo` (full gradient at the end).

    Returns:
      The parameters, or ``(params, FitInfo)``.

    Example:
      >>> X, y = jnp.array([[0.0], [1.0], [2.0], [3.0]]), jnp.array([1.0, 3.0, 5.0, 7.0])
      >>> p0 = {"w": jnp.zeros(1), "b": jnp.zeros(())}
      >>> p = sgd(rj.costs.linear_regression, p0, X, y, lam=0.0, learning_rate=0.1,
      ...         batch_size=2, epochs=300, key=jax.random.key(0))
      >>> round(float(p["w"][0]), 2)
      2.0
    """
    m = _checks.same_rows(data)
    _checks.check_int(batch_size, "batch_size", low=1, high=m)
    _checks.check_int(epochs, "epochs", low=0)
    per_epoch = m // batch_size
    grad_fn = jax.grad(lambda p, *batch: minibatch_cost(cost, p, *batch, lam=lam, m=m))

    def batch_step(carry: tuple, idx: jax.Array) -> tuple:
        params, step = carry
        batch = jax.tree.map(lambda a: jnp.asarray(a)[idx], data)
        params = _step(params, grad_fn(params, *batch), _lr(learning_rate, step))
        return (params, step + 1), None

    def epoch(carry: tuple, epoch_key: jax.Array) -> tuple:
        order = jax.random.permutation(epoch_key, m)[: per_epoch * batch_size]
        return jax.lax.scan(batch_step, carry, order.reshape(per_epoch, batch_size))[0], None

    init = (params0, jnp.zeros((), jnp.int32))
    (params, steps), _ = jax.lax.scan(epoch, init, jax.random.split(key, epochs))
    if return_info:
        gmax = _grad_max(jax.grad(lambda p: cost(p, *data, lam))(params))
        return params, FitInfo(steps, gmax, jnp.zeros((), bool))
    return params


def _stored(state: optax.OptState, name: str) -> Any:
    try:
        return optax.tree.get(state, name)
    except (KeyError, ValueError):
        return None


def optax_fit(
    cost: Cost,
    optimizer: optax.GradientTransformation,
    params0: Params,
    *args: Any,
    lam: Lam,
    max_steps: int = 1000,
    tol: float = 0.0,
    return_info: bool = False,
) -> Any:
    r"""Minimize ``cost(params, *args, lam)`` with any Optax optimizer.

    The loop calls ``optimizer.update(grad, state, params, value=J, grad=∇J,
    value_fn=J)``, which line-search optimizers such as ``optax.lbfgs`` need (others
    ignore the extra arguments); where the optimizer stores the value and gradient at
    the new point (Optax's line searches do) they are reused, not recomputed. Stops when
    :math:`\max_j|\nabla_j J| \le` ``tol`` or after ``max_steps``.

    Args:
      cost: ``cost(params, *args, lam) -> scalar``.
      optimizer: an ``optax.GradientTransformation`` (e.g. ``optax.adam(1e-2)``,
        ``optax.lbfgs()``, or a chain with :mod:`regjax.transforms`).
      params0: starting parameters.
      *args: the data.
      lam: λ (may be traced).
      max_steps: most steps.
      tol: gradient tolerance (max-abs).
      return_info: also return a :class:`FitInfo`.

    Returns:
      The parameters, or ``(params, FitInfo)``.

    Example:
      >>> import optax
      >>> X, y = jnp.array([[0.0], [1.0], [2.0]]), jnp.array([1.0, 3.0, 5.0])
      >>> p0 = {"w": jnp.zeros(1), "b": jnp.zeros(())}
      >>> p = optax_fit(rj.costs.linear_regression, optax.lbfgs(), p0, X, y, lam=0.0,
      ...               max_steps=50, tol=1e-5)
      >>> round(float(p["w"][0]), 3), round(float(p["b"]), 3)
      (2.0, 1.0)
    """
    _check_loop(max_steps, tol)
    opt = optax.with_extra_args_support(optimizer)

    def fn(p: Params) -> jax.Array:
        return cost(p, *args, lam)

    value_and_grad = jax.value_and_grad(fn)
    state0 = opt.init(params0)
    reuse = _stored(state0, "value") is not None and _stored(state0, "grad") is not None

    def cond(carry: tuple) -> jax.Array:
        step, *_, gmax = carry
        return (step < max_steps) & (gmax > tol)

    def body(carry: tuple) -> tuple:
        step, params, state, value, grads, _ = carry
        updates, state = opt.update(grads, state, params, value=value, grad=grads, value_fn=fn)
        params = optax.apply_updates(params, updates)
        if reuse:
            value, grads = _stored(state, "value"), _stored(state, "grad")
        else:
            value, grads = value_and_grad(params)
        return step + 1, params, state, value, grads, _grad_max(grads)

    value0, grads0 = value_and_grad(params0)
    init = (jnp.zeros((), jnp.int32), params0, state0, value0, grads0, _grad_max(grads0))
    steps, params, *_, gmax = jax.lax.while_loop(cond, body, init)
    return _finish("optax_fit", params, FitInfo(steps, gmax, gmax <= tol), tol, lam, return_info)
