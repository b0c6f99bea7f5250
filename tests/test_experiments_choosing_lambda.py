"""The choosing_lambda study: each conclusion measured, with a tolerance from its own SE.

Excess test losses are paired over the same repetitions (every method sees the same
problems), so a comparison is the mean of the per-problem differences against its
standard error; "k SE" below is that SE.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj
from regjax.experiments import choosing_lambda


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return choosing_lambda.run(quick=True, out=tmp_path_factory.mktemp("choosing_lambda"))


def _mean_se(x):
    x = np.asarray(x, dtype=np.float64)
    return x.mean(), x.std(ddof=1) / np.sqrt(len(x))


def test_the_one_standard_error_lambda_is_never_below_the_min_lambda(study):
    # math: λ_1se is the largest λ within one SE of the best, so at least the best λ
    picks = study.data["picks"]
    assert np.all(picks["CV 1-SE"] >= picks["CV min"])


def test_cv_min_lands_within_a_factor_1_5_of_the_oracle_lambda_and_one_se_above_it(study):
    # geometric mean of λ/λ* over the problems, with a 2-SE band, against a factor 1.5
    d, factor = study.data, np.log(1.5)
    log_min, se_min = _mean_se(np.log(d["picks"]["CV min"] / d["lam_star"]))
    assert abs(log_min) + 2 * se_min < factor
    log_1se, se_1se = _mean_se(np.log(d["picks"]["CV 1-SE"] / d["lam_star"]))
    assert log_1se - 2 * se_1se > factor  # the one-SE rule over-regularizes


def test_the_one_se_rule_costs_test_loss_over_the_min_rule(study):
    excess = study.data["excess"]
    diff, se = _mean_se(excess["CV 1-SE"] - excess["CV min"])
    assert diff > 2 * se


def test_the_answers_linear_grid_lies_below_the_optimum(study):
    d = study.data
    assert np.all(d["lam_star"] > choosing_lambda.ANSWER[-1])  # λ* above 0.4 everywhere
    diff, se = _mean_se(d["excess"]["answer grid"] - d["excess"]["log grid"])
    assert diff > 3 * se


def test_the_course_grid_loses_when_the_optimum_falls_between_its_decades(study):
    d = study.data
    far = d["between_decades"]
    assert far.sum() >= 3
    resolution = d["resolution"]
    diff, se = _mean_se((resolution["course grid"] - resolution["log grid"])[far])
    assert diff > 3 * se
    assert np.all(resolution["log grid"] >= 0) and np.all(resolution["course grid"] >= 0)


def test_hypergradient_tuning_lowers_the_dev_loss_in_fewer_fits_than_the_log_grid(study):
    d = study.data
    dev = d["hyper_dev"]  # (R, 2): dev loss at the start (λ = 1) and at the tuned λ
    assert np.all(dev[:, 1] <= dev[:, 0])
    drop, se = _mean_se(dev[:, 0] - dev[:, 1])
    assert drop > 3 * se
    assert np.all(d["hyper_fits"] < d["fits"]["log grid"])


def test_early_stopping_takes_one_run_and_loses_to_cross_validation(study):
    d = study.data
    assert d["fits"]["early stopping"] == 1 and np.all(d["es_stopped"])
    assert np.all(d["es_best_epoch"] + choosing_lambda.ES_PATIENCE == d["es_epochs"])
    diff, se = _mean_se(d["excess"]["early stopping"] - d["excess"]["CV min"])
    assert diff > 2 * se


def test_every_excess_is_measured_against_the_best_lambda_evaluated(study):
    d = study.data
    assert d["unconverged"] == 0  # every fit at λ > 0 met its tolerance
    for name in choosing_lambda.METHODS:
        if name != "early stopping":  # not an L2 fit: it may beat the best one
            assert np.all(d["excess"][name] >= 0)
    assert np.all(d["fine"].min(1) >= d["best"])
    assert np.all(
        (d["lam_star"] > choosing_lambda.FINE[0]) & (d["lam_star"] < choosing_lambda.FINE[-1])
    )


def test_figures_table_and_answer(study):
    assert [p.name for p in study.figures] == ["choosing_lambda.png", "choosing_lambda_cost.png"]
    for path in study.figures:
        assert path.read_bytes().startswith(PNG_MAGIC)
    assert isinstance(study.data["table"], rj.experiments.Table)
    assert len(study.data["table"].rows) == len(choosing_lambda.METHODS) + 1
    summary = study.data["summary"]
    for name in ("CV min", "course grid", "early stopping"):
        quoted = f"{summary[name]['excess']:.4f} ± {summary[name]['se']:.4f}"
        assert quoted in study.answer
    assert study.question == choosing_lambda.QUESTION
