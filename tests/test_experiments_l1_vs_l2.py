"""regjax.experiments.l1_vs_l2: each measured conclusion, in quick mode.

Comparisons are paired over repetitions (the same draws for both fits) and hold when
the mean difference exceeds K standard errors; the exact identities are held to
round-off.
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj
from regjax.experiments import l1_vs_l2

K = 3.0  # a comparison holds when its paired mean difference exceeds K standard errors


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return l1_vs_l2.run(quick=True, out=tmp_path_factory.mktemp("l1_vs_l2"))


def test_the_lasso_and_elastic_net_paths_start_at_lambda_max_with_every_weight_zero(study):
    path = study.data["paths"]
    assert path["converged"]
    assert path["lams"]["L1 (lasso)"][0] == pytest.approx(path["lam_max"], rel=1e-12)
    for name in ("L1 (lasso)", "elastic net ρ = ½"):  # λ_max(ρ) = λ_max / ρ
        nonzeros = path["nonzeros"][name]
        assert nonzeros[0] == 0 and nonzeros[1] >= 1  # zero at λ_max, not just below
        assert nonzeros[-1] == len(l1_vs_l2.FEATURES)  # every weight in at λ_max·10⁻⁴
        # weights enter as λ falls; a lasso path may drop one now and then (the LARS
        # paper's diabetes path does), never several at once
        assert np.all(np.maximum.accumulate(nonzeros) - nonzeros <= 1)


def test_the_ridge_path_has_no_exact_zero_and_its_norm_grows_as_lambda_falls(study):
    w = study.data["paths"]["weights"]["L2 (ridge)"]  # grid descending
    assert np.all(w != 0)
    norms = np.linalg.norm(w, axis=1)
    assert np.all(np.diff(norms) >= -1e-12 * norms[-1])  # ‖w(λ)‖ decreasing in λ: exact


def test_every_lasso_fit_of_the_comparison_converged(study):
    for res in study.data["compare"].values():
        assert res["L1 converged"] and res["L2 converged"]


@pytest.mark.parametrize("m", l1_vs_l2.REGIMES)
@pytest.mark.parametrize("rule", ["oracle", "dev"])
def test_l1_beats_l2_on_a_sparse_truth(study, m, rule):
    mean, se = study.data["differences"][f"sparse, m = {m}"][rule]  # L1 − L2 test MSE
    assert mean < -K * se


@pytest.mark.parametrize("rule", ["oracle", "dev"])
def test_l2_beats_l1_on_a_dense_truth_when_m_is_below_n(study, rule):
    mean, se = study.data["differences"]["dense, m = 25"][rule]
    assert mean > K * se


@pytest.mark.parametrize("rule", ["oracle", "dev"])
def test_on_a_dense_truth_with_m_above_n_the_two_are_within_a_tenth_of_the_excess(study, rule):
    """Measured, not folklore: with m = 4n the dense truth's L2 advantage is a few
    percent of the excess test MSE; the upper end of its 2-SE band stays below 10%."""
    res = study.data["compare"]["dense, m = 200"]
    mean, se = study.data["differences"]["dense, m = 200"][rule]
    assert abs(mean) + 2 * se < 0.1 * (res[f"L2 {rule}"].mean() - l1_vs_l2.SIGMA**2)


def test_the_dev_chosen_lasso_finds_the_sparse_support_and_keeps_extra_weights(study):
    res = study.data["compare"]["sparse, m = 200"]
    nonzeros, hits = res["L1 dev nonzeros"], res["L1 dev hits"]
    se = nonzeros.std(ddof=1) / np.sqrt(len(nonzeros))
    assert hits.mean() >= l1_vs_l2.SPARSE_K - 0.5  # the true weights are (almost) all in
    assert nonzeros.mean() - K * se > l1_vs_l2.SPARSE_K  # prediction-optimal λ over-selects
    assert nonzeros.mean() + K * se < l1_vs_l2.N


def test_penalizing_the_bias_is_the_courses_ones_column_and_nothing_after_centring(study):
    for res in study.data["bias"].values():  # max|∇J| / max|Aᵀy/m|: float64 round-off
        assert res["penalized stationarity"] < 1e-10  # (AᵀA + λI)⁻¹Aᵀy, library's mask
        assert res["free stationarity"] < 1e-10  # (w_ridge, b = 0) on centred data


def test_penalizing_the_bias_barely_changes_the_best_test_error_on_centred_data(study):
    res = study.data["bias"]["centred"]
    mean, se = study.data["bias_differences"]["centred"]["oracle"]
    assert abs(mean) + 2 * se < 0.02 * res["free oracle"].mean()  # within 2% of the MSE


def test_large_feature_means_alone_do_not_make_the_penalized_bias_worse(study):
    mean, se = study.data["bias_differences"]["x + 10"]["oracle"]
    assert mean < K * se


@pytest.mark.parametrize("case", ["intercept 10", "x + 10, intercept 10"])
def test_penalizing_the_bias_hurts_when_the_intercept_is_large(study, case):
    mean, se = study.data["bias_differences"][case]["oracle"]
    assert mean > K * se
    fixed, fixed_se = study.data["bias_differences"][case]["fixed λ"]
    assert fixed > K * fixed_se


def test_the_figures_table_and_answer(study):
    names = sorted(p.name for p in study.figures)
    assert names == ["l1_vs_l2.png", "l1_vs_l2_bias.png", "l1_vs_l2_error.png"]
    assert all(p.read_bytes()[:8] == PNG_MAGIC for p in study.figures)
    assert isinstance(study.data["table"], rj.experiments.Table)
    assert len(study.data["table"].rows) <= 15
    sparse = study.data["compare"]["sparse, m = 200"]
    assert f"{sparse['L1 dev'].mean():.2f}" in study.answer
    mean, se = study.data["bias_differences"]["intercept 10"]["oracle"]
    assert f"{mean:+.3f} ± {se:.3f}" in study.answer
    assert study.question.endswith("?") and study.question == rj.experiments.question("l1_vs_l2")
