r"""Why λ/(2m)? The test-optimal λ against the training-set size m, in both conventions.

The question: "Why is the L2 term divided by m? Other sources don't divide by m. Why would
we want smaller weights when there is more data?" — and the reply's intuition: three points
from a noisy straight line need strong regularization to keep a polynomial's x² coefficient
near zero, a huge number of points need little. The same costs written two ways:

* per example (the library's, Ng's): mean loss + λ/(2m)‖w‖² (= summed loss + λ/2‖w‖²);
* a fixed coefficient on the mean loss (``"mean_l2"``: jaxopt, glmnet): mean loss + c/2‖w‖²,
  c = λ/m (``rj.convert_lambda``).

One path per training set serves both; the study measures which number stays put as m
grows. For each model and m, R repetitions give the exact (or quadrature) expected test
loss on a fine log λ grid; λ* minimizes the mean test-loss curve (parabola vertex in log λ),
and its 95% band and the slope of log λ* against log m resample the repetitions
(``_common.curve_optimum``). c* = λ*/m, so its slope is the per-example slope − 1.

**(a) Gaussian prior (exact).** x ~ N(0, I_n), w ~ N(0, τ²I), intercept 0, y = x·w + N(0, σ²).
With the intercept unpenalized (``closed_form.ridge_path`` centres the data) the posterior
mean of w is ridge at λ = σ²/τ² whatever m, and it minimizes the Bayes risk
σ² + E‖ŵ − w‖² + E b̂²: λ* = σ²/τ² at every m (slope 0), c* = σ²/(τ²m) (slope −1).

**(b) The noisy line.** x ~ U(−1, 1), y = a + bx + N(0, σ²), fitted with x, x², …, x⁵, each
standardized with its *population* mean and sd under U(−1, 1) (one fixed map, so a λ means
the same penalty at every m); exact test loss by Gauss–Legendre quadrature. For a fixed
truth and m → ∞ ridge's risk is σ²p/m + (λ²wᵀΣ⁻¹w − 2λσ²tr Σ⁻¹)/m² + …: λ* tends to
λ∞ = σ²tr Σ⁻¹/(wᵀΣ⁻¹w) (Σ the features' population correlation), again free of m.

**(c) Logistic regression**, x ~ N(0, I), w ~ N(0, τ²I), y ~ Bernoulli(σ(x·w)), by
``rj.paths.logistic``; exact test cross-entropy (2-D Gauss–Hermite). MAP: λ = 1/τ².

**(d) A small MLP** (``models.mlp``, tanh, 4–8–1) and a teacher of the same shape with
N(0, τ²) weights (biases 0), y = f(x) + N(0, σ²); full-batch Adam (cosine schedule) via
``solvers.optax_fit`` from one ``models.init_mlp`` per repetition; test error on 1000 fixed
inputs. MAP: λ = σ²/τ² (for a nonlinear model not the test optimum).

Each repetition is an antithetic pair of training sets (noise ε and −ε; labels from
uniforms u and 1 − u) whose test losses are averaged: exact in expectation, and it cancels
the noisy part of the risk that is odd in the noise. Training sets are nested (the first m
of M rows), handed to the solver as M/m copies at λ·M/m (:func:`_copies`), so one program
serves every m. Loshchilov & Hutter's normalized weight decay λ_norm·√(b/(B·T))
(arXiv:1711.05101) falls as m^(−1/2) at fixed b and T: a reference line on the c scale.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import regjax as rj
from regjax import closed_form, costs, figures, losses, models, paths, solvers
from regjax.experiments import Study, Table, _common

__all__ = ["QUESTION", "run"]

QUESTION = (
    "Why is the L2 term divided by m, the number of training examples, "
    "and should a larger data set get a smaller penalty?"
)

SIGMA2 = 1.0  # noise variance of (a), (b), (d)
N_GAUSS, TAU2_GAUSS = 20, 0.05  # (a): λ_MAP = σ²/τ² = 20
LINE, DEGREE = (0.5, 2.0), 5  # (b): y = a + bx + noise, features x … x⁵
N_LOGIT, TAU2_LOGIT = 10, 0.1  # (c): λ_MAP = 1/τ² = 10
MLP_SIZES, TAU2_MLP, MLP_LR = (4, 8, 1), 0.25, 0.05  # (d): λ_MAP = σ²/τ² = 4
MODELS = ("gaussian", "line", "logistic", "mlp")
TITLES = {
    "gaussian": f"(a) linear, Gaussian prior, n = {N_GAUSS}",
    "line": f"(b) noisy line, degree-{DEGREE} polynomial",
    "logistic": f"(c) logistic regression, n = {N_LOGIT}",
    "mlp": "(d) MLP 4–8–1 (tanh), teacher–student",
}
_POWERS = np.arange(1, DEGREE + 1)
_MU = np.where(_POWERS % 2 == 0, 1 / (_POWERS + 1), 0.0)  # E[x^k] under U(−1, 1)
_SD = np.sqrt(1 / (2 * _POWERS + 1) - _MU**2)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)  # exact for the degree-10 squared error

# per model: m (each divides the largest), repetitions, λ grid (log10 low, high, points)
_QUICK = {
    "gaussian": ([10, 20, 50, 100, 200, 500, 1000], 128, (-0.5, 3.5, 81)),
    "line": ([3, 10, 30, 100, 300, 1000, 3000], 256, (-2.0, 3.5, 89)),
    "logistic": ([20, 200, 2000], 32, (-1.0, 3.0, 17)),
    "mlp": ([10, 100, 1000], 3, (-0.5, 2.5, 7)),
}
_FULL = {
    "gaussian": ([10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000], 128, (-0.5, 3.5, 81)),
    "line": ([3, 10, 30, 100, 300, 1000, 3000, 10000, 30000], 256, (-2.0, 3.5, 89)),
    "logistic": ([20, 50, 100, 500, 1000, 5000, 10000], 64, (-1.0, 3.0, 25)),
    "mlp": ([10, 20, 50, 100, 200, 500, 1000], 8, (-0.5, 2.5, 13)),
}


def _theory() -> dict[str, float]:
    """The per-example λ each model is held against: exact for (a), the large-m limit for
    (b), the MAP under the prior for (c) and (d).

    Example:
      >>> {k: round(v, 2) for k, v in _theory().items()}
      {'gaussian': 20.0, 'line': 9.1, 'logistic': 10.0, 'mlp': 4.0}
    """
    k = _POWERS
    moments = np.where((k[:, None] + k) % 2 == 0, 1 / (k[:, None] + k + 1), 0.0)
    corr = (moments - np.outer(_MU, _MU)) / np.outer(_SD, _SD)
    inv = np.linalg.inv(corr)
    w = np.zeros(DEGREE)
    w[0] = LINE[1] * _SD[0]  # y = a + b·x = const + (b·sd₁)·z₁
    return {
        "gaussian": SIGMA2 / TAU2_GAUSS,
        "line": float(SIGMA2 * np.trace(inv) / (w @ inv @ w)),
        "logistic": 1 / TAU2_LOGIT,
        "mlp": SIGMA2 / TAU2_MLP,
    }


def _features(x: jax.Array) -> jax.Array:
    """x, x², …, x⁵, standardized with their population moments under U(−1, 1)."""
    return (x[..., None] ** jnp.asarray(_POWERS) - jnp.asarray(_MU)) / jnp.asarray(_SD)


def _pair(e: jax.Array) -> jax.Array:
    """The antithetic pair of noise columns (ε, −ε)."""
    return e[:, None] * jnp.array([1.0, -1.0])


def _gaussian_lane(lams: jax.Array) -> Callable:
    def lane(X: jax.Array, w: jax.Array, e: jax.Array, idx: jax.Array, r: jax.Array) -> Any:
        X, e = X[idx], e[idx]
        fit = closed_form.ridge_path(X, (X @ w)[:, None] + _pair(e), lams * r)  # w (G, n, 2)
        risk = SIGMA2 + jnp.sum((fit["w"] - w[:, None]) ** 2, axis=1) + fit["b"] ** 2
        return risk.mean(-1)

    return lane


def _line_lane(lams: jax.Array) -> Callable:
    a, b = LINE
    nodes, weights = jnp.asarray(_GL_X), jnp.asarray(_GL_W / 2)

    def lane(x: jax.Array, e: jax.Array, idx: jax.Array, r: jax.Array) -> Any:
        x, e = x[idx], e[idx]
        fit = closed_form.ridge_path(_features(x), (a + b * x)[:, None] + _pair(e), lams * r)
        pred = jnp.einsum("qn,gnk->gqk", _features(nodes), fit["w"]) + fit["b"][:, None]
        risk = SIGMA2 + jnp.einsum("q,gqk->gk", weights, (pred - (a + b * nodes)[:, None]) ** 2)
        return risk.mean(-1)

    return lane


def _logistic_lane(lams: jax.Array) -> Callable:
    def lane(X: jax.Array, w: jax.Array, u: jax.Array, idx: jax.Array, r: jax.Array) -> Any:
        X, u = X[idx], u[idx]
        p = jax.nn.sigmoid(X @ w)
        labels = jnp.stack([u < p, 1 - u < p]).astype(X.dtype)  # antithetic uniforms

        def fit(y: jax.Array) -> tuple[jax.Array, jax.Array]:
            path = paths.logistic(X, y, lams * r)
            risk = jax.vmap(lambda prm: _common.logistic_test_loss(w, prm))(path.params)
            return risk, path.converged

        risk, converged = jax.lax.map(fit, labels)  # one after the other: each stops early
        return risk.mean(0), converged.all(0)

    return lane


def _mlp_lane(lams: jax.Array, X_test: jax.Array, steps: int) -> Callable:
    def net(params: Any, X: jax.Array) -> jax.Array:
        return models.mlp(params, X, activation=jnp.tanh, output=lambda z: z)[:, 0]

    cost = costs.regularized(lambda p, X, y: losses.squared_error(net(p, X), y))
    opt = optax.adam(optax.cosine_decay_schedule(MLP_LR, steps))

    def lane(teacher: Any, X: jax.Array, e: jax.Array, key: jax.Array, idx: Any, r: Any) -> Any:
        X, e = X[idx], e[idx]
        p0, target = models.init_mlp(key, MLP_SIZES, dtype=X.dtype), net(teacher, X_test)

        def fit(lam: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
            p, info = solvers.optax_fit(
                cost, opt, p0, X, y, lam=lam, max_steps=steps, return_info=True
            )
            return SIGMA2 + jnp.mean((net(p, X_test) - target) ** 2), info.grad_max

        Y = (net(teacher, X)[:, None] + _pair(e)).T  # (2, M)
        risk, grad_max = jax.vmap(jax.vmap(fit, (None, 0)), (0, None))(lams * r, Y)
        return risk.mean(-1), grad_max.max(-1)

    return lane


def _copies(m: int, big: int) -> tuple[jax.Array, jax.Array]:
    """Rows and λ factor that hand the first m of ``big`` rows to a solver as big/m copies:
    the mean loss is unchanged and so is c = λ/m at λ·big/m, hence the minimizer.

    Example:
      >>> X, y = jnp.array([[0.0], [1.0], [3.0]]), jnp.array([1.0, 0.0, 2.0])
      >>> rows, r = _copies(3, 12)
      >>> one = closed_form.ridge_path(X, y, jnp.array([0.5]))["w"]
      >>> copies = closed_form.ridge_path(X[rows], y[rows], 0.5 * r[None])["w"]
      >>> bool(jnp.allclose(one, copies, rtol=1e-6)), float(r)
      (True, 4.0)
    """
    return jnp.arange(big) % m, jnp.asarray(big / m)


def _sweep(lane: Callable, draw: Callable, sizes: list[int], reps: int, chunk: int) -> Any:
    """``lane`` (one compiled program, repetitions one after the other) at every m, for
    ``reps`` repetitions drawn ``chunk`` at a time by ``draw(k)``: the first m rows of each
    as :func:`_copies`. Returns each output stacked (R, K, ...)."""
    big = max(sizes)
    assert all(big % m == 0 for m in sizes), "every m must divide the largest"
    fn, out = None, []
    for start in range(0, reps, chunk):
        data = draw(min(chunk, reps - start))
        fn = fn or jax.jit(lambda *a: jax.lax.map(lambda d: lane(*d, *a[-2:]), a[:-2]))
        outs = [fn(*data, *_copies(m, big)) for m in sizes]
        out.append(jax.tree.map(lambda *a: np.stack([np.asarray(x) for x in a], 1), *outs))
    return jax.tree.map(lambda *a: np.concatenate(a, 0), *out)


def _setup(model: str, lams: jax.Array, big: int, rng: Any, key: jax.Array, steps: int) -> Any:
    """The model's lane and its ``draw(k)``: k repetitions of M = ``big`` rows each."""
    normal = rng.standard_normal
    noise = lambda k: normal((k, big)) * SIGMA2**0.5  # noqa: E731
    if model in ("gaussian", "logistic"):
        gauss = model == "gaussian"
        n, tau2 = (N_GAUSS, TAU2_GAUSS) if gauss else (N_LOGIT, TAU2_LOGIT)
        third = noise if gauss else lambda k: rng.uniform(size=(k, big))
        lane = (_gaussian_lane if gauss else _logistic_lane)(lams)
        return lane, lambda k: (normal((k, big, n)), normal((k, n)) * tau2**0.5, third(k))
    if model == "line":
        return _line_lane(lams), lambda k: (rng.uniform(-1, 1, (k, big)), noise(k))
    X_test = jnp.asarray(normal((1000, MLP_SIZES[0])))
    shapes = list(zip(MLP_SIZES[1:], MLP_SIZES[:-1], strict=True))

    def draw(k: int) -> tuple:
        teacher = [
            {"W": normal((k, o, i)) * TAU2_MLP**0.5, "b": np.zeros((k, o))} for o, i in shapes
        ]
        keys = jax.random.split(jax.random.fold_in(key, int(rng.integers(2**31))), k)
        return teacher, normal((k, big, MLP_SIZES[0])), noise(k), keys

    return _mlp_lane(lams, X_test, steps), draw


