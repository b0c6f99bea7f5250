r"""Proximal operators of the L1 and elastic-net penalties, elementwise.

The proximal operator of a convex penalty P with step s is

.. math::

    \operatorname{prox}_{sP}(z) = \arg\min_w \tfrac12 (w - z)^2 + s\,P(w).

For :math:`P(w) = |w|` it is soft-thresholding, which sets small entries exactly to
zero; for the elastic net :math:`P(w) = \rho|w| + \frac{1-\rho}{2}w^2` it is
soft-thresholding followed by a shrinkage. A proximal-gradient step
:math:`w \leftarrow \operatorname{prox}_{\eta P}(w - \eta\nabla f(w))` is what
:func:`regjax.transforms.prox_l1` does after an optimizer's step and what the path
engine (:mod:`regjax.paths`) iterates; both call these functions.

References:
  N. Parikh, S. Boyd, "Proximal Algorithms", Found. Trends Optim. 1 (2014), §6.5.2;
  H. Zou, T. Hastie, "Regularization and variable selection via the elastic net",
  J. R. Stat. Soc. B 67 (2005).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from regjax import _checks

__all__ = ["elastic_net", "soft_threshold"]


def soft_threshold(x: ArrayLike, threshold: ArrayLike) -> jax.Array:
    r"""Soft-thresholding, the proximal operator of :math:`t|w|`.

    .. math::

        S_t(x) = \operatorname{sign}(x)\max(|x| - t,\ 0),

    exactly zero wherever :math:`|x| \le t`.

    Args:
      x: the point z, any shape.
      threshold: t ≥ 0, broadcastable against ``x``.

    Returns:
      :math:`S_t(x)`, the shape of ``x`` broadcast with ``threshold``.

    Example:
      >>> soft_threshold(jnp.array([-3.0, 0.5, 2.0]), 1.0)
      Array([-2.,  0.,  1.], dtype=float32)
    """
    _checks.check_lam(threshold, "threshold")
    x = jnp.asarray(x)
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - threshold, 0)


def elastic_net(x: ArrayLike, strength: ArrayLike, *, l1_ratio: ArrayLike) -> jax.Array:
    r"""The proximal operator of :math:`s\big(\rho|w| + \frac{1-\rho}{2}w^2\big)`.

    Setting the subgradient of :math:`\frac12(w - x)^2 + s\rho|w| +
    \frac{s(1-\rho)}{2}w^2` to zero gives

    .. math::

        \operatorname{prox}(x) = \frac{S_{s\rho}(x)}{1 + s(1 - \rho)},

    soft-thresholding by sρ (:func:`soft_threshold`), then a shrinkage by the L2 part;
    ρ = 1 is the lasso's prox, ρ = 0 the ridge shrinkage x/(1 + s).

    Args:
      x: the point z, any shape.
      strength: s ≥ 0 (a step size times the penalty's strength), broadcastable.
      l1_ratio: ρ in [0, 1], broadcastable.

    Returns:
      The prox, the shape of ``x`` broadcast with the other arguments.

    Example:
      >>> elastic_net(jnp.array([0.5, -3.0]), 2.0, l1_ratio=0.5)   # S₁(x) / (1 + 1)
      Array([ 0., -1.], dtype=float32)
    """
    _checks.check_lam(strength, "strength")
    _checks.check_fraction(l1_ratio, elementwise=True)
    return soft_threshold(x, strength * l1_ratio) / (1 + strength * (1 - l1_ratio))
