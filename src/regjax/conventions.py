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

Between a penalty and a decoupled decay the equivalence is plain SGD's: with momentum
the fixed point moves, with Adam-type optimizers no λ is equivalent (:func:`sgd_only`;
:func:`convert_lambda` warns when told the optimizer). PyTorch's ``weight_decay`` and
``optax.adamw`` decay every parameter, biases and norm scales included, where the
library's default mask leaves those alone: ``mask=True`` (every leaf) reproduces them.

References:
  I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
  arXiv:1711.05101. X. Wang, L. Aitchison, "How to set AdamW's weight decay as you
  scale model and dataset size", arXiv:2405.13698.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, TypeAlias

import jax.numpy as jnp
import numpy as np

from regjax import _checks

__all__ = [
    "CONVENTIONS",
    "DECOUPLED",
    "NEEDS",
    "OPTIMIZERS",
    "ConversionWarning",
    "convert_lambda",
    "decay_factor",
    "decay_timescale",
    "from_coefficient",
    "sgd_only",
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

#: The argument each convention needs beyond the value (the others need none).
NEEDS: dict[str, str] = {
    "ng": "m",
    "sum": "m",
    "per_param": "n",
    "sklearn_ridge_alpha": "m",
    "sklearn_logreg_C": "m",
    "decoupled_independent": "learning_rate",
}

#: The two decoupled decays: updates, not penalties.
DECOUPLED = frozenset({"decoupled_lr_scaled", "decoupled_independent"})

_ADAPTIVE = (
    "adabelief adadelta adafactor adagrad adam adamax adamw amsgrad lamb lars lion nadam nadamw "
    "radam rmsprop yogi adaptive"
)
#: The optimizers ``convert_lambda`` knows, by kind: plain ``"sgd"``; ``"momentum"``
#: (heavy ball or Nesterov, trace-style as in torch.optim.SGD and optax.sgd); or
#: ``"adaptive"``, a step that is not a fixed multiple of the gradient (a preconditioner,
#: a sign, a trust ratio; the name ``"adaptive"`` stands for any other such optimizer).
OPTIMIZERS: dict[str, str] = dict(
    sgd="sgd",
    momentum="momentum",
    nesterov="momentum",
    **dict.fromkeys(_ADAPTIVE.split(), "adaptive"),
)


class ConversionWarning(UserWarning):
    """A conversion between a penalty and a decoupled decay, for an optimizer under which
    the two are not the same (see :func:`sgd_only`); the value is plain SGD's."""


Strength: TypeAlias = Any
"""A strength, count or rate: a number, an array of them (elementwise) or a traced scalar."""

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


def _check_argument(which: str, value: Any) -> None:
    """m and n are counts (positive integers, or arrays of them); η is a number > 0."""
    if which == "learning_rate":
        _checks.check_positive(value, which)
    else:
        _checks.check_count(value, which, _COUNTS[which], elementwise=True)


def _need(name: str, m: Any, n: Any, learning_rate: Any) -> Any:
    which = NEEDS.get(name)
    if which is None:
        return None
    value = {"m": m, "n": n, "learning_rate": learning_rate}[which]
    if value is None:
        raise ValueError(f"convention {name!r} needs {which}=")
    _check_argument(which, value)
    return value


def to_coefficient(
    value: Strength,
    name: str,
    *,
    m: Strength = None,
    n: Strength = None,
    learning_rate: Strength = None,
) -> Strength:
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
    c: Strength,
    name: str,
    *,
    m: Strength = None,
    n: Strength = None,
    learning_rate: Strength = None,
) -> Strength:
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


def sgd_only(from_: str, to: str) -> bool:
    r"""Whether ``from_`` and ``to`` are the same under plain SGD only: one is a decoupled
    decay (an update) and the other a penalty (an objective).

    A penalty's gradient c·θ goes through the optimizer and a decoupled decay does not.
    Under SGD the steps agree, θ − η(g + cθ) = θ − ηg − ηcθ. With momentum β (the trace
    t ← βt + g) the decay's fixed point solves g/(1 − β) + cθ = 0, the penalty's at
    (1 − β)·c. Under Adam's m̂/(√v̂ + ε), coordinate j of the decay acts as a penalty of
    c·(√v̂ⱼ + ε): no λ is equivalent (Loshchilov & Hutter 2019, arXiv:1711.05101).

    Args:
      from_, to: names in :data:`CONVENTIONS`.

    Returns:
      True when exactly one of the two is in :data:`DECOUPLED`.

    Example:
      >>> [sgd_only("decoupled_lr_scaled", to) for to in ("ng", "decoupled_independent")]
      [True, False]
    """
    _checks.check_choice(from_, "from_", CONVENTIONS)
    _checks.check_choice(to, "to", CONVENTIONS)
    return (from_ in DECOUPLED) != (to in DECOUPLED)


