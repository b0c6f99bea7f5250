r"""Weight-decay variants as Optax transforms: coupled L2, decoupled decay, proximal L1.

Each factory returns an :class:`optax.GradientTransformation` that chains with any
Optax optimizer. Where a transform sits in the chain matters:

- :func:`add_l2_gradient` and :func:`decay_toward` change the *gradient*, so they go
  **before** the optimizer: ``optax.chain(add_l2_gradient(lam, m=m), optax.adam(lr))``.
- :func:`decoupled_weight_decay`, :func:`prox_l1` and :func:`prox_elastic_net` act on
  the *step*, so they go **last**, after the optimizer has applied the learning rate
  (the incoming updates are then :math:`-\eta u`):
  ``optax.chain(optax.adam(lr), decoupled_weight_decay(wd, learning_rate=lr))``.

In the library's convention (mean loss + λ/(2m)‖w‖²) plain SGD gives

.. math::

    \theta \leftarrow \theta - \eta\Big(g + \frac{\lambda}{m}\theta\Big)
    = \Big(1 - \frac{\eta\lambda}{m}\Big)\theta - \eta g,

which is ``add_l2_gradient(λ, m=m)``, ``decoupled_weight_decay(λ/m, lr_scaled=True)``
and ``decoupled_weight_decay(ηλ/m, lr_scaled=False)`` alike. With Adam they differ:
the coupled term is divided by :math:`\sqrt{\hat v}`, the decoupled one is not.

Every hyperparameter (λ, rate, learning rate) may be a Python number, a traced array
(``jit``/``vmap`` over a λ grid without recompiling, ``optax.inject_hyperparams``) or
an Optax schedule evaluated at the step count kept in the transform's state (when the
transform is built, a schedule is evaluated at steps 0, 1, 2, 5, …, 10⁶ and must be
finite and ≥ 0 there; a learning rate that is a number must be > 0). λ and the decay
rate may also be a pytree prefix of the parameters, one value (or schedule) per layer
or group, as in :mod:`regjax.penalties`: ``add_l2_gradient({"enc": 1.0, "head": 10.0},
m=m)``; ``init`` checks its structure against the parameters. Masks have the meaning
of :mod:`regjax.penalties` (``None``: every leaf but biases and norm parameters) and
go through ``optax.masked``. With ``optax.inject_hyperparams`` pass a callable mask in
``static_args=("mask",)`` (it would otherwise be taken for a schedule).

References:
  I. Loshchilov, F. Hutter. Decoupled Weight Decay Regularization. ICLR 2019,
  arXiv:1711.05101.
  X. Wang, L. Aitchison. How to set AdamW's weight decay as you scale model and
  dataset size. 2024, arXiv:2405.13698.
  X. Li, Y. Grandvalet, F. Davoine. Explicit Inductive Bias for Transfer Learning with
  Convolutional Networks (L2-SP). ICML 2018, arXiv:1802.01483.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from regjax import _checks, penalties, prox
from regjax._masks import broadcast_prefix
from regjax._typing import ArrayLike, Lam, Mask, Params, PyTree, ScalarOrSchedule

__all__ = [
    "CountState",
    "add_l2_gradient",
    "decay_toward",
    "decoupled_weight_decay",
    "prox_elastic_net",
    "prox_l1",
]


class CountState(NamedTuple):
    """State of a regjax transform: the step count at which schedules are evaluated."""

    count: jax.Array  # type: ignore[assignment]  # (optax's name; shadows tuple.count)


def _at(value: ScalarOrSchedule, count: jax.Array) -> ArrayLike:
    return value(count) if callable(value) else value


def _need_params(params: Params | None, name: str) -> None:
    if params is None:
        raise ValueError(
            f"{name} needs the current parameters: call update(updates, state, params) "
            "(optax.apply_updates is not enough)"
        )


def _per_leaf(value: Lam, tree: PyTree, count: jax.Array, name: str) -> PyTree:
    """``value`` at step ``count`` for each leaf of ``tree``, a pytree of its structure:
    ``value`` is a scalar or a schedule (a pytree leaf), or a prefix of ``tree`` of them,
    broadcast as the penalties' λ is (a ValueError naming ``name`` if it does not fit)."""
    values = broadcast_prefix(value, tree, name)
    at = {id(v): _at(v, count) for v in values}  # each schedule evaluated once
    return jax.tree.unflatten(jax.tree.structure(tree), [at[id(v)] for v in values])


