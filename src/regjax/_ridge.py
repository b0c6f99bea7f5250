r"""The SVD of the centred X behind the ridge path and its LOO/GCV, at the cost of the
smaller side of X.

With :math:`\tilde X = U\,\mathrm{diag}(s)\,V^\top` (thin SVD of the centred X, rank r)
and :math:`\tilde Y` the centred targets (k columns), everything the ridge path and its
leave-one-out and GCV errors need is s, :math:`U^\top\tilde Y`, and one of U or V:

.. math::

    w(\lambda) = V\,\mathrm{diag}\Big(\frac{s_j}{s_j^2+\lambda}\Big)U^\top\tilde Y,
    \qquad
    H_{ii}(\lambda) = \frac1m + \sum_j U_{ij}^2\,\frac{s_j^2}{s_j^2+\lambda}.

A thin SVD of the m × n matrix computes both U and V, m/n times the work the problem
needs when m ≫ n. The route is chosen from the shape (static, so under ``jit`` too):

``tall`` (m ≥ n + k)
    First the eigendecomposition of the n × n Gram matrix
    :math:`\tilde X^\top\tilde X = V\,\mathrm{diag}(s^2)V^\top` (m·n² multiply-adds, half
    the QR's): its s_j² have absolute error O(ε s_max²), so the route is kept only where
    that cannot matter, :math:`\varepsilon\,\kappa(\tilde X)^2 \le` ``GRAM_ERROR``
    (1e-12; κ ≤ 67 in float64, never in float32), judged from the Gram's own eigenvalues
    (s_min² is then at least 2e-4 s_max², far above its own error). There
    :math:`U^\top\tilde Y = \mathrm{diag}(1/s)V^\top\tilde X^\top\tilde Y`, and the
    solutions are within ~ε κ² ≤ 1e-12 relative of the SVD's. Otherwise (a ``lax.cond``;
    under ``vmap`` over X, the Gram route only where every lane passes) a
    Householder QR of the augmented :math:`[\tilde X \mid \tilde Y] = Q\begin{bmatrix}
    R & z\\ 0 & \rho\end{bmatrix}`, R only (Q is never formed: the reflectors carry Ỹ
    along, so :math:`z = Q^\top\tilde Y` comes free), then the SVD of the n × n
    :math:`R = U_R\,\mathrm{diag}(s)\,V^\top`: :math:`\tilde X = (QU_R)\,\mathrm{diag}(s)
    V^\top` and :math:`U^\top\tilde Y = U_R^\top z`. Cost 2m(n+k)² − ⅔(n+k)³ + O(n³),
    twice the Gram matrix's m·n²: the price of not squaring κ. Where U
    itself is needed (the leverages) it is :math:`\tilde XV\mathrm{diag}(1/s)`, one
    m × n × n product: forming Q (as a thin SVD does) costs twice that, and ``H_ii``
    needs an m × n × G product whatever the route. This U is exact in arithmetic; in
    floating point its columns for s_j ≪ s_max are off by O(ε s_max/s_j), which reaches
    the leverages only where λ ≲ s_j²: O(ε κ(X̃)) there, the order of the SVD's own
    worst case.
``wide`` (n > m)
    The same on the m × m side: the eigh of :math:`\tilde X\tilde X^\top` where
    ε·κ(X̃)² ≤ ``GRAM_ERROR``, κ judged without the ones vector that centring puts in its
    null space (see :func:`_wide`), else :math:`\tilde X^\top = Q_2R_2`, the SVD of
    :math:`R_2^\top = U\,\mathrm{diag}(s)\,W^\top` gives U (m × m) and s exactly, and
    :math:`V = \tilde X^\top U\mathrm{diag}(1/s)` is applied, the dual form
    :math:`w = \tilde X^\top U\mathrm{diag}(1/(s_j^2+\lambda))U^\top\tilde Y` (2·G·m·n
    FLOPs), or formed once (2·m²·n) when the grid has at least m λ (times k). Cost
    2n·m² − ⅔m³ + O(m³) for the factorization.
``svd`` (n ≤ m < n + k)
    The thin SVD of X̃.

The Gram routes take their products from X as it is where the mean is small against
the spread (:func:`_small_mean`: X̃ᵀX̃ = XᵀX − m·x̄x̄ᵀ, X̃ is never formed, and the
route's ε·κ² test counts the rounding error the mean adds, at most doubling it), and
from X̃ formed first otherwise.

The factorizations apply only orthogonal transformations to X̃, so they are backward
stable like the SVD: s has absolute error O(ε‖X̃‖), and the ridge solutions are as
accurate as the SVD's (tests/test_closed_form.py holds them to exact rational arithmetic
at κ = 1e8 and 1e10).
The Gram route, at half the QR's FLOPs, has absolute error O(ε‖X̃‖²) in
:math:`s_j^2`: it loses every singular value below :math:`\sqrt{\varepsilon}\,s_\max`
(κ(X) ≳ 1e8 in float64), which is why it is taken only for a well-conditioned X̃.

References:
  T. Chan, "An improved algorithm for computing the singular value decomposition", ACM
  TOMS 8 (1982) (QR first when m ≫ n); G. Golub, C. Van Loan, *Matrix Computations*,
  4th ed. (2013), ch. 5 (least squares: the normal equations square the condition
  number).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from regjax import _checks

Route = Literal["tall", "wide", "svd"]
GRAM_ERROR = 1e-12  # the tall route eigendecomposes X̃ᵀX̃ where ε·κ(X̃)² is at most this


class Spectrum(NamedTuple):
    """What the ridge formulas need of :math:`\\tilde X = U\\mathrm{diag}(s)V^\\top`.

    Attributes:
      s: singular values (r,), descending.
      keep: (r,) bool, the singular values that are not round-off of an exact zero.
      uty: :math:`U^\\top\\tilde Y`, (r,) or (r, k).
      u: U (m, r), or None where the caller did not ask for it.
      vt: :math:`V^\\top` (r, n), or None (the wide route applies it through X̃).
      gram: () bool, whether the tall route took the Gram matrix's eigendecomposition.
    """

    s: jax.Array
    keep: jax.Array
    uty: jax.Array
    u: jax.Array | None
    vt: jax.Array | None
    gram: jax.Array


def route(m: int, n: int, k: int = 1) -> Route:
    """The factorization for an m × n X with k target columns (see the module)."""
    if n > m:
        return "wide"
    return "tall" if m >= n + k else "svd"


def column_mean(X: jax.Array) -> jax.Array:
    """x̄ = Xᵀ1/m (n,), as a GEMV: XLA's CPU reduction over the rows of a row-major X with
    many columns is 30× slower (82 ms against 2.6 ms at 500 × 20000, float64)."""
    return jnp.ones(X.shape[0], X.dtype) @ X / X.shape[0]


class Centred(NamedTuple):
    """X and Y with their means taken out of Y now and out of X where a route needs it:
    X̃ = X − 1x̄ᵀ costs m·n writes and reads, which the Gram routes save where the mean
    is small (see :func:`_small_mean`).

    Attributes:
      X: (m, n) in the working dtype, *not* centred.
      x_mean: x̄ (n,).
      yc: Ỹ, (m,) or (m, k), centred.
      y_mean: Ȳ, () or (k,).
    """

    X: jax.Array
    x_mean: jax.Array
    yc: jax.Array
    y_mean: jax.Array

    def xc(self) -> jax.Array:
        """X̃, formed."""
        return self.X - self.x_mean


def centered(X: ArrayLike, y: ArrayLike, ndims: tuple[int, ...] = (1, 2)) -> Centred:
    """X, ỹ and the means in the working dtype: X's, or float32 for 16-bit floats
    (bfloat16, float16), which the factorizations do not take and which would lose the
    answer."""
    X, y = _checks.data(X, y, ndims=ndims)
    if jnp.finfo(X.dtype).bits < 32:
        X = X.astype(jnp.float32)
    y = y.astype(X.dtype)
    y_mean = jnp.mean(y, axis=0)
    return Centred(X, column_mean(X), y - y_mean, y_mean)


def _keep(s: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    # "Zero" is relative, as in numpy's lstsq/pinv: s_j ≤ eps·max(m, n)·s_max is
    # round-off of an exact zero (a rank-deficient X̃; X̃ always is when n ≥ m).
    return s > jnp.finfo(s.dtype).eps * max(shape) * jnp.max(s, initial=0.0)


def _safe(sp: Spectrum) -> jax.Array:
    return jnp.where(sp.keep, sp.s, 1)


def spectrum(c: Centred, *, need_u: bool) -> Spectrum:
    """s, keep and UᵀỸ of X̃ by the shape's route; U as well if ``need_u``."""
    Yc = c.yc
    (m, n), k = c.X.shape, 1 if Yc.ndim == 1 else Yc.shape[1]
    kind = route(m, n, k)
    no = jnp.zeros((), bool)
    if kind == "tall":
        s, uty, vt, gram = _tall(c, Yc.reshape(m, k))
        keep = _keep(s, c.X.shape)
        u = (c.xc() @ vt.T) / jnp.where(keep, s, 1) if need_u else None
        return Spectrum(s, keep, uty.reshape((n, *Yc.shape[1:])), u, vt, gram)
    if kind == "wide":
        u, s, gram = _wide(c)
        return Spectrum(s, _keep(s, c.X.shape), u.T @ Yc, u, None, gram)
    u, s, vt = jnp.linalg.svd(c.xc(), full_matrices=False)
    return Spectrum(s, _keep(s, c.X.shape), u.T @ Yc, u, vt, no)


