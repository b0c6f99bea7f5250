"""``check_grad``: it passes what is right, fails what is wrong, and says where."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import regjax as rj
from regjax import checking, closed_form, costs, penalties

CASE_NAMES = [case.name for case in checking.builtin_cases()]


def _check_case(case):
    """check_grad on a built-in case, its functions jitted (one compilation each)."""
    return rj.check_grad(jax.jit(case.cost), jax.jit(case.closed_grad), case.params, *case.args)


def _problem(rng, m=8, n=3):
    X = jnp.asarray(rng.normal(size=(m, n)))
    y = jnp.asarray(rng.normal(size=m))
    params = {"w": jnp.asarray(rng.normal(size=n)), "b": jnp.asarray(rng.normal())}
    return params, X, y


# ---------------------------------------------------------------------------------------
# the built-in cases


def test_builtin_cases_cover_every_cost_and_penalty():
    names = set(CASE_NAMES)
    for scale in penalties.SCALES:
        assert f"penalties.l2 ({scale})" in names
    for name in ("linear_regression", "logistic_regression", "softmax_regression"):
        assert f"costs.{name}" in names
    assert "costs.neural_network" in names
    assert "penalties.l1" in names and "penalties.elastic_net" in names


def test_every_builtin_case_passes_in_float64(x64):
    for case in checking.builtin_cases(0):
        assert jax.tree.leaves(case.params)[0].dtype == jnp.float64
        report = _check_case(case)
        assert report.ok, (case.name, report)
        assert (report.rtol, report.numerical_rtol) == (1e-10, 1e-6)
        assert report.max_rel_err <= 1e-10, case.name
        assert report.numerical_max_rel_err <= 1e-6, case.name


def test_every_builtin_case_passes_in_float32_with_float32_tolerances():
    """Without x64 the cases are float32; the stated float32 tolerances apply and hold."""
    assert checking.default_tolerances(jnp.float32) == (1e-4, 1e-2)
    for case in checking.builtin_cases(0):
        assert jax.tree.leaves(case.params)[0].dtype == jnp.float32
        report = _check_case(case)
        assert report.ok, (case.name, report)
        assert (report.rtol, report.numerical_rtol) == (1e-4, 1e-2)


def test_builtin_cases_at_lambda_zero(x64):
    for case in checking.builtin_cases(3, lam=0.0):
        report = _check_case(case)
        assert report.ok, (case.name, report)


def test_default_tolerances():
    assert checking.default_tolerances("float64") == (1e-10, 1e-6)
    assert checking.default_tolerances(jnp.float32) == (1e-4, 1e-2)


# ---------------------------------------------------------------------------------------
# wrong gradients are caught


def test_missing_one_over_m_is_caught(x64, rng):
    params, X, y = _problem(rng)
    m = X.shape[0]

    def wrong(p, X, y, lam):  # λw instead of λw/m
        g = closed_form.linear_regression_grad(p, X, y, 0.0)
        return {"w": g["w"] + lam * p["w"], "b": g["b"]}

    report = rj.check_grad(costs.linear_regression, wrong, params, X, y, 2.0)
    assert not report.ok
    assert report.max_rel_err > 0.1
    assert report.numerical_max_rel_err > 0.1
    # the error sits in w, not in b
    by_path = {leaf.path: leaf for leaf in report.leaves}
    assert by_path["['b']"].rel_err < 1e-12
    assert by_path["['w']"].rel_err > 0.1
    # and the absolute error is what was left out: |λw − λw/m|
    expected = float(np.max(np.abs(2.0 * np.asarray(params["w"]) * (1 - 1 / m))))
    np.testing.assert_allclose(report.max_abs_err, expected, rtol=1e-9)


def test_the_half_error_is_caught(x64, rng):
    """A closed form that forgot the ½ cancels (2λθ/m) is off by a factor 2."""
    params = {"w": jnp.asarray(rng.normal(size=5)), "b": jnp.asarray(0.0)}

    def doubled(p, lam):
        return jax.tree.map(lambda g: 2 * g, closed_form.l2_grad(p, lam, m=10))

    report = rj.check_grad(lambda p, lam: penalties.l2(p, lam, m=10), doubled, params, 1.5)
    assert not report.ok
    np.testing.assert_allclose(report.max_rel_err, 0.5, rtol=1e-12)  # |2g − g| / |2g|


def test_a_wrong_cost_is_caught_by_central_differences(x64, rng):
    """Closed form and jax.grad agree, but both are wrong: only the numbers tell."""

    @jax.custom_jvp
    def square(x):
        return x**2

    @square.defjvp
    def _square_jvp(primals, tangents):  # deliberately 3x instead of 2x
        (x,), (t,) = primals, tangents
        return x**2, 3 * x * t

    def cost(p):
        return jnp.sum(square(p["w"]))

    def closed(p):
        return {"w": 3 * p["w"]}

    params = {"w": jnp.asarray(rng.normal(size=4))}
    report = rj.check_grad(cost, closed, params)
    assert report.max_rel_err < 1e-15
    assert report.numerical_max_rel_err > 0.3
    assert not report.ok


def test_non_finite_gradient_is_not_ok(x64, rng):
    params, X, y = _problem(rng)

    def nan_grad(p, X, y, lam):
        g = closed_form.linear_regression_grad(p, X, y, lam)
        return {"w": g["w"].at[0].set(jnp.nan), "b": g["b"]}

    assert not rj.check_grad(costs.linear_regression, nan_grad, params, X, y, 1.0).ok


def test_explicit_tolerances_are_used(x64, rng):
    params, X, y = _problem(rng)

    def slightly_off(p, X, y, lam):
        g = closed_form.linear_regression_grad(p, X, y, lam)
        return {"w": g["w"] * (1 + 1e-7), "b": g["b"]}

    args = (costs.linear_regression, slightly_off, params, X, y, 1.0)
    assert not rj.check_grad(*args).ok  # 1e-7 > 1e-10
    loose = rj.check_grad(*args, rtol=1e-6, numerical_rtol=1e-5)
    assert loose.ok and (loose.rtol, loose.numerical_rtol) == (1e-6, 1e-5)


# ---------------------------------------------------------------------------------------
# structure and reporting


def test_structure_mismatch_raises(x64, rng):
    params, X, y = _problem(rng)
    cost = costs.linear_regression
    wrong_structures = [
        lambda p, X, y, lam: {"w": p["w"]},
        lambda p, X, y, lam: [p["w"], p["b"]],
        lambda p, X, y, lam: {"w": p["w"], "b": p["b"], "c": p["b"]},
    ]
    for closed in wrong_structures:
        with pytest.raises(ValueError, match="structure"):
            rj.check_grad(cost, closed, params, X, y, 1.0)
    with pytest.raises(ValueError, match="shape"):
        rj.check_grad(cost, lambda p, X, y, lam: {"w": p["w"][:2], "b": p["b"]}, params, X, y, 1.0)


def test_integer_params_raise():
    with pytest.raises(TypeError, match="floating"):
        rj.check_grad(lambda p: jnp.sum(p), lambda p: p, jnp.arange(3))


def test_report_names_every_leaf(x64):
    case = {case.name: case for case in checking.builtin_cases()}["costs.neural_network"]
    report = _check_case(case)
    assert isinstance(report, rj.GradCheck)
    assert [leaf.path for leaf in report.leaves] == [
        "[0]['W']",
        "[0]['b']",
        "[1]['W']",
        "[1]['b']",
    ]
    assert report.max_rel_err == max(leaf.rel_err for leaf in report.leaves)
    assert report.numerical_max_rel_err == max(leaf.numerical_rel_err for leaf in report.leaves)
    assert report.max_abs_err == max(leaf.abs_err for leaf in report.leaves)

    nested = {"layers": [{"W": jnp.ones((2, 2)), "bias": jnp.ones(2)}], "head": {"w": jnp.ones(3)}}
    report = rj.check_grad(
        lambda p: penalties.l2(p, 1.0, m=4),
        lambda p: closed_form.l2_grad(p, 1.0, m=4),
        nested,
    )
    assert report.ok
    assert {leaf.path for leaf in report.leaves} == {
        "['head']['w']",
        "['layers'][0]['W']",
        "['layers'][0]['bias']",
    }
    # an unpenalized leaf has a zero gradient and a zero error, not a 0/0
    bias = {leaf.path: leaf for leaf in report.leaves}["['layers'][0]['bias']"]
    assert bias.rel_err == 0.0 and bias.numerical_rel_err == 0.0


def test_many_coordinates_are_subsampled(x64, rng):
    """More than 4096 entries: a seeded subset is differenced, the check still holds."""
    params = {"w": jnp.asarray(rng.normal(size=(70, 70)))}  # 4900 entries
    report = rj.check_grad(
        lambda p: penalties.l2(p, 0.3, m=5), lambda p: closed_form.l2_grad(p, 0.3, m=5), params
    )
    assert report.ok, report


def _extreme_cases(rng):
    X = rng.normal(size=(20, 3))
    y = (rng.random(20) < 0.5).astype(np.float64)
    w = rng.normal(size=3)
    return {
        "lam=1e12": (costs.logistic_regression, closed_form.logistic_regression_grad,
                     {"w": jnp.asarray(w), "b": jnp.asarray(0.1)}, X, y, 1e12),
        "logits 1e4": (costs.logistic_regression, closed_form.logistic_regression_grad,
                       {"w": jnp.asarray(1e4 * w), "b": jnp.asarray(0.0)}, X, y, 1.0),
    }  # fmt: skip


@pytest.mark.parametrize("case", ["lam=1e12", "logits 1e4"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_correct_gradient_passes_and_a_wrong_one_fails_at_extreme_scales(x64, rng, case, dtype):
    cost, grad, params, X, y, lam = _extreme_cases(rng)[case]
    params = jax.tree.map(lambda a: a.astype(dtype), params)
    X, y = X.astype(dtype), y.astype(dtype)
    assert rj.check_grad(cost, grad, params, X, y, lam).ok

    def wrong(p, X, y, lam):  # 1% off in one coordinate
        g = grad(p, X, y, lam)
        return {"w": g["w"].at[1].multiply(1.01), "b": g["b"]}

    assert not rj.check_grad(cost, wrong, params, X, y, lam).ok


def _cube_with_a_wrong_jvp():
    """Σx³ whose autodiff derivative is wrong (2x instead of 3x²): only the central
    differences can tell."""

    @jax.custom_jvp
    def f(x):
        return jnp.sum(x**3)

    @f.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), jnp.sum(2 * x * t)

    return f


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32, jnp.bfloat16],
                         ids=["float64", "float32", "bfloat16"])  # fmt: skip
def test_central_differences_catch_a_wrong_autodiff_in_every_dtype(x64, dtype):
    f = _cube_with_a_wrong_jvp()
    x = jnp.array([1.0, -2.0, 3.0], dtype)
    report = rj.check_grad(f, lambda x: 2 * x, x)  # closed form agrees with the wrong autodiff
    assert report.max_rel_err == 0 and not report.ok

    def g(x):
        return jnp.sum(x**3)

    assert rj.check_grad(g, lambda x: 3 * x**2, x).ok  # and the right one passes


def test_a_correct_bfloat16_gradient_passes():
    rng = np.random.default_rng(1)
    X = jnp.asarray(rng.normal(size=(16, 3)), jnp.bfloat16)
    y = jnp.asarray(rng.normal(size=16), jnp.bfloat16)
    params = {
        "w": jnp.asarray([0.5, -1.0, 0.25], jnp.bfloat16),
        "b": jnp.asarray(0.1, jnp.bfloat16),
    }
    report = rj.check_grad(
        costs.linear_regression, closed_form.linear_regression_grad, params, X, y, 0.7
    )
    assert report.ok, report


@pytest.mark.parametrize("where", ["params", "X"])
def test_nan_input_raises_naming_it(where):
    X, y = jnp.ones((4, 2)), jnp.array([0.0, 1.0, 0.0, 1.0])
    params = {"w": jnp.array([0.1, 0.2]), "b": jnp.array(0.0)}
    if where == "params":
        params["w"] = params["w"].at[0].set(jnp.nan)
    else:
        X = X.at[0, 0].set(jnp.nan)
    name = r"params\['w'\]" if where == "params" else r"args\[0\]"
    with pytest.raises(ValueError, match=rf"^{name} holds non-finite values"):
        rj.check_grad(
            costs.linear_regression, closed_form.linear_regression_grad, params, X, y, 1.0
        )


def test_a_report_prints_as_a_table_of_its_leaves(x64, rng):
    """print(report): the verdict, then one row per leaf with its errors and status; a
    wrong leaf is marked FAIL and the right one ok."""
    params, X, y = _problem(rng)

    def wrong(p, X, y, lam):  # λw instead of λw/m: w is wrong, b is right
        g = closed_form.linear_regression_grad(p, X, y, 0.0)
        return {"w": g["w"] + lam * p["w"], "b": g["b"]}

    good = rj.check_grad(
        costs.linear_regression, closed_form.linear_regression_grad, params, X, y, 2.0
    )
    bad = rj.check_grad(costs.linear_regression, wrong, params, X, y, 2.0)
    assert str(good).startswith("GradCheck ok")
    text = str(bad)
    assert text.startswith("GradCheck FAILED")
    rows = {line.split()[0]: line.split()[-1] for line in text.splitlines()[3:]}
    assert rows == {"['b']": "ok", "['w']": "FAIL"}
    assert f"{bad.leaves[1].rel_err:.1e}" in text  # the numbers of the report itself
    assert "(≤1e-10)" in text and "(≤1e-06)" in text  # the float64 tolerances


def test_raise_if_failed(x64, rng):
    """For tests: a passing report is returned, a failing one raises AssertionError
    whose message is the table naming the wrong leaf."""
    params, X, y = _problem(rng)
    good = rj.check_grad(
        costs.linear_regression, closed_form.linear_regression_grad, params, X, y, 2.0
    )
    assert good.raise_if_failed() is good

    def doubled(*a):
        return jax.tree.map(
            lambda g: 2 * g,
            closed_form.linear_regression_grad(*a),
        )

    bad = rj.check_grad(costs.linear_regression, doubled, params, X, y, 2.0)
    with pytest.raises(AssertionError, match=r"GradCheck FAILED(.|\n)*\['w'\]"):
        bad.raise_if_failed()