def _cast(value: ArrayLike, like: jax.Array) -> jax.Array:
    return jnp.asarray(value).astype(like.dtype)


def _masked(inner: optax.GradientTransformation, mask: Mask) -> optax.GradientTransformation:
    """``optax.masked(inner, ...)`` with the mask resolved as in :mod:`regjax.penalties`."""

    def mask_tree(tree: Params) -> PyTree:
        flags = penalties.resolve_mask(tree, mask)  # ValueError/TypeError if mismatched
        return jax.tree.unflatten(jax.tree.structure(tree), flags)

    return optax.masked(inner, mask_tree)


def _stateful(
    name: str,
    step: Callable[[optax.Updates, Params, jax.Array], optax.Updates],
    mask: Mask,
    strength: tuple[str, Lam],
) -> optax.GradientTransformation:
    """``updates -> step(updates, params, count)`` on the leaves ``mask`` keeps, with a
    step counter; ``init`` checks ``strength = (argument, λ or rate)`` against params."""

    def init_fn(params: Params) -> CountState:
        del params
        return CountState(count=jnp.zeros([], jnp.int32))

    def update_fn(
        updates: optax.Updates, state: CountState, params: Params | None = None
    ) -> tuple[optax.Updates, CountState]:
        _need_params(params, name)
        new_updates = step(updates, params, state.count)
        return new_updates, CountState(count=optax.safe_increment(state.count))

    inner = _masked(optax.GradientTransformation(init_fn, update_fn), mask)

    def checked_init(params: Params) -> optax.OptState:
        arg, value = strength  # checked on the whole tree, before the mask hides leaves
        if any(v is None for v in broadcast_prefix(value, params, arg)):
            raise ValueError(f"{arg} is None for some leaves of params (a number >= 0 each)")
        return inner.init(params)

    return optax.GradientTransformation(checked_init, inner.update)


def add_l2_gradient(
    lam: ScalarOrSchedule | Lam, *, m: ArrayLike, mask: Mask = None
) -> optax.GradientTransformation:
    r"""Coupled L2: add the gradient of the penalty λ/(2m)‖w‖² to the gradient.

    .. math::

        g \leftarrow g + \frac{\lambda}{m}\,\theta \qquad(\text{masked leaves only}),

    exactly :func:`regjax.closed_form.l2_grad` of ``penalties.l2(..., scale="per_example")``.
    Place it **before** the optimizer. With SGD this is the same step as
    ``decoupled_weight_decay(λ/m, lr_scaled=True)``; with Adam the term is rescaled by
    Adam's preconditioner ("Adam with L2", PyTorch ``Adam(weight_decay=λ/m)``).

    Args:
      lam: λ ≥ 0 in the library's convention: a number, a traced scalar or a schedule,
        or a pytree prefix of the parameters holding them (one λ per layer or group).
      m: number of training examples (> 0).
      mask: which leaves are decayed: ``None`` (all but biases and norm parameters),
        ``True``, a boolean pytree, a callable ``params -> boolean pytree`` or
        :func:`regjax.penalties.path_mask`.

    Returns:
      An ``optax.GradientTransformation``; its ``update`` requires ``params``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> params = {"w": jnp.array([1.0, -2.0]), "b": jnp.array(3.0)}
      >>> tx = add_l2_gradient(4.0, m=2)
      >>> grads = {"w": jnp.zeros(2), "b": jnp.zeros(())}
      >>> updates, _ = tx.update(grads, tx.init(params), params)
      >>> updates["w"], updates["b"]          # (4/2)·w; the bias is not decayed
      (Array([ 2., -4.], dtype=float32), Array(0., dtype=float32))

    References:
      A. Ng, Machine Learning (Coursera); Loshchilov & Hutter 2019, arXiv:1711.05101.
    """
    _checks.check_hyperparameter(lam, "lam", per_leaf=True)
    _checks.check_count(m, "m", "the number of training examples")

    def step(updates: optax.Updates, params: Params, count: jax.Array) -> optax.Updates:
        lams = _per_leaf(lam, params, count, "lam")
        return jax.tree.map(
            lambda g, p, lam_t: g + _cast(lam_t, p) / _cast(m, p) * p, updates, params, lams
        )

    return _stateful("add_l2_gradient", step, mask, ("lam", lam))


