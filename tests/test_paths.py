"""regjax.paths: whole λ grids by batched Newton-CG (L2) and proximal gradient (L1, EN).

Every path is held against scikit-learn (``Ridge``, ``Lasso``/``lasso_path``,
``ElasticNet``, ``LogisticRegression`` with ``saga`` or ``newton-cholesky``, binary and
multinomial) and against an independent gradient or KKT residual at each λ; a new grid
of the same length must compile nothing; every λ that did not converge, diverged or
has no finite minimizer is reported.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import breast_cancer, logistic_data
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge, lasso_path

import regjax as rj
from regjax import closed_form, data, paths
from regjax.solvers import ConvergenceWarning

# --- L1 and elastic net: the proximal engine ----------------------------------------------


def _kkt(X, y, w, b, lam, rho=1.0):
    """Max-abs minimum-norm subgradient of ½MSE + λ/m(ρ‖w‖₁ + (1−ρ)/2‖w‖²), in numpy."""
    m = X.shape[0]
    g = X.T @ (X @ w + b - y) / m + lam * (1 - rho) / m * w
    l1 = lam * rho / m
    r = np.where(w != 0, np.abs(g + l1 * np.sign(w)), np.maximum(np.abs(g) - l1, 0))
    return max(r.max(), abs(np.mean(X @ w + b - y)))


@pytest.mark.parametrize(("m", "n"), [(80, 10), (30, 60)], ids=["gram_space", "data_space"])
def test_lasso_path_equals_sklearn_with_identical_zeros(x64, m, n):
    d = data.make_regression(m, n, seed=12, correlation=0.4, noise=2.0)
    Xc, yc = d.X - d.X.mean(axis=0), d.y - d.y.mean()
    top = np.max(np.abs(Xc.T @ yc))
    lams = top * np.array([0.9, 0.3, 0.1, 0.03])
    path = paths.linear(d.X, d.y, lams, l1_ratio=1.0, tol=1e-12)
    assert bool(path.converged.all())
    _, coefs, _ = lasso_path(Xc, yc, alphas=lams / m, tol=1e-14, max_iter=1_000_000)
    for g, lam in enumerate(lams):
        lasso = Lasso(alpha=lam / m, tol=1e-14, max_iter=1_000_000).fit(d.X, d.y)
        w = np.asarray(path.params["w"][g])
        np.testing.assert_allclose(w, lasso.coef_, atol=1e-6)
        np.testing.assert_allclose(w, coefs[:, g], atol=1e-6)
        np.testing.assert_allclose(path.params["b"][g], lasso.intercept_, atol=1e-6)
        np.testing.assert_array_equal(w == 0, lasso.coef_ == 0)
        # the reported KKT residual is the one recomputed independently, up to the
        # round-off of forming a gradient of O(10) entries two ways (~1e-14)
        kkt = _kkt(d.X, d.y, w, float(path.params["b"][g]), lam)
        assert float(path.grad_max[g]) == pytest.approx(kkt, rel=1e-6, abs=1e-13)
        assert kkt <= 1e-12
    assert np.any(np.asarray(path.params["w"]) == 0)


def test_elastic_net_path_equals_sklearn(x64):
    d = data.make_regression(60, 8, seed=3, correlation=0.5)
    m, lams = 60, np.array([200.0, 40.0, 5.0])
    path = paths.linear(d.X, d.y, lams, l1_ratio=0.5, tol=1e-12)
    for g, lam in enumerate(lams):
        enet = ElasticNet(alpha=lam / m, l1_ratio=0.5, tol=1e-14, max_iter=1_000_000)
        enet.fit(d.X, d.y)
        np.testing.assert_allclose(path.params["w"][g], enet.coef_, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(path.params["w"][g]) == 0, enet.coef_ == 0)
        assert _kkt(d.X, d.y, np.asarray(path.params["w"][g]), float(path.params["b"][g]),
                    lam, 0.5) <= 1e-12  # fmt: skip


def test_linear_without_l1_is_the_exact_ridge_path(x64):
    d = data.make_regression(50, 6, seed=4)
    lams = np.array([30.0, 1.0])
    path = paths.linear(d.X, d.y, lams, l1_ratio=0.0)
    assert path.iterations.tolist() == [0, 0] and bool(path.converged.all())
    for g, lam in enumerate(lams):
        ridge = Ridge(alpha=lam, tol=1e-14).fit(d.X, d.y)
        np.testing.assert_allclose(path.params["w"][g], ridge.coef_, rtol=1e-10)
    assert float(jnp.max(path.grad_max)) <= 1e-12  # the exact solution's gradient


def _classification(m, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    return X, (rng.random(m) < 1 / (1 + np.exp(-X @ rng.normal(size=n)))).astype(np.float64)


@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_l1_and_elastic_net_logistic_equal_sklearn_saga(x64, rho):
    X, y = _classification(120, 6, seed=13)
    lams = np.array([1.0, 8.0])
    path = paths.logistic(X, y, lams, l1_ratio=rho, tol=1e-11)
    assert bool(path.converged.all())
    for g, lam in enumerate(lams):
        # C·Σ loss + ρ‖w‖₁ + (1−ρ)/2‖w‖² ≡ mean loss + λ/m(…) with C = 1/λ; b unpenalized
        model = LogisticRegression(l1_ratio=rho, solver="saga", C=1 / lam, tol=1e-12,
                                   max_iter=500_000).fit(X, y)  # fmt: skip
        np.testing.assert_allclose(path.params["w"][g], model.coef_[0], atol=1e-6)
        np.testing.assert_allclose(path.params["b"][g], model.intercept_[0], atol=1e-6)
        np.testing.assert_array_equal(np.asarray(path.params["w"][g]) == 0, model.coef_[0] == 0)


def test_l1_softmax_equals_sklearn_multinomial_saga(x64):
    rng = np.random.default_rng(5)
    m, n, K = 150, 5, 3
    X = rng.normal(size=(m, n))
    labels = np.argmax(X @ rng.normal(size=(n, K)) + rng.gumbel(size=(m, K)), axis=1)
    lams = np.array([20.0, 4.0])
    path = paths.softmax(X, labels, lams, l1_ratio=1.0, tol=1e-11)
    assert bool(path.converged.all())
    for g, lam in enumerate(lams):
        model = LogisticRegression(l1_ratio=1.0, solver="saga", C=1 / lam, tol=1e-12,
                                   max_iter=500_000).fit(X, labels)  # fmt: skip
        np.testing.assert_allclose(path.params["w"][g], model.coef_.T, atol=1e-6)
        b = model.intercept_ - model.intercept_.mean()  # the biases are unique once centred
        np.testing.assert_allclose(path.params["b"][g], b, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(path.params["w"][g]) == 0, model.coef_.T == 0)


# --- L2: batched Newton-CG --------------------------------------------------------------

DATASETS = {
    "tall": lambda: logistic_data(400, 6, seed=1, scale=3.0),
    "ill_conditioned": lambda: logistic_data(300, 25, seed=2, cond=1e3, scale=2.0),
    "wide": lambda: logistic_data(80, 120, seed=3, scale=2.0),
    "breast_cancer": breast_cancer,
}


def _sklearn_logistic(X, y, lam):
    C = rj.convert_lambda(lam, from_="ng", to="sklearn_logreg_C", m=X.shape[0])
    clf = LogisticRegression(C=float(C), tol=1e-10, solver="newton-cholesky", max_iter=1000)
    clf.fit(X, y)
    return clf.coef_[0], clf.intercept_[0]


def _grad_max(grad):
    return max(float(jnp.max(jnp.abs(leaf))) for leaf in jax.tree.leaves(grad))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_logistic_path_matches_sklearn(x64, name):
    X, y = DATASETS[name]()
    lams = np.logspace(3, -1, 5)
    tol = 1e-10
    path = paths.logistic(X, y, lams, tol=tol)
    w, b = path.params["w"], path.params["b"]
    assert w.shape == (5, X.shape[1]) and b.shape == (5,)
    assert w.dtype == jnp.float64
    assert bool(jnp.all(path.converged))
    for g, lam in enumerate(lams):
        params = {"w": w[g], "b": b[g]}
        assert _grad_max(closed_form.logistic_regression_grad(params, X, y, lam)) <= tol
        coef, intercept = _sklearn_logistic(X, y, lam)
        np.testing.assert_allclose(w[g], coef, rtol=0, atol=1e-6)
        np.testing.assert_allclose(b[g], intercept, rtol=0, atol=1e-6)


def test_logistic_path_default_tol_reached_at_small_lambda(x64):
    X, y = breast_cancer()
    lams = np.array([1e-3, 1e-2, 1e-1, 1.0, 1e3])  # near-separable at small λ
    path = paths.logistic(X, y, lams)
    for g, lam in enumerate(lams):
        params = {"w": path.params["w"][g], "b": path.params["b"][g]}
        assert _grad_max(closed_form.logistic_regression_grad(params, X, y, lam)) <= 1e-8
    assert int(jnp.max(path.iterations)) < 100


def test_logistic_path_float32_without_x64():
    X, y = logistic_data(200, 5, seed=4)
    path = paths.logistic(X, y, np.array([0.1, 10.0]), tol=1e-4)
    assert path.params["w"].dtype == jnp.float32
    assert bool(jnp.all(path.converged))
    for g, lam in enumerate([0.1, 10.0]):
        coef, _ = _sklearn_logistic(X, y, lam)
        np.testing.assert_allclose(np.asarray(path.params["w"][g]), coef, rtol=0, atol=1e-3)


def test_softmax_path_matches_sklearn_multinomial(x64):
    rng = np.random.default_rng(5)
    m, n, K = 300, 8, 4
    X = rng.normal(size=(m, n))
    logits = X @ rng.normal(size=(n, K))
    probs = np.exp(logits - logits.max(1, keepdims=True))
    labels = np.array([rng.choice(K, p=p / p.sum()) for p in probs])
    lams = np.array([300.0, 10.0, 0.5])
    path = paths.softmax(X, labels, lams, tol=1e-10)
    w, b = path.params["w"], path.params["b"]
    assert w.shape == (3, n, K) and b.shape == (3, K)
    assert bool(jnp.all(path.converged))
    for g, lam in enumerate(lams):
        params = {"w": w[g], "b": b[g]}
        assert _grad_max(closed_form.softmax_regression_grad(params, X, labels, lam)) <= 1e-10
        C = rj.convert_lambda(lam, from_="ng", to="sklearn_logreg_C", m=m)
        clf = LogisticRegression(C=float(C), tol=1e-12, solver="newton-cholesky", max_iter=1000)
        clf.fit(X, labels)
        # Both parametrizations are over-complete; b is unique once centred over K.
        np.testing.assert_allclose(w[g], clf.coef_.T, rtol=0, atol=1e-6)
        np.testing.assert_allclose(b[g], clf.intercept_ - clf.intercept_.mean(), rtol=0, atol=1e-6)
        proba = jax.nn.softmax(rj.models.linear(params, X), axis=1)
        np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-7)


def test_path_under_jit_matches_eager(x64):
    X, y = logistic_data(120, 4, seed=7)
    lams = jnp.array([0.3, 30.0])
    eager = paths.logistic(X, y, lams)
    jitted = jax.jit(lambda lams: paths.logistic(X, y, lams))(lams)
    # The float32 preconditioner rounds differently under jit, so the two runs take
    # other steps to other converged points: within (|∇J₁| + |∇J₂|)/μ of each other,
    # μ the least eigenvalue of the Hessian at the solution (w and b).
    m = X.shape[0]
    for g, lam in enumerate(np.asarray(lams)):
        w, b = np.asarray(eager.params["w"][g]), float(eager.params["b"][g])
        p = 1 / (1 + np.exp(-(np.asarray(X) @ w + b)))
        Xa = np.hstack([np.asarray(X), np.ones((m, 1))])
        H = Xa.T @ (Xa * (p * (1 - p))[:, None]) / m + np.diag([lam / m] * w.size + [0.0])
        bound = float(eager.grad_max[g] + jitted.grad_max[g]) * np.sqrt(w.size + 1)
        bound /= np.linalg.eigvalsh(H)[0]
        diff = np.concatenate([jitted.params["w"][g] - w, [jitted.params["b"][g] - b]])
        assert np.linalg.norm(diff) <= bound


# --- every solver: compiled once, and nothing hidden --------------------------------------


@contextmanager
def _no_compilation():
    """Fail if JAX compiles anything inside the block (jax.log_compiles' records)."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles(True):
            yield
    finally:
        logger.removeHandler(handler)
    compiled = [r.getMessage() for r in records if "ompil" in r.getMessage()]
    assert not compiled, compiled


SOLVERS = {  # (X, y, classes, lams, **options) -> Path
    "ridge": lambda X, y, c, lams, **kw: paths.ridge(X, y, lams),
    "linear_l1": lambda X, y, c, lams, **kw: paths.linear(X, y, lams, **kw),
    "linear_enet_data_space": lambda X, y, c, lams, **kw: paths.linear(
        X[:9], y[:9], lams, l1_ratio=0.5, **kw
    ),
    "logistic_l2": lambda X, y, c, lams, **kw: paths.logistic(X, c % 2, lams, **kw),
    "logistic_l1": lambda X, y, c, lams, **kw: paths.logistic(X, c % 2, lams, l1_ratio=1, **kw),
    "softmax_l2": lambda X, y, c, lams, **kw: paths.softmax(X, c, lams, **kw),
    "softmax_l1": lambda X, y, c, lams, **kw: paths.softmax(X, c, lams, l1_ratio=1, **kw),
}


def test_the_compilation_check_sees_a_compilation(x64):
    X = np.random.default_rng(0).normal(size=(37, 2))  # a shape nothing else compiles
    with pytest.raises(AssertionError, match="ompil"), _no_compilation():
        paths.ridge(X, X[:, 0], np.array([1.0, 2.0, 3.0, 4.0, 5.0]))


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_a_new_grid_of_the_same_length_compiles_nothing(x64, name):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(41, 3))  # shapes no other test uses
    y, c = X @ np.ones(3) + rng.normal(size=41), np.arange(41) % 3
    first = SOLVERS[name](X, y, c, np.array([5.0, 1.0, 0.2]))
    with _no_compilation():
        second = SOLVERS[name](X, y, c, np.array([7.0, 2.0, 0.5]))
        jax.block_until_ready(second)
        if name != "ridge":  # the tolerance is traced too
            jax.block_until_ready(SOLVERS[name](X, y, c, np.array([7.0, 2.0, 0.5]), tol=1e-7))
    assert not np.allclose(first.params["w"], second.params["w"])


