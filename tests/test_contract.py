"""The public contract of DESIGN.md: every name exists with that signature, and answers.

Each signature below is copied from the contract (keyword-only options may be added
after it, never positional ones or renames); each name is then called as the contract
writes it.
"""

from __future__ import annotations

import importlib
import inspect
import operator

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import regjax as rj

# name -> (positional-or-keyword parameters, keyword-only parameters that must exist)
CONTRACT = {
    "models.linear": (["params", "X"], []),
    "models.logistic": (["params", "X"], []),
    "models.mlp": (["params", "X"], ["activation", "output"]),
    "models.init_mlp": (["key", "sizes"], []),
    "models.map_feature": (["x1", "x2", "degree"], []),
    "penalties.l2": (["params", "lam"], ["m", "scale", "mask"]),
    "penalties.l1": (["params", "lam"], ["m", "scale", "mask"]),
    "penalties.elastic_net": (["params", "lam"], ["l1_ratio", "m", "scale", "mask"]),
    "costs.linear_regression": (["params", "X", "y", "lam"], []),
    "costs.logistic_regression": (["params", "X", "y", "lam"], []),
    "costs.neural_network": (["params", "X", "Y", "lam"], []),
    "costs.softmax_regression": (["params", "X", "labels", "lam"], []),
    "closed_form.l2_grad": (["params", "lam"], ["m", "scale", "mask"]),
    "closed_form.linear_regression_grad": (["params", "X", "y", "lam"], []),
    "closed_form.logistic_regression_grad": (["params", "X", "y", "lam"], []),
    "closed_form.neural_network_grad": (["params", "X", "Y", "lam"], []),
    "closed_form.ridge_solution": (["X", "y", "lam"], []),
    "closed_form.ridge_path": (["X", "y", "lams"], []),
    "check_grad": (["cost", "closed_grad", "params"], []),
    "convert_lambda": (["value"], ["from_", "to", "m", "n", "learning_rate"]),
    "transforms.add_l2_gradient": (["lam"], ["m", "mask"]),
    "transforms.decoupled_weight_decay": (["rate"], ["mask", "lr_scaled", "learning_rate"]),
    "transforms.prox_l1": (["lam"], ["m", "learning_rate", "mask"]),
    "transforms.decay_toward": (["reference", "rate"], ["mask"]),
    "paths.ridge": (["X", "y", "lams"], []),
    "paths.linear": (["X", "y", "lams"], ["l1_ratio", "tol"]),
    "paths.logistic": (["X", "y", "lams"], ["l1_ratio", "tol"]),
    "paths.softmax": (["X", "labels", "lams"], ["l1_ratio", "tol"]),
    "lambda_grid": (["X", "y"], ["model", "num", "min_ratio"]),
    "sweep": (["fit", "lams"], ["devices"]),
    "cross_validate": (["fit", "score", "X", "y", "lams"], ["folds", "key"]),
    "hypergrad.val_loss_and_grad": (
        ["cost", "params_star", "lam", "train_args", "val_cost", "val_args"],
        [],
    ),
    "experiments.names": ([], []),
    "experiments.run": (["name"], ["quick", "out"]),
}

