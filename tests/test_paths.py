"""Cross-validated paths of the built-in models (the job behind `regjax sweep`)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import Lasso, LogisticRegression

from regjax import cli, data, paths


def test_l1_path_linear_matches_sklearn_lasso_with_exact_zeros(x64):
    d = data.make_regression(80, 10, seed=12, correlation=0.4, noise=2.0)
    m = 80
    lams = np.array([2.0, 10.0, 40.0, 120.0])
    path = paths.l1_path(d.X, d.y, lams, tol=1e-11, max_iter=200_000)
    for g, lam in enumerate(lams):
        lasso = Lasso(alpha=lam / m, tol=1e-14, max_iter=1_000_000).fit(d.X, d.y)
        np.testing.assert_allclose(path["w"][g], lasso.coef_, atol=1e-6)
        np.testing.assert_allclose(path["b"][g], lasso.intercept_, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(path["w"][g]) == 0, lasso.coef_ == 0)
    assert np.any(np.asarray(path["w"]) == 0)


def test_l1_path_logistic_matches_sklearn_saga(x64):
    d = data.make_classification(120, 6, seed=13)
    lams = np.array([1.0, 8.0])
    path = paths.l1_path(d.X, d.y, lams, model="logistic", tol=1e-11, max_iter=400_000)
    for g, lam in enumerate(lams):
        # C·Σ loss + ‖w‖₁  ≡  mean loss + λ/m‖w‖₁ with C = 1/λ; saga leaves b unpenalized
        model = LogisticRegression(
            l1_ratio=1.0, solver="saga", C=1 / lam, tol=1e-12, max_iter=200_000
        ).fit(d.X, d.y)
        np.testing.assert_allclose(path["w"][g], model.coef_[0], atol=2e-5)
        np.testing.assert_allclose(path["b"][g], model.intercept_[0], atol=2e-5)


def test_l1_path_bad_input():
    with pytest.raises(ValueError, match="model"):
        paths.l1_path(np.ones((3, 2)), np.ones(3), np.ones(2), model="softmax")
    with pytest.raises(ValueError, match="lams"):
        paths.l1_path(np.ones((3, 2)), np.ones(3), -np.ones(2))


@pytest.mark.parametrize(
    ("dataset", "model", "penalty"),
    [
        ("breast_cancer", "logistic", "l2"),
        ("diabetes", "linear", "l2"),
        ("diabetes", "linear", "l1"),
        ("digits", "softmax", "l2"),
    ],
)
def test_run_reports_a_consistent_cross_validated_path(x64, dataset, model, penalty):
    report = paths.run(dataset, penalty=penalty, num=5, folds=3, min_ratio=1e-3)
    assert report.model == model
    cv = report.cv
    assert cv.lams.shape == (5,) and np.all(np.diff(cv.lams) < 0)
    assert cv.val.shape == (3, 5)
    assert cv.best_lam in cv.lams and cv.lam_1se >= cv.best_lam
    assert np.all(np.isfinite(cv.val_mean)) and np.all(cv.train <= cv.val_mean + 1e-12)
    assert report.path["w"].shape[0] == 5
    if model == "linear" and penalty == "l2":
        assert report.loo is not None and report.loo.shape == (5,)
    if model != "linear":
        assert report.val_error is not None and np.all(
            (0 <= report.val_error) & (report.val_error <= 1)
        )


def test_run_rejects_a_model_that_does_not_fit_the_data():
    with pytest.raises(ValueError, match="model"):
        paths.run("diabetes", model="logistic")
    with pytest.raises(ValueError, match="penalty"):
        paths.run("digits", penalty="l1")


def test_cli_sweep_quick_prints_a_table_and_writes_figures(tmp_path, capsys):
    assert cli.main(["sweep", "--quick", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "breast_cancer" in out and "val loss" in out and "chosen λ" in out
    assert "best" in out
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == [
        "breast_cancer_logistic_l2_path.png",
        "breast_cancer_logistic_l2_validation.png",
    ]
    assert all((tmp_path / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_cli_sweep_progress_goes_to_stderr(tmp_path, capsys):
    assert cli.main(["sweep", "--quick", "--no-figures", "--data", "diabetes"]) == 0
    captured = capsys.readouterr()
    assert "LOO" in captured.out
    assert "cross-validation" in captured.err and "[" in captured.err


def test_best_lambda_of_the_path_minimizes_validation_loss(x64):
    report = paths.run("diabetes", num=6, folds=3)
    g = int(np.argmin(report.cv.val_mean))
    assert report.cv.best_lam == pytest.approx(float(jnp.asarray(report.cv.lams)[g]))
