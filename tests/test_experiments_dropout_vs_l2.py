"""The dropout_vs_l2 study: each measured conclusion, with the tolerance it is held to.

One quick run (module fixture) serves every test. Every comparison is paired over the
study's repetitions (same split, same initialization) and held to a multiple of its own
standard error over those repetitions; nothing here is exact except the two identities of
inverted dropout (rate 0 is the library's forward pass; the mean of the dropped network is
the plain one, to within Monte-Carlo error).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj
from regjax.experiments import _common, dropout_vs_l2

K_SE = 2.0  # a difference counts when it exceeds two standard errors over repetitions


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return dropout_vs_l2.run(quick=True, out=tmp_path_factory.mktemp("dropout_vs_l2"))


def test_it_writes_two_pngs_a_table_and_an_answer_that_quotes_the_numbers(study):
    assert [path.name for path in study.figures] == ["dropout_vs_l2.png", "dropout_vs_l2_grid.png"]
    assert all(path.read_bytes()[:8] == PNG_MAGIC for path in study.figures)
    table = study.data["table"]
    assert isinstance(table, rj.experiments.Table) and len(table.rows) <= 15
    assert len(table.rows) == len(study.data["widths"])
    mean, se = study.data["mean_error"], study.data["se_error"]
    assert f"{100 * mean['L2'][-1]:.1f} ± {100 * se['L2'][-1]:.1f}%" in study.answer
    d, s = study.data["diff"]["L2 − dropout"]
    assert f"{100 * d[-1]:+.1f} ± {100 * s[-1]:.1f}" in study.answer


def test_inverted_dropout_is_the_plain_network_at_rate_zero_and_on_average():
    """Rate 0: the library's ``mlp_logits`` exactly (1e-12). Rate ½: the logits are linear
    in the dropped hidden layer, so their mean over masks is the plain logits; the
    Monte-Carlo mean over 4,000 masks is within 5 of its standard errors of them."""
    with _common.float64():
        params = rj.models.init_mlp(jax.random.key(0), (4, 32, 3))
        X = jax.random.normal(jax.random.key(1), (5, 4))
        plain = np.asarray(rj.models.mlp_logits(params, X, activation=jax.nn.relu))
        at_zero = dropout_vs_l2._forward(params, X, 0.0, jax.random.key(2))
        np.testing.assert_allclose(np.asarray(at_zero), plain, rtol=0, atol=1e-12)
        keys = jax.random.split(jax.random.key(3), 4000)
        draws = np.asarray(jax.vmap(lambda k: dropout_vs_l2._forward(params, X, 0.5, k))(keys))
    mc_se = draws.std(0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0) - plain) < 5 * mc_se)
    assert np.all(draws.std(0) > 0)  # the masks do change the output


def test_every_lane_is_finite_and_the_unregularized_net_overfits(study):
    """The setting overfits: at every width the unregularized network fits its training
    set (mean training error below 1%) while its test error is above 5%."""
    grid = study.data["grid"]
    assert np.all(np.isfinite(grid))
    none = study.data["chosen"]["none"]
    assert np.all(none["train_error"].mean(-1) < 0.01)
    assert np.all(none["test_error"].mean(-1) > 0.05)


def test_regularization_beats_none_at_the_largest_width(study):
    """L2 alone and the joint grid both lower the test error below the unregularized
    network's by more than K_SE paired standard errors at the largest width."""
    diff = study.data["diff"]
    for name in ("L2 − none", "both − none"):
        d, s = diff[name]
        assert d[-1] < -K_SE * s[-1], name


def test_validation_chooses_a_positive_lambda_at_the_largest_width(study):
    """λ = 0 is in the L2 grid; validation still picks λ > 0 in most repetitions."""
    lam = study.data["chosen"]["L2"]["lam"][-1]
    assert np.median(lam) > 0 and np.mean(lam > 0) > 0.5


def test_dropout_does_not_beat_l2_here(study):
    """The folklore's claim, measured: at no width does dropout alone beat L2 alone by
    K_SE paired standard errors (L2 − dropout < K_SE·SE); the answer reports the side."""
    d, s = study.data["diff"]["L2 − dropout"]
    assert np.all(d < K_SE * s)
    assert "as the folklore says" not in study.answer
    assert "contrary to the folklore" in study.answer or "not the folklore's" in study.answer


def test_l2_keeps_the_test_loss_lower_than_dropout_at_the_largest_width(study):
    """On test cross-entropy (which punishes overconfidence) L2 beats dropout at the
    largest width by more than K_SE paired standard errors."""
    d, s = study.data["diff_loss"]["L2 − dropout"]
    assert d[-1] < -K_SE * s[-1]