def _warn_unless_equivalent(from_: str, targets: list[str], optimizer: str) -> None:
    """A :class:`ConversionWarning` naming ``optimizer`` when it breaks a conversion."""
    kind = OPTIMIZERS[optimizer]
    broken = [to for to in targets if sgd_only(from_, to)]
    if kind == "sgd" or not broken:
        return
    if kind == "adaptive":
        why = (
            f"under {optimizer} no λ is equivalent: its preconditioner rescales a penalty's "
            "gradient but not a decoupled decay (Loshchilov & Hutter 2019, arXiv:1711.05101)"
        )
    else:
        why = (
            f"under {optimizer} the steps differ, and a decoupled decay's fixed point is the "
            "penalty's at (1 − β)·c (β the momentum), not at c"
        )
    warnings.warn(
        f"{from_} -> {', '.join(broken)}: {why}; the value returned is the plain-SGD one",
        ConversionWarning,
        stacklevel=3,
    )


def convert_lambda(
    value: Strength,
    *,
    from_: str,
    to: str,
    m: Strength = None,
    n: Strength = None,
    learning_rate: Strength = None,
    optimizer: str = "sgd",
) -> Strength:
    r"""Convert a regularization strength from one convention to another.

    Both sides are reduced to c, the coefficient of ½‖w‖² on a mean data loss (see the
    table in :mod:`regjax.conventions`): ``from_coefficient(to_coefficient(value))``.
    Equivalent settings have the same minimizer; for the weight-decay names, the same
    plain-SGD step. Between a penalty and a decoupled decay that holds under plain SGD
    only (:func:`sgd_only`); name the optimizer to be warned when it does not hold.

    Args:
      value: the strength in convention ``from_`` (≥ 0 and finite; ``sklearn_logreg_C``
        may also be ``inf``, no regularization; ``C = 0`` gives ``inf``).
      from_: the convention ``value`` is written in.
      to: the convention to express it in, or ``"all"``.
      m: number of training examples (``ng``, ``sum``, ``sklearn_*``).
      n: number of penalized weights (``per_param``).
      learning_rate: η (``decoupled_independent``).
      optimizer: the optimizer the strength is used with, a name in :data:`OPTIMIZERS`
        (``"sgd"``, ``"momentum"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ...).

    Returns:
      The strength in convention ``to`` (a float, or an array for array input); always
      plain SGD's, also under a :class:`ConversionWarning`. For ``to="all"``: a dict,
      name -> strength, in table order, without the names whose m, n or learning_rate
      (:data:`NEEDS`) was not given.

    Raises:
      ValueError: unknown names, a negative value, a missing m / n / learning_rate, or a
        bad one (checked whenever given).

    Warns:
      ConversionWarning: between a penalty and a decoupled decay, under an ``optimizer``
        other than plain SGD: adaptive (no λ is equivalent) or with momentum.

    Example:
      >>> convert_lambda(1.0, from_="ng", to="sklearn_ridge_alpha", m=100)
      1.0
      >>> convert_lambda(1.0, from_="ng", to="sklearn_logreg_C", m=100)
      1.0
      >>> round(convert_lambda(1e-4, from_="keras_l2", to="ng", m=50_000), 10)
      10.0
      >>> every = convert_lambda(2.0, from_="ng", to="all", m=100)  # no n, no η
      >>> every["sklearn_logreg_C"], "per_param" in every
      (0.5, False)
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     lam = convert_lambda(0.05, from_="decoupled_lr_scaled", to="ng", m=1400,
      ...                          optimizer="adam")
      >>> round(lam, 10), caught[0].category.__name__
      (70.0, 'ConversionWarning')
    """
    _checks.check_choice(from_, "from_", CONVENTIONS)
    _checks.check_choice(to, "to", [*CONVENTIONS, "all"])
    _checks.check_choice(optimizer, "optimizer", tuple(OPTIMIZERS))
    given = {"m": m, "n": n, "learning_rate": learning_rate}
    for which, argument in given.items():
        if argument is not None:
            _check_argument(which, argument)
    c = to_coefficient(value, from_, m=m, n=n, learning_rate=learning_rate)
    targets = [
        name
        for name in (CONVENTIONS if to == "all" else [to])
        if to != "all" or name not in NEEDS or given[NEEDS[name]] is not None
    ]
    values = {
        name: from_coefficient(c, name, m=m, n=n, learning_rate=learning_rate) for name in targets
    }
    _warn_unless_equivalent(from_, targets, optimizer)
    return values if to == "all" else values[to]


def decay_factor(lam: Strength, *, m: Strength, learning_rate: Strength) -> Strength:
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
    lam: Strength,
    *,
    m: Strength,
    learning_rate: Strength,
    batch_size: Strength = None,
    unit: str = "steps",
) -> Strength:
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
