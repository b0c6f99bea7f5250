"""∂(validation loss)/∂λ by implicit differentiation, against closed forms and re-solves."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import regjax as rj
from regjax import hypergrad


def _mse(params, X, y):
    return jnp.mean((rj.models.linear(params, X) - y) ** 2)


def _ridge_problem(rng, m=60, n=5):
    X = rng.normal(size=(m, n)) + 0.5
    y = X @ rng.normal(size=n) + rng.normal(size=m)
    Xv = rng.normal(size=(40, n)) + 0.5
    yv = Xv @ rng.normal(size=n)
    return X, y, Xv, yv


def test_ridge_hypergradient_equals_the_closed_form_derivative(x64, rng):
    X, y, Xv, yv = _ridge_problem(rng)
    lam = 7.0
    theta = rj.closed_form.ridge_solution(X, y, lam)
    value, dval = hypergrad.val_loss_and_grad(
        rj.costs.linear_regression, theta, lam, (X, y), _mse, (Xv, yv)
    )
    # w(λ) = (X̃ᵀX̃ + λI)⁻¹X̃ᵀỹ ⇒ dw/dλ = −(X̃ᵀX̃ + λI)⁻¹w; b = ȳ − x̄ᵀw ⇒ db/dλ = −x̄ᵀdw/dλ
    Xc = X - X.mean(axis=0)
    w, b = np.asarray(theta["w"]), float(theta["b"])
    dw = -np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), w)
    db = -X.mean(axis=0) @ dw
    residual = Xv @ w + b - yv
    exact = np.mean(2 * residual * (Xv @ dw + db))
    assert float(value) == pytest.approx(np.mean(residual**2), rel=1e-12)
    assert float(dval) == pytest.approx(exact, rel=1e-8)

    def resolved(lam):
        return float(_mse(rj.closed_form.ridge_solution(X, y, lam), Xv, yv))

    h = 1e-4 * lam
    central = (resolved(lam + h) - resolved(lam - h)) / (2 * h)
    assert float(dval) == pytest.approx(central, rel=1e-6)


@pytest.mark.parametrize("model", ["logistic", "softmax"])
def test_glm_hypergradient_matches_central_differences_of_the_resolved_path(x64, rng, model):
    m, n = 150, 4
    X = rng.normal(size=(m, n))
    Xv = rng.normal(size=(80, n))
    if model == "logistic":
        w = rng.normal(size=n)
        y = (rng.random(m) < 1 / (1 + np.exp(-X @ w))).astype(np.float64)
        yv = (rng.random(80) < 1 / (1 + np.exp(-Xv @ w))).astype(np.float64)
        cost, solve = rj.costs.logistic_regression, rj.paths.logistic

        def val(p, X, y):
            return rj.losses.binary_cross_entropy(rj.models.linear(p, X), y)
    else:
        W = rng.normal(size=(n, 3))
        y, yv = np.argmax(X @ W + rng.gumbel(size=(m, 3)), 1), np.argmax(Xv @ W, 1)
        cost, solve = rj.costs.softmax_regression, rj.paths.softmax

        def val(p, X, y):
            return rj.losses.softmax_cross_entropy(rj.models.linear(p, X), y)

    lam, h = 4.0, 1e-3
    path = solve(X, y, jnp.array([lam, lam - h, lam + h]), tol=1e-13)
    params = [jax.tree.map(lambda a, g=g: a[g], path.params) for g in range(3)]
    value, dval = hypergrad.val_loss_and_grad(cost, params[0], lam, (X, y), val, (Xv, yv))
    central = (float(val(params[2], Xv, yv)) - float(val(params[1], Xv, yv))) / (2 * h)
    assert float(value) == pytest.approx(float(val(params[0], Xv, yv)), rel=1e-14)
    assert float(dval) == pytest.approx(central, rel=1e-6, abs=1e-10)


def test_per_group_lambda_hypergradients_match_generalized_ridge(x64, rng):
    """Two weight groups with their own λ: d val/d(λ₁, λ₂) against re-solved closed forms."""
    X, y, Xv, yv = _ridge_problem(rng, n=5)
    groups = {"a": slice(0, 2), "c": slice(2, 5)}

    def split(X):
        return {k: X[:, s] for k, s in groups.items()}

    def data_cost(p, X, y):
        parts = split(X)
        h = parts["a"] @ p["a"] + parts["c"] @ p["c"] + p["b"]
        return 0.5 * jnp.mean((h - y) ** 2)

    cost = rj.costs.regularized(data_cost)

    def solve(lam):  # (X̃ᵀX̃ + diag(Λ)) w = X̃ᵀỹ, Λ one λ per group
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        diag = np.concatenate([np.full(2, lam["a"]), np.full(3, lam["c"])])
        w = np.linalg.solve(Xc.T @ Xc + np.diag(diag), Xc.T @ yc)
        b = y.mean() - X.mean(axis=0) @ w
        return {"a": jnp.asarray(w[:2]), "c": jnp.asarray(w[2:]), "b": jnp.asarray(b)}

    def val(p, X, y):
        return 2 * data_cost(p, X, y)

    lam = {"a": 3.0, "c": 20.0, "b": 0.0}
    _, dval = hypergrad.val_loss_and_grad(cost, solve(lam), lam, (X, y), val, (Xv, yv))
    for group in ("a", "c"):
        h = 1e-4 * lam[group]
        up, down = dict(lam), dict(lam)
        up[group], down[group] = lam[group] + h, lam[group] - h
        central = (float(val(solve(up), Xv, yv)) - float(val(solve(down), Xv, yv))) / (2 * h)
        assert float(dval[group]) == pytest.approx(central, rel=1e-6)
    assert float(dval["b"]) == 0.0  # the bias is not penalized: λ_b changes nothing


def test_hypergradient_under_jit_equals_eager(x64, rng):
    X, y, Xv, yv = _ridge_problem(rng)
    theta = rj.closed_form.ridge_solution(X, y, 2.0)

    def f(lam):
        return hypergrad.val_loss_and_grad(
            rj.costs.linear_regression, theta, lam, (X, y), _mse, (Xv, yv)
        )

    eager = f(2.0)
    jitted = jax.jit(f)(jnp.asarray(2.0))
    np.testing.assert_allclose(jitted[1], eager[1], rtol=1e-12)


def test_an_unsolved_linear_system_warns(x64, rng):
    X, y, Xv, yv = _ridge_problem(rng)
    theta = rj.closed_form.ridge_solution(X, y, 0.5)
    with pytest.warns(hypergrad.HypergradWarning, match="relative residual"):
        hypergrad.val_loss_and_grad(
            rj.costs.linear_regression, theta, 0.5, (X, y), _mse, (Xv, yv), max_iter=1
        )


def test_bad_options_name_the_argument():
    p = {"w": jnp.zeros(1), "b": jnp.zeros(())}
    args = (rj.costs.linear_regression, p, 1.0, (jnp.ones((2, 1)), jnp.ones(2)), _mse)
    with pytest.raises(ValueError, match="lam"):
        hypergrad.val_loss_and_grad(args[0], p, -1.0, args[3], _mse, args[3])
    with pytest.raises(ValueError, match="max_iter"):
        hypergrad.val_loss_and_grad(*args, args[3], max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        hypergrad.val_loss_and_grad(*args, args[3], tol=0.0)


def _cv_problem(rng, m=200, n=6):
    w = rng.normal(size=n) / 2
    X = rng.normal(size=(m, n))
    y = (rng.random(m) < 1 / (1 + np.exp(-X @ w))).astype(np.float64)
    return X, y


def test_the_tuner_reaches_the_grid_optimum_in_fewer_fits(x64, rng):
    """From two decades away, within 1% of the best CV loss of a 30-λ grid, in fewer
    solves than the grid's 30 × 5; the CV loss is recomputed by rj.cross_validate."""
    X, y = _cv_problem(rng)
    key = jax.random.key(3)
    lams = jnp.geomspace(1e-2, 1e3, 30)

    def score(p, X, y):
        return rj.losses.binary_cross_entropy(rj.models.linear(p, X), y)

    def fit(lams, X, y):
        return rj.paths.logistic(X, y, lams, tol=1e-10)

    grid = rj.cross_validate(fit, score, X, y, lams, folds=5, key=key, batched=True)
    best = float(np.min(grid.val_mean))
    start = 100.0 * grid.best_lam if grid.best_lam < 10 else grid.best_lam / 100
    tuned = hypergrad.tune(hypergrad.path_cv("logistic", X, y, folds=5, key=key), start)
    assert tuned.converged, tuned.reason
    assert tuned.value <= 1.01 * best
    assert tuned.fits < 30 * 5
    again = rj.cross_validate(fit, score, X, y, jnp.array([tuned.lam]), folds=5, key=key,
                              batched=True)  # fmt: skip
    assert tuned.value == pytest.approx(float(again.val_mean[0]), rel=1e-8)
    accepted = [step.value for step in tuned.history if step.accepted]
    assert all(b <= a for a, b in zip(accepted, accepted[1:]))  # V never rises


