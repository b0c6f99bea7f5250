"""regjax.optimizers: SGD + L2 ≡ SGDW (the same steps), Adam + L2 ≠ AdamW.

Each optimizer is held against an independent implementation (a NumPy SGD loop, the
Optax chain it stands for, ``optax.adamw``). Equivalences are checked in float64. The
transforms they are built from are in test_transforms.py.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
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

from regjax import costs, optimizers

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
        (jnp.array([0.1, 0.2]), ValueError, r"^learning_rate must be a scalar or a schedule"),
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
