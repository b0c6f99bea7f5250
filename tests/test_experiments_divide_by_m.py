"""The divide_by_m study: each measured conclusion, with the tolerance it is held to.

One quick run (module fixture) serves every test. The Gaussian-prior linear model has an
exact answer (per-example λ* = σ²/τ² at every m); the issue's tolerances (±0.15 on slopes,
a factor 1.5 on λ*) are asserted on the whole 95% bootstrap band (repetitions resampled),
which therefore has to be narrower than the tolerance: the test has power. Elsewhere the
conclusions are comparisons between the two conventions, also on whole bands.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj
from regjax.experiments import divide_by_m

SLOPE_TOL = 0.15  # the tolerance on fitted slopes
FACTOR = 1.5  # the tolerance on λ* against σ²/τ²


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return divide_by_m.run(quick=True, out=tmp_path_factory.mktemp("divide_by_m"))


def test_it_writes_two_pngs_a_table_and_an_answer_that_quotes_the_numbers(study):
    assert [path.name for path in study.figures] == [
        "divide_by_m.png",
        "divide_by_m_curves.png",
    ]
    assert all(path.read_bytes()[:8] == PNG_MAGIC for path in study.figures)
    table = study.data["table"]
    assert isinstance(table, rj.experiments.Table) and len(table.rows) <= 15
    gaussian, line = study.data["gaussian"], study.data["line"]
    assert f"{gaussian['opt'].slope.value:+.2f}" in study.answer
    assert f"m^{gaussian['slope_c'].value:.2f}" in study.answer
    assert f"{line['opt'].best.max():.3g}" in study.answer
    assert f"{study.data['mlp']['opt'].slope.value:+.2f}" in study.answer


def test_every_model_spans_two_decades_of_m_with_its_optimum_inside_the_grid(study):
    for model in divide_by_m.MODELS:
        d = study.data[model]
        assert d["sizes"][-1] / d["sizes"][0] >= 100
        assert d["opt"].interior.all(), model
        assert d["loss"].shape == (d["reps"], len(d["sizes"]), len(d["lams"]))
    assert study.data["logistic"]["converged"] == 1.0  # every Newton-CG path converged


def test_the_mean_loss_coefficient_is_lambda_over_m(study):
    """c* = convert_lambda(λ*, "ng" → "mean_l2", m) = λ*/m, to round-off."""
    for model in divide_by_m.MODELS:
        d = study.data[model]
        np.testing.assert_allclose(d["c"]["best"], d["opt"].best / d["sizes"], rtol=1e-12)
        assert d["slope_c"].value == pytest.approx(d["opt"].slope.value - 1, abs=1e-12)


def test_gaussian_prior_optimal_lambda_is_sigma2_over_tau2_at_every_m(study):
    """Exact theory: the Bayes-optimal per-example λ is σ²/τ² whatever m. At EVERY m the
    whole 95% bootstrap band of λ* lies within a factor 1.5 of σ²/τ²."""
    d, exact = study.data["gaussian"], divide_by_m.SIGMA2 / divide_by_m.TAU2_GAUSS
    assert study.data["theory"]["gaussian"] == exact
    assert np.all(d["opt"].low > exact / FACTOR), d["opt"].low
    assert np.all(d["opt"].high < exact * FACTOR), d["opt"].high


def test_gaussian_prior_per_example_slope_is_zero(study):
    """Slope of log λ* against log m: 0 ± 0.15, with the whole band inside, so the band
    (its half-width) is narrower than the tolerance."""
    s = study.data["gaussian"]["opt"].slope
    assert -SLOPE_TOL < s.low <= s.value <= s.high < SLOPE_TOL
    assert (s.high - s.low) / 2 < SLOPE_TOL


def test_gaussian_prior_mean_loss_coefficient_slope_is_minus_one(study):
    """Slope of log c* (c = λ/m, mean loss + c/2‖w‖²) against log m: −1 ± 0.15, band inside."""
    s = study.data["gaussian"]["slope_c"]
    assert -1 - SLOPE_TOL < s.low <= s.value <= s.high < -1 + SLOPE_TOL
    assert (s.high - s.low) / 2 < SLOPE_TOL


@pytest.mark.parametrize("model", ["line", "logistic"])
def test_per_example_lambda_moves_less_than_half_as_much_as_the_mean_loss_coefficient(study, model):
    """The noisy line (the issue's comparison) and logistic regression: the largest |slope|
    in the per-example band is under half the smallest |slope| in the mean-loss band."""
    s, c = study.data[model]["opt"].slope, study.data[model]["slope_c"]
    assert c.high < 0  # the mean-loss coefficient does fall with m
    assert max(abs(s.low), abs(s.high)) < 0.5 * min(abs(c.low), abs(c.high))


def test_the_noisy_line_optimum_heads_for_its_large_m_limit(study):
    """No prior, so no exact λ* at finite m; as m → ∞ ridge's λ* tends to
    λ∞ = σ²tr Σ⁻¹/(wᵀΣ⁻¹w), free of m. The largest m's band lies within a factor 1.5 of
    λ∞; and λ* does move: the smallest m's band lies wholly below the largest m's."""
    d, limit = study.data["line"], study.data["theory"]["line"]
    assert limit / FACTOR < d["opt"].low[-1] and d["opt"].high[-1] < limit * FACTOR
    assert d["opt"].high[0] < d["opt"].low[-1]
