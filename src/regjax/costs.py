r"""Regularized costs: a mean data term plus a penalty, in the library's convention.

Every built-in cost has the signature ``cost(params, X, y, lam)`` and is

.. math::

    J(\theta) = \frac{1}{m}\sum_{i=1}^m \ell(h_\theta(x_i), y_i)
              + \frac{\lambda}{2m}\sum_j w_j^2,

biases excluded from the sum. λ may be traced (``jit``, ``vmap`` and ``grad`` over λ
work without recompiling). :func:`regularized` builds the same from your own data term.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
from jax.typing import ArrayLike

from regjax import _checks, losses, models, penalties
from regjax._typing import Cost, Lam, Mask, Params, Scale

__all__ = [
    "linear_regression",
    "logistic_regression",
    "neural_network",
    "regularized",
    "softmax_regression",
]

_PENALTIES = ("l2", "l1", "elastic_net")


def linear_regression(params: Params, X: ArrayLike, y: ArrayLike, lam: Lam) -> jax.Array:
    r"""Regularized linear regression (Ng):
    :math:`\frac{1}{2m}\sum_i (x_i^\top w + b - y_i)^2 + \frac{\lambda}{2m}\lVert w\rVert^2`.

    Args:
      params: ``{"w": (n,), "b": ()}`` (or (n, k), (k,) for k targets).
      X: inputs, shape (m, n).
      y: targets, shape (m,) (or (m, k)).
      lam: λ ≥ 0 (may be traced).

    Returns:
      The cost, a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> params = {"w": jnp.array([1.0]), "b": jnp.array(0.0)}
      >>> X, y = jnp.array([[1.0], [2.0]]), jnp.array([0.0, 0.0])
      >>> float(linear_regression(params, X, y, 2.0))   # (1 + 4)/4 + 2/4·1
      1.75
    """
    X, y = _checks.cost_inputs(X, y, lam)
    cost = losses.squared_error(models.linear(params, X), y) + penalties.l2(
        params, lam, m=X.shape[0]
    )
    return _checks.finite_result(cost, "the cost")


def logistic_regression(params: Params, X: ArrayLike, y: ArrayLike, lam: Lam) -> jax.Array:
    r"""Regularized logistic regression: mean binary cross-entropy + λ/(2m)‖w‖².

    .. math::

        -\frac{1}{m}\sum_i\big[y_i\log\sigma(z_i) + (1-y_i)\log\sigma(-z_i)\big]
        + \frac{\lambda}{2m}\lVert w\rVert^2, \qquad z = Xw + b.

    Args:
      params: ``{"w": (n,), "b": ()}``.
      X: inputs, shape (m, n).
      y: labels in {0, 1}, shape (m,).
      lam: λ ≥ 0 (may be traced).

    Returns:
      The cost, a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> params = {"w": jnp.zeros(2), "b": jnp.array(0.0)}
      >>> X, y = jnp.ones((4, 2)), jnp.array([0.0, 1.0, 1.0, 0.0])
      >>> round(float(logistic_regression(params, X, y, 1.0)), 6)   # log 2
      0.693147
    """
    X, y = _checks.cost_inputs(X, y, lam)
    _checks.check_binary(y)
    logits = models.linear(params, X)
    cost = losses.binary_cross_entropy(logits, y) + penalties.l2(params, lam, m=X.shape[0])
    return _checks.finite_result(cost, "the cost")


def neural_network(params: Params, X: ArrayLike, Y: ArrayLike, lam: Lam) -> jax.Array:
    r"""Ng's regularized neural-network cost (sigmoid layers, K sigmoid outputs).

    .. math::

        J = -\frac{1}{m}\sum_{i,k}\big[Y_{ik}\log h_{ik} + (1-Y_{ik})\log(1-h_{ik})\big]
            + \frac{\lambda}{2m}\sum_l \lVert W^{(l)}\rVert_F^2,

    biases (Ng's first column of Θ) excluded from the penalty.

    Args:
      params: list of layers ``{"W": (out, in), "b": (out,)}`` (see ``models.init_mlp``).
      X: inputs, shape (m, n).
      Y: one-hot targets in {0, 1}, shape (m, K).
      lam: λ ≥ 0 (may be traced).

    Returns:
      The cost, a scalar.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> params = [{"W": jnp.zeros((3, 2)), "b": jnp.zeros(3)},
      ...           {"W": jnp.zeros((2, 3)), "b": jnp.zeros(2)}]
      >>> Y = jnp.array([[1.0, 0.0]])
      >>> round(float(neural_network(params, jnp.ones((1, 2)), Y, 1.0)), 4)
      1.3863
    """
    X, Y = _checks.cost_inputs(X, Y, lam, "Y")
    _checks.check_binary(Y, "Y")
    logits = models.mlp_logits(params, X)
    if Y.shape != logits.shape:
        raise ValueError(f"Y must have shape {logits.shape} (m, K), got {Y.shape}")
    cost = losses.multilabel_sigmoid_cross_entropy(logits, Y) + penalties.l2(
        params, lam, m=X.shape[0]
    )
    return _checks.finite_result(cost, "the cost")


def softmax_regression(params: Params, X: ArrayLike, labels: ArrayLike, lam: Lam) -> jax.Array:
    r"""Regularized softmax (multinomial logistic) regression.

    .. math::

        \frac{1}{m}\sum_i\big[\mathrm{logsumexp}(z_i) - z_{i,y_i}\big]
        + \frac{\lambda}{2m}\lVert W\rVert_F^2, \qquad z = XW + b.

    Args:
      params: ``{"w": (n, K), "b": (K,)}``.
      X: inputs, shape (m, n).
      labels: integer classes in [0, K), shape (m,).
      lam: λ ≥ 0 (may be traced).

    Returns:
      The cost, a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> params = {"w": jnp.zeros((2, 4)), "b": jnp.zeros(4)}
      >>> round(float(softmax_regression(params, jnp.ones((3, 2)), jnp.array([0, 1, 3]), 1.0)), 4)
      1.3863
    """
    X, labels = _checks.cost_inputs(X, labels, lam, "labels")
    logits = models.linear(params, X)
    if logits.ndim != 2:
        raise ValueError("params['w'] must have shape (n, K) for softmax regression")
    _checks.check_labels(labels, logits.shape[1])
    cost = losses.softmax_cross_entropy(logits, labels) + penalties.l2(params, lam, m=X.shape[0])
    return _checks.finite_result(cost, "the cost")


def regularized(
    data_cost: Callable[[Params, jax.Array, jax.Array], jax.Array],
    *,
    penalty: str = "l2",
    scale: Scale = "per_example",
    mask: Mask = None,
    l1_ratio: float | None = None,
) -> Cost:
    r"""Build ``cost(params, X, y, lam) = data_cost(params, X, y) + P(params, lam)``.

    m is taken from ``X.shape[0]``; P is :func:`regjax.penalties.l2`, ``l1`` or
    ``elastic_net`` with the given ``scale`` and ``mask``. For the library's convention
    ``data_cost`` should be a mean over examples.

    Args:
      data_cost: ``(params, X, y) -> scalar``, a mean data loss.
      penalty: ``"l2"``, ``"l1"`` or ``"elastic_net"``.
      scale: see :mod:`regjax.penalties`.
      mask: which leaves are penalized (default: all but biases and norm parameters).
      l1_ratio: ρ, required for ``"elastic_net"``.

    Returns:
      The cost function ``(params, X, y, lam) -> scalar``.

    Example:
      >>> import jax.numpy as jnp
      >>> from regjax import losses, models
      >>> mse = lambda p, X, y: losses.squared_error(models.linear(p, X), y)
      >>> lasso = regularized(mse, penalty="l1")
      >>> params = {"w": jnp.array([1.0, -1.0]), "b": jnp.array(0.0)}
      >>> float(lasso(params, jnp.zeros((4, 2)), jnp.zeros(4), 2.0))   # 2/4·2
      1.0
    """
    if not callable(data_cost):
        raise TypeError(f"data_cost must be a callable (params, X, y) -> scalar, got {data_cost!r}")
    _checks.check_choice(penalty, "penalty", _PENALTIES)
    _checks.check_choice(scale, "scale", penalties.SCALES)
    if (penalty == "elastic_net") != (l1_ratio is not None):
        raise ValueError('l1_ratio must be given exactly when penalty="elastic_net"')
    if l1_ratio is not None:
        _checks.check_fraction(l1_ratio)

    def cost(params: Params, X: ArrayLike, y: ArrayLike, lam: Lam) -> jax.Array:
        X, y = _checks.cost_inputs(X, y, lam)
        m = X.shape[0]
        if penalty == "l2":
            term = penalties.l2(params, lam, m=m, scale=scale, mask=mask)
        elif penalty == "l1":
            term = penalties.l1(params, lam, m=m, scale=scale, mask=mask)
        else:
            assert l1_ratio is not None
            term = penalties.elastic_net(
                params, lam, l1_ratio=l1_ratio, m=m, scale=scale, mask=mask
            )
        return _checks.finite_result(data_cost(params, X, y) + term, "data_cost + penalty")

    cost.__doc__ = f"{getattr(data_cost, '__name__', 'data cost')} + {penalty} ({scale})"
    return cost