@pytest.mark.parametrize("name", sorted(set(SOLVERS) - {"ridge"}))
def test_non_convergence_warns_and_is_reported(x64, name):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 4))
    y, c = X @ np.ones(4) + rng.normal(size=60), rng.integers(0, 3, 60)
    lams = np.array([0.5, 3.0])
    solver = SOLVERS[name]
    with pytest.warns(
        ConvergenceWarning, match=r"2 of 2 λ did not reach grad_max ≤ 1e-08.*λ = \[0.5"
    ):
        stuck = solver(X, y, c, lams, max_iter=1)
    assert not bool(stuck.converged.any()) and bool(jnp.all(stuck.grad_max > 1e-8))
    np.testing.assert_array_equal(stuck.lams, lams)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        done = solver(X, y, c, lams)
    assert bool(done.converged.all()) and bool(jnp.all(done.grad_max <= 1e-8))


OVERFLOW = {  # inputs whose arithmetic leaves the float64 range
    "ridge": lambda X, y, c: paths.ridge(X * 1e-200, y * 1e300, np.array([0.0, 1.0])),
    "linear_l1": lambda X, y, c: paths.linear(X * 1e155, y, np.array([1.0])),
    "logistic_l2": lambda X, y, c: paths.logistic(X * 1e155, c % 2, np.array([1.0])),
    "logistic_l1": lambda X, y, c: paths.logistic(X * 1e155, c % 2, np.array([1.0]), l1_ratio=1),
    "softmax_l2": lambda X, y, c: paths.softmax(X * 1e155, c, np.array([1.0])),
    "softmax_l1": lambda X, y, c: paths.softmax(X * 1e155, c, np.array([1.0]), l1_ratio=1),
}