def decoupled_weight_decay(
    rate: ScalarOrSchedule | Lam,
    *,
    mask: Mask = None,
    lr_scaled: bool = True,
    learning_rate: ScalarOrSchedule | None = None,
) -> optax.GradientTransformation:
    r"""Decoupled weight decay, applied after the optimizer's step.

    Place it **last** in a chain; the incoming updates are the optimizer's
    :math:`-\eta_t u_t`. The resulting step is

    .. math::

        \theta \leftarrow \theta - \eta_t u_t - \eta_t\,r\,\theta
        \quad(\text{lr-scaled}), \qquad
        \theta \leftarrow \theta - \eta_t u_t - r\,\theta \quad(\text{independent}).

    ``lr_scaled=True`` is PyTorch ``AdamW`` and ``optax.adamw`` (r = their
    ``weight_decay``); ``lr_scaled=False`` is the paper's form (Loshchilov & Hutter)
    that Wang & Aitchison recommend, where the decay per step does not follow η.
    With plain SGD, r = λ/m (lr-scaled) or r = ηλ/m (independent) is the same step
    as the L2 penalty λ/(2m)‖w‖².

    Args:
      rate: r ≥ 0: a number, a traced scalar or a schedule, or a pytree prefix of the
        parameters holding them (one rate per layer or group).
      mask: which leaves are decayed (default: all but biases and norm parameters); see
        :mod:`penalties`.
      lr_scaled: multiply the decay by ``learning_rate`` (η_t).
      learning_rate: η, a number or an Optax schedule evaluated at this transform's
        step count (give the optimizer the same one); required when ``lr_scaled``,
        ignored otherwise.

    Returns:
      An ``optax.GradientTransformation``; its ``update`` requires ``params``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> params = {"w": jnp.array([1.0, -2.0]), "b": jnp.array(3.0)}
      >>> tx = optax.chain(optax.sgd(0.5), decoupled_weight_decay(0.2, learning_rate=0.5))
      >>> grads = {"w": jnp.zeros(2), "b": jnp.zeros(())}
      >>> updates, _ = tx.update(grads, tx.init(params), params)
      >>> updates["w"]                        # −η·r·w = −0.1·w
      Array([-0.1,  0.2], dtype=float32)

    References:
      Loshchilov & Hutter 2019, arXiv:1711.05101; Wang & Aitchison 2024,
      arXiv:2405.13698.
    """
    _checks.check_hyperparameter(rate, "rate", per_leaf=True)
    if not isinstance(lr_scaled, bool):
        raise TypeError(f"lr_scaled must be a bool, got {lr_scaled!r}")
    if lr_scaled:
        if learning_rate is None:
            raise ValueError(
                "learning_rate is required when lr_scaled=True (the decay is η·rate·θ); "
                "pass the optimizer's learning rate or schedule, or lr_scaled=False"
            )
        _checks.check_learning_rate(learning_rate)

    def step(updates: optax.Updates, params: Params, count: jax.Array) -> optax.Updates:
        rates = _per_leaf(rate, params, count, "rate")
        eta_t = _at(learning_rate, count) if lr_scaled and learning_rate is not None else 1

        def leaf(u: jax.Array, p: jax.Array, rate_t: ArrayLike) -> jax.Array:
            return u - _cast(eta_t, p) * _cast(rate_t, p) * p

        return jax.tree.map(leaf, updates, params, rates)

    return _stateful("decoupled_weight_decay", step, mask, ("rate", rate))


