"""convert_lambda tested by solving: each convention's own objective (or update) against
the library's cost at the converted λ.

The library's convention: a mean data loss + λ/(2m)‖w‖², the bias unpenalized. For
every name in ``conventions.CONVENTIONS`` the test writes the other convention's
objective in its own form (scikit-learn itself where it exists), minimizes it
independently in float64 and checks that the minimizer is the library's minimizer at
``convert_lambda(value, from_=name, to="ng", m=m)``; for the weight-decay names the
same is shown for the gradient steps.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge

from regjax import closed_form, conventions, costs, losses, models, penalties
from regjax.conventions import CONVENTIONS, convert_lambda

NAMES = sorted(CONVENTIONS)


# ---------------------------------------------------------------------------------------
# data and an independent float64 minimizer
# ---------------------------------------------------------------------------------------


def regression_data(seed: int, m: int, n: int, k: int | None = None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) * rng.uniform(0.5, 3.0, size=n) + rng.normal(size=n)
    shape = (n,) if k is None else (n, k)
    w = rng.normal(size=shape)
    y = X @ w + 1.5 + 0.5 * rng.normal(size=(m,) if k is None else (m, k))
    return X, y


def classification_data(seed: int, m: int, n: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) * rng.uniform(0.5, 2.0, size=n)
    w = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(X @ w - 0.4)))
    y = (rng.uniform(size=m) < p).astype(np.float64)
    assert 0 < y.sum() < m
    return X, y


def unflat(x: jax.Array) -> dict[str, jax.Array]:
    """θ = (w, b) as one vector -> the library's {"w", "b"}."""
    return {"w": x[:-1], "b": x[-1]}


@functools.partial(jax.jit, static_argnums=0)
def _newton_parts(f, x, args):
    return f(x, *args), jax.grad(f)(x, *args), jax.hessian(f)(x, *args)


def newton(f, dim: int, *args, tol: float = 1e-12, max_iter: int = 60) -> np.ndarray:
    """Minimize a smooth convex ``f(x, *args)`` by damped Newton from 0, in float64."""
    args = tuple(jnp.asarray(a, dtype=jnp.float64) for a in args)
    x = jnp.zeros(dim, dtype=jnp.float64)
    for _ in range(max_iter):
        value, grad, hess = _newton_parts(f, x, args)
        step = jnp.linalg.solve(hess, grad)
        if float(jnp.linalg.norm(grad)) < tol:
            return np.asarray(x - step)  # one more full step: quadratic convergence polishes
        t = 1.0
        # backtrack only on a real increase (not on round-off near the optimum)
        while float(_newton_parts(f, x - t * step, args)[0]) > float(value) + 1e-13 * abs(
            float(value)
        ):
            t /= 2
            assert t > 1e-8, "line search failed"
        x = x - t * step
    raise AssertionError(f"Newton did not reach |grad| < {tol}: {float(jnp.linalg.norm(grad))}")


# Objectives in the form each convention writes them, on θ = (w, b) flat. None of them
# calls regjax: the library's side is ``lib_*`` below.


def _z(x, X):
    return X @ x[:-1] + x[-1]


def _bce_terms(x, X, y):
    z = _z(x, X)
    return jnp.logaddexp(0.0, z) - y * z  # -[y log σ(z) + (1 - y) log σ(-z)]


def _sq_terms(x, X, y):
    return 0.5 * jnp.square(_z(x, X) - y)  # the ½ of ½·MSE


def _wsq(x):
    return jnp.sum(jnp.square(x[:-1]))


OWN_FORM = {
    # name: {loss: objective(x, X, y, value)}
    "ng": {
        "logistic": lambda x, X, y, lam: (
            jnp.mean(_bce_terms(x, X, y)) + lam / (2 * X.shape[0]) * _wsq(x)
        ),
        "squared": lambda x, X, y, lam: (
            jnp.mean(_sq_terms(x, X, y)) + lam / (2 * X.shape[0]) * _wsq(x)
        ),
    },
    "sum": {  # Bishop's MAP: summed loss + λ/2‖w‖²
        "logistic": lambda x, X, y, lam: jnp.sum(_bce_terms(x, X, y)) + lam / 2 * _wsq(x),
        "squared": lambda x, X, y, lam: jnp.sum(_sq_terms(x, X, y)) + lam / 2 * _wsq(x),
    },
    "per_param": {  # mean loss + λ/(2n)‖w‖², n = number of weights
        "logistic": lambda x, X, y, lam: (
            jnp.mean(_bce_terms(x, X, y)) + lam / (2 * X.shape[1]) * _wsq(x)
        ),
        "squared": lambda x, X, y, lam: (
            jnp.mean(_sq_terms(x, X, y)) + lam / (2 * X.shape[1]) * _wsq(x)
        ),
    },
    "mean_l2": {  # jaxopt l2reg, glmnet alpha=0: mean loss + c/2‖w‖²
        "logistic": lambda x, X, y, c: jnp.mean(_bce_terms(x, X, y)) + c / 2 * _wsq(x),
        "squared": lambda x, X, y, c: jnp.mean(_sq_terms(x, X, y)) + c / 2 * _wsq(x),
    },
    "keras_l2": {  # binary_crossentropy + regularizers.L2(l2): mean loss + l2·‖w‖²
        "logistic": lambda x, X, y, l2: jnp.mean(_bce_terms(x, X, y)) + l2 * _wsq(x),
    },
    "sklearn_ridge_alpha": {  # ‖y − Xw − b‖² + α‖w‖²
        "squared": lambda x, X, y, a: jnp.sum(jnp.square(_z(x, X) - y)) + a * _wsq(x),
    },
    "sklearn_logreg_C": {  # C·Σ loss + ½‖w‖²
        "logistic": lambda x, X, y, C: C * jnp.sum(_bce_terms(x, X, y)) + 0.5 * _wsq(x),
    },
}

