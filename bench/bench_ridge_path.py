"""Benchmark 2: a whole ridge path (100 λ) — regjax vs scikit-learn.

regjax: ``closed_form.ridge_path`` (one SVD, then O(n·r) per λ) and
``closed_form.ridge_loo_gcv`` (exact LOO for every λ from the same SVD).
scikit-learn: a loop of ``Ridge(alpha)`` (solver "cholesky", one solve per λ) and
``RidgeCV(alphas)`` (efficient LOO over the grid, refits the best α).

Usage: python bench/bench_ridge_path.py [--quick] [--no-record]
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _benchcommon import machine_line, record  # noqa: E402
from sklearn.linear_model import Ridge, RidgeCV  # noqa: E402

from regjax import closed_form, data  # noqa: E402


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="m=2000, n=100, 20 λ")
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    m, n, G = (2000, 100, 20) if args.quick else (20_000, 500, 100)
    d = data.make_regression(m, n, seed=0, correlation=0.3, noise=5.0)
    lams = np.logspace(-3, 5, G)
    X, y = jnp.asarray(d.X), jnp.asarray(d.y)

    path_fn = jax.jit(closed_form.ridge_path)
    loo_fn = jax.jit(closed_form.ridge_loo_gcv)
    start = time.perf_counter()
    jax.block_until_ready(path_fn(X, y, lams))
    jax.block_until_ready(loo_fn(X, y, lams))
    compile_s = time.perf_counter() - start
    t_path = best_of(lambda: jax.block_until_ready(path_fn(X, y, lams)), 3)
    t_loo = best_of(lambda: jax.block_until_ready(loo_fn(X, y, lams)), 3)
    path = path_fn(X, y, lams)

    coefs = []

    def sk_loop() -> None:
        coefs.clear()
        for lam in lams:  # library λ = Ridge alpha (convert_lambda ng → sklearn_ridge_alpha)
            coefs.append(Ridge(alpha=lam, solver="cholesky").fit(d.X, d.y).coef_)

    t_loop = best_of(sk_loop, 1)
    diff = float(np.max(np.abs(np.asarray(path["w"]) - np.stack(coefs))))
    scale = float(np.max(np.abs(np.stack(coefs))))

    cv = RidgeCV(alphas=lams, store_cv_results=True)
    t_cv = best_of(lambda: cv.fit(d.X, d.y), 1)
    loo, _ = loo_fn(X, y, lams)
    loo_diff = float(np.max(np.abs(np.asarray(loo) - cv.cv_results_.mean(axis=0))))

    rows = [
        ("regjax ridge_path (one SVD)", t_path, "path", f"{diff / scale:.1e}"),
        ("regjax ridge_loo_gcv (LOO+GCV, all λ)", t_loo, "LOO", f"{loo_diff:.1e} (abs, LOO)"),
        (f"sklearn Ridge loop ({G} fits)", t_loop, "path", "reference"),
        ("sklearn RidgeCV(alphas) (LOO, best refit)", t_cv, "LOO", "reference"),
    ]
    header = (
        f"{machine_line(args.quick)}\n\n**m={m}, n={n}, {G} λ log-spaced over [1e-3, 1e5], "
        f"float64**; regjax compile {compile_s:.2f}s (excluded)\n\n"
        "| method | seconds | gives | max rel. coef diff to Ridge |\n|---|---|---|---|\n"
    )
    table = header + "".join(
        f"| {name} | {t:.3f} | {what} | {err} |\n" for name, t, what, err in rows
    )
    table += (
        f"\nregjax path vs sklearn loop: {t_loop / t_path:.0f}× faster; "
        f"regjax LOO vs RidgeCV: {t_cv / t_loo:.1f}× faster.\n"
    )
    print(table)
    if not args.no_record:
        record("bench_ridge_path", "Ridge path", table)


if __name__ == "__main__":
    main()
