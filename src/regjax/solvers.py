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
- :func:`logistic_path`, :func:`softmax_path`: a whole λ grid solved together by batched
  Newton-CG (:mod:`regjax.newton`), every product with X one GEMM over all λ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from regjax import _checks, newton
from regjax.newton import PathInfo

__all__ = [
    "FitInfo",
    "PathInfo",
    "gradient_descent",
    "logistic_path",
    "minibatch_cost",
    "optax_fit",
    "sgd",
    "softmax_path",
]

Cost = Callable[..., jax.Array]
LearningRate = float | ArrayLike | Callable[[jax.Array], Any]


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


def _grad_max(grads: Any) -> jax.Array:
    return jnp.max(jnp.stack([jnp.max(jnp.abs(g)) for g in jax.tree.leaves(grads)]))


def _lr(learning_rate: LearningRate, step: jax.Array) -> Any:
    return learning_rate(step) if callable(learning_rate) else learning_rate


def _step(params: Any, grads: Any, lr: Any) -> Any:
    return jax.tree.map(lambda p, g: p - jnp.asarray(lr, dtype=p.dtype) * g, params, grads)


def _check_loop(max_steps: Any, tol: Any) -> None:
    if not isinstance(max_steps, int | np.integer) or max_steps < 0:
        raise ValueError(f"max_steps must be an int >= 0, got {max_steps!r}")
    if _checks.is_concrete(tol) and not float(tol) >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")