# a few strengths per name, each giving c = λ/m between about 1e-3 and 1
VALUES = {
    "ng": (0.3, 4.0, 60.0),
    "sum": (0.3, 4.0, 60.0),
    "per_param": (0.01, 0.2, 3.0),
    "mean_l2": (0.002, 0.05, 0.9),
    "keras_l2": (0.001, 0.02, 0.4),
    "sklearn_ridge_alpha": (0.3, 4.0, 60.0),
    "sklearn_logreg_C": (0.02, 0.5, 5.0),
}


def lib_logistic(x, X, y, lam):
    return costs.logistic_regression(unflat(x), X, y, lam)


def lib_linear(x, X, y, lam):
    return costs.linear_regression(unflat(x), X, y, lam)


LIB = {"logistic": lib_logistic, "squared": lib_linear}
DATA = {
    # the shapes of the sklearn comparisons below, so that compiled code is reused
    "logistic": lambda: classification_data(1, 80, 4),
    "squared": lambda: regression_data(2, 50, 3),
}


def library_minimizer(loss: str, X, y, lam) -> np.ndarray:
    """argmin of the library's cost at λ, by Newton on ``costs.*`` to |∇J| < 1e-12."""
    return newton(LIB[loss], X.shape[1] + 1, X, y, lam)


# ---------------------------------------------------------------------------------------
# same minimizer, convention by convention
# ---------------------------------------------------------------------------------------

OWN_FORM_CASES = [
    (name, loss, value)
    for name, forms in OWN_FORM.items()
    for loss in forms
    for value in VALUES[name]
]


@pytest.mark.parametrize(("name", "loss", "value"), OWN_FORM_CASES)
def test_own_objective_has_the_library_minimizer(x64, name, loss, value):
    X, y = DATA[loss]()
    m, n = X.shape
    lam = convert_lambda(value, from_=name, to="ng", m=m, n=n)
    # a summed objective's gradient is m times larger (and so is its round-off)
    tol = 1e-12 * m if name in ("sum", "sklearn_ridge_alpha", "sklearn_logreg_C") else 1e-12
    own = newton(OWN_FORM[name][loss], n + 1, X, y, value, tol=tol)
    lib = library_minimizer(loss, X, y, lam)
    np.testing.assert_allclose(own, lib, rtol=1e-9, atol=1e-11)
    if not math.isclose(lam, value, rel_tol=1e-3):  # the conversion matters: the
        naive = library_minimizer(loss, X, y, value)  # unconverted value is wrong
        assert np.max(np.abs(naive - own)) > 1e-6


_linear_grad = jax.jit(jax.grad(costs.linear_regression))


