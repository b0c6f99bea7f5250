r"""Is the ½ in λ/(2m)‖w‖² only cosmetic? And how much does each gradient step decay the weights?

The library's L2 term λ/(2m)‖w‖² (biases excluded) has gradient λw/m: the ½ cancels the
2 of ∂w²/∂w. Without it, λ/m‖w‖² has gradient 2λw/m, and the cost with λ is *the same
function* as the library's cost with 2λ: the same minimizer, λ relabelled by 2, nothing
else. (The ½ is also the Gaussian prior's: −log N(w; 0, τ²) = ‖w‖²/(2τ²) + const, so with
½-squared error the MAP λ is σ²/τ² with no stray factor.) A gradient step on the cost is

.. math::

    \theta_{t+1} = \theta_t - \alpha\Big(\frac{\partial J_{data}}{\partial\theta}
        + \frac{\lambda}{m}\theta_t\Big)
        = \Big(1 - \frac{\alpha\lambda}{m}\Big)\theta_t
        - \alpha\frac{\partial J_{data}}{\partial\theta},

a decay by 1 − αλ/m (1 − 2αλ/m without the ½) before the data gradient moves the weights.

**1. The gradient with and without the ½.** ``jax.grad`` of ``penalties.l2`` equals
``closed_form.l2_grad`` (λw/m); that of the ½-less :math:`\frac{\lambda}{m}\sum_j w_j^2`
(written out here) is twice it, ``closed_form.l2_grad`` at 2λ.

**2. The minimizers.** On the diabetes data (442 × 10, standardized X) the ridge path of
the library's cost (``closed_form.ridge_path``) is compared with the minimizer of the
½-less cost :math:`\frac{1}{2m}\lVert Xw + b - y\rVert^2 + \frac{\lambda}{m}\lVert w\rVert^2`,
found independently by one Newton step from zero (exact: the cost is quadratic) with
``jax.hessian``: it equals the ridge path at 2λ to round-off and differs from the one at λ.

**3. The decay, measured.** Logistic regression (``data.make_classification``, 5 features
plus a sixth that is identically zero, so its weight has no data gradient) is trained by
``solvers.gradient_descent`` one step at a time for every (α, λ, m) of a grid that includes
a course's worked example α = λ = 0.01, m = 10,000. At every step the factor
:math:`(\theta_{t+1} + \alpha\,\partial J_{data}/\partial\theta)/\theta_t` is read off for
each weight (the data gradient from ``closed_form.logistic_regression_grad`` at λ = 0), and
for the weight vector (least squares), and compared with ``conventions.decay_factor``,
1 − αλ/m; the unpenalized bias has factor 1. The dead weight shows the compounding:
(1 − αλ/m)^T after T steps of one ``gradient_descent`` call, (1 − αλ/m)^⌊m/b⌋ after one
epoch of ``solvers.sgd`` with b-row minibatches (penalty on the full-data scale), and
1 − 2αλ/m per step under the ½-less cost.

**4. The worked example.** 1 − 0.01·0.01/10,000 = 1 − 10⁻⁸ = 0.99999999, not the stated
0.999999, which is what 100 such steps compound to (one epoch of 100-row minibatches at
m = 10,000). A decay of 10⁻⁸ is below float32's resolution (ε/2 ≈ 6·10⁻⁸): the study also
runs the dead weight in float32, where it does not move.

References:
  A. Ng, Machine Learning (Coursera), regularized linear regression and gradient descent.
  I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
  arXiv:1711.05101.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

import regjax as rj
from regjax import closed_form, conventions, costs, data, figures, losses, models
from regjax.experiments import Study, Table, _common

__all__ = ["QUESTION", "run"]

QUESTION = (
    "Is the ½ in λ/(2m)‖w‖² only there so it cancels in the derivative, and how much does "
    "each gradient step decay the weights?"
)

ALPHA_C, LAM_C, M_C, STATED_C = 0.01, 0.01, 10_000, 0.999999  # the course's worked example
ALPHAS, LAMS, SIZES = (0.01, 0.1, 1.0), (0.01, 1.0, 10.0), (100, 1_000, 10_000)
N_FEATURES, BATCH = 5, 100  # + one dead (all-zero) feature; minibatch rows for the epoch


def _no_half(params: Any, lam: Any, m: int) -> jax.Array:
    """The L2 term without the ½: λ/m·Σw² (biases excluded)."""
    return lam / m * jnp.sum(params["w"] ** 2)


# ---------------------------------------------------------------- 1. gradients


def _gradients(rng: np.random.Generator) -> dict[str, float]:
    """∂/∂w of the penalty with and without the ½, autodiff against the closed form."""
    params = {"w": jnp.asarray(rng.standard_normal(50)), "b": jnp.asarray(rng.standard_normal())}
    lam, m = 3.0, 200
    half = jax.grad(lambda p: rj.penalties.l2(p, lam, m=m))(params)
    none = jax.grad(lambda p: _no_half(p, lam, m))(params)
    closed = closed_form.l2_grad(params, lam, m=m)
    closed2 = closed_form.l2_grad(params, 2 * lam, m=m)

    def rel(a: Any, b: Any) -> float:
        return float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b)))

    return {
        "half_vs_closed": rel(half["w"], closed["w"]),
        "ratio_dev": float(jnp.max(jnp.abs(none["w"] / half["w"] - 2))),
        "none_vs_closed_2lam": rel(none["w"], closed2["w"]),
        "bias_grads": float(jnp.abs(half["b"]) + jnp.abs(none["b"])),
    }


# ---------------------------------------------------------------- 2. minimizers


def _minimizers(num: int) -> dict[str, np.ndarray]:
    """Ridge path at λ and at 2λ, and the ½-less cost's minimizer at λ by one Newton step."""
    X, y = (jnp.asarray(a) for a in data.load_diabetes()[:2])
    y = (y - y.mean()) / y.std()
    m = X.shape[0]
    lams = jnp.logspace(-2, 4, num)
    zero = {"w": jnp.zeros(X.shape[1]), "b": jnp.zeros(())}
    flat0, unravel = ravel_pytree(zero)

    def cost(flat: jax.Array, lam: jax.Array) -> jax.Array:
        p = unravel(flat)
        return losses.squared_error(models.linear(p, X), y) + _no_half(p, lam, m)

    def newton(lam: jax.Array) -> jax.Array:  # exact: the cost is quadratic in (w, b)
        g, H = jax.grad(cost)(flat0, lam), jax.hessian(cost)(flat0, lam)
        return unravel(flat0 - jnp.linalg.solve(H, g))["w"]

    none = jax.jit(jax.vmap(newton))(lams)
    half = closed_form.ridge_path(X, y, lams)["w"]
    half2 = closed_form.ridge_path(X, y, 2 * lams)["w"]
    scale = jnp.linalg.norm(none, axis=1)
    return {
        "lams": np.asarray(lams),
        "half": np.asarray(half),
        "none": np.asarray(none),
        "gap_same_lam": np.asarray(jnp.linalg.norm(none - half, axis=1) / scale),
        "gap_2lam": np.asarray(jnp.linalg.norm(none - half2, axis=1) / scale),
    }


