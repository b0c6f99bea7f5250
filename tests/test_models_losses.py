"""Losses and models against plain numpy; the logistic losses at extreme logits."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from regjax import costs, losses, models

# ---------------------------------------------------------------------------------------
# numpy references (moderate logits: the naive formulas are accurate there)


def _np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _np_bce(z, y):
    h = _np_sigmoid(z)
    return -np.mean(y * np.log(h) + (1 - y) * np.log(1 - h))


def _np_multilabel(z, Y):
    h = _np_sigmoid(z)
    return -np.sum(Y * np.log(h) + (1 - Y) * np.log(1 - h)) / z.shape[0]


def _np_softmax_ce(z, labels):
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(labels)), labels]))


# ---------------------------------------------------------------------------------------
# losses


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
    np.testing.assert_allclose(g, (_np_sigmoid(z) - y) / m, rtol=1e-12)
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


def _value_and_grad(fn):
    """Value and gradient under jit (as a training loop would use them)."""
    return jax.jit(jax.value_and_grad(fn))


@pytest.mark.parametrize("enable_x64", [False, True])
def test_extreme_logits_give_finite_values_and_gradients(enable_x64):
    """Logits ±1e4, labels exactly 0/1: right side costs 0, wrong side costs |z|."""
    with jax.enable_x64(enable_x64):
        z = jnp.asarray([1e4, -1e4, 1e4, -1e4])
        y = jnp.asarray([1.0, 0.0, 0.0, 1.0])  # two right, two wrong
        dtype = z.dtype
        value, grad = _value_and_grad(losses.binary_cross_entropy)(z, y)
        np.testing.assert_allclose(float(value), (0 + 0 + 1e4 + 1e4) / 4, rtol=1e-6)
        np.testing.assert_allclose(grad, np.array([0.0, 0.0, 1.0, -1.0]) / 4, atol=1e-7)

        Z = jnp.stack([z, -z], axis=1)  # (4, 2)
        Y = jnp.stack([y, 1 - y], axis=1)
        value, grad = _value_and_grad(losses.multilabel_sigmoid_cross_entropy)(Z, Y)
        np.testing.assert_allclose(float(value), 4e4 / 4, rtol=1e-6)
        assert bool(jnp.all(jnp.isfinite(grad)))

        labels = jnp.asarray([0, 1, 1, 0])  # picks z, −z, −z, z: right, right, wrong, wrong
        value, grad = _value_and_grad(losses.softmax_cross_entropy)(Z, labels)
        np.testing.assert_allclose(float(value), (0 + 0 + 2e4 + 2e4) / 4, rtol=1e-6)
        assert bool(jnp.all(jnp.isfinite(grad)))
        assert value.dtype == dtype


@pytest.mark.parametrize("enable_x64", [False, True])
def test_costs_at_extreme_logits_are_finite(enable_x64):
    """The costs built on those losses, with inputs that drive the logits to ±1e4."""
    with jax.enable_x64(enable_x64):
        X = jnp.asarray([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        y = jnp.asarray([1.0, 0.0, 0.0, 1.0])
        glm = {"w": jnp.asarray([1e4, 1e4]), "b": jnp.asarray(0.0)}
        soft = {"w": jnp.asarray([[1e4, -1e4], [-1e4, 1e4]]), "b": jnp.zeros(2)}
        net = [
            {"W": jnp.asarray([[1e4, 0.0], [0.0, 1e4]]), "b": jnp.zeros(2)},
            {"W": jnp.asarray([[1e4, -1e4]]), "b": jnp.asarray([-5e3])},
        ]
        cases = [
            (costs.logistic_regression, glm, y),
            (costs.softmax_regression, soft, jnp.asarray([0, 1, 0, 1])),
            (costs.neural_network, net, y[:, None]),
        ]
        for cost, params, target in cases:
            for lam in (0.0, 1.0):
                value, grads = _value_and_grad(cost)(params, X, target, lam)
                assert bool(jnp.isfinite(value)), cost.__name__
                for leaf in jax.tree.leaves(grads):
                    assert bool(jnp.all(jnp.isfinite(leaf))), cost.__name__
        # the logistic value is the wrong-side |z| averaged, plus λ/(2m)‖w‖²
        np.testing.assert_allclose(
            float(costs.logistic_regression(glm, X, y, 1.0)),
            (1e4 + 1e4) / 4 + 1.0 / 8 * 2e8,
            rtol=1e-6,
        )


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


def test_costs_reject_labels_outside_01_and_classes_out_of_range():
    X = jnp.ones((3, 2))
    glm = {"w": jnp.zeros(2), "b": jnp.asarray(0.0)}
    with pytest.raises(ValueError, match="y"):
        costs.logistic_regression(glm, X, jnp.asarray([0.0, 1.0, 2.0]), 1.0)
    soft = {"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)}
    with pytest.raises(ValueError, match="labels"):
        costs.softmax_regression(soft, X, jnp.asarray([0, 1, 3]), 1.0)


# ---------------------------------------------------------------------------------------
# models


@pytest.mark.parametrize("k", [None, 3])
def test_linear_and_logistic_match_numpy(x64, rng, k):
    m, n = 6, 4
    out = () if k is None else (k,)
    X, w, b = rng.normal(size=(m, n)), rng.normal(size=(n, *out)), rng.normal(size=out)
    params = {"w": jnp.asarray(w), "b": jnp.asarray(b)}
    h = models.linear(params, jnp.asarray(X))
    assert h.shape == (m, *out)
    np.testing.assert_allclose(h, X @ w + b, rtol=1e-13)
    p = models.logistic(params, jnp.asarray(X))
    assert p.shape == (m, *out)
    np.testing.assert_allclose(p, _np_sigmoid(X @ w + b), rtol=1e-13)


def test_mlp_matches_a_numpy_forward_pass(x64, rng):
    sizes, m = (4, 5, 3, 2), 7
    X = rng.normal(size=(m, sizes[0]))
    layers = [(rng.normal(size=(o, i)), rng.normal(size=o)) for i, o in zip(sizes, sizes[1:])]
    params = [{"W": jnp.asarray(W), "b": jnp.asarray(b)} for W, b in layers]

    def forward(g, out):
        a = X
        for W, b in layers[:-1]:
            a = g(a @ W.T + b)
        return out(a @ layers[-1][0].T + layers[-1][1])

    h = models.mlp(params, jnp.asarray(X))
    assert h.shape == (m, 2)
    np.testing.assert_allclose(h, forward(_np_sigmoid, _np_sigmoid), rtol=1e-13)
    np.testing.assert_allclose(
        models.mlp(params, jnp.asarray(X), activation=jnp.tanh, output=lambda z: z),
        forward(np.tanh, lambda z: z),
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        models.mlp_logits(params, jnp.asarray(X)), forward(_np_sigmoid, lambda z: z), rtol=1e-13
    )


def _np_map_feature(X1, X2, degree=6):
    """Ng's ex2 mapFeature.m, line by line, then without its ones column."""
    out = np.ones((X1.shape[0], 1))
    for i in range(1, degree + 1):
        for j in range(i + 1):
            out = np.column_stack([out, (X1 ** (i - j)) * (X2**j)])
    return out[:, 1:]


