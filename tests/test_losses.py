"""regjax.losses against plain numpy; the logistic losses at extreme logits."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import np_sigmoid, value_and_grad

from regjax import losses

# ---------------------------------------------------------------------------------------
# numpy references (moderate logits: the naive formulas are accurate there)


def _np_bce(z, y):
    h = np_sigmoid(z)
    return -np.mean(y * np.log(h) + (1 - y) * np.log(1 - h))


def _np_multilabel(z, Y):
    h = np_sigmoid(z)
    return -np.sum(Y * np.log(h) + (1 - Y) * np.log(1 - h)) / z.shape[0]


def _np_softmax_ce(z, labels):
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(labels)), labels]))


@pytest.mark.parametrize("shape", [(7,), (5, 3)])
def test_squared_error_has_the_half(x64, rng, shape):
    pred, y = rng.normal(size=shape), rng.normal(size=shape)
    m = shape[0]
    value = float(losses.squared_error(jnp.asarray(pred), jnp.asarray(y)))
    np.testing.assert_allclose(value, np.sum((pred - y) ** 2) / (2 * m), rtol=1e-14)
    np.testing.assert_allclose(value, 0.5 * np.sum((pred - y) ** 2) / m, rtol=1e-14)
    # the ½ cancels the 2: ∂/∂h = (h − y)/m
    grad = jax.grad(losses.squared_error)(jnp.asarray(pred), jnp.asarray(y))
    np.testing.assert_allclose(grad, (pred - y) / m, rtol=1e-14)


def test_losses_match_numpy_on_moderate_logits(x64, rng):
    m, K = 9, 4
    z = rng.normal(scale=3.0, size=m)
    y = rng.integers(0, 2, m).astype(np.float64)
    Z = rng.normal(scale=3.0, size=(m, K))
    Y = rng.integers(0, 2, (m, K)).astype(np.float64)
    labels = rng.integers(0, K, m)
    np.testing.assert_allclose(
        float(losses.binary_cross_entropy(jnp.asarray(z), jnp.asarray(y))), _np_bce(z, y), 1e-13
    )
    np.testing.assert_allclose(
        float(losses.multilabel_sigmoid_cross_entropy(jnp.asarray(Z), jnp.asarray(Y))),
        _np_multilabel(Z, Y),
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        float(losses.softmax_cross_entropy(jnp.asarray(Z), jnp.asarray(labels))),
        _np_softmax_ce(Z, labels),
        rtol=1e-13,
    )
    # their logit gradients are the familiar ones: (σ(z) − y)/m and (softmax − onehot)/m
    g = jax.grad(losses.binary_cross_entropy)(jnp.asarray(z), jnp.asarray(y))
    np.testing.assert_allclose(g, (np_sigmoid(z) - y) / m, rtol=1e-12)
    g = jax.grad(losses.softmax_cross_entropy)(jnp.asarray(Z), jnp.asarray(labels))
    P = np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)
    np.testing.assert_allclose(g, (P - np.eye(K)[labels]) / m, rtol=1e-12, atol=1e-15)


def test_multilabel_with_one_column_is_binary_cross_entropy(x64, rng):
    z = rng.normal(size=6)
    y = rng.integers(0, 2, 6).astype(np.float64)
    np.testing.assert_allclose(
        float(losses.multilabel_sigmoid_cross_entropy(jnp.asarray(z[:, None]), y[:, None])),
        float(losses.binary_cross_entropy(jnp.asarray(z), jnp.asarray(y))),
        rtol=1e-15,
    )


@pytest.mark.parametrize("enable_x64", [False, True])
def test_extreme_logits_give_finite_values_and_gradients(enable_x64):
    """Logits ±1e4, labels exactly 0/1: right side costs 0, wrong side costs |z|."""
    with jax.enable_x64(enable_x64):
        z = jnp.asarray([1e4, -1e4, 1e4, -1e4])
        y = jnp.asarray([1.0, 0.0, 0.0, 1.0])  # two right, two wrong
        dtype = z.dtype
        value, grad = value_and_grad(losses.binary_cross_entropy)(z, y)
        np.testing.assert_allclose(float(value), (0 + 0 + 1e4 + 1e4) / 4, rtol=1e-6)
        np.testing.assert_allclose(grad, np.array([0.0, 0.0, 1.0, -1.0]) / 4, atol=1e-7)

        Z = jnp.stack([z, -z], axis=1)  # (4, 2)
        Y = jnp.stack([y, 1 - y], axis=1)
        value, grad = value_and_grad(losses.multilabel_sigmoid_cross_entropy)(Z, Y)
        np.testing.assert_allclose(float(value), 4e4 / 4, rtol=1e-6)
        assert bool(jnp.all(jnp.isfinite(grad)))

        labels = jnp.asarray([0, 1, 1, 0])  # picks z, −z, −z, z: right, right, wrong, wrong
        value, grad = value_and_grad(losses.softmax_cross_entropy)(Z, labels)
        np.testing.assert_allclose(float(value), (0 + 0 + 2e4 + 2e4) / 4, rtol=1e-6)
        assert bool(jnp.all(jnp.isfinite(grad)))
        assert value.dtype == dtype


def test_elementwise_terms_are_the_per_example_losses(x64, rng):
    """squared_terms, logistic_terms and softmax_terms average to the mean losses."""
    m, K = 8, 3
    pred, y = rng.normal(size=(m, 2)), rng.normal(size=(m, 2))
    np.testing.assert_allclose(losses.squared_terms(pred, y), 0.5 * (pred - y) ** 2, rtol=1e-15)
    np.testing.assert_allclose(
        float(jnp.sum(losses.squared_terms(pred, y))) / m,
        float(losses.squared_error(jnp.asarray(pred), jnp.asarray(y))),
        rtol=1e-14,
    )
    z = rng.normal(scale=3.0, size=m)
    labels01 = rng.integers(0, 2, m).astype(np.float64)
    h = np_sigmoid(z)
    terms = losses.logistic_terms(jnp.asarray(z), jnp.asarray(labels01))
    np.testing.assert_allclose(
        terms, -(labels01 * np.log(h) + (1 - labels01) * np.log(1 - h)), rtol=1e-12
    )
    np.testing.assert_allclose(float(jnp.mean(terms)), _np_bce(z, labels01), rtol=1e-13)
    Z = rng.normal(scale=3.0, size=(m, K))
    labels = rng.integers(0, K, m)
    Y = np.eye(K)[labels]
    per_example = losses.softmax_terms(jnp.asarray(Z), jnp.asarray(Y))
    assert per_example.shape == (m,)
    np.testing.assert_allclose(float(jnp.mean(per_example)), _np_softmax_ce(Z, labels), rtol=1e-13)
    # the class axis can be any axis: extra axes (a λ axis) pass through
    moved = losses.softmax_terms(jnp.asarray(Z.T), jnp.asarray(Y.T), axis=0)
    np.testing.assert_allclose(moved, per_example, rtol=1e-15)


@pytest.mark.parametrize("enable_x64", [False, True])
def test_logistic_gradient_at_zero_logits_is_sigmoid_minus_y(enable_x64):
    """At z = 0 exactly (every logit of a model started at w = 0, b = 0) the derivative
    is σ(0) − y = ½ − y, as on either side of 0."""
    with jax.enable_x64(enable_x64):
        y = jnp.asarray([0.0, 1.0, 1.0, 0.0])
        expected = (0.5 - np.asarray(y)) / 4
        for z in (jnp.zeros(4), jnp.full(4, 1e-30), jnp.full(4, -1e-30)):
            grad = jax.grad(losses.binary_cross_entropy)(z, y)
            np.testing.assert_allclose(grad, expected, rtol=1e-6, err_msg=str(z[0]))
        terms = jax.vmap(jax.grad(losses.logistic_terms))(jnp.zeros(4), y)
        np.testing.assert_allclose(terms, 0.5 - np.asarray(y), rtol=1e-6)
        Z, Y = jnp.zeros((4, 2)), jnp.stack([y, 1 - y], axis=1)
        grad = jax.grad(losses.multilabel_sigmoid_cross_entropy)(Z, Y)
        np.testing.assert_allclose(grad, (0.5 - np.asarray(Y)) / 4, rtol=1e-6)


def test_loss_shape_errors():
    with pytest.raises(ValueError, match="y"):
        losses.squared_error(jnp.ones(3), jnp.ones(4))
    with pytest.raises(ValueError, match="pred"):
        losses.squared_error(jnp.ones(()), jnp.ones(()))
    with pytest.raises(ValueError, match="Y"):
        losses.multilabel_sigmoid_cross_entropy(jnp.ones((3, 2)), jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="labels"):
        losses.softmax_cross_entropy(jnp.ones((3, 2)), jnp.ones(4, dtype=jnp.int32))
    with pytest.raises(TypeError, match="labels"):
        losses.softmax_cross_entropy(jnp.ones((3, 2)), jnp.ones(3))


def test_the_mean_losses_refuse_labels_out_of_range_and_non_finite_logits():
    z = jnp.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^y must be in \[0, 1\]"):
        losses.binary_cross_entropy(z, jnp.array([2.0, -1.0]))
    with pytest.raises(ValueError, match=r"^logits holds non-finite"):
        losses.binary_cross_entropy(jnp.array([jnp.nan, 0.0]), jnp.array([1.0, 0.0]))
    assert float(losses.binary_cross_entropy(jnp.zeros(2), jnp.array([0.5, 0.5]))) == (
        pytest.approx(np.log(2.0))  # soft labels: log 2 at z = 0
    )
    with pytest.raises(ValueError, match=r"^labels must be integers in \[0, 3\)"):
        losses.softmax_cross_entropy(jnp.zeros((2, 3)), jnp.array([0, 3]))
    with pytest.raises(ValueError, match=r"^logits holds non-finite"):
        losses.softmax_cross_entropy(jnp.full((2, 3), jnp.inf), jnp.array([0, 1]))
