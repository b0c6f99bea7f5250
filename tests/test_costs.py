"""regjax.costs: the regularized costs stay finite at extreme logits and check their labels.

Their gradients are in test_closed_form.py; bad input of every kind in test_bad_input.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import value_and_grad

from regjax import costs


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
                value, grads = value_and_grad(cost)(params, X, target, lam)
                assert bool(jnp.isfinite(value)), cost.__name__
                for leaf in jax.tree.leaves(grads):
                    assert bool(jnp.all(jnp.isfinite(leaf))), cost.__name__
        # the logistic value is the wrong-side |z| averaged, plus λ/(2m)‖w‖²
        np.testing.assert_allclose(
            float(costs.logistic_regression(glm, X, y, 1.0)),
            (1e4 + 1e4) / 4 + 1.0 / 8 * 2e8,
            rtol=1e-6,
        )


def test_costs_reject_labels_outside_01_and_classes_out_of_range():
    X = jnp.ones((3, 2))
    glm = {"w": jnp.zeros(2), "b": jnp.asarray(0.0)}
    with pytest.raises(ValueError, match="y"):
        costs.logistic_regression(glm, X, jnp.asarray([0.0, 1.0, 2.0]), 1.0)
    soft = {"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)}
    with pytest.raises(ValueError, match="labels"):
        costs.softmax_regression(soft, X, jnp.asarray([0, 1, 3]), 1.0)
