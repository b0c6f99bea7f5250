"""Extreme cases give finite, correct answers or a clear report.

λ = 0 and λ = 1e12, duplicate λ in a grid, m = 1, n = 1, constant and duplicate
columns, one-class labels, separable classes, logits of ±1e4, fits that diverge and
results that overflow. Expected values come from the mathematics of each case, numpy
and scikit-learn. The README's table "Bad input and extreme cases" lists these and the
bad-input cases; its last test checks that every row of that table names a test.
"""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from _helpers import logistic_data
from sklearn.linear_model import Lasso, LogisticRegression

import regjax as rj
from regjax import closed_form, conventions, costs, paths, penalties, solvers
from regjax.solvers import ConvergenceWarning

ROOT = Path(__file__).resolve().parents[1]


def _ridge(X, y, lam):
    """numpy: the ridge minimizer of ½‖y − Xw − b‖²/m + λ/(2m)‖w‖² (b unpenalized)."""
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.lstsq(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ yc, rcond=None)[0]
    return w, y.mean() - X.mean(0) @ w


def _sklearn_logistic(X, y, lam):
    """scikit-learn's minimizer of mean BCE + λ/(2m)‖w‖² (C = 1/λ; λ = 0: C = inf)."""
    C = np.inf if lam == 0 else 1 / lam
    model = LogisticRegression(C=C, tol=1e-12, max_iter=10_000, solver="newton-cg").fit(X, y)
    return model.coef_[0], model.intercept_[0]


