"""regjax.optimizers: SGD + L2 ≡ SGDW (the same steps), Adam + L2 ≠ AdamW.

Each optimizer is held against an independent implementation (a NumPy SGD loop, the
Optax chain it stands for, ``optax.adamw``). Equivalences are checked in float64. The
transforms they are built from are in test_transforms.py.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from _helpers import (
    ETA,
    LAM,
    STEPS,
    all_but_bias,
    assert_sgd_runs_equal_numpy,
    breast_cancer,
    close,
    logistic_loss,
    train,
    zero_params,
)

from regjax import costs, models, optimizers, penalties

# ------------------------------------------------------------ SGD: L2 ≡ weight decay


def test_sgd_l2_and_sgdw_equal_the_numpy_sgd_with_an_l2_penalty(x64):
    """sgd_l2(η, λ, m), sgdw(η, λ/m) and sgdw(η, η·λ/m, lr_scaled=False): the same steps
    as plain SGD on mean loss + λ/(2m)‖w‖² (the transforms' version of this is
    test_transforms.py::test_sgd_l2_equals_cost_equals_decoupled)."""
    X, y = breast_cancer()
    m = X.shape[0]
    loss = logistic_loss(X, y)
    runs = {
        "sgd_l2": (optimizers.sgd_l2(ETA, LAM, m=m), loss),
        "sgdw": (optimizers.sgdw(ETA, LAM / m), loss),
        "sgdw independent": (optimizers.sgdw(ETA, ETA * LAM / m, lr_scaled=False), loss),
    }
    assert_sgd_runs_equal_numpy(runs, X, y, LAM, ETA, STEPS)


# ------------------------------------------------------------------ Adam: the AdamW point


def test_adam_l2_and_adamw_match_optax_and_differ(x64):
    """Adam + L2 ≠ AdamW: the coupled decay is divided by √v̂, the decoupled one is not.

    Adam + L2 converges to the minimizer of ``costs.logistic_regression(·, λ)``; AdamW at
    the nominal rate λ/m does not (its decay is a fixed η·λ/m per step, tiny next to
    Adam's unit-sized steps, so its weights grow much larger).
    """
    X, y = breast_cancer()
    m, n = X.shape
    loss = logistic_loss(X, y)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    steps, lam = 3000, 10.0
    eta = optax.cosine_decay_schedule(0.05, steps)
    with jax.numpy_dtype_promotion("standard"):  # optax.adam mixes float and int
        adam_l2 = train(optimizers.adam_l2(eta, lam, m=m), loss, zero_params(n), steps)
        adamw = train(optimizers.adamw(eta, lam / m), loss, zero_params(n), steps)
        ref_l2 = train(
            optax.chain(optax.add_decayed_weights(lam / m, mask=all_but_bias), optax.adam(eta)),
            loss,
            zero_params(n),
            steps,
        )
        ref_w = train(
            optax.adamw(eta, weight_decay=lam / m, mask=all_but_bias), loss, zero_params(n), steps
        )
        adamw_ind = train(
            optimizers.adamw(0.05, 0.05 * lam / m, lr_scaled=False), loss, zero_params(n), 300
        )
        adamw_lr = train(optimizers.adamw(0.05, lam / m), loss, zero_params(n), 300)
    close(adam_l2, ref_l2, rtol=1e-10, atol=1e-12)
    close(adamw, ref_w, rtol=1e-10, atol=1e-12)
    close(adamw_ind, adamw_lr, rtol=1e-10, atol=1e-12)  # constant η: d = η·r

    def grad_norm(p):
        g = jax.grad(lambda q: costs.logistic_regression(q, Xj, yj, lam))(p)
        return float(jnp.sqrt(sum(jnp.sum(v**2) for v in jax.tree.leaves(g))))

    assert grad_norm(adam_l2) < 1e-9  # a stationary point of the regularized cost
    assert grad_norm(adamw) > 1e-2  # not one
    rel = float(jnp.linalg.norm(adam_l2["w"] - adamw["w"]) / jnp.linalg.norm(adam_l2["w"]))
    assert rel > 0.5
    assert float(jnp.linalg.norm(adamw["w"])) > 2 * float(jnp.linalg.norm(adam_l2["w"]))


# ------------------------------------------------------------ bad hyperparameters

_NAMED = {
    "sgd_l2": lambda lr, **kw: optimizers.sgd_l2(lr, 1.0, m=10, **kw),
    "sgdw": lambda lr, **kw: optimizers.sgdw(lr, 0.1, **kw),
    "sgdw_independent": lambda lr, **kw: optimizers.sgdw(lr, 0.1, lr_scaled=False, **kw),
    "adam_l2": lambda lr, **kw: optimizers.adam_l2(lr, 1.0, m=10, **kw),
    "adamw": lambda lr, **kw: optimizers.adamw(lr, 0.1, **kw),
    "adamw_independent": lambda lr, **kw: optimizers.adamw(lr, 0.1, lr_scaled=False, **kw),
}


@pytest.mark.parametrize("name", list(_NAMED))
@pytest.mark.parametrize(
    ("lr", "error", "match"),
    [
        (-0.1, ValueError, r"^learning_rate must be >= 0, got -0.1"),
        (0.0, ValueError, r"^learning_rate must be > 0"),
        (math.nan, ValueError, r"^learning_rate must be finite"),
        ("0.1", TypeError, r"^learning_rate must be a real number"),
        (jnp.array([0.1, 0.2]), ValueError, r"^learning_rate must be a scalar \("),
        (
            optax.linear_schedule(0.1, -0.1, 100),  # negative after step 50
            ValueError,
            r"^learning_rate must be a schedule of finite values >= 0; learning_rate\(100\) = -0.1",
        ),
    ],
)
def test_every_optimizer_refuses_a_bad_learning_rate_alike(name, lr, error, match):
    """Every named optimizer refuses the same learning rates with the same message
    (before: sgd_l2, adam_l2 and the independent AdamW/SGDW took a negative η, 0 or NaN)."""
    with pytest.raises(error, match=match):
        _NAMED[name](lr)


@pytest.mark.parametrize("name", list(_NAMED))
def test_a_schedule_that_decays_to_zero_is_accepted(name):
    params = {"w": jnp.ones(2)}
    opt = _NAMED[name](optax.cosine_decay_schedule(0.1, 100))  # ends at exactly 0
    with jax.numpy_dtype_promotion("standard"):  # optax's schedules mix int and float
        updates, _ = opt.update({"w": jnp.zeros(2)}, opt.init(params), params)
    assert bool(jnp.all(jnp.isfinite(updates["w"])))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: optimizers.sgd_l2(0.1, 1.0, m=10, momentum=-0.5), r"momentum must be in \[0, 1\)"),
        (lambda: optimizers.sgdw(0.1, 0.1, momentum=1.0), r"momentum must be in \[0, 1\)"),
        (lambda: optimizers.adam_l2(0.1, 1.0, m=10, b1=1.0), r"b1 must be in \[0, 1\)"),
        (lambda: optimizers.adamw(0.1, 0.1, b2=1.0), r"b2 must be in \[0, 1\)"),  # 1 − b2ᵗ = 0
        (lambda: optimizers.adamw(0.1, 0.1, eps=-1e-8), r"eps must be >= 0"),
        (lambda: optimizers.sgd_l2(0.1, 1.0, m=2.5), r"m \(the number of .*\) must be a pos"),
        (lambda: optimizers.adam_l2(0.1, -1.0, m=10), r"lam must be >= 0"),
        (lambda: optimizers.sgdw(0.1, -0.1), r"rate must be >= 0"),
    ],
)
def test_bad_momentum_adam_constants_m_and_strengths(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --------------------------------------------------------------- one λ per layer


def _mlp():
    """A (30, 5, 1) MLP (a list of two layers) on 100 breast-cancer rows, float64, and
    its mean cross-entropy without a penalty."""
    X, y = breast_cancer(100)
    params = models.init_mlp(jax.random.key(1), (X.shape[1], 5, 1), dtype=jnp.float64)
    Xj, Yj = jnp.asarray(X), jnp.asarray(y[:, None])
    return params, lambda p: costs.neural_network(p, Xj, Yj, 0.0), X.shape[0]


def _only(layer):
    """An Optax mask: the weight matrix of one layer of a two-layer list."""
    return [{"W": i == layer, "b": False} for i in range(2)]


def test_per_layer_sgdw_equals_per_layer_sgd_l2_and_the_penalty(x64):
    """SGD with λ = [λ₁, λ₂] (one per layer): sgd_l2, sgdw at λ/m, sgdw independent at
    η·λ/m, and SGD on loss + penalties.l2(·, [λ₁, λ₂]) take the same steps."""
    params, loss, m = _mlp()
    lams, eta, steps = [1.0, 50.0], 0.5, 25
    ref = train(optax.sgd(eta), lambda p: loss(p) + penalties.l2(p, lams, m=m), params, steps)
    for opt in [
        optimizers.sgd_l2(eta, lams, m=m),
        optimizers.sgdw(eta, [lam / m for lam in lams]),
        optimizers.sgdw(eta, [eta * lam / m for lam in lams], lr_scaled=False),
    ]:
        close(train(opt, loss, params, steps), ref)
    # (each layer's own λ matters: test_transforms.py swaps them and the weights move)


def test_per_layer_adamw_equals_optax_with_each_layers_own_decay(x64):
    """adamw(η, [r₁, r₂]) = Adam, then each layer's W decayed at its own scalar rate
    (optax.add_decayed_weights masked to that layer), lr-scaled or independent."""
    params, loss, _ = _mlp()
    eta, rates, steps = 0.02, [0.05, 2.0], 60
    by_layer = [optax.masked(optax.add_decayed_weights(r), _only(k)) for k, r in enumerate(rates)]
    independent = [
        optax.masked(optax.add_decayed_weights(-eta * r), _only(k)) for k, r in enumerate(rates)
    ]
    runs = {
        "lr-scaled": (optimizers.adamw(eta, rates),
                      optax.chain(optax.scale_by_adam(), *by_layer, optax.scale(-eta))),
        "independent": (optimizers.adamw(eta, [eta * r for r in rates], lr_scaled=False),
                        optax.chain(optax.adam(eta), *independent)),
    }  # fmt: skip
    with jax.numpy_dtype_promotion("standard"):  # optax.adam mixes float and int
        for ours, theirs in runs.values():
            close(train(ours, loss, params, steps), train(theirs, loss, params, steps), 1e-10)
        got, one = (train(optimizers.adamw(eta, r), loss, params, steps) for r in (rates, 0.05))
    assert not np.allclose(got[1]["W"], one[1]["W"], rtol=1e-3)  # layer 2 got its own r₂


_STRENGTH = {
    "sgd_l2": ("lam", lambda s: optimizers.sgd_l2(0.1, s, m=10)),
    "sgdw": ("rate", lambda s: optimizers.sgdw(0.1, s)),
    "sgdw_independent": ("rate", lambda s: optimizers.sgdw(0.1, s, lr_scaled=False)),
    "adam_l2": ("lam", lambda s: optimizers.adam_l2(0.1, s, m=10)),
    "adamw": ("rate", lambda s: optimizers.adamw(0.1, s)),
    "adamw_independent": ("rate", lambda s: optimizers.adamw(0.1, s, lr_scaled=False)),
}


def _layers():
    return [{"W": jnp.ones((2, 3)), "b": jnp.ones(2)}, {"W": jnp.ones((1, 2)), "b": jnp.ones(1)}]


@pytest.mark.parametrize("name", list(_STRENGTH))
def test_every_named_optimizer_takes_one_strength_per_layer(name):
    """[0.2, 3.0] steps layer k as the scalar strength of layer k would (each optimizer
    is leafwise), with a per-layer schedule too."""
    make, params = _STRENGTH[name][1], _layers()
    grads = jax.tree.map(lambda v: -0.5 * v, params)
    strengths = [0.2, optax.linear_schedule(3.0, 1.0, 2)]
    opts = [make(strengths), *(make(s) for s in strengths)]
    states = [opt.init(params) for opt in opts]
    with jax.numpy_dtype_promotion("standard"):  # optax.adam mixes float and int
        for _ in range(3):
            steps = [opt.update(grads, st, params) for opt, st in zip(opts, states)]
            (out, *alone), states = zip(*steps)
            for k in range(2):
                close(out[k], alone[k][k], rtol=1e-6, atol=1e-7)
    assert not np.allclose(out[1]["W"], alone[0][1]["W"])  # layer 2 did not get 0.2


@pytest.mark.parametrize("name", list(_STRENGTH))
def test_a_bad_per_layer_strength_is_refused_naming_it(name):
    arg, make = _STRENGTH[name]
    params = _layers()
    with pytest.raises(ValueError, match=rf"^{arg} must have the structure of params"):
        make([0.1, 0.1, 0.1]).init(params)
    with pytest.raises(ValueError, match=rf"^{arg} must have the structure of params"):
        make({"W": 0.1, "b": 0.1}).init(params)
    with pytest.raises(ValueError, match=rf"^{arg} must be >= 0, got -0.1"):
        make([0.1, -0.1])
    with pytest.raises(ValueError, match=rf"^{arg} must be finite"):
        make([float("inf"), 0.1])