@pytest.mark.parametrize("name", sorted(OVERFLOW))
def test_divergence_warns_and_is_never_converged(x64, name):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(20, 3))
    y, c = rng.normal(size=20), rng.integers(0, 3, 20)
    with pytest.warns(ConvergenceWarning, match="diverged|did not reach") as record:
        path = OVERFLOW[name](X, y, c)
    bad = ~np.asarray(rj.selection.finite_lanes(path.params))
    assert not bool(path.converged[bad].any())
    if bad.any():  # a non-finite answer is named as such
        assert any("diverged (NaN or inf)" in str(w.message) for w in record)
    assert not bool(path.converged.all())


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_separable_classes_at_lambda_zero_have_no_finite_minimizer(x64, rho):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    with pytest.warns(ConvergenceWarning, match=r"no finite minimizer.*λ = \[0.0\]"):
        path = paths.logistic(X, y, np.array([0.0, 1.0]), l1_ratio=rho, max_iter=3000)
    assert path.converged.tolist() == [False, True]
    with pytest.warns(ConvergenceWarning, match="no finite minimizer"):
        path = paths.softmax(X, np.array([0, 0, 1, 1]), np.array([0.0]), l1_ratio=rho,
                             max_iter=3000)  # fmt: skip
    assert not bool(path.converged[0])