def _prox_step(
    name: str,
    lam: ScalarOrSchedule | Lam,
    l1_ratio: ArrayLike,
    m: ArrayLike,
    learning_rate: ScalarOrSchedule,
    mask: Mask,
) -> optax.GradientTransformation:
    _checks.check_hyperparameter(lam, "lam", per_leaf=True)
    _checks.check_count(m, "m", "the number of training examples")
    _checks.check_learning_rate(learning_rate)

    def step(updates: optax.Updates, params: Params, count: jax.Array) -> optax.Updates:
        lams, eta_t = _per_leaf(lam, params, count, "lam"), _at(learning_rate, count)

        def leaf(u: jax.Array, p: jax.Array, lam_t: ArrayLike) -> jax.Array:
            step_size = _cast(eta_t, p) * _cast(lam_t, p) / _cast(m, p)  # η·λ/m
            rho = _cast(l1_ratio, p)
            w = prox.elastic_net(p + u, step_size, l1_ratio=rho)
            return w - p  # p + (w − p) is exactly 0 where w is 0

        return jax.tree.map(leaf, updates, params, lams)

    return _stateful(name, step, mask, ("lam", lam))


def prox_l1(
    lam: ScalarOrSchedule | Lam, *, m: ArrayLike, learning_rate: ScalarOrSchedule, mask: Mask = None
) -> optax.GradientTransformation:
    r"""Proximal L1 step (soft-thresholding) for the penalty λ/m‖w‖₁; exact zeros.

    Place it **last**, after the optimizer's step :math:`z = \theta - \eta g`:

    .. math::

        \theta \leftarrow \operatorname{sign}(z)\,\max\!\big(|z| - \eta\lambda/m,\ 0\big).

    With ``optax.sgd(η)`` this is ISTA for mean loss + λ/m‖w‖₁, whose minimizer is
    scikit-learn's ``Lasso(alpha=λ/m)`` for squared error (mean ½·MSE).

    Args:
      lam: λ ≥ 0 (library convention): a number, a traced scalar or a schedule, or a
        pytree prefix of the parameters holding them (one λ per layer or group).
      m: number of training examples (> 0).
      learning_rate: η of the preceding step, a number or a schedule.
      mask: which leaves are penalized (default: all but biases and norm parameters).

    Returns:
      An ``optax.GradientTransformation``; its ``update`` requires ``params``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> params = {"w": jnp.array([0.5, -2.0]), "b": jnp.array(3.0)}
      >>> tx = optax.chain(optax.sgd(1.0), prox_l1(1.0, m=1, learning_rate=1.0))
      >>> grads = {"w": jnp.zeros(2), "b": jnp.zeros(())}
      >>> updates, _ = tx.update(grads, tx.init(params), params)
      >>> optax.apply_updates(params, updates)["w"]     # soft-threshold by 1
      Array([ 0., -1.], dtype=float32)

    References:
      I. Daubechies, M. Defrise, C. De Mol 2004 (ISTA); R. Tibshirani 1996 (lasso).
    """
    return _prox_step("prox_l1", lam, 1.0, m, learning_rate, mask)


def prox_elastic_net(
    lam: ScalarOrSchedule | Lam,
    *,
    l1_ratio: ArrayLike,
    m: ArrayLike,
    learning_rate: ScalarOrSchedule,
    mask: Mask = None,
) -> optax.GradientTransformation:
    r"""Proximal step for the elastic net :math:`\frac{\lambda}{m}\big(\rho\|w\|_1 +
    \frac{1-\rho}{2}\|w\|_2^2\big)` (as in :func:`regjax.penalties.elastic_net`).

    Place it **last**; with :math:`z = \theta - \eta g`,

    .. math::

        \theta \leftarrow \frac{\operatorname{sign}(z)\max(|z| - \eta\lambda\rho/m,\ 0)}
        {1 + \eta\lambda(1-\rho)/m}.

    The minimizer is scikit-learn's ``ElasticNet(alpha=λ/m, l1_ratio=ρ)``.

    Args:
      lam: λ ≥ 0: a number, a traced scalar or a schedule, or a pytree prefix of the
        parameters holding them (one λ per layer or group).
      l1_ratio: ρ in [0, 1] (1 is :func:`prox_l1`).
      m: number of training examples (> 0).
      learning_rate: η of the preceding step, a number or a schedule.
      mask: which leaves are penalized (default: all but biases and norm parameters).

    Returns:
      An ``optax.GradientTransformation``; its ``update`` requires ``params``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> params = {"w": jnp.array([0.5, -3.0])}
      >>> tx = optax.chain(optax.sgd(1.0),
      ...                  prox_elastic_net(2.0, l1_ratio=0.5, m=1, learning_rate=1.0))
      >>> updates, _ = tx.update({"w": jnp.zeros(2)}, tx.init(params), params)
      >>> optax.apply_updates(params, updates)["w"]     # soft(z, 1) / (1 + 1)
      Array([ 0., -1.], dtype=float32)

    References:
      H. Zou, T. Hastie. Regularization and variable selection via the elastic net, 2005.
    """
    _checks.check_fraction(l1_ratio)
    return _prox_step("prox_elastic_net", lam, l1_ratio, m, learning_rate, mask)


