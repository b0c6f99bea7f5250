r"""L2 penalty or weight decay? SGD cannot tell them apart; Adam can. How to set AdamW's decay.

**1. The same steps?** Over a λ grid (mean loss + λ/(2m)‖w‖²), SGD + L2 (``sgd_l2(η, λ,
m=m)``) and SGDW (``sgdw(η, λ/m)``) reach the same weights to round-off; Adam + L2 and
AdamW (``adamw(η, λ/m)``) do not: Adam divides the coupled decay by √v̂.

**2. Learning rate × decay.** Logistic regression, n = 50, m = 100 (w ~ N(0, 9/n),
x ~ N(0, I)), trained by Adam + L2 (λ) and AdamW (lr-scaled r, drawn at nominal λ = m·r) on
minibatches of b = 20 drawn with replacement, T steps of η_t = η·½(1 + cos πt/T); each
(η, λ, repetition: a new truth and training set) is one lane of one ``jit(vmap)``. The test
loss is exact: z = x·w and ẑ = x·ŵ + b̂ are jointly Gaussian, so E[σ(z)ℓ(ẑ, 1) +
(1 − σ(z))ℓ(ẑ, 0)] is a 2-D Gauss–Hermite sum. At convergence Adam + L2 stops at the ridge
minimizer at λ and AdamW where Adam(g) = −rθ, both free of η (with minibatch noise
Adam(g) ≈ g/σ_b: AdamW acts like an L2 coefficient r·σ_b); Loshchilov & Hutter (2019,
arXiv:1711.05101) found instead the per-step decay d = η·r decoupled from η (r* ∝ 1/η).

**3. The decay timescale.** Wang & Aitchison (2024, arXiv:2405.13698): AdamW's weights are
an exponential moving average of its updates over τ_iter = 1/(η·r) steps, τ_epoch =
τ_iter·b/m epochs, and the optimal τ_epoch stays roughly constant as the data grow: at
fixed η and b, r* ∝ 1/m (as AdamW ≈ L2 at r·σ_b with a Bayes-optimal coefficient ∝ 1/m also
predicts). Nested training sets of sizes m train for a fixed number of epochs (T =
epochs·m/b; all m in one ``jit(vmap)``, lanes of smaller m ending at η_t = 0, which moves
nothing); r is tuned on a grid at each m; log r* and log τ_epoch* are fitted against log m
with bootstrap bands. Optima are sub-grid (parabola vertex in log decay), grid ends flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from regjax import figures, losses, models, optimizers
from regjax.experiments import Study, Table, _common

__all__ = ["QUESTION", "run"]

QUESTION = "Is an L2 penalty the same as weight decay?"

N_FEATURES, BATCH, SIGNAL = 50, 20, 3.0  # parts 2 and 3
GRID_M, GRID_STEPS = 100, 1000  # part 2: training-set size, steps
SCALE_ETA, SCALE_EPOCHS = 0.1, 20  # part 3: fixed η and number of epochs


def _problem(rng: np.random.Generator, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(m, n))
    w = rng.normal(size=n) * 2.0
    y = (rng.uniform(size=m) < 1 / (1 + np.exp(-(X @ w)))).astype(np.float64)
    return X, y


def _fit_grid(make: Any, lams: jax.Array, X: jax.Array, y: jax.Array, steps: int) -> Any:
    def loss(p: Any) -> jax.Array:
        return losses.binary_cross_entropy(models.linear(p, X), y)

    def fit(lam: jax.Array) -> Any:
        opt = make(lam)
        p0 = {"w": jnp.zeros(X.shape[1]), "b": jnp.zeros(())}

        def body(carry: Any, _: Any) -> Any:
            p, s = carry
            u, s = opt.update(jax.grad(loss)(p), s, p)
            return (optax.apply_updates(p, u), s), None

        return jax.lax.scan(body, (p0, opt.init(p0)), None, length=steps)[0][0]

    return jax.jit(jax.vmap(fit))(lams)


def _same_steps(rng: np.random.Generator, quick: bool, say: Callable[[str], None]) -> dict:
    """Part 1: final ‖w‖ of the four optimizers and the L2-vs-decay gaps per λ."""
    m, n = 200, 10
    num, steps = (8, 100) if quick else (24, 600)
    X, y = map(jnp.asarray, _problem(rng, m, n))
    lams = jnp.logspace(-1, 2.5, num)  # η·λ/m ≤ 0.8: SGD stays stable
    eta_sgd, eta_adam = 0.5, 0.05
    makers = {
        "sgd_l2": lambda lam: optimizers.sgd_l2(eta_sgd, lam, m=m),
        "sgdw": lambda lam: optimizers.sgdw(eta_sgd, lam / m),
        "adam_l2": lambda lam: optimizers.adam_l2(eta_adam, lam, m=m),
        "adamw": lambda lam: optimizers.adamw(eta_adam, lam / m),
    }
    fits = {}
    for name, make in makers.items():
        say(f"{name}: {num} λ × {steps} steps")
        fits[name] = _fit_grid(make, lams, X, y, steps)
    w = {k: np.asarray(p["w"]) for k, p in fits.items()}
    norms = {k: np.linalg.norm(v, axis=1) for k, v in w.items()}
    pairs = {"sgd": ("sgd_l2", "sgdw"), "adam": ("adam_l2", "adamw")}
    gaps = {k: np.linalg.norm(w[a] - w[b], axis=1) / norms[a] for k, (a, b) in pairs.items()}
    return {"lams": np.asarray(lams), "norms": norms, "gaps": gaps, "m": m, "steps": steps}


def _population(rng: np.random.Generator, reps: int, m: int) -> tuple[np.ndarray, ...]:
    """``reps`` truths w ~ N(0, SIGNAL²/n) with m examples each: x ~ N(0, I), y ~ B(σ(x·w))."""
    W = rng.normal(size=(reps, N_FEATURES)) * SIGNAL / np.sqrt(N_FEATURES)
    X = rng.normal(size=(reps, m, N_FEATURES))
    p = 1 / (1 + np.exp(-np.einsum("rmn,rn->rm", X, W)))
    return W, X, (rng.uniform(size=p.shape) < p).astype(np.float64)


def _cosine(eta: Any, total: Any) -> Callable[[Any], Any]:
    """η_t = η·½(1 + cos(πt/T)) up to t = T, then 0 (η and T may be traced)."""
    return lambda t: eta * 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(t / total, 1.0)))


def _train(opt: Any, X: jax.Array, y: jax.Array, m: Any, steps: int, key: jax.Array) -> Any:
    """``steps`` updates on minibatches of BATCH rows drawn with replacement from X[:m]."""

    def loss(p: Any, idx: jax.Array) -> jax.Array:
        return losses.binary_cross_entropy(models.linear(p, X[idx]), y[idx])

    def body(carry: Any, k: jax.Array) -> Any:
        p, s = carry
        idx = jnp.floor(jax.random.uniform(k, (BATCH,)) * m).astype(jnp.int32)
        u, s = opt.update(jax.grad(loss)(p, idx), s, p)
        return (optax.apply_updates(p, u), s), None

    p0 = {"w": jnp.zeros(X.shape[1]), "b": jnp.zeros(())}
    return jax.lax.scan(body, (p0, opt.init(p0)), jax.random.split(key, steps))[0][0]


def _lanes(cell: Callable, k: int) -> Callable:
    """jit(vmap) of ``cell(*k grid args, w, X, y, key)`` over repetitions and grid axes."""
    fn = jax.vmap(cell, (None,) * k + (0, 0, 0, 0))
    for i in reversed(range(k)):
        fn = jax.vmap(fn, tuple(0 if j == i else None for j in range(k)) + (None,) * 4)
    return jax.jit(fn)


def _lr_decay_grid(
    etas: jax.Array, lams: jax.Array, data: tuple, keys: jax.Array, say: Callable[[str], None]
) -> dict[str, np.ndarray]:
    """Part 2: exact test loss (η, λ, repetition) of Adam + L2 (λ) and AdamW (r = λ/m)."""

    def cell(kind: str, eta: Any, lam: Any, w: Any, X: Any, y: Any, key: Any) -> jax.Array:
        sched = _cosine(eta, GRID_STEPS)
        if kind == "adam_l2":
            opt = optimizers.adam_l2(sched, lam, m=GRID_M)
        else:
            opt = optimizers.adamw(sched, lam / GRID_M)
        return _common.logistic_test_loss(w, _train(opt, X, y, GRID_M, GRID_STEPS, key))

    out = {}
    for kind in ("adam_l2", "adamw"):
        say(f"{kind}: {len(etas)} η × {len(lams)} λ × {len(keys)} repetitions")
        out[kind] = np.asarray(_lanes(partial(cell, kind), 2)(etas, lams, *data, keys))
    return out


def _timescale_grid(sizes: np.ndarray, rates: jax.Array, data: tuple, keys: jax.Array) -> Any:
    """Part 3: exact test loss (m, r, repetition) of AdamW after SCALE_EPOCHS epochs."""
    steps = SCALE_EPOCHS * int(sizes.max()) // BATCH

    def cell(m: Any, r: Any, w: Any, X: Any, y: Any, key: Any) -> jax.Array:
        opt = optimizers.adamw(_cosine(SCALE_ETA, SCALE_EPOCHS * m / BATCH), r)
        return _common.logistic_test_loss(w, _train(opt, X, y, m, steps, key))

    return np.asarray(_lanes(cell, 2)(jnp.asarray(sizes, float), rates, *data, keys))


def _grid_summary(etas: np.ndarray, lams: np.ndarray, loss: dict, rng: Any) -> dict:
    """Part 2's optima: best cell, per-η optimal decay (mean and per repetition), slopes."""
    out: dict[str, Any] = {}
    for kind, L in loss.items():
        mean = L.mean(-1)  # a lane that diverged in any repetition is NaN: never the best
        flat = np.where(np.isfinite(mean), mean, np.inf)
        ie, il = np.unravel_index(int(flat.argmin()), flat.shape)
        row_best, row_interior = _common.log_argmin(lams, mean)
        rep_best, _ = _common.log_argmin(lams, np.moveaxis(L, -1, 0))
        unit = 1.0 if kind == "adam_l2" else 1.0 / GRID_M  # AdamW's decay in its own r
        rows = row_interior  # rows whose mean optimum is interior carry the slope
        g = {"mean": mean, "best": (int(ie), int(il)), "best_loss": float(mean[ie, il])}
        g.update(best_reps=L[ie, il], row_best=row_best * unit, row_interior=row_interior)
        g["interior"] = bool(0 < ie < len(etas) - 1 and 0 < il < len(lams) - 1)
        g["slope"] = _common.log_slope(etas[rows], rep_best[:, rows] * unit, rng=rng)
        out[kind] = {**g, "diverged": int((~np.isfinite(mean)).sum())}
    diff = out["adamw"]["best_reps"] - out["adam_l2"]["best_reps"]
    out["adamw_minus_l2"] = (float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff))))
    return out


