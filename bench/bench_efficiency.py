"""How close the batched logistic gradient kernel gets to this machine's matmul peak.

The kernel is the whole-grid gradient of regjax's batched Newton-CG (``regjax._newton``),
for G values of λ at once:

    Z = X W + b;  ∇W = Xᵀ(σ(Z) − y)/m + (λ/m)·W;  ∇b = mean(σ(Z) − y)

two GEMMs (4·m·n·G flops) and O(m·G) elementwise work. Its achieved FLOP/s is divided
by the FLOP/s of a plain dense GEMM X @ V of the same shapes, measured in the same
process (the "peak" this machine's XLA reaches at those shapes). Also reported: time
per λ of the kernel and of a full ``paths.logistic`` solve for growing G.

    python bench/bench_efficiency.py            # m=20000, n=200
    python bench/bench_efficiency.py --quick    # m=2000, n=50
"""

from __future__ import annotations

import argparse
import os
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _benchcommon import record  # noqa: E402

from regjax import paths  # noqa: E402


def best_time(fn, *args, repeats: int) -> float:
    jax.block_until_ready(fn(*args))  # compile and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times)


@jax.jit
def gemm(X, V):
    return X @ V


@jax.jit
def gemm_t(XT, R):
    return XT @ R


@jax.jit
def grad_kernel(X, XT, y, W, b, lams):
    """As in regjax._newton: X and its stored transpose XT (a plain GEMM for Xᵀ R)."""
    m = X.shape[0]
    R = jax.nn.sigmoid(X @ W + b) - y[:, None]
    return XT @ R / m + lams / m * W, jnp.mean(R, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    m, n = (2000, 50) if args.quick else (20000, 200)
    Gs = (1, 4, 16, 64, 256) if args.quick else (1, 4, 16, 64, 256, 1024)
    path_Gs = (1, 4, 16, 64) if args.quick else (1, 4, 16, 64, 256)
    rng = np.random.default_rng(0)
    X = jnp.asarray(rng.normal(size=(m, n)))
    XT = jnp.asarray(np.asarray(X).T.copy())
    w_true = 3.0 * rng.normal(size=n) / np.sqrt(n)
    y = jnp.asarray((rng.random(m) < 1 / (1 + np.exp(-np.asarray(X) @ w_true))) * 1.0)
    load = os.getloadavg()[0]
    lines = [
        f"m={m}, n={n}, float64, {os.cpu_count()} cores, load average at start {load:.2f}"
        + (" (--quick)" if args.quick else ""),
        "",
        "| G | GEMM peak GFLOP/s | gradient kernel GFLOP/s | fraction of peak | "
        "fraction of its two GEMMs alone | kernel ms per λ | paths.logistic ms per λ |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    print(lines[0], flush=True)
    for G in Gs:
        V = jnp.asarray(rng.normal(size=(n, G)) / np.sqrt(n))
        R = jnp.asarray(rng.normal(size=(m, G)))
        lams = jnp.logspace(3, -3, G)
        t_xv = best_time(gemm, X, V, repeats=args.repeats)
        t_xtr = best_time(gemm_t, XT, R, repeats=args.repeats)
        t_gemm = min(t_xv, t_xtr)
        t_kernel = best_time(grad_kernel, X, XT, y, V, jnp.zeros(G), lams, repeats=args.repeats)
        peak = 2 * m * n * G / t_gemm / 1e9
        achieved = 4 * m * n * G / t_kernel / 1e9
        path_ms = "—"
        if G in path_Gs:
            t_path = best_time(lambda lams: paths.logistic(X, y, lams), lams,
                               repeats=max(1, args.repeats // 2))  # fmt: skip
            path_ms = f"{1e3 * t_path / G:.2f}"
        lines.append(
            f"| {G} | {peak:.1f} | {achieved:.1f} | {achieved / peak:.0%} | "
            f"{(t_xv + t_xtr) / t_kernel:.0%} | "
            f"{1e3 * t_kernel / G:.3f} | {path_ms} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        "GEMM GFLOP/s is the faster of X@V and Xᵀ@R (Xᵀ stored) at the same shapes; the "
        "kernel needs one of each and counts 4·m·n·G flops, so 100% would mean both ran at "
        "the faster one's rate and the elementwise σ cost nothing.",
    ]
    text = "\n".join(lines)
    print()
    print(text)
    if not args.no_record:
        record("bench_efficiency", "Batched gradient kernel efficiency", text)


if __name__ == "__main__":
    main()
