"""Penalties: three witnesses for every gradient, the worked facts, masks and per-leaf λ.

Every closed-form penalty gradient is held against ``jax.grad`` (rtol 1e-10), against
central differences (``rj.check_grad``, rtol 1e-6) and, as an independent third witness,
against ``jax.test_util.check_grads`` — both for autodiff and for the closed form wrapped
in a ``jax.custom_vjp``. The penalty values and gradients are also compared with a plain
numpy evaluation of the formulas in the docstrings, with the masks and strengths worked
out here from the leaf names, not by the library.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _witnesses import assert_three_witnesses, assert_trees_close
from hypothesis import given, settings
from hypothesis import strategies as st

from regjax import closed_form, penalties

PENALTIES = ("l2", "l1", "elastic_net")
SCALES = ("per_example", "sum", "per_param")
MASK_KINDS = (
    "none",
    "exclude_biases",
    "weights_only",
    "everything",
    "bool_tree",
    "bool_prefix",
    "callable",
    "path_regex",
    "path_predicate",
)
LAM_KINDS = ("scalar", "zero", "per_leaf", "prefix")
BIAS_NAMES = ("b", "bias")
NORM_NAMES = ("scale",)  # Flax norm layers' scale
L1_RATIO = 0.3


# ---------------------------------------------------------------------------------------
# helpers


def _leaf_names(params):
    """The dict key each leaf is stored under (every leaf here lives in a dict)."""
    return [path[-1].key for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]


def _top_index(params):
    """For each leaf, the index of the top-level entry of ``params`` holding it."""
    keys = list(params) if isinstance(params, dict) else list(range(len(params)))
    out = []
    for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]:
        top = path[0]
        out.append(keys.index(top.key if hasattr(top, "key") else top.idx))
    return out


def _top_prefix(params, values):
    """A prefix pytree of ``params``: one value per top-level entry."""
    if isinstance(params, dict):
        return dict(zip(params, values))
    return list(values)


def _make_mask(kind, params, rng):
    """(mask argument, expected flag per leaf), the flags derived from the leaf names."""
    names = _leaf_names(params)
    leaves, treedef = jax.tree.flatten(params)
    not_bias = [name not in BIAS_NAMES for name in names]
    not_norm = [keep and name not in NORM_NAMES for name, keep in zip(names, not_bias)]
    if kind == "none":
        return None, not_norm
    if kind == "exclude_biases":
        return penalties.exclude_biases, not_bias
    if kind == "weights_only":
        return penalties.weights_only, [k and np.ndim(x) >= 2 for k, x in zip(not_norm, leaves)]
    if kind == "everything":
        return True, [True] * len(leaves)
    if kind == "bool_tree":
        flags = [bool(v) for v in rng.integers(0, 2, len(leaves))]
        return jax.tree.unflatten(treedef, flags), flags
    if kind == "bool_prefix":
        top = _top_index(params)
        n_top = max(top) + 1
        values = [bool(v) for v in rng.integers(0, 2, n_top)]
        return _top_prefix(params, values), [values[i] for i in top]
    if kind == "callable":
        return (
            lambda p: jax.tree.map(lambda x: jnp.ndim(x) >= 2, p),
            [np.ndim(x) >= 2 for x in leaves],
        )
    if kind == "path_regex":
        return penalties.path_mask(r"\['(W|kernel)'\]$"), [n in ("W", "kernel") for n in names]
    if kind == "path_predicate":
        return (
            penalties.path_mask(lambda path: "scale" not in path and "bias" not in path),
            [n not in ("scale", "bias") for n in names],
        )
    raise AssertionError(kind)


def _make_lam(kind, params, rng):
    """(lam argument, expected λ per leaf)."""
    n_leaves = len(jax.tree.leaves(params))
    if kind == "scalar":
        value = float(rng.uniform(0.1, 3.0))
        return value, [value] * n_leaves
    if kind == "zero":
        return 0.0, [0.0] * n_leaves
    if kind == "per_leaf":
        values = [float(v) for v in rng.uniform(0.0, 3.0, n_leaves)]
        return jax.tree.unflatten(jax.tree.structure(params), values), values
    if kind == "prefix":
        top = _top_index(params)
        values = [float(v) for v in rng.uniform(0.0, 3.0, max(top) + 1)]
        return _top_prefix(params, values), [values[i] for i in top]
    raise AssertionError(kind)


def _divisor(scale, m, flags, params):
    n = sum(np.size(x) for x, keep in zip(jax.tree.leaves(params), flags) if keep)
    return {"per_example": m, "sum": 1, "per_param": max(n, 1)}[scale]


def _numpy_penalty(penalty, params, lams, flags, d):
    """Value and gradient leaves of the penalty, from the formulas, in numpy."""
    value, grads = 0.0, []
    for w, lam, keep in zip(jax.tree.leaves(params), lams, flags):
        w = np.asarray(w, dtype=np.float64)
        lam = lam if keep else 0.0
        l2_v, l2_g = lam * np.sum(w**2) / (2 * d), lam * w / d
        l1_v, l1_g = lam * np.sum(np.abs(w)) / d, lam * np.sign(w) / d
        if penalty == "l2":
            value, g = value + l2_v, l2_g
        elif penalty == "l1":
            value, g = value + l1_v, l1_g
        else:
            value += L1_RATIO * l1_v + (1 - L1_RATIO) * l2_v
            g = L1_RATIO * l1_g + (1 - L1_RATIO) * l2_g
        grads.append(g)
    return value, grads


def _penalty_fns(penalty, *, m, scale, mask):
    kw = {"m": m, "scale": scale, "mask": mask}
    if penalty == "elastic_net":
        kw["l1_ratio"] = L1_RATIO
    fn = getattr(penalties, penalty)
    grad = getattr(closed_form, f"{penalty}_grad")
    return (lambda p, lam: fn(p, lam, **kw)), (lambda p, lam: grad(p, lam, **kw))


# ---------------------------------------------------------------------------------------
# random pytrees


def _array(rng, shape, away_from_zero):
    if away_from_zero:
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)
    return rng.normal(size=shape)


# Tree layouts, each a pytree of leaf shapes (tuples are wrapped so they stay leaves).
# A fixed set of layouts (random values, masks and λ on top) keeps the number of
# distinct array shapes small, so JAX's per-shape compilations are shared by examples.
class _Shape(tuple):
    pass


def _layouts():
    s = _Shape
    return {
        "flat": {"w": s((3,)), "b": s(())},
        "flat_named": {"kernel": s((2, 3)), "bias": s((3,)), "scale": s(())},
        "tensor": {"W": s((2, 1, 2)), "w": s((3,)), "b": s((2, 3))},
        "nested": {
            "enc": {"W": s((2, 3)), "b": s((3,))},
            "dec": {"inner": {"kernel": s((3,)), "bias": s(())}, "w": s((2, 1, 2))},
        },
        "mlp": [{"W": s((3, 2)), "b": s((3,))}, {"W": s((1, 3)), "b": s((1,))}],
        "mlp_bias": [
            {"W": s((3, 3)), "bias": s((3,))},
            {"W": s((3, 3)), "bias": s((3,))},
            {"W": s((2, 3)), "bias": s((2,))},
        ],
        "mixed": {
            "layers": [{"W": s((3, 2)), "b": s((3,))}, {"W": s((2, 3)), "b": s((2,))}],
            "head": {"kernel": s((2, 3)), "bias": s((3,)), "scale": s(())},
        },
    }


LAYOUTS = tuple(_layouts())


@st.composite
def param_trees(draw, away_from_zero=True):
    """Random pytrees: flat dicts, dicts of dicts, MLP-like lists of dicts, and mixes."""
    layout = _layouts()[draw(st.sampled_from(LAYOUTS))]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return jax.tree.map(
        lambda shape: _array(rng, tuple(shape), away_from_zero),
        layout,
        is_leaf=lambda x: isinstance(x, _Shape),
    )


def _to_jax(params):
    return jax.tree.map(jnp.asarray, params)


# ---------------------------------------------------------------------------------------
# three witnesses


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("penalty", PENALTIES)
@settings(max_examples=3)
@given(
    tree=param_trees(),
    mask_kind=st.sampled_from(MASK_KINDS),
    lam_kind=st.sampled_from(LAM_KINDS),
    m=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
)
def test_penalty_gradient_three_witnesses(x64, penalty, scale, tree, mask_kind, lam_kind, m, seed):
    rng = np.random.default_rng(seed)
    params = _to_jax(tree)
    mask, flags = _make_mask(mask_kind, params, rng)
    lam, lams = _make_lam(lam_kind, params, rng)
    cost, closed = _penalty_fns(penalty, m=m, scale=scale, mask=mask)

    # the library agrees with the numpy formulas (mask and λ worked out independently)
    value, grads = _numpy_penalty(penalty, params, lams, flags, _divisor(scale, m, flags, params))
    np.testing.assert_allclose(float(cost(params, lam)), value, rtol=1e-12, atol=1e-300)
    assert_trees_close(
        closed(params, lam), jax.tree.unflatten(jax.tree.structure(params), grads), 1e-12
    )
    assert_three_witnesses(cost, closed, params, lam)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_penalty_grid_on_mlp_tree(x64, penalty, scale):
    """Every penalty × scale × mask kind on one nested tree with per-leaf λ.

    Every mask kind is checked against the numpy formulas and against jax.grad; the
    central-difference witnesses run for one mask kind per (penalty, scale), rotating,
    so that each kind meets them (the hypothesis test above draws every combination).
    """
    rng = np.random.default_rng(7)
    params = _to_jax(
        {
            "layers": [
                {"W": _array(rng, (3, 2), True), "b": _array(rng, (3,), True)},
                {"W": _array(rng, (2, 3), True), "b": _array(rng, (2,), True)},
            ],
            "head": {"kernel": _array(rng, (2, 2), True), "bias": _array(rng, (2,), True)},
            "scale": _array(rng, (), True),
        }
    )
    rotation = (PENALTIES.index(penalty) * len(SCALES) + SCALES.index(scale)) % len(MASK_KINDS)
    for i, mask_kind in enumerate(MASK_KINDS):
        mask, flags = _make_mask(mask_kind, params, rng)
        lam, lams = _make_lam("per_leaf", params, rng)
        cost, closed = _penalty_fns(penalty, m=17, scale=scale, mask=mask)
        d = _divisor(scale, 17, flags, params)
        value, grads = _numpy_penalty(penalty, params, lams, flags, d)
        np.testing.assert_allclose(float(cost(params, lam)), value, rtol=1e-12)
        expected = jax.tree.unflatten(jax.tree.structure(params), grads)
        assert_trees_close(closed(params, lam), expected, 1e-12)
        assert_trees_close(closed(params, lam), jax.grad(cost)(params, lam), 1e-10)
        if i == rotation:
            assert_three_witnesses(cost, closed, params, lam)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("penalty", ("l1", "elastic_net"))
def test_l1_subgradient_is_zero_at_zero(x64, penalty, scale):
    """At exactly w = 0 the closed form picks the subgradient 0, as jax.grad of abs does."""
    params = {"w": jnp.array([0.0, -1.5, 0.0, 2.0]), "b": jnp.array(0.0)}
    cost, closed = _penalty_fns(penalty, m=4, scale=scale, mask=None)
    g_closed, g_auto = closed(params, 2.0), jax.grad(cost)(params, 2.0)
    for g in (g_closed, g_auto):
        assert float(g["w"][0]) == 0.0
        assert float(g["w"][2]) == 0.0
        assert float(g["b"]) == 0.0
        assert float(g["w"][1]) < 0.0 < float(g["w"][3])
    assert_trees_close(g_closed, g_auto, 1e-12)
    # the subdifferential at 0 for L1 is [−λ/d, λ/d]; 0 lies inside it.
    d = {"per_example": 4, "sum": 1, "per_param": 4}[scale]
    assert -2.0 / d <= float(g_closed["w"][0]) <= 2.0 / d


@pytest.mark.parametrize("scale", SCALES)
def test_l1_subgradient_at_zero_per_leaf(x64, scale):
    """A whole leaf of zeros, per-leaf λ, a mask: still exactly 0, both ways."""
    params = {"a": {"w": jnp.zeros((2, 3))}, "c": {"w": jnp.array([0.5, 0.0])}}
    lam = {"a": 3.0, "c": 1.0}
    cost, closed = _penalty_fns("l1", m=5, scale=scale, mask=None)
    g_closed, g_auto = closed(params, lam), jax.grad(cost)(params, lam)
    np.testing.assert_array_equal(g_closed["a"]["w"], np.zeros((2, 3)))
    np.testing.assert_array_equal(g_auto["a"]["w"], np.zeros((2, 3)))
    assert float(g_closed["c"]["w"][1]) == 0.0 == float(g_auto["c"]["w"][1])


# ---------------------------------------------------------------------------------------
# worked facts


def test_l2_gradient_is_lambda_theta_over_m(x64, rng):
    """∂/∂θ λ/(2m)‖θ‖² = λθ/m, compared with the formula itself."""
    theta = jnp.asarray(rng.normal(size=7))
    lam, m = 0.37, 23
    params = {"w": theta}
    expected = lam * np.asarray(theta) / m
    np.testing.assert_allclose(closed_form.l2_grad(params, lam, m=m)["w"], expected, rtol=1e-15)
    np.testing.assert_allclose(jax.grad(penalties.l2)(params, lam, m=m)["w"], expected, rtol=1e-14)
    np.testing.assert_allclose(
        float(penalties.l2(params, lam, m=m)),
        lam / (2 * m) * float(np.sum(np.asarray(theta) ** 2)),
        rtol=1e-14,
    )


def test_the_half_cancels_the_two(x64, rng):
    """Without the ½ the gradient of λ/m‖θ‖² is 2λθ/m: the ½ is what makes it λθ/m."""
    theta = jnp.asarray(rng.normal(size=5))
    lam, m = 1.3, 10

    def no_half(t):
        return lam / m * jnp.sum(t**2)

    np.testing.assert_allclose(jax.grad(no_half)(theta), 2 * lam * np.asarray(theta) / m, 1e-14)
    with_half = jax.grad(lambda t: penalties.l2({"w": t}, lam, m=m))(theta)
    np.testing.assert_allclose(with_half, lam * np.asarray(theta) / m, rtol=1e-14)
    np.testing.assert_allclose(jax.grad(no_half)(theta), 2 * with_half, rtol=1e-14)


@pytest.mark.parametrize("penalty", ("l2", "l1"))
def test_per_example_value_grows_with_n_gradient_does_not(x64, penalty):
    """n copies of the same weight: value linear in n, each weight's gradient fixed."""
    c, lam, m = 0.8, 2.5, 40
    fn = getattr(penalties, penalty)
    grad = getattr(closed_form, f"{penalty}_grad")
    per_weight = c**2 / 2 if penalty == "l2" else abs(c)
    expected_grad = lam * c / m if penalty == "l2" else lam * np.sign(c) / m
    for n in (1, 2, 5, 10, 100):
        params = {"w": jnp.full((n,), c), "b": jnp.array(1.0)}
        value = float(fn(params, lam, m=m, scale="per_example"))
        np.testing.assert_allclose(value, n * lam / m * per_weight, rtol=1e-13)
        for g in (grad(params, lam, m=m)["w"], jax.grad(fn)(params, lam, m=m)["w"]):
            np.testing.assert_allclose(g, np.full(n, expected_grad), rtol=1e-14)