@pytest.mark.parametrize(
    ("seed", "m", "n", "k"), [(0, 50, 3, None), (1, 120, 8, None), (2, 30, 10, None), (3, 60, 4, 2)]
)
def test_ridge_solution_is_sklearn_ridge(x64, seed, m, n, k):
    X, y = regression_data(seed, m, n, k)
    for lam in (0.01, 1.0, 10.0, 300.0):
        alpha = convert_lambda(lam, from_="ng", to="sklearn_ridge_alpha", m=m)
        assert alpha == pytest.approx(lam, rel=1e-15)  # c = λ/m = α/m
        ref = Ridge(alpha=alpha, fit_intercept=True, solver="cholesky").fit(X, y)
        sol = closed_form.ridge_solution(jnp.asarray(X), jnp.asarray(y), lam)
        np.testing.assert_allclose(np.asarray(sol["w"]), ref.coef_.T, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(np.asarray(sol["b"]), ref.intercept_, rtol=1e-8, atol=1e-10)
        # and it is the minimizer of the library's cost: the gradient vanishes there
        grad = _linear_grad(sol, jnp.asarray(X), jnp.asarray(y), lam)
        scale = float(np.max(np.abs(X))) * float(np.max(np.abs(y)))
        for leaf in jax.tree.leaves(grad):
            assert float(jnp.max(jnp.abs(leaf))) < 1e-10 * scale


@pytest.mark.parametrize("lam", [0.05, 1.0, 20.0])
@pytest.mark.parametrize(("seed", "m", "n"), [(0, 80, 4), (1, 150, 6)])
def test_logistic_minimizer_is_sklearn_logistic_regression(x64, lam, seed, m, n):
    X, y = classification_data(seed, m, n)
    C = convert_lambda(lam, from_="ng", to="sklearn_logreg_C", m=m)
    assert C == pytest.approx(1 / lam, rel=1e-15)  # c = λ/m = 1/(C·m)
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10_000, solver="newton-cg").fit(X, y)
    ours = library_minimizer("logistic", X, y, lam)
    # the library's own hand-derived gradient also vanishes at the Newton solution
    g = closed_form.logistic_regression_grad(unflat(jnp.asarray(ours)), X, y, lam)
    assert float(jnp.max(jnp.abs(g["w"]))) < 1e-11 and abs(float(g["b"])) < 1e-11
    np.testing.assert_allclose(ours[:-1], ref.coef_[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours[-1], ref.intercept_[0], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("l2", [1e-3, 0.02, 0.3])
def test_keras_mse_regression_pitfall(x64, l2):
    """Keras loss="mse" is plain MSE (no ½): MSE + l2‖w‖² = 2·(½MSE + (l2/2)‖w‖²).

    Its minimizer is the library's at convert_lambda(l2, from_="mean_l2"), not at
    from_="keras_l2" (which is right for cross-entropy losses).
    """
    X, y = regression_data(5, 50, 3)
    m, n = X.shape

    def keras_mse(x, X, y, l2):
        return jnp.mean(jnp.square(_z(x, X) - y)) + l2 * _wsq(x)

    own = newton(keras_mse, n + 1, X, y, l2)
    right = library_minimizer("squared", X, y, convert_lambda(l2, from_="mean_l2", to="ng", m=m))
    wrong = library_minimizer("squared", X, y, convert_lambda(l2, from_="keras_l2", to="ng", m=m))
    np.testing.assert_allclose(own, right, rtol=1e-9, atol=1e-11)
    assert np.max(np.abs(own - wrong)) > 1e-4


@pytest.mark.parametrize("c", [0.01, 0.3])
def test_sklearn_elasticnet_l1_ratio_0_is_mean_l2(x64, c):
    X, y = regression_data(6, 50, 3)
    m = X.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn advises Ridge for l1_ratio=0
        ref = ElasticNet(alpha=c, l1_ratio=0.0, tol=1e-15, max_iter=100_000).fit(X, y)
    lam = convert_lambda(c, from_="mean_l2", to="ng", m=m)
    sol = closed_form.ridge_solution(jnp.asarray(X), jnp.asarray(y), lam)
    np.testing.assert_allclose(np.asarray(sol["w"]), ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(float(sol["b"]), ref.intercept_, rtol=1e-8, atol=1e-10)


def _half_mse(params, X, y):
    return losses.squared_error(models.linear(params, X), y)


def _sparse_regression(seed: int, m: int = 80, n: int = 8):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    w = np.zeros(n)
    w[:3] = [2.0, -1.5, 0.8]
    y = X @ w + 0.7 + 0.5 * rng.normal(size=m)
    return X, y


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("alpha", [0.05, 0.3])
def test_sklearn_lasso_and_elastic_net_satisfy_library_kkt(x64, alpha, l1_ratio):
    """sklearn Lasso/ElasticNet(alpha, l1_ratio): ½MSE + alpha·(ρ‖w‖₁ + (1−ρ)/2‖w‖²).

    That is the library's penalty λ/m·(ρ‖w‖₁ + (1−ρ)/2‖w‖²) at λ = alpha·m. sklearn's
    solution must satisfy the optimality (KKT) conditions of ``costs.regularized``:
    ∇_b J = 0; ∇_w J = 0 where w ≠ 0 (J is differentiable there); and where w = 0,
    |∂data/∂w_j| ≤ λρ/m (0 in the subdifferential; the L2 part vanishes at 0).
    """
    X, y = _sparse_regression(7)
    m = X.shape[0]
    model = Lasso(alpha=alpha) if l1_ratio == 1.0 else ElasticNet(alpha=alpha, l1_ratio=l1_ratio)
    model.set_params(tol=1e-15, max_iter=1_000_000).fit(X, y)
    lam = alpha * m
    if l1_ratio == 1.0:
        cost = costs.regularized(_half_mse, penalty="l1")
    else:
        cost = costs.regularized(_half_mse, penalty="elastic_net", l1_ratio=l1_ratio)
    params = {"w": jnp.asarray(model.coef_), "b": jnp.asarray(model.intercept_)}
    zero = model.coef_ == 0
    assert zero.any() and (~zero).any()  # both conditions are exercised
    g = jax.grad(cost)(params, jnp.asarray(X), jnp.asarray(y), lam)
    assert abs(float(g["b"])) < 1e-9
    np.testing.assert_allclose(np.asarray(g["w"])[~zero], 0.0, atol=1e-9)
    g_data = jax.grad(_half_mse)(params, jnp.asarray(X), jnp.asarray(y))
    assert np.all(np.abs(np.asarray(g_data["w"])[zero]) <= lam * l1_ratio / m + 1e-9)
    # and a strength 10% off is not optimal: the check has power
    g_off = jax.grad(cost)(params, jnp.asarray(X), jnp.asarray(y), 1.1 * lam)
    assert float(jnp.max(jnp.abs(g_off["w"][~zero]))) > 1e-3


# ---------------------------------------------------------------------------------------
# weight decay: the same gradient-descent steps
# ---------------------------------------------------------------------------------------


def _mean_bce(params, X, y):
    """Mean binary cross-entropy written out here, not the library's."""
    z = X @ params["w"] + params["b"]
    return jnp.mean(jnp.logaddexp(0.0, z) - y * z)


def _sgd_setup():
    X, y = classification_data(3, 80, 4)
    rng = np.random.default_rng(11)
    theta = {"w": jnp.asarray(rng.normal(size=4)), "b": jnp.asarray(0.3)}
    return jnp.asarray(X), jnp.asarray(y), theta


_logistic_grad = jax.jit(jax.grad(costs.logistic_regression))
_bce_grad = jax.jit(jax.grad(_mean_bce))


def _library_gd(theta, X, y, lam, lr, steps):
    for _ in range(steps):
        g = _logistic_grad(theta, X, y, lam)
        theta = jax.tree.map(lambda p, g: p - lr * g, theta, g)
    return theta


def _assert_trees_close(a, b, rtol=1e-12, atol=1e-14):
    for x, z in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(z), rtol=rtol, atol=atol)


@pytest.mark.parametrize(("wd", "lr"), [(1e-3, 0.5), (0.05, 0.1), (0.3, 1.0)])
def test_torch_weight_decay_is_gd_on_library_cost(x64, wd, lr):
    """PyTorch SGD(weight_decay=wd): g ← g + wd·θ, then θ ← θ − η·g (bias not decayed)."""
    X, y, theta = _sgd_setup()
    m = X.shape[0]
    tx = optax.chain(optax.add_decayed_weights(wd, mask={"w": True, "b": False}), optax.sgd(lr))
    state = tx.init(theta)
    ours = theta
    for _ in range(6):
        u = _bce_grad(ours, X, y)
        updates, state = tx.update(u, state, ours)
        ours = optax.apply_updates(ours, updates)
    lam = convert_lambda(wd, from_="torch_weight_decay", to="ng", m=m)
    _assert_trees_close(ours, _library_gd(theta, X, y, lam, lr, 6))


@pytest.mark.parametrize(("wd", "lr"), [(1e-3, 0.5), (0.05, 0.1), (0.3, 1.0)])
def test_decoupled_lr_scaled_is_gd_on_library_cost(x64, wd, lr):
    """θ ← θ − η(u + wd·θ) for the weights, θ ← θ − η·u for the bias (plain SGD)."""
    X, y, theta = _sgd_setup()
    m = X.shape[0]
    ours = theta
    for _ in range(6):
        u = _bce_grad(ours, X, y)
        ours = {"w": ours["w"] - lr * (u["w"] + wd * ours["w"]), "b": ours["b"] - lr * u["b"]}
    lam = convert_lambda(wd, from_="decoupled_lr_scaled", to="ng", m=m)
    _assert_trees_close(ours, _library_gd(theta, X, y, lam, lr, 6))


@pytest.mark.parametrize(("d", "lr"), [(1e-4, 0.5), (0.005, 0.1), (0.1, 1.0)])
def test_decoupled_independent_is_gd_on_library_cost(x64, d, lr):
    """θ ← θ − η·u − d·θ for the weights (Loshchilov & Hutter), θ ← θ − η·u for the bias."""
    X, y, theta = _sgd_setup()
    m = X.shape[0]
    ours = theta
    for _ in range(6):
        u = _bce_grad(ours, X, y)
        ours = {"w": ours["w"] - lr * u["w"] - d * ours["w"], "b": ours["b"] - lr * u["b"]}
    lam = convert_lambda(d, from_="decoupled_independent", to="ng", m=m, learning_rate=lr)
    _assert_trees_close(ours, _library_gd(theta, X, y, lam, lr, 6))


def test_every_convention_is_checked_by_solving():
    checked = set(OWN_FORM) | {
        "torch_weight_decay",  # test_torch_weight_decay_is_gd_on_library_cost
        "decoupled_lr_scaled",  # test_decoupled_lr_scaled_is_gd_on_library_cost
        "decoupled_independent",  # test_decoupled_independent_is_gd_on_library_cost
    }
    assert checked == set(CONVENTIONS)


# ---------------------------------------------------------------------------------------
# the conversion arithmetic: table, round trips, edges
# ---------------------------------------------------------------------------------------

M, N, LR = 250, 37, 0.03

# c, the coefficient of ½‖w‖² on a mean loss, from the documented table
COEFFICIENT = {
    "ng": lambda v: v / M,
    "sum": lambda v: v / M,
    "per_param": lambda v: v / N,
    "mean_l2": lambda v: v,
    "sklearn_ridge_alpha": lambda v: v / M,
    "sklearn_logreg_C": lambda v: 1 / (v * M),
    "keras_l2": lambda v: 2 * v,
    "torch_weight_decay": lambda v: v,
    "decoupled_lr_scaled": lambda v: v,
    "decoupled_independent": lambda v: v / LR,
}


def test_coefficient_table_covers_every_name():
    assert set(COEFFICIENT) == set(CONVENTIONS)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(NAMES, NAMES)))
