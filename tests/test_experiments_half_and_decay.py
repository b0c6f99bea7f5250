"""The half_and_decay study: each measured conclusion, with the tolerance it is held to.

One quick run (module fixture) serves every test. Every conclusion here is an exact identity
in real arithmetic, so each is held to float64 round-off: 1e-12 on gradients and decay
factors (the issue's tolerance), 1e-10 on minimizers obtained by two different linear solves.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj
from regjax.experiments import half_and_decay


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return half_and_decay.run(quick=True, out=tmp_path_factory.mktemp("half_and_decay"))


def test_it_writes_a_png_a_table_and_an_answer_that_quotes_the_numbers(study):
    assert [path.name for path in study.figures] == ["half_and_decay.png"]
    assert study.figures[0].read_bytes()[:8] == PNG_MAGIC
    assert isinstance(study.data["table"], rj.experiments.Table)
    assert len(study.data["table"].rows) <= 15
    course = study.data["summary"]["course"]
    assert f"{course['factor']:.8f}" in study.answer
    assert f"{course['measured']:.10f}" in study.answer
    assert f"{study.data['minimizers']['gap_2lam'].max():.0e}" in study.answer


def test_without_the_half_the_gradient_doubles(study):
    """jax.grad of the ½-less penalty is exactly 2× λw/m, and equals closed_form.l2_grad at
    2λ; with the ½ it equals closed_form.l2_grad at λ (1e-12 relative); biases get none."""
    g = study.data["gradients"]
    assert g["half_vs_closed"] < 1e-12
    assert g["ratio_dev"] < 1e-12
    assert g["none_vs_closed_2lam"] < 1e-12
    assert g["bias_grads"] == 0.0


def test_the_minimizers_coincide_with_lambda_relabelled_by_two(study):
    """The ½-less minimizer at λ equals the ridge path at 2λ to 1e-10 relative at every λ,
    and differs from the ridge path at λ by more than 1e-3 everywhere (a real relabelling,
    eight orders above the round-off)."""
    mins = study.data["minimizers"]
    assert mins["gap_2lam"].max() < 1e-10
    assert mins["gap_same_lam"].min() > 1e-3


def test_the_per_step_decay_factor_is_one_minus_alpha_lambda_over_m(study):
    """At every step of every (α, λ, m) setting: the weight vector's factor and the dead
    weight's factor equal conventions.decay_factor to 1e-12; the unpenalized bias's is 1."""
    d, s = study.data["decay"], study.data["summary"]
    np.testing.assert_allclose(d["formula"], 1 - d["alpha"] * d["lam"] / d["m"], rtol=1e-15)
    shrink = d["alpha"] * d["lam"] / d["m"]
    assert shrink.min() == pytest.approx(1e-8) and shrink.max() == pytest.approx(1e-1)
    assert s["dev_vector"].max() < 1e-12
    assert s["dev_dead"].max() < 1e-12
    assert s["dev_bias"].max() < 1e-12


def test_each_weights_factor_holds_where_the_weight_is_not_near_zero(study):
    """Per weight, (θ_{t+1} + α∂J_data/∂θ)/θ_t is ill-conditioned only as θ_t → 0; its error is
    bounded by a few ulps of (|θ_{t+1}| + α|∂J_data|)/|θ_t|, here below 1e-12 throughout."""
    assert study.data["summary"]["dev_weight"].max() < 1e-12


def test_the_decay_compounds_over_a_run_and_an_epoch(study):
    """The dead weight after T steps of one gradient_descent call is (1 − αλ/m)^T times its
    start, after one sgd epoch of b-row minibatches (1 − αλ/m)^⌊m/b⌋, both to 1e-12
    relative; one step of the ½-less cost decays it by 1 − 2αλ/m (1e-12)."""
    s = study.data["summary"]
    assert s["dev_run"].max() < 1e-12
    assert s["dev_epoch"].max() < 1e-12
    assert s["dev_no_half"].max() < 1e-12


def test_the_courses_worked_example(study):
    """α = λ = 0.01, m = 10,000: the factor is 0.99999999 (float64, 1e-15) and is measured so
    to 1e-12; the stated 0.999999 is 100× the decay and matches 100 compounded steps
    (1e-12); in float32 the factor rounds to 1 and the weight stays exactly where it was."""
    c = study.data["summary"]["course"]
    assert abs(c["factor"] - 0.99999999) < 1e-15
    assert abs(c["measured"] - 0.99999999) < 1e-12
    assert abs(c["factor"] - c["stated"]) > 9e-7
    assert c["ratio"] == pytest.approx(100.0, rel=1e-6)
    assert abs(c["hundred_steps"] - c["stated"]) < 1e-12
    assert abs(c["epoch"] - c["hundred_steps"]) < 1e-12
    assert np.all(c["dead32"] == 1.0) and c["dead32"].dtype == np.float32
