"""L2 logistic regression over a whole λ path: regjax's batched Newton-CG vs each peer at its best.

Every method solves the same problems, mean log-loss + λ/(2m)‖w‖² (scikit-learn's
C = 1/λ, glum's alpha = λ/m), for the 64 λ of ``rj.lambda_grid(X, y, num=64,
min_ratio=1e-4)`` (four decades down from λ_max, descending), to max|∇J| ≤ 1e-8, checked
here in numpy for every λ; solutions are checked to agree with regjax's before times are
compared. The peers, each the way a path is solved with it:

- scikit-learn ``LogisticRegression(warm_start=True)``: one estimator, λ descending, each
  fit starting from the previous solution (newton-cholesky, lbfgs, newton-cg; sag and saga,
  warm-started, took 20× newton-cg's time per λ at 8000 × 120 and are left out);
- glum's own path (``alpha_search=True`` with the grid as ``alpha``; IRLS, warm starts);
- ``jax.vmap`` of jaxopt's L-BFGS over the grid (what a JAX user reaches for first);
- a Python loop of one jitted single-λ ``optax.lbfgs`` fit, warm-started along the path.

A looped method that runs past ``--budget`` seconds finishes the path on a spread sample
of the remaining λ (blocks of λ for glum), each started from the solution at the λ before
it, and its total is extrapolated (marked ``*``); ``jax.vmap`` of jaxopt runs on a spread
eighth of the grid first and on all of it only when that fits the budget. Compile time is
reported apart from the timed (warm) runs. Each shape's physical limit is that of
regjax's own work: its GEMM FLOPs (2·m·n·G per pass over X times its passes, counted by
``bench/_profile_logistic.py``) at the measured GEMM rate, and the bytes of X it reads at
the measured bandwidth; the best peer's time over that limit is how far ahead of it this
engine could be at best (counting full-width passes: more where the engine gathers the
running λ into narrower blocks). Issue 11's four shapes have iid features; the first is run
again with AR(1)-correlated ones. The same script writes the profile of where regjax's
time goes.
scikit-learn's lbfgs stops short of 1e-8 at some λ whatever its ``tol``; it is listed but
never counted as the best peer.

    python bench/bench_logistic_path.py            # issue 11's four shapes + AR(1), 9 min
    python bench/bench_logistic_path.py --quick    # small shapes, < 1 min
    python bench/bench_logistic_path.py --jax-only # regjax and the JAX peers alone (on a
                                                   # GPU: bench/device.sh)
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import time
import warnings
from collections.abc import Callable

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from _benchcommon import gemm_rate, limits_line, machine_line, record  # noqa: E402
from _profile_logistic import (  # noqa: E402
    Shape,
    breakdown,
    make_data,
    regjax_bytes,
    regjax_flops,
    shapes_of,
    table,
)

import regjax as rj  # noqa: E402
from regjax import costs, paths, solvers  # noqa: E402

TOL = 1e-8
Sol = tuple[np.ndarray, float]
Fit = Callable[[list[int], Sol | None], dict[int, Sol]]


def grad_max(X: np.ndarray, y: np.ndarray, lam: float, w: np.ndarray, b: float) -> float:
    m = X.shape[0]
    r = 1 / (1 + np.exp(-(X @ w + b))) - y
    return float(max(np.max(np.abs(X.T @ r / m + lam / m * w)), abs(r.mean())))


def spread(k: int) -> list[int]:
    """range(k) in an order whose every prefix covers it evenly."""
    order, step = [], k
    while step >= 1:
        order += [i for i in range(0, k, step) if i not in order]
        step //= 2
    return order


def along_path(fit: Fit, G: int, block: int, budget: float, ref: dict[int, Sol]):
    """Solve the path in blocks of consecutive λ, each block starting from the solution
    at the λ before it. In order while within half the budget; then a spread sample of
    the remaining blocks (started from ``ref`` where the method's own solution there is
    not known) for the other half, extrapolated. Returns (seconds, solutions, extrapolated)."""
    blocks = [list(range(i, min(i + block, G))) for i in range(0, G, block)]
    sols: dict[int, Sol] = {}
    seconds, k = 0.0, 0
    while k < len(blocks) and (k == 0 or seconds <= budget / 2):
        start = time.perf_counter()
        sols.update(fit(blocks[k], sols.get(blocks[k][0] - 1)))
        seconds += time.perf_counter() - start
        k += 1
    rest = blocks[k:]
    if not rest:
        return seconds, sols, False
    sampled, spent = 0, 0.0
    for j in spread(len(rest)):
        first = rest[j][0]
        start = time.perf_counter()
        sols.update(fit(rest[j], sols.get(first - 1, ref[first - 1])))
        spent += time.perf_counter() - start
        sampled += len(rest[j])
        if spent > budget / 2:
            break
    return seconds + spent * sum(map(len, rest)) / sampled, sols, True


def sklearn_fit(X, y, lams, solver: str) -> Fit:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(warm_start=True, solver=solver, tol=TOL, max_iter=100_000)

    def fit(block: list[int], start: Sol | None) -> dict[int, Sol]:
        if start is None:  # the path's first λ: a cold start
            for attr in ("coef_", "intercept_"):
                clf.__dict__.pop(attr, None)
        else:  # what warm_start does with the previous fit's solution
            clf.coef_, clf.intercept_ = start[0][None, :].copy(), np.array([start[1]])
        out = {}
        for g in block:
            clf.set_params(C=1 / lams[g])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
            out[g] = (clf.coef_[0].copy(), float(clf.intercept_[0]))
        return out

    return fit


def glum_fit(X, y, lams) -> Fit:
    """glum's path over ``block`` (glum minimizes mean log-loss + α/2‖w‖², α = λ/m), by
    IRLS with coordinate descent on Fortran-ordered X, its fastest L2 configuration in
    pilot runs here (irls-ls, glum's default for L2, took 2-3× longer; its lbfgs stops
    short of 1e-8)."""
    from glum import GeneralizedLinearRegressor

    m, XF = X.shape[0], np.asfortranarray(X)

    def fit(block: list[int], start: Sol | None) -> dict[int, Sol]:
        glm = GeneralizedLinearRegressor(
            family="binomial", alpha_search=True, alpha=lams[block] / m, l1_ratio=0.0,
            solver="irls-cd", gradient_tol=TOL, max_iter=1000,
            start_params=None if start is None else np.concatenate([[start[1]], start[0]]),
        )  # fmt: skip
        glm.fit(XF, y)
        return {g: (glm.coef_path_[i], float(glm.intercept_path_[i])) for i, g in enumerate(block)}

    return fit


def optax_fit(Xj, yj, lams) -> tuple[Fit, float]:
    def one(lam: jax.Array, p0: dict) -> dict:
        return solvers.optax_fit(costs.logistic_regression, optax.lbfgs(), p0, Xj, yj,
                                 lam=lam, max_steps=5000, tol=TOL)  # fmt: skip

    n = Xj.shape[1]
    cold = {"w": jnp.zeros(n), "b": jnp.zeros(())}
    start = time.perf_counter()
    compiled = jax.jit(one).lower(jnp.asarray(lams[0]), cold).compile()
    compile_s = time.perf_counter() - start

    def fit(block: list[int], start: Sol | None) -> dict[int, Sol]:
        p = cold if start is None else {"w": jnp.asarray(start[0]), "b": jnp.asarray(start[1])}
        out = {}
        for g in block:
            p = jax.block_until_ready(compiled(jnp.asarray(lams[g]), p))
            out[g] = (np.asarray(p["w"]), float(p["b"]))
        return out

    return fit, compile_s


def jaxopt_vmap(Xj, yj, lams, budget: float, quick: bool):
    """jit(vmap(jaxopt.LBFGS.run)) over the grid, from zero: (seconds, compile, sols,
    note, extrapolated). Full runs try a spread eighth of the grid first and extrapolate
    from it when the whole grid would not fit the budget."""
    import jaxopt

    solver = jaxopt.LBFGS(fun=costs.logistic_regression, tol=TOL, maxiter=5000)
    p0 = {"w": jnp.zeros(Xj.shape[1]), "b": jnp.zeros(())}

    def one(lam: jax.Array) -> tuple[dict, jax.Array]:
        out = solver.run(p0, Xj, yj, lam)
        return out.params, out.state.iter_num

    run = jax.jit(jax.vmap(one))

    def timed(idx: list[int]) -> tuple[float, float, dict[int, Sol], str]:
        lj = jnp.asarray(lams[idx])
        start = time.perf_counter()
        compiled = run.lower(lj).compile()
        compile_s = time.perf_counter() - start
        start = time.perf_counter()
        out, steps = jax.block_until_ready(compiled(lj))
        seconds = time.perf_counter() - start
        steps = np.asarray(steps)
        note = (f"L-BFGS steps per λ (of the {len(idx)} run) min {steps.min()}, median "
                f"{int(np.median(steps))}, max {steps.max()}: the batched loop runs the max "
                "for every λ, and its line search both branches of every lax.cond")  # fmt: skip
        sols = {g: (np.asarray(out["w"][i]), float(out["b"][i])) for i, g in enumerate(idx)}
        return seconds, compile_s, sols, note

    G = len(lams)
    if not quick:
        part = sorted(spread(G)[: G // 8])
        seconds, compile_s, sols, note = timed(part)
        if seconds * G / len(part) > budget:
            return seconds * G / len(part), compile_s, sols, note, True
    return (*timed(list(range(G))), False)


def bench_shape(shape: Shape, budget: float, repeats: int, quick: bool, jax_only: bool):
    """regjax and every peer on one shape; ``jax_only``: the JAX peers alone, each where
    it is installed (a device machine's image has no glum or jaxopt)."""
    (m, n, G), (X, y) = shape[:3], make_data(shape)
    lams = np.asarray(rj.lambda_grid(X, y, model="logistic", num=G, min_ratio=1e-4))
    Xj, yj, lj = jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams)
    rows: list[dict] = []
    ref: dict[int, Sol] = {}

    def add(name, seconds, compile_s, sols, extrapolated, note=""):
        diff = max(np.max(np.abs(sols[g][0] - ref[g][0])) for g in sols)
        gmax = max(grad_max(X, y, lams[g], *sols[g]) for g in sols)
        rows.append(dict(method=name, seconds=seconds, compile=compile_s, diff=diff,
                         gmax=gmax, extrapolated=extrapolated, note=note))  # fmt: skip
        print(f"  {name:<44} {seconds:8.3f}s{mark(rows[-1])}  max|Δw| {diff:.1e}  "
              f"max|∇J| {gmax:.1e}", flush=True)  # fmt: skip

    # regjax first, on a machine no other method has touched yet (scikit-learn's BLAS and
    # OpenMP threads were seen to slow the XLA runs that came right after them by 10-30%).
    start = time.perf_counter()
    jax.block_until_ready(paths.logistic(Xj, yj, lj, tol=TOL))
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        path = jax.block_until_ready(paths.logistic(Xj, yj, lj, tol=TOL))
        runs.append(time.perf_counter() - start)
    assert bool(path.converged.all()), "regjax did not converge on every λ"
    ref.update({g: (np.asarray(path.params["w"][g]), float(path.params["b"][g])) for g in range(G)})
    profile = breakdown(X, y, lams, TOL)  # where the time goes, and the engine's counts
    c, ours = profile["counts"], min(runs)
    # The machine's rates, measured now: under the conditions regjax just ran in.
    profile["limit"] = limit(m, n, G, c, ours, gemm_rate("float64") / gemm_rate("float32"))
    add("regjax paths.logistic", ours, first - ours, ref, False,
        f"Newton its ≤ {c.newton}, {c.cg} block CG its; runs "
        + ", ".join(f"{r:.3f}" for r in runs) + " s")  # fmt: skip

    if importlib.util.find_spec("jaxopt"):
        seconds, compile_s, sols, note, extra = jaxopt_vmap(Xj, yj, lams, budget, quick)
        add("jax.vmap(jaxopt.LBFGS), cold", seconds, compile_s, sols, extra, note)
    fit, compile_s = optax_fit(Xj, yj, lams)
    fit(list(range(min(G, 4))), None)  # warm-up
    seconds, sols, extra = along_path(fit, G, 1, budget, ref)
    add("loop of jit(optax.lbfgs), warm starts", seconds, compile_s, sols, extra)
    if jax_only:
        return rows, c, profile, lams
    for solver in ("newton-cholesky", "lbfgs", "newton-cg"):
        fit = sklearn_fit(X, y, lams, solver)
        fit([G // 2], ref[G // 2 - 1])  # warm-up (imports, first-call overheads)
        seconds, sols, extra = along_path(fit, G, 1, budget, ref)
        add(f"scikit-learn warm_start loop, {solver}", seconds, 0.0, sols, extra)
    fit, block = glum_fit(X, y, lams), max(1, G // 8)
    start = time.perf_counter()
    fit(list(range(block)), None)  # warm-up, and a pilot: is the whole path in budget?
    if (time.perf_counter() - start) * G / block <= budget:
        start = time.perf_counter()
        sols = fit(list(range(G)), None)
        seconds, extra = time.perf_counter() - start, False
    else:
        seconds, sols, extra = along_path(fit, G, block, budget, ref)
    add("glum path (irls-cd)", seconds, 0.0, sols, extra)
    return rows, c, profile, lams


def mark(row: dict) -> str:
    """``*`` after a time that was extrapolated from part of the path."""
    return "*" if row["extrapolated"] else ""


def shape_table(rows: list[dict], shape: Shape, lams: np.ndarray) -> str:
    ours = rows[0]["seconds"]
    features = f"AR(1) features, ρ = {shape.rho:g}" if shape.rho else "iid features"
    lines = [
        f"**m={shape.m}, n={shape.n}, G={shape.G} λ from λ_max = {lams[0]:.4g} down to "
        f"{lams[-1]:.4g}, {features}, float64, tol {TOL:g}**",
        "",
        "| method | time (s) | × regjax | compile (s) | max abs coef diff vs regjax "
        "| max over λ of max abs grad |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['seconds']:.3f}{mark(r)} | {r['seconds'] / ours:.1f} | "
            f"{r['compile']:.2f} | {r['diff']:.1e} | {r['gmax']:.1e} |"
        )
    lines += [""] + [f"{r['method']}: {r['note']}." for r in rows if r["note"]]
    return "\n".join(lines)


def limit(m: int, n: int, G: int, c, seconds: float, rate_ratio: float) -> tuple[str, float]:
    """limits_line of regjax's work (float32 FLOPs counted at the measured float64/float32
    GEMM rate ratio) and the bound in seconds."""
    f64, f32 = regjax_flops(m, n, G, c)
    line = limits_line(f64 + f32 * rate_ratio, regjax_bytes(m, n, c), seconds)
    ratio = float(re.search(r"is ([0-9.e+-]+)× the larger bound", line).group(1))
    line += f" (float32 FLOPs counted at the measured f64/f32 GEMM rate ratio {rate_ratio:.2f})"
    return line, seconds / ratio


def summary(results: list[tuple]) -> tuple[str, list[str]]:
    """One row per shape: the best peer (and the best scikit-learn loop, issue 11's
    baseline) against regjax, and against regjax's physical limit: how far ahead this
    engine could be of that peer if its every pass ran at the machine's GEMM rate (the
    limit counts full-width passes, so where the engine compacts it is a floor)."""
    lines = [
        "| shape (m × n, G) | best peer at max abs grad ≤ 1e-8 | its time (s) | regjax (s) "
        "| peer ÷ regjax | peer ÷ regjax's limit | best warm scikit-learn loop (s) "
        "| scikit-learn ÷ regjax | regjax passes over X (f64 + f32) | physical limit (s) "
        "| regjax ÷ limit |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    limit_lines = []
    for shape, rows, c, (line, bound) in results:
        ours = rows[0]["seconds"]
        ok = [r for r in rows[1:] if r["gmax"] <= TOL] or rows[1:]  # none: the fastest
        best = min(ok, key=lambda r: r["seconds"])
        sk = [r for r in ok if r["method"].startswith("scikit-learn")]
        best_sk = min(sk, key=lambda r: r["seconds"]) if sk else None
        limit_lines.append(f"{shape.label}: {line}.")
        limit_lines += [
            f"{shape.label}: {r['method']} took {r['seconds']:.3f} s but stopped at max abs "
            f"grad {r['gmax']:.1e}, short of {TOL:g}."
            for r in rows[1:] if r["gmax"] > TOL and r["seconds"] < best["seconds"]
        ]  # fmt: skip
        lines.append(
            f"| {shape.label} | {best['method']} | {best['seconds']:.3f}{mark(best)} "
            f"| {ours:.3f} | {best['seconds'] / ours:.1f} | {best['seconds'] / bound:.1f} "
            f"| {sklearn_cells(best_sk, ours)} | {c.passes64} + {c.passes32} | {bound:.3f} "
            f"| {ours / bound:.1f} |"
        )
    return "\n".join(lines), limit_lines


def sklearn_cells(best: dict | None, ours: float) -> str:
    """The summary's two scikit-learn cells: its best warm loop and that over regjax
    (dashes where it was not run: ``--jax-only``)."""
    if best is None:
        return "— | —"
    solver = best["method"].split(", ")[-1]
    return f"{best['seconds']:.3f}{mark(best)} ({solver}) | {best['seconds'] / ours:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, < 1 min")
    parser.add_argument("--budget", type=float, default=25.0,
                        help="seconds per peer and shape before extrapolating")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--jax-only", action="store_true",
                        help="the JAX peers alone (bench/device.sh: their GPU table)")  # fmt: skip
    args = parser.parse_args()
    header = machine_line(args.quick)
    print(header)
    sections, results, profiles = [header], [], []
    for shape in shapes_of(args.quick):
        print(shape.label, flush=True)
        rows, c, profile, lams = bench_shape(
            shape, args.budget, args.repeats, args.quick, args.jax_only
        )
        sections.append(shape_table(rows, shape, lams))
        results.append((shape, rows, c, profile["limit"]))
        profiles.append((shape, profile))
    text, limit_lines = summary(results)
    sections.insert(1, text)
    limit_lines.append(
        "`*` timed on part of the path and extrapolated. Reproduce: "
        "`python bench/bench_logistic_path.py"
        f"{' --quick' if args.quick else ''}{' --jax-only' if args.jax_only else ''}`."
    )
    if not importlib.util.find_spec("jaxopt"):
        limit_lines.append("jaxopt is not installed here: its row is left out.")
    sections.insert(2, "\n".join(limit_lines))
    text = "\n\n".join(sections)
    prof = f"{header}\n\nSeconds (share of the sum of pieces):\n\n{table(profiles)}"
    print()
    print(text)
    print()
    print(prof)
    if not args.no_record:
        record("bench_logistic_path", "L2 logistic regression path", text)
        record("profile_logistic_path", "Where paths.logistic's time goes", prof)


if __name__ == "__main__":
    main()