def test_the_tuner_finds_per_group_lambdas_of_generalized_ridge(x64, rng):
    """Two groups, hold-out loss: at a tight ``tol`` the tuned (λ_a, λ_c) beats every
    point of a 41 × 41 log grid of exact (numpy) solutions, in fewer fits."""
    w = np.array([2.0, -1.5, 0.6, 0.5, -0.6])  # a strong group, a weaker one
    X, Xv = rng.normal(size=(30, 5)), rng.normal(size=(200, 5))
    y, yv = X @ w + 3 * rng.normal(size=30), Xv @ w + 3 * rng.normal(size=200)
    Xc, yc = X - X.mean(axis=0), y - y.mean()

    def exact(lam_a, lam_c):
        diag = np.concatenate([np.full(2, lam_a), np.full(3, lam_c)])
        w = np.linalg.solve(Xc.T @ Xc + np.diag(diag), Xc.T @ yc)
        return np.mean((Xv @ w + y.mean() - X.mean(axis=0) @ w - yv) ** 2)

    def data_cost(p, X, y):
        return 0.5 * jnp.mean((X[:, :2] @ p["a"] + X[:, 2:] @ p["c"] + p["b"] - y) ** 2)

    p0 = {"a": jnp.zeros(2), "c": jnp.zeros(3), "b": jnp.zeros(())}

    def val(p, X, y):
        return 2 * data_cost(p, X, y)

    objective = hypergrad.holdout(rj.costs.regularized(data_cost), p0, (X, y), val, (Xv, yv))
    tuned = hypergrad.tune(objective, {"a": 1.0, "c": 1.0, "b": 1.0}, tol=1e-8)
    grid = np.geomspace(1e-3, 1e4, 41)
    assert tuned.converged, tuned.reason
    assert tuned.value <= min(exact(a, c) for a in grid for c in grid) * (1 + 1e-9)
    assert tuned.value == pytest.approx(exact(tuned.lam["a"], tuned.lam["c"]), rel=1e-9)
    assert tuned.fits < 41 * 41