@pytest.mark.parametrize("penalty", ("l2", "l1"))
def test_per_param_value_stays_put_as_n_grows(x64, penalty):
    c, lam = -1.7, 0.9
    fn = getattr(penalties, penalty)
    per_weight = c**2 / 2 if penalty == "l2" else abs(c)
    values = []
    for n in (1, 3, 10, 100):
        params = {"w": jnp.full((n,), c), "bias": jnp.array(4.0)}
        values.append(float(fn(params, lam, scale="per_param")))
        expected_grad = (lam * c if penalty == "l2" else lam * np.sign(c)) / n
        np.testing.assert_allclose(
            closed_form.__dict__[f"{penalty}_grad"](params, lam, scale="per_param")["w"],
            np.full(n, expected_grad),
            rtol=1e-14,
        )
    np.testing.assert_allclose(values, lam * per_weight, rtol=1e-13)


def test_sum_scale_is_per_example_with_m_one(x64, rng):
    params = {"w": jnp.asarray(rng.normal(size=(3, 2))), "b": jnp.asarray(rng.normal(size=2))}
    for name in PENALTIES:
        kw = {"l1_ratio": 0.4} if name == "elastic_net" else {}
        fn = getattr(penalties, name)
        np.testing.assert_allclose(
            float(fn(params, 1.7, scale="sum", **kw)),
            float(fn(params, 1.7, m=1, **kw)),
            rtol=1e-15,
        )


