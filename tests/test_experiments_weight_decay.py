"""The weight_decay study: each measured conclusion, with the tolerance it is held to.

One quick run (module fixture) serves every test. Part 1 is an exact identity (SGD + L2 and
SGDW take the same steps); parts 2 and 3 are measurements whose tolerances come from the
study's own repetitions (bootstrap bands and standard errors).
"""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj
from regjax.experiments import weight_decay

KINDS = ("adam_l2", "adamw")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return weight_decay.run(quick=True, out=tmp_path_factory.mktemp("weight_decay"))


def test_it_writes_three_pngs_a_table_and_an_answer_that_quotes_the_numbers(study):
    names = [path.name for path in study.figures]
    assert names == [
        "weight_decay.png",
        "weight_decay_adam_grid.png",
        "weight_decay_timescale.png",
    ]
    assert all(path.read_bytes()[:8] == PNG_MAGIC for path in study.figures)
    assert isinstance(study.data["table"], rj.experiments.Table)
    assert len(study.data["table"].rows) <= 15
    grid, scale = study.data["grid"], study.data["timescale"]
    assert f"{study.data['gaps']['sgd'].max():.0e}" in study.answer
    assert f"{grid['adamw']['best_loss']:.4f}" in study.answer
    assert f"m^{scale['slope_r'].value:.2f}" in study.answer
    assert "{:+.4f} ± {:.4f}".format(*grid["adamw_minus_l2"]) in study.answer


def test_sgd_with_l2_and_sgdw_take_the_same_steps(study):
    """Exact identity: equal to float64 round-off (1e-12) at every λ."""
    norms, gaps = study.data["norms"], study.data["gaps"]
    assert set(norms) == {"sgd_l2", "sgdw", "adam_l2", "adamw"}
    assert all(v.shape == study.data["lams"].shape for v in norms.values())
    np.testing.assert_allclose(norms["sgd_l2"], norms["sgdw"], rtol=1e-12)
    assert gaps["sgd"].max() < 1e-12
    assert np.all(np.diff(norms["sgd_l2"]) < 0)  # more λ, smaller weights


def test_adam_with_l2_and_adamw_do_not(study):
    """Every λ: a relative gap of at least 1e-2, ten orders above SGD's round-off."""
    assert study.data["gaps"]["adam"].min() > 1e-2


@pytest.mark.parametrize("kind", KINDS)
def test_each_heatmap_has_its_optimum_inside_the_grid(study, kind):
    """The best (η, decay) cell is interior, and beats both decay ends of its row by more
    than two standard errors over repetitions (a real minimum, not a flat plateau)."""
    grid = study.data["grid"]
    g, loss = grid[kind], grid["loss"][kind]
    ie, il = g["best"]
    assert g["interior"] and 0 < ie < len(grid["etas"]) - 1 and 0 < il < len(grid["lams"]) - 1
    for end in (0, -1):
        excess = loss[ie, end] - loss[ie, il]
        assert excess.mean() > 2 * excess.std(ddof=1) / np.sqrt(len(excess))
    # rows whose optimum is at a grid end (the step budget regularizes alone) are only the
    # smallest learning rates: once interior, every larger η stays interior
    inside = g["row_interior"]
    assert inside.any() and inside[np.argmax(inside) :].all()


@pytest.mark.parametrize("kind", KINDS)
def test_the_optimal_decay_hardly_follows_the_learning_rate(study, kind):
    """Slope of log decay* (λ for Adam + L2, lr-scaled r for AdamW) against log η over the
    rows with an interior optimum. Converged fixed points predict 0; Loshchilov & Hutter's
    decoupling (their per-step decay η·r independent of η) predicts −1. Measured: the whole
    95% bootstrap band lies on the 0 side of the midpoint −0.5, and −1 is more than ten
    bootstrap standard errors away."""
    slope = study.data["grid"][kind]["slope"]
    assert -0.5 < slope.low <= slope.value <= slope.high < 0.5
    assert slope.value + 1 > 10 * slope.se


def test_choosing_the_decay_matters_more_than_choosing_adamw_over_adam_with_l2(study):
    """Folklore says AdamW generalizes better. Measured: the two best cells are close (the
    sign of their difference changes with the draws), and at each optimizer's best η,
    moving the decay from the small end of the grid to its optimum gains more than the
    paired difference between the optimizers plus two standard errors."""
    grid = study.data["grid"]
    difference, se = grid["adamw_minus_l2"]
    for kind in KINDS:
        ie, il = grid[kind]["best"]
        gain = np.mean(grid["loss"][kind][ie, 0] - grid["loss"][kind][ie, il])
        assert abs(difference) + 2 * se < gain


def test_the_optimal_decay_scales_as_one_over_m_so_the_timescale_barely_moves(study):
    """Wang & Aitchison: r* ∝ 1/m (slope −1) and a constant τ_epoch* (slope 0) at fixed η, b;
    not rescaling the decay would give slopes 0 and −1. Measured: both fitted slopes within
    ±0.15 of the paper's (the issue's tolerance on fitted slopes), and both 95% bootstrap
    bands on the paper's side of the midpoint between the two hypotheses; τ_epoch* within
    their guideline of 1 epoch to all the epochs trained."""
    scale = study.data["timescale"]
    s_r, s_tau = scale["slope_r"], scale["slope_tau"]
    assert abs(s_r.value + 1) < 0.15 and -1.5 < s_r.low <= s_r.high < -0.5
    assert abs(s_tau.value) < 0.15 and -0.5 < s_tau.low <= s_tau.high < 0.5
    assert scale["interior"].all() and scale["rep_interior_fraction"] > 0.9
    assert np.all((scale["tau_star"] >= 1) & (scale["tau_star"] <= weight_decay.SCALE_EPOCHS))
