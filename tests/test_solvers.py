"""Solvers: fit loops agree with closed forms, scikit-learn, loops and each other."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import regjax as rj
from regjax import closed_form, costs, newton, solvers


def _logistic_data(m: int, n: int, *, seed: int, cond: float = 1.0, scale: float = 1.0):
    """Synthetic binary data; features with singular values spread over [1/cond, 1]."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    if cond != 1.0:
        Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        X = X @ np.diag(np.geomspace(1.0, 1.0 / cond, n)) @ Q
    w = scale * rng.normal(size=n) / np.sqrt(n)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w + 0.3)))).astype(np.float64)
    return X, y


def _breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    return X, y.astype(np.float64)


DATASETS = {
    "tall": lambda: _logistic_data(400, 6, seed=1, scale=3.0),
    "ill_conditioned": lambda: _logistic_data(300, 25, seed=2, cond=1e3, scale=2.0),
    "wide": lambda: _logistic_data(80, 120, seed=3, scale=2.0),
    "breast_cancer": _breast_cancer,
}


def _sklearn_logistic(X, y, lam):
    C = rj.convert_lambda(lam, from_="ng", to="sklearn_logreg_C", m=X.shape[0])
    clf = LogisticRegression(C=float(C), tol=1e-10, solver="newton-cholesky", max_iter=1000)
    clf.fit(X, y)
    return clf.coef_[0], clf.intercept_[0]


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_logistic_path_matches_sklearn(x64, name):
    X, y = DATASETS[name]()
    lams = np.logspace(3, -1, 5)
    tol = 1e-10
    path, info = solvers.logistic_path(X, y, lams, tol=tol, return_info=True)
    assert path["w"].shape == (5, X.shape[1]) and path["b"].shape == (5,)
    assert path["w"].dtype == jnp.float64
    assert bool(jnp.all(info.converged))
    for g, lam in enumerate(lams):
        params = {"w": path["w"][g], "b": path["b"][g]}
        grad = closed_form.logistic_regression_grad(params, X, y, lam)
        assert max(float(jnp.max(jnp.abs(leaf))) for leaf in jax.tree.leaves(grad)) <= tol
        coef, intercept = _sklearn_logistic(X, y, lam)
        np.testing.assert_allclose(path["w"][g], coef, rtol=0, atol=1e-6)
        np.testing.assert_allclose(path["b"][g], intercept, rtol=0, atol=1e-6)


def test_logistic_path_default_tol_reached_at_small_lambda(x64):
    X, y = _breast_cancer()
    lams = np.array([1e-3, 1e-2, 1e-1, 1.0, 1e3])  # near-separable at small λ
    path, info = solvers.logistic_path(X, y, lams, return_info=True)
    for g, lam in enumerate(lams):
        params = {"w": path["w"][g], "b": path["b"][g]}
        grad = closed_form.logistic_regression_grad(params, X, y, lam)
        assert max(float(jnp.max(jnp.abs(leaf))) for leaf in jax.tree.leaves(grad)) <= 1e-8
    assert int(jnp.max(info.iterations)) < 100


def test_logistic_path_float32_without_x64():
    X, y = _logistic_data(200, 5, seed=4)
    path, info = solvers.logistic_path(X, y, np.array([0.1, 10.0]), tol=1e-4, return_info=True)
    assert path["w"].dtype == jnp.float32
    assert bool(jnp.all(info.converged))
    for g, lam in enumerate([0.1, 10.0]):
        coef, _ = _sklearn_logistic(X, y, lam)
        np.testing.assert_allclose(np.asarray(path["w"][g]), coef, rtol=0, atol=1e-3)


def test_softmax_path_matches_sklearn_multinomial(x64):
    rng = np.random.default_rng(5)
    m, n, K = 300, 8, 4
    X = rng.normal(size=(m, n))
    logits = X @ rng.normal(size=(n, K))
    probs = np.exp(logits - logits.max(1, keepdims=True))
    labels = np.array([rng.choice(K, p=p / p.sum()) for p in probs])
    lams = np.array([300.0, 10.0, 0.5])
    path, info = solvers.softmax_path(X, labels, lams, tol=1e-10, return_info=True)
    assert path["w"].shape == (3, n, K) and path["b"].shape == (3, K)
    assert bool(jnp.all(info.converged))
    for g, lam in enumerate(lams):
        params = {"w": path["w"][g], "b": path["b"][g]}
        grad = closed_form.softmax_regression_grad(params, X, labels, lam)
        assert max(float(jnp.max(jnp.abs(leaf))) for leaf in jax.tree.leaves(grad)) <= 1e-10
        C = rj.convert_lambda(lam, from_="ng", to="sklearn_logreg_C", m=m)
        clf = LogisticRegression(C=float(C), tol=1e-12, solver="newton-cholesky", max_iter=1000)
        clf.fit(X, labels)
        # Both parametrizations are over-complete; b is unique once centred over K.
        np.testing.assert_allclose(path["w"][g], clf.coef_.T, rtol=0, atol=1e-6)
        np.testing.assert_allclose(
            path["b"][g], clf.intercept_ - clf.intercept_.mean(), rtol=0, atol=1e-6
        )
        proba = jax.nn.softmax(rj.models.linear(params, X), axis=1)
        np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-7)


