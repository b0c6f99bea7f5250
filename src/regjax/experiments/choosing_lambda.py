r"""Choosing λ: dev-set grids, cross-validation, early stopping, hypergradients, at what cost.

The library's convention: mean cross-entropy + λ/(2m)‖w‖² (Ng's λ; sklearn's C = 1/λ).
Each repetition draws a logistic-regression problem where λ matters: n = 50 features
x ~ N(0, I), a truth w ~ N(0, S²/n) with the signal S log-uniform in [1.5, 6] (so the
Bayes prior's λ = n/S² runs from about 1.4 to 22, across the course grid's decades),
y ~ Bernoulli(σ(x·w)) and m = 200 labelled examples. The test loss is exact, not
sampled (an infinite test set): z = x·w and ẑ = x·ŵ + b̂ are jointly Gaussian, so
E[ℓ] is a 40 × 40 Gauss–Hermite sum. Its minimizer over λ, the *oracle* λ*, is found per
repetition on a 0.1-decade grid of full-data fits (vertex of the parabola in log λ); the
oracle's loss is the least over every λ evaluated (that grid, the dev grids, the picks).

Every method sees only the m examples; λ-pickers then refit on all m at their λ:

* **dev-set grids** — fit on the first 160 rows, pick the λ of least cross-entropy on the
  last 40 (the dev set): the course's {0, 0.01, 0.1, 1, 10, 100}, the answer's
  {0.01, 0.02, …, 0.4}, and a 25-point log grid from ``rj.lambda_grid`` (λ_max(L1)/10⁻³
  down five decades). At λ = 0 the 160 rows are often separable: no finite minimizer, and
  the fit is what 30 Newton steps reach (``Path.converged`` says so; ``separable``);
* **5-fold CV** on all m over its own log grid (``rj.cross_validate``): the λ of least mean
  validation loss and the one-standard-error λ (the largest within one SE of it; ≥ the
  min by construction);
* **early stopping** (``solvers.early_stopping``) at λ = 0 on the 160 rows, Adam(0.01),
  batches of 20, validation loss on the 40 dev rows each epoch, patience 10; its model is
  used as it is (no refit), so it also pays for training on 160 rows, not 200. Its
  effective λ is the one whose L2 fit on those rows has the same ‖w‖;
* **hypergradient** tuning of the dev loss from λ = 1 (``rj.hypergrad.tune`` of
  ``rj.hypergrad.holdout``): quasi-Newton steps on log λ with dV/dλ by implicit
  differentiation, each a warm-started fit and one Hessian solve, until its stopping rule
  (|dV/d log λ| ≤ 10⁻⁴·V); its fits are counted per repetition (mean in the table).

Cost is counted in fits (trainings to convergence); the grids' λ are fitted together, one
``jit(vmap)`` over repetitions and λ, but a network that takes a week would fit them one
at a time. Excess test loss = E[ℓ] at the method's model − the oracle's, in nats, mean ±
SE over the repetitions (the methods are compared paired, on the same problems).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from regjax import costs, figures, hypergrad, losses, models, paths, selection, solvers
from regjax.experiments import Study, Table, _common

__all__ = ["QUESTION", "run"]

QUESTION = "How do I choose λ when a network takes a week to train?"

N, M, M_TRAIN, SIGNAL = 50, 200, 160, (1.5, 6.0)  # features, examples, rows fitted, S range
COURSE = np.array([0.0, 0.01, 0.1, 1.0, 10.0, 100.0])
ANSWER = np.round(np.arange(1, 41) * 0.01, 2)
LOG_NUM, LOG_RATIO, FOLDS = 25, 1e-5, 5
FINE = np.logspace(-1, 3, 41)  # the oracle's grid
ES_BATCH, ES_PATIENCE, ES_EPOCHS, ES_LR = 20, 10, 300, 0.01  # early stopping
HYPER_START = 1.0  # where the hypergradient tuner starts
METHODS = ("course grid", "answer grid", "log grid", "CV min", "CV 1-SE", "early stopping",
           "hypergradient")  # fmt: skip
NEWTON_STEPS = 30  # per fit (λ > 0 converge in fewer); CG needs ≤ n + 1 steps exactly


def _population(rng: np.random.Generator, reps: int) -> tuple[np.ndarray, ...]:
    """Per repetition: a truth w ~ N(0, S²/n), S log-uniform; m examples x ~ N(0, I)."""
    signal = np.exp(rng.uniform(np.log(SIGNAL[0]), np.log(SIGNAL[1]), size=reps))
    W = rng.normal(size=(reps, N)) * (signal / np.sqrt(N))[:, None]
    X = rng.normal(size=(reps, M, N))
    p = 1 / (1 + np.exp(-np.einsum("rmn,rn->rm", X, W)))
    return signal, W, X, (rng.uniform(size=p.shape) < p).astype(np.float64)


def _bce(params: Any, X: jax.Array, y: jax.Array) -> jax.Array:
    return losses.binary_cross_entropy(models.linear(params, X), y)


def _path_fit(lams: jax.Array, X: jax.Array, y: jax.Array) -> paths.Path:
    return paths.logistic(X, y, lams, max_iter=NEWTON_STEPS, max_cg=N + 10)


@jax.jit
@jax.vmap
def _grid_scores(X: Any, y: Any, Xd: Any, yd: Any, w: Any, lams: Any) -> tuple[jax.Array, ...]:
    """Fit every λ of ``lams`` on (X, y): dev loss, exact test loss, ‖w‖, converged."""
    path = paths.logistic(X, y, lams, max_iter=NEWTON_STEPS, max_cg=N + 10)
    dev = jax.vmap(_bce, (0, None, None))(path.params, Xd, yd)
    dev = jnp.where(jnp.isfinite(dev), dev, jnp.inf)  # a diverged fit never wins
    test = jax.vmap(_common.logistic_test_loss, (None, 0))(w, path.params)
    return dev, test, jnp.linalg.norm(path.params["w"], axis=-1), path.converged


def _cross_validate(X: np.ndarray, y: np.ndarray, grids: np.ndarray, key: jax.Array) -> Any:
    """5-fold CV of each repetition's log grid: (min λ, one-SE λ), each (R,)."""
    keys = jax.random.split(key, len(X))
    cvs = [selection.cross_validate(_path_fit, _bce, X[r], y[r], grids[r], folds=FOLDS,
                                    key=keys[r], batched=True) for r in range(len(X))]  # fmt: skip
    return np.array([cv.best_lam for cv in cvs]), np.array([cv.lam_1se for cv in cvs])


