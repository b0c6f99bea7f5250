r"""Dropout or L2 for a wide network? An MLP over growing widths, four ways, tuned on validation.

The folklore: "for really large networks, use dropout instead of L2". The measurement: the
8×8 digits (``data.load_digits``, 64 pixels in [0, 1], 10 classes), a modest training set of
``M_TRAIN`` examples (so a wide network fits it exactly), ``M_VAL`` validation examples to
choose hyperparameters on, and every other example (about 1,400) as the test set; each
repetition draws a new split and a new initialization (``models.init_mlp``, Glorot-uniform).

The network has one hidden layer of width w, ReLU activations and softmax outputs:
:math:`h = \mathrm{relu}(W_1 x + b_1)`, :math:`z = W_2 h + b_2` (the library's
``models.mlp_logits``). It minimizes, by full-batch Adam (η = ``LR`` with a cosine decay to
0, ``STEPS`` steps), the mean softmax cross-entropy plus the library's per-example L2
penalty :math:`\frac{\lambda}{2m}(\lVert W_1\rVert^2 + \lVert W_2\rVert^2)` (biases free),
with *inverted dropout* of rate p on the hidden units during training:
:math:`\tilde h = h \odot \xi/(1-p)`, :math:`\xi_j \sim \mathrm{Bernoulli}(1-p)` drawn anew at
every step, so :math:`E[\tilde h] = h` and the test-time network is the plain one.

Every (λ, p) cell of one joint grid (λ = 0 and p = 0 included) × every repetition is one
lane of one ``jit(vmap)`` per width. The four methods are four subsets of that grid, each
choosing its cell per repetition on the validation error (ties: validation loss):

* **none**: λ = 0, p = 0;  **L2**: the λ column at p = 0 (λ = 0 allowed);
* **dropout**: the p row at λ = 0 (p = 0 allowed);  **both**: the whole joint grid.

Reported per width: test error and test cross-entropy of each method's chosen cell, mean ±
standard error over repetitions, and paired differences (L2 − dropout, method − none, both −
each single method) with their standard errors over repetitions; the trend of L2 − dropout
with width is its least-squares slope against log₂ w, fitted per repetition (points of test
error per doubling of the width), mean ± SE.

References:
  N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever, R. Salakhutdinov, "Dropout: a
  simple way to prevent neural networks from overfitting", JMLR 15 (2014).
  S. Wager, S. Wang, P. Liang, "Dropout training as adaptive regularization", NeurIPS 2013
  (to second order, dropout is an L2 penalty scaled by the data's curvature).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from regjax import data, figures, losses, models, penalties
from regjax.experiments import Study, Table, _common

__all__ = ["QUESTION", "run"]

QUESTION = "For a large network, is dropout better than L2 regularization?"

M_TRAIN, M_VAL, STEPS, LR = 100, 300, 300, 1e-2
METHODS = ("none", "L2", "dropout", "both")
METRICS = ("train_error", "val_error", "val_loss", "test_error", "test_loss")
FULL: dict[str, Any] = {
    "widths": (8, 16, 32, 64, 128, 256, 512),
    "lams": (0.0, 0.03, 0.1, 0.3, 1.0, 3.0),
    "rates": (0.0, 0.2, 0.4, 0.6, 0.8),
    "reps": 10,
}
QUICK: dict[str, Any] = {
    "widths": (16, 128),
    "lams": (0.0, 0.1, 0.3, 1.0),
    "rates": (0.0, 0.5),
    "reps": 8,
}


def _forward(params: Any, X: jax.Array, rate: Any, key: jax.Array) -> jax.Array:
    """Logits of the one-hidden-layer ReLU MLP with inverted dropout of ``rate`` on h.

    Example:
      >>> with _common.float64():
      ...     params = models.init_mlp(jax.random.key(0), (3, 5, 2))
      ...     X = jnp.ones((4, 3))
      ...     plain = models.mlp_logits(params, X, activation=jax.nn.relu)
      ...     bool(jnp.allclose(_forward(params, X, 0.0, jax.random.key(1)), plain))
      True
    """
    h = jax.nn.relu(models.mlp_logits(params[:1], X))
    keep = jax.random.bernoulli(key, 1.0 - rate, h.shape)
    return models.mlp_logits(params[1:], jnp.where(keep, h / (1.0 - rate), 0.0))


def _scores(params: Any, X: jax.Array, labels: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Classification error and mean cross-entropy of the plain (test-time) network."""
    logits = models.mlp_logits(params, X, activation=jax.nn.relu)
    error = jnp.mean(jnp.argmax(logits, axis=-1) != labels)
    return error, losses.softmax_cross_entropy(logits, labels)


