r"""The λ tuner: quasi-Newton descent of a validation loss over log λ.

:func:`regjax.hypergrad.tune` (re-exported there) drives any objective
``objective(lam, warm) -> Evaluation`` that returns V(λ) and dV/dλ, and carries the
solutions from one evaluation to the next as warm starts; :mod:`regjax.hypergrad`
builds the objectives (a hold-out set, folds, the built-in models' paths), whose dV/dλ
comes from implicit differentiation. The driver is plain Python around those calls
(each evaluation is its own compiled program): it is not meant to be ``jit``-ted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from regjax import _checks
from regjax._typing import Lam

__all__ = ["Evaluation", "HypergradWarning", "Objective", "TuneStep", "Tuned", "tune"]


class HypergradWarning(UserWarning):
    """The linear system of the implicit derivative was not solved to its tolerance."""


class Evaluation(NamedTuple):
    """One evaluation of a tuning objective at λ.

    Attributes:
      value: the validation (or cross-validation) loss V(λ), a float.
      grad: dV/dλ, with λ's structure.
      warm: what the next evaluation starts its solves from (the solutions here).
      fits: how many training problems were solved (folds for a CV loss).
      converged: whether every solve met its tolerance.
    """

    value: float
    grad: Lam
    warm: Any
    fits: int
    converged: bool


# objective(lam, warm) -> Evaluation; warm is None at the first call
Objective = Callable[[Lam, Any], Evaluation]


class TuneStep(NamedTuple):
    """One trial of :func:`tune`: λ, V(λ), dV/d(log λ), and whether it was accepted."""

    lam: Lam
    value: float
    grad_log: Lam
    accepted: bool


class Tuned(NamedTuple):
    """The result of :func:`tune`.

    Attributes:
      lam: the tuned λ, with ``lam0``'s structure.
      value: V at ``lam``.
      grad: dV/dλ at ``lam``.
      history: every trial, accepted or not, as :class:`TuneStep`\\ s.
      fits: training problems solved in all (each evaluation's ``fits``, summed).
      converged: whether the stopping rule (not ``max_steps``) ended the search.
      reason: why it stopped.
    """

    lam: Lam
    value: float
    grad: Lam
    history: list[TuneStep]
    fits: int
    converged: bool
    reason: str


def tune(
    objective: Objective,
    lam0: Lam,
    *,
    max_steps: int = 30,
    tol: float = 1e-4,
    max_step: float = math.log(10.0),
    bounds: tuple[float, float] = (1e-10, 1e10),
) -> Tuned:
    r"""Minimize a validation loss V(λ) by gradient steps on u = log λ.

    Each step evaluates V and :math:`g = \partial V/\partial u = \lambda \odot
    \partial V/\partial\lambda` (the objective's hypergradient) and moves u along the
    quasi-Newton direction :math:`-B g`, B the BFGS inverse Hessian of V in u (the
    first step: along −g), clipped to ``max_step`` in every coordinate (a decade by
    default) and to ``bounds``. A step that does not lower V by the Armijo amount
    :math:`10^{-4}\,g^\top s` is halved and retried. Every evaluation's solves start
    from the last accepted solutions (``warm``), so a step costs a few solver
    iterations, not a solve from scratch.

    Stopping rule: :math:`\lVert g\rVert_\infty \le` ``tol``·|V| (a 1% change of λ
    moves V by < ``tol``/100 of itself), a step below 10⁻³ in u, or λ held at a bound.
    Not converged, with a :class:`HypergradWarning` (also when a solve failed): after
    ``max_steps``, or where dV/dλ is exactly 0 (L1 above λ_max: every weight is 0).

    Args:
      objective: ``objective(lam, warm) -> Evaluation``, e.g. from
        :mod:`regjax.hypergrad`'s ``holdout``, ``cross_validation`` or ``path_cv``.
      lam0: the starting λ > 0, a scalar or a pytree of per-group λ.
      max_steps: most accepted steps.
      tol: the relative gradient tolerance.
      max_step: the largest move of log λ per step.
      bounds: λ is kept in [low, high].

    Returns:
      A :class:`Tuned`.

    Example:
      >>> X = jnp.arange(6.0)[:, None]; y = jnp.array([0.3, 0.8, 2.5, 2.7, 4.4, 4.6])
      >>> mse = lambda p, X, y: jnp.mean((rj.models.linear(p, X) - y) ** 2)
      >>> p0 = {"w": jnp.zeros(1), "b": jnp.zeros(())}
      >>> objective = rj.hypergrad.holdout(rj.costs.linear_regression, p0, (X[::2], y[::2]), mse,
      ...                     (X[1::2], y[1::2]))
      >>> result = tune(objective, 10.0)
      >>> result.converged, result.value < objective(10.0, None).value
      (True, True)

    References:
      J. Nocedal, S. Wright, *Numerical Optimization*, 2nd ed., §6.1 (BFGS); F. Pedregosa,
      "Hyperparameter optimization with approximate gradient", ICML 2016.
    """
    box = _check_options(lam0, max_steps, tol, max_step, bounds)
    record = _Record(objective, lam0)
    u = np.clip(np.log(np.asarray(record.flat0, np.float64)), *box)
    ev, g = record(u, None)
    record.accept()
    inverse = None  # the BFGS inverse Hessian of V in log λ, once there is curvature
    reason = f"max_steps = {max_steps} reached"
    for _ in range(max_steps):
        if not np.any(g):
            reason = FLAT
            break
        outward = ((u <= box[0]) & (g > 0)) | ((u >= box[1]) & (g < 0))
        if np.max(np.abs(np.where(outward, 0.0, g))) <= tol * abs(ev.value):
            reason = "λ at a bound" if outward.any() else "gradient below tol"
            break
        trial = _line_search(record, u, ev, g, _direction(g, inverse, max_step), box)
        if trial is None:
            reason = "no step of at least 1e-3 in log λ lowers V"
            break
        record.accept()
        inverse = _bfgs(inverse, trial[0] - u, trial[2] - g)
        u, ev, g = trial
    converged = reason not in (FLAT, f"max_steps = {max_steps} reached")
    if not converged or record.unsolved:
        what = reason if not converged else f"{record.unsolved} evaluations' solves failed"
        warnings.warn(f"tune: {what} (λ = {np.exp(u).tolist()}, V = {ev.value:.6g})",
                      HypergradWarning, stacklevel=2)  # fmt: skip
    return Tuned(record.lam(u), ev.value, ev.grad, record.history, record.fits, converged,
                 reason)  # fmt: skip


def _check_options(
    lam0: Lam, max_steps: int, tol: float, max_step: float, bounds: tuple[float, float]
) -> tuple[float, float]:
    """Check :func:`tune`'s arguments; the bounds of log λ."""
    _checks.check_lam(lam0, "lam0")
    _checks.check_int(max_steps, "max_steps", low=1)
    _checks.check_tol(tol)
    _checks.check_positive(max_step, "max_step")
    low, high = bounds
    _checks.check_positive(low, "bounds[0]")
    if not high > low:
        raise ValueError(f"bounds must be (low, high) with 0 < low < high, got {bounds}")
    if np.any(np.asarray(ravel_pytree(lam0)[0]) <= 0):
        raise ValueError(f"lam0 must be > 0 (the search is on log λ), got {lam0}")
    return math.log(low), math.log(high)


class _Record:
    """Evaluates the objective at u = log λ (flat), returning (Evaluation, dV/du), and
    keeps the history, the fits and the evaluations whose solves did not converge."""

    def __init__(self, objective: Objective, lam0: Lam) -> None:
        self.objective = objective
        self.flat0, self.unravel = ravel_pytree(lam0)
        self.history: list[TuneStep] = []
        self.fits = self.unsolved = 0

    def lam(self, u: np.ndarray) -> Lam:
        return self.unravel(jnp.asarray(np.exp(u), self.flat0.dtype))

    def __call__(self, u: np.ndarray, warm: Any) -> tuple[Evaluation, np.ndarray]:
        ev = self.objective(self.lam(u), warm)
        g = np.exp(u) * np.asarray(ravel_pytree(ev.grad)[0], np.float64)
        self.fits += ev.fits
        self.unsolved += not ev.converged
        grad_log = self.unravel(jnp.asarray(g, self.flat0.dtype))
        self.history.append(TuneStep(self.lam(u), ev.value, grad_log, False))
        return ev, g

    def accept(self) -> None:
        """Mark the last evaluation as the accepted point."""
        self.history[-1] = self.history[-1]._replace(accepted=True)


def _direction(g: np.ndarray, inverse: np.ndarray | None, max_step: float) -> np.ndarray:
    """The quasi-Newton step −Bg, at most ``max_step`` in any coordinate; before there
    is curvature (B = ``None``), the steepest coordinate moves by ``max_step``."""
    if inverse is None:
        return -g * max_step / max(float(np.max(np.abs(g))), 1e-300)
    step = -inverse @ g
    return step * min(1.0, max_step / max(float(np.max(np.abs(step))), 1e-300))


FLAT = (
    "dV/dλ is exactly 0: V does not depend on λ here (with an L1 penalty, λ ≥ λ_max "
    "sets every weight to 0); start below"
)
_ARMIJO = 1e-4
_MIN_STEP = 1e-3  # in log λ: 0.1% of λ


def _bfgs(inverse: np.ndarray | None, s: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The BFGS update of an inverse Hessian (``None``: none yet, the first one starts
    from Shanno's scaling sᵀy/yᵀy·I) for the step s and gradient change y; skipped
    where the curvature sᵀy is not positive (V need not be convex in log λ)."""
    sy = float(s @ y)
    if sy <= 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
        return inverse
    if inverse is None:
        inverse = np.eye(len(s)) * sy / float(y @ y)
    V = np.eye(len(s)) - np.outer(s, y) / sy
    return V @ inverse @ V.T + np.outer(s, s) / sy


def _line_search(
    evaluate: _Record,
    u: np.ndarray,
    ev: Evaluation,
    g: np.ndarray,
    step: np.ndarray,
    box: tuple[float, float],
) -> tuple[np.ndarray, Evaluation, np.ndarray] | None:
    """Backtracking from u along ``step`` (kept in the box) until V drops by the Armijo
    amount; ``None`` once the step is below 10⁻³ in log λ."""
    while True:
        u_new = np.clip(u + step, *box)
        if np.max(np.abs(u_new - u)) < _MIN_STEP:
            return None
        ev_new, g_new = evaluate(u_new, ev.warm)
        if ev_new.value <= ev.value + _ARMIJO * float(g @ (u_new - u)):
            return u_new, ev_new, g_new
        step = step / 2
