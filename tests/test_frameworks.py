"""regjax.transforms and regjax.penalties on real Flax NNX, Flax Linen and Equinox trees.

Expected values are read back through each framework's own objects (``nnx.merge``,
Linen's ``{"params": {"Dense_0": {"kernel", "bias"}}}``, ``eqx.combine``), not through
the library's path logic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from _helpers import train
from flax import nnx

from regjax import losses, penalties, transforms

M, N_IN, HIDDEN = 64, 4, 8
STEPS = 30  # SGD steps of the equivalence test


class Net(NamedTuple):
    """A framework's parameter tree, its forward pass and its layers' arrays."""

    params: Any
    apply: Callable[[Any, jax.Array], jax.Array]
    layers: Callable[[Any], list[tuple[jax.Array, jax.Array]]]  # [(weight, bias), ...]
    first_layer: str  # a regex for path_mask that selects the first layer only


def _f64(tree: Any) -> Any:
    return jax.tree.map(lambda x: x.astype(jnp.float64), tree)


def _nnx() -> Net:
    class MLP(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.hidden = nnx.Linear(N_IN, HIDDEN, rngs=rngs)
            self.out = nnx.Linear(HIDDEN, 1, rngs=rngs)

        def __call__(self, x: jax.Array) -> jax.Array:
            return self.out(jnp.tanh(self.hidden(x)))[:, 0]

    graphdef, params = nnx.split(MLP(nnx.Rngs(0)), nnx.Param)

    def layers(p: Any) -> list[tuple[jax.Array, jax.Array]]:
        model = nnx.merge(graphdef, p)
        return [(layer.kernel[...], layer.bias[...]) for layer in (model.hidden, model.out)]

    return Net(_f64(params), lambda p, X: nnx.merge(graphdef, p)(X), layers, r"hidden")


def _linen() -> Net:
    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x: jax.Array) -> jax.Array:
            return nn.Dense(1)(jnp.tanh(nn.Dense(HIDDEN)(x)))[:, 0]

    model = MLP()
    variables = model.init(jax.random.key(0), jnp.ones((1, N_IN)))

    def layers(p: Any) -> list[tuple[jax.Array, jax.Array]]:
        return [(p["params"][k]["kernel"], p["params"][k]["bias"]) for k in ("Dense_0", "Dense_1")]

    return Net(_f64(dict(variables)), model.apply, layers, r"Dense_0")


class _EqxMLP(eqx.Module):
    layers: tuple[eqx.nn.Linear, ...]

    def __init__(self, key: jax.Array) -> None:
        k1, k2 = jax.random.split(key)
        self.layers = (eqx.nn.Linear(N_IN, HIDDEN, key=k1), eqx.nn.Linear(HIDDEN, 1, key=k2))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.layers[1](jnp.tanh(self.layers[0](x)))


def _equinox() -> Net:
    params, static = eqx.partition(_EqxMLP(jax.random.key(0)), eqx.is_array)

    def apply(p: Any, X: jax.Array) -> jax.Array:
        return jax.vmap(eqx.combine(p, static))(X)[:, 0]

    def layers(p: Any) -> list[tuple[jax.Array, jax.Array]]:
        return [(layer.weight, layer.bias) for layer in p.layers]

    return Net(_f64(params), apply, layers, r"layers\[0\]")


FRAMEWORKS = {"flax_nnx": _nnx, "flax_linen": _linen, "equinox": _equinox}


@pytest.fixture(params=list(FRAMEWORKS))
def net(request, x64) -> Net:
    with jax.numpy_dtype_promotion("standard"):  # the frameworks' initializers mix dtypes
        return FRAMEWORKS[request.param]()


def _data() -> tuple[jax.Array, jax.Array]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(M, N_IN))
    return jnp.asarray(X), jnp.asarray(np.sin(X.sum(1)))


def _step(opt: optax.GradientTransformation, params: Any, grads: Any) -> Any:
    updates, _ = opt.update(grads, opt.init(params), params)
    return optax.apply_updates(params, updates)


def _assert_layers(net: Net, new: Any, factors: list[tuple[float, float]]) -> None:
    """Each layer's (weight, bias) equals the old one times its (factor_w, factor_b)."""
    for (w, b), (w_new, b_new), (fw, fb) in zip(net.layers(net.params), net.layers(new), factors):
        np.testing.assert_allclose(w_new, fw * np.asarray(w), rtol=1e-14)
        np.testing.assert_allclose(b_new, fb * np.asarray(b), rtol=1e-14)


def test_trees_are_the_frameworks_own(net):
    X, _ = _data()
    assert net.apply(net.params, X).shape == (M,)
    assert len(net.layers(net.params)) == 2


