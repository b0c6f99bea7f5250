"""Proximal operators: each output satisfies the optimality condition that defines it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from regjax import prox

# XLA on CPU flushes subnormal floats to zero, so they are left out of the draws.
finite = st.floats(-50, 50, allow_nan=False, allow_subnormal=False)
strength = st.floats(0, 20, allow_nan=False, allow_subnormal=False)
ratio = st.floats(0, 1, allow_nan=False)


def _subgradient_residual(w, x, s, rho):
    """Distance from 0 to ∂[½(w − x)² + s(ρ|w| + (1 − ρ)/2 w²)] at w."""
    smooth = w - x + s * (1 - rho) * w
    if w != 0:
        return abs(smooth + s * rho * np.sign(w))
    return max(abs(smooth) - s * rho, 0.0)


@given(x=finite, s=strength, rho=ratio)
def test_elastic_net_prox_is_the_minimizer(x64, x, s, rho):
    w = float(prox.elastic_net(jnp.asarray(x), jnp.asarray(s), l1_ratio=jnp.asarray(rho)))
    # the objective is strongly convex: zero in the subdifferential ⇔ the minimizer
    assert _subgradient_residual(w, x, s, rho) <= 1e-12 * (1 + abs(x) + s)


@given(x=finite, t=strength)
def test_soft_threshold_is_the_l1_prox_with_exact_zeros(x64, x, t):
    w = float(prox.soft_threshold(jnp.asarray(x), jnp.asarray(t)))
    assert _subgradient_residual(w, x, t, 1.0) <= 1e-12 * (1 + abs(x) + t)
    assert (w == 0.0) == (abs(x) <= t)  # exactly zero, not merely small


def test_the_prox_beats_every_nearby_point(x64, rng):
    x, s, rho = rng.normal(size=200) * 3, 1.3, 0.4
    w = np.asarray(prox.elastic_net(x, s, l1_ratio=rho))

    def objective(v):
        return 0.5 * (v - x) ** 2 + s * (rho * np.abs(v) + 0.5 * (1 - rho) * v**2)

    for delta in (1e-3, -1e-3, 0.1, -0.1):
        assert np.all(objective(w) <= objective(w + delta))


def test_limits_of_the_elastic_net_prox(x64, rng):
    x = jnp.asarray(rng.normal(size=50) * 4)
    np.testing.assert_array_equal(
        prox.elastic_net(x, 2.0, l1_ratio=1.0), prox.soft_threshold(x, 2.0)
    )
    np.testing.assert_allclose(prox.elastic_net(x, 2.0, l1_ratio=0.0), x / 3.0, rtol=1e-15)
    np.testing.assert_array_equal(prox.elastic_net(x, 0.0, l1_ratio=0.5), x)


@pytest.mark.parametrize("transform", [jax.jit, jax.vmap])
def test_prox_under_jit_and_vmap_equals_eager(x64, rng, transform):
    x, s = jnp.asarray(rng.normal(size=8)), jnp.asarray(rng.random(8))
    eager = prox.elastic_net(x, s, l1_ratio=0.3)
    fn = transform(lambda x, s: prox.elastic_net(x, s, l1_ratio=0.3))
    np.testing.assert_allclose(fn(x, s), eager, rtol=1e-15, atol=1e-15)  # XLA may fuse to FMAs
