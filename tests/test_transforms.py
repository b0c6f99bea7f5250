"""regjax.transforms: coupled L2, decoupled decay, decay toward a reference, proximal
L1 and elastic net, masks, λ grids under jit(vmap), bad hyperparameters.

Expected values come from the math (closed-form decay, soft-thresholding), from an
independent implementation (a NumPy loop, optax.add_decayed_weights) or from
scikit-learn (Lasso, ElasticNet). Equivalences are checked in float64. The optimizers
built from these transforms are in test_optimizers.py; Flax and Equinox trees in
test_frameworks.py.
"""

from __future__ import annotations

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
    numpy_sgd_l2,
    squared_loss,
    train,
    zero_params,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.experimental import checkify
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet, Lasso

from regjax import _traced, costs, models, penalties, transforms

# ---------------------------------------------------------------- problems


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    """Diabetes regression (442 × 10), standardized features and target."""
    X, y = load_diabetes(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()


# ------------------------------------------------------------ SGD: L2 ≡ weight decay


def test_sgd_l2_equals_cost_equals_decoupled(x64):
    X, y = breast_cancer()
    m = X.shape[0]
    loss = logistic_loss(X, y)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def cost(p):
        return costs.logistic_regression(p, Xj, yj, LAM)

    runs = {
        "add_l2_gradient": (
            optax.chain(transforms.add_l2_gradient(LAM, m=m), optax.sgd(ETA)),
            loss,
        ),
        "costs + penalty": (optax.sgd(ETA), cost),
        "decoupled lr-scaled": (
            optax.chain(
                optax.sgd(ETA), transforms.decoupled_weight_decay(LAM / m, learning_rate=ETA)
            ),
            loss,
        ),
        "decoupled independent": (
            optax.chain(
                optax.sgd(ETA),
                transforms.decoupled_weight_decay(ETA * LAM / m, lr_scaled=False),
            ),
            loss,
        ),
        "optax.add_decayed_weights": (
            optax.chain(optax.add_decayed_weights(LAM / m, mask=all_but_bias), optax.sgd(ETA)),
            loss,
        ),
    }
    assert_sgd_runs_equal_numpy(runs, X, y, LAM, ETA, STEPS)


def test_sgd_equivalence_with_schedules(x64):
    """Schedules are evaluated at the same step as the optimizer's."""
    X, y = breast_cancer()
    m, n = X.shape
    loss = logistic_loss(X, y)

    # float64 schedules (optax's own return float32 at an int32 step count)
    def eta(t):
        return 0.8 * 0.9 ** (jnp.asarray(t, jnp.float64) / 10)

    def lam(t):
        return 20.0 - 19.0 * jnp.minimum(jnp.asarray(t, jnp.float64) / STEPS, 1.0)

    etas = [float(eta(t)) for t in range(STEPS)]
    lams = [float(lam(t)) for t in range(STEPS)]
    w_ref, b_ref = numpy_sgd_l2(X, y, None, etas, lams)

    def rate(t):  # the independent decay d_t = η_t·λ_t/m
        return eta(t) * lam(t) / m

    for opt in [
        optax.chain(transforms.add_l2_gradient(lam, m=m), optax.sgd(eta)),
        optax.chain(
            optax.sgd(eta),
            transforms.decoupled_weight_decay(lambda t: lam(t) / m, learning_rate=eta),
        ),
        optax.chain(optax.sgd(eta), transforms.decoupled_weight_decay(rate, lr_scaled=False)),
    ]:
        p = train(opt, loss, zero_params(n), STEPS)
        np.testing.assert_allclose(p["w"], w_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(p["b"], b_ref, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------- decay_toward


def test_decay_toward_zero_reference_is_add_decayed_weights(x64):
    X, y = breast_cancer(200)
    m, n = X.shape
    loss = logistic_loss(X, y)
    rate = 0.05
    ours = train(
        optax.chain(transforms.decay_toward(zero_params(n), rate), optax.sgd(ETA)),
        loss,
        zero_params(n),
        100,
    )
    ref = train(
        optax.chain(optax.add_decayed_weights(rate, mask=all_but_bias), optax.sgd(ETA)),
        loss,
        zero_params(n),
        100,
    )
    close(ours, ref)
    via_l2 = train(
        optax.chain(transforms.add_l2_gradient(rate * m, m=m), optax.sgd(ETA)),
        loss,
        zero_params(n),
        100,
    )
    close(ours, via_l2)


def test_decay_toward_closed_form_decay(x64):
    """With no data gradient, θ_t − θ₀ = (1 − η·r)^t (θ_0 − θ₀) on masked leaves."""
    ref = {"w": jnp.array([1.0, -2.0, 0.5]), "b": jnp.array(4.0)}
    start = {"w": jnp.array([3.0, 0.0, -1.0]), "b": jnp.array(-1.0)}
    eta, rate, steps = 0.1, 0.3, 50
    opt = optax.chain(transforms.decay_toward(ref, rate), optax.sgd(eta))
    p = train(opt, lambda q: jnp.zeros(()), start, steps)
    expected = np.asarray(ref["w"]) + (1 - eta * rate) ** steps * np.asarray(start["w"] - ref["w"])
    np.testing.assert_allclose(p["w"], expected, rtol=1e-13)
    assert float(p["b"]) == -1.0  # the bias is not pulled


def test_decay_toward_minimizes_l2_sp(x64):
    """GD + decay_toward → argmin ½·MSE + r/2‖w − w₀‖² (normal equations in NumPy)."""
    X, y = _diabetes()
    m, n = X.shape
    rate = 0.3
    w0 = np.linspace(-0.5, 0.5, n)
    A = np.c_[X, np.ones(m)]
    D = np.diag([1.0] * n + [0.0])
    theta = np.linalg.solve(A.T @ A / m + rate * D, A.T @ y / m + rate * D @ np.r_[w0, 0.0])
    ref = {"w": jnp.asarray(w0), "b": jnp.zeros(())}
    opt = optax.chain(transforms.decay_toward(ref, rate), optax.sgd(0.2))
    p = train(opt, squared_loss(X, y), zero_params(n), 3000)
    np.testing.assert_allclose(p["w"], theta[:n], atol=1e-10)
    np.testing.assert_allclose(p["b"], theta[n], atol=1e-10)


# ---------------------------------------------------------------- proximal L1 / elastic net


def test_prox_l1_one_step_soft_thresholds():
    params = {"w": jnp.array([0.5, -2.0, 1.2, -0.3]), "b": jnp.array(0.7)}
    grads = {"w": jnp.array([1.0, 1.0, -1.0, 0.0]), "b": jnp.array(1.0)}
    eta, lam, m = 0.5, 4.0, 2  # threshold η·λ/m = 1
    opt = optax.chain(optax.sgd(eta), transforms.prox_l1(lam, m=m, learning_rate=eta))
    u, _ = opt.update(grads, opt.init(params), params)
    new = optax.apply_updates(params, u)
    # z = w − η·g = [0, −2.5, 1.7, −0.3]; soft(z, 1) = [0, −1.5, 0.7, 0]
    np.testing.assert_allclose(new["w"], [0.0, -1.5, 0.7, 0.0], rtol=1e-6)
    assert new["w"][0] == 0 and new["w"][3] == 0  # exact zeros
    np.testing.assert_allclose(new["b"], 0.2, rtol=1e-6)  # bias: plain SGD step


def test_prox_l1_matches_sklearn_lasso(x64):
    X, y = _diabetes()
    m, n = X.shape
    alpha = 0.03
    sk = Lasso(alpha=alpha, tol=1e-15, max_iter=1_000_000).fit(X, y)
    A = np.c_[X, np.ones(m)]
    eta = 1 / np.linalg.eigvalsh(A.T @ A / m).max()
    opt = optax.chain(optax.sgd(eta), transforms.prox_l1(alpha * m, m=m, learning_rate=eta))
    p = train(opt, squared_loss(X, y), zero_params(n), 10_000)
    np.testing.assert_allclose(p["w"], sk.coef_, atol=1e-6)
    np.testing.assert_allclose(p["b"], sk.intercept_, atol=1e-6)
    zeros = np.asarray(p["w"]) == 0  # exact zeros, where Lasso has them
    np.testing.assert_array_equal(zeros, sk.coef_ == 0)
    assert 0 < zeros.sum() < n


def test_prox_elastic_net_matches_sklearn(x64):
    X, y = _diabetes()
    m, n = X.shape
    alpha, rho = 0.05, 0.5
    sk = ElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-15, max_iter=1_000_000).fit(X, y)
    A = np.c_[X, np.ones(m)]
    eta = 1 / np.linalg.eigvalsh(A.T @ A / m).max()
    prox = transforms.prox_elastic_net(alpha * m, l1_ratio=rho, m=m, learning_rate=eta)
    p = train(optax.chain(optax.sgd(eta), prox), squared_loss(X, y), zero_params(n), 10_000)
    np.testing.assert_allclose(p["w"], sk.coef_, atol=1e-6)
    np.testing.assert_allclose(p["b"], sk.intercept_, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(p["w"]) == 0, sk.coef_ == 0)
    assert (sk.coef_ == 0).any()


# ------------------------------------------------------------------------------- masks


def test_masks_bool_pytree_callable_and_path():
    params = {
        "layer0": {"W": jnp.ones((2, 3)), "b": jnp.ones(2)},
        "layer1": {"W": jnp.ones((1, 2)), "b": jnp.ones(1)},
    }
    zeros = jax.tree.map(jnp.zeros_like, params)
    eta, rate = 0.1, 0.5  # kept leaves become 1 − η·r = 0.95
    masks = {  # mask, and which leaves it keeps: (layer0 W, layer0 b, layer1 W, layer1 b)
        "default": (None, (1, 0, 1, 0)),
        "prefix": ({"layer0": True, "layer1": False}, (1, 1, 0, 0)),
        "callable": (
            lambda p: jax.tree.map(lambda x: x.ndim == 2 and x.shape[0] > 1, p),
            (1, 0, 0, 0),
        ),
        "path": (penalties.path_mask(r"layer1"), (0, 0, 1, 1)),
    }
    for mask, (w0, b0, w1, b1) in masks.values():
        expected = {
            "layer0": {"W": np.full((2, 3), 1 - 0.05 * w0), "b": np.full(2, 1 - 0.05 * b0)},
            "layer1": {"W": np.full((1, 2), 1 - 0.05 * w1), "b": np.full(1, 1 - 0.05 * b1)},
        }
        for tx in [
            optax.chain(
                optax.sgd(eta),
                transforms.decoupled_weight_decay(rate, learning_rate=eta, mask=mask),
            ),
            optax.chain(transforms.add_l2_gradient(rate * 4, m=4, mask=mask), optax.sgd(eta)),
            optax.chain(transforms.decay_toward(zeros, rate, mask=mask), optax.sgd(eta)),
        ]:
            u, _ = tx.update(zeros, tx.init(params), params)
            close(optax.apply_updates(params, u), expected, rtol=1e-6, atol=0)


@settings(max_examples=10)
@given(
    shapes=st.lists(st.sampled_from([(), (3,), (2, 3)]), min_size=1, max_size=4),
    lam=st.floats(0.0, 10.0),
    m=st.integers(1, 100),
)
def test_add_l2_gradient_is_grad_of_l2_penalty(shapes, lam, m):
    """For any dict of leaves: the update is g + λ/m·w (w not a bias) = g + ∇ penalties.l2."""
    rng = np.random.default_rng(len(shapes))
    params = {f"w{i}": jnp.asarray(rng.normal(size=s), jnp.float32) for i, s in enumerate(shapes)}
    params["b"] = jnp.ones(2)
    grads = jax.tree.map(lambda x: 0.5 * x + 1, params)
    tx = transforms.add_l2_gradient(lam, m=m)
    u, _ = tx.update(grads, tx.init(params), params)
    expected = {
        k: np.asarray(g) + (0 if k == "b" else lam / m) * np.asarray(params[k])
        for k, g in grads.items()
    }
    close(u, expected, rtol=1e-5, atol=1e-6)
    autodiff = jax.grad(lambda p: penalties.l2(p, lam, m=m))(params)
    close(u, jax.tree.map(jnp.add, grads, autodiff), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------- λ grid: jit(vmap(...))

GRID = 32


def _grid_problem():
    X, y = breast_cancer(120)
    return X[:, :8], y


def _times(c, lam):
    """c·λ for a scalar λ or a pytree of per-layer λ's."""
    return jax.tree.map(lambda v: c * v, lam)


def _make(name, lam, m, params):
    """Optimizer ``name`` at λ (traced under vmap; a scalar or one per layer), in the
    library's convention; ``decay_toward`` pulls toward 0.1 everywhere."""
    if name == "add_l2_gradient":
        return optax.chain(transforms.add_l2_gradient(lam, m=m), optax.sgd(0.3, momentum=0.9))
    if name == "decoupled_lr_scaled":
        rate = _times(1 / m, lam)
        return optax.chain(
            optax.adam(0.05), transforms.decoupled_weight_decay(rate, learning_rate=0.05)
        )
    if name == "decoupled_independent":
        rate = _times(0.05 / m, lam)
        return optax.chain(
            optax.adam(0.05), transforms.decoupled_weight_decay(rate, lr_scaled=False)
        )
    if name == "prox_l1":
        return optax.chain(optax.sgd(0.5), transforms.prox_l1(lam, m=m, learning_rate=0.5))
    if name == "prox_elastic_net":
        prox = transforms.prox_elastic_net(lam, l1_ratio=0.3, m=m, learning_rate=0.5)
        return optax.chain(optax.sgd(0.5), prox)
    if name == "decay_toward":
        ref = jax.tree.map(lambda v: jnp.full_like(v, 0.1), params)
        return optax.chain(transforms.decay_toward(ref, _times(1 / m, lam)), optax.sgd(0.5))
    raise AssertionError(name)


NAMES = [
    "add_l2_gradient",
    "decoupled_lr_scaled",
    "decoupled_independent",
    "prox_l1",
    "prox_elastic_net",
    "decay_toward",
]


@pytest.mark.parametrize("name", NAMES)
def test_lambda_grid_vmap_equals_loop_without_recompiling(x64, name):
    X, y = _grid_problem()
    m, n = X.shape
    loss = logistic_loss(X, y)
    traces = {"n": 0}

    def fit(lam):
        traces["n"] += 1  # runs only while tracing
        p0 = zero_params(n)
        opt = _make(name, lam, m, p0)

        def body(carry, _):
            p, s = carry
            u, s = opt.update(jax.grad(loss)(p), s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(body, (p0, opt.init(p0)), None, length=40)
        return p

    lams = jnp.logspace(-2, 2, GRID)
    with jax.numpy_dtype_promotion("standard"):  # optax.adam mixes float and int
        batched = jax.jit(jax.vmap(fit))
        grid = batched(lams)
        assert traces["n"] == 1
        grid2 = batched(lams * 1.5)  # new values, same shape: no new trace
        assert traces["n"] == 1
        single = jax.jit(fit)
        looped = [single(lam) for lam in lams]  # the Python loop, one λ at a time
    assert traces["n"] == 2  # the batched trace + one trace of the single-λ jit
    for i, p in enumerate(looped):
        close(jax.tree.map(lambda v, i=i: v[i], grid), p, rtol=1e-10, atol=1e-12)
    assert grid["w"].shape == (GRID, n)
    assert not np.allclose(grid["w"], grid2["w"])  # the new λ values were used
    assert not np.allclose(grid["w"][0], grid["w"][-1])  # λ matters


INJECT = {
    "add_l2_gradient": (transforms.add_l2_gradient, {"lam": 1.0, "m": 100}, "lam"),
    "decoupled_weight_decay": (
        transforms.decoupled_weight_decay,
        {"rate": 0.1, "learning_rate": 0.5},
        "rate",
    ),
    "prox_l1": (transforms.prox_l1, {"lam": 1.0, "m": 100, "learning_rate": 0.5}, "lam"),
    "prox_elastic_net": (
        transforms.prox_elastic_net,
        {"lam": 1.0, "l1_ratio": 0.5, "m": 100, "learning_rate": 0.5},
        "lam",
    ),
    "decay_toward": (
        transforms.decay_toward,
        {"reference": {"w": jnp.ones(8), "b": jnp.zeros(())}, "rate": 0.1},
        "rate",
    ),
}


@pytest.mark.parametrize("name", list(INJECT))
def test_inject_hyperparams_vmap(x64, name):
    """λ/rate as a hyperparameter in the optimizer state: vmapped, no recompile."""
    factory, kwargs, hp = INJECT[name]
    X, y = _grid_problem()
    n = X.shape[1]
    loss = logistic_loss(X, y)
    before = name.startswith("add_l2") or name.startswith("decay")
    kwargs = {k: jnp.asarray(v) if isinstance(v, float) else v for k, v in kwargs.items()}
    inject = optax.inject_hyperparams(factory, static_args=("mask",))(**kwargs)
    opt = optax.chain(inject, optax.sgd(0.5)) if before else optax.chain(optax.sgd(0.5), inject)
    where = 0 if before else 1
    traces = {"n": 0}

    def fit(value):
        traces["n"] += 1
        p = zero_params(n)
        state = list(opt.init(p))
        hps = {**state[where].hyperparams, hp: value}
        state[where] = state[where]._replace(hyperparams=hps)
        state = tuple(state)
        for _ in range(10):
            u, state = opt.update(jax.grad(loss)(p), state, p)
            p = optax.apply_updates(p, u)
        return p

    @jax.jit
    def direct(value):  # the factory called with the traced value itself
        tx = factory(**{**kwargs, hp: value})
        p = zero_params(n)
        opt = optax.chain(tx, optax.sgd(0.5)) if before else optax.chain(optax.sgd(0.5), tx)
        state = opt.init(p)
        for _ in range(10):
            u, state = opt.update(jax.grad(loss)(p), state, p)
            p = optax.apply_updates(p, u)
        return p

    values = jnp.linspace(0.0, 2.0, GRID)
    batched = jax.jit(jax.vmap(fit))
    grid = batched(values)
    batched(values + 0.5)
    assert traces["n"] == 1
    for i in (0, 7, GRID - 1):
        close(jax.tree.map(lambda v, i=i: v[i], grid), direct(values[i]), rtol=1e-12)


# ------------------------------------------------------------------------------ errors


def _tree():
    return {"w": jnp.ones(3), "b": jnp.zeros(())}


_NEGATIVE = optax.linear_schedule(1.0, -1.0, 100)  # goes negative after step 50


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: transforms.add_l2_gradient(-1.0, m=10), "lam must be >= 0"),
        (lambda: transforms.add_l2_gradient(float("nan"), m=10), "lam must be finite"),
        (lambda: transforms.add_l2_gradient(jnp.ones(3), m=10), "lam must be a scalar"),
        (lambda: transforms.add_l2_gradient(1.0, m=0), "m .the number of training.* must be"),
        (lambda: transforms.add_l2_gradient(1.0, m=2.5), "m .* must be a positive integer"),
        (lambda: transforms.add_l2_gradient(1.0, m=jnp.ones(2)), "m must be a scalar"),
        (
            lambda: transforms.add_l2_gradient(_NEGATIVE, m=10),
            r"lam must be a schedule.*lam\(100\)",
        ),
        (
            lambda: transforms.decoupled_weight_decay(0.1, learning_rate=0.0),
            "learning_rate must be > 0",
        ),
        (
            lambda: transforms.decoupled_weight_decay(0.1, learning_rate=_NEGATIVE),
            r"learning_rate must be a schedule of finite values >= 0; learning_rate\(100\) = -1",
        ),
        (
            lambda: transforms.decoupled_weight_decay(_NEGATIVE, lr_scaled=False),
            "rate must be a sch",
        ),
        (lambda: transforms.prox_l1(1.0, m=10, learning_rate=-0.1), "learning_rate must be >= 0"),
        (lambda: transforms.prox_l1(1.0, m=10, learning_rate=_NEGATIVE), "learning_rate must be a"),
        (lambda: transforms.decay_toward(_tree(), _NEGATIVE), "rate must be a schedule"),
        (
            lambda: transforms.prox_elastic_net(
                1.0, l1_ratio=jnp.ones(2) / 2, m=10, learning_rate=0.1
            ),
            r"l1_ratio must be a scalar",
        ),
        (lambda: transforms.add_l2_gradient(1.0, m=None), "m .the number of training"),
        (lambda: transforms.decoupled_weight_decay(-0.1, learning_rate=0.1), "rate must be"),
        (lambda: transforms.decoupled_weight_decay(0.1), "learning_rate is required"),
        (
            lambda: transforms.decoupled_weight_decay(0.1, learning_rate=-1.0),
            "learning_rate must be",
        ),
        (lambda: transforms.prox_l1(-1.0, m=10, learning_rate=0.1), "lam must be"),
        (lambda: transforms.prox_l1(1.0, m=10, learning_rate=None), "learning_rate is required"),
        (lambda: transforms.prox_l1(1.0, m=-3, learning_rate=0.1), "m .* must be"),
        (
            lambda: transforms.prox_elastic_net(1.0, l1_ratio=1.5, m=10, learning_rate=0.1),
            "l1_ratio",
        ),
        (lambda: transforms.decay_toward(_tree(), -0.5), "rate must be"),
        (lambda: transforms.decay_toward(None, 0.5), "reference must be"),
    ],
)
def test_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_types():
    with pytest.raises(TypeError, match="lr_scaled must be a bool"):
        transforms.decoupled_weight_decay(0.1, lr_scaled="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lam must be a real number"):
        transforms.add_l2_gradient("big", m=10)
    with pytest.raises(TypeError, match="l1_ratio must be a number in"):
        transforms.prox_elastic_net(1.0, l1_ratio="0.5", m=10, learning_rate=0.1)
    with pytest.raises(TypeError, match="m must be a positive integer"):
        transforms.prox_l1(1.0, m="10", learning_rate=0.1)
    with pytest.raises(TypeError, match=r"rate is callable.*rate\(0\) raised"):
        transforms.decay_toward(_tree(), lambda params: params["w"])  # a mask, not a schedule


def test_schedules_that_stay_at_or_above_zero_are_accepted():
    decay_to_zero = optax.cosine_decay_schedule(0.1, 1000)  # ends at exactly 0
    tx = transforms.decoupled_weight_decay(decay_to_zero, learning_rate=decay_to_zero)
    params = _tree()
    with jax.numpy_dtype_promotion("standard"):  # optax's schedules mix int and float
        updates, _ = tx.update(jax.tree.map(jnp.zeros_like, params), tx.init(params), params)
    np.testing.assert_allclose(updates["w"], -0.1 * 0.1 * np.ones(3), rtol=1e-6)  # −η₀·r₀·w


# name: (its strength's argument, transform(strength, mask, reference for decay_toward))
ALL = {
    "add_l2_gradient": ("lam", lambda v=1.0, mask=None, ref=None: transforms.add_l2_gradient(
        v, m=10, mask=mask)),
    "decoupled": ("rate", lambda v=0.1, mask=None, ref=None: transforms.decoupled_weight_decay(
        v, learning_rate=0.1, mask=mask)),
    "independent": ("rate", lambda v=0.1, mask=None, ref=None: transforms.decoupled_weight_decay(
        v, lr_scaled=False, mask=mask)),
    "prox_l1": ("lam", lambda v=1.0, mask=None, ref=None: transforms.prox_l1(
        v, m=10, learning_rate=0.1, mask=mask)),
    "prox_elastic_net": ("lam", lambda v=1.0, mask=None, ref=None: transforms.prox_elastic_net(
        v, l1_ratio=0.5, m=10, learning_rate=0.1, mask=mask)),
    "decay_toward": ("rate", lambda v=0.1, mask=None, ref=None: transforms.decay_toward(
        _tree() if ref is None else ref, v, mask=mask)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ALL))
def test_params_none_is_an_error(name):
    tx = ALL[name][1]()
    state = tx.init(_tree())
    with pytest.raises(ValueError, match="needs the current parameters"):
        tx.update(_tree(), state, None)


@pytest.mark.parametrize("name", list(ALL))
def test_mismatched_mask_is_an_error(name):
    with pytest.raises(ValueError, match="mask must have the structure of params"):
        ALL[name][1](mask={"w": True, "kernel": False}).init(_tree())
    with pytest.raises(ValueError, match="mask must have the structure of params"):
        ALL[name][1](mask=[True, False]).init(_tree())
    with pytest.raises(TypeError, match="mask leaves must be Python bools"):
        ALL[name][1](mask={"w": 1.5, "b": False}).init(_tree())


def test_decay_toward_mismatched_reference():
    tx = transforms.decay_toward({"w": jnp.ones(3)}, 0.1)
    with pytest.raises(ValueError, match="reference must have the structure of params"):
        tx.init(_tree())
    tx = transforms.decay_toward({"w": jnp.ones(4), "b": jnp.zeros(())}, 0.1)
    with pytest.raises(ValueError, match="reference leaf shape"):
        tx.init(_tree())


# ----------------------------------------------------- per-layer λ (pytree prefixes)


def _two_layers():
    """A (30, 6, 1) MLP on 120 breast-cancer rows in float64, its layers named as a user
    would (``{"l1", "l2"}``), and its mean cross-entropy (no penalty)."""
    X, y = breast_cancer(120)
    layers = models.init_mlp(jax.random.key(0), (X.shape[1], 6, 1), dtype=jnp.float64)
    Xj, Yj = jnp.asarray(X), jnp.asarray(y[:, None])

    def loss(p):
        return costs.neural_network([p["l1"], p["l2"]], Xj, Yj, 0.0)

    return {"l1": layers[0], "l2": layers[1]}, loss, X.shape[0]


def test_per_layer_lam_decoupled_equals_coupled_under_sgd(x64):
    """Plain SGD with one λ per layer: add_l2_gradient(λ), the decoupled decay at rates
    λ/m (lr-scaled) or η·λ/m (independent), and SGD on loss + penalties.l2(·, λ) all take
    the NumPy steps W_l ← W_l − η(∇_l L + λ_l/m·W_l), b_l ← b_l − η∇_l L."""
    params, loss, m = _two_layers()
    lams, eta, steps = {"l1": 2.0, "l2": 60.0}, 0.5, 30
    grad = jax.jit(jax.grad(loss))
    ref = jax.tree.map(np.asarray, params)
    for _ in range(steps):
        g = jax.tree.map(np.asarray, grad(ref))
        for k, layer in ref.items():
            layer["W"] = layer["W"] - eta * (g[k]["W"] + lams[k] / m * layer["W"])
            layer["b"] = layer["b"] - eta * g[k]["b"]
    sgd, decay = optax.sgd(eta), transforms.decoupled_weight_decay
    runs = {
        "add_l2_gradient": (optax.chain(transforms.add_l2_gradient(lams, m=m), sgd), loss),
        "lr-scaled": (optax.chain(sgd, decay(_times(1 / m, lams), learning_rate=eta)), loss),
        "independent": (optax.chain(sgd, decay(_times(eta / m, lams), lr_scaled=False)), loss),
        "penalty": (sgd, lambda p: loss(p) + penalties.l2(p, lams, m=m)),
    }
    for name, (opt, fn) in runs.items():
        for k, layer in train(opt, fn, params, steps).items():
            for leaf in ("W", "b"):
                np.testing.assert_allclose(
                    layer[leaf], ref[k][leaf], rtol=1e-12, atol=1e-14, err_msg=f"{name} {k}"
                )
    swapped = {"l1": lams["l2"], "l2": lams["l1"]}  # each layer gets its own λ
    one = train(optax.chain(transforms.add_l2_gradient(swapped, m=m), sgd), loss, params, steps)
    for k in ("l1", "l2"):
        assert np.linalg.norm(one[k]["W"] - ref[k]["W"]) > 1e-3 * np.linalg.norm(ref[k]["W"])


@pytest.mark.parametrize("name", NAMES)
def test_a_grid_of_per_layer_lams_vmap_equals_loop(x64, name):
    """vmap over a grid of per-layer λ ({"l1": (G,), "l2": (G,)}) under jit = a loop."""
    params, loss, m = _two_layers()

    def fit(lams):
        return train(_make(name, lams, m, params), loss, params, 15)

    grid = {"l1": jnp.logspace(-1, 2, 3), "l2": jnp.logspace(2, -1, 3)}  # λ₁ up, λ₂ down
    with jax.numpy_dtype_promotion("standard"):  # optax.adam mixes float and int
        batched = jax.jit(jax.vmap(fit))(grid)
        single = jax.jit(fit)
        for i in range(3):
            lams = jax.tree.map(lambda v, i=i: v[i], grid)
            close(jax.tree.map(lambda v, i=i: v[i], batched), single(lams), rtol=1e-10, atol=1e-12)
    for k in ("l1", "l2"):  # both layers' λ's matter
        assert not np.allclose(batched[k]["W"][0], batched[k]["W"][-1], rtol=1e-6, atol=0)


def _layers():
    """Two float32 layers {"W": (3, 2), "b": (3,)} named "l1" and "l2", seeded."""
    rng = np.random.default_rng(3)
    layer = lambda: {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=3)}  # noqa: E731
    return jax.tree.map(lambda v: jnp.asarray(v, jnp.float32), {"l1": layer(), "l2": layer()})