Branch = Callable[[], tuple[jax.Array, ...]]


@jax.custom_batching.custom_vmap
def _every_lane(ok: jax.Array) -> jax.Array:
    """``ok``; under ``vmap``, whether it holds in every lane, unbatched. The route's
    ``lax.cond`` then stays a branch (a batched predicate would make it a select that
    runs both the Gram and the QR route in every lane, e.g. over the folds of a CV):
    the Gram route for all lanes, or the QR for all."""
    return ok


@_every_lane.def_vmap
def _every_lane_rule(axis_size: int, in_batched: list[bool], ok: jax.Array) -> tuple[Any, bool]:
    del axis_size
    return (jnp.all(ok) if in_batched[0] else ok), False


def _either(ok: jax.Array, a: Branch, b: Branch) -> tuple[jax.Array, ...]:
    """``a()`` where ``ok``, else ``b()``: a Python ``if`` when eager (an eager
    ``lax.cond`` would compile on every call), a ``lax.cond`` under jit, and under vmap
    ``a()`` only where every lane is ok (see :func:`_every_lane`)."""
    ok = _every_lane(ok)
    if not isinstance(ok, jax.core.Tracer):
        return a() if bool(ok) else b()
    return jax.lax.cond(ok, a, b)


def _by_gram_where_harmless(
    e: jax.Array, rows: int, by_gram: Branch, by_qr: Branch, offset: jax.Array | float = 0.0
) -> tuple[jax.Array, ...]:
    """``by_gram()`` where the Gram matrix's eigenvalues ``e`` (descending) pass
    ε·(e_max + offset) ≤ GRAM_ERROR·e_min (``offset``: what the Gram matrix's rounding
    error scales with beyond e_max, see :func:`centred_gram`) and the Gram matrix (of
    ``rows`` products per entry) neither overflowed nor reached the subnormals at
    ε·e_max (X scaled by 1e±150); else ``by_qr()``. Either result is followed by the
    flag."""
    eps, tiny = float(jnp.finfo(e.dtype).eps), float(jnp.finfo(e.dtype).tiny)
    in_range = jnp.all(jnp.isfinite(e)) & (e[0] >= rows * tiny / eps)
    well = _every_lane(in_range & (eps * (e[0] + offset) <= GRAM_ERROR * e[-1]))
    return (*_either(well, by_gram, by_qr), well)


