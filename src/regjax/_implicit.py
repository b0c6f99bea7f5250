r"""The path engines, jitted and differentiable: :func:`solve` runs the batched
Newton-CG or proximal engine over a grid, and ``jax.grad`` through it is the implicit
derivative of the solutions, without unrolling the engines' iterations.

Column g of a path minimizes

.. math::

    J_g(\theta; \lambda_g, \rho, X, Y) = \frac1m\sum_i \ell(x_i^\top W_g + b_g, y_i)
        + \frac{\lambda_g}{m}\Big(\rho\lVert W_g\rVert_1 + \frac{1-\rho}{2}\lVert W_g
        \rVert^2\Big),

so its solution :math:`\theta_g^*` satisfies :math:`F_g(\theta_g^*; \lambda_g, \rho, X,
Y) = 0` with F the gradient of J in θ (on the support of :math:`W_g` when ρ > 0: there
the solution is locally smooth and ∂‖W‖₁ = sign W is constant). The implicit function
theorem turns a cotangent :math:`\bar\theta` of the solution into

.. math::

    \bar\xi = -\Big(\frac{\partial F}{\partial \xi}\Big)^{\!\top} u, \qquad
    H_g u_g = \bar\theta_g, \qquad \xi \in \{\lambda, \rho, X, Y\},

with :math:`H_g = \partial F_g/\partial\theta`, the Hessian of :math:`J_g`, restricted to
the support. Every column's system is solved at once by batched conjugate gradients on
Hessian-vector products (:func:`regjax._cg.cg`); nothing of size n² is formed.

References:
  M. Blondel et al., "Efficient and modular implicit differentiation", NeurIPS 2022;
  Q. Bertrand et al., "Implicit differentiation of Lasso-type models for
  hyperparameter optimization", ICML 2020.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from regjax import _glm, _newton, _proximal, _screening
from regjax._cg import cg
from regjax._glm import Coef, Family

Array = jax.Array


def _objective(family: Family, X: Array, Y: Array, lams: Array, rho: Array, theta: Coef) -> Array:
    """Σ_g J_g(θ_g): the columns are independent, so its gradient is every column's."""
    W, b = theta
    Z = jnp.einsum("mn,nkg->mkg", X, W) + b
    reg = lams / X.shape[0]
    l1 = jnp.sum(jnp.abs(W), axis=(0, 1))
    l2 = jnp.sum(W * W, axis=(0, 1)) / 2
    return jnp.sum(_glm.mean_loss(family, Z, Y) + reg * (rho * l1 + (1 - rho) * l2))


def stationarity(family: Family, X: Array, Y: Array, lams: Array, rho: Array, theta: Coef) -> Coef:
    """F(θ) = ∇_θ J for every column, the block that is 0 at the solution."""
    return jax.grad(lambda t: _objective(family, X, Y, lams, rho, t))(theta)


@functools.partial(jax.jit, static_argnames="family_name")
def vjp(
    family_name: str,
    X: Array,
    Y: Array,
    lams: Array,
    rho: Array,
    theta: Coef,
    cotangent: Coef,
) -> tuple[Array, Array, Array, Array]:
    """The cotangents of (λ, ρ, X, Y) given that of the solution block θ*.

    Args:
      family_name: the loss, a :class:`regjax._glm.Family` name.
      X: inputs (m, n); Y: targets (m, K, 1); lams: (G,); rho: ρ, a scalar.
      theta: the solution block ``(W (n, K, G), b (K, G))``.
      cotangent: the cotangent of θ*, the same block.

    Returns:
      ``(λ̄, ρ̄, X̄, Ȳ)``.
    """
    family = getattr(_glm, family_name)
    W, b = theta
    support = (W != 0) | (rho == 0)  # L1: the coordinates at zero stay there

    def restrict(v: Coef) -> Coef:
        return jnp.where(support, v[0], 0), _glm.centre(v[1], family.shift_invariant)

    def hvp(v: Coef) -> Coef:
        Hv = jax.jvp(lambda t: stationarity(family, X, Y, lams, rho, t), (theta,), (restrict(v),))
        Hv = restrict(Hv[1])
        return Hv[0] + jnp.where(support, 0, v[0]), Hv[1]  # identity off the support

    rhs = restrict(cotangent)
    tol = 1e-12 if W.dtype == jnp.float64 else 1e-6
    size = W.shape[0] * W.shape[1] + b.shape[0]
    u = cg(hvp, rhs, dot=_glm.dot, target=tol * jnp.sqrt(_glm.dot(rhs, rhs)),
           max_iter=2 * size + 20).x  # fmt: skip

    def F(lams: Array, rho: Array, X: Array, Y: Array) -> Coef:
        return stationarity(family, X, Y, lams, rho, theta)

    _, pullback = jax.vjp(F, lams, rho, X, Y)
    return pullback((-u[0], -u[1]))