def test_coupled_l2_equals_penalty_equals_decoupled(net):
    """30 SGD steps: add_l2_gradient ≡ loss + penalties.l2 ≡ decoupled decay (float64)."""
    X, y = _data()
    lam, eta = 8.0, 0.3

    def loss(p: Any) -> jax.Array:
        return losses.squared_error(net.apply(p, X), y)

    def cost(p: Any) -> jax.Array:
        return loss(p) + penalties.l2(p, lam, m=M)

    # the penalty sees the weights, not the biases: λ/(2m)·Σ‖W‖² read off the layers
    expected = lam / (2 * M) * sum(float(jnp.sum(w**2)) for w, _ in net.layers(net.params))
    np.testing.assert_allclose(penalties.l2(net.params, lam, m=M), expected, rtol=1e-14)

    ref = train(optax.sgd(eta), cost, net.params, STEPS)
    for opt in [
        optax.chain(transforms.add_l2_gradient(lam, m=M), optax.sgd(eta)),
        optax.chain(optax.sgd(eta), transforms.decoupled_weight_decay(lam / M, learning_rate=eta)),
        optax.chain(
            optax.sgd(eta), transforms.decoupled_weight_decay(eta * lam / M, lr_scaled=False)
        ),
    ]:
        got = train(opt, loss, net.params, STEPS)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(ref)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    plain = train(optax.sgd(eta), loss, net.params, STEPS)
    gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(*map(jax.tree.leaves, (plain, ref))))
    assert gap > 1e-3  # λ matters


def test_default_mask_spares_biases(net):
    eta, rate = 0.1, 0.5
    zeros = jax.tree.map(jnp.zeros_like, net.params)
    decay = optax.chain(optax.sgd(eta), transforms.decoupled_weight_decay(rate, learning_rate=eta))
    _assert_layers(net, _step(decay, net.params, zeros), [(0.95, 1.0), (0.95, 1.0)])
    toward = optax.chain(transforms.decay_toward(zeros, rate), optax.sgd(eta))
    _assert_layers(net, _step(toward, net.params, zeros), [(0.95, 1.0), (0.95, 1.0)])


def test_path_bool_and_callable_masks(net):
    eta, rate = 0.1, 0.5
    zeros = jax.tree.map(jnp.zeros_like, net.params)

    def decay(mask: Any) -> optax.GradientTransformation:
        return optax.chain(
            optax.sgd(eta), transforms.decoupled_weight_decay(rate, learning_rate=eta, mask=mask)
        )

    first = penalties.path_mask(net.first_layer)
    _assert_layers(net, _step(decay(first), net.params, zeros), [(0.95, 0.95), (1.0, 1.0)])
    everything = jax.tree.map(lambda _: True, net.params)  # a boolean pytree
    _assert_layers(net, _step(decay(everything), net.params, zeros), [(0.95, 0.95)] * 2)

    def matrices(p: Any) -> Any:
        return jax.tree.map(lambda x: x.ndim == 2, p)

    _assert_layers(net, _step(decay(matrices), net.params, zeros), [(0.95, 1.0)] * 2)


def test_prox_l1_zeros_weights_not_biases(net):
    zeros = jax.tree.map(jnp.zeros_like, net.params)
    big = 1e6  # threshold η·λ/m far above every weight
    prox = optax.chain(optax.sgd(0.1), transforms.prox_l1(big, m=M, learning_rate=0.1))
    new = _step(prox, net.params, zeros)
    for (w, b), (_, b_old) in zip(net.layers(new), net.layers(net.params)):
        assert np.all(np.asarray(w) == 0)
        np.testing.assert_array_equal(b, b_old)


def test_mismatched_mask_names_the_problem(net):
    tx = transforms.decoupled_weight_decay(0.1, learning_rate=0.1, mask={"kernel": True})
    with pytest.raises(ValueError, match="mask must have the structure of params"):
        tx.init(net.params)
    tx = transforms.add_l2_gradient(1.0, m=M)
    with pytest.raises(ValueError, match="needs the current parameters"):
        tx.update(net.params, tx.init(net.params), None)


def test_equinox_mlp_partition_with_none_subtrees():
    """eqx.partition leaves None where eqx.nn.MLP has its activation fields."""
    model = eqx.nn.MLP(N_IN, 1, HIDDEN, depth=1, activation=jnp.tanh, key=jax.random.key(0))
    params, _ = eqx.partition(model, eqx.is_array)
    zeros = jax.tree.map(jnp.zeros_like, params)
    tx = optax.chain(optax.sgd(0.1), transforms.decoupled_weight_decay(0.5, learning_rate=0.1))
    new = _step(tx, params, zeros)
    for old, layer in zip(params.layers, new.layers):
        np.testing.assert_allclose(layer.weight, 0.95 * old.weight, rtol=1e-6)
        np.testing.assert_array_equal(layer.bias, old.bias)


def test_equinox_boolean_module_mask_is_a_tree_not_a_function():
    """A boolean pytree that is a callable Equinox module is used as a mask, not called."""
    model = eqx.nn.MLP(N_IN, 1, HIDDEN, depth=1, activation=jnp.tanh, key=jax.random.key(0))
    params, _ = eqx.partition(model, eqx.is_array)
    mask = jax.tree.map(lambda leaf: leaf.ndim == 2, params)  # weights only
    assert callable(mask)
    expected = sum(0.5 * float(jnp.sum(layer.weight**2)) for layer in params.layers)
    np.testing.assert_allclose(
        penalties.l2(params, 1.0, scale="sum", mask=mask), expected, rtol=1e-6
    )