def _rows(A: jax.Array, B: jax.Array) -> jax.Array:
    """AᵀB, contracting the rows in place (``A.T @ B`` may copy Aᵀ first)."""
    return jax.lax.dot_general(A, B, (((0,), (0,)), ((), ())))


def _small_mean(c: Centred) -> tuple[jax.Array, jax.Array]:
    """Whether products with X as it is may stand in for X̃'s, and the offset m‖x̄‖².

    Where the mean is small against the spread, m‖x̄‖² ≤ ‖X̃‖_F²/min(m, n) (≤ ‖X̃‖₂²),
    X̃ᵀX̃ = XᵀX − m·x̄x̄ᵀ, X̃X̃ᵀ = XXᵀ − a1ᵀ − 1aᵀ + ‖x̄‖²11ᵀ (a = Xx̄) and AX̃ = AX − (A1)x̄ᵀ
    need no X̃: its m·n writes and reads cost a tenth of the Gram
    matrix's time, and XLA's CPU fusions of a product with what feeds it can be slow
    ((X − x̄)(X − x̄)ᵀ as written took 0.58 s at 500 × 20000, XXᵀ 0.10 s). Their
    rounding error is then O(ε(‖X̃‖² + m‖x̄‖²)): the offset m‖x̄‖² at most doubles the
    centred one's, and the Gram route's test counts it. Otherwise (nonnegative features,
    say) X̃ is formed first."""
    X, mean = c.X, c.x_mean
    offset = X.shape[0] * jnp.sum(mean * mean)
    spread = jnp.sum(X * X) - offset  # ‖X̃‖_F²
    return offset * min(X.shape) <= spread, offset


