r"""λ conventions: how one library's regularization strength maps onto another's.

Every convention is reduced to one number c, the coefficient of ½‖w‖² added to a
*mean* data loss:

.. math::

    J(w) = \frac{1}{m}\sum_i \ell_i(w) + \frac{c}{2}\lVert w\rVert^2 .

Two settings are equivalent when they give the same c: the same minimizer (and, for
the weight-decay names, the same plain-SGD step).

=========================  ==========================================  ===============
name                       objective or update                         c
=========================  ==========================================  ===============
``ng``                     mean loss + λ/(2m)‖w‖²                      λ/m
``sum``                    *summed* loss + λ/2‖w‖² (Bishop's MAP)      λ/m
``per_param``              mean loss + λ/(2n)‖w‖²                      λ/n
``mean_l2``                mean loss + c/2‖w‖² (jaxopt ``l2reg``,      c
                           glmnet α=0, sklearn ElasticNet l1_ratio=0)
``sklearn_ridge_alpha``    ‖y − Xw‖² + α‖w‖² (sklearn ``Ridge``)       α/m
``sklearn_logreg_C``       C·Σ loss + ½‖w‖² (``LogisticRegression``)   1/(C·m)
``keras_l2``               mean loss + l2·‖w‖² (``regularizers.L2``)   2·l2
``torch_weight_decay``     g ← g + wd·w (SGD ``weight_decay``,         wd
                           ``optax.add_decayed_weights``)
``decoupled_lr_scaled``    θ ← θ − η(u + wd·θ) (PyTorch AdamW,         wd
                           ``optax.adamw``)
``decoupled_independent``  θ ← θ − η·u − d·θ (Loshchilov & Hutter)     d/η
=========================  ==========================================  ===============

Squared error: the library's mean data loss for regression is ½·MSE (Ng, glmnet,
sklearn ElasticNet). Keras' ``loss="mse"`` is plain MSE, twice that, and
MSE + l2·‖w‖² = 2·(½MSE + (l2/2)·‖w‖²): for a Keras *regression* model c = l2
(convert from ``mean_l2`` with the value l2), not 2·l2. Cross-entropy losses carry no
such factor, and ``keras_l2`` applies as written.

For SGD with learning rate η each step multiplies the weights by the decay factor
1 − η·c = 1 − ηλ/m (:func:`decay_factor`); the weights forget their initial value
over about 1/(η·c) steps (:func:`decay_timescale`).

References:
  I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
  arXiv:1711.05101. X. Wang, L. Aitchison, "How to set AdamW's weight decay as you
  scale model and dataset size", arXiv:2405.13698.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from regjax import _checks

__all__ = [
    "CONVENTIONS",
    "convert_lambda",
    "decay_factor",
    "decay_timescale",
    "from_coefficient",
    "to_coefficient",
]

CONVENTIONS: dict[str, str] = {
    "ng": "mean loss + λ/(2m)‖w‖²; c = λ/m",
    "sum": "summed loss + λ/2‖w‖² (Bishop MAP); c = λ/m",
    "per_param": "mean loss + λ/(2n)‖w‖²; c = λ/n",
    "mean_l2": "mean loss + c/2‖w‖² (jaxopt l2reg, glmnet alpha=0, sklearn ElasticNet l1_ratio=0)",
    "sklearn_ridge_alpha": "‖y − Xw‖² + α‖w‖² (sklearn Ridge); c = α/m",
    "sklearn_logreg_C": "C·Σ loss + ½‖w‖² (sklearn LogisticRegression); c = 1/(C·m)",
    "keras_l2": "mean loss + l2·‖w‖² (keras.regularizers.L2); c = 2·l2",
    "torch_weight_decay": "coupled: g + wd·w (torch.optim.SGD, optax.add_decayed_weights); c = wd",
    "decoupled_lr_scaled": "θ ← θ − η(u + wd·θ) (PyTorch AdamW, optax.adamw); c = wd",
    "decoupled_independent": "θ ← θ − η·u − d·θ (Loshchilov & Hutter); c = d/η",
}

_NEEDS = {
    "ng": "m",
    "sum": "m",
    "per_param": "n",
    "sklearn_ridge_alpha": "m",
    "sklearn_logreg_C": "m",
    "decoupled_independent": "learning_rate",
}


_COUNTS = {"m": "the number of training examples", "n": "the number of penalized weights"}


def _check_strength(value: Any, name: str, *, allow_inf: bool) -> None:
    """≥ 0 and finite; +inf too where ``allow_inf`` (C = inf is no regularization, c = 0)."""
    if allow_inf and _checks.is_concrete(value):
        value = np.where(np.isposinf(np.asarray(value)), 0.0, value)
    _checks.check_lam(value, name)


def _reciprocal(x: Any) -> Any:
    """1/x elementwise with 1/0 = inf and 1/inf = 0 (C = 0 ↔ c = inf, C = inf ↔ c = 0)."""
    if _checks.is_concrete(x) and np.ndim(x) == 0:
        x = float(x)
        return math.inf if x == 0.0 else 1.0 / x
    return 1.0 / jnp.asarray(x)


def _no_overflow(result: Any, source: Any, zero_is_infinite: bool, name: str) -> Any:
    """``result`` is finite wherever ``source`` is a finite strength (inf stands for an
    infinite one: c = inf, or sklearn's C = 0); an overflow raises."""
    if _checks.is_concrete((result, source)):
        src = np.asarray(source, dtype=np.float64)
        infinite = np.isinf(src) | ((src == 0) & zero_is_infinite)
        if np.any(~np.isfinite(np.asarray(result, dtype=np.float64)) & ~infinite):
            raise ValueError(f"{name} = {source} overflows the float range in this conversion")
    return result


def _need(name: str, m: Any, n: Any, learning_rate: Any) -> Any:
    which = _NEEDS.get(name)
    if which is None:
        return None
    value = {"m": m, "n": n, "learning_rate": learning_rate}[which]
    if value is None:
        raise ValueError(f"convention {name!r} needs {which}=")
    if which == "learning_rate":
        _checks.check_positive(value, which)
    else:
        _checks.check_count(value, which, _COUNTS[which], elementwise=True)
    return value


def to_coefficient(
    value: Any, name: str, *, m: Any = None, n: Any = None, learning_rate: Any = None
) -> Any:
    r"""c, the coefficient of ½‖w‖² on a mean loss, for ``value`` in convention ``name``.

    Example:
      >>> to_coefficient(2.0, "ng", m=100)
      0.02
      >>> to_coefficient(0.5, "keras_l2")
      1.0
    """
    _checks.check_choice(name, "from_", CONVENTIONS)
    _check_strength(value, "value", allow_inf=name == "sklearn_logreg_C")
    k = _need(name, m, n, learning_rate)
    if name in ("ng", "sum", "per_param", "sklearn_ridge_alpha", "decoupled_independent"):
        c = value / k
    elif name == "sklearn_logreg_C":
        c = _reciprocal(value * k)
    else:  # keras_l2; mean_l2, torch_weight_decay, decoupled_lr_scaled
        c = 2 * value if name == "keras_l2" else value
    return _no_overflow(c, value, name == "sklearn_logreg_C", "value")


def from_coefficient(
    c: Any, name: str, *, m: Any = None, n: Any = None, learning_rate: Any = None
) -> Any:
    r"""The value in convention ``name`` whose coefficient is ``c`` (inverse of
    :func:`to_coefficient`).

    Example:
      >>> from_coefficient(0.02, "sklearn_ridge_alpha", m=100)
      2.0
    """
    _checks.check_choice(name, "to", CONVENTIONS)
    _check_strength(c, "c", allow_inf=True)  # c = inf comes from C = 0
    k = _need(name, m, n, learning_rate)
    if name in ("ng", "sum", "per_param", "sklearn_ridge_alpha", "decoupled_independent"):
        value = c * k
    elif name == "sklearn_logreg_C":
        value = _reciprocal(c * k)
    else:
        value = c / 2 if name == "keras_l2" else c
    return _no_overflow(value, c, name == "sklearn_logreg_C", "c")


def convert_lambda(
    value: Any,
    *,
    from_: str,
    to: str,
    m: Any = None,
    n: Any = None,
    learning_rate: Any = None,
) -> Any:
    r"""Convert a regularization strength from one convention to another.

    Both sides are reduced to c, the coefficient of ½‖w‖² on a mean data loss (see the
    table in :mod:`regjax.conventions`): ``from_coefficient(to_coefficient(value))``.
    Equivalent settings have the same minimizer; for the weight-decay names, the same
    plain-SGD step.

    Args:
      value: the strength in convention ``from_`` (≥ 0 and finite; ``sklearn_logreg_C``
        may also be ``inf``, no regularization; ``C = 0`` gives ``inf``).
      from_: the convention ``value`` is written in.
      to: the convention to express it in.
      m: number of training examples (``ng``, ``sum``, ``sklearn_*``).
      n: number of penalized weights (``per_param``).
      learning_rate: η (``decoupled_independent``).

    Returns:
      The strength in convention ``to`` (a float, or an array for array input).

    Raises:
      ValueError: unknown names, a negative value, or a missing m / n / learning_rate.

    Example:
      >>> convert_lambda(1.0, from_="ng", to="sklearn_ridge_alpha", m=100)
      1.0
      >>> convert_lambda(1.0, from_="ng", to="sklearn_logreg_C", m=100)
      1.0
      >>> convert_lambda(3.0, from_="ng", to="mean_l2", m=100)
      0.03
      >>> round(convert_lambda(1e-4, from_="keras_l2", to="ng", m=50_000), 10)
      10.0
    """
    _checks.check_choice(from_, "from_", CONVENTIONS)
    _checks.check_choice(to, "to", CONVENTIONS)
    c = to_coefficient(value, from_, m=m, n=n, learning_rate=learning_rate)
    return from_coefficient(c, to, m=m, n=n, learning_rate=learning_rate)


def decay_factor(lam: Any, *, m: Any, learning_rate: Any) -> Any:
    r"""Per-step weight multiplier of gradient descent on λ/(2m)‖w‖²: :math:`1 - \eta\lambda/m`.

    θ ← θ − η(∇data + (λ/m)θ) = (1 − ηλ/m)·θ − η∇data.

    Args:
      lam: λ ≥ 0 in the library's convention.
      m: number of training examples.
      learning_rate: η > 0.

    Returns:
      The factor (in (0, 1) for a stable step; ≤ 0 means η·λ/m ≥ 1 overshoots).

    Example:
      >>> decay_factor(10.0, m=1000, learning_rate=0.5)
      0.995
    """
    _checks.check_lam(lam)
    _checks.check_count(m, "m", _COUNTS["m"], elementwise=True)
    _checks.check_positive(learning_rate, "learning_rate")
    return _checks.finite_result(1 - learning_rate * lam / m, "the decay factor 1 − η·λ/m")


def decay_timescale(
    lam: Any, *, m: Any, learning_rate: Any, batch_size: Any = None, unit: str = "steps"
) -> Any:
    r"""Steps (or epochs) for the decay alone to shrink the weights by a factor e.

    .. math::

        \tau_{\text{steps}} = \frac{-1}{\log(1 - \eta\lambda/m)} \approx \frac{m}{\eta\lambda},
        \qquad \tau_{\text{epochs}} = \tau_{\text{steps}} \cdot \frac{b}{m},

    with b the minibatch size (m/b steps per epoch; full batch: b = m).

    Args:
      lam: λ ≥ 0 in the library's convention (λ = 0 gives ``inf``).
      m: number of training examples.
      learning_rate: η > 0.
      batch_size: b, for ``unit="epochs"`` (default m, full batch).
      unit: ``"steps"`` or ``"epochs"``.

    Returns:
      The timescale.

    Example:
      >>> round(decay_timescale(10.0, m=1000, learning_rate=0.1), 1)
      999.5
      >>> round(decay_timescale(10.0, m=1000, learning_rate=0.1, batch_size=100, unit="epochs"), 2)
      99.95
    """
    if unit not in ("steps", "epochs"):
        raise ValueError(f"unit must be 'steps' or 'epochs', got {unit!r}")
    factor = decay_factor(lam, m=m, learning_rate=learning_rate)
    if _checks.is_concrete(factor) and not 0 < float(factor) <= 1:
        raise ValueError(
            f"learning_rate·lam/m = {1 - float(factor)} must be in [0, 1) for a decaying step"
        )
    steps = -1 / jnp.log(factor) if not _checks.is_concrete(factor) else _steps(float(factor))
    if unit == "steps":
        return steps
    if batch_size is not None:
        _checks.check_count(batch_size, "batch_size", "the minibatch size")
    b = m if batch_size is None else batch_size
    return steps * b / m


def _steps(factor: float) -> float:
    return math.inf if factor == 1.0 else -1 / math.log(factor)