def _measure(model: str, setting: tuple, quick: bool, rng: Any, key: jax.Array) -> dict:
    """Test loss (R, K, G) on the grid at every m, the optimum of the mean curve with its
    bootstrap band, and the same optimum as a mean-loss coefficient c* = λ*/m."""
    sizes, reps, (low, high, num) = setting
    lams = np.logspace(low, high, num)
    steps = 300 if quick else 800
    lane, draw = _setup(model, jnp.asarray(lams), max(sizes), rng, key, steps)
    out = _sweep(lane, draw, sizes, reps, 64)
    loss, check = out if isinstance(out, tuple) else (out, None)
    opt = _common.curve_optimum(sizes, lams, loss, rng=rng)
    m = np.asarray(sizes, float)
    c = {k: np.asarray(rj.convert_lambda(v, from_="ng", to="mean_l2", m=m)) for k, v in
         (("best", opt.best), ("low", opt.low), ("high", opt.high))}  # fmt: skip
    s = opt.slope  # c* = λ*/m exactly, so the slope moves by −1 and the band with it
    res = {"sizes": m, "lams": lams, "loss": loss, "opt": opt, "c": c, "reps": reps}
    res["slope_c"] = _common.Slope(s.value - 1, s.low - 1, s.high - 1, s.se)
    if model == "logistic":
        res["converged"] = float(np.mean(check))  # fraction of Newton-CG fits converged
    if model == "mlp":
        res["grad_max"] = float(np.median(check))  # median max|∇J| after Adam
    return res