def test_convert_matches_the_table(a, b):
    for value in (1e-5, 0.37, 12.0, 4e4):
        got = convert_lambda(value, from_=a, to=b, m=M, n=N, learning_rate=LR)
        # the b value whose coefficient is the a value's coefficient
        assert COEFFICIENT[b](got) == pytest.approx(COEFFICIENT[a](value), rel=1e-12)
        back = convert_lambda(got, from_=b, to=a, m=M, n=N, learning_rate=LR)
        assert back == pytest.approx(value, rel=1e-12)


@given(
    a=st.sampled_from(NAMES),
    b=st.sampled_from(NAMES),
    value=st.floats(1e-8, 1e8),
    m=st.integers(1, 10**7),
    n=st.integers(1, 10**7),
    lr=st.floats(1e-6, 10.0),
)
def test_round_trip_is_identity(a, b, value, m, n, lr):
    kw = {"m": m, "n": n, "learning_rate": lr}
    there = convert_lambda(value, from_=a, to=b, **kw)
    assert there > 0
    assert convert_lambda(there, from_=b, to=a, **kw) == pytest.approx(value, rel=1e-12)
    assert convert_lambda(value, from_=a, to=a, **kw) == pytest.approx(value, rel=1e-14)


@given(
    names=st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(NAMES)),
    value=st.floats(1e-6, 1e6),
)
def test_conversion_is_transitive(names, value):
    a, b, c = names
    kw = {"m": M, "n": N, "learning_rate": LR}
    two_hops = convert_lambda(convert_lambda(value, from_=a, to=b, **kw), from_=b, to=c, **kw)
    assert two_hops == pytest.approx(convert_lambda(value, from_=a, to=c, **kw), rel=1e-12)


