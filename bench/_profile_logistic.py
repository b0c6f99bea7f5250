r"""Where ``paths.logistic``'s time goes: its batched Newton-CG driven piece by piece.

:func:`breakdown` runs the same iteration as ``regjax._newton.newton_cg`` (the engine
behind the L2 ``paths.logistic``), but from Python: each piece is the engine's own
private function, jitted on its own and timed with ``block_until_ready``, so nothing in
the library changes and the counts are the engine's. Per Newton iteration k with
:math:`c_k` block CG iterations, over G columns:

=====================  =====================================  ========================
piece                  what it computes                       passes over X (m × n)
=====================  =====================================  ========================
preconditioner setup   C = X̃ᵀX̃/m (2·m·n² FLOPs), eigh(C)      1 (cast), float32, once
gradient               σ(Z), Xᵀ(P − y)/m + λ/m·W               1 (float64), N + 1 times
CG                     c_k Hessian products XᵀD(X V)/m        2·c_k (float32)
                       and c_k + 1 preconditioner solves      (4·n²·G FLOPs each)
X·s                    the step's logits                      1 (float64)
line search            per-column Armijo on Z + t·X s         0 (m·G losses per trial)
=====================  =====================================  ========================

so the engine reads X :math:`2 + 2N` times in float64 and :math:`2\sum_k c_k` times in
float32, each pass a GEMM of 2·m·n·G FLOPs. Inside CG, the Hessian product and the
preconditioner solve are also timed alone (best of 5) and multiplied by their counts;
the rest of CG is its vector updates and the loop.

    python bench/_profile_logistic.py --quick      # prints the breakdown of small shapes
"""

from __future__ import annotations

import argparse
import functools
import time
from typing import Any, NamedTuple

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _benchcommon import best_of  # noqa: E402

from regjax import _glm, _newton  # noqa: E402
from regjax._glm import DataOps  # noqa: E402

F32 = jnp.float32
FAMILY = _glm.binary
MAX_ITER, MAX_CG = 100, 200  # paths.logistic's defaults


class Counts(NamedTuple):
    """What the engine did: Newton iterations (loop steps, the slowest column's count),
    block CG iterations in total, and the passes over X in each precision."""

    newton: int
    cg: int
    passes64: int
    passes32: int


def counts_of(newton: int, cg: int) -> Counts:
    return Counts(newton, cg, 2 + 2 * newton, 2 * cg)


def regjax_flops(m: int, n: int, G: int, c: Counts) -> tuple[float, float]:
    """(float64 FLOPs, float32 FLOPs) of the engine's GEMMs and its eigendecomposition
    (10/3·n³: the tridiagonal reduction and the back-transformation of the eigenvectors;
    eigh runs below the GEMM rate, so the bound is loose there), or above
    ``_newton.EXACT_MAX_N`` features its rank-k Nyström sketch (three m·n·k products)."""
    f64 = 2.0 * m * n * G * (c.passes64 - 1)
    f32 = 2.0 * m * n * G * c.passes32
    if n <= _newton.EXACT_MAX_N:
        f32 += 4.0 * n * n * G * (c.cg + c.newton)  # applying it: two n × n × G products
        f32 += 2.0 * m * n * n + 10.0 / 3.0 * n**3  # the preconditioner's Gram and eigh
    else:
        k = _newton.NYSTROM_RANK
        f32 += 8.0 * n * k * G * (c.cg + c.newton) + 6.0 * m * n * k
    return f64, f32


def regjax_bytes(m: int, n: int, c: Counts) -> float:
    """Bytes of X the engine reads: 8·m·n per float64 pass, 4·m·n per float32 pass."""
    return m * n * (8.0 * c.passes64 + 4.0 * c.passes32)


def _inputs(X: np.ndarray, y: np.ndarray, lams: np.ndarray) -> tuple[jax.Array, ...]:
    Xj = jnp.asarray(X)
    return Xj, Xj.T.copy(), jnp.asarray(y)[:, None, None], jnp.asarray(lams) / X.shape[0]


class Shape(NamedTuple):
    """A benchmarked problem: m × n features, G λ, and the correlation ρ of neighbouring
    features (0: iid; else AR(1), each column ρ times the one before plus noise)."""

    m: int
    n: int
    G: int
    rho: float = 0.0

    @property
    def label(self) -> str:
        corr = f", AR(1) ρ = {self.rho:g}" if self.rho else ""
        return f"{self.m} × {self.n}, {self.G}{corr}"


def shapes_of(quick: bool) -> list[Shape]:
    """Each benchmarked shape: issue 11's four (iid features), and its first again with
    correlated ones (real features are rarely independent, and L-BFGS and CG both feel
    the conditioning)."""
    if quick:
        return [Shape(2000, 40, 16), Shape(600, 400, 16)]
    return [
        Shape(20000, 200, 64),
        Shape(8000, 120, 64),
        Shape(100000, 50, 64),
        Shape(2000, 2000, 64),
        Shape(20000, 200, 64, 0.9),
    ]


