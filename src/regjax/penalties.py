r"""L2, L1 and elastic-net penalties on any pytree of parameters.

The library's convention is Ng's: a *mean* data loss plus

.. math::

    \frac{\lambda}{2m}\sum_j w_j^2 \quad\text{(L2)}, \qquad
    \frac{\lambda}{m}\sum_j |w_j| \quad\text{(L1)},

biases excluded. The ``scale`` argument reaches the other two common forms:

===============  ==========================  ======================
``scale``        L2                          L1
===============  ==========================  ======================
``per_example``  λ/(2m)·Σw²  (m required)    λ/m·Σ|w|
``sum``          λ/2·Σw²                     λ·Σ|w|
``per_param``    λ/(2n)·Σw²                  λ/n·Σ|w|
===============  ==========================  ======================

where n is the number of penalized weights (the sizes of the leaves the mask keeps).

Masks say which leaves are penalized. ``mask=None`` penalizes every leaf except biases
and normalization parameters (:func:`exclude_biases_and_norms`: leaves named ``b``,
``bias`` or ``scale``, Flax norm layers by name, Equinox and Flax NNX norm modules by
type); ``mask=True`` penalizes every leaf, as PyTorch's ``weight_decay`` and Optax's
``adamw`` (``mask=None``) do; ``mask=False`` none. A mask may also be a boolean pytree
(the structure of ``params`` or a prefix of it, one bool per leaf), or a callable
``params -> boolean pytree``: :func:`exclude_biases` (biases only), :func:`weights_only`
(matrices, kernels and embeddings only) or one built by :func:`path_mask`.

``lam`` may be a scalar or a pytree of per-leaf strengths (the structure of ``params``
or a prefix of it); then each leaf is penalized with its own λ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from regjax import _checks
from regjax._masks import (
    broadcast_prefix,
    exclude_biases,
    exclude_biases_and_norms,
    path_mask,
    resolve_mask,
    weights_only,
)
from regjax._typing import Lam, Mask, Params, PyTree, Scale

__all__ = [
    "SCALES",
    "elastic_net",
    "exclude_biases",
    "exclude_biases_and_norms",
    "l1",
    "l2",
    "leaf_strengths",
    "num_penalized",
    "path_mask",
    "penalty_divisor",
    "resolve_mask",
    "weights_only",
]

SCALES: tuple[str, ...] = ("per_example", "sum", "per_param")


def num_penalized(params: Params, mask: Mask = None) -> int:
    """n, the number of penalized weights: the total size of the leaves the mask keeps.

    Example:
      >>> import jax.numpy as jnp
      >>> num_penalized({"w": jnp.ones((3, 2)), "b": jnp.ones(2)})
      6
    """
    flags = resolve_mask(params, mask)
    return sum(int(jnp.size(leaf)) for leaf, keep in zip(jax.tree.leaves(params), flags) if keep)


def penalty_divisor(scale: str, *, m: ArrayLike | None = None, n: int = 0) -> ArrayLike:
    """The divisor d in λ/(2d)·Σw² and λ/d·Σ|w|: m, 1 or n for the three scales.

    Example:
      >>> penalty_divisor("per_example", m=50), penalty_divisor("sum"), penalty_divisor(
      ...     "per_param", n=7)
      (50, 1, 7)
    """
    _checks.check_choice(scale, "scale", SCALES)
    if scale == "per_example":
        if m is None:
            raise ValueError(
                'm (the number of training examples) is required for scale="per_example"'
            )
        _checks.check_count(m, "m", "the number of training examples")
        return m
    if scale == "per_param":
        return max(n, 1)
    return 1


def leaf_strengths(params: Params, lam: Lam, mask: Mask = None) -> PyTree:
    """The strength λ of each leaf (0 where the mask excludes it), as a pytree.

    Args:
      params: a pytree of parameters.
      lam: a scalar, or a pytree of per-leaf scalars (structure or prefix of params).
      mask: see :func:`resolve_mask`.

    Returns:
      A pytree with the structure of ``params`` whose leaves are scalar λ's.

    Example:
      >>> import jax.numpy as jnp
      >>> leaf_strengths({"w": jnp.ones(2), "b": jnp.ones(())}, 3.0)
      {'b': 0.0, 'w': 3.0}
    """
    _checks.check_lam(lam)
    flags = resolve_mask(params, mask)
    lams = broadcast_prefix(lam, params, "lam")
    for value in lams:
        if jnp.ndim(value) != 0:
            raise ValueError(
                f"lam must be a scalar or a pytree of scalars, got shape {jnp.shape(value)}"
            )
    leaves, treedef = jax.tree.flatten(params)
    values = [value if keep else 0.0 for value, keep in zip(lams, flags)]
    del leaves
    return jax.tree.unflatten(treedef, values)


def _weighted_sums(
    params: Params, lam: Lam, mask: Mask, fn: Callable[[jax.Array], jax.Array]
) -> Any:
    strengths = jax.tree.leaves(leaf_strengths(params, lam, mask))
    flags = resolve_mask(params, mask)
    for s, leaf in zip(strengths, jax.tree.leaves(params)):
        big = float(jnp.finfo(jnp.result_type(leaf)).max)
        if _checks.is_concrete(s) and abs(float(s)) > big:
            raise ValueError(f"lam = {s} is larger than the params' dtype holds ({big:g})")
    leaves = jax.tree.leaves(params)
    with jax.numpy_dtype_promotion("standard"):  # a mixed-precision tree: the widest float
        dtype = jnp.result_type(*leaves) if leaves else jnp.zeros(()).dtype
    terms = [
        (jnp.asarray(s, dtype=leaf.dtype) * jnp.sum(fn(leaf))).astype(dtype)
        for s, leaf, keep in zip(strengths, leaves, flags)
        if keep
    ]
    return sum(terms, start=jnp.zeros((), dtype))


def l2(
    params: Params,
    lam: Lam,
    *,
    m: ArrayLike | None = None,
    scale: Scale = "per_example",
    mask: Mask = None,
) -> jax.Array:
    r"""L2 penalty :math:`\frac{\lambda}{2d}\sum_j w_j^2`, d = m, 1 or n (see ``scale``).

    The ½ makes the gradient :math:`\lambda w / d` (no stray 2); with d = m the penalty
    is on the same per-example scale as a mean data loss.

    Args:
      params: a pytree of parameters.
      lam: λ ≥ 0, a scalar (may be traced) or a pytree of per-leaf strengths.
      m: number of training examples; required for ``scale="per_example"``.
      scale: ``"per_example"``, ``"sum"`` or ``"per_param"``.
      mask: which leaves are penalized (default: all but biases and norm parameters).

    Returns:
      The penalty, a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> params = {"w": jnp.array([1.0, 2.0]), "b": jnp.array(5.0)}
      >>> float(l2(params, 4.0, m=10))   # 4/(2·10)·(1 + 4)
      1.0

    References:
      A. Ng, Machine Learning (Coursera), regularized linear and logistic regression.
    """
    _checks.check_float_params(params)
    n = num_penalized(params, mask)
    divisor = penalty_divisor(scale, m=m, n=n)
    penalty = _weighted_sums(params, lam, mask, jnp.square) / (2 * divisor)
    return _checks.finite_result(penalty, "the L2 penalty")


def l1(
    params: Params,
    lam: Lam,
    *,
    m: ArrayLike | None = None,
    scale: Scale = "per_example",
    mask: Mask = None,
) -> jax.Array:
    r"""L1 penalty :math:`\frac{\lambda}{d}\sum_j |w_j|`, d = m, 1 or n (see ``scale``).

    Its subgradient is :math:`\frac{\lambda}{d}\,\mathrm{sign}(w)`, taken as 0 at
    w = 0: |w| is computed as w·sign(w), so ``jax.grad`` gives 0 there too (``jax.grad``
    of ``jnp.abs`` gives 1 at 0).

    Args:
      params: a pytree of parameters.
      lam: λ ≥ 0, a scalar or a pytree of per-leaf strengths.
      m: number of training examples; required for ``scale="per_example"``.
      scale: ``"per_example"``, ``"sum"`` or ``"per_param"``.
      mask: which leaves are penalized (default: all but biases and norm parameters).

    Returns:
      The penalty, a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> float(l1({"w": jnp.array([1.0, -2.0])}, 2.0, scale="sum"))
      6.0
    """
    _checks.check_float_params(params)
    n = num_penalized(params, mask)
    divisor = penalty_divisor(scale, m=m, n=n)
    penalty = _weighted_sums(params, lam, mask, lambda w: w * jnp.sign(w)) / divisor
    return _checks.finite_result(penalty, "the L1 penalty")


def elastic_net(
    params: Params,
    lam: Lam,
    *,
    l1_ratio: float,
    m: ArrayLike | None = None,
    scale: Scale = "per_example",
    mask: Mask = None,
) -> jax.Array:
    r"""Elastic net: ρ·L1 + (1 − ρ)·L2, i.e. :math:`\frac{\lambda}{d}\big(\rho\|w\|_1
    + \frac{1-\rho}{2}\|w\|_2^2\big)`.

    With a mean data loss and ``scale="per_example"`` this is scikit-learn's
    ``ElasticNet(alpha=λ/m, l1_ratio=ρ)`` and glmnet's (λ/m, α=ρ).

    Args:
      params: a pytree of parameters.
      lam: λ ≥ 0, a scalar or a pytree of per-leaf strengths.
      l1_ratio: ρ in [0, 1]; 1 is the lasso, 0 is ridge.
      m: number of training examples; required for ``scale="per_example"``.
      scale: ``"per_example"``, ``"sum"`` or ``"per_param"``.
      mask: which leaves are penalized (default: all but biases and norm parameters).

    Returns:
      The penalty, a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> float(elastic_net({"w": jnp.array([2.0])}, 1.0, l1_ratio=0.5, scale="sum"))
      2.0
    """
    _checks.check_fraction(l1_ratio)
    return l1_ratio * l1(params, lam, m=m, scale=scale, mask=mask) + (1 - l1_ratio) * l2(
        params, lam, m=m, scale=scale, mask=mask
    )
