"""jax.grad through the path solvers: the implicit derivative, against closed forms,
re-solved problems and rj.hypergrad; and warm starts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import regjax as rj
from regjax import hypergrad


def _lane(params, g):
    return jax.tree.map(lambda a: a[g], params)


def _binary(rng, m=120, n=4, m_val=60):
    w = rng.normal(size=n)
    X, Xv = rng.normal(size=(m, n)), rng.normal(size=(m_val, n))
    y = (rng.random(m) < 1 / (1 + np.exp(-X @ w))).astype(np.float64)
    yv = (rng.random(m_val) < 1 / (1 + np.exp(-Xv @ w))).astype(np.float64)
    return X, y, Xv, yv


def _bce(params, X, y):
    return rj.losses.binary_cross_entropy(rj.models.linear(params, X), y)


def _sce(params, X, labels):
    return rj.losses.softmax_cross_entropy(rj.models.linear(params, X), labels)


def _sq(params, X, y):
    return rj.losses.squared_error(rj.models.linear(params, X), y)


def _summed(solve, val, X, y, Xv, yv, **options):
    """Σ_g val(θ_g*(λ)): its gradient in λ holds every lane's derivative."""

    def f(lams):
        params = solve(X, y, lams, **options).params
        return sum(val(_lane(params, g), Xv, yv) for g in range(lams.shape[0]))

    return f


def test_grad_through_the_logistic_path_equals_the_hypergradient(x64, rng):
    X, y, Xv, yv = _binary(rng)
    lams = jnp.array([0.5, 4.0, 30.0])
    grads = jax.grad(_summed(rj.paths.logistic, _bce, X, y, Xv, yv, tol=1e-12))(lams)
    params = rj.paths.logistic(X, y, lams, tol=1e-12).params
    for g, lam in enumerate(lams):
        _, expected = hypergrad.val_loss_and_grad(
            rj.costs.logistic_regression, _lane(params, g), lam, (X, y), _bce, (Xv, yv)
        )
        assert float(grads[g]) == pytest.approx(float(expected), rel=1e-8)


def test_jacrev_through_the_logistic_path_is_diagonal(x64, rng):
    """Each lane's validation loss depends on its own λ only."""
    X, y, Xv, yv = _binary(rng)
    lams = jnp.array([1.0, 10.0])

    def per_lane(lams):
        params = rj.paths.logistic(X, y, lams, tol=1e-12).params
        return jnp.stack([_bce(_lane(params, g), Xv, yv) for g in range(2)])

    jac = jax.jacrev(per_lane)(lams)
    summed = jax.grad(_summed(rj.paths.logistic, _bce, X, y, Xv, yv, tol=1e-12))(lams)
    np.testing.assert_allclose(np.diag(jac), summed, rtol=1e-12)
    assert jac[0, 1] == 0 and jac[1, 0] == 0


def test_grad_through_the_ridge_path_equals_the_closed_form_derivative(x64, rng):
    X, Xv = rng.normal(size=(50, 4)) + 0.3, rng.normal(size=(30, 4))
    y, yv = X @ rng.normal(size=4) + rng.normal(size=50), Xv @ rng.normal(size=4)
    lams = jnp.array([0.3, 5.0])
    grads = jax.grad(_summed(rj.paths.ridge, _sq, X, y, Xv, yv))(lams)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    for g, lam in enumerate(np.asarray(lams)):
        A = Xc.T @ Xc + lam * np.eye(4)
        w = np.linalg.solve(A, Xc.T @ yc)
        dw = -np.linalg.solve(A, w)  # d/dλ of (X̃ᵀX̃ + λI)⁻¹X̃ᵀỹ
        b, db = y.mean() - X.mean(axis=0) @ w, -X.mean(axis=0) @ dw
        residual = Xv @ w + b - yv
        assert float(grads[g]) == pytest.approx(np.mean(residual * (Xv @ dw + db)), rel=1e-8)