def test_the_tuner_says_when_it_ran_out_of_steps(x64, rng):
    X, y = _cv_problem(rng)
    objective = hypergrad.path_cv("logistic", X, y, folds=3, key=jax.random.key(0))
    with pytest.warns(hypergrad.HypergradWarning, match="max_steps = 1"):
        tuned = hypergrad.tune(objective, 100.0, max_steps=1)
    assert not tuned.converged


def test_tuner_options_name_the_argument(rng):
    X, y = _cv_problem(rng)
    objective = hypergrad.path_cv("logistic", X, y, folds=3, key=jax.random.key(0))
    for kwargs, name in [
        ({"max_steps": 0}, "max_steps"),
        ({"tol": -1.0}, "tol"),
        ({"max_step": 0.0}, "max_step"),
        ({"bounds": (1.0, 0.5)}, "bounds"),
    ]:
        with pytest.raises(ValueError, match=name):
            hypergrad.tune(objective, 1.0, **kwargs)
    with pytest.raises(ValueError, match="lam0"):
        hypergrad.tune(objective, 0.0)
    with pytest.raises(ValueError, match="model"):
        hypergrad.path_cv("probit", X, y, key=jax.random.key(0))
    with pytest.raises(ValueError, match="folds"):
        hypergrad.cross_validation(rj.costs.linear_regression, {"w": jnp.zeros(1)}, [], _mse)


def test_the_tuner_says_when_the_loss_is_flat(x64, rng):
    """Above every fold's λ_max a lasso path is all zeros: dV/dλ is exactly 0."""
    X = rng.normal(size=(60, 4))
    y = X @ np.array([1.0, -1.0, 0.0, 0.5]) + rng.normal(size=60)
    lam_max = float(np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))))  # λ/m·‖w‖₁ convention
    objective = hypergrad.path_cv("linear", X, y, folds=3, key=jax.random.key(0), l1_ratio=1.0)
    with pytest.warns(hypergrad.HypergradWarning, match="exactly 0"):
        tuned = hypergrad.tune(objective, 10 * lam_max)
    assert not tuned.converged and len(tuned.history) == 1
    assert float(tuned.grad) == 0.0