def test_sklearn_C_zero_and_infinity_edges():
    # C = 0: infinitely strong (c = inf); C = inf: no regularization (c = 0)
    assert conventions.to_coefficient(0.0, "sklearn_logreg_C", m=M) == math.inf
    assert conventions.to_coefficient(math.inf, "sklearn_logreg_C", m=M) == 0.0
    assert conventions.from_coefficient(0.0, "sklearn_logreg_C", m=M) == math.inf
    assert conventions.from_coefficient(math.inf, "sklearn_logreg_C", m=M) == 0.0
    assert convert_lambda(0.0, from_="ng", to="sklearn_logreg_C", m=M) == math.inf
    assert convert_lambda(math.inf, from_="sklearn_logreg_C", to="ng", m=M) == 0.0
    assert convert_lambda(0.0, from_="sklearn_logreg_C", to="ng", m=M) == math.inf
    assert convert_lambda(0.0, from_="sklearn_logreg_C", to="sklearn_logreg_C", m=M) == 0.0
    assert convert_lambda(0.0, from_="keras_l2", to="ng", m=M) == 0.0


def test_array_values_convert_elementwise():
    values = np.array([0.5, 2.0, 30.0])
    for a, b in itertools.product(NAMES, NAMES):
        kw = {"m": M, "n": N, "learning_rate": LR}
        got = np.asarray(convert_lambda(values, from_=a, to=b, **kw))
        expected = [convert_lambda(float(v), from_=a, to=b, **kw) for v in values]
        np.testing.assert_allclose(got, expected, rtol=1e-6)  # float32 arrays


def test_convert_under_jit_matches_eager(x64):
    @jax.jit
    def to_ng(C):
        return convert_lambda(C, from_="sklearn_logreg_C", to="ng", m=M)

    assert float(to_ng(jnp.float64(0.25))) == pytest.approx(4.0, rel=1e-15)  # λ = 1/C


# ---------------------------------------------------------------------------------------
# to="all", and arguments checked whenever given
# ---------------------------------------------------------------------------------------