def test_map_feature_is_ngs_map_feature(x64, rng):
    x1, x2 = rng.uniform(-1, 1.5, size=11), rng.uniform(-1, 1.5, size=11)
    features = models.map_feature(jnp.asarray(x1), jnp.asarray(x2))
    assert features.shape == (11, 27)
    np.testing.assert_allclose(features, _np_map_feature(x1, x2), rtol=1e-13)
    for degree in range(1, 8):
        got = models.map_feature(jnp.asarray(x1), jnp.asarray(x2), degree=degree)
        assert got.shape[1] == degree * (degree + 3) // 2 == (degree + 1) * (degree + 2) // 2 - 1
        np.testing.assert_allclose(got, _np_map_feature(x1, x2, degree), rtol=1e-13)


def test_init_mlp_shapes_and_bounds():
    sizes = (400, 25, 10)
    params = models.init_mlp(jax.random.key(0), sizes)
    assert [(p["W"].shape, p["b"].shape) for p in params] == [((25, 400), (25,)), ((10, 25), (10,))]
    for p, (n_in, n_out) in zip(params, zip(sizes, sizes[1:])):
        eps = math.sqrt(6) / math.sqrt(n_in + n_out)
        for leaf in (p["W"], p["b"]):
            assert float(jnp.max(jnp.abs(leaf))) <= eps
        # symmetric-breaking and actually spread over the interval
        assert float(jnp.max(p["W"])) > 0.8 * eps and float(jnp.min(p["W"])) < -0.8 * eps
    # a different key gives different weights; the dtype argument is honoured
    other = models.init_mlp(jax.random.key(1), sizes)
    assert not bool(jnp.allclose(other[0]["W"], params[0]["W"]))
    with jax.enable_x64(True):
        assert models.init_mlp(jax.random.key(0), (3, 2), dtype=jnp.float64)[0]["W"].dtype == (
            jnp.float64
        )


def test_model_input_errors():
    X = jnp.ones((3, 2))
    with pytest.raises(ValueError, match="w"):
        models.linear({"w": jnp.ones(3), "b": jnp.asarray(0.0)}, X)
    with pytest.raises(ValueError, match="b"):
        models.linear({"w": jnp.ones(2), "b": jnp.ones(2)}, X)
    with pytest.raises(TypeError, match="params"):
        models.linear({"w": jnp.ones(2)}, X)
    with pytest.raises(ValueError, match="X"):
        models.linear({"w": jnp.ones(2), "b": jnp.asarray(0.0)}, jnp.ones(2))
    with pytest.raises(ValueError, match="W"):
        models.mlp([{"W": jnp.ones((2, 3)), "b": jnp.ones(2)}], X)
    with pytest.raises(ValueError, match="sizes"):
        models.init_mlp(jax.random.key(0), (3,))
    with pytest.raises(ValueError, match="degree"):
        models.map_feature(jnp.ones(2), jnp.ones(2), degree=0)
    with pytest.raises(ValueError, match="x1"):
        models.map_feature(jnp.ones(2), jnp.ones(3))