@jax.jit
@jax.vmap
def _early_stop(X: Any, y: Any, Xd: Any, yd: Any, w: Any, key: Any) -> tuple[jax.Array, ...]:
    """Early stopping at λ = 0: its model's exact test loss, ‖w‖, epochs, best epoch."""
    p0 = {"w": jnp.zeros(X.shape[1]), "b": jnp.zeros(())}
    params, info = solvers.early_stopping(
        costs.logistic_regression, p0, X, y, lam=0.0, val_cost=_bce,
        val_args=(Xd, yd), optimizer=optax.adam(ES_LR), batch_size=ES_BATCH, key=key,
        patience=ES_PATIENCE, max_epochs=ES_EPOCHS, return_info=True,
    )  # fmt: skip
    norm = jnp.linalg.norm(params["w"])
    return _common.logistic_test_loss(w, params), norm, info.evals, info.best_eval, info.stopped


@jax.jit
def _warm_fit(start: Any, lam: Any, X: Any, y: Any) -> Any:
    """The L2 fit at λ from ``start`` (the Newton path engine, warm-started)."""
    init = jax.tree.map(lambda a: a[None], start)
    path = paths.logistic(X, y, jnp.reshape(lam, (1,)), tol=1e-10, init=init)
    return jax.tree.map(lambda a: a[0], path.params)