def test_one_class_labels_have_no_finite_minimizer_at_any_lambda(x64):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    with pytest.warns(ConvergenceWarning, match=r"2 of 2 λ have no finite minimizer"):
        path = paths.logistic(X, np.ones(4), np.array([0.5, 5.0]))
    assert not bool(path.converged.any())
    assert bool(jnp.all(jnp.isfinite(path.params["b"])))  # reported, not a silent NaN
    with pytest.warns(ConvergenceWarning, match="no finite minimizer"):  # class 1 never occurs
        path = paths.softmax(X, np.array([0, 0, 2, 2]), np.array([1.0]))
    assert not bool(path.converged[0])


def test_under_jit_the_path_reports_through_converged_only(x64):
    X, y = _classification(50, 3, seed=9)
    run = jax.jit(lambda lams: paths.logistic(X, y, lams, max_iter=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = run(jnp.array([0.3, 3.0]))
    assert not bool(path.converged.any())
    eager = paths.logistic(X, y, jnp.array([0.3, 3.0]))
    jitted = jax.jit(lambda grid: paths.logistic(X, y, grid))(eager.lams)
    np.testing.assert_allclose(jitted.params["w"], eager.params["w"], atol=1e-12)


def test_bad_input_names_the_argument():
    X, y = np.ones((4, 2)), np.array([0.0, 1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="l1_ratio"):
        paths.logistic(X, y, np.ones(2), l1_ratio=1.5)
    with pytest.raises(ValueError, match="max_iter"):
        paths.linear(X, y, np.ones(2), max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        paths.softmax(X, np.array([0, 1, 2, 0]), np.ones(2), tol=-1.0)
    with pytest.raises(ValueError, match="lams"):
        paths.ridge(X, y, np.ones((2, 2)))
    with pytest.raises(ValueError, match="y must be 1-D"):
        paths.linear(X, np.ones((4, 2)), np.ones(2))
    with pytest.raises(ValueError, match="num_classes"):
        paths.softmax(X, np.array([0, 1, 2, 0]), np.ones(2), num_classes=1)
    with pytest.raises(ValueError, match="lams"):
        paths.linear(X, y, -np.ones(2))
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="lams"):
        paths.logistic(X, y, np.ones((2, 2)))
    with pytest.raises(ValueError, match="lams"):
        paths.logistic(X, y, np.array([-1.0]))
    with pytest.raises(ValueError, match="y"):
        paths.logistic(X, y + 1, np.array([1.0]))
    with pytest.raises(ValueError, match="tol"):
        paths.logistic(X, y, np.array([1.0]), tol=0.0)
    with pytest.raises(ValueError, match="labels"):
        paths.softmax(X, np.array([0, 1, 2, 3]), np.array([1.0]), num_classes=3)


def test_block_widths_halve_only_where_compaction_pays():
    from regjax._glm import widths

    assert widths(20000, 200, 64) == [64, 32, 16, 8]
    assert widths(2000, 2000, 100) == [100, 50, 25, 13]
    assert widths(100000, 50, 64) == [64]  # G > n: the moved m × G arrays cost more
    assert widths(300, 100, 64) == [64]  # m·n·G < 1e8: not worth the compile time


def _residuals(X, labels, path, classes):
    """(w (n, K), R = P − Y (m, K)) of every λ of a logistic or softmax path, in numpy."""
    Y = np.eye(classes)[labels] if classes > 2 else labels[:, None].astype(float)
    out = []
    for w, b in zip(np.asarray(path.params["w"]), np.asarray(path.params["b"])):
        w = w.reshape(X.shape[1], -1)
        Z = X @ w + b.reshape(-1)
        P = 1 / (1 + np.exp(-Z)) if classes == 2 else np.exp(Z - Z.max(1, keepdims=True))
        out.append((w, (P if classes == 2 else P / P.sum(1, keepdims=True)) - Y))
    return out


@pytest.mark.parametrize("classes", [2, 3])
def test_gathering_the_running_lambdas_leaves_every_solution_converged(x64, monkeypatch, classes):
    """With compaction forced on a small problem (the running columns gathered into
    blocks of 32, 16, 8), every λ still reaches max|∇J| ≤ tol, recomputed in numpy, and
    the finished ones are left where they stopped."""
    from regjax import _glm

    rng = np.random.default_rng(3)
    m, n, G = 400, 40, 32
    X = rng.normal(size=(m, n))
    labels = rng.integers(0, classes, size=m)
    lams = np.logspace(2, -3, G)
    fit = paths.logistic if classes == 2 else paths.softmax
    y = labels.astype(float) if classes == 2 else labels
    plain = fit(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams), tol=1e-9)
    monkeypatch.setattr(_glm, "_MIN_WORK", 0)
    jax.clear_caches()  # else the engine compiled for ``plain`` is reused, uncompacted
    assert _glm.widths(m, n, G) == [32, 16, 8]
    path = fit(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams), tol=1e-9)
    assert bool(jnp.all(path.converged))
    for lam, (w, R) in zip(lams, _residuals(X, labels, path, classes)):
        grad = np.concatenate([(X.T @ R / m + lam / m * w).ravel(), R.mean(0)])
        assert np.max(np.abs(grad)) <= 1e-9 + 1e-13
    # the same Newton iterations per λ as without compaction
    np.testing.assert_array_equal(path.iterations, plain.iterations)


@pytest.mark.parametrize("classes", [2, 3])
def test_the_l1_engine_gathering_the_running_lambdas_still_meets_kkt(x64, monkeypatch, classes):
    """The proximal engine in the data space, compaction forced (blocks of 32, 16, 8):
    every λ reaches a KKT residual ≤ tol, recomputed in numpy, with the zeros and the
    iteration counts of the run without compaction."""
    from regjax import _glm

    rng = np.random.default_rng(4)
    m, n, G = 300, 40, 32
    X = rng.normal(size=(m, n))
    labels = rng.integers(0, classes, size=m)
    lams = np.logspace(np.log10(0.9 * m * 0.5), np.log10(m * 1e-3), G)
    fit = paths.logistic if classes == 2 else paths.softmax
    y = labels.astype(float) if classes == 2 else labels
    args = (jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    plain = fit(*args, l1_ratio=1.0, tol=1e-9)
    monkeypatch.setattr(_glm, "_MIN_WORK", 0)
    jax.clear_caches()  # else the engine compiled for ``plain`` is reused, uncompacted
    assert _glm.widths(m, n, G) == [32, 16, 8]
    path = fit(*args, l1_ratio=1.0, tol=1e-9)
    assert bool(jnp.all(path.converged))
    for lam, (w, R) in zip(lams, _residuals(X, labels, path, classes)):
        gw, l1 = X.T @ R / m, lam / m
        kkt = np.where(w != 0, np.abs(gw + l1 * np.sign(w)), np.maximum(np.abs(gw) - l1, 0))
        assert max(kkt.max(), np.abs(R.mean(0)).max()) <= 1e-9 * (1 + 1e-6)
    np.testing.assert_array_equal(path.params["w"] == 0, plain.params["w"] == 0)
    np.testing.assert_array_equal(path.iterations, plain.iterations)


def test_a_working_set_grows_until_no_feature_outside_it_violates_kkt(x64, monkeypatch):
    """The screened engine on one block: x₂ = v is uncorrelated with y = u at w = 0, so
    the screening rule leaves it out, but once x₁ = u + v is in, x₂ is needed (the lasso
    takes it for λρ/m < 1/3 with unit variances). Only the KKT check over every feature
    brings it in; the solutions are scikit-learn's, zeros included."""
    from regjax import _glm, _screening

    monkeypatch.setattr(_screening, "_CHUNKS", 1)
    rng = np.random.default_rng(5)
    m = 2000
    u, v, e = rng.normal(size=(3, m))
    X = np.stack([u + v, v, e], axis=1)
    y = u + 0.1 * rng.normal(size=m)
    lams = m * np.array([0.9, 0.5, 0.2])
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    assert abs(Xc[:, 1] @ yc / m) < 0.2 / 4  # far below the smallest λρ/m: screened out
    out = _screening.screened(
        _glm.squared, jnp.asarray(X), jnp.asarray(y)[:, None, None], jnp.asarray(lams),
        jnp.asarray(1.0), tol=jnp.asarray(1e-12), max_iter=jnp.asarray(100_000),
    )  # fmt: skip
    assert bool(out.converged.all())
    for g, lam in enumerate(lams):
        w = np.asarray(out.W[:, 0, g])
        lasso = Lasso(alpha=lam / m, tol=1e-14, max_iter=1_000_000).fit(X, y)
        np.testing.assert_allclose(w, lasso.coef_, atol=1e-8)
        np.testing.assert_array_equal(w == 0, lasso.coef_ == 0)
        assert _kkt(X, y, w, float(out.b[0, g]), lam) <= 1e-12 * (1 + 1e-6)
    assert out.W[1, 0, 2] < 0  # x₂ came in, against v


@pytest.mark.parametrize("model", ["logistic", "softmax", "linear"])
def test_the_screened_l1_path_meets_kkt_with_the_zeros_of_the_whole_one(x64, monkeypatch, model):
    """Screening forced on a small problem (8 blocks of 5 λ for a grid of 37 given in no
    order, working sets of n down to n/8 columns): every λ meets KKT ≤ tol over all
    features, recomputed in numpy, with the zeros of the unscreened engine; the linear
    model in the data space (m < n), where screening applies to it."""
    from regjax import _glm, _screening

    rng = np.random.default_rng(6)
    m, n, G = (60, 120, 37) if model == "linear" else (300, 80, 37)
    X = rng.normal(size=(m, n))
    classes = 3 if model == "softmax" else 2
    labels = rng.integers(0, classes, size=m)
    y = {"logistic": labels.astype(float), "softmax": labels,
         "linear": X[:, :5] @ rng.normal(size=5) + rng.normal(size=m)}[model]  # fmt: skip
    top = np.max(np.abs(X.T @ (y - y.mean()))) if model != "softmax" else m * 0.5
    lams = rng.permutation(top * np.logspace(0, -2, G))
    fit = getattr(paths, model)
    args = (jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    plain = fit(*args, l1_ratio=1.0, tol=1e-10)
    traced = []
    monkeypatch.setattr(_glm, "_MIN_WORK", 0)
    monkeypatch.setattr(_screening, "_MIN_SCREEN_N", 0)
    screened = _screening.screened
    monkeypatch.setattr(
        _screening, "screened", lambda *a, **k: traced.append(1) or screened(*a, **k)
    )
    jax.clear_caches()  # else the engine compiled for ``plain`` is reused, unscreened
    path = fit(*args, l1_ratio=1.0, tol=1e-10)
    assert traced  # the screened engine ran
    assert bool(jnp.all(path.converged))
    if model == "linear":
        for g, lam in enumerate(lams):
            w, b = np.asarray(path.params["w"][g]), float(path.params["b"][g])
            assert _kkt(X, y, w, b, lam) <= 1e-10 * (1 + 1e-6)
    else:
        for lam, (w, R) in zip(lams, _residuals(X, labels, path, classes)):
            gw, l1 = X.T @ R / m, lam / m
            kkt = np.where(w != 0, np.abs(gw + l1 * np.sign(w)), np.maximum(np.abs(gw) - l1, 0))
            assert max(kkt.max(), np.abs(R.mean(0)).max()) <= 1e-10 * (1 + 1e-6)
    np.testing.assert_array_equal(path.params["w"] == 0, plain.params["w"] == 0)
    assert np.any(np.asarray(path.params["w"]) == 0) and np.any(np.asarray(path.params["w"]))


def test_screening_is_for_large_data_space_paths_only():
    """Working sets where they paid in the benchmarks, and not in the lasso's Gram space."""
    from regjax import _glm, _screening

    assert _screening.screens(_glm.binary, 10000, 1000, 100)
    assert _screening.screens(_glm.squared, 1000, 10000, 100)  # m < n: the data space
    assert not _screening.screens(_glm.squared, 10000, 1000, 100)  # the Gram space
    assert not _screening.screens(_glm.binary, 5000, 200, 50)  # m·n·G < 1e8
    assert not _screening.screens(_glm.binary, 100000, 40, 100)  # too few features
    assert not _screening.screens(_glm.binary, 100000, 1000, 8)  # one λ per block


def test_the_nystrom_preconditioner_is_the_exact_inverse_where_its_rank_covers_c(x64, monkeypatch):
    """Above EXACT_MAX_N features the Newton preconditioner is a rank-k Nyström one; where
    k exceeds rank(X̃) the sketch holds C's whole range, and P⁻¹ is (d̄C + λ/m)⁻¹ itself
    (on C's null space e_k ≈ 0), checked against numpy's solve."""
    from regjax import _newton

    monkeypatch.setattr(_newton, "EXACT_MAX_N", 10)
    monkeypatch.setattr(_newton, "NYSTROM_RANK", 8)
    rng = np.random.default_rng(5)
    m, n, rank = 60, 30, 5
    X = rng.normal(size=(m, rank)) @ rng.normal(size=(rank, n)) + rng.normal(size=n)
    pre = _newton._Preconditioner(jnp.asarray(X), jnp.float64)
    assert pre.rest is not None and pre.evecs.shape == (n, 8)
    dbar, reg = np.array([[0.2, 0.25]]), np.array([1e-2, 3.0])  # (K, G), (G,)
    rw, rb = rng.normal(size=(n, 1, 2)), np.zeros((1, 2))  # the centred coordinates
    sw, _ = pre((jnp.asarray(rw), jnp.asarray(rb)), jnp.asarray(dbar), jnp.asarray(reg), False)
    Xc = X - X.mean(0)
    for g in range(2):
        H = dbar[0, g] * Xc.T @ Xc / m + reg[g] * np.eye(n)
        np.testing.assert_allclose(sw[:, 0, g], np.linalg.solve(H, rw[:, 0, g]), rtol=1e-8)


@pytest.mark.parametrize("classes", [2, 3])
def test_newton_with_the_nystrom_preconditioner_meets_tol(x64, monkeypatch, classes):
    """With the Nyström preconditioner forced (rank 8 of 40 features), every λ still
    reaches max|∇J| ≤ tol, recomputed in numpy: a preconditioner changes the CG's speed,
    never the answer."""
    from regjax import _newton

    rng = np.random.default_rng(6)
    m, n, G = 300, 40, 6
    X = rng.normal(size=(m, n)) @ np.diag(np.logspace(0, -1, n))
    labels = rng.integers(0, classes, size=m)
    lams = np.logspace(1, -3, G)
    monkeypatch.setattr(_newton, "EXACT_MAX_N", 10)
    monkeypatch.setattr(_newton, "NYSTROM_RANK", 8)
    jax.clear_caches()  # else an engine compiled with the exact preconditioner is reused
    fit = paths.logistic if classes == 2 else paths.softmax
    y = labels.astype(float) if classes == 2 else labels
    path = fit(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams), tol=1e-9)
    assert bool(jnp.all(path.converged))
    for lam, (w, R) in zip(lams, _residuals(X, labels, path, classes)):
        grad = np.concatenate([(X.T @ R / m + lam / m * w).ravel(), R.mean(0)])
        assert np.max(np.abs(grad)) <= 1e-9 + 1e-13
