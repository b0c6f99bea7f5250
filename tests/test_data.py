"""regjax.data: the embedded data sets equal scikit-learn's copies; standardize; generators."""

from __future__ import annotations

import numpy as np
import pytest

from regjax import data


def test_embedded_data_equal_scikit_learns_copies():
    from sklearn import datasets

    bc = datasets.load_breast_cancer()
    ours = data.load_breast_cancer(standardized=False)
    np.testing.assert_array_equal(ours.X, bc.data)
    np.testing.assert_array_equal(ours.y, bc.target)
    digits = datasets.load_digits()
    ours = data.load_digits(scaled=False)
    np.testing.assert_array_equal(ours.X, digits.data)
    np.testing.assert_array_equal(ours.y, digits.target)
    diabetes = datasets.load_diabetes(scaled=False)
    ours = data.load_diabetes(standardized=False)
    np.testing.assert_allclose(ours.X, diabetes.data, rtol=1e-12)
    np.testing.assert_array_equal(ours.y, diabetes.target)


def test_standardize_and_generators():
    X = data.load_breast_cancer().X
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)
    a, b = data.make_classification(50, 3, seed=2), data.make_classification(50, 3, seed=2)
    np.testing.assert_array_equal(a.X, b.X)
    corr = np.corrcoef(data.make_regression(20_000, 2, correlation=0.5).X.T)[0, 1]
    assert abs(corr - 0.5) < 0.03
    with pytest.raises(ValueError, match="name"):
        data.load("mnist")
    with pytest.raises(ValueError, match="correlation"):
        data.make_regression(10, 2, correlation=1.0)
