"""regjax.models against plain numpy: linear, logistic, the MLP, map_feature, init_mlp."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import np_sigmoid

from regjax import models


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
    np.testing.assert_allclose(p, np_sigmoid(X @ w + b), rtol=1e-13)


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
    np.testing.assert_allclose(h, forward(np_sigmoid, np_sigmoid), rtol=1e-13)
    np.testing.assert_allclose(
        models.mlp(params, jnp.asarray(X), activation=jnp.tanh, output=lambda z: z),
        forward(np.tanh, lambda z: z),
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        models.mlp_logits(params, jnp.asarray(X)), forward(np_sigmoid, lambda z: z), rtol=1e-13
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
