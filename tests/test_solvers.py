"""regjax.solvers: the fit loops agree with closed forms, the paths, loops and each other."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from _helpers import logistic_data

from regjax import closed_form, costs, losses, models, paths, penalties, solvers


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
    X, y = logistic_data(100, 3, seed=9)
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
    X, y = logistic_data(100, 3, seed=10)
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
    path = paths.logistic(X, y, lams, tol=1e-12).params
    for g in range(len(lams)):
        np.testing.assert_allclose(batched["w"][g], path["w"][g], rtol=0, atol=1e-6)
    for g, single in enumerate(singles):  # vmap equals a loop of single fits
        np.testing.assert_allclose(batched["w"][g], single["w"], rtol=0, atol=1e-10)


def test_vmapped_fit_does_not_recompile_for_new_lambdas(x64):
    X, y = logistic_data(50, 2, seed=11)
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
    X, y = logistic_data(40, 3, seed=13)
    p0 = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    kwargs = {"lam": 2.0, "learning_rate": 0.5}
    by_sgd = solvers.sgd(costs.logistic_regression, p0, X, y, batch_size=40, epochs=30,
                         key=jax.random.key(0), **kwargs)  # fmt: skip
    by_gd = solvers.gradient_descent(costs.logistic_regression, p0, X, y, max_steps=30, **kwargs)
    np.testing.assert_allclose(by_sgd["w"], by_gd["w"], rtol=0, atol=1e-14)


def test_sgd_vmap_over_lambda_equals_loop_and_approaches_optimum(x64):
    X, y = logistic_data(100, 3, seed=14)
    p0 = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    lams = jnp.array([1.0, 20.0])

    def fit(lam):
        return solvers.sgd(costs.logistic_regression, p0, X, y, lam=lam,
                           learning_rate=lambda t: 0.5 / (1 + t / 50), batch_size=10,
                           epochs=200, key=jax.random.key(1))  # fmt: skip

    batched = jax.jit(jax.vmap(fit))(lams)
    path = paths.logistic(X, y, lams).params
    single_fit = jax.jit(fit)
    for g, lam in enumerate(lams):
        np.testing.assert_allclose(batched["w"][g], single_fit(lam)["w"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(batched["w"][g], path["w"][g], atol=0.05)


def test_bad_inputs_fail_loudly():
    X, y = np.zeros((4, 2)), np.array([0.0, 1.0, 0.0, 1.0])
    p0 = {"w": jnp.zeros(2), "b": jnp.zeros(())}
    with pytest.raises(ValueError, match="batch_size"):
        solvers.sgd(costs.logistic_regression, p0, X, y, lam=1.0, learning_rate=0.1,
                    batch_size=5, epochs=1, key=jax.random.key(0))  # fmt: skip
    with pytest.raises(ValueError, match="max_steps"):
        solvers.gradient_descent(costs.logistic_regression, p0, X, y, lam=1.0,
                                 learning_rate=0.1, max_steps=-1)  # fmt: skip


# ---------------------------------------------------------------------------------------
# early stopping

_ES_SGD = {"optimizer": optax.sgd(0.5)}


def _line_cost(params, X, y, lam):
    """½·mean((Xw − y)²) + λ/(2m)·w², no bias: with X = y = 1, GD at rate α gives
    w_t = w∞(1 − (1 − α(1 + λ/m))ᵗ), w∞ = 1/(1 + λ/m), whatever the batches."""
    return 0.5 * jnp.mean((X @ params["w"] - y) ** 2) + penalties.l2(params, lam, m=X.shape[0])


@pytest.mark.parametrize("batch_size, eval_every", [(4, None), (2, None), (2, 1), (2, 3)])
def test_early_stopping_stops_patience_evaluations_after_the_best(x64, batch_size, eval_every):
    m, alpha, target, patience, max_epochs = 4, 0.5, 0.8, 3, 12
    X, y = jnp.ones((m, 1)), jnp.ones(m)
    lams = jnp.array([0.0, 4.0, 0.5])  # λ = m: α(1 + λ/m) = 1, w jumps to w∞ = ½ and stays
    val = lambda p: jnp.sum((p["w"] - target) ** 2)  # noqa: E731
    k = eval_every or m // batch_size  # steps between evaluations

    def fit(lam):
        return solvers.early_stopping(
            _line_cost, {"w": jnp.zeros(1)}, X, y, lam=lam, val_cost=val, val_args=(),
            batch_size=batch_size, key=jax.random.key(0), patience=patience,
            max_epochs=max_epochs, eval_every=eval_every, return_info=True, **_ES_SGD,
        )  # fmt: skip

    params, info = jax.jit(jax.vmap(fit))(lams)  # one traced-λ call for the grid
    for g, lam in enumerate(np.asarray(lams)):
        w_inf = 1 / (1 + lam / m)
        e = np.arange(max_epochs * (m // batch_size) // k + 1)
        w = w_inf * (1 - (1 - alpha * (1 + lam / m)) ** (e * k))
        V = (w - target) ** 2
        best = int(np.argmin(V))  # V falls to its minimum, then never falls below it
        assert np.all(np.diff(V[: best + 1]) < 0) and np.all(V[best + 1 :] >= V[best])
        assert int(info.best_eval[g]) == best and int(info.evals[g]) == best + patience
        assert bool(info.stopped[g])
        np.testing.assert_allclose(params["w"][g, 0], w[best], rtol=0, atol=1e-14)
        np.testing.assert_allclose(info.val[g, : best + patience + 1], V[: best + patience + 1],
                                   rtol=0, atol=1e-14)  # fmt: skip
        assert np.all(np.isnan(info.val[g, best + patience + 1 :]))


def _es_logistic(seed):
    X, y = logistic_data(160, 20, seed=seed, scale=3.0)
    return (X[:100], y[:100]), (X[100:], y[100:])


def _bce(params, X, y):
    return losses.binary_cross_entropy(models.linear(params, X), y)


def test_early_stopping_returns_the_parameters_of_the_best_validation_loss(x64):
    (X, y), val_args = _es_logistic(15)
    p0 = {"w": jnp.zeros(20), "b": jnp.zeros(())}
    with jax.numpy_dtype_promotion("standard"):  # optax.adam: float ** int32 count
        params, info = solvers.early_stopping(
            costs.logistic_regression, p0, X, y, lam=0.0, val_cost=_bce, val_args=val_args,
            optimizer=optax.adam(0.05), batch_size=10, key=jax.random.key(2), patience=4,
            max_epochs=200, return_info=True,
        )  # fmt: skip
    evals, best = int(info.evals), int(info.best_eval)
    assert bool(info.stopped) and evals == best + 4 and best > 0
    history = np.asarray(info.val)
    assert np.all(np.isfinite(history[: evals + 1])) and np.all(np.isnan(history[evals + 1 :]))
    np.testing.assert_allclose(float(_bce(params, *val_args)), float(info.best_val), rtol=1e-14)
    assert float(info.best_val) == np.min(history[: evals + 1]) == history[best]
    assert np.all(history[best + 1 : evals + 1] >= history[best])  # none better after it


def test_early_stopping_loop_vmap_and_jit_agree(x64):
    (X, y), val_args = _es_logistic(16)
    p0 = {"w": jnp.zeros(20), "b": jnp.zeros(())}

    def fit(lam, key):
        return solvers.early_stopping(
            costs.logistic_regression, p0, X, y, lam=lam, val_cost=_bce, val_args=val_args,
            optimizer=optax.adam(0.05), batch_size=10, key=key, patience=3, max_epochs=60,
            return_info=True,
        )  # fmt: skip

    lams, keys = jnp.array([0.0, 5.0, 50.0]), jax.random.split(jax.random.key(3), 3)
    lane = lambda tree, g: jax.tree.map(lambda a: a[g], tree)  # noqa: E731
    close = lambda a, b: chex.assert_trees_all_close(a, b, rtol=0, atol=1e-12)  # noqa: E731
    with jax.numpy_dtype_promotion("standard"):  # optax.adam: float ** int32 count
        by_lam = jax.jit(jax.vmap(fit, in_axes=(0, None)))(lams, keys[0])
        by_key = jax.jit(jax.vmap(fit, in_axes=(None, 0)))(lams[1], keys)
        jitted = jax.jit(fit)
        close(fit(lams[0], keys[0]), lane(by_lam, 0))  # eager
        for g in range(3):
            close(jitted(lams[g], keys[0]), lane(by_lam, g))
            close(jitted(lams[1], keys[g]), lane(by_key, g))
    assert len(set(np.asarray(by_key[1].evals).tolist())) > 1  # lanes stop on their own


@pytest.mark.parametrize("eval_every", [None, 3])
def test_early_stopping_that_never_stops_walks_the_batches_of_sgd(x64, eval_every):
    rng = np.random.default_rng(17)
    X = rng.normal(size=(40, 3))
    y = 10.0 + X @ np.array([0.5, -0.2, 0.1]) + 0.1 * rng.normal(size=40)
    p0 = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    common = {"lam": 2.0, "batch_size": 10, "key": jax.random.key(4)}  # 4 steps an epoch
    by_sgd = solvers.sgd(costs.linear_regression, p0, X, y, learning_rate=0.05, epochs=3,
                         **common)  # fmt: skip
    # b grows at every step while the fit is below y ≈ 10, so V = −b always improves
    with pytest.warns(solvers.ConvergenceWarning, match="max_epochs = 3"):
        params, info = solvers.early_stopping(
            costs.linear_regression, p0, X, y, val_cost=lambda p: -p["b"], val_args=(),
            optimizer=optax.sgd(0.05), patience=1, max_epochs=3, eval_every=eval_every,
            return_info=True, **common,
        )  # fmt: skip
    assert int(info.best_eval) == int(info.evals) == (3 if eval_every is None else 4)
    assert not bool(info.stopped)
    chex.assert_trees_all_close(params, by_sgd, rtol=0, atol=1e-12)


def test_early_stopping_bad_options_name_the_argument():
    X, y = np.zeros((4, 2)), np.array([0.0, 1.0, 0.0, 1.0])
    p0 = {"w": jnp.zeros(2), "b": jnp.zeros(())}
    base = {"lam": 1.0, "val_cost": _bce, "val_args": (X, y), "optimizer": optax.sgd(0.1),
            "batch_size": 2, "key": jax.random.key(0)}  # fmt: skip
    bad = [("patience", 0), ("max_epochs", 0), ("max_epochs", 2.0), ("batch_size", 5),
           ("eval_every", 0), ("eval_every", 2 * 100 + 1)]  # fmt: skip
    for name, value in bad:
        with pytest.raises(ValueError, match=name):
            solvers.early_stopping(costs.logistic_regression, p0, X, y, **{**base, name: value})
    with pytest.raises(TypeError, match="optimizer"):
        solvers.early_stopping(costs.logistic_regression, p0, X, y, **{**base, "optimizer": 0.1})
