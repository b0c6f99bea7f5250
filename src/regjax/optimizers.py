r"""Named optimizers with L2 or weight decay, each an ``optax.chain`` of small transforms.

=====================  ==============================================  ===================
optimizer              one step                                        equivalent λ
=====================  ==============================================  ===================
``sgd_l2(η, λ, m=m)``  θ ← θ − η(g + λθ/m)                             λ
``sgdw(η, r)``         θ ← θ − ηg − ηrθ                                m·r
``sgdw(η, d,           θ ← θ − ηg − dθ                                 m·d/η
lr_scaled=False)``
``adam_l2(η, λ,        θ ← θ − η·Adam(g + λθ/m)                        λ (same minimizer)
m=m)``
``adamw(η, r)``        θ ← θ − η·Adam(g) − ηrθ                         none exactly
``adamw(η, d,          θ ← θ − η·Adam(g) − dθ                          none exactly
lr_scaled=False)``
=====================  ==============================================  ===================

Every factory refuses alike a learning rate ≤ 0, NaN or not a scalar, a schedule that
goes negative, momentum or Adam's b1, b2 outside [0, 1), and a negative eps. The
strength (λ or the decay rate) may be one value per layer or group, a pytree prefix of
the parameters as in :mod:`regjax.penalties`: ``adamw(1e-3, {"encoder": 1e-4, "head":
1e-2})``; each layer then steps as it would with its own scalar.

"Equivalent λ" is the λ of the library's cost (mean loss + λ/(2m)‖w‖²) that gives
the same steps (SGD) or the same minimizer (Adam with L2). AdamW has no such λ: its
fixed point solves Adam(g) = −rθ, i.e. coordinate j feels an L2 strength
m·r·(√v̂_j + ε), larger where gradients are large (Loshchilov & Hutter 2019).
"""

from __future__ import annotations

import optax

from regjax import _checks, transforms
from regjax._typing import ArrayLike, Lam, Mask, ScalarOrSchedule

__all__ = ["adam_l2", "adamw", "sgd_l2", "sgdw"]


def _check_sgd(learning_rate: ScalarOrSchedule, momentum: float | None) -> None:
    """η > 0 (or a schedule ≥ 0) and, when given, momentum in [0, 1)."""
    _checks.check_learning_rate(learning_rate)
    if momentum is not None:
        _checks.check_moment(momentum, "momentum")


def _check_adam(learning_rate: ScalarOrSchedule, b1: float, b2: float, eps: float) -> None:
    """η > 0 (or a schedule ≥ 0), b1 and b2 in [0, 1), eps ≥ 0."""
    _checks.check_learning_rate(learning_rate)
    _checks.check_moment(b1, "b1")
    _checks.check_moment(b2, "b2")
    _checks.check_hyperparameter(eps, "eps")


def sgd_l2(
    learning_rate: ScalarOrSchedule,
    lam: ScalarOrSchedule | Lam,
    *,
    m: ArrayLike,
    momentum: float | None = None,
    mask: Mask = None,
) -> optax.GradientTransformation:
    r"""SGD on mean loss + λ/(2m)‖w‖²: the L2 gradient is added **before** η.

    :math:`\theta \leftarrow \theta - \eta(g + \lambda\theta/m)`; equivalent λ: ``lam``
    itself (PyTorch ``SGD(weight_decay=λ/m)``).

    Args:
      learning_rate: η, a number or a schedule.
      lam: λ ≥ 0 (library convention), a schedule, or one per layer (a pytree prefix).
      m: number of training examples.
      momentum: optional heavy-ball momentum (as ``optax.sgd``).
      mask: which leaves are decayed (default: all but biases and norm parameters).

    Returns:
      ``optax.chain(add_l2_gradient(lam, m=m), optax.sgd(learning_rate))``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> params = {"w": jnp.array([1.0])}
      >>> opt = sgd_l2(0.1, 2.0, m=4)
      >>> updates, _ = opt.update({"w": jnp.zeros(1)}, opt.init(params), params)
      >>> updates["w"]                  # −η·λ/m·w = −0.1·0.5
      Array([-0.05], dtype=float32)
    """
    _check_sgd(learning_rate, momentum)
    return optax.chain(
        transforms.add_l2_gradient(lam, m=m, mask=mask),
        optax.sgd(learning_rate, momentum=momentum),
    )


