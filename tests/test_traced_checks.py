"""Checks on traced values (regjax._traced): REGJAX_ON_ERROR = off, raise, checkify,
under jit, vmap and grad. Each test builds its own jitted function: a compiled function
keeps the mode it was traced with."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

import regjax as rj
from regjax import _traced

M, N = 6, 3


def _X():
    return jnp.arange(M * N, dtype=jnp.float32).reshape(M, N) / 10


def _labels():
    return jnp.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])


def _glm():
    return {"w": jnp.array([0.5, -1.0, 2.0]), "b": jnp.array(0.1)}


def _net():
    return [{"W": jnp.ones((4, N)) / 10, "b": jnp.zeros(4)},
            {"W": jnp.ones((2, 4)) / 10, "b": jnp.zeros(2)}]  # fmt: skip


def _softmax():
    return {"w": jnp.ones((N, 3)) / 10, "b": jnp.zeros(3)}


# (name, f(lam, X, y) -> scalar, good y, bad y, the message of a bad label)
CALLS = {
    "linear": (lambda lam, X, y: rj.costs.linear_regression(_glm(), X, y, lam), _labels(),
               None, None),
    "logistic": (lambda lam, X, y: rj.costs.logistic_regression(_glm(), X, y, lam), _labels(),
                 _labels().at[0].set(2.0), r"y must (hold labels in \{0, 1\}|be in \[0, 1\])"),
    "softmax": (lambda lam, X, y: rj.costs.softmax_regression(_softmax(), X, y, lam),
                jnp.array([0, 1, 2, 0, 1, 2]), jnp.array([0, 1, 2, 0, 1, 3]),
                r"labels must be integers in \[0, 3\)"),
    "network": (lambda lam, X, y: rj.costs.neural_network(_net(), X, y, lam),
                jax.nn.one_hot(jnp.array([0, 1, 1, 0, 1, 0]), 2),
                jax.nn.one_hot(jnp.array([0, 1, 1, 0, 1, 0]), 2).at[0, 0].set(3.0),
                r"Y must hold labels in \{0, 1\}"),
    "regularized": (lambda lam, X, y: rj.costs.regularized(
        lambda p, X, y: 0.5 * jnp.mean((rj.models.linear(p, X) - y) ** 2))(_glm(), X, y, lam),
        _labels(), None, None),
}  # fmt: skip


@pytest.fixture(params=["raise", "checkify"])
def mode(request, monkeypatch):
    monkeypatch.setenv(_traced.ON_ERROR, request.param)
    return request.param


def _fresh(f):
    """A new function object: jit caches traces per function, and a trace keeps the mode
    it was made in."""
    return lambda *args: f(*args)


def _fails(mode, f, *args, match):
    """f(*args) under jit fails with ``match``: raised (raise) or reported (checkify)."""
    f = _fresh(f)
    if mode == "raise":
        with pytest.raises(Exception, match=match):
            jax.block_until_ready(jax.jit(f)(*args))
    else:
        err, _ = jax.jit(checkify.checkify(f))(*args)
        assert err.get() is not None and _search(match, err.get())


def _search(pattern, text):
    import re

    return re.search(pattern, text)


def _passes(mode, f, *args):
    f = _fresh(f)
    if mode == "raise":
        return jax.jit(f)(*args)
    err, out = jax.jit(checkify.checkify(f))(*args)
    assert err.get() is None, err.get()
    return out


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_negative_or_nan_lambda_fails_under_jit(mode, name):
    f, y, _, _ = CALLS[name]
    for lam in (-1.0, jnp.nan):
        _fails(mode, f, jnp.asarray(lam), _X(), y, match="lam must be finite and >= 0")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_nan_in_x_fails_under_jit(mode, name):
    f, y, _, _ = CALLS[name]
    _fails(mode, f, jnp.asarray(1.0), _X().at[2, 1].set(jnp.nan), y,
           match=r"X holds non-finite values")  # fmt: skip


@pytest.mark.parametrize("name", ["logistic", "softmax", "network"])
def test_a_label_out_of_range_fails_under_jit(mode, name):
    f, _, bad, message = CALLS[name]
    _fails(mode, f, jnp.asarray(1.0), _X(), bad, match=message)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_valid_input_gives_the_eager_value_in_every_mode(mode, name):
    f, y, _, _ = CALLS[name]
    eager = f(1.5, _X(), y)
    np.testing.assert_allclose(_passes(mode, f, jnp.asarray(1.5), _X(), y), eager, rtol=1e-6)


def test_under_vmap_one_bad_lane_fails_and_good_lanes_pass(mode):
    f, y, _, _ = CALLS["logistic"]

    def batched(lams):
        return jax.vmap(f, in_axes=(0, None, None))(lams, _X(), y)

    good = jnp.array([0.0, 1.0, 10.0])
    np.testing.assert_allclose(_passes(mode, batched, good), [f(v, _X(), y) for v in good],
                               rtol=1e-6)  # fmt: skip
    _fails(mode, batched, jnp.array([1.0, -1.0, 2.0]), match="lam must be finite and >= 0")


def test_under_grad_the_check_still_fails(mode):
    def f(lam):
        return rj.penalties.l2(_glm(), lam, m=M)

    _fails(mode, jax.grad(f), jnp.asarray(-2.0), match="lam must be finite and >= 0")
    np.testing.assert_allclose(_passes(mode, jax.grad(f), jnp.asarray(2.0)),
                               jax.grad(f)(2.0), rtol=1e-6)  # fmt: skip


def test_penalties_closed_forms_and_paths_inside_a_users_jit(mode):
    _fails(mode, lambda m: rj.penalties.l1(_glm(), 1.0, m=m), jnp.asarray(-3.0),
           match="m .* must be a positive integer")  # fmt: skip
    _fails(mode, lambda lam: rj.closed_form.ridge_solution(_X(), _labels(), lam)["w"],
           jnp.asarray(-1.0), match="lam must be finite and >= 0")  # fmt: skip
    _fails(mode, lambda lams: rj.paths.logistic(_X(), _labels(), lams, tol=1e-5).params["w"],
           jnp.array([1.0, -1.0]), match="lams must be finite and >= 0")  # fmt: skip


def test_off_is_the_default_and_checks_nothing_traced(monkeypatch):
    """Documented: without REGJAX_ON_ERROR a traced negative λ is not caught (the
    eager call is)."""
    monkeypatch.delenv(_traced.ON_ERROR, raising=False)
    f = CALLS["linear"][0]
    value = jax.jit(_fresh(f))(jnp.asarray(-100.0), _X(), _labels())
    assert float(value) < 0  # a negative "cost": what the checks exist to prevent
    with pytest.raises(ValueError, match="lam must be >= 0"):
        f(-100.0, _X(), _labels())


def test_an_unknown_mode_names_the_variable(monkeypatch):
    monkeypatch.setenv(_traced.ON_ERROR, "loud")
    with pytest.raises(ValueError, match=r"REGJAX_ON_ERROR must be one of \['off', 'raise'"):
        jax.jit(_fresh(CALLS["linear"][0]))(jnp.asarray(1.0), _X(), _labels())