def decay_toward(
    reference: Params, rate: ScalarOrSchedule | Lam, *, mask: Mask = None
) -> optax.GradientTransformation:
    r"""L2 toward a reference (L2-SP): add the gradient of ½·rate·‖θ − θ₀‖².

    .. math::

        g \leftarrow g + r\,(\theta - \theta_0) \qquad(\text{masked leaves only}).

    Place it **before** the optimizer, like :func:`add_l2_gradient` (which is the case
    θ₀ = 0 with r = λ/m); r is Li et al.'s α, and λ = m·r in the library's convention.
    Use it to fine-tune a pretrained θ₀ without forgetting it.

    Args:
      reference: θ₀, a pytree with the structure and shapes of the parameters.
      rate: r ≥ 0: a number, a traced scalar or a schedule, or a pytree prefix of the
        parameters holding them (one rate per layer or group).
      mask: which leaves are pulled toward θ₀ (default: all but biases and norm parameters).

    Returns:
      An ``optax.GradientTransformation``; its ``update`` requires ``params``.

    Example:
      >>> import jax.numpy as jnp
      >>> params, ref = {"w": jnp.array([1.0, 2.0])}, {"w": jnp.array([1.0, 0.0])}
      >>> tx = decay_toward(ref, 0.5)
      >>> tx.update({"w": jnp.zeros(2)}, tx.init(params), params)[0]["w"]
      Array([0., 1.], dtype=float32)

    References:
      Li, Grandvalet & Davoine 2018 (L2-SP), arXiv:1802.01483.
    """
    _checks.check_hyperparameter(rate, "rate", per_leaf=True)
    if reference is None:
        raise ValueError("reference must be a pytree of parameters θ₀, got None")

    def check(params: Params) -> None:
        ref_def, par_def = jax.tree.structure(reference), jax.tree.structure(params)
        if ref_def != par_def:  # type: ignore[operator]
            raise ValueError(
                f"reference must have the structure of params; reference is {ref_def}, "
                f"params is {par_def}"
            )
        for r, p in zip(jax.tree.leaves(reference), jax.tree.leaves(params)):
            if jnp.shape(r) != jnp.shape(p):
                raise ValueError(
                    f"reference leaf shape {jnp.shape(r)} does not match params {jnp.shape(p)}"
                )

    def step(updates: optax.Updates, diff: Params, count: jax.Array) -> optax.Updates:
        rates = _per_leaf(rate, diff, count, "rate")
        return jax.tree.map(lambda g, d, r: g + _cast(r, d) * d, updates, diff, rates)

    inner = _stateful("decay_toward", step, mask, ("rate", rate))

    def init_fn(params: Params) -> optax.OptState:
        check(params)
        return inner.init(params)

    def update_fn(
        updates: optax.Updates, state: optax.OptState, params: Params | None = None
    ) -> tuple[optax.Updates, optax.OptState]:
        _need_params(params, "decay_toward")
        check(params)
        diff = jax.tree.map(lambda p, r: p - _cast(r, p), params, reference)
        return inner.update(updates, state, diff)

    return optax.GradientTransformation(init_fn, update_fn)