def _scale_summary(sizes: np.ndarray, rates: np.ndarray, loss: np.ndarray, rng: Any) -> dict:
    """Part 3's optima: r* and τ_epoch* per m (mean curve and per repetition), slopes."""
    best, interior = _common.log_argmin(rates, loss.mean(-1))
    rep_best, rep_interior = _common.log_argmin(rates, np.moveaxis(loss, -1, 0))
    tau = BATCH / (SCALE_ETA * rep_best * sizes)  # τ_iter·b/m with τ_iter = 1/(η·r)
    out: dict[str, Any] = {"sizes": sizes, "rates": rates, "loss": loss, "r_star": best}
    out.update(tau_star=BATCH / (SCALE_ETA * best * sizes), rep_r_star=rep_best, interior=interior)
    out["rep_interior_fraction"] = float(rep_interior.mean())
    out["slope_r"] = _common.log_slope(sizes, rep_best, rng=rng)
    return {**out, "slope_tau": _common.log_slope(sizes, tau, rng=rng)}


def run(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: Any = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Run the three parts; write the figures into the directory ``out``.

    Args:
      quick: a CI-sized run (8 λ × 100 steps; 7 η × 15 λ and 4 m × 17 r, 8 repetitions).
      out: a directory for ``weight_decay.png``, ``weight_decay_adam_grid.png`` and
        ``weight_decay_timescale.png`` (created); ``None`` for no figure.
      key: the seed (an int or a ``jax.random`` key) of the data and the minibatches.
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`regjax.experiments.Study`; its data holds part 1's ``lams``, ``norms``
      and ``gaps`` (``sgd``, ``adam``: ‖θ_L2 − θ_W‖/‖θ_L2‖ per λ), part 2's ``grid``
      (``etas``, ``lams``, ``loss[kind]`` (η, λ, repetition), per optimizer its optima and
      ``slope`` against log η) and part 3's ``timescale`` (``sizes``, ``rates``, ``loss``,
      ``r_star``, ``tau_star``, ``slope_r``, ``slope_tau`` against log m).
    """
    say = _common.reporter(progress)
    jkey, rng = _common.seeds(key)
    reps, reps_m = (8, 24) if quick else (24, 48)  # repetitions in parts 2 and 3
    sizes = np.array([100, 300, 1000, 3000] if quick else [100, 300, 1000, 3000, 10000])
    with _common.float64():
        same = _same_steps(rng, quick, say)
        W, X, y = map(jnp.asarray, _population(rng, reps_m, int(sizes.max())))
        keys = jax.random.split(jkey, reps_m)
        etas = np.logspace(-3, 0, 7 if quick else 13)
        lams = np.logspace(0, 3.5, 15 if quick else 29)
        data = (W[:reps], X[:reps, :GRID_M], y[:reps, :GRID_M])
        loss = _lr_decay_grid(jnp.asarray(etas), jnp.asarray(lams), data, keys[:reps], say)
        grid = {"etas": etas, "lams": lams, "loss": loss, **_grid_summary(etas, lams, loss, rng)}
        rates = np.logspace(-3, 1, 13 if quick else 33)
        say(f"AdamW timescale: {len(sizes)} m × {len(rates)} r × {reps_m} repetitions")
        loss_m = _timescale_grid(sizes, jnp.asarray(rates), (W, X, y), keys)
        scale = _scale_summary(sizes, rates, loss_m, rng)
    written: tuple[Path, ...] = ()
    if out is not None:
        fig = _figure(same["lams"], same["norms"], same["gaps"], same["m"], same["steps"])
        written = (
            _common.save(fig, out, "weight_decay.png"),
            _common.save(_figure_grid(grid), out, "weight_decay_adam_grid.png"),
            _common.save(_figure_timescale(scale), out, "weight_decay_timescale.png"),
        )
    result = {**same, "grid": grid, "timescale": scale, "reps": (reps, reps_m)}
    result["table"] = _table(same, grid, scale)
    return Study("weight_decay", QUESTION, _answer(same, grid, scale), result, written)


def _answer(same: dict, grid: dict, scale: dict) -> str:
    l2, w, etas, lams = grid["adam_l2"], grid["adamw"], grid["etas"], grid["lams"]
    s_l2, s_w, s_r, s_tau = l2["slope"], w["slope"], scale["slope_r"], scale["slope_tau"]
    d, se = grid["adamw_minus_l2"]
    flat = max(abs(s_l2.value), abs(s_w.value)) < 0.5  # nearer 0 than Loshchilov & Hutter's −1
    verdict = "r itself, not η·r," if flat else "neither"
    held = "holds" if s_tau.low <= 0 <= s_tau.high else "holds only roughly"
    tau = scale["tau_star"]
    return (
        f"With SGD an L2 penalty and decoupled decay λ/m give the same weights (largest "
        f"relative gap {same['gaps']['sgd'].max():.0e}); with Adam they differ by "
        f"{same['gaps']['adam'].min():.0%} to {same['gaps']['adam'].max():.0%} of ‖w‖. "
        f"On the η × decay grid the best Adam + L2 cell (η = {etas[l2['best'][0]]:.2g}, "
        f"λ = {lams[l2['best'][1]]:.3g}) reaches test loss {l2['best_loss']:.4f} and the best "
        f"AdamW cell (η = {etas[w['best'][0]]:.2g}, r = {lams[w['best'][1]] / GRID_M:.3g}) "
        f"{w['best_loss']:.4f} (paired difference {d:+.4f} ± {se:.4f}), and the "
        f"optimal decay hardly follows η: slope of log λ* vs log η {_common.band(s_l2)}, of log r* "
        f"{_common.band(s_w)}, where Loshchilov & Hutter's decoupling predicts −1, so {verdict} is "
        f"what is decoupled from the learning rate here. Across m = {scale['sizes'][0]}–"
        f"{scale['sizes'][-1]} (η = {SCALE_ETA}, b = {BATCH}, {SCALE_EPOCHS} epochs) the "
        f"optimal AdamW r falls as m^{s_r.value:.2f} [{s_r.low:.2f}, {s_r.high:.2f}] and "
        f"τ_epoch* stays within {tau.min():.2g}–{tau.max():.2g} epochs "
        f"(slope {_common.band(s_tau)}): "
        f"Wang & Aitchison's constant timescale {held}."
    )


def _table(same: dict, grid: dict, scale: dict) -> Table:
    etas, lams, gaps = grid["etas"], grid["lams"], same["gaps"]
    l2, w = grid["adam_l2"], grid["adamw"]
    edge = {k: "" if grid[k]["interior"] else " (grid edge)" for k in ("adam_l2", "adamw")}
    lines = [
        f"SGD: max ‖θ_L2 − θ_W‖/‖θ_L2‖ | {gaps['sgd'].max():.0e} | 0 (same steps)",
        f"Adam: ‖θ_L2 − θ_W‖/‖θ_L2‖ | {gaps['adam'].min():.2f}–{gaps['adam'].max():.2f} | > 0",
        f"Adam + L2: best cell{edge['adam_l2']} | η = {etas[l2['best'][0]]:.2g}, "
        f"λ = {lams[l2['best'][1]]:.3g}, loss {l2['best_loss']:.4f} | ",
        f"AdamW: best cell{edge['adamw']} | η = {etas[w['best'][0]]:.2g}, "
        f"r = {lams[w['best'][1]] / GRID_M:.3g}, loss {w['best_loss']:.4f} | ",
        "best AdamW − best Adam + L2 loss | {:+.4f} ± {:.4f} | ".format(*grid["adamw_minus_l2"]),
        f"Adam + L2: slope log λ* vs log η | {_common.band(l2['slope'])} | 0 at convergence",
        f"AdamW: slope log r* vs log η | {_common.band(w['slope'])} | 0 at convergence; L&H −1",
    ]
    for m, r, tau in zip(scale["sizes"], scale["r_star"], scale["tau_star"], strict=True):
        lines.append(f"AdamW m = {m}: r*, m·r*, τ_epoch* | {r:.3g}, {m * r:.3g}, {tau:.3g} | ")
    lines.append(f"slope log r* vs log m | {_common.band(scale['slope_r'])} | W&A −1")
    lines.append(f"slope log τ_epoch* vs log m | {_common.band(scale['slope_tau'])} | W&A 0")
    rows = tuple(tuple(line.split(" | ")) for line in lines)
    return Table(("quantity", "measured [95% band]", "theory / paper"), rows)


def _figure(lams: np.ndarray, norms: dict, gaps: dict, m: int, steps: int) -> Any:
    plt = figures.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    pairs = (("SGD", "sgd_l2", "sgdw", "="), ("Adam", "adam_l2", "adamw", "≠"))
    for ax, (name, a, b, sign) in zip(axes, pairs, strict=False):
        ax.semilogx(lams, norms[a], "-", lw=2, label=f"{name} + L2  (add_l2_gradient λ)")
        ax.semilogx(lams, norms[b], "o--", mfc="none", label=f"{name}W  (decay λ/m, lr-scaled)")
        ax.set(title=f"{name}: penalty {sign} decay", xlabel="λ (library convention)")
        ax.set(ylabel="final ‖w‖")
        ax.legend(fontsize=8)
    floor = 1e-17  # exact zeros drawn at the floor of the log axis
    axes[2].loglog(lams, np.maximum(gaps["sgd"], floor), "o-", label="SGD + L2 vs SGDW")
    axes[2].loglog(lams, np.maximum(gaps["adam"], floor), "s-", label="Adam + L2 vs AdamW")
    axes[2].set(title="‖θ_L2 − θ_decay‖ / ‖θ_L2‖ (float64)", xlabel="λ (library convention)")
    axes[2].set(ylim=(floor / 3, 30))
    axes[2].legend(fontsize=8)
    fig.suptitle(f"logistic regression, m = {m}, {steps} steps, every λ in one jit(vmap)")
    return fig


def _edges(g: np.ndarray) -> np.ndarray:
    return np.geomspace(g[0] / np.sqrt(g[1] / g[0]), g[-1] * np.sqrt(g[1] / g[0]), len(g) + 1)


def _figure_grid(grid: dict) -> Any:
    plt = figures.pyplot()
    etas, lams = grid["etas"], grid["lams"]
    low = min(grid[k]["best_loss"] for k in ("adam_l2", "adamw"))
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.75")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True, constrained_layout=True)
    for ax, kind in zip(axes, ("adam_l2", "adamw"), strict=True):
        g, unit = grid[kind], (1.0 if kind == "adam_l2" else GRID_M)
        values, norm = np.ma.masked_invalid(g["mean"]), plt.Normalize(low, low + 0.25)
        mesh = ax.pcolormesh(_edges(lams), _edges(etas), values, cmap=cmap, norm=norm)
        ok = g["row_interior"]
        ax.plot(g["row_best"][ok] * unit, etas[ok], "wo-", ms=5, label="optimal decay at each η")
        ax.plot(g["row_best"][~ok] * unit, etas[~ok], "wx", ms=7, label="optimum at the grid edge")
        ie, il = g["best"]
        ax.plot(lams[il] * etas[ie] / etas, etas, "r--", lw=1.2, label="η × decay fixed (L&H)")
        ax.plot(lams[il], etas[ie], "r*", ms=17, mec="k", label=f"best: {g['best_loss']:.4f}")
        ax.set(xscale="log", yscale="log", xlim=_edges(lams)[[0, -1]], ylim=_edges(etas)[[0, -1]])
        ax.legend(fontsize=8, loc="lower right", framealpha=0.7)
    axes[0].set(title="Adam + L2", ylabel="peak learning rate η (cosine to 0)")
    axes[0].set(xlabel="λ (library convention: mean loss + λ/(2m)‖w‖²)")
    axes[1].set(title="AdamW (lr-scaled decay r)", xlabel=f"nominal λ = m·r  (m = {GRID_M})")
    fig.colorbar(
        mesh, ax=axes, extend="max", label="exact test cross-entropy, mean (grey: diverged)"
    )
    reps = grid["adam_l2"]["best_reps"].size
    title = f"logistic regression, n = {N_FEATURES}, m = {GRID_M}, b = {BATCH}"
    fig.suptitle(f"{title}, {GRID_STEPS} steps, {reps} repetitions, one jit(vmap)")
    return fig


def _slope_panel(ax: Any, x: np.ndarray, reps: np.ndarray, s: Any, paper: float) -> None:
    """Repetitions, their geometric mean, the fitted slope with its band, the paper's slope."""
    centre = np.exp(np.log(reps).mean(0))
    ax.loglog(np.repeat(x, len(reps)), reps.T.ravel(), ".", color="0.6", ms=3, label="repetitions")
    ax.loglog(x, centre, "ko", label="geometric mean")
    fx, c = np.geomspace(x[0], x[-1], 50), np.exp(np.log(centre).mean())
    lx = np.log(fx / np.exp(np.log(x).mean()))
    ax.fill_between(fx, c * np.exp(s.low * lx), c * np.exp(s.high * lx), alpha=0.25, color="C0")
    ax.plot(fx, c * np.exp(s.value * lx), "C0-", label=f"fit: slope {_common.band(s)}")
    ax.plot(fx, c * np.exp(paper * lx), "C3--", label=f"Wang & Aitchison: slope {paper:g}")
    ax.set_xlabel("training-set size m")
    ax.legend(fontsize=8)


