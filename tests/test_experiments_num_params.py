"""The num_params study: each measured conclusion, with the tolerance it is held to.

One quick run (module fixture) serves every test. The initial penalty's expectation and each
weight's gradient are exact, so they are held to theory; the optimal λ is a measurement
whose tolerance (±0.15 on slopes) must contain the study's own 95% bootstrap band.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj
from regjax.experiments import num_params

SLOPE_TOL = 0.15  # the tolerance on fitted slopes of log λ* against log n


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return num_params.run(quick=True, out=tmp_path_factory.mktemp("num_params"))


def test_it_writes_a_png_a_table_and_an_answer_that_quotes_the_numbers(study):
    assert [path.name for path in study.figures] == ["num_params.png"]
    assert study.figures[0].read_bytes()[:8] == PNG_MAGIC
    assert isinstance(study.data["table"], rj.experiments.Table)
    assert len(study.data["table"].rows) <= 15
    data = study.data
    assert f"{data['question']['cost']:.2f}" in study.answer
    assert f"n^{data['init']['slope'].value:+.3f}" in study.answer
    optimum = data["optimal"]["optimum"]
    assert f"slope {optimum['per_example'].slope.value:+.2f}" in study.answer
    assert f"n^{optimum['per_param'].slope.value:+.2f}" in study.answer


def test_the_widths_span_three_decades(study):
    for sizes in (study.data["init"]["sizes"], study.data["optimal"]["sizes"]):
        assert sizes[-1] / sizes[0] >= 1e3


def test_the_initial_penalty_grows_in_proportion_to_n(study):
    """Unit-variance weights: slope 1 within ±0.05, the 95% band inside that tolerance."""
    s = study.data["init"]["slope"]
    assert 1 - 0.05 < s.low <= s.value <= s.high < 1 + 0.05


def test_the_sampled_initial_penalty_matches_its_exact_expectation(study):
    """E[λ/(2m)Σw²] = λn/(2m) (unit variance) and λh/m (Glorot, (h, h, h)): the sampled
    means lie within 4 standard errors (repetitions) of the expectation at every n."""
    init = study.data["init"]
    np.testing.assert_allclose(init["expected"], 0.01 * init["sizes"] / (2 * num_params.M_Q))
    assert np.abs(init["z"]).max() < 4
    assert np.abs(init["glorot"]["z"]).max() < 4


def test_fan_scaled_and_per_param_penalties_grow_slower(study):
    """Glorot-scaled (h, h, h) MLPs: slope ½ (n = 2h², Σw² ≈ 2h); per_param: slope 0; both
    within ±0.05 with the band inside."""
    init = study.data["init"]
    for s, theory in ((init["slope_glorot"], 0.5), (init["slope_per_param"], 0.0)):
        assert theory - 0.05 < s.low <= s.value <= s.high < theory + 0.05


def test_the_question_cost_starts_near_50_with_ln2_as_its_data_part(study):
    """The data part at zero logits is ln 2 to 1e-12; the sampled 35M-weight penalty lies
    within 4 of its standard deviations (√(2/n) relative) of the exact λn/(2m)."""
    q = study.data["question"]
    assert abs(q["data_part"] - math.log(2)) < 1e-12
    assert q["expected_penalty"] == pytest.approx(0.01 * 35e6 / (2 * num_params.M_Q), rel=1e-15)
    assert abs(q["penalty"] - q["expected_penalty"]) < 4 * q["sd_penalty"]
    assert abs(q["data_part"] + q["expected_penalty"] - 50) < 0.01
    assert q["cost"] == pytest.approx(q["data_part"] + q["penalty"])


def test_each_weights_penalty_gradient_does_not_depend_on_n(study):
    """∂P/∂w₀ = λw₀/m at every n, closed form and autodiff, to 1e-12 relative; under
    per_param it is λw₀/n (1e-12), so it falls as 1/n; ‖∇P‖ grows as √n."""
    g = study.data["grads"]
    n, w0 = g["sizes"], float(g["w0"])
    ref = 0.01 * w0 / num_params.M_Q
    assert g["closed_rel_spread"] < 1e-12 and g["autodiff_rel_spread"] < 1e-12
    np.testing.assert_allclose(g["closed"], ref, rtol=1e-12)
    np.testing.assert_allclose(g["per_param"], 0.01 * w0 / n, rtol=1e-12)
    slope = np.polyfit(np.log(n), np.log(g["norm"]), 1)[0]
    assert abs(slope - 0.5) < 0.05


def test_the_optimal_per_example_lambda_does_not_track_n(study):
    """Slope of log λ* against log n within ±0.15 of 0, its 95% bootstrap band inside that
    tolerance; λ* within a factor 1.5 of σ²/τ² at every n (geometric mean over n)."""
    opt = study.data["optimal"]["optimum"]["per_example"]
    s = opt.slope
    assert -SLOPE_TOL < s.low <= s.value <= s.high < SLOPE_TOL
    assert opt.interior.all()
    theory = num_params.SIGMA2 / num_params.TAU2
    assert abs(np.log(opt.best).mean() - np.log(theory)) < np.log(1.5)


def test_the_optimal_per_param_lambda_grows_in_proportion_to_n(study):
    """Slope 1 within ±0.15, band inside; the per_param cost's gradient vanishes (1e-10) at
    the ridge solution of the converted λ, so the two conventions pose the same problem."""
    opt = study.data["optimal"]
    s = opt["optimum"]["per_param"].slope
    assert 1 - SLOPE_TOL < s.low <= s.value <= s.high < 1 + SLOPE_TOL
    assert opt["optimum"]["per_param"].interior.all()
    assert opt["per_param_grad_max"] < 1e-10


def test_a_truth_with_fixed_total_signal_needs_lambda_growing_with_n(study):
    """τ² = T²/n: the Bayes λ* = σ²n/T², slope 1 within ±0.15, band inside."""
    s = study.data["optimal"]["optimum"]["fixed_total"].slope
    assert 1 - SLOPE_TOL < s.low <= s.value <= s.high < 1 + SLOPE_TOL


def test_the_question_lambda_does_not_crush_the_weights(study):
    """At λ = 0.01 the fitted ‖ŵ‖ keeps more than 99% of the unregularized fit's at every n
    and repetition, and so does per_param's λ = 0.01 (per-example λ·m/n)."""
    opt = study.data["optimal"]
    assert opt["norm_ratio"].min() > 0.99
    assert opt["norm_ratio_pp"].min() > 0.99
