r"""L1 or L2? And should the bias be penalized? Three measurements.

The library's convention throughout: mean loss ½(h − y)² plus, for ``l1_ratio`` = ρ,
:math:`\frac{\lambda}{m}\big(\rho\lVert w\rVert_1 + \frac{1-\rho}{2}\lVert w\rVert^2\big)`,
the bias b unpenalized unless said otherwise.

1. **Coefficient paths** (glmnet-style) on the diabetes data (442 × 10, X and y
   standardized): the lasso (ρ = 1) and the elastic net (ρ = ½) with
   ``paths.linear``, ridge with ``paths.ridge``. At w = 0 with b = ȳ the L1 term keeps
   every weight at zero while :math:`\lambda\rho \ge \lVert X^\top(\bar y - y)\rVert_\infty`,
   so the lasso path starts exactly at ``selection.lambda_max`` (the elastic net's at
   λ_max/ρ) with all weights zero; ridge shrinks every weight and zeroes none.
2. **Best L1 against best L2** on synthetic data, n = 50 features x ~ N(0, I), noise
   σ = 1, ‖w*‖² = 5: a *sparse* truth (5 weights ±1) and a *dense* one (50 weights
   N(0, 1/10)), with m = 200 > n and m = 25 < n training examples. The test error is
   exact, :math:`E(x^\top w + b - y)^2 = \sigma^2 + \lVert w - w^*\rVert^2 + b^2`; λ is
   chosen per repetition on the test curve itself (the oracle) and, fairly, on an
   independent dev set of m/2 examples. Every repetition's lasso and ridge paths are
   one ``jit(vmap(...))``; the L1 − L2 differences are paired over repetitions.
3. **Penalizing the bias.** m = 40, n = 10, w* ~ N(0, ¼), x = z + μ (z ~ N(0, I)) and
   intercept b*; the cases μ, b* ∈ {0, 10}. The library's free bias is ``paths.ridge``;
   the penalized one is the course's θ₀, a ones column A = [1, X] penalized with the
   rest, θ = (AᵀA + λI)⁻¹Aᵀy for every λ from one eigendecomposition, checked to be a
   stationary point (so, the cost being strictly convex, the minimizer) of
   ``costs.regularized(..., mask={"w": True, "b": True})``. Test error
   :math:`\sigma^2 + \lVert\Delta w\rVert^2 + (\mu\mathbf 1^\top\Delta w + \Delta b)^2`.
   On data centred on its training means the two coincide exactly (the gradient in b is
   b(1 + λ/m), so b = 0, and w is the ridge solution): the study checks that (w, 0) is
   stationary there. Penalizing b is a Gaussian prior on b centred at 0; it can only
   matter when the intercept in the model's own coordinates is far from 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from regjax import costs, data, figures, losses, models, paths, selection
from regjax.experiments import Study, Table, _common

__all__ = ["QUESTION", "run"]

QUESTION = "L1 or L2 regularization, and should the bias be penalized?"

FEATURES = ("age", "sex", "bmi", "bp", "s1 tc", "s2 ldl", "s3 hdl", "s4 tch", "s5 ltg", "s6 glu")
N, SPARSE_K, SIGNAL, SIGMA, TOL = 50, 5, 5.0, 1.0, 1e-5  # part 2's problem
REGIMES = (200, 25)  # m > n and m < n
TRUTHS = ("sparse", "dense")
BIAS_M, BIAS_N, BIAS_TAU = 40, 10, 0.5  # part 3's problem
BIAS_CASES = {"centred": (0.0, 0.0), "x + 10": (10.0, 0.0), "intercept 10": (0.0, 10.0),
              "x + 10, intercept 10": (10.0, 10.0)}  # (μ, b*)  # fmt: skip


# ---------------------------------------------------------------- 1. coefficient paths


def _paths(num: int) -> dict[str, Any]:
    """Lasso, elastic net (ρ = ½) and ridge paths of the standardized diabetes data."""
    X, y = data.load_diabetes()[:2]
    y = (y - y.mean()) / y.std()
    lam_max = selection.lambda_max(X, y, model="linear")
    l1 = np.asarray(selection.lambda_grid(X, y, model="linear", num=num, penalty="l1"))
    grids = {"L1 (lasso)": l1, "elastic net ρ = ½": l1 / 0.5}
    # ridge: glmnet's start, 10³·λ_max, down to the lasso grid's end λ_max·10⁻⁴
    l2 = selection.lambda_grid(X, y, model="linear", num=num, penalty="l2", min_ratio=1e-7)
    grids["L2 (ridge)"] = np.asarray(l2)
    fits = {
        "L1 (lasso)": paths.linear(X, y, grids["L1 (lasso)"], l1_ratio=1.0),
        "elastic net ρ = ½": paths.linear(X, y, grids["elastic net ρ = ½"], l1_ratio=0.5),
        "L2 (ridge)": paths.ridge(X, y, grids["L2 (ridge)"]),
    }
    weights = {k: np.asarray(p.params["w"]) for k, p in fits.items()}
    return {"lam_max": lam_max, "lams": grids, "weights": weights,
            "nonzeros": {k: (w != 0).sum(axis=1) for k, w in weights.items()},
            "converged": all(bool(np.all(p.converged)) for p in fits.values())}  # fmt: skip


# ------------------------------------------------------------ 2. best L1 against best L2


def _scores(path: paths.Path, Xd: Any, yd: Any, w_true: Any) -> tuple[jax.Array, ...]:
    """Along a path: exact test MSE, dev MSE, nonzeros, true positives; converged."""
    w, b = path.params["w"], path.params["b"]
    test = SIGMA**2 + jnp.sum((w - w_true) ** 2, axis=1) + b**2
    dev = jnp.mean((Xd @ w.T + b - yd[:, None]) ** 2, axis=0)
    hits = jnp.sum((w != 0) & (w_true != 0), axis=1)  # true weights found
    return test, dev, jnp.sum(w != 0, axis=1), hits, jnp.all(path.converged)


# One jitted program per solver, every repetition vmapped: two batched LAPACK calls in
# one XLA program can deadlock XLA's CPU thread pool (each waits on workers the other
# holds), so the SVD of paths.ridge gets a program of its own.
_FITS = {
    "L1": jax.jit(jax.vmap(lambda X, y, lams: paths.linear(X, y, lams, tol=TOL))),
    "L2": jax.jit(jax.vmap(paths.ridge)),
}
_SCORES = jax.jit(jax.vmap(_scores))


def _truth(rng: np.random.Generator, kind: str, reps: int) -> np.ndarray:
    """(reps, N) true weights with ‖w*‖² = SIGNAL: 5 entries ±1, or all N(0, SIGNAL/N)."""
    if kind == "dense":
        return rng.normal(size=(reps, N)) * np.sqrt(SIGNAL / N)
    W = np.zeros((reps, N))
    for r in range(reps):
        W[r, rng.choice(N, SPARSE_K, replace=False)] = rng.choice([-1.0, 1.0], SPARSE_K)
    return W * np.sqrt(SIGNAL / SPARSE_K)


def _draw(rng: np.random.Generator, W: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(len(W), m, W.shape[1]))
    return X, np.einsum("rmn,rn->rm", X, W) + SIGMA * rng.normal(size=(len(W), m))


def _compare(rng: np.random.Generator, kind: str, m: int, reps: int, num: int) -> dict[str, Any]:
    """Best L1 vs best L2 over ``reps`` repetitions: per repetition, the test MSE, the
    nonzeros and the true positives at the oracle λ and at the dev-set λ."""
    W = _truth(rng, kind, reps)
    (X, y), (Xd, yd) = _draw(rng, W, m), _draw(rng, W, m // 2)

    def grid(r: int, penalty: str, ratio: float) -> np.ndarray:
        kw = {"model": "linear", "penalty": penalty}
        return np.asarray(selection.lambda_grid(X[r], y[r], num=num, min_ratio=ratio, **kw))

    l1 = np.stack([grid(r, "l1", 1e-3) for r in range(reps)])
    l2 = np.stack([grid(r, "l2", 1e-7) for r in range(reps)])  # down to λ_max(L1)·10⁻⁴
    rows, result = np.arange(reps), {}
    for name, lams in (("L1", l1), ("L2", l2)):
        scores = _SCORES(_FITS[name](X, y, lams), Xd, yd, W)
        test, dev, nonzeros, hits = (np.asarray(v) for v in scores[:4])
        result[f"{name} converged"] = bool(np.all(scores[4]))
        for rule, pick in (("oracle", test.argmin(axis=1)), ("dev", np.argmin(dev, axis=1))):
            result[f"{name} {rule}"] = test[rows, pick]
            result[f"{name} {rule} nonzeros"] = nonzeros[rows, pick]
            result[f"{name} {rule} hits"] = hits[rows, pick]
    return result


# --------------------------------------------------------------- 3. penalizing the bias


_PENALIZE_ALL = costs.regularized(  # ½ mean squared error + λ/(2m)(‖w‖² + b²)
    lambda p, X, y: losses.squared_error(models.linear(p, X), y), mask={"w": True, "b": True}
)


def _penalized(X: Any, y: Any, lams: Any) -> tuple[dict[str, jax.Array], jax.Array]:
    """The course's θ₀ (a ones column A = [1, X], penalized): θ = (AᵀA + λI)⁻¹Aᵀy for
    every λ from one eigendecomposition; and how far it is from stationary for the
    library's cost with the mask penalizing b, relative to |Aᵀy/m|."""
    A = jnp.concatenate([jnp.ones((X.shape[0], 1)), X], axis=1)
    s, V = jnp.linalg.eigh(A.T @ A)
    theta = (V / (s + lams[:, None, None])) @ (V.T @ (A.T @ y))  # (G, n + 1)
    params = {"w": theta[:, 1:], "b": theta[:, 0]}
    grads = jax.vmap(jax.grad(_PENALIZE_ALL), (0, None, None, 0))(params, X, y, lams)
    scale = jnp.max(jnp.abs(A.T @ y)) / X.shape[0]
    return params, jnp.max(jnp.abs(ravel_pytree(grads)[0])) / scale


