"""L1 paths: regjax's batched proximal engine against the fastest L1 solvers.

- lasso: ``paths.linear(l1_ratio=1)`` (Gram-space FISTA with restart, all λ at once)
  against ``sklearn.linear_model.lasso_path`` (coordinate descent, Gram precomputed,
  warm starts along the path), and warm-started loops of celer's and skglm's ``Lasso``
  (working sets, coordinate descent with Anderson acceleration);
- L1 logistic: ``paths.logistic(l1_ratio=1)`` (data-space FISTA with backtracking and
  restart, in blocks of λ on growing working sets of features where the problem is
  large) against glum's own path (``alpha_search=True``, IRLS-CD), a warm-started
  loop of skglm's ``SparseLogisticRegression`` and of scikit-learn's saga. celer's
  ``LogisticRegression`` fits no intercept, so it does not solve this problem.

Every solution's KKT residual (max-abs of the minimum-norm subgradient of the library's
objective) is recomputed here in numpy and reported, with the zero patterns compared:
times are only comparable at comparable residuals. Each table ends with regjax's
physical limit: its GEMM FLOPs (lasso: the Gram matrix 2·m·n² and 2·n²·G per FISTA
iteration; logistic: 6·m·n per λ and iteration, n the working set's width where the
path is screened) at the measured float64 GEMM rate, and the bytes of X read (once for
the lasso, 3 times per iteration for the logistic, see ``logistic_work``) at the
measured bandwidth. The lasso's table also times regjax on inputs already on the device,
and the Gram matrix alone in XLA and in numpy (``gram_line``): the floor of any
Gram-space path. ``bench_l1_path`` in RESULTS.md.

    python bench/bench_l1_path.py            # lasso 10000×1000, 100 λ; logistic 5000×200,
                                             # 50 λ, and 10000×1000, 100 λ
    python bench/bench_l1_path.py --quick    # small shapes, seconds
    python bench/bench_l1_path.py --jax-only # regjax alone (on a GPU: bench/device.sh)
"""

from __future__ import annotations

import argparse
import time
import warnings

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from _benchcommon import best_of, gemm_rate, limits_line, machine_line, record  # noqa: E402

from regjax import _glm, _ridge, _screening, paths  # noqa: E402

TOL = 1e-8


def kkt(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray, lams: np.ndarray,
        logistic: bool) -> np.ndarray:  # fmt: skip
    """Per λ, max-abs of the minimum-norm subgradient of mean loss + λ/m‖w‖₁."""
    m = X.shape[0]
    Z = W @ X.T + b[:, None]  # (G, m)
    R = 1 / (1 + np.exp(-Z)) - y if logistic else Z - y
    g = R @ X / m
    l1 = (lams / m)[:, None]
    r = np.where(W != 0, np.abs(g + l1 * np.sign(W)), np.maximum(np.abs(g) - l1, 0))
    return np.maximum(r.max(axis=1), np.abs(R.mean(axis=1)))