def _from_x(
    c: Centred,
    as_is: Callable[[jax.Array], tuple[jax.Array, ...]],
    formed: Callable[[jax.Array], tuple[jax.Array, ...]],
) -> tuple[jax.Array, ...]:
    """``as_is(offset)`` where the mean is small (:func:`_small_mean`), else
    ``formed(X̃)``."""
    small, offset = _small_mean(c)
    return _either(small, lambda: as_is(offset), lambda: formed(c.xc()))


def centred_gram(c: Centred, Y2: jax.Array) -> tuple[jax.Array, ...]:
    """X̃ᵀX̃ (n, n), X̃ᵀỸ (n, k) for Ỹ = ``Y2`` (m, k), and the offset their rounding error
    scales with beyond ‖X̃ᵀX̃‖ (see :func:`_small_mean`)."""
    X, mean = c.X, c.x_mean

    def as_is(offset: jax.Array) -> tuple[jax.Array, ...]:
        gram = _rows(X, X) - X.shape[0] * jnp.outer(mean, mean)
        return gram, _rows(Y2, X).T - jnp.outer(mean, jnp.sum(Y2, axis=0)), offset

    def formed(Xc: jax.Array) -> tuple[jax.Array, ...]:
        return _rows(Xc, Xc), _rows(Y2, Xc).T, jnp.zeros((), Xc.dtype)

    return _from_x(c, as_is, formed)