def _figure_timescale(scale: dict) -> Any:
    plt = figures.pyplot()
    sizes, rates, loss = scale["sizes"], scale["rates"], scale["loss"].mean(-1)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
    ax = axes[0]
    for k, m in enumerate(sizes):
        tau = BATCH / (SCALE_ETA * rates * m)
        ax.semilogx(tau, loss[k] - np.nanmin(loss[k]), "-", label=f"m = {m}")
        ax.plot(scale["tau_star"][k], 0, "o", color=ax.lines[-1].get_color())
    ax.axvspan(1, SCALE_EPOCHS, color="0.9", label="1 epoch … all epochs")
    ax.set(ylim=(-0.002, 0.06), xlabel="τ_epoch = b / (η·r·m)  (epochs)")
    ax.set(ylabel="test loss − its minimum over r", title="AdamW: test loss against timescale")
    ax.legend(fontsize=8)
    _slope_panel(axes[1], sizes, scale["rep_r_star"], scale["slope_r"], -1.0)
    axes[1].set(ylabel="optimal decay r*", title="optimal r against m")
    tau_reps = BATCH / (SCALE_ETA * scale["rep_r_star"] * sizes)
    _slope_panel(axes[2], sizes, tau_reps, scale["slope_tau"], 0.0)
    axes[2].set(ylabel="optimal τ_epoch* (epochs)", title="optimal timescale against m")
    reps = len(scale["rep_r_star"])
    fig.suptitle(
        f"AdamW, η = {SCALE_ETA}, b = {BATCH}, {SCALE_EPOCHS} epochs at every m, {reps} reps"
    )
    return fig