def test_elastic_net_endpoints(x64, rng):
    """ρ = 1 is the lasso, ρ = 0 is ridge."""
    params = {"w": jnp.asarray(rng.normal(size=6)), "b": jnp.array(0.3)}
    np.testing.assert_allclose(
        float(penalties.elastic_net(params, 2.0, l1_ratio=1.0, m=3)),
        float(penalties.l1(params, 2.0, m=3)),
        rtol=1e-15,
    )
    np.testing.assert_allclose(
        float(penalties.elastic_net(params, 2.0, l1_ratio=0.0, m=3)),
        float(penalties.l2(params, 2.0, m=3)),
        rtol=1e-15,
    )


def test_penalty_under_jit_with_traced_lambda(x64, rng):
    """λ is a traced argument: one compilation serves every λ, values match eager."""
    params = {"w": jnp.asarray(rng.normal(size=4)), "b": jnp.array(1.0)}
    traces = []

    @jax.jit
    def f(p, lam):
        traces.append(None)
        return penalties.l2(p, lam, m=8) + penalties.l1(p, lam, m=8)

    for lam in (0.0, 0.5, 3.0):
        lam_arr = jnp.asarray(lam)
        eager = float(penalties.l2(params, lam, m=8) + penalties.l1(params, lam, m=8))
        np.testing.assert_allclose(float(f(params, lam_arr)), eager, rtol=1e-14)
    assert len(traces) == 1