def _wide_gram(c: Centred) -> tuple[jax.Array, ...]:
    """X̃X̃ᵀ (m, m) and its offset, as :func:`centred_gram`."""
    X, mean = c.X, c.x_mean

    def as_is(offset: jax.Array) -> tuple[jax.Array, ...]:
        # XXᵀ − (r1ᵀ + 1rᵀ), r = Xx̄ − ‖x̄‖²/2: written so, the product stays one GEMM
        # (XLA fused XXᵀ − a1ᵀ − 1aᵀ + ‖x̄‖² into one kernel that ran 5× slower)
        r = X @ mean - jnp.sum(mean * mean) / 2
        return X @ X.T - (r[:, None] + r[None, :]), offset

    return _from_x(c, as_is, lambda Xc: (Xc @ Xc.T, jnp.zeros((), Xc.dtype)))


def _times_xc(c: Centred, A: jax.Array) -> jax.Array:
    """AX̃ for A (p, m) (see :func:`_small_mean`)."""
    as_is = lambda _: (A @ c.X - jnp.outer(jnp.sum(A, axis=1), c.x_mean),)  # noqa: E731
    return _from_x(c, as_is, lambda Xc: (A @ Xc,))[0]


def _tall(c: Centred, Y2: jax.Array) -> tuple[jax.Array, ...]:
    """s, UᵀỸ (n, k), Vᵀ and the route flag for m ≥ n + k: the Gram matrix's eigh where
    ε·κ(X̃)² ≤ GRAM_ERROR, else QR of [X̃ Ỹ] and the SVD of R (see the module)."""
    n = c.X.shape[1]

    def by_qr() -> tuple[jax.Array, ...]:
        # the barrier keeps X as it is up to here: else the QR's column-major layout is
        # hoisted out of the cond, a transposing copy of X that the Gram route pays too
        X = jax.lax.optimization_barrier(c.X)
        R = jnp.linalg.qr(jnp.concatenate([X - c.x_mean, Y2], axis=1), mode="r")  # (n+k, n+k)
        u_r, s, vt = jnp.linalg.svd(R[:n, :n], full_matrices=False)
        return s, u_r.T @ R[:n, n:], vt

    if float(jnp.finfo(c.X.dtype).eps) > GRAM_ERROR:  # no κ passes: float32 takes the QR
        return (*by_qr(), jnp.zeros((), bool))
    gram, xty, offset = centred_gram(c, Y2)
    e, v = jnp.linalg.eigh(gram)  # ascending
    e, vt = e[::-1], v[:, ::-1].T

    def by_gram() -> tuple[jax.Array, ...]:
        s = jnp.sqrt(jnp.maximum(e, jnp.finfo(e.dtype).tiny))  # > 0 (also under vmap)
        return s, (vt @ xty) / s[:, None], vt

    return _by_gram_where_harmless(e, c.X.shape[0], by_gram, by_qr, offset)


def _wide(c: Centred) -> tuple[jax.Array, ...]:
    """U (m, m), s (m,) and the route flag for n > m: the eigh of X̃X̃ᵀ where ε·κ² ≤
    GRAM_ERROR on the complement of the ones vector, else the QR of X̃ᵀ and the SVD of R.

    Centring makes X̃X̃ᵀ singular (X̃ᵀ1 = 0), so κ is judged without that direction: the
    eigh is taken of X̃X̃ᵀ + 2·tr(X̃X̃ᵀ)·11ᵀ/m, which lifts the ones vector above every
    other eigenvalue and leaves the others as they are; it is then put back last with
    s = 0, which the ridge formulas drop."""
    m, dtype = c.X.shape[0], c.X.dtype

    def by_qr() -> tuple[jax.Array, ...]:
        R = jnp.linalg.qr(c.xc().T, mode="r")  # X̃ᵀ = Q₂R₂, (m, m)
        u, s, _ = jnp.linalg.svd(R.T, full_matrices=False)
        return u, s

    if float(jnp.finfo(dtype).eps) > GRAM_ERROR or m < 3:
        return (*by_qr(), jnp.zeros((), bool))
    K, offset = _wide_gram(c)
    ones = jnp.full((m, 1), 1 / jnp.sqrt(m), dtype)
    e, v = jnp.linalg.eigh(K + 2 * jnp.trace(K) * (ones @ ones.T))  # ascending
    e, v = e[-2::-1], v[:, -2::-1]  # descending, the lifted ones vector left out

    def by_gram() -> tuple[jax.Array, ...]:
        s = jnp.sqrt(jnp.maximum(e, jnp.finfo(e.dtype).tiny))
        return jnp.concatenate([v, ones], axis=1), jnp.append(s, 0.0).astype(s.dtype)

    return _by_gram_where_harmless(e, c.X.shape[1], by_gram, by_qr, offset)