@pytest.mark.parametrize("name", list(ALL))
def test_a_per_layer_value_is_each_layers_own_scalar(name):
    """Leafwise: λ = {"l1": 0.7, "l2": a schedule} steps each layer as the scalar of that
    layer would, under a mask (l2's bias kept out, l1's decayed), for three steps."""
    make = ALL[name][1]
    params, ref = _layers(), jax.tree.map(lambda v: 0.5 * v, _layers())
    updates = jax.tree.map(lambda v: 0.3 - v, params)
    values = {"l1": 0.7, "l2": optax.linear_schedule(2.0, 0.5, 2)}
    mask = {"l1": True, "l2": {"W": True, "b": False}}
    tx, singles = make(values, mask, ref), {k: make(v, mask, ref) for k, v in values.items()}
    state, states = tx.init(params), {k: t.init(params) for k, t in singles.items()}
    with jax.numpy_dtype_promotion("standard"):  # optax's schedules mix int and float
        for _ in range(3):  # the schedule moves: 2, 1.25, 0.5
            out, state = tx.update(updates, state, params)
            for k, single in singles.items():
                alone, states[k] = single.update(updates, states[k], params)
                close(out[k], alone[k], rtol=1e-6, atol=1e-7)
                assert not np.allclose(out[k]["W"], updates[k]["W"])  # decayed
    np.testing.assert_array_equal(out["l2"]["b"], updates["l2"]["b"])  # masked out
    assert not np.allclose(out["l1"]["b"], updates["l1"]["b"])  # the mask keeps it
    other = singles["l2"].update(updates, states["l2"], params)[0]
    assert not np.allclose(out["l1"]["W"], other["l1"]["W"])  # l1 did not get l2's value