def sgdw(
    learning_rate: ScalarOrSchedule,
    weight_decay: ScalarOrSchedule | Lam,
    *,
    lr_scaled: bool = True,
    momentum: float | None = None,
    mask: Mask = None,
) -> optax.GradientTransformation:
    r"""SGD with decoupled weight decay, applied **after** η.

    lr-scaled: :math:`\theta \leftarrow \theta - \eta g - \eta r\theta`, equivalent λ =
    m·r; independent (``lr_scaled=False``): :math:`\theta \leftarrow \theta - \eta g -
    d\theta`, equivalent λ = m·d/η. Without momentum both are exactly :func:`sgd_l2`
    at that λ; with momentum they differ (the decay skips the momentum buffer).

    Args:
      learning_rate: η, a number or a schedule.
      weight_decay: r (lr-scaled) or d (independent), ≥ 0, or one per layer (a pytree
        prefix of the parameters).
      lr_scaled: see :func:`regjax.transforms.decoupled_weight_decay`.
      momentum: optional heavy-ball momentum.
      mask: which leaves are decayed (default: all but biases and norm parameters).

    Returns:
      ``optax.chain(optax.sgd(η), decoupled_weight_decay(r, learning_rate=η))``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> params = {"w": jnp.array([1.0])}
      >>> opt = sgdw(0.1, 0.5)
      >>> updates, _ = opt.update({"w": jnp.zeros(1)}, opt.init(params), params)
      >>> updates["w"]                  # −η·r·w, the same step as sgd_l2(0.1, 2.0, m=4)
      Array([-0.05], dtype=float32)

    References:
      Loshchilov & Hutter 2019, arXiv:1711.05101.
    """
    _check_sgd(learning_rate, momentum)
    return optax.chain(
        optax.sgd(learning_rate, momentum=momentum),
        transforms.decoupled_weight_decay(
            weight_decay, mask=mask, lr_scaled=lr_scaled, learning_rate=learning_rate
        ),
    )


def adam_l2(
    learning_rate: ScalarOrSchedule,
    lam: ScalarOrSchedule | Lam,
    *,
    m: ArrayLike,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    mask: Mask = None,
) -> optax.GradientTransformation:
    r"""Adam on mean loss + λ/(2m)‖w‖² ("Adam with L2"): the L2 gradient enters Adam.

    :math:`\theta \leftarrow \theta - \eta\,\hat m/(\sqrt{\hat v} + \epsilon)` with
    moments of :math:`g + \lambda\theta/m`, so the decay is divided by √v̂ too. Its
    fixed points are the minimizers of the library's cost at λ: equivalent λ = ``lam``
    (PyTorch ``Adam(weight_decay=λ/m)``).

    Args:
      learning_rate: η, a number or a schedule.
      lam: λ ≥ 0 (library convention), a schedule, or one per layer (a pytree prefix).
      m: number of training examples.
      b1, b2, eps: Adam's constants.
      mask: which leaves are decayed (default: all but biases and norm parameters).

    Returns:
      ``optax.chain(add_l2_gradient(lam, m=m), optax.adam(η, b1, b2, eps))``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> params = {"w": jnp.array([1.0])}
      >>> opt = adam_l2(0.1, 2.0, m=4)
      >>> with jax.numpy_dtype_promotion("standard"):   # optax.adam mixes float and int
      ...     updates, _ = opt.update({"w": jnp.zeros(1)}, opt.init(params), params)
      >>> round(float(updates["w"][0]), 4)   # first Adam step: −η·sign(λw/m)
      -0.1
    """
    _check_adam(learning_rate, b1, b2, eps)
    return optax.chain(
        transforms.add_l2_gradient(lam, m=m, mask=mask),
        optax.adam(learning_rate, b1=b1, b2=b2, eps=eps),
    )


def adamw(
    learning_rate: ScalarOrSchedule,
    weight_decay: ScalarOrSchedule | Lam,
    *,
    lr_scaled: bool = True,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    mask: Mask = None,
) -> optax.GradientTransformation:
    r"""AdamW: Adam, then decoupled weight decay **after** η.

    lr-scaled (PyTorch ``AdamW``, ``optax.adamw``): :math:`\theta \leftarrow \theta -
    \eta\,\mathrm{Adam}(g) - \eta r\theta`; independent (``lr_scaled=False``, the
    paper's form): :math:`\theta \leftarrow \theta - \eta\,\mathrm{Adam}(g) - d\theta`.
    No λ of the library's cost gives the same steps or the same minimizer: m·r (or
    m·d/η) is only the nominal λ, exact for SGD. Unlike ``optax.adamw`` the default
    mask leaves biases undecayed.

    Args:
      learning_rate: η, a number or a schedule.
      weight_decay: r (lr-scaled) or d (independent), ≥ 0, or one per layer (a pytree
        prefix of the parameters).
      lr_scaled: see :func:`regjax.transforms.decoupled_weight_decay`.
      b1, b2, eps: Adam's constants.
      mask: which leaves are decayed (default: all but biases and norm parameters).

    Returns:
      ``optax.chain(optax.adam(η, b1, b2, eps), decoupled_weight_decay(r, ...))``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> params = {"w": jnp.array([1.0])}
      >>> opt = adamw(0.1, 0.5)
      >>> with jax.numpy_dtype_promotion("standard"):   # optax.adam mixes float and int
      ...     updates, _ = opt.update({"w": jnp.zeros(1)}, opt.init(params), params)
      >>> updates["w"]                  # Adam(0) = 0; decay −η·r·w
      Array([-0.05], dtype=float32)

    References:
      Loshchilov & Hutter 2019, arXiv:1711.05101; Wang & Aitchison 2024,
      arXiv:2405.13698.
    """
    _check_adam(learning_rate, b1, b2, eps)
    return optax.chain(
        optax.adam(learning_rate, b1=b1, b2=b2, eps=eps),
        transforms.decoupled_weight_decay(
            weight_decay, mask=mask, lr_scaled=lr_scaled, learning_rate=learning_rate
        ),
    )
