r"""Minibatches: is the L2 penalty divided by the training-set size m or by the batch size b?

The library's cost on m examples is :math:`J_\lambda(\theta) = \frac1m\sum_i\ell_i(\theta) +
\frac{\lambda}{2m}\lVert w\rVert^2` (θ = (w, b₀), the intercept unpenalized). A step of
minibatch SGD follows the gradient of a batch objective J_B on a batch B of b examples.
Three ways to put the penalty into it, each written with the library's public functions:

- **(A) full-data scale** (``rj.solvers.minibatch_cost``, the library's form):
  :math:`J^A_B = \frac1b\sum_{i\in B}\ell_i + \frac{\lambda}{2m}\lVert w\rVert^2`;
  Bengio (2012, arXiv:1206.5533) writes the same with a summed batch loss,
  :math:`\sum_{i\in B}\ell_i + \frac bm\frac\lambda2\lVert w\rVert^2 = b\,J^A_B`.
- **(B) batch scale**, "divide by the batch size": the library's cost evaluated on the
  batch, ``costs.logistic_regression(params, X_B, y_B, λ)``,
  :math:`J^B_B = \frac1b\sum_{i\in B}\ell_i + \frac{\lambda}{2b}\lVert w\rVert^2`.
- **(C) not scaled**: the penalty added in full to every batch's mean loss,
  :math:`J^C_B = \frac1b\sum_{i\in B}\ell_i + \frac\lambda2\lVert w\rVert^2`, which is what a
  per-batch regularizer does (Keras' ``kernel_regularizer``, PyTorch's ``weight_decay``)
  when it is given the λ of a summed-loss formula (Bishop's MAP form). This is the
  "forgot to scale" variant that is a *different* objective: forgetting Bengio's b/m on a
  summed loss, :math:`\sum_{i\in B}\ell_i + \frac\lambda2\lVert w\rVert^2 = b\,J^B_B`, is
  (B) again, b times the learning rate (the study measures both identities).

Each is a mean batch loss plus :math:`\frac c2\lVert w\rVert^2` with c = λ/m, λ/b, λ. A
uniformly random batch holds each example with probability b/m, so
:math:`\mathbb E_B\nabla J_B = \nabla J_{\lambda_\mathrm{eff}}` with λ_eff = m·c:
**λ (A), λm/b (B), λm (C)**; only (A) is unbiased, (B) becomes (A) at b = m and (C) at b = 1.

**1. Exact expectation.** The batch gradient is linear in the batch's membership, so the
mean over the m/b disjoint batches of one permutation (every example once) *is* the
expectation over uniformly random b-subsets; on the first 8 examples all C(8, b) subsets
are also enumerated. At a random θ₀ the study measures ‖E∇J_B − ∇J_λ‖ (theory
|c − λ/m|·‖w₀‖; ∇J_λ from ``closed_form``), ‖E∇J_B − ∇J_{λ_eff}‖ (0), and reads
λ_eff off the gradient: :math:`\hat\lambda_\mathrm{eff} = m\langle\mathbb E\nabla_wJ_B -
\nabla_w\bar\ell, w_0\rangle/\lVert w_0\rVert^2`.

**2. Trained.** Logistic regression, n = 10, x ~ N(0, I), w ~ N(0, 4/n), intercept 0.3,
m = 256 (quick) or 1024, λ = m/32. For every b = 1, 2, 4, …, m, SGD with random
reshuffling runs max(E, ⌈T·b/m⌉) epochs (at least T steps) with the steps
η_w = 1/(L_b + c) on w and η₀ = 1/L_b on the unpenalized intercept, where
:math:`L_b = \frac14(\lambda_{\max}(\tilde X^\top\tilde X/m) + \max_i\lVert\tilde x_i
\rVert^2/b)` bounds the data term's curvature (x̃ = (x, 1); a small batch can curve more),
held for half the steps, then linearly to 0. The three forms share each repetition's
batches; forms × repetitions (new shuffles, the same data) are one ``jit(vmap)`` per b.
The target θ*_λ is the full-batch minimizer (``paths.logistic``, Newton, tol 1e-10), the
prediction θ*(λ_eff) the same at the effective λ. Per (form, b): the offset
‖θ̄ − θ*_λ‖/‖θ*_λ‖ of the mean θ̄ over the R repetitions, one run's scatter
SD = √(tr Cov)/‖θ*_λ‖ and SE = SD/√R. An unbiased expected gradient does not make SGD's
end point unbiased on a curved loss: E∇J(θ) ≠ ∇J(Eθ) leaves an offset of the order of the
late step sizes (Dieuleveut, Durmus & Bach 2020), which the study measures rather than hides.

References:
  Y. Bengio, "Practical recommendations for gradient-based training of deep
  architectures", arXiv:1206.5533 (2012).
  A. Dieuleveut, A. Durmus, F. Bach, "Bridging the gap between constant step size
  stochastic gradient descent and Markov chains", Ann. Statist. 48 (2020), arXiv:1707.06386.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from regjax import closed_form, costs, figures, losses, models, paths, penalties, solvers
from regjax.experiments import Study, Table, _common

__all__ = ["QUESTION", "run"]

QUESTION = (
    "When I train on minibatches, do I divide the L2 penalty by the training-set size "
    "or by the batch size?"
)

N_FEATURES, SIGNAL, INTERCEPT = 10, 2.0, 0.3
LAM_PER_M = 1 / 32  # λ = m/32: the coefficient (A) puts on ½‖w‖² is c = λ/m = 1/32
M_SMALL = 8  # the problem whose b-subsets are all enumerated
FORMS = ("A", "B", "C")
LABELS = {"A": "(A) λ/(2m): full-data scale", "B": "(B) λ/(2b): batch scale"}
LABELS["C"] = "(C) λ/2: not scaled"


def _problem(rng: np.random.Generator, m: int) -> tuple[jax.Array, jax.Array]:
    X = rng.normal(size=(m, N_FEATURES))
    w = rng.normal(size=N_FEATURES) * SIGNAL / np.sqrt(N_FEATURES)
    y = (rng.uniform(size=m) < 1 / (1 + np.exp(-(X @ w + INTERCEPT)))).astype(np.float64)
    return jnp.asarray(X), jnp.asarray(y)


def _flat(params: Any) -> jax.Array:
    """θ = (w, b₀) as one vector."""
    return jnp.concatenate([params["w"], params["b"][None]])


def _coefficients(lam: float, m: int, b: int) -> np.ndarray:
    """c of mean batch loss + c/2‖w‖² for (A), (B), (C)."""
    return np.array([lam / m, lam / b, lam])


def _mean_loss(p: Any, Xb: jax.Array, yb: jax.Array) -> jax.Array:
    return losses.binary_cross_entropy(models.linear(p, Xb), yb)


def _c_form(p: Any, Xb: jax.Array, yb: jax.Array, c: Any) -> jax.Array:
    """Mean batch loss + c/2‖w‖²: every form is this, with c from :func:`_coefficients`."""
    return _mean_loss(p, Xb, yb) + penalties.l2(p, c, scale="sum")


def _objectives(lam: Any, m: Any) -> dict[str, Callable]:
    """The batch objectives as written: (A), (B), (C) and Bengio's two summed forms."""

    def summed(p: Any, Xb: jax.Array, yb: jax.Array) -> jax.Array:
        return jnp.sum(losses.logistic_terms(models.linear(p, Xb), yb))

    return {
        "A": lambda p, Xb, yb: solvers.minibatch_cost(
            costs.logistic_regression, p, Xb, yb, lam=lam, m=m
        ),
        "B": lambda p, Xb, yb: costs.logistic_regression(p, Xb, yb, lam),
        "C": lambda p, Xb, yb: _mean_loss(p, Xb, yb) + penalties.l2(p, lam, scale="sum"),
        "A_sum": lambda p, Xb, yb: (
            summed(p, Xb, yb) + penalties.l2(p, lam * Xb.shape[0] / m, scale="sum")
        ),
        "C_sum": lambda p, Xb, yb: summed(p, Xb, yb) + penalties.l2(p, lam, scale="sum"),
    }


