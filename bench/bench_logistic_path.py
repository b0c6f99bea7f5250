"""L2 logistic regression over a whole λ grid: regjax's batched Newton-CG vs the rest.

Every method solves the same problems, mean log-loss + λ/(2m)‖w‖² (scikit-learn's
C = 1/λ), for every λ of a log grid, to a gradient tolerance of 1e-8:

- regjax ``paths.logistic`` (all λ in one batched Newton-CG solve);
- a loop of scikit-learn ``LogisticRegression(C=1/λ, tol=1e-8)`` per solver;
- ``jax.vmap`` of an ``optax.lbfgs`` fit over λ (``regjax.solvers.optax_fit``);
- a Python loop of one jitted single-λ ``optax.lbfgs`` fit.

Prints a markdown table and records it in bench/RESULTS.md (between markers, so a rerun
replaces it). Compile time is reported apart from the timed (warm) runs. A method that
would run past ``--budget`` seconds is timed on an evenly spread subset of the grid and
extrapolated (marked ``*``).

    python bench/bench_logistic_path.py            # m=20000 n=200 G=64; m=8000 n=120 G=32
    python bench/bench_logistic_path.py --quick    # small shapes, seconds
"""

from __future__ import annotations

import argparse
import time
import warnings

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from _benchcommon import machine_line, record  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from regjax import costs, paths, solvers  # noqa: E402

TOL = 1e-8


def make_data(m: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    w = 3.0 * rng.normal(size=n) / np.sqrt(n)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w + 0.5)))).astype(np.float64)
    return X, y


def grad_max(X: np.ndarray, y: np.ndarray, lam: float, w: np.ndarray, b: float) -> float:
    m = X.shape[0]
    r = 1 / (1 + np.exp(-(X @ w + b))) - y
    return float(max(np.max(np.abs(X.T @ r / m + lam / m * w)), abs(r.mean())))


def spread(G: int) -> list[int]:
    """Grid indices in an order whose every prefix covers the grid evenly."""
    order, step = [], G
    while step >= 1:
        order += [i for i in range(0, G, step) if i not in order]
        step //= 2
    return order


def timed_loop(fit_one, G: int, budget: float) -> tuple[float, dict[int, tuple], bool]:
    """Run fit_one(g) over the grid until the budget is spent; extrapolate the total."""
    results, start = {}, time.perf_counter()
    for g in spread(G):
        results[g] = fit_one(g)
        if time.perf_counter() - start > budget and len(results) < G:
            break
    elapsed = time.perf_counter() - start
    return elapsed * G / len(results), results, len(results) < G