@functools.partial(jax.jit, static_argnames=("family_name", "proximal"))
def _engines(
    X: jax.Array,
    XT: jax.Array,
    Y: jax.Array,
    lams: jax.Array,
    l1_ratio: jax.Array,
    tol: jax.Array,
    max_iter: jax.Array,
    max_cg: jax.Array,
    init: tuple[jax.Array, jax.Array] | None,
    *,
    family_name: str,
    proximal: bool,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]:
    """Run an engine over the whole grid: (W, b, iterations, grad_max, converged,
    no finite minimizer)."""
    family = getattr(_glm, family_name)
    if proximal:
        (m, n), G = X.shape, lams.shape[0]
        screen = init is None and _screening.screens(family, m, n, G)
        engine = _screening.screened if screen else functools.partial(_proximal.fista, init=init)
        prox = engine(family, X, Y, lams, l1_ratio, tol=tol, max_iter=max_iter)
        W, b, Z, its, gmax, ok = prox
    else:
        newton = _newton.newton_cg(
            family, X, XT, Y, lams, tol=tol, max_iter=max_iter, max_cg=max_cg, init=init
        )
        W, b, Z, its, gmax, ok = newton[:6]
    no_minimizer = jnp.zeros(lams.shape, bool)
    if Z is not None:
        no_minimizer = _glm.missing_class(family, Y) | ((lams == 0) & _glm.separates(family, Z, Y))
    return W, b, its, gmax, ok, no_minimizer


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def solve(family_name: str, proximal: bool, *args: Any) -> tuple[jax.Array, ...]:
    """The engines' outcome (W, b, iterations, grad_max, converged, no finite minimizer)
    for ``args = (X, XT, Y, lams, l1_ratio, tol, max_iter, max_cg, init)``.

    Reverse-mode differentiable in X, Y, λ and ρ through W and b by :func:`vjp`, the
    implicit function theorem (forward mode, ``jax.jvp``, is not defined); the other
    outputs are not differentiable.
    """
    return _engines(*args, family_name=family_name, proximal=proximal)


def _solve_fwd(
    family_name: str, proximal: bool, *args: Any
) -> tuple[tuple[jax.Array, ...], tuple[jax.Array, ...]]:
    out = _engines(*args, family_name=family_name, proximal=proximal)
    X, _, Y, lams, l1_ratio = args[:5]
    return out, (X, Y, lams, l1_ratio, out[0], out[1])


def _solve_bwd(
    family_name: str, proximal: bool, residuals: tuple[jax.Array, ...], cts: tuple[Any, ...]
) -> tuple[Any, ...]:
    del proximal
    X, Y, lams, rho, W, b = residuals
    ct_lams, ct_rho, ct_X, ct_Y = vjp(family_name, X, Y, lams, rho, (W, b), cts[:2])
    return ct_X, None, ct_Y, ct_lams, ct_rho, None, None, None, None


solve.defvjp(_solve_fwd, _solve_bwd)