def test_to_all_gives_every_convention_in_table_order():
    for a in NAMES:
        for value in (0.37, 12.0):
            every = convert_lambda(value, from_=a, to="all", m=M, n=N, learning_rate=LR)
            assert list(every) == list(CONVENTIONS)  # the table's order, every name
            for b, got in every.items():
                assert COEFFICIENT[b](got) == pytest.approx(COEFFICIENT[a](value), rel=1e-12)


def test_to_all_leaves_out_the_names_whose_argument_is_missing():
    # from the table: per_param needs n, decoupled_independent needs η, ng/sum/sklearn_* m
    every = convert_lambda(2.0, from_="ng", to="all", m=100)
    assert set(every) == set(CONVENTIONS) - {"per_param", "decoupled_independent"}
    assert every["sklearn_logreg_C"] == pytest.approx(0.5)  # C = 1/(c·m), c = 2/100
    assert every["keras_l2"] == pytest.approx(0.01)  # l2 = c/2
    no_m = convert_lambda(0.3, from_="mean_l2", to="all", learning_rate=0.1)
    assert set(no_m) == {
        "mean_l2",
        "keras_l2",
        "torch_weight_decay",
        "decoupled_lr_scaled",
        "decoupled_independent",
    }
    assert no_m["decoupled_independent"] == pytest.approx(0.03)  # d = η·c
    with pytest.raises(ValueError, match="'ng' needs m="):  # the source still needs its own
        convert_lambda(1.0, from_="ng", to="all")


def test_to_all_under_jit_and_on_arrays(x64):
    values = np.array([0.5, 2.0])
    every = jax.jit(lambda v: convert_lambda(v, from_="ng", to="all", m=M))(values)
    np.testing.assert_allclose(every["mean_l2"], values / M, rtol=1e-15)
    np.testing.assert_allclose(every["sklearn_logreg_C"], 1 / values, rtol=1e-15)


def test_unknown_target_or_optimizer_names_the_argument():
    with pytest.raises(ValueError, match=r"^to must be one of \['all', .*got 'every'"):
        convert_lambda(1.0, from_="ng", to="every", m=10)
    for bad in ("SGD", "adam_w", None, 3):
        with pytest.raises(ValueError, match=r"^optimizer must be one of .*'adam'"):
            convert_lambda(1.0, from_="ng", to="ng", m=10, optimizer=bad)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"m": 0}, r"^m \(the number of training examples\) must be a positive integer"),
        ({"m": 2.5}, r"^m .* must be a positive integer"),
        ({"n": -3}, r"^n \(the number of penalized weights\) must be a positive integer"),
        ({"learning_rate": 0.0}, r"^learning_rate must be a finite number > 0"),
        ({"learning_rate": math.nan}, r"^learning_rate must be a finite number > 0"),
    ],
)
def test_a_given_argument_is_checked_even_where_unused(kwargs, message):
    """mean_l2 -> keras_l2 needs none of m, n, η; a bad one given is still a mistake."""
    with pytest.raises(ValueError, match=message):
        convert_lambda(1.0, from_="mean_l2", to="keras_l2", **kwargs)
    with pytest.raises(ValueError, match=message):
        convert_lambda(1.0, from_="mean_l2", to="all", **kwargs)


# ---------------------------------------------------------------------------------------
# the optimizer: a penalty and a decoupled decay are the same under plain SGD only
# ---------------------------------------------------------------------------------------

DECOUPLED_NAMES = {"decoupled_lr_scaled", "decoupled_independent"}  # updates, not penalties
KIND = {"sgd": "sgd", "momentum": "momentum", "nesterov": "momentum", "adam": "adaptive"}
KIND |= {"adamw": "adaptive", "rmsprop": "adaptive", "adagrad": "adaptive", "lion": "adaptive"}


def test_the_optimizer_table_marks_the_adaptive_ones():
    assert {name: conventions.OPTIMIZERS[name] for name in KIND} == KIND
    assert set(conventions.OPTIMIZERS.values()) == {"sgd", "momentum", "adaptive"}
    assert conventions.DECOUPLED == DECOUPLED_NAMES


@pytest.mark.parametrize("optimizer", sorted(KIND))
def test_warns_exactly_between_a_penalty_and_a_decoupled_decay(optimizer):
    kw = {"m": M, "n": N, "learning_rate": LR}
    for a, b in itertools.product(NAMES, NAMES):
        mixed = (a in DECOUPLED_NAMES) != (b in DECOUPLED_NAMES)
        assert conventions.sgd_only(a, b) == mixed
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = convert_lambda(0.37, from_=a, to=b, optimizer=optimizer, **kw)
        # the value is plain SGD's whatever the optimizer
        assert COEFFICIENT[b](got) == pytest.approx(COEFFICIENT[a](0.37), rel=1e-12)
        if not mixed or KIND[optimizer] == "sgd":
            assert not caught, (a, b, optimizer)
            continue
        (warning,) = caught
        assert warning.category is conventions.ConversionWarning
        assert issubclass(conventions.ConversionWarning, UserWarning)
        text = str(warning.message)
        assert text.startswith(f"{a} -> {b}: under {optimizer} ")
        if KIND[optimizer] == "adaptive":
            assert "no λ is equivalent" in text and "1711.05101" in text
        else:
            assert "(1 − β)·c" in text
        assert warning.filename == __file__  # points at the caller's line