def _lane(lam: Any, rate: Any, drop_key: Any, init_key: Any, split: tuple, width: int) -> Any:
    """Train one (λ, p, repetition) lane; its ``METRICS`` on train, validation and test."""
    Xt, yt, Xv, yv, Xs, ys = split
    params = models.init_mlp(init_key, (Xt.shape[1], width, 10))
    opt = optax.adam(optax.cosine_decay_schedule(LR, STEPS))

    def cost(p: Any, key: jax.Array) -> jax.Array:
        data_term = losses.softmax_cross_entropy(_forward(p, Xt, rate, key), yt)
        return data_term + penalties.l2(p, lam, m=M_TRAIN)

    def body(carry: Any, key: jax.Array) -> Any:
        p, state = carry
        updates, state = opt.update(jax.grad(cost)(p, key), state, p)
        return (optax.apply_updates(p, updates), state), None

    keys = jax.random.split(drop_key, STEPS)
    params = jax.lax.scan(body, (params, opt.init(params)), keys)[0][0]
    train, val, test = _scores(params, Xt, yt), _scores(params, Xv, yv), _scores(params, Xs, ys)
    return jnp.stack([train[0], val[0], val[1], test[0], test[1]])


def _splits(rng: np.random.Generator, reps: int) -> tuple[jax.Array, ...]:
    """``reps`` random train / validation / test splits of the digits, stacked."""
    digits = data.load_digits()
    order = np.stack([rng.permutation(len(digits.y)) for _ in range(reps)])
    parts = (order[:, :M_TRAIN], order[:, M_TRAIN : M_TRAIN + M_VAL], order[:, M_TRAIN + M_VAL :])
    return tuple(jnp.asarray(a[idx]) for idx in parts for a in (digits.X, digits.y))


def _train_grid(cfg: dict, jkey: jax.Array, split: tuple, say: Callable[[str], None]) -> Any:
    """Metrics (width, λ, p, repetition, metric): one ``jit(vmap)`` of every lane per width."""
    lam, rate = (
        jnp.asarray(a.ravel()) for a in np.meshgrid(cfg["lams"], cfg["rates"], indexing="ij")
    )
    reps = cfg["reps"]
    init_keys = jax.random.split(jax.random.fold_in(jkey, 0), reps)
    # dropout masks from XLA's RngBitGenerator ("unsafe_rbg": compiles in half the time of
    # threefry under vmap; masks need no cryptographic quality), seeded from ``jkey``
    bits = jax.random.bits(jax.random.fold_in(jkey, 1), (lam.size, reps, 4), jnp.uint32)
    drop_keys = jax.random.wrap_key_data(bits, impl="unsafe_rbg")
    per_rep = jax.vmap(_lane, (None, None, 0, 0, 0, None))
    grid = jax.jit(jax.vmap(per_rep, (0, 0, 0, None, None, None)), static_argnums=5)
    out = []
    for width in cfg["widths"]:
        say(f"width {width}: {lam.size} (λ, p) cells × {reps} repetitions × {STEPS} steps")
        metrics = np.asarray(grid(lam, rate, drop_keys, init_keys, split, width))
        out.append(metrics.reshape(len(cfg["lams"]), len(cfg["rates"]), reps, len(METRICS)))
    return np.stack(out)