def test_vmap_over_lambda(x64, rng):
    params = {"w": jnp.asarray(rng.normal(size=4)), "b": jnp.array(1.0)}
    lams = jnp.array([0.0, 0.5, 2.0])
    batched = jax.vmap(lambda lam: closed_form.l2_grad(params, lam, m=5)["w"])(lams)
    expected = np.asarray(lams)[:, None] * np.asarray(params["w"])[None, :] / 5
    np.testing.assert_allclose(batched, expected, rtol=1e-15)


# ---------------------------------------------------------------------------------------
# masks


def test_default_mask_excludes_biases_and_norm_parameters(x64):
    params = {
        "dense": {"kernel": jnp.ones((2, 2)), "bias": jnp.ones(2)},
        "layers": [{"W": jnp.ones((1, 2)), "b": jnp.ones(1)}],
        "w": jnp.ones(3),
        "bb": jnp.ones(2),  # not a bias name
        "ln": {"scale": jnp.ones(2), "offset": jnp.ones(2)},  # a Flax-style norm scale
    }
    expected = {
        "dense": {"kernel": True, "bias": False},
        "layers": [{"W": True, "b": False}],
        "w": True,
        "bb": True,
        "ln": {"scale": False, "offset": True},
    }
    assert penalties.exclude_biases_and_norms(params) == expected
    assert penalties.resolve_mask(params) == jax.tree.leaves(expected)
    assert penalties.num_penalized(params) == 4 + 2 + 3 + 2 + 2
    # value: only the kept leaves count (all ones): Σw² = 13
    np.testing.assert_allclose(float(penalties.l2(params, 2.0, scale="sum")), 13.0, rtol=1e-15)
    # exclude_biases, the rule by name alone, keeps the scale
    by_name = penalties.exclude_biases(params)
    assert by_name == {**expected, "ln": {"scale": True, "offset": True}}
    np.testing.assert_allclose(
        float(penalties.l2(params, 2.0, scale="sum", mask=penalties.exclude_biases)), 15.0
    )


