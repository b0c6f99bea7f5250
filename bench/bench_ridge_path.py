"""Benchmark 2: a whole ridge path (100 λ) and its LOO/GCV — regjax vs numpy vs scikit-learn.

regjax: ``closed_form.ridge_path`` (m ≥ n + 1: the eigendecomposition of X̃ᵀX̃ where
ε·κ(X̃)² ≤ 1e-12, else a Householder QR of [X̃ ỹ], R only, then the SVD of the n × n R;
n > m: the same on the m × m side, X̃X̃ᵀ or the QR of X̃ᵀ) and
``closed_form.ridge_loo_gcv`` (exact LOO and GCV for every λ from the same factorization).
Peers, each in its best configuration for a path:

- numpy Gram eigendecomposition: ``eigh`` of X̃ᵀX̃ (m > n) or of X̃X̃ᵀ with the dual
  w = X̃ᵀα (n > m): the cheapest exact path, which squares X's condition number;
- numpy thin SVD of X̃: the accurate textbook path;
- JAX thin SVD of X̃ (``jnp.linalg.svd``, jitted): regjax's route before this version;
- scikit-learn: a loop of ``Ridge(alpha, solver="cholesky")`` (its kernel form when
  n > m), and ``RidgeCV(alphas=...)`` for LOO over the grid, timed in both of its
  modes (``gcv_mode=None``: eigh of X̃ᵀX̃ or X̃X̃ᵀ; ``"svd"``), the faster one reported
  (and timed best-of; the other is one fit).

Each time is the best of a few runs, each after 0.3 s idle: one call's time. regjax's
path is also timed back to back, where the OpenBLAS threads left spinning by its own
previous eigh (jaxlib's LAPACK) slow its next Gram product on 2 cores; numpy's path,
whose GEMM and eigh share one OpenBLAS, is the same either way.

Every solution is checked against the numpy SVD path (and every LOO against RidgeCV's)
before the times are compared. The accuracy on ill-conditioned X, where the Gram
route fails, is tested in tests/test_closed_form.py against exact rational arithmetic.

Usage: python bench/bench_ridge_path.py [--quick] [--no-record]
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _benchcommon import best_of, limits_line, machine_line, record  # noqa: E402
from sklearn.linear_model import Ridge, RidgeCV  # noqa: E402

from regjax import _ridge, closed_form, data  # noqa: E402

PAUSE = 0.3  # s idle before each timed run (see best_of): every row is one call's time


def gram_path(X: np.ndarray, y: np.ndarray, lams: np.ndarray) -> np.ndarray:
    """The path from numpy's eigendecomposition of the Gram matrix on the smaller side."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    if X.shape[0] >= X.shape[1]:
        e, V = np.linalg.eigh(Xc.T @ Xc)
        return ((V.T @ (Xc.T @ yc)) / (e + lams[:, None])) @ V.T
    e, U = np.linalg.eigh(Xc @ Xc.T)
    return (((U.T @ yc) / (e + lams[:, None])) @ U.T) @ Xc


def svd_path(X: np.ndarray, y: np.ndarray, lams: np.ndarray) -> np.ndarray:
    """The path from numpy's thin SVD of X̃."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    return (s / (s**2 + lams[:, None]) * (U.T @ yc)) @ Vt


@jax.jit
def jax_svd_path(X: jax.Array, y: jax.Array, lams: jax.Array) -> jax.Array:
    """The same in JAX: the route regjax took before (one thin SVD of X̃)."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    U, s, Vt = jnp.linalg.svd(Xc, full_matrices=False)
    return (s / (s**2 + lams[:, None]) * (U.T @ yc)) @ Vt


def path_flops(m: int, n: int, G: int) -> float:
    """A QR of the long side (2ab² − ⅔b³, b the short one) and the path's products."""
    if m > n:
        b = n + 1
        return 2 * m * b**2 - 2 * b**3 / 3 + 2 * G * n * n
    return 2 * n * m**2 - 2 * m**3 / 3 + 2 * G * m * m + 2 * G * m * n


def rel_diff(w: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(w) - ref)) / np.max(np.abs(ref)))


