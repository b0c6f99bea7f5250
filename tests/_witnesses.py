"""The three witnesses of a hand-derived gradient, shared by the gradient tests."""

from __future__ import annotations

import jax
import numpy as np
from jax.test_util import check_grads

import regjax as rj


def assert_trees_close(actual, expected, rtol):
    """Leafwise |a − e| ≤ rtol·max|e| (max over the whole tree)."""
    assert jax.tree.structure(actual) == jax.tree.structure(expected)
    scale = max(float(np.max(np.abs(e), initial=0.0)) for e in jax.tree.leaves(expected))
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        assert np.shape(a) == np.shape(e)
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=rtol * scale)


def _with_closed_vjp(cost, closed, args):
    """``cost(·, *args)`` whose reverse-mode derivative is the closed form."""

    @jax.custom_vjp
    def f(p):
        return cost(p, *args)

    def fwd(p):
        return cost(p, *args), p

    def bwd(p, ct):
        return (jax.tree.map(lambda g: ct * g, closed(p, *args)),)

    f.defvjp(fwd, bwd)
    return f


def assert_three_witnesses(cost, closed, params, *args):
    """Closed form = jax.grad (1e-10) = central differences (1e-6), two ways."""
    report = rj.check_grad(cost, closed, params, *args)
    assert report.ok, report
    assert report.max_rel_err <= 1e-10, report
    assert report.numerical_max_rel_err <= 1e-6, report
    assert_trees_close(closed(params, *args), jax.grad(cost)(params, *args), rtol=1e-10)
    for f in (lambda p: cost(p, *args), _with_closed_vjp(cost, closed, args)):
        check_grads(f, (params,), order=1, modes=["rev"], rtol=1e-6, atol=1e-9)
