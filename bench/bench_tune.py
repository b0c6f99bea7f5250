"""Benchmark: choosing λ by hypergradient (rj.hypergrad.tune) against a grid.

For each problem, the K-fold CV loss (mean validation data loss, the folds of
rj.cross_validate) is minimized two ways:
  * the grid: rj.cross_validate of a 50-λ rj.lambda_grid, every fold × λ solved
    (50·K fits, batched into one program);
  * the tuner: rj.hypergrad.tune of rj.hypergrad.path_cv, started two decades away from
    the grid's best λ (×100 and ÷100; for the lasso at most ½λ_max, since above a fold's λ_max
    every weight is 0 and dV/dλ is exactly 0), warm-started solves, implicit
    hypergradients.
The table gives each one's best CV loss, the tuned loss relative to the grid's, the fits
(training problems solved) and the wall time after compilation (best of 3).
This compares solver calls, not kernels: the kernels' distance from the machine's limits
is in the path benchmarks.

Usage: python bench/bench_tune.py [--quick] [--no-record]
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _benchcommon import machine_line, record  # noqa: E402

import regjax as rj  # noqa: E402
from regjax import hypergrad  # noqa: E402

FOLDS, GRID = 5, 50


def problems(quick: bool) -> list[tuple[str, str, float, rj.data.Dataset]]:
    """(label, model, l1_ratio, data set)."""
    synthetic = rj.data.make_classification(*((1000, 50) if quick else (5000, 200)), seed=0)
    sparse = rj.data.make_regression(*((500, 50) if quick else (2000, 200)), seed=1, noise=8.0)
    return [
        ("breast_cancer, logistic L2", "logistic", 0.0, rj.data.load("breast_cancer")),
        (f"{synthetic.name}, logistic L2", "logistic", 0.0, synthetic),
        (f"{sparse.name}, lasso", "linear", 1.0, sparse),
    ]


def best_of(fn, repeat: int = 3):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def run(label: str, model: str, rho: float, ds: rj.data.Dataset) -> list[list[str]]:
    X, y = jnp.asarray(ds.X), jnp.asarray(ds.y)
    key = jax.random.key(0)
    solve, data_loss = hypergrad.MODELS[model]
    lams = rj.lambda_grid(ds.X, ds.y, model=model, num=GRID, penalty="l2" if rho == 0 else "l1",
                          min_ratio=1e-7 if rho == 0 else 1e-3)  # fmt: skip

    def fit(lams, X, y):
        return solve(X, y, lams, l1_ratio=rho)

    def score(params, X, y):
        return data_loss(rj.models.linear(params, X), y)

    def grid():
        return rj.cross_validate(fit, score, X, y, lams, folds=FOLDS, key=key, batched=True)

    grid()  # compile
    t_grid, cv = best_of(grid)
    best = float(np.min(cv.val_mean))
    rows = [[label, "grid, 50 λ", f"{cv.best_lam:.4g}", f"{best:.6f}", "1", "—",
             str(GRID * FOLDS), f"{t_grid:.2f}"]]  # fmt: skip
    objective = hypergrad.path_cv(model, X, y, folds=FOLDS, key=key, l1_ratio=rho)
    hypergrad.tune(objective, cv.best_lam * 3)  # compile both programs (cold, warm)
    # Above a fold's λ_max (about (1 − 1/K)·λ_max of all the data) an L1 path is all
    # zeros and dV/dλ exactly 0: start below it.
    high = min(100 * cv.best_lam, 0.5 * float(lams[0])) if rho > 0 else 100 * cv.best_lam
    ratio = f"{high / cv.best_lam:.3g}"
    above = "best×100" if high == 100 * cv.best_lam else f"½λ_max = best×{ratio}"
    for start, name in ((high, f"tune from {above}"), (cv.best_lam / 100, "tune from best÷100")):
        t, tuned = best_of(lambda s=start: hypergrad.tune(objective, s))
        rows.append([label, name, f"{float(tuned.lam):.4g}", f"{tuned.value:.6f}",
                     f"{tuned.value / best:.5f}", str(len(tuned.history)), str(tuned.fits),
                     f"{t:.2f}"])  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller synthetic problems")
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    headers = ["problem", "method", "λ", "CV loss", "/ grid best", "evaluations", "fits",
               "seconds"]  # fmt: skip
    rows = [row for problem in problems(args.quick) for row in run(*problem)]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    text = (
        f"{machine_line(args.quick)}\n\n{FOLDS}-fold CV loss (mean validation data loss); "
        f"grid: {GRID} λ from rj.lambda_grid; tuner started two decades from the grid's best. "
        "Reproduce: `python bench/bench_tune.py`.\n\n" + "\n".join(lines) + "\n\n"
        "Fits are the cost that matters when one fit is a week of training. The wall times "
        "compare differently: the grid batches all its fits into one program (one GEMM per "
        "iteration over every fold and λ), while the tuner's evaluations run one after "
        "another, each with an implicit backward pass (CG on Hessian-vector products), so "
        "on a problem this cheap the grid's time can be lower."
    )
    print(text)
    if not args.no_record:
        record("tune", "Choosing λ: hypergradient tuner vs grid (`hypergrad.tune`)", text)


if __name__ == "__main__":
    main()
