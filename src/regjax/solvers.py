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
- :func:`early_stopping`: minibatches, any Optax optimizer, the best validation loss.

Whole grids of the built-in models are :mod:`regjax.paths`. A fit that diverges (NaN or
inf), or that has a tolerance and stops at ``max_steps`` before meeting it, warns (eager
calls) with a :class:`ConvergenceWarning`; ``return_info=True`` returns its :class:`FitInfo`.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from regjax import _checks
from regjax._typing import ArrayLike, Cost, Data, Fitted, Lam, Params, ScalarOrSchedule

__all__ = [
    "ConvergenceWarning",
    "EarlyStoppingInfo",
    "FitInfo",
    "early_stopping",
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


def _warn(solver: str, lam: Lam, message: str, stacklevel: int) -> None:
    lam_ = jax.tree.map(lambda v: np.asarray(v).tolist(), lam)
    warnings.warn(f"{solver}: λ = {lam_}: {message}", ConvergenceWarning, stacklevel=stacklevel)


def _finish(solver: str, params: Params, info: FitInfo, tol: ArrayLike, lam: Lam,
            return_info: bool, stacklevel: int = 4) -> Any:  # fmt: skip
    """Warn (eagerly) naming λ when a fit diverged (NaN or inf parameters) or, with a
    tolerance, did not meet it; the fit's result."""
    if not _checks.is_concrete((params, info, lam, tol)):
        pass
    elif not _checks.all_finite(params):
        _warn(solver, lam, f"diverged: NaN or inf parameters after {int(info.steps)} steps "
              "(lower the learning rate)", stacklevel)  # fmt: skip
    elif float(np.asarray(tol)) > 0 and not info.converged:
        _warn(solver, lam, f"stopped after {int(info.steps)} steps at max|∇J| = "
              f"{float(info.grad_max):.2e} > tol = {float(np.asarray(tol)):g} "
              "(raise max_steps or the learning rate)", stacklevel)  # fmt: skip
    return (params, info) if return_info else params


def gradient_descent(
    cost: Cost, params0: Params, *args: Data, lam: Lam, learning_rate: ScalarOrSchedule,
    max_steps: int = 1000, tol: float = 0.0, return_info: bool = False,
) -> Fitted:  # fmt: skip
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
    _checks.check_learning_rate(learning_rate)
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


def minibatch_cost(cost: Cost, params: Params, *batch: Data, lam: Lam, m: int) -> jax.Array:
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
    _checks.check_count(m, "m", "the full training-set size")
    b = _checks.same_rows(batch, "batch")
    if _checks.is_concrete(m) and b > m:
        raise ValueError(f"the batch has {b} rows, more than the training set's m = {m}")
    return cost(params, *batch, lam * (b / (float(m) if _checks.is_concrete(m) else m)))


def sgd(
    cost: Cost, params0: Params, *data: Data, lam: Lam, learning_rate: ScalarOrSchedule,
    batch_size: int, epochs: int, key: jax.Array, return_info: bool = False,
) -> Fitted:  # fmt: skip
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
    _checks.check_learning_rate(learning_rate)
    _checks.check_key(key)
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
    info = FitInfo(steps, jnp.zeros(()), jnp.zeros((), bool))  # no tolerance: never "converged"
    if return_info:
        info = info._replace(grad_max=_grad_max(jax.grad(lambda p: cost(p, *data, lam))(params)))
    return _finish("sgd", params, info, 0.0, lam, return_info, stacklevel=3)


def _stored(state: optax.OptState, name: str) -> Any:
    try:
        return optax.tree.get(state, name)
    except (KeyError, ValueError):
        return None


def optax_fit(
    cost: Cost,
    optimizer: optax.GradientTransformation,
    params0: Params,
    *args: Data,
    lam: Lam,
    max_steps: int = 1000,
    tol: float = 0.0,
    return_info: bool = False,
) -> Fitted:
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


class EarlyStoppingInfo(NamedTuple):
    """Diagnostics of :func:`early_stopping` (evaluation e: after e·``eval_every`` steps).

    Attributes:
      best_eval: the evaluation (0: ``params0``) whose parameters are returned.
      evals: evaluations run after evaluation 0 (by default: epochs).
      best_val: the validation loss of the returned parameters.
      stopped: whether ``patience`` ran out (False: ``max_epochs`` came first).
      val: the validation loss at every evaluation, (1 + most evaluations,), then NaN.
    """

    best_eval: jax.Array
    evals: jax.Array
    best_val: jax.Array
    stopped: jax.Array
    val: jax.Array


class _EarlyState(NamedTuple):
    evals: jax.Array
    params: Params
    opt_state: optax.OptState
    best: Params
    best_eval: jax.Array
    best_val: jax.Array
    bad: jax.Array
    val: jax.Array


def _round_rows(keys: jax.Array, r: jax.Array, k: int, per_epoch: int, b: int, m: int) -> Any:
    """Rows (k, b) of steps r·k … r·k + k − 1; each epoch e walks permutation ``keys[e]``."""
    t = r * k + jnp.arange(k, dtype=r.dtype)
    first, span = t[0] // per_epoch, (per_epoch + k - 2) // per_epoch + 1  # epochs touched
    which = jnp.minimum(first + jnp.arange(span, dtype=r.dtype), keys.shape[0] - 1)
    perms = jax.vmap(lambda key: jax.random.permutation(key, m))(keys[which])
    pos = (t % per_epoch * b)[:, None] + jnp.arange(b, dtype=r.dtype)
    return perms[(t // per_epoch - first)[:, None], pos]


def early_stopping(
    cost: Cost, params0: Params, *data: Data, lam: Lam, val_cost: Cost,
    val_args: tuple[Data, ...], optimizer: optax.GradientTransformation, batch_size: int,
    key: jax.Array, patience: int = 5, max_epochs: int = 100, eval_every: int | None = None,
    return_info: bool = False,
) -> Fitted:  # fmt: skip
    r"""Minibatch training that returns the parameters of the best validation loss.

    ``optimizer`` steps on :math:`\nabla J_B` (:func:`minibatch_cost`, batches as in
    :func:`sgd`). Every ``eval_every`` steps (default ⌊m/b⌋: each epoch) it evaluates
    :math:`V_e` = ``val_cost(θ_e, *val_args)`` (:math:`V_0` at ``params0``), keeps
    :math:`\theta_{e^*}` with :math:`V_{e^*} = \min_{j\le e} V_j` (the first, on ties) and
    stops once :math:`e - e^* =` ``patience``, or after ``max_epochs`` epochs (an eager call
    then warns). Under ``vmap`` (over λ, keys, data) each lane of the ``while_loop``
    freezes once it stops.

    Args:
      cost: ``cost(params, *data, lam)`` in the per-example convention.
      params0: starting parameters.
      *data: training arrays with a leading axis of m examples.
      lam: λ (may be traced).
      val_cost, val_args: ``val_cost(params, *val_args) -> scalar`` on held-out data.
      optimizer: an ``optax.GradientTransformation`` (``optax.sgd(α)`` for SGD).
      batch_size: b, 1 ≤ b ≤ m.
      key: ``jax.random`` key for the shuffles.
      patience: evaluations without a strictly lower V before stopping, ≥ 1.
      max_epochs: the most epochs, ≥ 1.
      eval_every: steps between evaluations, in [1, max_epochs·⌊m/b⌋].
      return_info: also return an :class:`EarlyStoppingInfo`.

    Returns the best parameters, or ``(params, EarlyStoppingInfo)``.

    Example:
      >>> X, y = jnp.ones((4, 1)), jnp.ones(4)   # w_e = 1 − 2⁻ᵉ: V = (w − 0.8)² is least at e = 2
      >>> mse = lambda p, X, y, lam: 0.5 * jnp.mean((X @ p["w"] - y) ** 2)
      >>> V, p0 = lambda p: jnp.sum((p["w"] - 0.8) ** 2), {"w": jnp.zeros(1)}
      >>> p, info = early_stopping(mse, p0, X, y, lam=0.0, val_cost=V, val_args=(), patience=2,
      ...     optimizer=optax.sgd(0.5), batch_size=4, key=jax.random.key(0), return_info=True)
      >>> float(p["w"][0]), int(info.best_eval), int(info.evals), bool(info.stopped)
      (0.75, 2, 4, True)
    """
    m = _checks.same_rows(data)
    _checks.check_int(batch_size, "batch_size", low=1, high=m)
    _checks.check_int(patience, "patience", low=1)
    _checks.check_int(max_epochs, "max_epochs", low=1)
    per_epoch = m // batch_size
    k = per_epoch if eval_every is None else eval_every
    _checks.check_int(k, "eval_every", low=1, high=max_epochs * per_epoch)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"optimizer must be an optax.GradientTransformation, got {optimizer!r}")
    _checks.check_key(key)
    rounds, keys = max_epochs * per_epoch // k, jax.random.split(key, max_epochs)
    grad_fn = jax.grad(lambda p, *batch: minibatch_cost(cost, p, *batch, lam=lam, m=m))

    def step(carry: tuple, idx: jax.Array) -> tuple:
        (params, state), batch = carry, jax.tree.map(lambda a: jnp.asarray(a)[idx], data)
        updates, state = optimizer.update(grad_fn(params, *batch), state, params)
        return (optax.apply_updates(params, updates), state), None

    def body(s: _EarlyState) -> _EarlyState:
        rows = _round_rows(keys, s.evals, k, per_epoch, batch_size, m)
        (params, opt_state), _ = jax.lax.scan(step, (s.params, s.opt_state), rows)
        e, v = s.evals + 1, val_cost(params, *val_args)
        fresh = (params, e, v, 0 * s.bad)  # if V is strictly lower: keep θ, reset the count
        kept = (s.best, s.best_eval, s.best_val, s.bad + 1)
        new = jax.tree.map(lambda a, b: jnp.where(v < s.best_val, a, b), fresh, kept)
        return _EarlyState._make((e, params, opt_state, *new, s.val.at[e].set(v)))

    v0, zero = val_cost(params0, *val_args), jnp.zeros((), jnp.int32)
    val = jnp.full(rounds + 1, jnp.nan, jnp.result_type(v0)).at[0].set(v0)
    s = _EarlyState(zero, params0, optimizer.init(params0), params0, zero, v0, zero, val)
    s = jax.lax.while_loop(lambda s: (s.evals < rounds) & (s.bad < patience), body, s)
    info = EarlyStoppingInfo(s.best_eval, s.evals, s.best_val, s.bad >= patience, s.val)
    if _checks.is_concrete((info, lam)):
        bad = ~np.isfinite(np.asarray(info.val)[: int(info.evals) + 1])
        if bad.any():  # diverged (lower the learning rate); the best finite V's θ is returned
            _warn("early_stopping", lam, f"diverged: V is NaN/inf at evaluation {bad.argmax()}", 3)
        elif not bool(info.stopped):
            _warn("early_stopping", lam, f"V still falling at max_epochs = {max_epochs}", 3)
    return (s.best, info) if return_info else s.best
