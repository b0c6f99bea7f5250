r"""Forward functions: linear, logistic, multi-layer perceptron; Ng's ``mapFeature``.

Parameter layouts:

* ``linear``/``logistic``/softmax: ``{"w": (n,) or (n, k), "b": () or (k,)}``;
* ``mlp``: a list of layers ``{"W": (out, in), "b": (out,)}`` — Ng's
  :math:`\Theta^{(l)}` without its bias column, which is ``b``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from regjax import _checks
from regjax._typing import Params

__all__ = ["init_mlp", "linear", "logistic", "map_feature", "mlp", "mlp_logits"]

Activation = Callable[[jax.Array], jax.Array]


def linear(params: Params, X: ArrayLike) -> jax.Array:
    r"""Linear model :math:`h = Xw + b`.

    Args:
      params: ``{"w": (n,) or (n, k), "b": () or (k,)}``.
      X: inputs, shape (m, n).

    Returns:
      Predictions, shape (m,) or (m, k).

    Example:
      >>> import jax.numpy as jnp
      >>> linear({"w": jnp.array([1.0, 2.0]), "b": jnp.array(0.5)}, jnp.array([[1.0, 1.0]]))
      Array([3.5], dtype=float32)
    """
    X = _checks.as_matrix(X)
    _checks.check_linear_params(params, X)
    return X @ params["w"] + params["b"]


def logistic(params: Params, X: ArrayLike) -> jax.Array:
    r"""Logistic model :math:`h = \sigma(Xw + b)`, :math:`\sigma(z) = 1/(1 + e^{-z})`.

    Args:
      params: ``{"w": (n,), "b": ()}`` (or (n, k), (k,) for k independent outputs).
      X: inputs, shape (m, n).

    Returns:
      Probabilities in [0, 1], shape (m,) or (m, k).

    Example:
      >>> import jax.numpy as jnp
      >>> logistic({"w": jnp.array([0.0]), "b": jnp.array(0.0)}, jnp.array([[3.0]]))
      Array([0.5], dtype=float32)
    """
    return jax.nn.sigmoid(linear(params, X))


def mlp_logits(
    params: Sequence[Params], X: ArrayLike, *, activation: Activation = jax.nn.sigmoid
) -> jax.Array:
    r"""The pre-activation :math:`z^{(L)}` of the last layer of :func:`mlp`.

    :math:`a^{(1)} = X`, :math:`z^{(l+1)} = a^{(l)} W^{(l)\top} + b^{(l)}`,
    :math:`a^{(l+1)} = g(z^{(l+1)})` for hidden layers.

    Args:
      params: list of layers ``{"W": (out, in), "b": (out,)}``.
      X: inputs, shape (m, n).
      activation: hidden-layer activation g.

    Returns:
      Logits, shape (m, K).

    Example:
      >>> import jax.numpy as jnp
      >>> layer = {"W": jnp.ones((1, 2)), "b": jnp.zeros(1)}
      >>> mlp_logits([layer], jnp.array([[1.0, 2.0]]))
      Array([[3.]], dtype=float32)
    """
    X = _checks.as_matrix(X)
    _checks.check_mlp_params(params, X)
    a = X
    for layer in params[:-1]:
        a = activation(a @ layer["W"].T + layer["b"])
    return a @ params[-1]["W"].T + params[-1]["b"]


def mlp(
    params: Sequence[Params],
    X: ArrayLike,
    *,
    activation: Activation = jax.nn.sigmoid,
    output: Activation = jax.nn.sigmoid,
) -> jax.Array:
    r"""Multi-layer perceptron (Ng's feed-forward network).

    :math:`h = o(z^{(L)})` with the hidden layers as in :func:`mlp_logits`.

    Args:
      params: list of layers ``{"W": (out, in), "b": (out,)}``.
      X: inputs, shape (m, n).
      activation: hidden-layer activation (default sigmoid).
      output: output activation (default sigmoid; use ``lambda z: z`` for logits).

    Returns:
      Outputs, shape (m, K).

    Example:
      >>> import jax
      >>> params = init_mlp(jax.random.key(0), (3, 4, 2))
      >>> mlp(params, jax.numpy.ones((5, 3))).shape
      (5, 2)
    """
    return output(mlp_logits(params, X, activation=activation))


def init_mlp(
    key: jax.Array, sizes: Sequence[int], *, dtype: jnp.dtype | None = None
) -> list[dict[str, jax.Array]]:
    r"""Random MLP parameters, Ng's symmetric-breaking uniform initialization.

    Each layer's weights and bias are drawn from :math:`U(-\epsilon, \epsilon)`,
    :math:`\epsilon = \sqrt{6}/\sqrt{L_{in} + L_{out}}`.

    Args:
      key: a ``jax.random`` key.
      sizes: layer widths, input first, e.g. ``(400, 25, 10)``.
      dtype: floating dtype (default: JAX's default float).

    Returns:
      A list of ``len(sizes) - 1`` layers ``{"W": (out, in), "b": (out,)}``.

    Example:
      >>> import jax
      >>> [p["W"].shape for p in init_mlp(jax.random.key(0), (400, 25, 10))]
      [(25, 400), (10, 25)]
    """
    sizes = tuple(sizes)
    if len(sizes) < 2 or any(not isinstance(s, int) or s <= 0 for s in sizes):
        raise ValueError(f"sizes must be at least two positive ints, got {sizes}")
    dtype = dtype if dtype is not None else jnp.zeros(()).dtype
    layers = []
    for key_l, (n_in, n_out) in zip(
        jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])
    ):
        eps = (6.0 / (n_in + n_out)) ** 0.5
        k_w, k_b = jax.random.split(key_l)
        layers.append(
            {
                "W": jax.random.uniform(k_w, (n_out, n_in), dtype, -eps, eps),
                "b": jax.random.uniform(k_b, (n_out,), dtype, -eps, eps),
            }
        )
    return layers


def map_feature(x1: ArrayLike, x2: ArrayLike, degree: int = 6) -> jax.Array:
    r"""Polynomial features of two inputs, Ng's ``mapFeature`` without the ones column.

    Columns :math:`x_1^{i-j} x_2^{j}` for i = 1..degree, j = 0..i, in that order:
    degree·(degree + 3)/2 columns (27 for degree 6).

    Args:
      x1: shape (m,).
      x2: shape (m,).
      degree: the highest total degree, ≥ 1.

    Returns:
      Features, shape (m, degree·(degree + 3)/2).

    Example:
      >>> import jax.numpy as jnp
      >>> map_feature(jnp.array([2.0]), jnp.array([3.0]), degree=2)
      Array([[2., 3., 4., 6., 9.]], dtype=float32)
    """
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    if x1.ndim != 1 or x1.shape != x2.shape:
        raise ValueError(f"x1 and x2 must be 1-D of the same length, got {x1.shape} and {x2.shape}")
    _checks.check_int(degree, "degree", low=1)
    columns = [x1 ** (i - j) * x2**j for i in range(1, degree + 1) for j in range(i + 1)]
    return jnp.stack(columns, axis=1)
