"""Bad input fails early and plainly: the error type, and a message naming the argument.

The cross-cutting suite: λ, m, scale, shapes, data values, params, masks and names, over
costs, closed forms, penalties, check_grad and conventions (all checked by
``regjax._checks``). Each module's own file holds the bad-input cases of its solvers.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from regjax import (
    check_grad,
    closed_form,
    conventions,
    costs,
    losses,
    models,
    optimizers,
    paths,
    penalties,
    selection,
    solvers,
    transforms,
)

M, N = 6, 3


def _glm():
    return {"w": jnp.array([0.5, -1.0, 2.0]), "b": jnp.array(0.1)}


def _X():
    return jnp.arange(M * N, dtype=jnp.float32).reshape(M, N) / 10


def _y():
    return jnp.linspace(-1.0, 1.0, M)


def _labels():
    return jnp.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])


def _net():
    return [
        {"W": jnp.ones((4, N)) / 10, "b": jnp.zeros(4)},
        {"W": jnp.ones((2, 4)) / 10, "b": jnp.zeros(2)},
    ]


def _Y():
    return jax.nn.one_hot(jnp.array([0, 1, 1, 0, 1, 0]), 2)


def _soft():
    return {"w": jnp.zeros((N, 3)), "b": jnp.zeros(3)}


GLM_COSTS = [
    (costs.linear_regression, _y),
    (costs.logistic_regression, _labels),
    (closed_form.linear_regression_grad, _y),
    (closed_form.logistic_regression_grad, _labels),
]
GLM_IDS = ["linear", "logistic", "linear_grad", "logistic_grad"]


def _penalty_fns():
    """Every penalty and penalty gradient, as f(params, lam, **kw)."""
    return {
        "l2": penalties.l2,
        "l1": penalties.l1,
        "elastic_net": lambda p, lam, **kw: penalties.elastic_net(p, lam, l1_ratio=0.5, **kw),
        "l2_grad": closed_form.l2_grad,
        "l1_grad": closed_form.l1_grad,
        "elastic_net_grad": lambda p, lam, **kw: closed_form.elastic_net_grad(
            p, lam, l1_ratio=0.5, **kw
        ),
    }


PENALTY_NAMES = sorted(_penalty_fns())
# a choice's error lists the choices, sorted: "<name> must be one of [...], got ..."
SCALES = "'per_example', 'per_param', 'sum'"


# --- λ ---------------------------------------------------------------------------------

BAD_LAMS = [
    (-1.0, "lam must be >= 0"),
    (-1e-12, "lam must be >= 0"),
    (math.nan, "lam must be finite"),
    (math.inf, "lam must be finite"),
    (-math.inf, "lam must be finite"),
    (jnp.array([0.5, -0.5]), "lam must be >= 0"),
]


@pytest.mark.parametrize(("lam", "message"), BAD_LAMS)
@pytest.mark.parametrize(("fn", "target"), GLM_COSTS, ids=GLM_IDS)
def test_bad_lambda_glm(fn, target, lam, message):
    with pytest.raises(ValueError, match=message):
        fn(_glm(), _X(), target(), lam)


@pytest.mark.parametrize(("lam", "message"), BAD_LAMS)
def test_bad_lambda_other_costs(lam, message):
    with pytest.raises(ValueError, match=message):
        costs.neural_network(_net(), _X(), _Y(), lam)
    with pytest.raises(ValueError, match=message):
        closed_form.neural_network_grad(_net(), _X(), _Y(), lam)
    with pytest.raises(ValueError, match=message):
        costs.softmax_regression(_soft(), _X(), jnp.arange(M) % 3, lam)
    with pytest.raises(ValueError, match=message):
        closed_form.ridge_solution(_X(), _y(), lam)


@pytest.mark.parametrize(("lam", "message"), BAD_LAMS)
@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_bad_lambda_penalties(name, lam, message):
    with pytest.raises(ValueError, match=message):
        _penalty_fns()[name](_glm(), lam, m=M)


def test_bad_per_leaf_lambda():
    with pytest.raises(ValueError, match="lam must be >= 0"):
        penalties.l2(_glm(), {"w": -1.0, "b": 0.0}, m=M)
    with pytest.raises(ValueError, match="lam"):  # a per-leaf λ must be a scalar
        penalties.l2(_glm(), {"w": jnp.ones(3), "b": 0.0}, m=M)
    with pytest.raises(ValueError, match="lam must have the structure"):
        penalties.l2(_glm(), {"w": 1.0, "c": 0.0}, m=M)


def test_complex_or_string_lambda_is_a_type_error():
    with pytest.raises(TypeError, match="lam must be a real number"):
        penalties.l2(_glm(), 1j, m=M)
    with pytest.raises(TypeError, match="lam must be a real number"):
        penalties.l2(_glm(), np.array(True), m=M)


# --- m and scale -----------------------------------------------------------------------


@pytest.mark.parametrize("m", [0, -3, 0.0, math.nan, math.inf, 2.5])
@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_bad_m(name, m):
    with pytest.raises(ValueError, match=r"^m \(the number of training examples\) must be a pos"):
        _penalty_fns()[name](_glm(), 1.0, m=m)


@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_missing_m_for_per_example(name):
    with pytest.raises(ValueError, match=r"^m \(the number of training examples\).*per_example"):
        _penalty_fns()[name](_glm(), 1.0)
    # the other scales do not need m
    _penalty_fns()[name](_glm(), 1.0, scale="sum")
    _penalty_fns()[name](_glm(), 1.0, scale="per_param")


@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_unknown_scale(name):
    with pytest.raises(ValueError, match=rf"scale must be one of \[{SCALES}\], got 'mean'"):
        _penalty_fns()[name](_glm(), 1.0, m=M, scale="mean")


def test_unknown_scale_penalty_and_l1_ratio_in_regularized():
    def data(p, X, y):
        return losses.squared_error(models.linear(p, X), y)

    with pytest.raises(ValueError, match=rf"scale must be one of \[{SCALES}\]"):
        costs.regularized(data, scale="per_batch")
    with pytest.raises(ValueError, match=r"penalty must be one of \['elastic_net', 'l1', 'l2'\]"):
        costs.regularized(data, penalty="l3")
    with pytest.raises(ValueError, match="l1_ratio"):  # elastic net needs it
        costs.regularized(data, penalty="elastic_net")
    with pytest.raises(ValueError, match="l1_ratio"):  # and the others refuse it
        costs.regularized(data, penalty="l2", l1_ratio=0.5)
    for ratio in (-0.1, 1.5):  # refused when the cost is built, not at its first call
        with pytest.raises(ValueError, match=r"l1_ratio must be in \[0, 1\]"):
            costs.regularized(data, penalty="elastic_net", l1_ratio=ratio)
    with pytest.raises(TypeError, match="data_cost must be a callable"):
        costs.regularized("squared")  # type: ignore[arg-type]


@pytest.mark.parametrize("ratio", [-0.1, 1.0001, 2.0, math.nan])
def test_l1_ratio_out_of_range(ratio):
    with pytest.raises(ValueError, match=r"l1_ratio must be in \[0, 1\]"):
        penalties.elastic_net(_glm(), 1.0, l1_ratio=ratio, m=M)


# --- shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fn", "target"), GLM_COSTS, ids=GLM_IDS)
def test_glm_shape_mismatches(fn, target):
    with pytest.raises(ValueError, match=r"params\['w'\] must have shape"):
        fn({"w": jnp.ones(N + 1), "b": jnp.array(0.0)}, _X(), target(), 1.0)
    with pytest.raises(ValueError, match=r"params\['w'\] must have shape"):
        fn({"w": jnp.ones((N, 2, 2)), "b": jnp.array(0.0)}, _X(), target(), 1.0)
    with pytest.raises(ValueError, match=r"params\['b'\] must have shape \(\)"):
        fn({"w": jnp.ones(N), "b": jnp.zeros(2)}, _X(), target(), 1.0)
    with pytest.raises(ValueError, match="y must have one entry per row of X"):
        fn(_glm(), _X(), target()[:-1], 1.0)
    with pytest.raises(ValueError, match="y must have one entry per row of X"):
        fn(_glm(), _X(), jnp.array(1.0), 1.0)
    with pytest.raises(ValueError, match="X must be 2-D"):
        fn(_glm(), _X()[:, 0], target(), 1.0)
    with pytest.raises(ValueError, match="X must be 2-D"):
        fn(_glm(), _X()[None], target(), 1.0)
    with pytest.raises(ValueError, match="X must have at least one row"):
        fn(_glm(), jnp.zeros((0, N)), target()[:0], 1.0)
    with pytest.raises(TypeError, match="params must be a dict"):
        fn({"w": jnp.ones(N)}, _X(), target(), 1.0)


def test_y_with_extra_axis_is_refused():
    with pytest.raises(ValueError, match="y must have the shape of"):
        costs.linear_regression(_glm(), _X(), _y()[:, None], 1.0)


@pytest.mark.parametrize("fn", [costs.neural_network, closed_form.neural_network_grad])
def test_mlp_shape_mismatches(fn):
    net = _net()
    bad_w = [net[0], {"W": jnp.ones((2, 5)), "b": jnp.zeros(2)}]  # 5 inputs after 4 units
    with pytest.raises(ValueError, match=r"params\[1\]\['W'\] must have shape \(out, 4\)"):
        fn(bad_w, _X(), _Y(), 1.0)
    first = [{"W": jnp.ones((4, N + 1)), "b": jnp.zeros(4)}, net[1]]
    with pytest.raises(ValueError, match=r"params\[0\]\['W'\] must have shape \(out, 3\)"):
        fn(first, _X(), _Y(), 1.0)
    bad_b = [{"W": net[0]["W"], "b": jnp.zeros(3)}, net[1]]
    with pytest.raises(ValueError, match=r"params\[0\]\['b'\] must have shape \(4,\)"):
        fn(bad_b, _X(), _Y(), 1.0)
    with pytest.raises(ValueError, match=r"Y must have shape \(6, 2\)"):
        fn(net, _X(), jax.nn.one_hot(jnp.arange(M) % 3, 3), 1.0)
    with pytest.raises(ValueError, match="Y must have one entry per row of X"):
        fn(net, _X(), _Y()[:-1], 1.0)
    with pytest.raises(TypeError, match="params must be a non-empty list"):
        fn([], _X(), _Y(), 1.0)
    with pytest.raises(TypeError, match=r"params\[0\] must be a dict"):
        fn([{"W": net[0]["W"]}, net[1]], _X(), _Y(), 1.0)


@pytest.mark.parametrize("fn", [costs.softmax_regression, closed_form.softmax_regression_grad])
def test_softmax_shapes_and_labels(fn):
    labels = jnp.arange(M) % 3
    with pytest.raises(ValueError, match=r"params\['w'\] must have shape \(n, K\)"):
        fn(_glm(), _X(), labels, 1.0)
    with pytest.raises(ValueError, match="labels must have one entry per row of X"):
        fn(_soft(), _X(), labels[:-1], 1.0)
    with pytest.raises(
        TypeError, match=r"labels must be 1-D integers in \[0, 3\), got dtype float32"
    ):
        fn(_soft(), _X(), labels.astype(jnp.float32), 1.0)


@pytest.mark.parametrize("bad", [3, 7, -1])
@pytest.mark.parametrize("fn", [costs.softmax_regression, closed_form.softmax_regression_grad])
def test_softmax_labels_out_of_range(fn, bad):
    labels = jnp.array([0, 1, 2, 0, 1, bad])
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 3\)"):
        fn(_soft(), _X(), labels, 1.0)


# --- values in the data ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(("fn", "target"), GLM_COSTS, ids=GLM_IDS)
def test_non_finite_data(fn, target, bad):
    with pytest.raises(ValueError, match="X holds non-finite values"):
        fn(_glm(), _X().at[2, 1].set(bad), target(), 1.0)
    if target is _y:  # for labels, a non-finite value is first of all not a label
        with pytest.raises(ValueError, match="y holds non-finite values"):
            fn(_glm(), _X(), _y().at[3].set(bad), 1.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_data_other_functions(bad):
    with pytest.raises(ValueError, match="X holds non-finite values"):
        closed_form.ridge_solution(_X().at[0, 0].set(bad), _y(), 1.0)
    with pytest.raises(ValueError, match="y holds non-finite values"):
        closed_form.ridge_solution(_X(), _y().at[0].set(bad), 1.0)
    with pytest.raises(ValueError, match="y holds non-finite values"):
        closed_form.ridge_path(_X(), _y().at[0].set(bad), jnp.array([1.0]))
    with pytest.raises(ValueError, match="X holds non-finite values"):
        costs.neural_network(_net(), _X().at[0, 0].set(bad), _Y(), 1.0)
    with pytest.raises(ValueError, match="Y holds non-finite values"):
        costs.neural_network(_net(), _X(), _Y().at[0, 0].set(bad), 1.0)


@pytest.mark.parametrize("bad", [2.0, 0.5, -1.0])
@pytest.mark.parametrize("fn", [costs.logistic_regression, closed_form.logistic_regression_grad])
def test_labels_outside_0_1_logistic(fn, bad):
    with pytest.raises(ValueError, match=r"y must hold labels in \{0, 1\}"):
        fn(_glm(), _X(), _labels().at[4].set(bad), 1.0)


@pytest.mark.parametrize("bad", [2.0, 0.5, -1.0])
@pytest.mark.parametrize("fn", [costs.neural_network, closed_form.neural_network_grad])
def test_labels_outside_0_1_neural_network(fn, bad):
    with pytest.raises(ValueError, match=r"Y must hold labels in \{0, 1\}"):
        fn(_net(), _X(), _Y().at[2, 1].set(bad), 1.0)


# --- params ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_non_floating_params_penalties(name):
    with pytest.raises(TypeError, match="params"):
        _penalty_fns()[name]({"w": jnp.array([1, 2, 3])}, 0.7, m=M)


@pytest.mark.parametrize(("fn", "target"), GLM_COSTS, ids=GLM_IDS)
def test_non_floating_params_costs(fn, target):
    with pytest.raises(TypeError, match="params must be floating"):
        fn({"w": jnp.array([1, 2, 3]), "b": jnp.array(0)}, _X(), target(), 1.0)


def test_non_floating_params_network_and_x():
    net = _net()
    net[1] = {"W": jnp.ones((2, 4), dtype=jnp.int32), "b": jnp.zeros(2, dtype=jnp.int32)}
    with pytest.raises(TypeError, match=r"params\[1\] must hold floating arrays"):
        costs.neural_network(net, _X(), _Y(), 1.0)
    with pytest.raises(TypeError, match=r"X must be a floating \(or integer\) array"):
        costs.linear_regression(_glm(), jnp.ones((M, N), dtype=jnp.bool_), _y(), 1.0)
    X_int = jnp.arange(M * N, dtype=jnp.int32).reshape(M, N)  # promoted, not refused
    np.testing.assert_allclose(
        costs.linear_regression(_glm(), X_int, _y(), 1.0),
        costs.linear_regression(_glm(), X_int.astype(float), _y(), 1.0),
    )


# --- masks -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_mask_structure_mismatch(name):
    fn = _penalty_fns()[name]
    with pytest.raises(ValueError, match="mask must have the structure of params"):
        fn(_glm(), 1.0, m=M, mask={"w": True})
    with pytest.raises(ValueError, match="mask must have the structure of params"):
        fn(_glm(), 1.0, m=M, mask={"w": True, "b": False, "c": True})
    with pytest.raises(ValueError, match="mask must have the structure of params"):
        fn(_net(), 1.0, m=M, mask=[{"W": True, "b": False}])  # one layer of two
    with pytest.raises(ValueError, match="mask must have the structure of params"):
        fn(_glm(), 1.0, m=M, mask=lambda p: [True, False])  # a callable's result too


@pytest.mark.parametrize("name", PENALTY_NAMES)
@pytest.mark.parametrize(
    "mask",
    [
        {"w": 1, "b": 0},
        {"w": 1.0, "b": 0.0},
        {"w": "yes", "b": "no"},
        {"w": jnp.array([True, True, False]), "b": False},
    ],
    ids=["int", "float", "str", "bool-array"],
)
def test_mask_with_non_bool_leaves(name, mask):
    with pytest.raises(TypeError, match="mask leaves must be"):
        _penalty_fns()[name](_glm(), 1.0, m=M, mask=mask)


def test_path_mask_predicate_type():
    with pytest.raises(TypeError, match="predicate"):
        penalties.path_mask(3)


# --- closed forms ----------------------------------------------------------------------


def test_ridge_solution_and_path_inputs():
    with pytest.raises(ValueError, match="X must be 2-D"):
        closed_form.ridge_solution(_X()[:, 0], _y(), 1.0)
    with pytest.raises(ValueError, match="y must have one entry per row of X"):
        closed_form.ridge_solution(_X(), _y()[:-2], 1.0)
    with pytest.raises(ValueError, match=r"y must have shape \(m,\) or \(m, k\)"):
        closed_form.ridge_solution(_X(), jnp.ones((M, 2, 2)), 1.0)
    with pytest.raises(ValueError, match="lams must be 1-D"):
        closed_form.ridge_path(_X(), _y(), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="lams must be 1-D"):
        closed_form.ridge_path(_X(), _y(), 1.0)
    with pytest.raises(ValueError, match="lams must be >= 0"):
        closed_form.ridge_path(_X(), _y(), jnp.array([1.0, -0.5]))
    with pytest.raises(ValueError, match="lams must be finite"):
        closed_form.ridge_path(_X(), _y(), jnp.array([1.0, jnp.nan]))
    with pytest.raises(ValueError, match="X must be 2-D"):
        closed_form.ridge_path(_X()[0], _y(), jnp.array([1.0]))


def test_check_grad_structure_and_shape_mismatch():
    def cost(p, lam):
        return penalties.l2(p, lam, scale="sum")

    with pytest.raises(ValueError, match="closed_grad returned structure"):
        check_grad(cost, lambda p, lam: {"w": p["w"]}, _glm(), 1.0)
    with pytest.raises(ValueError, match="closed_grad returned structure"):
        check_grad(cost, lambda p, lam: [p["b"], p["w"]], _glm(), 1.0)
    with pytest.raises(ValueError, match=r"closed_grad\['w'\] has shape \(2,\)"):
        check_grad(cost, lambda p, lam: {"w": p["w"][:2], "b": p["b"]}, _glm(), 1.0)
    with pytest.raises(TypeError, match="params must be floating"):
        check_grad(cost, lambda p, lam: p, {"w": jnp.array([1, 2])}, 1.0)


# --- conventions -----------------------------------------------------------------------


def test_unknown_convention_names():
    with pytest.raises(ValueError, match=r"^from_ must be one of .*'ng'.*got 'pytorch'"):
        conventions.convert_lambda(1.0, from_="pytorch", to="ng", m=10)
    with pytest.raises(ValueError, match=r"^to must be one of .*got 'glmnet'"):
        conventions.convert_lambda(1.0, from_="ng", to="glmnet", m=10)
    with pytest.raises(ValueError, match="from_ must be one of"):
        conventions.to_coefficient(1.0, "Ng", m=10)
    with pytest.raises(ValueError, match="to must be one of"):
        conventions.from_coefficient(1.0, "NG", m=10)


@pytest.mark.parametrize(
    ("name", "needs"),
    [
        ("ng", "m"),
        ("sum", "m"),
        ("sklearn_ridge_alpha", "m"),
        ("sklearn_logreg_C", "m"),
        ("per_param", "n"),
        ("decoupled_independent", "learning_rate"),
    ],
)
def test_conventions_needing_m_n_or_learning_rate(name, needs):
    others = {"m": 10, "n": 5, "learning_rate": 0.1}
    del others[needs]
    with pytest.raises(ValueError, match=f"{name}.* needs {needs}="):
        conventions.convert_lambda(1.0, from_=name, to="mean_l2", **others)
    with pytest.raises(ValueError, match=f"{name}.* needs {needs}="):
        conventions.convert_lambda(1.0, from_="mean_l2", to=name, **others)
    # m and n are counts (positive integers); η is a positive real
    expected = "must be a finite number > 0" if needs == "learning_rate" else "must be a pos"
    for bad in (0, -2, math.nan) + ((2.5,) if needs != "learning_rate" else ()):
        with pytest.raises(ValueError, match=f"^{needs}.*{expected}"):
            conventions.convert_lambda(1.0, from_=name, to="mean_l2", **others, **{needs: bad})


@pytest.mark.parametrize("value", [-1.0, math.nan, -math.inf])
def test_bad_convention_value(value):
    for name in conventions.CONVENTIONS:
        kw = {"m": 10, "n": 5, "learning_rate": 0.1}
        with pytest.raises(ValueError, match="value must be"):
            conventions.convert_lambda(value, from_=name, to="mean_l2", **kw)
    with pytest.raises(ValueError, match="value must be finite"):  # only C may be inf
        conventions.convert_lambda(math.inf, from_="ng", to="mean_l2", m=10)
    with pytest.raises(TypeError, match="value must be a real number"):
        conventions.convert_lambda("1.0", from_="ng", to="mean_l2", m=10)


def test_bad_decay_arguments():
    with pytest.raises(ValueError, match="lam must be >= 0"):
        conventions.decay_factor(-1.0, m=10, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"^m \(the number of training examples\) must be"):
        conventions.decay_factor(1.0, m=0, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"^learning_rate must be"):
        conventions.decay_factor(1.0, m=10, learning_rate=-0.1)
    with pytest.raises(ValueError, match=r"^learning_rate must be"):
        conventions.decay_timescale(1.0, m=10, learning_rate=0.0)


# --- traced values: the value checks are skipped, the results are the same ------------


def test_traced_lambda_does_not_raise_and_matches_eager(x64):
    X = jnp.asarray(np.random.default_rng(0).normal(size=(M, N)))
    y = _labels().astype(jnp.float64)
    params = {"w": jnp.array([0.5, -1.0, 2.0]), "b": jnp.array(0.1)}
    lam = 0.7
    eager = costs.logistic_regression(params, X, y, lam)
    jitted = jax.jit(costs.logistic_regression)(params, X, y, lam)  # X, y and λ traced
    lam_only = jax.jit(lambda lam: costs.logistic_regression(params, X, y, lam))(lam)
    assert float(jitted) == pytest.approx(float(eager), rel=1e-14)
    assert float(lam_only) == pytest.approx(float(eager), rel=1e-14)
    # the formula: mean BCE + λ/(2m)‖w‖², written out
    z = np.asarray(X) @ np.asarray(params["w"]) + 0.1
    bce = np.mean(np.logaddexp(0, z) - np.asarray(y) * z)
    assert float(eager) == pytest.approx(bce + lam / (2 * M) * 5.25, rel=1e-13)
    # vmap and grad over λ trace it too
    lams = jnp.array([0.0, 0.7, 3.0])
    batch = jax.vmap(lambda lam: costs.logistic_regression(params, X, y, lam))(lams)
    for value, lam_i in zip(np.asarray(batch), [0.0, 0.7, 3.0], strict=True):
        assert value == pytest.approx(float(costs.logistic_regression(params, X, y, lam_i)))
    dlam = jax.grad(lambda lam: costs.logistic_regression(params, X, y, lam))(lam)
    assert float(dlam) == pytest.approx(5.25 / (2 * M), rel=1e-14)  # ‖w‖²/(2m)
    # penalties with a traced λ and a traced m
    p = jax.jit(lambda lam, m: penalties.l2(params, lam, m=m))(lam, 4.0)
    assert float(p) == pytest.approx(lam / 8 * 5.25, rel=1e-14)


# --- m is a count: a positive integer scalar, wherever it is the number of examples ----

M_TAKERS = {
    "penalties.l2": lambda m: penalties.l2(_glm(), 1.0, m=m),
    "penalties.l1": lambda m: penalties.l1(_glm(), 1.0, m=m),
    "closed_form.l2_grad": lambda m: closed_form.l2_grad(_glm(), 1.0, m=m)["w"],
    "transforms.add_l2_gradient": lambda m: transforms.add_l2_gradient(1.0, m=m),
    "transforms.prox_l1": lambda m: transforms.prox_l1(1.0, m=m, learning_rate=0.1),
    "optimizers.adam_l2": lambda m: optimizers.adam_l2(0.1, 1.0, m=m),
    "convert_lambda": lambda m: conventions.convert_lambda(1.0, from_="ng", to="mean_l2", m=m),
    "decay_factor": lambda m: conventions.decay_factor(1.0, m=m, learning_rate=0.1),
    "solvers.minibatch_cost": lambda m: solvers.minibatch_cost(
        costs.linear_regression, _glm(), _X(), _y(), lam=1.0, m=m
    ),
}


@pytest.mark.parametrize("name", list(M_TAKERS))
@pytest.mark.parametrize(
    ("m", "error", "match"),
    [
        (7.5, ValueError, r"^m \(the .*\) must be a positive integer, got 7.5"),
        ("6", TypeError, r"^m must be a positive integer \(the .*\), got '6'"),
        (True, TypeError, r"^m must be a positive integer"),
        (0, ValueError, r"^m \(the .*\) must be a positive integer, got 0"),
    ],
)
def test_m_must_be_a_positive_integer_scalar(name, m, error, match):
    """Before, a fractional m was used as is, and an array m gave an array 'penalty'."""
    with pytest.raises(error, match=match):
        M_TAKERS[name](m)


@pytest.mark.parametrize("name", list(M_TAKERS))
def test_an_array_m_is_refused_where_it_would_make_an_array_penalty(name):
    """An array of m is refused by the penalties, transforms and solvers (before, l2 gave
    an array 'penalty'); the conversions map over it, each m a positive integer."""
    if name in ("convert_lambda", "decay_factor"):
        got = np.asarray(M_TAKERS[name](np.array([5, 10])))
        np.testing.assert_allclose(got, [M_TAKERS[name](5), M_TAKERS[name](10)], rtol=1e-6)
        with pytest.raises(ValueError, match=r"^m \(the .*\) must be a positive integer"):
            M_TAKERS[name](np.array([5.0, 7.5]))
        return
    with pytest.raises(ValueError, match=r"^m must be a scalar \(a positive integer"):
        M_TAKERS[name](np.array([6.0, 8.0]))


@pytest.mark.parametrize("name", list(M_TAKERS))
def test_an_integral_float_m_is_the_same_count(name):
    a, b = M_TAKERS[name](6), M_TAKERS[name](np.float64(6.0))
    if callable(getattr(a, "init", None)):  # a transform: compare one update
        params = {"w": jnp.array([1.0, -2.0]), "b": jnp.array(0.5)}
        with jax.numpy_dtype_promotion("standard"):  # optax.adam mixes int and float
            a, b = (t.update(params, t.init(params), params)[0] for t in (a, b))
    jax.tree.map(lambda u, v: np.testing.assert_array_equal(np.asarray(u), np.asarray(v)), a, b)


def test_batch_size_and_n_are_counts_too():
    with pytest.raises(ValueError, match=r"^n \(the number of penalized weights\) must be a pos"):
        conventions.convert_lambda(1.0, from_="per_param", to="mean_l2", n=2.5)
    with pytest.raises(ValueError, match=r"^batch_size \(the minibatch size\) must be a pos"):
        conventions.decay_timescale(1.0, m=10, learning_rate=0.1, batch_size=2.5, unit="epochs")
    with pytest.raises(ValueError, match=r"the batch has 6 rows, more than the training set's"):
        solvers.minibatch_cost(costs.linear_regression, _glm(), _X(), _y(), lam=1.0, m=4)


# --- l1_ratio and λ grids: numbers, not strings or arrays ------------------------------

L1_RATIO_TAKERS = {
    "penalties.elastic_net": lambda r: penalties.elastic_net(_glm(), 1.0, l1_ratio=r, m=M),
    "costs.regularized": lambda r: costs.regularized(
        lambda p, X, y: losses.squared_error(models.linear(p, X), y),
        penalty="elastic_net",
        l1_ratio=r,
    ),
    "transforms.prox_elastic_net": lambda r: transforms.prox_elastic_net(
        1.0, l1_ratio=r, m=M, learning_rate=0.1
    ),
    "paths.linear": lambda r: paths.linear(_X(), _y(), jnp.ones(2), l1_ratio=r),
    "paths.logistic": lambda r: paths.logistic(_X(), _labels(), jnp.ones(2), l1_ratio=r),
    "paths.softmax": lambda r: paths.softmax(
        _X(), jnp.array([0, 1, 2, 0, 1, 2]), jnp.ones(2), l1_ratio=r
    ),
}


@pytest.mark.parametrize("name", list(L1_RATIO_TAKERS))
@pytest.mark.parametrize(
    ("ratio", "error", "match"),
    [
        ("0.5", TypeError, r"^l1_ratio must be a number in \[0, 1\], got '0.5'"),
        (np.array([0.2, 0.5]), ValueError, r"^l1_ratio must be a scalar .*got shape \(2,\)"),
        ([0.5], TypeError, r"^l1_ratio must be a number in \[0, 1\], got \[0.5\]"),
        (True, TypeError, r"^l1_ratio must be a number in \[0, 1\], got True"),
        (None, TypeError, r"^l1_ratio must be a number|l1_ratio must be given"),
    ],
)
def test_l1_ratio_must_be_a_real_scalar(name, ratio, error, match):
    """Before, paths.linear(l1_ratio="0.5") ran (float("0.5")), and an array gave
    'only 0-dimensional arrays can be converted to Python scalars'."""
    expected = ValueError if name == "costs.regularized" and ratio is None else error
    with pytest.raises(expected, match=match):
        L1_RATIO_TAKERS[name](ratio)


GRID_TAKERS = {
    "paths.ridge": lambda g: paths.ridge(_X(), _y(), g),
    "paths.logistic": lambda g: paths.logistic(_X(), _labels(), g),
    "closed_form.ridge_path": lambda g: closed_form.ridge_path(_X(), _y(), g),
    "sweep": lambda g: selection.sweep(lambda lam: lam, g),
    "cross_validate": lambda g: selection.cross_validate(
        lambda lam, X, y: closed_form.ridge_solution(X, y, lam),
        lambda p, X, y: jnp.mean(X @ p["w"] - y),
        _X(),
        _y(),
        g,
        folds=2,
        key=jax.random.key(0),
    ),
}


@pytest.mark.parametrize("name", list(GRID_TAKERS))
@pytest.mark.parametrize(
    ("grid", "match"),
    [
        (["0.1", "1"], r"^lams must be a real number, got dtype <U"),
        ("1.0", r"^lams must be a real number, got dtype <U3"),
        (
            [[1.0], [2.0, 3.0]],
            r"^lams must be a 1-D array of numbers, got \[\[1.0\], \[2.0, 3.0\]\]",
        ),
        ([1.0, None], r"^lams must be a 1-D array of numbers"),
    ],
)
def test_string_or_ragged_lambda_grids_are_type_errors_naming_lams(name, grid, match):
    """Before: "Value '1' with dtype <U1 is not a valid JAX array type", or numpy's
    "inhomogeneous shape"."""
    with pytest.raises(TypeError, match=match):
        GRID_TAKERS[name](grid)


# --- parameters must be finite; learning rates and keys --------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda p: penalties.l2(p, 1.0, m=M),
        lambda p: penalties.elastic_net(p, 1.0, l1_ratio=0.5, m=M),
        lambda p: costs.linear_regression(p, _X(), _y(), 1.0),
        lambda p: costs.logistic_regression(p, _X(), _labels(), 1.0),
        lambda p: closed_form.l2_grad(p, 1.0, m=M),
        lambda p: closed_form.linear_regression_grad(p, _X(), _y(), 1.0),
        lambda p: closed_form.logistic_regression_grad(p, _X(), _labels(), 1.0),
        lambda p: models.linear(p, _X()),
        lambda p: models.logistic(p, _X()),
    ],
)
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_params_are_refused_naming_the_leaf(call, bad):
    """A diverged fit's NaN parameters: an error naming the leaf, not a NaN cost."""
    params = {"w": jnp.array([0.5, bad, 2.0]), "b": jnp.array(0.1)}
    with pytest.raises(ValueError, match=r"^params\['w'\] holds non-finite values"):
        call(params)