def test_path_new_lambdas_do_not_retrace(x64, monkeypatch):
    traces = []
    original = newton.newton_cg_path

    def counting(*args, **kwargs):
        traces.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(newton, "newton_cg_path", counting)
    X, y = _logistic_data(97, 3, seed=6)  # shapes no other test uses
    first = solvers.logistic_path(X, y, np.array([1.0, 2.0, 3.0]), tol=1e-9)
    second = solvers.logistic_path(X, y, np.array([0.5, 5.0, 50.0]), tol=1e-9)
    assert len(traces) == 1
    assert not np.allclose(first["w"], second["w"])


def test_path_under_jit_matches_eager(x64):
    X, y = _logistic_data(120, 4, seed=7)
    lams = jnp.array([0.3, 30.0])
    eager = solvers.logistic_path(X, y, lams)
    jitted = jax.jit(lambda lams: solvers.logistic_path(X, y, lams))(lams)
    np.testing.assert_allclose(jitted["w"], eager["w"], rtol=0, atol=1e-12)


def test_gradient_descent_converges_to_ridge_solution(x64):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(60, 4)) + 1.0
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=60)
    lam = 3.0
    Xa = np.hstack([X, np.ones((60, 1))])
    lipschitz = np.linalg.eigvalsh(Xa.T @ Xa / 60 + lam / 60 * np.eye(5)).max()
    p0 = {"w": jnp.zeros(4), "b": jnp.zeros(())}
    params, info = solvers.gradient_descent(
        costs.linear_regression, p0, X, y, lam=lam, learning_rate=1 / lipschitz,
        max_steps=20000, tol=1e-11, return_info=True,
    )  # fmt: skip
    assert bool(info.converged)
    exact = closed_form.ridge_solution(X, y, lam)
    np.testing.assert_allclose(params["w"], exact["w"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(params["b"], exact["b"], rtol=0, atol=1e-9)


def test_vmap_gradient_descent_equals_loop_and_stops_per_lambda(x64):
    X, y = _logistic_data(100, 3, seed=9)
    p0 = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    lams = jnp.array([0.1, 3.0, 100.0])

    def fit(lam):
        return solvers.gradient_descent(
            costs.logistic_regression, p0, X, y, lam=lam, learning_rate=1.0,
            max_steps=3000, tol=1e-7, return_info=True,
        )  # fmt: skip

    batched, info = jax.jit(jax.vmap(fit))(lams)
    single_fit = jax.jit(fit)
    for g, lam in enumerate(lams):
        single, single_info = single_fit(lam)
        np.testing.assert_allclose(batched["w"][g], single["w"], rtol=0, atol=1e-13)
        assert int(info.steps[g]) == int(single_info.steps)
    assert bool(jnp.all(info.converged))
    assert len(set(np.asarray(info.steps).tolist())) > 1  # each λ stopped on its own


@pytest.mark.parametrize("name", ["lbfgs", "adam"])
def test_vmap_optax_fit_converges_per_lambda(x64, name):
    X, y = _logistic_data(100, 3, seed=10)
    p0 = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    lams = jnp.array([0.5, 20.0])
    optimizer = optax.lbfgs() if name == "lbfgs" else optax.adam(0.05)

    def fit(lam):
        return solvers.optax_fit(
            costs.logistic_regression, optimizer, p0, X, y, lam=lam, max_steps=2000,
            tol=1e-8, return_info=True,
        )  # fmt: skip

    # optax.lbfgs mixes its int32 step count with an int64 arange under x64, which
    # strict promotion rejects (an Optax issue, not one of this loop).
    with jax.numpy_dtype_promotion("standard"):
        batched, info = jax.jit(jax.vmap(fit))(lams)
        singles = [jax.jit(fit)(lam)[0] for lam in lams] if name == "adam" else []
    assert bool(jnp.all(info.converged))
    path = solvers.logistic_path(X, y, lams, tol=1e-12)
    for g in range(len(lams)):
        np.testing.assert_allclose(batched["w"][g], path["w"][g], rtol=0, atol=1e-6)
    for g, single in enumerate(singles):  # vmap equals a loop of single fits
        np.testing.assert_allclose(batched["w"][g], single["w"], rtol=0, atol=1e-10)


def test_vmapped_fit_does_not_recompile_for_new_lambdas(x64):
    X, y = _logistic_data(50, 2, seed=11)
    traces = []

    def counting_cost(params, X, y, lam):
        traces.append(1)
        return costs.logistic_regression(params, X, y, lam)

    p0 = {"w": jnp.zeros(2), "b": jnp.zeros(())}
    fit = jax.jit(
        jax.vmap(
            lambda lam: solvers.gradient_descent(
                counting_cost, p0, X, y, lam=lam, learning_rate=1.0, max_steps=50
            )
        )
    )
    fit(jnp.array([1.0, 2.0]))
    n_traces = len(traces)
    fit(jnp.array([7.0, 9.0]))
    assert len(traces) == n_traces > 0


@pytest.mark.parametrize(
    "cost, target",
    [(costs.linear_regression, "continuous"), (costs.logistic_regression, "binary")],
)
def test_minibatch_gradients_average_to_full_gradient(x64, cost, target):
    rng = np.random.default_rng(12)
    m, b = 12, 4
    X = rng.normal(size=(m, 3))
    y = rng.normal(size=m) if target == "continuous" else (rng.random(m) < 0.5) * 1.0
    params = {"w": jnp.asarray(rng.normal(size=3)), "b": jnp.asarray(0.7)}
    lam = 2.5
    full = jax.grad(cost)(params, X, y, lam)
    batches = rng.permutation(m).reshape(m // b, b)

    def batch_grad(idx, fn):
        return jax.grad(fn)(params, X[idx], y[idx])

    right = [batch_grad(i, lambda p, X, y: solvers.minibatch_cost(cost, p, X, y, lam=lam, m=m))
             for i in batches]  # fmt: skip
    mean = jax.tree.map(lambda *g: sum(g) / len(g), *right)
    for leaf, ref in zip(jax.tree.leaves(mean), jax.tree.leaves(full)):
        np.testing.assert_allclose(leaf, ref, rtol=1e-12, atol=1e-14)
    # The batch cost with the full λ (penalty λ/(2b)) over-regularizes by m/b.
    naive = [batch_grad(i, lambda p, X, y: cost(p, X, y, lam)) for i in batches]
    naive_mean = jax.tree.map(lambda *g: sum(g) / len(g), *naive)
    np.testing.assert_allclose(
        naive_mean["w"] - full["w"], (m / b - 1) * lam / m * params["w"], rtol=1e-10
    )


def test_sgd_full_batch_is_gradient_descent(x64):
    X, y = _logistic_data(40, 3, seed=13)
    p0 = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    kwargs = {"lam": 2.0, "learning_rate": 0.5}
    by_sgd = solvers.sgd(costs.logistic_regression, p0, X, y, batch_size=40, epochs=30,
                         key=jax.random.key(0), **kwargs)  # fmt: skip
    by_gd = solvers.gradient_descent(costs.logistic_regression, p0, X, y, max_steps=30, **kwargs)
    np.testing.assert_allclose(by_sgd["w"], by_gd["w"], rtol=0, atol=1e-14)


def test_sgd_vmap_over_lambda_equals_loop_and_approaches_optimum(x64):
    X, y = _logistic_data(100, 3, seed=14)
    p0 = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    lams = jnp.array([1.0, 20.0])

    def fit(lam):
        return solvers.sgd(costs.logistic_regression, p0, X, y, lam=lam,
                           learning_rate=lambda t: 0.5 / (1 + t / 50), batch_size=10,
                           epochs=200, key=jax.random.key(1))  # fmt: skip

    batched = jax.jit(jax.vmap(fit))(lams)
    path = solvers.logistic_path(X, y, lams)
    single_fit = jax.jit(fit)
    for g, lam in enumerate(lams):
        np.testing.assert_allclose(batched["w"][g], single_fit(lam)["w"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(batched["w"][g], path["w"][g], atol=0.05)


def test_bad_inputs_fail_loudly():
    X, y = np.zeros((4, 2)), np.array([0.0, 1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="lams"):
        solvers.logistic_path(X, y, np.ones((2, 2)))
    with pytest.raises(ValueError, match="lams"):
        solvers.logistic_path(X, y, np.array([-1.0]))
    with pytest.raises(ValueError, match="y"):
        solvers.logistic_path(X, y + 1, np.array([1.0]))
    with pytest.raises(ValueError, match="tol"):
        solvers.logistic_path(X, y, np.array([1.0]), tol=0.0)
    with pytest.raises(ValueError, match="labels"):
        solvers.softmax_path(X, np.array([0, 1, 2, 3]), np.array([1.0]), num_classes=3)
    p0 = {"w": jnp.zeros(2), "b": jnp.zeros(())}
    with pytest.raises(ValueError, match="batch_size"):
        solvers.sgd(costs.logistic_regression, p0, X, y, lam=1.0, learning_rate=0.1,
                    batch_size=5, epochs=1, key=jax.random.key(0))  # fmt: skip
    with pytest.raises(ValueError, match="max_steps"):
        solvers.gradient_descent(costs.logistic_regression, p0, X, y, lam=1.0,
                                 learning_rate=0.1, max_steps=-1)  # fmt: skip