def test_default_mask_reads_norm_layer_names_on_the_path():
    """Flax Linen's automatic names, snake case, the batch_stats collection; not look-alikes."""
    spared = ["LayerNorm_0", "BatchNorm_12", "RMSNorm_0", "GroupNorm_3", "InstanceNorm_0",
              "layer_norm", "batchnorm", "mlp/~/layer_norm_1", "batch_stats"]  # fmt: skip
    kept = ["Dense_0", "normal", "enorm", "LayerNormal", "norm_layer", "Conv_0", "Embed_0"]
    params = {name: {"kernel": jnp.ones((2, 2)), "mean": jnp.ones(2)} for name in spared + kept}
    mask = penalties.exclude_biases_and_norms(params)
    assert mask == {name: {"kernel": name in kept, "mean": name in kept} for name in spared + kept}


def test_mask_true_and_false_mean_every_leaf_and_none(x64):
    """mask=True decays everything, as PyTorch's weight_decay and optax.adamw do."""
    params = {"w": jnp.array([1.0, 2.0]), "b": jnp.array(3.0), "scale": jnp.array([4.0])}
    np.testing.assert_allclose(float(penalties.l2(params, 2.0, scale="sum", mask=True)), 30.0)
    np.testing.assert_allclose(float(penalties.l1(params, 1.0, m=2, mask=True)), 5.0)
    assert float(penalties.l2(params, 2.0, scale="sum", mask=False)) == 0.0
    g = closed_form.l2_grad(params, 2.0, scale="sum", mask=True)
    assert_trees_close(g, jax.tree.map(lambda x: 2.0 * x, params), 1e-15)
    assert penalties.num_penalized(params, True) == 4
    assert penalties.resolve_mask(params, np.bool_(False)) == [False] * 3
    for bad in (1, 0.0, "all", jnp.ones(3, dtype=bool)):
        with pytest.raises((TypeError, ValueError), match="mask"):
            penalties.l2(params, 1.0, m=3, mask=bad)