def _hypergradient(tr: tuple, dv: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rj.hypergrad.tune`` of each repetition's dev loss from λ = HYPER_START: the
    tuned λ (R,), its fits (R,), the dev loss at the start and at the end (R, 2)."""
    p0 = {"w": jnp.zeros(N), "b": jnp.zeros(())}
    lams, fits, dev = [], [], []
    for X, y, Xd, yd in zip(*tr, *dv):
        objective = hypergrad.holdout(costs.logistic_regression, p0, (X, y), _bce, (Xd, yd),
                                      fit=_warm_fit)  # fmt: skip
        tuned = hypergrad.tune(objective, HYPER_START)
        lams.append(float(tuned.lam))
        fits.append(tuned.fits)
        dev.append((tuned.history[0].value, tuned.value))
    return np.array(lams), np.array(fits), np.array(dev)


def _log_grids(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each repetition's ``rj.lambda_grid`` (L2, descending), (R, LOG_NUM)."""
    return np.stack([np.asarray(selection.lambda_grid(X[r], y[r], num=LOG_NUM,
                     min_ratio=LOG_RATIO)) for r in range(len(X))])  # fmt: skip


def _split(values: np.ndarray, grids: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns of ``values`` (R, ΣG) that belong to each grid, by name."""
    ends = np.cumsum([g.shape[1] for g in grids.values()])
    return dict(zip(grids, np.split(values, ends[:-1], axis=1), strict=True))


def _dev_grids(tr: tuple, dv: tuple, W: np.ndarray) -> dict[str, Any]:
    """Fit the three dev grids on the training rows: each grid's pick (index) by dev loss,
    ‖w‖ along the log grid, the best L2 test loss on these rows, separable at λ = 0."""
    reps = len(W)
    grids = {"course grid": np.broadcast_to(COURSE, (reps, len(COURSE))),
             "answer grid": np.broadcast_to(ANSWER, (reps, len(ANSWER))),
             "log grid": _log_grids(*tr)}  # fmt: skip
    dev, test, norm, ok = (np.asarray(a) for a in _grid_scores(*tr, *dv, W, _stack(grids)))
    index = {k: v.argmin(1) for k, v in _split(dev, grids).items()}
    return {"grids": grids, "index": index, "log_norm": _split(norm, grids)["log grid"],
            "best_on_train_rows": test.min(1), "separable": ~ok[:, 0],
            "unconverged": int((~ok[:, 1:]).sum())}  # fmt: skip


def _stack(grids: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(g, dtype=np.float64) for g in grids.values()], 1)


def _effective_lam(norm: np.ndarray, lams: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """The λ whose L2 fit has the norm ``norm``: log-linear interpolation along a
    descending grid ``lams``, on which the norms ``norms`` rise (clamped to its ends)."""
    norm = np.maximum(norm, 1e-300)  # w = 0 (stopped at epoch 0): the grid's largest λ
    return np.array([np.exp(np.interp(np.log(v), np.log(ns), np.log(ls)))
                     for v, ns, ls in zip(norm, norms, lams)])  # fmt: skip


def _measure(rng: np.random.Generator, jkey: jax.Array, reps: int, say: Callable) -> dict:
    """Every method on ``reps`` problems; their λ, exact test losses and cost in fits."""
    signal, W, X, y = _population(rng, reps)
    tr, dv = (X[:, :M_TRAIN], y[:, :M_TRAIN]), (X[:, M_TRAIN:], y[:, M_TRAIN:])
    say(f"dev-set grids: {reps} repetitions × {len(COURSE) + len(ANSWER) + LOG_NUM} λ")
    dev = _dev_grids(tr, dv, W)
    say(f"{FOLDS}-fold cross-validation: {reps} repetitions × {LOG_NUM} λ")
    cv_key, es_key = jax.random.split(jkey)
    cv_min, cv_1se = _cross_validate(X, y, _log_grids(X, y), cv_key)
    say(f"early stopping: {reps} repetitions")
    es = [np.asarray(a) for a in _early_stop(*tr, *dv, W, jax.random.split(es_key, reps))]
    say(f"hypergradient tuning: {reps} repetitions")
    hyper_lams, hyper_fits, hyper_dev = _hypergradient(tr, dv)
    other = {"CV min": cv_min, "CV 1-SE": cv_1se, "hypergradient": hyper_lams}
    evaluated = {"fine": np.broadcast_to(FINE, (reps, len(FINE))), **dev["grids"],
                 "other": np.stack(list(other.values()), 1)}  # fmt: skip
    say(f"test loss: {reps} repetitions × {_stack(evaluated).shape[1]} λ on all {M} examples")
    _, test_all, _, ok_all = (np.asarray(a) for a in _grid_scores(X, y, X, y, W, _stack(evaluated)))
    test, ok = _split(test_all, evaluated), _split(ok_all, evaluated)
    ok["course grid"] = ok["course grid"][:, 1:]  # λ = 0: no minimizer if separable
    unconverged = dev["unconverged"] + sum(int((~v).sum()) for v in ok.values())
    best = np.min(np.concatenate(list(test.values()), 1), 1)  # the oracle's test loss
    rows = np.arange(reps)
    picks = {k: dev["grids"][k][rows, i] for k, i in dev["index"].items()} | other
    excess = {k: test[k][rows, i] - best for k, i in dev["index"].items()}
    excess |= {k: test["other"][:, i] - best for i, k in enumerate(other)}
    picks["early stopping"] = _effective_lam(es[1], dev["grids"]["log grid"], dev["log_norm"])
    excess["early stopping"] = es[0] - best
    fits = {k: g.shape[1] + 1 for k, g in dev["grids"].items()}
    fits |= {"CV min": FOLDS * LOG_NUM + 1, "CV 1-SE": FOLDS * LOG_NUM + 1}
    fits |= {"early stopping": 1, "hypergradient": round(float(np.mean(hyper_fits)) + 1, 1)}
    lam_star = _common.log_argmin(FINE, test["fine"])[0]
    return {"signal": signal, "lam_star": lam_star, "fine": test["fine"],
            "best": best, "picks": {k: picks[k] for k in METHODS},
            "excess": {k: excess[k] for k in METHODS}, "fits": {k: fits[k] for k in METHODS},
            "resolution": {k: test[k].min(1) - best for k in dev["grids"]},
            "es_epochs": es[2], "es_best_epoch": es[3], "es_stopped": es[4],
            "es_vs_same_rows": es[0] - dev["best_on_train_rows"], "separable": dev["separable"],
            "unconverged": unconverged,
            "hyper_lams": hyper_lams, "hyper_fits": hyper_fits, "hyper_dev": hyper_dev,
            "reps": reps}  # fmt: skip


def run(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: Any = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Run every method on a population of problems; write the figures into ``out``.

    Args:
      quick: a CI-sized run (16 repetitions instead of 128).
      out: a directory for ``choosing_lambda.png`` (test loss against λ with each
        method's pick) and ``choosing_lambda_cost.png`` (excess test loss against cost in
        fits) (created); ``None`` for no figure.
      key: the seed (an int or a ``jax.random`` key) of the problems and the shuffles.
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`regjax.experiments.Study` whose data holds, per repetition, ``signal``,
      the oracle ``lam_star``, the test-loss curve ``fine`` on ``FINE`` and its least value
      ``best``; per method (``METHODS``) its λ in ``picks`` (early stopping: the L2 λ of
      the same ‖w‖), its ``excess`` test loss (R,) and its cost ``fits``; per dev grid the
      excess of its best point, ``resolution``, and ``between_decades`` (λ* at least a
      quarter decade from a course point); ``separable`` (λ = 0 has no minimizer on the
      160 rows), ``unconverged`` (fits at λ > 0 that missed their tolerance); early stopping's
      ``es_epochs``, ``es_best_epoch``, ``es_stopped`` and ``es_vs_same_rows`` (excess
      over the best L2 fit on the same 160 rows); the hypergradient's λ ``hyper_lams``,
      fits ``hyper_fits`` (R,) and dev loss at its start and end ``hyper_dev`` (R, 2);
      ``summary`` (mean
      excess, its SE, median λ and λ/λ* per method) and the ``table``.
    """
    say = _common.reporter(progress)
    jkey, rng = _common.seeds(key)
    with _common.float64():
        result = _measure(rng, jkey, 16 if quick else 128, say)
    result["summary"] = _summary(result)
    log_star = np.log10(result["lam_star"])
    result["between_decades"] = np.abs(log_star - np.round(log_star)) > 0.25
    written: tuple[Path, ...] = ()
    if out is not None:
        written = (_common.save(_figure_curves(result), out, "choosing_lambda.png"),
                   _common.save(_figure_cost(result), out, "choosing_lambda_cost.png"))  # fmt: skip
    result["table"] = _table(result)
    return Study("choosing_lambda", QUESTION, _answer(result), result, written)


def _summary(d: dict) -> dict[str, dict[str, float]]:
    out = {}
    for k in METHODS:
        e = d["excess"][k]
        out[k] = {"excess": float(e.mean()), "se": float(e.std(ddof=1) / np.sqrt(len(e))),
                  "lam": float(np.median(d["picks"][k])),
                  "ratio": float(np.median(d["picks"][k] / d["lam_star"]))}  # fmt: skip
    return out


def _pm(k: str, s: dict) -> str:
    return f"{s[k]['excess']:.4f} ± {s[k]['se']:.4f}"


def _answer(d: dict) -> str:
    s, res, fits = d["summary"], d["resolution"], d["fits"]
    far = d["between_decades"]
    course_far = res["course grid"][far].mean() if far.any() else float("nan")
    closest = min(METHODS, key=lambda k: s[k]["excess"])
    cv = (f"5-fold CV's min rule {'landed closest, ' if closest == 'CV min' else 'gave '}"
          f"{_pm('CV min', s)} nats of excess test loss (median λ/λ* "
          f"{s['CV min']['ratio']:.2f}) for {fits['CV min']} fits")  # fmt: skip
    if closest != "CV min":
        cv = f"{closest} landed closest ({_pm(closest, s)} nats, {fits[closest]} fits); " + cv
    return (
        f"Over {d['reps']} logistic regressions (n = {N}, m = {M}; test-optimal λ* median "
        f"{np.median(d['lam_star']):.3g} in the λ/(2m) convention) {cv}, while its "
        f"one-standard-error rule, the folklore's safer choice, over-regularized (λ/λ* "
        f"{s['CV 1-SE']['ratio']:.2f}, {_pm('CV 1-SE', s)}). On one {M - M_TRAIN}-example "
        f"dev set the course's {{0, 0.01, …, 100}} gave {_pm('course grid', s)} in "
        f"{fits['course grid']} fits, a {LOG_NUM}-point log grid from λ_max "
        f"{_pm('log grid', s)} in {fits['log grid']} and hypergradient tuning of log λ "
        f"{_pm('hypergradient', s)} in {fits['hypergradient']} (mean): the log grid's best "
        f"point is only {res['log grid'].mean():.4f} from λ*, so the dev set's noise sets its "
        f"error, while the course grid's decade spacing alone costs "
        f"{res['course grid'].mean():.4f} ({course_far:.4f} when λ* falls between decades), "
        f"and the answer's 0.01–0.4 grid lies below λ* in "
        f"{np.mean(d['lam_star'] > ANSWER[-1]):.0%} of problems ({_pm('answer grid', s)}). "
        f"Early stopping at λ = 0 takes one run ({np.mean(d['es_epochs']):.0f} epochs) but "
        f"lands {_pm('early stopping', s)} above the oracle, "
        f"{np.mean(d['es_vs_same_rows']):.4f} above the best L2 fit on the same {M_TRAIN} rows."
    )


def _table(d: dict) -> Table:
    s, res = d["summary"], d["resolution"]
    rows = [("oracle λ* (exact test loss)", f"{len(FINE)}", f"{np.median(d['lam_star']):.3g}",
             "1", "0", "")]  # fmt: skip
    for k in METHODS:
        own = f"{res[k].mean():.4f}" if k in res else ""
        rows.append((k, str(d["fits"][k]), f"{s[k]['lam']:.3g}", f"{s[k]['ratio']:.2f}",
                     _pm(k, s), own))  # fmt: skip
    headers = ("method", "fits", "median λ", "median λ/λ*", "excess test loss ± SE (nats)",
               "grid's best point: excess")  # fmt: skip
    return Table(headers, tuple(rows))


def _figure_curves(d: dict) -> Any:
    """Test loss against λ in one repetition, with every method's pick; and the excess
    test loss against λ/λ* in every repetition."""
    plt = figures.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 4.8))
    colors = dict(zip(METHODS, plt.get_cmap("tab10").colors, strict=False))
    left.plot(FINE, d["fine"][0], color="k", lw=1.5, label="exact test loss, fit on all m")
    left.axvspan(ANSWER[0], ANSWER[-1], color="tab:orange", alpha=0.12, label="answer's 0.01–0.4")
    for lam in COURSE[1:]:
        left.axvline(lam, color="tab:blue", ls=":", lw=0.8)
    left.plot(d["lam_star"][0], d["best"][0], "k*", ms=14, label="oracle λ*")
    for k in METHODS:
        left.plot(d["picks"][k][0], d["best"][0] + d["excess"][k][0], "o", ms=8, mfc="none",
                  mew=2, color=colors[k], label=k)  # fmt: skip
    left.set(xscale="log", ylabel="expected cross-entropy (nats)",
             xlabel="λ (mean loss + λ/(2m)‖w‖²; course grid dotted, its 0 off-axis)",
             title="one problem: each method's pick")  # fmt: skip
    left.legend(fontsize=7.5, loc="lower left")
    ratio = FINE[None] / d["lam_star"][:, None]
    for r in range(d["reps"]):
        right.plot(ratio[r], d["fine"][r] - d["best"][r], color="0.75", lw=0.6, zorder=1)
    for k in METHODS:
        right.scatter(d["picks"][k] / d["lam_star"], d["excess"][k], s=12, alpha=0.7,
                      color=colors[k], label=k, zorder=2)  # fmt: skip
    right.axvline(1.0, color="k", lw=0.8)
    right.set(xscale="log", xlabel="λ / λ* (early stopping: λ of equal ‖w‖)",
              ylabel="excess test loss (nats)",
              title=f"all {d['reps']} problems (grey: each one's test curve)")  # fmt: skip
    right.set_yscale("symlog", linthresh=1e-3)
    right.set_ylim(-3e-3, None)
    right.legend(fontsize=7.5, loc="lower left", ncols=2)
    fig.tight_layout()
    return fig


def _figure_cost(d: dict) -> Any:
    """Mean excess test loss (± SE) against the number of fits each method needs."""
    plt = figures.pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    colors = dict(zip(METHODS, plt.get_cmap("tab10").colors, strict=False))
    for k in METHODS:
        fits, e = d["fits"][k], d["summary"][k]
        ax.errorbar(fits, e["excess"], yerr=e["se"], fmt="o", ms=8, capsize=4, color=colors[k],
                    label=f"{k}: {fits} fits")  # fmt: skip
        ax.plot(fits, np.median(d["excess"][k]), "x", color=colors[k], ms=8)
    ax.set(xscale="log", yscale="log", ylabel="excess test loss over the oracle (nats)",
           xlabel="cost: fits to convergence (early stopping: one run)",
           title=f"accuracy against cost, {d['reps']} problems: ● mean ± SE, × median")  # fmt: skip
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig
