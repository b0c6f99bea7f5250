r"""Hand-derived gradients and exact solutions, written out beside autodiff.

Every function here is checked in the tests against ``jax.grad`` of the matching cost
or penalty and against central differences (see :func:`regjax.check_grad`).

With a mean data loss and the L2 penalty λ/(2m)‖w‖², the gradients all share one form:

.. math::

    \nabla_w J = \frac{1}{m} X^\top (h - y) + \frac{\lambda}{m} w, \qquad
    \nabla_b J = \frac{1}{m}\sum_i (h_i - y_i),

with h = Xw + b (linear), σ(Xw + b) (logistic) or softmax(XW + b) (softmax, y one-hot).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from regjax import _checks, _ridge, models, penalties
from regjax._typing import Lam, Mask, Params, Scale, result_dtype

__all__ = [
    "elastic_net_grad",
    "l1_grad",
    "l2_grad",
    "linear_regression_grad",
    "logistic_regression_grad",
    "neural_network_grad",
    "ridge_loo_gcv",
    "ridge_path",
    "ridge_solution",
    "softmax_regression_grad",
]


def _penalty_grad(params: Params, lam: Lam, m: Any, scale: str, mask: Any, fn: Any) -> Any:
    _checks.check_float_params(params)
    n = penalties.num_penalized(params, mask)
    divisor = penalties.penalty_divisor(scale, m=m, n=n)
    strengths = penalties.leaf_strengths(params, lam, mask)
    return jax.tree.map(
        lambda s, w: jnp.asarray(s, dtype=w.dtype) * fn(w) / divisor, strengths, params
    )


def l2_grad(
    params: Params,
    lam: Lam,
    *,
    m: ArrayLike | None = None,
    scale: Scale = "per_example",
    mask: Mask = None,
) -> Params:
    r"""Gradient of :func:`regjax.penalties.l2`: :math:`\partial/\partial w\,
    \frac{\lambda}{2d}\lVert w\rVert^2 = \frac{\lambda}{d} w` (0 for unpenalized leaves).

    The ½ in the penalty cancels the 2 from :math:`\partial w^2/\partial w = 2w`; with
    d = m this is Ng's :math:`\frac{\lambda}{m}\theta_j`.

    Args:
      params: a pytree of parameters.
      lam: λ ≥ 0, scalar or per-leaf pytree.
      m: number of training examples (``scale="per_example"``).
      scale: ``"per_example"`` (d = m), ``"sum"`` (d = 1) or ``"per_param"`` (d = n).
      mask: which leaves are penalized (default: all but biases and norm parameters).

    Returns:
      A pytree like ``params``.

    Example:
      >>> import jax.numpy as jnp
      >>> l2_grad({"w": jnp.array([1.0, 2.0]), "b": jnp.array(3.0)}, 5.0, m=10)
      {'b': Array(0., dtype=float32), 'w': Array([0.5, 1. ], dtype=float32)}
    """
    return _penalty_grad(params, lam, m, scale, mask, lambda w: w)


def l1_grad(
    params: Params,
    lam: Lam,
    *,
    m: ArrayLike | None = None,
    scale: Scale = "per_example",
    mask: Mask = None,
) -> Params:
    r"""Subgradient of :func:`regjax.penalties.l1`: :math:`\frac{\lambda}{d}\,\mathrm{sign}(w)`.

    At w = 0 the subdifferential is :math:`[-\lambda/d, \lambda/d]`; this returns 0
    there, the same choice as ``jax.grad`` of :func:`regjax.penalties.l1`.

    Args:
      params: a pytree of parameters.
      lam: λ ≥ 0, scalar or per-leaf pytree.
      m: number of training examples (``scale="per_example"``).
      scale: ``"per_example"``, ``"sum"`` or ``"per_param"``.
      mask: which leaves are penalized.

    Returns:
      A pytree like ``params``.

    Example:
      >>> import jax.numpy as jnp
      >>> l1_grad({"w": jnp.array([-3.0, 0.0, 2.0])}, 1.0, scale="sum")["w"]
      Array([-1.,  0.,  1.], dtype=float32)
    """
    return _penalty_grad(params, lam, m, scale, mask, jnp.sign)


def elastic_net_grad(
    params: Params,
    lam: Lam,
    *,
    l1_ratio: float,
    m: ArrayLike | None = None,
    scale: Scale = "per_example",
    mask: Mask = None,
) -> Params:
    r"""(Sub)gradient of :func:`regjax.penalties.elastic_net`:
    :math:`\frac{\lambda}{d}\big(\rho\,\mathrm{sign}(w) + (1-\rho)\,w\big)`.

    Example:
      >>> import jax.numpy as jnp
      >>> elastic_net_grad({"w": jnp.array([2.0])}, 1.0, l1_ratio=0.5, scale="sum")["w"]
      Array([1.5], dtype=float32)
    """
    _checks.check_fraction(l1_ratio)
    g1 = l1_grad(params, lam, m=m, scale=scale, mask=mask)
    g2 = l2_grad(params, lam, m=m, scale=scale, mask=mask)
    return jax.tree.map(lambda a, b: l1_ratio * a + (1 - l1_ratio) * b, g1, g2)


def _glm_grad(params: Params, X: jax.Array, residual: jax.Array, lam: Lam) -> dict[str, jax.Array]:
    m = X.shape[0]
    penalty = l2_grad(params, lam, m=m)
    return {
        "w": X.T @ residual / m + penalty["w"],
        "b": jnp.sum(residual, axis=0) / m + penalty["b"],
    }


def linear_regression_grad(
    params: Params, X: ArrayLike, y: ArrayLike, lam: Lam
) -> dict[str, jax.Array]:
    r"""Gradient of :func:`regjax.costs.linear_regression`:
    :math:`\frac{1}{m}X^\top(Xw + b - y) + \frac{\lambda}{m}w`, and
    :math:`\frac{1}{m}\sum_i (x_i^\top w + b - y_i)` for b.

    Example:
      >>> import jax.numpy as jnp
      >>> params = {"w": jnp.array([1.0]), "b": jnp.array(0.0)}
      >>> g = linear_regression_grad(params, jnp.array([[1.0], [2.0]]), jnp.zeros(2), 2.0)
      >>> float(g["w"][0]), float(g["b"])   # (1 + 4)/2 + 2/2·1, (1 + 2)/2
      (3.5, 1.5)
    """
    X, y = _checks.cost_inputs(X, y, lam)
    return _glm_grad(params, X, models.linear(params, X) - y, lam)


def logistic_regression_grad(
    params: Params, X: ArrayLike, y: ArrayLike, lam: Lam
) -> dict[str, jax.Array]:
    r"""Gradient of :func:`regjax.costs.logistic_regression`:
    :math:`\frac{1}{m}X^\top(\sigma(Xw + b) - y) + \frac{\lambda}{m}w`, and
    :math:`\frac{1}{m}\sum_i(\sigma(z_i) - y_i)` for b.

    Example:
      >>> import jax.numpy as jnp
      >>> params = {"w": jnp.zeros(1), "b": jnp.array(0.0)}
      >>> g = logistic_regression_grad(params, jnp.array([[2.0]]), jnp.array([1.0]), 1.0)
      >>> float(g["w"][0]), float(g["b"])   # 2·(0.5 − 1), 0.5 − 1
      (-1.0, -0.5)
    """
    X, y = _checks.cost_inputs(X, y, lam)
    _checks.check_binary(y)
    return _glm_grad(params, X, models.logistic(params, X) - y, lam)


def softmax_regression_grad(
    params: Params, X: ArrayLike, labels: ArrayLike, lam: Lam
) -> dict[str, jax.Array]:
    r"""Gradient of :func:`regjax.costs.softmax_regression`:
    :math:`\frac{1}{m}X^\top(P - Y) + \frac{\lambda}{m}W`, P = softmax(XW + b), Y one-hot.

    Example:
      >>> import jax.numpy as jnp
      >>> params = {"w": jnp.zeros((1, 2)), "b": jnp.zeros(2)}
      >>> softmax_regression_grad(params, jnp.array([[1.0]]), jnp.array([0]), 1.0)["b"]
      Array([-0.5,  0.5], dtype=float32)
    """
    X, labels = _checks.cost_inputs(X, labels, lam, "labels")
    logits = models.linear(params, X)
    if logits.ndim != 2:
        raise ValueError("params['w'] must have shape (n, K) for softmax regression")
    _checks.check_labels(labels, logits.shape[1])
    Y = jax.nn.one_hot(labels, logits.shape[1], dtype=logits.dtype)
    return _glm_grad(params, X, jax.nn.softmax(logits, axis=1) - Y, lam)


def neural_network_grad(
    params: Params, X: ArrayLike, Y: ArrayLike, lam: Lam
) -> list[dict[str, jax.Array]]:
    r"""Gradient of :func:`regjax.costs.neural_network` by backpropagation, by hand.

    Ng's algorithm, vectorized over the m examples (rows):

    .. math::

        a^{(1)} = X,\quad z^{(l+1)} = a^{(l)}W^{(l)\top} + b^{(l)},\quad
        a^{(l+1)} = \sigma(z^{(l+1)}),

        \delta^{(L)} = a^{(L)} - Y,\qquad
        \delta^{(l)} = \big(\delta^{(l+1)} W^{(l)}\big)\odot a^{(l)}\odot(1 - a^{(l)}),

        \frac{\partial J}{\partial W^{(l)}} = \frac{1}{m}\delta^{(l+1)\top}a^{(l)}
            + \frac{\lambda}{m}W^{(l)},\qquad
        \frac{\partial J}{\partial b^{(l)}} = \frac{1}{m}\sum_i \delta^{(l+1)}_i.

    :math:`\delta^{(L)} = a^{(L)} - Y` is the derivative of the cross-entropy with
    respect to the output logits; :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`.

    Args:
      params: list of layers ``{"W": (out, in), "b": (out,)}``.
      X: inputs, shape (m, n).
      Y: one-hot targets, shape (m, K).
      lam: λ ≥ 0.

    Returns:
      A list of layers like ``params``.

    Example:
      >>> import jax.numpy as jnp
      >>> layer = {"W": jnp.zeros((1, 1)), "b": jnp.zeros(1)}
      >>> neural_network_grad([layer], jnp.array([[2.0]]), jnp.array([[1.0]]), 0.0)[0]["W"]
      Array([[-1.]], dtype=float32)

    References:
      D. Rumelhart, G. Hinton, R. Williams, "Learning representations by
      back-propagating errors", Nature 323 (1986); A. Ng, Machine Learning, ex4.
    """
    X, Y = _checks.cost_inputs(X, Y, lam, "Y")
    _checks.check_binary(Y, "Y")
    output = models.mlp_logits(params, X)  # validates the layer shapes
    if Y.shape != output.shape:
        raise ValueError(f"Y must have shape {output.shape} (m, K), got {Y.shape}")
    m = X.shape[0]
    activations = [X]
    for layer in params:
        activations.append(jax.nn.sigmoid(activations[-1] @ layer["W"].T + layer["b"]))
    penalty = l2_grad(list(params), lam, m=m)
    delta = activations[-1] - Y
    grads: list[dict[str, jax.Array]] = []
    for layer, a, reg in zip(reversed(params), reversed(activations[:-1]), reversed(penalty)):
        grads.append({"W": delta.T @ a / m + reg["W"], "b": jnp.sum(delta, axis=0) / m + reg["b"]})
        delta = (delta @ layer["W"]) * a * (1 - a)
    return grads[::-1]


def ridge_solution(X: ArrayLike, y: ArrayLike, lam: Lam) -> dict[str, jax.Array]:
    r"""Minimizer of :func:`regjax.costs.linear_regression` (computed as
    :func:`ridge_path` at one λ: from the SVD of X̃, never from X̃ᵀX̃).

    Setting the gradient to zero (the intercept unpenalized) gives, with centred
    :math:`\tilde X = X - \bar x`, :math:`\tilde y = y - \bar y`,

    .. math::

        (\tilde X^\top\tilde X + \lambda I)\,w = \tilde X^\top\tilde y, \qquad
        b = \bar y - \bar x^\top w.

    The 1/m of the data term and of λ/(2m) cancel, so m does not appear; but
    :math:`\tilde X^\top\tilde X` grows with m, so duplicating the data set r times
    acts like λ → λ/r. The same minimizer needs rλ: λ/m, the coefficient of
    ½‖w‖² on the mean loss, is what stays put.

    Args:
      X: inputs, shape (m, n).
      y: targets, shape (m,) or (m, k).
      lam: λ ≥ 0 (at λ = 0 with X̃ rank-deficient: the minimum-norm least-squares fit).

    Returns:
      ``{"w": (n,) or (n, k), "b": () or (k,)}``.

    Example:
      >>> import jax.numpy as jnp
      >>> X = jnp.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0] + 1
      >>> sol = ridge_solution(X, y, 0.0)
      >>> round(float(sol["w"][0]), 5), round(float(sol["b"]), 5)
      (2.0, 1.0)
    """
    _checks.check_lam(lam)
    if jnp.ndim(lam) != 0:
        raise ValueError(f"lam must be a scalar, got shape {jnp.shape(lam)}")
    path = ridge_path(X, y, jnp.reshape(jnp.asarray(lam), (1,)))
    return {"w": path["w"][0], "b": path["b"][0]}


def ridge_path(X: ArrayLike, y: ArrayLike, lams: ArrayLike) -> dict[str, jax.Array]:
    r"""Ridge solutions for a whole grid of λ from one SVD.

    With the thin SVD :math:`\tilde X = U\,\mathrm{diag}(s)\,V^\top` of the centred X,

    .. math::

        w(\lambda) = V\,\mathrm{diag}\!\Big(\frac{s_j}{s_j^2 + \lambda}\Big)\,U^\top\tilde y,

    so each extra λ costs O(n·r) after the decomposition. The SVD is taken at the cost
    of the smaller side (see :mod:`regjax._ridge`): when m ≥ n + k the eigendecomposition
    of X̃ᵀX̃ where that is harmless (ε·κ(X̃)² ≤ 1e-12: forming X̃ᵀX̃ squares κ), else a
    Householder QR of :math:`[\tilde X\mid\tilde y]` then the SVD of the n × n R; when
    n > m the same on the m × m side (X̃X̃ᵀ, or the QR of X̃ᵀ). About m·n² to 2·m·n²
    FLOPs for m ≫ n (2·n·m² for n ≫ m), not the thin SVD's ~6·m·n², and as accurate as
    the SVD on ill-conditioned X. Written :math:`1/(s_j + \lambda/s_j)`, it neither
    overflows nor underflows for any representable X. Results are in X's dtype; bfloat16
    and float16 are computed in float32 (integer X: the default float).

    Args:
      X: inputs, shape (m, n).
      y: targets, shape (m,) or (m, k).
      lams: λ grid, shape (G,), each ≥ 0.

    Returns:
      ``{"w": (G, n) or (G, n, k), "b": (G,) or (G, k)}``.

    Example:
      >>> import jax.numpy as jnp
      >>> X = jnp.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0] + 1
      >>> ridge_path(X, y, jnp.array([0.0, 2.0]))["w"].round(4)   # 4/(2 + λ)
      Array([[2.],
             [1.]], dtype=float32)
    """
    lams = _checks.as_grid(lams)
    dtype = result_dtype(X)
    c = _ridge.centered(X, y)
    w = _ridge.path_weights(c, lams)  # (G, n) or (G, n, k)
    b = c.y_mean - jnp.einsum("gn...,n->g...", w, c.x_mean)
    return {"w": w.astype(dtype), "b": b.astype(dtype)}


def ridge_loo_gcv(X: ArrayLike, y: ArrayLike, lams: ArrayLike) -> tuple[jax.Array, jax.Array]:
    r"""Leave-one-out and generalized cross-validation errors for every λ, one SVD
    (taken as in :func:`ridge_path`; for m ≫ n, U is :math:`\tilde XV\mathrm{diag}(1/s)`).

    The fit of :func:`ridge_solution` is linear in y, :math:`\hat y = H_\lambda y` with
    :math:`H_\lambda = \frac{1}{m}\mathbf{1}\mathbf{1}^\top
    + U\,\mathrm{diag}\big(\frac{s_j^2}{s_j^2+\lambda}\big)U^\top` (unpenalized intercept).
    Refitting without example i changes its residual to :math:`e_i/(1 - H_{ii})`
    exactly (Sherman–Morrison), so, with the sums over the singular values that are not
    round-off of zero (those :func:`ridge_path` keeps),

    .. math::

        \mathrm{LOO}(\lambda) = \frac{1}{m}\sum_i\Big(\frac{e_i}{1 - H_{ii}}\Big)^2,
        \qquad
        \mathrm{GCV}(\lambda) = \frac{\frac{1}{m}\sum_i e_i^2}{(1 - \mathrm{tr}H/m)^2}.

    Args:
      X: inputs, shape (m, n).
      y: targets, shape (m,).
      lams: λ grid, shape (G,).

    Returns:
      (loo, gcv), each of shape (G,): mean squared prediction errors.

    Example:
      >>> X = jnp.array([[0.0], [1.0], [2.0], [3.0]]); y = jnp.array([0.0, 1.0, 2.0, 3.5])
      >>> loo, gcv = ridge_loo_gcv(X, y, jnp.array([0.0]))
      >>> round(float(loo[0]), 4)   # brute-force refits give 0.11196…
      0.112

    References:
      G. Golub, M. Heath, G. Wahba, "Generalized cross-validation as a method for
      choosing a good ridge parameter", Technometrics 21 (1979).
    """
    lams = _checks.as_grid(lams)
    dtype = result_dtype(X)
    loo, gcv = _ridge.loo_gcv(_ridge.centered(X, y, ndims=(1,)), lams)
    return loo.astype(dtype), gcv.astype(dtype)
