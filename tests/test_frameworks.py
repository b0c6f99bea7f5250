"""regjax.transforms and regjax.penalties on real Flax NNX, Flax Linen and Equinox trees.

Expected values are read back through each framework's own objects (``nnx.merge``,
Linen's ``{"params": {"Dense_0": {"kernel", "bias"}}}``, ``eqx.combine``), not through
the library's path logic.
"""

from __future__ import annotations

import functools
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

from regjax import losses, optimizers, penalties, transforms

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


# ---------------------------------------------------------------------------------------
# norm layers: embedding → Dense → LayerNorm → BatchNorm → RMSNorm → tanh → Dense

VOCAB, EMB = 5, 3
TOKENS = jnp.arange(16) % VOCAB


class NormNet(NamedTuple):
    """A model with norm layers, its parameters, and its arrays read by the framework."""

    params: Any
    apply: Callable[[Any, jax.Array], jax.Array]
    kernels: Callable[[Any], dict[str, jax.Array]]  # "embedding", "hidden", "out"
    scales: Callable[[Any], list[jax.Array]]  # the three norm layers' scales (weights)
    rest: Callable[[Any], list[jax.Array]]  # norm biases and the layers' biases
    full: Any  # the whole tree, with the batch statistics where they are variables


def _nnx_norm() -> NormNet:
    class Model(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.embed = nnx.Embed(VOCAB, EMB, rngs=rngs)
            self.hidden = nnx.Linear(EMB, HIDDEN, rngs=rngs)
            self.ln = nnx.LayerNorm(HIDDEN, rngs=rngs)
            self.bn = nnx.BatchNorm(HIDDEN, use_running_average=True, rngs=rngs)
            self.rms = nnx.RMSNorm(HIDDEN, rngs=rngs)
            self.out = nnx.Linear(HIDDEN, 1, rngs=rngs)

        def __call__(self, t: jax.Array) -> jax.Array:
            h = self.rms(self.bn(self.ln(self.hidden(self.embed(t)))))
            return self.out(jnp.tanh(h))[:, 0]

    graphdef, params, stats = nnx.split(Model(nnx.Rngs(0)), nnx.Param, ...)
    stats = _f64(stats)

    def model(p: Any) -> Any:
        return nnx.merge(graphdef, p, stats)

    def kernels(p: Any) -> dict[str, jax.Array]:
        m = model(p)
        return {"embedding": m.embed.embedding[...], "hidden": m.hidden.kernel[...],
                "out": m.out.kernel[...]}  # fmt: skip

    def scales(p: Any) -> list[jax.Array]:
        m = model(p)
        return [m.ln.scale[...], m.bn.scale[...], m.rms.scale[...]]

    def rest(p: Any) -> list[jax.Array]:
        m = model(p)
        return [m.ln.bias[...], m.bn.bias[...], m.hidden.bias[...], m.out.bias[...]]

    params = _f64(params)
    full = nnx.state(model(params))  # Param and BatchStat variables
    return NormNet(params, lambda p, t: model(p)(t), kernels, scales, rest, full)


def _linen_norm() -> NormNet:
    class Model(nn.Module):
        @nn.compact
        def __call__(self, t: jax.Array) -> jax.Array:
            h = nn.Dense(HIDDEN)(nn.Embed(VOCAB, EMB)(t))
            h = nn.RMSNorm()(nn.BatchNorm(use_running_average=True)(nn.LayerNorm()(h)))
            return nn.Dense(1)(jnp.tanh(h))[:, 0]

    model = Model()
    variables = _f64(dict(model.init(jax.random.key(0), TOKENS)))
    stats = variables["batch_stats"]  # not parameters: the optimizer never sees them
    norms = ("LayerNorm_0", "BatchNorm_0", "RMSNorm_0")
    return NormNet(
        variables["params"],
        lambda p, t: model.apply({"params": p, "batch_stats": stats}, t),
        lambda p: {
            "embedding": p["Embed_0"]["embedding"],
            "hidden": p["Dense_0"]["kernel"],
            "out": p["Dense_1"]["kernel"],
        },
        lambda p: [p[k]["scale"] for k in norms],
        lambda p: [p[k]["bias"] for k in ("LayerNorm_0", "BatchNorm_0", "Dense_0", "Dense_1")],
        variables,
    )


class _EqxNormModel(eqx.Module):
    embed: eqx.nn.Embedding
    hidden: eqx.nn.Linear
    ln: eqx.nn.LayerNorm
    bn: eqx.nn.BatchNorm
    rms: eqx.nn.RMSNorm
    out: eqx.nn.Linear

    def __init__(self, key: jax.Array) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        self.embed = eqx.nn.Embedding(VOCAB, EMB, key=k1)
        self.hidden = eqx.nn.Linear(EMB, HIDDEN, key=k2)
        self.ln = eqx.nn.LayerNorm(HIDDEN)
        self.bn = eqx.nn.BatchNorm(HIDDEN, "batch", inference=True, mode="batch")
        self.rms = eqx.nn.RMSNorm(HIDDEN)
        self.out = eqx.nn.Linear(HIDDEN, 1, key=k3)

    def __call__(self, t: jax.Array, state: eqx.nn.State) -> tuple[jax.Array, eqx.nn.State]:
        h, state = self.bn(self.ln(self.hidden(self.embed(t))), state)
        return self.out(jnp.tanh(self.rms(h)))[0], state


def _equinox_norm() -> NormNet:
    model, state = eqx.nn.make_with_state(_EqxNormModel)(jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    state = _f64(state)

    def apply(p: Any, t: jax.Array) -> jax.Array:
        batched = jax.vmap(
            eqx.combine(p, static), axis_name="batch", in_axes=(0, None), out_axes=(0, None)
        )
        return batched(t, state)[0]

    return NormNet(
        _f64(params),
        apply,
        lambda p: {"embedding": p.embed.weight, "hidden": p.hidden.weight, "out": p.out.weight},
        lambda p: [p.ln.weight, p.bn.weight, p.rms.weight],
        lambda p: [p.ln.bias, p.bn.bias, p.rms.bias, p.hidden.bias, p.out.bias],
        _f64(eqx.filter(model, eqx.is_inexact_array)),
    )


NORM_FRAMEWORKS = {"flax_nnx": _nnx_norm, "flax_linen": _linen_norm, "equinox": _equinox_norm}


@pytest.fixture(params=list(NORM_FRAMEWORKS))
def norm_net(request, x64) -> NormNet:
    with jax.numpy_dtype_promotion("standard"):
        return NORM_FRAMEWORKS[request.param]()


def _sum_sq(arrays: Any) -> float:
    return float(sum(np.sum(np.asarray(a) ** 2) for a in arrays))


def test_norm_layers_are_not_penalized(norm_net):
    """penalties.l2 under each mask = λ/2 · Σ of the squares the mask should see (numpy)."""
    p, lam = norm_net.params, 3.0
    kernels, scales = norm_net.kernels(p), norm_net.scales(p)
    no_embedding = functools.partial(penalties.weights_only, embeddings=False)
    expected = {
        None: _sum_sq(kernels.values()),
        penalties.exclude_biases_and_norms: _sum_sq(kernels.values()),
        penalties.weights_only: _sum_sq(kernels.values()),
        no_embedding: _sum_sq([kernels["hidden"], kernels["out"]]),
        penalties.exclude_biases: _sum_sq([*kernels.values(), *scales]),  # scales decayed
        True: _sum_sq(jax.tree.leaves(p)),  # PyTorch's and Optax's default: everything
    }
    for mask, total in expected.items():
        got = penalties.l2(p, lam, scale="sum", mask=mask)
        np.testing.assert_allclose(got, lam / 2 * total, rtol=1e-13, err_msg=str(mask))
    assert _sum_sq(scales) == 3 * HIDDEN  # the norm scales start at 1: not a vacuous test
    # batch statistics (running var = 1) are not decayed either: Linen's batch_stats
    # collection by name, NNX's BatchStat variables by type
    extra = len(jax.tree.leaves(norm_net.full)) - len(jax.tree.leaves(p))
    assert extra == (0 if isinstance(norm_net.full, eqx.Module) else 2)  # mean and var
    np.testing.assert_allclose(
        penalties.l2(norm_net.full, lam, scale="sum"), lam / 2 * expected[None], rtol=1e-13
    )


def _trajectory(opt: optax.GradientTransformation, params: Any, grads: Any, steps: int) -> list:
    """Parameters after 0..steps updates with the same gradients each step."""
    state, out = opt.init(params), [params]
    with jax.numpy_dtype_promotion("standard"):  # optax.adam mixes its int count in
        for _ in range(steps):
            updates, state = opt.update(grads, state, out[-1])
            out.append(optax.apply_updates(out[-1], updates))
    return out


def test_decay_leaves_norm_layers_alone(norm_net):
    """adamw / decoupled decay: norm scales and biases move exactly as under the optimizer
    alone; the kernels follow θ_k = (1 − ηr)·θ_{k−1} + Δ_k, Δ_k the optimizer's own step."""
    eta, rate, steps = 0.05, 2.0, 2
    y = jnp.sin(TOKENS.astype(jnp.float64))

    def loss(p: Any) -> jax.Array:
        return losses.squared_error(norm_net.apply(p, TOKENS), y)

    with jax.numpy_dtype_promotion("standard"):  # the layers' own float32 constants
        grads = jax.jit(jax.grad(loss))(norm_net.params)  # fixed: each leaf steps alone
    no_embedding = functools.partial(penalties.weights_only, embeddings=False)
    adam = _trajectory(optax.adam(eta), norm_net.params, grads, steps)  # the optimizers alone
    sgd = _trajectory(optax.sgd(eta), norm_net.params, grads, steps)
    everything = ("embedding", "hidden", "out")
    runs = [  # (with decay, the optimizer alone, the kernels decayed)
        (optimizers.adamw(eta, rate), adam, everything),
        (optimizers.adamw(eta, rate, mask=penalties.weights_only), adam, everything),
        (
            optax.chain(
                optax.sgd(eta),
                transforms.decoupled_weight_decay(rate, learning_rate=eta, mask=no_embedding),
            ),
            sgd,
            ("hidden", "out"),
        ),
    ]
    for decayed, ref, names in runs:
        got = _trajectory(decayed, norm_net.params, grads, steps)[-1]
        for fn in (norm_net.scales, norm_net.rest):
            for a, b in zip(fn(got), fn(ref[-1])):
                np.testing.assert_array_equal(a, b)
        seq = [norm_net.kernels(p) for p in ref]
        for name, kernel in norm_net.kernels(got).items():
            expected = np.asarray(seq[0][name])
            for k in range(1, steps + 1):
                shrink = 1 - eta * rate if name in names else 1.0
                expected = shrink * expected + np.asarray(seq[k][name] - seq[k - 1][name])
            np.testing.assert_allclose(kernel, expected, rtol=1e-12, atol=1e-15, err_msg=name)
    # mask=True reproduces optax.adamw / PyTorch AdamW: the norm scales (all 1) decay too
    decay_all = _trajectory(optimizers.adamw(eta, rate, mask=True), norm_net.params, grads, 1)
    for a, b in zip(norm_net.scales(decay_all[-1]), norm_net.scales(adam[1])):
        np.testing.assert_allclose(a, np.asarray(b) - eta * rate * 1.0, rtol=1e-12)


def test_nnx_and_equinox_modules_are_recognized_by_type(x64):
    """An NNX module passed whole (it is a pytree): its norm layers by type, whatever
    the attribute names; Equinox norm layers in a list, where no name says "norm"."""

    class Block(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.a = nnx.Linear(2, 3, rngs=rngs)
            self.b = nnx.BatchNorm(3, rngs=rngs)  # scale, bias, mean, var
            self.c = nnx.GroupNorm(3, num_groups=1, rngs=rngs)

    mask = penalties.exclude_biases_and_norms(Block(nnx.Rngs(0)))
    assert jax.tree.leaves(mask.a) == [False, True]  # bias, kernel
    assert not any(jax.tree.leaves(mask.b)) and not any(jax.tree.leaves(mask.c))
    assert len(jax.tree.leaves(mask.b)) == 4

    key = jax.random.key(0)
    layers = [eqx.nn.Linear(2, 3, key=key), eqx.nn.GroupNorm(1, 3), eqx.nn.LayerNorm(3)]
    flags = jax.tree.leaves(penalties.exclude_biases_and_norms(layers))
    assert flags == [True, False, False, False, False, False]  # W, b, 2 × (weight, bias)
    # the old rule, by name only, decays the norms' weights
    assert jax.tree.leaves(penalties.exclude_biases(layers)) == [True, False] * 3