def test_non_finite_network_params_are_refused_naming_the_leaf():
    net = _net()
    net[1]["W"] = net[1]["W"].at[0, 0].set(math.nan)
    with pytest.raises(ValueError, match=r"^params\[1\]\['W'\] holds non-finite values"):
        models.mlp(net, _X())


_NEGATIVE = optax.linear_schedule(0.1, -0.1, 100)


@pytest.mark.parametrize(
    "fit",
    [
        lambda lr: solvers.gradient_descent(
            costs.linear_regression, _glm(), _X(), _y(), lam=1.0, learning_rate=lr
        ),
        lambda lr: solvers.sgd(
            costs.linear_regression,
            _glm(),
            _X(),
            _y(),
            lam=1.0,
            learning_rate=lr,
            batch_size=2,
            epochs=1,
            key=jax.random.key(0),
        ),
    ],
    ids=["gradient_descent", "sgd"],
)
@pytest.mark.parametrize(
    ("lr", "match"),
    [
        (-0.1, r"^learning_rate must be >= 0"),
        (0.0, r"^learning_rate must be > 0"),
        (math.nan, r"^learning_rate must be finite"),
        (_NEGATIVE, r"^learning_rate must be a schedule of finite values >= 0"),
    ],
)
def test_solvers_refuse_a_bad_learning_rate_like_the_optimizers(fit, lr, match):
    """Before, gradient_descent and sgd ran with a negative η (gradient ascent) or NaN."""
    with pytest.raises(ValueError, match=match):
        fit(lr)


def test_keys_must_be_jax_random_keys():
    with pytest.raises(TypeError, match=r"^key must be a jax.random key"):
        solvers.sgd(costs.linear_regression, _glm(), _X(), _y(), lam=1.0, learning_rate=0.1,
                    batch_size=2, epochs=1, key=0)  # fmt: skip
    with pytest.raises(TypeError, match=r"^key must be a jax.random key"):
        selection.fold_rows(np.array([1, 2]), M, 2)
    selection.fold_rows(jax.random.PRNGKey(0), M, 2)  # a raw uint32 key is a key too


def test_path_mask_regex_and_data_cost_type():
    with pytest.raises(ValueError, match=r"^predicate '\(' is not a regular expression"):
        penalties.path_mask("(")
