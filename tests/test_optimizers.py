"""regjax.optimizers: SGD + L2 ≡ SGDW (the same steps), Adam + L2 ≠ AdamW.

Each optimizer is held against an independent implementation (a NumPy SGD loop, the
Optax chain it stands for, ``optax.adamw``). Equivalences are checked in float64. The
transforms they are built from are in test_transforms.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
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