def _central(f, lams, g, h):
    up, down = lams.at[g].add(h), lams.at[g].add(-h)
    return (float(f(up)) - float(f(down))) / (2 * h)


@pytest.mark.parametrize(
    "case", ["softmax", "lasso", "elastic_net", "logistic_l1", "softmax_elastic_net"]
)
def test_grad_through_a_path_matches_central_differences_of_the_resolved_path(x64, rng, case):
    """Non-smooth penalties too: on the support of w the solution is smooth in λ."""
    X, y, Xv, yv = _binary(rng, m=150)
    if case.startswith("softmax"):
        y = rng.integers(0, 3, size=150)
        yv = rng.integers(0, 3, size=60)
        solve, val = rj.paths.softmax, _sce
    elif case == "logistic_l1":
        solve, val = rj.paths.logistic, _bce
    else:
        w = np.array([1.5, 0.0, -2.0, 0.1])
        y, yv = X @ w + rng.normal(size=150), Xv @ w
        solve, val = rj.paths.linear, _sq
    rho = {"lasso": 1.0, "logistic_l1": 1.0}.get(case, 0.5 if "elastic" in case else 0.0)
    lams = jnp.array([2.0, 12.0])
    f = _summed(solve, val, X, y, Xv, yv, l1_ratio=rho, tol=1e-12)
    grads = jax.grad(f)(lams)
    for g in range(2):  # central differences: O(h²) truncation, O(tol/h) from the solves
        assert float(grads[g]) == pytest.approx(_central(f, lams, g, 1e-4), rel=1e-6, abs=1e-10)


def test_grad_through_the_logistic_path_in_x_matches_central_differences(x64, rng):
    X, y, Xv, yv = _binary(rng, m=60)

    def f(X):
        return _bce(_lane(rj.paths.logistic(X, y, jnp.array([3.0]), tol=1e-13).params, 0), Xv, yv)

    grad = jax.grad(f)(jnp.asarray(X))
    h = 1e-5
    for i, j in [(0, 0), (7, 3), (31, 1)]:
        central = (
            f(X + h * np.eye(60)[i][:, None] * np.eye(4)[j])
            - f(X - h * np.eye(60)[i][:, None] * np.eye(4)[j])
        ) / (2 * h)
        assert float(grad[i, j]) == pytest.approx(float(central), rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("solver", ["logistic", "softmax", "lasso"])
def test_a_warm_start_reaches_the_same_solution_in_fewer_iterations(x64, rng, solver):
    X, y, _, _ = _binary(rng)
    if solver == "softmax":
        y = rng.integers(0, 3, size=120)
    if solver == "lasso":
        y = X @ np.array([1.0, 0.0, -1.0, 0.5]) + rng.normal(size=120)
    solve = {"logistic": rj.paths.logistic, "softmax": rj.paths.softmax}.get(
        solver, rj.paths.linear
    )
    near, lams = jnp.array([2.0, 20.0]), jnp.array([2.2, 22.0])
    cold = solve(X, y, lams, tol=1e-10)
    warm = solve(X, y, lams, tol=1e-10, init=solve(X, y, near, tol=1e-10))
    assert bool(warm.converged.all())
    np.testing.assert_allclose(warm.params["w"], cold.params["w"], atol=1e-8)
    np.testing.assert_allclose(warm.params["b"], cold.params["b"], atol=1e-8)
    warm_its, cold_its = np.asarray(warm.iterations), np.asarray(cold.iterations)
    assert np.all(warm_its <= cold_its) and warm_its.sum() < cold_its.sum()


def test_a_warm_start_of_the_wrong_shape_names_init(x64, rng):
    X, y, _, _ = _binary(rng)
    other = rj.paths.logistic(X, y, jnp.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"init\['w'\]"):
        rj.paths.logistic(X, y, jnp.array([1.0, 2.0]), init=other)
    with pytest.raises(TypeError, match="init"):
        rj.paths.logistic(X, y, jnp.array([1.0]), init={"w": jnp.zeros((1, 4))})