def path_weights(c: Centred, lams: jax.Array) -> jax.Array:
    r"""w(λ) for every λ: (G, n) or (G, n, k).

    :math:`s_j/(s_j^2+\lambda)` is written :math:`1/(s_j + \lambda/s_j)` so that s² never
    overflows; a dropped singular value contributes nothing (the minimum-norm solution
    at λ = 0). In the wide route V is applied as :math:`\tilde X^\top U\mathrm{diag}(1/s)`,
    as :math:`\tilde X^\top U\mathrm{diag}(\sigma/s)` then /σ (σ = s_max), so that 1/s never
    overflows either (the product is independent of X's scale).
    """
    sp, Yc = spectrum(c, need_u=False), c.yc
    safe = _safe(sp)
    shrink = jnp.where(sp.keep, 1 / (safe + lams.astype(sp.s.dtype)[:, None] / safe), 0)
    coef = shrink * sp.uty if Yc.ndim == 1 else shrink[:, :, None] * sp.uty  # (G, r[, k])
    vt = sp.vt
    if vt is None:  # the wide route: V = X̃ᵀU diag(1/s)
        assert sp.u is not None
        m, n = c.X.shape
        if coef.size // coef.shape[1] >= m:  # G·k ≥ m: form V once
            vt = _times_xc(c, sp.u.T) / safe[:, None]
        else:  # w = X̃ᵀ U diag(σ/s) coef / σ, σ = s_max: nothing n × m is formed
            sigma = jnp.where(sp.keep[0], sp.s[0], 1)
            ratio = jnp.where(sp.keep, sigma / safe, 0)  # ≤ 1/(ε·max(m, n))
            scaled = coef * (ratio if Yc.ndim == 1 else ratio[:, None])
            alpha = jnp.einsum("gr...,mr->gm...", scaled, sp.u)  # (G, m[, k])
            w = _times_xc(c, jnp.moveaxis(alpha, 1, -1).reshape(-1, m)) / sigma  # (G·k, n)
            return jnp.moveaxis(w.reshape(*alpha.shape[:1], *alpha.shape[2:], n), -1, 1)
    return jnp.einsum("gr...,rn->gn...", coef, vt)


def loo_gcv(c: Centred, lams: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""Exact leave-one-out and GCV mean squared errors (G,) for every λ (y 1-D).

    With :math:`f_j = s_j^2/(s_j^2+\lambda)` (0 for a dropped singular value), the
    residuals are :math:`e = \tilde y - U(f\odot U^\top\tilde y)` and the leverages
    :math:`H_{ii} = 1/m + \sum_j U_{ij}^2 f_j`: two m × r × G products.
    """
    sp, yc = spectrum(c, need_u=True), c.yc
    assert sp.u is not None
    m = c.X.shape[0]
    safe = _safe(sp)
    factor = jnp.where(sp.keep, 1 / (1 + lams.astype(sp.s.dtype)[:, None] / safe / safe), 0)
    residual = yc - (factor * sp.uty) @ sp.u.T  # (G, m)
    leverage = 1 / m + factor @ (sp.u**2).T  # (G, m): diagonal of H
    loo = jnp.mean((residual / (1 - leverage)) ** 2, axis=1)
    gcv = jnp.mean(residual**2, axis=1) / (1 - (1 + jnp.sum(factor, axis=1)) / m) ** 2
    return loo, gcv