def run(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: Any = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Measure the test-optimal λ against m for the four models, in both conventions.

    Args:
      quick: a CI-sized run (128 / 256 / 32 / 3 repetitions of (a)–(d), the MLP 300 steps).
      out: a directory for ``divide_by_m.png`` (λ* and c* against m) and
        ``divide_by_m_curves.png`` (test-loss curves) (created); ``None`` for none.
      key: the seed (an int or a ``jax.random`` key).
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`regjax.experiments.Study`; ``data[model]`` (``MODELS``) holds ``sizes``
      (m), ``lams``, ``loss`` (R, K, G), ``opt`` (``_common.CurveOptimum``: λ* per m, band,
      slope), ``c`` (c* = λ*/m: ``best``, ``low``, ``high``) and ``slope_c``;
      ``data["theory"]`` the per-example λ each model is held against.
    """
    say = _common.reporter(progress)
    jkey, rng = _common.seeds(key)
    settings = _QUICK if quick else _FULL
    data: dict[str, Any] = {"theory": _theory()}
    with _common.float64():
        for model in MODELS:
            sizes, reps, grid = settings[model]
            say(f"{TITLES[model]}: m = {sizes[0]}–{sizes[-1]}, {reps} repetitions × {grid[2]} λ")
            data[model] = _measure(model, settings[model], quick, rng, jkey)
    data["table"] = _table(data)
    written: tuple[Path, ...] = ()
    if out is not None:
        written = (
            _common.save(_figure(data), out, "divide_by_m.png"),
            _common.save(_figure_curves(data), out, "divide_by_m_curves.png"),
        )
    return Study("divide_by_m", QUESTION, _answer(data), data, written)


def _span(values: np.ndarray) -> str:
    return f"{values.min():.3g}–{values.max():.3g}"


def _drift(s: _common.Slope) -> str:
    """What a per-example slope says, read from its band."""
    if s.low <= 0 <= s.high:
        return "consistent with a constant λ*"
    near = "Loshchilov & Hutter's −½" if abs(s.value - 0.5) < abs(s.value) else "the prior's −1"
    way = "falls" if s.value < 0 else "grows"
    return f"λ* {way} with m, so c* ∝ m^{s.value - 1:.2f}, nearer {near}"


def _labels(th: dict[str, float]) -> dict[str, str]:
    return {
        "gaussian": f"exact: λ* = σ²/τ² = {th['gaussian']:g}",
        "line": f"large-m limit λ∞ = {th['line']:.3g}",
        "logistic": f"MAP λ = 1/τ² = {th['logistic']:g}",
        "mlp": f"MAP λ = σ²/τ² = {th['mlp']:g}",
    }


def _answer(data: dict[str, Any]) -> str:
    th, g, line = data["theory"], data["gaussian"], data["line"]
    s, sc = line["opt"].slope, line["slope_c"]
    folk = "true of c (by the 1/m itself) and not of λ" if abs(s.value) < abs(sc.value) / 2 else (
        "true here of λ itself too")  # fmt: skip
    others = "; ".join(
        f"{name} λ* {_span(data[k]['opt'].best)} (slope {_common.band(data[k]['opt'].slope)}, "
        f"{_labels(th)[k]}): {_drift(data[k]['opt'].slope)}"
        for k, name in (("logistic", "logistic regression"), ("mlp", "the MLP"))
    )
    return (
        f"With a Gaussian prior the test-optimal per-example λ is {_span(g['opt'].best)} for "
        f"m = {g['sizes'][0]:g}–{g['sizes'][-1]:g} (σ²/τ² = {th['gaussian']:g}; slope of "
        f"log λ* vs log m {_common.band(g['opt'].slope)}, theory 0) while the same optimum as a "
        f"mean-loss coefficient c* = λ*/m falls as m^{g['slope_c'].value:.2f} (theory −1): "
        f"dividing by m makes λ a per-example quantity like the noise-to-prior variance "
        f"ratio, so one λ is right at every m and the effective strength c = λ/m falls as "
        f"1/m by itself. On the noisy straight line (degree-{DEGREE} polynomial) λ* stays "
        f"within {_span(line['opt'].best)} (slope {_common.band(s)}; "
        f"large-m limit {th['line']:.3g}) "
        f"while c* falls {line['c']['best'][0] / line['c']['best'][-1]:.0f}-fold from m = "
        f"{line['sizes'][0]:g} to {line['sizes'][-1]:g} (slope {_common.band(sc)}), so 'more data "
        f"needs less regularization' is {folk}. Further: {others}."
    )


def _table(data: dict[str, Any]) -> Table:
    labels = _labels(data["theory"])
    labels["logistic"] += f" ({data['logistic']['converged']:.0%} of fits converged)"
    labels["mlp"] += f" (Adam: median max|∇J| {data['mlp']['grad_max']:.0e})"
    rows = [
        (TITLES[k], f"{d['sizes'][0]:g}–{d['sizes'][-1]:g} ({d['reps']})", _span(d["opt"].best),
         _common.band(d["opt"].slope), _span(d["c"]["best"]), _common.band(d["slope_c"]), labels[k])
        for k, d in ((k, data[k]) for k in MODELS)
    ]  # fmt: skip
    rows.append(("Loshchilov & Hutter", "", "", "+0.50", "", "−0.50", "decay ∝ m^(−1/2)"))
    headers = ("model", "m (repetitions)", "λ* per example", "slope log λ* [95%]",
               "c* = λ*/m", "slope log c* [95%]", "theory (slopes 0 and −1)")  # fmt: skip
    return Table(headers, tuple(rows))


def _panel(ax: Any, d: dict, lam_theory: float, theory_label: str) -> None:
    """λ* and c* with bands, their fitted slopes (through the geometric centre, with the
    slope's band), the theory and Loshchilov & Hutter's m^(−½)."""
    m, opt, c = d["sizes"], d["opt"], d["c"]
    fx = np.geomspace(m[0], m[-1], 50)
    lx = np.log(fx / np.exp(np.log(m).mean()))
    for best, low, high, color, s, name in (
        (opt.best, opt.low, opt.high, "C0", opt.slope, "per-example λ*"),
        (c["best"], c["low"], c["high"], "C1", d["slope_c"], "mean-loss c* = λ*/m"),
    ):
        ax.errorbar(m, best, yerr=(best - low, high - best), fmt="o", color=color, ms=4,
                    capsize=2, label=f"{name}: slope {_common.band(s)}")  # fmt: skip
        centre = np.exp(np.log(best).mean())
        ax.fill_between(fx, centre * np.exp(s.low * lx), centre * np.exp(s.high * lx),
                        color=color, alpha=0.2, lw=0)  # fmt: skip
        ax.plot(fx, centre * np.exp(s.value * lx), "-", color=color, lw=1.2)
    ax.plot(fx, np.full_like(fx, lam_theory), "--", color="C0", lw=1, label=theory_label)
    ax.plot(fx, lam_theory / fx, "--", color="C1", lw=1, label="the same / m: slope −1")
    centre = np.exp(np.log(c["best"]).mean() + 0.5 * np.log(m).mean())
    ax.plot(fx, centre / np.sqrt(fx), ":", color="0.3", lw=1.5,
            label="Loshchilov & Hutter ∝ m^−½")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="training-set size m")
    ax.legend(fontsize=7, loc="lower left")


def _figure(data: dict[str, Any]) -> Any:
    plt = figures.pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 9), constrained_layout=True)
    th, labels = data["theory"], _labels(data["theory"])
    for ax, model in zip(axes.ravel(), MODELS, strict=True):
        _panel(ax, data[model], th[model], labels[model])
        ax.set_title(f"{TITLES[model]}, {data[model]['reps']} repetitions", fontsize=10)
        ax.set_ylabel("test-optimal strength")
    fig.suptitle(
        "Test-optimal L2 strength against m: per-example λ (mean loss + λ/(2m)‖w‖²) and "
        "c = λ/m (mean loss + c/2‖w‖²)"
        "\n(minimizer of the mean test loss, 95% bootstrap bands over repetitions)",
        fontsize=11,
    )
    return fig


def _figure_curves(data: dict[str, Any]) -> Any:
    plt = figures.pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(16, 7), constrained_layout=True)
    for k, model in enumerate(MODELS):
        d = data[model]
        colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(d["sizes"])))
        for m, curve, best, color in zip(
            d["sizes"], d["loss"].mean(0), d["opt"].best, colors, strict=True
        ):
            excess = np.maximum(curve / curve.min() - 1, 1e-7)
            for row, x, at in ((0, d["lams"], best), (1, d["lams"] / m, best / m)):
                axes[row, k].plot(x, excess, "-", color=color, lw=1.2, label=f"m = {m:g}")
                axes[row, k].plot(at, 1e-7, "v", color=color, ms=7)
        axes[0, k].set_title(TITLES[model], fontsize=10)
        axes[0, k].set_xlabel("per-example λ (mean loss + λ/(2m)‖w‖²)")
        axes[1, k].set_xlabel("mean-loss c = λ/m (mean loss + c/2‖w‖²)")
        for ax in axes[:, k]:
            ax.set(xscale="log", yscale="log", ylim=(5e-8, 3), ylabel="" if k else "mean test "
                   "loss / its minimum − 1")  # fmt: skip
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.suptitle("Mean test-loss curves at each m (▼ its minimizer), against the per-example λ "
                 "(top) and against the mean-loss coefficient c = λ/m (bottom)")  # fmt: skip
    return fig