@jax.jit
def _batch_grads(Xs: jax.Array, ys: jax.Array, ms: jax.Array, theta: Any, lam: Any) -> dict:
    """Each written objective's gradient on every batch (leading axis of ``Xs``; batch k is
    drawn from a training set of ``ms[k]`` examples), and per batch the largest gap between
    (A), (B), (C) as written and their c-forms."""
    b = Xs.shape[1]

    def one(Xb: jax.Array, yb: jax.Array, m: jax.Array) -> dict:
        g = {k: _flat(jax.grad(f)(theta, Xb, yb)) for k, f in _objectives(lam, m).items()}
        gaps = [
            jnp.max(jnp.abs(_flat(jax.grad(_c_form)(theta, Xb, yb, c)) - g[k]))
            for k, c in zip(FORMS, (lam / m, lam / b, lam), strict=True)
        ]
        return {**g, "c_gap": jnp.max(jnp.stack(gaps))}

    return jax.vmap(one)(Xs, ys, ms)


def _subsets_check(g: dict, subsets: np.ndarray, b: int, full: np.ndarray) -> tuple[float, float]:
    """The small problem at batch size b: |mean over all subsets − mean over the partition
    into consecutive blocks| (largest over the forms), and |(A)'s subset mean − ∇J_λ|."""
    blocks = [i for i, s in enumerate(subsets) if s[0] % b == 0 and np.all(np.diff(s) == 1)]
    gap = max(float(np.abs(g[k].mean(0) - g[k][blocks].mean(0)).max()) for k in FORMS)
    return gap, float(np.abs(g["A"].mean(0) - full).max())