def test_to_all_warns_once_naming_the_penalties():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        every = convert_lambda(
            0.05, from_="decoupled_lr_scaled", to="all", m=1400, optimizer="adam"
        )
    (warning,) = caught
    penalties_given = [name for name in every if name not in DECOUPLED_NAMES]
    assert str(warning.message).startswith(
        f"decoupled_lr_scaled -> {', '.join(penalties_given)}: under adam no λ is equivalent"
    )
    assert every["ng"] == pytest.approx(70.0)  # λ = m·c = 1400·0.05, plain SGD's


def test_the_default_optimizer_is_sgd_and_never_warns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for a, b in itertools.product(NAMES, NAMES):
            convert_lambda(1.0, from_=a, to=b, m=M, n=N, learning_rate=LR)
        convert_lambda(1.0, from_="decoupled_independent", to="all", m=M, learning_rate=LR)


def _run(tx, decay, steps, X, y, theta):
    """``steps`` full-batch steps of ``tx`` on the mean BCE, then θ_w ← θ_w − decay(t)·θ_w
    (a decoupled decay on the weights, the bias left alone), in one lax.scan."""
    grad = jax.grad(_mean_bce)

    def step(carry, t):
        params, state = carry
        updates, state = tx.update(grad(params, X, y), state, params)
        new = optax.apply_updates(params, updates)
        new = {"w": new["w"] - decay(t) * params["w"], "b": new["b"]}
        return (new, state), None

    return jax.jit(lambda: jax.lax.scan(step, (theta, tx.init(theta)), jnp.arange(steps)))()[0][0]


def _library_minimizer(X, y, lam):
    return unflat(jnp.asarray(library_minimizer("logistic", X, y, lam)))


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_moves_the_decoupled_fixed_point_to_one_minus_beta(x64, nesterov):
    """SGD with momentum β (trace t ← βt + g) and a decoupled decay wd·η per step stops
    where g/(1 − β) + wd·θ = 0: the library's minimizer at c = (1 − β)·wd, not at wd."""
    X, y, theta = _sgd_setup()
    m, beta, wd, lr = X.shape[0], 0.9, 0.05, 0.1
    tx = optax.sgd(lr, momentum=beta, nesterov=nesterov)
    ours = _run(tx, lambda t: lr * wd, 1500, X, y, theta)
    with pytest.warns(conventions.ConversionWarning, match=r"\(1 − β\)·c"):
        sgd_lam = convert_lambda(
            wd, from_="decoupled_lr_scaled", to="ng", m=m, optimizer="momentum"
        )
    _assert_trees_close(ours, _library_minimizer(X, y, (1 - beta) * sgd_lam), rtol=1e-9)
    assert float(jnp.max(jnp.abs(ours["w"] - _library_minimizer(X, y, sgd_lam)["w"]))) > 0.1


@pytest.fixture
def standard_promotion():
    """optax's Adam and schedules mix Python floats with int32 step counts."""
    with jax.numpy_dtype_promotion("standard"):
        yield