def test_weights_only_keeps_matrices_and_optionally_embeddings(x64):
    params = {
        "Embed_0": {"embedding": jnp.ones((4, 2))},
        "Conv_0": {"kernel": jnp.ones((3, 3, 1, 2)), "bias": jnp.ones(2)},
        "LayerNorm_0": {"scale": jnp.ones((2, 2)), "bias": jnp.ones((2, 2))},  # 2-D norm
        "head": {"W": jnp.ones((2, 2)), "b": jnp.ones((2, 2))},  # a 2-D bias
        "w": jnp.ones(3),  # 1-D: not a matrix
    }
    expected = {
        "Embed_0": {"embedding": True},
        "Conv_0": {"kernel": True, "bias": False},
        "LayerNorm_0": {"scale": False, "bias": False},
        "head": {"W": True, "b": False},
        "w": False,
    }
    assert penalties.weights_only(params) == expected
    assert penalties.weights_only(params, embeddings=False) == {
        **expected,
        "Embed_0": {"embedding": False},
    }
    np.testing.assert_allclose(  # Σw² over 8 + 18 + 4 ones
        float(penalties.l2(params, 2.0, scale="sum", mask=penalties.weights_only)), 30.0
    )


def test_path_mask_regex_and_predicate():
    params = {"enc": {"W": jnp.ones(2), "b": jnp.ones(1)}, "dec": {"W": jnp.ones(3)}}
    assert penalties.path_mask(r"\['enc'\]")(params) == {
        "enc": {"W": True, "b": True},
        "dec": {"W": False},
    }
    assert penalties.path_mask(lambda path: path.endswith("['W']"))(params) == {
        "enc": {"W": True, "b": False},
        "dec": {"W": True},
    }
    np.testing.assert_allclose(
        float(penalties.l1(params, 1.0, scale="sum", mask=penalties.path_mask("dec"))), 3.0
    )