def _free(X: Any, y: Any, lams: Any) -> tuple[dict[str, jax.Array], jax.Array]:
    """The library's free bias (``paths.ridge``); and how far (w, b = 0) is from stationary
    for the penalized-bias cost on the data centred on its training means (0: exact)."""
    params = paths.ridge(X, y, lams).params
    centred = {"w": params["w"], "b": jnp.zeros_like(params["b"])}
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    grads = jax.vmap(jax.grad(_PENALIZE_ALL), (0, None, None, 0))(centred, Xc, yc, lams)
    scale = jnp.max(jnp.abs(Xc.T @ yc)) / X.shape[0]
    return params, jnp.max(jnp.abs(ravel_pytree(grads)[0])) / scale


def _bias_scores(params: Any, Xd: Any, yd: Any, w_true: Any, case: Any) -> tuple[jax.Array, ...]:
    """Along a path: exact test MSE for x = z + μ, dev MSE, and the fitted b."""
    mu, b_true = case
    dw, db = params["w"] - w_true, params["b"] - b_true
    test = SIGMA**2 + jnp.sum(dw**2, axis=1) + (mu * jnp.sum(dw, axis=1) + db) ** 2
    dev = jnp.mean((Xd @ params["w"].T + params["b"] - yd[:, None]) ** 2, axis=0)
    return test, dev, params["b"]


