"""regjax.selection: λ grids, sweeps (loop = vmap = jit = sharded), cross-validation, 1-SE."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

import regjax as rj
from regjax import _sharding, closed_form, data, paths
from regjax.selection import (
    CVResult,
    DivergedLanesWarning,
    finite_lanes,
    lambda_max,
    one_standard_error,
)


def _ridge_fit(lam, X, y):
    return closed_form.ridge_solution(X, y, lam)


def _mse(params, X, y):
    return jnp.mean((X @ params["w"] + params["b"] - y) ** 2)


# --- λ_max and grids -------------------------------------------------------------


def test_lambda_max_linear_l1_is_where_lasso_becomes_empty(x64):
    d = data.make_regression(120, 8, seed=3, correlation=0.3)
    m = d.X.shape[0]
    top = lambda_max(d.X, d.y, model="linear", penalty="l1")
    # library λ/m‖w‖₁ with ½MSE is Lasso(alpha = λ/m)
    above = Lasso(alpha=top / m * 1.0001, tol=1e-12, max_iter=100_000).fit(d.X, d.y)
    below = Lasso(alpha=top / m * 0.99, tol=1e-12, max_iter=100_000).fit(d.X, d.y)
    assert np.all(above.coef_ == 0)
    assert np.any(below.coef_ != 0)


def test_lambda_max_logistic_l1_is_where_sklearn_l1_logreg_becomes_empty(x64):
    d = data.make_classification(150, 6, seed=4)
    top = lambda_max(d.X, d.y, model="logistic", penalty="l1")

    # C·Σ loss + ‖w‖₁ ≡ mean loss + 1/(C m)‖w‖₁ = λ/m‖w‖₁  ⇒  C = 1/λ (intercept free)
    def fit(lam):
        model = LogisticRegression(
            l1_ratio=1.0, solver="saga", C=1 / lam, tol=1e-10, max_iter=50_000
        )
        return model.fit(d.X, d.y).coef_

    assert np.all(fit(top * 1.01) == 0)
    assert np.any(fit(top * 0.9) != 0)


def test_lambda_grid_is_descending_log_spaced_from_lambda_max(x64):
    d = data.make_classification(80, 5, seed=1)
    grid = np.asarray(rj.lambda_grid(d.X, d.y, num=7, min_ratio=1e-3))
    top = lambda_max(d.X, d.y, penalty="l2")
    np.testing.assert_allclose(grid[0], top, rtol=1e-12)
    np.testing.assert_allclose(grid[-1], top * 1e-3, rtol=1e-12)
    np.testing.assert_allclose(np.diff(np.log10(grid)), -0.5, rtol=1e-10)
    l1_top = lambda_max(d.X, d.y, penalty="l1")
    np.testing.assert_allclose(top, l1_top / 1e-3, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"num": 1}, "num"), ({"min_ratio": 1.5}, "min_ratio"), ({"model": "svm"}, "model")],
)
def test_lambda_grid_bad_input(kwargs, match):
    d = data.make_classification(20, 2)
    with pytest.raises(ValueError, match=match):
        rj.lambda_grid(d.X, d.y, **kwargs)


def test_lambda_max_constant_target_raises():
    with pytest.raises(ValueError, match="constant"):
        lambda_max(np.ones((4, 2)), np.ones(4))


# --- sweep: loop = vmap = jit = sharded ------------------------------------------


def test_sweep_equals_python_loop_and_is_sharded_over_8_devices(x64):
    assert jax.device_count() == 8, "conftest.py simulates 8 CPU devices"
    d = data.make_regression(60, 5, seed=2)
    X, y = jnp.asarray(d.X), jnp.asarray(d.y)
    lams = jnp.logspace(-2, 3, 13)  # not a multiple of 8: padded and trimmed
    sharded = rj.sweep(_ridge_fit, lams, X, y)
    single = rj.sweep(_ridge_fit, lams, X, y, devices=1)
    loop = [closed_form.ridge_solution(X, y, lam) for lam in lams]
    assert sharded["w"].shape == (13, 5)
    np.testing.assert_allclose(sharded["w"], single["w"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sharded["w"], np.stack([p["w"] for p in loop]), rtol=1e-10)
    np.testing.assert_allclose(sharded["b"], np.stack([p["b"] for p in loop]), rtol=1e-10)
    path = closed_form.ridge_path(X, y, lams)
    np.testing.assert_allclose(sharded["w"], path["w"], rtol=1e-9, atol=1e-12)


def test_sweep_output_is_laid_out_over_the_devices(x64):
    lams = jnp.arange(16.0)
    out = rj.sweep(lambda lam, a: lam * a, lams, jnp.ones(3))
    np.testing.assert_array_equal(out, np.arange(16.0)[:, None] * np.ones(3))
    out = rj.sweep(lambda lam: lam + 1.0, lams, devices=4)
    np.testing.assert_array_equal(out, np.arange(16.0) + 1)


def test_sweep_new_lambdas_do_not_recompile(x64):
    traces = []

    def fit(lam, X, y):
        traces.append(1)  # runs only while tracing
        return closed_form.ridge_solution(X, y, lam)

    d = data.make_regression(30, 3)
    X, y = jnp.asarray(d.X), jnp.asarray(d.y)
    first = rj.sweep(fit, jnp.linspace(0.1, 1.0, 8), X, y)
    count = len(traces)
    second = rj.sweep(fit, jnp.linspace(2.0, 9.0, 8), X, y)
    assert len(traces) == count
    assert not np.allclose(first["w"], second["w"])
    rj.sweep(fit, jnp.linspace(2.0, 9.0, 8), X, y, devices=1)
    single = len(traces)
    rj.sweep(fit, jnp.linspace(3.0, 4.0, 8), X, y, devices=1)
    assert len(traces) == single


def test_diverged_lane_is_reported_and_does_not_poison_the_others(x64):
    def fit(lam, x):
        return {"w": x / (lam - 2.0) ** 2, "steps": jnp.int32(3)}  # λ = 2 divides by 0

    lams = jnp.array([0.5, 1.0, 2.0, 4.0])
    with pytest.warns(DivergedLanesWarning, match=r"λ = \[2.0\]"):
        out = rj.sweep(fit, lams, jnp.ones(2))
    np.testing.assert_array_equal(finite_lanes(out), [True, True, False, True])
    expected = 1 / (np.array([0.5, 1.0, 4.0]) - 2.0) ** 2
    np.testing.assert_allclose(out["w"][np.array([0, 1, 3]), 0], expected, rtol=1e-14)


def test_sweep_bad_input():
    with pytest.raises(ValueError, match="lams"):
        rj.sweep(lambda lam: lam, jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="lams"):
        rj.sweep(lambda lam: lam, jnp.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="devices"):
        rj.sweep(lambda lam: lam, jnp.ones(2), devices=99)


def test_sweep_no_warning_when_all_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rj.sweep(lambda lam: lam * 2.0, jnp.ones(3))


# --- sweep in batches of λ (batch_size=): a network trained at every λ ------------------

NET_STEPS, NET_ETA = 25, 0.5


def _net_loss(p, X, Y, lam):
    """½·mean‖z − Y‖² + λ/(2m)(‖W1‖² + ‖W2‖²) of a tanh network with one hidden layer."""
    z = jnp.tanh(X @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]
    penalty = jnp.sum(p["W1"] ** 2) + jnp.sum(p["W2"] ** 2)
    return 0.5 * jnp.mean(jnp.sum((z - Y) ** 2, axis=1)) + lam / (2 * X.shape[0]) * penalty


def _net_fit(lam, X, Y, p0):
    """NET_STEPS full-batch gradient steps from p0: weights depend on λ, so vmapping this
    over λ makes batched matmuls."""

    def step(_, p):
        return jax.tree.map(lambda a, g: a - NET_ETA * g, p, jax.grad(_net_loss)(p, X, Y, lam))

    return jax.lax.fori_loop(0, NET_STEPS, step, p0)


def _numpy_net_fit(lam, X, Y, p0):
    """The same steps with the backpropagation written out in numpy (the reference)."""
    W1, b1, W2, b2 = (np.array(p0[k]) for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[0]
    for _ in range(NET_STEPS):
        h = np.tanh(X @ W1.T + b1)
        dz = (h @ W2.T + b2 - Y) / m
        da = (dz @ W2) * (1 - h**2)
        W2, b2, W1, b1 = (
            W2 - NET_ETA * (dz.T @ h + lam / m * W2),
            b2 - NET_ETA * dz.sum(0),
            W1 - NET_ETA * (da.T @ X + lam / m * W1),
            b1 - NET_ETA * da.sum(0),
        )
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def _net_problem():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(30, 4)), rng.normal(size=(30, 2))
    p0 = {"W1": rng.normal(size=(6, 4)) / 2, "b1": np.zeros(6),
          "W2": rng.normal(size=(2, 6)) / 2, "b2": np.zeros(2)}  # fmt: skip
    return jnp.asarray(X), jnp.asarray(Y), jax.tree.map(jnp.asarray, p0)


@pytest.mark.parametrize("devices", [1, None])  # one device; the 8 simulated ones
@pytest.mark.parametrize("batch_size", [None, 1, 3, 5, 13, 50])
def test_sweep_in_batches_equals_all_at_once_and_a_numpy_loop(x64, batch_size, devices):
    X, Y, p0 = _net_problem()
    lams = jnp.logspace(-1, 1, 13)  # 13: a multiple of neither 3, 5 nor 8 devices
    out = rj.sweep(_net_fit, lams, X, Y, p0, devices=devices, batch_size=batch_size)
    at_once = rj.sweep(_net_fit, lams, X, Y, p0, devices=1, batch_size=len(lams))
    loop = [_numpy_net_fit(float(lam), np.asarray(X), np.asarray(Y), p0) for lam in lams]
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(out[key], np.stack([p[key] for p in loop]), rtol=1e-10,
                                   atol=1e-12)  # fmt: skip
        np.testing.assert_allclose(out[key], at_once[key], rtol=1e-12, atol=1e-14)


def test_batch_size_none_batches_lambda_unless_a_cpu_would_get_large_batched_matmuls():
    """The rule only traces: shapes stand in for data (no FLOPs run)."""

    def net(m, hidden):  # h @ W2ᵀ per λ: 2·m·hidden·2 FLOPs, batched under vmap over λ
        def shape(*dims):
            return jax.ShapeDtypeStruct(dims, jnp.float32)

        p0 = {"W1": shape(hidden, 4), "b1": shape(hidden), "W2": shape(2, hidden), "b2": shape(2)}
        return shape(m, 4), shape(m, 2), p0

    lams = jax.ShapeDtypeStruct((16,), jnp.float32)
    big = net(2000, 64)  # 2·2000·64·2 = 5.1e5 FLOPs per λ ≥ CPU_BATCHED_FLOPS
    small = net(30, 6)  # 720 FLOPs: batching pays
    assert 2 * 2000 * 64 * 2 >= _sharding.CPU_BATCHED_FLOPS > 2 * 30 * 6 * 2
    assert _sharding.lanes_at_once(_net_fit, "cpu", lams, big) == 1
    assert _sharding.lanes_at_once(_net_fit, "cpu", lams, small) == 16
    assert _sharding.lanes_at_once(_net_fit, "gpu", lams, big) == 16
    # ridge: the SVD of X does not depend on λ, no batched matmul: every λ at once
    X, y = jax.ShapeDtypeStruct((5000, 50), jnp.float32), jax.ShapeDtypeStruct((5000,), jnp.float32)
    assert _sharding.lanes_at_once(_ridge_fit, "cpu", lams, (X, y)) == 16

    def own_batched(lam, A):  # its own batched matmul, not made by vmapping λ
        return lam * jnp.einsum("bij,bjk->bik", A, A)

    A = jax.ShapeDtypeStruct((8, 200, 200), jnp.float32)
    assert _sharding.lanes_at_once(own_batched, "cpu", lams, (A,)) == 16


@pytest.mark.parametrize("devices", [1, None])
@pytest.mark.parametrize("batch_size", [None, 2])
def test_sweep_in_batches_does_not_retrace_for_new_lambdas(x64, batch_size, devices):
    traces = []

    def fit(lam, X, Y, p0):
        traces.append(1)  # runs only while tracing
        return _net_fit(lam, X, Y, p0)

    X, Y, p0 = _net_problem()
    first = rj.sweep(fit, jnp.linspace(0.1, 1.0, 8), X, Y, p0, devices=devices,
                     batch_size=batch_size)  # fmt: skip
    count = len(traces)
    assert count >= 1
    second = rj.sweep(fit, jnp.linspace(2.0, 9.0, 8), X, Y, p0, devices=devices,
                      batch_size=batch_size)  # fmt: skip
    assert len(traces) == count
    assert not np.allclose(first["W1"], second["W1"])


@pytest.mark.parametrize("devices", [1, None])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_sweep_in_batches_names_the_diverged_lambda(x64, batch_size, devices):
    def fit(lam, x):
        return {"w": x / (lam - 2.0) ** 2, "steps": jnp.int32(3)}  # λ = 2 divides by 0

    lams = jnp.array([0.5, 1.0, 4.0, 8.0, 2.0, 3.0, 5.0])
    with pytest.warns(DivergedLanesWarning, match=r"1 of 7 λ lanes .*λ = \[2.0\]"):
        out = rj.sweep(fit, lams, jnp.ones(2), devices=devices, batch_size=batch_size)
    np.testing.assert_array_equal(finite_lanes(out), [True] * 4 + [False, True, True])
    good = np.array([0, 1, 2, 3, 5, 6])
    expected = 1 / (np.asarray(lams)[good] - 2.0) ** 2
    np.testing.assert_allclose(out["w"][good, 0], expected, rtol=1e-14)


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, True, "2", np.float64(2.0)])
def test_sweep_refuses_a_bad_batch_size_naming_it(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        rj.sweep(lambda lam: lam, jnp.ones(2), batch_size=batch_size)


# --- cross-validation ------------------------------------------------------------


def _manual_cv(X, y, lams, folds, key):
    m = X.shape[0]
    perm = np.asarray(jax.random.permutation(key, m))
    size = m // folds
    blocks = perm[: folds * size].reshape(folds, size)
    val = np.zeros((folds, len(lams)))
    train = np.zeros((folds, len(lams)))
    for k in range(folds):
        tr = np.setdiff1d(np.arange(m), blocks[k])
        for g, lam in enumerate(np.asarray(lams)):
            model = Ridge(alpha=float(lam), solver="cholesky").fit(X[tr], y[tr])
            val[k, g] = np.mean((model.predict(X[blocks[k]]) - y[blocks[k]]) ** 2)
            train[k, g] = np.mean((model.predict(X[tr]) - y[tr]) ** 2)
    return train, val


def test_cross_validate_matches_a_manual_fold_loop_with_sklearn(x64):
    d = data.make_regression(53, 6, seed=5, noise=2.0)  # 53 = 5·10 + 3 left over
    lams = jnp.logspace(-2, 3, 9)
    key = jax.random.key(7)
    cv = rj.cross_validate(_ridge_fit, _mse, d.X, d.y, lams, folds=5, key=key)
    train, val = _manual_cv(d.X, d.y, lams, 5, key)
    np.testing.assert_allclose(cv.val, val, rtol=1e-9)
    np.testing.assert_allclose(cv.val_mean, val.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(cv.val_std, val.std(axis=0, ddof=1), rtol=1e-8)
    np.testing.assert_allclose(cv.train, train.mean(axis=0), rtol=1e-9)
    mean, se = val.mean(axis=0), val.std(axis=0, ddof=1) / np.sqrt(5)
    best = int(np.argmin(mean))
    assert cv.best_lam == pytest.approx(float(lams[best]))
    ok = mean <= mean[best] + se[best]
    assert cv.lam_1se == pytest.approx(float(np.max(np.asarray(lams)[ok])))
    assert cv.lam_1se >= cv.best_lam


def test_cross_validate_batched_path_equals_per_lambda_fit(x64):
    d = data.make_regression(40, 4, seed=6)
    lams = jnp.logspace(-1, 2, 5)
    key = jax.random.key(0)
    per_lam = rj.cross_validate(_ridge_fit, _mse, d.X, d.y, lams, folds=4, key=key)
    batched = rj.cross_validate(
        lambda lams, X, y: closed_form.ridge_path(X, y, lams),
        _mse,
        d.X,
        d.y,
        lams,
        folds=4,
        key=key,
        batched=True,
    )
    np.testing.assert_allclose(batched.val, per_lam.val, rtol=1e-9)


def _mae(params, X, y):
    return jnp.mean(jnp.abs(X @ params["w"] + params["b"] - y))


def test_cross_validate_dict_of_scores_and_a_path_fit(x64):
    """A dict of scores shares one fit; a fit returning a paths.Path is scored on .params."""
    d = data.make_regression(40, 4, seed=6)
    lams = jnp.logspace(-1, 2, 5)
    key = jax.random.key(0)
    both = rj.cross_validate(
        lambda lams, X, y: paths.ridge(X, y, lams),
        {"mse": _mse, "mae": _mae},
        d.X,
        d.y,
        lams,
        folds=4,
        key=key,
        batched=True,
    )
    assert set(both) == {"mse", "mae"}
    assert all(isinstance(cv, CVResult) for cv in both.values())
    for name, score in (("mse", _mse), ("mae", _mae)):
        alone = rj.cross_validate(_ridge_fit, score, d.X, d.y, lams, folds=4, key=key)
        np.testing.assert_allclose(both[name].val, alone.val, rtol=1e-9)
        np.testing.assert_allclose(both[name].train, alone.train, rtol=1e-9)
        assert both[name].best_lam == alone.best_lam
    with pytest.raises(TypeError, match="score"):
        rj.cross_validate(_ridge_fit, {}, d.X, d.y, lams, folds=4, key=key)


def test_cross_validate_warns_naming_lambdas_that_did_not_converge(x64):
    d = data.make_classification(60, 3, seed=1)
    lams = jnp.array([0.1, 1.0])

    def fit(lams, X, y):  # one Newton step: no λ meets the tolerance
        return paths.logistic(X, y, lams, max_iter=1)

    def error(params, X, y):
        return jnp.mean(((X @ params["w"] + params["b"] > 0) != (y > 0.5)).astype(X.dtype))

    with pytest.warns(paths.ConvergenceWarning, match=r"2 of 2 λ .*λ = \[0.1, 1.0\]"):
        cv = rj.cross_validate(
            fit, error, d.X, d.y, lams, folds=3, key=jax.random.key(2), batched=True
        )
    assert cv.val.shape == (3, 2)  # the scores are kept as they are


def test_cross_validate_bad_folds():
    d = data.make_regression(10, 2)
    with pytest.raises(ValueError, match="folds"):
        rj.cross_validate(_ridge_fit, _mse, d.X, d.y, jnp.ones(2), folds=1, key=jax.random.key(0))


def test_one_standard_error_rule():
    lams = [0.1, 1.0, 10.0, 100.0]
    mean = [0.50, 0.40, 0.44, 0.60]
    std = [0.1, 0.1, 0.1, 0.1]  # se = 0.05 with 4 folds: threshold 0.45
    assert one_standard_error(lams, mean, std, 4) == (1.0, 10.0)
    assert one_standard_error(lams, [np.nan, 0.4, np.inf, 0.9], std, 4) == (1.0, 1.0)
    with pytest.raises(ValueError, match="non-finite"):
        one_standard_error([1.0], [np.nan], [0.0], 2)


def test_a_cv_result_prints_as_a_table_marking_the_chosen_lambdas():
    """print(result): one row per λ with train and validation mean ± std, and the
    rows of the best and the one-standard-error λ (from the rule above) marked."""
    lams = np.array([0.1, 1.0, 10.0, 100.0])
    val = np.array([[0.45, 0.35, 0.40, 0.55], [0.55, 0.45, 0.48, 0.65]])  # 2 folds
    mean, std = val.mean(axis=0), val.std(axis=0, ddof=1)
    best, lam_1se = one_standard_error(lams, mean, std, 2)
    result = CVResult(lams, mean - 0.1, mean, std, best, lam_1se, val)
    lines = str(result).splitlines()
    assert lines[0].startswith("CVResult: 2 folds, 4 λ")
    assert lines[1].split() == ["λ", "train", "validation", "chosen"]
    rows = lines[3:]
    assert len(rows) == 4
    chosen = {
        float(r.split()[0]): r.split("  ")[-1].strip() for r in rows if "best" in r or "1se" in r
    }
    assert chosen == {1.0: "best", 10.0: "1se"}  # argmin 0.40; 0.44 ≤ 0.40 + 0.071/√2
    assert f"{mean[2]:.6g} ± {std[2]:.2g}" in rows[2]


# --- bad input and diverged lanes ------------------------------------------------


@pytest.mark.parametrize("model", ["linear", "logistic"])
def test_lambda_grid_refuses_a_y_with_nan_naming_y(model):
    """Before, model='linear' returned an all-NaN grid."""
    d = data.make_classification(20, 2)
    y = np.where(np.arange(20) == 3, np.nan, d.y)
    with pytest.raises(ValueError, match=r"^y holds non-finite values"):
        rj.lambda_grid(d.X, y, model=model)
    with pytest.raises(ValueError, match=r"^X holds non-finite values"):
        rj.lambda_grid(np.where(d.X == d.X[0, 0], np.inf, d.X), d.y, model=model)


def test_cross_validate_warns_naming_a_diverged_lambda_which_is_never_chosen(x64):
    """A fit that is NaN at λ = 1 in every fold: a DivergedLanesWarning (a
    ConvergenceWarning) names λ = 1.0; its mean score is NaN and the best λ is another."""
    d = data.make_regression(30, 2, seed=2)

    def fit(lam, X, y):
        params = closed_form.ridge_solution(X, y, lam)
        return {"w": params["w"] * jnp.where(lam == 1.0, jnp.nan, 1.0), "b": params["b"]}

    lams = jnp.array([0.5, 1.0, 2.0])
    with pytest.warns(DivergedLanesWarning, match=r"1 of 3 λ diverged.*never chosen: λ = \[1.0\]"):
        cv = rj.cross_validate(fit, _mse, d.X, d.y, lams, folds=3, key=jax.random.key(0))
    assert issubclass(DivergedLanesWarning, paths.ConvergenceWarning)
    assert np.isnan(cv.val_mean[1]) and np.isfinite(cv.val_mean[[0, 2]]).all()
    assert cv.best_lam in (0.5, 2.0) and cv.lam_1se in (0.5, 2.0)


def test_cross_validate_warns_naming_a_lambda_whose_score_is_not_finite(x64):
    d = data.make_regression(30, 2, seed=2)

    def fit(lam, X, y):  # finite parameters, 1e200 times too large at λ = 1
        params = closed_form.ridge_solution(X, y, lam)
        return {"w": params["w"] * jnp.where(lam == 1.0, 1e200, 1.0), "b": params["b"]}

    lams = jnp.array([0.5, 1.0])  # at λ = 1 the squared error overflows to inf
    with pytest.warns(DivergedLanesWarning, match=r"1 of 2 λ .* scores.*λ = \[1.0\]"):
        cv = rj.cross_validate(fit, _mse, d.X, d.y, lams, folds=3, key=jax.random.key(0))
    assert cv.best_lam == 0.5


@pytest.mark.parametrize(
    ("devices", "error", "match"),
    [
        ("no_such_platform", ValueError, r"devices='no_such_platform' names no platform"),
        (0, ValueError, r"devices must be None, an int in \[1, \d+\]"),
        (True, ValueError, r"devices must be None, an int"),
        (["cpu"], ValueError, r"devices must be .* got \['cpu'\]"),
        ([], ValueError, r"devices must be .* non-empty list"),
        (3.5, ValueError, r"devices must be"),
    ],
)
def test_sweep_refuses_bad_devices_naming_them(devices, error, match):
    with pytest.raises(error, match=match):
        rj.sweep(lambda lam: lam, jnp.ones(2), devices=devices)


def test_sweep_takes_a_platform_name_or_a_device():
    """devices="cpu" means this process's CPU devices (before: an AttributeError)."""
    fit = lambda lam: {"w": 2 * lam}  # noqa: E731
    grid = jnp.array([1.0, 3.0])
    for devices in ("cpu", jax.devices("cpu")[0], jax.devices("cpu")[:1]):
        np.testing.assert_array_equal(rj.sweep(fit, grid, devices=devices)["w"], [2.0, 6.0])