def test_mask_with_wrong_structure_raises_naming_mask():
    params = {"w": jnp.ones(2), "b": jnp.ones(())}
    for mask in ({"w": True}, {"w": True, "b": False, "extra": True}, [True, False]):
        for fn in (penalties.l2, closed_form.l2_grad, penalties.l1, closed_form.l1_grad):
            with pytest.raises(ValueError, match="mask"):
                fn(params, 1.0, m=3, mask=mask)
    with pytest.raises(ValueError, match="mask"):
        penalties.l2(params, 1.0, m=3, mask=lambda p: {"w": True})


def test_mask_leaves_must_be_bools():
    params = {"w": jnp.ones(2), "b": jnp.ones(())}
    with pytest.raises(TypeError, match="mask"):
        penalties.l2(params, 1.0, m=3, mask={"w": 1.0, "b": 0.0})


def test_path_mask_rejects_other_predicates():
    with pytest.raises(TypeError, match="predicate"):
        penalties.path_mask(3)


def test_lam_with_wrong_structure_raises_naming_lam():
    params = {"w": jnp.ones(2), "b": jnp.ones(())}
    for lam in ({"w": 1.0}, {"w": 1.0, "c": 2.0}, [1.0, 2.0]):
        for fn in (penalties.l2, closed_form.l2_grad, penalties.elastic_net):
            kw = {"l1_ratio": 0.5} if fn is penalties.elastic_net else {}
            with pytest.raises(ValueError, match="lam"):
                fn(params, lam, m=3, **kw)
    with pytest.raises(ValueError, match="lam"):
        penalties.l2(params, {"w": jnp.ones(2), "b": 1.0}, m=3)  # not a scalar per leaf


def test_bad_hyperparameters_raise():
    params = {"w": jnp.ones(2), "b": jnp.ones(())}
    with pytest.raises(ValueError, match="lam"):
        penalties.l2(params, -1.0, m=3)
    with pytest.raises(ValueError, match="lam"):
        penalties.l1(params, {"w": float("nan"), "b": 0.0}, m=3)
    with pytest.raises(ValueError, match="m"):
        penalties.l2(params, 1.0)  # per_example needs m
    with pytest.raises(ValueError, match="m"):
        penalties.l2(params, 1.0, m=0)
    with pytest.raises(ValueError, match="scale"):
        penalties.l2(params, 1.0, m=3, scale="mean")
    with pytest.raises(ValueError, match="l1_ratio"):
        penalties.elastic_net(params, 1.0, l1_ratio=1.5, m=3)
    with pytest.raises(TypeError, match="floating"):
        penalties.l2({"w": jnp.ones(2, dtype=jnp.int32)}, 1.0, m=3)


def test_everything_masked_out_is_zero(x64):
    params = {"b": jnp.ones(3), "bias": jnp.ones(2)}
    for scale in SCALES:
        assert float(penalties.l2(params, 5.0, m=2, scale=scale)) == 0.0
        assert float(penalties.l1(params, 5.0, m=2, scale=scale)) == 0.0
        g = closed_form.l2_grad(params, 5.0, m=2, scale=scale)
        assert all(float(jnp.max(jnp.abs(x))) == 0.0 for x in jax.tree.leaves(g))


def test_regex_mask_anchor_matches_leaf_names(x64):
    """The regex used above really sees only W and kernel (guards the test's own oracle)."""
    params = {"W": jnp.ones(1), "Wb": jnp.ones(1), "kernel": jnp.ones(1), "b": jnp.ones(1)}
    got = penalties.path_mask(r"\['(W|kernel)'\]$")(params)
    assert got == {k: bool(re.fullmatch("W|kernel", k)) for k in params}