_BIAS_FITS = {  # one batched LAPACK call (eigh, or the SVD of paths.ridge) per program
    "penalized": jax.jit(jax.vmap(_penalized, (0, 0, None))),
    "free": jax.jit(jax.vmap(_free, (0, 0, None))),
}
_BIAS_SCORES = jax.jit(jax.vmap(_bias_scores, (0, 0, 0, 0, None)))


def _bias(rng: np.random.Generator, reps: int, lams: np.ndarray) -> dict[str, dict[str, Any]]:
    """Every case of BIAS_CASES: curves over λ and per-repetition best test MSE."""
    results = {}
    for case, (mu, b_true) in BIAS_CASES.items():
        W = rng.normal(size=(reps, BIAS_N)) * BIAS_TAU
        shift = mu * W.sum(axis=1)[:, None] + b_true  # y = (z + μ)ᵀw* + b* + ε
        (X, y), (Xd, yd) = _draw(rng, W, BIAS_M), _draw(rng, W, BIAS_M // 2)
        res: dict[str, Any] = {"b_true": b_true}
        for name, fit in _BIAS_FITS.items():
            params, gap = fit(X + mu, y + shift, lams)
            res[f"{name} stationarity"] = float(jnp.max(gap))
            test, dev, b = _BIAS_SCORES(params, Xd + mu, yd + shift, W, (mu, b_true))
            res[f"{name} curve"], res[f"{name} b"] = np.asarray(test), np.asarray(b)
            res[f"{name} oracle"] = res[f"{name} curve"].min(axis=1)
            res[f"{name} dev"] = res[f"{name} curve"][np.arange(reps), np.argmin(dev, axis=1)]
        results[case] = res
    return results


# ------------------------------------------------------------------------------ the study


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of a − b over repetitions and its standard error."""
    d = np.asarray(a) - np.asarray(b)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def run(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: Any = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Measure the paths, best L1 against best L2, and the penalized bias.

    Args:
      quick: a CI-sized run (30 repetitions per L1/L2 setting, 100 per bias case).
      out: a directory for ``l1_vs_l2.png`` (paths), ``l1_vs_l2_error.png`` (L1 vs
        L2) and ``l1_vs_l2_bias.png`` (created); ``None`` for no figure.
      key: the seed (an int or a ``jax.random`` key) of every draw.
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`regjax.experiments.Study` whose data holds ``paths`` (grids, weights,
      nonzeros per penalty, ``lam_max``), ``compare`` (per "truth, m = ..." setting and
      repetition: test MSE, nonzeros and true positives of L1 and L2 at the oracle
      and dev λ), ``differences`` (paired L1 − L2 test MSE, (mean, SE), per setting and
      rule), ``bias`` (per case: test MSE curves, intercepts and best test MSE with b
      free or penalized; ``penalized stationarity``: max|∇J|/max|Aᵀy/m| of the masked
      library cost at the course's θ₀, ``free stationarity``: the same for the
      penalized-bias cost at (w_ridge, 0) on centred data), ``bias_differences``
      (penalized − free, (mean, SE), at each model's oracle λ, its dev λ, and the
      ``"fixed λ"`` best on average for the free bias) and ``bias_lams``.
    """
    num_path, reps, num, bias_reps, bias_num = (
        (50, 30, 30, 100, 40) if quick else (100, 200, 40, 400, 60)
    )
    say = _common.reporter(progress)
    _, rng = _common.seeds(key)
    with _common.float64():
        say(f"coefficient paths: diabetes, lasso / elastic net / ridge, {num_path} λ")
        path = _paths(num_path)
        compare = {}
        for m in REGIMES:
            for kind in TRUTHS:
                say(f"best L1 vs best L2: {kind} truth, m = {m}, {reps} repetitions × {num} λ")
                compare[f"{kind}, m = {m}"] = _compare(rng, kind, m, reps, num)
        say(f"bias penalized or free: {len(BIAS_CASES)} cases × {bias_reps} repetitions")
        bias_lams = np.logspace(-2, 4, bias_num)
        bias = _bias(rng, bias_reps, bias_lams)
    differences = {
        label: {rule: _paired(res[f"L1 {rule}"], res[f"L2 {rule}"]) for rule in ("oracle", "dev")}
        for label, res in compare.items()
    }
    bias_differences = {
        case: {r: _paired(res[f"penalized {r}"], res[f"free {r}"]) for r in ("oracle", "dev")}
        | {"fixed λ": _paired(res["penalized curve"][:, k], res["free curve"][:, k])}
        for case, res in bias.items()
        for k in [np.argmin(res["free curve"].mean(axis=0))]
    }
    data: dict[str, Any] = {"paths": path, "compare": compare, "differences": differences,
                            "bias": bias, "bias_differences": bias_differences,
                            "bias_lams": bias_lams}  # fmt: skip
    data["table"] = _table(data)
    written: tuple[Path, ...] = ()
    if out is not None:
        written = (
            _common.save(_figure_paths(path), out, "l1_vs_l2.png"),
            _common.save(_figure_error(compare), out, "l1_vs_l2_error.png"),
            _common.save(_figure_bias(bias, bias_lams), out, "l1_vs_l2_bias.png"),
        )
    return Study("l1_vs_l2", QUESTION, _answer(data), data, written)


def _answer(data: dict[str, Any]) -> str:
    c, d, b = data["compare"], data["differences"], data["bias_differences"]

    def mse(label: str, name: str) -> str:
        return f"{c[label][f'{name} dev'].mean():.2f}"

    big, small = "m = 200", "m = 25"
    rel = d[f"dense, {big}"]["dev"][0] / (c[f"dense, {big}"]["L2 dev"].mean() - SIGMA**2)
    return (
        f"It depends on the truth: with λ chosen on a dev set, L1 beat L2 on a sparse truth "
        f"(test MSE {mse(f'sparse, {big}', 'L1')} vs {mse(f'sparse, {big}', 'L2')} at "
        f"{big} > n = {N}, {mse(f'sparse, {small}', 'L1')} vs {mse(f'sparse, {small}', 'L2')} "
        f"at {small}; σ² = 1) and L2 beat L1 on a dense one ({mse(f'dense, {small}', 'L2')} "
        f"vs {mse(f'dense, {small}', 'L1')} at {small}, but by only "
        f"{_pm(d[f'dense, {big}']['dev'])}, {rel:.0%} of the excess error, at {big}), so "
        f'"L1 prevents overfitting less well" holds for dense truths, clearly only when '
        f"m < n; the dev-chosen lasso kept {c[f'sparse, {big}']['L1 dev nonzeros'].mean():.1f} "
        f"nonzeros for a truth of {SPARSE_K}. Penalizing the bias changed the best test MSE "
        f"by {_pm(b['centred']['oracle'])} (SE) on centred data and by "
        f"{_pm(b['x + 10']['oracle'])} with features x + 10 (b* = 0 is the penalty's "
        f"target), but cost {_pm(b['intercept 10']['oracle'])} when the intercept is 10 "
        f"({_pm(b['intercept 10']['fixed λ'])} at the free-bias model's best λ): what "
        "matters is the intercept, not the feature means."
    )


def _pm(pair: tuple[float, float]) -> str:
    return f"{pair[0]:+.3f} ± {pair[1]:.3f}"


def _table(data: dict[str, Any]) -> Table:
    rows = []
    for label, res in data["compare"].items():
        diff, truth = data["differences"][label], SPARSE_K if label.startswith("sparse") else N
        nonzeros = f"L1 nonzeros {res['L1 dev nonzeros'].mean():.1f} (truth {truth})"
        rows.append((label, "L1 vs L2", f"{res['L1 dev'].mean():.3f}",
                     f"{res['L2 dev'].mean():.3f}", _pm(diff["dev"]), _pm(diff["oracle"]),
                     nonzeros))  # fmt: skip
    for case, res in data["bias"].items():
        diff, best = data["bias_differences"][case], np.argmin(res["free curve"].mean(axis=0))
        b_pen, b_free = res["penalized b"][:, best].mean(), res["free b"][:, best].mean()
        rows.append((case, "b penalized vs free", f"{res['penalized dev'].mean():.3f}",
                     f"{res['free dev'].mean():.3f}", _pm(diff["dev"]), _pm(diff["oracle"]),
                     f"at free's best λ = {data['bias_lams'][best]:.3g}: A − B "
                     f"{_pm(diff['fixed λ'])}, b {b_pen:.2f} vs {b_free:.2f} "
                     f"(truth {res['b_true']:g})"))  # fmt: skip
    path = data["paths"]
    zeros = int((path["weights"]["L2 (ridge)"] == 0).sum())
    rows.append(("diabetes paths", "L1 / EN / L2", "", "", "", "",
                 f"at λ_max = {path['lam_max']:.4g}: {path['nonzeros']['L1 (lasso)'][0]} L1 "
                 f"nonzeros; ridge: {zeros} exact zeros"))  # fmt: skip
    headers = ("setting", "A vs B", "test MSE A (dev λ)", "test MSE B (dev λ)",
               "A − B, dev λ (± SE)", "A − B, oracle λ (± SE)", "notes")  # fmt: skip
    return Table(headers, tuple(rows))


# ------------------------------------------------------------------------------ figures


def _figure_paths(path: dict[str, Any]) -> Any:
    plt = figures.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    colors = plt.get_cmap("tab10").colors
    for ax, (name, lams) in zip(axes, path["lams"].items()):
        weights, nonzeros = path["weights"][name], path["nonzeros"][name]
        for j, feature in enumerate(FEATURES):
            ax.plot(lams, weights[:, j], color=colors[j], lw=1.6)
            ax.annotate(feature, (lams[-1], weights[-1, j]), fontsize=7, color=colors[j],
                        xytext=(3, 0), textcoords="offset points", va="center")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlim(lams[0] * 1.5, lams[-1] / 6)  # λ falls to the right: weights enter
        ax.axhline(0, color="k", lw=0.6)
        if name != "L2 (ridge)":
            ax.axvline(lams[0], color="gray", ls="--", lw=1, label=f"λ_max = {lams[0]:.4g}")
            ax.legend(fontsize=8, loc="upper left")
        ticks = np.linspace(0, len(lams) - 1, 7).astype(int)
        top = ax.secondary_xaxis("top")
        top.set_xticks(lams[ticks], [str(nonzeros[t]) for t in ticks], fontsize=8)
        top.minorticks_off()
        top.set_xlabel("nonzero weights", fontsize=8)
        ax.set(title=name, xlabel="λ (library convention; λ/m on the mean loss), falling →",
               ylabel="coefficient (standardized x and y)")  # fmt: skip
    fig.suptitle("diabetes (442 × 10): coefficient paths, every λ in one paths.* call")
    return fig


def _bars(ax: Any, k: int, samples: list[np.ndarray], *, scale: Any = 1.0, ses: float = 1.0,
          **style: Any) -> None:  # fmt: skip
    """Bar k of two per group: each sample's mean (divided by ``scale``) ± ``ses`` SE."""
    mean = np.array([s.mean() for s in samples]) / scale
    se = np.array([s.std(ddof=1) / np.sqrt(len(s)) for s in samples]) / scale
    x = np.arange(len(samples)) + (k - 0.5) * 0.38
    ax.bar(x, mean, 0.38, yerr=ses * se, capsize=3, alpha=0.75, **style)


def _figure_error(compare: dict[str, Any]) -> Any:
    plt = figures.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), constrained_layout=True)
    labels, x = list(compare), np.arange(len(compare))
    c = [compare[label] for label in labels]
    for k, (name, color) in enumerate((("L1", "tab:red"), ("L2", "tab:blue"))):
        _bars(axes[0], k, [r[f"{name} dev"] - SIGMA**2 for r in c], color=color,
              label=f"{name}, dev-set λ (± SE)")  # fmt: skip
        oracle = [r[f"{name} oracle"].mean() - SIGMA**2 for r in c]
        axes[0].plot(x + (k - 0.5) * 0.38, oracle, "k_", ms=14, mew=2,
                     label="oracle λ (min of the test curve)" if k else None)  # fmt: skip
    for k, rule in enumerate(("dev", "oracle")):
        _bars(axes[1], k, [r[f"L1 {rule}"] - r[f"L2 {rule}"] for r in c], ses=2.0,
              scale=np.array([r[f"L2 {rule}"].mean() - SIGMA**2 for r in c]),
              color=("tab:purple", "tab:gray")[k], label=f"{rule} λ (± 2 SE, paired)")  # fmt: skip
        _bars(axes[2], k, [r[f"L1 {rule} nonzeros"] for r in c],
              color=("tab:red", "tab:orange")[k], label=f"L1, {rule} λ (± SE)")  # fmt: skip
    axes[2].plot(x, [SPARSE_K if lab.startswith("sparse") else N for lab in labels], "k*",
                 ms=12, label="truth")  # fmt: skip
    axes[0].set(yscale="log", title="excess test MSE, E(ŷ − y)² − σ² (exact)",
                ylabel="excess test MSE")  # fmt: skip
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set(title="(L1 − L2) / L2's excess test MSE  (< 0: L1 better)",
                ylabel="relative difference")  # fmt: skip
    axes[2].set(title="nonzero weights of the selected lasso", ylabel=f"nonzeros (of n = {N})")
    for ax in axes:
        ax.set_xticks(x, labels, fontsize=8)
        ax.legend(fontsize=8)
    reps = len(c[0]["L1 dev"])
    fig.suptitle(f"best L1 vs best L2: n = {N}, σ = {SIGMA:g}, ‖w*‖² = {SIGNAL:g}, {reps} "
                 "repetitions, each setting's paths in one jit(vmap)")  # fmt: skip
    return fig