def test_under_adam_a_penalty_converts_and_a_decoupled_decay_does_not(x64, standard_promotion):
    """Adam on mean BCE + wd/2‖w‖² (coupled, torch_weight_decay) ends at the library's
    minimizer at the converted λ. AdamW at the same wd ends where −g_j/θ_j, the strength
    each weight acts under, differs from weight to weight: no single λ has that point
    as its minimizer, and all are far below wd (Loshchilov & Hutter 2019)."""
    X, y, theta = _sgd_setup()
    m, wd, steps = X.shape[0], 0.5, 2000
    schedule = optax.cosine_decay_schedule(0.05, steps)
    mask = {"w": True, "b": False}
    coupled_tx = optax.chain(optax.add_decayed_weights(wd, mask=mask), optax.adam(schedule))
    coupled = _run(coupled_tx, lambda t: 0.0, steps, X, y, theta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a penalty under Adam: no warning
        lam = convert_lambda(wd, from_="torch_weight_decay", to="ng", m=m, optimizer="adam")
    _assert_trees_close(coupled, _library_minimizer(X, y, lam), rtol=1e-8, atol=1e-10)

    adamw = _run(optax.adam(schedule), lambda t: schedule(t) * wd, steps, X, y, theta)
    g = jax.grad(_mean_bce)(adamw, X, y)
    strengths = -np.asarray(g["w"]) / np.asarray(adamw["w"])
    assert strengths.max() / strengths.min() > 3 and strengths.max() < wd / 10
    with pytest.warns(conventions.ConversionWarning, match="under adam no λ is equivalent"):
        convert_lambda(wd, from_="decoupled_lr_scaled", to="ng", m=m, optimizer="adam")


def test_the_two_decoupled_forms_are_the_same_steps_under_adam(x64, standard_promotion):
    """θ ← θ − η·adam(g) − η·wd·θ and θ ← θ − η·adam(g) − d·θ with d = η·wd, constant η."""
    X, y, theta = _sgd_setup()
    wd, lr = 0.3, 0.02
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = convert_lambda(
            wd,
            from_="decoupled_lr_scaled",
            to="decoupled_independent",
            learning_rate=lr,
            optimizer="adam",
        )
    assert d == pytest.approx(lr * wd, rel=1e-15)
    scaled = _run(optax.adam(lr), lambda t: lr * wd, 50, X, y, theta)
    independent = _run(optax.adam(lr), lambda t: d, 50, X, y, theta)
    _assert_trees_close(scaled, independent, rtol=1e-13)


# ---------------------------------------------------------------------------------------
# decay factor and time scales
# ---------------------------------------------------------------------------------------


def _gd_on_penalty(w0, lam, m, lr, steps):
    """Plain gradient descent on the pure penalty λ/(2m)‖w‖²."""
    grad = jax.grad(lambda p: penalties.l2(p, lam, m=m))
    params = {"w": w0}
    for _ in range(steps):
        params = jax.tree.map(lambda p, g: p - lr * g, params, grad(params))
    return params["w"]


@pytest.mark.parametrize(("lam", "m", "lr", "k"), [(10.0, 1000, 0.5, 7), (3.0, 40, 0.2, 25)])
def test_decay_factor_is_the_gd_multiplier(x64, lam, m, lr, k):
    w0 = jnp.asarray(np.random.default_rng(0).normal(size=6))
    factor = conventions.decay_factor(lam, m=m, learning_rate=lr)
    assert factor == pytest.approx(1 - lr * lam / m, rel=1e-15)
    np.testing.assert_allclose(
        np.asarray(_gd_on_penalty(w0, lam, m, lr, k)), factor**k * np.asarray(w0), rtol=1e-12
    )


def test_decay_timescale_shrinks_weights_by_e(x64):
    # choose η·λ/m so that τ is exactly 50 steps: (1 − ηλ/m)^50 = 1/e
    m, lr, tau = 100, 0.5, 50
    lam = (1 - math.exp(-1 / tau)) * m / lr
    assert conventions.decay_timescale(lam, m=m, learning_rate=lr) == pytest.approx(tau, rel=1e-10)
    w0 = jnp.asarray(np.random.default_rng(1).normal(size=4))
    w = _gd_on_penalty(w0, lam, m, lr, tau)
    np.testing.assert_allclose(np.asarray(w), np.asarray(w0) / math.e, rtol=1e-10)


@pytest.mark.parametrize(("lam", "m", "lr"), [(10.0, 1000, 0.1), (0.5, 60, 0.02), (4.0, 50, 1.0)])
def test_decay_timescale_formula(lam, m, lr):
    steps = conventions.decay_timescale(lam, m=m, learning_rate=lr)
    assert (1 - lr * lam / m) ** steps == pytest.approx(math.exp(-1), rel=1e-10)
    # for a small step ηλ/m the timescale is about m/(ηλ), within a relative ηλ/(2m)
    rate = lr * lam / m
    assert steps == pytest.approx(1 / rate, rel=rate)
    # in epochs of m/b steps: τ·b/m; full batch (b = m) is one step an epoch
    for b in (1, 10, m):
        epochs = conventions.decay_timescale(
            lam, m=m, learning_rate=lr, batch_size=b, unit="epochs"
        )
        assert epochs == pytest.approx(steps * b / m, rel=1e-14)
    full = conventions.decay_timescale(lam, m=m, learning_rate=lr, unit="epochs")
    assert full == pytest.approx(steps, rel=1e-14)


def test_decay_timescale_edges():
    assert conventions.decay_timescale(0.0, m=10, learning_rate=0.1) == math.inf
    assert conventions.decay_factor(0.0, m=10, learning_rate=0.1) == 1.0
    with pytest.raises(ValueError, match="unit"):
        conventions.decay_timescale(1.0, m=10, learning_rate=0.1, unit="minutes")
    with pytest.raises(ValueError, match="learning_rate"):  # ηλ/m = 1: no decay timescale
        conventions.decay_timescale(10.0, m=10, learning_rate=1.0)
    with pytest.raises(ValueError, match="batch_size"):
        conventions.decay_timescale(1.0, m=10, learning_rate=0.1, batch_size=0, unit="epochs")