def make_data(shape: Shape, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal features (AR(1) across columns where ``shape.rho`` > 0, each of
    unit variance) and labels drawn from a logistic model with weights of norm ≈ 3."""
    m, n, rho = shape.m, shape.n, shape.rho
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    for j in range(1, n) if rho else ():
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    w = 3.0 * rng.normal(size=n) / np.sqrt(n)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w + 0.5)))).astype(np.float64)
    return X, y


@jax.jit
def _engine(X: jax.Array, XT: jax.Array, Y: jax.Array, reg: jax.Array, tol: jax.Array) -> Any:
    lams = reg * X.shape[0]
    return _newton.newton_cg(
        FAMILY, X, XT, Y, lams, tol=tol, max_iter=jnp.asarray(MAX_ITER), max_cg=jnp.asarray(MAX_CG)
    )


PreArrays = tuple[jax.Array, jax.Array, jax.Array, Any]  # x̄, e, V, e_k (or None)


def _pre(arrays: PreArrays) -> Any:
    pre = object.__new__(_newton._Preconditioner)
    pre.x_mean, pre.evals, pre.evecs, pre.rest = arrays
    return pre


@jax.jit
def _setup(X: jax.Array) -> PreArrays:
    """The engine's preconditioner: the Gram matrix and its eigh (or the Nyström sketch)."""
    pre = _newton._Preconditioner(X, F32)
    return pre.x_mean, pre.evals, pre.evecs, pre.rest


@jax.jit
def _init(X: jax.Array, XT: jax.Array, Y: jax.Array, reg: jax.Array) -> Any:
    return _newton._initial_state(FAMILY, DataOps(X, XT, 1, X.dtype), Y, reg, None)


@jax.jit
def _direction(X32, XT32, arrays, reg, state, active) -> Any:
    low = DataOps(X32, XT32, 1, F32)
    return _newton._direction(FAMILY, low, _pre(arrays), reg, state, active, jnp.asarray(MAX_CG))


@jax.jit
def _forward(X: jax.Array, XT: jax.Array, step: Any) -> jax.Array:
    return DataOps(X, XT, 1, X.dtype).forward(step[0]) + step[1]


@jax.jit
def _armijo(Y: jax.Array, reg: jax.Array, state: Any, step: Any, XS: jax.Array) -> Any:
    return _newton._armijo(FAMILY, Y, reg, state, step, XS)


@jax.jit
def _update(X, XT, Y, reg, s, step, XS, t, J, active) -> Any:
    """The driver's body after the line search: move, σ(Z), the float64 gradient."""
    t = jnp.where(active, t, 0)
    W, b, Z = s.W + t * step[0], s.b + t * step[1], s.Z + t * XS
    P = FAMILY.probs(Z)
    grad = _newton._gradient(DataOps(X, XT, 1, X.dtype), Y, reg, P, W)
    return _newton.NewtonState(
        W, b, Z, P, J, grad, _glm.max_abs(grad), s.iterations + active.astype(jnp.int32),
        s.step + 1, s.cg_iterations,
    )  # fmt: skip


def _normalized(v: Any) -> Any:
    scale = 1 / jnp.sqrt(_glm.dot(v, v))
    return v[0] * scale, v[1] * scale


@functools.partial(jax.jit, static_argnames="k")
def _hvps(X32: jax.Array, XT32: jax.Array, P: jax.Array, reg: jax.Array, v: Any, k: int) -> Any:
    """k Hessian products in a loop, as CG runs them (loop invariants hoisted)."""
    low = DataOps(X32, XT32, 1, F32)

    def hvp(_: int, v: Any) -> Any:
        HU = FAMILY.hess(P, low.forward(v[0]) + v[1])
        return _normalized((low.adjoint(HU) + reg * v[0], jnp.mean(HU, axis=0)))

    return jax.lax.fori_loop(0, k, hvp, v)


@functools.partial(jax.jit, static_argnames="k")
def _preconditions(arrays, r, dbar, reg, k: int) -> Any:
    """k preconditioner solves in a loop, as CG runs them."""
    pre = _pre(arrays)
    return jax.lax.fori_loop(0, k, lambda _, v: _normalized(pre(v, dbar, reg, False)), r)


def _timed(times: dict[str, float], name: str, fn: Any, *args: Any) -> Any:
    start = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    times[name] = times.get(name, 0.0) + time.perf_counter() - start
    return out


def _drive(X, XT, X32, XT32, Y, reg, tol) -> tuple[dict[str, float], Any, list[int]]:
    """One run of the Newton driver from Python: seconds per piece, the final state and
    the CG iterations of each Newton iteration."""
    t: dict[str, float] = {}
    arrays = _timed(t, "preconditioner", _setup, X)
    state = _timed(t, "gradient", _init, X, XT, Y, reg)
    cg_its: list[int] = []
    while bool(jnp.any(state.grad_max > tol)) and int(state.step) < MAX_ITER:
        active = state.grad_max > tol
        step, its = _timed(t, "cg", _direction, X32, XT32, arrays, reg, state, active)
        XS = _timed(t, "forward", _forward, X, XT, step)
        tt, J = _timed(t, "line search", _armijo, Y, reg, state, step, XS)
        state = _timed(t, "gradient", _update, X, XT, Y, reg, state, step, XS, tt, J, active)
        cg_its.append(int(its))
    return t, state, cg_its


def breakdown(X: np.ndarray, y: np.ndarray, lams: np.ndarray, tol: float) -> dict[str, Any]:
    """Seconds per piece of the Newton-CG path (each piece's faster of two driven runs,
    after a compiling one), the fused engine's own time, and the counts."""
    X_, XT, Y, reg = _inputs(X, y, lams)
    X32, XT32 = X_.astype(F32), XT.astype(F32)
    tol_ = jnp.asarray(tol)
    _drive(X_, XT, X32, XT32, Y, reg, tol_)  # compile every piece
    runs = [_drive(X_, XT, X32, XT32, Y, reg, tol_) for _ in range(2)]
    times = {k: min(r[0][k] for r in runs) for k in runs[0][0]}  # each piece's faster run
    _, state, cg_its = runs[0]
    out = jax.block_until_ready(_engine(X_, XT, Y, reg, tol_))  # compiles
    start = time.perf_counter()
    jax.block_until_ready(_engine(X_, XT, Y, reg, tol_))
    engine = time.perf_counter() - start
    c = counts_of(len(cg_its), sum(cg_its))
    assert c.cg == int(out.cg_iterations), "the driven run must repeat the engine's CG count"
    G, n = reg.shape[0], X.shape[1]
    v = (jnp.ones((n, 1, G), F32), jnp.zeros((1, G), F32))
    P = state.P.astype(F32)
    dbar = jnp.mean(P * (1 - P), axis=0)
    arrays = _setup(X_)
    reg32 = reg.astype(F32)
    hvp = best_of(lambda: jax.block_until_ready(_hvps(X32, XT32, P, reg32, v, c.cg)))
    solve = best_of(
        lambda: jax.block_until_ready(_preconditions(arrays, v, dbar, reg32, c.cg + c.newton))
    )
    its = np.asarray(state.iterations)
    return dict(
        times=times, engine=engine, counts=c, cg_per_newton=cg_its, hvp=hvp,
        precondition=solve, active=[int((its > k).sum()) for k in range(c.newton)],
        max_dw=float(jnp.max(jnp.abs(state.W - out.W))),
    )  # fmt: skip


PIECES = ("preconditioner", "gradient", "cg", "forward", "line search")


def table(rows: list[tuple[Shape, dict[str, Any]]]) -> str:
    """The breakdown of each shape as one markdown table."""
    lines = [
        "| shape (m × n, G) | Newton its (active λ per it) | CG its (per Newton it) "
        "| passes over X (f64 + f32) | preconditioner (Gram + eigh, or sketch) "
        "| gradient (σ, XᵀR) | CG total "
        "| of which Hv | of which M⁻¹r | X·s | line search | sum of pieces | fused engine |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape, r in rows:
        t, c = r["times"], r["counts"]
        total = sum(t.values())

        def cell(s: float, total: float = total) -> str:
            return f"{s:.3f} ({100 * s / total:.0f}%)"

        lines.append(
            f"| {shape.label} | {c.newton} ({', '.join(map(str, r['active']))}) "
            f"| {c.cg} ({', '.join(map(str, r['cg_per_newton']))}) "
            f"| {c.passes64} + {c.passes32} | "
            + " | ".join(cell(t.get(k, 0.0)) for k in PIECES[:3])
            + f" | {cell(r['hvp'])} | {cell(r['precondition'])} | "
            + " | ".join(cell(t.get(k, 0.0)) for k in PIECES[3:])
            + f" | {total:.3f} | {r['engine']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    import regjax as rj

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, seconds")
    args = parser.parse_args()
    rows = []
    for shape in shapes_of(args.quick):
        X, y = make_data(shape)
        lams = np.asarray(rj.lambda_grid(X, y, model="logistic", num=shape.G, min_ratio=1e-4))
        r = breakdown(X, y, lams, 1e-8)
        print(f"{shape.label}: max|ΔW| driven vs engine {r['max_dw']:.1e}", flush=True)
        rows.append((shape, r))
    print(table(rows))


if __name__ == "__main__":
    main()
