r"""L2 penalty or weight decay? SGD cannot tell them apart; Adam can.

For a grid of λ (library convention, mean loss + λ/(2m)‖w‖²) the study trains a
logistic regression four ways, all λ at once under ``jit(vmap(...))``:

- SGD + L2 (``optimizers.sgd_l2(η, λ, m=m)``) and SGDW (``optimizers.sgdw(η, λ/m)``):
  the same steps, so the same weights to float64 round-off;
- Adam + L2 (``optimizers.adam_l2``) and AdamW (``optimizers.adamw(η, λ/m)``): the
  coupled decay is divided by Adam's √v̂, the decoupled one is not, so they differ.

It returns the final weight norms and the relative gap ‖θ_L2 − θ_W‖/‖θ_L2‖ per λ, and
writes a three-panel PNG into ``out`` when it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from regjax import figures, losses, models, optimizers
from regjax.experiments import Study

__all__ = ["QUESTION", "run"]

QUESTION = "Is an L2 penalty the same as weight decay?"


def _problem(m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
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


def run(*, quick: bool = False, out: str | Path | None = None) -> Study:
    """Train the λ grid four ways; write the figure into the directory ``out``.

    Args:
      quick: a CI-sized run (8 λ values, 100 steps).
      out: a directory for ``weight_decay.png`` (created); ``None`` for no figure.

    Returns:
      A :class:`regjax.experiments.Study` whose data holds ``lams``, ``norms`` (final
      ‖w‖ of ``sgd_l2``, ``sgdw``, ``adam_l2``, ``adamw``) and ``gaps`` (``sgd``,
      ``adam``: ‖θ_L2 − θ_W‖/‖θ_L2‖ per λ).

    Example:
      >>> gaps = run(quick=True).data["gaps"]
      >>> bool(gaps["sgd"].max() < 1e-10), bool(gaps["adam"].max() > 1e-2)
      (True, True)
    """
    m, n = 200, 10
    num, steps = (8, 100) if quick else (24, 600)
    with jax.enable_x64(True), jax.numpy_dtype_promotion("standard"):
        X_np, y_np = _problem(m, n)
        X, y = jnp.asarray(X_np), jnp.asarray(y_np)
        lams = jnp.logspace(-1, 2.5, num)  # η·λ/m ≤ 0.8: SGD stays stable
        eta_sgd, eta_adam = 0.5, 0.05
        makers = {
            "sgd_l2": lambda lam: optimizers.sgd_l2(eta_sgd, lam, m=m),
            "sgdw": lambda lam: optimizers.sgdw(eta_sgd, lam / m),
            "adam_l2": lambda lam: optimizers.adam_l2(eta_adam, lam, m=m),
            "adamw": lambda lam: optimizers.adamw(eta_adam, lam / m),
        }
        fits = {k: _fit_grid(f, lams, X, y, steps) for k, f in makers.items()}
        norms = {k: np.asarray(jnp.linalg.norm(p["w"], axis=1)) for k, p in fits.items()}

        def gap(a: str, b: str) -> np.ndarray:
            diff = jnp.linalg.norm(fits[a]["w"] - fits[b]["w"], axis=1)
            return np.asarray(diff / jnp.linalg.norm(fits[a]["w"], axis=1))

        gaps = {"sgd": gap("sgd_l2", "sgdw"), "adam": gap("adam_l2", "adamw")}
        lams_np = np.asarray(lams)
    answer = (
        f"With SGD, yes: an L2 penalty and decoupled decay λ/m give the same weights "
        f"(largest relative gap {gaps['sgd'].max():.0e} over {num} λ). With Adam, no: "
        f"Adam + L2 and AdamW differ by {gaps['adam'].min():.0%} to {gaps['adam'].max():.0%} "
        "of ‖w‖, and no single λ makes them equal."
    )
    written: tuple[Path, ...] = ()
    if out is not None:
        written = (_figure(lams_np, norms, gaps, Path(out) / "weight_decay.png", m, steps),)
    data = {"lams": lams_np, "norms": norms, "gaps": gaps, "m": m, "steps": steps}
    return Study("weight_decay", QUESTION, answer, data, written)


def _figure(
    lams: np.ndarray,
    norms: dict[str, np.ndarray],
    gaps: dict[str, np.ndarray],
    path: Path,
    m: int,
    steps: int,
) -> Path:
    plt = figures.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    ax = axes[0]
    ax.semilogx(lams, norms["sgd_l2"], "-", lw=2, label="SGD + L2  (add_l2_gradient λ)")
    ax.semilogx(lams, norms["sgdw"], "o", mfc="none", label="SGDW  (decay λ/m, lr-scaled)")
    ax.set(title="SGD: penalty = decay", xlabel="λ (library convention)", ylabel="final ‖w‖")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.semilogx(lams, norms["adam_l2"], "-", lw=2, label="Adam + L2  (λ)")
    ax.semilogx(lams, norms["adamw"], "s--", mfc="none", label="AdamW  (decay λ/m)")
    ax.set(title="Adam: penalty ≠ decay", xlabel="λ (library convention)", ylabel="final ‖w‖")
    ax.legend(fontsize=8)
    ax = axes[2]
    floor = 1e-17  # exact zeros drawn at the floor of the log axis
    ax.loglog(lams, np.maximum(gaps["sgd"], floor), "o-", label="SGD + L2 vs SGDW")
    ax.loglog(lams, np.maximum(gaps["adam"], floor), "s-", label="Adam + L2 vs AdamW")
    ax.set(
        title="‖θ_L2 − θ_decay‖ / ‖θ_L2‖ (float64)",
        xlabel="λ (library convention)",
        ylim=(floor / 3, 30),
    )
    ax.legend(fontsize=8)
    fig.suptitle(f"logistic regression, m = {m}, {steps} steps, every λ in one jit(vmap)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