def bench_shape(m: int, n: int, G: int, budget: float, repeats: int) -> list[dict]:
    X, y = make_data(m, n)
    lams = np.logspace(3, -3, G)
    rows: list[dict] = []
    reference: dict[int, np.ndarray] = {}

    def record(name, seconds, compile_s, sols, extrapolated, note=""):
        diffs = [np.max(np.abs(sols[g][0] - reference[g])) for g in sols if g in reference]
        gmax = max(grad_max(X, y, lams[g], sols[g][0], sols[g][1]) for g in sols)
        rows.append(
            dict(method=name, seconds=seconds, compile=compile_s, extrapolated=extrapolated,
                 diff=max(diffs) if diffs else float("nan"), gmax=gmax, note=note)
        )  # fmt: skip
        star = "*" if extrapolated else ""
        print(f"  {name:<34} {seconds:9.2f}s{star}  max|Δw| {rows[-1]['diff']:.1e}  "
              f"max|∇J| {gmax:.1e} {note}", flush=True)  # fmt: skip

    Xj, yj, lj = jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams)

    # regjax first, on a machine no other method has touched yet (scikit-learn's BLAS and
    # OpenMP threads were seen to slow the XLA runs that came right after them by
    # 10-30%): compile once (first call), then the best of `repeats` warm runs.
    start = time.perf_counter()
    jax.block_until_ready(paths.logistic(Xj, yj, lj, tol=TOL))
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        path = jax.block_until_ready(paths.logistic(Xj, yj, lj, tol=TOL))
        runs.append(time.perf_counter() - start)
    assert bool(path.converged.all()), "regjax did not converge on every λ"
    ours = {g: (np.asarray(path.params["w"][g]), float(path.params["b"][g])) for g in range(G)}
    note = (f"Newton its ≤ {int(path.iterations.max())}, "
            f"runs {', '.join(f'{r:.2f}' for r in runs)}s")  # fmt: skip
    # newton-cholesky is the reference solution for the diffs.
    for solver in ("newton-cholesky", "newton-cg", "lbfgs"):

        def fit_sklearn(g, solver=solver):
            clf = LogisticRegression(C=1 / lams[g], tol=TOL, solver=solver, max_iter=100_000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
            return clf.coef_[0], float(clf.intercept_[0])

        fit_sklearn(G // 2)  # warm-up (imports, first-call overheads)
        seconds, sols, extra = timed_loop(fit_sklearn, G, budget)
        if solver == "newton-cholesky":
            reference.update({g: s[0] for g, s in sols.items()})
        record(f"scikit-learn loop, {solver}", seconds, 0.0, sols, extra)

    record("regjax paths.logistic", min(runs), first - min(runs), ours, False, note)

    p0 = {"w": jnp.zeros(n), "b": jnp.zeros(())}

    def lbfgs_fit(lam, return_info=False):
        return solvers.optax_fit(
            costs.logistic_regression,
            optax.lbfgs(),
            p0,
            Xj,
            yj,
            lam=lam,
            max_steps=5000,
            tol=TOL,
            return_info=return_info,
        )

    vmapped = jax.jit(jax.vmap(lambda lam: lbfgs_fit(lam, return_info=True)))
    start = time.perf_counter()
    compiled = vmapped.lower(lj).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    out, fit_info = jax.block_until_ready(compiled(lj))
    seconds = time.perf_counter() - start
    sols = {g: (np.asarray(out["w"][g]), float(out["b"][g])) for g in range(G)}
    steps = np.asarray(fit_info.steps)
    note = (
        f"L-BFGS steps per λ min {steps.min()}, median {int(np.median(steps))}, "
        f"max {steps.max()}: the batched loop runs max for every λ"
    )
    record("jax.vmap(optax.lbfgs)", seconds, compile_s, sols, False, note)

    single = jax.jit(lbfgs_fit)
    start = time.perf_counter()
    compiled_one = single.lower(lj[0]).compile()
    compile_s = time.perf_counter() - start

    def fit_jax(g):
        p = jax.block_until_ready(compiled_one(lj[g]))
        return np.asarray(p["w"]), float(p["b"])

    seconds, sols, extra = timed_loop(fit_jax, G, budget)
    record("loop of jit(optax.lbfgs), one λ", seconds, compile_s, sols, extra)
    return rows


def table(rows: list[dict], m: int, n: int, G: int) -> str:
    ours = next(r["seconds"] for r in rows if r["method"].startswith("regjax"))
    lines = [
        f"**m={m}, n={n}, G={G} λ log-spaced over [1e-3, 1e3], float64, tol {TOL:g}**",
        "",
        "| method | time (s) | × regjax | compile (s) | max abs coef diff vs sklearn "
        "newton-cholesky | max over λ of max abs grad |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        star = "*" if r["extrapolated"] else ""
        lines.append(
            f"| {r['method']} | {r['seconds']:.2f}{star} | {r['seconds'] / ours:.1f} | "
            f"{r['compile']:.2f} | {r['diff']:.1e} | {r['gmax']:.1e} |"
        )
    lines += [""] + [f"{r['method']}: {r['note']}." for r in rows if r["note"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, seconds")
    parser.add_argument("--budget", type=float, default=90.0,
                        help="seconds per looped method before extrapolating")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    shapes = [(2000, 40, 16), (1000, 20, 8)] if args.quick else [(20000, 200, 64), (8000, 120, 32)]
    header = machine_line(args.quick)
    print(header)
    sections = [header]
    for m, n, G in shapes:
        print(f"m={m} n={n} G={G}", flush=True)
        rows = bench_shape(m, n, G, args.budget, args.repeats)
        sections.append(table(rows, m, n, G))
    text = "\n\n".join(sections) + "\n\n`*` timed on part of the grid and extrapolated."
    print()
    print(text)
    if not args.no_record:
        record("bench_logistic_path", "L2 logistic regression path", text)


if __name__ == "__main__":
    main()