DEFAULTS = {
    "models.map_feature": {"degree": 6},
    "models.mlp": {"activation": jax.nn.sigmoid, "output": jax.nn.sigmoid},
    "penalties.l2": {"m": None, "scale": "per_example", "mask": None},
    "transforms.decoupled_weight_decay": {"mask": None, "lr_scaled": True, "learning_rate": None},
    "paths.linear": {"l1_ratio": 1.0, "tol": 1e-8},
    "paths.logistic": {"l1_ratio": 0.0, "tol": 1e-8},
    "paths.softmax": {"l1_ratio": 0.0, "tol": 1e-8},
    "lambda_grid": {"model": "logistic", "num": 50, "min_ratio": 1e-4},
    "sweep": {"devices": None},
    "cross_validate": {"folds": 5},
    "experiments.run": {"quick": False, "out": None},
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_signature_is_the_contracts(name):
    fn = operator.attrgetter(name)(rj)
    params = inspect.signature(fn).parameters
    positional, keyword_only = CONTRACT[name]
    kinds = {inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD}
    leading = [p.name for p in params.values() if p.kind in kinds]
    assert leading == positional, f"{name}{inspect.signature(fn)}"
    for key in keyword_only:
        assert key in params, f"{name} lacks {key}"
        if key != "degree":
            assert params[key].kind is inspect.Parameter.KEYWORD_ONLY, f"{name}: {key}"
    for key, default in DEFAULTS.get(name, {}).items():
        assert params[key].default == default, f"{name}: {key} default"


def test_modules_of_the_layout_import():
    import regjax.paths
    import regjax.prox
    import regjax.selection

    assert callable(regjax.selection.lambda_grid)
    assert rj.sweep is regjax.selection.sweep  # rj.sweep is the function
    assert callable(regjax.prox.soft_threshold) and callable(regjax.paths.logistic)
    assert rj.paths.Path._fields == ("params", "lams", "converged", "iterations", "grad_max")
    assert rj.GradCheck._fields[:4] == ("max_abs_err", "max_rel_err", "numerical_max_rel_err", "ok")
    assert {"leaves", "rtol", "numerical_rtol"} <= set(rj.GradCheck._fields)
    assert rj.CVResult._fields == (
        "lams", "train", "val_mean", "val_std", "best_lam", "lam_1se", "val"
    )  # fmt: skip
    assert rj.experiments.Study._fields == ("name", "question", "answer", "data", "figures")


def test_every_contract_name_answers(x64, rng, tmp_path):
    """Each name called as the contract writes it, on a small problem."""
    m, n = 30, 3
    X = jnp.asarray(rng.normal(size=(m, n)))
    y = X @ jnp.arange(1.0, n + 1) + 0.1 * jnp.asarray(rng.normal(size=m))
    labels01 = (y > jnp.median(y)).astype(X.dtype)
    classes = jnp.asarray(rng.integers(0, 3, m))
    params = {"w": jnp.zeros(n), "b": jnp.array(0.0)}
    soft = {"w": jnp.zeros((n, 3)), "b": jnp.zeros(3)}
    net = rj.models.init_mlp(jax.random.key(0), (n, 4, 3))
    Y = jax.nn.one_hot(classes, 3, dtype=X.dtype)

    assert rj.models.linear(params, X).shape == (m,)
    assert rj.models.logistic(params, X).shape == (m,)
    assert rj.models.mlp(net, X, activation=jax.nn.sigmoid, output=jax.nn.sigmoid).shape == (m, 3)
    assert rj.models.map_feature(X[:, 0], X[:, 1], degree=6).shape == (m, 27)
    for penalty in (rj.penalties.l2, rj.penalties.l1):
        assert float(penalty(params, 1.0, m=m, scale="per_example", mask=None)) == 0.0
    assert float(rj.penalties.elastic_net(params, 1.0, l1_ratio=0.5, m=m)) == 0.0
    point = {"w": jnp.asarray(rng.normal(size=n)), "b": jnp.array(0.3)}
    for cost, grad, p, target in (
        (rj.costs.linear_regression, rj.closed_form.linear_regression_grad, point, y),
        (rj.costs.logistic_regression, rj.closed_form.logistic_regression_grad, point, labels01),
        (rj.costs.neural_network, rj.closed_form.neural_network_grad, net, Y),
    ):
        assert jnp.isfinite(cost(p, X, target, 1.0))
        assert rj.check_grad(cost, grad, p, X, target, 1.0).ok
    assert jnp.isfinite(rj.costs.softmax_regression(soft, X, classes, 1.0))
    assert rj.closed_form.l2_grad(params, 1.0, m=m, scale="per_example", mask=None)["b"] == 0
    ridge = rj.closed_form.ridge_solution(X, y, 1.0)
    lams = jnp.array([10.0, 1.0])
    assert rj.closed_form.ridge_path(X, y, lams)["w"].shape == (2, n)
    assert rj.convert_lambda(1.0, from_="ng", to="sklearn_ridge_alpha", m=m) == 1.0
    for tx in (
        rj.transforms.add_l2_gradient(1.0, m=m, mask=None),
        rj.transforms.decoupled_weight_decay(0.1, mask=None, lr_scaled=True, learning_rate=0.1),
        rj.transforms.prox_l1(1.0, m=m, learning_rate=0.1, mask=None),
        rj.transforms.decay_toward(params, 0.1, mask=None),
    ):
        assert isinstance(tx, optax.GradientTransformation)
        tx.update(params, tx.init(params), params)

    for path in (
        rj.paths.ridge(X, y, lams),
        rj.paths.linear(X, y, lams, l1_ratio=1.0, tol=1e-8),
        rj.paths.logistic(X, labels01, lams, l1_ratio=0.0, tol=1e-8),
        rj.paths.softmax(X, classes, lams, l1_ratio=0.0, tol=1e-8),
    ):
        assert isinstance(path, rj.paths.Path) and bool(path.converged.all())
        assert path.lams.shape == path.converged.shape == path.grad_max.shape == (2,)
    grid = rj.lambda_grid(X, labels01, model="logistic", num=50, min_ratio=1e-4)
    assert grid.shape == (50,) and float(grid[0]) > float(grid[-1])
    swept = rj.sweep(lambda lam, X, y: rj.closed_form.ridge_solution(X, y, lam), lams, X, y,
                     devices=None)  # fmt: skip
    np.testing.assert_allclose(swept["w"], rj.closed_form.ridge_path(X, y, lams)["w"], atol=1e-10)
    cv = rj.cross_validate(
        lambda lam, X, y: rj.closed_form.ridge_solution(X, y, lam),
        lambda p, X, y: jnp.mean((rj.models.linear(p, X) - y) ** 2),
        X, y, lams, folds=5, key=jax.random.key(0),
    )  # fmt: skip
    assert isinstance(cv, rj.CVResult) and cv.best_lam in (1.0, 10.0)

    def mse(p, X, y):
        return jnp.mean((rj.models.linear(p, X) - y) ** 2)

    value, dval = rj.hypergrad.val_loss_and_grad(
        rj.costs.linear_regression, ridge, 1.0, (X, y), mse, (X, y)
    )
    assert jnp.isfinite(value) and jnp.isfinite(dval)
    names = rj.experiments.names()
    assert names and all(isinstance(name, str) for name in names)
    study = rj.experiments.run("half_and_decay", quick=True, out=tmp_path)
    assert study.name == "half_and_decay" and study.figures and study.figures[0].exists()


_DOCUMENTED = [
    "models", "losses", "prox", "penalties", "costs", "closed_form", "checking",
    "conventions", "transforms", "optimizers", "solvers", "paths", "selection",
    "hypergrad", "data", "figures", "experiments",
]  # fmt: skip


@pytest.mark.parametrize("module", _DOCUMENTED)
def test_help_names_what_every_public_argument_is(module):
    """help() and the API docs show each parameter's and result's type by a name that
    says what it is (``Params``, ``Lam``, ``Matrix``, ``Data``…: the aliases of
    ``regjax._typing``, documented there), never a bare ``Any`` nor nothing."""
    mod = importlib.import_module(f"regjax.{module}")
    vague = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if isinstance(obj, type) or not inspect.isfunction(obj):
            continue
        sig = inspect.signature(obj)
        for p in sig.parameters.values():
            if p.annotation in ("Any", inspect.Parameter.empty):
                vague.append(f"{name}({p.name})")
        if sig.return_annotation in ("Any", inspect.Signature.empty):
            vague.append(f"{name} -> ")
    assert not vague, f"regjax.{module}: {vague}"