# ---------------------------------------------------------------- 3. the decay, measured


def _problem(seed: int, m: int) -> tuple[jax.Array, jax.Array]:
    """``make_classification(m, 5)`` with a sixth, all-zero feature: a weight with no data
    gradient."""
    d = data.make_classification(m, N_FEATURES, seed=seed)
    return jnp.asarray(np.hstack([d.X, np.zeros((m, 1))])), jnp.asarray(d.y)


def _logistic_no_half(params: Any, X: jax.Array, y: jax.Array, lam: Any) -> jax.Array:
    return losses.binary_cross_entropy(models.linear(params, X), y) + _no_half(
        params, lam, X.shape[0]
    )


def _decay_at(X: jax.Array, y: jax.Array, theta0: Any, steps: int, key: jax.Array) -> Callable:
    """(α, λ) -> per-step factors of every weight and of the bias over ``steps`` single
    ``gradient_descent`` steps; the dead weight after ``steps`` steps in one call, after one
    step of the ½-less cost, and after one ``sgd`` epoch of minibatches of BATCH rows."""
    cost = costs.logistic_regression

    def one(alpha: jax.Array, lam: jax.Array) -> tuple[jax.Array, ...]:
        def step(p: Any, _: Any) -> tuple[Any, tuple[jax.Array, ...]]:
            nxt = rj.solvers.gradient_descent(
                cost, p, X, y, lam=lam, learning_rate=alpha, max_steps=1
            )
            g = closed_form.logistic_regression_grad(p, X, y, 0.0)  # the data gradient alone
            decayed = nxt["w"] + alpha * g["w"]  # = factor·θ_t if the step decays the weights
            vector = decayed @ p["w"] / (p["w"] @ p["w"])  # least-squares factor of the vector
            return nxt, (decayed / p["w"], vector, (nxt["b"] + alpha * g["b"]) / p["b"])

        _, (fw, fv, fb) = jax.lax.scan(step, theta0, None, length=steps)
        gd, sgd = rj.solvers.gradient_descent, rj.solvers.sgd
        run = gd(cost, theta0, X, y, lam=lam, learning_rate=alpha, max_steps=steps)
        none = gd(_logistic_no_half, theta0, X, y, lam=lam, learning_rate=alpha, max_steps=1)
        epoch = sgd(cost, theta0, X, y, lam=lam, learning_rate=alpha, batch_size=BATCH, epochs=1,
                    key=key)  # fmt: skip
        dead = [p["w"][-1] / theta0["w"][-1] for p in (run, none, epoch)]
        return (fw, fv, fb, *dead)

    return jax.jit(jax.vmap(one))