def _regression(m=30, n=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    return X, X @ np.arange(1.0, n + 1) + 0.5 + 0.1 * rng.normal(size=m)


# --- λ = 0 and λ = 1e12 ----------------------------------------------------------------


@pytest.mark.slow  # compiles several path solvers (about 3 s)
def test_lambda_zero_matches_the_unpenalized_fits(x64):
    X, y = _regression()
    w, b = _ridge(X, y, 0.0)  # ordinary least squares
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = paths.ridge(X, y, jnp.array([0.0]))
        solution = closed_form.ridge_solution(X, y, 0.0)
        Xl, yl = logistic_data(80, 3, seed=2)  # overlapping classes: a finite minimizer
        logistic = paths.logistic(Xl, yl, jnp.array([0.0]), tol=1e-12)
    np.testing.assert_allclose(path.params["w"][0], w, rtol=1e-12)
    np.testing.assert_allclose(solution["w"], w, rtol=1e-12)
    np.testing.assert_allclose(solution["b"], b, rtol=1e-12)
    w_ref, b_ref = _sklearn_logistic(Xl, yl, 0.0)
    np.testing.assert_allclose(logistic.params["w"][0], w_ref, rtol=1e-7)
    np.testing.assert_allclose(logistic.params["b"][0], b_ref, rtol=1e-7)
    assert bool(logistic.converged[0])


@pytest.mark.slow  # compiles several path solvers (about 3 s)
def test_huge_lambda_shrinks_to_the_first_order_solution(x64):
    """At λ = 1e12 every weight is first order in 1/λ: w = Xᵀ(y − ȳ)/λ (ridge and
    logistic), W = Xᵀ(Y − p̄)/λ (softmax), 0 exactly past λ_max (lasso); the intercepts
    are ȳ, logit(ȳ) and the centred log class frequencies. Relative error O(‖XᵀX‖/λ)."""
    lam = 1e12
    X, y = _regression(m=40)
    Xl, yl = logistic_data(40, 3, seed=1)
    labels = np.arange(40) % 3
    Y = np.eye(3)[labels]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ridge = paths.ridge(X, y, jnp.array([lam]))
        lasso = paths.linear(X, y, jnp.array([lam]))
        logistic = paths.logistic(Xl, yl, jnp.array([lam]), tol=1e-12)
        softmax = paths.softmax(X, labels, jnp.array([lam]), tol=1e-12)
    np.testing.assert_allclose(ridge.params["w"][0], X.T @ (y - y.mean()) / lam, rtol=1e-9)
    np.testing.assert_allclose(ridge.params["b"][0], y.mean(), rtol=1e-9)
    assert np.all(np.asarray(lasso.params["w"]) == 0.0)
    np.testing.assert_allclose(lasso.params["b"][0], y.mean(), rtol=1e-12)
    w = Xl.T @ (yl - yl.mean()) / lam
    np.testing.assert_allclose(logistic.params["w"][0], w, rtol=1e-8)
    np.testing.assert_allclose(logistic.params["b"][0], np.log(yl.mean() / (1 - yl.mean())))
    p = Y.mean(0)
    W = X.T @ (Y - p) / lam
    np.testing.assert_allclose(softmax.params["w"][0], W, atol=1e-8 * np.abs(W).max())
    np.testing.assert_allclose(softmax.params["b"][0], np.log(p) - np.log(p).mean(), atol=1e-9)


# --- duplicate λ -----------------------------------------------------------------------


@pytest.mark.slow  # compiles several path solvers (about 3 s)
def test_duplicate_lambdas_give_identical_lanes(x64):
    X, y = _regression()
    Xl, yl = logistic_data(60, 3, seed=3)
    grid = jnp.array([2.0, 2.0, 8.0, 8.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ridge = paths.ridge(X, y, grid)
        logistic = paths.logistic(Xl, yl, grid, tol=1e-12)
        lasso = paths.linear(X, y, grid)
        cv = rj.cross_validate(
            lambda lam, X, y: closed_form.ridge_solution(X, y, lam),
            lambda p, X, y: jnp.mean((X @ p["w"] + p["b"] - y) ** 2),
            X, y, grid, folds=3, key=jax.random.key(0),
        )  # fmt: skip
    for path in (ridge, logistic, lasso):
        w = np.asarray(path.params["w"])
        np.testing.assert_allclose(w[1], w[0], rtol=1e-12)
        np.testing.assert_allclose(w[3], w[2], rtol=1e-12)
    np.testing.assert_allclose(ridge.params["w"][2], _ridge(X, y, 8.0)[0], rtol=1e-12)
    np.testing.assert_allclose(logistic.params["w"][0], _sklearn_logistic(Xl, yl, 2.0)[0],
                               rtol=1e-7)  # fmt: skip
    np.testing.assert_allclose(cv.val[:, 1], cv.val[:, 0], rtol=1e-12)
    assert cv.best_lam in (2.0, 8.0)


# --- m = 1, n = 1 ----------------------------------------------------------------------


@pytest.mark.slow  # compiles several path solvers (about 3 s)
def test_a_single_example(x64):
    """m = 1: the centred X is 0, so every λ (0 included, the minimum-norm answer) gives
    w = 0 and b = y; the cost is ½(xᵀw + b − y)² + λ/2‖w‖²; one label is one class."""
    x, y = np.array([[0.5, -2.0, 3.0]]), np.array([1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = paths.ridge(x, y, jnp.array([0.0, 1.0, 1e3]))
        params = {"w": jnp.array([1.0, 0.5, -1.0]), "b": jnp.array(0.25)}
        cost = costs.linear_regression(params, x, y, 2.0)
    assert np.all(np.asarray(path.params["w"]) == 0.0)
    np.testing.assert_array_equal(path.params["b"], [1.5, 1.5, 1.5])
    residual = 0.5 - 1.0 - 3.0 + 0.25 - 1.5
    np.testing.assert_allclose(cost, 0.5 * residual**2 + 2.0 / 2 * (1 + 0.25 + 1), rtol=1e-14)
    with pytest.warns(ConvergenceWarning, match="a class never occurs"):
        logistic = paths.logistic(x, np.array([1.0]), jnp.array([1.0]))
    assert not bool(logistic.converged[0])


def test_a_single_feature(x64):
    """n = 1: ridge is w = Σ(x − x̄)(y − ȳ) / (Σ(x − x̄)² + λ); logistic is scikit-learn's."""
    X, y = _regression(n=1)
    xc, yc = X[:, 0] - X[:, 0].mean(), y - y.mean()
    lams = np.array([0.0, 3.0, 300.0])
    Xl, yl = logistic_data(50, 1, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ridge = paths.ridge(X, y, jnp.asarray(lams))
        logistic = paths.logistic(Xl, yl, jnp.array([3.0]), tol=1e-12)
    np.testing.assert_allclose(ridge.params["w"][:, 0], (xc @ yc) / (xc @ xc + lams), rtol=1e-12)
    w, b = _sklearn_logistic(Xl, yl, 3.0)
    np.testing.assert_allclose(logistic.params["w"][0], w, rtol=1e-7)
    np.testing.assert_allclose(logistic.params["b"][0], b, rtol=1e-7)


# --- constant and duplicate columns ----------------------------------------------------


@pytest.mark.slow  # compiles several path solvers (about 3 s)
def test_a_constant_column_gets_zero_weight(x64):
    """A constant column carries nothing the intercept does not: its weight is 0 at every
    λ (0 included) and the other weights are those of the fit without it."""
    X, y = _regression()
    Xl, yl = logistic_data(60, 3, seed=5)
    with_const = np.c_[X, np.full(len(X), 7.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ridge = paths.ridge(with_const, y, jnp.array([0.0, 2.0]))
        lasso = paths.linear(with_const, y, jnp.array([2.0]))
        logistic = paths.logistic(np.c_[Xl, np.full(60, -3.0)], yl, jnp.array([2.0]), tol=1e-12)
    assert np.all(np.abs(np.asarray(ridge.params["w"])[:, -1]) < 1e-12)
    assert np.abs(float(lasso.params["w"][0, -1])) == 0.0
    assert np.abs(float(logistic.params["w"][0, -1])) < 1e-10
    for g, lam in enumerate((0.0, 2.0)):
        np.testing.assert_allclose(ridge.params["w"][g, :-1], _ridge(X, y, lam)[0], rtol=1e-10)
    ref = Lasso(alpha=2.0 / len(X), tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(lasso.params["w"][0, :-1], ref.coef_, atol=1e-7)
    np.testing.assert_allclose(logistic.params["w"][0, :-1], _sklearn_logistic(Xl, yl, 2.0)[0],
                               rtol=1e-7)  # fmt: skip


def test_duplicate_columns_share_the_weight(x64):
    """With column x₀ twice, L2 splits its weight equally: w₀ = w₀' = u/√2, where u is the
    weight of √2·x₀ in the fit without the copy (same penalty on u² = w₀² + w₀'²). L1
    does not care how the weight is split: w₀ + w₀' is the lasso weight of x₀."""
    X, y = _regression()
    Xl, yl = logistic_data(60, 3, seed=6)
    dup = np.c_[X[:, :1], X]
    scaled = np.c_[np.sqrt(2) * X[:, :1], X[:, 1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ridge = paths.ridge(dup, y, jnp.array([0.0, 3.0]))
        lasso = paths.linear(dup, y, jnp.array([3.0]))
        logistic = paths.logistic(np.c_[Xl[:, :1], Xl], yl, jnp.array([3.0]), tol=1e-12)
    for g, lam in enumerate((0.0, 3.0)):
        u = _ridge(scaled, y, lam)[0]
        w = np.asarray(ridge.params["w"][g])
        np.testing.assert_allclose(w[:2], [u[0] / np.sqrt(2)] * 2, rtol=1e-10)
        np.testing.assert_allclose(w[2:], u[1:], rtol=1e-10)
    ref = Lasso(alpha=3.0 / len(X), tol=1e-14, max_iter=100_000).fit(X, y).coef_
    w = np.asarray(lasso.params["w"][0])
    np.testing.assert_allclose([w[0] + w[1], *w[2:]], ref, atol=1e-7)
    u = _sklearn_logistic(np.c_[np.sqrt(2) * Xl[:, :1], Xl[:, 1:]], yl, 3.0)[0]
    w = np.asarray(logistic.params["w"][0])
    np.testing.assert_allclose(w, [u[0] / np.sqrt(2), u[0] / np.sqrt(2), *u[1:]], rtol=1e-7)


# --- one class, separable classes ------------------------------------------------------


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_one_class_labels_are_reported_at_every_lambda(x64, l1_ratio):
    """All labels one class: no finite intercept at any λ. Every λ is converged = False,
    the parameters stay finite, and the warning names the problem and each λ."""
    X, _ = logistic_data(30, 2, seed=7)
    lams = jnp.array([0.0, 1.0, 10.0])
    for run in (
        lambda: paths.logistic(X, np.ones(30), lams, l1_ratio=l1_ratio),
        lambda: paths.softmax(X, np.zeros(30, int), lams, l1_ratio=l1_ratio, num_classes=2),
    ):
        with pytest.warns(ConvergenceWarning, match=r"3 of 3 λ have no finite minimizer: a "
                          r"class never occurs.*λ = \[0.0, 1.0, 10.0\]"):  # fmt: skip
            path = run()
        assert not np.any(np.asarray(path.converged))
        assert rj.selection.finite_lanes(path.params).all()
    with pytest.raises(ValueError, match=r"y is constant \(every entry is 1.0\)"):
        rj.lambda_grid(X, np.ones(30))


def test_separable_classes_are_reported_only_at_lambda_zero(x64):
    """Separable data: no finite minimizer at λ = 0 (reported, naming λ = 0); every λ > 0
    has one, and it is scikit-learn's."""
    X = np.r_[np.linspace(-3, -0.5, 10), np.linspace(0.5, 3, 10)][:, None]
    y = (X[:, 0] > 0).astype(np.float64)
    with pytest.warns(ConvergenceWarning, match=r"1 of 3 λ .*separable at λ = 0.*\[0.0\]$"):
        path = paths.logistic(X, y, jnp.array([0.0, 0.1, 1.0]), tol=1e-12)
    np.testing.assert_array_equal(path.converged, [False, True, True])
    for g, lam in ((1, 0.1), (2, 1.0)):
        w, b = _sklearn_logistic(X, y, lam)
        np.testing.assert_allclose(path.params["w"][g], w, rtol=1e-7)
        np.testing.assert_allclose(path.params["b"][g], b, atol=1e-7)


# --- logits of ±1e4 --------------------------------------------------------------------


@pytest.mark.slow  # eager costs, closed forms and jax.grad in two dtypes (about 3 s)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_extreme_logits_give_exact_finite_costs_and_gradients(x64, dtype):
    """z = ±1e4: a right label costs 0, a wrong one |z| (log(1 + e^z) − yz, exact in
    both tails); the gradient σ(z) − y is 0 or ±1. No overflow, no NaN."""
    X = jnp.array([[1.0], [-1.0], [1.0], [-1.0]], dtype)
    params = {"w": jnp.array([1e4], dtype), "b": jnp.zeros((), dtype)}
    y = jnp.array([1.0, 0.0, 0.0, 1.0], dtype)  # right, right, wrong, wrong
    assert float(costs.logistic_regression(params, X, y, 0.0)) == 5e3
    grad = closed_form.logistic_regression_grad(params, X, y, 0.0)
    auto = jax.grad(costs.logistic_regression)(params, X, y, 0.0)
    for g in (grad, auto):
        assert float(g["w"][0]) == 0.5 and float(g["b"]) == 0.0  # mean((σ − y)·x)
    W = {"w": jnp.array([[1e4, -1e4]], dtype), "b": jnp.zeros(2, dtype)}
    labels = jnp.array([1, 1])  # example 1 has logits (1e4, −1e4): wrong by 2e4
    assert float(costs.softmax_regression(W, X[:2], labels, 0.0)) == 1e4
    g = closed_form.softmax_regression_grad(W, X[:2], labels, 0.0)
    np.testing.assert_array_equal(g["w"], [[0.5, -0.5]])  # mean of (p − Y)·x: (1, −1) and 0
    net = [{"W": jnp.array([[1e4], [-1e4]], dtype), "b": jnp.zeros(2, dtype)}]
    Y = jnp.array([[0.0, 1.0]], dtype)  # both outputs wrong by 1e4
    assert float(costs.neural_network(net, X[:1], Y, 0.0)) == 2e4
    (layer,) = closed_form.neural_network_grad(net, X[:1], Y, 0.0)
    np.testing.assert_array_equal(layer["W"], [[1.0], [-1.0]])
    np.testing.assert_array_equal(layer["b"], [1.0, -1.0])


# --- fits that diverge, results that overflow ------------------------------------------


@pytest.mark.slow  # compiles several path solvers (about 3 s)
def test_a_diverging_fit_warns_naming_lambda_whatever_its_tolerance():
    """Too large a learning rate: the parameters become inf/NaN; every fit loop warns
    (before, gradient_descent with tol = 0, sgd and optax_fit returned them silently)."""
    X = jnp.asarray(np.random.default_rng(0).normal(size=(20, 3)), jnp.float32)
    y = X @ jnp.ones(3)
    p0 = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    fits = {
        "gradient_descent": lambda: solvers.gradient_descent(
            costs.linear_regression, p0, X, y, lam=1.0, learning_rate=10.0, max_steps=200),
        "sgd": lambda: solvers.sgd(costs.linear_regression, p0, X, y, lam=1.0,
            learning_rate=10.0, batch_size=5, epochs=50, key=jax.random.key(0)),
        "optax_fit": lambda: solvers.optax_fit(
            costs.linear_regression, optax.sgd(10.0), p0, X, y, lam=1.0, max_steps=200),
    }  # fmt: skip
    for name, fit in fits.items():
        with pytest.warns(ConvergenceWarning, match=rf"^{name}: λ = 1.0: diverged: NaN or inf"):
            params = fit()
        assert not rj.selection.finite_lanes(jax.tree.map(lambda a: a[None], params)).all()
    val = lambda p: jnp.mean((X @ p["w"] + p["b"] - y) ** 2)  # noqa: E731
    with pytest.warns(
        ConvergenceWarning,
        match=r"early_stopping: λ = 1.0: diverged: V is NaN/inf at evaluation \d+$",
    ):
        best = solvers.early_stopping(
            costs.linear_regression, p0, X, y, lam=1.0, val_cost=val, val_args=(),
            optimizer=optax.sgd(10.0), batch_size=5, key=jax.random.key(0), max_epochs=20,
        )  # fmt: skip
    assert np.isfinite(float(val(best)))  # the best finite evaluation is what comes back


def test_results_that_overflow_raise_instead_of_returning_inf():
    w = {"w": jnp.full(2, 1e3, jnp.float32)}
    with pytest.raises(ValueError, match=r"the L2 penalty is not finite \(inf\).*float32"):
        penalties.l2(w, 1e38, m=4)  # 1e38·1e6/8 > float32's 3.4e38
    with pytest.raises(ValueError, match=r"lam = 1e\+200 is larger than the params' dtype"):
        penalties.l1(w, 1e200, m=4)
    X = jnp.full((2, 1), 1e20, jnp.float32)
    with pytest.raises(ValueError, match=r"the cost is not finite"):
        costs.linear_regression({"w": jnp.ones(1), "b": jnp.zeros(())}, X, jnp.zeros(2), 0.0)
    with pytest.raises(ValueError, match=r"value = 1e\+308 overflows"):
        conventions.convert_lambda(1e308, from_="keras_l2", to="ng", m=10)
    with pytest.raises(ValueError, match=r"decay factor .* is not finite"):
        conventions.decay_factor(1e308, m=1, learning_rate=10.0)
    # the infinities that mean something still pass: C = 0 is an infinite strength
    assert conventions.convert_lambda(0.0, from_="sklearn_logreg_C", to="ng", m=10) == np.inf


# --- the README's table ----------------------------------------------------------------


def _table_rows() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Bad input and extreme cases", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name[:5] == "test_"}


def test_every_row_of_the_readme_table_is_a_test():
    rows = _table_rows()
    assert len(rows) >= 30
    for row in rows:
        assert len(row) == 4 and all(row), row  # case | functions | behaviour | test
        ids = re.findall(r"`(tests/test_\w+\.py)::(test_\w+)`", row[3])
        assert ids, f"no test named in {row}"
        for path, name in ids:
            assert name in _test_names(ROOT / path), f"{path}::{name} (README row {row[0]})"