def _exact(X: jax.Array, y: jax.Array, lam: float, theta: Any, bs: np.ndarray, perm: Any) -> dict:
    """Part 1: each form's expected batch gradient per b, the mean over one partition; on
    the first M_SMALL examples also over all b-subsets (same call, so one compile per b)."""
    m, n = X.shape
    grad = closed_form.logistic_regression_grad
    full = {
        lv: np.asarray(_flat(grad(theta, X, y, lv))) for lv in {lam, 0.0, lam * m, *(lam * m / bs)}
    }
    small = np.asarray(_flat(grad(theta, X[:M_SMALL], y[:M_SMALL], lam)))
    mean: dict[str, list] = {name: [] for name in _objectives(lam, m)}
    out: dict[str, Any] = {"c_gap": 0.0, "subsets_vs_partition": 0.0, "subsets_A_vs_full": 0.0}
    for b in (int(b) for b in bs):
        subsets = np.array(list(itertools.combinations(range(M_SMALL), b)) if b <= M_SMALL else [])
        rows = np.concatenate([perm, subsets.ravel()]).astype(int)
        ms = jnp.asarray(np.repeat([m, M_SMALL], [m // b, len(subsets)]), dtype=X.dtype)
        g = _batch_grads(X[rows].reshape(-1, b, n), y[rows].reshape(-1, b), ms, theta, lam)
        g = {k: np.asarray(v) for k, v in g.items()}
        out["c_gap"] = max(out["c_gap"], float(g.pop("c_gap").max()))
        for k, v in g.items():
            mean[k].append(v[: m // b].mean(0))
        if len(subsets):
            gaps = _subsets_check({k: v[m // b :] for k, v in g.items()}, subsets, b, small)
            out["subsets_vs_partition"] = max(out["subsets_vs_partition"], gaps[0])
            out["subsets_A_vs_full"] = max(out["subsets_A_vs_full"], gaps[1])
    E = {name: np.stack(v) for name, v in mean.items()}
    w0 = np.asarray(theta["w"])
    theory = {"A": lam + 0 * bs, "B": lam * m / bs, "C": lam * m + 0 * bs}
    out["theory_lam_eff"] = theory
    out["bias"] = {k: np.linalg.norm(E[k] - full[lam], axis=1) for k in FORMS}
    out["bias_theory"] = {k: np.abs(theory[k] - lam) / m * np.linalg.norm(w0) for k in FORMS}
    out["vs_eff"] = {
        k: np.array([np.linalg.norm(e - full[le]) for e, le in zip(E[k], theory[k], strict=True)])
        for k in FORMS
    }
    out["lam_eff"] = {k: m * ((E[k] - full[0.0])[:, :n] @ w0) / (w0 @ w0) for k in FORMS}
    out["A_sum"] = float(np.abs(E["A_sum"] / bs[:, None] - full[lam]).max())
    out["C_sum"] = float(np.abs(E["C_sum"] / bs[:, None] - E["B"]).max())
    return out


def _train(
    X: jax.Array, y: jax.Array, c: Any, eta_w: Any, eta_0: Any, orders: jax.Array
) -> jax.Array:
    """SGD on mean batch loss + c/2‖w‖² along ``orders`` (epochs, m/b, b), steps η_w on w
    and η_0 on the intercept, held for half the steps, then linearly to 0. Returns θ."""
    epochs, per, _ = orders.shape
    total = epochs * per
    grad = jax.grad(_c_form)

    def step(carry: tuple, idx: jax.Array) -> tuple:
        p, t = carry
        decay = jnp.minimum(1.0, 2.0 * (1.0 - t / total))
        g = grad(p, X[idx], y[idx], c)
        p = {"w": p["w"] - decay * eta_w * g["w"], "b": p["b"] - decay * eta_0 * g["b"]}
        return (p, t + 1.0), None

    def epoch(carry: tuple, order: jax.Array) -> tuple:
        return jax.lax.scan(step, carry, order)[0], None

    p0 = {"w": jnp.zeros(X.shape[1]), "b": jnp.zeros(())}
    (p, _), _ = jax.lax.scan(epoch, (p0, jnp.zeros(())), orders)
    return _flat(p)


def _trained(
    X: jax.Array, y: jax.Array, lam: float, bs: np.ndarray, rng: np.random.Generator,
    sizes: tuple[int, int, int], say: Callable[[str], None],
) -> np.ndarray:  # fmt: skip
    """Part 2: θ (len(bs), reps, form, n + 1) after SGD at every b, forms and reps vmapped."""
    reps, epochs, min_steps = sizes
    m = X.shape[0]
    X1 = np.c_[np.asarray(X), np.ones(m)]  # the data term's curvature includes the intercept
    curv, single = 0.25 * np.linalg.eigvalsh(X1.T @ X1 / m).max(), 0.25 * (X1**2).sum(1).max()
    lanes = jax.vmap(jax.vmap(partial(_train, X, y), (0, 0, None, None)), (None, None, None, 0))
    fit = jax.jit(lanes)
    out = []
    for b in (int(b) for b in bs):
        ep = max(epochs, -(-min_steps * b // m))
        say(f"SGD at b = {b}: {ep} epochs of {m // b} steps, 3 forms × {reps} repetitions")
        cs, L = _coefficients(lam, m, b), curv + single / b
        orders = rng.permuted(np.broadcast_to(np.arange(m, dtype=np.int32), (reps, ep, m)), axis=-1)
        args = (jnp.asarray(cs), jnp.asarray(1.0 / (L + cs)), jnp.asarray(1.0 / L))
        out.append(np.asarray(fit(*args, jnp.asarray(orders.reshape(reps, ep, m // b, b)))))
    return np.stack(out)


def _summary(theta: np.ndarray, star: np.ndarray, eff: dict[str, np.ndarray]) -> dict:
    """Offsets of the mean, one run's scatter, SE and per-run distances, per form and b."""
    scale, reps = np.linalg.norm(star), theta.shape[1]
    out: dict[str, Any] = {}
    for k, name in enumerate(FORMS):
        th = theta[:, :, k]  # (b, rep, n + 1)
        mean = th.mean(1)
        sd = np.sqrt(th.var(1, ddof=1).sum(-1)) / scale
        out[name] = {
            "offset": np.linalg.norm(mean - star, axis=-1) / scale,
            "offset_eff": np.linalg.norm(mean - eff[name], axis=-1) / scale,
            "runs": np.linalg.norm(th - star[None, None], axis=-1) / scale,
            "sd": sd,
            "se": sd / np.sqrt(reps),
            "predicted": np.linalg.norm(eff[name] - star, axis=-1) / scale,
        }
        out[name]["z"] = out[name]["offset"] / np.maximum(out[name]["se"], 1e-300)
    return out


def run(
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: Any = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Run both parts; write ``batch_size.png`` into the directory ``out``.

    Args:
      quick: a CI-sized run (m = 256, b = 1…256, 16 repetitions, ≥ 100 epochs and ≥ 400
        steps per b); the full run has m = 1024, 64 repetitions, ≥ 200 epochs and ≥ 400 steps.
      out: a directory for ``batch_size.png`` (created); ``None`` for no figure.
      key: the seed (an int or a ``jax.random`` key) of the data, θ₀ and the shuffles.
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`regjax.experiments.Study`; its data holds ``m``, ``lam``, ``bs``, part 1's
      ``exact`` (per form: ``bias``, ``bias_theory``, ``vs_eff``, ``lam_eff`` and
      ``theory_lam_eff`` per b; ``A_sum``, ``C_sum``, ``c_gap``, the enumerated
      ``subsets_vs_partition`` and ``subsets_A_vs_full``) and part 2's ``trained`` (per
      form: ``offset``, ``offset_eff``, ``sd``, ``se``, ``z``, ``predicted`` per b,
      ``runs`` per b and repetition), and ``sizes`` (reps, epochs, min steps).
    """
    say = _common.reporter(progress)
    _, rng = _common.seeds(key)
    m, sizes = (256, (16, 100, 400)) if quick else (1024, (64, 200, 400))
    lam, bs = LAM_PER_M * m, 2 ** np.arange(int(np.log2(m)) + 1)
    with _common.float64():
        X, y = _problem(rng, m)
        theta = {"w": jnp.asarray(rng.normal(size=N_FEATURES)), "b": jnp.asarray(rng.normal())}
        say(f"exact expectations: {len(bs)} batch sizes, all subsets of {M_SMALL} examples")
        exact = _exact(X, y, lam, theta, bs, rng.permutation(m))
        say("full-batch minimizers at λ and at every effective λ (Newton)")
        grid = np.unique(np.concatenate([[lam, lam * m], lam * m / bs]))
        path = paths.logistic(X, y, jnp.asarray(grid), tol=1e-10)
        at = dict(zip(grid.tolist(), np.asarray(jax.vmap(_flat)(path.params)), strict=True))
        eff = {k: np.stack([at[v] for v in exact["theory_lam_eff"][k]]) for k in FORMS}
        theta_b = _trained(X, y, lam, bs, rng, sizes, say)
        trained = _summary(theta_b, at[lam], eff)
    result = {"m": m, "lam": lam, "bs": bs, "exact": exact, "trained": trained, "sizes": sizes}
    result["converged"] = bool(np.asarray(path.converged).all())
    result["table"] = _table(result)
    written: tuple[Path, ...] = ()
    if out is not None:
        written = (_common.save(_figure(result), out, "batch_size.png"),)
    return Study("batch_size", QUESTION, _answer(result), result, written)


def _answer(r: dict) -> str:
    ex, tr, m, bs, lam = r["exact"], r["trained"], r["m"], r["bs"], r["lam"]
    a, b, c = tr["A"], tr["B"], tr["C"]
    half = len(bs) - 2  # b = m/2; the last, b = m, is deterministic full-batch GD
    exact_err = max(float(ex["vs_eff"][k].max()) for k in FORMS)
    eff = ex["lam_eff"]["B"] / lam
    return (
        f"Divide by m: a batch's mean loss + λ/(2m)‖w‖² (Bengio's b/m on a summed batch loss) "
        f"has the full gradient as its expectation (error {ex['bias']['A'].max():.0e}), and SGD "
        f"at every b from 1 to {m} ends within {a['offset'].max():.1e} (relative) of the "
        f"full-batch minimizer, {(a['offset'] / a['sd'])[:-1].max():.2f} of one run's scatter "
        f"at most (the mean over runs is {a['z'][:-1].max():.1f} SE away: SGD's own small bias "
        f"on a curved loss, not the penalty's). "
        f"Dividing by b optimizes λ·m/b instead (read off the expected gradient: ×{eff[0]:.0f} "
        f"at b = 1, ×{eff[half]:.2f} at b = {bs[half]}; every expectation within "
        f"{exact_err:.0e} of theory), so the trained weights move {b['offset'][half]:.3f} "
        f"(predicted {b['predicted'][half]:.3f}) at b = {bs[half]} up to {b['offset'][0]:.3f} at "
        f"b = 1, at least {b['z'][:-1].min():.0f} SE, and adding λ/2‖w‖² to every batch's mean "
        f"loss optimizes λ·m at any b ({c['offset'].min():.3f} away). Unlike the folklore's "
        f"three options, forgetting Bengio's b/m on a summed batch loss is no third mistake "
        f"but (B) times b (gap {ex['C_sum']:.0e})."
    )


def _table(r: dict) -> Table:
    ex, tr, m, bs, lam = r["exact"], r["trained"], r["m"], r["bs"], r["lam"]
    lines = [
        f"(A) max_b ‖E∇J_B − ∇J_λ‖ | {ex['bias']['A'].max():.0e} | 0",
        "(B), (C) max_b ‖E∇J_B − ∇J_λeff‖ | "
        f"{max(ex['vs_eff']['B'].max(), ex['vs_eff']['C'].max()):.0e} | 0",
        "λ_eff/λ read off E∇J_B at b = 1: A, B, C | "
        + ", ".join(f"{ex['lam_eff'][k][0] / lam:.4g}" for k in FORMS)
        + f" | 1, {m}, {m}",
        f"all C({M_SMALL}, b) subsets vs one partition | {ex['subsets_vs_partition']:.0e} | 0",
        f"Bengio Σℓ + (b/m)λ/2‖w‖², ÷ b, vs ∇J_λ | {ex['A_sum']:.0e} | 0",
        f"Σℓ + λ/2‖w‖², ÷ b, vs (B) | {ex['C_sum']:.0e} | 0",
    ]
    rows = sorted({*range(0, len(bs), 2), len(bs) - 2, len(bs) - 1})
    for i in rows:
        a = tr["A"]
        lines.append(
            f"trained b = {bs[i]}: ‖θ̄ − θ*‖/‖θ*‖ A (SD), B, C | {a['offset'][i]:.1e} "
            f"({a['sd'][i]:.0e}), {tr['B']['offset'][i]:.3f}, {tr['C']['offset'][i]:.3f} | "
            f"0, {tr['B']['predicted'][i]:.3f}, {tr['C']['predicted'][i]:.3f}"
        )
    rows_ = tuple(tuple(line.split(" | ")) for line in lines)
    return Table(("quantity", "measured", "theory"), rows_)


def _figure(r: dict) -> Any:
    plt = figures.pyplot()
    ex, tr, m, bs, lam = r["exact"], r["trained"], r["m"], r["bs"], r["lam"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    floor, low = 1e-18, 1e-5  # exact zeros (left), b = m's round-off (right) drawn at these
    for k, (name, mark) in enumerate(zip(FORMS, "os^", strict=True)):
        col, t = f"C{k}", tr[name]
        axes[0].loglog(bs, np.maximum(ex["bias"][name], floor), mark, color=col, label=LABELS[name])
        axes[0].loglog(bs, np.maximum(ex["bias_theory"][name], floor), "--", color=col, lw=1)
        axes[1].loglog(bs, ex["lam_eff"][name] / lam, mark, color=col, label=LABELS[name])
        axes[1].loglog(bs, ex["theory_lam_eff"][name] / lam, "--", color=col, lw=1)
        band = np.maximum(np.quantile(t["runs"], [0.1, 0.9], axis=1), low)
        axes[2].fill_between(bs, *band, color=col, alpha=0.2, lw=0)
        axes[2].loglog(bs, np.maximum(t["offset"], low), mark + "-", color=col, label=LABELS[name])
        if name != "A":
            style = "k--" if name == "B" else "k:"
            axes[2].loglog(bs, np.maximum(t["predicted"], low), style, lw=1.2)
    axes[0].plot([], [], "k--", lw=1, label="theory |c − λ/m|·‖w₀‖ (0 drawn at 1e-18)")
    axes[0].set(title="bias of the minibatch gradient (exact expectation)", xlabel="batch size b")
    axes[0].set(ylabel="‖E_B ∇J_B − ∇J_λ‖ at a random θ₀", ylim=(floor / 10, None))
    axes[1].plot([], [], "k--", lw=1, label="theory λ_eff/λ = 1, m/b, m")
    axes[1].set(title="the λ the minibatches optimize", xlabel="batch size b")
    axes[1].set(ylabel="λ_eff / λ  (read off E_B ∇J_B)")
    reps, epochs, steps = r["sizes"]
    axes[2].fill_between([], [], [], color="0.7", label=f"10–90% of {reps} runs (reshuffles)")
    axes[2].plot([], [], "k--", lw=1.2, label="prediction ‖θ*(λm/b) − θ*(λ)‖ (B)")
    axes[2].plot([], [], "k:", lw=1.2, label="prediction ‖θ*(λm) − θ*(λ)‖ (C)")
    axes[2].plot([], [], " ", label=f"b = m: full-batch GD, (A) = (B) = θ*(λ) (drawn at {low:g})")
    axes[2].set(title="trained by SGD vs the full-batch minimizer θ*(λ)", ylim=(low / 2, 2))
    axes[2].set(xlabel="batch size b", ylabel="‖θ̄_b − θ*(λ)‖ / ‖θ*(λ)‖  (θ̄_b: mean over runs)")
    for ax in axes:
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(
        f"logistic regression, n = {N_FEATURES}, m = {m}, λ = {lam:g} (mean loss + "
        f"λ/(2m)‖w‖²); SGD ≥ {epochs} epochs and ≥ {steps} steps at each b"
    )
    return fig
