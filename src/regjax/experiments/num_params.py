r"""Does λ have to follow n, the number of parameters? The penalty grows with n; its pull does not.

The question: with n = 35,000,000 parameters and λ = 0.01 a binary classifier's cost
starts around 50 instead of 0.69 — should λ be divided by n, and will the penalty crush
every weight to zero? The reply: each weight's derivative of λ/(2m)‖w‖² is λw_j/m,
whatever n. Four measurements, in the library's convention (mean loss + λ/(2m)‖w‖²).

**1. The penalty at initialization** is a sum over the weights. With unit-variance
weights (``randn``) :math:`E[\frac{\lambda}{2m}\sum_j w_j^2] = \frac{\lambda n}{2m}`
exactly, and its relative spread is :math:`\sqrt{2/n}`. The study samples nested weight
vectors over decades of n and fits log P₀ against log n (slope 1). With Ng's / Glorot's
fan-scaled initialization (``models.init_mlp``, variance 2/(fan_in + fan_out)) of an MLP
with two h × h layers, :math:`E[P_0] = \lambda h/m` while n = 2h²: slope ½. Under
``scale="per_param"`` (λ/(2n)‖w‖²) :math:`E[P_0] = \lambda/2` whatever n: slope 0.
The data part at initialization is the cross-entropy at the initial logits; at logits 0
(σ(0) = ½, any label) it is ln 2 = 0.6931. The question's m is not given: assuming
unit-variance weights, E[cost₀] = ln 2 + λn/(2m) = 50 at
:math:`m = \lambda n/(2(50 - \ln 2)) \approx 3549` (more generally for weights of variance
s², any m with s²/m = 2(50 − ln 2)/(λn)). The study draws the 35M weights once (in
chunks, through ``penalties.l2``) and reports the cost.

**2. Each weight's pull.** For nested weight vectors (the first n entries of one draw)
``closed_form.l2_grad`` and ``jax.grad`` of ``penalties.l2`` give the same λw₀/m for
weight 0 at every n; under ``scale="per_param"`` it is λw₀/n, falling as 1/n. A step of
gradient descent multiplies every weight by 1 − αλ/m: nothing about n.

**3. The test-optimal λ.** Linear regression with a Gaussian prior, where the answer is
exact: y = Xw + ε, x ~ N(0, I_n), ε ~ N(0, σ²), w ~ N(0, τ²I). The posterior mean is
ridge at λ = σ²/τ² (per-example convention, ``closed_form.ridge_path``): the Bayes-optimal
λ does not depend on n (nor m). At each n, over three decades or more, every repetition
draws w, X (m = 50 rows, centred like a standardized data set, so the fitted intercept
is ε̄ at every λ) and y, and reads the exact test error
:math:`E(x^\top\hat w + \hat b - y)^2 = \sigma^2 + \lVert\hat w - w\rVert^2 + \hat b^2`
on a λ grid 0.1 decade apart. λ* is the minimizer of the mean curve over repetitions
(the vertex of the parabola, in log λ, through the lowest point and its neighbours);
the bands resample the repetitions. σ²/τ² = 250 keeps the signal-to-noise ratio of the
fitted directions, s²τ²/σ² with s² ≈ max(m, n), near 1 across the range, where λ* is
best determined. The same fits, read on a per_param grid (λ_ng = ``convert_lambda(λ_pp,
from_="per_param", to="ng", m=m, n=n)`` = λ_pp·m/n), give the per_param optimum, which
must grow ∝ n; the gradient of the per_param cost (``costs.regularized(...,
scale="per_param")``) at the converted ridge solution checks that it is the same problem.
What decides λ* is the prior's *per-weight* scale: a truth whose total signal is fixed
(τ² = T²/n, T² = 1) has λ* = σ²n/T², growing ∝ n — the opposite of dividing by n. At the
question's λ = 0.01 the fitted ‖ŵ‖ is compared with the unregularized fit's.

References:
  A. Ng, Machine Learning (Coursera), regularized logistic regression.
  X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
  neural networks", AISTATS 2010.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import regjax as rj
from regjax import closed_form, costs, figures, losses, models, penalties
from regjax.experiments import Study, Table, _common

__all__ = ["QUESTION", "run"]

QUESTION = (
    "With 35 million parameters the L2 penalty makes the initial cost 50 instead of ln 2: "
    "should λ be divided by the number of parameters?"
)

LAM_Q, N_Q, COST_Q = 0.01, 35_000_000, 50.0  # the question's λ, n and initial cost
M_Q = round(LAM_Q * N_Q / (2 * (COST_Q - np.log(2))))  # m making E[cost₀] = 50 (3549)
M_FIT, SIGMA2, TAU2, TOTAL = 50, 1.0, 0.004, 1.0  # part 3: σ²/τ² = 250; T² = 1
CHUNK = 1_000_000


# ---------------------------------------------------------------- 1. the initial penalty


def _init_penalty(rng: np.random.Generator, sizes: np.ndarray, reps: int) -> dict[str, Any]:
    """P₀ per repetition and n: unit-variance nested weights, per-example and per_param."""
    prefixes = [int(n) for n in sizes]

    @jax.jit
    def one(w: jax.Array) -> jax.Array:  # P₀ of the first n weights, for every n
        ex = [penalties.l2({"w": w[:n]}, LAM_Q, m=M_Q) for n in prefixes]
        return jnp.stack([*ex, *(penalties.l2({"w": w[:n]}, LAM_Q, scale="per_param")
                                 for n in prefixes)])  # fmt: skip

    out = np.stack([one(rng.standard_normal(prefixes[-1])) for _ in range(reps)])
    return {"per_example": out[:, : len(sizes)], "per_param": out[:, len(sizes) :]}


def _glorot_penalty(key: jax.Array, widths: np.ndarray, reps: int) -> dict[str, np.ndarray]:
    """P₀ of ``models.init_mlp(key, (h, h, h))`` per repetition and h, and its expectation."""
    hs = [int(h) for h in widths]

    def draw(k: jax.Array) -> jax.Array:
        keys = jax.random.split(k, len(hs))
        return jnp.stack(
            [penalties.l2(models.init_mlp(kh, (h, h, h)), LAM_Q, m=M_Q) for kh, h in zip(keys, hs)]
        )

    values = jax.jit(lambda keys: jax.lax.map(draw, keys))(jax.random.split(key, reps))
    ns = [penalties.num_penalized(models.init_mlp(key, (h, h, h))) for h in hs]
    # U(−ε, ε) with ε² = 6/(fan_in + fan_out) = 3/h: variance 1/h, 2h² weights
    expected = [LAM_Q / (2 * M_Q) * 2 * h * h * (6.0 / (2 * h)) / 3 for h in hs]
    return {"n": np.array(ns), "value": np.asarray(values), "expected": np.array(expected)}


def _question(rng: np.random.Generator) -> dict[str, float]:
    """The question's cost at initialization: ln 2 at zero logits + P₀ of 35M N(0, 1) weights."""
    labels = jnp.asarray(rng.integers(0, 2, M_Q), dtype=jnp.float64)
    data_part = float(losses.binary_cross_entropy(jnp.zeros(M_Q), labels))
    penalty = 0.0
    for _ in range(N_Q // CHUNK):  # 35 chunks of 10⁶ weights: P₀ is a sum over weights
        penalty += float(penalties.l2({"w": jnp.asarray(rng.standard_normal(CHUNK))}, LAM_Q, m=M_Q))
    expected = LAM_Q * N_Q / (2 * M_Q)
    return {
        "data_part": data_part,
        "penalty": penalty,
        "cost": data_part + penalty,
        "expected_penalty": expected,
        "sd_penalty": expected * np.sqrt(2 / N_Q),
    }


# ---------------------------------------------------------------- 2. each weight's gradient


def _gradients(key: jax.Array, sizes: np.ndarray) -> dict[str, np.ndarray]:
    """∂P/∂w₀ at every n for nested weights: closed form and autodiff, both scales."""
    prefixes = [int(n) for n in sizes]

    def at(w: jax.Array) -> dict[str, jax.Array]:
        rows = []
        for n in prefixes:
            params = {"w": w[:n], "b": jnp.zeros(())}
            auto = jax.grad(lambda p: penalties.l2(p, LAM_Q, m=M_Q))(params)["w"]
            closed = closed_form.l2_grad(params, LAM_Q, m=M_Q)["w"][0]
            pp = closed_form.l2_grad(params, LAM_Q, scale="per_param")["w"][0]
            rows.append(jnp.stack([closed, auto[0], pp, jnp.linalg.norm(auto)]))
        return dict(zip(("closed", "autodiff", "per_param", "norm"), jnp.stack(rows, 1)))

    w = jax.random.normal(key, (prefixes[-1],))
    res = {k: np.asarray(v) for k, v in jax.jit(at)(w).items()}
    res["w0"] = np.array(float(w[0]))
    ref = LAM_Q * res["w0"] / M_Q
    res["closed_rel_spread"] = np.array(np.max(np.abs(res["closed"] / ref - 1)))
    res["autodiff_rel_spread"] = np.array(np.max(np.abs(res["autodiff"] / ref - 1)))
    return res


# ---------------------------------------------------------------- 3. the test-optimal λ


def _ridge_lane(n: int, lams_ng: np.ndarray, lams_pp: np.ndarray) -> Callable:
    """One repetition at width n: exact test errors on both grids, norms, a per_param check."""
    pp_as_ng = np.asarray(rj.convert_lambda(lams_pp, from_="per_param", to="ng", m=M_FIT, n=n))
    check_ng = rj.convert_lambda(LAM_Q, from_="per_param", to="ng", m=M_FIT, n=n)
    grid = jnp.asarray(np.concatenate([lams_ng, pp_as_ng, [0.0, LAM_Q, check_ng]]))
    g = len(lams_ng)
    scales = jnp.sqrt(jnp.array([TAU2, TOTAL / n]))  # per-weight prior; fixed total signal
    mse = lambda p, X, y: losses.squared_error(models.linear(p, X), y)  # noqa: E731
    per_param_cost = costs.regularized(mse, scale="per_param")

    def lane(X: jax.Array, z: jax.Array, noise: jax.Array) -> tuple[jax.Array, ...]:
        X = X - X.mean(0)  # centred training inputs: the fitted intercept is ε̄, whatever λ
        W = z[:, None] * scales  # (n, 2): both truths, one direction
        Y = X @ W + jnp.sqrt(SIGMA2) * noise[:, None]
        fit = closed_form.ridge_path(X, Y, grid)  # w (G, n, 2), b (G, 2)
        err = SIGMA2 + jnp.sum((fit["w"] - W) ** 2, axis=1) + fit["b"] ** 2  # (G, 2)
        norms = jnp.linalg.norm(fit["w"][2 * g :, :, 0], axis=1)  # λ = 0, 0.01, pp 0.01
        check = {"w": fit["w"][-1, :, 0], "b": fit["b"][-1, 0]}
        grad = jax.grad(per_param_cost)(check, X, Y[:, 0], LAM_Q)
        grad_max = jnp.maximum(jnp.max(jnp.abs(grad["w"])), jnp.abs(grad["b"]))
        return err[:g], err[g : 2 * g, 0], norms, grad_max

    return jax.jit(lane)


def _optimal_lambda(
    rng: np.random.Generator, sizes: np.ndarray, reps: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """Part 3: λ* against n on both grids and both truths; norms at the question's λ."""
    lams = np.logspace(0, 6.5, 66)  # per-example λ, and per_param λ, 0.1 decade apart
    outs: list[list[np.ndarray]] = [[], [], [], []]
    for n in (int(n) for n in sizes):
        say(f"ridge paths: n = {n}, {reps} repetitions × {2 * len(lams) + 3} λ")
        lane = _ridge_lane(n, lams, lams)
        res = [lane(*(rng.standard_normal(shape) for shape in ((M_FIT, n), n, M_FIT)))
               for _ in range(reps)]  # fmt: skip
        for i, out in enumerate(outs):
            out.append(np.stack([np.asarray(r[i]) for r in res]))
    ng_loss, pp_loss, norm, grad_max = (np.stack(out, 1) for out in outs)  # (R, K, ...)
    best = {
        kind: _common.curve_optimum(sizes, lams, loss, rng=rng)
        for kind, loss in (
            ("per_example", ng_loss[..., 0]),
            ("per_param", pp_loss),
            ("fixed_total", ng_loss[..., 1]),
        )
    }
    return {
        "lams": lams,
        "loss": ng_loss[..., 0].mean(0),  # (K, G), per-weight prior
        "optimum": best,
        "norm_ratio": norm[..., 1] / norm[..., 0],  # ‖ŵ(0.01)‖ / ‖ŵ(0)‖, (R, K)
        "norm_ratio_pp": norm[..., 2] / norm[..., 0],  # per_param λ = 0.01
        "per_param_grad_max": float(grad_max.max()),
    }


# ---------------------------------------------------------------- run, answer, table


def _summarize_init(init: dict[str, Any], glorot: dict[str, Any], rng: Any) -> None:
    """Exact expectations, z-scores of the sampled means against them, and the slopes."""
    sizes = init["sizes"]
    init["expected"] = LAM_Q * sizes / (2 * M_Q)
    for d, values, expected in ((init, init["per_example"], init["expected"]),
                                (glorot, glorot["value"], glorot["expected"])):  # fmt: skip
        se = values.std(0, ddof=1) / np.sqrt(len(values))
        d["z"] = (values.mean(0) - expected) / se
    init["slope"] = _common.log_slope(sizes, init["per_example"], rng=rng)
    init["slope_per_param"] = _common.log_slope(sizes, init["per_param"], rng=rng)
    init["slope_glorot"] = _common.log_slope(glorot["n"], glorot["value"], rng=rng)
    init["glorot"] = glorot


def run(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: Any = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Measure the initial penalty, each weight's gradient and the optimal λ against n.

    Args:
      quick: a CI-sized run (penalty at n = 10²–10⁵, 16 repetitions; ridge at n = 10–10⁴,
        32 repetitions); the full run goes to n = 10⁷ and n = 3·10⁴, 64 repetitions.
      out: a directory for ``num_params.png`` (created); ``None`` for no figure.
      key: the seed (an int or a ``jax.random`` key).
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`regjax.experiments.Study` whose data holds ``question`` (the 35M cost:
      ``data_part``, ``penalty``, ``cost``, ``expected_penalty``, ``sd_penalty``),
      ``init`` (``sizes``, P₀ per repetition and n ``per_example`` and ``per_param``,
      ``expected``, ``z``, ``slope``, ``slope_per_param``, ``slope_glorot``, ``glorot``),
      ``grads`` (∂P/∂w₀ per n: ``closed``, ``autodiff``, ``per_param``, ``norm`` = ‖∇P‖,
      and the relative spreads) and ``optimal`` (``sizes``, ``lams``, ``optimum[kind]``,
      a ``CurveOptimum`` for ``per_example``, ``per_param`` and ``fixed_total``;
      ``norm_ratio`` ‖ŵ(0.01)‖/‖ŵ(0)‖ per repetition and n; ``per_param_grad_max``).
    """
    say = _common.reporter(progress)
    jkey, rng = _common.seeds(key)
    k_glorot, k_grad = jax.random.split(jkey)
    reps = 16 if quick else 32
    sizes = np.round(np.logspace(2, 5 if quick else 7, 7 if quick else 11)).astype(int)
    widths = np.array([10, 56, 316] if quick else [10, 32, 100, 316, 1000])
    fit_sizes = np.round(np.logspace(1, 4, 4) if quick else np.logspace(1, 4.5, 8)).astype(int)
    with _common.float64():
        say(f"initial penalty: n = {sizes[0]}–{sizes[-1]}, {reps} repetitions")
        init: dict[str, Any] = {"sizes": sizes, **_init_penalty(rng, sizes, reps)}
        say(f"Glorot MLPs (h, h, h): h = {widths[0]}–{widths[-1]}")
        glorot = _glorot_penalty(k_glorot, widths, reps)
        say(f"the question: {N_Q:,} weights, λ = {LAM_Q}, m = {M_Q}")
        question = _question(rng)
        say("each weight's penalty gradient")
        grads = {"sizes": sizes, **_gradients(k_grad, sizes)}
        optimal = {"sizes": fit_sizes, **_optimal_lambda(rng, fit_sizes, 32 if quick else 64, say)}
    _summarize_init(init, glorot, rng)
    data: dict[str, Any] = {"question": question, "init": init, "grads": grads, "optimal": optimal}
    data["table"] = _table(data)
    written: tuple[Path, ...] = ()
    if out is not None:
        written = (_common.save(_figure(data), out, "num_params.png"),)
    return Study("num_params", QUESTION, _answer(data), data, written)


def _answer(data: dict[str, Any]) -> str:
    q, init, g, opt = data["question"], data["init"], data["grads"], data["optimal"]
    ex, pp, total = (opt["optimum"][k] for k in ("per_example", "per_param", "fixed_total"))
    ratio = opt["norm_ratio"].mean(0)
    return (
        f"The penalty at initialization is a sum over weights: it grows as "
        f"n^{_common.band(init['slope'], 3)} for unit-variance weights "
        f"(n^{init['slope_glorot'].value:.2f} for Glorot-scaled MLPs, "
        f'n^{init["slope_per_param"].value:+.3f} under scale="per_param"), and with the '
        f"question's n = {N_Q:,}, λ = {LAM_Q} and unit-variance weights the cost starts at "
        f"{q['cost']:.2f} = {q['data_part']:.4f} (ln 2, the data part at zero logits) + "
        f"{q['penalty']:.2f} when m = {M_Q:,}. Yet each weight's pull λw_j/m is the same at "
        f"every n (relative spread {g['closed_rel_spread']:.0e}; per_param's λw_j/n falls "
        f"as 1/n), and in a Gaussian-prior linear model the test-optimal per-example λ does "
        f"not track n (slope {_common.band(ex.slope)}, "
        f"λ* = {ex.best.min():.3g}–{ex.best.max():.3g} "
        f"against σ²/τ² = {SIGMA2 / TAU2:g}); nothing is crushed at λ = {LAM_Q} (‖ŵ‖ keeps "
        f"{ratio.min():.2%}–{ratio.max():.2%} of the unregularized fit's), while the "
        f"per_param λ* has to grow as n^{_common.band(pp.slope)}. Dividing λ by n is wrong either "
        f"way: if the truth's total signal is fixed, the per-example λ* grows as "
        f"n^{_common.band(total.slope)} instead."
    )


def _table(data: dict[str, Any]) -> Table:
    q, init, g, opt = data["question"], data["init"], data["grads"], data["optimal"]
    ex = opt["optimum"]["per_example"]
    rows = [
        ("35M weights: data part at zero logits", f"{q['data_part']:.6f}", "ln 2 = 0.693147"),
        (f"35M weights: penalty λ/(2m)Σw², m = {M_Q}", f"{q['penalty']:.3f}",
         f"{q['expected_penalty']:.3f} ± {q['sd_penalty']:.3f}"),
        ("35M weights: cost at initialization", f"{q['cost']:.3f}", "≈ 50"),
        ("slope log P₀ vs log n, unit variance", _common.band(init["slope"], 3), "1"),
        ("slope log P₀ vs log n, Glorot (h, h, h)", _common.band(init["slope_glorot"], 3), "½"),
        ("slope log P₀ vs log n, per_param", _common.band(init["slope_per_param"], 3), "0"),
        ("sampled vs exact E[P₀]: largest z-score", f"{np.abs(init['z']).max():.2f}", "< 4"),
        ("∂P/∂w₀ across n: max relative spread", f"{g['closed_rel_spread']:.1e}", "0"),
    ]  # fmt: skip
    for kind, theory in (("per_example", "0"), ("per_param", "1"), ("fixed_total", "1")):
        rows.append(
            (f"slope log λ* vs log n, {kind}", _common.band(opt["optimum"][kind].slope), theory)
        )
    ratio = opt["norm_ratio"].mean(0)
    for k in np.unique(np.linspace(0, len(opt["sizes"]) - 1, 4).round().astype(int)):
        rows.append((f"n = {opt['sizes'][k]}: λ*, ‖ŵ(0.01)‖/‖ŵ(0)‖",
                     f"{ex.best[k]:.3g}, {ratio[k]:.4f}", f"{SIGMA2 / TAU2:g}, ≈ 1"))  # fmt: skip
    return Table(("quantity", "measured [95% band]", "theory"), tuple(rows))


# ---------------------------------------------------------------- figure


def _fit_line(ax: Any, x: np.ndarray, centre: np.ndarray, s: Any, color: str, label: str) -> None:
    """Measured points, the fitted power law through them and its 95% band."""
    ax.plot(x, centre, "o", color=color, label=f"{label}: slope {_common.band(s)}")
    fx = np.geomspace(x[0], x[-1], 50)
    c, lx = np.exp(np.log(centre).mean()), np.log(fx / np.exp(np.log(x).mean()))
    ax.fill_between(fx, c * np.exp(s.low * lx), c * np.exp(s.high * lx), color=color, alpha=0.2)
    ax.plot(fx, c * np.exp(s.value * lx), "-", color=color, lw=1)


def _panel_init(ax: Any, data: dict[str, Any]) -> None:
    init, q, glorot = data["init"], data["question"], data["init"]["glorot"]
    n = init["sizes"]
    for x, y, s, c, label in (
        (n, init["per_example"], init["slope"], "C0", "N(0, 1), λ/(2m)Σw²"),
        (glorot["n"], glorot["value"], init["slope_glorot"], "C2", "Glorot (h, h, h)"),
        (n, init["per_param"], init["slope_per_param"], "C1", 'N(0, 1), "per_param"'),
    ):
        _fit_line(ax, x, np.exp(np.log(y).mean(0)), s, c, label)
    nx = np.geomspace(n[0], N_Q * 2, 50)
    ax.plot(nx, LAM_Q * nx / (2 * M_Q), "k:", lw=1, label="exact E[P₀] = λn/(2m)")
    ax.axhline(np.log(2), color="C3", ls="--", lw=1, label="data part ln 2")
    ax.plot(N_Q, q["penalty"], "*", color="C3", ms=14, mec="k")
    ax.annotate(f"35M weights: cost {q['cost']:.2f}", (N_Q, q["penalty"]), xytext=(-130, 4),
                textcoords="offset points", fontsize=8)  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="n, penalized weights",
           ylabel=f"penalty at initialization (λ = {LAM_Q}, m = {M_Q})",
           title="the initial penalty is a sum over n weights")  # fmt: skip
    ax.legend(fontsize=7, loc="lower right")


def _panel_grad(ax: Any, grads: dict[str, Any]) -> None:
    n, w0 = grads["sizes"], float(grads["w0"])
    ax.plot(n, np.abs(grads["closed"]), "C0-", lw=2, label="∂P/∂w₀, closed_form.l2_grad")
    ax.plot(n, np.abs(grads["autodiff"]), "wo", mec="C0", ms=5, label="∂P/∂w₀, jax.grad")
    ax.plot(n, np.abs(grads["per_param"]), "C1s-", ms=4, label='∂P/∂w₀, "per_param": λw₀/n')
    ax.plot(n, grads["norm"], "C2--", label="‖∇P‖ = λ‖w‖/m  (∝ √n)")
    ax.axhline(LAM_Q * abs(w0) / M_Q, color="k", ls=":", lw=1, label="λ|w₀|/m")
    ax.set(xscale="log", yscale="log", xlabel="n, penalized weights",
           ylabel=f"penalty gradient (λ = {LAM_Q}, m = {M_Q})",
           title=f"one weight's pull (w₀ = {w0:.3f}) against n")  # fmt: skip
    ax.legend(fontsize=7)


def _panel_optimal(ax: Any, opt: dict[str, Any]) -> None:
    n = opt["sizes"]
    labels = {
        "per_example": ("C0", "per-example λ, per-weight prior", SIGMA2 / TAU2 + 0 * n),
        "per_param": ("C1", "per_param λ, per-weight prior", SIGMA2 / TAU2 * n / M_FIT),
        "fixed_total": ("C2", "per-example λ, fixed total signal", SIGMA2 * n / TOTAL),
    }
    for kind, (color, label, theory) in labels.items():
        o = opt["optimum"][kind]
        _fit_line(ax, n, o.best, o.slope, color, label)
        ax.vlines(n, o.low, o.high, color=color, lw=2, alpha=0.6)
        ax.plot(n, theory, ":", color=color, lw=1.5)
    ax.plot([], [], "k:", label="Bayes: σ²/τ², σ²n/(τ²m), σ²n/T²")
    ax.axhline(LAM_Q, color="C3", ls="--", lw=1, label=f"the question's λ = {LAM_Q}")
    ax.set(xscale="log", yscale="log", xlabel=f"n, features (m = {M_FIT})",
           ylabel="test-optimal λ",
           title="optimal λ against n (ridge, exact test error)")  # fmt: skip
    ax.legend(fontsize=7)


def _panel_curves(ax: Any, opt: dict[str, Any]) -> None:
    lams = opt["lams"]
    for k, n in enumerate(opt["sizes"]):
        curve = opt["loss"][k]
        ax.plot(lams, (curve - curve.min()) / np.ptp(curve), label=f"n = {n}", color=f"C{k % 10}")
    ax.axvline(SIGMA2 / TAU2, color="k", ls=":", lw=1, label=f"σ²/τ² = {SIGMA2 / TAU2:g}")
    ax.set(xscale="log", xlabel="λ (per-example)",
           ylabel="test error, rescaled to [0, 1] at each n",
           title="mean test-error curves: one minimum for every n")  # fmt: skip
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _figure(data: dict[str, Any]) -> Any:
    plt = figures.pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5), constrained_layout=True)
    _panel_init(axes[0, 0], data)
    _panel_grad(axes[0, 1], data["grads"])
    _panel_optimal(axes[1, 0], data["optimal"])
    _panel_curves(axes[1, 1], data["optimal"])
    fig.suptitle(
        "L2 penalty against the number of parameters n: the sum grows, each weight's pull "
        "and the optimal per-example λ do not"
    )
    return fig