def _figure_bias(bias: dict[str, Any], lams: np.ndarray) -> Any:
    plt = figures.pyplot()
    fig, axes = plt.subplots(2, len(bias), figsize=(16, 7), sharex=True, constrained_layout=True)
    styles = {"free": ("tab:blue", "b free (library default)"),
              "penalized": ("tab:red", "b penalized (course's θ₀)")}  # fmt: skip
    for col, (case, res) in enumerate(bias.items()):
        top, bottom = axes[0, col], axes[1, col]
        for name, (color, label) in styles.items():
            curve = res[f"{name} curve"]
            mean, se = curve.mean(axis=0), curve.std(axis=0, ddof=1) / np.sqrt(len(curve))
            top.plot(lams, mean, color=color, lw=1.8, label=label)
            top.fill_between(lams, mean - 2 * se, mean + 2 * se, color=color, alpha=0.2)
            bottom.plot(lams, res[f"{name} b"].mean(axis=0), color=color, lw=1.8, label=label)
        bottom.axhline(res["b_true"], color="k", ls="--", lw=1, label="true b*")
        top.set(xscale="log", yscale="log", title=case, ylabel="test MSE (mean ± 2 SE)")
        bottom.set(xscale="log", xlabel="λ (library convention)", ylabel="fitted b (mean)")
        top.axhline(SIGMA**2, color="gray", lw=0.8, ls=":")
        top.legend(fontsize=7)
        bottom.legend(fontsize=7)
    reps = len(next(iter(bias.values()))["free oracle"])
    fig.suptitle(f"ridge with the bias free or penalized: m = {BIAS_M}, n = {BIAS_N}, "
                 f"x = z + μ, y = xᵀw* + b* + ε, {reps} repetitions")  # fmt: skip
    return fig