def _decay(rng: np.random.Generator, key: jax.Array, steps: int) -> dict[str, Any]:
    """Part 3 over the (α, λ, m) grid; the float32 dead weight at the course's setting."""
    alphas, lams = (np.array(v).ravel() for v in np.meshgrid(ALPHAS, LAMS, indexing="ij"))
    names = ("fw", "fv", "fb", "run", "none", "epoch")
    rows: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for m in SIZES:
        X, y = _problem(int(rng.integers(2**31)), m)
        w0 = np.append(rng.uniform(0.5, 1.5, N_FEATURES) * rng.choice([-1, 1], N_FEATURES), 1.0)
        theta0 = {"w": jnp.asarray(w0), "b": jnp.asarray(0.5)}
        out = _decay_at(X, y, theta0, steps, key)(jnp.asarray(alphas), jnp.asarray(lams))
        for name, value in zip(rows, out, strict=True):
            rows[name].append(np.asarray(value))
    res: dict[str, Any] = {k: np.concatenate(v) for k, v in rows.items()}
    res["alpha"] = np.tile(alphas, len(SIZES))
    res["lam"] = np.tile(lams, len(SIZES))
    res["m"] = np.repeat(SIZES, len(alphas))
    res["formula"] = np.array(
        [conventions.decay_factor(lam, m=m, learning_rate=a)
         for a, lam, m in zip(res["alpha"], res["lam"], res["m"], strict=True)]
    )  # fmt: skip
    res["steps"] = steps
    res["float32_dead"] = _float32_dead(rng, steps)
    return res


def _float32_dead(rng: np.random.Generator, steps: int) -> np.ndarray:
    """The dead weight, in float32, over ``steps`` steps at the course's α, λ and m."""
    X, y = _problem(int(rng.integers(2**31)), M_C)
    X, y = X.astype(jnp.float32), y.astype(jnp.float32)
    theta = {"w": jnp.ones(N_FEATURES + 1, jnp.float32), "b": jnp.zeros((), jnp.float32)}

    def step(p: Any, _: Any) -> tuple[Any, jax.Array]:
        nxt = rj.solvers.gradient_descent(costs.logistic_regression, p, X, y, lam=LAM_C,
                                          learning_rate=ALPHA_C, max_steps=1)  # fmt: skip
        return nxt, nxt["w"][-1]

    return np.asarray(jax.jit(lambda t: jax.lax.scan(step, t, None, length=steps)[1])(theta))


def _summarize(d: dict[str, Any]) -> dict[str, Any]:
    """Deviations of every measured factor from its formula, and the worked example."""
    f, T = d["formula"], d["steps"]
    per_epoch = d["m"] // BATCH
    out = {
        "dev_weight": np.abs(d["fw"] - f[:, None, None]).max(axis=(1, 2)),
        "dev_vector": np.abs(d["fv"] - f[:, None]).max(axis=1),
        "dev_dead": np.abs(d["fw"][..., -1] - f[:, None]).max(axis=1),
        "dev_bias": np.abs(d["fb"] - 1).max(axis=1),
        "dev_run": np.abs(d["run"] / f**T - 1),
        "dev_no_half": np.abs(d["none"] - (1 - 2 * (1 - f))),
        "dev_epoch": np.abs(d["epoch"] / f**per_epoch - 1),
        "per_epoch_steps": per_epoch,
    }
    k = int(np.flatnonzero((d["alpha"] == ALPHA_C) & (d["lam"] == LAM_C)
                           & (d["m"] == M_C))[0])  # fmt: skip
    factor = conventions.decay_factor(LAM_C, m=M_C, learning_rate=ALPHA_C)
    out["course"] = {
        "index": k,
        "factor": float(factor),
        "measured": float(np.median(d["fv"][k])),
        "stated": STATED_C,
        "ratio": (1 - STATED_C) / (1 - float(factor)),
        "hundred_steps": float(factor) ** 100,
        "epoch": float(d["epoch"][k]),
        "timescale": float(conventions.decay_timescale(LAM_C, m=M_C, learning_rate=ALPHA_C)),
        "dead64": np.cumprod(d["fw"][k, :, -1]),
        "dead32": d["float32_dead"],
    }
    return out


