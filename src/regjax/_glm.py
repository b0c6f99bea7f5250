r"""What the batched path engines share: the GLM loss families and the data-side GEMMs.

A whole λ grid is held as one block: weights ``W`` of shape (n, K, G) and biases ``b``
of shape (K, G) (K = 1 for a scalar output, K classes for softmax; G values of λ), so
that every product with the data is one GEMM over all K·G columns,

.. math::

    Z = X W + b \quad (m, K, G), \qquad
    \nabla_W \tfrac1m\textstyle\sum_i \ell_i = \tfrac1m X^\top (P - Y), \qquad
    \nabla_b = \tfrac1m\textstyle\sum_i (P_i - Y_i),

where P is the family's mean prediction (Z itself, σ(Z), or softmax over K). The
losses themselves come from :mod:`regjax.losses`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from regjax import losses

Array = jax.Array
Coef = tuple[Array, Array]  # (W (n, K, G), b (K, G))


class Family(NamedTuple):
    """A GLM's per-example loss ℓ(z, y) on logits Z of shape (m, K, G).

    Attributes:
      name: ``"squared"``, ``"binary"`` or ``"softmax"``.
      terms: the per-example loss over the K axis, (m, K, G) → (m, G), from
        :mod:`regjax.losses`.
      probs: the mean prediction P, so that ∂ℓ/∂Z = P − Y.
      hess: the per-example Hessian of ℓ in z, given P, applied to U (m, K, G).
      curvature: an upper bound of that Hessian's largest eigenvalue (1, ¼, ½).
      shift_invariant: adding a constant to the K logits changes nothing (softmax),
        so b is kept with zero mean over K.
    """

    name: str
    terms: Callable[[Array, Array], Array]
    probs: Callable[[Array], Array]
    hess: Callable[[Array, Array], Array]
    curvature: float
    shift_invariant: bool


def _softmax_hess(P: Array, U: Array) -> Array:
    return P * (U - jnp.sum(P * U, axis=1, keepdims=True))


squared = Family(
    name="squared",
    terms=lambda Z, Y: jnp.sum(losses.squared_terms(Z, Y), axis=1),
    probs=lambda Z: Z,
    hess=lambda P, U: U,
    curvature=1.0,
    shift_invariant=False,
)

binary = Family(
    name="binary",
    terms=lambda Z, Y: jnp.sum(losses.logistic_terms(Z, Y), axis=1),
    probs=jax.nn.sigmoid,
    hess=lambda P, U: P * (1 - P) * U,
    curvature=0.25,
    shift_invariant=False,
)

softmax = Family(
    name="softmax",
    terms=lambda Z, Y: losses.softmax_terms(Z, Y, axis=1),
    probs=lambda Z: jax.nn.softmax(Z, axis=1),
    hess=_softmax_hess,
    curvature=0.5,
    shift_invariant=True,
)


def mean_loss(family: Family, Z: Array, Y: Array) -> Array:
    """The mean data loss of every column g, shape (G,)."""
    return jnp.mean(family.terms(Z, Y), axis=0)


def separates(family: Family, Z: Array, Y: Array) -> Array:
    """Whether the logits classify every example correctly with a positive margin, (G,).

    At λ = 0 such data have no finite minimizer: scaling the weights up lowers the loss
    toward its infimum 0 forever.
    """
    if family.name == "binary":
        return jnp.all((2 * Y - 1) * Z > 0, axis=(0, 1))
    if family.name == "softmax":
        true = jnp.sum(Y * Z, axis=1)
        other = jnp.max(jnp.where(Y > 0, -jnp.inf, Z), axis=1)
        return jnp.all(true > other, axis=0)
    return jnp.zeros(Z.shape[-1], bool)


def missing_class(family: Family, Y: Array) -> Array:
    """Whether some class never occurs (a scalar): its intercept then runs to ∓∞ for
    every λ, since intercepts are not penalized."""
    if family.name == "squared":
        return jnp.zeros((), bool)
    present = jnp.sum(Y, axis=0)  # (K, 1)
    absent = present == 0
    if family.name == "binary":
        absent = absent | (present == Y.shape[0])
    return jnp.any(absent)


class DataOps:
    """The data-side products, each one GEMM over all K·G columns.

    ``XT`` is X transposed and stored so: a plain GEMM (``X.T @ R`` with its long
    contraction runs about 25% slower on CPU). ``dtype`` is the precision of the
    products (the Newton engine solves for its step in float32).
    """

    def __init__(self, X: Array, XT: Array, K: int, dtype: jnp.dtype) -> None:
        self.m, self.n = X.shape
        self.X, self.XT = X.astype(dtype), XT.astype(dtype)
        self.K = K

    def forward(self, W: Array) -> Array:  # (n, K, G) -> (m, K, G)
        return (self.X @ W.reshape(self.n, -1)).reshape(self.m, self.K, -1)

    def adjoint(self, R: Array) -> Array:  # (m, K, G') -> (n, K, G'), with the 1/m
        XtR = self.XT @ R.reshape(self.m, -1)
        return XtR.reshape(self.n, self.K, -1) / self.m


def dot(u: Coef, v: Coef) -> Array:
    """Per-column inner products of two (W, b) blocks, shape (G,)."""
    return jnp.sum(u[0] * v[0], axis=(0, 1)) + jnp.sum(u[1] * v[1], axis=0)


def max_abs(u: Coef) -> Array:
    """Per-column max-abs of a (W, b) block, shape (G,)."""
    return jnp.maximum(jnp.max(jnp.abs(u[0]), axis=(0, 1)), jnp.max(jnp.abs(u[1]), axis=0))


def centre(b: Array, shift_invariant: bool) -> Array:
    """Remove the mean over K from a bias block when only differences matter."""
    return b - jnp.mean(b, axis=0, keepdims=True) if shift_invariant else b


def initial_bias(family: Family, Y: Array) -> Array:
    """The intercept that is optimal at W = 0, (K,): ȳ, logit(ȳ) or centred log
    class frequencies (frequencies floored at 1/(2m), so a missing class stays finite)."""
    m = Y.shape[0]
    mean = jnp.mean(Y[:, :, 0], axis=0)
    if family.name == "squared":
        return mean
    freq = jnp.clip(mean, 0.5 / m, 1 - 0.5 / m)
    if family.name == "binary":
        return jnp.log(freq / (1 - freq))
    return jnp.log(freq) - jnp.mean(jnp.log(freq))


_MIN_WIDTH = 8  # the narrowest block the columns still running are gathered into
_MIN_WORK = 1e8  # rows·n·G below which compaction's compile time is not worth it


def large(rows: int, n: int, G: int) -> bool:
    """Whether a problem of rows·n·G is large enough (≥ 1e8) for an engine's extra
    compiled branches to pay for their compile time."""
    return rows * n * G >= _MIN_WORK


def widths(rows: int, n: int, G: int) -> list[int]:
    """The block widths an engine's iteration may run at: G, ⌈G/2⌉, ⌈G/4⌉, … ≥ 8; only G
    where the block is wider than the data (G > n) or the problem is small (see
    :func:`compacted`). ``rows`` is what each GEMM runs over: m, or n in the Gram space."""
    out = [G]
    if G > n or not large(rows, n, G):
        return out
    while (out[-1] + 1) // 2 >= _MIN_WIDTH:
        out.append((out[-1] + 1) // 2)
    return out


def compacted(
    body: Callable[[Any, Array], Any],
    reg: Array,
    running: Callable[[Any], Array],
    per_column: tuple[str, ...],
    shape: tuple[int, int],
) -> Callable[[Any], Any]:
    """``body(state, reg)`` on only as many columns as are still running.

    ``state`` is an engine's NamedTuple whose fields named in ``per_column`` carry the
    λ axis last; ``running(state)`` says which columns still iterate, and ``body`` must
    leave the others as they are. Most λ of a path converge in the first iterations,
    while the last ones hold most of the work, and every GEMM costs its block's width.
    So each iteration gathers the running columns (and, to fill the block, some finished
    ones) into the narrowest width of :func:`widths` that holds them, a static shape per
    branch of a ``lax.switch``, and scatters the result back. Each width is one more
    compiled copy of ``body`` (about 1 s each on a 2-core CPU), so this is only done for
    problems of at least 1e8 rows·n·G (a Newton path at 20000 × 200 with 64 λ: 0.32 →
    0.26 s; at 2000 × 2000: 1.08 → 0.88 s), and not where the block is wider than the
    data (G > n): there the m × G logits and probabilities it moves cost as much as the
    GEMMs it saves (100000 × 50, G = 64: 0.63 s against 0.50 s without).
    """

    def at_width(w: int) -> Callable[[Any], Any]:
        def run(s: Any) -> Any:
            if w == reg.shape[0]:
                return body(s, reg)
            cols = jnp.argsort(~running(s), stable=True)[:w]  # running ones first
            take = lambda a: jnp.take(a, cols, axis=-1)  # noqa: E731
            put = lambda a, v: a.at[..., cols].set(v)  # noqa: E731
            sub = s._replace(**{f: jax.tree.map(take, getattr(s, f)) for f in per_column})
            new = body(sub, take(reg))
            return new._replace(
                **{f: jax.tree.map(put, getattr(s, f), getattr(new, f)) for f in per_column}
            )

        return run

    sizes = widths(*shape, reg.shape[0])
    if len(sizes) == 1:
        return lambda s: body(s, reg)
    branches = [at_width(w) for w in sizes]
    narrowest_fit = jnp.asarray(sizes)  # descending: the last width ≥ the running count

    def step(s: Any) -> Any:
        k = jnp.sum(narrowest_fit >= jnp.sum(running(s))) - 1
        return jax.lax.switch(k, branches, s)

    return step
