r"""Mean data terms, written to be numerically stable.

Every loss here is a *mean* over the m examples, the data term of the library's
convention (the penalty adds λ/(2m)‖w‖²). The logistic losses take logits z and use
:math:`\log\sigma(z)` (``jax.nn.log_sigmoid``) and ``logsumexp``, so logits of ±1e4
give finite values and gradients.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

__all__ = [
    "binary_cross_entropy",
    "multilabel_sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "squared_error",
]


def _same_shape(pred: jax.Array, target: jax.Array, names: tuple[str, str]) -> None:
    if pred.shape != target.shape:
        raise ValueError(
            f"{names[1]} must have the shape of {names[0]} {pred.shape}, got {target.shape}"
        )
    if pred.ndim == 0:
        raise ValueError(f"{names[0]} must have a leading example axis, got a scalar")


def squared_error(pred: ArrayLike, y: ArrayLike) -> jax.Array:
    r"""Half mean squared error :math:`\frac{1}{2m}\sum_i \lVert h_i - y_i\rVert^2`.

    The ½ is Ng's (and glmnet's, and scikit-learn ElasticNet's): it cancels in the
    gradient :math:`\frac{1}{m}X^\top(h - y)`.

    Args:
      pred: predictions h, shape (m,) or (m, k).
      y: targets, same shape.

    Returns:
      A scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> float(squared_error(jnp.array([1.0, 3.0]), jnp.array([0.0, 1.0])))
      1.25
    """
    pred, y = jnp.asarray(pred), jnp.asarray(y)
    _same_shape(pred, y, ("pred", "y"))
    return jnp.sum(jnp.square(pred - y)) / (2 * pred.shape[0])


def binary_cross_entropy(logits: ArrayLike, y: ArrayLike) -> jax.Array:
    r"""Mean binary cross-entropy from logits.

    .. math::

        -\frac{1}{m}\sum_i \big[y_i \log\sigma(z_i) + (1 - y_i)\log\sigma(-z_i)\big]

    (:math:`1 - \sigma(z) = \sigma(-z)`), which is finite for any finite z.

    Args:
      logits: z = Xw + b, shape (m,).
      y: labels in {0, 1}, shape (m,).

    Returns:
      A scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> float(binary_cross_entropy(jnp.array([1e4, -1e4]), jnp.array([1.0, 0.0])))
      0.0
    """
    logits, y = jnp.asarray(logits), jnp.asarray(y)
    _same_shape(logits, y, ("logits", "y"))
    y = y.astype(logits.dtype)
    losses = -(y * jax.nn.log_sigmoid(logits) + (1 - y) * jax.nn.log_sigmoid(-logits))
    return jnp.mean(losses)


def multilabel_sigmoid_cross_entropy(logits: ArrayLike, Y: ArrayLike) -> jax.Array:
    r"""Ng's neural-network data term: K sigmoid outputs, summed over k, mean over i.

    .. math::

        J = -\frac{1}{m}\sum_{i=1}^m\sum_{k=1}^K \big[Y_{ik}\log\sigma(z_{ik})
            + (1 - Y_{ik})\log\sigma(-z_{ik})\big]

    Args:
      logits: output-layer pre-activations, shape (m, K).
      Y: one-hot (or multi-label) targets in {0, 1}, shape (m, K).

    Returns:
      A scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> Y = jnp.array([[1.0, 0.0]])
      >>> round(float(multilabel_sigmoid_cross_entropy(jnp.zeros((1, 2)), Y)), 4)
      1.3863
    """
    logits, Y = jnp.asarray(logits), jnp.asarray(Y)
    _same_shape(logits, Y, ("logits", "Y"))
    Y = Y.astype(logits.dtype)
    losses = -(Y * jax.nn.log_sigmoid(logits) + (1 - Y) * jax.nn.log_sigmoid(-logits))
    return jnp.sum(losses) / logits.shape[0]


def softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> jax.Array:
    r"""Mean softmax cross-entropy with integer labels.

    .. math::

        -\frac{1}{m}\sum_i \log \mathrm{softmax}(z_i)_{y_i}
        = \frac{1}{m}\sum_i \big[\mathrm{logsumexp}(z_i) - z_{i, y_i}\big]

    Args:
      logits: shape (m, K).
      labels: integers in [0, K), shape (m,).

    Returns:
      A scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> round(float(softmax_cross_entropy(jnp.zeros((1, 4)), jnp.array([2]))), 4)
      1.3863
    """
    logits, labels = jnp.asarray(logits), jnp.asarray(labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"labels must have shape (m,) = {logits.shape[:1]} for logits (m, K), "
            f"got {labels.shape}"
        )
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"labels must be integers in [0, K), got dtype {labels.dtype}")
    picked = jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - picked)