@pytest.mark.parametrize("name", list(ALL))
def test_a_bad_per_layer_value_names_the_argument(name):
    arg, make = ALL[name]
    params, ref = _layers(), _layers()
    for bad in ({"l1": 1.0}, {"l1": 1.0, "l3": 1.0}, [1.0, 1.0], {"l1": {"W": 1.0}, "l2": 1.0}):
        with pytest.raises(ValueError, match=rf"^{arg} must have the structure of params"):
            make(bad, None, ref).init(params)
    with pytest.raises(ValueError, match=rf"^{arg} is None for some leaves of params"):
        make({"l1": 1.0, "l2": None}, None, ref).init(params)
    for bad, match in [
        ({"l1": 1.0, "l2": -1.0}, rf"^{arg} must be >= 0, got -1.0"),
        ({"l1": float("nan"), "l2": 1.0}, rf"^{arg} must be finite"),
        ({"l1": 1.0, "l2": jnp.ones(2)}, rf"^{arg} must be a scalar .*got shape \(2,\)"),
        ({"l1": 1.0, "l2": optax.linear_schedule(1.0, -1.0, 10)}, rf"^{arg} must be a sch"),
    ]:
        with pytest.raises(ValueError, match=match):
            make(bad, None, ref)
    with pytest.raises(TypeError, match=rf"^{arg} must be a real number"):
        make({"l1": 1.0, "l2": "big"}, None, ref)


def test_a_negative_traced_per_layer_lam_is_caught_on_the_checked_path(monkeypatch):
    """REGJAX_ON_ERROR=checkify: the one bad lane of a vmapped per-layer grid is reported."""
    monkeypatch.setenv(_traced.ON_ERROR, "checkify")
    params = _layers()

    def step(lams):
        tx = transforms.add_l2_gradient(lams, m=10)
        return tx.update(params, tx.init(params), params)[0]

    grid = {"l1": jnp.array([1.0, 2.0]), "l2": jnp.array([3.0, -1.0])}
    err, _ = jax.jit(checkify.checkify(jax.vmap(step)))(grid)
    assert "lam must be finite and >= 0" in err.get()
    err, _ = jax.jit(checkify.checkify(jax.vmap(step)))(jax.tree.map(jnp.abs, grid))
    assert err.get() is None