def run(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: Any = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Measure the ½'s effect on the gradient and the minimizer, and the per-step decay.

    Args:
      quick: a CI-sized run (100 gradient steps per setting, 25 λ on the path; the full
        run takes 1000 steps and 61 λ).
      out: a directory for ``half_and_decay.png`` (created); ``None`` for no figure.
      key: the seed (an int or a ``jax.random`` key) of the parameters, the data and the
        minibatches.
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`regjax.experiments.Study` whose data holds ``gradients`` (relative errors
      and the no-½/½ gradient ratio), ``minimizers`` (``lams``, coefficient paths ``half``
      and ``none``, relative gaps ``gap_same_lam`` and ``gap_2lam``), ``decay`` (per
      setting ``alpha``, ``lam``, ``m``, ``formula``; measured per-step factors ``fw``
      (every weight), ``fv`` (the weight vector), ``fb`` (the bias); compounded ``run``,
      ``epoch`` and the ½-less ``none``) and ``summary`` (the deviations and ``course``).
    """
    say = _common.reporter(progress)
    jkey, rng = _common.seeds(key)
    steps, num = (100, 25) if quick else (1000, 61)
    with _common.float64():
        say("the gradient with and without the ½")
        grads = _gradients(rng)
        say(f"ridge minimizers with and without the ½: {num} λ")
        mins = _minimizers(num)
        say(f"gradient descent: {len(ALPHAS) * len(LAMS) * len(SIZES)} (α, λ, m), {steps} steps")
        decay = _decay(rng, jkey, steps)
    result: dict[str, Any] = {"gradients": grads, "minimizers": mins, "decay": decay}
    result["summary"] = _summarize(decay)
    result["table"] = _table(result)
    written: tuple[Path, ...] = ()
    if out is not None:
        written = (_common.save(_figure(result), out, "half_and_decay.png"),)
    return Study("half_and_decay", QUESTION, _answer(result), result, written)


def _answer(r: dict[str, Any]) -> str:
    g, mins, s, c = r["gradients"], r["minimizers"], r["summary"], r["summary"]["course"]
    return (
        f"The ½ only rescales λ: without it the gradient is 2λw/m (measured: twice λw/m to "
        f"{g['ratio_dev']:.0e}) and the ridge minimizer at λ "
        f"equals the library's at 2λ to {mins['gap_2lam'].max():.0e} (it differs from the one "
        f"at λ by up to {mins['gap_same_lam'].max():.0%}). Over {len(s['dev_vector'])} "
        f"(α, λ, m) settings gradient descent multiplied the weights by 1 − αλ/m at every "
        f"step to {max(s['dev_vector'].max(), s['dev_dead'].max()):.0e} (the bias by 1), "
        f"compounding to (1 − αλ/m)^T over a run to {s['dev_run'].max():.0e}. For the "
        f"course's α = λ = 0.01, m = 10,000 the factor is {c['factor']:.8f} (measured "
        f"{c['measured']:.10f}), not {c['stated']}: that is {c['ratio']:.0f}× the decay, "
        f"what {c['hundred_steps']:.8f} = 100 steps (one epoch of 100-row minibatches, "
        f"measured {c['epoch']:.8f}) compound to; in float32 the factor rounds to 1 and "
        f"the weight never moves ({c['dead32'][-1]:.1f} after {len(c['dead32'])} steps)."
    )


def _table(r: dict[str, Any]) -> Table:
    g, mins, s, c = r["gradients"], r["minimizers"], r["summary"], r["summary"]["course"]
    rows = (
        ("∂/∂w without ½ ÷ with ½, − 2", f"{g['ratio_dev']:.1e}", "0"),
        ("jax.grad(l2) vs closed_form.l2_grad (rel.)", f"{g['half_vs_closed']:.1e}", "0"),
        ("no-½ minimizer at λ vs ridge at 2λ (rel.)", f"{mins['gap_2lam'].max():.1e}", "0"),
        ("no-½ minimizer at λ vs ridge at λ (rel.)", f"{mins['gap_same_lam'].max():.2f}", "> 0"),
        ("per-step factor − (1 − αλ/m): weight vector", f"{s['dev_vector'].max():.1e}", "0"),
        ("per-step factor − (1 − αλ/m): dead weight", f"{s['dev_dead'].max():.1e}", "0"),
        ("per-step factor − (1 − αλ/m): any weight", f"{s['dev_weight'].max():.1e}", "0"),
        ("bias factor − 1 (unpenalized)", f"{s['dev_bias'].max():.1e}", "0"),
        ("no-½ step: dead factor − (1 − 2αλ/m)", f"{s['dev_no_half'].max():.1e}", "0"),
        ("run of T steps ÷ (1 − αλ/m)^T − 1", f"{s['dev_run'].max():.1e}", "0"),
        ("sgd epoch ÷ (1 − αλ/m)^⌊m/b⌋ − 1", f"{s['dev_epoch'].max():.1e}", "0"),
        ("course (α = λ = 0.01, m = 10⁴): factor", f"{c['factor']:.8f}", "stated 0.999999"),
        ("course: 100 steps (an epoch at b = 100)", f"{c['hundred_steps']:.8f}", "0.999999"),
        ("course: steps to shrink by e", f"{c['timescale']:,.0f}", "≈ m/(αλ) = 10⁸"),
        ("course, float32: dead weight after T steps", f"{c['dead32'][-1]:.8f}", "1 − 10⁻⁸·T"),
    )
    return Table(("quantity", "measured", "formula"), rows)


# ---------------------------------------------------------------- figure


def _panel_factor(ax: Any, d: dict[str, Any], s: dict[str, Any]) -> None:
    shrink = 1 - d["formula"]
    for k, m in enumerate(SIZES):
        sel = d["m"] == m
        ax.plot(shrink[sel], 1 - np.median(d["fv"][sel], axis=1), "o", color=f"C{k}",
                ms=7, label=f"weight vector, m = {m:,}")  # fmt: skip
        ax.plot(shrink[sel], 1 - np.median(d["fw"][sel, :, -1], axis=1), "x", color="k", ms=5)
    ax.plot([], [], "kx", label="dead weight (no data gradient)")
    line = np.array([1e-9, 0.3])
    ax.plot(line, line, "k:", lw=1, label="formula αλ/m")
    c = s["course"]
    ax.plot(1 - c["factor"], 1 - c["measured"], "*", color="C3", ms=16, mec="k",
            label="the course's α = λ = 0.01, m = 10⁴")  # fmt: skip
    ax.axhline(1 - c["stated"], color="C3", ls="--", lw=1, label="the course's 1 − 0.999999")
    ax.set(xscale="log", yscale="log", xlabel="αλ/m (formula)",
           ylabel="1 − measured factor per step (median over steps)",
           title="decay per step: measured vs formula")  # fmt: skip
    ax.legend(fontsize=7)


def _panel_deviation(ax: Any, d: dict[str, Any], s: dict[str, Any]) -> None:
    shrink, floor = 1 - d["formula"], 1e-17
    for key, marker, label in (
        ("dev_vector", "o", "weight vector"),
        ("dev_dead", "x", "dead weight"),
        ("dev_weight", "^", "any single weight"),
        ("dev_run", "s", f"run of {d['steps']} steps, compounded"),
        ("dev_epoch", "D", f"one sgd epoch (b = {BATCH}), compounded"),
    ):
        ax.plot(shrink, np.maximum(s[key], floor), marker, mfc="none", label=label)
    ax.axhline(1e-12, color="C3", ls="--", lw=1, label="tolerance 10⁻¹²")
    ax.set(xscale="log", yscale="log", ylim=(floor / 3, 1e-9), xlabel="αλ/m (formula)",
           ylabel="|measured − formula| (max over steps; 0 at 10⁻¹⁷)",
           title="float64: the formula holds to round-off")  # fmt: skip
    ax.legend(fontsize=7, loc="upper left")


def _panel_compound(ax: Any, d: dict[str, Any], s: dict[str, Any]) -> None:
    t = np.arange(1, d["steps"] + 1)
    for k in np.flatnonzero(d["alpha"] == 0.1):
        lost = 1 - np.cumprod(d["fw"][k, :, -1])
        color = f"C{list(LAMS).index(d['lam'][k]) + 3 * list(SIZES).index(d['m'][k])}"
        ax.plot(t, lost, "-", color=color, lw=2, alpha=0.6,
                label=f"λ = {d['lam'][k]:g}, m = {d['m'][k]:,}")  # fmt: skip
        ax.plot(t, 1 - d["formula"][k] ** t, "k:", lw=1)
        ax.plot(s["per_epoch_steps"][k], 1 - d["epoch"][k], "D", color=color, mec="k")
    ax.plot([], [], "k:", label="1 − (1 − αλ/m)^t")
    ax.plot([], [], "wD", mec="k", label=f"after one sgd epoch (b = {BATCH})")
    ax.set(xscale="log", yscale="log", xlabel="step t",
           ylabel="fraction of the dead weight decayed",
           title="compounded decay, α = 0.1")  # fmt: skip
    ax.legend(fontsize=6, ncol=2)


def _panel_course(ax: Any, s: dict[str, Any]) -> None:
    c, floor = s["course"], 1e-11  # an exact 0 (float32) is drawn at the floor
    t = np.arange(1, len(c["dead64"]) + 1)
    ax.plot(t, 1 - c["dead64"], "C0-", lw=3, alpha=0.6, label="float64 (measured)")
    ax.plot(t, np.maximum(1 - c["dead32"], floor), "C1--", lw=2, label="float32 (measured: 0)")
    ax.plot(t, 1 - c["factor"] ** t, "k:", label="1 − 0.99999999^t")
    ax.plot(t, 1 - c["stated"] ** t, "C3-.", lw=1, label="the course's 1 − 0.999999^t")
    ax.set(xscale="log", yscale="log", ylim=(floor / 3, 1e-3), xlabel="step t",
           ylabel="fraction of the dead weight decayed",
           title="the course's example: α = λ = 0.01, m = 10⁴")  # fmt: skip
    ax.legend(fontsize=7)


def _panel_paths(ax: Any, mins: dict[str, Any]) -> None:
    lams = mins["lams"]
    for j in range(mins["half"].shape[1]):
        color = f"C{j}"
        ax.plot(lams, mins["half"][:, j], "-", color=color, lw=1.5)
        ax.plot(lams, mins["none"][:, j], "--", color=color, lw=1)
        ax.plot(2 * lams[::3], mins["none"][::3, j], "o", color=color, ms=3, mfc="none")
    ax.plot([], [], "k-", label="with ½: minimizer at λ")
    ax.plot([], [], "k--", label="without ½: minimizer at λ")
    ax.plot([], [], "ko", mfc="none", ms=3, label="without ½, drawn at 2λ")
    ax.set(xscale="log", xlabel="λ", ylabel="coefficient (diabetes, standardized)",
           title="ridge paths with and without the ½")  # fmt: skip
    ax.legend(fontsize=7)


def _panel_gaps(ax: Any, mins: dict[str, Any]) -> None:
    floor = 1e-17
    ax.plot(mins["lams"], mins["gap_same_lam"], "C3-", label="without ½ at λ vs with ½ at λ")
    ax.plot(mins["lams"], np.maximum(mins["gap_2lam"], floor), "C0o-", ms=3,
            label="without ½ at λ vs with ½ at 2λ")  # fmt: skip
    ax.axhline(1e-10, color="k", ls="--", lw=1, label="tolerance 10⁻¹⁰")
    ax.set(xscale="log", yscale="log", ylim=(floor / 3, 10), xlabel="λ",
           ylabel="‖Δw‖ / ‖w‖", title="the ½ relabels λ by 2, nothing more")  # fmt: skip
    ax.legend(fontsize=7)


def _figure(r: dict[str, Any]) -> Any:
    plt = figures.pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5), constrained_layout=True)
    d, s = r["decay"], r["summary"]
    _panel_factor(axes[0, 0], d, s)
    _panel_deviation(axes[0, 1], d, s)
    _panel_compound(axes[0, 2], d, s)
    _panel_course(axes[1, 0], s)
    _panel_paths(axes[1, 1], r["minimizers"])
    _panel_gaps(axes[1, 2], r["minimizers"])
    fig.suptitle(
        "θ ← (1 − αλ/m)·θ − α·∂J_data/∂θ, measured on gradient descent (logistic regression, "
        f"{d['steps']} steps per setting), and the ½ in λ/(2m)‖w‖²"
    )
    return fig