def problem(m: int, n: int, logistic: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    w = np.zeros(n)
    w[: max(n // 50, 5)] = 2 * rng.normal(size=max(n // 50, 5))
    z = X @ w
    if logistic:
        return X, (rng.random(m) < 1 / (1 + np.exp(-z))).astype(np.float64)
    return X, z + rng.normal(size=m)


def timed(fn, repeats: int) -> tuple[float, object]:
    out, best = None, np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return best, out


def row(name: str, seconds: float, W: np.ndarray, ref: np.ndarray, res: np.ndarray) -> str:
    same = float(np.mean((W == 0) == (ref == 0)))
    return (f"| {name} | {seconds:.3f} | {res.max():.1e} | {np.abs(W - ref).max():.1e} | "
            f"{same:.2%} |")  # fmt: skip


def bench_lasso(m: int, n: int, G: int, repeats: int, jax_only: bool = False) -> str:
    """The lasso table; ``jax_only`` leaves out the peers (none is a JAX program)."""
    X, y = problem(m, n, logistic=False)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    lams = np.max(np.abs(Xc.T @ yc)) * np.logspace(0, -3, G)
    start = time.perf_counter()
    jax.block_until_ready(paths.linear(X, y, lams, tol=TOL))
    first = time.perf_counter() - start
    ours_s, ours = timed(lambda: paths.linear(X, y, lams, tol=TOL), repeats)
    W = np.asarray(ours.params["w"])
    ours_res = kkt(X, y, W, np.asarray(ours.params["b"]), lams, False)
    lines = [] if jax_only else lasso_peers(X, y, lams, W, repeats)
    its = int(ours.iterations.max())
    flops = 2.0 * m * n * n + 2.0 * n * n * G * its
    return "\n".join([
        f"**lasso, m={m}, n={n}, G={G} λ over three decades from λ_max, float64**; "
        f"regjax compile + first run {first:.2f}s, iterations ≤ {its}",
        "",
        "| method | seconds | max KKT residual | max abs coef diff to regjax | same zeros |",
        "|---|---:|---:|---:|---:|",
        row(f"regjax paths.linear (tol={TOL:g})", ours_s, W, W, ours_res),
        row("regjax paths.linear, X and y already jax.Arrays", on_device(X, y, lams, repeats),
            W, W, ours_res),
        *lines,
        "",
        limits_line(flops, 8.0 * m * n, ours_s),
        "",
        gram_line(X, flops),
    ])  # fmt: skip


def lasso_peers(X: np.ndarray, y: np.ndarray, lams: np.ndarray, W: np.ndarray, repeats: int,
                ) -> list[str]:  # fmt: skip
    """The lasso's peers' rows: ``lasso_path`` at two tolerances, celer's and skglm's
    warm loops."""
    import celer
    import skglm
    from sklearn.linear_model import lasso_path

    m = X.shape[0]
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    lines = []
    for tol in (1e-6, 1e-10):
        sk_s, (_, coefs, _) = timed(
            lambda tol=tol: lasso_path(Xc, yc, alphas=lams / m, tol=tol, precompute=True),
            repeats,
        )  # lasso_path fits no intercept: centred data, as Lasso(fit_intercept=True) does
        Wsk = coefs.T
        bsk = y.mean() - Wsk @ X.mean(axis=0)
        lines.append(row(f"sklearn lasso_path (Gram, tol={tol:g})", sk_s, Wsk, W,
                         kkt(X, y, Wsk, bsk, lams, False)))  # fmt: skip
    for name, make in (("celer", celer.Lasso), ("skglm", skglm.Lasso)):
        est = make(alpha=lams[0] / m, tol=1e-8, fit_intercept=True, warm_start=True)
        make(alpha=lams[0] / m).fit(X[:200], y[:200])  # skglm compiles (numba) on first use
        peer_s, (Wp, bp) = timed(lambda est=est: warm_loop(est, X, y, lams / m, "alpha"), 1)
        lines.append(row(f"{name} Lasso loop, warm starts (tol=1e-8)", peer_s, Wp, W,
                         kkt(X, y, Wp, bp, lams, False)))  # fmt: skip
    return lines


def on_device(X: np.ndarray, y: np.ndarray, lams: np.ndarray, repeats: int) -> float:
    """``paths.linear``'s time without the copy of numpy's X into a jax.Array."""
    Xj, yj, lj = jax.device_put((X, y, lams))
    return timed(lambda: paths.linear(Xj, yj, lj, tol=TOL), repeats)[0]


def gram_line(X: np.ndarray, flops: float) -> str:
    """The lasso's floor: the Gram matrix X̃ᵀX̃ alone, formed as regjax's engine forms it
    (``regjax._ridge.centred_gram``, one XLA GEMM) and as numpy forms XᵀX (BLAS syrk, half
    the FLOPs, what ``lasso_path`` uses), and regjax's limit if XLA had a syrk."""
    (m, n), Xj = X.shape, jax.device_put(X)
    y2 = jax.numpy.zeros((m, 1), X.dtype)
    gram = jax.jit(lambda X: _ridge.centred_gram(_ridge.Centred(X, _ridge.column_mean(X), y2,
                                                                0.0), y2)[0])  # fmt: skip
    xla = best_of(lambda: jax.block_until_ready(gram(Xj)), repeat=5)
    blas = best_of(lambda: X.T @ X, repeat=5)
    syrk = (flops - m * n * n) / gemm_rate()
    return (
        f"the Gram matrix alone: {xla:.3f} s in XLA (2·m·n² FLOPs: XLA has no symmetric "
        f"rank-k update), {blas:.3f} s for numpy's X.T @ X on the CPU (BLAS syrk, m·n² "
        f"FLOPs, as in lasso_path); with a syrk, regjax's limit would be {syrk:.3g} s"
    )


def warm_loop(est, X: np.ndarray, y: np.ndarray, strengths: np.ndarray, name: str,
              ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A warm-started estimator along the path: (W (G, n), b (G,))."""
    Ws, bs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for value in strengths:
            est.set_params(**{name: value}).fit(X, y)
            Ws.append(np.ravel(est.coef_).copy())
            bs.append(float(np.ravel(est.intercept_)[0]) if np.ndim(est.intercept_) else
                      float(est.intercept_))  # fmt: skip
    return np.array(Ws), np.array(bs)


def logistic_work(lams: np.ndarray, W: np.ndarray, its: np.ndarray, m: int) -> tuple[float, float]:
    """regjax's L1 logistic GEMM FLOPs and bytes of X read. Each iteration is about 3
    products with X (the trial's forward, the gradient's adjoint over the iterate and the
    extrapolated point, a backtracking forward): FLOPs count each λ's own iterations (no
    λ waiting for others), bytes read X (or its working set) 3 times per iteration of
    the slowest λ, whatever the block's width. Over all n features; or, where the path
    is screened (``regjax._screening.screened``), over each block's working set, taken
    as the union of the block's supports (the gathered columns hold it, and more), plus
    a check of every feature (2 products) per block."""
    G, n = W.shape
    if not _screening.screens(_glm.binary, m, n, G):
        return 6.0 * m * n * float(its.sum()), 24.0 * m * n * float(its.max())
    size, order = _screening.block_size(G), np.argsort(-lams)
    flops = bytes_ = 0.0
    for b in (order[i : i + size] for i in range(0, G, size)):
        cols = np.count_nonzero(np.any(W[b] != 0, axis=0))
        flops += 6.0 * m * cols * float(its[b].sum()) + 4.0 * m * n * len(b)
        bytes_ += 24.0 * m * cols * float(its[b].max()) + 16.0 * m * n
    return flops, bytes_


def bench_logistic(m: int, n: int, G: int, repeats: int, saga: bool = True,
                   jax_only: bool = False) -> str:  # fmt: skip
    """The L1 logistic table; ``saga=False`` leaves out scikit-learn's saga loop (minutes
    at 10000 × 1000) and adds regjax at tol = 1e-5, the residual the peers reached in
    issue 11's measurement; ``jax_only`` leaves out the peers (none is a JAX program)."""
    X, y = problem(m, n, logistic=True)
    lmax = np.max(np.abs(X.T @ (y.mean() - y)))
    lams = lmax * np.logspace(0, -2, G)
    start = time.perf_counter()
    jax.block_until_ready(paths.logistic(X, y, lams, l1_ratio=1.0, tol=TOL))
    first = time.perf_counter() - start
    ours_s, ours = timed(lambda: paths.logistic(X, y, lams, l1_ratio=1.0, tol=TOL), repeats)
    W, b = np.asarray(ours.params["w"]), np.asarray(ours.params["b"])
    lines = [row(f"regjax paths.logistic (l1_ratio=1, tol={TOL:g})", ours_s, W, W,
                 kkt(X, y, W, b, lams, True))]  # fmt: skip
    if not jax_only:
        lines += logistic_peers(X, y, lams, W, saga)
    if not saga:
        loose_s, loose = timed(lambda: paths.logistic(X, y, lams, l1_ratio=1.0, tol=1e-5), 1)
        Wl, bl = np.asarray(loose.params["w"]), np.asarray(loose.params["b"])
        lines.append(row("regjax paths.logistic (l1_ratio=1, tol=1e-05)", loose_s, Wl, W,
                         kkt(X, y, Wl, bl, lams, True)))  # fmt: skip
    its = int(ours.iterations.max())
    return "\n".join([
        f"**L1 logistic, m={m}, n={n}, G={G} λ over two decades from λ_max, float64**; "
        f"regjax compile + first run {first:.2f}s, iterations ≤ {its}",
        "",
        "| method | seconds | max KKT residual | max abs coef diff to regjax | same zeros |",
        "|---|---:|---:|---:|---:|",
        *lines,
        "",
        limits_line(*logistic_work(lams, W, np.asarray(ours.iterations), m), ours_s),
    ])  # fmt: skip


def logistic_peers(X: np.ndarray, y: np.ndarray, lams: np.ndarray, W: np.ndarray, saga: bool,
                   ) -> list[str]:  # fmt: skip
    """The L1 logistic's peers' rows: glum's path, skglm's warm loop and (``saga``)
    scikit-learn's warm saga loop."""
    import skglm
    from glum import GeneralizedLinearRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    m = X.shape[0]

    def glum_path() -> tuple[np.ndarray, np.ndarray]:
        glm = GeneralizedLinearRegressor(
            family="binomial", alpha_search=True, alpha=lams / m, l1_ratio=1.0,
            solver="irls-cd", gradient_tol=TOL, max_iter=1000,
        )  # fmt: skip
        glm.fit(np.asfortranarray(X), y)
        return np.asarray(glm.coef_path_), np.asarray(glm.intercept_path_)

    def saga_loop() -> tuple[np.ndarray, np.ndarray]:
        clf = LogisticRegression(l1_ratio=1.0, solver="saga", tol=1e-8, max_iter=10_000,
                                 warm_start=True)  # fmt: skip
        Ws, bs = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for lam in lams:
                clf.set_params(C=1 / lam).fit(X, y)
                Ws.append(clf.coef_[0].copy())
                bs.append(clf.intercept_[0])
        return np.array(Ws), np.array(bs)

    glum_s, (Wg, bg) = timed(glum_path, 1)
    lines = [row("glum path (irls-cd, gradient_tol=1e-8)", glum_s, Wg, W,
                 kkt(X, y, Wg, bg, lams, True))]  # fmt: skip
    est = skglm.SparseLogisticRegression(alpha=lams[0] / m, tol=1e-8, fit_intercept=True,
                                         warm_start=True, max_iter=100)  # fmt: skip
    skglm.SparseLogisticRegression(alpha=lams[0] / m).fit(X[:200], 2 * y[:200] - 1)  # numba
    skglm_s, (Wk, bk) = timed(lambda: warm_loop(est, X, 2 * y - 1, lams / m, "alpha"), 1)
    lines.append(row("skglm SparseLogisticRegression loop, warm starts (tol=1e-8)", skglm_s, Wk,
                     W, kkt(X, y, Wk, bk, lams, True)))  # fmt: skip
    if saga:
        sk_s, (Wsk, bsk) = timed(saga_loop, 1)
        lines.append(row("sklearn saga loop, warm starts (tol=1e-8)", sk_s, Wsk, W,
                         kkt(X, y, Wsk, bsk, lams, True)))  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, seconds")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--jax-only", action="store_true",
                        help="regjax alone (bench/device.sh: its GPU table)")  # fmt: skip
    args = parser.parse_args()
    lasso, logistic = ((2000, 200, 20), (1000, 50, 10)) if args.quick else (
        (10000, 1000, 100), (5000, 200, 50))  # fmt: skip
    header = machine_line(args.quick)
    print(header, flush=True)
    sections = [header, bench_lasso(*lasso, args.repeats, args.jax_only)]
    print(sections[-1], flush=True)
    sections.append(bench_logistic(*logistic, args.repeats, jax_only=args.jax_only))
    print(sections[-1], flush=True)
    if not args.quick:  # issue 11's L1 logistic shape
        sections.append(bench_logistic(10000, 1000, 100, 1, saga=False, jax_only=args.jax_only))
        print(sections[-1], flush=True)
    if not args.no_record:
        record("bench_l1_path", "L1 paths", "\n\n".join(sections))


if __name__ == "__main__":
    main()