def bench_shape(m: int, n: int, G: int, repeat: int) -> str:
    d = data.make_regression(m, n, seed=0, correlation=0.3, noise=5.0)
    lams = np.logspace(-3, 5, G)
    X, y, L = jnp.asarray(d.X), jnp.asarray(d.y), jnp.asarray(lams)
    path_fn, loo_fn = jax.jit(closed_form.ridge_path), jax.jit(closed_form.ridge_loo_gcv)
    start = time.perf_counter()
    path = jax.block_until_ready(path_fn(X, y, L))
    loo, _ = jax.block_until_ready(loo_fn(X, y, L))
    compile_s = time.perf_counter() - start

    # agreement first: every path against numpy's SVD path, every LOO against RidgeCV's
    ref = svd_path(d.X, d.y, lams)
    coefs: list[np.ndarray] = []

    def sk_loop() -> None:
        coefs.clear()
        for lam in lams:  # library λ = Ridge alpha (convert_lambda ng → sklearn_ridge_alpha)
            coefs.append(Ridge(alpha=lam, solver="cholesky").fit(d.X, d.y).coef_)

    # RidgeCV's two modes, one fit each (its eigen mode costs m·n² per λ when m > n);
    # the faster one is then timed like the others
    cvs = {mode: RidgeCV(alphas=lams, gcv_mode=mode, store_cv_results=True) for mode in
           (None, "svd")}  # fmt: skip
    t_cv = {}
    for mode, cv in cvs.items():
        start = time.perf_counter()
        cv.fit(d.X, d.y)
        t_cv[mode] = time.perf_counter() - start
    best_mode = min(t_cv, key=t_cv.__getitem__)
    t_cv[best_mode] = best_of(lambda: cvs[best_mode].fit(d.X, d.y), 1, PAUSE)
    cv_loo = cvs[best_mode].cv_results_.mean(axis=0)
    times = {
        "regjax": best_of(lambda: jax.block_until_ready(path_fn(X, y, L)), repeat, PAUSE),
        "back_to_back": best_of(lambda: jax.block_until_ready(path_fn(X, y, L)), repeat),
        "loo": best_of(lambda: jax.block_until_ready(loo_fn(X, y, L)), repeat, PAUSE),
        "gram": best_of(lambda: gram_path(d.X, d.y, lams), repeat, PAUSE),
        "svd": best_of(lambda: svd_path(d.X, d.y, lams), repeat, PAUSE),
        "jax_svd": best_of(lambda: jax.block_until_ready(jax_svd_path(X, y, L)), repeat, PAUSE),
        "loop": best_of(sk_loop, 1, PAUSE),
    }
    diffs = {
        "regjax": rel_diff(path["w"], ref),
        "gram": rel_diff(gram_path(d.X, d.y, lams), ref),
        "jax_svd": rel_diff(jax_svd_path(X, y, L), ref),
        "loop": rel_diff(np.stack(coefs), ref),
    }
    loo_diff = float(np.max(np.abs(np.asarray(loo) - cv_loo) / cv_loo))
    assert max(diffs.values()) < 1e-8 and loo_diff < 1e-8, (diffs, loo_diff)

    side = "X̃ᵀX̃ (n × n)" if m > n else "X̃X̃ᵀ (m × m), dual"
    gram = bool(_ridge.spectrum(_ridge.centered(X, y), need_u=False).gram)
    if m > n:
        route = "eigh of X̃ᵀX̃: κ(X̃) ≤ 67" if gram else "QR of [X̃ ỹ], SVD of R"
    else:
        route = "eigh of X̃X̃ᵀ: κ(X̃) ≤ 67" if gram else "QR of X̃ᵀ, SVD of the m × m R"
    mode_name = {None: "eigen", "svd": "svd"}[best_mode]
    rows = [
        (f"**regjax ridge_path** ({route})", times["regjax"], f"{diffs['regjax']:.1e}"),
        ("regjax ridge_path, back-to-back calls", times["back_to_back"], "same"),
        (f"numpy Gram eigh path, {side}", times["gram"], f"{diffs['gram']:.1e}"),
        ("numpy thin-SVD path", times["svd"], "reference"),
        ("JAX thin-SVD path (regjax's previous route)", times["jax_svd"],
         f"{diffs['jax_svd']:.1e}"),
        (f"scikit-learn Ridge loop ({G} cholesky fits)", times["loop"], f"{diffs['loop']:.1e}"),
        ("**regjax ridge_loo_gcv** (LOO + GCV, all λ)", times["loo"],
         f"LOO {loo_diff:.1e} vs RidgeCV"),
        (f"scikit-learn RidgeCV(alphas) best mode: gcv_mode={mode_name} "
         f"(eigen {t_cv[None]:.3f} s, svd {t_cv['svd']:.3f} s)", t_cv[best_mode], "reference"),
    ]  # fmt: skip
    table = (
        f"**m={m}, n={n}, {G} λ log-spaced over [1e-3, 1e5], float64**; regjax compile "
        f"{compile_s:.2f}s (excluded)\n\n| method | seconds | max rel. coef diff to the "
        "numpy SVD path |\n|---|---|---|\n"
        + "".join(f"| {name} | {t:.3f} | {err} |\n" for name, t, err in rows)
    )
    return table + (
        f"\nregjax path / numpy Gram-eigh path: {times['regjax'] / times['gram']:.2f}× "
        f"({times['back_to_back'] / times['gram']:.2f}× back to back); "
        f"vs the numpy SVD path {times['svd'] / times['regjax']:.1f}× faster, vs JAX's thin "
        f"SVD {times['jax_svd'] / times['regjax']:.1f}×, vs the scikit-learn loop "
        f"{times['loop'] / times['regjax']:.0f}×; regjax LOO vs RidgeCV: "
        f"{t_cv[best_mode] / times['loo']:.1f}× faster.\n\n"
        + limits_line(path_flops(m, n, G), 8.0 * m * n, times["regjax"])
        + " (regjax ridge_path)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2000 × 100 and 100 × 2000, 20 λ")
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    head = machine_line(args.quick)
    if args.quick:
        shapes, G, repeat = [(2000, 100), (100, 2000)], 20, 3
    else:
        shapes, G, repeat = [(20_000, 500), (500, 20_000)], 100, 5
    text = head + "\n\n" + "\n".join(bench_shape(m, n, G, repeat) for m, n in shapes)
    print(text)
    if not args.no_record:
        record("bench_ridge_path", "Ridge path", text)


if __name__ == "__main__":
    main()