def _choose(cfg: dict, grid: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Each method's cell per (width, repetition), chosen on validation error then loss."""
    lams, rates = np.asarray(cfg["lams"]), np.asarray(cfg["rates"])
    L, P = np.meshgrid(lams, rates, indexing="ij")
    allowed = {"none": (L == 0) & (P == 0), "L2": P == 0, "dropout": L == 0, "both": L >= 0}
    W, R = grid.shape[0], grid.shape[3]
    cells = grid.reshape(W, L.size, R, len(METRICS))
    val_error, val_loss = cells[..., 1], cells[..., 2]
    out = {}
    for method, ok in allowed.items():
        err = np.where(ok.ravel()[None, :, None], val_error, np.inf)
        order = np.lexsort((val_loss, err), axis=1)  # primary key last: error, then loss
        best = order[:, 0, :]  # (W, R) flat cell index
        picked = np.take_along_axis(cells, best[:, None, :, None], axis=1)[:, 0]
        out[method] = {name: picked[..., k] for k, name in enumerate(METRICS)}
        out[method].update(lam=L.ravel()[best], rate=P.ravel()[best])
    return out


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over repetitions (last axis) of a − b."""
    d = a - b
    return d.mean(-1), d.std(-1, ddof=1) / np.sqrt(d.shape[-1])


def _summarize(widths: np.ndarray, chosen: dict) -> dict[str, Any]:
    """Mean ± SE per method and width; paired differences; the trend of L2 − dropout."""
    err = {k: v["test_error"] for k, v in chosen.items()}
    out: dict[str, Any] = {
        "mean_error": {k: v.mean(-1) for k, v in err.items()},
        "se_error": {k: v.std(-1, ddof=1) / np.sqrt(v.shape[-1]) for k, v in err.items()},
    }
    loss = {k: v["test_loss"] for k, v in chosen.items()}
    out["mean_loss"] = {k: v.mean(-1) for k, v in loss.items()}
    out["se_loss"] = {k: v.std(-1, ddof=1) / np.sqrt(v.shape[-1]) for k, v in loss.items()}
    out["diff"] = {
        "L2 − dropout": _paired(err["L2"], err["dropout"]),
        "L2 − none": _paired(err["L2"], err["none"]),
        "dropout − none": _paired(err["dropout"], err["none"]),
        "both − none": _paired(err["both"], err["none"]),
        "both − L2": _paired(err["both"], err["L2"]),
        "both − dropout": _paired(err["both"], err["dropout"]),
    }
    out["diff_loss"] = {"L2 − dropout": _paired(loss["L2"], loss["dropout"])}
    x = np.log2(widths) - np.log2(widths).mean()
    d = err["L2"] - err["dropout"]  # (width, repetition)
    slopes = (x @ d) / (x @ x)  # per repetition: L2 − dropout per doubling of the width
    out["trend"] = (float(slopes.mean()), float(slopes.std(ddof=1) / np.sqrt(len(slopes))))
    return out


def run(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: Any = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Train the joint (λ, p) grid at every width, choose per method, write the figures.

    Args:
      quick: a CI-sized run (widths 16 and 128, a 4 λ × 2 p grid, 8 repetitions); the full
        run has widths 8–512, a 6 λ × 5 p grid and 10 repetitions.
      out: a directory for ``dropout_vs_l2.png`` and ``dropout_vs_l2_grid.png`` (created);
        ``None`` for no figure.
      key: the seed (an int or a ``jax.random`` key) of the splits, initializations and
        dropout masks.
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`regjax.experiments.Study`; its data holds ``widths``, ``lams``, ``rates``,
      ``grid`` (width, λ, p, repetition, metric) with the metrics ``METRICS``,
      ``chosen[method]`` (per width and repetition: the chosen ``lam``, ``rate`` and their
      metrics), ``mean_error``/``se_error`` and ``mean_loss``/``se_loss`` per method
      (per width, over repetitions), ``diff`` (paired test-error differences, mean and
      standard error per width), ``diff_loss`` (the same for the test loss) and ``trend``
      (mean, SE: the least-squares slope of L2 − dropout against log₂ w, per repetition).
    """
    say = _common.reporter(progress)
    jkey, rng = _common.seeds(key)
    cfg = QUICK if quick else FULL
    with _common.float64():
        split = _splits(rng, cfg["reps"])
        grid = _train_grid(cfg, jkey, split, say)
    chosen = _choose(cfg, grid)
    result: dict[str, Any] = {k: np.asarray(cfg[k]) for k in ("widths", "lams", "rates")}
    result.update(
        reps=cfg["reps"], grid=grid, chosen=chosen, **_summarize(np.asarray(cfg["widths"]), chosen)
    )
    result["table"] = _table(result)
    written: tuple[Path, ...] = ()
    if out is not None:
        written = (
            _common.save(_figure(result), out, "dropout_vs_l2.png"),
            _common.save(_figure_grid(result), out, "dropout_vs_l2_grid.png"),
        )
    return Study("dropout_vs_l2", QUESTION, _answer(result), result, written)


def _median(values: np.ndarray) -> float:
    """The lower median: a value of the grid (the middle choice of the repetitions)."""
    return float(np.quantile(values, 0.5, method="lower"))


def _pm(mean: float, se: float) -> str:
    return f"{100 * mean:.1f} ± {100 * se:.1f}%"


def _answer(r: dict) -> str:
    w, mean, se, diff = r["widths"], r["mean_error"], r["se_error"], r["diff"]
    d, s = diff["L2 − dropout"]
    t, ts = r["trend"]
    ld, ls = r["diff_loss"]["L2 − dropout"]
    if d[-1] > 2 * s[-1]:
        verdict = "dropout is the better one there, as the folklore says"
    elif d[-1] < -2 * s[-1]:
        verdict = "L2 is still the better one there, contrary to the folklore"
    else:
        verdict = "the two tie there (within 2 SE), not the folklore's win for dropout"
    if abs(t) > 2 * ts:
        trend = f"the gap moves in {'dropout' if t > 0 else 'L2'}'s favour as the width grows"
    else:
        trend = "the gap does not move with width beyond 2 SE"
    bl, sl = diff["both − L2"]
    bd, sd = diff["both − dropout"]
    helps = bl[-1] < -2 * sl[-1] and bd[-1] < -2 * sd[-1]
    combine = "helps" if helps else "does not help beyond 2 SE"
    lam, rate = _median(r["chosen"]["L2"]["lam"][-1]), _median(r["chosen"]["dropout"]["rate"][-1])
    return (
        f"Digits, m = {M_TRAIN} training examples, one hidden ReLU layer, {r['reps']} "
        f"repetitions: at width {w[-1]} the test error is {_pm(mean['none'][-1], se['none'][-1])}"
        f" unregularized, {_pm(mean['L2'][-1], se['L2'][-1])} with L2 (median λ* = {lam:g}), "
        f"{_pm(mean['dropout'][-1], se['dropout'][-1])} with dropout (median p* = {rate:g}) and "
        f"{_pm(mean['both'][-1], se['both'][-1])} with both (test cross-entropy: L2 − "
        f"dropout {ld[-1]:+.3f} ± {ls[-1]:.3f} nats). "
        f"L2 − dropout is {100 * d[0]:+.1f} ± {100 * s[0]:.1f} points at width {w[0]} and "
        f"{100 * d[-1]:+.1f} ± {100 * s[-1]:.1f} at width {w[-1]} ({100 * t:+.2f} ± "
        f"{100 * ts:.2f} points per doubling): {trend}, and "
        f"{verdict}; tuning both jointly {combine} (both − L2 {100 * bl[-1]:+.1f} ± "
        f"{100 * sl[-1]:.1f}, both − dropout {100 * bd[-1]:+.1f} ± {100 * sd[-1]:.1f} points)."
    )


def _table(r: dict) -> Table:
    mean, se, diff, chosen = r["mean_error"], r["se_error"], r["diff"], r["chosen"]
    d, s = diff["L2 − dropout"]
    rows = []
    for k, w in enumerate(r["widths"]):
        cells = [str(w)] + [_pm(mean[m][k], se[m][k]) for m in METHODS]
        cells.append(f"{100 * d[k]:+.1f} ± {100 * s[k]:.1f}")
        cells.append(f"{_median(chosen['L2']['lam'][k]):g}")
        cells.append(f"{_median(chosen['dropout']['rate'][k]):g}")
        both = chosen["both"]
        cells.append(f"{_median(both['lam'][k]):g}, {_median(both['rate'][k]):g}")
        rows.append(tuple(cells))
    headers = ("width", *(f"test error: {m}" for m in METHODS), "L2 − dropout (points)")
    headers += ("median λ* (L2)", "median p* (dropout)", "λ*, p* (both)")
    return Table(headers, tuple(rows))


STYLE = {"none": ("0.3", "o"), "L2": ("C0", "s"), "dropout": ("C3", "^"), "both": ("C2", "D")}


def _bands(ax: Any, widths: np.ndarray, mean: dict, se: dict, scale: float) -> None:
    for m in METHODS:
        color, marker = STYLE[m]
        lo, hi = scale * (mean[m] - se[m]), scale * (mean[m] + se[m])
        ax.fill_between(widths, lo, hi, color=color, alpha=0.2)
        ax.plot(widths, scale * mean[m], marker=marker, color=color, label=m)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden width w")


def _figure(r: dict) -> Any:
    plt = figures.pyplot()
    widths, chosen = r["widths"], r["chosen"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    _bands(axes[0, 0], widths, r["mean_error"], r["se_error"], 100)
    train = 100 * chosen["none"]["train_error"].mean(-1).max()
    title = f"test error against width (none's training error ≤ {train:.1f}%)"
    axes[0, 0].set(ylabel="test error (%), mean ± SE", title=title)
    axes[0, 0].legend(fontsize=8)
    _bands(axes[0, 1], widths, r["mean_loss"], r["se_loss"], 1)
    axes[0, 1].set(ylabel="test cross-entropy (nats), mean ± SE", title="test loss against width")
    axes[0, 1].legend(fontsize=8)
    d, s = r["diff"]["L2 − dropout"]
    ax = axes[1, 0]
    ax.axhline(0, color="k", lw=0.8)
    ax.fill_between(widths, 100 * (d - 2 * s), 100 * (d + 2 * s), color="C4", alpha=0.2)
    ax.plot(widths, 100 * d, "o-", color="C4", label="L2 − dropout (± 2 SE, paired)")
    for name, color in (("both − L2", "C0"), ("both − dropout", "C3")):
        ax.plot(widths, 100 * r["diff"][name][0], "--", color=color, label=name)
    ax.set_xscale("log", base=2)
    ax.set(xlabel="hidden width w", ylabel="test-error difference (points)")
    ax.set(title="> 0: dropout better than L2")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    lam_floor = r["lams"][r["lams"] > 0].min() / 3  # λ = 0 drawn at the floor
    for m, style in (("L2", "s-"), ("both", "s--")):
        geo = np.exp(np.log(np.maximum(chosen[m]["lam"], lam_floor)).mean(-1))
        ax.plot(widths, geo, style, color="C0", label=f"λ* ({m}), geometric mean")
    ax.set(yscale="log", xlabel="hidden width w")
    ax.set_xscale("log", base=2)
    ax.set_ylabel(f"chosen λ (library convention; 0 drawn at {lam_floor:.2g})", color="C0")
    twin = ax.twinx()
    for m, style in (("dropout", "^-"), ("both", "^--")):
        twin.plot(widths, chosen[m]["rate"].mean(-1), style, color="C3", label=f"p* ({m}), mean")
    twin.set_ylabel("chosen dropout rate p", color="C3")
    twin.set_ylim(-0.05, 1)
    ax.set_title("hyperparameters chosen on validation")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, ncol=2, loc="upper center",
              bbox_to_anchor=(0.5, -0.14))  # fmt: skip
    fig.suptitle(
        f"digits, m = {M_TRAIN} train / {M_VAL} validation, 1 hidden ReLU layer, Adam "
        f"{STEPS} steps, {r['reps']} repetitions"
    )
    return fig


def _figure_grid(r: dict) -> Any:
    plt = figures.pyplot()
    widths, lams, rates = r["widths"], r["lams"], r["rates"]
    show = sorted({0, len(widths) // 2, len(widths) - 1})
    fig, axes = plt.subplots(1, len(show), figsize=(4.6 * len(show), 4), constrained_layout=True)
    axes = np.atleast_1d(axes)
    for ax, k in zip(axes, show, strict=True):
        err = 100 * r["grid"][k, ..., METRICS.index("test_error")].mean(-1)
        image = ax.imshow(err, origin="lower", cmap="viridis", aspect="auto")
        middle = (err.min() + err.max()) / 2
        for (i, j), value in np.ndenumerate(err):
            color = "w" if value < middle else "k"
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", color=color, fontsize=8)
        ax.set_xticks(range(len(rates)), [f"{p:g}" for p in rates])
        ax.set_yticks(range(len(lams)), [f"{v:g}" for v in lams])
        ax.set(xlabel="dropout rate p", ylabel="λ (mean loss + λ/(2m)‖W‖²)")
        ax.set_title(f"width {widths[k]}: mean test error (%)")
        fig.colorbar(image, ax=ax)
    fig.suptitle(
        "the joint (λ, p) grid; none = bottom-left, L2 = first column, dropout = first row"
    )
    return fig
