r"""Preconditioned conjugate gradients on pytrees, for one problem or a batch of them.

Solves :math:`A x = b` for a symmetric positive-definite A given only as a function
``matvec``. The vectors are pytrees; ``dot(u, v)`` returns their inner product per
problem — a scalar for one problem, or shape (G,) for G independent problems whose
leaves carry the problem axis last (it broadcasts against every leaf). Each problem
stops on its own residual target; the loop runs while any is still going, and a
stopped problem's iterate no longer changes.

References:
  M. Hestenes, E. Stiefel, "Methods of conjugate gradients for solving linear
  systems", J. Res. Nat. Bur. Standards 49 (1952); J. Nocedal, S. Wright, *Numerical
  Optimization*, 2nd ed., Algorithm 5.3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from regjax._typing import PyTree

Array = jax.Array


class CGState(NamedTuple):
    """The loop state: iterate, residual, preconditioned residual, direction."""

    x: PyTree
    r: PyTree
    z: PyTree
    p: PyTree
    rz: Array  # ⟨r, z⟩ per problem
    going: Array  # per problem: not yet at its target, curvature still positive
    iterations: Array  # block iterations so far (a scalar)


class CGResult(NamedTuple):
    """The solution and, per problem, its final residual norm and whether it met the
    target (``iterations`` counts block iterations, each one ``matvec`` of the batch)."""

    x: PyTree
    residual: Array
    converged: Array
    iterations: Array


def _axpy(alpha: Array, x: PyTree, y: PyTree) -> PyTree:
    return jax.tree.map(lambda a, b: a + alpha * b, y, x)


def cg(
    matvec: Callable[[PyTree], PyTree],
    b: PyTree,
    *,
    dot: Callable[[PyTree, PyTree], Array],
    target: Array,
    max_iter: Array | int,
    precondition: Callable[[PyTree], PyTree] | None = None,
    active: Array | None = None,
) -> CGResult:
    """Preconditioned CG from x = 0 until ‖b − Ax‖ ≤ ``target`` per problem.

    Args:
      matvec: x ↦ Ax (batched: every problem's product at once).
      b: the right-hand side.
      dot: per-problem inner product.
      target: residual norm at which a problem stops (per problem, or one value).
      max_iter: most block iterations.
      precondition: r ↦ M⁻¹r, M ≈ A symmetric positive-definite (default: none).
      active: which problems to solve (the others return x = 0).

    Returns:
      A :class:`CGResult`. A problem meeting non-positive curvature stops there.

    Example:
      >>> A = jnp.array([[4.0, 1.0], [1.0, 3.0]])
      >>> res = cg(lambda x: A @ x, jnp.array([1.0, 2.0]), dot=jnp.dot,
      ...          target=jnp.array(1e-6), max_iter=10)
      >>> [round(float(v), 5) for v in res.x], bool(res.converged)
      ([0.09091, 0.63636], True)
    """
    precondition = precondition or (lambda r: r)
    r = b
    z = precondition(r)
    rz = dot(r, z)
    going = jnp.sqrt(dot(r, r)) > target
    if active is not None:
        going = going & active
    x = jax.tree.map(jnp.zeros_like, b)
    state = CGState(x, r, z, z, rz, going, jnp.zeros((), jnp.int32))

    def cond(s: CGState) -> Array:
        return jnp.any(s.going) & (s.iterations < max_iter)

    def body(s: CGState) -> CGState:
        Ap = matvec(s.p)
        pAp = dot(s.p, Ap)
        going = s.going & (pAp > 0)
        alpha = jnp.where(going, s.rz / jnp.where(going, pAp, 1), 0)
        x = _axpy(alpha, s.p, s.x)
        r = _axpy(-alpha, Ap, s.r)
        going = going & (jnp.sqrt(dot(r, r)) > target)
        z = precondition(r)
        rz = dot(r, z)
        beta = jnp.where(going, rz / jnp.where(s.rz != 0, s.rz, 1), 0)
        p = _axpy(beta, s.p, z)
        return CGState(x, r, z, p, rz, going, s.iterations + 1)

    final = jax.lax.while_loop(cond, body, state)
    residual = jnp.sqrt(dot(final.r, final.r))
    return CGResult(final.x, residual, residual <= target, final.iterations)