def gradient_descent(
    cost: Cost,
    params0: Any,
    *args: Any,
    lam: Any,
    learning_rate: LearningRate,
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
    if return_info:
        return params, FitInfo(steps, gmax, gmax <= tol)
    return params


def minibatch_cost(cost: Cost, params: Any, *batch: Any, lam: Any, m: int) -> jax.Array:
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
    params0: Any,
    *data: Any,
    lam: Any,
    learning_rate: LearningRate,
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
    leaves = jax.tree.leaves(data)
    if not leaves:
        raise ValueError("sgd needs data arrays with a leading example axis")
    m = leaves[0].shape[0]
    if any(jnp.shape(a)[:1] != (m,) for a in leaves):
        raise ValueError(f"every data array needs the same leading axis m={m}")
    if not isinstance(batch_size, int) or not 1 <= batch_size <= m:
        raise ValueError(f"batch_size must be an int in [1, m={m}], got {batch_size!r}")
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
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


def _stored(state: Any, name: str) -> Any:
    try:
        return optax.tree.get(state, name)
    except (KeyError, ValueError):
        return None


def optax_fit(
    cost: Cost,
    optimizer: optax.GradientTransformation,
    params0: Any,
    *args: Any,
    lam: Any,
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

    def fn(p: Any) -> jax.Array:
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
    if return_info:
        return params, FitInfo(steps, gmax, gmax <= tol)
    return params


@jax.jit(static_argnames=("softmax",))
def _path(
    X: jax.Array,
    XT: jax.Array,
    Y: jax.Array,
    lams: jax.Array,
    b0: jax.Array,
    tol: jax.Array,
    max_iter: jax.Array,
    max_cg: jax.Array,
    softmax: bool,
) -> tuple[jax.Array, jax.Array, PathInfo]:
    family = newton.softmax_family if softmax else newton.binary_family
    return newton.newton_cg_path(
        family, X, XT, Y, lams, b0, tol=tol, max_iter=max_iter, max_cg=max_cg
    )


def _path_inputs(
    X: ArrayLike, lams: ArrayLike, tol: Any, max_iter: Any, max_cg: Any
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]:
    dtype = jax.dtypes.canonicalize_dtype(jnp.float64)
    X = _checks.as_matrix(X).astype(dtype)
    lams = jnp.asarray(lams)
    if lams.ndim != 1 or lams.shape[0] == 0:
        raise ValueError(f"lams must be 1-D (G,) with G >= 1, got shape {lams.shape}")
    _checks.check_lam(lams, "lams")
    for name, value in (("max_iter", max_iter), ("max_cg", max_cg)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if _checks.is_concrete(tol) and not float(tol) > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    as_int = jnp.asarray
    return X, lams.astype(dtype), jnp.asarray(tol, dtype), as_int(max_iter), as_int(max_cg)


def logistic_path(
    X: ArrayLike,
    y: ArrayLike,
    lams: ArrayLike,
    *,
    tol: float = 1e-8,
    max_iter: int = 100,
    max_cg: int = 200,
    return_info: bool = False,
) -> Any:
    r"""L2 logistic regression for a whole λ grid at once, by batched Newton-CG.

    Minimizes, for every :math:`\lambda_g` of the grid together,

    .. math::

        J_g(w, b) = \frac1m\sum_i\big[\log(1 + e^{z_i}) - y_i z_i\big]
                    + \frac{\lambda_g}{2m}\lVert w\rVert^2, \qquad z = Xw + b,

    (:func:`regjax.costs.logistic_regression`; scikit-learn's ``C`` is 1/λ), until
    :math:`\max|\nabla J_g| \le` ``tol`` for every g. All G problems share each GEMM with
    X and one preconditioner eigendecomposition; see :mod:`regjax.newton`. Every column
    starts from w = 0, b = logit(ȳ). Computes in float64 when x64 is enabled (float32
    otherwise, where ``tol`` should be about 1e-5 or more).

    Args:
      X: inputs, shape (m, n).
      y: labels in {0, 1}, shape (m,).
      lams: λ grid, shape (G,), each ≥ 0 (λ > 0 when the classes are separable).
      tol: gradient tolerance, max-abs, per λ.
      max_iter: most Newton iterations.
      max_cg: most CG iterations per Newton iteration.
      return_info: also return a :class:`PathInfo` (iterations, final gradients).

    Returns:
      ``{"w": (G, n), "b": (G,)}``, or ``(params, PathInfo)``.

    Example:
      >>> X = jnp.array([[0.0], [1.0], [2.0], [3.0]]); y = jnp.array([0, 0, 1, 1])
      >>> path = logistic_path(X, y, jnp.array([1.0, 10.0]), tol=1e-5)
      >>> path["w"].shape, bool(path["w"][0, 0] > path["w"][1, 0] > 0)
      ((2, 1), True)
    """
    X, lams, tol_, max_iter_, max_cg_ = _path_inputs(X, lams, tol, max_iter, max_cg)
    y = jnp.asarray(y)
    _checks.check_rows(X, y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (m,), got shape {y.shape}")
    _checks.check_binary(y)
    y = y.astype(X.dtype)
    ybar = jnp.clip(jnp.mean(y), 0.5 / X.shape[0], 1 - 0.5 / X.shape[0])
    b0 = jnp.log(ybar / (1 - ybar))[None]
    W, b, info = _path(X, X.T, y[:, None, None], lams, b0, tol_, max_iter_, max_cg_, softmax=False)
    params = {"w": W[:, 0, :].T, "b": b[0]}
    return (params, info) if return_info else params


def softmax_path(
    X: ArrayLike,
    labels: ArrayLike,
    lams: ArrayLike,
    *,
    num_classes: int | None = None,
    tol: float = 1e-8,
    max_iter: int = 100,
    max_cg: int = 200,
    return_info: bool = False,
) -> Any:
    r"""L2 softmax regression for a whole λ grid at once, by batched Newton-CG.

    Minimizes :func:`regjax.costs.softmax_regression` for every λ of the grid,

    .. math::

        J_g(W, b) = \frac1m\sum_i\big[\mathrm{logsumexp}(z_i) - z_{i,y_i}\big]
                    + \frac{\lambda_g}{2m}\lVert W\rVert_F^2, \qquad z = XW + b,

    in the over-complete parametrization (K weight vectors, as scikit-learn's
    multinomial ``LogisticRegression``). Adding a constant to the K biases changes
    nothing, so b is returned with zero mean over the classes (and for λ > 0 the
    columns of W sum to zero at the optimum). Same method as :func:`logistic_path`;
    every column starts from W = 0, b = centred log class frequencies.

    Args:
      X: inputs, shape (m, n).
      labels: integer classes in [0, K), shape (m,).
      lams: λ grid, shape (G,), each > 0.
      num_classes: K (default: ``max(labels) + 1``, which needs concrete labels).
      tol: gradient tolerance, max-abs, per λ.
      max_iter: most Newton iterations.
      max_cg: most CG iterations per Newton iteration.
      return_info: also return a :class:`PathInfo`.

    Returns:
      ``{"w": (G, n, K), "b": (G, K)}``, or ``(params, PathInfo)``.

    Example:
      >>> X = jnp.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
      >>> path = softmax_path(X, jnp.array([0, 0, 1, 1, 2, 2]), jnp.ones(3), tol=1e-5)
      >>> path["w"].shape, path["b"].shape
      ((3, 1, 3), (3, 3))
    """
    X, lams, tol_, max_iter_, max_cg_ = _path_inputs(X, lams, tol, max_iter, max_cg)
    labels = jnp.asarray(labels)
    _checks.check_rows(X, labels, "labels")
    if labels.ndim != 1 or not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(f"labels must be 1-D integers (m,), got {labels.dtype}{labels.shape}")
    if num_classes is None:
        if not _checks.is_concrete(labels):
            raise ValueError("num_classes is required when labels are traced")
        num_classes = int(np.max(np.asarray(labels))) + 1
    if _checks.is_concrete(labels):
        values = np.asarray(labels)
        if np.any(values < 0) or np.any(values >= num_classes):
            raise ValueError(f"labels must be in [0, {num_classes}), got {np.unique(values)}")
    Y = jax.nn.one_hot(labels, num_classes, dtype=X.dtype)
    freq = jnp.maximum(jnp.mean(Y, axis=0), 0.5 / X.shape[0])
    b0 = jnp.log(freq) - jnp.mean(jnp.log(freq))
    W, b, info = _path(X, X.T, Y[:, :, None], lams, b0, tol_, max_iter_, max_cg_, softmax=True)
    params = {"w": jnp.transpose(W, (2, 0, 1)), "b": b.T}
    return (params, info) if return_info else params