def test_cross_validate_and_fold_rows_bad_input():
    d = data.make_regression(12, 2)
    with pytest.raises(TypeError, match=r"key must be a jax.random key"):
        rj.cross_validate(_ridge_fit, _mse, d.X, d.y, jnp.ones(2), key=0)
    with pytest.raises(ValueError, match=r"score must return a scalar, got \[\(8,\)\]"):
        rj.cross_validate(
            _ridge_fit, lambda p, X, y: X @ p["w"] - y, d.X, d.y, jnp.ones(2), folds=3,
            key=jax.random.key(0),
        )  # fmt: skip
    with pytest.raises(TypeError, match=r"fit must be a callable"):
        rj.sweep("ridge", jnp.ones(2))
    with pytest.raises(ValueError, match=r"m must be an int >= 2"):
        rj.selection.fold_rows(jax.random.key(0), 1, 2)


def test_one_standard_error_bad_input():
    with pytest.raises(ValueError, match=r"folds must be an int >= 2, got 1"):
        one_standard_error([1.0, 2.0], [0.1, 0.2], [0.0, 0.0], 1)
    with pytest.raises(ValueError, match=r"must have the shape of lams \(3,\)"):
        one_standard_error([1.0, 2.0, 3.0], [0.1, 0.2], [0.0, 0.0], 4)
    with pytest.raises(ValueError, match=r"lams must be finite"):
        one_standard_error([np.nan, 2.0], [0.1, 0.2], [0.0, 0.0], 4)
    with pytest.raises(ValueError, match=r"val_std at the best λ = 1.0 must be finite"):
        one_standard_error([1.0, 2.0], [0.1, 0.2], [np.nan, 0.0], 4)
